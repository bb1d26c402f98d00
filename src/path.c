/*
 * path: path strings, Rust's component order, and resolution of a path
 * to where a write or read would land.
 */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

/* Symlinks followed while resolving one path, as the kernel's limit. */
#define MAX_LINKS 40

int
ks_strv_push(struct ks_strv *sv, const char *s, size_t len)
{
	char *p;

	if ((p = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(p, s, len);
	p[len] = '\0';
	return ks_strv_take(sv, p);
}

int
ks_strv_take(struct ks_strv *sv, char *s)
{
	char **v;
	size_t cap;

	if (sv->n == sv->cap) {
		cap = sv->cap ? sv->cap * 2 : 8;
		if ((v = realloc(sv->v, cap * sizeof(*v))) == NULL) {
			free(s);
			return -ENOMEM;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

bool
ks_strv_has(const struct ks_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void
ks_strv_free(struct ks_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool
ks_path_denied(const struct ks_path_filter *filter, const char *path)
{
	return filter != NULL && filter->denied != NULL &&
	    filter->denied(filter->ctx, path);
}

bool
ks_path_denied_at(const struct ks_path_filter *filter, const char *path,
    const char *landing)
{
	if (filter == NULL || filter->denied_at == NULL || landing == NULL)
		return ks_path_denied(filter, path);
	return filter->denied_at(filter->ctx, path, landing);
}

bool
ks_path_denied_file(const struct ks_path_filter *filter,
    const struct stat *st)
{
	return filter != NULL && filter->denied_file != NULL &&
	    filter->denied_file(filter->ctx, st);
}

const struct ks_lookup_base *
ks_path_base(const struct ks_path_filter *filter)
{
	return filter != NULL ? filter->base : NULL;
}

/*
 * Rust's path components, ranked as its Component enum orders them:
 * RootDir < CurDir < ParentDir < Normal. A "." counts only at the start
 * of a relative path; empty components (repeated slashes) never count.
 */
enum comp_kind { COMP_END, COMP_ROOT, COMP_CUR, COMP_PARENT, COMP_NORMAL };

struct comp_iter {
	const char *p;
	bool first;
};

static enum comp_kind
comp_next(struct comp_iter *it, const char **s, size_t *len)
{
	bool first = it->first;
	size_t n;

	it->first = false;
	if (first && *it->p == '/') {
		while (*it->p == '/')
			it->p++;
		return COMP_ROOT;
	}
	for (;;) {
		while (*it->p == '/')
			it->p++;
		if (*it->p == '\0')
			return COMP_END;
		n = strcspn(it->p, "/");
		*s = it->p;
		*len = n;
		it->p += n;
		if (n == 1 && (*s)[0] == '.') {
			if (first)
				return COMP_CUR;
			continue;
		}
		if (n == 2 && (*s)[0] == '.' && (*s)[1] == '.')
			return COMP_PARENT;
		return COMP_NORMAL;
	}
}

static int
comp_cmp(enum comp_kind ka, const char *a, size_t la, enum comp_kind kb,
    const char *b, size_t lb)
{
	int c;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (ka != COMP_NORMAL)
		return 0;
	if ((c = memcmp(a, b, la < lb ? la : lb)) != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

int
ks_path_cmp(const char *a, const char *b)
{
	struct comp_iter ia, ib;
	enum comp_kind ka, kb;
	const char *sa = NULL, *sb = NULL;
	size_t la = 0, lb = 0, i = 0, j = 0;
	int c;

	/* The components before the last '/' both share are the same:
	 * compare from there (a sort compares siblings over and over). */
	while (a[i] != '\0' && a[i] == b[i])
		if (a[i++] == '/')
			j = i;
	ia = (struct comp_iter){ a + j, j == 0 };
	ib = (struct comp_iter){ b + j, j == 0 };
	for (;;) {
		ka = comp_next(&ia, &sa, &la);
		kb = comp_next(&ib, &sb, &lb);
		if (ka == COMP_END || kb == COMP_END)
			return (ka != COMP_END) - (kb != COMP_END);
		if ((c = comp_cmp(ka, sa, la, kb, sb, lb)) != 0)
			return c;
	}
}

bool
ks_path_beneath(const char *path, const char *base)
{
	struct comp_iter ip = { path, true }, ib = { base, true };
	enum comp_kind kp, kb;
	const char *sp = NULL, *sb = NULL;
	size_t lp = 0, lb = 0;

	for (;;) {
		kb = comp_next(&ib, &sb, &lb);
		if (kb == COMP_END)
			return true;
		kp = comp_next(&ip, &sp, &lp);
		if (kp == COMP_END || comp_cmp(kp, sp, lp, kb, sb, lb) != 0)
			return false;
	}
}

bool
ks_path_beneath_any(const char *path, const struct ks_strv *bases)
{
	for (size_t i = 0; i < bases->n; i++)
		if (ks_path_beneath(path, bases->v[i]))
			return true;
	return false;
}

bool
ks_path_equal(const char *a, const char *b)
{
	return ks_path_beneath(a, b) && ks_path_beneath(b, a);
}

bool
ks_path_is_root_child(const char *path)
{
	struct comp_iter it = { path, true };
	const char *s = NULL;
	size_t len = 0;

	return comp_next(&it, &s, &len) == COMP_ROOT &&
	    comp_next(&it, &s, &len) != COMP_END &&
	    comp_next(&it, &s, &len) == COMP_END;
}

bool
ks_path_has_components(const char *path, const char *seq)
{
	struct comp_iter ip = { path, true };
	const char *s = NULL, *want, *q;
	size_t len = 0, wl;
	enum comp_kind k;

	/* Only normal components count, as in the reference's window. */
	for (;;) {
		while ((k = comp_next(&ip, &s, &len)) != COMP_NORMAL)
			if (k == COMP_END)
				return false;
		/* Try a match of seq starting at this component. */
		struct comp_iter try = ip;
		want = seq;
		q = s;
		wl = strcspn(want, "/");
		for (;;) {
			if (wl != len || memcmp(q, want, len) != 0)
				break;
			want += wl;
			while (*want == '/')
				want++;
			if (*want == '\0')
				return true;
			wl = strcspn(want, "/");
			while ((k = comp_next(&try, &q, &len)) != COMP_NORMAL)
				if (k == COMP_END)
					return false;
		}
	}
}

char *
ks_path_join(const char *dir, const char *name)
{
	/* NOLINTNEXTLINE(clang-analyzer-*): callers pass strings. */
	size_t dl = strlen(dir), nl = strlen(name);
	bool sep = dl > 0 && dir[dl - 1] != '/';
	char *p;

	if (name[0] == '/' || dl == 0)
		return strdup(name);
	if ((p = malloc(dl + sep + nl + 1)) == NULL)
		return NULL;
	memcpy(p, dir, dl);
	if (sep)
		p[dl] = '/';
	memcpy(p + dl + sep, name, nl + 1);
	return p;
}

int
ks_pathbuf_push(struct ks_pathbuf *b, const char *c, size_t n)
{
	char *s;
	size_t cap;

	if (b->len + n + 2 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (b->len + n + 2 > cap)
			cap *= 2;
		if ((s = realloc(b->s, cap)) == NULL)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	/* NOLINTNEXTLINE(clang-analyzer-*): b->s was just (re)allocated above when it had no room. */
	b->s[b->len++] = '/';
	memcpy(b->s + b->len, c, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

void
ks_pathbuf_pop(struct ks_pathbuf *b)
{
	while (b->len > 0 && b->s[b->len - 1] != '/')
		b->len--;
	if (b->len > 0)
		b->len--;
	if (b->s != NULL)
		b->s[b->len] = '\0';
}

char *
ks_pathbuf_finish(struct ks_pathbuf *b)
{
	char *s;

	if (b->len == 0) {
		free(b->s);
		b->s = NULL;
		return strdup("/");
	}
	s = b->s;
	b->s = NULL;
	return s;
}

char *
ks_path_normalize(const char *path)
{
	struct ks_pathbuf b = { 0 };
	struct comp_iter it = { path, true };
	const char *s = NULL;
	size_t len = 0;
	enum comp_kind k;

	while ((k = comp_next(&it, &s, &len)) != COMP_END) {
		if (k == COMP_PARENT)
			ks_pathbuf_pop(&b);
		else if (k == COMP_NORMAL && ks_pathbuf_push(&b, s, len) < 0) {
			free(b.s);
			return NULL;
		}
	}
	return ks_pathbuf_finish(&b);
}

int
ks_path_splice(char **rest, const char *target, const char *tail)
{
	size_t tl = strlen(target), rl = strlen(tail);
	char *p;

	if ((p = malloc(tl + rl + 2)) == NULL)
		return -ENOMEM;
	memcpy(p, target, tl);
	p[tl] = '/';
	memcpy(p + tl + 1, tail, rl + 1);
	free(*rest);
	*rest = p;
	return 0;
}

/* Reads the link at b->s into a new string. */
static int
read_link(const char *path, char **out)
{
	char buf[PATH_MAX];
	ssize_t n;

	if ((n = readlink(path, buf, sizeof(buf) - 1)) < 0)
		return -errno;
	buf[n] = '\0';
	return (*out = strdup(buf)) == NULL ? -ENOMEM : 0;
}

/*
 * One step of ks_path_resolve: component c of length n, followed by tail
 * in *rest. missing counts the trailing components of b that do not
 * exist: beneath them nothing is looked up, a ".." pops one.
 */
static int
resolve_step(struct ks_pathbuf *b, const char *c, size_t n, char **rest,
    const char **tail, size_t *missing, unsigned *links)
{
	struct stat st;
	char *target = NULL;
	int rc;

	if ((rc = ks_pathbuf_push(b, c, n)) < 0)
		return rc;
	if (*missing > 0 || lstat(b->s, &st) < 0) {
		/* Missing (or unreadable): the rest is taken lexically. */
		(*missing)++;
		return 0;
	}
	if (!S_ISLNK(st.st_mode))
		return 0;
	if (++*links > MAX_LINKS)
		return -ELOOP;
	/* Swapped for a real entry since lstat: take it as it is now. */
	if ((rc = read_link(b->s, &target)) == -EINVAL)
		return 0;
	if (rc < 0)
		return rc;
	ks_pathbuf_pop(b);
	/* NOLINTNEXTLINE(clang-analyzer-*): read_link returns 0 only with *out set. */
	if (target[0] == '/') {
		b->len = 0;
		b->s[0] = '\0';
	}
	rc = ks_path_splice(rest, target, *tail);
	free(target);
	*tail = *rest;
	return rc;
}

/* Copies path, made absolute against the working directory. */
static char *
absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	return ks_path_join(cwd, path);
}

int
ks_path_resolve(const char *path, char **out, struct ks_err *err)
{
	return ks_path_resolve_under(path, NULL, NULL, out, err);
}

/* Starts b at base's known resolution when path is base or below it;
 * returns where the rest of path starts. */
static const char *
skip_known(const char *path, const char *base, const char *resolved,
    struct ks_pathbuf *b)
{
	size_t n = base != NULL ? strlen(base) : 0;
	struct comp_iter it = { resolved, false };
	const char *c = NULL;
	size_t len = 0;

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (n == 0 || base[0] != '/' || strncmp(path, base, n) != 0 ||
	    (path[n] != '/' && path[n] != '\0'))
		return path;
	while (comp_next(&it, &c, &len) == COMP_NORMAL)
		if (ks_pathbuf_push(b, c, len) < 0)
			return NULL;
	return path + n;
}

int
ks_path_resolve_under(const char *path, const char *base,
    const char *base_resolved, char **out, struct ks_err *err)
{
	struct ks_pathbuf b = { 0 };
	struct comp_iter it;
	char *rest = NULL;
	const char *tail, *c = NULL;
	size_t n = 0, missing = 0;
	unsigned links = 0;
	enum comp_kind k;
	int rc = -ENOMEM;

	if ((tail = skip_known(path, base, base_resolved, &b)) == NULL ||
	    (rest = tail == path ? absolute(path) : strdup(tail)) == NULL)
		goto out;
	tail = rest;
	for (;;) {
		it = (struct comp_iter){ tail, false };
		if ((k = comp_next(&it, &c, &n)) == COMP_END)
			break;
		tail = it.p;
		if (k == COMP_PARENT) {
			ks_pathbuf_pop(&b);
			missing -= missing > 0;
		} else if (k == COMP_NORMAL && (rc = resolve_step(&b, c, n,
		    &rest, &tail, &missing, &links)) < 0)
			goto out;
	}
	rc = (*out = ks_pathbuf_finish(&b)) == NULL ? -ENOMEM : 0;
out:
	/* NOLINTNEXTLINE(clang-analyzer-*): c and tail point into rest, freed here. */
	free(rest);
	free(b.s);
	if (rc < 0)
		ks_err_os(err, -rc);
	return rc;
}

/* Rust's Path::parent as text: the path without its last component and
 * the separators (and interior "." components) before it. */
static size_t
parent_len(const char *p)
{
	size_t n = strlen(p);

	for (;;) {
		while (n > 1 && p[n - 1] == '/')
			n--;
		if (n == 1 && p[0] == '/')
			return (size_t)-1;		/* "/" has no parent */
		while (n > 0 && p[n - 1] != '/')
			n--;
		while (n > 1 && p[n - 1] == '/')
			n--;
		/* A trailing "." component is not one: drop it too. */
		if (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/')
			continue;
		return n;
	}
}

int
ks_path_chain(const char *path, unsigned depth, struct ks_strv *out)
{
	struct stat st;
	char *cur = NULL, *target = NULL, *dir = NULL, *next;
	size_t plen;
	int rc;

	if ((rc = ks_strv_push(out, path, strlen(path))) < 0)
		return rc;
	for (unsigned hop = 0; hop < depth; hop++) {
		cur = out->v[out->n - 1];
		if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		if (read_link(cur, &target) < 0 ||
		    (plen = parent_len(cur)) == (size_t)-1)
			break;
		if ((dir = strndup(cur, plen)) == NULL)
			goto nomem;
		next = ks_path_join(dir, target);
		free(dir);
		free(target);
		target = NULL;
		if (next == NULL)
			goto nomem;
		if (ks_strv_has(out, next)) {
			free(next);			/* a cycle */
			break;
		}
		if ((rc = ks_strv_take(out, next)) < 0)
			return rc;
	}
	free(target);
	return 0;
nomem:
	free(target);
	return -ENOMEM;
}
