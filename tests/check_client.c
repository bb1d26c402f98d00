/*
 * check_client: the host side, through the C API and through the
 * host-client applet: lifecycle edges (ready, early exit, silence,
 * killed worker, socket files), policy and proxy plumbing, batch.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/client.h"
#include "../src/err.h"
#include "../src/path.h"
#include "testlib.h"

static char *root, *tmp;

static void
setup(void)
{
	root = ks_tmpdir();
	tmp = ks_tmpdir();		/* TMPDIR of the clients: their sockets */
	setenv("TMPDIR", tmp, 1);
	setenv("KODA_FS_WORKER_BIN", ks_bin(), 1);
	ks_putf("hello\n", "%s/a.txt", root);
}

static void
teardown(void)
{
	ks_rmtree(root);
	ks_rmtree(tmp);
	free(root);
	free(tmp);
}

/* Sockets left in the clients' TMPDIR. */
static int
sockets_left(void)
{
	char *pat;
	glob_t g;
	int n;

	ck_assert(asprintf(&pat, "%s/koda-fs-worker-*.sock", tmp) > 0);
	n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	if (n > 0)
		globfree(&g);
	free(pat);
	return n;
}

static char *
call(struct ks_client *c, const char *req)
{
	struct ks_err e;
	char *reply;
	size_t len;

	ck_assert_msg(ks_client_call(c, req, strlen(req), &reply, &len, &e) ==
	    0, "call %s: %s", req, e.msg);
	return reply;
}

START_TEST(api_spawns_pings_and_cleans_up)
{
	struct ks_client_opts o = { .root = root };
	struct ks_client *c;
	struct ks_err e;
	char *r, *req;

	ck_assert_msg(ks_client_spawn(&o, &c, &e) == 0, "%s", e.msg);
	ck_assert(ks_client_pid(c) > 0);
	r = call(c, "{\"kind\":\"ping\"}");
	ck_assert_str_eq(r, "{\"kind\":\"pong\"}");
	free(r);
	ck_assert(asprintf(&req, "{\"kind\":\"read\",\"path\":\"%s/a.txt\"}",
	    root) > 0);
	r = call(c, req);
	ck_assert_str_eq(r, "{\"kind\":\"read\",\"content\":[104,101,108,108,"
	    "111,10]}");
	free(r);
	free(req);
	ck_assert_int_eq(ks_client_close(c), 0);
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

START_TEST(api_policy_is_passed_and_enforced)
{
	struct ks_client_opts o = { .root = root };
	struct ks_client *c;
	struct ks_err e;
	char *pol, *req, *r, *want;

	ck_assert(asprintf(&pol, "{\"fs\":{\"deny_write_within_allow\":"
	    "[\"%s/locked\"]}}", root) > 0);
	o.policy_json = pol;
	ck_assert_msg(ks_client_spawn(&o, &c, &e) == 0, "%s", e.msg);
	ck_assert(asprintf(&req, "{\"kind\":\"write\",\"path\":"
	    "\"%s/locked/x\",\"content\":[1]}", root) > 0);
	ck_assert(asprintf(&want, "{\"kind\":\"error\",\"code\":"
	    "\"policy_denied\",\"message\":\"write denied: '%s/locked/x' is "
	    "in a write-protected sub-path\"}", root) > 0);
	r = call(c, req);
	ck_assert_str_eq(r, want);
	free(r);
	ks_client_close(c);
	free(pol);
	free(req);
	free(want);
}
END_TEST

START_TEST(api_proxy_variables_reach_the_worker)
{
	struct ks_client_opts o = { .proxy_port = 3128,
	    .ca_bundle = "/etc/corp-ca.pem" };
	struct ks_client *c;
	struct ks_err e;
	char *r;

	ck_assert_msg(ks_client_spawn(&o, &c, &e) == 0, "%s", e.msg);
	r = call(c, "{\"kind\":\"get_env\",\"names\":[\"HTTP_PROXY\","
	    "\"https_proxy\",\"NO_PROXY\",\"SSL_CERT_FILE\","
	    "\"NODE_EXTRA_CA_CERTS\",\"REQUESTS_CA_BUNDLE\",\"CURL_CA_BUNDLE\"]}");
	ck_assert_str_eq(r, "{\"kind\":\"get_env\",\"values\":["
	    "\"http://127.0.0.1:3128\",\"http://127.0.0.1:3128\","
	    "\"localhost,127.0.0.1,::1,169.254.0.0/16,10.0.0.0/8,"
	    "172.16.0.0/12,192.168.0.0/16\",\"/etc/corp-ca.pem\","
	    "\"/etc/corp-ca.pem\",\"/etc/corp-ca.pem\",\"/etc/corp-ca.pem\"]}");
	free(r);
	ks_client_close(c);
	/* Without a port: none of them. */
	unsetenv("HTTP_PROXY");
	unsetenv("SSL_CERT_FILE");
	o = (struct ks_client_opts){ 0 };
	ck_assert_msg(ks_client_spawn(&o, &c, &e) == 0, "%s", e.msg);
	r = call(c, "{\"kind\":\"get_env\",\"names\":[\"HTTP_PROXY\","
	    "\"SSL_CERT_FILE\"]}");
	ck_assert_str_eq(r, "{\"kind\":\"get_env\",\"values\":[null,null]}");
	free(r);
	ks_client_close(c);
}
END_TEST

START_TEST(api_killed_worker_is_a_transport_error)
{
	struct ks_client_opts o = { 0 };
	struct ks_client *c;
	struct ks_err e;
	char *r = NULL;
	size_t len;

	ck_assert(ks_client_spawn(&o, &c, &e) == 0);
	kill(ks_client_pid(c), SIGKILL);
	ck_assert_int_lt(ks_client_call(c, "{\"kind\":\"ping\"}", 15, &r, &len,
	    &e), 0);
	ck_assert_msg(strstr(e.msg, "killed by signal 9") != NULL ||
	    strstr(e.msg, "closed") != NULL, "message: %s", e.msg);
	ks_client_close(c);
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

/* A script that stands in for a broken worker. */
static char *
fake_worker(const char *body)
{
	char *path;

	ck_assert(asprintf(&path, "%s/fake-worker", tmp) > 0);
	ks_putf(body, "%s", path);
	ck_assert(chmod(path, 0755) == 0);
	return path;
}

START_TEST(api_silent_worker_times_out)
{
	struct ks_client_opts o = { .ready_ms = 300 };
	struct ks_client *c = NULL;
	struct ks_err e;

	o.worker = fake_worker("#!/bin/sh\nexec sleep 30\n");
	ck_assert_int_lt(ks_client_spawn(&o, &c, &e), 0);
	ck_assert_msg(strstr(e.msg, "did not say ready within 300 ms") != NULL,
	    "message: %s", e.msg);
	ck_assert(c == NULL);
	ck_assert_int_eq(sockets_left(), 0);
	free((char *)o.worker);
}
END_TEST

START_TEST(api_worker_that_exits_fails_fast)
{
	struct ks_client_opts o = { 0 };
	struct ks_client *c = NULL;
	struct ks_err e;

	o.worker = fake_worker("#!/bin/sh\nexit 7\n");
	ck_assert_int_lt(ks_client_spawn(&o, &c, &e), 0);
	ck_assert_msg(strstr(e.msg, "exited with status 7 before it was ready")
	    != NULL, "message: %s", e.msg);
	ck_assert(strstr(e.msg, o.worker) != NULL);
	free((char *)o.worker);
}
END_TEST

/* Runs host-client with args; checks exit code and pieces of output. */
static void
hc(const char *const *args, const char *in, int code, const char *want_out,
    const char *want_err)
{
	const char *argv[16] = { "koda-sandbox", "host-client" };
	char *out, *err;
	int n = 2, st;

	for (; *args != NULL && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	st = ks_run_in(argv, in, in ? strlen(in) : 0, &out, &err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "host-client %s: status %d, want exit %d; stderr: %s", argv[2],
	    st, code, err);
	if (want_out != NULL)
		ck_assert_msg(strcmp(out, want_out) == 0, "host-client %s: "
		    "stdout\n%s\nwant\n%s", argv[2], out, want_out);
	if (want_err != NULL)
		ck_assert_msg(strstr(err, want_err) != NULL, "host-client %s: "
		    "stderr '%s' lacks '%s'", argv[2], err, want_err);
	free(out);
	free(err);
}

START_TEST(applet_drives_every_request_kind)
{
	char *a, *b, *want;

	ck_assert(asprintf(&a, "%s/a.txt", root) > 0);
	ck_assert(asprintf(&b, "%s/sub/b.txt", root) > 0);
	hc((const char *[]){ "ping", NULL }, NULL, 0, "pong\n", NULL);
	hc((const char *[]){ "--root", root, "read", a, NULL }, NULL, 0,
	    "hello\n", NULL);
	hc((const char *[]){ "read", a, "--max-bytes", "3", NULL }, NULL, 0,
	    "hel", NULL);
	hc((const char *[]){ "--root", root, "write", b, NULL }, "new\n", 0, "",
	    NULL);
	hc((const char *[]){ "--root", root, "edit", b, "new", "old", NULL },
	    NULL, 0, "", NULL);
	hc((const char *[]){ "read", b, NULL }, NULL, 0, "old\n", NULL);
	ck_assert(asprintf(&want, "%s/a.txt\n%s/sub/b.txt\n", root, root) > 0);
	hc((const char *[]){ "glob", "**/*.txt", root, NULL }, NULL, 0, want,
	    NULL);
	free(want);
	ck_assert(asprintf(&want, "%s/a.txt:1:hello\n", root) > 0);
	hc((const char *[]){ "grep", "hel+o", root, "--include", "*.txt",
	    NULL }, NULL, 0, want, NULL);
	free(want);
	hc((const char *[]){ "stat", a, NULL }, NULL, 0,
	    "size 6 dir no symlink no\n", NULL);
	hc((const char *[]){ "--json", "stat", a, NULL }, NULL, 0,
	    "{\"kind\":\"stat\",\"size\":6,\"is_dir\":false,"
	    "\"is_symlink\":false}\n", NULL);
	hc((const char *[]){ "--proxy-port", "8080", "get-env", "HTTP_PROXY",
	    "KS_SURELY_UNSET", NULL }, NULL, 0,
	    "HTTP_PROXY=http://127.0.0.1:8080\nKS_SURELY_UNSET\n", NULL);
	hc((const char *[]){ "shutdown", NULL }, NULL, 0, "", NULL);
	free(a);
	free(b);
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

START_TEST(applet_exit_codes)
{
	char *pol;

	ck_assert(asprintf(&pol, "%s/policy.json", tmp) > 0);
	ks_putf("{\"fs\":{\"allow_git_config\":false}}", "%s", pol);
	/* An error reply: 1, its message on stderr. */
	hc((const char *[]){ "--root", root, "--policy", pol, "write",
	    "/etc/x", NULL }, "x", 1, "", "is outside writable root");
	hc((const char *[]){ "read", "/nonexistent", NULL }, NULL, 1, "",
	    "No such file or directory (os error 2)");
	/* Usage: 2. */
	hc((const char *[]){ "frobnicate", NULL }, NULL, 2, "", "usage");
	hc((const char *[]){ "--policy", "-", "write", "/tmp/x", NULL }, "",
	    2, "", "cannot be used with write");
	hc((const char *[]){ "--policy", "/nonexistent.json", "ping", NULL },
	    NULL, 2, "", "/nonexistent.json");
	ks_putf("{\"trust\":\"maybe\"}", "%s", pol);
	hc((const char *[]){ "--policy", pol, "ping", NULL }, NULL, 2, "",
	    "trust");
	/* Transport: 3. */
	hc((const char *[]){ "--worker", "/nonexistent/worker", "ping", NULL },
	    NULL, 3, "", "before it was ready");
	free(pol);
	ck_assert_int_eq(sockets_left(), 0);
}
END_TEST

START_TEST(applet_batch_answers_every_line_in_order)
{
	const int n = 10000;
	char *in = malloc((size_t)n * 64), *out, *err, *line;
	const char *argv[] = { "koda-sandbox", "host-client", "batch", NULL };
	size_t o = 0;
	int st, i = 0;

	for (int k = 0; k < n; k++)
		o += (size_t)sprintf(in + o, k == 5000 ? "not json %d\n" :
		    "{\"kind\":\"get_env\",\"names\":[\"KS_N%d\"]}\n", k);
	st = ks_run_in(argv, in, o, &out, &err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s",
	    st, err);
	for (line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (i == 5000)
			ck_assert_msg(strncmp(line, "{\"kind\":\"error\",\"code\":"
			    "\"protocol\",\"message\":\"batch line 5001: ", 60) ==
			    0, "line 5001: %s", line);
		else
			ck_assert_str_eq(line, "{\"kind\":\"get_env\","
			    "\"values\":[null]}");
		i++;
	}
	ck_assert_int_eq(i, n);
	free(in);
	free(out);
	free(err);
}
END_TEST

/* Starts a worker on sock by hand and waits for its ready line. */
static pid_t
listen_on(const char *sock)
{
	char buf[8];
	int out[2];
	pid_t pid;

	ck_assert(pipe(out) == 0);
	if ((pid = fork()) == 0) {
		dup2(out[1], 1);
		execl(ks_bin(), "koda-fs-worker", "--socket", sock, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	ck_assert(read(out[0], buf, 6) == 6 && memcmp(buf, "ready\n", 6) == 0);
	close(out[0]);
	return pid;
}

START_TEST(applet_connects_to_a_running_worker)
{
	char *sock;
	pid_t pid;
	int st;

	ck_assert(asprintf(&sock, "%s/existing.sock", tmp) > 0);
	pid = listen_on(sock);
	hc((const char *[]){ "--connect", sock, "ping", NULL }, NULL, 0,
	    "pong\n", NULL);
	/* host-client only closed its connection: the worker, which
	 * serves one, ends by itself, cleanly. */
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(sock);
}
END_TEST

Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *api = tcase_create("api");
	TCase *app = tcase_create("applet");

	tcase_add_checked_fixture(api, setup, teardown);
	tcase_set_timeout(api, 30);
	tcase_add_test(api, api_spawns_pings_and_cleans_up);
	tcase_add_test(api, api_policy_is_passed_and_enforced);
	tcase_add_test(api, api_proxy_variables_reach_the_worker);
	tcase_add_test(api, api_killed_worker_is_a_transport_error);
	tcase_add_test(api, api_silent_worker_times_out);
	tcase_add_test(api, api_worker_that_exits_fails_fast);
	suite_add_tcase(s, api);
	tcase_add_checked_fixture(app, setup, teardown);
	tcase_set_timeout(app, 60);
	tcase_add_test(app, applet_drives_every_request_kind);
	tcase_add_test(app, applet_exit_codes);
	tcase_add_test(app, applet_batch_answers_every_line_in_order);
	tcase_add_test(app, applet_connects_to_a_running_worker);
	suite_add_tcase(s, app);
	return s;
}
