/*
 * fsops: read, write, edit and stat. The write path is the security
 * core: verdict (policy), then an open relative to the area's descriptor
 * that refuses every symlink, then an atomic replace.
 */
#include "fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"

/* Retries of an openat2 that a concurrent rename interrupted. */
#define OPEN_RETRIES 8

/* Opens one component at, never following a link: a link is ELOOP. */
static int
open_comp(int at, const char *name, bool last, int flags, mode_t mode)
{
	struct stat st;
	int fd;

	if (last && !(flags & O_PATH))
		return openat(at, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if ((fd = openat(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * openat2's guarantee without openat2 (Linux before 5.6, valgrind): one
 * component at a time from dirfd, no link followed, and no ".." to
 * climb with (rel is a resolved, normalised path).
 */
static int
open_walk(int dirfd, const char *rel, int flags, mode_t mode)
{
	char comp[NAME_MAX + 1];
	int cur = dirfd, next;
	size_t n;

	if (*rel == '\0')
		rel = ".";
	for (;;) {
		n = strcspn(rel, "/");
		if (n > NAME_MAX) {
			next = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, rel, n);
		comp[n] = '\0';
		rel += n;
		while (*rel == '/')
			rel++;
		next = open_comp(cur, comp, *rel == '\0', flags, mode);
		if (next < 0)
			next = -errno;
		if (cur != dirfd)
			close(cur);
		if (next < 0 || *rel == '\0')
			break;
		cur = next;
	}
	return next;
}

int
ks_fs_open_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	static bool no_openat2;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS,
	};
	long fd = -1;

	for (int i = 0; i < OPEN_RETRIES && !no_openat2; i++) {
		fd = syscall(SYS_openat2, dirfd, rel[0] ? rel : ".", &how,
		    sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0 && (no_openat2 || errno == ENOSYS)) {
		no_openat2 = true;
		return open_walk(dirfd, rel, flags, mode);
	}
	return fd < 0 ? -errno : (int)fd;
}

static int
add_area(struct ks_fs *fs, const char *path)
{
	struct ks_area *a;
	int fd;

	if ((fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;	/* an entry that does not exist: no area */
	if ((a = realloc(fs->areas, (fs->nareas + 1) * sizeof(*a))) == NULL ||
	    (a[fs->nareas].path = ks_path_normalize(path)) == NULL) {
		if (a != NULL)
			fs->areas = a;
		close(fd);
		return -ENOMEM;
	}
	a[fs->nareas++].fd = fd;
	fs->areas = a;
	return 0;
}

int
ks_fs_open(struct ks_fs *fs, const struct ks_policy *p, const char *root,
    struct ks_err *err)
{
	struct stat st;
	int rc;

	memset(fs, 0, sizeof(*fs));
	ks_audit_none(&fs->audit);
	fs->pctx.policy = p;
	fs->pctx.root = root;
	fs->pctx.home = getenv("HOME");
	fs->write_cap = p->max_write_bytes.set ? p->max_write_bytes.v :
	    KS_WRITE_CAP_DEFAULT;
	/* Reads start from "/" or the root, held from here on. */
	if ((fs->base.slash = open("/", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return ks_err_os(err, errno);
	fs->base.fd = -1;
	if (root == NULL)
		return add_area(fs, "/") < 0 ? ks_err_os(err, ENOMEM) : 0;
	if (stat(root, &st) < 0)
		return ks_err_os(err, errno);
	if (!S_ISDIR(st.st_mode))
		return ks_err_os(err, ENOTDIR);
	if ((rc = ks_path_resolve(root, &fs->root_resolved, err)) < 0)
		return rc;
	fs->pctx.root_resolved = fs->root_resolved;
	if ((rc = add_area(fs, fs->root_resolved)) < 0)
		return ks_err_os(err, -rc);
	if (fs->nareas == 1)
		fs->base = (struct ks_lookup_base){ root, fs->root_resolved,
		    fs->areas[0].fd, fs->base.slash };
	for (size_t i = 0; i < p->allow_write.n; i++)
		if (p->allow_write.v[i][0] == '/' &&
		    (rc = add_area(fs, p->allow_write.v[i])) < 0)
			return ks_err_os(err, -rc);
	return 0;
}

void
ks_fs_close(struct ks_fs *fs)
{
	ks_fs_uploads_drop(fs);
	if (fs->audit.fd > 0)
		ks_audit_close(&fs->audit);
	for (size_t i = 0; i < fs->nareas; i++) {
		close(fs->areas[i].fd);
		free(fs->areas[i].path);
	}
	free(fs->areas);
	if (fs->base.slash > 0)
		close(fs->base.slash);
	ks_linkidx_free(&fs->links);
	free(fs->root_resolved);
	free(fs->rbuf);
	memset(fs, 0, sizeof(*fs));
}

/* The area holding landing (the deepest), and landing's path in it. */
static const struct ks_area *
find_area(const struct ks_fs *fs, const char *landing, const char **rel)
{
	const struct ks_area *best = NULL;
	size_t n;

	for (size_t i = 0; i < fs->nareas; i++) {
		if (!ks_path_beneath(landing, fs->areas[i].path))
			continue;
		if (best == NULL || strlen(fs->areas[i].path) >
		    strlen(best->path))
			best = &fs->areas[i];
	}
	if (best == NULL)
		return NULL;
	n = strlen(best->path);
	*rel = landing + (n == 1 ? 1 : n + (landing[n] == '/'));
	return best;
}

int
ks_fs_changed(struct ks_err *err, const char *path)
{
	struct ks_quote q;

	ks_err_set(err, EXDEV, KS_CODE_POLICY_DENIED, "write denied: '%s' "
	    "changed while it was being written", ks_quote(&q, path));
	if (err != NULL)
		err->rule = "changed";
	return -EXDEV;
}

int
ks_fs_not_regular(struct ks_err *err, const char *path, enum ks_code code,
    const char *what)
{
	struct ks_quote q;

	ks_err_set(err, EINVAL, code, "%s'%s' is not a regular file", what,
	    ks_quote(&q, path));
	if (err != NULL && code == KS_CODE_POLICY_DENIED)
		err->rule = "not_regular";
	return -EINVAL;
}

/* Maps an openat2 failure: a symlink where the check saw none means the
 * tree changed under us. */
static int
open_failed(struct ks_err *err, const char *path, int rc)
{
	if (rc == -ELOOP || rc == -EXDEV)
		return ks_fs_changed(err, path);
	return ks_err_os(err, -rc);
}

/*
 * Opens directory dir (relative to area descriptor afd) as O_PATH,
 * creating its missing components when create. A component that is a
 * file is EEXIST when creating, as create_dir_all reports it.
 */
int
ks_fs_open_dir(int afd, const char *dir, bool create, const char *path, int *out,
    struct ks_err *err)
{
	char comp[NAME_MAX + 1];
	const char *p = dir;
	int cur, next;
	size_t n;

	if ((cur = ks_fs_open_beneath(afd, dir, O_PATH | O_DIRECTORY, 0)) >= 0 ||
	    cur != -ENOENT || !create) {
		if (cur == -ENOTDIR && create)
			cur = -EEXIST;
		return cur < 0 ? open_failed(err, path, cur) : (*out = cur, 0);
	}
	if ((cur = fcntl(afd, F_DUPFD_CLOEXEC, 0)) < 0)
		return ks_err_os(err, errno);
	while (*p != '\0') {
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			close(cur);
			return ks_err_os(err, ENAMETOOLONG);
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n + (p[n] == '/');
		if (mkdirat(cur, comp, 0777) < 0 && errno != EEXIST) {
			next = -errno;
		} else if ((next = ks_fs_open_beneath(cur, comp, O_PATH |
		    O_DIRECTORY, 0)) == -ENOTDIR)
			next = -EEXIST;
		close(cur);
		if (next < 0)
			return open_failed(err, path, next);
		cur = next;
	}
	*out = cur;
	return 0;
}

int
ks_fs_write_all(int fd, const unsigned char *data, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Creates a fresh temporary file beside the target. */
int
ks_fs_open_temp(struct ks_fs *fs, int dfd, char *name, size_t size, mode_t mode)
{
	int fd;

	for (int i = 0; i < 16; i++) {
		snprintf(name, size, ".ks-%ld-%u.tmp", (long)getpid(),
		    ++fs->tmpseq);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    mode);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

/* Fills the temporary file: owner, mode, content, fsync. */
static int
fill_temp(int fd, const struct stat *old, const unsigned char *data,
    size_t len)
{
	int rc;

	if (old != NULL) {
		/* chown first: it clears set-id bits that chmod restores. */
		if (old->st_uid != geteuid() || old->st_gid != getegid())
			(void)fchown(fd, old->st_uid, old->st_gid);
		if (fchmod(fd, old->st_mode & 07777) < 0)
			return -errno;
	}
	if ((rc = ks_fs_write_all(fd, data, len)) < 0)
		return rc;
	return fsync(fd) < 0 ? -errno : 0;
}

int
ks_fs_target(int dfd, const char *name, const char *path, struct stat *st,
    bool *exists, struct ks_err *err)
{
	*exists = fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*exists && errno != ENOENT)
		return ks_err_os(err, errno);
	if (*exists && S_ISDIR(st->st_mode))
		return ks_err_os(err, EISDIR);
	if (*exists && S_ISLNK(st->st_mode))
		return ks_fs_changed(err, path);
	if (*exists && !S_ISREG(st->st_mode))
		return ks_fs_not_regular(err, path, KS_CODE_POLICY_DENIED,
		    "write denied: ");
	return 0;
}

/* Atomically replaces name in directory dfd with data[0..len). */
static int
replace_at(struct ks_fs *fs, int dfd, const char *name, const char *path,
    const unsigned char *data, size_t len, struct ks_err *err)
{
	char tmp[64];
	struct stat st;
	bool exists;
	int fd, rc;

	if ((rc = ks_fs_target(dfd, name, path, &st, &exists, err)) < 0)
		return rc;
	if ((fd = ks_fs_open_temp(fs, dfd, tmp, sizeof(tmp),
	    exists ? 0600 : 0666)) < 0)
		return ks_err_os(err, -fd);
	rc = fill_temp(fd, exists ? &st : NULL, data, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dfd, tmp, dfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dfd, tmp, 0);
		return ks_err_os(err, -rc);
	}
	return 0;
}

/* Splits rel into its directory (copied into dir) and its last name;
 * NULL when the directory does not fit. */
const char *
ks_fs_split_rel(const char *rel, char *dir, size_t size)
{
	/* NOLINTNEXTLINE(clang-analyzer-*): ks_fs_locate set rel. */
	const char *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : 0;

	if (n >= size)
		return NULL;
	memcpy(dir, rel, n);
	dir[n] = '\0';
	return slash ? slash + 1 : rel;
}

/* The landing place of a write to path, as an area and a path in it. */
int
ks_fs_locate(struct ks_fs *fs, const char *path, char **landing,
    const struct ks_area **area, const char **rel, bool *final_link,
    struct ks_err *err)
{
	int rc;

	if ((rc = ks_policy_check_write(&fs->pctx, path, landing, final_link,
	    err)) < 0)
		return rc;
	/* The empty path names no file (it resolved to the cwd). */
	if (*path == '\0')
		return ks_err_os(err, ENOENT);
	if ((*area = find_area(fs, *landing, rel)) == NULL)
		return ks_err_os(err, EACCES);
	if (**rel == '\0')
		return ks_err_os(err, EISDIR);
	return 0;
}

static int
store(struct ks_fs *fs, const struct ks_area *area, const char *rel,
    bool create, const char *path, const unsigned char *data, size_t len,
    struct ks_err *err)
{
	char dir[PATH_MAX];
	const char *name = ks_fs_split_rel(rel, dir, sizeof(dir));
	int dfd = -1, rc;

	if (name == NULL)
		return ks_err_os(err, ENAMETOOLONG);
	if ((rc = ks_fs_open_dir(area->fd, dir, create, path, &dfd, err)) < 0)
		return rc;
	rc = replace_at(fs, dfd, name, path, data, len, err);
	close(dfd);
	return rc;
}

int
ks_fs_write(struct ks_fs *fs, const char *path, const unsigned char *data,
    size_t len, struct ks_err *err)
{
	const struct ks_area *area = NULL;
	const char *rel = NULL;
	char *landing = NULL;
	bool final_link = false;
	int rc;

	if ((rc = ks_fs_locate(fs, path, &landing, &area, &rel, &final_link,
	    err)) == 0)
		rc = store(fs, area, rel, !final_link, path, data, len, err);
	free(landing);
	return rc;
}

/* Occurrences of e->old in buf[0..len), not overlapping, from start. */
static size_t
occurrences(const unsigned char *buf, size_t len, const struct ks_edit *e)
{
	const unsigned char *p = buf, *end = buf + len, *hit;
	size_t n = 0;

	while ((hit = memmem(p, (size_t)(end - p), e->old, e->olen)) != NULL) {
		n++;
		p = hit + e->olen;
	}
	return n;
}

/*
 * buf[0..len) with e->old replaced: the first occurrence (the
 * reference's edit; an empty old inserts at the start), or with
 * e->replace_all every one. *count: how many occur (as replaced, or
 * found when only the first is). *out (caller frees), or -ENOMEM.
 */
static int
replace(const unsigned char *buf, size_t len, const struct ks_edit *e,
    unsigned char **out, size_t *outlen, size_t *count)
{
	const unsigned char *p = buf, *end = buf + len, *hit;
	bool all = e->has_replace_all && e->replace_all && e->olen > 0;
	size_t n, o = 0;

	*out = NULL;
	if (e->olen == 0)
		n = 1;
	else if ((n = occurrences(buf, len, e)) == 0)
		return (*count = 0, 0);
	/* Opted in: how many there are; else the reference's one. */
	*count = e->has_replace_all ? n : 1;
	if (!all)
		n = 1;
	if ((*out = malloc(len + n * e->nlen + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		hit = e->olen == 0 ? p : memmem(p, (size_t)(end - p), e->old,
		    e->olen);
		memcpy(*out + o, p, (size_t)(hit - p));
		o += (size_t)(hit - p);
		memcpy(*out + o, e->new, e->nlen);
		o += e->nlen;
		p = hit + e->olen;
	}
	memcpy(*out + o, p, (size_t)(end - p));
	*outlen = o + (size_t)(end - p);
	return 0;
}

int
ks_fs_edit(struct ks_fs *fs, const char *path, const struct ks_edit *e,
    size_t *count, struct ks_err *err)
{
	const struct ks_area *area = NULL;
	const char *rel = NULL;
	char *landing = NULL;
	unsigned char *out = NULL;
	bool final_link = false;
	struct ks_quote q;
	struct stat st;
	size_t len = 0, outlen = 0;
	int fd = -1, rc;

	if ((rc = ks_fs_locate(fs, path, &landing, &area, &rel, &final_link,
	    err)) < 0 ||
	    (rc = ks_policy_read_verdict(&fs->pctx, path, path, err)) < 0 ||
	    (rc = ks_fs_judge(fs, path, landing, err)) < 0)
		goto out;
	/* NOLINTNEXTLINE(clang-analyzer-*): ks_fs_locate set area. */
	if ((fd = ks_fs_open_beneath(area->fd, rel, O_RDONLY | O_NONBLOCK, 0)) < 0) {
		rc = open_failed(err, path, fd);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = ks_err_os(err, errno);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = ks_err_os(err, EISDIR);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ks_fs_not_regular(err, path, KS_CODE_POLICY_DENIED,
		    "write denied: ");
		goto out;
	}
	if ((rc = ks_fs_hard_link(fs, path, &st, err)) < 0)
		goto out;
	if ((rc = ks_fs_read_upto(fs, fd, (size_t)st.st_size, &len)) < 0) {
		ks_err_os(err, -rc);
		goto out;
	}
	if (!ks_utf8_valid((const char *)fs->rbuf, len)) {
		rc = ks_err_set(err, EILSEQ, KS_CODE_IO,
		    "stream did not contain valid UTF-8");
		goto out;
	}
	if ((rc = replace(fs->rbuf, len, e, &out, &outlen, count)) < 0) {
		ks_err_os(err, -rc);
		goto out;
	}
	if (*count == 0) {
		rc = ks_err_set(err, ENOENT, KS_CODE_IO, "old_string not found "
		    "in %s", ks_quote(&q, path));
		goto out;
	}
	if (e->has_replace_all && !e->replace_all && *count > 1) {
		rc = ks_err_set(err, EEXIST, KS_CODE_IO, "old_string occurs "
		    "%zu times in %s; give more context to make it unique, or "
		    "set replace_all", *count, ks_quote(&q, path));
		goto out;
	}
	rc = store(fs, area, rel, false, path, out, outlen, err);
out:
	if (fd >= 0)
		close(fd);
	free(out);
	free(landing);
	return rc;
}

