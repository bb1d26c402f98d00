/*
 * err: error values shared by the whole core.
 *
 * A core call that fails returns a negative errno and fills a caller's
 * struct ks_err with a reply code and the exact message the worker sends.
 * Messages quote at most KS_QUOTE_MAX bytes of any user string (SPEC §2),
 * so a message always fits in the fixed buffer and in one reply frame.
 */
#ifndef KS_ERR_H
#define KS_ERR_H

#include <stdbool.h>
#include <stddef.h>

/* Reply error codes, in the order of the wire names (ks_err_code_name). */
enum ks_code {
	KS_CODE_NONE = 0,
	KS_CODE_UNIMPLEMENTED,
	KS_CODE_POLICY_DENIED,
	KS_CODE_IO,
	KS_CODE_PROTOCOL,
	KS_CODE_INTERNAL,
};

/* Longest quote of a user string in a message, before the ending "…". */
#define KS_QUOTE_MAX 4096
/* Room for two full quotes and the surrounding words. */
#define KS_ERR_MAX (2 * (KS_QUOTE_MAX + 4) + 512)

struct ks_err {
	enum ks_code code;
	/* The policy rule behind a denial, for the audit log ("deny_read",
	 * "root", ... as koda-sandbox-audit(5) lists them), or NULL;
	 * ks_err_set clears it, the deciding call sets it after. */
	const char *rule;
	char msg[KS_ERR_MAX];
};

/* A user string cut for quoting: at most KS_QUOTE_MAX bytes, on a UTF-8
 * boundary, then "…". */
struct ks_quote {
	char s[KS_QUOTE_MAX + 4];
};

/* Wire name of a code ("policy_denied", ...). Never NULL. */
const char *ks_err_code_name(enum ks_code code);

/* Sets err to code and the printf-formatted message; returns -rc (rc > 0
 * is an errno) so that callers can write `return ks_err_set(...)`.
 * err may be NULL. */
int ks_err_set(struct ks_err *err, int rc, enum ks_code code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets err to KS_CODE_IO with "strerror(errnum) (os error errnum)", the
 * reference's text for an OS error; returns -errnum. */
int ks_err_os(struct ks_err *err, int errnum);

/* Sets err to the reference's reply to a path holding a NUL byte (io,
 * "file name contained an unexpected NUL byte"); returns -EINVAL. */
int ks_err_nul_path(struct ks_err *err);
/* The read rule's answer when what was opened is denied though the path
 * checked before was not (the tree changed meanwhile): KS_CODE_POLICY_DENIED,
 * "read denied: 'P' changed while it was being read"; returns -EXDEV. */
int ks_err_read_changed(struct ks_err *err, const char *path);

/* Writes "strerror(errnum) (os error errnum)" into buf. */
void ks_err_os_text(char *buf, size_t size, int errnum);

/* True when s[0..len) is valid UTF-8 as Rust's str accepts it (no
 * overlong forms, no surrogates, nothing past U+10FFFF; NUL is fine). */
bool ks_utf8_valid(const char *s, size_t len);

/* Returns s, or q->s holding s cut to KS_QUOTE_MAX bytes and "…". */
const char *ks_quote(struct ks_quote *q, const char *s);

#endif
