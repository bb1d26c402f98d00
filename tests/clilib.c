/*
 * clilib: what the suites that run the applets as commands share
 * (check_applets, check_hostcli): a fixture of a root and the clients'
 * TMPDIR, arguments filled with their paths, and runs whose exit status,
 * stdout and stderr are asserted whole.
 */
#include "clilib.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

char *ks_cli_root, *ks_cli_tmp;

void
ks_cli_setup(void)
{
	ks_cli_root = ks_tmpdir();
	ks_cli_tmp = ks_tmpdir();	/* TMPDIR of the clients: sockets */
	setenv("TMPDIR", ks_cli_tmp, 1);
	unsetenv("KODA_FS_WORKER_BIN");
	unsetenv("KODA_FS_WORKER_POLICY");
	ks_putf("hello\n", "%s/a.txt", ks_cli_root);
}

void
ks_cli_teardown(void)
{
	ks_rmtree(ks_cli_root);
	ks_rmtree(ks_cli_tmp);
	free(ks_cli_root);
	free(ks_cli_tmp);
}

char *
ks_cli_fill(const char *s)
{
	char *a = ks_subst(s, "%R", ks_cli_root);
	char *b = ks_subst(a, "%T", ks_cli_tmp);

	free(a);
	return b;
}

/* A worker started without --root says it once (check_audit.c tests
 * that); these tests are about the rest of what stderr says. */
void
ks_cli_drop_legacy_warning(char *err)
{
	static const char line[] = "koda-fs-worker: warn: no --root: legacy "
	    "mode";
	char *at, *end;

	while (err != NULL && (at = strstr(err, line)) != NULL) {
		end = strchr(at, '\n');
		end = end != NULL ? end + 1 : at + strlen(at);
		memmove(at, end, strlen(end) + 1);
	}
}

void
ks_cli_expect(const char *const *argv, const char *in, int code,
    const char *want_out, const char *want_err)
{
	const char *av[24];
	char *filled[24] = { 0 }, *out, *err, *w;
	int n, st;

	for (n = 0; argv[n] != NULL && n < 23; n++)
		av[n] = filled[n] = ks_cli_fill(argv[n]);
	av[n] = NULL;
	st = ks_run_in(av, in, in != NULL ? strlen(in) : 0, &out, &err);
	ks_cli_drop_legacy_warning(err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "%s %s: status %d, want exit %d; stderr: %s", av[0],
	    n > 1 ? av[1] : "", st, code, err);
	if (want_out != NULL) {
		w = ks_cli_fill(want_out);
		ck_assert_msg(strcmp(out, w) == 0,
		    "%s %s: stdout\n%s\nwant\n%s", av[0], n > 1 ? av[1] : "",
		    out, w);
		free(w);
	}
	if (want_err != NULL) {
		w = ks_cli_fill(want_err);
		ck_assert_msg(strcmp(err, w) == 0,
		    "%s %s: stderr\n%s\nwant\n%s", av[0], n > 1 ? av[1] : "",
		    err, w);
		free(w);
	}
	for (int i = 0; i < n; i++)
		free(filled[i]);
	free(out);
	free(err);
}

int
ks_cli_sockets_left(void)
{
	DIR *d = opendir(ks_cli_tmp);
	struct dirent *e;
	int n = 0;

	ck_assert(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "koda-fs-worker-", 15) == 0;
	closedir(d);
	return n;
}

pid_t
ks_cli_start(const char *const *argv, int in, int out, int err)
{
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(ks_bin(), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

