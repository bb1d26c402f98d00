/*
 * linkidx: hard links into read-denied areas.
 *
 * The read rule is about paths, and a hard link gives a file a second
 * path: a link made inside the root to a file in a deny_read area is
 * the same inode under an allowed name. What can be known is which
 * inodes the denied areas hold: a file there that has another link
 * shows st_nlink > 1, and so does every other name of it. The index
 * lists those inodes (device and number), built once, on the first
 * regular file with more than one link that a read, stat or grep opens
 * (most files have one: most workers never build it).
 */
#ifndef KS_LINKIDX_H
#define KS_LINKIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct ks_policy_ctx;

/* Entries looked at while building, at most: past it the index says
 * what it saw (ks_linkidx.full). */
#define KS_LINKIDX_MAX_VISITS 200000

struct ks_linkidx_ent {
	dev_t dev;
	ino_t ino;
};

/* Zero-initialise; free with ks_linkidx_free. */
struct ks_linkidx {
	struct ks_linkidx_ent *v;
	size_t n, cap;
	size_t visits;
	bool built;
	bool full;		/* the visit bound was reached */
	bool broken;		/* out of memory while building */
};

/*
 * True when st, of a file just opened, is a regular file with more than
 * one link whose inode is a file with more than one link in a read-denied
 * area of ctx's policy (deny_read entries outside allow_read_within_deny
 * holes, and the fully-protected $HOME/.config/koda/db). Builds x on the
 * first call that needs it; out of memory there makes every later
 * call of a multi-link file answer true (fail closed).
 */
bool ks_linkidx_denied(struct ks_linkidx *x, const struct ks_policy_ctx *ctx,
    const struct stat *st);

/* Frees what x owns; a zeroed x is fine. */
void ks_linkidx_free(struct ks_linkidx *x);

#endif
