/*
 * globdir: what glob.c's walk holds while it expands a pattern (its
 * todo entries, the directories they lie in, the walk itself) and the
 * directory layer under it, in globdir.c: opening the directories a
 * walk looks into, and listing them.
 */
#ifndef KS_GLOBDIR_H
#define KS_GLOBDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "glob.h"
#include "path.h"

/* Pattern index of an entry the crate has already matched (its !0). */
#define DONE		SIZE_MAX
/* Directories looked into before the walk gives up: seconds of work. */
#define VISIT_MAX	((size_t)1 << 20)
/* O_PATH descriptors held at once; deeper directories go by path. */
#define FD_MAX		64
/* Bytes of directory entries read at once. */
#define DENTS_SIZE	32768

/*
 * Expansion. An entry is the crate's (PathBuf, index) todo item, plus
 * where to look its last step up: dir, a directory the walk holds, and
 * the name within path, so that the kernel walks only that step.
 */
struct node {
	int fd;			/* O_PATH, or -1: look up by the whole path */
	unsigned refs;
	dev_t dev;
	ino_t ino;
	struct node *up;	/* the directory a `**` listed this one from */
	bool link;		/* a symlink on its path: no fd below it */
	bool listed;		/* listed through fd before: seek back */
	char *landing;		/* set: fd is open for listing and lies here
				 * (node_open_known), else fd is O_PATH */
};

struct entry {
	char *path;
	size_t len, name, idx;
	struct node *dir;	/* NULL: path from the working directory */
	unsigned char type;	/* the listing's d_type; DT_UNKNOWN: ask */
};

struct walk {
	char *dents;			/* getdents64's buffer, DENTS_SIZE */
	struct ks_glob_pat **pat;	/* one per component */
	size_t npat;
	bool require_dir;		/* the pattern ends in '/' */
	const struct ks_path_filter *filter;
	struct entry *todo;
	size_t ntodo, captodo;
	struct ks_strv res;
	size_t bytes, visits;
	unsigned nfd;
};

struct node *ks_gd_node_get(struct node *n);
/* Drops a reference; iterative: a `**` chain can be thousands long. */
void ks_gd_node_put(struct walk *w, struct node *n);
void ks_gd_entry_free(struct walk *w, struct entry *e);
/* fs::metadata(path) (symlinks followed) succeeds; into *st. */
bool ks_gd_stat(const struct entry *e, struct stat *st);
bool ks_gd_is_dir(const struct entry *e);
/* Opens e when it is a directory: *out, or NULL when it is not one;
 * -E2BIG past VISIT_MAX directories, -ENOMEM. */
int ks_gd_node_open(struct walk *w, const struct entry *e,
    struct node **out);
/* True when a `**` has entered n already on the way down (a loop). */
bool ks_gd_on_chain(const struct node *up, const struct node *n);
/* Rust's path == Path::new("."). */
bool ks_gd_is_curdir(const char *p);
/* The crate's next_path: e's path joined to s[0..sl) in dir, or s alone
 * where e is the current directory (curdir). 0 or -ENOMEM. */
int ks_gd_child(const struct entry *e, struct node *dir, const char *s,
    size_t sl, bool curdir, struct entry *c);
/* Pushes *e onto the todo stack, taking it over (freed on failure). */
int ks_gd_push(struct walk *w, struct entry *e);
/* Lists e (h) onto the todo stack for pattern idx, sorted as the crate
 * sorts: 1, 0 when it cannot be read (the crate drops it), or -ENOMEM,
 * -EMFILE, -ENFILE. */
int ks_gd_read(struct walk *w, size_t idx, const struct entry *e,
    struct node *h);

#endif
