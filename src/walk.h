/*
 * walk: a depth-first walk of a directory tree through descriptors.
 *
 * Each directory is opened relative to its parent's descriptor
 * (O_NOFOLLOW, O_CLOEXEC), read whole and its entries sorted bytewise,
 * so the paths come out in Rust's Path order (component by component).
 * Symbolic links are reported as links and never followed. What cannot
 * be opened or read is passed over silently, as the reference's walker
 * (the `ignore` crate) passes over its errors.
 */
#ifndef KS_WALK_H
#define KS_WALK_H

#include <stddef.h>

/* One entry of a directory being walked. */
struct ks_walk_ent {
	const char *path;	/* the root joined with the names down here */
	const char *name;	/* the last component */
	int dirfd;		/* the directory holding it */
	unsigned char type;	/* DT_REG, DT_DIR, DT_LNK..., not DT_UNKNOWN */
	unsigned depth;		/* 1 for the root's own entries */
};

/* What the entry callback answers. */
enum {
	KS_WALK_NEXT = 0,	/* go on; a directory is entered */
	KS_WALK_STOP = 1,	/* end the walk; ks_walk_run returns 1 */
	KS_WALK_SKIP = 2,	/* go on, but do not enter this directory */
};

struct ks_walk_ops {
	/* Every entry, in order: KS_WALK_*, or a negative errno that ends
	 * the walk and is returned. */
	int (*entry)(void *ctx, const struct ks_walk_ent *e);
	/* A directory entered (open at fd, valid until leave), the root
	 * first: 0 or a negative errno (ends the walk). May be NULL. */
	int (*enter)(void *ctx, int fd, const char *path);
	/* The directory last entered is done. May be NULL. */
	void (*leave)(void *ctx);
	void *ctx;
};

/*
 * Walks the directory open at fd, whose path is root (fd stays the
 * caller's). Paths are root joined with names the way Rust's Path::join
 * joins them. Returns 0 when the walk is done, 1 when a callback
 * stopped it, or a negative errno from a callback or -ENOMEM.
 */
int ks_walk_run(int fd, const char *root, const struct ks_walk_ops *ops);

#endif
