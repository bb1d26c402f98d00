/*
 * check_extlist: the protocol extensions (protocol(7), EXTENSIONS) that
 * list, on the built worker: list_dir, grep and glob paged through with
 * cursors, grep's case_insensitive and fixed_strings, and the names a
 * walk cannot carry in JSON, counted.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

START_TEST(list_dir_shows_types_and_sizes_and_hides_the_denied)
{
	char *pol, path[4200];
	struct ks_proc p;

	ks_putf("12345", "%s/d/file", ks_root);
	ks_putf("s", "%s/d/secret/key", ks_root);
	ks_putf("x", "%s/d/sub/x", ks_root);
	snprintf(path, sizeof(path), "%s/d/fifo", ks_root);
	ck_assert(mkfifo(path, 0600) == 0);
	snprintf(path, sizeof(path), "%s/d/link", ks_root);
	ck_assert(symlink("file", path) == 0);
	snprintf(path, sizeof(path), "%s/d/to-secret", ks_root);
	ck_assert(symlink("secret/key", path) == 0);
	ck_assert(asprintf(&pol, "{\"fs\":{\"deny_read\":[\"%s/d/secret\"]}}",
	    ks_root) > 0);
	ks_spawn_root(&p, ks_root, pol, false);
	ks_expect(&p, ks_root, "{\"kind\":\"list_dir\",\"path\":\"%R/d\"}",
	    "{\"kind\":\"list_dir\",\"entries\":["
	    "{\"name\":\"fifo\",\"type\":\"fifo\",\"size\":0},"
	    "{\"name\":\"file\",\"type\":\"file\",\"size\":5},"
	    "{\"name\":\"link\",\"type\":\"symlink\",\"size\":4},"
	    "{\"name\":\"sub\",\"type\":\"dir\",\"size\":4096}]}");
	ks_expect(&p, ks_root, "{\"kind\":\"list_dir\",\"path\":"
	    "\"%R/d/secret\"}", "{\"kind\":\"error\",\"code\":"
	    "\"policy_denied\",\"message\":"
	    "\"read denied: '%R/d/secret' is in a read-denied path\"}");
	ks_expect(&p, ks_root, "{\"kind\":\"list_dir\",\"path\":\"%R/d/file\"}",
	    "{\"kind\":\"error\",\"code\":\"io\",\"message\":"
	    "\"Not a directory (os error 20)\"}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(pol);
}
END_TEST

/* 100 files of 1,000 matching lines: 100,000 matches. */
static void
many_matches(void)
{
	char line[64], *buf = malloc(1000 * 32);
	size_t o;

	ck_assert(buf != NULL);
	for (int f = 0; f < 100; f++) {
		o = 0;
		for (int l = 0; l < 1000; l++) {
			snprintf(line, sizeof(line), "hit %d %d\n", f, l);
			memcpy(buf + o, line, strlen(line));
			o += strlen(line);
		}
		buf[o] = '\0';
		ks_putf(buf, "%s/m/%02d/f.txt", ks_root, f);
	}
	free(buf);
}

/* Pages grep (max: max_matches, 0 none) through cursors; every match
 * "hit F L" must come exactly once. Returns the pages it took. */
static int
page_grep(struct ks_proc *p, unsigned max)
{
	static bool seen[100][1000];
	char req[8400], lim[64] = "", *r, *cur = NULL, *q;
	int pages = 0, total = 0, f, l;

	memset(seen, 0, sizeof(seen));
	if (max > 0)
		snprintf(lim, sizeof(lim), ",\"max_matches\":%u", max);
	for (;;) {
		snprintf(req, sizeof(req), "{\"kind\":\"grep\",\"pattern\":"
		    "\"^hit\",\"root\":\"%s/m\"%s,\"cursor\":\"%s\"}", ks_root,
		    lim, cur ? cur : "");
		r = ks_call(p, req);
		pages++;
		for (q = r; (q = strstr(q, "\"text\":\"hit ")) != NULL; q++) {
			ck_assert(sscanf(q + 12, "%d %d", &f, &l) == 2);
			ck_assert_msg(!seen[f][l], "hit %d %d twice", f, l);
			seen[f][l] = true;
			total++;
		}
		free(cur);
		cur = NULL;
		if ((q = strstr(r, "\"cursor\":\"")) == NULL) {
			ck_assert_msg(strstr(r, "truncated") == NULL, "cut "
			    "without a cursor");
			free(r);
			break;
		}
		cur = strndup(q + 10, strcspn(q + 10, "\""));
		free(r);
	}
	ck_assert_int_eq(total, 100000);
	return pages;
}

START_TEST(grep_paging_reaches_every_match_exactly_once)
{
	struct ks_proc p;
	int by_frame, by_max;

	many_matches();
	ks_spawn_root(&p, ks_root, NULL, false);
	/* A cursor alone pages at the frame's limit; max_matches sooner. */
	by_frame = page_grep(&p, 0);
	by_max = page_grep(&p, 7777);
	printf("extend: grep of 100,000 matches paged in %d replies (frame "
	    "limit) and %d (max_matches 7777), each match once\n", by_frame,
	    by_max);
	ck_assert_int_gt(by_frame, 1);
	ck_assert_int_eq(by_max, 13);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

START_TEST(glob_paging_reaches_every_path_exactly_once)
{
	char req[8400], *r, *cur = NULL, *q;
	int total = 0, pages = 0;
	struct ks_proc p;

	/* 12,000 paths of ~120 bytes: more than one reply holds. */
	for (int i = 0; i < 12000; i++) {
		ks_putf("", "%s/g/%03d/%s-%05d", ks_root, i / 100,
		    "a-rather-long-name-to-fill-replies-quickly-xxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxx", i);
	}
	ks_spawn_root(&p, ks_root, NULL, false);
	for (;;) {
		snprintf(req, sizeof(req), "{\"kind\":\"glob\",\"pattern\":"
		    "\"*/a-*\",\"root\":\"%s/g\",\"cursor\":\"%s\"}", ks_root,
		    cur ? cur : "");
		r = ks_call(&p, req);
		pages++;
		free(cur);
		cur = NULL;
		if ((q = strstr(r, "\"cursor\":\"")) != NULL)
			cur = strndup(q + 10, strcspn(q + 10, "\""));
		if ((q = strstr(r, "],\"truncated\"")) != NULL)
			*q = '\0';	/* count the paths, not the cursor */
		for (q = r; (q = strstr(q, "/a-rather")) != NULL; q++)
			total++;
		free(r);
		if (cur == NULL)
			break;
	}
	printf("extend: glob of 12,000 paths paged in %d replies\n", pages);
	ck_assert_int_eq(total, 12000);
	ck_assert_int_gt(pages, 1);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

START_TEST(grep_case_insensitive_and_fixed_strings)
{
	struct ks_proc p;

	ks_putf("Foo (1)\nfoo.1\nFOO\n", "%s/t.txt", ks_root);
	ks_spawn_root(&p, ks_root, NULL, false);
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"foo\","
	    "\"root\":\"%R\",\"case_insensitive\":true}",
	    "{\"kind\":\"grep\",\"matches\":["
	    "{\"path\":\"%R/t.txt\",\"line\":1,\"text\":\"Foo (1)\"},"
	    "{\"path\":\"%R/t.txt\",\"line\":2,\"text\":\"foo.1\"},"
	    "{\"path\":\"%R/t.txt\",\"line\":3,\"text\":\"FOO\"}]}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"o (1)\","
	    "\"root\":\"%R\",\"fixed_strings\":true}",
	    "{\"kind\":\"grep\",\"matches\":["
	    "{\"path\":\"%R/t.txt\",\"line\":1,\"text\":\"Foo (1)\"}]}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"foo.1\","
	    "\"root\":\"%R\",\"fixed_strings\":true,"
	    "\"case_insensitive\":true}",
	    "{\"kind\":\"grep\",\"matches\":["
	    "{\"path\":\"%R/t.txt\",\"line\":2,\"text\":\"foo.1\"}]}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"[]{}^$#&-~\","
	    "\"root\":\"%R\",\"fixed_strings\":true}",
	    "{\"kind\":\"grep\",\"matches\":[]}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"o\",\"root\":"
	    "\"%R\",\"max_matches\":1}", "{\"kind\":\"grep\",\"matches\":["
	    "{\"path\":\"%R/t.txt\",\"line\":1,\"text\":\"Foo (1)\"}],"
	    "\"truncated\":true,\"cursor\":\"1:%R/t.txt\"}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"o\",\"root\":"
	    "\"%R\",\"cursor\":\"x\"}", "{\"kind\":\"error\",\"code\":"
	    "\"protocol\",\"message\":\"grep cursor: expected LINE:PATH as a "
	    "truncated reply gives it\"}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

/* Names that are not UTF-8 cannot travel in JSON: an extended glob or
 * grep says how many it left out; the reference's reply stays as it is. */
START_TEST(walks_count_the_names_they_cannot_carry)
{
	struct ks_proc p;

	ks_putf("x\n", "%s/u/bad\xff", ks_root);
	ks_putf("x\n", "%s/u/good", ks_root);
	ks_spawn_root(&p, ks_root, NULL, false);
	ks_expect(&p, ks_root, "{\"kind\":\"glob\",\"pattern\":\"*\",\"root\":"
	    "\"%R/u\"}", "{\"kind\":\"glob\",\"paths\":[\"%R/u/good\"]}");
	ks_expect(&p, ks_root, "{\"kind\":\"glob\",\"pattern\":\"*\",\"root\":"
	    "\"%R/u\",\"cursor\":\"\"}", "{\"kind\":\"glob\",\"paths\":"
	    "[\"%R/u/good\"],\"skipped_names\":1}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"x\",\"root\":"
	    "\"%R/u\",\"cursor\":\"\"}", "{\"kind\":\"grep\",\"matches\":"
	    "[{\"path\":\"%R/u/good\",\"line\":1,\"text\":\"x\"}],"
	    "\"skipped_names\":1}");
	ks_expect(&p, ks_root, "{\"kind\":\"grep\",\"pattern\":\"x\",\"root\":"
	    "\"%R/u\"}", "{\"kind\":\"grep\",\"matches\":[{\"path\":"
	    "\"%R/u/good\",\"line\":1,\"text\":\"x\"}]}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

Suite *
extlist_suite(void)
{
	Suite *s = suite_create("extlist");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, ks_root_setup, ks_root_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, list_dir_shows_types_and_sizes_and_hides_the_denied);
	tcase_add_test(tc, grep_paging_reaches_every_match_exactly_once);
	tcase_add_test(tc, glob_paging_reaches_every_path_exactly_once);
	tcase_add_test(tc, grep_case_insensitive_and_fixed_strings);
	tcase_add_test(tc, walks_count_the_names_they_cannot_carry);
	suite_add_tcase(s, tc);
	return s;
}
