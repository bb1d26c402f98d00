/*
 * linkidx: the inodes with more than one link inside the read-denied
 * areas, walked once through descriptors (ks_walk_run: no link is
 * followed, so the walk stays inside each area) and kept sorted.
 */
#include "linkidx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "walk.h"

struct build {
	struct ks_linkidx *x;
	const struct ks_policy_ctx *ctx;
	int rc;
};

static int
add(struct ks_linkidx *x, const struct stat *st)
{
	struct ks_linkidx_ent *v;
	size_t cap;

	if (!S_ISREG(st->st_mode) || st->st_nlink < 2)
		return 0;
	if (x->n == x->cap) {
		cap = x->cap ? 2 * x->cap : 64;
		if ((v = realloc(x->v, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = (struct ks_linkidx_ent){ st->st_dev, st->st_ino };
	return 0;
}

/* A hole of allow_read_within_deny is readable: not indexed. */
static bool
in_hole(const struct ks_policy_ctx *ctx, const char *path)
{
	return ks_path_beneath_any(path, &ctx->policy->allow_read_within_deny);
}

static int
on_entry(void *ctx, const struct ks_walk_ent *e)
{
	struct build *b = ctx;
	struct stat st;

	if (++b->x->visits > KS_LINKIDX_MAX_VISITS) {
		b->x->full = true;
		return KS_WALK_STOP;
	}
	if (in_hole(b->ctx, e->path))
		return KS_WALK_SKIP;
	if (e->type != DT_REG)
		return KS_WALK_NEXT;
	if (fstatat(e->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (b->rc = add(b->x, &st)) < 0)
		return b->rc;
	return KS_WALK_NEXT;
}

/* Indexes the area at path: a file, or a tree. */
static int
index_area(struct build *b, const char *path)
{
	struct ks_walk_ops ops = { on_entry, NULL, NULL, b };
	struct stat st;
	int fd, rc;

	if (in_hole(b->ctx, path) || lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return add(b->x, &st);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return 0;
	rc = ks_walk_run(fd, path, &ops);
	close(fd);
	return rc < 0 ? rc : 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct ks_linkidx_ent *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int
build(struct ks_linkidx *x, const struct ks_policy_ctx *ctx)
{
	const struct ks_strv *deny = &ctx->policy->deny_read;
	struct build b = { x, ctx, 0 };
	char db[4096];
	int rc = 0;

	x->built = true;
	for (size_t i = 0; i < deny->n && rc == 0 && !x->full; i++)
		if (deny->v[i][0] == '/')
			rc = index_area(&b, deny->v[i]);
	if (rc == 0 && !x->full && ctx->home != NULL && ctx->home[0] == '/' &&
	    (size_t)snprintf(db, sizeof(db), "%s/.config/koda/db",
	    ctx->home) < sizeof(db))
		rc = index_area(&b, db);
	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), ent_cmp);
	return rc;
}

bool
ks_linkidx_denied(struct ks_linkidx *x, const struct ks_policy_ctx *ctx,
    const struct stat *st)
{
	struct ks_linkidx_ent key = { st->st_dev, st->st_ino };

	if (!S_ISREG(st->st_mode) || st->st_nlink < 2)
		return false;
	if (!x->built && build(x, ctx) < 0)
		x->broken = true;
	if (x->broken)
		return true;	/* the index is incomplete: fail closed */
	return x->n > 0 && bsearch(&key, x->v, x->n, sizeof(*x->v),
	    ent_cmp) != NULL;
}

void
ks_linkidx_free(struct ks_linkidx *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
