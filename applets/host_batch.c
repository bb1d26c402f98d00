/*
 * host_batch: host-client's batch, one request per input line and one
 * reply per output line over one worker, and pool, sessions of such
 * lines each served by a fresh worker from a pool of ready ones.
 */
#include "host_client.h"

#include <errno.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../src/client.h"
#include "../src/err.h"
#include "../src/frame.h"
#include "../src/pool.h"
#include "../src/proto.h"

/* The reply line for an input line that could not be sent. */
static void
batch_error(struct ks_buf *b, size_t n, const struct ks_err *e)
{
	char msg[KS_ERR_MAX + 32];

	snprintf(msg, sizeof(msg), "batch line %zu: %.8000s", n, e->msg);
	b->len = 0;
	ks_json_raw(b, "{\"kind\":\"error\",\"code\":\"protocol\","
	    "\"message\":");
	ks_json_str(b, msg, strlen(msg));
	printf("%.*s}\n", (int)b->len, b->p);
}

/* Sends one batch line; returns 0, 1 when it was answered here, or the
 * exit status of a transport failure. */
static int
batch_line(struct ks_client *c, struct ks_buf *b, const char *line,
    size_t len, size_t n)
{
	struct ks_req req;
	struct ks_err e;
	char *reply;
	size_t rlen;
	int rc;

	if (ks_req_decode(line, len, &req, &e) < 0) {
		batch_error(b, n, &e);
		return 1;
	}
	ks_req_free(&req);
	if ((rc = ks_client_call(c, line, len, &reply, &rlen, &e)) ==
	    -EMSGSIZE) {
		batch_error(b, n, &e);	/* not sent: go on */
		return 1;
	}
	if (rc < 0) {
		fflush(stdout);
		warnx("batch line %zu: %s", n, e.msg);
		return KS_EXIT_TRANSPORT;
	}
	fwrite(reply, 1, rlen, stdout);
	putchar('\n');
	free(reply);
	return 0;
}

int
ks_host_batch_run(struct ks_client *c)
{
	char *line = NULL;
	size_t cap = 0, n = 0;
	struct ks_buf b = { 0 };
	ssize_t len;
	int rc = KS_EXIT_OK;

	while (rc <= 1 && (len = getline(&line, &cap, stdin)) >= 0) {
		n++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		rc = batch_line(c, &b, line, (size_t)len, n);
		/* Each reply as soon as it came, for a script that answers
		 * it; nobody reads them: stop sending. */
		if (fflush(stdout) == EOF)
			break;
	}
	free(line);
	ks_buf_free(&b);
	return rc > 1 ? rc : KS_EXIT_OK;
}

/*
 * pool: sessions from a pool of ready workers (pool.h). One request per
 * input line, as batch; an empty line ends the session, its worker is
 * shut down, and the next line goes to a fresh one. An empty output
 * line marks each end of a session.
 */
int
ks_host_batch_pool(const struct ks_host_opts *o)
{
	struct ks_client_opts co;
	struct ks_client *c = NULL;
	struct ks_pool *p = NULL;
	struct ks_buf b = { 0 };
	char *line = NULL, *end;
	size_t cap = 0, n = 0;
	unsigned long size = 4;
	struct ks_err e;
	ssize_t len;
	int rc = KS_EXIT_OK;

	if (o->size != NULL && ((size = strtoul(o->size, &end, 10)) == 0 ||
	    *end != '\0' || size > KS_POOL_MAX))
		return ks_host_usage("--size %s: not a number from 1 to %d",
		    o->size, KS_POOL_MAX);
	ks_host_options_worker(o, &co);
	if (ks_pool_open(&co, (unsigned)size, &p, &e) < 0)
		errx(KS_EXIT_TRANSPORT, "%s", e.msg);
	while (rc <= 1 && (len = getline(&line, &cap, stdin)) >= 0) {
		n++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0) {
			ks_pool_release(p, c);	/* the session ends */
			c = NULL;
			putchar('\n');
		} else if (c == NULL && ks_pool_acquire(p, &c, &e) < 0) {
			warnx("line %zu: %s", n, e.msg);
			rc = KS_EXIT_TRANSPORT;
		} else {
			rc = batch_line(c, &b, line, (size_t)len, n);
		}
		if (fflush(stdout) == EOF)
			break;
	}
	ks_pool_release(p, c);
	ks_pool_close(p);
	free(line);
	ks_buf_free(&b);
	return rc > 1 ? rc : KS_EXIT_OK;
}
