/*
 * walk: directory trees walked through descriptors, entries sorted so
 * that a depth-first walk gives Rust's Path order. Sorting each
 * directory's names bytewise is enough: Path::cmp compares component by
 * component, so "a/x" (component "a") sorts before "a-c".
 */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ent {
	size_t off;			/* of the name in the pool */
	unsigned char type;
};

/* One directory's entries, read whole. */
struct listing {
	char *pool;
	size_t used, room;
	struct ent *v;
	size_t n, cap;
};

/* The path being built, root first. */
struct pathbuf {
	char *s;
	size_t n, cap;
};

struct walker {
	const struct ks_walk_ops *ops;
	struct pathbuf path;
};

static int
add(struct listing *l, const char *name, unsigned char type)
{
	size_t len = strlen(name) + 1;
	struct ent *v;
	char *p;

	if (l->used + len > l->room) {
		l->room = l->room ? 2 * l->room + len : 4096 + len;
		if ((p = realloc(l->pool, l->room)) == NULL)
			return -ENOMEM;
		l->pool = p;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((v = realloc(l->v, l->cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		l->v = v;
	}
	memcpy(l->pool + l->used, name, len);
	l->v[l->n++] = (struct ent){ l->used, type };
	l->used += len;
	return 0;
}

static int
ent_cmp(const void *a, const void *b, void *pool)
{
	return strcmp((char *)pool + ((const struct ent *)a)->off,
	    (char *)pool + ((const struct ent *)b)->off);
}

/* Reads every name but "." and ".."; a read error ends the listing
 * early (what was read is kept, as the reference keeps it). */
static int
list(int fd, struct listing *l)
{
	char buf[32768];
	struct dirent64 *d;
	ssize_t n;
	int rc;

	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t at = 0; at < n; at += d->d_reclen) {
			d = (struct dirent64 *)(buf + at);
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			if ((rc = add(l, d->d_name, d->d_type)) < 0)
				return rc;
		}
	}
	if (l->n > 1)
		qsort_r(l->v, l->n, sizeof(*l->v), ent_cmp, l->pool);
	return 0;
}

static int
path_push(struct pathbuf *p, const char *name)
{
	size_t len = strlen(name);
	bool sep = p->n > 0 && p->s[p->n - 1] != '/';
	char *s;

	if (p->n + sep + len + 1 > p->cap) {
		p->cap = 2 * (p->n + sep + len + 1);
		if ((s = realloc(p->s, p->cap)) == NULL)
			return -ENOMEM;
		p->s = s;
	}
	if (sep)
		p->s[p->n++] = '/';
	memcpy(p->s + p->n, name, len + 1);
	p->n += len;
	return 0;
}

static unsigned char
type_of(int fd, const char *name, unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN)
		return type;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	return IFTODT(st.st_mode);
}

static int walk_dir(struct walker *w, int fd, unsigned depth);

/* Enters the directory name (an entry of fd) when it can be opened. */
static int
descend(struct walker *w, int fd, const char *name, unsigned depth)
{
	const struct ks_walk_ops *ops = w->ops;
	int cfd, rc = 0;

	cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	/* Out of descriptors is an error, not an empty directory: the
	 * results would be silently incomplete. */
	if (cfd < 0)
		return errno == EMFILE || errno == ENFILE ? -errno : 0;
	if (ops->enter == NULL || (rc = ops->enter(ops->ctx, cfd,
	    w->path.s)) == 0) {
		rc = walk_dir(w, cfd, depth + 1);
		if (ops->leave != NULL)
			ops->leave(ops->ctx);
	}
	close(cfd);
	return rc;
}

static int
visit(struct walker *w, int fd, const char *name, unsigned char type,
    unsigned depth)
{
	struct ks_walk_ent e;
	size_t mark = w->path.n;
	int rc;

	if ((type = type_of(fd, name, type)) == DT_UNKNOWN)
		return 0;		/* vanished, or not ours to see */
	if ((rc = path_push(&w->path, name)) < 0)
		return rc;
	e = (struct ks_walk_ent){ w->path.s, w->path.s + w->path.n -
	    strlen(name), fd, type, depth };
	rc = w->ops->entry(w->ops->ctx, &e);
	if (rc == KS_WALK_NEXT && type == DT_DIR)
		rc = descend(w, fd, name, depth);
	else if (rc == KS_WALK_SKIP)
		rc = 0;
	w->path.n = mark;
	w->path.s[mark] = '\0';
	return rc;
}

static int
walk_dir(struct walker *w, int fd, unsigned depth)
{
	struct listing l = { 0 };
	int rc;

	if ((rc = list(fd, &l)) == 0)
		for (size_t i = 0; i < l.n && rc == 0; i++)
			rc = visit(w, fd, l.pool + l.v[i].off, l.v[i].type,
			    depth);
	free(l.pool);
	free(l.v);
	return rc;
}

int
ks_walk_run(int fd, const char *root, const struct ks_walk_ops *ops)
{
	struct walker w = { ops, { NULL, 0, 0 } };
	int rc;

	if ((rc = path_push(&w.path, root)) < 0)
		return rc;
	if (ops->enter == NULL || (rc = ops->enter(ops->ctx, fd, root)) == 0) {
		rc = walk_dir(&w, fd, 1);
		if (ops->leave != NULL)
			ops->leave(ops->ctx);
	}
	free(w.path.s);
	return rc;
}
