/*
 * main: the one applet table and the dispatch of the multi-call binary,
 * by the name it was started as or by its first argument.
 */
#include <errno.h>
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static const struct applet applets[] = {
	/* name          alias             entry              help */
	{ "host-client",  "client",         host_client_main,  "spawn a worker, send requests" },
	{ "policy-check", NULL,             policy_check_main, "ask a policy about paths" },
	{ "worker",       "koda-fs-worker", worker_main,       "serve framed file-system requests under a policy" },
};
#define NAPPLETS (sizeof(applets) / sizeof(applets[0]))

const struct applet *
ks_applets(unsigned *n)
{
	*n = NAPPLETS;
	return applets;
}

const struct applet *
ks_applet_find(const char *name)
{
	for (size_t i = 0; i < NAPPLETS; i++)
		if (strcmp(name, applets[i].name) == 0 ||
		    (applets[i].alias != NULL &&
		    strcmp(name, applets[i].alias) == 0))
			return &applets[i];
	return NULL;
}

static void
list(FILE *f)
{
	fprintf(f, "usage: koda-sandbox APPLET [ARGS]...\n"
	    "       koda-sandbox --install DIR | --list | --version\n\n"
	    "applets:\n");
	for (size_t i = 0; i < NAPPLETS; i++)
		fprintf(f, "  %-14s %s%s%s%s\n", applets[i].name,
		    applets[i].help, applets[i].alias ? " (also " : "",
		    applets[i].alias ? applets[i].alias : "",
		    applets[i].alias ? ")" : "");
}

static int
link_one(const char *dir, const char *name, const char *self)
{
	char path[PATH_MAX], cur[PATH_MAX];
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		warnx("--install: %s/%s: name too long", dir, name);
		return -1;
	}
	if (symlink(self, path) == 0)
		return 0;
	/* A link to this very binary already there is fine. */
	if (errno == EEXIST && (n = readlink(path, cur, sizeof(cur) - 1)) > 0) {
		cur[n] = '\0';
		if (strcmp(cur, self) == 0)
			return 0;
	}
	warn("--install: %s", path);
	return -1;
}

static int
install(const char *dir)
{
	char self[PATH_MAX];
	int rc = 0;

	if (realpath("/proc/self/exe", self) == NULL) {
		warn("--install: /proc/self/exe");
		return 1;
	}
	for (size_t i = 0; i < NAPPLETS; i++) {
		rc |= link_one(dir, applets[i].name, self);
		if (applets[i].alias != NULL)
			rc |= link_one(dir, applets[i].alias, self);
	}
	return rc != 0;
}

static int
run(const struct applet *a, int argc, char **argv)
{
	/* err(3) messages then name the applet. */
	program_invocation_short_name = (char *)a->name;
	return a->main(argc, argv);
}

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	const struct applet *a;

	base = base != NULL ? base + 1 : argv[0];
	if ((a = ks_applet_find(base)) != NULL)
		return run(a, argc, argv);
	if (argc < 2) {
		list(stderr);
		return KS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "--list") == 0) {
		list(stdout);
		return KS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("koda-sandbox %s\n", VERSION);
		return KS_EXIT_OK;
	}
	if (strcmp(argv[1], "--install") == 0) {
		if (argc != 3)
			errx(KS_EXIT_USAGE, "usage: koda-sandbox --install DIR");
		return install(argv[2]);
	}
	/* A host pointed at the main binary runs the worker. */
	if (strcmp(argv[1], "--socket") == 0 || strcmp(argv[1], "--root") == 0)
		return run(ks_applet_find("worker"), argc, argv);
	if ((a = ks_applet_find(argv[1])) != NULL)
		return run(a, argc - 1, argv + 1);
	warnx("unknown applet '%s' (see koda-sandbox --list)", argv[1]);
	return KS_EXIT_USAGE;
}
