/*
 * globdir: the directories a glob walks (globdir.h). Directories are
 * looked into through descriptors, so that a path is not walked again
 * from the start at every step; the crate's limits stay: ENAMETOOLONG
 * at PATH_MAX by checking lengths, and ELOOP by naming whole paths past
 * a symlink. A directory a listing names as one is opened ready to be
 * listed and knows where it lies (node_open_known); listings are read
 * with getdents64 into one buffer of the walk.
 */
#include "globdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "lookup.h"

/* A type the listing told for sure: no link to follow, no stat needed. */
static bool
known_type(const struct entry *e)
{
	return e->type != DT_UNKNOWN && e->type != DT_LNK;
}

struct node *
ks_gd_node_get(struct node *n)
{
	if (n != NULL)
		n->refs++;
	return n;
}

/* Iterative: a `**` chain can be thousands of directories long. */
void
ks_gd_node_put(struct walk *w, struct node *n)
{
	struct node *up;

	while (n != NULL && --n->refs == 0) {
		up = n->up;
		if (n->fd >= 0) {
			close(n->fd);
			w->nfd--;
		}
		free(n->landing);
		free(n);
		n = up;
	}
}

void
ks_gd_entry_free(struct walk *w, struct entry *e)
{
	free(e->path);
	ks_gd_node_put(w, e->dir);
	*e = (struct entry){ 0 };
}

/* Where the kernel looks e up: the crate's string, or its last step. */
static int
lookup(const struct entry *e, int *at, const char **rel)
{
	if (e->len >= PATH_MAX)
		return -ENAMETOOLONG;	/* as the crate's syscalls would */
	if (e->len == 0)
		return -ENOENT;
	/* "d/" needs no search right on d, "." in d would: go by path. */
	if (e->dir == NULL || e->dir->fd < 0 || e->path[e->name] == '\0') {
		*at = AT_FDCWD;
		*rel = e->path;
	} else {
		*at = e->dir->fd;
		*rel = e->path + e->name;
	}
	return 0;
}

/* fs::metadata(path): symlinks followed. */
bool
ks_gd_stat(const struct entry *e, struct stat *st)
{
	const char *rel;
	int at;

	return lookup(e, &at, &rel) == 0 && fstatat(at, rel, st, 0) == 0;
}

bool
ks_gd_is_dir(const struct entry *e)
{
	struct stat st;

	if (known_type(e))
		return e->type == DT_DIR;
	return ks_gd_stat(e, &st) && S_ISDIR(st.st_mode);
}

/*
 * A directory the listing of a known directory (landing set) names as
 * one is opened from its descriptor without following a link, ready to
 * be listed: it lies at that landing joined with its name, and a swap
 * for a link in between makes the open fail. Such descriptors chain
 * down from the first directory listed, which a descriptor lookup
 * judged (read_kids), so their listings need no lookup of their own.
 * The case against: a directory renamed into a denied place after it
 * was opened is still listed, as it is when the rename falls between
 * any lookup and its getdents64; the listing is of names, and every
 * read of what it names is judged on its own.
 */
static int
node_open_known(struct node *n, const struct entry *e, int at,
    const char *rel)
{
	const struct node *dir = e->dir;

	if (dir == NULL || dir->landing == NULL || dir->fd < 0 ||
	    e->type != DT_DIR || at != dir->fd ||
	    (n->fd = openat(at, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return 0;
	if ((n->landing = ks_path_join(dir->landing, rel)) == NULL) {
		close(n->fd);
		n->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

/*
 * Opens e when it is a directory: *out, or NULL when it is not one. Past
 * a symlink the walk names whole paths, as the crate does, so that the
 * kernel counts the links on each (ELOOP after 40) as it does there.
 */
int
ks_gd_node_open(struct walk *w, const struct entry *e, struct node **out)
{
	struct stat st, lst;
	struct node *n;
	const char *rel;
	bool link;
	int at;

	*out = NULL;
	/* d_type spares a stat of every file a `**` lists. */
	if (known_type(e) && e->type != DT_DIR)
		return 0;
	if (lookup(e, &at, &rel) < 0 || fstatat(at, rel, &st,
	    known_type(e) ? AT_SYMLINK_NOFOLLOW : 0) != 0 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	if (++w->visits > VISIT_MAX)
		return -E2BIG;
	link = (e->dir != NULL && e->dir->link) || e->path[e->name] == '\0' ||
	    (!known_type(e) && (fstatat(at, rel, &lst, AT_SYMLINK_NOFOLLOW) !=
	    0 || S_ISLNK(lst.st_mode)));
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -ENOMEM;
	*n = (struct node){ -1, 1, st.st_dev, st.st_ino, NULL, link, false,
	    NULL };
	if (!link && w->nfd < FD_MAX) {
		if (node_open_known(n, e, at, rel) < 0) {
			free(n);
			return -ENOMEM;
		}
		if (n->fd < 0)
			n->fd = openat(at, rel, O_PATH | O_DIRECTORY |
			    O_CLOEXEC);
		if (n->fd >= 0)
			w->nfd++;
	}
	*out = n;
	return 0;
}

/* True when a `**` has entered n already on the way down (a loop). */
bool
ks_gd_on_chain(const struct node *up, const struct node *n)
{
	for (; up != NULL; up = up->up)
		if (up->dev == n->dev && up->ino == n->ino)
			return true;
	return false;
}

/* Rust's path == Path::new("."): "." then only "." or empty steps. */
bool
ks_gd_is_curdir(const char *p)
{
	if (p[0] != '.' || (p[1] != '/' && p[1] != '\0'))
		return false;
	for (p++; *p != '\0'; p++)
		if (*p != '/' && (*p != '.' || (p[1] != '/' && p[1] != '\0') ||
		    p[-1] != '/'))
			return false;
	return true;
}

/*
 * The crate's next_path: e's path joined to s (Path::join: one '/' unless
 * there is one), or s alone where e is the current directory (curdir).
 */
int
ks_gd_child(const struct entry *e, struct node *dir, const char *s, size_t sl,
    bool curdir, struct entry *c)
{
	size_t sep = !curdir && e->len > 0 && e->path[e->len - 1] != '/';
	size_t base = curdir ? 0 : e->len;

	if ((c->path = malloc(base + sep + sl + 1)) == NULL)
		return -ENOMEM;
	memcpy(c->path, e->path, base);
	if (sep)
		c->path[base] = '/';
	memcpy(c->path + base + sep, s, sl);
	c->path[base + sep + sl] = '\0';
	c->len = base + sep + sl;
	c->name = base + sep;
	c->idx = DONE;
	c->dir = ks_gd_node_get(dir);
	c->type = DT_UNKNOWN;
	return 0;
}

/* Pushes *e, taking it over (it is freed when that fails). */
int
ks_gd_push(struct walk *w, struct entry *e)
{
	struct entry *t;
	size_t cap;

	if (w->ntodo == w->captodo) {
		cap = w->captodo ? 2 * w->captodo : 64;
		if ((t = realloc(w->todo, cap * sizeof(*t))) == NULL) {
			ks_gd_entry_free(w, e);
			return -ENOMEM;
		}
		w->todo = t;
		w->captodo = cap;
	}
	w->todo[w->ntodo++] = *e;
	*e = (struct entry){ 0 };
	return 0;
}

static int
by_name_desc(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return strcmp(y->path + y->name, x->path + x->name);
}

/*
 * Reads e (h) onto the todo stack. Returns 1, or 0 when it cannot be read
 * (the crate then drops it whole). Opened as e, not as "." in h: listing
 * needs no search right on h.
 */
/*
 * Whether the child c of a listing whose directory lies at landing is
 * denied: a link is judged where it leads (resolved by the filter),
 * anything else where it is, the listing's landing joined with its name.
 */
static int
kid_denied(struct walk *w, const struct entry *c, const char *landing,
    unsigned char type)
{
	char *at;
	bool denied;

	if (type == DT_LNK || type == DT_UNKNOWN)
		return ks_path_denied(w->filter, c->path);
	if ((at = ks_path_join(landing, c->path + c->name)) == NULL)
		return -ENOMEM;
	denied = ks_path_denied_at(w->filter, c->path, at);
	free(at);
	return denied;
}

/*
 * Opens e for listing through a descriptor lookup and judges the
 * directory it reached: a listing is never read from a denied directory
 * that a component swapped for a link led to. The descriptor, or
 * a negative errno; *landing is the directory's path (caller frees).
 */
static int
open_listing(struct walk *w, const struct entry *e, char **landing)
{
	int fd;

	*landing = NULL;
	if (e->len >= PATH_MAX)
		return -ENAMETOOLONG;	/* as the crate's syscalls would */
	fd = ks_lookup_open(e->path, ks_path_base(w->filter), O_RDONLY |
	    O_DIRECTORY, KS_LOOKUP_FOLLOW, landing);
	if (fd >= 0 && ks_path_denied_at(w->filter, e->path, *landing)) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

/*
 * The descriptor to list h (e) from: h's own when it is open for that
 * (rewound when listed before), else a descriptor lookup's, which h
 * then keeps, with its landing, for its children (node_open_known).
 * *landing is where the directory lies; *own says the caller closes
 * the descriptor and frees *landing. A negative errno when it cannot
 * be opened.
 */
static int
listing_fd(struct walk *w, const struct entry *e, struct node *h,
    char **landing, bool *own)
{
	int fd;

	*own = false;
	if (h->landing != NULL) {
		if (h->listed && lseek(h->fd, 0, SEEK_SET) < 0)
			return -errno;
		h->listed = true;
		*landing = h->landing;
		return h->fd;
	}
	if ((fd = open_listing(w, e, landing)) < 0)
		return fd;
	if (h->link || (h->fd < 0 && w->nfd >= FD_MAX)) {
		*own = true;
		return fd;
	}
	if (h->fd >= 0)
		close(h->fd);
	else
		w->nfd++;
	h->fd = fd;
	h->listed = true;
	h->landing = *landing;
	return fd;
}

/* One child named de of the listing of e (h) onto the todo stack. */
static int
read_kid(struct walk *w, size_t idx, const struct entry *e, struct node *h,
    const struct dirent64 *de, const char *landing, bool curdir)
{
	size_t len;
	struct entry c;
	int rc, denied;

	if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
	    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
		return 0;
	len = strlen(de->d_name);
	if (!ks_utf8_valid(de->d_name, len)) {
		if (w->filter != NULL && w->filter->skipped != NULL)
			(*w->filter->skipped)++;
		return 0;
	}
	if ((rc = ks_gd_child(e, h, de->d_name, len, curdir, &c)) < 0)
		return rc;
	c.idx = idx;
	c.type = de->d_type;
	if ((denied = kid_denied(w, &c, landing, de->d_type)) != 0)
		ks_gd_entry_free(w, &c);
	if (denied < 0)
		return denied;
	return denied ? 0 : ks_gd_push(w, &c);
}

int
ks_gd_read(struct walk *w, size_t idx, const struct entry *e, struct node *h)
{
	size_t base = w->ntodo;
	bool curdir = ks_gd_is_curdir(e->path);
	char *landing = NULL;
	ssize_t got = 0;
	bool own = false;
	int fd, rc = 0;

	if (w->dents == NULL && (w->dents = malloc(DENTS_SIZE)) == NULL)
		return -ENOMEM;
	if ((fd = listing_fd(w, e, h, &landing, &own)) < 0) {
		/* Out of descriptors: an error, not an empty listing. */
		if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM)
			rc = fd;
		goto out;
	}
	while (rc == 0 && (got = getdents64(fd, w->dents, DENTS_SIZE)) > 0)
		for (ssize_t off = 0; rc == 0 && off < got;) {
			const struct dirent64 *de = (const void *)(w->dents +
			    off);

			rc = read_kid(w, idx, e, h, de, landing, curdir);
			off += de->d_reclen;
		}
	if (rc == 0 && got < 0)
		rc = -errno;	/* the crate drops the whole directory */
	if (w->ntodo > base)
		qsort(w->todo + base, w->ntodo - base, sizeof(*w->todo),
		    by_name_desc);
out:
	if (own) {
		free(landing);
		close(fd);
	}
	while (rc < 0 && w->ntodo > base)
		ks_gd_entry_free(w, &w->todo[--w->ntodo]);
	if (rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE)
		return rc;
	return fd >= 0 && rc == 0;
}
