/*
 * fuzz_policy: ks_policy_parse (with the problems and unknown lists)
 * and ks_policy_lint on the input; then, for a policy that parses, its
 * JSON (ks_policy_to_json) must parse back to the same JSON, and
 * compose with itself and with the default, either way round, must
 * never widen the parent (SPEC §4): no read the parent denies is
 * allowed, no flag or limit is looser. An input holding a NUL byte is
 * two policies, parent before it and child after it.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "path.h"
#include "policy.h"

/* Paths asked about besides the policies' own entries. */
static const char *const fixed[] = {
	"/", "/etc/passwd", "/home/u/.ssh/id_rsa", "/home/u/.config/git/x",
	"/a", "/a/b", "/a/b/c", "/a/bc", "/tmp/ks-fuzz/x", "rel/x", "",
	"/p/.config/koda/db/k",
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))
/* Entries of a policy taken as paths to ask about, at most. */
#define NENTRY 16

static bool
parse(const char *text, size_t len, struct ks_policy *p)
{
	struct ks_strv problems = { 0 }, unknown = { 0 }, lint = { 0 };
	struct ks_err err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = ks_policy_parse(text, len, p, &problems, &unknown, &err);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(rc == 0 || (err.code == KS_CODE_PROTOCOL &&
	    problems.n > 0));
	FUZZ_CHECK(rc < 0 || problems.n == 0);
	FUZZ_CHECK(ks_policy_lint(text, len, &lint) == 0);
	ks_strv_free(&problems);
	ks_strv_free(&unknown);
	ks_strv_free(&lint);
	return rc == 0;
}

/* The printed policy parses back to the same print. */
static void
json_round_trip(const struct ks_policy *p)
{
	struct ks_policy q;
	json_t *a, *b;
	char *text;

	FUZZ_CHECK((a = ks_policy_to_json(p)) != NULL);
	FUZZ_CHECK((text = json_dumps(a, JSON_COMPACT)) != NULL);
	FUZZ_CHECK(parse(text, strlen(text), &q));
	FUZZ_CHECK((b = ks_policy_to_json(&q)) != NULL);
	FUZZ_CHECK(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(text);
	ks_policy_free(&q);
}

static bool
read_denied(const struct ks_policy *p, const char *path)
{
	struct ks_policy_ctx ctx = { p, NULL, NULL, NULL };
	struct ks_err err;

	return ks_policy_check_read(&ctx, path, &err) < 0;
}

/* Every string of sub is in sv, and (with same) the other way round. */
static bool
contains(const struct ks_strv *sv, const struct ks_strv *sub, bool same)
{
	for (size_t i = 0; i < sub->n; i++)
		if (!ks_strv_has(sv, sub->v[i]))
			return false;
	return !same || contains(sub, sv, false);
}

static bool
limit_narrower(struct ks_limit out, struct ks_limit parent)
{
	return !parent.set || (out.set && out.v <= parent.v);
}

static void
ask_entries(const struct ks_policy *par, const struct ks_policy *out,
    const struct ks_strv *sv)
{
	char buf[4096];

	for (size_t i = 0; i < sv->n && i < NENTRY; i++) {
		if (read_denied(par, sv->v[i]))
			FUZZ_CHECK(read_denied(out, sv->v[i]));
		snprintf(buf, sizeof(buf), "%s/x", sv->v[i]);
		if (read_denied(par, buf))
			FUZZ_CHECK(read_denied(out, buf));
	}
}

static void
never_wider(const struct ks_policy *par, const struct ks_policy *chi)
{
	struct ks_policy out;

	FUZZ_CHECK(ks_policy_compose(par, chi, &out) == 0);
	FUZZ_CHECK(contains(&out.deny_read, &par->deny_read, false));
	FUZZ_CHECK(contains(&out.deny_read, &chi->deny_read, false));
	FUZZ_CHECK(contains(&out.allow_write, &par->allow_write, true));
	FUZZ_CHECK(contains(&out.deny_write_within_allow,
	    &par->deny_write_within_allow, false));
	FUZZ_CHECK(contains(&out.allowed_domains, &par->allowed_domains,
	    true));
	FUZZ_CHECK(contains(&out.denied_domains, &par->denied_domains,
	    false));
	FUZZ_CHECK(!out.allow_git_config || par->allow_git_config);
	FUZZ_CHECK(!out.allow_local_binding || par->allow_local_binding);
	FUZZ_CHECK(!out.weaker_macos_isolation ||
	    par->weaker_macos_isolation);
	FUZZ_CHECK(out.has_mitm == par->has_mitm);
	FUZZ_CHECK(out.depth >= par->depth && out.depth >= chi->depth);
	FUZZ_CHECK(out.trust >= par->trust && out.trust >= chi->trust);
	FUZZ_CHECK(limit_narrower(out.cpu_time_secs, par->cpu_time_secs));
	FUZZ_CHECK(limit_narrower(out.wall_time_secs, par->wall_time_secs));
	FUZZ_CHECK(limit_narrower(out.max_rss_bytes, par->max_rss_bytes));
	FUZZ_CHECK(limit_narrower(out.max_open_fds, par->max_open_fds));
	FUZZ_CHECK(limit_narrower(out.max_output_bytes,
	    par->max_output_bytes));
	for (size_t i = 0; i < NFIXED; i++)
		if (read_denied(par, fixed[i]))
			FUZZ_CHECK(read_denied(&out, fixed[i]));
	ask_entries(par, &out, &par->deny_read);
	ask_entries(par, &out, &chi->allow_read_within_deny);
	ask_entries(par, &out, &out.allow_read_within_deny);
	ks_policy_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul;
	struct ks_policy a, b, def;
	bool pa, pb;

	ks_policy_init(&def);
	if ((nul = memchr(text, '\0', size)) == NULL) {
		if (parse(text, size, &a)) {
			json_round_trip(&a);
			never_wider(&a, &a);
			never_wider(&a, &def);
			never_wider(&def, &a);
			ks_policy_free(&a);
		}
		return 0;
	}
	pa = parse(text, (size_t)(nul - text), &a);
	pb = parse(nul + 1, size - (size_t)(nul - text) - 1, &b);
	if (pa && pb) {
		never_wider(&a, &b);
		never_wider(&b, &a);
	}
	ks_policy_free(&a);
	ks_policy_free(&b);
	return 0;
}
