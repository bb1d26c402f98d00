/*
 * pclib: what the suites of policy-check share (check_policy_check,
 * check_agreement): its fixture and its runs, asserted.
 */
#ifndef KS_PCLIB_H
#define KS_PCLIB_H

#include <stddef.h>

struct json_t;

/* The fixture: top/{root,allow,out,home} and top/policy.json ("{}"),
 * with HOME set to home (one throwaway HOME for policy-check and the
 * worker). ks_pc_setup makes it, ks_pc_teardown removes it. */
extern char *ks_pc_top;
extern char *ks_pc_root, *ks_pc_allow, *ks_pc_outside, *ks_pc_home;
extern char *ks_pc_polfile;
void ks_pc_setup(void);
void ks_pc_teardown(void);

/* s with %R, %A, %O, %H, %T and %F (the policy file) replaced by the
 * fixture's paths. Caller frees. */
char *ks_pc_fill(const char *s);

/* json (filled) into the policy file. */
void ks_pc_put_policy(const char *json);

/* The policy the corpus and the bulk tests use. */
extern const char ks_pc_corpus_policy[];

/*
 * Runs policy-check with the arguments tmpl (NULL-terminated, each
 * filled) and stdin in[0..len) (NULL: /dev/null); asserts it exits with
 * rc (-1: 0 or 1, kept in ks_pc_last_rc) and, for a usage error, says
 * why on stderr. Returns its stdout (caller frees).
 */
char *ks_pc_run(const char *const *tmpl, const char *in, size_t len,
    int rc);
/* policy-check's exit status in the last ks_pc_run. */
extern int ks_pc_last_rc;

/* ks_pc_run, then stdout must be want (filled). */
void ks_pc_expect(const char *const *tmpl, const char *in, int rc,
    const char *want);

/* Parses one --json line; asserts the keys and their order. Returns a
 * new reference. */
struct json_t *ks_pc_parse_line(const char *line, size_t len);

#endif
