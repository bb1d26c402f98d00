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
 * The directories it looks into, and their listings: globdir.c.
 */
#include "glob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "globdir.h"
#include "lookup.h"
#include "path.h"

/* Bytes of result paths collected before the walk stops. */
#define RESULT_MAX	((size_t)64 << 20)

static int fill(struct walk *, size_t, const struct entry *);

/* The crate's add(): a last component is done, else it goes on. */
static int
add(struct walk *w, size_t idx, struct entry *c)
{
	int rc;

	if (ks_path_denied(w->filter, c->path)) {
		ks_gd_entry_free(w, c);
		return 0;
	}
	if (idx + 1 == w->npat)
		return ks_gd_push(w, c);
	rc = fill(w, idx + 1, c);
	ks_gd_entry_free(w, c);
	return rc;
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
		if (ks_gd_on_chain(up, h))
			return 0;
		h->up = ks_gd_node_get(up);
	}
	if ((rc = ks_gd_read(w, idx, e, h)) <= 0)
		return rc;
	/* "." and ".." are never listed; a leading literal dot finds them. */
	if (!ks_glob_pat_leading_dot(p))
		return 0;
	for (size_t i = 0; i < 2; i++) {
		if (!ks_glob_match(p, special[i]))
			continue;
		/* NOLINTNEXTLINE(clang-analyzer-*): nodes are counted references. */
		if ((rc = ks_gd_child(e, h, special[i], i + 1, false, &c)) < 0 ||
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
		return ks_path_denied(w->filter, c->path) ? 0 : ks_gd_push(w, c);
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
	return denied ? 0 : ks_gd_push(w, c);
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
	cur.dir = ks_gd_node_get(cur.dir);
	for (;;) {
		if ((rc = ks_gd_node_open(w, &cur, &h)) < 0 || h == NULL)
			break;
		if ((s = ks_glob_pat_literal(w->pat[idx])) == NULL) {
			rc = list(w, idx, &cur, h, NULL);
			break;
		}
		if ((rc = ks_gd_child(&cur, h, s, strlen(s),
		    ks_gd_is_curdir(cur.path), &c)) < 0)
			break;
		if (idx + 1 == w->npat) {
			rc = last_literal(w, &c, s);
			break;
		}
		if (strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
		    !ks_gd_stat(&c, &(struct stat){ 0 }))
			break;
		ks_gd_entry_free(w, &cur);
		cur = c;
		c = (struct entry){ 0 };
		ks_gd_node_put(w, h);
		h = NULL;
		idx++;
	}
	ks_gd_entry_free(w, &c);
	ks_gd_entry_free(w, &cur);
	ks_gd_node_put(w, h);
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
		if (!w->require_dir || ks_gd_is_dir(e))
			rc = emit(w, e);
		return rc;
	}
	if (ks_glob_pat_recursive(w->pat[idx])) {
		for (nx = idx; nx < last &&
		    ks_glob_pat_recursive(w->pat[nx + 1]); nx++)
			;
		if ((rc = ks_gd_node_open(w, e, &h)) < 0)
			return rc;
		if (h != NULL && (rc = list(w, nx, e, h, e->dir)) == 0 &&
		    nx == last)
			rc = emit(w, e);
		ks_gd_node_put(w, h);
		if (rc < 0 || nx == last)
			return rc;
		idx = nx + 1;
	}
	if (!ks_glob_match(w->pat[idx], e->path + e->name))
		return 0;
	if (idx < last)
		return fill(w, idx + 1, e);
	if (!w->require_dir || ks_gd_is_dir(e))
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
		ks_gd_entry_free(w, &w->todo[--w->ntodo]);
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
		ks_gd_entry_free(&w, &e);
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
