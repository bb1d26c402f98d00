/*
 * check_policy_check: the built binary's policy-check applet: verdicts
 * and their output, bulk and -0 modes, usage errors, validate, compose,
 * default and explain. Its agreement with a real worker is
 * check_agreement's.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pclib.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define BULK_N 100000
#define SAMPLE_EVERY 500

START_TEST(write_prints_denied_paths_only)
{
	const char *args[] = { "--root", "%R", "write", "%R/a.txt", "%O/x",
	    NULL };

	ks_pc_expect(args, NULL, 1, "%O/x: write denied: '%O/x' is outside "
	    "writable root '%R'\n");
	args[4] = NULL;
	ks_pc_expect(args, NULL, 0, "");
}
END_TEST

START_TEST(json_lists_every_path_in_order)
{
	const char *args[] = { "--policy", "%F", "--json", "read",
	    "%R/private/s.txt", "%R/a.txt", "/x/\xff\xfe", NULL };
	char *out, *line;
	json_t *o;

	ks_pc_put_policy(ks_pc_corpus_policy);
	ks_pc_expect(args, NULL, 1, "{\"path\":\"%R/private/s.txt\","
	    "\"op\":\"read\",\"allowed\":false,\"reason\":\"read denied: "
	    "'%R/private/s.txt' is in a read-denied path\"}\n"
	    "{\"path\":\"%R/a.txt\",\"op\":"
	    "\"read\",\"allowed\":true,\"reason\":null}\n{\"path\":\"/x/"
	    "\xef\xbf\xbd\xef\xbf\xbd\",\"op\":\"read\",\"allowed\":true,"
	    "\"reason\":null}\n");
	out = ks_pc_run(args, NULL, 0, 1);
	for (line = out; *line != '\0'; line = strchr(line, '\n') + 1) {
		o = ks_pc_parse_line(line, (size_t)(strchr(line, '\n') - line));
		ck_assert_str_eq(json_string_value(json_object_get(o, "op")),
		    "read");
		json_decref(o);
	}
	free(out);
}
END_TEST

/* Without --root the worker's legacy mode: only items 1, 2 and git. */
START_TEST(legacy_mode_without_root)
{
	const char *args[] = { "write", "/etc/koda-test", NULL };

	ks_pc_expect(args, NULL, 0, "");
	args[1] = "/etc";
	ks_pc_expect(args, NULL, 1, "/etc: write denied: '/etc' is a critical "
	    "system path\n");
}
END_TEST

/* A relative --root is taken from the working directory and quoted as
 * given, as the worker does. */
START_TEST(relative_root_is_resolved_like_the_worker)
{
	const char *args[] = { "--root", "root", "write", "root/a.txt",
	    "/etc/x", NULL };

	ck_assert_int_eq(chdir(ks_pc_top), 0);
	ks_pc_expect(args, NULL, 1, "/etc/x: write denied: '/etc/x' is outside "
	    "writable root 'root'\n");
}
END_TEST

START_TEST(help_prints_usage_on_stdout)
{
	const char *args[] = { "--help", NULL };
	char *out = ks_pc_run(args, NULL, 0, 0);

	ck_assert_msg(strncmp(out, "usage: koda-sandbox policy-check", 32) == 0,
	    "%s", out);
	free(out);
}
END_TEST

/* Usage errors and bad policies: exit 2, a reason, nothing on stdout. */
static const char *const usage_cases[][6] = {
	{ NULL },
	{ "frobnicate", NULL },
	{ "write", NULL },
	{ "--policy", "-", "write", "-", NULL },
	{ "-0", "write", "/x", NULL },
	{ "write", "-", "/x", NULL },
	{ "--bogus", "write", "/x", NULL },
	{ "validate", NULL },
	{ "compose", "%F", NULL },
	{ "default", "x", NULL },
	{ "--json", "validate", "%F", NULL },
	{ "--root", "%R", "default", NULL },
	{ "compose", "-", "-", NULL },
	{ "--policy", "%T/missing.json", "write", "/x", NULL },
	{ "--root", "%T/missing", "write", "/x", NULL },
	{ "--root", "%R/a.txt", "write", "/x", NULL },
	{ "--policy", "%T/bad.json", "write", "/x", NULL },
	{ "--policy", "%T/deep.json", "read", "/x", NULL },
	{ "compose", "%F", "%T/bad.json", NULL },
	{ "explain", "%T/deep.json", NULL },
	{ "validate", "%T/missing.json", NULL },
};

START_TEST(usage_and_bad_policies_exit_2)
{
	ks_putf("{\"fs\":", "%s/bad.json", ks_pc_top);
	ks_putf("{\"fs\":{\"mandatory_deny_search_depth\":256}}",
	    "%s/deep.json", ks_pc_top);
	ks_pc_expect(usage_cases[_i], NULL, 2, "");
}
END_TEST

/* 100,000 paths in one run, half of them denied. */
static char *
bulk_input(size_t *len)
{
	char *in = NULL;
	FILE *f = open_memstream(&in, len);

	for (int i = 0; i < BULK_N; i++)
		switch (i % 4) {
		case 0: fprintf(f, "%s/f%d.txt\n", ks_pc_root, i); break;
		case 1: fprintf(f, "%s/f%d\n", ks_pc_outside, i); break;
		case 2: fprintf(f, "%s/protected/%d\n", ks_pc_root, i); break;
		default: fprintf(f, "%s/sub/%d/x.rs\n", ks_pc_root, i); break;
		}
	fclose(f);
	return in;
}

/* The line bulk mode gave for path equals a run on path alone. */
static void
same_alone(const char *line, size_t len, const char *path)
{
	const char *args[] = { "--policy", "%F", "--root", "%R", "--json",
	    "write", path, NULL };
	char *one = ks_pc_run(args, NULL, 0, strstr(line, "\"allowed\":true") ?
	    0 : 1);

	ck_assert_msg(strlen(one) == len && memcmp(one, line, len) == 0,
	    "bulk: %.*s alone: %s", (int)len, line, one);
	free(one);
}

START_TEST(bulk_matches_one_by_one)
{
	const char *args[] = { "--policy", "%F", "--root", "%R", "--json",
	    "write", "-", NULL };
	char *in, *out, *line, *next;
	size_t len, n = 0, denied = 0;
	json_t *o;

	ks_pc_put_policy(ks_pc_corpus_policy);
	in = bulk_input(&len);
	out = ks_pc_run(args, in, len, 1);
	for (line = out; *line != '\0'; line = next, n++) {
		next = strchr(line, '\n') + 1;
		o = ks_pc_parse_line(line, (size_t)(next - line - 1));
		denied += json_is_false(json_object_get(o, "allowed"));
		if (n % SAMPLE_EVERY == 0)
			same_alone(line, (size_t)(next - line),
			    json_string_value(json_object_get(o, "path")));
		json_decref(o);
	}
	ck_assert_uint_eq(n, BULK_N);
	ck_assert_uint_eq(denied, BULK_N / 2);
	free(out);
	args[4] = "write";
	args[5] = "-";
	args[6] = NULL;
	out = ks_pc_run(args, in, len, 1);
	for (n = 0, line = out; (line = strchr(line, '\n')) != NULL; line++)
		n++;
	ck_assert_uint_eq(n, BULK_N / 2);
	free(out);
	free(in);
}
END_TEST

/* -0: NUL-separated, so a name may hold a newline. Line mode: every
 * line is a path, an empty one too, a last one without its newline. */
START_TEST(nul_and_line_modes)
{
	const char *args[] = { "--root", "%R", "--json", "-0", "write", "-",
	    NULL };
	char *in = ks_pc_fill("%R/new\nline.txt|%O/x"), *out, *want;
	size_t len = strlen(in);

	*strchr(in, '|') = '\0';
	out = ks_pc_run(args, in, len, 1);
	want = ks_pc_fill("{\"path\":\"%R/new\\nline.txt\",\"op\":\"write\","
	    "\"allowed\":true,\"reason\":null}\n{\"path\":\"%O/x\",\"op\":"
	    "\"write\",\"allowed\":false,\"reason\":\"write denied: '%O/x' is "
	    "outside writable root '%R'\"}\n");
	ck_assert_str_eq(out, want);
	free(out);
	free(want);
	free(in);
	args[3] = "write";
	args[4] = "-";
	args[5] = NULL;
	in = ks_pc_fill("%R/a.txt\n\n%R/b.txt");
	ks_pc_expect(args, in, 1, "{\"path\":\"%R/a.txt\",\"op\":\"write\","
	    "\"allowed\":true,\"reason\":null}\n{\"path\":\"\",\"op\":"
	    "\"write\",\"allowed\":false,\"reason\":\"write denied: '' is "
	    "outside writable root '%R'\"}\n{\"path\":\"%R/b.txt\",\"op\":"
	    "\"write\",\"allowed\":true,\"reason\":null}\n");
	free(in);
}
END_TEST

struct vcase {
	const char *policy;
	const char *want;	/* stdout, %F for the file */
	int rc;
};

#define REL(where, p) "%F: " where ": '" p "' is not an absolute path " \
	"(entries are used as written: no ~ expansion, no working " \
	"directory)\n"

static const struct vcase validate_cases[] = {
	{ "{}", "", 0 },
	{ "{\"fs\":{\"allow_write\":[\"/srv\"]},\"trust\":\"forbid\"}", "", 0 },
	{ "{\"fs\":", "%F: not JSON: unexpected token near end of file at "
	  "line 1 column 6\n", 1 },
	{ "{\n  \"fs\": {\n    \"allow_write\": [\"/a\",]\n  }\n}\n",
	  "%F: not JSON: unexpected token near ']' at line 3 column 26\n", 1 },
	{ "[]", "%F: the policy: expected an object\n", 1 },
	{ "{\"fs\":{\"allow_write\":\"/a\",\"allow_git_config\":\"yes\"}}",
	  "%F: fs.allow_write: expected an array of strings\n"
	  "%F: fs.allow_git_config: expected true or false\n", 1 },
	{ "{\"fs\":{\"alow_write\":[\"/a\"]}}",
	  "%F: fs.alow_write: unknown key\n", 1 },
	{ "{\"fs\":{\"mandatory_deny_search_depth\":256},\"limits\":"
	  "{\"max_open_fds\":-1}}",
	  "%F: fs.mandatory_deny_search_depth: expected an integer from 0 to "
	  "255\n%F: limits.max_open_fds: expected an integer from 0 to "
	  "18446744073709551615\n", 1 },
	{ "{\"trust\":\"sometimes\"}", "%F: trust: expected \"auto\", "
	  "\"require\" or \"forbid\"\n", 1 },
	{ "{\"fs\":{\"deny_read\":[\"~/.ssh\",\"/ok\",\"rel/x\"]},\"net\":"
	  "{\"mitm\":{\"ca_bundle\":\"ca.pem\",\"socket_map\":[[\"a.com\","
	  "\"s.sock\"]]}}}", REL("fs.deny_read", "~/.ssh")
	  REL("fs.deny_read", "rel/x") REL("net.mitm.ca_bundle", "ca.pem")
	  REL("net.mitm.socket_map", "s.sock"), 1 },
	/* A type error elsewhere does not hide a relative entry. */
	{ "{\"fs\":{\"allow_write\":[\"w\"],\"allow_git_config\":1},\"x\":1}",
	  "%F: fs.allow_git_config: expected true or false\n"
	  REL("fs.allow_write", "w") "%F: x: unknown key\n", 1 },
};

START_TEST(validate_lists_every_problem)
{
	const char *args[] = { "validate", "%F", NULL };

	ks_putf(validate_cases[_i].policy, "%s", ks_pc_polfile);
	ks_pc_expect(args, NULL, validate_cases[_i].rc,
	    validate_cases[_i].want);
}
END_TEST

START_TEST(default_prints_every_field)
{
	const char *args[] = { "default", NULL };

	ks_pc_expect(args, NULL, 0, "{\n  \"fs\": {\n    \"deny_read\": [],\n"
	    "    \"allow_read_within_deny\": [],\n    \"allow_write\": [],\n"
	    "    \"deny_write_within_allow\": [],\n"
	    "    \"allow_git_config\": false,\n"
	    "    \"mandatory_deny_search_depth\": 3\n  },\n"
	    "  \"net\": {\n    \"allowed_domains\": [],\n"
	    "    \"denied_domains\": [],\n    \"allow_local_binding\": false,\n"
	    "    \"mitm\": null,\n    \"weaker_macos_isolation\": false\n  },\n"
	    "  \"limits\": {\n    \"cpu_time_secs\": null,\n"
	    "    \"wall_time_secs\": null,\n    \"max_rss_bytes\": null,\n"
	    "    \"max_open_fds\": null,\n    \"max_output_bytes\": null\n"
	    "  },\n  \"trust\": \"auto\"\n}\n");
}
END_TEST

START_TEST(compose_never_widens)
{
	const char *args[] = { "compose", "%F", "-", NULL };
	static const char child[] = "{\"fs\":{\"deny_read\":[\"/c\",\"/p\"],"
	    "\"allow_write\":[\"/x\"],\"allow_git_config\":false,"
	    "\"mandatory_deny_search_depth\":9},\"limits\":{\"cpu_time_secs\":"
	    "20,\"max_open_fds\":64},\"trust\":\"auto\"}";
	char *out, *again;
	json_t *o, *want;

	ks_pc_put_policy("{\"fs\":{\"deny_read\":[\"/p\"],"
	    "\"allow_write\":[\"/w\"],\"allow_git_config\":true,"
	    "\"mandatory_deny_search_depth\":5},"
	    "\"limits\":{\"cpu_time_secs\":10},\"trust\":\"require\"}");
	out = ks_pc_run(args, child, strlen(child), 0);
	ck_assert_ptr_nonnull(o = json_loads(out, JSON_REJECT_DUPLICATES,
	    NULL));
	/* As jansson prints it (indent 2), keys in SPEC order. */
	again = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	ck_assert_int_eq(strncmp(out, again, strlen(again)), 0);
	ck_assert_str_eq(out + strlen(again), "\n");
	ck_assert_int_eq(strncmp(out, "{\n  \"fs\": {\n    \"deny_read\"", 27),
	    0);
	want = json_pack("{s:[ss],s:[],s:[s],s:[],s:b,s:i}", "deny_read", "/p",
	    "/c", "allow_read_within_deny", "allow_write", "/w",
	    "deny_write_within_allow", "allow_git_config", 0,
	    "mandatory_deny_search_depth", 9);
	ck_assert(json_equal(json_object_get(o, "fs"), want));
	json_decref(want);
	want = json_pack("{s:i,s:n,s:n,s:i,s:n}", "cpu_time_secs", 10,
	    "wall_time_secs", "max_rss_bytes", "max_open_fds", 64,
	    "max_output_bytes");
	ck_assert(json_equal(json_object_get(o, "limits"), want));
	json_decref(want);
	ck_assert_str_eq(json_string_value(json_object_get(o, "trust")),
	    "require");
	json_decref(o);
	free(again);
	free(out);
}
END_TEST

/* Asserts that out holds every one of want[0..n) (filled). */
static void
has_all(const char *out, const char *const *want, size_t n)
{
	char *w;

	for (size_t i = 0; i < n; i++) {
		w = ks_pc_fill(want[i]);
		ck_assert_msg(strstr(out, w) != NULL, "missing: %s\nin:\n%s", w,
		    out);
		free(w);
	}
}

START_TEST(explain_says_the_rules)
{
	static const char *const want[] = {
		"Writable: the root '%R' and everything beneath it.\n",
		"Also writable, outside the root: '%A' (allow_write",
		"Carved out, never writable even inside a writable area: "
		"'%R/protected' and '%A/carved' (deny_write_within_allow).\n",
		"Never writable either: $HOME itself ('%H').\n",
		"'.git/config' and anything under '.git/hooks/' are never "
		"writable (allow_git_config is off).\n",
		"up to 8 hops (mandatory_deny_search_depth 3",
		"Read-denied: '%R/private' and '%O' and everything beneath "
		"them",
		"Re-opened for reading inside those: '%R/private/open' "
		"(allow_read_within_deny).\n",
		"CPU time: unlimited.\n", "Trust: auto",
	};
	static const char *const want2[] = { "(legacy mode)",
	    "(allow_git_config is on)", "up to 40 hops",
	    "CPU time: 10 seconds (RLIMIT_CPU", "Trust: forbid" };
	const char *args[] = { "--root", "%R", "explain", "%F", NULL };
	char *out;

	ks_pc_put_policy(ks_pc_corpus_policy);
	out = ks_pc_run(args, NULL, 0, 0);
	has_all(out, want, NELEM(want));
	free(out);
	ks_pc_put_policy("{\"fs\":{\"allow_git_config\":true,"
	    "\"mandatory_deny_search_depth\":50},\"limits\":{\"cpu_time_secs\":"
	    "10},\"trust\":\"forbid\"}");
	out = ks_pc_run(args + 2, NULL, 0, 0);
	has_all(out, want2, NELEM(want2));
	free(out);
}
END_TEST

Suite *
policy_check_suite(void)
{
	Suite *s = suite_create("policy_check");
	TCase *verdicts = tcase_create("verdicts");
	TCase *bulk = tcase_create("bulk");
	TCase *cmds = tcase_create("subcommands");

	tcase_add_checked_fixture(verdicts, ks_pc_setup, ks_pc_teardown);
	tcase_add_test(verdicts, write_prints_denied_paths_only);
	tcase_add_test(verdicts, json_lists_every_path_in_order);
	tcase_add_test(verdicts, legacy_mode_without_root);
	tcase_add_test(verdicts, relative_root_is_resolved_like_the_worker);
	tcase_add_test(verdicts, help_prints_usage_on_stdout);
	tcase_add_loop_test(verdicts, usage_and_bad_policies_exit_2, 0,
	    NELEM(usage_cases));
	suite_add_tcase(s, verdicts);

	tcase_add_checked_fixture(bulk, ks_pc_setup, ks_pc_teardown);
	tcase_set_timeout(bulk, 120);
	tcase_add_test(bulk, bulk_matches_one_by_one);
	tcase_add_test(bulk, nul_and_line_modes);
	suite_add_tcase(s, bulk);

	tcase_add_checked_fixture(cmds, ks_pc_setup, ks_pc_teardown);
	tcase_add_loop_test(cmds, validate_lists_every_problem, 0,
	    NELEM(validate_cases));
	tcase_add_test(cmds, default_prints_every_field);
	tcase_add_test(cmds, compose_never_widens);
	tcase_add_test(cmds, explain_says_the_rules);
	suite_add_tcase(s, cmds);
	return s;
}
