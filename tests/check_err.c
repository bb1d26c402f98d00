/*
 * check_err: OS error text as the reference spells it, reply code
 * names, and the quoting that keeps every message inside one frame.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define ELLIPSIS "\xE2\x80\xA6"

Suite *err_suite(void);

static const struct {
	int errnum;
	const char *text;
} os_texts[] = {
	{ ENOENT, "No such file or directory (os error 2)" },
	{ EACCES, "Permission denied (os error 13)" },
	{ EEXIST, "File exists (os error 17)" },
	{ EISDIR, "Is a directory (os error 21)" },
	{ EFBIG, "File too large (os error 27)" },
	{ ELOOP, "Too many levels of symbolic links (os error 40)" },
	{ EAGAIN, "Resource temporarily unavailable (os error 11)" },
	{ EPERM, "Operation not permitted (os error 1)" },
};

START_TEST(os_error_text_is_strerror_then_os_error_number)
{
	char buf[300];

	ks_err_os_text(buf, sizeof(buf), os_texts[_i].errnum);
	ck_assert_str_eq(buf, os_texts[_i].text);
}
END_TEST

START_TEST(err_os_sets_io_code_and_returns_negative_errno)
{
	struct ks_err err = { .code = KS_CODE_NONE };

	ck_assert_int_eq(ks_err_os(&err, ENOENT), -ENOENT);
	ck_assert_int_eq(err.code, KS_CODE_IO);
	ck_assert_str_eq(err.msg, "No such file or directory (os error 2)");
	ck_assert_int_eq(ks_err_os(NULL, EACCES), -EACCES);
}
END_TEST

START_TEST(err_set_formats_message_and_negates_errno)
{
	struct ks_err err = { .code = KS_CODE_NONE };

	ck_assert_int_eq(ks_err_set(&err, EACCES, KS_CODE_POLICY_DENIED,
	    "write denied: '%s' is %d", "p", 7), -EACCES);
	ck_assert_int_eq(err.code, KS_CODE_POLICY_DENIED);
	ck_assert_str_eq(err.msg, "write denied: 'p' is 7");
	/* An already negative rc stays as it is. */
	ck_assert_int_eq(ks_err_set(&err, -EPROTO, KS_CODE_PROTOCOL, "x"),
	    -EPROTO);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, "x");
	ck_assert_int_eq(ks_err_set(NULL, EIO, KS_CODE_IO, "y"), -EIO);
}
END_TEST

START_TEST(err_set_cuts_an_overlong_message_inside_the_buffer)
{
	struct ks_err err;
	char *big = malloc(3 * KS_ERR_MAX);

	memset(big, 'x', 3 * KS_ERR_MAX - 1);
	big[3 * KS_ERR_MAX - 1] = '\0';
	ks_err_set(&err, EIO, KS_CODE_IO, "%s", big);
	ck_assert_uint_eq(strlen(err.msg), KS_ERR_MAX - 1);
	free(big);
}
END_TEST

static const struct {
	enum ks_code code;
	const char *name;
} code_names[] = {
	{ KS_CODE_NONE, "none" },
	{ KS_CODE_UNIMPLEMENTED, "unimplemented" },
	{ KS_CODE_POLICY_DENIED, "policy_denied" },
	{ KS_CODE_IO, "io" },
	{ KS_CODE_PROTOCOL, "protocol" },
	{ KS_CODE_INTERNAL, "internal" },
	{ (enum ks_code)99, "internal" },
	{ (enum ks_code)-1, "internal" },
};

START_TEST(code_name_is_the_wire_name)
{
	ck_assert_str_eq(ks_err_code_name(code_names[_i].code),
	    code_names[_i].name);
}
END_TEST

START_TEST(quote_leaves_a_string_up_to_the_limit_alone)
{
	struct ks_quote q;
	char *s = malloc(KS_QUOTE_MAX + 1);
	const char *empty = "";

	memset(s, 'a', KS_QUOTE_MAX);
	s[KS_QUOTE_MAX] = '\0';
	ck_assert_ptr_eq(ks_quote(&q, s), s);
	ck_assert_ptr_eq(ks_quote(&q, empty), empty);
	free(s);
}
END_TEST

START_TEST(quote_cuts_ascii_at_4096_bytes_and_appends_ellipsis)
{
	struct ks_quote q;
	char *s = malloc(KS_QUOTE_MAX + 2), *want = malloc(KS_QUOTE_MAX + 4);
	const char *got;

	memset(s, 'a', KS_QUOTE_MAX + 1);
	s[KS_QUOTE_MAX + 1] = '\0';
	memset(want, 'a', KS_QUOTE_MAX);
	memcpy(want + KS_QUOTE_MAX, ELLIPSIS, 4);
	got = ks_quote(&q, s);
	ck_assert_uint_eq(strlen(got), KS_QUOTE_MAX + 3);
	ck_assert_str_eq(got, want);
	free(s);
	free(want);
}
END_TEST

/* A multi-byte character placed so that it straddles the cut or not. */
static const struct {
	const char *ch;		/* the character */
	size_t before;		/* ASCII bytes before it */
	size_t keep;		/* bytes of the quote before the "…" */
} cuts[] = {
	{ "\xC3\xA9", 4094, 4096 },		/* é ends exactly at 4096 */
	{ "\xC3\xA9", 4095, 4095 },		/* é straddles the cut */
	{ "\xE2\x82\xAC", 4093, 4096 },		/* € fits */
	{ "\xE2\x82\xAC", 4094, 4094 },
	{ "\xE2\x82\xAC", 4095, 4095 },
	{ "\xF0\x9F\x98\x80", 4092, 4096 },	/* 😀 fits */
	{ "\xF0\x9F\x98\x80", 4093, 4093 },
	{ "\xF0\x9F\x98\x80", 4094, 4094 },
	{ "\xF0\x9F\x98\x80", 4095, 4095 },
	{ "\xF0\x9F\x98\x80", 4096, 4096 },	/* starts right at the cut */
};

START_TEST(quote_cuts_on_a_utf8_boundary)
{
	struct ks_quote q;
	size_t cl = strlen(cuts[_i].ch), n = cuts[_i].before + cl + 8;
	char *s = malloc(n + 1), *want = malloc(KS_QUOTE_MAX + 4);
	const char *got;

	memset(s, 'a', n);
	memcpy(s + cuts[_i].before, cuts[_i].ch, cl);
	s[n] = '\0';
	memcpy(want, s, cuts[_i].keep);
	memcpy(want + cuts[_i].keep, ELLIPSIS, 4);
	got = ks_quote(&q, s);
	ck_assert_uint_eq(strlen(got), cuts[_i].keep + 3);
	ck_assert_str_eq(got, want);
	free(s);
	free(want);
}
END_TEST

Suite *
err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, os_error_text_is_strerror_then_os_error_number,
	    0, sizeof(os_texts) / sizeof(os_texts[0]));
	tcase_add_test(tc, err_os_sets_io_code_and_returns_negative_errno);
	tcase_add_test(tc, err_set_formats_message_and_negates_errno);
	tcase_add_test(tc, err_set_cuts_an_overlong_message_inside_the_buffer);
	tcase_add_loop_test(tc, code_name_is_the_wire_name, 0,
	    sizeof(code_names) / sizeof(code_names[0]));
	tcase_add_test(tc, quote_leaves_a_string_up_to_the_limit_alone);
	tcase_add_test(tc, quote_cuts_ascii_at_4096_bytes_and_appends_ellipsis);
	tcase_add_loop_test(tc, quote_cuts_on_a_utf8_boundary, 0,
	    sizeof(cuts) / sizeof(cuts[0]));
	suite_add_tcase(s, tc);
	return s;
}
