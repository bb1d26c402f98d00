/*
 * check_fsops: the file operations through the core, unconfined: the
 * write-op matrix, atomic replace details, read limits and odd files.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/err.h"
#include "../src/fsops.h"
#include "testlib.h"

/* The reference's edit: the first occurrence of old. */
static int
edit1(struct ks_fs *fs, const char *path, const char *old, size_t olen,
    const char *new, size_t nlen, struct ks_err *err)
{
	struct ks_edit e = { old, new, olen, nlen, false, false };
	size_t count = 0;

	return ks_fs_edit(fs, path, &e, &count, err);
}

static char *root;
static struct ks_policy policy;
static struct ks_fs fs;

static void
setup(void)
{
	root = ks_tmpdir();
	ks_putf("old content\n", "%s/f.txt", root);
	ks_putf("target\n", "%s/dir/target.txt", root);
	ks_putf("caf\xe9\n", "%s/latin1.txt", root);
	ks_policy_init(&policy);
	ck_assert(ks_fs_open(&fs, &policy, root, NULL) == 0);
}

static void
teardown(void)
{
	ks_fs_close(&fs);
	ks_policy_free(&policy);
	ks_rmtree(root);
	free(root);
}

static char *
at(const char *rel)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", root, rel) > 0);
	return p;
}

/* Writes s to root/rel and returns the error text ("" on success). */
static const char *
write_rel(const char *rel, const char *s)
{
	static struct ks_err e;
	char *p = at(rel);
	int rc = ks_fs_write(&fs, p, (const unsigned char *)s, strlen(s), &e);

	free(p);
	return rc == 0 ? "" : e.msg;
}

static void
assert_content(const char *rel, const char *want)
{
	char *p = at(rel), *got = ks_slurp(p, NULL);

	ck_assert_msg(got != NULL, "%s missing", rel);
	ck_assert_str_eq(got, want);
	free(got);
	free(p);
}

START_TEST(write_replaces_and_keeps_mode)
{
	char *p = at("f.txt");
	struct stat st;

	ck_assert(chmod(p, 0640) == 0);
	ck_assert_str_eq(write_rel("f.txt", "new"), "");
	assert_content("f.txt", "new");
	ck_assert(stat(p, &st) == 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	free(p);
}
END_TEST

START_TEST(write_leaves_no_temporary_file)
{
	char *p = at("dir");
	char *cmd;

	ck_assert_str_eq(write_rel("dir/new.txt", "x"), "");
	ck_assert(asprintf(&cmd, "test $(ls -A %s | wc -l) -eq 2", p) > 0);
	ck_assert_msg(system(cmd) == 0, "stray files in %s", p);
	free(cmd);
	free(p);
}
END_TEST

START_TEST(write_through_link_replaces_target_keeps_link)
{
	char *l = at("link"), *t = NULL;
	struct stat st;

	ck_assert(symlink("dir/target.txt", l) == 0);
	ck_assert_str_eq(write_rel("link", "via link"), "");
	ck_assert(lstat(l, &st) == 0 && S_ISLNK(st.st_mode));
	assert_content("dir/target.txt", "via link");
	free(l);
	free(t);
}
END_TEST

START_TEST(write_creates_missing_parents)
{
	ck_assert_str_eq(write_rel("a/b/c/d.txt", "deep"), "");
	assert_content("a/b/c/d.txt", "deep");
}
END_TEST

START_TEST(write_errors_match_the_reference)
{
	char *l = at("dangling"), *l2 = at("dangling2");

	ck_assert_str_eq(write_rel("dir", "x"), "Is a directory (os error 21)");
	ck_assert_str_eq(write_rel("f.txt/x", "x"), "File exists (os error 17)");
	/* A dangling link whose directory exists: its target is created. */
	ck_assert(symlink("dir/created.txt", l) == 0);
	ck_assert_str_eq(write_rel("dangling", "made"), "");
	assert_content("dir/created.txt", "made");
	/* ... and whose directory does not: nothing is created. */
	ck_assert(symlink("nowhere/x.txt", l2) == 0);
	ck_assert_str_eq(write_rel("dangling2", "x"),
	    "No such file or directory (os error 2)");
	free(l);
	l = at("nowhere");
	ck_assert_msg(access(l, F_OK) != 0, "created %s", l);
	free(l);
	free(l2);
}
END_TEST

START_TEST(write_to_fifo_or_device_is_denied)
{
	char *f = at("fifo"), *msg;

	ck_assert(mkfifo(f, 0600) == 0);
	ck_assert(asprintf(&msg, "write denied: '%s' is not a regular file",
	    f) > 0);
	ck_assert_str_eq(write_rel("fifo", "x"), msg);
	free(msg);
	free(f);
}
END_TEST

START_TEST(edit_inserts_with_empty_old_string)
{
	struct ks_err e;
	char *p = at("f.txt");

	ck_assert_int_eq(edit1(&fs, p, "", 0, "<", 1, &e), 0);
	assert_content("f.txt", "<old content\n");
	ck_assert_int_eq(edit1(&fs, p, "content", 7, "text", 4, &e), 0);
	assert_content("f.txt", "<old text\n");
	free(p);
}
END_TEST

START_TEST(edit_of_non_utf8_is_refused)
{
	struct ks_err e;
	char *p = at("latin1.txt");

	ck_assert_int_lt(edit1(&fs, p, "caf", 3, "x", 1, &e), 0);
	ck_assert_str_eq(e.msg, "stream did not contain valid UTF-8");
	assert_content("latin1.txt", "caf\xe9\n");
	free(p);
}
END_TEST

START_TEST(read_of_fifo_does_not_hang)
{
	struct ks_err e;
	const unsigned char *d;
	size_t n;
	char *f = at("fifo"), *msg;

	ck_assert(mkfifo(f, 0600) == 0);
	ck_assert_int_lt(ks_fs_read(&fs, f, false, 0, &d, &n, &e), 0);
	ck_assert(asprintf(&msg, "'%s' is not a regular file", f) > 0);
	ck_assert_str_eq(e.msg, msg);
	ck_assert_int_eq(e.code, KS_CODE_IO);
	free(msg);
	free(f);
}
END_TEST

START_TEST(read_of_endless_device_is_bounded)
{
	struct ks_err e;
	const unsigned char *d;
	size_t n;

	ck_assert_int_lt(ks_fs_read(&fs, "/dev/zero", false, 0, &d, &n, &e), 0);
	ck_assert_str_eq(e.msg, "file too large for one reply; read it in "
	    "parts with max_bytes");
	ck_assert_int_eq(ks_fs_read(&fs, "/dev/zero", true, 100000, &d, &n,
	    &e), 0);
	ck_assert_int_eq(n, 100000);
	/* Zeros are short: more of them fit than of other bytes. */
	ck_assert_int_eq(ks_fs_read(&fs, "/dev/zero", true, 524274, &d, &n,
	    &e), 0);
	ck_assert_int_eq(n, 524274);
}
END_TEST

Suite *
fsops_suite(void)
{
	Suite *s = suite_create("fsops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_replaces_and_keeps_mode);
	tcase_add_test(tc, write_leaves_no_temporary_file);
	tcase_add_test(tc, write_through_link_replaces_target_keeps_link);
	tcase_add_test(tc, write_creates_missing_parents);
	tcase_add_test(tc, write_errors_match_the_reference);
	tcase_add_test(tc, write_to_fifo_or_device_is_denied);
	tcase_add_test(tc, edit_inserts_with_empty_old_string);
	tcase_add_test(tc, edit_of_non_utf8_is_refused);
	tcase_add_test(tc, read_of_fifo_does_not_hang);
	tcase_add_test(tc, read_of_endless_device_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}
