/*
 * host_request: the requests host-client knows (their names, wire kinds
 * and operands) and the JSON of one, built from the command line before
 * any worker starts; a string that is not UTF-8 is refused, not sent.
 */
#include "host_client.h"

#include <errno.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/err.h"
#include "../src/frame.h"
#include "../src/proto.h"

static const struct ks_host_command commands[] = {
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

const struct ks_host_command *
ks_host_request_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
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

int
ks_host_request_field(struct ks_buf *b, const char *name, const char *what,
    const char *v)
{
	if (check_utf8(what, v) < 0)
		return -2;
	if (ks_json_raw(b, ",\"") < 0 || ks_json_raw(b, name) < 0 ||
	    ks_json_raw(b, "\":") < 0)
		return -1;
	return ks_json_str(b, v, strlen(v));
}

int
ks_host_request_head(struct ks_buf *b, const char *kind)
{
	return ks_json_raw(b, "{\"kind\":\"") < 0 || ks_json_raw(b, kind) < 0 ||
	    ks_json_raw(b, "\"") < 0 ? -1 : 0;
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
		ks_host_usage("%s %s: not a %s", opt, v, strcmp(field,
		    "max_bytes") == 0 ? "byte count" : "number");
		return -2;
	}
	return ks_json_raw(b, ",\"") < 0 || ks_json_raw(b, field) < 0 ||
	    ks_json_raw(b, "\":") < 0 || ks_json_u64(b, n) < 0 ? -1 : 0;
}

/* read's range options. */
static int
put_read(struct ks_buf *b, const struct ks_host_opts *o)
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
put_grep(struct ks_buf *b, const struct ks_host_opts *o)
{
	int rc;

	if (o->include != NULL && (rc = ks_host_request_field(b, "include",
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
put_stdin(struct ks_buf *b, const struct ks_host_request *r)
{
	return ks_json_raw(b, ",\"content\":") < 0 ||
	    ks_json_bytes(b, r->data, r->dlen) < 0 ? -1 : 0;
}

/* get_env's names: every operand. */
static int
put_names(struct ks_buf *b, const struct ks_host_request *r)
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
put_fields(struct ks_buf *b, const struct ks_host_request *r,
    const struct ks_host_opts *o)
{
	const struct ks_host_command *c = r->cmd;
	const char *k = c->kind;
	int rc = 0;

	for (int i = 1; i < r->argc && i <= 3 && c->fields[i - 1] != NULL; i++)
		if ((rc = ks_host_request_field(b, c->fields[i - 1],
		    c->labels[i - 1], r->argv[i])) < 0)
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
		rc = ks_host_request_field(b, "root", "the working directory",
		    r->cwd);
	else if (strcmp(k, "grep") == 0)
		rc = put_grep(b, o);
	return rc;
}

int
ks_host_request_build(const struct ks_host_request *r,
    const struct ks_host_opts *o, struct ks_buf *b)
{
	int rc;

	if (r->cmd->kind == NULL)
		return -1;	/* batch */
	if ((rc = ks_host_request_head(b, r->cmd->kind)) == 0 &&
	    (rc = put_fields(b, r, o)) == 0)
		rc = ks_json_raw(b, "}");
	if (rc == -2)
		return KS_EXIT_USAGE;
	if (rc < 0)
		errx(KS_EXIT_TRANSPORT, "out of memory");
	return -1;
}
