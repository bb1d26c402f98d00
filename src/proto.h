/*
 * proto: requests from JSON (jansson) and replies to JSON bytes.
 *
 * Replies are written by a small encoder of our own, not jansson: they
 * must be byte-identical to serde_json's (compact, fields in the
 * reference's order, lower-case \u00xx escapes, raw UTF-8), and byte
 * arrays are the hot path.
 */
#ifndef KS_PROTO_H
#define KS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"

typedef struct json_t json_t;

/* JSON nesting that the reference (serde_json) accepts. */
#define KS_PROTO_MAX_DEPTH 128

enum ks_kind {
	KS_REQ_PING,
	KS_REQ_SHUTDOWN,
	KS_REQ_READ,
	KS_REQ_WRITE,
	KS_REQ_EDIT,
	KS_REQ_GLOB,
	KS_REQ_GREP,
	KS_REQ_STAT,
	KS_REQ_GET_ENV,
	/* Extensions: kinds the reference does not know (protocol(7)). */
	KS_REQ_LIST_DIR,
	KS_REQ_WRITE_PART,
};

/* A decoded request. String fields point into doc and are
 * NUL-terminated; *_len counts embedded NULs too. */
struct ks_req {
	enum ks_kind kind;
	json_t *doc;
	const char *path;
	size_t path_len;
	bool has_max;
	uint64_t max_bytes;
	unsigned char *content;		/* owned */
	size_t content_len;
	const char *old_s, *new_s;
	size_t old_len, new_len;
	const char *pattern, *root, *include;
	size_t pattern_len, root_len, include_len;
	json_t *names;			/* array of strings, in doc */

	/* Opt-in fields (protocol(7), EXTENSIONS); ext says a request of a
	 * reference kind used one, so its reply may carry more fields. */
	bool ext;
	bool has_offset, has_line, has_lines;
	uint64_t offset, line, lines;	/* read; write_part's offset */
	bool last;			/* write_part */
	bool has_replace_all, replace_all;	/* edit */
	bool icase, fixed;		/* grep */
	bool has_max_matches;
	uint64_t max_matches;
	const char *cursor;		/* grep, glob: resume after this */
	size_t cursor_len;
};

/*
 * Parses JSON text as the reference's serde_json would accept it:
 * duplicate keys and nesting deeper than KS_PROTO_MAX_DEPTH rejected,
 * "\u0000" allowed, integers up to 2^64-1 kept (read them with
 * ks_json_get_u64). Returns a new reference, or NULL with err set
 * (KS_CODE_PROTOCOL, "REASON at line L column C").
 */
json_t *ks_json_load(const char *text, size_t len, struct ks_err *err);

/*
 * Reads v as an unsigned 64-bit integer. Returns 1 and *out, 0 when v is
 * no such integer (wrong type or negative), or -ERANGE for an integer
 * literal above 2^64-1.
 */
int ks_json_get_u64(const json_t *v, uint64_t *out);

/*
 * Decodes one request payload. Returns 0 (free with ks_req_free), or a
 * negative errno with err set: KS_CODE_PROTOCOL and "malformed JSON
 * payload: REASON" for anything SPEC §2 calls a protocol error.
 */
int ks_req_decode(const char *payload, size_t len, struct ks_req *req,
    struct ks_err *err);

/*
 * The same for a payload whose content array was decoded as it arrived
 * (reqread.h): text is the payload with that array written as "[]" at
 * text[at], bytes (malloc'd; req owns it from here, whatever the
 * result) its n values. The result, message included, is the one
 * ks_req_decode gives for the payload as it was sent.
 */
int ks_req_decode_lifted(const char *text, size_t len, size_t at,
    unsigned char *bytes, size_t n, struct ks_req *req, struct ks_err *err);

/* The wire name of a request kind ("read", ...). Never NULL. */
const char *ks_req_kind_name(enum ks_kind kind);

/* Frees what req owns; a zeroed req is fine. */
void ks_req_free(struct ks_req *req);

/*
 * Reply encoding into a frame buffer (after ks_frame_begin). Each
 * function appends; all return 0 or -ENOMEM.
 */
/* Begins a reply frame in b with the literal JSON head. */
int ks_reply_begin(struct ks_buf *b, const char *head);
/* Appends s[0..len) as a JSON string, serde_json's escapes. */
int ks_json_str(struct ks_buf *b, const char *s, size_t len);
/* Bytes ks_json_str would append for s[0..len). */
size_t ks_json_str_size(const char *s, size_t len);
int ks_json_u64(struct ks_buf *b, uint64_t v);
/* Appends a literal piece of JSON. */
int ks_json_raw(struct ks_buf *b, const char *s);

/* Bytes of the JSON array [v0,v1,...] of the byte values of p[0..n). */
size_t ks_json_bytes_size(const unsigned char *p, size_t n);
int ks_json_bytes(struct ks_buf *b, const unsigned char *p, size_t n);

/* A whole error reply {"kind":"error","code":...,"message":...}. */
int ks_reply_error(struct ks_buf *b, const struct ks_err *err);

#endif
