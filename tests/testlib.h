/*
 * testlib: what the Check suites share: temporary trees, skips that are
 * counted, and a worker process driven over pipes or a socket.
 */
#ifndef KS_TESTLIB_H
#define KS_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>

/* One suite per unit (tests/check_<unit>.c); check_main runs them all. */
Suite *err_suite(void);
Suite *frame_suite(void);
Suite *proto_suite(void);
Suite *path_suite(void);
Suite *policy_suite(void);
Suite *walk_suite(void);
Suite *ignore_suite(void);
Suite *glob_suite(void);
Suite *grep_suite(void);
Suite *fsops_suite(void);
Suite *confine_suite(void);
Suite *attack_suite(void);
Suite *client_suite(void);
Suite *worker_suite(void);
Suite *policy_check_suite(void);
Suite *agreement_suite(void);
Suite *golden_suite(void);
Suite *fault_suite(void);
Suite *stress_suite(void);
Suite *traversal_suite(void);
Suite *readrace_suite(void);
Suite *applets_suite(void);
Suite *hostcli_suite(void);
Suite *extend_suite(void);
Suite *extlist_suite(void);
Suite *verdict_suite(void);
Suite *encode_suite(void);
Suite *pool_suite(void);
Suite *audit_suite(void);
Suite *hostx_suite(void);
Suite *reqread_suite(void);

/* Check has no skip status: print "skipped: NAME: WHY" and count it. */
void ks_skip(const char *name, const char *why);
/* Skips counted so far in this run (read by the runner). */
int ks_skips_counted(void);
/* Forces the content decoder which (cdecode.h) and returns true, or,
 * when this CPU cannot run it, skips "test (its name)" and returns
 * false. */
bool ks_use_decoder(int which, const char *test);

/* A fresh mkdtemp directory (static storage until the next call is not
 * promised: caller frees). Removed by ks_rmtree. */
char *ks_tmpdir(void);
void ks_rmtree(const char *dir);

/* The fixture of a suite that needs one fresh directory: ks_root_setup
 * makes it (a ks_tmpdir), ks_root_teardown removes it. */
extern char *ks_root;
void ks_root_setup(void);
void ks_root_teardown(void);

/* Creates directory dir and its parents. */
void ks_mkdirs(const char *dir);
/* Creates path (and its parents) holding s[0..len). */
void ks_put(const char *path, const char *s, size_t len);
/* Same with a NUL-terminated string; path is printf-formatted. */
void ks_putf(const char *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The content of path as a new NUL-terminated string (NULL: missing). */
char *ks_slurp(const char *path, size_t *len);

/* A copy of s with every ' turned into " (JSON written in C tables);
 * caller frees. */
char *ks_dq(const char *s);

/* s with every occurrence of key replaced by value; caller frees. */
char *ks_subst(const char *s, const char *key, const char *value);

/* Copies the binary under test into dir (which uid 65534 can search)
 * and makes it the one this test's process runs: wherever the build
 * tree lies, a worker dropped to 65534 can then execute it. */
void ks_bin_for_nobody(const char *dir);

/* Runs fn(arg) in a child dropped to uid and gid 65534 (root reads
 * every directory: a test of an unreadable one needs another user);
 * returns the string fn returned there, as a new string. */
char *ks_as_nobody(char *(*fn)(void *), void *arg);

/* The built binary under test: $KS_BIN. */
const char *ks_bin(void);

/* A running worker and the two ends we talk to it through. */
struct ks_proc {
	pid_t pid;
	int to, from;		/* its stdin (or socket) and stdout */
	int sock;		/* the connection in --socket mode, or -1 */
	int err;		/* its stderr */
	char *errtext;		/* what it printed there, after ks_finish */
};

/*
 * Starts `ks_bin()` as koda-fs-worker with argv (NULL-terminated, argv[0]
 * excluded) and env entries ("NAME=VALUE", NULL-terminated; added to a
 * clean environment holding PATH and HOME). uid_drop: run it as 65534.
 * No descriptor of the caller is inherited but 0-2 and, when the
 * variable KS_KEEP_FD is set, that one.
 */
void ks_spawn(struct ks_proc *p, const char *const *argv,
    const char *const *env, bool uid_drop);

/* Starts a worker on root (NULL: legacy mode) with policy JSON (NULL:
 * none) over stdio, as ks_spawn. */
void ks_spawn_root(struct ks_proc *p, const char *root, const char *policy,
    bool uid_drop);

/* Sends one frame holding json (length explicit: it may hold NULs). */
void ks_send(struct ks_proc *p, const char *json, size_t len);
void ks_sends(struct ks_proc *p, const char *json);
/* Sends raw bytes (for malformed frames). */
void ks_send_raw(struct ks_proc *p, const void *buf, size_t len);
/* Receives one reply frame as a new string; NULL at end of stream. */
char *ks_recv(struct ks_proc *p, size_t *len);
/* Sends json and returns the reply (caller frees). */
char *ks_call(struct ks_proc *p, const char *json);
/* Sends req and asserts the reply is exactly want; "%R" in both stands
 * for root. */
void ks_expect(struct ks_proc *p, const char *root, const char *req,
    const char *want);
/* Closes our ends and waits; returns the raw wait status. The caller
 * frees p->errtext. */
int ks_finish(struct ks_proc *p);
/* Waits for the worker to exit on its own (ends stay open). */
int ks_wait(struct ks_proc *p);

/* What fd gives until its end, as a new string (caller frees); closes
 * fd. */
char *ks_drain(int fd);

/*
 * Runs ks_bin() started as argv[0] (a bare name such as "koda-sandbox")
 * with argv[1..], stdin from /dev/null; collects its stdout and stderr
 * (caller frees). Returns the raw wait status.
 */
int ks_run(const char *const *argv, char **out, char **err);
/* The same with stdin holding in[0..len). */
int ks_run_in(const char *const *argv, const char *in, size_t len,
    char **out, char **err);

#endif
