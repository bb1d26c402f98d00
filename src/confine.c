/*
 * confine: no_new_privs, Landlock, rlimits, seccomp, in that order.
 *
 * Landlock goes through the raw system calls. Debian 12's headers stop at
 * ABI 2, the kernels it runs on go further, so the newer access bits are
 * defined here and the structs that grew are declared here: a header
 * guard cannot add a field.
 */
#include "confine.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "fsops.h"
#include "log.h"

#include "filter.inc"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The ruleset attribute as of ABI 6; older kernels get a prefix. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* Every right that changes the file system, by the ABI that knows it.
 * Reading and executing stay unrestricted. */
#define FS_WRITE_V1 (LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	LANDLOCK_ACCESS_FS_MAKE_SYM)

/* What an atomic write needs beneath a writable area: write the
 * temporary file, make files and directories, and remove the file that
 * rename replaces (or the temporary file after a failure). */
#define FS_AREA (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_TRUNCATE)

static uint64_t
fs_handled(int abi)
{
	uint64_t a = FS_WRITE_V1;

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		a |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return a;
}

static int
landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

/* The attribute for abi, and the size of it that such a kernel knows. */
static size_t
ruleset_for(int abi, bool legacy, struct ruleset_attr *attr)
{
	attr->handled_access_fs = legacy ? 0 : fs_handled(abi);
	attr->handled_access_net = abi >= 4 ? LANDLOCK_ACCESS_NET_BIND_TCP |
	    LANDLOCK_ACCESS_NET_CONNECT_TCP : 0;
	attr->scoped = abi >= 6 ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
	    LANDLOCK_SCOPE_SIGNAL : 0;
	if (abi >= 6)
		return sizeof(*attr);
	return abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
}

static int
add_areas(int rfd, const struct ks_fs *fs, uint64_t handled,
    struct ks_confine_report *rep, struct ks_err *err)
{
	struct path_beneath pb;

	for (size_t i = 0; i < fs->nareas; i++) {
		pb.allowed_access = FS_AREA & handled;
		pb.parent_fd = fs->areas[i].fd;
		if (syscall(SYS_landlock_add_rule, rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			return ks_err_set(err, errno, KS_CODE_INTERNAL,
			    "landlock_add_rule %s: %s", fs->areas[i].path,
			    strerror(errno));
		rep->fs_rules++;
	}
	return 0;
}

/* Landlock: the outer wall. The worker's own checks enforce what
 * Landlock cannot say (carve-outs inside an allowed area, .git rules). */
static int
apply_landlock(const struct ks_fs *fs, int abi_cap,
    struct ks_confine_report *rep, struct ks_err *err)
{
	struct ruleset_attr attr;
	bool legacy = fs->pctx.root == NULL;
	size_t size;
	int rfd, rc = 0;

	if ((rep->abi = landlock_abi()) == 0) {
		ks_log(KS_LOG_WARN, "Landlock is not available on this kernel; "
		    "the worker's own checks still apply");
		return 0;
	}
	if (abi_cap > 0 && rep->abi > abi_cap)
		rep->abi = abi_cap;
	size = ruleset_for(rep->abi, legacy, &attr);
	if (attr.handled_access_fs == 0 && attr.handled_access_net == 0)
		return 0;	/* legacy mode on ABI < 4: nothing to restrict */
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rfd < 0)
		return ks_err_set(err, errno, KS_CODE_INTERNAL,
		    "landlock_create_ruleset: %s", strerror(errno));
	if (!legacy)
		rc = add_areas(rfd, fs, attr.handled_access_fs, rep, err);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		rc = ks_err_set(err, errno, KS_CODE_INTERNAL,
		    "landlock_restrict_self: %s", strerror(errno));
	close(rfd);
	rep->net = attr.handled_access_net != 0;
	rep->scoped = attr.scoped != 0;
	return rc;
}

static int
set_limit(int resource, const struct ks_limit *l, const char *name,
    struct ks_err *err)
{
	struct rlimit rl;
	uint64_t v = l->v;

	if (!l->set)
		return 0;
	/* As koda-sandbox-policy(5) and validate say: clamped. */
	if (resource == RLIMIT_CPU && v > KS_LIMIT_CPU_MAX)
		v = KS_LIMIT_CPU_MAX;
	if (resource == RLIMIT_NOFILE && v > KS_LIMIT_FDS_MAX)
		v = KS_LIMIT_FDS_MAX;
	/* A limit only lowers: never above the hard limit the worker got. */
	if (getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    v > rl.rlim_max)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(resource, &rl) < 0)
		return ks_err_set(err, errno, KS_CODE_INTERNAL,
		    "setrlimit %s %llu: %s", name, (unsigned long long)v,
		    strerror(errno));
	return 0;
}

static int
apply_limits(const struct ks_policy *p, struct ks_err *err)
{
	int rc;

	if ((rc = set_limit(RLIMIT_NOFILE, &p->max_open_fds, "max_open_fds",
	    err)) < 0 ||
	    (rc = set_limit(RLIMIT_CPU, &p->cpu_time_secs, "cpu_time_secs",
	    err)) < 0)
		return rc;
#if !defined(__SANITIZE_ADDRESS__)
	/* ASan's shadow memory cannot live under an address-space limit;
	 * sanitizer builds (tests only) leave it out. */
	rc = set_limit(RLIMIT_AS, &p->max_rss_bytes, "max_rss_bytes", err);
#endif
	return rc;
}

const unsigned char *
ks_confine_filter(size_t *len)
{
	*len = sizeof(ks_filter_bpf);
	return ks_filter_bpf;
}

static int
apply_seccomp(struct ks_err *err)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(ks_filter_bpf) /
		    sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)(void *)ks_filter_bpf,
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return ks_err_set(err, errno, KS_CODE_INTERNAL,
		    "seccomp: %s", strerror(errno));
	return 0;
}

int
ks_confine_landlock(const struct ks_fs *fs, int abi_cap,
    struct ks_confine_report *report, struct ks_err *err)
{
	struct ks_confine_report rep = { 0 };
	int rc;

	/* No exec could gain privileges anyway, and both Landlock and an
	 * unprivileged seccomp filter require it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ks_err_set(err, errno, KS_CODE_INTERNAL,
		    "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	rc = apply_landlock(fs, abi_cap, &rep, err);
	if (report != NULL)
		*report = rep;
	return rc;
}

int
ks_confine(const struct ks_fs *fs, int abi_cap,
    struct ks_confine_report *report, struct ks_err *err)
{
	struct ks_confine_report rep = { 0 };
	int rc;

	/* Landlock before the limits: its ruleset needs descriptors. */
	if ((rc = ks_confine_landlock(fs, abi_cap, &rep, err)) < 0 ||
	    (rc = apply_limits(fs->pctx.policy, err)) < 0)
		return rc;
	/* The filter last: it forbids the calls the steps above make. */
	if ((rc = apply_seccomp(err)) < 0)
		return rc;
	if (report != NULL)
		*report = rep;
	return 0;
}
