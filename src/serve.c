/*
 * serve: request dispatch and the shape of every success reply, in the
 * reference's field order. Replies that hold lists (glob, grep) are cut
 * to fit one frame and say so with "truncated":true.
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
#include "glob.h"
#include "grep.h"
#include "listdir.h"
#include "log.h"
#include "proto.h"

/* Room kept for the end of a list reply: `],"truncated":true}`. */
#define LIST_TAIL 19

static int
begin(struct ks_buf *b, const char *head)
{
	if (ks_frame_begin(b) < 0 || ks_json_raw(b, head) < 0)
		return -ENOMEM;
	return 0;
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

/* Names the pattern in a syntax error, as the reference does. */
static void
bad_pattern(struct ks_err *err, const char *what, const char *pattern)
{
	char reason[512];
	struct ks_quote q;

	if (err->code != KS_CODE_PROTOCOL)
		return;
	snprintf(reason, sizeof(reason), "%.500s", err->msg);
	ks_err_set(err, EINVAL, KS_CODE_PROTOCOL, "%s \"%s\": %s", what,
	    ks_quote(&q, pattern), reason);
}

/*
 * A list reply being filled: items go in while they fit. An extended
 * request (ext) gets, when cut, the cursor of its last item, which
 * resumes the listing after it; limit (0: none) cuts it at that many.
 */
struct list {
	struct ks_buf *b;
	size_t n;
	bool truncated;
	bool ext;
	uint64_t limit;
	char *cursor;		/* of the last item kept */
	char *next;		/* of the item being kept */
	size_t ccap;
};

/* Closes a list reply, with the truncated mark when it was cut. */
static int
list_end(struct list *l)
{
	if (!l->truncated)
		return ks_json_raw(l->b, "]}");
	if (ks_json_raw(l->b, "],\"truncated\":true") < 0)
		return -ENOMEM;
	if (l->ext && l->n > 0 && (ks_json_raw(l->b,
	    ",\"cursor\":") < 0 ||
	    ks_json_str(l->b, l->cursor, strlen(l->cursor)) < 0))
		return -ENOMEM;
	return ks_json_raw(l->b, "}");
}

/* Sets the cursor of the item being kept: fmt with a line, or the path
 * alone (line 0). */
static int
list_next(struct list *l, const char *path, size_t line)
{
	size_t need = strlen(path) + 32;
	char *p;

	if (!l->ext)
		return 0;
	if (need > l->ccap) {
		if ((p = realloc(l->next, need)) == NULL)
			return -ENOMEM;
		l->next = p;
		if ((p = realloc(l->cursor, need)) == NULL)
			return -ENOMEM;
		if (l->cursor == NULL)
			p[0] = '\0';
		l->cursor = p;
		l->ccap = need;
	}
	if (line > 0)
		snprintf(l->next, need, "%zu:%s", line, path);
	else
		snprintf(l->next, need, "%s", path);
	return 0;
}

/* Keeps the item just appended at [mark, len) if the frame still has
 * room for the list's end (last: only "]}" must follow). */
static bool
list_keep(struct list *l, size_t mark, bool last)
{
	size_t tail = last ? 2 : LIST_TAIL;
	char *t;

	if (l->ext && !last)
		tail += 11 + ks_json_str_size(l->next, strlen(l->next));
	if (ks_frame_size(l->b) + tail <= KS_FRAME_MAX) {
		l->n++;
		if (l->ext) {
			t = l->cursor;
			l->cursor = l->next;
			l->next = t;
		}
		return true;
	}
	l->b->len = mark;
	l->truncated = true;
	return false;
}

static void
list_free(struct list *l)
{
	free(l->cursor);
	free(l->next);
}

/* The read rule as a walk filter. */
struct walk_rule {
	struct ks_fs *fs;
	struct ks_read_cache cache;
};

static bool
walk_denied(void *ctx, const char *path)
{
	struct walk_rule *w = ctx;

	return ks_policy_walk_prune(&w->fs->pctx, &w->cache, path);
}

static bool
walk_denied_at(void *ctx, const char *path, const char *landing)
{
	struct walk_rule *w = ctx;

	return ks_policy_prune_at(&w->fs->pctx, path, landing);
}

static bool
walk_denied_file(void *ctx, const struct stat *st)
{
	struct walk_rule *w = ctx;

	return ks_linkidx_denied(&w->fs->links, &w->fs->pctx, st);
}

/* The filter of a glob or grep: what a walk may see, and where its
 * lookups start. */
static struct ks_path_filter
walk_filter(struct walk_rule *rule)
{
	return (struct ks_path_filter){ .denied = walk_denied, .ctx = rule,
	    .denied_at = walk_denied_at, .denied_file = walk_denied_file,
	    .base = &rule->fs->base };
}

static int
serve_glob(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	struct walk_rule rule = { fs, { NULL, NULL } };
	struct ks_path_filter filter = walk_filter(&rule);
	struct ks_strv paths = { 0 };
	struct list l = { .b = b, .ext = req->ext };
	bool holes = fs->pctx.policy->allow_read_within_deny.n > 0;
	size_t mark;
	int rc = 0;

	if ((rc = ks_policy_check_read(&fs->pctx, req->root, err)) < 0)
		return rc;
	/* A NUL cannot be in a file name: nothing can match. */
	if (memchr(req->pattern, 0, req->pattern_len) == NULL &&
	    memchr(req->root, 0, req->root_len) == NULL &&
	    (rc = ks_glob_expand(req->pattern, req->root, &filter, &paths,
	    err)) < 0) {
		bad_pattern(err, "glob pattern", req->pattern);
		goto out;
	}
	if (begin(b, "{\"kind\":\"glob\",\"paths\":[") < 0)
		goto nomem;
	for (size_t i = 0; i < paths.n; i++) {
		/* A denied directory walked for a hole in it stays hidden
		 * (without holes, the walk's own filter said it all). */
		if (holes && ks_policy_read_denied(&fs->pctx, &rule.cache,
		    paths.v[i]))
			continue;
		/* A cursor resumes after the last path of the part before. */
		if (req->cursor != NULL && ks_path_cmp(paths.v[i],
		    req->cursor) <= 0)
			continue;
		mark = b->len;
		if ((l.n > 0 && ks_json_raw(b, ",") < 0) ||
		    ks_json_str(b, paths.v[i], strlen(paths.v[i])) < 0 ||
		    list_next(&l, paths.v[i], 0) < 0)
			goto nomem;
		if (!list_keep(&l, mark, i + 1 == paths.n))
			break;
	}
	if (list_end(&l) < 0)
		goto nomem;
	goto out;
nomem:
	rc = nomem(err);
out:
	list_free(&l);
	ks_policy_cache_free(&rule.cache);
	ks_strv_free(&paths);
	return rc;
}

static int
grep_emit(void *ctx, const char *path, size_t line, const char *text,
    size_t len)
{
	struct list *l = ctx;
	size_t mark = l->b->len;

	if (l->limit > 0 && l->n == l->limit) {
		l->truncated = true;	/* max_matches reached: more follow */
		return 1;
	}
	if (list_next(l, path, line) < 0 ||
	    (l->n > 0 && ks_json_raw(l->b, ",") < 0) ||
	    ks_json_raw(l->b, "{\"path\":") < 0 ||
	    ks_json_str(l->b, path, strlen(path)) < 0 ||
	    ks_json_raw(l->b, ",\"line\":") < 0 ||
	    ks_json_u64(l->b, line) < 0 ||
	    ks_json_raw(l->b, ",\"text\":") < 0 ||
	    ks_json_str(l->b, text, len) < 0 || ks_json_raw(l->b, "}") < 0) {
		l->b->len = mark;
		l->truncated = true;
		return 1;
	}
	return list_keep(l, mark, false) ? 0 : 1;
}

/* A regex with each NUL byte written as the escape \x00, so that it
 * survives as a C string; the pattern itself when it has none. */
static char *
nul_escaped(const char *p, size_t len)
{
	size_t nuls = 0, o = 0;
	char *s;

	for (size_t i = 0; i < len; i++)
		nuls += p[i] == '\0';
	if (nuls == 0)
		return (char *)p;
	if ((s = malloc(len + 3 * nuls + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0') {
			memcpy(s + o, "\\x00", 4);
			o += 4;
		} else {
			s[o++] = p[i];
		}
	}
	s[o] = '\0';
	return s;
}

/* A grep cursor, "LINE:PATH" as a truncated reply gave it, into opts. */
static int
parse_cursor(const struct ks_req *req, struct ks_grep_opts *o,
    struct ks_err *err)
{
	char *end = NULL;
	unsigned long long line;

	/* "" asks for cursors from the start. */
	if (req->cursor == NULL || req->cursor[0] == '\0')
		return 0;
	errno = 0;
	line = strtoull(req->cursor, &end, 10);
	if (errno != 0 || end == req->cursor || *end != ':' || line == 0 ||
	    memchr(req->cursor, 0, req->cursor_len) != NULL)
		return ks_err_set(err, EINVAL, KS_CODE_PROTOCOL, "grep cursor: "
		    "expected LINE:PATH as a truncated reply gives it");
	o->after_line = (size_t)line;
	o->after_path = end + 1;
	return 0;
}

static int
serve_grep(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	struct walk_rule rule = { fs, { NULL, NULL } };
	struct ks_path_filter filter = walk_filter(&rule);
	struct list l = { .b = b, .ext = req->ext,
	    .limit = req->has_max_matches ? req->max_matches : 0 };
	struct ks_grep_sink sink = { grep_emit, &l };
	struct ks_grep_opts opts = { req->icase, req->fixed, NULL, 0 };
	char *pattern;
	int rc = 0;

	if ((rc = ks_policy_check_read(&fs->pctx, req->root, err)) < 0 ||
	    (rc = parse_cursor(req, &opts, err)) < 0)
		return rc;
	if (req->has_max_matches && req->max_matches == 0)
		return ks_err_set(err, EINVAL, KS_CODE_PROTOCOL, "grep "
		    "max_matches: expected at least 1");
	if (begin(b, "{\"kind\":\"grep\",\"matches\":[") < 0)
		return nomem(err);
	/* No file name holds a NUL: such a root or include finds nothing. */
	if ((pattern = nul_escaped(req->pattern, req->pattern_len)) == NULL)
		return nomem(err);
	if (memchr(req->root, 0, req->root_len) == NULL &&
	    (req->include == NULL ||
	    memchr(req->include, 0, req->include_len) == NULL))
		rc = ks_grep_run(pattern, req->root, req->include,
		    req->ext ? &opts : NULL, &filter, &sink, err);
	if (pattern != req->pattern)
		free(pattern);
	ks_policy_cache_free(&rule.cache);
	if (rc >= 0 && list_end(&l) < 0)
		rc = nomem(err);
	list_free(&l);
	return rc < 0 ? rc : 0;
}

static int
dir_emit(void *ctx, const char *name, const struct stat *st)
{
	struct list *l = ctx;
	size_t mark = l->b->len;

	if ((l->n > 0 && ks_json_raw(l->b, ",") < 0) ||
	    ks_json_raw(l->b, "{\"name\":") < 0 ||
	    ks_json_str(l->b, name, strlen(name)) < 0 ||
	    ks_json_raw(l->b, ",\"type\":\"") < 0 ||
	    ks_json_raw(l->b, ks_listdir_type(st->st_mode)) < 0 ||
	    ks_json_raw(l->b, "\",\"size\":") < 0 ||
	    ks_json_u64(l->b, (uint64_t)st->st_size) < 0 ||
	    ks_json_raw(l->b, "}") < 0) {
		l->b->len = mark;
		l->truncated = true;
		return 1;
	}
	return list_keep(l, mark, false) ? 0 : 1;
}

/* list_dir (an extension): one directory's entries, judged as glob's. */
static int
serve_list_dir(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	struct walk_rule rule = { fs, { NULL, NULL } };
	struct ks_path_filter filter = walk_filter(&rule);
	struct list l = { .b = b };
	struct ks_listdir_sink sink = { dir_emit, &l };
	size_t skipped = 0;
	int rc;

	if ((rc = ks_policy_check_read(&fs->pctx, req->path, err)) < 0)
		return rc;
	if (begin(b, "{\"kind\":\"list_dir\",\"entries\":[") < 0)
		return nomem(err);
	rc = ks_listdir_run(req->path, &filter, &sink, &skipped, err);
	ks_policy_cache_free(&rule.cache);
	if (rc < 0)
		return rc;
	if (l.truncated)
		return list_end(&l) < 0 ? nomem(err) : 0;
	if (ks_json_raw(b, "]") < 0 || (skipped > 0 &&
	    (ks_json_raw(b, ",\"skipped_names\":") < 0 ||
	    ks_json_u64(b, skipped) < 0)) || ks_json_raw(b, "}") < 0)
		return nomem(err);
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
		return serve_glob(fs, req, reply, err);
	case KS_REQ_GREP:
		return serve_grep(fs, req, reply, err);
	case KS_REQ_STAT:
		return serve_stat(fs, req, reply, err);
	case KS_REQ_GET_ENV:
		return serve_get_env(req, reply, err);
	case KS_REQ_LIST_DIR:
		return serve_list_dir(fs, req, reply, err);
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
	const char *payload;
	size_t len;
	bool stop = false;
	uint64_t t0;
	int rc, done;

	while (!stop) {
		if ((rc = ks_frame_read(&r, &payload, &len, err)) == 0)
			break;			/* peer closed cleanly */
		if (rc < 0 || (rc = ks_req_decode(payload, len, &req, err)) < 0) {
			rc = fatal(out, &reply, err);
			break;
		}
		stop = req.kind == KS_REQ_SHUTDOWN;
		t0 = now_us();
		if ((done = ks_serve(fs, &req, &reply, err)) < 0 &&
		    ks_reply_error(&reply, err) < 0)
			rc = -ENOMEM;
		t0 = now_us() - t0;
		ks_audit_record(&fs->audit, &req, done, err, t0);
		if (ks_log_enabled(KS_LOG_DEBUG))
			log_request(&req, done, err, t0, len, reply.len);
		ks_req_free(&req);
		if (rc < 0 || (rc = ks_frame_send(out, &reply, err)) < 0)
			break;			/* the peer is gone */
	}
	ks_reader_free(&r);
	ks_buf_free(&reply);
	return rc < 0 ? rc : 0;
}
