/*
 * check_proto: request decoding (every kind, every protocol error of
 * SPEC §2, the lifted content of large writes). The reply encoder's
 * bytes are in check_encode.c.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdecode.h"
#include "err.h"
#include "frame.h"
#include "proto.h"
#include "testlib.h"

Suite *proto_suite(void);

#define MALFORMED "malformed JSON payload: "
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
decode_ok(const char *json, struct ks_req *req)
{
	struct ks_err err = { .code = KS_CODE_NONE };
	int rc = ks_req_decode(json, strlen(json), req, &err);

	ck_assert_msg(rc == 0, "%s: %s", json, err.msg);
}

START_TEST(ping_and_shutdown_decode)
{
	struct ks_req req;

	decode_ok("{\"kind\":\"ping\"}", &req);
	ck_assert_int_eq(req.kind, KS_REQ_PING);
	ks_req_free(&req);
	decode_ok("{\"kind\":\"shutdown\"}", &req);
	ck_assert_int_eq(req.kind, KS_REQ_SHUTDOWN);
	ks_req_free(&req);
}
END_TEST

static const struct {
	const char *json;
	bool has_max;
	uint64_t max;
} reads[] = {
	{ "{\"kind\":\"read\",\"path\":\"/a/b\"}", false, 0 },
	{ "{\"kind\":\"read\",\"path\":\"/a/b\",\"max_bytes\":null}", false,
	    0 },
	{ "{\"kind\":\"read\",\"path\":\"/a/b\",\"max_bytes\":0}", true, 0 },
	{ "{\"max_bytes\":4096,\"path\":\"/a/b\",\"kind\":\"read\"}", true,
	    4096 },
	{ "{\"kind\":\"read\",\"path\":\"/a/b\",\"max_bytes\":"
	    "9223372036854775807}", true, 9223372036854775807ULL },
	{ "{\"kind\":\"read\",\"path\":\"/a/b\",\"max_bytes\":"
	    "9223372036854775808}", true, 9223372036854775808ULL },
	{ "{\"kind\":\"read\",\"path\":\"/a/b\",\"max_bytes\":"
	    "18446744073709551615}", true, 18446744073709551615ULL },
};

START_TEST(read_decodes_path_and_optional_max_bytes)
{
	struct ks_req req;

	decode_ok(reads[_i].json, &req);
	ck_assert_int_eq(req.kind, KS_REQ_READ);
	ck_assert_str_eq(req.path, "/a/b");
	ck_assert_uint_eq(req.path_len, 4);
	ck_assert_int_eq(req.has_max, reads[_i].has_max);
	ck_assert(req.max_bytes == reads[_i].max);
	ks_req_free(&req);
}
END_TEST

START_TEST(write_decodes_content_bytes)
{
	struct ks_req req;
	char json[2048];
	size_t n;

	n = (size_t)snprintf(json, sizeof(json),
	    "{\"kind\":\"write\",\"path\":\"f\",\"content\":[");
	for (int v = 0; v < 256; v++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s%d",
		    v ? "," : "", v);
	snprintf(json + n, sizeof(json) - n, "]}");
	decode_ok(json, &req);
	ck_assert_int_eq(req.kind, KS_REQ_WRITE);
	ck_assert_str_eq(req.path, "f");
	ck_assert_uint_eq(req.content_len, 256);
	for (int v = 0; v < 256; v++)
		ck_assert_uint_eq(req.content[v], (unsigned)v);
	ks_req_free(&req);
	decode_ok("{\"kind\":\"write\",\"path\":\"f\",\"content\":[]}", &req);
	ck_assert_uint_eq(req.content_len, 0);
	ks_req_free(&req);
}
END_TEST

START_TEST(edit_glob_grep_stat_get_env_decode)
{
	struct ks_req req;

	decode_ok("{\"kind\":\"edit\",\"path\":\"/f\",\"old_string\":\"a\\n\","
	    "\"new_string\":\"\"}", &req);
	ck_assert_int_eq(req.kind, KS_REQ_EDIT);
	ck_assert_str_eq(req.path, "/f");
	ck_assert_str_eq(req.old_s, "a\n");
	ck_assert_uint_eq(req.old_len, 2);
	ck_assert_str_eq(req.new_s, "");
	ck_assert_uint_eq(req.new_len, 0);
	ks_req_free(&req);
	decode_ok("{\"kind\":\"glob\",\"pattern\":\"**/*.c\",\"root\":\"/r\"}",
	    &req);
	ck_assert_int_eq(req.kind, KS_REQ_GLOB);
	ck_assert_str_eq(req.pattern, "**/*.c");
	ck_assert_uint_eq(req.pattern_len, 6);
	ck_assert_str_eq(req.root, "/r");
	ks_req_free(&req);
	decode_ok("{\"kind\":\"stat\",\"path\":\"/s\"}", &req);
	ck_assert_int_eq(req.kind, KS_REQ_STAT);
	ck_assert_str_eq(req.path, "/s");
	ks_req_free(&req);
	decode_ok("{\"kind\":\"get_env\",\"names\":[\"HOME\",\"X\"]}", &req);
	ck_assert_int_eq(req.kind, KS_REQ_GET_ENV);
	ck_assert_uint_eq(json_array_size(req.names), 2);
	ck_assert_str_eq(json_string_value(json_array_get(req.names, 1)), "X");
	ks_req_free(&req);
}
END_TEST

static const struct {
	const char *json;
	const char *include;	/* NULL: none */
} greps[] = {
	{ "{\"kind\":\"grep\",\"pattern\":\"a+\",\"root\":\"/r\"}", NULL },
	{ "{\"kind\":\"grep\",\"pattern\":\"a+\",\"root\":\"/r\","
	    "\"include\":null}", NULL },
	{ "{\"kind\":\"grep\",\"pattern\":\"a+\",\"root\":\"/r\","
	    "\"include\":\"*.rs\"}", "*.rs" },
};

START_TEST(grep_decodes_with_include_absent_null_or_string)
{
	struct ks_req req;

	decode_ok(greps[_i].json, &req);
	ck_assert_int_eq(req.kind, KS_REQ_GREP);
	ck_assert_str_eq(req.pattern, "a+");
	ck_assert_str_eq(req.root, "/r");
	if (greps[_i].include == NULL) {
		ck_assert_ptr_null(req.include);
	} else {
		ck_assert_str_eq(req.include, greps[_i].include);
		ck_assert_uint_eq(req.include_len, strlen(greps[_i].include));
	}
	ks_req_free(&req);
}
END_TEST

START_TEST(nul_escape_in_a_path_is_kept_and_counted)
{
	static const char json[] = "{\"kind\":\"stat\",\"path\":\"a\\u0000b\"}";
	struct ks_req req;

	decode_ok(json, &req);
	ck_assert_uint_eq(req.path_len, 3);
	ck_assert(memcmp(req.path, "a\0b", 4) == 0);
	ks_req_free(&req);
}
END_TEST

START_TEST(unknown_extra_fields_are_ignored)
{
	static const char *const ok[] = {
		"{\"kind\":\"ping\",\"extra\":{\"a\":[1,2,{\"b\":null}]}}",
		"{\"id\":7,\"kind\":\"stat\",\"path\":\"/p\",\"mode\":\"x\"}",
		"{\"kind\":\"ping\",\"x\":\"[[[[{{{{\\\"[[[\"}",
		"{\"kind\":\"ping\",\"x\":99999999999999999999999}",
		"{\"kind\":\"ping\",\"x\":-99999999999999999999999}",
		"{\"kind\":\"ping\",\"x\":1.5e300}",
	};
	struct ks_req req;

	decode_ok(ok[_i], &req);
	ks_req_free(&req);
}
END_TEST

/* Payloads that are protocol errors; msg NULL: only the prefix. */
static const struct {
	const char *json;
	const char *msg;
} bad[] = {
	{ "", NULL },
	{ "not json", NULL },
	{ "{\"kind\":\"ping\"", NULL },
	{ "{\"kind\":\"ping\"} x", NULL },
	{ "[\"ping\"]", "invalid type: sequence, expected internally tagged "
	    "enum Request" },
	{ "\"ping\"", NULL },
	{ "42", NULL },
	{ "null", NULL },
	{ "{}", "missing field `kind`" },
	{ "{\"path\":\"/a\"}", "missing field `kind`" },
	{ "{\"kind\":1}", "invalid type for `kind`" },
	{ "{\"kind\":null}", "invalid type for `kind`" },
	{ "{\"kind\":\"nope\"}", "unknown variant `nope`" },
	{ "{\"kind\":\"PING\"}", "unknown variant `PING`" },
	{ "{\"kind\":\"read\"}", "missing field `path`" },
	{ "{\"kind\":\"read\",\"path\":null}", "invalid type: null, "
	    "expected a string for `path`" },
	{ "{\"kind\":\"read\",\"path\":7}", "invalid type: integer, expected "
	    "a string for `path`" },
	{ "{\"kind\":\"edit\",\"path\":\"/f\",\"old_string\":\"a\"}",
	    "missing field `new_string`" },
	{ "{\"kind\":\"glob\",\"pattern\":\"*\"}", "missing field `root`" },
	{ "{\"kind\":\"grep\",\"pattern\":\"*\",\"root\":\"/\","
	    "\"include\":3}", "invalid type: integer, expected a string for "
	    "`include`" },
	{ "{\"kind\":\"get_env\"}", "missing field `names`" },
	{ "{\"kind\":\"get_env\",\"names\":\"HOME\"}", "invalid type: string, "
	    "expected a sequence for `names`" },
	{ "{\"kind\":\"get_env\",\"names\":[1]}", "invalid type: integer, "
	    "expected a string in `names`" },
	{ "{\"kind\":\"write\",\"path\":\"f\"}", "missing field `content`" },
	{ "{\"kind\":\"write\",\"path\":\"f\",\"content\":\"abc\"}",
	    "invalid type: string, expected a sequence for `content`" },
	{ "{\"kind\":\"write\",\"path\":\"f\",\"content\":[256]}",
	    "invalid value in `content`: integer out of range, expected u8" },
	{ "{\"kind\":\"write\",\"path\":\"f\",\"content\":[-1]}",
	    "invalid value in `content`: integer out of range, expected u8" },
	{ "{\"kind\":\"write\",\"path\":\"f\",\"content\":[\"a\"]}",
	    "invalid value in `content`: string, expected u8" },
	{ "{\"kind\":\"write\",\"path\":\"f\",\"content\":[1.0]}",
	    "invalid value in `content`: floating point, expected u8" },
	{ "{\"kind\":\"read\",\"path\":\"f\",\"max_bytes\":-1}",
	    "invalid type: negative integer, expected u64 for `max_bytes`" },
	{ "{\"kind\":\"read\",\"path\":\"f\",\"max_bytes\":1.5}",
	    "invalid type: floating point, expected u64 for `max_bytes`" },
	{ "{\"kind\":\"read\",\"path\":\"f\",\"max_bytes\":"
	    "18446744073709551616}", "invalid value: integer "
	    "`18446744073709551616`, expected u64 for `max_bytes`" },
	{ "{\"kind\":\"read\",\"path\":\"f\",\"max_bytes\":\"5\"}",
	    "invalid type: string, expected u64 for `max_bytes`" },
	/* A string must not pass for a widened big integer. */
	{ "{\"kind\":\"read\",\"path\":\"f\",\"max_bytes\":\"\\u0000U5\"}",
	    "invalid type: string, expected u64 for `max_bytes`" },
	{ "{\"kind\":\"ping\",\"kind\":\"ping\"}", NULL },
	{ "{\"kind\":\"stat\",\"path\":\"/a\",\"path\":\"/b\"}", NULL },
	{ "{\"kind\":\"ping\\u0000\"}", "unknown variant `ping`" },
};

START_TEST(protocol_errors_are_malformed_json_payload)
{
	struct ks_req req;
	struct ks_err err = { .code = KS_CODE_NONE };
	char want[512];
	int rc;

	rc = ks_req_decode(bad[_i].json, strlen(bad[_i].json), &req, &err);
	ck_assert_msg(rc < 0, "accepted: %s", bad[_i].json);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_msg(strncmp(err.msg, MALFORMED, strlen(MALFORMED)) == 0,
	    "%s", err.msg);
	if (bad[_i].msg != NULL) {
		snprintf(want, sizeof(want), MALFORMED "%s", bad[_i].msg);
		ck_assert_str_eq(err.msg, want);
	}
	ck_assert_ptr_null(req.doc);
	ck_assert_ptr_null(req.content);
}
END_TEST

START_TEST(duplicate_key_error_says_duplicate)
{
	static const char json[] = "{\"kind\":\"ping\",\"kind\":\"ping\"}";
	struct ks_req req;
	struct ks_err err;

	ck_assert_int_lt(ks_req_decode(json, strlen(json), &req, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "duplicate"));
}
END_TEST

/* {"kind":"ping","x":[[...0...]]}: depth levels, the object being 1. */
static char *
nested(unsigned depth, const char *open, const char *close)
{
	size_t n = depth - 1, ol = strlen(open), cl = strlen(close);
	char *s = malloc(40 + n * (ol + cl)), *p = s;

	p += sprintf(p, "{\"kind\":\"ping\",\"x\":");
	for (size_t i = 0; i < n; i++, p += ol)
		memcpy(p, open, ol);
	*p++ = '0';
	for (size_t i = 0; i < n; i++, p += cl)
		memcpy(p, close, cl);
	strcpy(p, "}");
	return s;
}

START_TEST(nesting_of_128_levels_is_accepted_and_129_rejected)
{
	static const char *const open[] = { "[", "{\"a\":" };
	static const char *const close[] = { "]", "}" };
	struct ks_req req;
	struct ks_err err;
	char *ok = nested(128, open[_i], close[_i]);
	char *deep = nested(129, open[_i], close[_i]);

	ck_assert_msg(ks_req_decode(ok, strlen(ok), &req, &err) == 0, "%s",
	    err.msg);
	ks_req_free(&req);
	ck_assert_int_lt(ks_req_decode(deep, strlen(deep), &req, &err), 0);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, MALFORMED "recursion limit exceeded");
	free(ok);
	free(deep);
}
END_TEST

/* Large writes: the lifted content must decode exactly as jansson
 * alone would decide. %s is padding that makes the request large. */
static const struct {
	const char *json;
	const char *bytes;		/* NULL: a protocol error */
} lifted[] = {
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[104,105,0,255]}", "hi\0\377" },
	{ "{\"content\": [ 104 ,\n105 ] , \"kind\":\"write\",\"pad\":[\"%s\",{\"a\":[]}],\"path\":\"/f\"}", "hi" },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[]}", "" },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[256]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[01]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[1.0]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[-1]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":\"hi\"}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[1],\"content\":[2]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[1],\"\\u0063ontent\":[2]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"x\":{\"content\":[9]},\"pad\":\"%s\",\"content\":[65]}", "A" },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[1,]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[1 2]}", NULL },
	{ "{\"kind\":\"write\",\"path\":\"/f\",\"pad\":\"%s\",\"content\":[1]", NULL },
	{ "{\"kind\":\"ping\",\"pad\":\"%s\",\"content\":[1,2,3]}", "" },
};

START_TEST(large_write_content_decodes_as_jansson_would)
{
	char pad[5000], *json;
	struct ks_req req;
	struct ks_err e;
	const char *want = lifted[_i].bytes;
	size_t wlen = want ? strlen(want) : 0;
	int rc;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	ck_assert(asprintf(&json, lifted[_i].json, pad) > 0);
	rc = ks_req_decode(json, strlen(json), &req, &e);
	if (want == NULL) {
		ck_assert_msg(rc < 0, "case %d accepted", _i);
		ck_assert_int_eq(e.code, KS_CODE_PROTOCOL);
	} else {
		ck_assert_msg(rc == 0, "case %d: %s", _i, e.msg);
		/* "\377" stands for 255 and "\0" for a zero byte. */
		if (_i == 0)
			wlen = 4;
		if (req.kind == KS_REQ_WRITE) {
			ck_assert_int_eq(req.content_len, wlen);
			ck_assert(memcmp(req.content, want, wlen) == 0);
		}
		ks_req_free(&req);
	}
	free(json);
}
END_TEST

/*
 * The compact decoder (four streams abreast) against jansson: arrays of
 * 2,000 values (large enough to be lifted) with one oddity put at every place that matters (the
 * start, each stream boundary and its neighbours, the end), each either
 * decoded to jansson's bytes or refused as jansson would refuse it.
 */
static const char *const oddities[] = { "256", "01", "1.0", " 7", "7 ",
    "-1", "1e2", "1000", "00", "\"7\"", "7,", "", "255", "0", "260",
    "999", "100" };

static void
decode_like_jansson(const char *json)
{
	json_t *doc = json_loads(json, 0, NULL), *c, *v;
	unsigned char want[4096];
	size_t n = 0, i;
	bool valid = doc != NULL;
	struct ks_req req;
	struct ks_err e;
	int rc;

	c = json_object_get(doc, "content");
	valid = valid && json_is_array(c);
	json_array_foreach(c, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 255) {
			valid = false;
			break;
		}
		want[n++] = (unsigned char)json_integer_value(v);
	}
	json_decref(doc);
	rc = ks_req_decode(json, strlen(json), &req, &e);
	ck_assert_msg((rc == 0) == valid, "%s: decoded %d, jansson %d",
	    json + strlen(json) - 40, rc, valid);
	if (rc == 0) {
		ck_assert_uint_eq(req.content_len, n);
		ck_assert(memcmp(req.content, want, n) == 0);
		ks_req_free(&req);
	}
}

/* A write of 2,000 values (i * 37 + shift) % 256 into json, the value
 * at index at replaced by odd. */
static void
oddity_write(char *json, size_t size, const char *odd, size_t at,
    size_t shift)
{
	size_t o = (size_t)snprintf(json, size, "{\"kind\":\"write\","
	    "\"path\":\"/f\",\"content\":[");

	for (size_t i = 0; i < 2000; i++)
		if (i == at)
			o += (size_t)snprintf(json + o, size - o, "%s%s",
			    i ? "," : "", odd);
		else
			o += (size_t)snprintf(json + o, size - o, i ? ",%zu" :
			    "%zu", (i * 37 + shift) % 256);
	snprintf(json + o, size - o, "]}");
}

START_TEST(compact_content_decodes_as_jansson_would)
{
	char json[16384];
	size_t at[] = { 0, 1, 498, 499, 500, 501, 502, 999, 1000, 1001, 1499,
	    1500, 1501, 1998, 1999 };

	for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
		oddity_write(json, sizeof(json), oddities[_i], at[a], 0);
		ck_assert(strlen(json) >= 4096);	/* the lifted path */
		decode_like_jansson(json);
	}
}
END_TEST

/*
 * Every compact decoder (cdecode.h) against jansson, with the oddity at
 * every offset near the start and the end, so that it falls at every
 * byte of a window and of a 64-byte block, and in the scalar tail.
 */
START_TEST(compact_decoders_agree_at_every_offset)
{
	static char json[16384];

	for (int mode = KS_CDEC_WIDE; mode <= KS_CDEC_STREAMS; mode++) {
		if (!ks_use_decoder(mode,
		    "compact_decoders_agree_at_every_offset"))
			continue;
		for (size_t at = 0; at < 2000; at++) {
			if (at == 100)
				at = 1900;
			oddity_write(json, sizeof(json), oddities[_i], at, at);
			decode_like_jansson(json);
		}
	}
	ks_cdec_force(KS_CDEC_AUTO);
}
END_TEST

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *dec = tcase_create("decode");

	tcase_add_test(dec, ping_and_shutdown_decode);
	tcase_add_loop_test(dec, read_decodes_path_and_optional_max_bytes, 0,
	    NELEM(reads));
	tcase_add_test(dec, write_decodes_content_bytes);
	tcase_add_test(dec, edit_glob_grep_stat_get_env_decode);
	tcase_add_loop_test(dec,
	    grep_decodes_with_include_absent_null_or_string, 0, NELEM(greps));
	tcase_add_test(dec, nul_escape_in_a_path_is_kept_and_counted);
	tcase_add_loop_test(dec, unknown_extra_fields_are_ignored, 0, 6);
	tcase_add_loop_test(dec, protocol_errors_are_malformed_json_payload, 0,
	    NELEM(bad));
	tcase_add_test(dec, duplicate_key_error_says_duplicate);
	tcase_add_loop_test(dec,
	    nesting_of_128_levels_is_accepted_and_129_rejected, 0, 2);
	suite_add_tcase(s, dec);

	tcase_add_loop_test(dec, large_write_content_decodes_as_jansson_would,
	    0, sizeof(lifted) / sizeof(lifted[0]));
	tcase_add_loop_test(dec, compact_content_decodes_as_jansson_would, 0,
	    sizeof(oddities) / sizeof(oddities[0]));
	tcase_add_loop_test(dec, compact_decoders_agree_at_every_offset, 0,
	    sizeof(oddities) / sizeof(oddities[0]));
	return s;
}
