/*
 * ignfile: the rules of one ignore file (.ignore, .gitignore, an
 * exclude file) and the directory they are relative to.
 */
#ifndef KS_IGNFILE_H
#define KS_IGNFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ks_ignrule;

enum ks_ignfile_match { KS_IGN_NONE, KS_IGN_IGNORE, KS_IGN_WHITE };

/* Zero-initialise, then ks_ignfile_init; free with ks_ignfile_free. */
struct ks_ignfile {
	char *root;			/* paths are made relative to it */
	size_t rootlen;
	bool dot;			/* root is "." (nothing is stripped) */
	struct ks_ignrule *v;
	size_t n, cap;
};

/* An empty file of rules for the directory dir. 0 or -ENOMEM. */
int ks_ignfile_init(struct ks_ignfile *f, const char *dir);

/* Adds the rules of the file path (relative to dirfd; followed if a
 * link). A file that is missing or not regular adds nothing. Returns 0
 * or -ENOMEM. */
int ks_ignfile_add(struct ks_ignfile *f, int dirfd, const char *path);

/* What the last rule matching path (a directory when is_dir) says. */
enum ks_ignfile_match ks_ignfile_match(const struct ks_ignfile *f,
    const char *path, bool is_dir);

void ks_ignfile_free(struct ks_ignfile *f);

/*
 * Reads the regular file path (relative to dirfd) whole, up to 16 MiB;
 * anything else (missing, a directory, a FIFO) reads as nothing.
 * Returns the size and *out (caller frees), or -1.
 */
ssize_t ks_ignfile_read(int dirfd, const char *path, char **out);

#endif
