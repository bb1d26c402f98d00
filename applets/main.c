/*
 * main: the one applet table and the dispatch of the multi-call binary,
 * by the name it was started as or by its first argument.
 */
#include <ctype.h>
#include <errno.h>
#include <err.h>
#include <limits.h>
#include <stdarg.h>
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

void
ks_applet_opt_init(struct ks_getopt *g, int argc, char **argv,
    const struct ks_opt *opts)
{
	char *s;
	int n;

	memset(g, 0, sizeof(*g));
	g->argc = argc;
	g->argv = argv;
	g->opts = opts;
	/* "-": operands are returned in order, whatever POSIXLY_CORRECT
	 * says; ":": a missing value is told apart from an unknown option. */
	s = stpcpy(g->shorts, "-:");
	for (n = 0; n < KS_OPT_MAX && opts[n].name != NULL; n++) {
		g->longs[n] = (struct option){ opts[n].name, opts[n].value !=
		    NULL ? required_argument : no_argument, NULL, opts[n].key };
		if (opts[n].key < 0x80 && isalnum(opts[n].key)) {
			*s++ = (char)opts[n].key;
			if (opts[n].value != NULL)
				*s++ = ':';
		}
	}
	*s = '\0';
	opterr = 0;
	optind = 0;	/* glibc: start afresh */
}

static const struct ks_opt *
opt_by_key(const struct ks_getopt *g, int key)
{
	for (const struct ks_opt *o = g->opts; o->name != NULL; o++)
		if (o->key == key)
			return o;
	return NULL;
}

/* Why getopt_long refused the element it just read. */
static void
refused(struct ks_getopt *g, int c)
{
	const char *el = g->argv[optind - 1 > 0 ? optind - 1 : 1];
	const struct ks_opt *o = opt_by_key(g, optopt);
	size_t n = strcspn(el, "="), k = 0, len = 0;
	char alts[256] = "";

	if (c == ':' && o != NULL) {
		snprintf(g->why, sizeof(g->why), "--%s requires %s argument",
		    o->name, o->value);
		return;
	}
	if (strncmp(el, "--", 2) != 0 || optopt > 0x7f || (optopt != 0 &&
	    o != NULL)) {
		if (strncmp(el, "--", 2) == 0 && o != NULL)
			snprintf(g->why, sizeof(g->why), "--%s takes no value",
			    o->name);
		else
			snprintf(g->why, sizeof(g->why),
			    "unknown argument: -%c", optopt);
		return;
	}
	for (o = g->opts; o->name != NULL; o++)
		if (n > 2 && strncmp(o->name, el + 2, n - 2) == 0 &&
		    len < sizeof(alts)) {
			len += (size_t)snprintf(alts + len, sizeof(alts) - len,
			    "%s--%s", k++ == 0 ? "" : " or ", o->name);
		}
	if (k > 1)
		snprintf(g->why, sizeof(g->why), "ambiguous argument: %.*s "
		    "(%s?)", (int)n, el, alts);
	else
		snprintf(g->why, sizeof(g->why), "unknown argument: %.*s",
		    (int)n, el);
}

int
ks_applet_opt_next(struct ks_getopt *g)
{
	int c;

	for (;;) {
		c = getopt_long(g->argc, g->argv, g->shorts, g->longs, NULL);
		if (c == 1) {
			/* Slot 1 + nops was read already: reuse it. */
			g->argv[1 + g->nops++] = optarg;
			continue;
		}
		if (c == -1) {
			while (optind < g->argc)
				g->argv[1 + g->nops++] = g->argv[optind++];
			g->argv[1 + g->nops] = NULL;
			return 0;
		}
		if (c == '?' || c == ':') {
			refused(g, c);
			return -1;
		}
		g->arg = optarg;
		return c;
	}
}

int
ks_applet_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	return KS_EXIT_USAGE;
}

int
ks_applet_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("write standard output");
		return KS_EXIT_FAIL;
	}
	return KS_EXIT_OK;
}

int
ks_applet_help(const char *usage)
{
	fputs(usage, stdout);
	return ks_applet_flush();
}

int
ks_applet_version(void)
{
	printf("koda-sandbox %s\n", VERSION);
	return ks_applet_flush();
}

static const char usage_text[] =
    "usage: koda-sandbox APPLET [ARGS]...\n"
    "       koda-sandbox --install DIR | --list | --help | --version\n";

static void
list(FILE *f)
{
	fputs(usage_text, f);
	fprintf(f, "\napplets:\n");
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

enum { OPT_LIST = 0x200, OPT_INSTALL, OPT_SOCKET, OPT_ROOT };

static const struct ks_opt dispatch_opts[] = {
	{ "help", KS_OPT_HELP, NULL },
	{ "install", OPT_INSTALL, "a directory" },
	{ "list", OPT_LIST, NULL },
	{ "root", OPT_ROOT, "a path" },
	{ "socket", OPT_SOCKET, "a path" },
	{ "version", KS_OPT_VERSION, NULL },
	{ NULL, 0, NULL },
};

static int
dispatch_usage(const char *why)
{
	warnx("%s", why);
	list(stderr);
	return KS_EXIT_USAGE;
}

/* koda-sandbox --OPTION: one of the dispatcher's own, alone. */
static int
dispatch_option(int argc, char **argv)
{
	struct ks_getopt g;
	const char *dir = NULL;
	int key, c;

	ks_applet_opt_init(&g, argc, argv, dispatch_opts);
	if ((key = ks_applet_opt_next(&g)) <= 0)
		return dispatch_usage(key < 0 ? g.why : "no applet given");
	/* A host pointed at the main binary runs the worker. */
	if (key == OPT_SOCKET || key == OPT_ROOT)
		return run(ks_applet_find("worker"), argc, argv);
	dir = g.arg;
	if ((c = ks_applet_opt_next(&g)) < 0)
		return dispatch_usage(g.why);
	if (c > 0 || g.nops > 0)
		return dispatch_usage("one option at a time, and no operand "
		    "after it");
	switch (key) {
	case OPT_INSTALL:
		return install(dir);
	case KS_OPT_VERSION:
		return ks_applet_version();
	default:
		list(stdout);
		return ks_applet_flush();
	}
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
	if (argv[1][0] == '-' && argv[1][1] != '\0')
		return dispatch_option(argc, argv);
	if ((a = ks_applet_find(argv[1])) != NULL)
		return run(a, argc - 1, argv + 1);
	warnx("unknown applet '%s' (see koda-sandbox --list)", argv[1]);
	return KS_EXIT_USAGE;
}
