/*
 * ignglob: one glob of a gitignore file, as the `ignore` crate (0.4.18)
 * builds it with globset 0.4.9 (literal_separator, backslash escapes)
 * and matches it: by the same strategy globset picks for it (a literal
 * path, a literal base name, an extension, a suffix, or the glob's
 * regular expression over the path's bytes), since those strategies do
 * not always agree with the expression.
 */
#ifndef KS_IGNGLOB_H
#define KS_IGNGLOB_H

#include <stdbool.h>
#include <stddef.h>

struct ks_ignglob;

/* A path to match: its bytes, and globset's base name and extension
 * of it (see ks_ignglob_candidate). */
struct ks_ignglob_cand {
	const char *path, *base, *ext;
	size_t plen, blen, elen;
};

/*
 * Compiles glob (the rule as the gitignore parser rewrote it, with its
 * "**" prefix or suffix added). Returns 0 and *out (free with
 * ks_ignglob_free), -1 when globset rejects it (the rule is dropped, as
 * the reference drops it), or -ENOMEM.
 */
int ks_ignglob_compile(const char *glob, struct ks_ignglob **out);

/* Fills c for path[0..len). */
void ks_ignglob_candidate(struct ks_ignglob_cand *c, const char *path,
    size_t len);

/* True when g matches the candidate. */
bool ks_ignglob_match(const struct ks_ignglob *g,
    const struct ks_ignglob_cand *c);

/* Frees g; NULL is fine. */
void ks_ignglob_free(struct ks_ignglob *g);

#endif
