/*
 * check_agreement: policy-check and a real worker reach the same verdict,
 * with the same message, on a corpus of paths of every class: inside and
 * outside the root, carved out, protected, relative, and links of every
 * kind; each write the worker makes is seen by the next verdicts of both.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pclib.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum want { ALLOW, DENY, IO_DENY, FSFAIL };

struct acase {
	char op;		/* 'w': a write request, 'r': a stat */
	const char *path;
	enum want want;
};

static const struct acase corpus[] = {
	{ 'w', "%R/a.txt", ALLOW }, { 'w', "%R/new.txt", ALLOW },
	{ 'w', "%R/sub/deep/new.txt", ALLOW }, { 'w', "%R/./b.txt", ALLOW },
	{ 'w', "%R//c.txt", ALLOW }, { 'w', "%R/sub/../d.txt", ALLOW },
	{ 'w', "%R/missing/../inside.txt", ALLOW },
	{ 'w', "%R/../escape.txt", DENY },
	{ 'w', "%R/missing/../../escape2.txt", DENY }, { 'w', "%R/..", DENY },
	{ 'w', "%O/x.txt", DENY }, { 'w', "/etc/koda-never", DENY },
	{ 'w', "/", DENY }, { 'w', "/etc", DENY }, { 'w', "%H", DENY },
	{ 'w', "%R/*", DENY }, { 'w', "*", DENY },
	{ 'w', "%R/.config/koda/db", DENY },
	{ 'w', "%R/x/.config/koda/db/y", DENY },
	{ 'w', "%H/.config/koda/db/z", DENY },
	{ 'w', "%R/.config/koda/dbx", ALLOW }, { 'w', "%R/.git/config", DENY },
	{ 'w', "%R/.git/hooks/pre-commit", DENY },
	{ 'w', "%R/.git/hooks", DENY }, { 'w', "%R/sub/.git/config", DENY },
	{ 'w', "%R/.git/HEAD", ALLOW }, { 'w', "%R/protected/x", DENY },
	{ 'w', "%R/protected", DENY }, { 'w', "%A/ok.txt", ALLOW },
	{ 'w', "%A/carved/x", DENY }, { 'w', "%A/../escape3.txt", DENY },
	{ 'w', "%A/link-back", ALLOW }, { 'w', "%R/link-out/x", DENY },
	{ 'w', "%R/link-in", ALLOW }, { 'w', "%R/link-etc/passwd", DENY },
	{ 'w', "%R/link-home", DENY }, { 'w', "%R/link-db", DENY },
	{ 'w', "%R/link-git", DENY }, { 'w', "%R/link-gitdir/config", DENY },
	{ 'w', "%R/dangling", ALLOW }, { 'w', "%R/dangling-out", DENY },
	{ 'w', "%R/chain1", ALLOW }, { 'w', "%R/loop1", IO_DENY },
	{ 'w', "%R/link-carved", DENY }, { 'w', "%R/link-allow", ALLOW },
	{ 'w', "%R/link-acarved", DENY }, { 'w', "", DENY },
	{ 'w', "bare.txt", DENY }, { 'w', "sub/x.txt", DENY },
	{ 'w', "%R/sub", FSFAIL }, { 'w', "%R", FSFAIL },
	{ 'w', "%R/a.txt/x", FSFAIL },
	{ 'w', "%R/\xc3\xbcn\xc3\xaf code.txt", ALLOW },
	{ 'w', "%R/quote'name.txt", ALLOW }, { 'r', "%R/a.txt", ALLOW },
	{ 'r', "%R/private/s.txt", DENY }, { 'r', "%R/private", DENY },
	{ 'r', "%R/private/open/o.txt", ALLOW },
	{ 'r', "%R/private/../a.txt", DENY }, { 'r', "%R/link-private", DENY },
	{ 'r', "%R/link-open", ALLOW }, { 'r', "%R/.config/koda/db", DENY },
	{ 'r', "%O", DENY }, { 'r', "%R/link-out/x", DENY },
	{ 'r', "%R/missing.txt", FSFAIL },
};

/* Links of every class; relative ones stay inside the tree. */
static void
make_links(void)
{
	static const char *const links[][2] = {
		{ "%O", "%R/link-out" }, { "a.txt", "%R/link-in" },
		{ "/etc", "%R/link-etc" }, { "%H", "%R/link-home" },
		{ "%R/.config/koda/db/secret", "%R/link-db" },
		{ ".git/config", "%R/link-git" }, { ".git", "%R/link-gitdir" },
		{ "nowhere.txt", "%R/dangling" },
		{ "%O/nothing.txt", "%R/dangling-out" },
		{ "chain2", "%R/chain1" }, { "chain3", "%R/chain2" },
		{ "a.txt", "%R/chain3" }, { "loop2", "%R/loop1" },
		{ "loop1", "%R/loop2" }, { "protected/y", "%R/link-carved" },
		{ "%A/z.txt", "%R/link-allow" },
		{ "%A/carved/z", "%R/link-acarved" },
		{ "%R/a.txt", "%A/link-back" },
		{ "private/s.txt", "%R/link-private" },
		{ "private/open/o.txt", "%R/link-open" },
		{ "/", "%R/link-root" },
	};
	char *t, *l;

	ks_mkdirs(ks_pc_allow);
	for (size_t i = 0; i < NELEM(links); i++) {
		t = ks_pc_fill(links[i][0]);
		l = ks_pc_fill(links[i][1]);
		ck_assert_msg(symlink(t, l) == 0, "symlink %s", l);
		free(t);
		free(l);
	}
}

/* policy-check's verdict on one path: NULL (allowed) or its reason. */
static char *
pc_verdict(char op, const char *path)
{
	const char *args[] = { "--policy", "%F", "--root", "%R", "--json",
	    op == 'w' ? "write" : "read", path, NULL };
	char *out = ks_pc_run(args, NULL, 0, -1), *reason = NULL;
	json_t *o = ks_pc_parse_line(out, strlen(out) - 1);

	ck_assert_int_eq(ks_pc_last_rc, json_is_true(json_object_get(o,
	    "allowed")) ? 0 : 1);
	if (ks_pc_last_rc == 1)
		reason = strdup(json_string_value(json_object_get(o,
		    "reason")));
	json_decref(o);
	free(out);
	return reason;
}

/* The worker's reply to a write (or stat) of path. */
static json_t *
worker_reply(struct ks_proc *w, char op, const char *path)
{
	json_t *req = op == 'w' ? json_pack("{s:s,s:s,s:[i]}", "kind", "write",
	    "path", path, "content", 49) : json_pack("{s:s,s:s}", "kind",
	    "stat", "path", path);
	char *js = json_dumps(req, JSON_COMPACT), *rep = ks_call(w, js);
	json_t *o = json_loads(rep, 0, NULL);

	ck_assert_msg(o != NULL, "reply to %s: %s", js, rep);
	json_decref(req);
	free(js);
	free(rep);
	return o;
}

static void
agree(struct ks_proc *w, const struct acase *c)
{
	char *path = ks_pc_fill(c->path), *reason = pc_verdict(c->op, path);
	json_t *rep = worker_reply(w, c->op, path);
	const char *kind = json_string_value(json_object_get(rep, "kind"));
	const char *code = json_string_value(json_object_get(rep, "code"));
	const char *msg = json_string_value(json_object_get(rep, "message"));
	enum want got = strcmp(kind, "error") != 0 ? ALLOW :
	    strcmp(code, "policy_denied") == 0 ? DENY :
	    reason != NULL ? IO_DENY : FSFAIL;

	ck_assert_msg(got == c->want, "%c %s: want class %d, got %d (%s)",
	    c->op, path, c->want, got, msg ? msg : kind);
	if (got == ALLOW || got == FSFAIL)
		ck_assert_msg(reason == NULL, "%s: policy-check says %s", path,
		    reason);
	else
		ck_assert_msg(reason != NULL && strcmp(reason, msg) == 0,
		    "%s:\n worker:       %s\n policy-check: %s", path, msg,
		    reason);
	json_decref(rep);
	free(reason);
	free(path);
}

/* Runs cases through policy-check and one worker, in order: each write
 * the worker makes is seen by the next verdicts of both. */
static void
agree_all(const struct acase *cases, size_t n)
{
	char *pol = ks_pc_fill(ks_pc_corpus_policy);
	struct ks_proc w;

	make_links();
	ks_pc_put_policy(ks_pc_corpus_policy);
	ks_spawn_root(&w, ks_pc_root, pol, false);
	for (size_t i = 0; i < n; i++)
		agree(&w, &cases[i]);
	ck_assert_int_eq(ks_finish(&w), 0);
	free(w.errtext);
	free(pol);
}

START_TEST(worker_and_policy_check_agree)
{
	agree_all(corpus, NELEM(corpus));
}
END_TEST

/* A link to "/" is denied, not crashed on. */
START_TEST(link_to_root_is_denied_by_both)
{
	static const struct acase c = { 'w', "%R/link-root", DENY };

	agree_all(&c, 1);
}
END_TEST

Suite *
agreement_suite(void)
{
	Suite *s = suite_create("agreement");
	TCase *agreement = tcase_create("agreement");

	tcase_add_checked_fixture(agreement, ks_pc_setup, ks_pc_teardown);
	tcase_set_timeout(agreement, 60);
	tcase_add_test(agreement, worker_and_policy_check_agree);
	tcase_add_test(agreement, link_to_root_is_denied_by_both);
	suite_add_tcase(s, agreement);
	return s;
}
