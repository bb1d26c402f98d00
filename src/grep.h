/*
 * grep: the reference's grep: Rust-regex patterns on PCRE2 (JIT), files
 * found the way the `ignore` crate's walker finds them, lines split like
 * str::lines, whole files skipped unless valid UTF-8.
 */
#ifndef KS_GREP_H
#define KS_GREP_H

#include <stdbool.h>
#include <stddef.h>

struct ks_err;
struct ks_path_filter;

/*
 * Called once per matching line, files in ks_path_cmp order, lines in
 * file order. path is the file's path (root joined with the walk), line
 * is 1-based, text[0..len) is the line without its ending. Returns 0 to
 * go on, 1 to stop the search (the reply is full).
 */
struct ks_grep_sink {
	int (*emit)(void *ctx, const char *path, size_t line,
	    const char *text, size_t len);
	void *ctx;
};

/*
 * Searches root (a directory or a single file) for pattern, limited to
 * files whose name matches include (NULL: all), with opts (NULL: none):
 * after_path skips every match up to and including that one, in the
 * order matches come. Returns 0 when the walk
 * finished, 1 when the sink stopped it, or a negative errno with err set:
 * KS_CODE_PROTOCOL for an invalid pattern or include (the message names
 * it) and for a line on which the pattern exceeds the match limits (the
 * message names the pattern and the file).
 */
/* Opt-in search options (protocol(7), EXTENSIONS); zero: the
 * reference's search. */
struct ks_grep_opts {
	bool icase;		/* case-insensitive, as (?i) */
	bool fixed;		/* the pattern is a literal string */
	const char *after_path;	/* resume after this match: file ... */
	size_t after_line;	/* ... and line (both set, or NULL) */
};

int ks_grep_run(const char *pattern, const char *root, const char *include,
    const struct ks_grep_opts *opts, const struct ks_path_filter *filter,
    const struct ks_grep_sink *sink, struct ks_err *err);

#endif
