/*
 * proto: request decoding with jansson (types checked as the reference's
 * serde types check them) and the reply encoder.
 */
#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "content.h"

/*
 * Marks an integer literal that jansson cannot hold (see widen_ints):
 * a string "\u0000" NONCE KIND DIGITS. The nonce is random per process,
 * so that a peer cannot send a marker and have it taken for a number.
 */
#define NONCE_LEN 16
static char nonce[NONCE_LEN + 1];

static const char *
marker_nonce(void)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[NONCE_LEN];

	if (nonce[0] == '\0') {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			for (size_t i = 0; i < sizeof(r); i++)
				r[i] = (unsigned char)(rand() ^ getpid());
		for (size_t i = 0; i < NONCE_LEN; i++)
			nonce[i] = hex[r[i] & 15];
	}
	return nonce;
}

/* Requests shorter than this are left to jansson whole. */
#define LIFT_MIN 4096

static const char *const kind_names[] = {
	[KS_REQ_PING] = "ping",
	[KS_REQ_SHUTDOWN] = "shutdown",
	[KS_REQ_READ] = "read",
	[KS_REQ_WRITE] = "write",
	[KS_REQ_EDIT] = "edit",
	[KS_REQ_GLOB] = "glob",
	[KS_REQ_GREP] = "grep",
	[KS_REQ_STAT] = "stat",
	[KS_REQ_GET_ENV] = "get_env",
	[KS_REQ_LIST_DIR] = "list_dir",
	[KS_REQ_WRITE_PART] = "write_part",
};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *
ks_req_kind_name(enum ks_kind kind)
{
	return (size_t)kind < NKINDS ? kind_names[kind] : "unknown";
}

static int
malformed(struct ks_err *err, const char *fmt, const char *arg)
{
	char what[512];

	snprintf(what, sizeof(what), fmt, arg);
	return ks_err_set(err, EPROTO, KS_CODE_PROTOCOL,
	    "malformed JSON payload: %s", what);
}

/* True when the JSON text nests deeper than serde_json allows; jansson's
 * own limit is far higher. Strings are skipped, escapes included. */
static bool
too_deep(const char *p, size_t len)
{
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > KS_PROTO_MAX_DEPTH)
				return true;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return false;
}

/*
 * jansson holds integers as int64; max_bytes may be any u64. Copies the
 * text with each integer literal above INT64_MAX replaced by a marked
 * string ("\u0000U<digits>" when it fits in u64, "\u0000B..." when not)
 * that only max_bytes accepts. Caller frees; NULL on ENOMEM.
 */
/* True when the digit run p[i..j) is an integer literal that jansson
 * cannot hold: beyond 19 digits, or 19 above INT64_MAX (negative: a
 * magnitude of 19 digits is taken as too big too, erring on the safe
 * side), and not part of a fraction or exponent. */
static bool
big_int(const char *p, size_t len, size_t i, size_t j)
{
	if ((i > 0 && strchr(".eE+", p[i - 1]) != NULL) ||
	    (i > 1 && p[i - 1] == '-' && strchr("eE", p[i - 2]) != NULL) ||
	    (j < len && strchr(".eE", p[j]) != NULL))
		return false;
	return j - i > 19 || (j - i == 19 &&
	    memcmp(p + i, "9223372036854775807", 19) > 0);
}

/* Writes the marker string for the literal p[i..j) ('-' before it
 * included, already copied: it is taken back). */
static int
put_marked(struct ks_buf *b, const char *p, size_t i, size_t j)
{
	bool neg = i > 0 && p[i - 1] == '-';
	bool fits = !neg && (j - i < 20 || (j - i == 20 &&
	    memcmp(p + i, "18446744073709551615", 20) <= 0));

	if (neg)
		b->len--;
	if (ks_buf_put(b, "\"\\u0000", 7) < 0 ||
	    ks_buf_put(b, marker_nonce(), NONCE_LEN) < 0 ||
	    ks_buf_put(b, fits ? "U" : "B", 1) < 0 ||
	    ks_buf_put(b, p + i, j - i) < 0 || ks_buf_put(b, "\"", 1) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * jansson holds integers as int64; max_bytes may be any u64. Copies the
 * text with each integer literal above INT64_MAX replaced by a marked
 * string ("\u0000U<digits>" when it fits in u64, "\u0000B..." when not)
 * that only max_bytes accepts. Caller frees; NULL on ENOMEM.
 */
static char *
widen_ints(const char *p, size_t len, size_t *outlen)
{
	struct ks_buf b = { 0 };
	bool in_str = false;
	size_t i = 0, j;
	int rc = 0;

	while (i < len && rc == 0) {
		j = i + 1;
		if (in_str && p[i] == '\\')
			j = i + 2 > len ? len : i + 2;
		else if (p[i] == '"')
			in_str = !in_str;
		else if (!in_str && p[i] >= '0' && p[i] <= '9')
			while (j < len && p[j] >= '0' && p[j] <= '9')
				j++;
		if (!in_str && p[i] >= '0' && p[i] <= '9' &&
		    big_int(p, len, i, j))
			rc = put_marked(&b, p, i, j);
		else
			rc = ks_buf_put(&b, p + i, j - i);
		i = j;
	}
	if (rc < 0) {
		ks_buf_free(&b);
		return NULL;
	}
	*outlen = b.len;
	return b.p;
}

json_t *
ks_json_load(const char *text, size_t len, struct ks_err *err)
{
	const size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
	json_error_t je;
	json_t *doc;
	char *wide;
	size_t wlen;

	if (too_deep(text, len)) {
		ks_err_set(err, EPROTO, KS_CODE_PROTOCOL,
		    "recursion limit exceeded");
		return NULL;
	}
	doc = json_loadb(text, len, flags, &je);
	if (doc == NULL && json_error_code(&je) ==
	    json_error_numeric_overflow &&
	    (wide = widen_ints(text, len, &wlen)) != NULL) {
		doc = json_loadb(wide, wlen, flags, &je);
		free(wide);
	}
	if (doc == NULL)
		ks_err_set(err, EPROTO, KS_CODE_PROTOCOL, "%s at line %d "
		    "column %d", je.text, je.line, je.column);
	return doc;
}

int
ks_json_get_u64(const json_t *v, uint64_t *out)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 1;
	}
	if (s == NULL || json_string_length(v) < NONCE_LEN + 3 || s[0] != '\0' ||
	    nonce[0] == '\0' || memcmp(s + 1, nonce, NONCE_LEN) != 0)
		return 0;
	s += 1 + NONCE_LEN;
	if (s[0] == 'U') {
		*out = strtoull(s + 1, NULL, 10);
		return 1;
	}
	return s[0] == 'B' ? -ERANGE : 0;
}

static json_t *
load(const char *payload, size_t len, struct ks_err *err)
{
	json_t *doc = ks_json_load(payload, len, err);
	char what[400];

	if (doc == NULL) {
		snprintf(what, sizeof(what), "%.390s", err->msg);
		malformed(err, "%s", what);
	}
	return doc;
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "map";
	case JSON_ARRAY:	return "sequence";
	case JSON_STRING:	return "string";
	case JSON_INTEGER:	return "integer";
	case JSON_REAL:		return "floating point";
	case JSON_TRUE:
	case JSON_FALSE:	return "boolean";
	case JSON_NULL:		return "null";
	}
	return "value";
}

/* A required (or, with opt, optional) string field. */
static int
get_str(json_t *doc, const char *key, bool opt, const char **s, size_t *len,
    struct ks_err *err)
{
	json_t *v = json_object_get(doc, key);
	char what[128];

	if (v == NULL || (opt && json_is_null(v))) {
		if (opt)
			return 0;
		return malformed(err, "missing field `%s`", key);
	}
	if (!json_is_string(v)) {
		snprintf(what, sizeof(what), "invalid type: %s, expected a "
		    "string for `%s`", type_name(v), key);
		return malformed(err, "%s", what);
	}
	*s = json_string_value(v);
	*len = json_string_length(v);
	return 0;
}

static int
get_max_bytes(json_t *doc, struct ks_req *req, struct ks_err *err)
{
	json_t *v = json_object_get(doc, "max_bytes");
	int rc;

	if (v == NULL || json_is_null(v))
		return 0;
	req->has_max = true;
	if ((rc = ks_json_get_u64(v, &req->max_bytes)) == 1)
		return 0;
	if (rc == -ERANGE)
		return malformed(err, "invalid value: integer `%s`, expected "
		    "u64 for `max_bytes`", json_string_value(v) + 2 + NONCE_LEN);
	return malformed(err, "invalid type: %s, expected u64 for "
	    "`max_bytes`", json_is_integer(v) ? "negative integer" :
	    type_name(v));
}

/* An opt-in unsigned field: absent or null leaves *has false. */
static int
get_u64_opt(json_t *doc, const char *key, bool *has, uint64_t *out,
    struct ks_err *err)
{
	json_t *v = json_object_get(doc, key);
	char what[128];
	int rc;

	if (v == NULL || json_is_null(v))
		return 0;
	*has = true;
	if ((rc = ks_json_get_u64(v, out)) == 1)
		return 0;
	snprintf(what, sizeof(what), "invalid %s: expected u64 for `%s`",
	    rc == -ERANGE ? "value" : "type", key);
	return malformed(err, "%s", what);
}

/* An opt-in boolean field. */
static int
get_bool_opt(json_t *doc, const char *key, bool *has, bool *out,
    struct ks_err *err)
{
	json_t *v = json_object_get(doc, key);
	char what[128];

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(what, sizeof(what), "invalid type: %s, expected a "
		    "boolean for `%s`", type_name(v), key);
		return malformed(err, "%s", what);
	}
	*has = true;
	*out = json_is_true(v);
	return 0;
}

/* read's opt-in range: a byte offset, or a line range. */
static int
get_read_ext(json_t *d, struct ks_req *r, struct ks_err *err)
{
	if (get_u64_opt(d, "offset", &r->has_offset, &r->offset, err) < 0 ||
	    get_u64_opt(d, "line", &r->has_line, &r->line, err) < 0 ||
	    get_u64_opt(d, "lines", &r->has_lines, &r->lines, err) < 0)
		return -EPROTO;
	r->ext = r->has_offset || r->has_line || r->has_lines;
	return 0;
}

/* grep's and glob's opt-in fields. */
static int
get_walk_ext(json_t *d, struct ks_req *r, struct ks_err *err)
{
	bool has = false;

	if (get_str(d, "cursor", true, &r->cursor, &r->cursor_len, err) < 0)
		return -EPROTO;
	r->ext = r->cursor != NULL;
	if (r->kind == KS_REQ_GLOB)
		return 0;
	if (get_bool_opt(d, "case_insensitive", &has, &r->icase, err) < 0)
		return -EPROTO;
	r->ext |= has;
	has = false;
	if (get_bool_opt(d, "fixed_strings", &has, &r->fixed, err) < 0 ||
	    get_u64_opt(d, "max_matches", &r->has_max_matches,
	    &r->max_matches, err) < 0)
		return -EPROTO;
	r->ext |= has || r->has_max_matches;
	return 0;
}

static int
get_content(json_t *doc, struct ks_req *req, struct ks_err *err)
{
	json_t *v = json_object_get(doc, "content"), *e;
	json_int_t x;
	size_t i;

	if (v == NULL)
		return malformed(err, "missing field `%s`", "content");
	if (!json_is_array(v))
		return malformed(err, "invalid type: %s, expected a sequence "
		    "for `content`", type_name(v));
	if (req->content != NULL)
		return 0;	/* read already by ks_content_lift */
	req->content_len = json_array_size(v);
	if ((req->content = malloc(req->content_len + 1)) == NULL)
		return ks_err_os(err, ENOMEM);
	json_array_foreach(v, i, e) {
		x = json_is_integer(e) ? json_integer_value(e) : -1;
		if (x < 0 || x > 255)
			return malformed(err, "invalid value in `content`: %s, "
			    "expected u8", json_is_integer(e) ? "integer out "
			    "of range" : type_name(e));
		req->content[i] = (unsigned char)x;
	}
	return 0;
}

static int
get_write_part(json_t *d, struct ks_req *r, struct ks_err *err)
{
	bool has = false;

	if (get_str(d, "path", false, &r->path, &r->path_len, err) < 0 ||
	    get_content(d, r, err) < 0 ||
	    get_u64_opt(d, "offset", &r->has_offset, &r->offset, err) < 0 ||
	    get_bool_opt(d, "last", &has, &r->last, err) < 0)
		return -EPROTO;
	if (!r->has_offset)
		return malformed(err, "missing field `%s`", "offset");
	return 0;
}

static int
get_names(json_t *doc, struct ks_req *req, struct ks_err *err)
{
	json_t *v = json_object_get(doc, "names"), *e;
	size_t i;

	if (v == NULL)
		return malformed(err, "missing field `%s`", "names");
	if (!json_is_array(v))
		return malformed(err, "invalid type: %s, expected a sequence "
		    "for `names`", type_name(v));
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return malformed(err, "invalid type: %s, expected a "
			    "string in `names`", type_name(e));
	req->names = v;
	return 0;
}

static int
get_fields(json_t *d, struct ks_req *r, struct ks_err *err)
{
	switch (r->kind) {
	case KS_REQ_PING:
	case KS_REQ_SHUTDOWN:
		return 0;
	case KS_REQ_READ:
		if (get_str(d, "path", false, &r->path, &r->path_len, err) < 0 ||
		    get_max_bytes(d, r, err) < 0)
			return -EPROTO;
		return get_read_ext(d, r, err);
	case KS_REQ_WRITE:
		if (get_str(d, "path", false, &r->path, &r->path_len, err) < 0)
			return -EPROTO;
		return get_content(d, r, err);
	case KS_REQ_EDIT:
		if (get_str(d, "path", false, &r->path, &r->path_len, err) < 0 ||
		    get_str(d, "old_string", false, &r->old_s, &r->old_len,
		    err) < 0)
			return -EPROTO;
		if (get_str(d, "new_string", false, &r->new_s, &r->new_len,
		    err) < 0 || get_bool_opt(d, "replace_all",
		    &r->has_replace_all, &r->replace_all, err) < 0)
			return -EPROTO;
		r->ext = r->has_replace_all;
		return 0;
	case KS_REQ_GREP:
		if (get_str(d, "include", true, &r->include, &r->include_len,
		    err) < 0)
			return -EPROTO;
		/* FALLTHROUGH */
	case KS_REQ_GLOB:
		if (get_str(d, "pattern", false, &r->pattern, &r->pattern_len,
		    err) < 0 ||
		    get_str(d, "root", false, &r->root, &r->root_len, err) < 0)
			return -EPROTO;
		return get_walk_ext(d, r, err);
	case KS_REQ_LIST_DIR:
		return get_str(d, "path", false, &r->path, &r->path_len, err);
	case KS_REQ_WRITE_PART:
		return get_write_part(d, r, err);
	case KS_REQ_STAT:
		return get_str(d, "path", false, &r->path, &r->path_len, err);
	case KS_REQ_GET_ENV:
		return get_names(d, r, err);
	}
	return -EPROTO;
}

/* The request in req->doc (its content maybe lifted already). */
static int
decode_doc(struct ks_req *req, struct ks_err *err)
{
	json_t *kind;
	const char *k;
	size_t i;
	int rc;

	if (!json_is_object(req->doc)) {
		rc = malformed(err, "invalid type: %s, expected internally "
		    "tagged enum Request", type_name(req->doc));
		goto fail;
	}
	if ((kind = json_object_get(req->doc, "kind")) == NULL ||
	    !json_is_string(kind)) {
		rc = malformed(err, kind == NULL ? "missing field `kind`%s" :
		    "invalid type for `kind`%s", "");
		goto fail;
	}
	k = json_string_value(kind);
	for (i = 0; i < NKINDS && strcmp(k, kind_names[i]) != 0; i++)
		;
	if (i == NKINDS || strlen(k) != json_string_length(kind)) {
		struct ks_quote q;

		rc = malformed(err, "unknown variant `%s`", ks_quote(&q, k));
		goto fail;
	}
	req->kind = (enum ks_kind)i;
	if ((rc = get_fields(req->doc, req, err)) == 0)
		return 0;
fail:
	ks_req_free(req);
	return rc;
}

int
ks_req_decode(const char *payload, size_t len, struct ks_req *req,
    struct ks_err *err)
{
	char *lifted = NULL;
	size_t llen;

	memset(req, 0, sizeof(*req));
	/* A large write's bytes are read without jansson (content.h). */
	if (len >= LIFT_MIN && ks_content_lift(payload, len, &lifted,
	    &llen, &req->content, &req->content_len) < 0)
		return ks_err_os(err, ENOMEM);
	if (lifted != NULL) {
		req->doc = ks_json_load(lifted, llen, err);
		free(lifted);
		if (req->doc == NULL) {
			/* jansson's message and position: of the text sent. */
			free(req->content);
			req->content = NULL;
			req->content_len = 0;
		}
	}
	if (req->doc == NULL && (req->doc = load(payload, len, err)) == NULL) {
		ks_req_free(req);
		return -EPROTO;
	}
	return decode_doc(req, err);
}

int
ks_req_decode_lifted(const char *text, size_t len, size_t at,
    unsigned char *bytes, size_t n, struct ks_req *req, struct ks_err *err)
{
	struct ks_buf orig = { 0 };
	int rc;

	memset(req, 0, sizeof(*req));
	req->content = bytes;
	req->content_len = n;
	if ((req->doc = ks_json_load(text, len, err)) != NULL)
		return decode_doc(req, err);
	/* An error: decoded as the text was sent, so that the result and
	 * jansson's message and position are those of that text. The
	 * lifted array was in the compact form, so printing its values
	 * again gives its bytes back. */
	rc = ks_buf_put(&orig, text, at + 1) < 0 ||
	    ks_content_print(&orig, bytes, n) < 0 ? -ENOMEM : 0;
	if (rc == 0 && n > 0)
		orig.len--;		/* the comma after the last value */
	if (rc == 0 && ks_buf_put(&orig, text + at + 1, len - at - 1) < 0)
		rc = -ENOMEM;
	ks_req_free(req);
	rc = rc < 0 ? ks_err_os(err, ENOMEM) :
	    ks_req_decode(orig.p, orig.len, req, err);
	ks_buf_free(&orig);
	return rc;
}

void
ks_req_free(struct ks_req *req)
{
	json_decref(req->doc);
	free(req->content);
	memset(req, 0, sizeof(*req));
}
