/*
 * client: the host side of the worker (SPEC §6): spawn a worker on a
 * fresh socket, wait for it, talk to it one request at a time, stop it.
 * The core's C API for embedding; the host-client applet is built on it.
 * Nothing here prints or exits; every failure comes back in a ks_err.
 */
#ifndef KS_CLIENT_H
#define KS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ks_err;
struct ks_strv;
struct ks_client;

/* How to start a worker. Zero-initialise, then set what you need. */
struct ks_client_opts {
	/* The worker binary. NULL: $KODA_FS_WORKER_BIN, else this very
	 * executable (/proc/self/exe) started as koda-fs-worker. A name
	 * without a slash is looked up in $PATH, as execvp(3) does. */
	const char *worker;
	const char *root;		/* --root DIR, or NULL (legacy) */
	const char *policy_json;	/* KODA_FS_WORKER_POLICY, or NULL */
	int proxy_port;			/* 1..65535 sets the proxy variables */
	const char *ca_bundle;		/* with a proxy: the CA variables */
	const char *const *env;		/* more NAME=VALUE, NULL-terminated */
	int ready_ms;			/* wait for "ready" (0: 5000) */
	int connect_ms;			/* wait to connect (0: 2000) */
};

/*
 * Spawns a worker on $TMPDIR/koda-fs-worker-PID-N.sock and connects to
 * it. Returns 0 and *out (release with ks_client_close), or a negative
 * errno with err set (KS_CODE_INTERNAL; the message names the binary and,
 * when it exited, its status; -ENOENT for a name not found in $PATH).
 * Nothing is left behind on failure. The worker starts with an empty
 * signal mask and gets SIGKILL when its parent dies (PR_SET_PDEATHSIG):
 * in a threaded host that is when the thread that called this exits,
 * so spawn from a thread that lives as long as the worker should.
 */
int ks_client_spawn(const struct ks_client_opts *opts, struct ks_client **out,
    struct ks_err *err);

/* Connects to a worker already listening on sock; closing leaves that
 * worker and its socket alone. */
int ks_client_connect(const char *sock, struct ks_client **out,
    struct ks_err *err);

/*
 * Sends one request (req[0..len), JSON) and waits for its reply. Returns
 * 0 and *reply (NUL-terminated, caller frees) and *rlen, or a negative
 * errno with err set when the transport failed (the worker closed the
 * connection, died, or sent a malformed frame): the client is then
 * unusable but must still be closed.
 */
int ks_client_call(struct ks_client *c, const char *req, size_t len,
    char **reply, size_t *rlen, struct ks_err *err);

/*
 * Stops the worker it spawned (a shutdown request, then SIGTERM and
 * SIGKILL after a short grace), reaps it and removes the socket file;
 * for a connected client, closes the connection only. Returns the
 * worker's raw wait status (0 for a connected client); c is freed. NULL
 * is fine.
 */
int ks_client_close(struct ks_client *c);

/* True when an idle connection shows nothing from the worker: no reply
 * pending, no end of stream (a worker that died shows one). One poll(2),
 * no round trip. */
bool ks_client_idle_ok(const struct ks_client *c);

/* The socket path, and the worker's pid (0 when not spawned here). */
const char *ks_client_socket(const struct ks_client *c);
pid_t ks_client_pid(const struct ks_client *c);

/*
 * Appends to out (as NAME=VALUE) the proxy variables for port: HTTP_PROXY,
 * HTTPS_PROXY, http_proxy, https_proxy, NO_PROXY, no_proxy, and with a
 * ca_bundle SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE,
 * CURL_CA_BUNDLE. Returns 0 or -ENOMEM.
 */
int ks_client_proxy_env(int port, const char *ca_bundle, struct ks_strv *out);

#endif
