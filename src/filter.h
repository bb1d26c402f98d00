/*
 * filter: the worker's seccomp policy as libseccomp rules. Used at build
 * time only (filter_gen writes the BPF program that confine installs)
 * and by the test that regenerates it and compares; the shipped binary
 * does not link libseccomp.
 */
#ifndef KS_FILTER_H
#define KS_FILTER_H

#include <seccomp.h>

/* Creates the filter for the native architecture: the allowlist, the
 * calls that kill, EPERM for the rest. Returns NULL on failure; release
 * with seccomp_release. */
scmp_filter_ctx ks_filter_new(void);

#endif
