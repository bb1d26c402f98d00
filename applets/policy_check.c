/*
 * policy-check: asks a policy whether paths may be read or written, one
 * by one or in bulk from standard input, and validates, composes, prints
 * and explains policies (SPEC §7). Every verdict comes from the core call
 * the worker makes, on a context set up by the worker's own ks_fs_open.
 */
#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets.h"
#include "../src/err.h"
#include "../src/frame.h"
#include "../src/fsops.h"
#include "../src/policy.h"
#include "../src/proto.h"

/* Bulk input is read, and output written, in pieces this large. */
#define IO_CHUNK (1 << 20)

struct opts {
	const char *policy;	/* FILE, "-", or NULL for the default */
	const char *root;
	bool json, nul;
	bool strict;		/* unknown policy keys are errors */
};

/* The state of one read|write run. */
struct checker {
	struct ks_fs fs;	/* the worker's set-up, for its pctx */
	bool write, json;
	struct ks_buf line;	/* one --json line, reused */
	unsigned long denied;
};

static const char usage_text[] =
    "usage: koda-sandbox policy-check [--policy FILE|-] [--root DIR] "
    "[--json] [-0]\n"
    "           [--strict] read|write PATH...|-\n"
    "       koda-sandbox policy-check validate FILE\n"
    "       koda-sandbox policy-check compose PARENT CHILD\n"
    "       koda-sandbox policy-check default\n"
    "       koda-sandbox policy-check [--root DIR] [--strict] explain FILE\n"
    "options may come anywhere before \"--\"; operands that begin with '-' "
    "go after it\n";

#define usage(...) ks_applet_usage(usage_text, __VA_ARGS__)

/* Output errors (a full disk, a closed pipe) must not look like a
 * verdict. */
static void
flush_out(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		err(KS_EXIT_USAGE, "write standard output");
}

/* Loads the policy as the worker would accept it; a bad or unreadable
 * one ends the run (exit 2). NULL: the default policy. */
static void
load_policy(const char *file, struct ks_policy *p, bool strict)
{
	struct ks_strv unknown = { 0 };
	char *text, why[512];
	struct ks_err e;
	size_t len;

	if (file == NULL) {
		ks_policy_init(p);
		return;
	}
	if ((text = ks_read_file(file, &len)) == NULL)
		err(KS_EXIT_USAGE, "read policy %s", file);
	if (ks_policy_parse(text, len, p, NULL, &unknown, &e) < 0)
		errx(KS_EXIT_USAGE, "%s: %s", file, e.msg);
	/* The worker accepts unknown keys and warns: so does this, and
	 * --strict makes them errors (exit 2). */
	for (size_t i = 0; i < unknown.n; i++) {
		ks_policy_unknown_text(unknown.v[i], why, sizeof(why));
		warnx("%s: %s%s", file, why, strict ? " (--strict: refused)" :
		    "");
	}
	if (strict && unknown.n > 0)
		exit(KS_EXIT_USAGE);
	ks_strv_free(&unknown);
	free(text);
}

/* Appends s[0..len) as a JSON string. Paths are bytes and JSON text is
 * UTF-8, so a byte that is not part of valid UTF-8 is written as U+FFFD,
 * as Rust's to_string_lossy does; valid strings take the fast path. */
static int
put_lossy(struct ks_buf *b, const char *s, size_t len)
{
	struct ks_buf fix = { 0 };
	size_t i = 0, n;
	int rc;

	if (ks_utf8_valid(s, len))
		return ks_json_str(b, s, len);
	while (i < len) {
		for (n = 1; n <= 4 && i + n <= len; n++)
			if (ks_utf8_valid(s + i, n))
				break;
		if (n > 4 || i + n > len) {
			rc = ks_buf_put(&fix, "\xef\xbf\xbd", 3);
			n = 1;
		} else {
			rc = ks_buf_put(&fix, s + i, n);
		}
		if (rc < 0)
			break;
		i += n;
	}
	rc = i < len ? -ENOMEM : ks_json_str(b, fix.p, fix.len);
	ks_buf_free(&fix);
	return rc;
}

/* One --json line: {"path":P,"op":OP,"allowed":B,"reason":MSG|null}. */
static void
put_json(struct checker *c, const char *path, size_t len, const char *msg)
{
	struct ks_buf *b = &c->line;

	b->len = 0;
	if (ks_json_raw(b, "{\"path\":") < 0 || put_lossy(b, path, len) < 0 ||
	    ks_json_raw(b, c->write ? ",\"op\":\"write\",\"allowed\":" :
	    ",\"op\":\"read\",\"allowed\":") < 0 ||
	    ks_json_raw(b, msg != NULL ? "false,\"reason\":" :
	    "true,\"reason\":null}\n") < 0 ||
	    (msg != NULL && (put_lossy(b, msg, strlen(msg)) < 0 ||
	    ks_json_raw(b, "}\n") < 0)))
		errx(KS_EXIT_USAGE, "out of memory");
	fwrite(b->p, 1, b->len, stdout);
}

/* Asks the core about one path, as the worker's write or read would. */
static void
check_one(struct checker *c, const char *path, size_t len)
{
	struct ks_err e;
	char *landing = NULL;
	bool final_link;
	int rc;

	/* The worker answers a NUL before it asks the policy. */
	if (memchr(path, '\0', len) != NULL)
		rc = ks_err_nul_path(&e);
	else if (c->write)
		rc = ks_policy_check_write(&c->fs.pctx, path, &landing,
		    &final_link, &e);
	else
		rc = ks_policy_check_read(&c->fs.pctx, path, &e);
	free(landing);
	c->denied += rc < 0;
	if (c->json)
		put_json(c, path, len, rc < 0 ? e.msg : NULL);
	else if (rc < 0) {
		fwrite(path, 1, len, stdout);
		fprintf(stdout, ": %s\n", e.msg);
	}
}

/* Checks every complete record in buf[0..have); returns the bytes used. */
static size_t
check_records(struct checker *c, char *buf, size_t have, int sep)
{
	char *p = buf, *end;

	while ((end = memchr(p, sep, have - (size_t)(p - buf))) != NULL) {
		*end = '\0';
		check_one(c, p, (size_t)(end - p));
		p = end + 1;
	}
	return (size_t)(p - buf);
}

/* Bulk mode: one path per record of standard input, in order. A last
 * record without its separator still counts. */
static void
check_stdin(struct checker *c, int sep)
{
	size_t cap = IO_CHUNK, have = 0, used;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;

	for (;;) {
		if (buf == NULL)
			errx(KS_EXIT_USAGE, "out of memory");
		if ((n = read(STDIN_FILENO, buf + have, cap - have - 1)) < 0) {
			if (errno == EINTR)
				continue;
			err(KS_EXIT_USAGE, "read standard input");
		}
		if (n == 0)
			break;
		used = check_records(c, buf, have + (size_t)n, sep);
		have += (size_t)n - used;
		memmove(buf, buf + used, have);
		/* A record longer than the buffer: make room for it. */
		if (have + 1 == cap) {
			if ((nbuf = realloc(buf, cap *= 2)) == NULL)
				free(buf);
			buf = nbuf;
		}
	}
	buf[have] = '\0';
	if (have > 0)
		check_one(c, buf, have);
	free(buf);
}

/* read|write PATH...|-: exit 0 when every path is allowed, 1 if not. */
static int
check_paths(const struct opts *o, bool write, int n, char **paths)
{
	struct checker c = { .write = write, .json = o->json };
	bool bulk = n == 1 && strcmp(paths[0], "-") == 0;
	struct ks_policy policy;
	struct ks_err e;

	if (n == 0)
		return usage("%s takes PATH... or -; got no operands",
		    write ? "write" : "read");
	for (int i = 0; !bulk && i < n; i++)
		if (strcmp(paths[i], "-") == 0)
			return usage("'-' must be the only PATH");
	if (o->nul && !bulk)
		return usage("-0 needs '-' as the PATH");
	if (bulk && o->policy != NULL && strcmp(o->policy, "-") == 0)
		return usage("--policy - and the PATH - both want standard "
		    "input");
	load_policy(o->policy, &policy, o->strict);
	if (ks_fs_open(&c.fs, &policy, o->root, &e) < 0)
		errx(KS_EXIT_USAGE, "--root %s: %s", o->root, e.msg);
	setvbuf(stdout, NULL, _IOFBF, IO_CHUNK);
	if (bulk)
		check_stdin(&c, o->nul ? '\0' : '\n');
	for (int i = 0; !bulk && i < n; i++)
		check_one(&c, paths[i], strlen(paths[i]));
	flush_out();
	ks_fs_close(&c.fs);
	ks_policy_free(&policy);
	ks_buf_free(&c.line);
	return c.denied > 0 ? KS_EXIT_DENIED : KS_EXIT_OK;
}

/* validate FILE: every problem on its own line, "FILE: PROBLEM". */
static int
cmd_validate(const char *file)
{
	struct ks_strv problems = { 0 }, unknown = { 0 };
	struct ks_policy p;
	struct ks_err e;
	size_t len, n;
	char *text;

	if ((text = ks_read_file(file, &len)) == NULL)
		err(KS_EXIT_USAGE, "read policy %s", file);
	if (ks_policy_parse(text, len, &p, &problems, &unknown, &e) < 0 &&
	    problems.n == 0)
		errx(KS_EXIT_USAGE, "%s: %s", file, e.msg);	/* ENOMEM */
	if (ks_policy_lint(text, len, &problems) < 0 ||
	    ks_policy_clamps(&p, &problems) < 0)
		errx(KS_EXIT_USAGE, "out of memory");
	for (size_t i = 0; i < problems.n; i++)
		printf("%s: %s\n", file, problems.v[i]);
	for (size_t i = 0; i < unknown.n; i++)
		printf("%s: %s: unknown key\n", file, unknown.v[i]);
	flush_out();
	n = problems.n + unknown.n;
	ks_strv_free(&problems);
	ks_strv_free(&unknown);
	ks_policy_free(&p);
	free(text);
	return n > 0 ? KS_EXIT_DENIED : KS_EXIT_OK;
}

/* Every field, two-space indent, keys in SPEC §4's order. */
static int
print_policy(const struct ks_policy *p)
{
	json_t *j = ks_policy_to_json(p);
	char *s = j != NULL ? json_dumps(j, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER) : NULL;

	if (s == NULL)
		errx(KS_EXIT_USAGE, "out of memory");
	printf("%s\n", s);
	free(s);
	json_decref(j);
	flush_out();
	return KS_EXIT_OK;
}

static int
cmd_compose(const char *parent, const char *child)
{
	struct ks_policy a, b, out;
	int rc;

	if (strcmp(parent, "-") == 0 && strcmp(child, "-") == 0)
		errx(KS_EXIT_USAGE, "only one of PARENT and CHILD may be '-'");
	load_policy(parent, &a, false);
	load_policy(child, &b, false);
	if (ks_policy_compose(&a, &b, &out) < 0)
		errx(KS_EXIT_USAGE, "out of memory");
	rc = print_policy(&out);
	ks_policy_free(&a);
	ks_policy_free(&b);
	ks_policy_free(&out);
	return rc;
}

static int
cmd_default(void)
{
	struct ks_policy p;

	ks_policy_init(&p);
	return print_policy(&p);
}

/* "'a', 'b' and 'c'" */
static void
say_list(const struct ks_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		printf("%s'%s'", i == 0 ? "" : i + 1 == sv->n ? " and " : ", ",
		    sv->v[i]);
}

/* One sentence: head, the list, tail; or none when the list is empty. */
static void
say(const char *head, const struct ks_strv *sv, const char *tail,
    const char *none)
{
	if (sv->n == 0) {
		if (none != NULL)
			printf("%s\n", none);
		return;
	}
	printf("%s", head);
	say_list(sv);
	printf("%s\n", tail);
}

static void
explain_root(const char *root)
{
	char *res = NULL;

	if (root == NULL) {
		printf("Writable: beneath the worker's --root; without one "
		    "(legacy mode) no root confines writes and only the "
		    "protections below apply.\n");
		return;
	}
	if (ks_path_resolve(root, &res, NULL) == 0 && strcmp(res, root) != 0)
		printf("Writable: the root '%s' (that is '%s') and everything "
		    "beneath it.\n", root, res);
	else
		printf("Writable: the root '%s' and everything beneath it.\n",
		    root);
	free(res);
}

static void
explain_writes(const struct ks_policy *p, const char *root)
{
	const char *home = getenv("HOME");

	explain_root(root);
	say("Also writable, outside the root: ", &p->allow_write,
	    " (allow_write; an entry that does not exist when the worker "
	    "starts stays unwritable).", NULL);
	say("Carved out, never writable even inside a writable area: ",
	    &p->deny_write_within_allow, " (deny_write_within_allow).", NULL);
	printf("Never writable: any path with the components "
	    "'.config/koda/db', '/', every direct child of '/', '*' and paths "
	    "ending in '/*'.\n");
	if (home != NULL && home[0] != '\0')
		printf("Never writable either: $HOME itself ('%s').\n", home);
	printf(p->allow_git_config ? "Git config: '.git/config' and "
	    "'.git/hooks/' may be written where the rules above allow "
	    "(allow_git_config is on).\n" : "Git config: '.git/config' and "
	    "anything under '.git/hooks/' are never writable "
	    "(allow_git_config is off).\n");
	printf("Symlinks: a write is checked at every hop of its symlink "
	    "chain, up to %u hops (mandatory_deny_search_depth %u, used "
	    "within 8..40), and where it lands.\n",
	    ks_policy_chain_depth(p->depth), p->depth);
}

static void
explain_reads(const struct ks_policy *p)
{
	printf("Never readable: any path with the components "
	    "'.config/koda/db'.\n");
	say("Read-denied: ", &p->deny_read, " and everything beneath "
	    "them (deny_read).", "Every other path is readable (deny_read is "
	    "empty).");
	if (p->deny_read.n > 0)
		say("Re-opened for reading inside those: ",
		    &p->allow_read_within_deny, " (allow_read_within_deny).",
		    "Nothing is re-opened inside them (allow_read_within_deny "
		    "is empty).");
}

static void
explain_net(const struct ks_policy *p)
{
	say("Network: the proxy allows ", &p->allowed_domains, ".",
	    "Network: the proxy allows no domain (allowed_domains is empty).");
	say("It denies ", &p->denied_domains, " (denied_domains).", NULL);
	printf("Binding local ports is %s; weaker macOS isolation is %s.\n",
	    p->allow_local_binding ? "allowed" : "not allowed",
	    p->weaker_macos_isolation ? "on" : "off");
	if (p->has_mitm)
		printf("TLS is intercepted with the CA bundle '%s' and %zu "
		    "socket mappings.\n", p->mitm_ca_bundle,
		    p->mitm_domains.n);
	printf("These rules are for the host's proxy: the worker itself "
	    "opens no sockets.\n");
}

static void
say_limit(const char *what, const struct ks_limit *l, const char *unit,
    const char *by)
{
	if (!l->set)
		printf("%s: unlimited.\n", what);
	else
		printf("%s: %llu %s (%s).\n", what, (unsigned long long)l->v,
		    unit, by);
}

static void
explain_limits(const struct ks_policy *p)
{
	static const char *const trust[] = { "auto", "require", "forbid" };

	say_limit("CPU time", &p->cpu_time_secs, "seconds",
	    "RLIMIT_CPU in the worker");
	say_limit("Wall time", &p->wall_time_secs, "seconds", "for the host");
	say_limit("Memory", &p->max_rss_bytes, "bytes",
	    "RLIMIT_AS in the worker");
	say_limit("Open files", &p->max_open_fds, "descriptors",
	    "RLIMIT_NOFILE in the worker");
	say_limit("Output", &p->max_output_bytes, "bytes", "for the host");
	printf("Trust: %s (the worker does not use it; composing can only "
	    "make it stricter).\n", trust[p->trust]);
}

static int
cmd_explain(const char *file, const char *root, bool strict)
{
	const char *audit = getenv("KODA_FS_WORKER_AUDIT");
	struct ks_policy p;

	load_policy(file, &p, strict);
	explain_writes(&p, root);
	explain_reads(&p);
	explain_net(&p);
	explain_limits(&p);
	if (audit != NULL && audit[0] != '\0')
		printf("A worker started in this environment logs every denial, "
		    "with the rule that decided it, to %s (see "
		    "koda-sandbox-audit(5)).\n", audit);
	ks_policy_free(&p);
	flush_out();
	return KS_EXIT_OK;
}

enum { OPT_POLICY = 0x200, OPT_ROOT, OPT_JSON, OPT_STRICT };

static const struct ks_opt options[] = {
	{ "help", KS_OPT_HELP, NULL },
	{ "json", OPT_JSON, NULL },
	{ "null", '0', NULL },
	{ "policy", OPT_POLICY, "a file" },
	{ "root", OPT_ROOT, "a path" },
	{ "strict", OPT_STRICT, NULL },
	{ "version", KS_OPT_VERSION, NULL },
	{ NULL, 0, NULL },
};

/* Options anywhere before "--"; returns -1 and the operands in *ops
 * (*n of them), else an exit status (-h, --version, a usage error). */
static int
parse_opts(int argc, char **argv, struct opts *o, int *n, char ***ops)
{
	struct ks_getopt g;
	int c;

	ks_applet_opt_init(&g, argc, argv, options);
	while ((c = ks_applet_opt_next(&g)) > 0) {
		switch (c) {
		case OPT_POLICY:
			o->policy = g.arg;
			break;
		case OPT_ROOT:
			o->root = g.arg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case '0':
			o->nul = true;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case KS_OPT_HELP:
			return ks_applet_help(usage_text);
		default:
			return ks_applet_version();
		}
	}
	if (c < 0)
		return usage("%s", g.why);
	*n = g.nops;
	*ops = g.argv + 1;
	return -1;
}

/* The sub-commands take their policies as operands, not options;
 * returns -1 to go on, else the exit status of a usage error. */
static int
sub_opts(const struct opts *o, const char *cmd)
{
	if (o->policy != NULL || o->json || o->nul)
		return usage("--policy, --json and -0 go with read and write "
		    "only");
	if (o->root != NULL && strcmp(cmd, "explain") != 0)
		return usage("--root goes with read, write and explain only");
	return -1;
}

/* The operands each sub-command takes, for the usage errors. */
static const struct sub {
	const char *name;
	int n;
	const char *operands;
} subs[] = {
	{ "compose", 2, "PARENT CHILD" },
	{ "default", 0, "no operands" },
	{ "explain", 1, "FILE" },
	{ "validate", 1, "FILE" },
};

static int
run_sub(const struct opts *o, const char *cmd, int argc, char **argv)
{
	const struct sub *sub = NULL;
	int rc;

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(cmd, subs[i].name) == 0)
			sub = &subs[i];
	if (sub == NULL)
		return usage("unknown sub-command: %s", cmd);
	if ((rc = sub_opts(o, cmd)) >= 0)
		return rc;
	if (argc != sub->n)
		return usage("%s takes %s; got %d operand%s", cmd,
		    sub->operands, argc, argc == 1 ? "" : "s");
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(argv[0]);
	if (strcmp(cmd, "compose") == 0)
		return cmd_compose(argv[0], argv[1]);
	if (strcmp(cmd, "default") == 0)
		return cmd_default();
	return cmd_explain(argv[0], o->root, o->strict);
}

int
policy_check_main(int argc, char **argv)
{
	struct opts o = { 0 };
	char **ops = NULL;
	int n = 0, rc;

	if ((rc = parse_opts(argc, argv, &o, &n, &ops)) >= 0)
		return rc;
	if (n == 0)
		return usage("no sub-command given");
	if (strcmp(ops[0], "read") == 0 || strcmp(ops[0], "write") == 0)
		return check_paths(&o, ops[0][0] == 'w', n - 1, ops + 1);
	return run_sub(&o, ops[0], n - 1, ops + 1);
}
