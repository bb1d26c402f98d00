/*
 * host_options: host-client's command line: the usage text, the option
 * table, the request named and its operands checked, the --policy file
 * read, and the worker's start options made from all of it.
 */
#include "host_client.h"

#include <err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/client.h"
#include "../src/err.h"
#include "../src/frame.h"
#include "../src/policy.h"

const char ks_host_usage_text[] =
    "usage: koda-sandbox host-client [--root DIR] [--policy FILE|-] "
    "[--worker BIN]\n"
    "         [--proxy-port N] [--connect SOCK] [--json] REQUEST [ARGS]\n"
    "         [--audit FILE] [--strict]\n"
    "requests: ping | read PATH [--max-bytes N] [--offset N] [--line N] "
    "[--lines N] |\n"
    "          write PATH | edit PATH OLD NEW [--all] | ls PATH |\n"
    "          glob PATTERN [ROOT] | grep PATTERN ROOT [--include GLOB] "
    "[-i] [-F] [-m N] |\n"
    "          stat PATH | get-env NAME... | shutdown | batch | "
    "pool [--size N]\n"
    "options may come anywhere before \"--\"; operands that begin with '-' "
    "go after it\n";

enum {
	OPT_ROOT = 0x200, OPT_POLICY, OPT_WORKER, OPT_PROXY, OPT_CONNECT,
	OPT_JSON, OPT_MAX_BYTES, OPT_INCLUDE, OPT_OFFSET, OPT_LINE, OPT_LINES,
	OPT_ALL, OPT_AUDIT, OPT_STRICT, OPT_SIZE,
};

static const struct ks_opt options[] = {
	{ "all", OPT_ALL, NULL },
	{ "audit", OPT_AUDIT, "a file" },
	{ "connect", OPT_CONNECT, "a socket" },
	{ "fixed-strings", 'F', NULL },
	{ "help", KS_OPT_HELP, NULL },
	{ "ignore-case", 'i', NULL },
	{ "include", OPT_INCLUDE, "a glob" },
	{ "json", OPT_JSON, NULL },
	{ "line", OPT_LINE, "a number" },
	{ "lines", OPT_LINES, "a number" },
	{ "max-bytes", OPT_MAX_BYTES, "a number" },
	{ "max-count", 'm', "a number" },
	{ "offset", OPT_OFFSET, "a number" },
	{ "policy", OPT_POLICY, "a file" },
	{ "proxy-port", OPT_PROXY, "a port" },
	{ "root", OPT_ROOT, "a path" },
	{ "size", OPT_SIZE, "a number" },
	{ "strict", OPT_STRICT, NULL },
	{ "version", KS_OPT_VERSION, NULL },
	{ "worker", OPT_WORKER, "a binary" },
	{ NULL, 0, NULL },
};

/* One option into o; returns -1 to go on, else an exit status. */
static int
set_option(struct ks_host_opts *o, int key, const char *v)
{
	char *end;
	long port;

	switch (key) {
	case OPT_ROOT:
		o->root = v;
		break;
	case OPT_POLICY:
		o->policy_file = v;
		break;
	case OPT_WORKER:
		o->worker = v;
		break;
	case OPT_CONNECT:
		o->connect = v;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_MAX_BYTES:
		o->max_bytes = v;
		break;
	case OPT_INCLUDE:
		o->include = v;
		break;
	case OPT_OFFSET:
		o->offset = v;
		break;
	case OPT_LINE:
		o->line = v;
		break;
	case OPT_LINES:
		o->lines = v;
		break;
	case 'm':
		o->max_count = v;
		break;
	case 'i':
		o->icase = true;
		break;
	case 'F':
		o->fixed = true;
		break;
	case OPT_ALL:
		o->all = true;
		break;
	case OPT_AUDIT:
		o->audit = v;
		break;
	case OPT_STRICT:
		o->strict = true;
		break;
	case OPT_SIZE:
		o->size = v;
		break;
	case OPT_PROXY:
		port = strtol(v, &end, 10);
		if (*end != '\0' || *v == '\0' || port < 1 || port > 65535)
			return ks_host_usage("--proxy-port %s: not a port "
			    "from 1 to 65535", v);
		o->proxy_port = (int)port;
		break;
	case KS_OPT_HELP:
		return ks_applet_help(ks_host_usage_text);
	default:
		return ks_applet_version();
	}
	return -1;
}

/* An option given to a request it does not go with: its usage error,
 * else -1. */
static int
misplaced(const struct ks_host_opts *o, const char *req)
{
	const struct {
		bool given;
		const char *opt, *with;
	} t[] = {
		{ o->max_bytes != NULL, "--max-bytes", "read" },
		{ o->offset != NULL, "--offset", "read" },
		{ o->line != NULL, "--line", "read" },
		{ o->lines != NULL, "--lines", "read" },
		{ o->include != NULL, "--include", "grep" },
		{ o->icase, "-i", "grep" },
		{ o->fixed, "-F", "grep" },
		{ o->max_count != NULL, "-m", "grep" },
		{ o->all, "--all", "edit" },
		{ o->size != NULL, "--size", "pool" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].given && strcmp(req, t[i].with) != 0)
			return ks_host_usage("%s goes with %s only", t[i].opt,
			    t[i].with);
	return -1;
}

/* The request of the operands, checked; returns -1 to go on, else an
 * exit status. */
static int
take_request(struct ks_host_request *r, const struct ks_host_opts *o, int n,
    char **ops)
{
	char alt[64];
	int rc;

	if (n == 0)
		return ks_host_usage("no request given");
	r->argc = n;
	r->argv = ops;
	if ((r->cmd = ks_host_request_command(ops[0])) == NULL) {
		snprintf(alt, sizeof(alt), "%.60s", ops[0]);
		for (char *s = alt; (s = strchr(s, '_')) != NULL; s++)
			*s = '-';
		return ks_host_request_command(alt) != NULL ?
		    ks_host_usage("unknown request: %s (did you mean %s?)",
		    ops[0], alt) : ks_host_usage("unknown request: %s", ops[0]);
	}
	if (n - 1 < r->cmd->min || (r->cmd->max >= 0 && n - 1 > r->cmd->max))
		return r->cmd->max == 0 ? ks_host_usage("%s takes no operands; "
		    "got %d", ops[0], n - 1) : ks_host_usage("%s takes %s; got "
		    "%d operand%s", ops[0], r->cmd->operands, n - 1, n == 2 ?
		    "" : "s");
	if ((rc = misplaced(o, ops[0])) >= 0)
		return rc;
	/* stdin cannot carry both the policy and the request's input. */
	if (o->policy_file != NULL && strcmp(o->policy_file, "-") == 0 &&
	    (strcmp(ops[0], "write") == 0 || strcmp(ops[0], "batch") == 0))
		return ks_host_usage("--policy - cannot be used with %s, which "
		    "reads stdin", ops[0]);
	if (strcmp(ops[0], "glob") == 0 && n == 2 &&
	    getcwd(r->cwd, sizeof(r->cwd)) == NULL)
		err(KS_EXIT_USAGE, "getcwd");
	return -1;
}

int
ks_host_options_parse(int argc, char **argv, struct ks_host_opts *o,
    struct ks_host_request *r)
{
	struct ks_getopt g;
	int c, rc;

	ks_applet_opt_init(&g, argc, argv, options);
	while ((c = ks_applet_opt_next(&g)) > 0)
		if ((rc = set_option(o, c, g.arg)) >= 0)
			return rc;
	if (c < 0)
		return ks_host_usage("%s", g.why);
	return take_request(r, o, g.nops, g.argv + 1);
}

int
ks_host_options_policy(struct ks_host_opts *o)
{
	struct ks_strv unknown = { 0 };
	struct ks_policy p;
	struct ks_err e;
	char text[512];
	size_t len;
	bool bad;

	if ((o->policy = ks_read_file(o->policy_file, &len)) == NULL) {
		warn("--policy %s", o->policy_file);
		return -1;
	}
	if (ks_policy_parse(o->policy, len, &p, NULL, &unknown, &e) < 0) {
		warnx("--policy %s: %s", o->policy_file, e.msg);
		ks_strv_free(&unknown);
		return -1;
	}
	/* The worker accepts unknown keys (and warns); --strict refuses. */
	for (size_t i = 0; i < unknown.n; i++) {
		ks_policy_unknown_text(unknown.v[i], text, sizeof(text));
		warnx("--policy %s: %s%s", o->policy_file, text, o->strict ?
		    " (--strict: refused)" : "");
	}
	bad = o->strict && unknown.n > 0;
	ks_strv_free(&unknown);
	if (bad) {
		ks_policy_free(&p);
		return -1;
	}
	if (p.has_mitm && (o->ca_bundle = strdup(p.mitm_ca_bundle)) == NULL)
		err(KS_EXIT_TRANSPORT, "strdup");
	ks_policy_free(&p);
	return 0;
}

void
ks_host_options_worker(const struct ks_host_opts *o,
    struct ks_client_opts *co)
{
	static const char *audit_env[2];

	*co = (struct ks_client_opts){ .worker = o->worker, .root = o->root,
	    .policy_json = o->policy, .proxy_port = o->proxy_port,
	    .ca_bundle = o->ca_bundle };
	audit_env[0] = o->audit_env;
	co->env = o->audit_env != NULL ? audit_env : NULL;
}
