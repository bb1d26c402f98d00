/*
 * serve: request dispatch, the serve loop, and the shape of every
 * success reply in the reference's field order; the replies that hold
 * lists (glob, grep, list_dir) are in lists.c.
 */
#include "serve.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fsops.h"
#include "lists.h"
#include "log.h"
#include "proto.h"
#include "reqread.h"

/* Buffers over this size are given back after the request they served. */
#define KEEP_MAX ((size_t)256 * 1024)

static int
begin(struct ks_buf *b, const char *head)
{
	return ks_reply_begin(b, head);
}

static int
nomem(struct ks_err *err)
{
	return ks_err_os(err, ENOMEM);
}

/* A read with offset, line or lines: the part, and where it stands. */
static int
serve_read_range(struct ks_fs *fs, const struct ks_req *req,
    struct ks_buf *b, struct ks_err *err)
{
	struct ks_range r = { req->has_offset, req->has_line, req->has_lines,
	    req->has_max, req->offset, req->line, req->lines, req->max_bytes };
	struct ks_range_info info;
	const unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ks_fs_read_range(fs, req->path, &r, &data, &len, &info,
	    err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"read\",\"content\":") < 0 ||
	    ks_json_bytes(b, data, len) < 0 || ks_json_raw(b, ",\"size\":") < 0 ||
	    (info.size_known ? ks_json_u64(b, info.size) :
	    ks_json_raw(b, "null")) < 0 ||
	    ks_json_raw(b, info.eof ? ",\"eof\":true" : ",\"eof\":false") < 0 ||
	    ks_json_raw(b, ",\"next_offset\":") < 0 ||
	    ks_json_u64(b, info.next_offset) < 0)
		return nomem(err);
	if ((req->has_line || req->has_lines) &&
	    (ks_json_raw(b, ",\"next_line\":") < 0 ||
	    ks_json_u64(b, info.next_line) < 0))
		return nomem(err);
	return ks_json_raw(b, "}") < 0 ? nomem(err) : 0;
}

static int
serve_read(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	const unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	if (req->ext)
		return serve_read_range(fs, req, b, err);
	if ((rc = ks_fs_read(fs, req->path, req->has_max, req->max_bytes,
	    &data, &len, err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"read\",\"content\":") < 0 ||
	    ks_json_bytes(b, data, len) < 0 || ks_json_raw(b, "}") < 0)
		return nomem(err);
	return 0;
}

static int
serve_write(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	int rc;

	if ((rc = ks_fs_write(fs, req->path, req->content, req->content_len,
	    err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"write\",\"bytes_written\":") < 0 ||
	    ks_json_u64(b, req->content_len) < 0 || ks_json_raw(b, "}") < 0)
		return nomem(err);
	return 0;
}

static int
serve_edit(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	struct ks_edit e = { req->old_s, req->new_s, req->old_len,
	    req->new_len, req->has_replace_all, req->replace_all };
	size_t count = 0;
	int rc;

	if ((rc = ks_fs_edit(fs, req->path, &e, &count, err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"edit\",\"replacements\":") < 0 ||
	    ks_json_u64(b, count) < 0 || ks_json_raw(b, "}") < 0)
		return nomem(err);
	return 0;
}

static int
serve_stat(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	struct stat st;
	int rc;

	if ((rc = ks_fs_stat(fs, req->path, &st, err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"stat\",\"size\":") < 0 ||
	    ks_json_u64(b, (uint64_t)st.st_size) < 0 ||
	    ks_json_raw(b, S_ISDIR(st.st_mode) ? ",\"is_dir\":true" :
	    ",\"is_dir\":false") < 0 ||
	    ks_json_raw(b, S_ISLNK(st.st_mode) ? ",\"is_symlink\":true}" :
	    ",\"is_symlink\":false}") < 0)
		return nomem(err);
	return 0;
}

static int
serve_get_env(const struct ks_req *req, struct ks_buf *b, struct ks_err *err)
{
	const char *name, *v;
	json_t *e;
	size_t i;

	if (begin(b, "{\"kind\":\"get_env\",\"values\":[") < 0)
		return nomem(err);
	json_array_foreach(req->names, i, e) {
		name = json_string_value(e);
		/* As Rust's env::var: no such name, or a value that is not
		 * UTF-8, is null. */
		v = strlen(name) == json_string_length(e) && name[0] != '\0' &&
		    strchr(name, '=') == NULL ? getenv(name) : NULL;
		if (v != NULL && !ks_utf8_valid(v, strlen(v)))
			v = NULL;
		if ((i > 0 && ks_json_raw(b, ",") < 0) ||
		    (v == NULL ? ks_json_raw(b, "null") :
		    ks_json_str(b, v, strlen(v))) < 0)
			return nomem(err);
	}
	if (ks_json_raw(b, "]}") < 0)
		return nomem(err);
	/* The host's own environment, but a reply must still fit. */
	if (ks_frame_size(b) > KS_FRAME_MAX)
		return ks_err_set(err, EFBIG, KS_CODE_IO, "get_env reply too "
		    "large for one frame (%zu bytes); ask for fewer names",
		    ks_frame_size(b));
	return 0;
}

/* write_part (an extension): one part of a write larger than a frame. */
static int
serve_write_part(struct ks_fs *fs, const struct ks_req *req,
    struct ks_buf *b, struct ks_err *err)
{
	uint64_t staged = 0;
	int rc;

	if ((rc = ks_fs_write_part(fs, req->path, req->offset, req->content,
	    req->content_len, req->last, &staged, err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"write_part\",\"bytes_staged\":") < 0 ||
	    ks_json_u64(b, staged) < 0 || ks_json_raw(b, req->last ?
	    ",\"committed\":true}" : ",\"committed\":false}") < 0)
		return nomem(err);
	return 0;
}

int
ks_serve(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *reply,
    struct ks_err *err)
{
	if (req->path != NULL && memchr(req->path, 0, req->path_len) != NULL)
		return ks_err_nul_path(err);
	switch (req->kind) {
	case KS_REQ_PING:
	case KS_REQ_SHUTDOWN:
		return begin(reply, "{\"kind\":\"pong\"}") < 0 ? nomem(err) : 0;
	case KS_REQ_READ:
		return serve_read(fs, req, reply, err);
	case KS_REQ_WRITE:
		return serve_write(fs, req, reply, err);
	case KS_REQ_EDIT:
		return serve_edit(fs, req, reply, err);
	case KS_REQ_GLOB:
		return ks_serve_glob(fs, req, reply, err);
	case KS_REQ_GREP:
		return ks_serve_grep(fs, req, reply, err);
	case KS_REQ_STAT:
		return serve_stat(fs, req, reply, err);
	case KS_REQ_GET_ENV:
		return serve_get_env(req, reply, err);
	case KS_REQ_LIST_DIR:
		return ks_serve_list_dir(fs, req, reply, err);
	case KS_REQ_WRITE_PART:
		return serve_write_part(fs, req, reply, err);
	}
	return ks_err_set(err, ENOSYS, KS_CODE_UNIMPLEMENTED,
	    "unimplemented request");
}

/* The reference's last word on a broken stream: one error frame. */
static int
fatal(int out, struct ks_buf *b, struct ks_err *err)
{
	struct ks_err e = { .code = KS_CODE_PROTOCOL };

	snprintf(e.msg, sizeof(e.msg), "read error: %.8000s", err->msg);
	if (ks_reply_error(b, &e) == 0)
		(void)ks_frame_send(out, b, NULL);
	*err = e;
	return -EPROTO;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* debug: each request, what it was about, how it ended, how long it
 * took; trace: the frame sizes too. */
static void
log_request(const struct ks_req *req, int rc, const struct ks_err *err,
    uint64_t us, size_t in, size_t out)
{
	const char *what = req->path != NULL ? req->path : req->root != NULL ?
	    req->root : "";
	char sizes[64] = "";

	if (ks_log_enabled(KS_LOG_TRACE))
		snprintf(sizes, sizeof(sizes), ", request %zu bytes, reply %zu "
		    "bytes", in, out >= 4 ? out - 4 : out);
	ks_log(KS_LOG_DEBUG, "%s %.300s: %s%s%.300s (%llu us%s)",
	    ks_req_kind_name(req->kind), what, rc < 0 ?
	    ks_err_code_name(err->code) : "ok", rc < 0 ? ": " : "",
	    rc < 0 ? err->msg : "", (unsigned long long)us, sizes);
}

int
ks_serve_loop(struct ks_fs *fs, int in, int out, struct ks_err *err)
{
	struct ks_reader r = { .fd = in };
	struct ks_buf reply = { 0 };
	struct ks_req req;
	size_t len;
	bool stop = false;
	/* Timing and recording only for an audit log or debug logging. */
	bool watched = fs->audit.fd >= 0 || ks_log_enabled(KS_LOG_DEBUG);
	uint64_t t0;
	int rc, done;

	while (!stop) {
		if ((rc = ks_req_read(&r, &req, &len, err)) == 0)
			break;			/* peer closed cleanly */
		if (rc < 0) {
			rc = fatal(out, &reply, err);
			break;
		}
		stop = req.kind == KS_REQ_SHUTDOWN;
		t0 = watched ? now_us() : 0;
		if ((done = ks_serve(fs, &req, &reply, err)) < 0 &&
		    ks_reply_error(&reply, err) < 0)
			rc = -ENOMEM;
		if (watched) {
			t0 = now_us() - t0;
			ks_audit_record(&fs->audit, &req, done, err, t0);
			if (ks_log_enabled(KS_LOG_DEBUG))
				log_request(&req, done, err, t0, len,
				    reply.len);
		}
		ks_req_free(&req);
		if (rc < 0 || (rc = ks_frame_send(out, &reply, err)) < 0)
			break;			/* the peer is gone */
		/* An idle worker gives back what one large request took. */
		if (reply.cap > KEEP_MAX)
			ks_buf_free(&reply);
		ks_reader_trim(&r, KEEP_MAX);
	}
	ks_reader_free(&r);
	ks_buf_free(&reply);
	return rc < 0 ? rc : 0;
}
