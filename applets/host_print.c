/*
 * host_print: host-client's replies as a person reads them (file
 * content, paths, grep's path:line:text, ls and stat lines, an error on
 * stderr with the path it is about) or, with --json, as they came.
 */
#include "host_client.h"

#include <err.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
print_env(json_t *reply, const struct ks_host_request *r)
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
print_plain(json_t *reply, const char *kind,
    const struct ks_host_request *r)
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
subject(const struct ks_host_request *r)
{
	if (strcmp(r->argv[0], "grep") == 0)
		return r->argv[2];
	if (strcmp(r->argv[0], "glob") == 0)
		return r->argc == 3 ? r->argv[2] : r->cwd;
	return r->argc > 1 && strcmp(r->argv[0], "get-env") != 0 ?
	    r->argv[1] : NULL;
}

/* The worker's text stays the reference's ("No such file or directory
 * (os error 2)"); an OS error gets the path it is about in front, as
 * other tools print it. */
void
ks_host_print_error(json_t *reply, const struct ks_host_request *r)
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

int
ks_host_print_reply(const char *text, size_t len,
    const struct ks_host_opts *o, const struct ks_host_request *r)
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
		ks_host_print_error(reply, r);
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
