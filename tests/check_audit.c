/*
 * check_audit: what the worker tells its operator: one audit line per
 * denial with the rule that decided it (koda-sandbox-audit(5)), every
 * request at the all level, a full pipe that never stalls a request and
 * an exact count of what it dropped, request logging at debug, and the
 * warnings of start-up (unknown policy keys, an unknown log level,
 * legacy mode).
 */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char *root, *secret, *logpath;

static void
setup(void)
{
	root = ks_tmpdir();
	secret = ks_tmpdir();
	ck_assert(asprintf(&logpath, "%s/audit.log", secret) > 0);
	ks_putf("ok\n", "%s/ok.txt", root);
	ks_putf("s\n", "%s/key", secret);
	ks_putf("x", "%s/sec/x", root);
	ks_putf("[core]\n", "%s/.git/config", root);
}

static void
teardown(void)
{
	ks_rmtree(root);
	ks_rmtree(secret);
	free(root);
	free(secret);
	free(logpath);
}

static char *
policy(void)
{
	char *p;

	ck_assert(asprintf(&p, "{\"fs\":{\"deny_read\":[\"%s\"],"
	    "\"deny_write_within_allow\":[\"%s/sec\"]}}", secret, root) > 0);
	return p;
}

static void
spawn(struct ks_proc *p, const char *audit, const char *level,
    const char *log)
{
	char *pol = policy(), *pe, *ae, *le = NULL, *lg = NULL;
	const char *argv[] = { "--root", root, NULL };
	const char *env[5] = { NULL };
	int n = 0;

	ck_assert(asprintf(&pe, "KODA_FS_WORKER_POLICY=%s", pol) > 0);
	ck_assert(asprintf(&ae, "KODA_FS_WORKER_AUDIT=%s", audit) > 0);
	env[n++] = pe;
	env[n++] = ae;
	if (level != NULL) {
		ck_assert(asprintf(&le, "KODA_FS_WORKER_AUDIT_LEVEL=%s",
		    level) > 0);
		env[n++] = le;
	}
	if (log != NULL) {
		ck_assert(asprintf(&lg, "KODA_FS_WORKER_LOG=%s", log) > 0);
		env[n++] = lg;
	}
	ks_spawn(p, argv, env, false);
	free(pol);
	free(pe);
	free(ae);
	free(le);
	free(lg);
}

/* One denied request and the rule its audit line must name. */
static const struct {
	const char *req, *rule;
} denials[] = {
	{ "{\"kind\":\"write\",\"path\":\"/tmp/ks-outside\",\"content\":[]}",
	    "root" },
	{ "{\"kind\":\"write\",\"path\":\"%R/sec/y\",\"content\":[]}",
	    "deny_write_within_allow" },
	{ "{\"kind\":\"write\",\"path\":\"%R/to-root\",\"content\":[]}",
	    "symlink_chain" },
	{ "{\"kind\":\"write\",\"path\":\"%R/.config/koda/db/k\","
	    "\"content\":[]}", "fully_protected" },
	{ "{\"kind\":\"write\",\"path\":\"/etc\",\"content\":[]}",
	    "critical_system_path" },
	{ "{\"kind\":\"edit\",\"path\":\"%R/.git/config\",\"old_string\":\"a\","
	    "\"new_string\":\"b\"}", "git_config" },
	{ "{\"kind\":\"read\",\"path\":\"%S/key\"}", "deny_read" },
	{ "{\"kind\":\"stat\",\"path\":\"%R/hard\"}", "hard_link" },
	{ "{\"kind\":\"write\",\"path\":\"%R/fifo\",\"content\":[]}",
	    "not_regular" },
};

#define NDENIALS (sizeof(denials) / sizeof(denials[0]))

/* req with %R and %S put in; caller frees. */
static char *
fill(const char *req)
{
	char *a = ks_subst(req, "%R", root), *b = ks_subst(a, "%S", secret);

	free(a);
	return b;
}

static void
make_tree_for_denials(void)
{
	char a[4200], b[4200];

	snprintf(a, sizeof(a), "%s/to-root", root);
	ck_assert(symlink("/", a) == 0);
	snprintf(a, sizeof(a), "%s/key", secret);
	snprintf(b, sizeof(b), "%s/hard", root);
	ck_assert(link(a, b) == 0);
	snprintf(a, sizeof(a), "%s/fifo", root);
	ck_assert(mkfifo(a, 0600) == 0);
}

/* The lines of the log as JSON objects. */
static json_t *
read_log(const char *path)
{
	json_t *lines = json_array(), *j;
	char *text = ks_slurp(path, NULL), *line, *save = NULL;

	if (text == NULL)
		return lines;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg((j = json_loads(line, JSON_REJECT_DUPLICATES,
		    NULL)) != NULL, "not JSON: %s", line);
		json_array_append_new(lines, j);
	}
	free(text);
	return lines;
}

static void
check_line(json_t *l, const char *kind, const char *rule, const char *msg,
    pid_t pid)
{
	static const char *const keys[] = { "time", "pid", "kind", "outcome",
	    "rule", "code", "message", "us" };
	regex_t re;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_object_get(l, keys[i]) != NULL, "no %s",
		    keys[i]);
	ck_assert(regcomp(&re, "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:"
	    "[0-5][0-9]:[0-6][0-9][.][0-9]{6}Z$", REG_EXTENDED) == 0);
	ck_assert_msg(regexec(&re, json_string_value(json_object_get(l,
	    "time")), 0, NULL, 0) == 0, "time %s", json_string_value(
	    json_object_get(l, "time")));
	regfree(&re);
	ck_assert_int_eq(json_integer_value(json_object_get(l, "pid")), pid);
	ck_assert_str_eq(json_string_value(json_object_get(l, "kind")), kind);
	if (rule == NULL) {
		ck_assert(json_is_null(json_object_get(l, "rule")));
		return;
	}
	ck_assert_str_eq(json_string_value(json_object_get(l, "outcome")),
	    "denied");
	ck_assert_str_eq(json_string_value(json_object_get(l, "rule")), rule);
	ck_assert_str_eq(json_string_value(json_object_get(l, "code")),
	    "policy_denied");
	ck_assert_str_eq(json_string_value(json_object_get(l, "message")), msg);
}

START_TEST(every_denial_is_one_line_naming_its_rule)
{
	char *req, *got;
	json_t *lines, *reply;
	struct ks_proc p;
	const char *msg;

	make_tree_for_denials();
	spawn(&p, logpath, NULL, NULL);
	/* Allowed requests first: no line for them at this level. */
	free(ks_call(&p, "{\"kind\":\"ping\"}"));
	req = fill("{\"kind\":\"read\",\"path\":\"%R/ok.txt\"}");
	free(ks_call(&p, req));
	free(req);
	for (size_t i = 0; i < NDENIALS; i++) {
		req = fill(denials[i].req);
		got = ks_call(&p, req);
		ck_assert_msg(strstr(got, "\"policy_denied\"") != NULL,
		    "%s -> %s", req, got);
		free(req);
		free(got);
	}
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	lines = read_log(logpath);
	ck_assert_uint_eq(json_array_size(lines), NDENIALS);
	/* Each line says what the reply said, and why. */
	spawn(&p, "/dev/null", NULL, NULL);
	for (size_t i = 0; i < NDENIALS; i++) {
		req = fill(denials[i].req);
		got = ks_call(&p, req);
		reply = json_loads(got, 0, NULL);
		msg = json_string_value(json_object_get(reply, "message"));
		check_line(json_array_get(lines, i), strstr(req, "\"edit\"") ?
		    "edit" : strstr(req, "\"read\"") ? "read" :
		    strstr(req, "\"stat\"") ? "stat" : "write",
		    denials[i].rule, msg, (pid_t)json_integer_value(
		    json_object_get(json_array_get(lines, 0), "pid")));
		json_decref(reply);
		free(req);
		free(got);
	}
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	json_decref(lines);
}
END_TEST

START_TEST(the_all_level_logs_every_request)
{
	struct ks_proc p;
	json_t *lines;
	char *req;

	spawn(&p, logpath, "ALL", NULL);
	free(ks_call(&p, "{\"kind\":\"ping\"}"));
	req = fill("{\"kind\":\"read\",\"path\":\"%R/ok.txt\"}");
	free(ks_call(&p, req));
	free(req);
	req = fill("{\"kind\":\"read\",\"path\":\"%R/missing\"}");
	free(ks_call(&p, req));
	free(req);
	req = fill("{\"kind\":\"read\",\"path\":\"%S/key\"}");
	free(ks_call(&p, req));
	free(req);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	lines = read_log(logpath);
	ck_assert_uint_eq(json_array_size(lines), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    lines, 1), "outcome")), "allowed");
	ck_assert(json_is_null(json_object_get(json_array_get(lines, 1),
	    "message")));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    lines, 2), "outcome")), "error");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    lines, 3), "rule")), "deny_read");
	json_decref(lines);
}
END_TEST

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Audit lines in the text read from the pipe. */
static long
count_lines(int fd)
{
	char buf[65536];
	long n = 0;
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < k; i++)
			n += buf[i] == '\n';
	return n;
}

START_TEST(a_full_pipe_never_stalls_and_drops_are_counted)
{
	char spec[32], keep[16];
	char *req = fill("{\"kind\":\"read\",\"path\":\"%S/key\"}");
	double worst = 0, t;
	long kept, dropped = -1, total = -1;
	struct ks_proc p;
	const char *at;
	int fds[2];

	/* Not close-on-exec: the worker inherits the write end. */
	ck_assert(pipe(fds) == 0);
	snprintf(spec, sizeof(spec), "fd:%d", fds[1]);
	snprintf(keep, sizeof(keep), "%d", fds[1]);
	setenv("KS_KEEP_FD", keep, 1);
	spawn(&p, spec, NULL, NULL);
	unsetenv("KS_KEEP_FD");
	close(fds[1]);
	for (int i = 0; i < 2000; i++) {
		t = now();
		free(ks_call(&p, req));
		if (now() - t > worst)
			worst = now() - t;
	}
	ck_assert_int_eq(ks_finish(&p), 0);
	kept = count_lines(fds[0]);
	close(fds[0]);
	ck_assert_msg((at = strstr(p.errtext, "audit: ")) != NULL &&
	    sscanf(at, "audit: %ld of %ld lines dropped", &dropped, &total) ==
	    2, "stderr: %s", p.errtext);
	printf("audit: 2000 denials into a pipe nobody read: %ld lines "
	    "kept, %ld dropped (said %ld of %ld), slowest request %.2f ms\n",
	    kept, 2000 - kept, dropped, total, worst * 1e3);
	ck_assert_int_eq(total, 2000);
	ck_assert_int_eq(kept + dropped, 2000);
	ck_assert_int_gt(dropped, 0);
	/* A stall would be seconds (the pipe is never read); a generous
	 * bound for a loaded machine, not a speed target. */
	ck_assert_msg(worst < 0.5, "a request took %.3f s", worst);
	free(p.errtext);
	free(req);
}
END_TEST

START_TEST(debug_logs_each_request_and_bad_levels_warn)
{
	struct ks_proc p;
	char *req = fill("{\"kind\":\"stat\",\"path\":\"%R/ok.txt\"}"), *want;

	spawn(&p, "/dev/null", NULL, "Debug");
	free(ks_call(&p, req));
	ck_assert_int_eq(ks_finish(&p), 0);
	ck_assert(asprintf(&want, "debug: stat %s/ok.txt: ok (", root) > 0);
	ck_assert_msg(strstr(p.errtext, want) != NULL, "%s", p.errtext);
	free(want);
	free(p.errtext);
	spawn(&p, "/dev/null", NULL, "loud");
	ck_assert_int_eq(ks_finish(&p), 0);
	ck_assert_msg(strstr(p.errtext, "KODA_FS_WORKER_LOG=loud: unknown "
	    "level (error, warn, info, debug or trace); using warn") != NULL,
	    "%s", p.errtext);
	free(p.errtext);
	free(req);
}
END_TEST

START_TEST(startup_warns_of_unknown_keys_and_legacy_mode)
{
	const char *env[] = { "KODA_FS_WORKER_POLICY={\"fs\":{\"deny_raed\":"
	    "[\"/x\"]},\"limit\":{}}", NULL };
	struct ks_proc p;

	ks_spawn(&p, NULL, env, false);
	ck_assert_int_eq(ks_finish(&p), 0);
	ck_assert_msg(strstr(p.errtext, "warn: fs.deny_raed: unknown key, "
	    "ignored (did you mean fs.deny_read?)") != NULL, "%s", p.errtext);
	ck_assert_msg(strstr(p.errtext, "warn: limit: unknown key, ignored "
	    "(did you mean limits?)") != NULL, "%s", p.errtext);
	ck_assert_msg(strstr(p.errtext, "legacy mode") != NULL, "%s",
	    p.errtext);
	free(p.errtext);
}
END_TEST

START_TEST(policy_check_warns_of_unknown_keys_and_strict_refuses)
{
	char *pol, *out, *err;
	const char *loose[] = { "koda-sandbox", "policy-check", "--policy",
	    NULL, "read", "/etc/hosts", NULL };
	const char *strict[] = { "koda-sandbox", "policy-check", "--policy",
	    NULL, "--strict", "read", "/etc/hosts", NULL };
	int st;

	ck_assert(asprintf(&pol, "%s/p.json", root) > 0);
	ks_putf("{\"fs\":{\"alow_write\":[]}}", "%s", pol);
	loose[3] = strict[3] = pol;
	st = ks_run(loose, &out, &err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(strstr(err, "fs.alow_write: unknown key, ignored (did "
	    "you mean fs.allow_write?)") != NULL, "%s", err);
	free(out);
	free(err);
	st = ks_run(strict, &out, &err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	ck_assert_msg(strstr(err, "(--strict: refused)") != NULL, "%s", err);
	free(out);
	free(err);
	free(pol);
}
END_TEST

Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_denial_is_one_line_naming_its_rule);
	tcase_add_test(tc, the_all_level_logs_every_request);
	tcase_add_test(tc, a_full_pipe_never_stalls_and_drops_are_counted);
	tcase_add_test(tc, debug_logs_each_request_and_bad_levels_warn);
	tcase_add_test(tc, startup_warns_of_unknown_keys_and_legacy_mode);
	tcase_add_test(tc,
	    policy_check_warns_of_unknown_keys_and_strict_refuses);
	suite_add_tcase(s, tc);
	return s;
}
