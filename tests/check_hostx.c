/*
 * check_hostx: host-client's flags for the protocol extensions and the
 * audit log, driving the built binary: a 3 MB write from stdin (in
 * parts), ranged reads, ls, edit --all, grep -i -F -m, --audit and
 * --strict.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char *root, *tmp;

static void
setup(void)
{
	root = ks_tmpdir();
	tmp = ks_tmpdir();
	setenv("TMPDIR", tmp, 1);
	setenv("KODA_FS_WORKER_BIN", ks_bin(), 1);
	ks_putf("a\r\nb\r\nc", "%s/crlf", root);
	ks_putf("one two one\n", "%s/e.txt", root);
	ks_putf("Foo (1)\nfoo.1\n", "%s/g/t.txt", root);
}

static void
teardown(void)
{
	ks_rmtree(root);
	ks_rmtree(tmp);
	free(root);
	free(tmp);
}

/* host-client --root ROOT ARGS... with stdin in[0..len); exit status. */
static int
hc(const char *const *args, const char *in, size_t len, char **out,
    char **err)
{
	const char *av[24] = { "koda-sandbox", "host-client", "--root", root };
	int n = 4, st;

	for (; *args != NULL && n < 23; args++)
		av[n++] = *args;
	av[n] = NULL;
	st = ks_run_in(av, in, len, out, err);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static char *
at(const char *name)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", root, name) > 0);
	return p;
}

START_TEST(write_from_stdin_of_any_size_goes_in_parts)
{
	size_t n = 3u << 20, got = 0;
	char *data = malloc(n), *path = at("big.bin"), *out, *err, *back;
	const char *args[] = { "write", path, NULL };

	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 2654435761u >> 13);
	ck_assert_int_eq(hc(args, data, n, &out, &err), 0);
	ck_assert_str_eq(out, "");
	back = ks_slurp(path, &got);
	ck_assert_uint_eq(got, n);
	ck_assert(memcmp(back, data, n) == 0);
	free(back);
	free(out);
	free(err);
	free(data);
	free(path);
}
END_TEST

START_TEST(read_ranges_print_the_part_and_where_to_go_on)
{
	char *path = at("crlf"), *out, *err;
	const char *lines[] = { "read", path, "--line", "2", "--lines", "1",
	    NULL };
	const char *bytes[] = { "read", path, "--offset", "6", NULL };
	const char *bad[] = { "read", path, "--line", "x", NULL };

	ck_assert_int_eq(hc(lines, NULL, 0, &out, &err), 0);
	ck_assert_str_eq(out, "b\r\n");
	ck_assert_str_eq(err, "host-client: more follows: --offset 6 --line "
	    "3\n");
	free(out);
	free(err);
	ck_assert_int_eq(hc(bytes, NULL, 0, &out, &err), 0);
	ck_assert_str_eq(out, "c");
	ck_assert_str_eq(err, "");
	free(out);
	free(err);
	ck_assert_int_eq(hc(bad, NULL, 0, &out, &err), 2);
	ck_assert_msg(strstr(err, "--line x: not a number") != NULL, "%s",
	    err);
	free(out);
	free(err);
	free(path);
}
END_TEST

START_TEST(ls_edit_all_and_grep_options)
{
	char *e = at("e.txt"), *g = at("g"), *out, *err, *want, *text;
	const char *ls[] = { "ls", g, NULL };
	const char *edit[] = { "edit", e, "one", "1", "--all", "--json", NULL };
	const char *grep[] = { "grep", "-i", "-F", "o (1)", g, NULL };
	const char *grepm[] = { "grep", "-m", "1", "--json", "foo", g, NULL };
	const char *wrong[] = { "read", e, "-i", NULL };

	ck_assert_int_eq(hc(ls, NULL, 0, &out, &err), 0);
	ck_assert_str_eq(out, "file                 14 t.txt\n");
	free(out);
	free(err);
	ck_assert_int_eq(hc(edit, NULL, 0, &out, &err), 0);
	ck_assert_str_eq(out, "{\"kind\":\"edit\",\"replacements\":2}\n");
	text = ks_slurp(e, NULL);
	ck_assert_str_eq(text, "1 two 1\n");
	free(text);
	free(out);
	free(err);
	ck_assert_int_eq(hc(grep, NULL, 0, &out, &err), 0);
	ck_assert(asprintf(&want, "%s/t.txt:1:Foo (1)\n", g) > 0);
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(err);
	ck_assert_int_eq(hc(grepm, NULL, 0, &out, &err), 0);
	ck_assert(asprintf(&want, "{\"kind\":\"grep\",\"matches\":[{\"path\":"
	    "\"%s/t.txt\",\"line\":2,\"text\":\"foo.1\"}]}\n", g) > 0);
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(err);
	ck_assert_int_eq(hc(wrong, NULL, 0, &out, &err), 2);
	ck_assert_msg(strstr(err, "host-client: -i goes with grep only\n") ==
	    err, "%s", err);
	free(out);
	free(err);
	free(e);
	free(g);
}
END_TEST

START_TEST(audit_and_strict_policy_flags)
{
	char *log = at("../audit-hostx.log"), *pol = at("p.json"), *out, *err;
	char *text;
	const char *audit[] = { "--audit", log, "write", "/etc/x", NULL };
	const char *loose[] = { "--policy", pol, "ping", NULL };
	const char *strict[] = { "--policy", pol, "--strict", "ping", NULL };

	ks_putf("{\"fs\":{\"deny_raed\":[]}}", "%s", pol);
	ck_assert_int_eq(hc(audit, "", 0, &out, &err), 1);
	ck_assert_msg(strstr(err, "the denial is logged in ") != NULL, "%s",
	    err);
	text = ks_slurp(log, NULL);
	ck_assert_msg(text != NULL && strstr(text, "\"rule\":\"root\"") != NULL,
	    "%s", text ? text : "(no log)");
	free(text);
	free(out);
	free(err);
	ck_assert_int_eq(hc(loose, NULL, 0, &out, &err), 0);
	ck_assert_str_eq(out, "pong\n");
	ck_assert_msg(strstr(err, "fs.deny_raed: unknown key, ignored (did you "
	    "mean fs.deny_read?)") != NULL, "%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(hc(strict, NULL, 0, &out, &err), 2);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(err, "(--strict: refused)") != NULL, "%s", err);
	free(out);
	free(err);
	unlink(log);
	free(log);
	free(pol);
}
END_TEST

START_TEST(pool_serves_each_session_a_fresh_worker)
{
	const char *args[] = { "pool", "--size", "2", NULL };
	char *in, *out, *err, *want;

	ck_assert(asprintf(&in, "{\"kind\":\"ping\"}\n"
	    "{\"kind\":\"write_part\",\"path\":\"%s/q\",\"offset\":0,"
	    "\"content\":[49]}\n\n"
	    "{\"kind\":\"write_part\",\"path\":\"%s/q\",\"offset\":1,"
	    "\"content\":[50],\"last\":true}\n", root, root) > 0);
	ck_assert_int_eq(hc(args, in, strlen(in), &out, &err), 0);
	/* The second session cannot finish the first one's write. */
	ck_assert(asprintf(&want, "{\"kind\":\"pong\"}\n"
	    "{\"kind\":\"write_part\",\"bytes_staged\":1,\"committed\":"
	    "false}\n\n{\"kind\":\"error\",\"code\":\"io\",\"message\":"
	    "\"write_part: no write in parts of '%s/q' is under way (offset 0 "
	    "starts one)\"}\n", root) > 0);
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(err);
	free(in);
}
END_TEST

/* Limits past what the kernel can take: validate says they are
 * clamped, and the worker starts with them clamped (issue 14). */
START_TEST(huge_limits_are_clamped_by_validate_and_worker_alike)
{
	char *pol = at("lim.json"), *out, *err;
	const char *ping[] = { "--policy", pol, "ping", NULL };
	const char *val[] = { "koda-sandbox", "policy-check", "validate", pol,
	    NULL };
	int st;

	ks_putf("{\"limits\":{\"cpu_time_secs\":4611686018427387904,"
	    "\"max_open_fds\":99999999999}}", "%s", pol);
	ck_assert_int_eq(hc(ping, NULL, 0, &out, &err), 0);
	ck_assert_str_eq(out, "pong\n");
	free(out);
	free(err);
	st = ks_run(val, &out, &err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_msg(strstr(out, "limits.cpu_time_secs: 4611686018427387904 "
	    "is more than the worker applies; it is clamped to 4294967295\n") !=
	    NULL && strstr(out, "limits.max_open_fds: 99999999999 is more "
	    "than the worker applies; it is clamped to 1048576\n") != NULL,
	    "%s", out);
	free(out);
	free(err);
	free(pol);
}
END_TEST

/* With a relative --root, a write outside is audited as "root", not as
 * a symlink chain (the rule is judged on the root's resolution). */
START_TEST(audit_rule_with_a_relative_root)
{
	char *log = at("audit-rel.log"), *out, *err, *text;
	const char *av[] = { "koda-sandbox", "host-client", "--root", ".",
	    "--audit", log, "write", "/etc/x", NULL };
	int st;

	ck_assert(chdir(root) == 0);
	st = ks_run_in(av, "", 0, &out, &err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	text = ks_slurp(log, NULL);
	ck_assert_msg(text != NULL && strstr(text, "\"rule\":\"root\"") !=
	    NULL, "%s", text ? text : "(no log)");
	free(text);
	free(out);
	free(err);
	free(log);
}
END_TEST

Suite *
hostx_suite(void)
{
	Suite *s = suite_create("hostx");
	TCase *tc = tcase_create("hostx");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, write_from_stdin_of_any_size_goes_in_parts);
	tcase_add_test(tc, read_ranges_print_the_part_and_where_to_go_on);
	tcase_add_test(tc, ls_edit_all_and_grep_options);
	tcase_add_test(tc, audit_and_strict_policy_flags);
	tcase_add_test(tc, pool_serves_each_session_a_fresh_worker);
	tcase_add_test(tc, audit_rule_with_a_relative_root);
	tcase_add_test(tc, huge_limits_are_clamped_by_validate_and_worker_alike);
	suite_add_tcase(s, tc);
	return s;
}
