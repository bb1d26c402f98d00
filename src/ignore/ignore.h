/*
 * ignore: the rules by which the `ignore` crate's walker (0.4.18, with
 * its defaults) passes over entries: .ignore files; .gitignore files and
 * .git/info/exclude inside a git work tree; those of the walk root's
 * parent directories too; git's global excludes file; hidden names.
 */
#ifndef KS_IGNORE_H
#define KS_IGNORE_H

#include <stdbool.h>

struct ks_ignore;

/*
 * Starts the rules for a walk of the directory root: the global excludes
 * file (core.excludesFile of ~/.gitconfig or $XDG_CONFIG_HOME/git/config,
 * else $XDG_CONFIG_HOME/git/ignore or ~/.config/git/ignore) and the
 * ignore files of root's parent directories. Files that cannot be read
 * add no rules. Returns 0 and *out (free with ks_ignore_free), or
 * -ENOMEM.
 */
int ks_ignore_open(const char *root, struct ks_ignore **out);

/*
 * The walk enters the directory path (open at fd; the root first): its
 * .ignore, .gitignore and .git/info/exclude join the rules until the
 * matching ks_ignore_pop. Returns 0 or -ENOMEM.
 */
int ks_ignore_push(struct ks_ignore *ig, int fd, const char *path);
void ks_ignore_pop(struct ks_ignore *ig);

/*
 * True when the walk passes over path, an entry below the root (and a
 * directory, when is_dir, is not entered): a rule ignores it, or its
 * name is hidden and no rule whitelists it.
 */
bool ks_ignore_skip(const struct ks_ignore *ig, const char *path,
    bool is_dir);

/* Frees ig; NULL is fine. */
void ks_ignore_free(struct ks_ignore *ig);

#endif
