/*
 * check_verdict: the write and read verdicts (verdict.c) on a real
 * mkdtemp tree: the reference's messages, the landing place of each
 * write, the symlink chain's clamped depth. JSON in the tables is
 * written with ' for " (ks_dq).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "policy.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* json (' for ") parsed into p, which must succeed. */
static void
pol(const char *json, struct ks_policy *p)
{
	struct ks_err err = { .code = KS_CODE_NONE };
	char *d = ks_dq(json);

	ck_assert_msg(ks_policy_parse(d, strlen(d), p, NULL, NULL, &err) == 0,
	    "%s: %s", json, err.msg);
	free(d);
}

static const struct {
	unsigned in, out;
} depths[] = {
	{ 0, 8 }, { 3, 8 }, { 8, 8 }, { 20, 20 }, { 40, 40 }, { 41, 40 },
	{ 255, 40 },
};

START_TEST(chain_depth_is_clamped_to_8_through_40)
{
	ck_assert_uint_eq(ks_policy_chain_depth(depths[_i].in),
	    depths[_i].out);
}
END_TEST

/* The verdict fixture: a root R, a sibling O outside it, HOME = R/home. */
static char *root, *out, *out_base;

/* tmpl with {R} root, {O} outside dir, {B} its base name, {H} HOME. */
static char *
subst(const char *tmpl)
{
	char *res = malloc(strlen(tmpl) + 4 * PATH_MAX), *o = res;

	while (*tmpl != '\0') {
		if (strncmp(tmpl, "{R}", 3) == 0)
			o = stpcpy(o, root);
		else if (strncmp(tmpl, "{O}", 3) == 0)
			o = stpcpy(o, out);
		else if (strncmp(tmpl, "{B}", 3) == 0)
			o = stpcpy(o, out_base);
		else if (strncmp(tmpl, "{H}", 3) == 0)
			o = stpcpy(stpcpy(o, root), "/home");
		else {
			*o++ = *tmpl++;
			continue;
		}
		tmpl += 3;
	}
	*o = '\0';
	return res;
}

static const char *const files[] = {
	"{R}/f", "{R}/d/f", "{R}/sec/f", "{R}/home/.keep", "{R}/.git/config",
	"{R}/.git/HEAD", "{R}/.config/koda/db/key", "{R}/secret/f",
	"{R}/secret/open/f", "{R}/pub/x", "{O}/f", "{O}/aw/sec/f",
};

/* Links in R: name, target. */
static const char *const links[][2] = {
	{ "lout", "{O}/f" }, { "letc", "/etc" }, { "lrel", "d/f" },
	{ "dangle", "{R}/nowhere/f" }, { "dangle_out", "/nonexistent-ks/f" },
	{ "lhome", "{H}" }, { "ldb", "{R}/.config/koda/db/../../../f" },
	{ "ldb2", "{R}/.config/koda/db/key" }, { "lgit", ".git/config" },
	{ "lsec", "sec/f" }, { "law", "{O}/aw/f" }, { "loop1", "loop2" },
	{ "loop2", "loop1" }, { "pub/l", "{R}/secret/f" },
	{ "pub/lo", "../secret/open/f" }, { "lsecret", "secret" },
	{ "c11", "d/f" }, { "e11", "{O}/f" },
};

static void
at(const char *name, const char *target)
{
	char path[PATH_MAX], *t = subst(target);

	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_msg(symlink(t, path) == 0, "symlink %s", path);
	free(t);
}

static void
verdict_setup(void)
{
	char *t = ks_tmpdir(), *o = ks_tmpdir(), *f, name[8], next[8];

	root = realpath(t, NULL);
	out = realpath(o, NULL);
	out_base = strrchr(out, '/') + 1;
	free(t);
	free(o);
	ck_assert_int_eq(chdir(root), 0);
	for (size_t i = 0; i < NELEM(files); i++) {
		ks_putf("x", "%s", (f = subst(files[i])));
		free(f);
	}
	for (size_t i = 0; i < NELEM(links); i++)
		at(links[i][0], links[i][1]);
	/* Two chains of 12 links, longer than any clamped depth. */
	for (int i = 0; i < 22; i++) {
		snprintf(name, sizeof(name), "%c%d", "ce"[i / 11], i % 11);
		snprintf(next, sizeof(next), "%c%d", "ce"[i / 11], i % 11 + 1);
		at(name, next);
	}
}

static void
verdict_teardown(void)
{
	ks_rmtree(root);
	ks_rmtree(out);
	free(root);
	free(out);
}

/* Policy variants of the verdict table. */
enum { BASE, GIT_OK, ALLOW_ETC, LEGACY, NO_HOME, HOME_ONLY };

static void
verdict_policy(int variant, struct ks_policy *p, struct ks_policy_ctx *ctx)
{
	char *json = subst(variant >= NO_HOME ? "{}" :
	    "{'fs':{'allow_write':['{O}/aw'],'deny_write_within_allow':"
	    "['{R}/sec','{O}/aw/sec'],'deny_read':['{R}/secret'],"
	    "'allow_read_within_deny':['{R}/secret/open']}}");

	pol(json, p);
	free(json);
	p->allow_git_config = variant == GIT_OK;
	if (variant == ALLOW_ETC)
		ks_strv_push(&p->allow_write, "/etc", 4);
	ctx->policy = p;
	ctx->root = variant == LEGACY ? NULL : root;
	ctx->root_resolved = ctx->root;
	ctx->home = variant == NO_HOME ? NULL : subst("{H}");
}

#define FP(p) "write denied: '" p "' is a fully-protected path"
#define CRIT(p) "write denied: '" p "' is a critical system path"
#define OUTSIDE(p) "write denied: '" p "' is outside writable root '{R}'"
#define SUBPATH(p) "write denied: '" p "' is in a write-protected sub-path"
#define CHAIN(c) "write denied: symlink chain reaches protected path '" c "'"
#define GIT(p) "write denied: '" p "' is a git config path " \
	"(allow_git_config is off)"
#define RFP(p) "read denied: '" p "' is a fully-protected path"
#define RDENY(p) "read denied: '" p "' is in a read-denied path"
#define ELOOP_TEXT "!Too many levels of symbolic links (os error 40)"

/*
 * op 'w' or 'r'; want: a policy_denied message; "!" and an io message;
 * or allowed: "=" (write: and where it lands), "@" where it lands
 * through a link.
 */
static const struct {
	char op;
	const char *path;
	int variant;
	const char *want;
} verdicts[] = {
	{ 'w', "{H}/.config/koda/db/x", BASE, FP("{H}/.config/koda/db/x") },
	{ 'w', "{H}/.config/koda/db", BASE, FP("{H}/.config/koda/db") },
	{ 'w', "/srv/.config/koda/db", BASE, FP("/srv/.config/koda/db") },
	{ 'w', "/", BASE, CRIT("/") }, { 'w', "/etc", BASE, CRIT("/etc") },
	{ 'w', "/etc/", BASE, CRIT("/etc/") },
	{ 'w', "//usr", BASE, CRIT("//usr") },
	{ 'w', "{H}", BASE, CRIT("{H}") }, { 'w', "{H}/", BASE, CRIT("{H}/") },
	{ 'w', "*", BASE, CRIT("*") }, { 'w', "/x/*", BASE, CRIT("/x/*") },
	{ 'w', "{R}/*", BASE, CRIT("{R}/*") },
	{ 'w', "{O}/f", BASE, OUTSIDE("{O}/f") },
	{ 'w', "{O}/aw/f", BASE, "={O}/aw/f" },
	{ 'w', "{O}/aw/new/dir/f", BASE, "={O}/aw/new/dir/f" },
	{ 'w', "{R}/sec/f", BASE, SUBPATH("{R}/sec/f") },
	{ 'w', "{R}/sec", BASE, SUBPATH("{R}/sec") },
	{ 'w', "{R}/lsec", BASE, SUBPATH("{R}/lsec") },
	{ 'w', "{O}/aw/sec/f", BASE, OUTSIDE("{O}/aw/sec/f") },
	{ 'w', "{R}/lout", BASE, OUTSIDE("{R}/lout") },
	{ 'w', "{R}/law", BASE, "@{O}/aw/f" },
	{ 'w', "{R}/letc", BASE, OUTSIDE("{R}/letc") },
	{ 'w', "{R}/letc", ALLOW_ETC, CHAIN("/etc") },
	{ 'w', "{R}/lhome", BASE, CHAIN("{H}") },
	{ 'w', "{R}/ldb", BASE, CHAIN("{R}/.config/koda/db/../../../f") },
	{ 'w', "{R}/lrel", BASE, "@{R}/d/f" },
	{ 'w', "{R}/dangle", BASE, "@{R}/nowhere/f" },
	{ 'w', "{R}/dangle_out", BASE, OUTSIDE("{R}/dangle_out") },
	{ 'w', "{R}/c0", BASE, "@{R}/d/f" },
	{ 'w', "{R}/e0", BASE, OUTSIDE("{R}/e0") },
	{ 'w', "{R}/loop1", BASE, ELOOP_TEXT },
	{ 'w', "{R}/missing/../../{B}/f", BASE,
	    OUTSIDE("{R}/missing/../../{B}/f") },
	{ 'w', "{R}/missing/../f", BASE, "={R}/f" },
	{ 'w', "{R}/f", BASE, "={R}/f" },
	{ 'w', "{R}/d/new/f", BASE, "={R}/d/new/f" },
	{ 'w', "", BASE, OUTSIDE("") }, { 'w', "f", BASE, OUTSIDE("f") },
	{ 'w', "{R}/.git/config", BASE, GIT("{R}/.git/config") },
	{ 'w', "{R}/.git/hooks/x", BASE, GIT("{R}/.git/hooks/x") },
	{ 'w', "{R}/sub/.git/config", BASE, GIT("{R}/sub/.git/config") },
	{ 'w', "{R}/lgit", BASE, GIT("{R}/lgit") },
	{ 'w', "{R}/.git/HEAD", BASE, "={R}/.git/HEAD" },
	{ 'w', "{R}/.git/config", GIT_OK, "={R}/.git/config" },
	{ 'w', "{R}/lgit", GIT_OK, "@{R}/.git/config" },
	{ 'w', "{O}/f", LEGACY, "={O}/f" },
	{ 'w', "{R}/lout", LEGACY, "@{O}/f" }, { 'w', "f", LEGACY, "={R}/f" },
	{ 'w', "/etc", LEGACY, CRIT("/etc") },
	{ 'w', "{H}", LEGACY, CRIT("{H}") },
	{ 'w', "{H}/.config/koda/db/x", LEGACY, FP("{H}/.config/koda/db/x") },
	{ 'w', "{R}/.git/config", LEGACY, GIT("{R}/.git/config") },
	{ 'w', "{R}/lgit", LEGACY, GIT("{R}/lgit") },
	{ 'r', "{R}/secret/f", BASE, RDENY("{R}/secret/f") },
	{ 'r', "{R}/secret", BASE, RDENY("{R}/secret") },
	{ 'r', "{R}/secretx", BASE, "=" },
	{ 'r', "{R}/secret/open/f", BASE, "=" },
	{ 'r', "{R}/secret/open", BASE, "=" }, { 'r', "{R}/pub/x", BASE, "=" },
	{ 'r', "{R}/pub/l", BASE, RDENY("{R}/pub/l") },
	{ 'r', "{R}/pub/lo", BASE, "=" },
	{ 'r', "{R}/pub/../secret/f", BASE, RDENY("{R}/pub/../secret/f") },
	{ 'r', "{R}/lsecret/f", BASE, RDENY("{R}/lsecret/f") },
	{ 'r', "{R}/lsecret/open/f", BASE, "=" },
	{ 'r', "{H}/.config/koda/db", BASE, RFP("{H}/.config/koda/db") },
	{ 'r', "/x/.config/koda/db/y", BASE, RFP("/x/.config/koda/db/y") },
	{ 'r', "{R}/ldb2", BASE, RFP("{R}/ldb2") },
	{ 'r', "{R}/ldb2", HOME_ONLY, RFP("{R}/ldb2") },
	{ 'r', "{R}/ldb2", NO_HOME, RFP("{R}/ldb2") },
	{ 'r', "{R}/pub/x", NO_HOME, "=" },
};

START_TEST(verdict_is_the_reference_message_or_the_landing)
{
	struct ks_policy p;
	struct ks_policy_ctx ctx;
	struct ks_err err = { .code = KS_CODE_NONE };
	char *path = subst(verdicts[_i].path), *want = subst(verdicts[_i].want);
	char *landing = NULL;
	bool final_link = false;
	int rc;

	verdict_policy(verdicts[_i].variant, &p, &ctx);
	if (verdicts[_i].op == 'w')
		rc = ks_policy_check_write(&ctx, path, &landing, &final_link,
		    &err);
	else
		rc = ks_policy_check_read(&ctx, path, &err);
	if (want[0] == '=' || want[0] == '@') {
		ck_assert_msg(rc == 0, "%s: %s", path, err.msg);
		if (verdicts[_i].op == 'w')
			ck_assert_str_eq(landing, want + 1);
		ck_assert_int_eq(final_link, want[0] == '@');
	} else {
		ck_assert_msg(rc < 0, "%s allowed", path);
		ck_assert_int_eq(err.code, want[0] == '!' ? KS_CODE_IO :
		    KS_CODE_POLICY_DENIED);
		ck_assert_str_eq(err.msg, want + (want[0] == '!'));
		ck_assert_ptr_null(landing);
	}
	free(want);
	free(path);
	free(landing);
	free((char *)ctx.home);
	ks_policy_free(&p);
}
END_TEST

Suite *
verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *depth = tcase_create("depth"), *verd = tcase_create("verdict");

	tcase_add_loop_test(depth, chain_depth_is_clamped_to_8_through_40, 0,
	    NELEM(depths));
	suite_add_tcase(s, depth);
	tcase_add_checked_fixture(verd, verdict_setup, verdict_teardown);
	tcase_add_loop_test(verd,
	    verdict_is_the_reference_message_or_the_landing, 0,
	    NELEM(verdicts));
	suite_add_tcase(s, verd);
	return s;
}
