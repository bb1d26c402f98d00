/*
 * listdir: one directory read whole through the descriptor a lookup
 * opened, so every entry lies at the lookup's landing joined with its
 * name and is judged there; names sorted bytewise (Rust's Path order
 * for one component).
 */
#include "listdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "lookup.h"
#include "path.h"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The UTF-8 names of d but "." and "..", sorted. */
static int
read_names(DIR *d, struct ks_strv *names, size_t *skipped)
{
	struct dirent *de;
	int rc;

	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (!ks_utf8_valid(de->d_name, strlen(de->d_name))) {
			++*skipped;
			continue;
		}
		if ((rc = ks_strv_push(names, de->d_name,
		    strlen(de->d_name))) < 0)
			return rc;
	}
	if (errno != 0)
		return -errno;
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), name_cmp);
	return 0;
}

/* Whether entry name of the directory path (at landing) is denied: a
 * link where it leads, anything else where it is. */
static int
entry_denied(const struct ks_path_filter *f, const char *path,
    const char *landing, const char *name, const struct stat *st)
{
	char *p = ks_path_join(path, name), *at = ks_path_join(landing, name);
	int denied = -ENOMEM;

	if (p != NULL && at != NULL)
		denied = S_ISLNK(st->st_mode) ? ks_path_denied(f, p) :
		    ks_path_denied_at(f, p, at);
	free(p);
	free(at);
	return denied;
}

static int
emit_all(int fd, const char *path, const char *landing,
    const struct ks_path_filter *f, const struct ks_strv *names,
    const struct ks_listdir_sink *sink)
{
	struct stat st;
	int rc = 0, denied;

	for (size_t i = 0; i < names->n && rc == 0; i++) {
		if (fstatat(fd, names->v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone since the listing */
		if ((denied = entry_denied(f, path, landing, names->v[i],
		    &st)) < 0)
			return denied;
		if (!denied)
			rc = sink->emit(sink->ctx, names->v[i], &st);
	}
	return rc;
}

int
ks_listdir_run(const char *path, const struct ks_path_filter *filter,
    const struct ks_listdir_sink *sink, size_t *skipped, struct ks_err *err)
{
	struct ks_strv names = { 0 };
	char *landing = NULL;
	DIR *d = NULL;
	int fd, rc;

	*skipped = 0;
	fd = ks_lookup_open(path, ks_path_base(filter), O_RDONLY |
	    O_DIRECTORY, KS_LOOKUP_FOLLOW, &landing);
	if (fd < 0) {
		rc = ks_err_os(err, -fd);
		goto out;
	}
	if (ks_path_denied_at(filter, path, landing)) {
		rc = ks_err_read_changed(err, path);
		goto out;
	}
	if ((d = fdopendir(fd)) == NULL) {
		rc = ks_err_os(err, errno);
		goto out;
	}
	if ((rc = read_names(d, &names, skipped)) == 0)
		rc = emit_all(dirfd(d), path, landing, filter, &names, sink);
	if (rc < 0)
		ks_err_os(err, -rc);
out:
	if (d != NULL)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	ks_strv_free(&names);
	free(landing);
	return rc;
}

const char *
ks_listdir_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return "file";
	case S_IFDIR:	return "dir";
	case S_IFLNK:	return "symlink";
	case S_IFIFO:	return "fifo";
	case S_IFSOCK:	return "socket";
	case S_IFCHR:	return "char_device";
	case S_IFBLK:	return "block_device";
	default:	return "unknown";
	}
}
