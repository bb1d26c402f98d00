/*
 * glob: the Rust glob crate's (0.3.0) glob(), ported step by step, so
 * that the worker answers as the reference does, quirks included:
 * `**` matched through a todo stack that can yield a path twice, "./" and
 * ".." kept in the paths it builds, "." and ".." matched by a pattern that
 * starts with a dot, and a literal component joined without listing.
 *
 * What differs, on purpose: a `**` does not enter a directory it has
 * already entered on the way down (the crate loops on `a -> .`), names
 * that are not UTF-8 are left out, the caller's read filter hides entries,
 * collecting stops after RESULT_MAX bytes of paths (the reply is cut to
 * one frame long before), and a walk that enters more than VISIT_MAX
 * directories is an error (each `.*` component doubles the paths, as do
 * symlinks in some trees, and the crate would go on for ever).
 *
 * Directories are looked into through O_PATH descriptors, so that a path
 * is not walked again from the start at every step; the crate's limits
 * stay: ENAMETOOLONG at PATH_MAX by checking lengths, and ELOOP by naming
 * whole paths past a symlink.
 */
#include "glob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "lookup.h"
#include "path.h"

/* Pattern index of an entry the crate has already matched (its !0). */
#define DONE		SIZE_MAX
/* Bytes of result paths collected before the walk stops. */
#define RESULT_MAX	((size_t)64 << 20)
/* Directories looked into before the walk gives up: seconds of work. */
#define VISIT_MAX	((size_t)1 << 20)
/* O_PATH descriptors held at once; deeper directories go by path. */
#define FD_MAX		64
/* Bytes of directory entries read at once. */
#define DENTS_SIZE	32768

/*
 * Expansion. An entry is the crate's (PathBuf, index) todo item, plus
 * where to look its last step up: dir, a directory the walk holds, and
 * the name within path, so that the kernel walks only that step.
 */
struct node {
	int fd;			/* O_PATH, or -1: look up by the whole path */
	unsigned refs;
	dev_t dev;
	ino_t ino;
	struct node *up;	/* the directory a `**` listed this one from */
	bool link;		/* a symlink on its path: no fd below it */
	bool readable;		/* fd is open for listing (not O_PATH) */
	bool listed;		/* listed through fd before: seek back */
	char *landing;		/* where fd is, when known (see node_open) */
};

struct entry {
	char *path;
	size_t len, name, idx;
	struct node *dir;	/* NULL: path from the working directory */
	unsigned char type;	/* the listing's d_type; DT_UNKNOWN: ask */
};

/* A type the listing told for sure: no link to follow, no stat needed. */
static bool
known_type(const struct entry *e)
{
	return e->type != DT_UNKNOWN && e->type != DT_LNK;
}

struct walk {
	char *dents;			/* getdents64's buffer, DENTS_SIZE */
	struct ks_glob_pat **pat;	/* one per component */
	size_t npat;
	bool require_dir;		/* the pattern ends in '/' */
	const struct ks_path_filter *filter;
	struct entry *todo;
	size_t ntodo, captodo;
	struct ks_strv res;
	size_t bytes, visits;
	unsigned nfd;
};

static struct node *
node_get(struct node *n)
{
	if (n != NULL)
		n->refs++;
	return n;
}

/* Iterative: a `**` chain can be thousands of directories long. */
static void
node_put(struct walk *w, struct node *n)
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

static void
entry_free(struct walk *w, struct entry *e)
{
	free(e->path);
	node_put(w, e->dir);
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
static bool
stat_entry(const struct entry *e, struct stat *st)
{
	const char *rel;
	int at;

	return lookup(e, &at, &rel) == 0 && fstatat(at, rel, st, 0) == 0;
}

static bool
is_dir(const struct entry *e)
{
	struct stat st;

	if (known_type(e))
		return e->type == DT_DIR;
	return stat_entry(e, &st) && S_ISDIR(st.st_mode);
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
	n->readable = true;
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
static int
node_open(struct walk *w, const struct entry *e, struct node **out)
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
	    false, NULL };
	if (!link && w->nfd < FD_MAX && known_type(e) &&
	    node_open_known(n, e, at, rel) < 0) {
		free(n);
		return -ENOMEM;
	}
	if (!link && w->nfd < FD_MAX && n->fd < 0)
		n->fd = openat(at, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (n->fd >= 0)
		w->nfd++;
	*out = n;
	return 0;
}

/* True when a `**` has entered n already on the way down (a loop). */
static bool
on_chain(const struct node *up, const struct node *n)
{
	for (; up != NULL; up = up->up)
		if (up->dev == n->dev && up->ino == n->ino)
			return true;
	return false;
}

/* Rust's path == Path::new("."): "." then only "." or empty steps. */
static bool
is_curdir(const char *p)
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
static int
make_child(const struct entry *e, struct node *dir, const char *s, size_t sl,
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
	c->dir = node_get(dir);
	c->type = DT_UNKNOWN;
	return 0;
}

/* Pushes *e, taking it over (it is freed when that fails). */
static int
push(struct walk *w, struct entry *e)
{
	struct entry *t;
	size_t cap;

	if (w->ntodo == w->captodo) {
		cap = w->captodo ? 2 * w->captodo : 64;
		if ((t = realloc(w->todo, cap * sizeof(*t))) == NULL) {
			entry_free(w, e);
			return -ENOMEM;
		}
		w->todo = t;
		w->captodo = cap;
	}
	w->todo[w->ntodo++] = *e;
	*e = (struct entry){ 0 };
	return 0;
}

static int fill(struct walk *, size_t, const struct entry *);

/* The crate's add(): a last component is done, else it goes on. */
static int
add(struct walk *w, size_t idx, struct entry *c)
{
	int rc;

	if (ks_path_denied(w->filter, c->path)) {
		entry_free(w, c);
		return 0;
	}
	if (idx + 1 == w->npat)
		return push(w, c);
	rc = fill(w, idx + 1, c);
	entry_free(w, c);
	return rc;
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
	if (h->readable) {
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
	h->readable = h->listed = true;
	h->landing = *landing;
	return fd;
}

/* One child named de of the listing of e (h) onto the todo stack. */
static int
read_kid(struct walk *w, size_t idx, const struct entry *e, struct node *h,
    const struct dirent64 *de, const char *landing)
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
	if ((rc = make_child(e, h, de->d_name, len, is_curdir(e->path),
	    &c)) < 0)
		return rc;
	c.idx = idx;
	c.type = de->d_type;
	if ((denied = kid_denied(w, &c, landing, de->d_type)) != 0)
		entry_free(w, &c);
	if (denied < 0)
		return denied;
	return denied ? 0 : push(w, &c);
}

static int
read_kids(struct walk *w, size_t idx, const struct entry *e, struct node *h)
{
	size_t base = w->ntodo;
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

			rc = read_kid(w, idx, e, h, de, landing);
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
		entry_free(w, &w->todo[--w->ntodo]);
	if (rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE)
		return rc;
	return fd >= 0 && rc == 0;
}

/*
 * The crate's read_dir branch of fill_todo. up: the directory that a `**`
 * listed h from, when this lists h for that `**` again.
 */
static int
list(struct walk *w, size_t idx, const struct entry *e, struct node *h,
    struct node *up)
{
	static const char *const special[] = { ".", ".." };
	const struct ks_glob_pat *p = w->pat[idx];
	struct entry c;
	int rc;

	if (ks_glob_pat_recursive(p)) {
		if (on_chain(up, h))
			return 0;
		h->up = node_get(up);
	}
	if ((rc = read_kids(w, idx, e, h)) <= 0)
		return rc;
	/* "." and ".." are never listed; a leading literal dot finds them. */
	if (!ks_glob_pat_leading_dot(p))
		return 0;
	for (size_t i = 0; i < 2; i++) {
		if (!ks_glob_match(p, special[i]))
			continue;
		/* NOLINTNEXTLINE(clang-analyzer-*): nodes are counted references. */
		if ((rc = make_child(e, h, special[i], i + 1, false, &c)) < 0 ||
		    (rc = add(w, idx, &c)) < 0)
			return rc;
	}
	return 0;
}

/*
 * A literal last component: c is a result when it exists and may be
 * read, both decided on the one object a lookup reached ("." and ".."
 * are not looked up, as the crate does not).
 */
static int
last_literal(struct walk *w, struct entry *c, const char *s)
{
	char *landing = NULL;
	bool denied;
	int fd;

	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return ks_path_denied(w->filter, c->path) ? 0 : push(w, c);
	if (c->len >= PATH_MAX)
		return 0;
	fd = ks_lookup_open(c->path, ks_path_base(w->filter), O_PATH,
	    KS_LOOKUP_FOLLOW, &landing);
	denied = fd < 0 || ks_path_denied_at(w->filter, c->path, landing);
	free(landing);
	if (fd >= 0)
		close(fd);
	if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM)
		return fd;
	return denied ? 0 : push(w, c);
}

/*
 * The crate's fill_todo: what pattern idx finds at e. Literal components
 * follow each other in this loop (the crate recurses); only a leading-dot
 * pattern recurses, through add(), and each level lengthens the path, so
 * PATH_MAX bounds the depth.
 */
static int
fill(struct walk *w, size_t idx, const struct entry *e)
{
	struct entry cur = *e, c = { 0 };
	struct node *h = NULL;
	const char *s;
	int rc;

	if ((cur.path = strdup(e->path)) == NULL)
		return -ENOMEM;
	cur.dir = node_get(cur.dir);
	for (;;) {
		if ((rc = node_open(w, &cur, &h)) < 0 || h == NULL)
			break;
		if ((s = ks_glob_pat_literal(w->pat[idx])) == NULL) {
			rc = list(w, idx, &cur, h, NULL);
			break;
		}
		if ((rc = make_child(&cur, h, s, strlen(s),
		    is_curdir(cur.path), &c)) < 0)
			break;
		if (idx + 1 == w->npat) {
			rc = last_literal(w, &c, s);
			break;
		}
		if (strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
		    !stat_entry(&c, &(struct stat){ 0 }))
			break;
		entry_free(w, &cur);
		cur = c;
		c = (struct entry){ 0 };
		node_put(w, h);
		h = NULL;
		idx++;
	}
	entry_free(w, &c);
	entry_free(w, &cur);
	node_put(w, h);
	return rc;
}

static int
emit(struct walk *w, struct entry *e)
{
	int rc;

	w->bytes += e->len + 1;
	rc = ks_strv_take(&w->res, e->path);
	e->path = NULL;
	return rc;
}

/* One turn of the crate's Paths::next for the entry popped. */
static int
step(struct walk *w, struct entry *e)
{
	size_t idx = e->idx, last = w->npat - 1, nx;
	struct node *h = NULL;
	int rc = 0;

	if (idx == DONE) {
		if (!w->require_dir || is_dir(e))
			rc = emit(w, e);
		return rc;
	}
	if (ks_glob_pat_recursive(w->pat[idx])) {
		for (nx = idx; nx < last &&
		    ks_glob_pat_recursive(w->pat[nx + 1]); nx++)
			;
		if ((rc = node_open(w, e, &h)) < 0)
			return rc;
		if (h != NULL && (rc = list(w, nx, e, h, e->dir)) == 0 &&
		    nx == last)
			rc = emit(w, e);
		node_put(w, h);
		if (rc < 0 || nx == last)
			return rc;
		idx = nx + 1;
	}
	if (!ks_glob_match(w->pat[idx], e->path + e->name))
		return 0;
	if (idx < last)
		return fill(w, idx + 1, e);
	if (!w->require_dir || is_dir(e))
		rc = emit(w, e);
	return rc;
}

/* glob_with's set-up: the whole text must compile, then each component
 * after the root, split as split_terminator('/') splits. */
static int
prepare(struct walk *w, const char *full, struct ks_err *err)
{
	struct ks_glob_pat *p = NULL;
	const char *rest = full + (full[0] == '/'), *s, *slash;
	size_t n = 2;
	char *part;
	int rc;

	if ((rc = ks_glob_compile(full, &p, err)) < 0)
		return rc;
	ks_glob_free(p);
	for (s = rest; *s != '\0'; s++)
		n += *s == '/';
	if ((w->pat = calloc(n, sizeof(struct ks_glob_pat *))) == NULL)
		return ks_err_os(err, ENOMEM);
	for (s = rest; *s != '\0'; s = slash + (*slash == '/')) {
		slash = s + strcspn(s, "/");
		if ((part = strndup(s, (size_t)(slash - s))) == NULL)
			return ks_err_os(err, ENOMEM);
		rc = ks_glob_compile(part, &w->pat[w->npat], err);
		free(part);
		if (rc < 0)
			return rc;
		w->npat++;
	}
	/* "" and "/" get one empty component, which matches nothing. */
	if (*rest == '\0' &&
	    (rc = ks_glob_compile("", &w->pat[w->npat++], err)) < 0)
		return rc;
	w->require_dir = *full != '\0' && full[strlen(full) - 1] == '/';
	return 0;
}

/* Rust's sort() is stable: paths equal as components keep their order. */
static void
merge_sort(char **v, char **tmp, size_t n)
{
	size_t lo, mid, hi, i, j, k;

	for (size_t run = 1; run < n; run *= 2) {
		for (lo = 0; lo < n; lo += 2 * run) {
			mid = lo + run < n ? lo + run : n;
			hi = lo + 2 * run < n ? lo + 2 * run : n;
			for (i = lo, j = mid, k = lo; k < hi; k++)
				tmp[k] = j < hi && (i == mid ||
				    ks_path_cmp(v[j], v[i]) < 0) ? v[j++] :
				    v[i++];
		}
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* Sorts the results and hands them over to out. */
static int
finish(struct walk *w, struct ks_strv *out)
{
	char **tmp;
	size_t i;
	int rc = 0;

	if ((tmp = malloc((w->res.n + 1) * sizeof(*tmp))) == NULL)
		return -ENOMEM;
	merge_sort(w->res.v, tmp, w->res.n);
	free(tmp);
	for (i = 0; i < w->res.n && rc == 0; i++)
		rc = ks_strv_take(out, w->res.v[i]);
	for (; i < w->res.n; i++)
		free(w->res.v[i]);
	w->res.n = 0;
	return rc;
}

static void
walk_free(struct walk *w)
{
	free(w->dents);
	while (w->ntodo > 0)
		entry_free(w, &w->todo[--w->ntodo]);
	free(w->todo);
	ks_strv_free(&w->res);
	for (size_t i = 0; w->pat != NULL && i < w->npat; i++)
		ks_glob_free(w->pat[i]);
	free(w->pat);
}

int
ks_glob_expand(const char *pattern, const char *root,
    const struct ks_path_filter *filter, struct ks_strv *out,
    struct ks_err *err)
{
	struct walk w = { .filter = filter };
	struct entry e = { 0 };
	char *full, scope[2];
	int rc;

	if ((full = ks_path_join(root, pattern)) == NULL)
		return ks_err_os(err, ENOMEM);
	if ((rc = prepare(&w, full, err)) < 0)
		goto out;
	scope[0] = full[0] == '/' ? '/' : '.';
	scope[1] = '\0';
	rc = fill(&w, 0, &(struct entry){ .path = scope, .len = 1 });
	/* Past RESULT_MAX the reply is long cut; stop, keep what we have. */
	while (rc == 0 && w.ntodo > 0 && w.bytes <= RESULT_MAX) {
		e = w.todo[--w.ntodo];
		rc = step(&w, &e);
		entry_free(&w, &e);
	}
	if (rc == 0)
		rc = finish(&w, out);
	if (rc == -E2BIG)
		rc = ks_err_set(err, E2BIG, KS_CODE_PROTOCOL,
		    "matching gave up after %zu directories", (size_t)VISIT_MAX);
	else if (rc < 0)
		rc = ks_err_os(err, -rc);
out:
	walk_free(&w);
	free(full);
	return rc;
}
