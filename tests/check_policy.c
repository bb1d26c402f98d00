/*
 * check_policy: parsing (defaults, errors, unknown keys), JSON output in
 * SPEC order, compose field by field and as a property, and the write
 * and read verdicts on a real mkdtemp tree. JSON in the tables is
 * written with ' for " (see dq).
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "policy.h"
#include "testlib.h"

Suite *policy_suite(void);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A copy of s with every ' turned into ". Caller frees. */
static char *
dq(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static int
parse(const char *json, struct ks_policy *p, struct ks_strv *problems,
    struct ks_strv *unknown, struct ks_err *err)
{
	char *d = dq(json);
	int rc = ks_policy_parse(d, strlen(d), p, problems, unknown, err);

	free(d);
	return rc;
}

static void
pol(const char *json, struct ks_policy *p)
{
	struct ks_err err = { .code = KS_CODE_NONE };

	ck_assert_msg(parse(json, p, NULL, NULL, &err) == 0, "%s: %s", json,
	    err.msg);
}

/* The policy (or one of its fields: sect may be NULL) dumped with
 * flags, ' for ". Caller frees. */
static char *
dump(const struct ks_policy *p, const char *sect, const char *key,
    size_t flags)
{
	json_t *j = ks_policy_to_json(p), *v = j;
	char *s;

	if (key != NULL)
		v = json_object_get(sect != NULL ? json_object_get(j, sect) : j,
		    key);
	s = json_dumps(v, flags | JSON_ENCODE_ANY);
	json_decref(j);
	for (char *c = s; *c != '\0'; c++)
		if (*c == '"')
			*c = '\'';
	return s;
}

static const char default_out[] =
    "{\n  'fs': {\n    'deny_read': [],\n    'allow_read_within_deny': [],\n"
    "    'allow_write': [],\n    'deny_write_within_allow': [],\n"
    "    'allow_git_config': false,\n    'mandatory_deny_search_depth': 3\n"
    "  },\n  'net': {\n    'allowed_domains': [],\n    'denied_domains': [],\n"
    "    'allow_local_binding': false,\n    'mitm': null,\n"
    "    'weaker_macos_isolation': false\n  },\n  'limits': {\n"
    "    'cpu_time_secs': null,\n    'wall_time_secs': null,\n"
    "    'max_rss_bytes': null,\n    'max_open_fds': null,\n"
    "    'max_output_bytes': null\n  },\n  'trust': 'auto'\n}";

START_TEST(init_sets_the_defaults)
{
	struct ks_policy p;
	char *s;

	memset(&p, 0xA5, sizeof(p));
	ks_policy_init(&p);
	ck_assert(p.deny_read.v == NULL && p.mitm_ca_bundle == NULL);
	ck_assert_str_eq((s = dump(&p, NULL, NULL, JSON_INDENT(2))),
	    default_out);
	free(s);
	pol("{}", &p);
	ck_assert_str_eq((s = dump(&p, NULL, NULL, JSON_INDENT(2))),
	    default_out);
	free(s);
	ks_policy_free(&p);
	ks_policy_free(NULL);
}
END_TEST

static const char full_in[] =
    "{'trust':'require','limits':{'max_output_bytes':5,'cpu_time_secs':1,"
    "'wall_time_secs':2,'max_rss_bytes':3,'max_open_fds':4},'net':{"
    "'weaker_macos_isolation':true,'mitm':{'socket_map':[['a.com','/s1'],"
    "['b.com','/s2']],'ca_bundle':'/ca.pem'},'allow_local_binding':true,"
    "'denied_domains':['bad.com'],'allowed_domains':['good.com','*.ok.org']"
    "},'fs':{'mandatory_deny_search_depth':12,'allow_git_config':true,"
    "'deny_write_within_allow':['/w/sec'],'allow_write':['/w','/x'],"
    "'allow_read_within_deny':['/s/open'],'deny_read':['/s','/t']}}";

static const char full_out[] =
    "{\n  'fs': {\n    'deny_read': [\n      '/s',\n      '/t'\n    ],\n"
    "    'allow_read_within_deny': [\n      '/s/open'\n    ],\n"
    "    'allow_write': [\n      '/w',\n      '/x'\n    ],\n"
    "    'deny_write_within_allow': [\n      '/w/sec'\n    ],\n"
    "    'allow_git_config': true,\n    'mandatory_deny_search_depth': 12\n"
    "  },\n  'net': {\n    'allowed_domains': [\n      'good.com',\n"
    "      '*.ok.org'\n    ],\n    'denied_domains': [\n      'bad.com'\n"
    "    ],\n    'allow_local_binding': true,\n    'mitm': {\n"
    "      'ca_bundle': '/ca.pem',\n      'socket_map': [\n        [\n"
    "          'a.com',\n          '/s1'\n        ],\n        [\n"
    "          'b.com',\n          '/s2'\n        ]\n      ]\n    },\n"
    "    'weaker_macos_isolation': true\n  },\n  'limits': {\n"
    "    'cpu_time_secs': 1,\n    'wall_time_secs': 2,\n"
    "    'max_rss_bytes': 3,\n    'max_open_fds': 4,\n"
    "    'max_output_bytes': 5\n  },\n  'trust': 'require'\n}";

START_TEST(full_policy_prints_every_field_in_spec_order)
{
	struct ks_policy p, q;
	char *s, *compact;

	pol(full_in, &p);
	ck_assert_str_eq((s = dump(&p, NULL, NULL, JSON_INDENT(2))), full_out);
	free(s);
	/* What it prints parses back to the same policy. */
	compact = dump(&p, NULL, NULL, JSON_COMPACT);
	pol(compact, &q);
	ck_assert_str_eq((s = dump(&q, NULL, NULL, JSON_INDENT(2))), full_out);
	free(s);
	free(compact);
	ks_policy_free(&p);
	ks_policy_free(&q);
}
END_TEST

/* Accepted edges, printed back compact. */
static const struct {
	const char *json, *want;
} edges[] = {
	{ "{'fs':{'mandatory_deny_search_depth':255,'deny_read':[]},'limits':{"
	  "'cpu_time_secs':null,'max_open_fds':0,'max_rss_bytes':"
	  "9223372036854775807},'net':{'mitm':{'ca_bundle':'/c'}},"
	  "'trust':'forbid'}",
	  "{'fs':{'deny_read':[],'allow_read_within_deny':[],'allow_write':[],"
	  "'deny_write_within_allow':[],'allow_git_config':false,"
	  "'mandatory_deny_search_depth':255},'net':{'allowed_domains':[],"
	  "'denied_domains':[],'allow_local_binding':false,'mitm':{'ca_bundle':"
	  "'/c','socket_map':[]},'weaker_macos_isolation':false},'limits':{"
	  "'cpu_time_secs':null,'wall_time_secs':null,'max_rss_bytes':"
	  "9223372036854775807,'max_open_fds':0,'max_output_bytes':null},"
	  "'trust':'forbid'}" },
	{ "{'fs':{'mandatory_deny_search_depth':0},'net':{'mitm':null}}",
	  "{'fs':{'deny_read':[],'allow_read_within_deny':[],'allow_write':[],"
	  "'deny_write_within_allow':[],'allow_git_config':false,"
	  "'mandatory_deny_search_depth':0},'net':{'allowed_domains':[],"
	  "'denied_domains':[],'allow_local_binding':false,'mitm':null,"
	  "'weaker_macos_isolation':false},'limits':{'cpu_time_secs':null,"
	  "'wall_time_secs':null,'max_rss_bytes':null,'max_open_fds':null,"
	  "'max_output_bytes':null},'trust':'auto'}" },
};

START_TEST(edge_values_are_accepted)
{
	struct ks_policy p;
	char *s;

	pol(edges[_i].json, &p);
	ck_assert_str_eq((s = dump(&p, NULL, NULL, JSON_COMPACT)),
	    edges[_i].want);
	free(s);
	ks_policy_free(&p);
}
END_TEST

START_TEST(limit_accepts_the_whole_u64_range)
{
	struct ks_policy p;

	pol("{'limits':{'max_rss_bytes':18446744073709551615}}", &p);
	ck_assert(p.max_rss_bytes.set);
	ck_assert(p.max_rss_bytes.v == UINT64_MAX);
	ks_policy_free(&p);
}
END_TEST

#define UINT_TO(n) "expected an integer from 0 to " #n
#define STRINGS "expected an array of strings"
#define TRUST "trust: expected \"auto\", \"require\" or \"forbid\""

/* Rejected policies; msg NULL: "policy: not JSON: " and jansson's text. */
static const struct {
	const char *json, *msg;
} bad[] = {
	{ "not json", NULL },
	{ "{'trust':'auto','trust':'auto'}", NULL },
	{ "[]", "the policy: expected an object" },
	{ "{'fs':[]}", "fs: expected an object" },
	{ "{'fs':{'mandatory_deny_search_depth':256}}",
	    "fs.mandatory_deny_search_depth: " UINT_TO(255) },
	{ "{'fs':{'mandatory_deny_search_depth':1.5}}",
	    "fs.mandatory_deny_search_depth: " UINT_TO(255) },
	{ "{'trust':'paranoid'}", TRUST },
	{ "{'trust':null}", TRUST },
	{ "{'fs':{'deny_read':null}}", "fs.deny_read: " STRINGS },
	{ "{'net':{'allowed_domains':null}}", "net.allowed_domains: " STRINGS },
	{ "{'fs':{'allow_write':['/a',1]}}", "fs.allow_write: " STRINGS },
	{ "{'net':{'mitm':{'socket_map':[]}}}",
	    "net.mitm: expected an object with a string ca_bundle" },
	{ "{'net':{'mitm':{'ca_bundle':'/c','socket_map':[['a']]}}}",
	    "net.mitm: socket_map: expected [[DOMAIN, PATH], ...]" },
	{ "{'limits':{'cpu_time_secs':-1}}",
	    "limits.cpu_time_secs: " UINT_TO(18446744073709551615) },
	{ "{'limits':{'max_rss_bytes':1.5}}",
	    "limits.max_rss_bytes: " UINT_TO(18446744073709551615) },
	{ "{'fs':{'allow_git_config':'true'}}",
	    "fs.allow_git_config: expected true or false" },
	{ "{'net':{'allow_local_binding':1}}",
	    "net.allow_local_binding: expected true or false" },
};

START_TEST(bad_policy_is_einval_with_protocol_code)
{
	struct ks_policy p;
	struct ks_err err = { .code = KS_CODE_NONE };
	char want[512];

	ck_assert_int_eq(parse(bad[_i].json, &p, NULL, NULL, &err), -EINVAL);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	if (bad[_i].msg == NULL) {
		ck_assert_msg(strncmp(err.msg, "policy: not JSON: ", 18) == 0,
		    "%s", err.msg);
	} else {
		snprintf(want, sizeof(want), "policy: %s", bad[_i].msg);
		ck_assert_str_eq(err.msg, want);
	}
	/* Nothing half-parsed is left behind. */
	ck_assert_uint_eq(p.deny_read.n + p.allow_write.n, 0);
	ck_assert_uint_eq(p.depth, 3);
}
END_TEST

/* validate's mode: every error and every unknown key, with its place. */
START_TEST(problems_and_unknown_keys_are_all_collected)
{
	static const char *const want[] = {
		"fs.allow_write: " STRINGS,
		"fs.allow_git_config: expected true or false",
		"limits.cpu_time_secs: " UINT_TO(18446744073709551615), TRUST,
	};
	static const char *const unknown_want[] = { "fs.alow_write", "top",
	    "net.mitm.extra", "limits.cpu" };
	struct ks_strv problems = { 0 }, unknown = { 0 };
	struct ks_policy p;
	struct ks_err err;

	ck_assert_int_eq(parse("{'fs':{'allow_write':[1],'allow_git_config':"
	    "'yes','deny_read':['/ok'],'alow_write':[]},'top':1,'net':{'mitm':"
	    "{'ca_bundle':'/c','extra':1}},'limits':{'cpu':1,'cpu_time_secs':"
	    "-1},'trust':'x'}", &p, &problems, &unknown, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "policy: fs.allow_write: " STRINGS);
	ck_assert_uint_eq(problems.n, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++)
		ck_assert_msg(ks_strv_has(&problems, want[i]), "%s", want[i]);
	ck_assert_uint_eq(unknown.n, NELEM(unknown_want));
	for (size_t i = 0; i < NELEM(unknown_want); i++)
		ck_assert_msg(ks_strv_has(&unknown, unknown_want[i]), "%s",
		    unknown_want[i]);
	ks_strv_free(&problems);
	ks_strv_free(&unknown);
}
END_TEST

START_TEST(unknown_keys_alone_do_not_fail_the_parse)
{
	struct ks_strv unknown = { 0 };
	struct ks_policy p;
	struct ks_err err;

	ck_assert_int_eq(parse("{'fs':{'alow_write':[]},'limits':{"
	    "'cpu_time_secs':2}}", &p, NULL, &unknown, &err), 0);
	ck_assert_uint_eq(unknown.n, 1);
	ck_assert_str_eq(unknown.v[0], "fs.alow_write");
	ck_assert(p.cpu_time_secs.set && p.cpu_time_secs.v == 2);
	ks_strv_free(&unknown);
	ks_policy_free(&p);
}
END_TEST

/* Composes parent and child and dumps field sect.key compact. */
static char *
composed(const char *parent, const char *child, const char *sect,
    const char *key, struct ks_policy *out)
{
	struct ks_policy a, b;
	char *s;

	pol(parent, &a);
	pol(child, &b);
	ck_assert_int_eq(ks_policy_compose(&a, &b, out), 0);
	s = dump(out, sect, key, JSON_COMPACT);
	ks_policy_free(&a);
	ks_policy_free(&b);
	return s;
}

/*
 * Every field: denials unioned parent first without duplicates; grants
 * (allow_write, allowed_domains, mitm) the parent's; booleans and-ed;
 * depth the larger; limits the smaller, set beating unset; trust the
 * strictest; the child's holes only inside denials it added itself and
 * beneath none of the parent's.
 */
static const struct {
	const char *parent, *child, *want;
} composes[] = {
	{ "{'fs':{'deny_read':['/a','/b'],'allow_read_within_deny':['/a/h'],"
	  "'allow_write':['/w'],'deny_write_within_allow':['/w/s'],"
	  "'allow_git_config':true},'net':{'allowed_domains':['a.com'],"
	  "'denied_domains':['x.com'],'allow_local_binding':true,'mitm':{"
	  "'ca_bundle':'/p','socket_map':[['a','/s'],['a','/t']]}},'limits':{"
	  "'cpu_time_secs':5,'max_rss_bytes':5,'max_open_fds':9,"
	  "'max_output_bytes':0},'trust':'require'}",
	  "{'fs':{'deny_read':['/b','/c','/a/x','/c'],'allow_read_within_deny':"
	  "['/c/h','/a/x/y','/elsewhere','/c/h'],'allow_write':['/w','/x'],"
	  "'deny_write_within_allow':['/w/t','/w/s'],'allow_git_config':true,"
	  "'mandatory_deny_search_depth':10},'net':{'allowed_domains':"
	  "['b.com'],"
	  "'denied_domains':['y.com','x.com'],'mitm':{'ca_bundle':'/c'},"
	  "'weaker_macos_isolation':true},'limits':{'wall_time_secs':7,"
	  "'max_rss_bytes':7,'max_open_fds':2},'trust':'auto'}",
	  "{'fs':{'deny_read':['/a','/b','/c','/a/x'],'allow_read_within_deny':"
	  "['/a/h','/c/h'],'allow_write':['/w'],'deny_write_within_allow':"
	  "['/w/s','/w/t'],'allow_git_config':true,"
	  "'mandatory_deny_search_depth':10},'net':{'allowed_domains':"
	  "['a.com'],"
	  "'denied_domains':['x.com','y.com'],'allow_local_binding':false,"
	  "'mitm':{'ca_bundle':'/p','socket_map':[['a','/s'],['a','/t']]},"
	  "'weaker_macos_isolation':false},'limits':{'cpu_time_secs':5,"
	  "'wall_time_secs':7,'max_rss_bytes':5,'max_open_fds':2,"
	  "'max_output_bytes':0},'trust':'require'}" },
	{ "{'fs':{'mandatory_deny_search_depth':200,'deny_read':['/p'],"
	  "'allow_read_within_deny':['/p/h']},'trust':'require'}",
	  "{'fs':{'deny_read':['/c','/p'],'allow_read_within_deny':['/p/x',"
	  "'/p/h','/p','/c'],'allow_write':['/x'],'allow_git_config':true},"
	  "'net':{'mitm':{'ca_bundle':'/c'},'allow_local_binding':true,"
	  "'weaker_macos_isolation':true},'limits':{'max_output_bytes':3},"
	  "'trust':'forbid'}",
	  "{'fs':{'deny_read':['/p','/c'],'allow_read_within_deny':['/p/h',"
	  "'/c'],'allow_write':[],'deny_write_within_allow':[],"
	  "'allow_git_config':false,'mandatory_deny_search_depth':200},'net':{"
	  "'allowed_domains':[],'denied_domains':[],"
	  "'allow_local_binding':false,"
	  "'mitm':null,'weaker_macos_isolation':false},'limits':{"
	  "'cpu_time_secs':null,'wall_time_secs':null,'max_rss_bytes':null,"
	  "'max_open_fds':null,'max_output_bytes':3},'trust':'forbid'}" },
};

START_TEST(compose_never_widens_field_by_field)
{
	struct ks_policy out;
	char *s = composed(composes[_i].parent, composes[_i].child, NULL, NULL,
	    &out);

	ck_assert_str_eq(s, composes[_i].want);
	free(s);
	ks_policy_free(&out);
}
END_TEST

START_TEST(compose_child_hole_above_a_parent_denial_keeps_it_denied)
{
	struct ks_policy_ctx ctx = { 0 };
	struct ks_read_cache cache = { 0 };
	struct ks_policy out;

	free(composed("{'fs':{'deny_read':['/a/b']}}", "{'fs':{'deny_read':"
	    "['/a'],'allow_read_within_deny':['/a']}}", NULL, NULL, &out));
	ctx.policy = &out;
	ck_assert(ks_policy_read_denied(&ctx, &cache, "/a/b/x"));
	ck_assert(ks_policy_read_denied(&ctx, &cache, "/a/b"));
	ks_policy_cache_free(&cache);
	ks_policy_free(&out);
}
END_TEST

/* Property: over random policies, compose never widens the read rule
 * or allow_write. Paths are drawn from /{a,b,c}{,/{a,b,c}{,/{a,b,c}}}. */
static unsigned seed = 2024;

static unsigned
rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

/* A random path, beneath under when it is not NULL. */
static void
rnd_path(char *buf, const char *under)
{
	strcpy(buf, under != NULL ? under : "");
	for (unsigned i = 1 + rnd(3); i > 0 && strlen(buf) < 6; i--)
		strcat(buf, (const char *[]){ "/a", "/b", "/c" }[rnd(3)]);
	if (under != NULL && rnd(3) == 0)
		strcpy(buf, under);
}

static void
rnd_policy(struct ks_policy *p)
{
	char buf[32];

	ks_policy_init(p);
	for (unsigned n = rnd(4); n > 0; n--) {
		rnd_path(buf, NULL);
		ks_strv_push(&p->deny_read, buf, strlen(buf));
	}
	/* Holes mostly inside the policy's own denials. */
	for (unsigned n = rnd(4); n > 0; n--) {
		rnd_path(buf, p->deny_read.n > 0 && rnd(4) > 0 ?
		    p->deny_read.v[rnd((unsigned)p->deny_read.n)] : NULL);
		ks_strv_push(&p->allow_read_within_deny, buf, strlen(buf));
	}
	for (unsigned n = rnd(3); n > 0; n--) {
		rnd_path(buf, NULL);
		ks_strv_push(&p->allow_write, buf, strlen(buf));
	}
}

START_TEST(compose_never_widens_over_random_policies)
{
	struct ks_policy a, b, out;
	struct ks_policy_ctx ca = { 0 }, co = { 0 };
	struct ks_read_cache cache = { 0 };
	char path[32], *da, *db;

	for (int round = 0; round < 2000; round++) {
		rnd_policy(&a);
		rnd_policy(&b);
		ck_assert_int_eq(ks_policy_compose(&a, &b, &out), 0);
		ca.policy = &a;
		co.policy = &out;
		da = dump(&a, NULL, "fs", JSON_COMPACT);
		db = dump(&b, NULL, "fs", JSON_COMPACT);
		for (int k = 0; k < 40; k++) {
			rnd_path(path, NULL);
			ck_assert_msg(!ks_policy_read_denied(&ca, &cache,
			    path) || ks_policy_read_denied(&co, &cache, path),
			    "%s re-opened; parent %s; child %s", path, da, db);
		}
		for (size_t i = 0; i < out.allow_write.n; i++)
			ck_assert(ks_strv_has(&a.allow_write,
			    out.allow_write.v[i]));
		free(da);
		free(db);
		ks_policy_free(&a);
		ks_policy_free(&b);
		ks_policy_free(&out);
	}
	ks_policy_cache_free(&cache);
}
END_TEST

static const struct {
	unsigned in, out;
} depths[] = {
	{ 0, 8 }, { 3, 8 }, { 8, 8 }, { 20, 20 }, { 40, 40 }, { 41, 40 },
	{ 255, 40 },
};

START_TEST(chain_depth_is_clamped_to_8_through_40)
{
	ck_assert_uint_eq(ks_policy_chain_depth(depths[_i].in),
	    depths[_i].out);
}
END_TEST

/* The verdict fixture: a root R, a sibling O outside it, HOME = R/home. */
static char *root, *out, *out_base;

/* tmpl with {R} root, {O} outside dir, {B} its base name, {H} HOME. */
static char *
subst(const char *tmpl)
{
	char *res = malloc(strlen(tmpl) + 4 * PATH_MAX), *o = res;

	while (*tmpl != '\0') {
		if (strncmp(tmpl, "{R}", 3) == 0)
			o = stpcpy(o, root);
		else if (strncmp(tmpl, "{O}", 3) == 0)
			o = stpcpy(o, out);
		else if (strncmp(tmpl, "{B}", 3) == 0)
			o = stpcpy(o, out_base);
		else if (strncmp(tmpl, "{H}", 3) == 0)
			o = stpcpy(stpcpy(o, root), "/home");
		else {
			*o++ = *tmpl++;
			continue;
		}
		tmpl += 3;
	}
	*o = '\0';
	return res;
}

static const char *const files[] = {
	"{R}/f", "{R}/d/f", "{R}/sec/f", "{R}/home/.keep", "{R}/.git/config",
	"{R}/.git/HEAD", "{R}/.config/koda/db/key", "{R}/secret/f",
	"{R}/secret/open/f", "{R}/pub/x", "{O}/f", "{O}/aw/sec/f",
};

/* Links in R: name, target. */
static const char *const links[][2] = {
	{ "lout", "{O}/f" }, { "letc", "/etc" }, { "lrel", "d/f" },
	{ "dangle", "{R}/nowhere/f" }, { "dangle_out", "/nonexistent-ks/f" },
	{ "lhome", "{H}" }, { "ldb", "{R}/.config/koda/db/../../../f" },
	{ "ldb2", "{R}/.config/koda/db/key" }, { "lgit", ".git/config" },
	{ "lsec", "sec/f" }, { "law", "{O}/aw/f" }, { "loop1", "loop2" },
	{ "loop2", "loop1" }, { "pub/l", "{R}/secret/f" },
	{ "pub/lo", "../secret/open/f" }, { "lsecret", "secret" },
	{ "c11", "d/f" }, { "e11", "{O}/f" },
};

static void
at(const char *name, const char *target)
{
	char path[PATH_MAX], *t = subst(target);

	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_msg(symlink(t, path) == 0, "symlink %s", path);
	free(t);
}

static void
verdict_setup(void)
{
	char *t = ks_tmpdir(), *o = ks_tmpdir(), *f, name[8], next[8];

	root = realpath(t, NULL);
	out = realpath(o, NULL);
	out_base = strrchr(out, '/') + 1;
	free(t);
	free(o);
	ck_assert_int_eq(chdir(root), 0);
	for (size_t i = 0; i < NELEM(files); i++) {
		ks_putf("x", "%s", (f = subst(files[i])));
		free(f);
	}
	for (size_t i = 0; i < NELEM(links); i++)
		at(links[i][0], links[i][1]);
	/* Two chains of 12 links, longer than any clamped depth. */
	for (int i = 0; i < 22; i++) {
		snprintf(name, sizeof(name), "%c%d", "ce"[i / 11], i % 11);
		snprintf(next, sizeof(next), "%c%d", "ce"[i / 11], i % 11 + 1);
		at(name, next);
	}
}

static void
verdict_teardown(void)
{
	ks_rmtree(root);
	ks_rmtree(out);
	free(root);
	free(out);
}

/* Policy variants of the verdict table. */
enum { BASE, GIT_OK, ALLOW_ETC, LEGACY, NO_HOME, HOME_ONLY };

static void
verdict_policy(int variant, struct ks_policy *p, struct ks_policy_ctx *ctx)
{
	char *json = subst(variant >= NO_HOME ? "{}" :
	    "{'fs':{'allow_write':['{O}/aw'],'deny_write_within_allow':"
	    "['{R}/sec','{O}/aw/sec'],'deny_read':['{R}/secret'],"
	    "'allow_read_within_deny':['{R}/secret/open']}}");

	pol(json, p);
	free(json);
	p->allow_git_config = variant == GIT_OK;
	if (variant == ALLOW_ETC)
		ks_strv_push(&p->allow_write, "/etc", 4);
	ctx->policy = p;
	ctx->root = variant == LEGACY ? NULL : root;
	ctx->root_resolved = ctx->root;
	ctx->home = variant == NO_HOME ? NULL : subst("{H}");
}

#define FP(p) "write denied: '" p "' is a fully-protected path"
#define CRIT(p) "write denied: '" p "' is a critical system path"
#define OUTSIDE(p) "write denied: '" p "' is outside writable root '{R}'"
#define SUBPATH(p) "write denied: '" p "' is in a write-protected sub-path"
#define CHAIN(c) "write denied: symlink chain reaches protected path '" c "'"
#define GIT(p) "write denied: '" p "' is a git config path " \
	"(allow_git_config is off)"
#define RFP(p) "read denied: '" p "' is a fully-protected path"
#define RDENY(p) "read denied: '" p "' is in a read-denied path"
#define ELOOP_TEXT "!Too many levels of symbolic links (os error 40)"

/*
 * op 'w' or 'r'; want: a policy_denied message; "!" and an io message;
 * or allowed: "=" (write: and where it lands), "@" where it lands
 * through a link.
 */
static const struct {
	char op;
	const char *path;
	int variant;
	const char *want;
} verdicts[] = {
	{ 'w', "{H}/.config/koda/db/x", BASE, FP("{H}/.config/koda/db/x") },
	{ 'w', "{H}/.config/koda/db", BASE, FP("{H}/.config/koda/db") },
	{ 'w', "/srv/.config/koda/db", BASE, FP("/srv/.config/koda/db") },
	{ 'w', "/", BASE, CRIT("/") }, { 'w', "/etc", BASE, CRIT("/etc") },
	{ 'w', "/etc/", BASE, CRIT("/etc/") },
	{ 'w', "//usr", BASE, CRIT("//usr") },
	{ 'w', "{H}", BASE, CRIT("{H}") }, { 'w', "{H}/", BASE, CRIT("{H}/") },
	{ 'w', "*", BASE, CRIT("*") }, { 'w', "/x/*", BASE, CRIT("/x/*") },
	{ 'w', "{R}/*", BASE, CRIT("{R}/*") },
	{ 'w', "{O}/f", BASE, OUTSIDE("{O}/f") },
	{ 'w', "{O}/aw/f", BASE, "={O}/aw/f" },
	{ 'w', "{O}/aw/new/dir/f", BASE, "={O}/aw/new/dir/f" },
	{ 'w', "{R}/sec/f", BASE, SUBPATH("{R}/sec/f") },
	{ 'w', "{R}/sec", BASE, SUBPATH("{R}/sec") },
	{ 'w', "{R}/lsec", BASE, SUBPATH("{R}/lsec") },
	{ 'w', "{O}/aw/sec/f", BASE, OUTSIDE("{O}/aw/sec/f") },
	{ 'w', "{R}/lout", BASE, OUTSIDE("{R}/lout") },
	{ 'w', "{R}/law", BASE, "@{O}/aw/f" },
	{ 'w', "{R}/letc", BASE, OUTSIDE("{R}/letc") },
	{ 'w', "{R}/letc", ALLOW_ETC, CHAIN("/etc") },
	{ 'w', "{R}/lhome", BASE, CHAIN("{H}") },
	{ 'w', "{R}/ldb", BASE, CHAIN("{R}/.config/koda/db/../../../f") },
	{ 'w', "{R}/lrel", BASE, "@{R}/d/f" },
	{ 'w', "{R}/dangle", BASE, "@{R}/nowhere/f" },
	{ 'w', "{R}/dangle_out", BASE, OUTSIDE("{R}/dangle_out") },
	{ 'w', "{R}/c0", BASE, "@{R}/d/f" },
	{ 'w', "{R}/e0", BASE, OUTSIDE("{R}/e0") },
	{ 'w', "{R}/loop1", BASE, ELOOP_TEXT },
	{ 'w', "{R}/missing/../../{B}/f", BASE,
	    OUTSIDE("{R}/missing/../../{B}/f") },
	{ 'w', "{R}/missing/../f", BASE, "={R}/f" },
	{ 'w', "{R}/f", BASE, "={R}/f" },
	{ 'w', "{R}/d/new/f", BASE, "={R}/d/new/f" },
	{ 'w', "", BASE, OUTSIDE("") }, { 'w', "f", BASE, OUTSIDE("f") },
	{ 'w', "{R}/.git/config", BASE, GIT("{R}/.git/config") },
	{ 'w', "{R}/.git/hooks/x", BASE, GIT("{R}/.git/hooks/x") },
	{ 'w', "{R}/sub/.git/config", BASE, GIT("{R}/sub/.git/config") },
	{ 'w', "{R}/lgit", BASE, GIT("{R}/lgit") },
	{ 'w', "{R}/.git/HEAD", BASE, "={R}/.git/HEAD" },
	{ 'w', "{R}/.git/config", GIT_OK, "={R}/.git/config" },
	{ 'w', "{R}/lgit", GIT_OK, "@{R}/.git/config" },
	{ 'w', "{O}/f", LEGACY, "={O}/f" },
	{ 'w', "{R}/lout", LEGACY, "@{O}/f" }, { 'w', "f", LEGACY, "={R}/f" },
	{ 'w', "/etc", LEGACY, CRIT("/etc") },
	{ 'w', "{H}", LEGACY, CRIT("{H}") },
	{ 'w', "{H}/.config/koda/db/x", LEGACY, FP("{H}/.config/koda/db/x") },
	{ 'w', "{R}/.git/config", LEGACY, GIT("{R}/.git/config") },
	{ 'w', "{R}/lgit", LEGACY, GIT("{R}/lgit") },
	{ 'r', "{R}/secret/f", BASE, RDENY("{R}/secret/f") },
	{ 'r', "{R}/secret", BASE, RDENY("{R}/secret") },
	{ 'r', "{R}/secretx", BASE, "=" },
	{ 'r', "{R}/secret/open/f", BASE, "=" },
	{ 'r', "{R}/secret/open", BASE, "=" }, { 'r', "{R}/pub/x", BASE, "=" },
	{ 'r', "{R}/pub/l", BASE, RDENY("{R}/pub/l") },
	{ 'r', "{R}/pub/lo", BASE, "=" },
	{ 'r', "{R}/pub/../secret/f", BASE, RDENY("{R}/pub/../secret/f") },
	{ 'r', "{R}/lsecret/f", BASE, RDENY("{R}/lsecret/f") },
	{ 'r', "{R}/lsecret/open/f", BASE, "=" },
	{ 'r', "{H}/.config/koda/db", BASE, RFP("{H}/.config/koda/db") },
	{ 'r', "/x/.config/koda/db/y", BASE, RFP("/x/.config/koda/db/y") },
	{ 'r', "{R}/ldb2", BASE, RFP("{R}/ldb2") },
	{ 'r', "{R}/ldb2", HOME_ONLY, RFP("{R}/ldb2") },
	{ 'r', "{R}/ldb2", NO_HOME, RFP("{R}/ldb2") },
	{ 'r', "{R}/pub/x", NO_HOME, "=" },
};

START_TEST(verdict_is_the_reference_message_or_the_landing)
{
	struct ks_policy p;
	struct ks_policy_ctx ctx;
	struct ks_err err = { .code = KS_CODE_NONE };
	char *path = subst(verdicts[_i].path), *want = subst(verdicts[_i].want);
	char *landing = NULL;
	bool final_link = false;
	int rc;

	verdict_policy(verdicts[_i].variant, &p, &ctx);
	if (verdicts[_i].op == 'w')
		rc = ks_policy_check_write(&ctx, path, &landing, &final_link,
		    &err);
	else
		rc = ks_policy_check_read(&ctx, path, &err);
	if (want[0] == '=' || want[0] == '@') {
		ck_assert_msg(rc == 0, "%s: %s", path, err.msg);
		if (verdicts[_i].op == 'w')
			ck_assert_str_eq(landing, want + 1);
		ck_assert_int_eq(final_link, want[0] == '@');
	} else {
		ck_assert_msg(rc < 0, "%s allowed", path);
		ck_assert_int_eq(err.code, want[0] == '!' ? KS_CODE_IO :
		    KS_CODE_POLICY_DENIED);
		ck_assert_str_eq(err.msg, want + (want[0] == '!'));
		ck_assert_ptr_null(landing);
	}
	free(want);
	free(path);
	free(landing);
	free((char *)ctx.home);
	ks_policy_free(&p);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *parse = tcase_create("parse"), *comp = tcase_create("compose");
	TCase *verd = tcase_create("verdict");

	tcase_add_test(parse, init_sets_the_defaults);
	tcase_add_test(parse, full_policy_prints_every_field_in_spec_order);
	tcase_add_loop_test(parse, edge_values_are_accepted, 0, NELEM(edges));
	tcase_add_test(parse, limit_accepts_the_whole_u64_range);
	tcase_add_loop_test(parse, bad_policy_is_einval_with_protocol_code, 0,
	    NELEM(bad));
	tcase_add_test(parse, problems_and_unknown_keys_are_all_collected);
	tcase_add_test(parse, unknown_keys_alone_do_not_fail_the_parse);
	suite_add_tcase(s, parse);

	tcase_add_loop_test(comp, compose_never_widens_field_by_field, 0,
	    NELEM(composes));
	tcase_add_test(comp,
	    compose_child_hole_above_a_parent_denial_keeps_it_denied);
	tcase_add_test(comp, compose_never_widens_over_random_policies);
	tcase_add_loop_test(comp, chain_depth_is_clamped_to_8_through_40, 0,
	    NELEM(depths));
	suite_add_tcase(s, comp);

	tcase_add_checked_fixture(verd, verdict_setup, verdict_teardown);
	tcase_add_loop_test(verd,
	    verdict_is_the_reference_message_or_the_landing, 0,
	    NELEM(verdicts));
	suite_add_tcase(s, verd);
	return s;
}
