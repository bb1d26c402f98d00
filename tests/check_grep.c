/*
 * check_grep: grep as the reference answers it. Regexes against one file
 * of tricky lines, with the line numbers regex 1.7 gives (recorded from
 * it); what a walk searches and in what order; how a file is split into
 * lines; the errors (bad patterns, a pattern too costly for a line) and
 * a sink that stops the search.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "grep.h"
#include "path.h"
#include "rx/rxlit.h"
#include "testlib.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The file the regex table runs on: one tricky case a line. */
static const char lines_txt[] =
	"hello world\n"
	"Hello, World!\n"
	"café crème\n"
	"CAFÉ\n"
	"straße\n"
	"STRASSE\n"
	"Kelvin \xe2\x84\xaa""\n"
	"k\n"
	"\xc5\xbf"" long s\n"
	"ΣΑΣ σας\n"
	"x = 42\n"
	"x = ٤٢\n"
	"tab\there\n"
	"nbsp\xc2\xa0""here\n"
	"nel\xc2\x85""x\n"
	"e\xcc\x81"" combining\n"
	"snake_case_word\n"
	"a.b.c\n"
	"(paren) [bracket] {brace}\n"
	"the the\n"
	"aaaaaaaaaa\n"
	"日本語\n"
	"emoji 😀\n"
	"\n"
	"   \n"
	"end$\n"
	"back\\slash\n"
	"pipe|bar\n"
	"TODO: fix\n"
	"FIXME later\n"
	"todo lower\n"
	"ǅ titlecase\n"
	"İstanbul\n"
	"µ micro\n"
;

/* Pattern, and the lines (1-based) regex 1.7 matches in lines.txt. */
static const struct {
	const char *pattern, *lines;
} regexes[] = {
	{ "hello", "1" },
	{ "(?i)hello", "1,2" },
	{ "^Hello", "2" },
	{ "world$", "1" },
	{ "(?i)WORLD!$", "2" },
	{ "\\bthe\\b", "20" },
	{ "\\b(\\w+) the\\b", "20" },
	{ "\\d+", "11,12" },
	{ "^x = \\d+$", "11,12" },
	{ "\\w+_\\w+", "17" },
	{ "\\s", "1,2,3,7,9,10,11,12,13,14,15,16,19,20,23,25,29,30,31,32,34" },
	{ "\\S+ \\S+", "1,2,3,7,9,10,11,12,16,19,20,23,29,30,31,32,34" },
	{ "[[:upper:]]{4}", "6,29,30" },
	{ "(?i)café", "3,4" },
	{ "(?i)straße", "5" },
	{ "(?i)k", "7,8,17,19,27" },
	{ "(?i)s", "5,6,9,14,17,27,32,33" },
	{ "(?i)σ", "10" },
	{ "\\p{Greek}+", "10" },
	{ "\\p{Han}", "22" },
	{ "[\\p{L}&&\\p{Lu}]{2}", "4,6,10,29,30" },
	{ "[a-z&&[^aeiou]]{3}", "1,2,5,14" },
	{ "[\\w--\\d]+\\d", "" },
	{ "\\u{e9}", "3" },
	{ "\\x{1F600}", "23" },
	{ "(?x) todo \\ : ", "" },
	{ "(?i)todo|fixme", "29,30,31" },
	{ "a{10}", "21" },
	{ "a{3,}?b", "" },
	{ "^$", "24" },
	{ "^\\s+$", "25" },
	{ "\\$$", "26" },
	{ "\\\\", "27" },
	{ "\\|", "28" },
	{ "(?s)a.b", "18,33" },
	{ "(?U)a+", "3,5,13,17,18,19,21,27,28,30,32,33" },
	{ "(?m)^end", "26" },
	{ "\\Aend\\$\\z", "26" },
	{ "e\\p{M}", "16" },
	{ "\\w\\b",
	    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,26,"
	    "27,28,29,30,31,32,33,34" },
	{ "(?i)ǆ", "32" },
	{ "(?i)i\xcc\x87""", "" },
	{ "(?i)µ", "34" },
	{ "\\p{scx=Greek}", "10" },
	{ "[^\\x00-\\x7f]", "3,4,5,7,9,10,12,14,15,16,22,23,32,33,34" },
	{ ".{11}", "1,2,16,17,19,30,32" },
	{ "(?P<w>hello)", "1" },
	{ "x|",
	    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"
	    "25,26,27,28,29,30,31,32,33,34" },
	{ "(?i)(?-i:k)", "8,17,19,27" },
	{ "\\p{Lt}", "32" },
	{ "(?i)\\p{Lu}\\p{Ll}",
	    "1,2,3,4,5,6,7,9,10,13,14,15,16,17,19,20,21,23,26,27,28,29,30,"
	    "31,32,33,34" },
};

static char *tree;

static void
tree_setup(void)
{
	tree = ks_tmpdir();
	ck_assert(chdir(tree) == 0);
	ks_putf(lines_txt, "lines.txt");
}

static void
tree_teardown(void)
{
	ks_rmtree(tree);
	free(tree);
	tree = NULL;
}

/* What a sink collected: "path:line:text" lines, paths below the tree. */
struct out {
	char *text;
	size_t n, len;
	size_t stop_after;		/* stop after that many (0: never) */
};

static void
append(struct out *o, const char *s, size_t n)
{
	ck_assert((o->text = realloc(o->text, o->len + n + 1)) != NULL);
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

static int
collect(void *ctx, const char *path, size_t line, const char *text,
    size_t len)
{
	struct out *o = ctx;
	size_t tl = strlen(tree);
	char *s;
	int n;

	if (strncmp(path, tree, tl) == 0 && path[tl] == '/')
		path += tl + 1;
	ck_assert((n = asprintf(&s, "%s:%zu:", path, line)) > 0);
	append(o, s, (size_t)n);
	append(o, text, len);
	append(o, "\n", 1);
	free(s);
	return o->stop_after != 0 && ++o->n >= o->stop_after;
}

static int
grep(const char *pattern, const char *root, const char *include,
    const struct ks_path_filter *filter, struct out *o, struct ks_err *err)
{
	struct ks_grep_sink sink = { collect, o };

	o->text = strdup("");
	o->len = o->n = 0;
	return ks_grep_run(pattern, root, include, NULL, filter, &sink, err);
}

/* The line numbers of the matches, "1,4,7". */
static char *
line_numbers(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *p = out;
	const char *l, *c;

	for (l = text; *l != '\0'; l = strchr(l, '\n') + 1) {
		c = strchr(l, ':') + 1;
		p += sprintf(p, "%s%.*s", p == out ? "" : ",",
		    (int)(strchr(c, ':') - c), c);
	}
	return out;
}

START_TEST(regex_means_what_rust_means)
{
	struct out o = { 0 };
	struct ks_err err;
	char *got;

	ck_assert_msg(grep(regexes[_i].pattern, "lines.txt", NULL, NULL, &o,
	    &err) == 0, "%s: %s", regexes[_i].pattern, err.msg);
	got = line_numbers(o.text);
	ck_assert_msg(strcmp(got, regexes[_i].lines) == 0,
	    "%s: lines %s, want %s", regexes[_i].pattern, got,
	    regexes[_i].lines);
	free(got);
	free(o.text);
}
END_TEST

/* Patterns regex 1.7 rejects, lookaround and backreferences included. */
static const char *const bad_patterns[] = {
	"(", "a{,3}", "(?<n>a)", "\\1", "(?=a)", "(?<!a)b", "\\b{start}",
	"[z-a]", "\\p{Foo}", "(?-u).", "(?-u)\\xff", "\\P{Any}", "[a&&b]",
	"\\w{100}", "(?P<a>x)(?P<a>y)", "(?i", "\\Z", "*",
};

START_TEST(invalid_pattern_is_a_protocol_error)
{
	struct out o = { 0 };
	struct ks_err err;
	char want[256];

	snprintf(want, sizeof(want), "grep regex \"%s\": ", bad_patterns[_i]);
	ck_assert_int_eq(grep(bad_patterns[_i], "lines.txt", NULL, NULL, &o,
	    &err), -EPROTO);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
	ck_assert_str_eq(o.text, "");
	free(o.text);
}
END_TEST

START_TEST(invalid_include_is_a_protocol_error)
{
	struct out o = { 0 };
	struct ks_err err;

	ck_assert_int_eq(grep("x", ".", "[", NULL, &o, &err), -EPROTO);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, "grep include \"[\": Pattern syntax error "
	    "near position 0: invalid range pattern");
	free(o.text);
}
END_TEST

START_TEST(costly_pattern_is_a_protocol_error_at_once)
{
	struct out o = { 0 };
	struct ks_err err;
	char line[64];

	memset(line, 'x', 40);
	strcpy(line + 40, "!y\n");
	ks_putf(line, "cat.txt");
	ck_assert_int_eq(grep("(x+x+)+y", "cat.txt", NULL, NULL, &o, &err),
	    -EPROTO);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, "grep regex \"(x+x+)+y\": too complex to "
	    "search cat.txt (PCRE2 error -47: match limit exceeded)");
	free(o.text);
}
END_TEST

START_TEST(sink_stop_returns_one)
{
	struct out o = { .stop_after = 2 };
	struct ks_err err;

	ck_assert_int_eq(grep("(?i)hello|world", ".", NULL, NULL, &o, &err), 1);
	ck_assert_str_eq(o.text, "./lines.txt:1:hello world\n"
	    "./lines.txt:2:Hello, World!\n");
	free(o.text);
}
END_TEST

START_TEST(files_in_path_order_lines_in_file_order)
{
	struct out o = { 0 };
	struct ks_err err;

	ks_putf("x foo\nfoo\n", "d/a/x.txt");
	ks_putf("foo\n", "d/a-c.txt");
	ks_putf("foo\n", "d/a.b.txt");
	ks_putf("foo\n", "d/B.txt");
	ck_assert_int_eq(grep("foo", "d", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "d/B.txt:1:foo\nd/a/x.txt:1:x foo\n"
	    "d/a/x.txt:2:foo\nd/a-c.txt:1:foo\nd/a.b.txt:1:foo\n");
	free(o.text);
}
END_TEST

START_TEST(lines_split_like_str_lines)
{
	struct out o = { 0 };
	struct ks_err err;

	ks_put("crlf.txt", "one\r\ntwo\rthree\n\nnul\0ok\nlast\r", 28);
	ck_assert_int_eq(grep("", "crlf.txt", NULL, NULL, &o, &err), 0);
	ck_assert_int_eq(o.len, 83);
	ck_assert_mem_eq(o.text, "crlf.txt:1:one\ncrlf.txt:2:two\rthree\n"
	    "crlf.txt:3:\ncrlf.txt:4:nul\0ok\ncrlf.txt:5:last\r\n", 83);
	free(o.text);
}
END_TEST

START_TEST(file_not_all_utf8_is_skipped)
{
	struct out o = { 0 };
	struct ks_err err;

	ks_putf("foo\n\xff\n", "d/latin1.txt");
	ks_putf("foo\n\xed\xa0\x80\n", "d/surrogate.txt");
	ks_putf("foo\n", "d/ok.txt");
	ck_assert_int_eq(grep("foo", "d", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "d/ok.txt:1:foo\n");
	free(o.text);
}
END_TEST

START_TEST(walk_skips_hidden_links_ignored_and_bad_names)
{
	struct out o = { 0 };
	struct ks_err err;

	ks_putf("foo\n", "d/.hidden");
	ks_putf("foo\n", "d/.dir/f");
	ks_putf("foo\n", "d/bad\xffname");
	ks_putf("foo\n", "d/x.log");
	ks_putf("*.log\n", "d/.ignore");
	ks_putf("foo\n", "d/real/f");
	ck_assert(symlink("real", "d/ln") == 0);
	ck_assert(symlink("real/f", "d/lf") == 0);
	ck_assert(mkfifo("d/fifo", 0644) == 0);
	ck_assert_int_eq(grep("foo", "d", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "d/real/f:1:foo\n");
	free(o.text);
}
END_TEST

START_TEST(root_file_link_and_include)
{
	struct out o = { 0 };
	struct ks_err err;

	ks_putf("foo\n", "d/a.c");
	ks_putf("foo\n", "d/b.h");
	ck_assert(symlink("d", "ln") == 0);
	ck_assert(symlink("d/a.c", "lf.h") == 0);
	ck_assert_int_eq(grep("foo", "ln", "*.c", NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "ln/a.c:1:foo\n");
	free(o.text);
	/* A root that is a file: followed, and include asks its name. */
	ck_assert_int_eq(grep("foo", "lf.h", "*.c", NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "");
	free(o.text);
	ck_assert_int_eq(grep("foo", "lf.h", "*.h", NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "lf.h:1:foo\n");
	free(o.text);
}
END_TEST

START_TEST(missing_or_special_root_gives_nothing)
{
	struct out o = { 0 };
	struct ks_err err;

	ck_assert(mkfifo("fifo", 0644) == 0);
	ck_assert_int_eq(grep("", "missing", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "");
	free(o.text);
	ck_assert_int_eq(grep("", "fifo", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "");
	free(o.text);
	ck_assert_int_eq(grep("", "/dev/null", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "");
	free(o.text);
}
END_TEST

static bool
deny(void *ctx, const char *path)
{
	(void)ctx;
	return strstr(path, "secret") != NULL;
}

START_TEST(filter_hides_entries_silently)
{
	struct ks_path_filter filter = { .denied = deny };
	struct out o = { 0 };
	struct ks_err err;

	ks_putf("foo\n", "d/secret/f");
	ks_putf("foo\n", "d/secret.txt");
	ks_putf("foo\n", "d/open.txt");
	ck_assert_int_eq(grep("foo", "d", NULL, &filter, &o, &err), 0);
	ck_assert_str_eq(o.text, "d/open.txt:1:foo\n");
	free(o.text);
}
END_TEST

START_TEST(prefilter_counts_lines_right)
{
	struct out o = { 0 };
	struct ks_err err;
	char *big = malloc(100000), *p = big;

	for (int i = 1; i <= 9000; i++)
		p += sprintf(p, i == 3 || i == 8999 ? "Needle %d\n" :
		    i == 4500 ? "NEEDLE %d\n" : "hay %d\n", i);
	ks_put("big.txt", big, (size_t)(p - big));
	ck_assert_int_eq(grep("Needle", "big.txt", NULL, NULL, &o, &err), 0);
	ck_assert_str_eq(o.text, "big.txt:3:Needle 3\nbig.txt:8999:Needle "
	    "8999\n");
	free(o.text);
	ck_assert_int_eq(grep("(?i)needle 4|hay 8998$", "big.txt", NULL, NULL,
	    &o, &err), 0);
	ck_assert_str_eq(o.text, "big.txt:4500:NEEDLE 4500\n"
	    "big.txt:8998:hay 8998\n");
	free(o.text);
	free(big);
}
END_TEST

/*
 * The literal finder (its 16-at-a-time pair search and its tail) against
 * a plain search: each literal planted at every offset of buffers of
 * every length near the 16-byte steps, with near misses (one of the two
 * rare bytes, or both but a wrong byte between) around it.
 */
START_TEST(literal_search_finds_the_first_at_every_offset)
{
	static const char *const lits[] = { "q", "qz", "spin_lock_irqsave",
	    "aaaa", "x_x", "0123456789abcdefghij" };
	const char *lit = lits[_i];
	size_t ll = strlen(lit), rare[2];
	char buf[160];

	ks_rxlit_rarest(lit, ll, rare);
	ck_assert(rare[0] < ll && rare[1] < ll);
	for (size_t n = ll; n < sizeof(buf); n++)
		for (size_t at = 0; at + ll <= n; at += 1 + (n > 100) * 6) {
			const char *got, *want = NULL;

			for (size_t i = 0; i < n; i++)
				buf[i] = (char)('a' + (i * 7 + n) % 3);
			/* A near miss before: the rare bytes, a wrong one. */
			if (ll > 2 && at >= ll) {
				memcpy(buf + at - ll, lit, ll);
				buf[at - ll + (rare[0] + rare[1]) / 2 + (rare[0] ==
				    rare[1])] ^= 0x20;
			}
			memcpy(buf + at, lit, ll);
			for (size_t i = 0; want == NULL && i + ll <= n; i++)
				if (memcmp(buf + i, lit, ll) == 0)
					want = buf + i;
			for (size_t from = 0; from <= at; from += 5) {
				const char *w = want;

				for (size_t i = from; i + ll <= n; i++)
					if (memcmp(buf + i, lit, ll) == 0) {
						w = buf + i;
						break;
					}
				got = ks_rxlit_find(lit, ll, rare, buf, n, from);
				ck_assert_msg(got == w, "'%s' in %zu bytes at "
				    "%zu from %zu: %td, want %td", lit, n, at,
				    from, got ? got - buf : -1, w - buf);
			}
		}
}
END_TEST

Suite *
grep_suite(void)
{
	Suite *s = suite_create("grep");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_loop_test(tc, regex_means_what_rust_means, 0,
	    NELEM(regexes));
	tcase_add_loop_test(tc, invalid_pattern_is_a_protocol_error, 0,
	    NELEM(bad_patterns));
	tcase_add_test(tc, invalid_include_is_a_protocol_error);
	tcase_add_test(tc, costly_pattern_is_a_protocol_error_at_once);
	tcase_add_test(tc, sink_stop_returns_one);
	tcase_add_test(tc, files_in_path_order_lines_in_file_order);
	tcase_add_test(tc, lines_split_like_str_lines);
	tcase_add_test(tc, file_not_all_utf8_is_skipped);
	tcase_add_test(tc, walk_skips_hidden_links_ignored_and_bad_names);
	tcase_add_test(tc, root_file_link_and_include);
	tcase_add_test(tc, missing_or_special_root_gives_nothing);
	tcase_add_test(tc, filter_hides_entries_silently);
	tcase_add_test(tc, prefilter_counts_lines_right);
	tcase_add_loop_test(tc, literal_search_finds_the_first_at_every_offset,
	    0, 6);
	suite_add_tcase(s, tc);
	return s;
}
