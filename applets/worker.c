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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "applets.h"
#include "../src/confine.h"
#include "../src/err.h"
#include "../src/fsops.h"
#include "../src/log.h"
#include "../src/policy.h"
#include "../src/serve.h"

struct args {
	const char *socket;
	const char *root;
};

static int
usage(const char *why)
{
	warnx("%s\nusage: koda-fs-worker [--socket PATH] [--root DIR]", why);
	return KS_EXIT_USAGE;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	char why[256];

	for (int i = 1; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--socket") == 0 ? &a->socket :
		    strcmp(argv[i], "--root") == 0 ? &a->root : NULL;

		if (dst == NULL) {
			snprintf(why, sizeof(why), "unknown argument: %s",
			    argv[i]);
			return usage(why);
		}
		if (++i == argc) {
			snprintf(why, sizeof(why), "%s requires a path "
			    "argument", argv[i - 1]);
			return usage(why);
		}
		*dst = argv[i];
	}
	return 0;
}

static int
load_policy(struct ks_policy *p)
{
	const char *json = getenv("KODA_FS_WORKER_POLICY");
	struct ks_err e;

	if (json == NULL) {
		ks_policy_init(p);
		return 0;
	}
	if (ks_policy_parse(json, strlen(json), p, NULL, NULL, &e) < 0) {
		warnx("KODA_FS_WORKER_POLICY is not a valid policy: %s", e.msg);
		return -1;
	}
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
	strcpy(sa.sun_path, path);
	if ((ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 1) < 0) {
		warn("--socket %s", path);
		if (ls >= 0)
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

	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
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
