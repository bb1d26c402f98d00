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
#include "audit.h"
#include "err.h"
#include "policy.h"

struct ks_err;
struct ks_upload;

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
	struct ks_upload *uploads;	/* writes in parts under way */
	size_t nuploads;
	uint64_t write_cap;		/* bytes one write in parts may have */
	struct ks_audit audit;		/* the decision log (none: fd -1) */
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

/* Default cap of a write in parts (limits.max_write_bytes unset). */
#define KS_WRITE_CAP_DEFAULT (1ull << 30)
/* Writes in parts one connection may have under way at once. */
#define KS_UPLOADS_MAX 8

/*
 * One part of a write in parts (write_part, protocol(7)): the part at
 * offset (0 starts the write, and drops one under way for path; else it
 * must equal the bytes staged so far) is staged in an unnamed file
 * beside the target; last commits: the write rule is judged again and
 * the target replaced atomically. Any error drops the write, leaving
 * nothing behind. *staged: the bytes staged, or written when last.
 * Returns 0 or a negative errno with err set.
 */
int ks_fs_write_part(struct ks_fs *fs, const char *path, uint64_t offset,
    const unsigned char *data, size_t len, bool last, uint64_t *staged,
    struct ks_err *err);

/* Drops every write in parts under way (the connection ended). */
void ks_fs_uploads_drop(struct ks_fs *fs);

/* An extended read (protocol(7)): a byte range, or a range of lines. */
struct ks_range {
	bool has_offset, has_line, has_lines, has_max;
	uint64_t offset;	/* first byte; with has_line: where line starts */
	uint64_t line;		/* first line, 1-based */
	uint64_t lines;		/* how many lines */
	uint64_t max;		/* at most this many bytes */
};

/* What an extended read found besides the bytes. */
struct ks_range_info {
	bool size_known;	/* a regular file */
	uint64_t size;
	bool eof;		/* nothing of the file lies past the bytes */
	uint64_t next_offset;	/* the byte after them */
	uint64_t next_line;	/* the first line not wholly in them */
};

/*
 * Reads the range r of path, behind the read rule as ks_fs_read: never
 * more than one reply carries (a reply that would not fit is cut, and
 * info says where to go on: the bytes are never cut silently). A line
 * range ends at a line's end unless its first line alone is too long.
 * On success *data[0..*len) is in fs's buffer. Returns 0 or a negative
 * errno with err set.
 */
int ks_fs_read_range(struct ks_fs *fs, const char *path,
    const struct ks_range *r, const unsigned char **data, size_t *len,
    struct ks_range_info *info, struct ks_err *err);

/* Bytes of content an extended read reply may hold at most. */
#define KS_RANGE_REPLY_ROOM (KS_FRAME_MAX - 160)

/* Replaces path's content with data[0..len) atomically, creating missing
 * parent directories. Returns 0 or a negative errno with err set. */
int ks_fs_write(struct ks_fs *fs, const char *path, const unsigned char *data,
    size_t len, struct ks_err *err);

/* What an edit replaces with what. */
struct ks_edit {
	const char *old, *new;
	size_t olen, nlen;
	bool has_replace_all;	/* opted in: uniqueness, or replace all */
	bool replace_all;
};

/*
 * Replaces e->old in path with e->new, atomically, behind the write rule
 * and the read rule (an edit's answer tells what the file holds): the
 * first occurrence as the reference does; with has_replace_all, every
 * one (replace_all) or the only one (more is an error that counts
 * them). *count: the replacements made. Returns 0 or a negative errno
 * with err set.
 */
int ks_fs_edit(struct ks_fs *fs, const char *path, const struct ks_edit *e,
    size_t *count, struct ks_err *err);

/* lstat of path, behind the read rule: judged on the path as sent, on
 * the object stat'ed and, for a symlink, on where it leads. */
int ks_fs_stat(struct ks_fs *fs, const char *path, struct stat *st,
    struct ks_err *err);

/*
 * Shared by the file operations (fsops.c: write and edit, fsread.c: read
 * and stat, upload.c: writes in parts); not for other callers.
 */

/* The read rule on landing (NULL: not resolvable, nothing to judge),
 * the message naming path. 0 or a negative errno with err set. */
int ks_fs_judge(struct ks_fs *fs, const char *path, const char *landing,
    struct ks_err *err);
/* A denial when st is a hard link to a read-denied file (linkidx.h). */
int ks_fs_hard_link(struct ks_fs *fs, const char *path, const struct stat *st,
    struct ks_err *err);
/* Opens path for reading (non-blocking, the read rule judged on what was
 * opened; FIFOs, sockets and directories refused) and fstats it into
 * *st: the descriptor, or a negative errno with err set. */
int ks_fs_open_read(struct ks_fs *fs, const char *path, struct stat *st,
    struct ks_err *err);
/* Makes fs's read buffer hold at least n bytes: 0 or -ENOMEM. */
int ks_fs_reserve(struct ks_fs *fs, size_t n);
/* Reads up to want bytes of fd into fs's buffer (*got of them); stops
 * at end of file or when a non-blocking descriptor has no more. */
int ks_fs_read_upto(struct ks_fs *fs, int fd, size_t want, size_t *got);

/* The write verdict for path, and where it lands: the area, and the
 * path in it (*rel points into *landing, which the caller frees);
 * *final_link: path's last component is a link. */
int ks_fs_locate(struct ks_fs *fs, const char *path, char **landing,
    const struct ks_area **area, const char **rel, bool *final_link,
    struct ks_err *err);
/* Opens directory dir of area descriptor afd (O_PATH), creating its
 * missing components when create; errors name path. */
int ks_fs_open_dir(int afd, const char *dir, bool create, const char *path,
    int *out, struct ks_err *err);
/* openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) of rel in dirfd, or
 * its equivalent walk: the descriptor or a negative errno. */
int ks_fs_open_beneath(int dirfd, const char *rel, int flags, mode_t mode);
/* Splits rel into its directory (copied into dir) and its last name;
 * NULL when the directory does not fit. */
const char *ks_fs_split_rel(const char *rel, char *dir, size_t size);
/* What is at name in dfd, the target of a replace: *exists and *st; a
 * directory, a link (the tree changed) or a non-regular file is an
 * error naming path. */
int ks_fs_target(int dfd, const char *name, const char *path, struct stat *st,
    bool *exists, struct ks_err *err);
/* Creates a fresh ".ks-PID-N.tmp" in dfd (its name in name[0..size)):
 * the descriptor or a negative errno. */
int ks_fs_open_temp(struct ks_fs *fs, int dfd, char *name, size_t size,
    mode_t mode);
/* write(2) of all of data[0..len): 0 or a negative errno. */
int ks_fs_write_all(int fd, const unsigned char *data, size_t len);
/* "write denied: 'P' changed while it was being written". */
int ks_fs_changed(struct ks_err *err, const char *path);
/* "<what>'P' is not a regular file" with code. */
int ks_fs_not_regular(struct ks_err *err, const char *path, enum ks_code code,
    const char *what);

#endif
