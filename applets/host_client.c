/*
 * host-client: spawn a worker (or connect to one), send one request or a
 * batch, print the replies for a person or a script.
 */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "applets.h"
#include "../src/client.h"
#include "../src/err.h"
#include "../src/frame.h"
#include "../src/policy.h"
#include "../src/pool.h"
#include "../src/proto.h"

static const char usage_text[] =
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

struct opts {
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

/* A request of the command line: its name and operands. */
struct request {
	const struct command *cmd;
	int argc;
	char **argv;		/* argv[0]: the request's name */
	char cwd[4096];		/* glob's default ROOT */
	unsigned char *data;	/* write: standard input */
	size_t dlen;
};

/* A write larger than this goes in parts (write_part): one frame holds
 * 262,137 bytes whatever they are. */
#define WRITE_PART (192u << 10)
#define WRITE_PART_REPLY "{\"kind\":\"write_part\""

/* A request name: its wire kind and which field each operand fills. */
struct command {
	const char *name, *kind;
	int min, max;		/* operands; max -1: any number */
	const char *operands;	/* for messages */
	const char *fields[3];	/* the JSON field of operand 1, 2, 3 */
	const char *labels[3];	/* their names in messages */
};

/* The worker that a signal must stop before host-client ends. */
static volatile sig_atomic_t sig_worker;
static char sig_sock[128];

#define usage(...) ks_applet_usage(usage_text, __VA_ARGS__)

/* Reads and checks the policy; keeps its CA bundle for the proxy. */
static int
load_policy(struct opts *o)
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

/* s with every byte that is not part of valid UTF-8 shown as \xNN, cut
 * with "..." to fit out. */
static void
escape_bytes(const char *s, char *out, size_t size)
{
	size_t i = 0, len = strlen(s), k = 0, n;

	for (; i < len && k + 8 < size; i += n) {
		for (n = 1; n <= 4 && i + n <= len; n++)
			if (ks_utf8_valid(s + i, n))
				break;
		if (n > 4 || i + n > len) {
			k += (size_t)snprintf(out + k, size - k, "\\x%02x",
			    (unsigned char)s[i]);
			n = 1;
		} else {
			memcpy(out + k, s + i, n);
			k += n;
		}
	}
	snprintf(out + k, size - k, "%s", i < len ? "..." : "");
}

/* JSON text is UTF-8: a name that is not cannot be sent, and a worker
 * given malformed JSON would end the connection. */
static int
check_utf8(const char *what, const char *s)
{
	char shown[600];

	if (ks_utf8_valid(s, strlen(s)))
		return 0;
	escape_bytes(s, shown, sizeof(shown));
	warnx("%s '%s' is not valid UTF-8: the protocol's JSON cannot carry "
	    "it, so it was not sent", what, shown);
	return -1;
}

/* Request pieces: each appends to b; -1: out of memory, -2: refused
 * (the reason printed). */
static int
put_field(struct ks_buf *b, const char *name, const char *what,
    const char *v)
{
	if (check_utf8(what, v) < 0)
		return -2;
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

static const struct command commands[] = {
	{ "batch", NULL, 0, 0, "", { NULL }, { NULL } },
	{ "edit", "edit", 3, 3, "PATH OLD NEW",
	    { "path", "old_string", "new_string" }, { "PATH", "OLD", "NEW" } },
	{ "get-env", "get_env", 1, -1, "NAME...", { NULL }, { NULL } },
	{ "glob", "glob", 1, 2, "PATTERN [ROOT]", { "pattern", "root" },
	    { "PATTERN", "ROOT" } },
	{ "grep", "grep", 2, 2, "PATTERN ROOT", { "pattern", "root" },
	    { "PATTERN", "ROOT" } },
	{ "ls", "list_dir", 1, 1, "PATH", { "path" }, { "PATH" } },
	{ "ping", "ping", 0, 0, "", { NULL }, { NULL } },
	{ "pool", NULL, 0, 0, "", { NULL }, { NULL } },
	{ "read", "read", 1, 1, "PATH", { "path" }, { "PATH" } },
	{ "shutdown", "shutdown", 0, 0, "", { NULL }, { NULL } },
	{ "stat", "stat", 1, 1, "PATH", { "path" }, { "PATH" } },
	{ "write", "write", 1, 1, "PATH", { "path" }, { "PATH" } },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* A number field from option opt's value v (NULL: none). */
static int
put_u64(struct ks_buf *b, const char *field, const char *opt, const char *v)
{
	unsigned long long n;
	char *end;

	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || *v == '-' || *v == '\0') {
		usage("%s %s: not a %s", opt, v, strcmp(field, "max_bytes") ==
		    0 ? "byte count" : "number");
		return -2;
	}
	return ks_json_raw(b, ",\"") < 0 || ks_json_raw(b, field) < 0 ||
	    ks_json_raw(b, "\":") < 0 || ks_json_u64(b, n) < 0 ? -1 : 0;
}

/* read's range options. */
static int
put_read(struct ks_buf *b, const struct opts *o)
{
	int rc;

	if ((rc = put_u64(b, "max_bytes", "--max-bytes", o->max_bytes)) < 0 ||
	    (rc = put_u64(b, "offset", "--offset", o->offset)) < 0 ||
	    (rc = put_u64(b, "line", "--line", o->line)) < 0)
		return rc;
	return put_u64(b, "lines", "--lines", o->lines);
}

/* grep's options. */
static int
put_grep(struct ks_buf *b, const struct opts *o)
{
	int rc;

	if (o->include != NULL && (rc = put_field(b, "include",
	    "--include GLOB", o->include)) < 0)
		return rc;
	if ((o->icase && ks_json_raw(b, ",\"case_insensitive\":true") < 0) ||
	    (o->fixed && ks_json_raw(b, ",\"fixed_strings\":true") < 0))
		return -1;
	return put_u64(b, "max_matches", "-m", o->max_count);
}

/* write's content: all of standard input (read before the request is
 * built; a large one goes in parts). */
static int
put_stdin(struct ks_buf *b, const struct request *r)
{
	return ks_json_raw(b, ",\"content\":") < 0 ||
	    ks_json_bytes(b, r->data, r->dlen) < 0 ? -1 : 0;
}

/* get_env's names: every operand. */
static int
put_names(struct ks_buf *b, const struct request *r)
{
	for (int i = 1; i < r->argc; i++)
		if (check_utf8("NAME", r->argv[i]) < 0)
			return -2;
	if (ks_json_raw(b, ",\"names\":[") < 0)
		return -1;
	for (int i = 1; i < r->argc; i++)
		if ((i > 1 && ks_json_raw(b, ",") < 0) ||
		    ks_json_str(b, r->argv[i], strlen(r->argv[i])) < 0)
			return -1;
	return ks_json_raw(b, "]") < 0 ? -1 : 0;
}

/* The request's fields after its kind: the operands, then what a
 * request takes from elsewhere. -1: out of memory, -2: refused (the
 * reason printed). */
static int
put_fields(struct ks_buf *b, const struct request *r, const struct opts *o)
{
	const struct command *c = r->cmd;
	const char *k = c->kind;
	int rc = 0;

	for (int i = 1; i < r->argc && i <= 3 && c->fields[i - 1] != NULL; i++)
		if ((rc = put_field(b, c->fields[i - 1], c->labels[i - 1],
		    r->argv[i])) < 0)
			return rc;
	if (strcmp(k, "read") == 0)
		rc = put_read(b, o);
	else if (strcmp(k, "write") == 0)
		rc = put_stdin(b, r);
	else if (strcmp(k, "edit") == 0 && o->all)
		rc = ks_json_raw(b, ",\"replace_all\":true") < 0 ? -1 : 0;
	else if (strcmp(k, "get_env") == 0)
		rc = put_names(b, r);
	else if (strcmp(k, "glob") == 0 && r->argc == 2)
		rc = put_field(b, "root", "the working directory", r->cwd);
	else if (strcmp(k, "grep") == 0)
		rc = put_grep(b, o);
	return rc;
}

/* Writes s[0..len) to stdout. */
static void
out(const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
}

static const char *
str(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	*len = json_string_length(v);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void
print_paths(json_t *list)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		out(json_string_value(e), json_string_length(e));
		putchar('\n');
	}
}

/* The index after the last match of the file of list[i]. */
static size_t
file_end(json_t *list, size_t i, size_t n)
{
	size_t plen, qlen, j;
	const char *p = str(json_array_get(list, i), "path", &plen), *q;

	for (j = i + 1; j < n; j++) {
		q = str(json_array_get(list, j), "path", &qlen);
		if (qlen != plen || memcmp(p, q, plen) != 0)
			break;
	}
	return j;
}

/* grep's matches as path:line:text, except that a file whose matching
 * lines hold NUL bytes is one line, as rg says it. */
static void
print_matches(json_t *list)
{
	size_t n = json_array_size(list), i, j, k, len;
	const char *p, *t;
	json_t *e;

	for (i = 0; i < n; i = j) {
		j = file_end(list, i, n);
		for (k = i; k < j; k++) {
			t = str(json_array_get(list, k), "text", &len);
			if (memchr(t, '\0', len) != NULL)
				break;
		}
		p = str(json_array_get(list, i), "path", &len);
		if (k < j) {
			out(p, len);
			printf(": binary file matches (found \"\\0\" byte on "
			    "line %lld)\n", (long long)json_integer_value(
			    json_object_get(json_array_get(list, k), "line")));
			continue;
		}
		for (k = i; k < j; k++) {
			e = json_array_get(list, k);
			p = str(e, "path", &len);
			out(p, len);
			printf(":%lld:", (long long)json_integer_value(
			    json_object_get(e, "line")));
			t = str(e, "text", &len);
			out(t, len);
			putchar('\n');
		}
	}
}

static void
print_stat(json_t *reply)
{
	printf("size %lld dir %s symlink %s\n", (long long)
	    json_integer_value(json_object_get(reply, "size")),
	    json_is_true(json_object_get(reply, "is_dir")) ? "yes" : "no",
	    json_is_true(json_object_get(reply, "is_symlink")) ? "yes" : "no");
}

static void
print_env(json_t *reply, const struct request *r)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(reply, "values"), i, e) {
		if ((int)i + 1 >= r->argc)
			break;
		if (json_is_string(e))
			printf("%s=%s\n", r->argv[i + 1], json_string_value(e));
		else
			printf("%s\n", r->argv[i + 1]);
	}
}

/* ls: "TYPE SIZE NAME" per entry. */
static void
print_entries(json_t *list)
{
	json_t *e;
	size_t i, n;
	const char *name;

	json_array_foreach(list, i, e) {
		name = str(e, "name", &n);
		printf("%-12s %10lld ", json_string_value(json_object_get(e,
		    "type")), (long long)json_integer_value(json_object_get(e,
		    "size")));
		out(name, n);
		putchar('\n');
	}
}

/* Prints a success reply the way a person reads it. */
static void
print_plain(json_t *reply, const char *kind, const struct request *r)
{
	json_t *e;
	size_t i;

	if (strcmp(kind, "pong") == 0 && strcmp(r->argv[0], "ping") == 0)
		puts("pong");
	else if (strcmp(kind, "read") == 0)
		json_array_foreach(json_object_get(reply, "content"), i, e)
			putchar((int)json_integer_value(e));
	else if (strcmp(kind, "glob") == 0)
		print_paths(json_object_get(reply, "paths"));
	else if (strcmp(kind, "grep") == 0)
		print_matches(json_object_get(reply, "matches"));
	else if (strcmp(kind, "stat") == 0)
		print_stat(reply);
	else if (strcmp(kind, "get_env") == 0)
		print_env(reply, r);
	else if (strcmp(kind, "list_dir") == 0)
		print_entries(json_object_get(reply, "entries"));
	if (strcmp(kind, "read") == 0 && json_is_false(json_object_get(reply,
	    "eof")) && json_object_get(reply, "next_line") != NULL)
		warnx("more follows: --offset %lld --line %lld", (long long)
		    json_integer_value(json_object_get(reply, "next_offset")),
		    (long long)json_integer_value(json_object_get(reply,
		    "next_line")));
	else if (strcmp(kind, "read") == 0 && json_is_false(json_object_get(
	    reply, "eof")))
		warnx("more follows: --offset %lld", (long long)
		    json_integer_value(json_object_get(reply, "next_offset")));
	if (json_integer_value(json_object_get(reply, "skipped_names")) > 0)
		warnx("%lld names left out: not UTF-8, which the protocol's "
		    "JSON cannot carry", (long long)json_integer_value(
		    json_object_get(reply, "skipped_names")));
	if (json_is_true(json_object_get(reply, "truncated")))
		warnx("more results than fit in one reply: the list is cut");
}

/* The path an OS error is about: the request's PATH, or grep's and
 * glob's ROOT. */
static const char *
subject(const struct request *r)
{
	if (strcmp(r->argv[0], "grep") == 0)
		return r->argv[2];
	if (strcmp(r->argv[0], "glob") == 0)
		return r->argc == 3 ? r->argv[2] : r->cwd;
	return r->argc > 1 && strcmp(r->argv[0], "get-env") != 0 ?
	    r->argv[1] : NULL;
}

/* An error reply's message on stderr. The worker's text stays the
 * reference's ("No such file or directory (os error 2)"); an OS error
 * gets the path it is about in front, as other tools print it. */
static void
print_error(json_t *reply, const struct request *r)
{
	const char *msg = json_string_value(json_object_get(reply, "message"));
	const char *code = json_string_value(json_object_get(reply, "code"));
	const char *path = subject(r);

	if (msg == NULL)
		msg = "(an error reply without a message)";
	if (path != NULL && code != NULL && strcmp(code, "io") == 0 &&
	    strstr(msg, "(os error ") != NULL && strstr(msg, path) == NULL)
		warnx("%s: %s", path, msg);
	else
		warnx("%s", msg);
}

/* Shows one reply; returns the exit status it means (grep: -1 when
 * nothing matched, for the caller to tell "none" from "no root"). */
static int
show(const char *text, size_t len, const struct opts *o,
    const struct request *r)
{
	json_t *reply = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	bool grep = strcmp(r->argv[0], "grep") == 0;
	const char *kind;
	int rc = KS_EXIT_OK;

	if (reply == NULL) {
		warnx("the worker sent a reply that is not JSON");
		return KS_EXIT_TRANSPORT;
	}
	kind = json_string_value(json_object_get(reply, "kind"));
	if (o->json)
		printf("%s\n", text);
	if (kind != NULL && strcmp(kind, "error") == 0) {
		print_error(reply, r);
		rc = grep ? KS_EXIT_USAGE : KS_EXIT_DENIED;
	} else if (kind != NULL) {
		if (!o->json)
			print_plain(reply, kind, r);
		if (grep && json_array_size(json_object_get(reply,
		    "matches")) == 0)
			rc = -1;
	}
	json_decref(reply);
	return rc;
}

/* grep found nothing: 1, or 2 when its ROOT does not exist (the worker
 * answers both with no matches, as the reference does). */
static int
grep_none(struct ks_client *c, const struct request *r)
{
	struct ks_buf b = { 0 };
	struct ks_err e;
	json_t *reply = NULL;
	char *text = NULL;
	size_t len;
	int rc = KS_EXIT_DENIED;

	if (put_head(&b, "stat") < 0 || put_field(&b, "path", "ROOT",
	    r->argv[2]) < 0 || ks_json_raw(&b, "}") < 0)
		errx(KS_EXIT_TRANSPORT, "out of memory");
	if (ks_client_call(c, b.p, b.len, &text, &len, &e) < 0) {
		warnx("%s", e.msg);
		rc = KS_EXIT_TRANSPORT;
	} else if ((reply = json_loadb(text, len, 0, NULL)) != NULL &&
	    json_is_string(json_object_get(reply, "message"))) {
		print_error(reply, r);
		rc = KS_EXIT_USAGE;
	}
	json_decref(reply);
	free(text);
	ks_buf_free(&b);
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
	out(reply, rlen);
	putchar('\n');
	free(reply);
	return 0;
}

/* batch: one request per input line, one reply per output line. */
static int
batch(struct ks_client *c)
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

/* How to start a worker, from the options (the strings stay o's). */
static void
worker_opts(const struct opts *o, struct ks_client_opts *co)
{
	static const char *audit_env[2];

	*co = (struct ks_client_opts){ .worker = o->worker, .root = o->root,
	    .policy_json = o->policy, .proxy_port = o->proxy_port,
	    .ca_bundle = o->ca_bundle };
	audit_env[0] = o->audit_env;
	co->env = o->audit_env != NULL ? audit_env : NULL;
}

/*
 * pool: sessions from a pool of ready workers (pool.h). One request per
 * input line, as batch; an empty line ends the session, its worker is
 * shut down, and the next line goes to a fresh one. An empty output
 * line marks each end of a session.
 */
static int
pool_run(const struct opts *o)
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
		return usage("--size %s: not a number from 1 to %d", o->size,
		    KS_POOL_MAX);
	worker_opts(o, &co);
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
set_option(struct opts *o, int key, const char *v)
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
			return usage("--proxy-port %s: not a port from 1 to "
			    "65535", v);
		o->proxy_port = (int)port;
		break;
	case KS_OPT_HELP:
		return ks_applet_help(usage_text);
	default:
		return ks_applet_version();
	}
	return -1;
}

/* An option given to a request it does not go with: its usage error,
 * else -1. */
static int
misplaced(const struct opts *o, const char *req)
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
			return usage("%s goes with %s only", t[i].opt,
			    t[i].with);
	return -1;
}

/* The request of the operands, checked; returns -1 to go on, else an
 * exit status. */
static int
take_request(struct request *r, const struct opts *o, int n, char **ops)
{
	char alt[64];
	int rc;

	if (n == 0)
		return usage("no request given");
	r->argc = n;
	r->argv = ops;
	if ((r->cmd = command_find(ops[0])) == NULL) {
		snprintf(alt, sizeof(alt), "%.60s", ops[0]);
		for (char *s = alt; (s = strchr(s, '_')) != NULL; s++)
			*s = '-';
		return command_find(alt) != NULL ? usage("unknown request: %s "
		    "(did you mean %s?)", ops[0], alt) :
		    usage("unknown request: %s", ops[0]);
	}
	if (n - 1 < r->cmd->min || (r->cmd->max >= 0 && n - 1 > r->cmd->max))
		return r->cmd->max == 0 ? usage("%s takes no operands; got %d",
		    ops[0], n - 1) : usage("%s takes %s; got %d operand%s",
		    ops[0], r->cmd->operands, n - 1, n == 2 ? "" : "s");
	if ((rc = misplaced(o, ops[0])) >= 0)
		return rc;
	/* stdin cannot carry both the policy and the request's input. */
	if (o->policy_file != NULL && strcmp(o->policy_file, "-") == 0 &&
	    (strcmp(ops[0], "write") == 0 || strcmp(ops[0], "batch") == 0))
		return usage("--policy - cannot be used with %s, which reads "
		    "stdin", ops[0]);
	if (strcmp(ops[0], "glob") == 0 && n == 2 &&
	    getcwd(r->cwd, sizeof(r->cwd)) == NULL)
		err(KS_EXIT_USAGE, "getcwd");
	return -1;
}

/* Options and the request; returns -1 to go on, else an exit status. */
static int
parse(int argc, char **argv, struct opts *o, struct request *r)
{
	struct ks_getopt g;
	int c, rc;

	ks_applet_opt_init(&g, argc, argv, options);
	while ((c = ks_applet_opt_next(&g)) > 0)
		if ((rc = set_option(o, c, g.arg)) >= 0)
			return rc;
	if (c < 0)
		return usage("%s", g.why);
	return take_request(r, o, g.nops, g.argv + 1);
}

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
spawn(const struct opts *o)
{
	struct ks_client_opts co;
	struct sigaction sa = { .sa_handler = on_signal };
	struct ks_client *c;
	struct ks_err e;

	worker_opts(o, &co);
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
open_client(const struct opts *o)
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

static int
one_request(struct ks_client *c, const struct opts *o,
    const struct request *r, const struct ks_buf *b)
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
	rc = show(reply, rlen, o, r);
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
write_parts(struct ks_client *c, const struct opts *o,
    const struct request *r)
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
		if (put_head(&b, "write_part") < 0 || put_field(&b, "path",
		    "PATH", r->argv[1]) < 0 || ks_json_raw(&b, ",\"offset\":") <
		    0 || ks_json_u64(&b, off) < 0 || ks_json_raw(&b, off + n ==
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
			rc = show(reply, rlen, o, r);
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

/* The request's JSON into b, before any worker is started; returns -1
 * to go on, else an exit status. */
static int
build(const struct request *r, const struct opts *o, struct ks_buf *b)
{
	int rc;

	if (r->cmd->kind == NULL)
		return -1;	/* batch */
	if ((rc = put_head(b, r->cmd->kind)) == 0 &&
	    (rc = put_fields(b, r, o)) == 0)
		rc = ks_json_raw(b, "}");
	if (rc == -2)
		return KS_EXIT_USAGE;
	if (rc < 0)
		errx(KS_EXIT_TRANSPORT, "out of memory");
	return -1;
}

int
host_client_main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct request r = { 0 };
	struct ks_buf b = { 0 };
	struct ks_client *c;
	bool parts;
	int rc, frc;

	if ((rc = parse(argc, argv, &o, &r)) >= 0 || r.cmd == NULL)
		return rc >= 0 ? rc : KS_EXIT_USAGE;
	if (o.policy_file != NULL && load_policy(&o) < 0) {
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
		rc = pool_run(&o);
		if ((frc = ks_applet_flush()) != KS_EXIT_OK && rc == KS_EXIT_OK)
			rc = frc;
		goto out;
	}
	if (!parts && (rc = build(&r, &o, &b)) >= 0)
		goto out;
	c = open_client(&o);
	rc = r.cmd->kind == NULL ? batch(c) : parts ? write_parts(c, &o, &r) :
	    one_request(c, &o, &r, &b);
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
