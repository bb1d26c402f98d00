/*
 * glob: the Rust glob crate's (0.3.0) patterns and their expansion.
 *
 * A pattern (ks_glob_compile / ks_glob_match) is what glob::Pattern is
 * with the default MatchOptions; grep uses it on file names for
 * `include`. Expansion (ks_glob_expand) is glob::glob() joined to a root,
 * with the worker's bounds: a symlink loop cannot hang it, names that are
 * not UTF-8 are left out, and the read rule can hide entries.
 */
#ifndef KS_GLOB_H
#define KS_GLOB_H

#include <stdbool.h>

struct ks_err;
struct ks_path_filter;
struct ks_strv;
struct ks_glob_pat;

/*
 * Compiles pat. Returns 0 and *out (free with ks_glob_free), or a negative
 * errno with err set: KS_CODE_PROTOCOL and, as the message, the reason in
 * the glob crate's words ("Pattern syntax error near position 0: invalid
 * range pattern", the position counted in characters), without the
 * pattern itself. A pat that is not UTF-8 (which no JSON string is) gets
 * "pattern is not valid UTF-8".
 */
int ks_glob_compile(const char *pat, struct ks_glob_pat **out,
    struct ks_err *err);

/*
 * True when s matches p as glob::Pattern::matches does (`*` and `?` match
 * '/' too); false when s is not UTF-8. Meant for names: the matcher
 * recurses about three levels per character of s at most.
 */
bool ks_glob_match(const struct ks_glob_pat *p, const char *s);

/* Frees p; NULL is fine. */
void ks_glob_free(struct ks_glob_pat *p);

/* What expansion asks of one component's pattern: whether it holds a
 * `**`; its text when it has no wildcard at all (NULL otherwise);
 * whether it starts with a literal '.' (it then matches "." and ".."). */
bool ks_glob_pat_recursive(const struct ks_glob_pat *p);
const char *ks_glob_pat_literal(const struct ks_glob_pat *p);
bool ks_glob_pat_leading_dot(const struct ks_glob_pat *p);

/*
 * Expands pattern joined to root as text (Path::join: an absolute pattern
 * ignores root, "" as root leaves the pattern relative to the working
 * directory) and appends the matching paths to out (caller frees, with
 * ks_strv_free), sorted as ks_path_cmp sorts, duplicates kept as the
 * crate yields them. filter (NULL: none) is asked about every entry a
 * listing finds, a denied one being left out and not entered, and about
 * every result; the literal components on the way (the root's own) are
 * not asked about, so that a root inside an allowed hole still works.
 * Collecting stops past 64 MiB of paths, far more than one reply carries.
 * Returns 0, or a negative errno with err set: an invalid pattern is
 * -EINVAL, KS_CODE_PROTOCOL, message as for ks_glob_compile (the position
 * counted in the joined text); a walk that enters over a million
 * directories (the crate's runaway cases: many `.*` components, symlink
 * loops) is -E2BIG, KS_CODE_PROTOCOL, "matching gave up after N directories";
 * out of memory is KS_CODE_IO.
 */
int ks_glob_expand(const char *pattern, const char *root,
    const struct ks_path_filter *filter, struct ks_strv *out,
    struct ks_err *err);

#endif
