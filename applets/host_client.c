/*
 * host-client: spawn a worker (or connect to one), send one request or a
 * batch, print the replies for a person or a script. This file holds the
 * worker's life (spawned with the signals that end host-client forwarded
 * to it), one request and its reply, a write in parts, and main; the
 * other parts are named in host_client.h.
 */
#include "host_client.h"

#include <errno.h>
#include <err.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/client.h"
#include "../src/err.h"
#include "../src/frame.h"
#include "../src/proto.h"

/* A write larger than this goes in parts (write_part): one frame holds
 * 262,137 bytes whatever they are. */
#define WRITE_PART (192u << 10)
#define WRITE_PART_REPLY "{\"kind\":\"write_part\""

/* The worker that a signal must stop before host-client ends. */
static volatile sig_atomic_t sig_worker;
static char sig_sock[128];

/* Stops the worker with the signal that ends host-client, waits for it
 * (a second, then SIGKILL), removes its socket, and lets the signal end
 * host-client too. Only async-signal-safe calls. */
static void
on_signal(int sig)
{
	struct timespec ms = { 0, 1000000 };
	pid_t pid = sig_worker;
	int i = 0;

	if (pid > 0) {
		kill(pid, sig);
		while (waitpid(pid, NULL, WNOHANG) == 0 && i++ < 1000)
			nanosleep(&ms, NULL);
		if (i > 1000) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		unlink(sig_sock);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
block_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(how, &set, NULL);
}

/* Spawns with the signals held, so that a signal never finds a worker
 * it does not know of; from then on they are forwarded to it. */
static struct ks_client *
spawn(const struct ks_host_opts *o)
{
	struct ks_client_opts co;
	struct sigaction sa = { .sa_handler = on_signal };
	struct ks_client *c;
	struct ks_err e;

	ks_host_options_worker(o, &co);
	block_signals(SIG_BLOCK);
	if (ks_client_spawn(&co, &c, &e) < 0)
		errx(KS_EXIT_TRANSPORT, "%s", e.msg);
	snprintf(sig_sock, sizeof(sig_sock), "%s", ks_client_socket(c));
	sig_worker = ks_client_pid(c);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	block_signals(SIG_UNBLOCK);
	return c;
}

static struct ks_client *
open_client(const struct ks_host_opts *o)
{
	struct ks_client *c;
	struct ks_err e;

	if (o->connect == NULL)
		return spawn(o);
	if (ks_client_connect(o->connect, &c, &e) < 0)
		errx(KS_EXIT_TRANSPORT, "%s", e.msg);
	return c;
}

static void
close_client(struct ks_client *c)
{
	block_signals(SIG_BLOCK);
	sig_worker = 0;
	ks_client_close(c);
	block_signals(SIG_UNBLOCK);	/* a pending signal ends us here */
}

/* grep found nothing: 1, or 2 when its ROOT does not exist (the worker
 * answers both with no matches, as the reference does). */
static int
grep_none(struct ks_client *c, const struct ks_host_request *r)
{
	struct ks_buf b = { 0 };
	struct ks_err e;
	json_t *reply = NULL;
	char *text = NULL;
	size_t len;
	int rc = KS_EXIT_DENIED;

	if (ks_host_request_head(&b, "stat") < 0 ||
	    ks_host_request_field(&b, "path", "ROOT", r->argv[2]) < 0 ||
	    ks_json_raw(&b, "}") < 0)
		errx(KS_EXIT_TRANSPORT, "out of memory");
	if (ks_client_call(c, b.p, b.len, &text, &len, &e) < 0) {
		warnx("%s", e.msg);
		rc = KS_EXIT_TRANSPORT;
	} else if ((reply = json_loadb(text, len, 0, NULL)) != NULL &&
	    json_is_string(json_object_get(reply, "message"))) {
		ks_host_print_error(reply, r);
		rc = KS_EXIT_USAGE;
	}
	json_decref(reply);
	free(text);
	ks_buf_free(&b);
	return rc;
}

static int
one_request(struct ks_client *c, const struct ks_host_opts *o,
    const struct ks_host_request *r, const struct ks_buf *b)
{
	struct ks_err e;
	char *reply;
	size_t rlen;
	int rc;

	if (ks_client_call(c, b->p, b->len, &reply, &rlen, &e) < 0) {
		warnx("%s", e.msg);
		return e.code == KS_CODE_PROTOCOL ? KS_EXIT_USAGE :
		    KS_EXIT_TRANSPORT;
	}
	rc = ks_host_print_reply(reply, rlen, o, r);
	/* Where the operator finds it again, with the rule that decided. */
	if (rc == KS_EXIT_DENIED && o->audit != NULL &&
	    strstr(reply, "\"code\":\"policy_denied\"") != NULL)
		warnx("the denial is logged in %s", o->audit);
	free(reply);
	return rc < 0 ? grep_none(c, r) : rc;
}

/* A write too large for one frame, in parts (write_part); a progress
 * line on stderr when it is a terminal. */
static int
write_parts(struct ks_client *c, const struct ks_host_opts *o,
    const struct ks_host_request *r)
{
	bool tty = isatty(STDERR_FILENO);
	struct ks_buf b = { 0 };
	struct ks_err e;
	char *reply = NULL;
	size_t off = 0, n, rlen;
	int rc = KS_EXIT_OK;

	do {
		n = r->dlen - off < WRITE_PART ? r->dlen - off : WRITE_PART;
		b.len = 0;
		if (ks_host_request_head(&b, "write_part") < 0 ||
		    ks_host_request_field(&b, "path", "PATH", r->argv[1]) < 0 ||
		    ks_json_raw(&b, ",\"offset\":") < 0 ||
		    ks_json_u64(&b, off) < 0 || ks_json_raw(&b, off + n ==
		    r->dlen ? ",\"last\":true" : ",\"last\":false") < 0 ||
		    ks_json_raw(&b, ",\"content\":") < 0 ||
		    ks_json_bytes(&b, r->data + off, n) < 0 ||
		    ks_json_raw(&b, "}") < 0)
			errx(KS_EXIT_TRANSPORT, "out of memory");
		if (ks_client_call(c, b.p, b.len, &reply, &rlen, &e) < 0) {
			warnx("%s", e.msg);
			rc = KS_EXIT_TRANSPORT;
			break;
		}
		if (strncmp(reply, WRITE_PART_REPLY,
		    sizeof(WRITE_PART_REPLY) - 1) != 0) {
			if (tty)
				fputc('\n', stderr);
			rc = ks_host_print_reply(reply, rlen, o, r);
			free(reply);
			break;
		}
		if (o->json && off + n == r->dlen)
			printf("%.*s\n", (int)rlen, reply);
		free(reply);
		off += n;
		if (tty)
			fprintf(stderr, "\rhost-client: write %s: %zu of %zu "
			    "bytes%s", r->argv[1], off, r->dlen, off == r->dlen ?
			    "\n" : "");
	} while (off < r->dlen);
	ks_buf_free(&b);
	return rc;
}

int
host_client_main(int argc, char **argv)
{
	struct ks_host_opts o = { 0 };
	struct ks_host_request r = { 0 };
	struct ks_buf b = { 0 };
	struct ks_client *c;
	bool parts;
	int rc, frc;

	if ((rc = ks_host_options_parse(argc, argv, &o, &r)) >= 0 ||
	    r.cmd == NULL)
		return rc >= 0 ? rc : KS_EXIT_USAGE;
	if (o.policy_file != NULL && ks_host_options_policy(&o) < 0) {
		rc = KS_EXIT_USAGE;
		goto out;
	}
	if (o.audit != NULL && asprintf(&o.audit_env,
	    "KODA_FS_WORKER_AUDIT=%s", o.audit) < 0)
		errx(KS_EXIT_TRANSPORT, "out of memory");
	if (r.cmd->kind != NULL && strcmp(r.cmd->kind, "write") == 0 &&
	    (r.data = (unsigned char *)ks_read_file("-", &r.dlen)) == NULL)
		err(KS_EXIT_TRANSPORT, "reading stdin");
	parts = r.data != NULL && r.dlen > WRITE_PART;
	if (strcmp(r.argv[0], "pool") == 0) {
		rc = ks_host_batch_pool(&o);
		if ((frc = ks_applet_flush()) != KS_EXIT_OK && rc == KS_EXIT_OK)
			rc = frc;
		goto out;
	}
	if (!parts && (rc = ks_host_request_build(&r, &o, &b)) >= 0)
		goto out;
	c = open_client(&o);
	rc = r.cmd->kind == NULL ? ks_host_batch_run(c) : parts ?
	    write_parts(c, &o, &r) : one_request(c, &o, &r, &b);
	/* Output that did not reach its reader is a failure, grep's an
	 * error like any other. */
	if ((frc = ks_applet_flush()) != KS_EXIT_OK && rc <= KS_EXIT_DENIED)
		rc = strcmp(r.argv[0], "grep") == 0 ? KS_EXIT_USAGE : frc;
	close_client(c);
out:
	ks_buf_free(&b);
	free(r.data);
	free(o.policy);
	free(o.ca_bundle);
	free(o.audit_env);
	return rc;
}
