/*
 * audit: the worker's log of decisions (koda-sandbox-audit(5)): one JSON
 * object per line for every denial, or with the "all" level for every
 * request, written to a descriptor opened before confinement. A write
 * never blocks the request path: the descriptor is non-blocking, each
 * line is one write(2) of less than PIPE_BUF bytes (all or nothing on a
 * pipe), and a line that does not go in is dropped and counted.
 */
#ifndef KS_AUDIT_H
#define KS_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

struct ks_err;
struct ks_req;

struct ks_audit {
	int fd;			/* -1: no audit log */
	bool all;		/* every request, not only denials */
	uint64_t written, dropped;
	long pid;
};

/* An audit that logs nothing (fd -1). */
void ks_audit_none(struct ks_audit *a);

/*
 * Opens the log that spec names: "fd:N" (a descriptor inherited from
 * the host, made non-blocking) or a path (opened O_WRONLY | O_APPEND |
 * O_CREAT, mode 0600). level: NULL or "denials" (the default), or "all".
 * Returns 0 or a negative errno with err set (a one-line reason).
 */
int ks_audit_open(struct ks_audit *a, const char *spec, const char *level,
    struct ks_err *err);

/*
 * Records one request: rc its result (0, or the negative errno of an
 * error reply described by err), us how long it took. Denials always,
 * the rest with the "all" level.
 */
void ks_audit_record(struct ks_audit *a, const struct ks_req *req, int rc,
    const struct ks_err *err, uint64_t us);

/* Closes the log; says on stderr (warn) how many lines were dropped. */
void ks_audit_close(struct ks_audit *a);

#endif
