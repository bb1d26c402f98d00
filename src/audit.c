/*
 * audit: decision lines. Fields, in this order: time (RFC 3339, UTC,
 * microseconds), pid, kind, the request's path (or root and pattern),
 * outcome (allowed, denied, error), rule, code, message, us. Strings
 * are cut to keep a line under PIPE_BUF, so a line is never torn.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "log.h"
#include "proto.h"

/* Bytes of one field's JSON string, at most: four fit below PIPE_BUF. */
#define FIELD_MAX 900


void
ks_audit_none(struct ks_audit *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

static int
open_spec(const char *spec)
{
	char *end = NULL;
	long n;
	int fl;

	/* A FIFO named by path must not stall a request either. */
	if (strncmp(spec, "fd:", 3) != 0)
		return open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK, 0600);
	errno = 0;
	n = strtol(spec + 3, &end, 10);
	if (errno != 0 || end == spec + 3 || *end != '\0' || n < 0 ||
	    n > INT_MAX || (fl = fcntl((int)n, F_GETFL)) < 0) {
		errno = EBADF;
		return -1;
	}
	if ((fl & O_ACCMODE) == O_RDONLY) {
		errno = EBADF;
		return -1;
	}
	/* Ours alone from here: a full pipe must not stall a request. */
	if (fcntl((int)n, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl((int)n, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return (int)n;
}

int
ks_audit_open(struct ks_audit *a, const char *spec, const char *level,
    struct ks_err *err)
{
	struct ks_quote q;

	ks_audit_none(a);
	a->pid = (long)getpid();
	if (level != NULL && strcasecmp(level, "all") == 0)
		a->all = true;
	else if (level != NULL && level[0] != '\0' &&
	    strcasecmp(level, "denials") != 0)
		return ks_err_set(err, EINVAL, KS_CODE_INTERNAL, "audit level "
		    "'%s': expected denials or all", ks_quote(&q, level));
	if (spec == NULL || spec[0] == '\0')
		return 0;
	if ((a->fd = open_spec(spec)) < 0)
		return ks_err_set(err, errno, KS_CODE_INTERNAL, "audit log "
		    "'%s': %s", ks_quote(&q, spec), strerror(errno));
	return 0;
}

/* s as a JSON string of at most FIELD_MAX bytes, cut on a character. */
static int
put_str(struct ks_buf *b, const char *s, size_t len)
{
	size_t n = len;

	while (n > 0 && ks_json_str_size(s, n) > FIELD_MAX) {
		n = n > 64 ? n - n / 4 : n - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return ks_json_str(b, s, n);
}

static int
put_field(struct ks_buf *b, const char *key, const char *s, size_t len)
{
	if (ks_json_raw(b, ",\"") < 0 || ks_json_raw(b, key) < 0 ||
	    ks_json_raw(b, "\":") < 0)
		return -ENOMEM;
	return s == NULL ? ks_json_raw(b, "null") : put_str(b, s, len);
}

static int
put_time(struct ks_buf *b)
{
	struct timespec ts;
	struct tm tm;
	char t[96];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(t, sizeof(t), "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d."
	    "%06ldZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	return ks_json_raw(b, t);
}

/* The request's own fields: what it was about. */
static int
put_subject(struct ks_buf *b, const struct ks_req *req)
{
	if (req->path != NULL)
		return put_field(b, "path", req->path, req->path_len);
	if (req->root == NULL)
		return 0;
	if (put_field(b, "root", req->root, req->root_len) < 0)
		return -ENOMEM;
	return put_field(b, "pattern", req->pattern, req->pattern_len);
}

static int
line(struct ks_buf *b, const struct ks_audit *a, const struct ks_req *req,
    int rc, const struct ks_err *err, uint64_t us)
{
	bool denied = rc < 0 && err->code == KS_CODE_POLICY_DENIED;
	char num[64];

	snprintf(num, sizeof(num), ",\"pid\":%ld", a->pid);
	if (put_time(b) < 0 || ks_json_raw(b, num) < 0 ||
	    put_field(b, "kind", ks_req_kind_name(req->kind),
	    strlen(ks_req_kind_name(req->kind))) <
	    0 || put_subject(b, req) < 0 ||
	    put_field(b, "outcome", rc == 0 ? "allowed" : denied ? "denied" :
	    "error", rc == 0 ? 7 : denied ? 6 : 5) < 0 ||
	    put_field(b, "rule", rc < 0 ? err->rule : NULL, rc < 0 &&
	    err->rule != NULL ? strlen(err->rule) : 0) < 0)
		return -ENOMEM;
	if (rc < 0 && (put_field(b, "code", ks_err_code_name(err->code),
	    strlen(ks_err_code_name(err->code))) < 0 ||
	    put_field(b, "message", err->msg, strlen(err->msg)) < 0))
		return -ENOMEM;
	if (rc == 0 && (put_field(b, "code", NULL, 0) < 0 ||
	    put_field(b, "message", NULL, 0) < 0))
		return -ENOMEM;
	snprintf(num, sizeof(num), ",\"us\":%llu}\n", (unsigned long long)us);
	return ks_json_raw(b, num);
}

void
ks_audit_record(struct ks_audit *a, const struct ks_req *req, int rc,
    const struct ks_err *err, uint64_t us)
{
	struct ks_buf b = { 0 };
	ssize_t w;

	if (a->fd < 0 || (!a->all && (rc == 0 ||
	    err->code != KS_CODE_POLICY_DENIED)))
		return;
	if (line(&b, a, req, rc, err, us) < 0) {
		a->dropped++;
	} else {
		do
			w = write(a->fd, b.p, b.len);
		while (w < 0 && errno == EINTR);
		if (w == (ssize_t)b.len)
			a->written++;
		else
			a->dropped++;
	}
	ks_buf_free(&b);
}

void
ks_audit_close(struct ks_audit *a)
{
	if (a->fd < 0)
		return;
	if (a->dropped > 0)
		ks_log(KS_LOG_WARN, "audit: %llu of %llu lines dropped (the "
		    "log could not take them at once)",
		    (unsigned long long)a->dropped,
		    (unsigned long long)a->dropped + a->written);
	close(a->fd);
	a->fd = -1;
}
