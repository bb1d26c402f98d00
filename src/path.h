/*
 * path: path strings and their resolution, with no policy in them.
 *
 * Lexical work (normalising, "beneath", Rust's component order) and the
 * file-system walks that the write and read rules need: resolving a path
 * the way the kernel would (symlinks followed, `..` after them) while the
 * part that does not exist yet is normalised lexically, and listing the
 * hops of a symlink chain.
 */
#ifndef KS_PATH_H
#define KS_PATH_H

#include <stdbool.h>
#include <stddef.h>

struct ks_err;

/* A growable list of owned strings. Zero-initialise; ks_strv_free frees
 * the strings and the array. */
struct ks_strv {
	char **v;
	size_t n, cap;
};

/* Appends a copy of s[0..len); returns 0 or -ENOMEM. */
int ks_strv_push(struct ks_strv *sv, const char *s, size_t len);
/* Appends s itself, taking ownership (freed now on failure). */
int ks_strv_take(struct ks_strv *sv, char *s);
/* True when sv holds a string equal to s. */
bool ks_strv_has(const struct ks_strv *sv, const char *s);
void ks_strv_free(struct ks_strv *sv);

struct ks_lookup_base;
struct stat;

/*
 * Asks "may this path be read?" during a walk (glob, grep). A NULL
 * filter, or a NULL fn, allows everything. Paths are NUL-terminated.
 */
struct ks_path_filter {
	/* path as walked, resolved by the callee (links judged where they
	 * lead) */
	bool (*denied)(void *ctx, const char *path);
	void *ctx;
	/* path as walked, known to lie at landing (an entry of a directory
	 * held by descriptor, or what a lookup opened): nothing resolved;
	 * NULL: denied() is asked about path instead */
	bool (*denied_at)(void *ctx, const char *path, const char *landing);
	/* a regular file just opened (fstat): a second name of a denied
	 * file? NULL: never */
	bool (*denied_file)(void *ctx, const struct stat *st);
	/* where the walk's lookups may start (ks_lookup_open); NULL: none */
	const struct ks_lookup_base *base;
	/* names left out because they are not UTF-8 are counted here (a
	 * directory listed twice counts twice); NULL: not counted */
	size_t *skipped;
};

/* True when filter denies path. */
bool ks_path_denied(const struct ks_path_filter *filter, const char *path);
/* True when filter denies path, which lies at landing. */
bool ks_path_denied_at(const struct ks_path_filter *filter, const char *path,
    const char *landing);
/* True when filter denies the regular file st. */
bool ks_path_denied_file(const struct ks_path_filter *filter,
    const struct stat *st);
/* filter's lookup base, or NULL. */
const struct ks_lookup_base *ks_path_base(const struct ks_path_filter *filter);

/*
 * Compares two paths as Rust's Path::cmp does: component by component,
 * each compared bytewise ("a/b" < "a-c"); repeated and trailing slashes
 * and interior "." components are not components. Returns <0, 0, >0.
 */
int ks_path_cmp(const char *a, const char *b);

/*
 * True when path equals base or lies inside it, compared component by
 * component ("/a/bc" is not beneath "/a/b"), as Rust's Path::starts_with.
 */
bool ks_path_beneath(const char *path, const char *base);

/* True when path is beneath one of bases. */
bool ks_path_beneath_any(const char *path, const struct ks_strv *bases);

/* True when a and b have the same components (Rust's Path ==). */
bool ks_path_equal(const char *a, const char *b);

/* True when path is a direct child of "/" (Rust: parent() == "/"). */
bool ks_path_is_root_child(const char *path);

/*
 * True when the components of path contain the consecutive sequence
 * given as a '/'-separated relative path (".config/koda/db").
 */
bool ks_path_has_components(const char *path, const char *seq);

/*
 * Normalises an absolute path lexically: repeated slashes and "." go,
 * ".." removes the previous component (never above "/"). Returns a new
 * string (caller frees) or NULL on ENOMEM.
 */
char *ks_path_normalize(const char *path);

/* Joins dir and name with one '/' (name absolute: a copy of name), the
 * way Rust's Path::join does. Caller frees; NULL on ENOMEM. */
char *ks_path_join(const char *dir, const char *name);

/* An absolute path being built component by component: no trailing
 * slash, "" standing for "/". Zero-initialise; s is the caller's to free
 * unless handed over by ks_pathbuf_finish. */
struct ks_pathbuf {
	char *s;
	size_t len, cap;
};

/* Appends "/" and c[0..n); returns 0 or -ENOMEM. */
int ks_pathbuf_push(struct ks_pathbuf *b, const char *c, size_t n);
/* Removes the last component (never above "/"). */
void ks_pathbuf_pop(struct ks_pathbuf *b);
/* The path built ("/" when empty) as a string the caller frees, b's
 * buffer handed over; NULL on ENOMEM. */
char *ks_pathbuf_finish(struct ks_pathbuf *b);

/* Replaces *rest by target + "/" + tail, tail pointing into *rest (a
 * symlink's target spliced in front of what is left of a path).
 * Returns 0 or -ENOMEM (*rest unchanged). */
int ks_path_splice(char **rest, const char *target, const char *tail);

/*
 * Resolves path to where it lands: the longest existing prefix with its
 * symlinks followed (like realpath), then the missing remainder with "."
 * and ".." applied lexically. A relative path is taken from the working
 * directory. Symlinks in the remainder cannot exist (it is missing).
 * Returns 0 and *out (caller frees), or a negative errno (ELOOP for a
 * loop, ENOMEM) with err set.
 */
int ks_path_resolve(const char *path, char **out, struct ks_err *err);

/*
 * ks_path_resolve for a path that may lie under base, a directory whose
 * resolution base_resolved is known (the worker's root): its components
 * are not looked up again. base NULL: plain ks_path_resolve.
 */
int ks_path_resolve_under(const char *path, const char *base,
    const char *base_resolved, char **out, struct ks_err *err);

/*
 * The candidates of the write rule for path (SPEC §4 item 3): the path as
 * given, each hop of its symlink chain (the link's parent joined with its
 * target, not normalised) up to depth hops, in order. The final landing
 * place is not added: callers resolve each candidate. Returns 0 or
 * -ENOMEM; out is appended to.
 */
int ks_path_chain(const char *path, unsigned depth, struct ks_strv *out);

#endif
