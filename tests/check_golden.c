/*
 * check_golden: replays the reference worker's recorded session
 * (tests/golden, see its README) against ours and compares every reply
 * by the README's rules.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "testlib.h"

#define EXT4_MAGIC 0xEF53

/* s with every "<T>" replaced by base; caller frees. */
static char *
subst(const char *s, const char *base)
{
	return ks_subst(s, "<T>", base);
}

static json_t *
load_file(const char *dir, const char *name)
{
	char path[4096];
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	j = json_load_file(path, JSON_ALLOW_NUL, &je);
	ck_assert_msg(j != NULL, "%s: %s", path, je.text);
	return j;
}

static void
make_tree(json_t *tree, const char *base)
{
	const char *k;
	json_t *v, *e;
	size_t i;
	char *p, *t, buf[64];

	json_array_foreach(json_object_get(tree, "dirs"), i, v) {
		p = subst(json_string_value(v), base);
		ks_mkdirs(p);
		free(p);
	}
	json_object_foreach(json_object_get(tree, "files"), k, v) {
		p = subst(k, base);
		ks_put(p, json_string_value(v), json_string_length(v));
		free(p);
	}
	json_object_foreach(json_object_get(tree, "binary_files"), k, v) {
		char *bytes = malloc(json_array_size(v) + 1);

		json_array_foreach(v, i, e)
			bytes[i] = (char)json_integer_value(e);
		p = subst(k, base);
		ks_put(p, bytes, json_array_size(v));
		free(p);
		free(bytes);
	}
	json_object_foreach(json_object_get(tree, "symlinks"), k, v) {
		p = subst(k, base);
		t = subst(json_string_value(v), base);
		ck_assert_msg(symlink(t, p) == 0, "symlink %s", p);
		free(p);
		free(t);
	}
	/* The one generated file the README describes. */
	ck_assert(json_object_get(json_object_get(tree, "generated_files"),
	    "<T>/root/big.txt") != NULL);
	p = subst("<T>/root/big.txt", base);
	FILE *f = fopen(p, "w");
	for (int n = 0; n < 20000; n++) {
		snprintf(buf, sizeof(buf), "filler %d\n", n);
		fputs(buf, f);
	}
	fclose(f);
	free(p);
}

static int
cmp_dump(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The grep matches of reply j as a sorted list of dumped objects. */
static char *
matches_multiset(json_t *j)
{
	json_t *m = json_object_get(j, "matches"), *e;
	size_t i, n = json_array_size(m), len = 0;
	char **v = calloc(n + 1, sizeof(*v)), *out;

	json_array_foreach(m, i, e)
		v[i] = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	qsort(v, n, sizeof(*v), cmp_dump);
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = calloc(len + 1, 1);
	for (i = 0; i < n; i++) {
		strcat(strcat(out, v[i]), "\n");
		free(v[i]);
	}
	free(v);
	return out;
}

static const char *
str_of(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s != NULL ? s : "";
}

/* The README's comparison rules; NULL when the replies agree. */
static const char *
compare(const char *want, const char *got, bool ext4)
{
	json_t *w, *g;
	const char *why = NULL;
	char *a, *b;

	if ((g = json_loads(got, JSON_ALLOW_NUL, NULL)) == NULL)
		return "our reply is not JSON";
	if (want == NULL) {
		if (strcmp(str_of(g, "kind"), "grep") != 0 ||
		    !json_is_true(json_object_get(g, "truncated")))
			why = "want a grep reply with truncated:true";
		json_decref(g);
		return why;
	}
	w = json_loads(want, JSON_ALLOW_NUL, NULL);
	if (strcmp(str_of(w, "kind"), "error") == 0 &&
	    strcmp(str_of(w, "code"), "protocol") == 0) {
		if (strcmp(str_of(g, "code"), "protocol") != 0)
			why = "want a protocol error";
	} else if (strcmp(str_of(w, "kind"), "grep") == 0 &&
	    strcmp(str_of(g, "kind"), "grep") == 0) {
		a = matches_multiset(w);
		b = matches_multiset(g);
		if (strcmp(a, b) != 0)
			why = "grep matches differ";
		free(a);
		free(b);
	} else if (strcmp(str_of(w, "kind"), "stat") == 0 && !ext4 &&
	    json_is_true(json_object_get(w, "is_dir"))) {
		json_object_del(w, "size");
		json_object_del(g, "size");
		if (!json_equal(w, g))
			why = "stat differs";
	} else if (strcmp(want, got) != 0) {
		why = "bytes differ";
	}
	json_decref(w);
	json_decref(g);
	return why;
}

START_TEST(golden_session_replays_identically)
{
	const char *dir = getenv("KS_GOLDEN");
	json_t *tree, *env, *line, *v;
	const char *k, *why;
	char *base, *cwd, *req, *want, *got, *envs[16] = { NULL };
	struct ks_proc p;
	struct statfs sf;
	int n = 0, bad = 0, i = 0, st;
	FILE *f;
	static char buf[1 << 21];
	char fname[4096];

	ck_assert_msg(dir != NULL, "KS_GOLDEN is not set");
	tree = load_file(dir, "tree.json");
	base = ks_tmpdir();
	make_tree(tree, base);
	ck_assert(statfs(base, &sf) == 0);
	env = json_object_get(tree, "env");
	json_object_foreach(env, k, v) {
		ck_assert(i < 15);
		ck_assert(asprintf(&envs[i++], "%s=%s", k,
		    json_string_value(v)) > 0);
	}
	cwd = subst(str_of(tree, "cwd"), base);
	ck_assert(chdir(cwd) == 0);
	ks_spawn(&p, NULL, (const char *const *)envs, false);
	snprintf(fname, sizeof(fname), "%s/session.jsonl", dir);
	ck_assert((f = fopen(fname, "r")) != NULL);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line = json_loads(buf, JSON_ALLOW_NUL, NULL);
		ck_assert(line != NULL);
		k = json_dumps(json_object_get(line, "request"),
		    JSON_COMPACT | JSON_PRESERVE_ORDER);
		req = subst(k, base);
		free((char *)k);
		v = json_object_get(line, "reply");
		want = json_is_null(v) ? NULL : subst(json_string_value(v), base);
		got = ks_call(&p, req);
		n++;
		if ((why = compare(want, got, sf.f_type == EXT4_MAGIC)) != NULL &&
		    bad++ < 20)
			printf("golden line %d: %s\n  request: %.300s\n  want: "
			    "%.300s\n  got:  %.300s\n", n, why, req,
			    want ? want : "null", got);
		free(req);
		free(want);
		free(got);
		json_decref(line);
	}
	fclose(f);
	st = ks_finish(&p);
	ck_assert_msg(st == 0, "worker status %d; its stderr:\n%.4000s", st,
	    p.errtext);
	free(p.errtext);
	ks_rmtree(base);
	for (i = 0; envs[i] != NULL; i++)
		free(envs[i]);
	free(cwd);
	free(base);
	json_decref(tree);
	ck_assert_msg(n == 808, "replayed %d requests, want 808", n);
	ck_assert_msg(bad == 0, "%d of %d replies differ from the reference",
	    bad, n);
}
END_TEST

Suite *
golden_suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("replay");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, golden_session_replays_identically);
	suite_add_tcase(s, tc);
	return s;
}
