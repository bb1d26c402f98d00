/*
 * upload: writes larger than one frame (write_part, protocol(7)), still
 * atomic. The parts go to an unnamed file (O_TMPFILE) in the target's
 * own directory, so that a worker killed, a connection ended or a part
 * refused leaves nothing behind; the last part judges the write rule
 * again, links the file in under a temporary name and renames it over
 * the target, as a one-frame write does.
 */
#include "fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

struct ks_upload {
	char *path;		/* as sent */
	char *landing;		/* where the write rule placed it */
	int dfd;		/* the target's directory (O_PATH) */
	char name[NAME_MAX + 1];	/* the target's name in dfd */
	int fd;			/* the staged content */
	char tmp[64];		/* "" for an unnamed file, else its name */
	uint64_t staged;
};

static void
drop(struct ks_fs *fs, struct ks_upload *u)
{
	/* NOLINTNEXTLINE(clang-analyzer-*): u points into fs->uploads. */
	if (u->tmp[0] != '\0')
		unlinkat(u->dfd, u->tmp, 0);
	if (u->fd >= 0)
		close(u->fd);
	if (u->dfd >= 0)
		close(u->dfd);
	free(u->path);
	free(u->landing);
	*u = fs->uploads[--fs->nuploads];
}

void
ks_fs_uploads_drop(struct ks_fs *fs)
{
	while (fs->nuploads > 0)
		drop(fs, &fs->uploads[fs->nuploads - 1]);
	free(fs->uploads);
	fs->uploads = NULL;
}

static struct ks_upload *
find(struct ks_fs *fs, const char *path)
{
	for (size_t i = 0; i < fs->nuploads; i++)
		if (strcmp(fs->uploads[i].path, path) == 0)
			return &fs->uploads[i];
	return NULL;
}

/* The staging file: unnamed where the file system allows it. */
static int
open_staging(struct ks_fs *fs, struct ks_upload *u)
{
	int fd = openat(u->dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);

	u->tmp[0] = '\0';
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd < 0 ? -errno : fd;
	/* No O_TMPFILE here: a named file, which a kill can leave. */
	return ks_fs_open_temp(fs, u->dfd, u->tmp, sizeof(u->tmp), 0666);
}

/* Starts a write in parts: the verdict, the directory, the staging. */
static int
begin(struct ks_fs *fs, const char *path, struct ks_upload *u,
    struct ks_err *err)
{
	const struct ks_area *area = NULL;
	const char *rel = NULL, *name;
	char dir[PATH_MAX];
	bool final_link = false, exists;
	struct stat st;
	int rc;

	*u = (struct ks_upload){ .dfd = -1, .fd = -1 };
	if ((rc = ks_fs_locate(fs, path, &u->landing, &area, &rel,
	    &final_link, err)) < 0)
		return rc;
	if ((name = ks_fs_split_rel(rel, dir, sizeof(dir))) == NULL ||
	    strlen(name) > NAME_MAX)
		return ks_err_os(err, ENAMETOOLONG);
	memcpy(u->name, name, strlen(name) + 1);
	if ((rc = ks_fs_open_dir(area->fd, dir, !final_link, path, &u->dfd,
	    err)) < 0)
		return rc;
	if ((rc = ks_fs_target(u->dfd, u->name, path, &st, &exists,
	    err)) < 0)
		return rc;
	if ((u->fd = open_staging(fs, u)) < 0)
		return ks_err_os(err, -u->fd);
	if ((u->path = strdup(path)) == NULL)
		return ks_err_os(err, ENOMEM);
	return 0;
}

/* Links an unnamed staging file in under a temporary name. */
static int
link_in(struct ks_fs *fs, struct ks_upload *u)
{
	char proc[64];
	int rc = -EEXIST;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", u->fd);
	for (int i = 0; i < 16 && rc == -EEXIST; i++) {
		snprintf(u->tmp, sizeof(u->tmp), ".ks-%ld-%u.tmp",
		    (long)getpid(), ++fs->tmpseq);
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not. */
		if (linkat(u->fd, "", u->dfd, u->tmp, AT_EMPTY_PATH) == 0 ||
		    (errno != EEXIST && linkat(AT_FDCWD, proc, u->dfd, u->tmp,
		    AT_SYMLINK_FOLLOW) == 0))
			return 0;
		rc = -errno;
	}
	u->tmp[0] = '\0';
	return rc;
}

/* The target's directory is still the one the write began in. */
static bool
same_dir(struct ks_fs *fs, const struct ks_upload *u, struct ks_err *err)
{
	const struct ks_area *area = NULL;
	const char *rel = NULL;
	char *landing = NULL, dir[PATH_MAX];
	bool final_link = false, same = false;
	struct stat a, b;
	int dfd = -1;

	if (ks_fs_locate(fs, u->path, &landing, &area, &rel, &final_link,
	    err) < 0)
		return false;
	if (strcmp(landing, u->landing) == 0 &&
	    ks_fs_split_rel(rel, dir, sizeof(dir)) != NULL &&
	    ks_fs_open_dir(area->fd, dir, false, u->path, &dfd, err) == 0 &&
	    fstat(dfd, &a) == 0 && fstat(u->dfd, &b) == 0)
		same = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	if (dfd >= 0)
		close(dfd);
	free(landing);
	if (!same && err->code != KS_CODE_POLICY_DENIED)
		ks_fs_changed(err, u->path);
	return same;
}

/* The last part is in: judge again, keep the old file's owner and mode,
 * and replace the target. */
static int
commit(struct ks_fs *fs, struct ks_upload *u, struct ks_err *err)
{
	struct stat st;
	bool exists;
	int rc;

	if (!same_dir(fs, u, err))
		return -EXDEV;
	if ((rc = ks_fs_target(u->dfd, u->name, u->path, &st, &exists,
	    err)) < 0)
		return rc;
	if (exists) {
		if (st.st_uid != geteuid() || st.st_gid != getegid())
			(void)fchown(u->fd, st.st_uid, st.st_gid);
		if (fchmod(u->fd, st.st_mode & 07777) < 0)
			return ks_err_os(err, errno);
	}
	if (fsync(u->fd) < 0)
		return ks_err_os(err, errno);
	if (u->tmp[0] == '\0' && (rc = link_in(fs, u)) < 0)
		return ks_err_os(err, -rc);
	if (renameat(u->dfd, u->tmp, u->dfd, u->name) < 0)
		return ks_err_os(err, errno);
	u->tmp[0] = '\0';
	return 0;
}

static int
out_of_order(struct ks_err *err, const char *path, uint64_t offset,
    uint64_t staged, bool open)
{
	struct ks_quote q;

	if (!open)
		return ks_err_set(err, EINVAL, KS_CODE_IO, "write_part: no "
		    "write in parts of '%s' is under way (offset 0 starts "
		    "one)", ks_quote(&q, path));
	return ks_err_set(err, EINVAL, KS_CODE_IO, "write_part: offset %llu "
	    "does not follow the %llu bytes staged for '%s'",
	    (unsigned long long)offset, (unsigned long long)staged,
	    ks_quote(&q, path));
}

/* Finds or starts the write of path that offset continues. */
static int
upload_for(struct ks_fs *fs, const char *path, uint64_t offset,
    struct ks_upload **out, struct ks_err *err)
{
	struct ks_upload *u = find(fs, path), *v;
	int rc;

	if (offset == 0 && u != NULL)
		drop(fs, u);
	else if (u != NULL && u->staged == offset)
		return (*out = u, 0);
	else if (offset != 0 || u != NULL) {
		rc = out_of_order(err, path, offset, u ? u->staged : 0,
		    u != NULL);
		if (u != NULL)
			drop(fs, u);
		return rc;
	}
	if (fs->nuploads == KS_UPLOADS_MAX)
		return ks_err_set(err, EBUSY, KS_CODE_IO, "write_part: %d "
		    "writes in parts are under way already", KS_UPLOADS_MAX);
	if ((v = realloc(fs->uploads, (fs->nuploads + 1) *
	    sizeof(*v))) == NULL)
		return ks_err_os(err, ENOMEM);
	fs->uploads = v;
	u = &fs->uploads[fs->nuploads++];
	if ((rc = begin(fs, path, u, err)) < 0) {
		drop(fs, u);	/* what begin opened; -1 descriptors too */
		return rc;
	}
	*out = u;
	return 0;
}

int
ks_fs_write_part(struct ks_fs *fs, const char *path, uint64_t offset,
    const unsigned char *data, size_t len, bool last, uint64_t *staged,
    struct ks_err *err)
{
	struct ks_upload *u = NULL;
	int rc;

	if ((rc = upload_for(fs, path, offset, &u, err)) < 0)
		return rc;
	/* NOLINTNEXTLINE(clang-analyzer-*): upload_for sets *out whenever it returns 0. */
	if (len > fs->write_cap || u->staged > fs->write_cap - len) {
		rc = ks_err_set(err, EFBIG, KS_CODE_IO, "write_part: the "
		    "write would pass the limit of %llu bytes "
		    "(limits.max_write_bytes)",
		    (unsigned long long)fs->write_cap);
	} else if ((rc = ks_fs_write_all(u->fd, data, len)) < 0) {
		rc = ks_err_os(err, -rc);
	} else {
		u->staged += len;
		*staged = u->staged;
		if (last)
			rc = commit(fs, u, err);
	}
	if (rc < 0 || last)
		drop(fs, u);
	return rc;
}
