/*
 * policy: parsing (the reference's serde types, with its defaults),
 * compose, JSON output, and the write and read verdicts.
 */
#include "policy.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "proto.h"

#define DEFAULT_DEPTH 3
#define MIN_CHAIN_DEPTH 8
#define MAX_CHAIN_DEPTH 40

/* The one fully-protected place: koda's credential database. */
#define PROTECTED_SEQ ".config/koda/db"

enum ftype { F_PATHS, F_BOOL, F_DEPTH, F_LIMIT, F_MITM };

struct field {
	const char *sect;
	const char *name;
	enum ftype type;
	size_t off;
};

#define P(f) offsetof(struct ks_policy, f)
/* Every field in SPEC §4's order: parse, print and validate use it. */
static const struct field fields[] = {
	{ "fs", "deny_read", F_PATHS, P(deny_read) },
	{ "fs", "allow_read_within_deny", F_PATHS, P(allow_read_within_deny) },
	{ "fs", "allow_write", F_PATHS, P(allow_write) },
	{ "fs", "deny_write_within_allow", F_PATHS, P(deny_write_within_allow) },
	{ "fs", "allow_git_config", F_BOOL, P(allow_git_config) },
	{ "fs", "mandatory_deny_search_depth", F_DEPTH, P(depth) },
	{ "net", "allowed_domains", F_PATHS, P(allowed_domains) },
	{ "net", "denied_domains", F_PATHS, P(denied_domains) },
	{ "net", "allow_local_binding", F_BOOL, P(allow_local_binding) },
	{ "net", "mitm", F_MITM, 0 },
	{ "net", "weaker_macos_isolation", F_BOOL, P(weaker_macos_isolation) },
	{ "limits", "cpu_time_secs", F_LIMIT, P(cpu_time_secs) },
	{ "limits", "wall_time_secs", F_LIMIT, P(wall_time_secs) },
	{ "limits", "max_rss_bytes", F_LIMIT, P(max_rss_bytes) },
	{ "limits", "max_open_fds", F_LIMIT, P(max_open_fds) },
	{ "limits", "max_output_bytes", F_LIMIT, P(max_output_bytes) },
	{ "limits", "max_write_bytes", F_LIMIT, P(max_write_bytes) },
};
#undef P
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const sections[] = { "fs", "net", "limits" };
static const char *const trust_names[] = { "auto", "require", "forbid" };

void
ks_policy_init(struct ks_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->depth = DEFAULT_DEPTH;
	p->trust = KS_TRUST_AUTO;
}

void
ks_policy_free(struct ks_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].type == F_PATHS)
			ks_strv_free((struct ks_strv *)((char *)p +
			    fields[i].off));
	ks_strv_free(&p->mitm_domains);
	ks_strv_free(&p->mitm_sockets);
	free(p->mitm_ca_bundle);
	ks_policy_init(p);
}

/* Parse state: the first error goes to err; with problems, all of them. */
struct pstate {
	struct ks_strv *problems;
	struct ks_strv *unknown;
	struct ks_err *err;
	int nerr;
};

static void
problem(struct pstate *ps, const char *where, const char *what)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s: %s", where, what);
	if (ps->nerr++ == 0)
		ks_err_set(ps->err, EINVAL, KS_CODE_PROTOCOL, "policy: %s",
		    buf);
	if (ps->problems != NULL)
		ks_strv_push(ps->problems, buf, strlen(buf));
}

static int
parse_strings(struct pstate *ps, const char *where, json_t *v,
    struct ks_strv *out)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		problem(ps, where, "expected an array of strings");
		return -EINVAL;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			problem(ps, where, "expected an array of strings");
			return -EINVAL;
		}
		if (ks_strv_push(out, json_string_value(e),
		    json_string_length(e)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
parse_uint(struct pstate *ps, const char *where, json_t *v, uint64_t max,
    uint64_t *out)
{
	if (ks_json_get_u64(v, out) != 1 || *out > max) {
		char what[64];

		snprintf(what, sizeof(what),
		    "expected an integer from 0 to %llu",
		    (unsigned long long)max);
		problem(ps, where, what);
		return -EINVAL;
	}
	return 0;
}

static int
parse_mitm(struct pstate *ps, const char *where, json_t *v,
    struct ks_policy *p)
{
	json_t *ca, *map, *pair;
	size_t i;

	if (json_is_null(v))
		return 0;
	if (!json_is_object(v) || !json_is_string(ca = json_object_get(v,
	    "ca_bundle"))) {
		problem(ps, where, "expected an object with a string ca_bundle");
		return -EINVAL;
	}
	p->has_mitm = true;
	if ((p->mitm_ca_bundle = strdup(json_string_value(ca))) == NULL)
		return -ENOMEM;
	if ((map = json_object_get(v, "socket_map")) == NULL)
		return 0;
	if (!json_is_array(map))
		goto bad;
	json_array_foreach(map, i, pair) {
		if (!json_is_array(pair) || json_array_size(pair) != 2 ||
		    !json_is_string(json_array_get(pair, 0)) ||
		    !json_is_string(json_array_get(pair, 1)))
			goto bad;
		if (ks_strv_push(&p->mitm_domains, json_string_value(
		    json_array_get(pair, 0)), json_string_length(
		    json_array_get(pair, 0))) < 0 ||
		    ks_strv_push(&p->mitm_sockets, json_string_value(
		    json_array_get(pair, 1)), json_string_length(
		    json_array_get(pair, 1))) < 0)
			return -ENOMEM;
	}
	return 0;
bad:
	problem(ps, where, "socket_map: expected [[DOMAIN, PATH], ...]");
	return -EINVAL;
}

static int
parse_field(struct pstate *ps, const struct field *f, json_t *v,
    struct ks_policy *p)
{
	char where[64];
	void *dst = (char *)p + f->off;
	uint64_t u;
	int rc;

	snprintf(where, sizeof(where), "%s.%s", f->sect, f->name);
	switch (f->type) {
	case F_PATHS:
		return parse_strings(ps, where, v, dst);
	case F_BOOL:
		if (!json_is_boolean(v)) {
			problem(ps, where, "expected true or false");
			return -EINVAL;
		}
		*(bool *)dst = json_is_true(v);
		return 0;
	case F_DEPTH:
		if ((rc = parse_uint(ps, where, v, 255, &u)) == 0)
			*(unsigned *)dst = (unsigned)u;
		return rc;
	case F_LIMIT:
		if (json_is_null(v))
			return 0;
		if ((rc = parse_uint(ps, where, v, UINT64_MAX, &u)) == 0)
			*(struct ks_limit *)dst = (struct ks_limit){ true, u };
		return rc;
	case F_MITM:
		return parse_mitm(ps, where, v, p);
	}
	return -EINVAL;
}

static bool
known_key(const char *sect, const char *key)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].sect, sect) == 0 &&
		    strcmp(fields[i].name, key) == 0)
			return true;
	if (strcmp(sect, "net.mitm") == 0)
		return strcmp(key, "ca_bundle") == 0 ||
		    strcmp(key, "socket_map") == 0;
	if (sect[0] == '\0') {
		for (size_t i = 0; i < 3; i++)
			if (strcmp(sections[i], key) == 0)
				return true;
		return strcmp(key, "trust") == 0;
	}
	return false;
}

/* Levenshtein distance of a and b, capped at 32 (longer keys differ). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la > 63 || lb > 63)
		return 32;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev <
			    row[j] ? (prev < row[j - 1] ? prev : row[j - 1]) :
			    (row[j] < row[j - 1] ? row[j] : row[j - 1]));
			prev = tmp;
		}
	}
	return row[lb];
}

/* Keeps cand in best when it is nearer to key than what best holds. */
static void
nearer(const char *key, const char *cand, char *best, size_t size,
    size_t *bd)
{
	size_t d = distance(key, cand);

	if (d < *bd) {
		*bd = d;
		snprintf(best, size, "%s", cand);
	}
}

int
ks_policy_unknown_text(const char *key, char *buf, size_t size)
{
	static const char *const extra[] = { "fs", "net", "limits", "trust",
	    "net.mitm.ca_bundle", "net.mitm.socket_map" };
	char cand[128], best[128] = "";
	size_t bd = 32, limit = strlen(key) / 3 > 2 ? strlen(key) / 3 : 2;

	for (size_t i = 0; i < NFIELDS; i++) {
		snprintf(cand, sizeof(cand), "%s.%s", fields[i].sect,
		    fields[i].name);
		nearer(key, cand, best, sizeof(best), &bd);
	}
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		nearer(key, extra[i], best, sizeof(best), &bd);
	if (bd <= limit)
		return snprintf(buf, size, "%s: unknown key, ignored (did you "
		    "mean %s?)", key, best);
	return snprintf(buf, size, "%s: unknown key, ignored", key);
}

static void
note_unknown(struct pstate *ps, const char *sect, json_t *obj)
{
	const char *key;
	json_t *v;
	char buf[512];

	if (ps->unknown == NULL || !json_is_object(obj))
		return;
	json_object_foreach(obj, key, v) {
		if (known_key(sect, key))
			continue;
		snprintf(buf, sizeof(buf), "%s%s%s", sect, *sect ? "." : "",
		    key);
		ks_strv_push(ps->unknown, buf, strlen(buf));
	}
}

static int
parse_section(struct pstate *ps, json_t *root, const char *sect,
    struct ks_policy *p)
{
	json_t *obj, *v;
	int rc = 0;

	if ((obj = json_object_get(root, sect)) == NULL)
		return 0;
	if (!json_is_object(obj)) {
		problem(ps, sect, "expected an object");
		return -EINVAL;
	}
	note_unknown(ps, sect, obj);
	if (strcmp(sect, "net") == 0)
		note_unknown(ps, "net.mitm", json_object_get(obj, "mitm"));
	for (size_t i = 0; i < NFIELDS; i++) {
		if (strcmp(fields[i].sect, sect) != 0 ||
		    (v = json_object_get(obj, fields[i].name)) == NULL)
			continue;
		if ((rc = parse_field(ps, &fields[i], v, p)) == -ENOMEM ||
		    (rc < 0 && ps->problems == NULL))
			return rc;
	}
	return 0;
}

static int
parse_trust(struct pstate *ps, json_t *root, struct ks_policy *p)
{
	json_t *v = json_object_get(root, "trust");

	if (v == NULL)
		return 0;
	for (size_t i = 0; json_is_string(v) && i < 3; i++)
		if (strcmp(json_string_value(v), trust_names[i]) == 0) {
			p->trust = (enum ks_trust)i;
			return 0;
		}
	problem(ps, "trust", "expected \"auto\", \"require\" or \"forbid\"");
	return -EINVAL;
}

int
ks_policy_parse(const char *text, size_t len, struct ks_policy *p,
    struct ks_strv *problems, struct ks_strv *unknown, struct ks_err *err)
{
	struct pstate ps = { problems, unknown, err, 0 };
	struct ks_err jerr;
	json_t *root;
	int rc = 0;

	ks_policy_init(p);
	if ((root = ks_json_load(text, len, &jerr)) == NULL) {
		problem(&ps, "not JSON", jerr.msg);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		problem(&ps, "the policy", "expected an object");
		rc = -EINVAL;
		goto out;
	}
	note_unknown(&ps, "", root);
	for (size_t i = 0; i < 3; i++)
		if ((rc = parse_section(&ps, root, sections[i], p)) < 0 &&
		    problems == NULL)
			goto out;
	if ((rc = parse_trust(&ps, root, p)) == -ENOMEM)
		goto out;
	rc = ps.nerr > 0 ? -EINVAL : 0;
out:
	json_decref(root);
	if (rc == -ENOMEM)
		ks_err_os(err, ENOMEM);
	if (rc < 0)
		ks_policy_free(p);
	return rc;
}

/* Appends to out the strings of in that out lacks, in order. */
static int
union_into(struct ks_strv *out, const struct ks_strv *in)
{
	int rc;

	for (size_t i = 0; i < in->n; i++)
		if (!ks_strv_has(out, in->v[i]) &&
		    (rc = ks_strv_push(out, in->v[i], strlen(in->v[i]))) < 0)
			return rc;
	return 0;
}

/* Appends every string of in (socket_map pairs may repeat a domain). */
static int
copy_into(struct ks_strv *out, const struct ks_strv *in)
{
	int rc;

	for (size_t i = 0; i < in->n; i++)
		if ((rc = ks_strv_push(out, in->v[i], strlen(in->v[i]))) < 0)
			return rc;
	return 0;
}

static bool
beneath_any(const char *path, const struct ks_strv *bases)
{
	for (size_t i = 0; i < bases->n; i++)
		if (ks_path_beneath(path, bases->v[i]))
			return true;
	return false;
}

/* True when path and some base are beneath one another. */
static bool
overlaps_any(const char *path, const struct ks_strv *bases)
{
	for (size_t i = 0; i < bases->n; i++)
		if (ks_path_beneath(path, bases->v[i]) ||
		    ks_path_beneath(bases->v[i], path))
			return true;
	return false;
}

/* A child may open read holes only inside denials it added itself, and
 * never over one of the parent's: a hole that lies beneath a parent
 * denial, or holds one, is dropped. */
static int
compose_holes(const struct ks_policy *parent, const struct ks_policy *child,
    struct ks_strv *out)
{
	const char *hole;
	bool own;
	int rc;

	if ((rc = union_into(out, &parent->allow_read_within_deny)) < 0)
		return rc;
	for (size_t i = 0; i < child->allow_read_within_deny.n; i++) {
		hole = child->allow_read_within_deny.v[i];
		own = false;
		for (size_t j = 0; j < child->deny_read.n && !own; j++)
			own = !ks_strv_has(&parent->deny_read,
			    child->deny_read.v[j]) &&
			    ks_path_beneath(hole, child->deny_read.v[j]);
		if (own && !overlaps_any(hole, &parent->deny_read) &&
		    !ks_strv_has(out, hole) &&
		    (rc = ks_strv_push(out, hole, strlen(hole))) < 0)
			return rc;
	}
	return 0;
}

static struct ks_limit
min_limit(struct ks_limit a, struct ks_limit b)
{
	if (!a.set)
		return b;
	if (!b.set)
		return a;
	return a.v <= b.v ? a : b;
}

int
ks_policy_compose(const struct ks_policy *parent,
    const struct ks_policy *child, struct ks_policy *out)
{
	const struct ks_policy *a = parent, *b = child;
	int rc = 0;

	ks_policy_init(out);
	if ((rc = union_into(&out->deny_read, &a->deny_read)) < 0 ||
	    (rc = union_into(&out->deny_read, &b->deny_read)) < 0 ||
	    (rc = compose_holes(a, b, &out->allow_read_within_deny)) < 0 ||
	    (rc = union_into(&out->allow_write, &a->allow_write)) < 0 ||
	    (rc = union_into(&out->deny_write_within_allow,
	    &a->deny_write_within_allow)) < 0 ||
	    (rc = union_into(&out->deny_write_within_allow,
	    &b->deny_write_within_allow)) < 0 ||
	    (rc = union_into(&out->allowed_domains, &a->allowed_domains)) < 0 ||
	    (rc = union_into(&out->denied_domains, &a->denied_domains)) < 0 ||
	    (rc = union_into(&out->denied_domains, &b->denied_domains)) < 0)
		goto out;
	out->allow_git_config = a->allow_git_config && b->allow_git_config;
	out->depth = a->depth > b->depth ? a->depth : b->depth;
	out->allow_local_binding = a->allow_local_binding &&
	    b->allow_local_binding;
	out->weaker_macos_isolation = a->weaker_macos_isolation &&
	    b->weaker_macos_isolation;
	if (a->has_mitm) {
		out->has_mitm = true;
		if ((out->mitm_ca_bundle = strdup(a->mitm_ca_bundle)) == NULL ||
		    (rc = copy_into(&out->mitm_domains, &a->mitm_domains)) < 0 ||
		    (rc = copy_into(&out->mitm_sockets, &a->mitm_sockets)) < 0)
			goto out;
	}
	out->cpu_time_secs = min_limit(a->cpu_time_secs, b->cpu_time_secs);
	out->wall_time_secs = min_limit(a->wall_time_secs, b->wall_time_secs);
	out->max_rss_bytes = min_limit(a->max_rss_bytes, b->max_rss_bytes);
	out->max_open_fds = min_limit(a->max_open_fds, b->max_open_fds);
	out->max_write_bytes = min_limit(a->max_write_bytes,
	    b->max_write_bytes);
	out->max_output_bytes = min_limit(a->max_output_bytes,
	    b->max_output_bytes);
	out->trust = a->trust > b->trust ? a->trust : b->trust;
out:
	if (rc < 0 || (a->has_mitm && out->mitm_ca_bundle == NULL)) {
		ks_policy_free(out);
		return -ENOMEM;
	}
	return 0;
}

static json_t *
strv_json(const struct ks_strv *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *
mitm_json(const struct ks_policy *p)
{
	json_t *o, *map, *pair;

	if (!p->has_mitm)
		return json_null();
	map = json_array();
	for (size_t i = 0; map != NULL && i < p->mitm_domains.n; i++) {
		pair = json_pack("[ss]", p->mitm_domains.v[i],
		    p->mitm_sockets.v[i]);
		json_array_append_new(map, pair);
	}
	o = json_object();
	json_object_set_new(o, "ca_bundle", json_string(p->mitm_ca_bundle));
	json_object_set_new(o, "socket_map", map);
	return o;
}

static json_t *
field_json(const struct ks_policy *p, const struct field *f)
{
	const void *src = (const char *)p + f->off;
	const struct ks_limit *l = src;

	switch (f->type) {
	case F_PATHS:
		return strv_json(src);
	case F_BOOL:
		return json_boolean(*(const bool *)src);
	case F_DEPTH:
		return json_integer(*(const unsigned *)src);
	case F_LIMIT:
		/* jansson integers are signed: past INT64_MAX print a real
		 * is wrong, so clamp (no machine has such a limit). */
		if (!l->set)
			return json_null();
		return json_integer(l->v > INT64_MAX ? INT64_MAX :
		    (json_int_t)l->v);
	case F_MITM:
		return mitm_json(p);
	}
	return json_null();
}

json_t *
ks_policy_to_json(const struct ks_policy *p)
{
	json_t *root = json_object(), *sect = NULL;

	if (root == NULL)
		return NULL;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (i == 0 || strcmp(fields[i].sect, fields[i - 1].sect) != 0) {
			sect = json_object();
			json_object_set_new(root, fields[i].sect, sect);
		}
		/* The extension's field shows only when set: a policy
		 * without it prints as the SPEC lists the fields. */
		if (fields[i].off == offsetof(struct ks_policy,
		    max_write_bytes) && !p->max_write_bytes.set)
			continue;
		json_object_set_new(sect, fields[i].name,
		    field_json(p, &fields[i]));
	}
	json_object_set_new(root, "trust",
	    json_string(trust_names[p->trust]));
	return root;
}

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

	/* Both tests need the component "koda": most paths have none. */
	if (strstr(path, "koda") == NULL)
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
	carved = beneath_any(r, &p->deny_write_within_allow);
	outside = !inside && (carved || !beneath_any(r, &p->allow_write));
	if (outside && carved && beneath_any(r, &p->allow_write))
		rule = "deny_write_within_allow";
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
	if (beneath_any(path, &p->deny_read) &&
	    !beneath_any(path, &p->allow_read_within_deny))
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
	    ks_policy_read_verdict(ctx, landing, path, NULL) == 0)
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

/*
 * Lint for policy-check validate: entries that parse but cannot mean
 * what the user meant. Kept apart from parsing, which the worker runs.
 */

static int
lint_path(struct ks_strv *problems, const char *where, const json_t *v)
{
	struct ks_quote q;
	char *s;

	if (!json_is_string(v) || json_string_value(v)[0] == '/')
		return 0;
	if (asprintf(&s, "%s: '%s' is not an absolute path (entries are used "
	    "as written: no ~ expansion, no working directory)", where,
	    ks_quote(&q, json_string_value(v))) < 0)
		return -ENOMEM;
	return ks_strv_take(problems, s);
}

int
ks_policy_lint(const char *text, size_t len, struct ks_strv *problems)
{
	json_t *root, *list, *e, *mitm;
	char where[64];
	size_t j;
	int rc = 0;

	if ((root = ks_json_load(text, len, NULL)) == NULL)
		return 0;
	for (size_t i = 0; i < NFIELDS && rc == 0; i++) {
		if (fields[i].type != F_PATHS ||
		    strcmp(fields[i].sect, "fs") != 0)
			continue;
		snprintf(where, sizeof(where), "fs.%s", fields[i].name);
		list = json_object_get(json_object_get(root, "fs"),
		    fields[i].name);
		json_array_foreach(list, j, e)
			if ((rc = lint_path(problems, where, e)) < 0)
				break;
	}
	mitm = json_object_get(json_object_get(root, "net"), "mitm");
	if (rc == 0)
		rc = lint_path(problems, "net.mitm.ca_bundle",
		    json_object_get(mitm, "ca_bundle"));
	json_array_foreach(json_object_get(mitm, "socket_map"), j, e)
		if (rc == 0)
			rc = lint_path(problems, "net.mitm.socket_map",
			    json_array_get(e, 1));
	json_decref(root);
	return rc;
}
