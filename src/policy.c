/*
 * policy: the policy as data: parsing (the reference's serde types,
 * with its defaults), unknown keys, JSON output and validate's lint.
 * Composition is in compose.c, the verdicts in verdict.c.
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
enum ftype { F_PATHS, F_BOOL, F_DEPTH, F_LIMIT, F_MITM };

struct field {
	const char *sect;
	const char *name;
	enum ftype type;
	bool ext;	/* an extension: printed only when set */
	size_t off;
};

/* A field of the reference, printed always. */
#define P(f) false, offsetof(struct ks_policy, f)
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
	{ "net", "mitm", F_MITM, 0, false },
	{ "net", "weaker_macos_isolation", F_BOOL, P(weaker_macos_isolation) },
	{ "limits", "cpu_time_secs", F_LIMIT, P(cpu_time_secs) },
	{ "limits", "wall_time_secs", F_LIMIT, P(wall_time_secs) },
	{ "limits", "max_rss_bytes", F_LIMIT, P(max_rss_bytes) },
	{ "limits", "max_open_fds", F_LIMIT, P(max_open_fds) },
	{ "limits", "max_output_bytes", F_LIMIT, P(max_output_bytes) },
	{ "limits", "max_write_bytes", F_LIMIT, true,
	    offsetof(struct ks_policy, max_write_bytes) },
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
		if (fields[i].ext && !((const struct ks_limit *)(const void *)
		    ((const char *)p + fields[i].off))->set)
			continue;
		json_object_set_new(sect, fields[i].name,
		    field_json(p, &fields[i]));
	}
	json_object_set_new(root, "trust",
	    json_string(trust_names[p->trust]));
	return root;
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

static int
clamp_line(struct ks_strv *problems, const char *name,
    const struct ks_limit *l, uint64_t max)
{
	char *s;

	if (!l->set || l->v <= max)
		return 0;
	if (asprintf(&s, "limits.%s: %llu is more than the worker applies; it "
	    "is clamped to %llu", name, (unsigned long long)l->v,
	    (unsigned long long)max) < 0)
		return -ENOMEM;
	return ks_strv_take(problems, s);
}

int
ks_policy_clamps(const struct ks_policy *p, struct ks_strv *problems)
{
	int rc;

	if ((rc = clamp_line(problems, "cpu_time_secs", &p->cpu_time_secs,
	    KS_LIMIT_CPU_MAX)) < 0)
		return rc;
	return clamp_line(problems, "max_open_fds", &p->max_open_fds,
	    KS_LIMIT_FDS_MAX);
}
