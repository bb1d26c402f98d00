/*
 * check_walk: the walk's order (Rust's Path order), what it does with
 * links, and what its callbacks can do: skip, stop, fail.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "walk.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char *tree;

static void
tree_setup(void)
{
	static const char *const files[] = {
		"b", "a-c", "a/x", "a.b", "A", "a/y/z", "real/f",
	};

	tree = ks_tmpdir();
	for (size_t i = 0; i < NELEM(files); i++)
		ks_putf("", "%s/%s", tree, files[i]);
	ck_assert(chdir(tree) == 0);
	ck_assert(symlink("real", "ln") == 0);
	ck_assert(symlink("nowhere", "dangling") == 0);
}

static void
tree_teardown(void)
{
	ks_rmtree(tree);
	free(tree);
	tree = NULL;
}

/* What the callbacks saw, and what they answer. */
struct log {
	char text[4096];
	const char *skip, *stop;	/* paths (below the tree) to answer */
	int fail;			/* a negative errno for "fail" */
	const char *fail_at;
	int enters, leaves;
};

static const char *
rel(const char *path)
{
	size_t n = strlen(tree);

	return strncmp(path, tree, n) == 0 ? path + n + (path[n] == '/') :
	    path;
}

static int
on_entry(void *ctx, const struct ks_walk_ent *e)
{
	struct log *l = ctx;
	const char *r = rel(e->path);
	char line[512];

	snprintf(line, sizeof(line), "%s %c%u\n", r, e->type == DT_DIR ? 'd' :
	    e->type == DT_LNK ? 'l' : e->type == DT_REG ? 'f' : '?', e->depth);
	strcat(l->text, line);
	ck_assert_str_eq(e->name, strrchr(e->path, '/') + 1);
	if (l->skip != NULL && strcmp(r, l->skip) == 0)
		return KS_WALK_SKIP;
	if (l->stop != NULL && strcmp(r, l->stop) == 0)
		return KS_WALK_STOP;
	if (l->fail_at != NULL && strcmp(r, l->fail_at) == 0)
		return l->fail;
	return KS_WALK_NEXT;
}

static int
on_enter(void *ctx, int fd, const char *path)
{
	struct log *l = ctx;

	ck_assert(fd >= 0);
	(void)path;
	l->enters++;
	return 0;
}

static void
on_leave(void *ctx)
{
	((struct log *)ctx)->leaves++;
}

static int
walk(const char *root, struct log *l)
{
	struct ks_walk_ops ops = { on_entry, on_enter, on_leave, l };
	int fd, rc;

	ck_assert((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	rc = ks_walk_run(fd, root, &ops);
	close(fd);
	ck_assert_int_eq(l->enters, l->leaves);
	return rc;
}

START_TEST(entries_come_in_rust_path_order)
{
	struct log l = { 0 };

	ck_assert_int_eq(walk(tree, &l), 0);
	/* "a/x" before "a-c": components compare, not whole strings. */
	ck_assert_str_eq(l.text, "A f1\na d1\na/x f2\na/y d2\na/y/z f3\n"
	    "a-c f1\na.b f1\nb f1\ndangling l1\nln l1\nreal d1\nreal/f f2\n");
	ck_assert_int_eq(l.enters, 4);	/* the root, a, a/y, real */
}
END_TEST

START_TEST(links_are_listed_never_followed)
{
	struct log l = { 0 };

	ck_assert_int_eq(walk(tree, &l), 0);
	ck_assert_ptr_null(strstr(l.text, "ln/"));
	ck_assert_ptr_nonnull(strstr(l.text, "\nln l1\n"));
}
END_TEST

START_TEST(skip_keeps_the_walk_out_of_a_directory)
{
	struct log l = { .skip = "a" };

	ck_assert_int_eq(walk(tree, &l), 0);
	ck_assert_ptr_null(strstr(l.text, "a/"));
	ck_assert_ptr_nonnull(strstr(l.text, "a-c f1\n"));
}
END_TEST

START_TEST(stop_ends_the_walk_with_one)
{
	struct log l = { .stop = "a/x" };

	ck_assert_int_eq(walk(tree, &l), 1);
	ck_assert_str_eq(l.text, "A f1\na d1\na/x f2\n");
}
END_TEST

START_TEST(an_error_ends_the_walk_and_is_returned)
{
	struct log l = { .fail = -EIO, .fail_at = "a/y" };

	ck_assert_int_eq(walk(tree, &l), -EIO);
	ck_assert_str_eq(l.text, "A f1\na d1\na/x f2\na/y d2\n");
}
END_TEST

START_TEST(a_root_ending_in_a_slash_is_joined_once)
{
	struct log l = { .stop = "A" };
	char *root;

	ck_assert(asprintf(&root, "%s/", tree) > 0);
	ck_assert_int_eq(walk(root, &l), 1);
	ck_assert_str_eq(l.text, "A f1\n");
	free(root);
}
END_TEST

START_TEST(a_relative_root_gives_relative_paths)
{
	struct log l = { .stop = "./a/x" };

	ck_assert_int_eq(walk(".", &l), 1);
	ck_assert_str_eq(l.text, "./A f1\n./a d1\n./a/x f2\n");
}
END_TEST

static char *
walk_tree(void *arg)
{
	struct log *l = arg;
	char *out = NULL;
	int rc = walk(tree, l);

	return asprintf(&out, "%d\n%s", rc, l->text) < 0 ? NULL : out;
}

/* Root reads every directory: the walk runs as uid 65534. */
START_TEST(an_unreadable_directory_is_passed_over)
{
	struct log l = { 0 };
	char *got;

	ck_assert(chmod(tree, 0755) == 0);
	ck_assert(chmod("a", 0) == 0);
	got = ks_as_nobody(walk_tree, &l);
	ck_assert(chmod("a", 0755) == 0);
	ck_assert_msg(strncmp(got, "0\n", 2) == 0, "walk: %s", got);
	ck_assert_ptr_null(strstr(got, "a/"));
	ck_assert_ptr_nonnull(strstr(got, "a d1\na-c f1\n"));
	free(got);
}
END_TEST

Suite *
walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_test(tc, entries_come_in_rust_path_order);
	tcase_add_test(tc, links_are_listed_never_followed);
	tcase_add_test(tc, skip_keeps_the_walk_out_of_a_directory);
	tcase_add_test(tc, stop_ends_the_walk_with_one);
	tcase_add_test(tc, an_error_ends_the_walk_and_is_returned);
	tcase_add_test(tc, a_root_ending_in_a_slash_is_joined_once);
	tcase_add_test(tc, a_relative_root_gives_relative_paths);
	tcase_add_test(tc, an_unreadable_directory_is_passed_over);
	suite_add_tcase(s, tc);
	return s;
}
