/*
 * check_encode: the reply encoder (encode.c), whose bytes must equal
 * serde_json's: string escapes byte by byte, byte arrays, numbers,
 * error replies, and the UTF-8 rule they rely on.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "proto.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The escape serde_json writes for byte c, as an independent oracle. */
static void
serde_escape(unsigned char c, char *out)
{
	static const char *const named[256] = {
		['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
		['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
	};

	if (named[c] != NULL)
		strcpy(out, named[c]);
	else if (c < 0x20)
		sprintf(out, "\\u%04x", c);
	else
		sprintf(out, "%c", c);
}

START_TEST(json_str_escapes_each_byte_as_serde_json)
{
	unsigned char c = (unsigned char)_i;
	struct ks_buf b = { 0 };
	char want[16] = "\"";

	serde_escape(c, want + 1);
	strcat(want, "\"");
	ck_assert_int_eq(ks_buf_put(&b, "ab", 2), 0);
	ck_assert_int_eq(ks_json_str(&b, (const char *)&c, 1), 0);
	ck_assert_uint_eq(b.len, 2 + strlen(want));
	ck_assert_uint_eq(ks_json_str_size((const char *)&c, 1), b.len - 2);
	ck_assert(memcmp(b.p, "ab", 2) == 0);
	ck_assert(memcmp(b.p + 2, want, strlen(want)) == 0);
	ks_buf_free(&b);
}
END_TEST

static const struct {
	const char *in;
	size_t len;
	const char *out;
} strs[] = {
	{ "", 0, "\"\"" },
	{ "\x1b[0m", 4, "\"\\u001b[0m\"" },
	{ "\0", 1, "\"\\u0000\"" },
	{ "\x1f\x7f/", 3, "\"\\u001f\x7f/\"" },
	{ "a\"b\\c\bd\fe\nf\rg\th", 15, "\"a\\\"b\\\\c\\bd\\fe\\nf\\rg\\th\"" },
	{ "h\xC3\xA9 \xF0\x9F\x98\x80", 8, "\"h\xC3\xA9 \xF0\x9F\x98\x80\"" },
	{ "\x0b\x0e", 2, "\"\\u000b\\u000e\"" },
};

START_TEST(json_str_writes_exact_bytes)
{
	struct ks_buf b = { 0 };
	size_t n = strlen(strs[_i].out);

	ck_assert_int_eq(ks_json_str(&b, strs[_i].in, strs[_i].len), 0);
	ck_assert_uint_eq(b.len, n);
	ck_assert_uint_eq(ks_json_str_size(strs[_i].in, strs[_i].len), n);
	ck_assert(memcmp(b.p, strs[_i].out, n) == 0);
	ks_buf_free(&b);
}
END_TEST

/* Deterministic pseudo-random valid UTF-8 with every control byte. */
static size_t
random_utf8(unsigned *seed, char *out, size_t max)
{
	static const char *const multi[] = { "\xC3\xA9", "\xE2\x82\xAC",
	    "\xF0\x9F\x98\x80", "\xDF\xBF", "\xEF\xBF\xBF" };
	size_t n = 0, want = *seed % max;

	while (n + 4 < want) {
		*seed = *seed * 1103515245u + 12345u;
		if ((*seed >> 16) % 5 == 0) {
			const char *m = multi[(*seed >> 20) % 5];

			memcpy(out + n, m, strlen(m));
			n += strlen(m);
		} else {
			out[n++] = (char)((*seed >> 16) % 128);
		}
	}
	return n;
}

START_TEST(json_str_round_trips_through_jansson)
{
	unsigned seed = 12345;
	char in[512];
	struct ks_buf b = { 0 };
	json_error_t je;
	json_t *v;

	for (int round = 0; round < 500; round++) {
		size_t n = random_utf8(&seed, in, sizeof(in));

		b.len = 0;
		ck_assert_int_eq(ks_json_str(&b, in, n), 0);
		ck_assert_uint_eq(ks_json_str_size(in, n), b.len);
		v = json_loadb(b.p, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		    &je);
		ck_assert_msg(v != NULL, "round %d: %s", round, je.text);
		ck_assert_uint_eq(json_string_length(v), n);
		ck_assert(memcmp(json_string_value(v), in, n) == 0);
		json_decref(v);
	}
	ks_buf_free(&b);
}
END_TEST

START_TEST(json_bytes_writes_a_compact_array)
{
	static const unsigned char some[] = { 0, 9, 10, 99, 100, 255 };
	struct ks_buf b = { 0 };
	unsigned char all[256];
	char want[2048];
	size_t n = 0;

	ck_assert_int_eq(ks_json_bytes(&b, some, 0), 0);
	ck_assert_uint_eq(b.len, 2);
	ck_assert(memcmp(b.p, "[]", 2) == 0);
	ck_assert_uint_eq(ks_json_bytes_size(some, 0), 2);
	b.len = 0;
	ck_assert_int_eq(ks_json_bytes(&b, some, 6), 0);
	ck_assert_uint_eq(b.len, 19);
	ck_assert(memcmp(b.p, "[0,9,10,99,100,255]", 19) == 0);
	ck_assert_uint_eq(ks_json_bytes_size(some, 6), 19);
	for (int v = 0; v < 256; v++) {
		all[v] = (unsigned char)(255 - v);
		n += (size_t)sprintf(want + n, "%c%d", v ? ',' : '[', 255 - v);
	}
	want[n++] = ']';
	b.len = 0;
	ck_assert_int_eq(ks_json_bytes(&b, all, 256), 0);
	ck_assert_uint_eq(b.len, n);
	ck_assert(memcmp(b.p, want, n) == 0);
	ck_assert_uint_eq(ks_json_bytes_size(all, 256), n);
	ks_buf_free(&b);
}
END_TEST

START_TEST(json_u64_writes_decimal)
{
	struct ks_buf b = { 0 };

	ck_assert_int_eq(ks_json_u64(&b, 0), 0);
	ck_assert_int_eq(ks_json_raw(&b, ","), 0);
	ck_assert_int_eq(ks_json_u64(&b, UINT64_MAX), 0);
	ck_assert_uint_eq(b.len, 22);
	ck_assert(memcmp(b.p, "0,18446744073709551615", 22) == 0);
	ks_buf_free(&b);
}
END_TEST

static const struct {
	enum ks_code code;
	const char *msg;
	const char *json;
} errors[] = {
	{ KS_CODE_IO, "No such file or directory (os error 2)",
	    "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"No such file or "
	    "directory (os error 2)\"}" },
	{ KS_CODE_POLICY_DENIED, "write denied: '/a\"\n' is a critical "
	    "system path", "{\"kind\":\"error\",\"code\":\"policy_denied\","
	    "\"message\":\"write denied: '/a\\\"\\n' is a critical system "
	    "path\"}" },
	{ KS_CODE_PROTOCOL, "read error: early eof", "{\"kind\":\"error\","
	    "\"code\":\"protocol\",\"message\":\"read error: early eof\"}" },
	{ KS_CODE_UNIMPLEMENTED, "", "{\"kind\":\"error\",\"code\":"
	    "\"unimplemented\",\"message\":\"\"}" },
	{ KS_CODE_INTERNAL, "\x01", "{\"kind\":\"error\",\"code\":"
	    "\"internal\",\"message\":\"\\u0001\"}" },
};

START_TEST(reply_error_is_a_whole_frame_with_kind_code_message)
{
	struct ks_buf b = { 0 };
	struct ks_err err;
	size_t n = strlen(errors[_i].json);

	err.code = errors[_i].code;
	snprintf(err.msg, sizeof(err.msg), "%s", errors[_i].msg);
	ck_assert_int_eq(ks_buf_put(&b, "junk", 4), 0);
	ck_assert_int_eq(ks_reply_error(&b, &err), 0);
	ck_assert_uint_eq(b.len, 4 + n);
	ck_assert_uint_eq(ks_frame_size(&b), n);
	ck_assert(memcmp(b.p + 4, errors[_i].json, n) == 0);
	ks_buf_free(&b);
}
END_TEST

static const struct {
	const char *s;
	size_t len;
	bool ok;
} utf8[] = {
	{ "", 0, true },
	{ "plain ascii text, longer than eight bytes", 41, true },
	{ "a\0b", 3, true },
	{ "\xC3\xA9", 2, true },
	{ "\xE2\x82\xAC", 3, true },
	{ "\xF0\x9F\x98\x80", 4, true },
	{ "\xF4\x8F\xBF\xBF", 4, true },		/* U+10FFFF */
	{ "\xED\x9F\xBF", 3, true },			/* U+D7FF */
	{ "\xEE\x80\x80", 3, true },			/* U+E000 */
	{ "\xC0\xAF", 2, false },			/* overlong '/' */
	{ "\xC1\xBF", 2, false },
	{ "\xE0\x80\xAF", 3, false },			/* overlong */
	{ "\xE0\x9F\xBF", 3, false },
	{ "\xF0\x80\x80\xAF", 4, false },
	{ "\xF0\x8F\xBF\xBF", 4, false },
	{ "\xED\xA0\x80", 3, false },			/* surrogate */
	{ "\xED\xBF\xBF", 3, false },
	{ "\xF4\x90\x80\x80", 4, false },		/* > U+10FFFF */
	{ "\xF5\x80\x80\x80", 4, false },
	{ "\xFF", 1, false },
	{ "\x80", 1, false },			/* lone continuation */
	{ "\xC3", 1, false },				/* truncated */
	{ "\xE2\x82", 2, false },
	{ "\xF0\x9F\x98", 3, false },
	{ "abcdefgh\xC3", 9, false },
	{ "\xC3\x28", 2, false },			/* bad continuation */
	{ "\xE2\x28\xA1", 3, false },
	{ "\xF0\x9F\x28\x80", 4, false },
};

START_TEST(utf8_valid_accepts_only_well_formed_utf8)
{
	ck_assert_msg(ks_utf8_valid(utf8[_i].s, utf8[_i].len) == utf8[_i].ok,
	    "case %d", _i);
}
END_TEST

/* A parser's error text can cut a character in two (fuzz-found: the
 * payload "\\\xd8\x9d"); the reply must stay valid JSON. */
START_TEST(reply_error_replaces_bytes_that_are_not_utf8)
{
	struct ks_err e = { .code = KS_CODE_PROTOCOL, .msg = "near '\xd8' and \xff ok \xc3\xa9" };
	struct ks_buf b = { 0 };
	json_t *j;

	ck_assert_int_eq(ks_reply_error(&b, &e), 0);
	ck_assert(ks_utf8_valid(b.p + 4, b.len - 4));
	j = json_loadb(b.p + 4, b.len - 4, 0, NULL);
	ck_assert(j != NULL);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
	    "near '\xef\xbf\xbd' and \xef\xbf\xbd ok \xc3\xa9");
	json_decref(j);
	ks_buf_free(&b);
}
END_TEST

Suite *
encode_suite(void)
{
	Suite *s = suite_create("encode");
	TCase *enc = tcase_create("encode");

	tcase_add_loop_test(enc, json_str_escapes_each_byte_as_serde_json, 0,
	    256);
	tcase_add_loop_test(enc, json_str_writes_exact_bytes, 0, NELEM(strs));
	tcase_add_test(enc, json_str_round_trips_through_jansson);
	tcase_add_test(enc, json_bytes_writes_a_compact_array);
	tcase_add_test(enc, json_u64_writes_decimal);
	tcase_add_test(enc, reply_error_replaces_bytes_that_are_not_utf8);
	tcase_add_loop_test(enc,
	    reply_error_is_a_whole_frame_with_kind_code_message, 0,
	    NELEM(errors));
	tcase_add_loop_test(enc, utf8_valid_accepts_only_well_formed_utf8, 0,
	    NELEM(utf8));
	suite_add_tcase(s, enc);
	return s;
}
