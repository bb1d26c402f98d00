/*
 * host-client: spawn a worker (or connect to one), send one request or a
 * batch, print the replies for a person or a script.
 */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets.h"
#include "../src/client.h"
#include "../src/err.h"
#include "../src/frame.h"
#include "../src/policy.h"
#include "../src/proto.h"

struct opts {
	const char *root, *policy_file, *worker, *connect;
	int proxy_port;
	bool json;
	char *policy;		/* the policy text, read from policy_file */
	char *ca_bundle;	/* its net.mitm.ca_bundle */
};

static int
usage_to(FILE *f)
{
	fprintf(f, "usage: koda-sandbox host-client [--root DIR] "
	    "[--policy FILE|-] [--worker BIN]\n"
	    "         [--proxy-port N] [--connect SOCK] [--json] REQUEST "
	    "[ARGS]\n"
	    "requests: ping | read PATH [--max-bytes N] | write PATH | "
	    "edit PATH OLD NEW |\n"
	    "          glob PATTERN [ROOT] | grep PATTERN ROOT [--include "
	    "GLOB] | stat PATH |\n"
	    "          get-env NAME... | shutdown | batch\n");
	return KS_EXIT_USAGE;
}

static int
usage(void)
{
	return usage_to(stderr);
}

/* Reads and checks the policy; keeps its CA bundle for the proxy. */
static int
load_policy(struct opts *o)
{
	struct ks_policy p;
	struct ks_err e;
	size_t len;

	if ((o->policy = ks_read_file(o->policy_file, &len)) == NULL) {
		warn("--policy %s", o->policy_file);
		return -1;
	}
	if (ks_policy_parse(o->policy, len, &p, NULL, NULL, &e) < 0) {
		warnx("--policy %s: %s", o->policy_file, e.msg);
		return -1;
	}
	if (p.has_mitm && (o->ca_bundle = strdup(p.mitm_ca_bundle)) == NULL)
		err(KS_EXIT_TRANSPORT, "strdup");
	ks_policy_free(&p);
	return 0;
}

/* Request builders: each appends one request's JSON to b. */
static int
put_field(struct ks_buf *b, const char *name, const char *v)
{
	if (ks_json_raw(b, ",\"") < 0 || ks_json_raw(b, name) < 0 ||
	    ks_json_raw(b, "\":") < 0)
		return -1;
	return ks_json_str(b, v, strlen(v));
}

static int
put_head(struct ks_buf *b, const char *kind)
{
	return ks_json_raw(b, "{\"kind\":\"") < 0 || ks_json_raw(b, kind) < 0 ||
	    ks_json_raw(b, "\"") < 0 ? -1 : 0;
}

/* Pulls "--flag VALUE" out of argv (it may come after the operands). */
static const char *
take_flag(int *argc, char **argv, const char *flag)
{
	const char *v;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], flag) != 0)
			continue;
		if (i + 1 >= *argc)
			errx(KS_EXIT_USAGE, "%s needs a value", flag);
		v = argv[i + 1];
		memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 2) *
		    sizeof(*argv));
		*argc -= 2;
		return v;
	}
	return NULL;
}

static int
build_read(struct ks_buf *b, int argc, char **argv)
{
	const char *max = take_flag(&argc, argv, "--max-bytes");
	char *end;

	if (argc != 2)
		return -2;
	if (put_head(b, "read") < 0 || put_field(b, "path", argv[1]) < 0)
		return -1;
	if (max != NULL) {
		errno = 0;
		unsigned long long v = strtoull(max, &end, 10);
		if (errno != 0 || *end != '\0' || *max == '-' || *max == '\0')
			errx(KS_EXIT_USAGE, "--max-bytes %s: not a byte count",
			    max);
		if (ks_json_raw(b, ",\"max_bytes\":") < 0 ||
		    ks_json_u64(b, v) < 0)
			return -1;
	}
	return 0;
}

static int
build_write(struct ks_buf *b, int argc, char **argv)
{
	size_t len;
	char *data;
	int rc;

	if (argc != 2)
		return -2;
	if ((data = ks_read_file("-", &len)) == NULL)
		err(KS_EXIT_TRANSPORT, "reading stdin");
	rc = put_head(b, "write") < 0 || put_field(b, "path", argv[1]) < 0 ||
	    ks_json_raw(b, ",\"content\":") < 0 ||
	    ks_json_bytes(b, (unsigned char *)data, len) < 0 ? -1 : 0;
	free(data);
	return rc;
}

static int
build_edit(struct ks_buf *b, int argc, char **argv)
{
	if (argc != 4)
		return -2;
	return put_head(b, "edit") < 0 || put_field(b, "path", argv[1]) < 0 ||
	    put_field(b, "old_string", argv[2]) < 0 ||
	    put_field(b, "new_string", argv[3]) < 0 ? -1 : 0;
}

static int
build_glob(struct ks_buf *b, int argc, char **argv)
{
	char cwd[4096];

	if (argc < 2 || argc > 3)
		return -2;
	if (argc == 2 && getcwd(cwd, sizeof(cwd)) == NULL)
		err(KS_EXIT_USAGE, "getcwd");
	return put_head(b, "glob") < 0 || put_field(b, "pattern", argv[1]) < 0 ||
	    put_field(b, "root", argc == 3 ? argv[2] : cwd) < 0 ? -1 : 0;
}

static int
build_grep(struct ks_buf *b, int argc, char **argv)
{
	const char *inc = take_flag(&argc, argv, "--include");

	if (argc != 3)
		return -2;
	return put_head(b, "grep") < 0 || put_field(b, "pattern", argv[1]) < 0 ||
	    put_field(b, "root", argv[2]) < 0 ||
	    (inc != NULL && put_field(b, "include", inc) < 0) ? -1 : 0;
}

static int
build_stat(struct ks_buf *b, int argc, char **argv)
{
	if (argc != 2)
		return -2;
	return put_head(b, "stat") < 0 || put_field(b, "path", argv[1]) < 0 ?
	    -1 : 0;
}

static int
build_get_env(struct ks_buf *b, int argc, char **argv)
{
	if (argc < 2)
		return -2;
	if (put_head(b, "get_env") < 0 || ks_json_raw(b, ",\"names\":[") < 0)
		return -1;
	for (int i = 1; i < argc; i++)
		if ((i > 1 && ks_json_raw(b, ",") < 0) ||
		    ks_json_str(b, argv[i], strlen(argv[i])) < 0)
			return -1;
	return ks_json_raw(b, "]") < 0 ? -1 : 0;
}

static int
build_bare(struct ks_buf *b, int argc, char **argv)
{
	if (argc != 1)
		return -2;
	return put_head(b, argv[0]) < 0 ? -1 : 0;
}

static const struct command {
	const char *name;
	int (*build)(struct ks_buf *, int, char **);
} commands[] = {
	{ "edit", build_edit }, { "get-env", build_get_env },
	{ "glob", build_glob }, { "grep", build_grep },
	{ "ping", build_bare }, { "read", build_read },
	{ "shutdown", build_bare }, { "stat", build_stat },
	{ "write", build_write },
};

static void
print_list(json_t *reply, const char *key)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(reply, key), i, e) {
		if (json_is_string(e)) {
			fwrite(json_string_value(e), 1, json_string_length(e),
			    stdout);
			putchar('\n');
			continue;
		}
		fwrite(json_string_value(json_object_get(e, "path")), 1,
		    json_string_length(json_object_get(e, "path")), stdout);
		printf(":%lld:", (long long)json_integer_value(
		    json_object_get(e, "line")));
		fwrite(json_string_value(json_object_get(e, "text")), 1,
		    json_string_length(json_object_get(e, "text")), stdout);
		putchar('\n');
	}
	if (json_is_true(json_object_get(reply, "truncated")))
		warnx("more results than fit in one reply: the list is cut");
}

/* Prints a success reply the way a person reads it. */
static void
print_plain(json_t *reply, const char *kind, int argc, char **argv)
{
	json_t *e;
	size_t i;

	if (strcmp(kind, "pong") == 0 && strcmp(argv[0], "ping") == 0)
		puts("pong");
	else if (strcmp(kind, "read") == 0)
		json_array_foreach(json_object_get(reply, "content"), i, e)
			putchar((int)json_integer_value(e));
	else if (strcmp(kind, "glob") == 0)
		print_list(reply, "paths");
	else if (strcmp(kind, "grep") == 0)
		print_list(reply, "matches");
	else if (strcmp(kind, "stat") == 0)
		printf("size %lld dir %s symlink %s\n", (long long)
		    json_integer_value(json_object_get(reply, "size")),
		    json_is_true(json_object_get(reply, "is_dir")) ? "yes" : "no",
		    json_is_true(json_object_get(reply, "is_symlink")) ? "yes" :
		    "no");
	else if (strcmp(kind, "get_env") == 0)
		json_array_foreach(json_object_get(reply, "values"), i, e) {
			if ((int)i + 1 >= argc)
				break;
			if (json_is_string(e))
				printf("%s=%s\n", argv[i + 1], json_string_value(e));
			else
				printf("%s\n", argv[i + 1]);
		}
}

/* Shows one reply; returns the exit status it means. */
static int
show(const char *text, size_t len, bool json, int argc, char **argv)
{
	json_t *reply = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	const char *kind;
	int rc = KS_EXIT_OK;

	if (reply == NULL) {
		warnx("the worker sent a reply that is not JSON");
		return KS_EXIT_TRANSPORT;
	}
	kind = json_string_value(json_object_get(reply, "kind"));
	if (json)
		printf("%s\n", text);
	if (kind != NULL && strcmp(kind, "error") == 0) {
		warnx("%s", json_string_value(json_object_get(reply, "message")));
		rc = KS_EXIT_DENIED;
	} else if (!json && kind != NULL) {
		print_plain(reply, kind, argc, argv);
	}
	json_decref(reply);
	return rc;
}

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

/* batch: one request per input line, one reply per output line. */
static int
batch(struct ks_client *c)
{
	char *line = NULL, *reply;
	size_t cap = 0, rlen, n = 0;
	struct ks_buf b = { 0 };
	struct ks_req req;
	struct ks_err e;
	ssize_t len;
	int rc;

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		n++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (ks_req_decode(line, (size_t)len, &req, &e) < 0) {
			batch_error(&b, n, &e);
			continue;
		}
		ks_req_free(&req);
		if ((rc = ks_client_call(c, line, (size_t)len, &reply, &rlen,
		    &e)) == -EMSGSIZE) {
			batch_error(&b, n, &e);	/* not sent: go on */
			continue;
		}
		if (rc < 0) {
			fflush(stdout);
			warnx("batch line %zu: %s", n, e.msg);
			free(line);
			ks_buf_free(&b);
			return KS_EXIT_TRANSPORT;
		}
		fwrite(reply, 1, rlen, stdout);
		putchar('\n');
		free(reply);
	}
	free(line);
	ks_buf_free(&b);
	return KS_EXIT_OK;
}

/* Global options, up to the request name; returns its index. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char **dst = strcmp(argv[i], "--root") == 0 ? &o->root :
		    strcmp(argv[i], "--policy") == 0 ? &o->policy_file :
		    strcmp(argv[i], "--worker") == 0 ? &o->worker :
		    strcmp(argv[i], "--connect") == 0 ? &o->connect : NULL;
		char *end;

		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			usage_to(stdout);
			exit(KS_EXIT_OK);
		}
		if (i + 1 >= argc)
			errx(KS_EXIT_USAGE, "%s needs a value", argv[i]);
		if (strcmp(argv[i], "--proxy-port") == 0) {
			long port = strtol(argv[++i], &end, 10);

			if (*end != '\0' || port < 1 || port > 65535)
				errx(KS_EXIT_USAGE, "--proxy-port %s: not a port "
				    "from 1 to 65535", argv[i]);
			o->proxy_port = (int)port;
			continue;
		}
		if (dst == NULL) {
			warnx("unknown option %s", argv[i]);
			exit(usage());
		}
		*dst = argv[++i];
	}
	return i;
}

static struct ks_client *
open_client(const struct opts *o)
{
	struct ks_client_opts co = { 0 };
	struct ks_client *c;
	struct ks_err e;

	if (o->connect != NULL) {
		if (ks_client_connect(o->connect, &c, &e) < 0)
			errx(KS_EXIT_TRANSPORT, "%s", e.msg);
		return c;
	}
	co.worker = o->worker;
	co.root = o->root;
	co.policy_json = o->policy;
	co.proxy_port = o->proxy_port;
	co.ca_bundle = o->ca_bundle;
	if (ks_client_spawn(&co, &c, &e) < 0)
		errx(KS_EXIT_TRANSPORT, "%s", e.msg);
	return c;
}

static int
one_request(struct ks_client *c, const struct opts *o, int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct ks_buf b = { 0 };
	struct ks_err e;
	char *reply;
	size_t rlen;
	int rc;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if ((rc = cmd->build(&b, argc, argv)) == -2 || rc < 0 ||
	    ks_json_raw(&b, "}") < 0) {
		ks_buf_free(&b);
		if (rc == -2)
			return usage();
		errx(KS_EXIT_TRANSPORT, "out of memory");
	}
	if (ks_client_call(c, b.p, b.len, &reply, &rlen, &e) < 0) {
		warnx("%s", e.msg);
		ks_buf_free(&b);
		return e.code == KS_CODE_PROTOCOL ? KS_EXIT_USAGE :
		    KS_EXIT_TRANSPORT;
	}
	rc = show(reply, rlen, o->json, argc, argv);
	free(reply);
	ks_buf_free(&b);
	return rc;
}

static bool
known(const char *name)
{
	if (strcmp(name, "batch") == 0)
		return true;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return true;
	return false;
}

int
host_client_main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct ks_client *c;
	int i = parse_opts(argc, argv, &o), rc;

	if (i >= argc || !known(argv[i]))
		return usage();
	/* stdin cannot carry both the policy and the request's input. */
	if (o.policy_file != NULL && strcmp(o.policy_file, "-") == 0 &&
	    (strcmp(argv[i], "write") == 0 || strcmp(argv[i], "batch") == 0))
		errx(KS_EXIT_USAGE, "--policy - cannot be used with %s, which "
		    "reads stdin", argv[i]);
	if (o.policy_file != NULL && load_policy(&o) < 0)
		return KS_EXIT_USAGE;
	c = open_client(&o);
	if (strcmp(argv[i], "batch") == 0)
		rc = argc - i == 1 ? batch(c) : usage();
	else
		rc = one_request(c, &o, argc - i, argv + i);
	fflush(stdout);
	ks_client_close(c);
	free(o.policy);
	free(o.ca_bundle);
	return rc;
}
