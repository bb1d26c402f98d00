/*
 * confine: the worker's kernel confinement (SPEC §3), applied once after
 * everything the worker needs is open and before the first request.
 */
#ifndef KS_CONFINE_H
#define KS_CONFINE_H

#include <stddef.h>

struct ks_err;
struct ks_fs;

/* What the Landlock step achieved, for logs and tests. */
struct ks_confine_report {
	int abi;		/* ABI used; 0: no Landlock on this kernel */
	int fs_rules;		/* writable areas given to Landlock */
	int net;		/* TCP bind/connect closed */
	int scoped;		/* abstract sockets and signals scoped */
};

/*
 * Confines the calling process, in this order: no_new_privs; a Landlock
 * ruleset (writes only beneath fs's areas unless fs is in legacy mode,
 * no TCP, scoped IPC; best effort by ABI, never above abi_cap when it is
 * positive); the resource limits of fs's policy; the seccomp filter.
 * Landlock missing is logged once (warn) and is not an error. Returns 0,
 * or a negative errno with err set: the worker must not go on.
 */
int ks_confine(const struct ks_fs *fs, int abi_cap,
    struct ks_confine_report *report, struct ks_err *err);

/* The Landlock step of ks_confine alone (with no_new_privs, which it
 * needs). Returns 0 (also when the kernel has no Landlock: report->abi
 * is then 0) or a negative errno with err set. */
int ks_confine_landlock(const struct ks_fs *fs, int abi_cap,
    struct ks_confine_report *report, struct ks_err *err);

/* The seccomp program installed by ks_confine (BPF instructions). */
const unsigned char *ks_confine_filter(size_t *len);

#endif
