/*
 * pclib: what the suites of policy-check share (check_policy_check,
 * check_agreement): the fixture top/{root,allow,out,home} with a policy
 * file, arguments filled with its paths, and runs of policy-check whose
 * exit status and stderr are asserted.
 */
#include "pclib.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

char *ks_pc_top;
char *ks_pc_root, *ks_pc_allow, *ks_pc_outside, *ks_pc_home;
char *ks_pc_polfile;
int ks_pc_last_rc;

void
ks_pc_setup(void)
{
	ks_pc_top = ks_tmpdir();
	ck_assert(asprintf(&ks_pc_root, "%s/root", ks_pc_top) > 0 &&
	    asprintf(&ks_pc_allow, "%s/allow", ks_pc_top) > 0 &&
	    asprintf(&ks_pc_outside, "%s/out", ks_pc_top) > 0 &&
	    asprintf(&ks_pc_home, "%s/home", ks_pc_top) > 0 &&
	    asprintf(&ks_pc_polfile, "%s/policy.json", ks_pc_top) > 0);
	ks_putf("a\n", "%s/a.txt", ks_pc_root);
	ks_putf("f\n", "%s/sub/f.txt", ks_pc_root);
	ks_putf("p\n", "%s/protected/p.txt", ks_pc_root);
	ks_putf("[core]\n", "%s/.git/config", ks_pc_root);
	ks_putf("ref\n", "%s/.git/HEAD", ks_pc_root);
	ks_putf("s\n", "%s/private/s.txt", ks_pc_root);
	ks_putf("o\n", "%s/private/open/o.txt", ks_pc_root);
	ks_mkdirs(ks_pc_allow);
	ks_mkdirs(ks_pc_outside);
	ks_mkdirs(ks_pc_home);
	/* One HOME for policy-check and the worker: a throwaway one. */
	setenv("HOME", ks_pc_home, 1);
	ks_putf("{}", "%s", ks_pc_polfile);
}

void
ks_pc_teardown(void)
{
	ks_rmtree(ks_pc_top);
	free(ks_pc_top);
	free(ks_pc_root);
	free(ks_pc_allow);
	free(ks_pc_outside);
	free(ks_pc_home);
	free(ks_pc_polfile);
}

char *
ks_pc_fill(const char *s)
{
	char *o = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&o, &n);
	const char *v;

	for (; *s != '\0'; s++) {
		v = s[0] != '%' ? NULL : s[1] == 'R' ? ks_pc_root :
		    s[1] == 'A' ? ks_pc_allow : s[1] == 'O' ? ks_pc_outside :
		    s[1] == 'H' ? ks_pc_home : s[1] == 'T' ? ks_pc_top :
		    s[1] == 'F' ? ks_pc_polfile : NULL;
		if (v != NULL)
			fputs(v, f);
		else
			fputc(*s, f);
		s += v != NULL;
	}
	fclose(f);
	return o;
}

void
ks_pc_put_policy(const char *json)
{
	char *j = ks_pc_fill(json);

	ks_putf(j, "%s", ks_pc_polfile);
	free(j);
}

const char ks_pc_corpus_policy[] =
	"{\"fs\":{\"allow_write\":[\"%A\"],\"deny_write_within_allow\":"
	"[\"%R/protected\",\"%A/carved\"],\"deny_read\":[\"%R/private\","
	"\"%O\"],\"allow_read_within_deny\":[\"%R/private/open\"]}}";

char *
ks_pc_run(const char *const *tmpl, const char *in, size_t len, int rc)
{
	const char *argv[32] = { "koda-sandbox", "policy-check" };
	char *filled[32] = { 0 }, *out, *err;
	size_t n = 2;
	int st;

	for (; *tmpl != NULL && n < NELEM(argv) - 1; tmpl++, n++)
		argv[n] = filled[n] = ks_pc_fill(*tmpl);
	argv[n] = NULL;
	st = in != NULL ? ks_run_in(argv, in, len, &out, &err) :
	    ks_run(argv, &out, &err);
	ck_assert_msg(WIFEXITED(st), "policy-check died (status %d)", st);
	ks_pc_last_rc = WEXITSTATUS(st);
	ck_assert_msg(ks_pc_last_rc == rc || (rc < 0 &&
	    ks_pc_last_rc <= 1), "exit %d, want %d; stderr: %s",
	    ks_pc_last_rc, rc, err);
	ck_assert_msg(rc == 2 ? strncmp(err, "policy-check: ", 14) == 0 ||
	    strncmp(err, "usage: ", 7) == 0 : err[0] == '\0', "stderr: %s",
	    err);
	for (size_t i = 0; i < n; i++)
		free(filled[i]);
	free(err);
	return out;
}

void
ks_pc_expect(const char *const *tmpl, const char *in, int rc,
    const char *want)
{
	char *out = ks_pc_run(tmpl, in, in != NULL ? strlen(in) : 0, rc);
	char *w = ks_pc_fill(want);

	ck_assert_str_eq(out, w);
	free(out);
	free(w);
}

json_t *
ks_pc_parse_line(const char *line, size_t len)
{
	static const char *const keys[] = { "path", "op", "allowed", "reason" };
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	void *it;

	ck_assert_msg(o != NULL, "not JSON (%s): %.*s", je.text, (int)len,
	    line);
	it = json_object_iter(o);
	for (size_t i = 0; i < NELEM(keys); i++) {
		ck_assert_str_eq(json_object_iter_key(it), keys[i]);
		it = json_object_iter_next(o, it);
	}
	ck_assert_ptr_null(it);
	return o;
}
