/*
 * fuzz_proto: ks_req_decode on the input as one payload. A request that
 * decodes has its strings put through the reply encoder (ks_json_str),
 * its content through ks_json_bytes and its max_bytes through
 * ks_json_u64, and jansson must read back exactly what went in; a
 * payload that does not decode is a protocol error whose error reply
 * jansson reads back too.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "fuzz.h"
#include "proto.h"

static const size_t LOADF = JSON_DECODE_ANY | JSON_ALLOW_NUL;

/* serde_json's escapes: \u00xx in lower-case hex, and only for bytes
 * below 0x20 (a backslash or a quote gets its own letter). */
static bool
escapes_lower(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\')
			continue;
		if (++i < n && p[i] != 'u')
			continue;
		if (i + 4 >= n || memcmp(p + i + 1, "00", 2) != 0 ||
		    (p[i + 3] != '0' && p[i + 3] != '1') ||
		    !((p[i + 4] >= '0' && p[i + 4] <= '9') ||
		    (p[i + 4] >= 'a' && p[i + 4] <= 'f')))
			return false;
		i += 4;
	}
	return true;
}

/* Encodes s[0..len) as a reply would and reads it back with jansson. */
static void
str_round_trip(const char *s, size_t len)
{
	struct ks_buf b = { 0 };
	json_t *v;

	if (s == NULL)
		return;
	FUZZ_CHECK(ks_utf8_valid(s, len));
	FUZZ_CHECK(ks_json_str(&b, s, len) == 0);
	FUZZ_CHECK(b.len == ks_json_str_size(s, len));
	FUZZ_CHECK(escapes_lower(b.p, b.len));
	v = json_loadb(b.p, b.len, LOADF, NULL);
	FUZZ_CHECK(v != NULL && json_is_string(v));
	FUZZ_CHECK(json_string_length(v) == len);
	FUZZ_CHECK(memcmp(json_string_value(v), s, len) == 0);
	json_decref(v);
	ks_buf_free(&b);
}

static void
bytes_round_trip(const unsigned char *p, size_t n)
{
	struct ks_buf b = { 0 };
	json_t *v, *e;
	size_t i;

	FUZZ_CHECK(ks_json_bytes(&b, p, n) == 0);
	FUZZ_CHECK(b.len == ks_json_bytes_size(p, n));
	v = json_loadb(b.p, b.len, LOADF, NULL);
	FUZZ_CHECK(v != NULL && json_is_array(v) && json_array_size(v) == n);
	json_array_foreach(v, i, e)
		FUZZ_CHECK(json_integer_value(e) == p[i]);
	json_decref(v);
	ks_buf_free(&b);
}

static void
u64_round_trip(uint64_t x)
{
	struct ks_buf b = { 0 };
	char text[32];

	FUZZ_CHECK(ks_json_u64(&b, x) == 0);
	FUZZ_CHECK(b.len < sizeof(text));
	memcpy(text, b.p, b.len);
	text[b.len] = '\0';
	FUZZ_CHECK(strtoull(text, NULL, 10) == x);
	ks_buf_free(&b);
}

static void
error_round_trip(const struct ks_err *err)
{
	struct ks_buf b = { 0 };
	json_t *v;

	FUZZ_CHECK(err->code == KS_CODE_PROTOCOL);
	FUZZ_CHECK(strncmp(err->msg, "malformed JSON payload: ", 24) == 0);
	/* A reply is UTF-8, or the host cannot read it. */
	FUZZ_CHECK(ks_utf8_valid(err->msg, strlen(err->msg)));
	FUZZ_CHECK(ks_reply_error(&b, err) == 0);
	FUZZ_CHECK(ks_frame_size(&b) <= KS_FRAME_MAX);
	v = json_loadb(b.p + 4, ks_frame_size(&b), LOADF, NULL);
	FUZZ_CHECK(v != NULL);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(v, "kind")),
	    "error") == 0);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(v, "code")),
	    "protocol") == 0);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(v, "message")),
	    err->msg) == 0);
	json_decref(v);
	ks_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_req req;
	struct ks_err err;
	json_t *e;
	size_t i;

	memset(&err, 0, sizeof(err));
	if (ks_req_decode((const char *)data, size, &req, &err) < 0) {
		error_round_trip(&err);
		return 0;
	}
	str_round_trip(req.path, req.path_len);
	str_round_trip(req.old_s, req.old_len);
	str_round_trip(req.new_s, req.new_len);
	str_round_trip(req.pattern, req.pattern_len);
	str_round_trip(req.root, req.root_len);
	str_round_trip(req.include, req.include_len);
	json_array_foreach(req.names, i, e)
		str_round_trip(json_string_value(e), json_string_length(e));
	if (req.kind == KS_REQ_WRITE)
		bytes_round_trip(req.content, req.content_len);
	if (req.has_max)
		u64_round_trip(req.max_bytes);
	ks_req_free(&req);
	return 0;
}
