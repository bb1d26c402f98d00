/*
 * lists: the replies that hold lists (glob, grep, list_dir), cut to fit
 * one frame with "truncated":true (and, for an extended request, the
 * cursor that resumes after the cut), and the read rule as the filter
 * of their walks.
 */
#include "lists.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fsops.h"
#include "glob.h"
#include "grep.h"
#include "listdir.h"
#include "proto.h"

/* Room kept for the end of a list reply: `],"truncated":true}`. */
#define LIST_TAIL 19

static int
nomem(struct ks_err *err)
{
	return ks_err_os(err, ENOMEM);
}

static int
begin(struct ks_buf *b, const char *head)
{
	return ks_reply_begin(b, head);
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
	size_t skipped;		/* names that are not UTF-8, left out */
};

/* Closes a list reply, with the truncated mark when it was cut. */
static int
list_end(struct list *l)
{
	if (ks_json_raw(l->b, "]") < 0 || (l->truncated &&
	    ks_json_raw(l->b, ",\"truncated\":true") < 0))
		return -ENOMEM;
	if (l->ext && l->truncated && l->n > 0 && (ks_json_raw(l->b,
	    ",\"cursor\":") < 0 ||
	    ks_json_str(l->b, l->cursor, strlen(l->cursor)) < 0))
		return -ENOMEM;
	/* An extended reply says what it could not carry (protocol(7)). */
	if (l->ext && l->skipped > 0 && (ks_json_raw(l->b,
	    ",\"skipped_names\":") < 0 || ks_json_u64(l->b, l->skipped) < 0))
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

	if (l->ext)
		tail += 40;	/* ,"skipped_names":N */
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

int
ks_serve_glob(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
    struct ks_err *err)
{
	struct walk_rule rule = { fs, { NULL, NULL } };
	struct ks_path_filter filter = walk_filter(&rule);
	struct ks_strv paths = { 0 };
	struct list l = { .b = b, .ext = req->ext };
	bool holes = fs->pctx.policy->allow_read_within_deny.n > 0;
	size_t mark;
	int rc = 0;

	filter.skipped = &l.skipped;

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

int
ks_serve_grep(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
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

	filter.skipped = &l.skipped;

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
int
ks_serve_list_dir(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *b,
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
