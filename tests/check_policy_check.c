/*
 * check_policy_check: the built binary's policy-check applet: verdicts
 * and their output, bulk and -0 modes, usage errors, validate, compose,
 * default and explain, and agreement with a real worker on a corpus of
 * paths of every class.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define BULK_N 100000
#define SAMPLE_EVERY 500

static char *top;		/* the fixture: top/{root,allow,out,home} */
static char *root, *allow, *outside, *home, *polfile;

static void
setup(void)
{
	top = ks_tmpdir();
	ck_assert(asprintf(&root, "%s/root", top) > 0 &&
	    asprintf(&allow, "%s/allow", top) > 0 &&
	    asprintf(&outside, "%s/out", top) > 0 &&
	    asprintf(&home, "%s/home", top) > 0 &&
	    asprintf(&polfile, "%s/policy.json", top) > 0);
	ks_putf("a\n", "%s/a.txt", root);
	ks_putf("f\n", "%s/sub/f.txt", root);
	ks_putf("p\n", "%s/protected/p.txt", root);
	ks_putf("[core]\n", "%s/.git/config", root);
	ks_putf("ref\n", "%s/.git/HEAD", root);
	ks_putf("s\n", "%s/private/s.txt", root);
	ks_putf("o\n", "%s/private/open/o.txt", root);
	ks_mkdirs(allow);
	ks_mkdirs(outside);
	ks_mkdirs(home);
	/* One HOME for policy-check and the worker: a throwaway one. */
	setenv("HOME", home, 1);
	ks_putf("{}", "%s", polfile);
}

static void
teardown(void)
{
	ks_rmtree(top);
	free(top);
	free(root);
	free(allow);
	free(outside);
	free(home);
	free(polfile);
}

/* s with %R, %A, %O, %H, %T and %F (the policy file) replaced by the
 * fixture's paths. Caller frees. */
static char *
fill(const char *s)
{
	char *o = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&o, &n);
	const char *v;

	for (; *s != '\0'; s++) {
		v = s[0] != '%' ? NULL : s[1] == 'R' ? root : s[1] == 'A' ?
		    allow : s[1] == 'O' ? outside : s[1] == 'H' ? home :
		    s[1] == 'T' ? top : s[1] == 'F' ? polfile : NULL;
		if (v != NULL)
			fputs(v, f);
		else
			fputc(*s, f);
		s += v != NULL;
	}
	fclose(f);
	return o;
}

static void
put_policy(const char *json)
{
	char *j = fill(json);

	ks_putf(j, "%s", polfile);
	free(j);
}

/* The policy the corpus and the bulk tests use. */
static const char corpus_policy[] =
	"{\"fs\":{\"allow_write\":[\"%A\"],\"deny_write_within_allow\":"
	"[\"%R/protected\",\"%A/carved\"],\"deny_read\":[\"%R/private\","
	"\"%O\"],\"allow_read_within_deny\":[\"%R/private/open\"]}}";

static int last_rc;		/* policy-check's exit status in run() */

/*
 * Runs policy-check with the arguments tmpl (NULL-terminated, each
 * filled) and stdin in[0..len) (NULL: /dev/null); asserts it exits with
 * rc (-1: 0 or 1, kept in last_rc) and, for a usage error, says why on
 * stderr. Returns its stdout (caller frees).
 */
static char *
run(const char *const *tmpl, const char *in, size_t len, int rc)
{
	const char *argv[32] = { "koda-sandbox", "policy-check" };
	char *filled[32] = { 0 }, *out, *err;
	size_t n = 2;
	int st;

	for (; *tmpl != NULL && n < NELEM(argv) - 1; tmpl++, n++)
		argv[n] = filled[n] = fill(*tmpl);
	argv[n] = NULL;
	st = in != NULL ? ks_run_in(argv, in, len, &out, &err) :
	    ks_run(argv, &out, &err);
	ck_assert_msg(WIFEXITED(st), "policy-check died (status %d)", st);
	last_rc = WEXITSTATUS(st);
	ck_assert_msg(last_rc == rc || (rc < 0 && last_rc <= 1),
	    "exit %d, want %d; stderr: %s", last_rc, rc, err);
	ck_assert_msg(rc == 2 ? strncmp(err, "policy-check: ", 14) == 0 ||
	    strncmp(err, "usage: ", 7) == 0 : err[0] == '\0', "stderr: %s",
	    err);
	for (size_t i = 0; i < n; i++)
		free(filled[i]);
	free(err);
	return out;
}

/* run(), then stdout must be want (filled). */
static void
expect(const char *const *tmpl, const char *in, int rc, const char *want)
{
	char *out = run(tmpl, in, in != NULL ? strlen(in) : 0, rc);
	char *w = fill(want);

	ck_assert_str_eq(out, w);
	free(out);
	free(w);
}

/* Parses one --json line; asserts the keys and their order. */
static json_t *
parse_line(const char *line, size_t len)
{
	static const char *const keys[] = { "path", "op", "allowed", "reason" };
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	void *it;

	ck_assert_msg(o != NULL, "not JSON (%s): %.*s", je.text, (int)len,
	    line);
	it = json_object_iter(o);
	for (size_t i = 0; i < NELEM(keys); i++) {
		ck_assert_str_eq(json_object_iter_key(it), keys[i]);
		it = json_object_iter_next(o, it);
	}
	ck_assert_ptr_null(it);
	return o;
}

START_TEST(write_prints_denied_paths_only)
{
	const char *args[] = { "--root", "%R", "write", "%R/a.txt", "%O/x",
	    NULL };

	expect(args, NULL, 1, "%O/x: write denied: '%O/x' is outside "
	    "writable root '%R'\n");
	args[4] = NULL;
	expect(args, NULL, 0, "");
}
END_TEST

START_TEST(json_lists_every_path_in_order)
{
	const char *args[] = { "--policy", "%F", "--json", "read",
	    "%R/private/s.txt", "%R/a.txt", "/x/\xff\xfe", NULL };
	char *out, *line;
	json_t *o;

	put_policy(corpus_policy);
	expect(args, NULL, 1, "{\"path\":\"%R/private/s.txt\",\"op\":\"read\","
	    "\"allowed\":false,\"reason\":\"read denied: '%R/private/s.txt' "
	    "is in a read-denied path\"}\n{\"path\":\"%R/a.txt\",\"op\":"
	    "\"read\",\"allowed\":true,\"reason\":null}\n{\"path\":\"/x/"
	    "\xef\xbf\xbd\xef\xbf\xbd\",\"op\":\"read\",\"allowed\":true,"
	    "\"reason\":null}\n");
	out = run(args, NULL, 0, 1);
	for (line = out; *line != '\0'; line = strchr(line, '\n') + 1) {
		o = parse_line(line, (size_t)(strchr(line, '\n') - line));
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

	expect(args, NULL, 0, "");
	args[1] = "/etc";
	expect(args, NULL, 1, "/etc: write denied: '/etc' is a critical "
	    "system path\n");
}
END_TEST

/* A relative --root is taken from the working directory and quoted as
 * given, as the worker does. */
START_TEST(relative_root_is_resolved_like_the_worker)
{
	const char *args[] = { "--root", "root", "write", "root/a.txt",
	    "/etc/x", NULL };

	ck_assert_int_eq(chdir(top), 0);
	expect(args, NULL, 1, "/etc/x: write denied: '/etc/x' is outside "
	    "writable root 'root'\n");
}
END_TEST

START_TEST(help_prints_usage_on_stdout)
{
	const char *args[] = { "--help", NULL };
	char *out = run(args, NULL, 0, 0);

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
	ks_putf("{\"fs\":", "%s/bad.json", top);
	ks_putf("{\"fs\":{\"mandatory_deny_search_depth\":256}}",
	    "%s/deep.json", top);
	expect(usage_cases[_i], NULL, 2, "");
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
		case 0: fprintf(f, "%s/f%d.txt\n", root, i); break;
		case 1: fprintf(f, "%s/f%d\n", outside, i); break;
		case 2: fprintf(f, "%s/protected/%d\n", root, i); break;
		default: fprintf(f, "%s/sub/%d/x.rs\n", root, i); break;
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
	char *one = run(args, NULL, 0, strstr(line, "\"allowed\":true") ?
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

	put_policy(corpus_policy);
	in = bulk_input(&len);
	out = run(args, in, len, 1);
	for (line = out; *line != '\0'; line = next, n++) {
		next = strchr(line, '\n') + 1;
		o = parse_line(line, (size_t)(next - line - 1));
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
	out = run(args, in, len, 1);
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
	char *in = fill("%R/new\nline.txt|%O/x"), *out, *want;
	size_t len = strlen(in);

	*strchr(in, '|') = '\0';
	out = run(args, in, len, 1);
	want = fill("{\"path\":\"%R/new\\nline.txt\",\"op\":\"write\","
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
	in = fill("%R/a.txt\n\n%R/b.txt");
	expect(args, in, 1, "{\"path\":\"%R/a.txt\",\"op\":\"write\","
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

	ks_putf(validate_cases[_i].policy, "%s", polfile);
	expect(args, NULL, validate_cases[_i].rc, validate_cases[_i].want);
}
END_TEST

START_TEST(default_prints_every_field)
{
	const char *args[] = { "default", NULL };

	expect(args, NULL, 0, "{\n  \"fs\": {\n    \"deny_read\": [],\n"
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

	put_policy("{\"fs\":{\"deny_read\":[\"/p\"],\"allow_write\":[\"/w\"],"
	    "\"allow_git_config\":true,\"mandatory_deny_search_depth\":5},"
	    "\"limits\":{\"cpu_time_secs\":10},\"trust\":\"require\"}");
	out = run(args, child, strlen(child), 0);
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
		w = fill(want[i]);
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

	put_policy(corpus_policy);
	out = run(args, NULL, 0, 0);
	has_all(out, want, NELEM(want));
	free(out);
	put_policy("{\"fs\":{\"allow_git_config\":true,"
	    "\"mandatory_deny_search_depth\":50},\"limits\":{\"cpu_time_secs\":"
	    "10},\"trust\":\"forbid\"}");
	out = run(args + 2, NULL, 0, 0);
	has_all(out, want2, NELEM(want2));
	free(out);
}
END_TEST

/* Worker and policy-check on one corpus. */
enum want { ALLOW, DENY, IO_DENY, FSFAIL };

struct acase {
	char op;		/* 'w': a write request, 'r': a stat */
	const char *path;
	enum want want;
};

static const struct acase corpus[] = {
	{ 'w', "%R/a.txt", ALLOW }, { 'w', "%R/new.txt", ALLOW },
	{ 'w', "%R/sub/deep/new.txt", ALLOW }, { 'w', "%R/./b.txt", ALLOW },
	{ 'w', "%R//c.txt", ALLOW }, { 'w', "%R/sub/../d.txt", ALLOW },
	{ 'w', "%R/missing/../inside.txt", ALLOW },
	{ 'w', "%R/../escape.txt", DENY },
	{ 'w', "%R/missing/../../escape2.txt", DENY }, { 'w', "%R/..", DENY },
	{ 'w', "%O/x.txt", DENY }, { 'w', "/etc/koda-never", DENY },
	{ 'w', "/", DENY }, { 'w', "/etc", DENY }, { 'w', "%H", DENY },
	{ 'w', "%R/*", DENY }, { 'w', "*", DENY },
	{ 'w', "%R/.config/koda/db", DENY },
	{ 'w', "%R/x/.config/koda/db/y", DENY },
	{ 'w', "%H/.config/koda/db/z", DENY },
	{ 'w', "%R/.config/koda/dbx", ALLOW }, { 'w', "%R/.git/config", DENY },
	{ 'w', "%R/.git/hooks/pre-commit", DENY },
	{ 'w', "%R/.git/hooks", DENY }, { 'w', "%R/sub/.git/config", DENY },
	{ 'w', "%R/.git/HEAD", ALLOW }, { 'w', "%R/protected/x", DENY },
	{ 'w', "%R/protected", DENY }, { 'w', "%A/ok.txt", ALLOW },
	{ 'w', "%A/carved/x", DENY }, { 'w', "%A/../escape3.txt", DENY },
	{ 'w', "%A/link-back", ALLOW }, { 'w', "%R/link-out/x", DENY },
	{ 'w', "%R/link-in", ALLOW }, { 'w', "%R/link-etc/passwd", DENY },
	{ 'w', "%R/link-home", DENY }, { 'w', "%R/link-db", DENY },
	{ 'w', "%R/link-git", DENY }, { 'w', "%R/link-gitdir/config", DENY },
	{ 'w', "%R/dangling", ALLOW }, { 'w', "%R/dangling-out", DENY },
	{ 'w', "%R/chain1", ALLOW }, { 'w', "%R/loop1", IO_DENY },
	{ 'w', "%R/link-carved", DENY }, { 'w', "%R/link-allow", ALLOW },
	{ 'w', "%R/link-acarved", DENY }, { 'w', "", DENY },
	{ 'w', "bare.txt", DENY }, { 'w', "sub/x.txt", DENY },
	{ 'w', "%R/sub", FSFAIL }, { 'w', "%R", FSFAIL },
	{ 'w', "%R/a.txt/x", FSFAIL },
	{ 'w', "%R/\xc3\xbcn\xc3\xaf code.txt", ALLOW },
	{ 'w', "%R/quote'name.txt", ALLOW }, { 'r', "%R/a.txt", ALLOW },
	{ 'r', "%R/private/s.txt", DENY }, { 'r', "%R/private", DENY },
	{ 'r', "%R/private/open/o.txt", ALLOW },
	{ 'r', "%R/private/../a.txt", DENY }, { 'r', "%R/link-private", DENY },
	{ 'r', "%R/link-open", ALLOW }, { 'r', "%R/.config/koda/db", DENY },
	{ 'r', "%O", DENY }, { 'r', "%R/link-out/x", DENY },
	{ 'r', "%R/missing.txt", FSFAIL },
};

/* Links of every class; relative ones stay inside the tree. */
static void
make_links(void)
{
	static const char *const links[][2] = {
		{ "%O", "%R/link-out" }, { "a.txt", "%R/link-in" },
		{ "/etc", "%R/link-etc" }, { "%H", "%R/link-home" },
		{ "%R/.config/koda/db/secret", "%R/link-db" },
		{ ".git/config", "%R/link-git" }, { ".git", "%R/link-gitdir" },
		{ "nowhere.txt", "%R/dangling" },
		{ "%O/nothing.txt", "%R/dangling-out" },
		{ "chain2", "%R/chain1" }, { "chain3", "%R/chain2" },
		{ "a.txt", "%R/chain3" }, { "loop2", "%R/loop1" },
		{ "loop1", "%R/loop2" }, { "protected/y", "%R/link-carved" },
		{ "%A/z.txt", "%R/link-allow" },
		{ "%A/carved/z", "%R/link-acarved" },
		{ "%R/a.txt", "%A/link-back" },
		{ "private/s.txt", "%R/link-private" },
		{ "private/open/o.txt", "%R/link-open" },
		{ "/", "%R/link-root" },
	};
	char *t, *l;

	ks_mkdirs(allow);
	for (size_t i = 0; i < NELEM(links); i++) {
		t = fill(links[i][0]);
		l = fill(links[i][1]);
		ck_assert_msg(symlink(t, l) == 0, "symlink %s", l);
		free(t);
		free(l);
	}
}

/* policy-check's verdict on one path: NULL (allowed) or its reason. */
static char *
pc_verdict(char op, const char *path)
{
	const char *args[] = { "--policy", "%F", "--root", "%R", "--json",
	    op == 'w' ? "write" : "read", path, NULL };
	char *out = run(args, NULL, 0, -1), *reason = NULL;
	json_t *o = parse_line(out, strlen(out) - 1);

	ck_assert_int_eq(last_rc, json_is_true(json_object_get(o,
	    "allowed")) ? 0 : 1);
	if (last_rc == 1)
		reason = strdup(json_string_value(json_object_get(o,
		    "reason")));
	json_decref(o);
	free(out);
	return reason;
}

/* The worker's reply to a write (or stat) of path. */
static json_t *
worker_reply(struct ks_proc *w, char op, const char *path)
{
	json_t *req = op == 'w' ? json_pack("{s:s,s:s,s:[i]}", "kind", "write",
	    "path", path, "content", 49) : json_pack("{s:s,s:s}", "kind",
	    "stat", "path", path);
	char *js = json_dumps(req, JSON_COMPACT), *rep = ks_call(w, js);
	json_t *o = json_loads(rep, 0, NULL);

	ck_assert_msg(o != NULL, "reply to %s: %s", js, rep);
	json_decref(req);
	free(js);
	free(rep);
	return o;
}

static void
agree(struct ks_proc *w, const struct acase *c)
{
	char *path = fill(c->path), *reason = pc_verdict(c->op, path);
	json_t *rep = worker_reply(w, c->op, path);
	const char *kind = json_string_value(json_object_get(rep, "kind"));
	const char *code = json_string_value(json_object_get(rep, "code"));
	const char *msg = json_string_value(json_object_get(rep, "message"));
	enum want got = strcmp(kind, "error") != 0 ? ALLOW :
	    strcmp(code, "policy_denied") == 0 ? DENY :
	    reason != NULL ? IO_DENY : FSFAIL;

	ck_assert_msg(got == c->want, "%c %s: want class %d, got %d (%s)",
	    c->op, path, c->want, got, msg ? msg : kind);
	if (got == ALLOW || got == FSFAIL)
		ck_assert_msg(reason == NULL, "%s: policy-check says %s", path,
		    reason);
	else
		ck_assert_msg(reason != NULL && strcmp(reason, msg) == 0,
		    "%s:\n worker:       %s\n policy-check: %s", path, msg,
		    reason);
	json_decref(rep);
	free(reason);
	free(path);
}

/* Runs cases through policy-check and one worker, in order: each write
 * the worker makes is seen by the next verdicts of both. */
static void
agree_all(const struct acase *cases, size_t n)
{
	char *pol = fill(corpus_policy);
	struct ks_proc w;

	make_links();
	put_policy(corpus_policy);
	ks_spawn_root(&w, root, pol, false);
	for (size_t i = 0; i < n; i++)
		agree(&w, &cases[i]);
	ck_assert_int_eq(ks_finish(&w), 0);
	free(w.errtext);
	free(pol);
}

START_TEST(worker_and_policy_check_agree)
{
	agree_all(corpus, NELEM(corpus));
}
END_TEST

/* A link to "/" is denied, not crashed on. */
START_TEST(link_to_root_is_denied_by_both)
{
	static const struct acase c = { 'w', "%R/link-root", DENY };

	agree_all(&c, 1);
}
END_TEST

Suite *
policy_check_suite(void)
{
	Suite *s = suite_create("policy_check");
	TCase *verdicts = tcase_create("verdicts");
	TCase *bulk = tcase_create("bulk");
	TCase *cmds = tcase_create("subcommands");
	TCase *agreement = tcase_create("agreement");

	tcase_add_checked_fixture(verdicts, setup, teardown);
	tcase_add_test(verdicts, write_prints_denied_paths_only);
	tcase_add_test(verdicts, json_lists_every_path_in_order);
	tcase_add_test(verdicts, legacy_mode_without_root);
	tcase_add_test(verdicts, relative_root_is_resolved_like_the_worker);
	tcase_add_test(verdicts, help_prints_usage_on_stdout);
	tcase_add_loop_test(verdicts, usage_and_bad_policies_exit_2, 0,
	    NELEM(usage_cases));
	suite_add_tcase(s, verdicts);

	tcase_add_checked_fixture(bulk, setup, teardown);
	tcase_set_timeout(bulk, 120);
	tcase_add_test(bulk, bulk_matches_one_by_one);
	tcase_add_test(bulk, nul_and_line_modes);
	suite_add_tcase(s, bulk);

	tcase_add_checked_fixture(cmds, setup, teardown);
	tcase_add_loop_test(cmds, validate_lists_every_problem, 0,
	    NELEM(validate_cases));
	tcase_add_test(cmds, default_prints_every_field);
	tcase_add_test(cmds, compose_never_widens);
	tcase_add_test(cmds, explain_says_the_rules);
	suite_add_tcase(s, cmds);

	tcase_add_checked_fixture(agreement, setup, teardown);
	tcase_set_timeout(agreement, 60);
	tcase_add_test(agreement, worker_and_policy_check_agree);
	tcase_add_test(agreement, link_to_root_is_denied_by_both);
	suite_add_tcase(s, agreement);
	return s;
}
