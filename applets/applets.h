/*
 * applets: the entry points of the one executable and its exit codes.
 */
#ifndef KS_APPLETS_H
#define KS_APPLETS_H

#define KS_EXIT_OK 0
#define KS_EXIT_DENIED 1	/* an error reply, a denied path */
#define KS_EXIT_FAIL 1		/* worker set-up failed */
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

#endif
