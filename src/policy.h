/*
 * policy: the JSON policy (SPEC §4): parse, compose, print, and the
 * verdicts of the write and read rules. It decides; it never writes.
 * The worker and policy-check reach every verdict through these calls.
 */
#ifndef KS_POLICY_H
#define KS_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "path.h"

struct ks_err;
typedef struct json_t json_t;

enum ks_trust { KS_TRUST_AUTO, KS_TRUST_REQUIRE, KS_TRUST_FORBID };

/* An optional non-negative limit; set false means unlimited. */
struct ks_limit {
	bool set;
	uint64_t v;
};

struct ks_policy {
	struct ks_strv deny_read;
	struct ks_strv allow_read_within_deny;
	struct ks_strv allow_write;
	struct ks_strv deny_write_within_allow;
	bool allow_git_config;
	unsigned depth;			/* mandatory_deny_search_depth */

	struct ks_strv allowed_domains;
	struct ks_strv denied_domains;
	bool allow_local_binding;
	bool has_mitm;
	char *mitm_ca_bundle;
	struct ks_strv mitm_domains;	/* socket_map, pairwise with: */
	struct ks_strv mitm_sockets;
	bool weaker_macos_isolation;

	struct ks_limit cpu_time_secs, wall_time_secs, max_rss_bytes,
	    max_open_fds, max_output_bytes;
	/* An extension: the size a write in parts may reach (fsops.h). */
	struct ks_limit max_write_bytes;
	enum ks_trust trust;
};

/* The most the worker applies of two limits; a larger value is clamped
 * to it by the worker and reported by validate (ks_policy_clamps). More
 * CPU seconds overflow the kernel's accounting (the worker would be
 * killed at once); more descriptors than the kernel's default nr_open
 * cannot be set. */
#define KS_LIMIT_CPU_MAX 4294967295ull
#define KS_LIMIT_FDS_MAX 1048576ull

/* Sets p to the default policy (every list empty, depth 3, trust auto). */
void ks_policy_init(struct ks_policy *p);

/* Frees what p owns and resets it to the default; NULL is fine. */
void ks_policy_free(struct ks_policy *p);

/*
 * Parses the policy JSON text[0..len). Returns 0, or -EINVAL with err
 * set (KS_CODE_PROTOCOL, a one-line reason) on the first error. When
 * problems is not NULL, parsing goes on after a type error and every
 * error is appended to it ("fs.allow_write: expected an array of strings");
 * unknown keys are appended to unknown ("fs.alow_write") when it is not
 * NULL. p is initialised here; free it with ks_policy_free.
 */
int ks_policy_parse(const char *text, size_t len, struct ks_policy *p,
    struct ks_strv *problems, struct ks_strv *unknown, struct ks_err *err);

/*
 * The warning for an unknown key as ks_policy_parse reports it
 * ("fs.deny_raed"): "fs.deny_raed: unknown key, ignored (did you mean
 * fs.deny_read?)", naming the nearest known key when one is near
 * enough. Writes it into buf; returns snprintf's count.
 */
int ks_policy_unknown_text(const char *key, char *buf, size_t size);

/* Composes parent and child into out (initialised here) by SPEC §4's
 * rules: never wider than parent. Returns 0 or -ENOMEM. */
int ks_policy_compose(const struct ks_policy *parent,
    const struct ks_policy *child, struct ks_policy *out);

/* The policy as a JSON object with every field, keys in SPEC order.
 * Caller owns the reference (json_decref). NULL on ENOMEM. */
json_t *ks_policy_to_json(const struct ks_policy *p);

/* What the write and read verdicts need besides the policy. */
struct ks_policy_ctx {
	const struct ks_policy *policy;
	const char *root;		/* --root as given, or NULL (legacy) */
	const char *root_resolved;	/* root with links followed */
	const char *home;		/* $HOME, or NULL */
};

/*
 * The write verdict for path as sent (SPEC §4 items 1-4). Returns 0 and
 * *landing (caller frees): the resolved place the write lands; or a
 * negative errno with err set (KS_CODE_POLICY_DENIED and the reference's
 * message, or KS_CODE_IO when the path cannot be resolved).
 * *final_link says whether path's last component is a symlink (so its
 * missing parents must not be created).
 */
int ks_policy_check_write(const struct ks_policy_ctx *ctx, const char *path,
    char **landing, bool *final_link, struct ks_err *err);

/*
 * The read verdict for path as sent (SPEC §4 read rule), on the path and
 * where it resolves. Returns 0 when allowed, else a negative errno with
 * err set (KS_CODE_POLICY_DENIED).
 */
int ks_policy_check_read(const struct ks_policy_ctx *ctx, const char *path,
    struct ks_err *err);

/*
 * The read rule on one path, taken as it is (nothing is resolved): 0
 * when allowed, else a negative errno with err set (KS_CODE_POLICY_DENIED,
 * the message naming as_sent). Callers judge the path as sent and where
 * it landed (ks_lookup_open's landing), each through this call.
 */
int ks_policy_read_verdict(const struct ks_policy_ctx *ctx, const char *path,
    const char *as_sent, struct ks_err *err);

/*
 * ks_policy_walk_prune for an entry whose landing place is known (a
 * walk through descriptors, where no component is a link): judged on
 * path as walked and on landing, nothing looked up.
 */
bool ks_policy_prune_at(const struct ks_policy_ctx *ctx, const char *path,
    const char *landing);

/*
 * The read rule during a walk (glob, grep): path is an entry as walked,
 * judged as sent and where it resolves. The entries of one directory
 * come together, so the directory's resolution is kept in cache
 * (zero-initialise; free with ks_policy_cache_free).
 */
struct ks_read_cache {
	char *dir;
	char *resolved;
};

bool ks_policy_read_denied(const struct ks_policy_ctx *ctx,
    struct ks_read_cache *cache, const char *path);
void ks_policy_cache_free(struct ks_read_cache *cache);

/*
 * Whether a walk may leave path out with all beneath it: it is denied
 * and no allow_read_within_deny hole lies beneath it. (A denied
 * directory that holds a hole is walked; its entries are judged one by
 * one.)
 */
bool ks_policy_walk_prune(const struct ks_policy_ctx *ctx,
    struct ks_read_cache *cache, const char *path);

/*
 * Appends to problems one line per limit of p above what the worker
 * applies ("limits.cpu_time_secs: N is more than the worker applies;
 * it is clamped to 4294967295"). Returns 0 or -ENOMEM.
 */
int ks_policy_clamps(const struct ks_policy *p, struct ks_strv *problems);

/* Clamps depth into the symlink-chain range the write rule walks. */
unsigned ks_policy_chain_depth(unsigned depth);

/*
 * validate's checks beyond what parsing rejects (policy-check validate).
 * Appends to problems one line per path entry that is not absolute, in
 * the fs path lists and net.mitm ("fs.allow_write: 'src' is not an
 * absolute path (...)"): the worker uses entries as written, so such an
 * entry matches nothing the user meant. Works on the text, so it reports
 * even when ks_policy_parse fails elsewhere; text that is not JSON, and
 * entries of the wrong type, are left to ks_policy_parse. Returns 0 or
 * -ENOMEM. The strings are owned by problems.
 */
int ks_policy_lint(const char *text, size_t len, struct ks_strv *problems);

#endif
