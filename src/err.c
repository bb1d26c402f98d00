/*
 * err: error values and their messages; the one place that knows the
 * reference's spelling of an OS error ("... (os error N)").
 */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
	[KS_CODE_NONE] = "none",
	[KS_CODE_UNIMPLEMENTED] = "unimplemented",
	[KS_CODE_POLICY_DENIED] = "policy_denied",
	[KS_CODE_IO] = "io",
	[KS_CODE_PROTOCOL] = "protocol",
	[KS_CODE_INTERNAL] = "internal",
};

const char *
ks_err_code_name(enum ks_code code)
{
	if ((unsigned)code >= sizeof(code_names) / sizeof(code_names[0]))
		return "internal";
	return code_names[code];
}

int
ks_err_set(struct ks_err *err, int rc, enum ks_code code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc > 0 ? -rc : rc;
}

void
ks_err_os_text(char *buf, size_t size, int errnum)
{
	char tmp[256];
	const char *s;

	/* GNU strerror_r returns the message, possibly not in tmp. */
	s = strerror_r(errnum, tmp, sizeof(tmp));
	snprintf(buf, size, "%s (os error %d)", s, errnum);
}

int
ks_err_os(struct ks_err *err, int errnum)
{
	if (err != NULL) {
		err->code = KS_CODE_IO;
		ks_err_os_text(err->msg, sizeof(err->msg), errnum);
	}
	return -errnum;
}

const char *
ks_quote(struct ks_quote *q, const char *s)
{
	size_t n = strlen(s);

	if (n <= KS_QUOTE_MAX)
		return s;
	n = KS_QUOTE_MAX;
	/* Back up over UTF-8 continuation bytes so the cut is clean. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(q->s, s, n);
	memcpy(q->s + n, "\xE2\x80\xA6", 4);
	return q->s;
}
