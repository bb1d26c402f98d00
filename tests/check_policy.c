/*
 * check_policy: parsing (defaults, errors, unknown keys), JSON output in
 * SPEC order, and compose field by field and as a property (compose.c).
 * The verdicts are in check_verdict.c. JSON in the tables is written
 * with ' for " (ks_dq).
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

static int
parse(const char *json, struct ks_policy *p, struct ks_strv *problems,
    struct ks_strv *unknown, struct ks_err *err)
{
	char *d = ks_dq(json);
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

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *parse = tcase_create("parse"), *comp = tcase_create("compose");

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
	suite_add_tcase(s, comp);
	return s;
}
