/*
 * lookup: opening a path the way the kernel would, one component at a
 * time through directory descriptors, so that the caller learns where
 * the object it holds really is.
 *
 * The read rule is a rule about paths, and a path checked as a string
 * can change before it is opened (a directory swapped for a symlink to
 * a denied area). Here every component is opened with O_NOFOLLOW from
 * the directory descriptor of the one before; a symlink is read from
 * that same directory (readlinkat) and followed in user space. The
 * landing path returned is therefore the path of the object actually
 * opened, built from the very descriptors that reached it, and the
 * verdict that the caller takes on it holds for that object however
 * the tree changes around it.
 */
#ifndef KS_LOOKUP_H
#define KS_LOOKUP_H

#include <stdbool.h>

/*
 * A directory whose resolution is known (the worker's root): a lookup
 * of a path beneath it as given starts at fd instead of walking its
 * components again. fd is O_PATH | O_DIRECTORY; slash (may be -1) is a
 * descriptor of "/" to start absolute paths and links from.
 */
struct ks_lookup_base {
	const char *path;	/* as given, or NULL: no base */
	const char *resolved;	/* path with its links followed */
	int fd;
	int slash;
};

/* Follow a symlink in the last component too (open(2) without
 * O_NOFOLLOW); without it the last component is opened itself. */
#define KS_LOOKUP_FOLLOW 1u

/*
 * Opens path with flags (O_NOFOLLOW and O_CLOEXEC are added; O_PATH is
 * allowed), relative paths from the working directory. Returns the
 * descriptor, or a negative errno: the error the kernel's own open of
 * path would give (ENOENT, ENOTDIR, EACCES, ELOOP past 40 links,
 * ENAMETOOLONG, ENXIO for a socket...), or -ENOMEM.
 * *landing (caller frees) is where path lands: on success the object's
 * own path, absolute and without links (never NULL); on failure what
 * ks_path_resolve says of the path, or NULL when it cannot be resolved
 * (a loop, ENOMEM).
 * base may be NULL.
 */
int ks_lookup_open(const char *path, const struct ks_lookup_base *base,
    int flags, unsigned opts, char **landing);

#endif
