/*
 * check_extend: the protocol extensions (protocol(7), EXTENSIONS) that
 * read and write, on the built worker: ranged reads of a 50 MB file,
 * line ranges, writes in parts killed at 20 points, replace_all. The
 * listing ones are check_extlist's.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

#define BIG (50u << 20)

/* BIG pseudo-random bytes, the same for a given seed. */
static unsigned char *
big_data(unsigned seed)
{
	unsigned char *d = malloc(BIG);
	uint32_t x = seed * 2654435761u + 1;

	ck_assert(d != NULL);
	for (size_t i = 0; i < BIG; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (unsigned char)(x >> 24);
	}
	return d;
}

/* Decodes the "content":[...] array of reply r into out (room for max
 * bytes); returns how many. */
static size_t
content_of(const char *r, unsigned char *out, size_t max)
{
	const char *p = strstr(r, "\"content\":[");
	size_t n = 0;
	unsigned v;

	ck_assert_msg(p != NULL, "no content in %.200s", r);
	for (p += 11; *p != ']';) {
		for (v = 0; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (unsigned)(*p - '0');
		ck_assert(n < max && v < 256);
		out[n++] = (unsigned char)v;
		if (*p == ',')
			p++;
	}
	return n;
}

/* The unsigned number after "key": in reply r. */
static uint64_t
field_u64(const char *r, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	ck_assert_msg((p = strstr(r, k)) != NULL, "no %s in %.200s", key, r);
	return strtoull(p + strlen(k), NULL, 10);
}

START_TEST(read_50_mb_in_parts_gives_every_byte)
{
	unsigned char *d = big_data(1), *got = malloc(BIG);
	char path[4200], req[4400], *r;
	uint64_t off = 0;
	size_t n, parts = 0;
	struct ks_proc p;
	bool eof = false;

	snprintf(path, sizeof(path), "%s/big", ks_root);
	ks_put(path, (const char *)d, BIG);
	ks_spawn_root(&p, ks_root, NULL, false);
	while (!eof) {
		snprintf(req, sizeof(req), "{\"kind\":\"read\",\"path\":\"%s\","
		    "\"offset\":%llu}", path, (unsigned long long)off);
		r = ks_call(&p, req);
		n = content_of(r, got + off, BIG - off);
		ck_assert_uint_eq(field_u64(r, "size"), BIG);
		ck_assert_uint_eq(field_u64(r, "next_offset"), off + n);
		eof = strstr(r, "\"eof\":true") != NULL;
		ck_assert_msg(n > 0 || eof, "an empty part before the end");
		off += n;
		parts++;
		free(r);
	}
	ck_assert_uint_eq(off, BIG);
	ck_assert(memcmp(got, d, BIG) == 0);
	printf("extend: 50 MB read in %zu parts, every byte equal\n", parts);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	free(d);
	free(got);
}
END_TEST

/* Line ranges: request fields, then the exact reply. */
static const struct {
	const char *file, *fields, *want;
} line_cases[] = {
	{ "crlf", "\"line\":1,\"lines\":1", "[97,13,10],\"size\":10,"
	    "\"eof\":false,\"next_offset\":3,\"next_line\":2" },
	{ "crlf", "\"line\":2,\"lines\":2", "[98,13,10,99,13,10],\"size\":10,"
	    "\"eof\":false,\"next_offset\":9,\"next_line\":4" },
	{ "crlf", "\"line\":4", "[100],\"size\":10,\"eof\":true,"
	    "\"next_offset\":10,\"next_line\":5" },
	{ "crlf", "\"line\":7,\"lines\":3", "[],\"size\":10,\"eof\":true,"
	    "\"next_offset\":10,\"next_line\":7" },
	{ "crlf", "\"offset\":3,\"line\":2,\"lines\":1", "[98,13,10],"
	    "\"size\":10,\"eof\":false,\"next_offset\":6,\"next_line\":3" },
	{ "lf", "\"line\":1,\"lines\":1", "[120,10],\"size\":6,\"eof\":false,"
	    "\"next_offset\":2,\"next_line\":2" },
	{ "lf", "\"line\":3,\"lines\":1", "[122,10],\"size\":6,\"eof\":true,"
	    "\"next_offset\":6,\"next_line\":4" },
	{ "lf", "\"line\":4", "[],\"size\":6,\"eof\":true,\"next_offset\":6,"
	    "\"next_line\":4" },
	{ "lf", "\"lines\":2", "[120,10,121,10],\"size\":6,\"eof\":false,"
	    "\"next_offset\":4,\"next_line\":3" },
	{ "lf", "\"offset\":1,\"max_bytes\":2", "[10,121],\"size\":6,"
	    "\"eof\":false,\"next_offset\":3" },
	{ "lf", "\"offset\":9", "[],\"size\":6,\"eof\":true,"
	    "\"next_offset\":9" },
	{ "empty", "\"line\":1", "[],\"size\":0,\"eof\":true,"
	    "\"next_offset\":0,\"next_line\":1" },
};

START_TEST(line_ranges_at_start_middle_end_and_past_it)
{
	char req[4400], want[4400];
	struct ks_proc p;

	ks_putf("a\r\nb\r\nc\r\nd", "%s/crlf", ks_root);
	ks_putf("x\ny\nz\n", "%s/lf", ks_root);
	ks_putf("", "%s/empty", ks_root);
	ks_spawn_root(&p, ks_root, NULL, false);
	snprintf(req, sizeof(req), "{\"kind\":\"read\",\"path\":\"%%R/%s\",%s}",
	    line_cases[_i].file, line_cases[_i].fields);
	snprintf(want, sizeof(want), "{\"kind\":\"read\",\"content\":%s}",
	    line_cases[_i].want);
	ks_expect(&p, ks_root, req, want);
	/* Without the new fields, the reference's reply, nothing added. */
	snprintf(req, sizeof(req), "{\"kind\":\"read\",\"path\":\"%%R/%s\"}",
	    line_cases[_i].file);
	ks_expect(&p, ks_root, req, strcmp(line_cases[_i].file, "lf") == 0 ?
	    "{\"kind\":\"read\",\"content\":[120,10,121,10,122,10]}" :
	    strcmp(line_cases[_i].file, "empty") == 0 ?
	    "{\"kind\":\"read\",\"content\":[]}" :
	    "{\"kind\":\"read\",\"content\":[97,13,10,98,13,10,99,13,10,100]}");
	ks_expect(&p, ks_root, "{\"kind\":\"read\",\"path\":\"%R/lf\","
	    "\"line\":0}", "{\"kind\":\"error\",\"code\":\"io\",\"message\":"
	    "\"line numbers start at 1\"}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
}
END_TEST

/* A write_part request of data[0..n) at offset. */
static char *
part_req(const char *path, uint64_t off, const unsigned char *data,
    size_t n, bool last, size_t *len)
{
	static char text[256][5];
	static unsigned char tlen[256];
	size_t cap = strlen(path) + 4 * n + 128, o;
	char *s = malloc(cap);

	ck_assert(s != NULL);
	if (tlen[255] == 0)
		for (int v = 0; v < 256; v++)
			tlen[v] = (unsigned char)snprintf(text[v],
			    sizeof(text[v]), "%d,", v);
	o = (size_t)snprintf(s, cap, "{\"kind\":\"write_part\",\"path\":\"%s\","
	    "\"offset\":%llu,\"last\":%s,\"content\":[", path,
	    (unsigned long long)off, last ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		memcpy(s + o, text[data[i]], tlen[data[i]]);
		o += tlen[data[i]];
	}
	if (n > 0)
		o--;
	o += (size_t)snprintf(s + o, cap - o, "]}");
	*len = o;
	return s;
}

/* Part size of the big writes: 200 parts for 50 MB. */
#define PART (BIG / 200)
#define NPARTS (BIG / PART)

/* The parts of a 50 MB write of d to path, encoded once. */
struct parts {
	char *req[NPARTS];
	size_t len[NPARTS];
};

static void
make_parts(struct parts *pt, const char *path, const unsigned char *d)
{
	for (size_t i = 0; i < NPARTS; i++)
		pt->req[i] = part_req(path, (uint64_t)i * PART, d + i * PART,
		    PART, i + 1 == NPARTS, &pt->len[i]);
}

static void
free_parts(struct parts *pt)
{
	for (size_t i = 0; i < NPARTS; i++)
		free(pt->req[i]);
}

/* Sends the first `stop` parts, each answered. */
static void
send_parts(struct ks_proc *p, const struct parts *pt, size_t stop)
{
	char *r;

	for (size_t i = 0; i < NPARTS && i < stop; i++) {
		ks_send(p, pt->req[i], pt->len[i]);
		r = ks_recv(p, NULL);
		ck_assert_msg(r != NULL && strstr(r, "\"bytes_staged\"") !=
		    NULL, "part %zu: %.200s", i, r ? r : "(none)");
		free(r);
	}
}

/* Entries of dir, "." and ".." aside. */
static int
entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert(dp != NULL);
	while ((e = readdir(dp)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(dp);
	return n;
}

START_TEST(write_50_mb_in_parts_killed_at_20_points)
{
	unsigned char *d = big_data(2), *got;
	char path[4300], dir[4200];
	int old = 0, fresh = 0, status;
	struct parts pt;
	struct ks_proc p;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/w", ks_root);
	snprintf(path, sizeof(path), "%s/target", dir);
	make_parts(&pt, path, d);
	for (int k = 0; k < 20; k++) {
		ks_put(path, "old\n", 4);
		ks_spawn_root(&p, ks_root, NULL, false);
		/* Kill points spread over the 200 parts; the last one after
		 * the commit. */
		send_parts(&p, &pt, k == 19 ? NPARTS : (size_t)k * 10 + 3);
		kill(p.pid, SIGKILL);
		status = ks_finish(&p);
		free(p.errtext);
		ck_assert(WIFSIGNALED(status) || WIFEXITED(status));
		got = (unsigned char *)ks_slurp(path, &n);
		if (n == 4 && memcmp(got, "old\n", 4) == 0)
			old++;
		else if (n == BIG && memcmp(got, d, BIG) == 0)
			fresh++;
		else
			ck_abort_msg("kill %d: target of %zu bytes, neither old "
			    "nor new", k, n);
		free(got);
		ck_assert_msg(entries(dir) == 1, "kill %d: %d entries in the "
		    "directory (a temporary file was left)", k, entries(dir));
	}
	printf("extend: 20 writes of 50 MB in parts killed: %d left the old "
	    "file, %d the new one, none half-written, no temporary file\n",
	    old, fresh);
	ck_assert_int_eq(old, 19);
	ck_assert_int_eq(fresh, 1);
	free_parts(&pt);
	free(d);
}
END_TEST

START_TEST(write_parts_out_of_order_refused_or_capped_leave_nothing)
{
	char *pol, dir[4200];
	struct ks_proc p;

	ks_putf("keep\n", "%s/t/f", ks_root);
	ck_assert(asprintf(&pol, "{\"limits\":{\"max_write_bytes\":4}}") > 0);
	ks_spawn_root(&p, ks_root, pol, false);
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/f\","
	    "\"offset\":0,\"content\":[49,50]}",
	    "{\"kind\":\"write_part\",\"bytes_staged\":2,\"committed\":false}");
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/f\","
	    "\"offset\":5,\"content\":[51]}", "{\"kind\":\"error\",\"code\":"
	    "\"io\",\"message\":\"write_part: offset 5 does not follow the 2 "
	    "bytes staged for '%R/t/f'\"}");
	/* The write was dropped: going on is refused too. */
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/f\","
	    "\"offset\":2,\"content\":[51]}", "{\"kind\":\"error\",\"code\":"
	    "\"io\",\"message\":\"write_part: no write in parts of '%R/t/f' "
	    "is under way (offset 0 starts one)\"}");
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/f\","
	    "\"offset\":0,\"content\":[49,50,51,52,53]}", "{\"kind\":\"error\","
	    "\"code\":\"io\",\"message\":\"write_part: the write would pass "
	    "the limit of 4 bytes (limits.max_write_bytes)\"}");
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"/etc/x\","
	    "\"offset\":0,\"content\":[49]}", "{\"kind\":\"error\",\"code\":"
	    "\"policy_denied\",\"message\":\"write denied: '/etc/x' is outside "
	    "writable root '%R'\"}");
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/f\","
	    "\"offset\":0,\"content\":[49,50]}",
	    "{\"kind\":\"write_part\",\"bytes_staged\":2,\"committed\":false}");
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/f\","
	    "\"offset\":2,\"content\":[10],\"last\":true}",
	    "{\"kind\":\"write_part\",\"bytes_staged\":3,\"committed\":true}");
	ks_expect(&p, ks_root, "{\"kind\":\"read\",\"path\":\"%R/t/f\"}",
	    "{\"kind\":\"read\",\"content\":[49,50,10]}");
	/* One under way when the connection ends: nothing is left. */
	ks_expect(&p, ks_root, "{\"kind\":\"write_part\",\"path\":\"%R/t/g\","
	    "\"offset\":0,\"content\":[49]}",
	    "{\"kind\":\"write_part\",\"bytes_staged\":1,\"committed\":false}");
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	snprintf(dir, sizeof(dir), "%s/t", ks_root);
	ck_assert_int_eq(entries(dir), 1);
	free(pol);
}
END_TEST

/* replace_all with 0, 1 and many occurrences, and without it. */
static const struct {
	const char *content, *fields, *want, *after;
} edits[] = {
	{ "a b a b a\n", "\"replace_all\":true", "{\"kind\":\"edit\","
	    "\"replacements\":3}", "X b X b X\n" },
	{ "a b\n", "\"replace_all\":true", "{\"kind\":\"edit\","
	    "\"replacements\":1}", "X b\n" },
	{ "b b\n", "\"replace_all\":true", "{\"kind\":\"error\",\"code\":"
	    "\"io\",\"message\":\"old_string not found in %R/e\"}", "b b\n" },
	{ "a b a\n", "\"replace_all\":false", "{\"kind\":\"error\",\"code\":"
	    "\"io\",\"message\":\"old_string occurs 2 times in %R/e; give more "
	    "context to make it unique, or set replace_all\"}", "a b a\n" },
	{ "a b\n", "\"replace_all\":false", "{\"kind\":\"edit\","
	    "\"replacements\":1}", "X b\n" },
	{ "a b a\n", "\"new_string\":\"X\"", "{\"kind\":\"edit\","
	    "\"replacements\":1}", "X b a\n" },
};

START_TEST(edit_replace_all_counts_what_it_replaced)
{
	char req[4400], *got;
	struct ks_proc p;

	ks_putf(edits[_i].content, "%s/e", ks_root);
	ks_spawn_root(&p, ks_root, NULL, false);
	if (strstr(edits[_i].fields, "new_string") != NULL)
		snprintf(req, sizeof(req), "{\"kind\":\"edit\",\"path\":"
		    "\"%%R/e\",\"old_string\":\"a\",%s}", edits[_i].fields);
	else
		snprintf(req, sizeof(req), "{\"kind\":\"edit\",\"path\":"
		    "\"%%R/e\",\"old_string\":\"a\",\"new_string\":\"X\",%s}",
		    edits[_i].fields);
	ks_expect(&p, ks_root, req, edits[_i].want);
	ck_assert_int_eq(ks_finish(&p), 0);
	free(p.errtext);
	snprintf(req, sizeof(req), "%s/e", ks_root);
	got = ks_slurp(req, NULL);
	ck_assert_str_eq(got, edits[_i].after);
	free(got);
}
END_TEST

Suite *
extend_suite(void)
{
	Suite *s = suite_create("extend");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, ks_root_setup, ks_root_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, read_50_mb_in_parts_gives_every_byte);
	tcase_add_loop_test(tc, line_ranges_at_start_middle_end_and_past_it, 0,
	    sizeof(line_cases) / sizeof(line_cases[0]));
	tcase_add_test(tc, write_50_mb_in_parts_killed_at_20_points);
	tcase_add_test(tc,
	    write_parts_out_of_order_refused_or_capped_leave_nothing);
	tcase_add_loop_test(tc, edit_replace_all_counts_what_it_replaced, 0,
	    sizeof(edits) / sizeof(edits[0]));
	suite_add_tcase(s, tc);
	return s;
}
