/*
 * err: error values and their messages; the one place that knows the
 * reference's spelling of an OS error ("... (os error N)").
 */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
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

bool
ks_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;
	unsigned char c;
	int n;

	while (p < e) {
		/* ASCII runs, eight bytes at a time. */
		while (e - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (w & 0x8080808080808080ULL)
				break;
			p += 8;
		}
		if (p >= e)
			break;
		if ((c = *p++) < 0x80)
			continue;
		if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3;
		else
			return false;
		if (e - p < n)
			return false;
		/* Overlongs, surrogates and values past U+10FFFF. */
		if ((c == 0xE0 && p[0] < 0xA0) || (c == 0xED && p[0] > 0x9F) ||
		    (c == 0xF0 && p[0] < 0x90) || (c == 0xF4 && p[0] > 0x8F))
			return false;
		for (int i = 0; i < n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

/* Replaces each byte that is not part of valid UTF-8 with '?': a
 * message quotes text cut by others (a parser's error near a token). */
static void
utf8_clean(char *s)
{
	size_t n = strlen(s), k;

	if (ks_utf8_valid(s, n))
		return;
	for (size_t i = 0; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (k > n - i || !ks_utf8_valid(s + i, k)) {
			s[i] = '?';
			k = 1;
		}
	}
}

int
ks_err_set(struct ks_err *err, int rc, enum ks_code code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		err->rule = NULL;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		utf8_clean(err->msg);
	}
	return rc > 0 ? -rc : rc;
}

int
ks_err_nul_path(struct ks_err *err)
{
	return ks_err_set(err, EINVAL, KS_CODE_IO,
	    "file name contained an unexpected NUL byte");
}

int
ks_err_read_changed(struct ks_err *err, const char *path)
{
	struct ks_quote q;

	int rc = ks_err_set(err, EXDEV, KS_CODE_POLICY_DENIED, "read denied: "
	    "'%s' changed while it was being read", ks_quote(&q, path));

	if (err != NULL)
		err->rule = "changed";
	return rc;
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
