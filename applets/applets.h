/*
 * applets: the entry points of the one executable, their exit codes, and
 * what every applet shares: one option parser, usage, help and version.
 */
#ifndef KS_APPLETS_H
#define KS_APPLETS_H

#include <getopt.h>

#define KS_EXIT_OK 0
#define KS_EXIT_DENIED 1	/* an error reply, a denied path */
#define KS_EXIT_FAIL 1		/* worker set-up failed, output failed */
#define KS_EXIT_USAGE 2
#define KS_EXIT_TRANSPORT 3

struct applet {
	const char *name;
	const char *alias;
	int (*main)(int argc, char **argv);
	const char *help;
};

/* The applet table, sorted by name; n set to its length. */
const struct applet *ks_applets(unsigned *n);

/* The applet called name (by name or alias), or NULL. */
const struct applet *ks_applet_find(const char *name);

int host_client_main(int argc, char **argv);
int policy_check_main(int argc, char **argv);
int worker_main(int argc, char **argv);

/* One option: --name (abbreviations and --name=VALUE accepted), and -c
 * too when key is a letter or digit c. */
struct ks_opt {
	const char *name;
	int key;		/* returned by ks_applet_opt_next; not 0 */
	const char *value;	/* NULL: takes none; else what it takes,
				 * for messages: "a path" */
};

/* Keys of the options every applet has; long-only keys start above. */
#define KS_OPT_HELP 'h'
#define KS_OPT_VERSION 0x100
#define KS_OPT_MAX 32

/* One parse of argv; fill with ks_applet_opt_init. */
struct ks_getopt {
	int argc;
	char **argv;
	const struct ks_opt *opts;	/* ends with a NULL name */
	struct option longs[KS_OPT_MAX + 1];
	char shorts[2 * KS_OPT_MAX + 4];
	int nops;		/* operands so far, kept in argv[1..nops] */
	const char *arg;	/* the value of the option just returned */
	char why[512];		/* after -1: the reason, one line */
};

/* Starts parsing argv[1..argc) against opts (at most KS_OPT_MAX). */
void ks_applet_opt_init(struct ks_getopt *g, int argc, char **argv,
    const struct ks_opt *opts);

/*
 * getopt_long in GNU order: options may come anywhere before "--", the
 * operands are kept in order, and everything after "--" is an operand.
 * Returns the key of the next option (its value in g->arg), 0 when argv
 * is done (the operands then are g->argv[1..g->nops], NULL-terminated),
 * or -1 on a usage error with g->why set.
 */
int ks_applet_opt_next(struct ks_getopt *g);

/* A usage error: "APPLET: REASON" (printf-formatted) and the usage text
 * on stderr; returns KS_EXIT_USAGE. */
int ks_applet_usage(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* -h/--help: the usage text on stdout; returns the exit status (1 when
 * standard output cannot be written). */
int ks_applet_help(const char *usage);

/* --version: "koda-sandbox VERSION" on stdout; returns the exit status. */
int ks_applet_version(void);

/* Flushes standard output; a failure (a full disk, /dev/full) is a
 * message and KS_EXIT_FAIL, else KS_EXIT_OK. */
int ks_applet_flush(void);

#endif
