/*
 * fsread: the read side of the file operations: read and stat, the read
 * rule judged on what a descriptor lookup opened (lookup.h), and the
 * buffer both reads and edits fill.
 */
#include "fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"

/* Bytes of a read reply around its content array. */
#define READ_REPLY_OVERHEAD 26
/* Most bytes that could fit: every value a single digit. */
#define READ_MAX_FIT 524274

int
ks_fs_reserve(struct ks_fs *fs, size_t n)
{
	unsigned char *p;

	if (n <= fs->rcap)
		return 0;
	if ((p = realloc(fs->rbuf, n)) == NULL)
		return -ENOMEM;
	fs->rbuf = p;
	fs->rcap = n;
	return 0;
}

/* Reads up to want bytes into fs->rbuf; stops early at end of file or,
 * on a non-blocking descriptor, when no more data is ready. */
int
ks_fs_read_upto(struct ks_fs *fs, int fd, size_t want, size_t *got)
{
	ssize_t n;

	*got = 0;
	if (ks_fs_reserve(fs, want + 1) < 0)
		return -ENOMEM;
	while (*got < want) {
		n = read(fd, fs->rbuf + *got, want - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && *got > 0)
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* The read rule on where a lookup landed (NULL: it cannot be resolved,
 * and the lookup's own error answers). */
int
ks_fs_judge(struct ks_fs *fs, const char *path, const char *landing,
    struct ks_err *err)
{
	if (landing == NULL)
		return 0;
	return ks_policy_read_verdict(&fs->pctx, landing, path, err);
}

/* A file with more than one link may be a second name of a denied one. */
int
ks_fs_hard_link(struct ks_fs *fs, const char *path, const struct stat *st,
    struct ks_err *err)
{
	struct ks_quote q;

	if (!ks_linkidx_denied(&fs->links, &fs->pctx, st))
		return 0;
	ks_err_set(err, EACCES, KS_CODE_POLICY_DENIED, "read denied: '%s' is "
	    "a hard link to a read-denied file", ks_quote(&q, path));
	if (err != NULL)
		err->rule = "hard_link";
	return -EACCES;
}

static int
too_large(struct ks_err *err, const struct stat *st)
{
	if (S_ISREG(st->st_mode) && st->st_size > 0)
		return ks_err_set(err, EFBIG, KS_CODE_IO, "file too large for "
		    "one reply (%lld bytes); read it in parts with max_bytes",
		    (long long)st->st_size);
	return ks_err_set(err, EFBIG, KS_CODE_IO, "file too large for one "
	    "reply; read it in parts with max_bytes");
}

/*
 * Looks path up with flags and judges where it landed: the descriptor,
 * or a negative errno with err set (a denial, or the lookup's error).
 */
static int
open_judged(struct ks_fs *fs, const char *path, int flags, unsigned opts,
    struct ks_err *err)
{
	char *landing = NULL;
	int fd, rc;

	fd = ks_lookup_open(path, &fs->base, flags, opts, &landing);
	rc = ks_fs_judge(fs, path, landing, err);
	free(landing);
	if (rc < 0 && fd >= 0)
		close(fd);
	if (rc < 0)
		return rc;
	return fd < 0 ? ks_err_os(err, -fd) : fd;
}

/* True when path (followed) is a socket, which cannot be opened. */
static bool
is_socket(struct ks_fs *fs, const char *path)
{
	struct stat st;
	int fd = open_judged(fs, path, O_PATH, KS_LOOKUP_FOLLOW, NULL);
	bool sock = fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);

	if (fd >= 0)
		close(fd);
	return sock;
}

/*
 * Opens path for reading without blocking on a FIFO or device, the read
 * rule judged on the file opened: the landing of the lookup is the path
 * of that very file, however the tree changed meanwhile.
 */
int
ks_fs_open_read(struct ks_fs *fs, const char *path, struct stat *st,
    struct ks_err *err)
{
	int fd, rc;

	fd = open_judged(fs, path, O_RDONLY | O_NONBLOCK | O_NOCTTY,
	    KS_LOOKUP_FOLLOW, err);
	/* A socket cannot be opened at all: say what it is. */
	if (fd == -ENXIO && err->code == KS_CODE_IO && is_socket(fs, path))
		return ks_fs_not_regular(err, path, KS_CODE_IO, "");
	if (fd < 0)
		return fd;
	rc = fstat(fd, st) < 0 ? ks_err_os(err, errno) : 0;
	if (rc == 0 && (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)))
		rc = ks_fs_not_regular(err, path, KS_CODE_IO, "");
	/* read(2) would say so too, but max_bytes 0 reads nothing. */
	if (rc == 0 && S_ISDIR(st->st_mode))
		rc = ks_err_os(err, EISDIR);
	if (rc == 0)
		rc = ks_fs_hard_link(fs, path, st, err);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int
ks_fs_read(struct ks_fs *fs, const char *path, bool has_max, uint64_t max,
    const unsigned char **data, size_t *len, struct ks_err *err)
{
	struct stat st = { 0 };
	uint64_t want = has_max && max <= READ_MAX_FIT ? max : READ_MAX_FIT + 1;
	int fd, rc;

	if ((rc = ks_policy_read_verdict(&fs->pctx, path, path, err)) < 0)
		return rc;
	if ((fd = ks_fs_open_read(fs, path, &st, err)) < 0)
		return fd;
	/* A file whose size is known is judged before it is read. */
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		uint64_t size = (uint64_t)st.st_size;

		if ((has_max ? (max < size ? max : size) : size) > READ_MAX_FIT) {
			close(fd);
			return too_large(err, &st);
		}
		want = has_max && max < size ? max : size;
	}
	rc = ks_fs_read_upto(fs, fd, (size_t)want, len);
	close(fd);
	if (rc < 0)
		return ks_err_os(err, -rc);
	if (READ_REPLY_OVERHEAD + ks_json_bytes_size(fs->rbuf, *len) >
	    KS_FRAME_MAX)
		return too_large(err, &st);
	*data = fs->rbuf;
	return 0;
}

int
ks_fs_stat(struct ks_fs *fs, const char *path, struct stat *st,
    struct ks_err *err)
{
	int fd, to, rc;

	if ((rc = ks_policy_read_verdict(&fs->pctx, path, path, err)) < 0)
		return rc;
	/* The object itself, as lstat sees it, judged where it is. */
	if ((fd = open_judged(fs, path, O_PATH, 0, err)) < 0)
		return fd;
	rc = fstat(fd, st) < 0 ? ks_err_os(err, errno) : 0;
	/* A link is judged where it leads too, as the reference's path
	 * would be; what is stat'ed stays the link. */
	if (rc == 0 && S_ISLNK(st->st_mode)) {
		to = open_judged(fs, path, O_PATH, KS_LOOKUP_FOLLOW, err);
		if (to >= 0)
			close(to);
		else if (err->code == KS_CODE_POLICY_DENIED)
			rc = to;
	}
	if (rc == 0)
		rc = ks_fs_hard_link(fs, path, st, err);
	close(fd);
	return rc;
}
