/*
 * worker: the koda-fs-worker applet. Parses its arguments, opens what it
 * needs (policy, root, socket), then serves one connection.
 */
#include <errno.h>
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "applets.h"
#include "../src/confine.h"
#include "../src/err.h"
#include "../src/audit.h"
#include "../src/fsops.h"
#include "../src/log.h"
#include "../src/policy.h"
#include "../src/serve.h"

struct args {
	const char *socket;
	const char *root;
};

static const char usage_text[] =
    "usage: koda-fs-worker [--socket PATH] [--root DIR]\n";

enum { OPT_ROOT = 0x200, OPT_SOCKET };

static const struct ks_opt opts[] = {
	{ "help", KS_OPT_HELP, NULL },
	{ "root", OPT_ROOT, "a path" },
	{ "socket", OPT_SOCKET, "a path" },
	{ "version", KS_OPT_VERSION, NULL },
	{ NULL, 0, NULL },
};

/* Returns -1 to go on, else the exit status of -h, --version or a
 * usage error. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	struct ks_getopt g;
	int c;

	ks_applet_opt_init(&g, argc, argv, opts);
	while ((c = ks_applet_opt_next(&g)) > 0) {
		switch (c) {
		case OPT_ROOT:
			a->root = g.arg;
			break;
		case OPT_SOCKET:
			a->socket = g.arg;
			break;
		case KS_OPT_HELP:
			return ks_applet_help(usage_text);
		default:
			return ks_applet_version();
		}
	}
	if (c < 0)
		return ks_applet_usage(usage_text, "%s", g.why);
	if (g.nops > 0)
		return ks_applet_usage(usage_text, "unknown argument: %s",
		    g.argv[1]);
	return -1;
}

static int
load_policy(struct ks_policy *p)
{
	const char *json = getenv("KODA_FS_WORKER_POLICY");
	struct ks_strv unknown = { 0 };
	char text[512];
	struct ks_err e;

	if (json == NULL) {
		ks_policy_init(p);
		return 0;
	}
	if (ks_policy_parse(json, strlen(json), p, NULL, &unknown, &e) < 0) {
		warnx("KODA_FS_WORKER_POLICY is not a valid policy: %s", e.msg);
		ks_strv_free(&unknown);
		return -1;
	}
	/* Accepted, as the reference accepts them (a newer host may send
	 * newer fields), but a typo must not pass without a word. */
	for (size_t i = 0; i < unknown.n; i++) {
		ks_policy_unknown_text(unknown.v[i], text, sizeof(text));
		ks_log(KS_LOG_WARN, "%s", text);
	}
	ks_strv_free(&unknown);
	return 0;
}

/* Whether anyone listens on the socket file at sa: 1 yes, 0 no (the
 * connection is refused: a file left by a worker that was killed), -1
 * cannot tell. Non-blocking, so that a full backlog counts as alive. */
static int
listened(const struct sockaddr_un *sa)
{
	int fd, rc;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS ? 1 :
	    errno == ECONNREFUSED ? 0 : -1;
	close(fd);
	return rc;
}

/* Binds ls to sa. A socket file there that nobody listens on is
 * replaced; anything else is left alone, and the message says what it
 * is and how to get rid of it. */
static int
bind_path(int ls, const struct sockaddr_un *sa)
{
	const char *path = sa->sun_path;
	struct stat st, again;
	int live;

	if (bind(ls, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	if (errno != EADDRINUSE || lstat(path, &st) < 0) {
		warn("--socket %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		warnx("--socket %s: Address already in use: a file that is "
		    "not a socket is there; remove it (rm %s) or choose "
		    "another path", path, path);
		return -1;
	}
	if ((live = listened(sa)) != 0) {
		warnx("--socket %s: Address already in use: %s", path,
		    live > 0 ? "a process is listening on that socket" :
		    "cannot tell whether anyone listens on that socket; "
		    "remove it if nobody does");
		return -1;
	}
	/* A dead socket: replace it, unless something else took its place
	 * meanwhile. */
	if (lstat(path, &again) < 0 || again.st_dev != st.st_dev ||
	    again.st_ino != st.st_ino || unlink(path) < 0 ||
	    bind(ls, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		warn("--socket %s: replacing a socket nobody listens on", path);
		return -1;
	}
	ks_log(KS_LOG_INFO, "--socket %s: replaced a socket nobody listened "
	    "on", path);
	return 0;
}

/* Binds path, says ready, accepts one peer and removes the socket file
 * at once: it never outlives the worker, and confinement would forbid
 * removing it later. Returns the connection or -1. */
static int
accept_one(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, conn;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		warnx("--socket %s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		warn("--socket %s: socket", path);
		return -1;
	}
	if (bind_path(ls, &sa) < 0) {
		close(ls);
		return -1;
	}
	if (listen(ls, 1) < 0) {
		warn("--socket %s: listen", path);
		unlink(path);
		close(ls);
		return -1;
	}
	if (fputs("ready\n", stdout) == EOF || fflush(stdout) == EOF)
		warn("stdout");
	while ((conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) < 0 &&
	    errno == EINTR)
		;
	if (conn < 0)
		warn("accept %s", path);
	unlink(path);
	close(ls);
	return conn;
}

static int
confine(const struct ks_fs *fs)
{
	struct ks_confine_report rep;
	struct ks_err e;

	if (ks_confine(fs, 0, &rep, &e) < 0) {
		warnx("confinement failed: %s", e.msg);
		return -1;
	}
	ks_log(KS_LOG_INFO, "confined: landlock abi %d, %d writable areas, "
	    "tcp %s, ipc %s, seccomp on", rep.abi, rep.fs_rules,
	    rep.net ? "closed" : "open", rep.scoped ? "scoped" : "open");
	return 0;
}

int
worker_main(int argc, char **argv)
{
	struct args a = { NULL, NULL };
	struct ks_policy policy;
	struct ks_fs fs;
	struct ks_err e;
	int rc, in = STDIN_FILENO, out = STDOUT_FILENO;

	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	/* ps and pgrep find it by this name, however it was started. */
	(void)prctl(PR_SET_NAME, "koda-fs-worker", 0, 0, 0);
	/* A vanished peer or a file-size limit must be an error value,
	 * never a signal that kills the worker mid-reply. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	ks_log_set_level(getenv("KODA_FS_WORKER_LOG"));
	if (load_policy(&policy) < 0)
		return KS_EXIT_FAIL;
	if (ks_fs_open(&fs, &policy, a.root, &e) < 0) {
		warnx("--root %s: %s", a.root ? a.root : "/", e.msg);
		rc = KS_EXIT_FAIL;
		goto out;
	}
	/* The audit log may lie outside every writable area: opened now,
	 * before confinement, and before "ready" so that a bad one fails
	 * the start. */
	if (ks_audit_open(&fs.audit, getenv("KODA_FS_WORKER_AUDIT"),
	    getenv("KODA_FS_WORKER_AUDIT_LEVEL"), &e) < 0) {
		warnx("KODA_FS_WORKER_AUDIT: %s", e.msg);
		rc = KS_EXIT_FAIL;
		goto out;
	}
	if (a.root == NULL)
		ks_log(KS_LOG_WARN, "no --root: legacy mode, writes are limited "
		    "only by the absolute deny list (koda's credential "
		    "database, critical system paths, git config)");
	if (a.socket != NULL && (in = out = accept_one(a.socket)) < 0) {
		rc = KS_EXIT_FAIL;
		goto out;
	}
	/* Everything is open: confine before the first request is read.
	 * (Only `make valgrind` builds without it: valgrind cannot run
	 * under the filter. The shipped binary has no such switch.) */
#ifndef KS_TEST_UNCONFINED
	if (confine(&fs) < 0) {
		rc = KS_EXIT_FAIL;
		goto out;
	}
#endif
	rc = ks_serve_loop(&fs, in, out, &e);
	if (rc < 0)
		ks_log(rc == -EPROTO ? KS_LOG_WARN : KS_LOG_INFO,
		    "connection ended: %s", e.msg);
	rc = rc < 0 ? KS_EXIT_FAIL : KS_EXIT_OK;
	if (a.socket != NULL)
		close(in);
out:
	ks_fs_close(&fs);
	ks_policy_free(&policy);
	return rc;
}
