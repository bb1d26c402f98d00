/*
 * encode: replies as serde_json writes them (compact, lower-case \u00xx
 * escapes, raw UTF-8), byte arrays by table, error replies whole. The
 * decoding of requests is in proto.c; both are declared in proto.h.
 */
#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int
ks_reply_begin(struct ks_buf *b, const char *head)
{
	if (ks_frame_begin(b) < 0 || ks_json_raw(b, head) < 0)
		return -ENOMEM;
	return 0;
}

/* serde_json's escape for each byte: 0 none, else the letter after the
 * backslash ('u' for \u00xx). */
static const char escapes[256] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
	[0x05] = 'u', [0x06] = 'u', [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u',
	[0x0F] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',
	[0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u',
	[0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u', [0x1D] = 'u',
	[0x1E] = 'u', [0x1F] = 'u', ['"'] = '"', ['\\'] = '\\',
};

size_t
ks_json_str_size(const char *s, size_t len)
{
	size_t n = len + 2;

	for (size_t i = 0; i < len; i++) {
		char e = escapes[(unsigned char)s[i]];

		n += e == 0 ? 0 : e == 'u' ? 5 : 1;
	}
	return n;
}

int
ks_json_str(struct ks_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	char *o;

	if (ks_buf_reserve(b, ks_json_str_size(s, len)) < 0)
		return -ENOMEM;
	o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e = escapes[c];

		if (e == 0)
			continue;
		memcpy(o, s + start, i - start);
		o += i - start;
		start = i + 1;
		*o++ = '\\';
		*o++ = e;
		if (e == 'u') {
			o[0] = o[1] = '0';
			o[2] = hex[c >> 4];
			o[3] = hex[c & 15];
			o += 4;
		}
	}
	if (len > start) {
		memcpy(o, s + start, len - start);
		o += len - start;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	return 0;
}

int
ks_json_u64(struct ks_buf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	return ks_buf_put(b, tmp, (size_t)n);
}

int
ks_json_raw(struct ks_buf *b, const char *s)
{
	return ks_buf_put(b, s, strlen(s));
}

/* "N," for every byte value, and its length: the byte-array fast path. */
struct digits {
	char s[4];
	unsigned char n;
};

static struct digits byte_text[256];

/* Filled before main by arithmetic, not printf: it runs at every
 * start of every applet. */
__attribute__((constructor)) static void
init_byte_text(void)
{
	for (int v = 0; v < 256; v++) {
		char *s = byte_text[v].s;
		int n = 0;

		if (v >= 100)
			s[n++] = (char)('0' + v / 100);
		if (v >= 10)
			s[n++] = (char)('0' + v / 10 % 10);
		s[n++] = (char)('0' + v % 10);
		byte_text[v].n = (unsigned char)n;
	}
}

size_t
ks_json_bytes_size(const unsigned char *p, size_t n)
{
	size_t sz = n > 0 ? 2 + n - 1 : 2;

	for (size_t i = 0; i < n; i++)
		sz += 1 + (p[i] >= 10) + (p[i] >= 100);
	return sz;
}

int
ks_json_bytes(struct ks_buf *b, const unsigned char *p, size_t n)
{
	char *o;

	/* Reserve the worst case and write without further checks. */
	if (ks_buf_reserve(b, 4 * n + 2) < 0)
		return -ENOMEM;
	o = b->p + b->len;
	*o++ = '[';
	for (size_t i = 0; i < n; i++) {
		memcpy(o, byte_text[p[i]].s, 4);
		o += byte_text[p[i]].n;
		*o++ = ',';
	}
	if (n > 0)
		o--;
	*o++ = ']';
	b->len = (size_t)(o - b->p);
	return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
utf8_seq(const char *s, size_t n)
{
	size_t k = ((unsigned char)*s < 0x80) ? 1 : ((unsigned char)*s < 0xE0) ?
	    2 : ((unsigned char)*s < 0xF0) ? 3 : 4;

	return k <= n && ks_utf8_valid(s, k) ? k : 0;
}

/* Appends message m as a JSON string; bytes that are not UTF-8 (a
 * parser's error text may cut a character) become U+FFFD, so that the
 * reply stays JSON. */
static int
put_message(struct ks_buf *b, const char *m)
{
	size_t n = strlen(m), k;
	struct ks_buf clean = { 0 };
	int rc;

	if (ks_utf8_valid(m, n))
		return ks_json_str(b, m, n);
	for (size_t i = 0; i < n; i += k ? k : 1) {
		k = utf8_seq(m + i, n - i);
		if (ks_buf_put(&clean, k ? m + i : "\xEF\xBF\xBD", k ? k : 3) < 0) {
			ks_buf_free(&clean);
			return -ENOMEM;
		}
	}
	rc = ks_json_str(b, clean.p, clean.len);
	ks_buf_free(&clean);
	return rc;
}

int
ks_reply_error(struct ks_buf *b, const struct ks_err *err)
{
	if (ks_frame_begin(b) < 0 ||
	    ks_json_raw(b, "{\"kind\":\"error\",\"code\":\"") < 0 ||
	    ks_json_raw(b, ks_err_code_name(err->code)) < 0 ||
	    ks_json_raw(b, "\",\"message\":") < 0 ||
	    put_message(b, err->msg) < 0 || ks_json_raw(b, "}") < 0)
		return -ENOMEM;
	return 0;
}

