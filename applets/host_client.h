/*
 * host_client: what the files of the host-client applet share: its
 * options, the request of its command line, and the calls between them:
 * host_options (arguments and the policy file), host_request (a
 * request's JSON), host_print (replies for a person or a script),
 * host_batch (batch and pool) and host_client (the worker, main).
 */
#ifndef KS_HOST_CLIENT_H
#define KS_HOST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "applets.h"

struct ks_buf;
struct ks_client;
struct ks_client_opts;
struct json_t;

/* host-client's usage text (host_options.c). */
extern const char ks_host_usage_text[];

/* A usage error: the reason (printf-formatted), then the usage, on
 * stderr; returns KS_EXIT_USAGE. */
#define ks_host_usage(...) ks_applet_usage(ks_host_usage_text, __VA_ARGS__)

struct ks_host_opts {
	const char *root, *policy_file, *worker, *connect;
	const char *max_bytes, *include;
	const char *offset, *line, *lines, *max_count, *audit, *size;
	bool all, icase, fixed, strict;
	char *audit_env;	/* KODA_FS_WORKER_AUDIT=... for the worker */
	int proxy_port;
	bool json;
	char *policy;		/* the policy text, read from policy_file */
	char *ca_bundle;	/* its net.mitm.ca_bundle */
};

/* A request name: its wire kind and which field each operand fills. */
struct ks_host_command {
	const char *name, *kind;	/* kind NULL: batch or pool */
	int min, max;		/* operands; max -1: any number */
	const char *operands;	/* for messages */
	const char *fields[3];	/* the JSON field of operand 1, 2, 3 */
	const char *labels[3];	/* their names in messages */
};

/* A request of the command line: its name and operands. */
struct ks_host_request {
	const struct ks_host_command *cmd;
	int argc;
	char **argv;		/* argv[0]: the request's name */
	char cwd[4096];		/* glob's default ROOT */
	unsigned char *data;	/* write: standard input */
	size_t dlen;
};

/*
 * Options and the request of argv into o and r (argv's strings stay
 * argv's). Returns -1 to go on, else an exit status (help, version, a
 * usage error).
 */
int ks_host_options_parse(int argc, char **argv, struct ks_host_opts *o,
    struct ks_host_request *r);

/* Reads and checks o->policy_file into o->policy, and keeps its CA
 * bundle in o->ca_bundle (both o's to free). Returns 0, or -1 with the
 * reason printed. */
int ks_host_options_policy(struct ks_host_opts *o);

/* How to start a worker, from the options (co's strings stay o's). */
void ks_host_options_worker(const struct ks_host_opts *o,
    struct ks_client_opts *co);

/* The command called name, or NULL. */
const struct ks_host_command *ks_host_request_command(const char *name);

/*
 * Request pieces, each appended to b: the head ({"kind":"KIND"), and one
 * string field (what names it in messages). Return 0, -1 when out of
 * memory, or -2 when refused (the reason printed).
 */
int ks_host_request_head(struct ks_buf *b, const char *kind);
int ks_host_request_field(struct ks_buf *b, const char *name,
    const char *what, const char *v);

/* r's whole request into b, before any worker is started; returns -1 to
 * go on (batch: nothing built), else an exit status. */
int ks_host_request_build(const struct ks_host_request *r,
    const struct ks_host_opts *o, struct ks_buf *b);

/* Shows the reply text[0..len) to r as o asks; returns the exit status
 * it means (grep: -1 when nothing matched, for the caller to tell "none"
 * from "no root"). */
int ks_host_print_reply(const char *text, size_t len,
    const struct ks_host_opts *o, const struct ks_host_request *r);

/* An error reply's message on stderr, with the path it is about. */
void ks_host_print_error(struct json_t *reply,
    const struct ks_host_request *r);

/* batch: one request per input line, one reply per output line, over
 * c. Returns the exit status. */
int ks_host_batch_run(struct ks_client *c);

/* pool: sessions of batch lines from a pool of ready workers, started
 * as o says. Returns the exit status. */
int ks_host_batch_pool(const struct ks_host_opts *o);

#endif
