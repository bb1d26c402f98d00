/*
 * verdict: the write and read rules (SPEC §4) on path strings: the
 * write rule's symlink chain and landing place, the read rule as sent,
 * where a path resolves, and during walks. It decides; it opens
 * nothing but what resolving a path needs to look at.
 */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

#define MIN_CHAIN_DEPTH 8
#define MAX_CHAIN_DEPTH 40

/* The one fully-protected place: koda's credential database. */
#define PROTECTED_SEQ ".config/koda/db"

unsigned
ks_policy_chain_depth(unsigned depth)
{
	if (depth < MIN_CHAIN_DEPTH)
		return MIN_CHAIN_DEPTH;
	return depth > MAX_CHAIN_DEPTH ? MAX_CHAIN_DEPTH : depth;
}

static bool
fully_protected(const struct ks_policy_ctx *ctx, const char *path)
{
	char buf[4096];
	size_t n;

	/* Both tests need the component ".config": most paths have none
	 * (and a tree named after koda has "koda" in every path). */
	if (strstr(path, ".config") == NULL)
		return false;
	if (ks_path_has_components(path, PROTECTED_SEQ))
		return true;
	if (ctx->home == NULL || ctx->home[0] == '\0' ||
	    (n = strlen(ctx->home)) + sizeof(PROTECTED_SEQ) + 1 > sizeof(buf))
		return false;
	/* Built with memcpy: this runs for every entry a walk judges. */
	memcpy(buf, ctx->home, n);
	buf[n] = '/';
	memcpy(buf + n + 1, PROTECTED_SEQ, sizeof(PROTECTED_SEQ));
	return ks_path_beneath(path, buf);
}

static bool
critical(const struct ks_policy_ctx *ctx, const char *path)
{
	size_t n = strlen(path);

	if (strcmp(path, "*") == 0 || (n >= 2 && strcmp(path + n - 2,
	    "/*") == 0) || (n >= 3 && strcmp(path + n - 3, "/\\*") == 0))
		return true;
	return ks_path_equal(path, "/") || ks_path_is_root_child(path) ||
	    (ctx->home != NULL && ks_path_equal(path, ctx->home));
}

static bool
git_config(const char *path)
{
	return ks_path_has_components(path, ".git/config") ||
	    ks_path_has_components(path, ".git/hooks");
}

/* Resolves path; the root's own resolution is known already. */
static int
resolve(const struct ks_policy_ctx *ctx, const char *path, char **out,
    struct ks_err *err)
{
	return ks_path_resolve_under(path, ctx->root, ctx->root_resolved, out,
	    err);
}

/* A denial by rule (err->rule, for the audit log). */
static int
deny(struct ks_err *err, const char *rule, const char *fmt, const char *a,
    const char *b)
{
	struct ks_quote qa, qb;
	int rc = ks_err_set(err, EACCES, KS_CODE_POLICY_DENIED, fmt,
	    ks_quote(&qa, a), b != NULL ? ks_quote(&qb, b) : "");

	if (err != NULL)
		err->rule = rule;
	return rc;
}

/* Items 1 and 2 on the path as sent. */
static int
check_protected(const struct ks_policy_ctx *ctx, const char *path,
    struct ks_err *err)
{
	if (fully_protected(ctx, path))
		return deny(err, "fully_protected", "write denied: '%s' is a fully-protected "
		    "path%s", path, NULL);
	if (critical(ctx, path))
		return deny(err, "critical_system_path", "write denied: '%s' is a critical system "
		    "path%s", path, NULL);
	return 0;
}

/* For the audit's rule: path, taken as text, lies in the root, so a
 * link on its way led it out (the reply is the reference's either way). */
static bool
led_out(const struct ks_policy_ctx *ctx, const char *path)
{
	char *lex;
	bool in;

	/* A relative root ("."): its resolution is the absolute form. */
	if (path[0] != '/' || (lex = ks_path_normalize(path)) == NULL)
		return false;
	in = ks_path_beneath(lex, ctx->root_resolved);
	free(lex);
	return in;
}

/*
 * Item 3 for one candidate: where it resolves must be writable. known is
 * the candidate's resolution when the caller has it already (the path
 * itself, and its landing place, which is its own resolution).
 */
static int
check_candidate(const struct ks_policy_ctx *ctx, const char *path,
    const char *cand, const char *known, bool hop, struct ks_err *err)
{
	const struct ks_policy *p = ctx->policy;
	const char *r = known, *rule = hop ? "symlink_chain" : "root";
	char *res = NULL;
	bool inside, carved, outside;

	if (fully_protected(ctx, cand) || critical(ctx, cand))
		return deny(err, "symlink_chain", "write denied: symlink chain reaches "
		    "protected path '%s'%s", cand, NULL);
	/* A path that cannot be resolved (a loop) lands nowhere allowed. */
	if (r == NULL && resolve(ctx, cand, &res, NULL) < 0)
		return deny(err, rule, "write denied: '%s' is outside "
		    "writable root '%s'", path, ctx->root);
	if (r == NULL)
		r = res;
	inside = ks_path_beneath(r, ctx->root_resolved);
	carved = ks_path_beneath_any(r, &p->deny_write_within_allow);
	outside = !inside && (carved || !ks_path_beneath_any(r, &p->allow_write));
	if (outside && carved && ks_path_beneath_any(r, &p->allow_write))
		rule = "deny_write_within_allow";
	else if (outside && !hop && led_out(ctx, cand))
		rule = "symlink_chain";
	free(res);
	if (outside)
		return deny(err, rule, "write denied: '%s' is outside "
		    "writable root '%s'", path, ctx->root);
	if (inside && carved)
		return deny(err, "deny_write_within_allow", "write denied: '%s' is in a write-protected "
		    "sub-path%s", path, NULL);
	return 0;
}

/* The candidates, in order: the path, its symlink hops, the landing. */
static int
check_chain(const struct ks_policy_ctx *ctx, const char *path,
    const char *landing, bool *final_link, struct ks_err *err)
{
	struct ks_strv chain = { 0 };
	const char *known;
	int rc;

	if ((rc = ks_path_chain(path, ks_policy_chain_depth(
	    ctx->policy->depth), &chain)) < 0 ||
	    (rc = ks_strv_push(&chain, landing, strlen(landing))) < 0) {
		ks_strv_free(&chain);
		return ks_err_os(err, -rc);
	}
	*final_link = chain.n > 2;
	for (size_t i = 0; i < chain.n && rc == 0 && ctx->root != NULL; i++) {
		known = i == 0 || i + 1 == chain.n ? landing : NULL;
		rc = check_candidate(ctx, path, chain.v[i], known, i > 0, err);
	}
	ks_strv_free(&chain);
	return rc;
}

int
ks_policy_check_write(const struct ks_policy_ctx *ctx, const char *path,
    char **landing, bool *final_link, struct ks_err *err)
{
	char *res = NULL;
	int rc;

	*landing = NULL;
	if ((rc = check_protected(ctx, path, err)) < 0)
		return rc;
	/* With a root, an empty path or a bare name cannot be placed. */
	if (ctx->root != NULL && strchr(path, '/') == NULL)
		return deny(err, "root", "write denied: '%s' is outside "
		    "writable root '%s'", path, ctx->root);
	/* With a root, a path that cannot be resolved cannot be shown to
	 * lie beneath it: denied. A loop is the write's own error (ELOOP),
	 * as the reference answers it. */
	if ((rc = resolve(ctx, path, &res, err)) < 0 && rc != -ENOMEM &&
	    rc != -ELOOP && ctx->root != NULL)
		return deny(err, "root", "write denied: '%s' is outside "
		    "writable root '%s'", path, ctx->root);
	if (rc < 0)
		return rc;
	if ((rc = check_chain(ctx, path, res, final_link, err)) < 0)
		goto out;
	if (!ctx->policy->allow_git_config &&
	    (git_config(path) || git_config(res))) {
		rc = deny(err, "git_config", "write denied: '%s' is a git config path "
		    "(allow_git_config is off)%s", path, NULL);
		goto out;
	}
	*landing = res;
	res = NULL;
out:
	free(res);
	return rc;
}

int
ks_policy_read_verdict(const struct ks_policy_ctx *ctx, const char *path,
    const char *as_sent, struct ks_err *err)
{
	const struct ks_policy *p = ctx->policy;

	if (fully_protected(ctx, path))
		return deny(err, "fully_protected", "read denied: '%s' is a fully-protected "
		    "path%s", as_sent, NULL);
	if (ks_path_beneath_any(path, &p->deny_read) &&
	    !ks_path_beneath_any(path, &p->allow_read_within_deny))
		return deny(err, "deny_read", "read denied: '%s' is in a read-denied "
		    "path%s", as_sent, NULL);
	return 0;
}

int
ks_policy_check_read(const struct ks_policy_ctx *ctx, const char *path,
    struct ks_err *err)
{
	char *res = NULL;
	int rc;

	if ((rc = ks_policy_read_verdict(ctx, path, path, err)) < 0)
		return rc;
	if (resolve(ctx, path, &res, NULL) < 0)
		return 0;	/* a loop: the open fails with ELOOP itself */
	rc = ks_policy_read_verdict(ctx, res, path, err);
	free(res);
	return rc;
}

void
ks_policy_cache_free(struct ks_read_cache *cache)
{
	free(cache->dir);
	free(cache->resolved);
	cache->dir = cache->resolved = NULL;
}

/* Resolves dir into the cache unless it is there already. */
static int
cache_dir(const struct ks_policy_ctx *ctx, struct ks_read_cache *cache,
    const char *dir, size_t len)
{
	if (cache->dir != NULL && strlen(cache->dir) == len &&
	    memcmp(cache->dir, dir, len) == 0)
		return 0;
	ks_policy_cache_free(cache);
	if ((cache->dir = strndup(dir, len)) == NULL ||
	    resolve(ctx, cache->dir, &cache->resolved, NULL) < 0) {
		ks_policy_cache_free(cache);
		return -1;
	}
	return 0;
}

bool
ks_policy_read_denied(const struct ks_policy_ctx *ctx,
    struct ks_read_cache *cache, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *res = NULL;
	struct stat st;
	bool denied;
	int rc = 0;

	if (ks_policy_read_verdict(ctx, path, path, NULL) < 0)
		return true;
	/* A link is judged where it leads; anything else where its
	 * directory really is. Unresolvable: denied (fail closed). */
	if (slash == NULL || lstat(path, &st) < 0 || S_ISLNK(st.st_mode))
		rc = resolve(ctx, path, &res, NULL);
	else if (cache_dir(ctx, cache, path, (size_t)(slash - path)) < 0 ||
	    (res = ks_path_join(cache->resolved, slash + 1)) == NULL)
		rc = -1;
	if (rc < 0)
		return true;
	denied = ks_policy_read_verdict(ctx, res, path, NULL) < 0;
	free(res);
	return denied;
}

/* True when an allow_read_within_deny entry lies beneath path. */
static bool
hole_beneath(const struct ks_policy *p, const char *path)
{
	for (size_t i = 0; i < p->allow_read_within_deny.n; i++)
		if (ks_path_beneath(p->allow_read_within_deny.v[i], path))
			return true;
	return false;
}

bool
ks_policy_prune_at(const struct ks_policy_ctx *ctx, const char *path,
    const char *landing)
{
	if (ks_policy_read_verdict(ctx, path, path, NULL) == 0 &&
	    (strcmp(landing, path) == 0 ||
	    ks_policy_read_verdict(ctx, landing, path, NULL) == 0))
		return false;
	return !hole_beneath(ctx->policy, path) &&
	    !hole_beneath(ctx->policy, landing);
}

bool
ks_policy_walk_prune(const struct ks_policy_ctx *ctx,
    struct ks_read_cache *cache, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *res;
	bool hole;

	if (!ks_policy_read_denied(ctx, cache, path))
		return false;
	if (hole_beneath(ctx->policy, path))
		return false;
	/* The directory's resolution is in the cache now. */
	if (slash == NULL || cache->resolved == NULL ||
	    (res = ks_path_join(cache->resolved, slash + 1)) == NULL)
		return true;
	hole = hole_beneath(ctx->policy, res);
	free(res);
	return !hole;
}
