/*
 * fsops: the file operations of the worker (SPEC §5): read, write, edit
 * and stat, each behind its policy verdict. Writes land exactly where
 * the verdict looked: the resolved path is opened relative to a
 * descriptor of its writable area with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), and the file is replaced atomically.
 */
#ifndef KS_FSOPS_H
#define KS_FSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "linkidx.h"
#include "lookup.h"
#include "policy.h"

struct ks_err;

/* A directory the worker may write beneath, opened once at start-up. */
struct ks_area {
	char *path;		/* resolved, absolute */
	int fd;			/* O_PATH | O_DIRECTORY */
};

struct ks_fs {
	struct ks_policy_ctx pctx;
	char *root_resolved;
	struct ks_area *areas;
	size_t nareas;
	struct ks_lookup_base base;	/* reads start at the root, or "/" */
	struct ks_linkidx links;	/* hard links into denied areas */
	unsigned char *rbuf;	/* read buffer, reused */
	size_t rcap;
	unsigned tmpseq;	/* temporary-name counter */
};

/*
 * Sets fs up for policy p (borrowed: it must outlive fs) and root (NULL:
 * legacy mode, one area "/"). Opens the areas: the resolved root and
 * every allow_write entry that exists. Returns 0, or a negative errno
 * with err set (a root that is missing or not a directory).
 */
int ks_fs_open(struct ks_fs *fs, const struct ks_policy *p, const char *root,
    struct ks_err *err);

/* Closes the areas and frees what fs owns; a zeroed fs is fine. */
void ks_fs_close(struct ks_fs *fs);

/* Bytes of file content that a read reply can always carry whole. */
#define KS_READ_ALWAYS_FITS 262137

/*
 * Reads at most max bytes (has_max false: all) of path, the read rule
 * judged on the path as sent and on the file actually opened (see
 * lookup.h), and on hard links into denied areas (linkidx.h). On success
 * *data[0..*len) is in fs's buffer (valid until the next call) and fits
 * in one read reply; a file whose reply would not fit is an io error
 * (SPEC §2). Returns 0 or a negative errno with err set.
 */
int ks_fs_read(struct ks_fs *fs, const char *path, bool has_max,
    uint64_t max, const unsigned char **data, size_t *len,
    struct ks_err *err);

/* Replaces path's content with data[0..len) atomically, creating missing
 * parent directories. Returns 0 or a negative errno with err set. */
int ks_fs_write(struct ks_fs *fs, const char *path, const unsigned char *data,
    size_t len, struct ks_err *err);

/* Replaces the first old[0..olen) in path with new[0..nlen), atomically,
 * behind the write rule and the read rule (an edit's answer tells what
 * the file holds). Returns 0 or a negative errno with err set. */
int ks_fs_edit(struct ks_fs *fs, const char *path, const char *old,
    size_t olen, const char *new, size_t nlen, struct ks_err *err);

/* lstat of path, behind the read rule: judged on the path as sent, on
 * the object stat'ed and, for a symlink, on where it leads. */
int ks_fs_stat(struct ks_fs *fs, const char *path, struct stat *st,
    struct ks_err *err);

#endif
