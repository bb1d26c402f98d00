/*
 * listdir: list_dir (an extension, protocol(7)): one directory's
 * entries with their type and size, sorted by name, the read rule
 * applied to the directory (where the lookup landed) and to each entry.
 */
#ifndef KS_LISTDIR_H
#define KS_LISTDIR_H

#include <stddef.h>
#include <sys/stat.h>

struct ks_err;
struct ks_path_filter;

/* Called once per entry, in name order; st is its lstat. Returns 0 to
 * go on, 1 to stop (the reply is full). */
struct ks_listdir_sink {
	int (*emit)(void *ctx, const char *name, const struct stat *st);
	void *ctx;
};

/*
 * Lists the directory path (links followed to it, as a read follows
 * them): entries the filter denies are left out, and so are names that
 * are not UTF-8 (counted in *skipped). Returns 0, 1 when the sink
 * stopped, or a negative errno with err set: the lookup's OS error, or
 * KS_CODE_POLICY_DENIED when the directory reached is denied though
 * its path was not ("changed while it was being read").
 */
int ks_listdir_run(const char *path, const struct ks_path_filter *filter,
    const struct ks_listdir_sink *sink, size_t *skipped, struct ks_err *err);

/* The name list_dir gives a file type: "file", "dir", "symlink"... */
const char *ks_listdir_type(mode_t mode);

#endif
