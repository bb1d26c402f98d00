/*
 * check_worker: the built binary, started as koda-fs-worker, over stdio
 * and over --socket: every request kind end to end, the protocol-error
 * exits, replies too large for one frame, and start-up failures.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char *root;		/* a fresh tree per test */
static char *sock;		/* a socket path beside it */

static void
setup(void)
{
	root = ks_tmpdir();
	ks_putf("hello\n", "%s/a.txt", root);
	ks_putf("fn main() {}\n", "%s/src/main.rs", root);
	ks_putf("pub fn lib() {}\n", "%s/src/lib/mod.rs", root);
	ks_putf("x", "%s/top.rs", root);
	ks_putf("alpha\nbeta TODO\ngamma\n", "%s/notes.txt", root);
	ks_putf("secret\n", "%s/../outside-%s.txt", root, strrchr(root, '/') + 1);
	ck_assert(asprintf(&sock, "%s.sock", root) > 0);
}

static void
teardown(void)
{
	char *out;

	ck_assert(asprintf(&out, "%s/../outside-%s.txt", root,
	    strrchr(root, '/') + 1) > 0);
	unlink(out);
	free(out);
	ks_rmtree(root);
	unlink(sock);
	free(root);
	free(sock);
}

/* Starts a worker on root; transport 0 is stdio, 1 is --socket. */
static void
start(struct ks_proc *p, int transport, const char *policy)
{
	const char *argv[6] = { "--root", root, NULL, NULL, NULL };
	const char *env[3] = { "KS_TEST_SET=set value", NULL, NULL };
	char *pol = NULL;

	if (transport == 1) {
		argv[2] = "--socket";
		argv[3] = sock;
	}
	if (policy != NULL) {
		ck_assert(asprintf(&pol, "KODA_FS_WORKER_POLICY=%s", policy) > 0);
		env[1] = pol;
	}
	ks_spawn(p, argv, env, false);
	free(pol);
}

/* s with every %R replaced by the tree's root; caller frees. */
static char *
fill(const char *s)
{
	return ks_subst(s, "%R", root);
}

/* Sends req (with %R for the root) and asserts the exact reply. */
static void
expect(struct ks_proc *p, const char *req, const char *want)
{
	ks_expect(p, root, req, want);
}

struct exchange {
	const char *req, *reply;
};

/* Every request kind, in one session, in order. */
static const struct exchange session[] = {
	{ "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/a.txt\"}",
	  "{\"kind\":\"read\",\"content\":[104,101,108,108,111,10]}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/a.txt\",\"max_bytes\":2}",
	  "{\"kind\":\"read\",\"content\":[104,101]}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/a.txt\",\"max_bytes\":null}",
	  "{\"kind\":\"read\",\"content\":[104,101,108,108,111,10]}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/missing\"}",
	  "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"No such file or "
	  "directory (os error 2)\"}" },
	{ "{\"kind\":\"write\",\"path\":\"%R/new/dir/f.txt\",\"content\":[104,105]}",
	  "{\"kind\":\"write\",\"bytes_written\":2}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/new/dir/f.txt\"}",
	  "{\"kind\":\"read\",\"content\":[104,105]}" },
	{ "{\"kind\":\"write\",\"path\":\"/tmp/koda-outside-root.txt\",\"content\":[1]}",
	  "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":\"write "
	  "denied: '/tmp/koda-outside-root.txt' is outside writable root '%R'\"}" },
	{ "{\"kind\":\"write\",\"path\":\"%R/../escape.txt\",\"content\":[1]}",
	  "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":\"write "
	  "denied: '%R/../escape.txt' is outside writable root '%R'\"}" },
	{ "{\"kind\":\"write\",\"path\":\"%R/missing/../../escape.txt\",\"content\":[1]}",
	  "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":\"write "
	  "denied: '%R/missing/../../escape.txt' is outside writable root '%R'\"}" },
	{ "{\"kind\":\"edit\",\"path\":\"%R/notes.txt\",\"old_string\":\"TODO\","
	  "\"new_string\":\"DONE\"}", "{\"kind\":\"edit\",\"replacements\":1}" },
	{ "{\"kind\":\"read\",\"path\":\"%R/notes.txt\",\"max_bytes\":15}",
	  "{\"kind\":\"read\",\"content\":[97,108,112,104,97,10,98,101,116,97,32,68,79,78,69]}" },
	{ "{\"kind\":\"edit\",\"path\":\"%R/notes.txt\",\"old_string\":\"TODO\","
	  "\"new_string\":\"DONE\"}", "{\"kind\":\"error\",\"code\":\"io\","
	  "\"message\":\"old_string not found in %R/notes.txt\"}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"**/*.rs\",\"root\":\"%R\"}",
	  "{\"kind\":\"glob\",\"paths\":[\"%R/src/lib/mod.rs\",\"%R/src/main.rs\","
	  "\"%R/top.rs\"]}" },
	{ "{\"kind\":\"glob\",\"pattern\":\"a**\",\"root\":\"%R\"}", NULL },
	{ "{\"kind\":\"grep\",\"pattern\":\"fn \\\\w+\",\"root\":\"%R\"}",
	  "{\"kind\":\"grep\",\"matches\":[{\"path\":\"%R/src/lib/mod.rs\",\"line\":1,"
	  "\"text\":\"pub fn lib() {}\"},{\"path\":\"%R/src/main.rs\",\"line\":1,"
	  "\"text\":\"fn main() {}\"}]}" },
	{ "{\"kind\":\"grep\",\"pattern\":\"a\",\"root\":\"%R\",\"include\":\"*.txt\"}",
	  "{\"kind\":\"grep\",\"matches\":[{\"path\":\"%R/notes.txt\",\"line\":1,"
	  "\"text\":\"alpha\"},{\"path\":\"%R/notes.txt\",\"line\":2,\"text\":"
	  "\"beta DONE\"},{\"path\":\"%R/notes.txt\",\"line\":3,\"text\":\"gamma\"}]}" },
	{ "{\"kind\":\"grep\",\"pattern\":\"(\",\"root\":\"%R\"}", NULL },
	{ "{\"kind\":\"stat\",\"path\":\"%R/a.txt\"}",
	  "{\"kind\":\"stat\",\"size\":6,\"is_dir\":false,\"is_symlink\":false}" },
	{ "{\"kind\":\"get_env\",\"names\":[\"KS_TEST_SET\",\"KS_TEST_UNSET\"]}",
	  "{\"kind\":\"get_env\",\"values\":[\"set value\",null]}" },
	{ "{\"kind\":\"shutdown\"}", "{\"kind\":\"pong\"}" },
};

/* A protocol-error reply: the code is ours to pin, the words Rust's. */
static void
expect_protocol(struct ks_proc *p, const char *req)
{
	char *rq = fill(req), *got = ks_call(p, rq);

	ck_assert_msg(strncmp(got, "{\"kind\":\"error\",\"code\":\"protocol\","
	    "\"message\":\"", 44) == 0, "request %s\n got %s", rq, got);
	free(rq);
	free(got);
}

START_TEST(every_request_kind_round_trips)
{
	struct ks_proc p;

	start(&p, _i, NULL);
	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		if (session[i].reply == NULL)
			expect_protocol(&p, session[i].req);
		else
			expect(&p, session[i].req, session[i].reply);
	}
	/* After shutdown the worker exits 0 by itself. */
	ck_assert_msg(ks_recv(&p, NULL) == NULL, "a frame after shutdown");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	ck_assert_msg(access(sock, F_OK) != 0, "socket file left behind");
}
END_TEST

START_TEST(write_through_symlink_escape_is_denied)
{
	struct ks_proc p;
	char *link, *outside;

	ck_assert(asprintf(&outside, "%s/../outside-%s.txt", root,
	    strrchr(root, '/') + 1) > 0);
	ck_assert(asprintf(&link, "%s/evil", root) > 0);
	ck_assert(symlink(outside, link) == 0);
	start(&p, _i, NULL);
	expect(&p, "{\"kind\":\"write\",\"path\":\"%R/evil\",\"content\":[88]}",
	    "{\"kind\":\"error\",\"code\":\"policy_denied\",\"message\":\"write "
	    "denied: '%R/evil' is outside writable root '%R'\"}");
	ks_finish(&p);
	free(p.errtext);
	free(link);
	link = ks_slurp(outside, NULL);
	ck_assert_str_eq(link, "secret\n");
	free(link);
	free(outside);
}
END_TEST

START_TEST(stat_reports_dirs_and_links_themselves)
{
	struct ks_proc p;
	char *link;

	ck_assert(asprintf(&link, "%s/l", root) > 0);
	ck_assert(symlink("a.txt", link) == 0);
	start(&p, _i, NULL);
	expect(&p, "{\"kind\":\"stat\",\"path\":\"%R/l\"}",
	    "{\"kind\":\"stat\",\"size\":5,\"is_dir\":false,\"is_symlink\":true}");
	char *rq = fill("{\"kind\":\"stat\",\"path\":\"%R/src\"}");
	char *got = ks_call(&p, rq);

	free(rq);
	ck_assert_msg(strstr(got, "\"is_dir\":true,\"is_symlink\":false}") !=
	    NULL, "got %s", got);
	free(got);
	ks_finish(&p);
	free(p.errtext);
	free(link);
}
END_TEST

/* Sends raw bytes and expects one protocol error frame, then exit 1. */
static void
expect_fatal(int transport, const void *raw, size_t len, const char *msg)
{
	struct ks_proc p;
	char *got;
	int st;

	start(&p, transport, NULL);
	ks_send_raw(&p, raw, len);
	if (transport == 0)
		close(p.to), p.to = open("/dev/null", O_WRONLY);
	else
		shutdown(p.sock, SHUT_WR);
	got = ks_recv(&p, NULL);
	ck_assert_msg(got != NULL, "no error frame");
	ck_assert_msg(strncmp(got, "{\"kind\":\"error\",\"code\":\"protocol\","
	    "\"message\":\"read error: ", 56) == 0, "got %s", got);
	ck_assert_msg(strstr(got, msg) != NULL, "got %s, want '%s'", got, msg);
	free(got);
	ck_assert_msg(ks_recv(&p, NULL) == NULL, "more than one frame");
	st = ks_finish(&p);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	free(p.errtext);
}

START_TEST(malformed_frame_gets_one_error_then_exit_1)
{
	static const char body[] = "\0\0\0\x0bnot json!!!";

	expect_fatal(_i, body, 15, "malformed JSON payload: ");
}
END_TEST

START_TEST(oversize_prefix_is_refused_before_reading)
{
	static const unsigned char h[4] = { 0x00, 0x10, 0x00, 0x01 };

	expect_fatal(_i, h, 4, "payload size 1048577 exceeds max 1048576");
}
END_TEST

START_TEST(truncated_frames_are_protocol_errors)
{
	static const char part[] = "\0\0\0\x20{\"kind\"";

	expect_fatal(_i, "\0\0", 2, "EOF after 2 of 4 length-prefix bytes");
	expect_fatal(_i, part, 11, "early eof");
}
END_TEST

START_TEST(large_read_is_refused_and_connection_survives)
{
	struct ks_proc p;
	char *big = malloc(5 << 20), *got;

	memset(big, 'x', 5 << 20);
	{
		char *path = fill("%R/big.bin");

		ks_put(path, big, 5 << 20);
		free(path);
	}
	start(&p, _i, NULL);
	expect(&p, "{\"kind\":\"read\",\"path\":\"%R/big.bin\"}",
	    "{\"kind\":\"error\",\"code\":\"io\",\"message\":\"file too large for "
	    "one reply (5242880 bytes); read it in parts with max_bytes\"}");
	/* The largest part that always fits comes back whole. */
	char *rq = fill("{\"kind\":\"read\",\"path\":\"%R/big.bin\","
	    "\"max_bytes\":262137}");
	got = ks_call(&p, rq);
	ck_assert_int_eq(strlen(got), 26 + 2 + 262137 * 4 - 1);
	free(got);
	free(rq);
	expect(&p, "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(big);
}
END_TEST

START_TEST(grep_with_too_many_matches_is_truncated)
{
	struct ks_proc p;
	size_t n = 0, len = 60000 * 20;
	char *text = malloc(len + 1), *got, *rq;

	for (int i = 0; i < 60000; i++)
		n += (size_t)sprintf(text + n, "match line %07d\n", i);
	{
		char *path = fill("%R/many.txt");

		ks_put(path, text, n);
		free(path);
	}
	start(&p, _i, NULL);
	rq = fill("{\"kind\":\"grep\",\"pattern\":\"match\",\"root\":\"%R\"}");
	got = ks_call(&p, rq);
	ck_assert_msg(strlen(got) <= 1048576, "reply of %zu bytes",
	    strlen(got));
	ck_assert_msg(strcmp(got + strlen(got) - 19, "],\"truncated\":true}") ==
	    0, "no truncated mark: ...%s", got + strlen(got) - 40);
	ck_assert(strstr(got, "\"line\":1,\"text\":\"match line 0000000\"") !=
	    NULL);
	free(got);
	free(rq);
	expect(&p, "{\"kind\":\"ping\"}", "{\"kind\":\"pong\"}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(text);
}
END_TEST

/* Runs the binary; checks the exit code and a piece of stderr. */
static void
run_expect(const char *const *argv, int code, const char *in_out,
    const char *in_err)
{
	char *out, *err;
	int st = ks_run(argv, &out, &err);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "%s %s: status %d, want exit %d (stderr: %s)", argv[0],
	    argv[1] ? argv[1] : "", st, code, err);
	if (in_out != NULL)
		ck_assert_msg(strstr(out, in_out) != NULL, "stdout '%s' lacks "
		    "'%s'", out, in_out);
	if (in_err != NULL)
		ck_assert_msg(strstr(err, in_err) != NULL, "stderr '%s' lacks "
		    "'%s'", err, in_err);
	free(out);
	free(err);
}

START_TEST(startup_failures_exit_1_with_a_message)
{
	const char *missing[] = { "koda-fs-worker", "--root", "/nonexistent/x",
	    NULL };
	const char *file[] = { "koda-fs-worker", "--root", "/etc/hostname",
	    NULL };
	const char *badsock[] = { "koda-fs-worker", "--socket",
	    "/nonexistent/dir/s.sock", NULL };

	run_expect(missing, 1, NULL, "No such file or directory");
	run_expect(file, 1, NULL, "Not a directory");
	run_expect(badsock, 1, NULL, "/nonexistent/dir/s.sock");
}
END_TEST

START_TEST(bad_policy_exits_1)
{
	static const char *const bad[] = {
		"not json", "[]", "{\"fs\":{\"allow_write\":null}}",
		"{\"trust\":\"sometimes\"}",
		"{\"fs\":{\"mandatory_deny_search_depth\":256}}",
		"{\"net\":{\"mitm\":{\"socket_map\":[]}}}",
	};
	struct ks_proc p;
	const char *argv[] = { "--root", root, NULL };
	char *env[2] = { NULL, NULL };
	int st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert(asprintf(&env[0], "KODA_FS_WORKER_POLICY=%s",
		    bad[i]) > 0);
		ks_spawn(&p, argv, (const char *const *)env, false);
		st = ks_finish(&p);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
		    "policy %s: status %d", bad[i], st);
		ck_assert_msg(strstr(p.errtext, "KODA_FS_WORKER_POLICY") !=
		    NULL, "policy %s: stderr '%s'", bad[i], p.errtext);
		free(p.errtext);
		free(env[0]);
	}
}
END_TEST

START_TEST(existing_file_at_socket_path_is_left_alone)
{
	const char *argv[] = { "koda-fs-worker", "--socket", sock, NULL };
	char *s;

	ks_put(sock, "keep", 4);
	run_expect(argv, 1, NULL, "Address already in use");
	s = ks_slurp(sock, NULL);
	ck_assert_str_eq(s, "keep");
	free(s);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	const char *unknown[] = { "koda-fs-worker", "--bogus", NULL };
	const char *noval[] = { "koda-fs-worker", "--root", NULL };

	run_expect(unknown, 2, NULL, "unknown argument: --bogus");
	run_expect(noval, 2, NULL, "--root requires a path argument");
}
END_TEST

START_TEST(dispatcher_lists_runs_and_refuses)
{
	const char *help[] = { "koda-sandbox", "--help", NULL };
	const char *list[] = { "koda-sandbox", "--list", NULL };
	const char *none[] = { "koda-sandbox", NULL };
	const char *unknown[] = { "koda-sandbox", "frobnicate", NULL };
	const char *version[] = { "koda-sandbox", "--version", NULL };
	const char *applet[] = { "koda-sandbox", "worker", "--bogus", NULL };

	run_expect(help, 0, "worker", NULL);
	run_expect(list, 0, "koda-fs-worker", NULL);
	run_expect(none, 2, NULL, "worker");
	run_expect(unknown, 2, NULL, "unknown applet 'frobnicate'");
	run_expect(version, 0, "koda-sandbox ", NULL);
	run_expect(applet, 2, NULL, "unknown argument: --bogus");
}
END_TEST

START_TEST(main_binary_with_socket_runs_the_worker)
{
	const char *argv[] = { "koda-sandbox", "--root", "/nonexistent/x",
	    NULL };

	run_expect(argv, 1, NULL, "No such file or directory");
}
END_TEST

START_TEST(install_links_every_name)
{
	const char *argv[] = { "koda-sandbox", "--install", root, NULL };
	static const char *const names[] = { "worker", "koda-fs-worker" };
	char path[4200], target[4200];
	ssize_t n;

	run_expect(argv, 0, NULL, NULL);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, names[i]);
		n = readlink(path, target, sizeof(target) - 1);
		ck_assert_msg(n > 0, "no link %s", path);
		target[n] = '\0';
		ck_assert_msg(strstr(target, "koda-sandbox") != NULL,
		    "%s -> %s", path, target);
	}
	/* Again: links to the same binary are fine. */
	run_expect(argv, 0, NULL, NULL);
}
END_TEST

Suite *
worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("transport");
	TCase *st = tcase_create("startup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, every_request_kind_round_trips, 0, 2);
	tcase_add_loop_test(tc, write_through_symlink_escape_is_denied, 0, 2);
	tcase_add_loop_test(tc, stat_reports_dirs_and_links_themselves, 0, 2);
	tcase_add_loop_test(tc, malformed_frame_gets_one_error_then_exit_1, 0, 2);
	tcase_add_loop_test(tc, oversize_prefix_is_refused_before_reading, 0, 2);
	tcase_add_loop_test(tc, truncated_frames_are_protocol_errors, 0, 2);
	tcase_add_loop_test(tc, large_read_is_refused_and_connection_survives,
	    0, 2);
	tcase_add_loop_test(tc, grep_with_too_many_matches_is_truncated, 0, 2);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(st, setup, teardown);
	tcase_add_test(st, startup_failures_exit_1_with_a_message);
	tcase_add_test(st, bad_policy_exits_1);
	tcase_add_test(st, existing_file_at_socket_path_is_left_alone);
	tcase_add_test(st, usage_errors_exit_2);
	tcase_add_test(st, dispatcher_lists_runs_and_refuses);
	tcase_add_test(st, main_binary_with_socket_runs_the_worker);
	tcase_add_test(st, install_links_every_name);
	suite_add_tcase(s, st);
	return s;
}
