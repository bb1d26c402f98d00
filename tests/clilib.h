/*
 * clilib: what the suites that run the applets as commands share
 * (check_applets, check_hostcli): their fixture and runs asserted whole.
 */
#ifndef KS_CLILIB_H
#define KS_CLILIB_H

#include <sys/types.h>

/* The fixture: a root holding a.txt ("hello\n") and a directory that is
 * the clients' TMPDIR (their sockets go there); KODA_FS_WORKER_BIN and
 * KODA_FS_WORKER_POLICY unset. ks_cli_setup makes it, ks_cli_teardown
 * removes it. */
extern char *ks_cli_root, *ks_cli_tmp;
void ks_cli_setup(void);
void ks_cli_teardown(void);

/* s with %R (the root) and %T (TMPDIR) replaced. Caller frees. */
char *ks_cli_fill(const char *s);

/* err (NULL: nothing) without the worker's legacy-mode warning. */
void ks_cli_drop_legacy_warning(char *err);

/*
 * Runs the binary as argv (each element filled; argv[0] the name it is
 * started as) with stdin in (NULL: /dev/null), asserts the exit status
 * and, unless NULL, the whole of stdout and stderr (filled; the legacy
 * warning dropped).
 */
void ks_cli_expect(const char *const *argv, const char *in, int code,
    const char *want_out, const char *want_err);

/* Sockets left in the clients' TMPDIR. */
int ks_cli_sockets_left(void);

/* Starts the binary as argv with the given standard descriptors;
 * returns its pid (the caller waits). */
pid_t ks_cli_start(const char *const *argv, int in, int out, int err);

#endif
