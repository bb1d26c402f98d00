/*
 * lookup: the kernel's path walk, done one component at a time from
 * directory descriptors so that the path of what was opened is known.
 *
 * Each step opens a name with O_NOFOLLOW relative to the directory held
 * by the step before. A name that turns out to be a symlink is read
 * with readlinkat from that same directory and its target is spliced in
 * front of the rest, as ks_path_resolve splices it; ".." is opened from
 * the descriptor too, so it climbs from where the walk really is. The
 * string built beside the descriptors is then the path of the object
 * opened: no component of it is a link, and each was opened inside the
 * one before. When a step fails, the kernel would have failed there with
 * the same errno; the rest of the landing path is then left to
 * ks_path_resolve, so that a denial reads as it always has.
 */
#include "lookup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

/* Symlinks followed in one lookup: the kernel's MAXSYMLINKS. */
#define MAX_LINKS 40
/* A name that stops being a link between fstatat and readlinkat is
 * looked at again, this often. */
#define RETRIES 8

struct lookup {
	struct ks_pathbuf b;	/* the resolved path of cur */
	char *rest;		/* the text left to walk (links spliced in) */
	const char *tail;	/* where in rest */
	const char *failed;	/* the component being walked, in rest */
	int cur;		/* the directory b names */
	bool own;		/* cur is ours to close */
	int slash;		/* "/" from the base, or -1 */
	unsigned links;
};

static void
set_cur(struct lookup *l, int fd, bool own)
{
	if (l->own)
		close(l->cur);
	l->cur = fd;
	l->own = own;
}

/* Starts l at "/" (an absolute path, or a link to one). */
static int
at_slash(struct lookup *l)
{
	int fd;

	l->b.len = 0;
	if (l->b.s != NULL)
		l->b.s[0] = '\0';
	if (l->slash >= 0) {
		set_cur(l, l->slash, false);
		return 0;
	}
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	set_cur(l, fd, true);
	return 0;
}

/* Where path starts: at the base when path is the base as given or
 * beneath it, at "/" when absolute, else at the working directory. */
static int
start(struct lookup *l, const char *path, const struct ks_lookup_base *base)
{
	size_t n = base != NULL && base->path != NULL ? strlen(base->path) : 0;
	char cwd[PATH_MAX];
	const char *from = path;
	int rc;

	while (n > 1 && base->path[n - 1] == '/')
		n--;
	if (n > 0 && base->path[0] == '/' && strncmp(path, base->path,
	    n) == 0 && (path[n] == '/' || path[n] == '\0')) {
		from = path + n;
		set_cur(l, base->fd, false);
		if (strcmp(base->resolved, "/") != 0 && ks_pathbuf_push(&l->b,
		    base->resolved + 1, strlen(base->resolved + 1)) < 0)
			return -ENOMEM;
	} else if (path[0] == '/') {
		if ((rc = at_slash(l)) < 0)
			return rc;
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -errno;
		set_cur(l, AT_FDCWD, false);
		if (strcmp(cwd, "/") != 0 &&
		    ks_pathbuf_push(&l->b, cwd + 1, strlen(cwd + 1)) < 0)
			return -ENOMEM;
	}
	if ((l->rest = strdup(from)) == NULL)
		return -ENOMEM;
	l->tail = l->rest;
	return 0;
}

/*
 * The next component of l->tail: 0 at the end, else its length, *c set.
 * *last: nothing but slashes and "." follow; *dir: the component must be
 * a directory (more follows, or a trailing slash).
 */
static size_t
next_comp(struct lookup *l, const char **c, bool *last, bool *dir)
{
	const char *p = l->tail, *q;
	size_t n;

	for (;;) {
		/* NOLINTNEXTLINE(clang-analyzer-*): tail is set by start() before any walk. */
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!(n == 1 && p[0] == '.'))
			break;
		p += 1;
	}
	if (n == 0)
		return 0;
	*c = p;
	l->tail = p + n;
	for (q = l->tail;; q++) {
		while (*q == '/')
			q++;
		if (!(q[0] == '.' && (q[1] == '/' || q[1] == '\0')))
			break;
	}
	*last = *q == '\0';
	*dir = !*last || *l->tail != '\0';
	return n;
}

/* Follows the link name in l->cur: its target goes in front of the
 * rest. Returns 0, 1 when name is no link any more, or -errno. */
static int
follow(struct lookup *l, const char *name)
{
	char target[PATH_MAX];
	ssize_t n;
	int rc;

	if (++l->links > MAX_LINKS)
		return -ELOOP;
	if ((n = readlinkat(l->cur, name, target, sizeof(target) - 1)) < 0)
		return errno == EINVAL ? (l->links--, 1) : -errno;
	target[n] = '\0';
	if (target[0] == '/' && (rc = at_slash(l)) < 0)
		return rc;
	if (*l->tail == '\0') {
		free(l->rest);
		if ((l->rest = strdup(target)) == NULL)
			return -ENOMEM;
	} else if (ks_path_splice(&l->rest, target, l->tail) < 0) {
		return -ENOMEM;
	}
	l->tail = l->rest;
	return 0;
}

/*
 * What to do with name in l->cur after an open with O_NOFOLLOW failed
 * with rc (or found a link, rc 0 with an O_PATH descriptor): 0 when it
 * is a link that was followed, 1 to open it again, or rc itself.
 */
static int
after_nofollow(struct lookup *l, const char *name, int rc, bool follow_it)
{
	struct stat st;

	if (rc != 0 && rc != -ELOOP && rc != -ENOTDIR)
		return rc;
	if (fstatat(l->cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rc != 0 ? rc : -errno;
	if (S_ISLNK(st.st_mode))
		return follow_it ? follow(l, name) : rc;
	/* No link now, but the open met one (ELOOP, or ENOTDIR where a
	 * directory stands now): the name was swapped meanwhile. */
	if (rc == 0 || rc == -ELOOP || S_ISDIR(st.st_mode))
		return 1;
	return rc;
}

/* The final component: opened with the caller's flags. Returns the
 * descriptor, -EAGAIN when a link was followed (walk on), or -errno. */
static int
open_last(struct lookup *l, const char *name, int flags, bool dir,
    bool follow_it)
{
	struct stat st;
	int fd, rc;

	flags |= O_NOFOLLOW | O_CLOEXEC | (dir ? O_DIRECTORY : 0);
	for (int i = 0; i < RETRIES; i++) {
		fd = openat(l->cur, name, flags);
		if (fd >= 0 && (!(flags & O_PATH) || !(follow_it || dir)))
			return fd;
		if (fd >= 0) {
			/* O_PATH | O_NOFOLLOW opens a link itself. */
			if (fstat(fd, &st) == 0 && !S_ISLNK(st.st_mode))
				return fd;
			close(fd);
			rc = 0;
		} else {
			rc = -errno;
		}
		rc = after_nofollow(l, name, rc, follow_it || dir);
		if (rc == 0)
			return -EAGAIN;
		if (rc < 0)
			return rc;
	}
	return -ELOOP;
}

/* A component with more after it: it must be a directory. Returns 0
 * (stepped in, or a link followed) or -errno. */
static int
step_dir(struct lookup *l, const char *name, size_t n)
{
	int fd, rc;

	for (int i = 0; i < RETRIES; i++) {
		fd = openat(l->cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd >= 0) {
			set_cur(l, fd, true);
			return ks_pathbuf_push(&l->b, name, n);
		}
		if ((rc = after_nofollow(l, name, -errno, true)) <= 0)
			return rc;
	}
	return -ELOOP;
}

/* ".." from where the walk is: the kernel's own parent of cur. */
static int
step_up(struct lookup *l, bool last, int flags, int *out)
{
	int fd = openat(l->cur, "..", last ? flags | O_CLOEXEC :
	    O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ks_pathbuf_pop(&l->b);
	if (last)
		*out = fd;
	else
		set_cur(l, fd, true);
	return 0;
}

/* The walk: the descriptor of the object, or -errno where it stopped
 * (l->b and l->tail then say where). */
static int
walk(struct lookup *l, int flags, unsigned opts)
{
	char name[NAME_MAX + 1];
	const char *c = NULL;
	bool last = false, dir = false;
	size_t n;
	int rc, fd = -1;

	for (;;) {
		if ((n = next_comp(l, &c, &last, &dir)) == 0) {
			/* "/", "." or a link to one: the directory itself. */
			l->failed = NULL;
			fd = openat(l->cur, ".", flags | O_CLOEXEC);
			return fd < 0 ? -errno : fd;
		}
		l->failed = c;
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, c, n);
		name[n] = '\0';
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if ((rc = step_up(l, last, flags, &fd)) < 0)
				return rc;
			if (last)
				return fd;
			continue;
		}
		if (!last) {
			if ((rc = step_dir(l, name, n)) < 0)
				/* NOLINTNEXTLINE(clang-analyzer-*): c points into l->rest. */
				return rc;
			continue;
		}
		rc = open_last(l, name, flags, dir, opts & KS_LOOKUP_FOLLOW);
		if (rc == -EAGAIN)
			continue;
		if (rc >= 0 && ks_pathbuf_push(&l->b, name, n) < 0) {
			close(rc);
			return -ENOMEM;
		}
		return rc;
	}
}

/* The landing place of a failed walk: the resolved part joined with
 * what was left, resolved as the read rule always resolved it. */
static char *
failed_landing(struct lookup *l, const char *path, int rc)
{
	char *text = NULL, *out = NULL, *done;

	if (rc == -ELOOP || rc == -ENOMEM)
		return NULL;
	if (l->rest == NULL) {
		(void)ks_path_resolve(path, &out, NULL);
		return out;
	}
	if ((done = ks_pathbuf_finish(&l->b)) == NULL)
		return NULL;
	/* The component that failed is still in front of the tail. */
	text = ks_path_join(done, l->failed != NULL ? l->failed : l->tail);
	free(done);
	if (text != NULL)
		(void)ks_path_resolve(text, &out, NULL);
	free(text);
	return out;
}

int
ks_lookup_open(const char *path, const struct ks_lookup_base *base,
    int flags, unsigned opts, char **landing)
{
	struct lookup l = { .cur = AT_FDCWD, .slash = base != NULL ?
	    base->slash : -1 };
	int rc;

	*landing = NULL;
	if (path[0] == '\0')
		rc = -ENOENT;
	else if (strlen(path) >= PATH_MAX)
		rc = -ENAMETOOLONG;
	else if ((rc = start(&l, path, base)) == 0)
		rc = walk(&l, flags, opts);
	if (rc >= 0 && (*landing = ks_pathbuf_finish(&l.b)) == NULL) {
		close(rc);
		rc = -ENOMEM;
	} else if (rc < 0) {
		*landing = failed_landing(&l, path, rc);
	}
	set_cur(&l, -1, false);
	free(l.b.s);
	free(l.rest);
	return rc;
}
