/*
 * check_reqread: requests read off the wire in parts (reqread.h). Every
 * large payload is sent through a pipe in pieces by a child and read
 * with ks_req_read; the result (code, message, kind, path, content) must
 * be the one ks_req_decode gives for the whole payload, and the reader
 * must not have held the frame whole when the content was compact.
 * And the compact decoders (cdecode.h) must take every valid segment
 * themselves: a refusal would send the frame down the slow path.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cdecode.h"
#include "err.h"
#include "frame.h"
#include "proto.h"
#include "reqread.h"
#include "testlib.h"

/* Values in a big request: enough that the frame is read in parts. */
#define VALUES 250000

struct text {
	char *p;
	size_t len, cap;
};

static void
add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		ck_assert((t->p = realloc(t->p, t->cap)) != NULL);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void
adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

/* A write of VALUES values, odd (NULL: none) put at value number at. */
static void
big_write(struct text *t, const char *head, const char *odd, size_t at,
    const char *tail)
{
	char v[16];

	adds(t, head);
	for (size_t i = 0; i < VALUES; i++) {
		if (odd != NULL && i == at)
			snprintf(v, sizeof(v), "%s%s", i ? "," : "", odd);
		else
			snprintf(v, sizeof(v), i ? ",%zu" : "%zu",
			    (i * 7919 + 13) % 256);
		adds(t, v);
	}
	adds(t, tail);
}

/*
 * Sends the frames a child writes in pieces of about piece bytes (0:
 * all at once), then closes; reads them all back with ks_req_read and
 * compares each with ks_req_decode on the payload. Returns the largest
 * reader buffer seen.
 */
static size_t
read_back(const struct text *frames, size_t nframes, size_t piece,
    bool cut_last)
{
	struct ks_reader r = { 0 };
	size_t most = 0;
	int p[2], st;
	pid_t pid;

	ck_assert(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		for (size_t f = 0; f < nframes; f++) {
			size_t n = frames[f].len, off = 0, k;
			unsigned char h[4] = { n >> 24, n >> 16, n >> 8, n };

			if (write(p[1], h, 4) != 4)
				_exit(1);
			if (cut_last && f + 1 == nframes)
				n /= 2;
			for (; off < n; off += k) {
				k = piece == 0 || n - off < piece ? n - off :
				    piece;
				if (write(p[1], frames[f].p + off, k) !=
				    (ssize_t)k)
					_exit(1);
			}
		}
		_exit(0);
	}
	close(p[1]);
	r.fd = p[0];
	for (size_t f = 0; f < nframes; f++) {
		struct ks_req got, want;
		struct ks_err e1 = { 0 }, e2 = { 0 };
		size_t len = 0;
		int rc1, rc2;

		rc1 = ks_req_read(&r, &got, &len, &e1);
		if (r.in.cap > most)
			most = r.in.cap;
		if (cut_last && f + 1 == nframes) {
			ck_assert_int_lt(rc1, 0);
			ck_assert_str_eq(e1.msg, "early eof");
			break;
		}
		rc2 = ks_req_decode(frames[f].p, frames[f].len, &want, &e2);
		ck_assert_uint_eq(len, frames[f].len);
		ck_assert_msg((rc1 < 0) == (rc2 < 0), "frame %zu: read %d (%s), "
		    "decode %d (%s)", f, rc1, e1.msg, rc2, e2.msg);
		if (rc2 < 0) {
			json_error_t je;
			json_t *doc = json_loadb(frames[f].p, frames[f].len,
			    JSON_REJECT_DUPLICATES, &je);
			char where[64];

			ck_assert_int_eq(e1.code, e2.code);
			ck_assert_str_eq(e1.msg, e2.msg);
			/* jansson's position is in the text as it was sent. */
			snprintf(where, sizeof(where), "at line %d column %d",
			    je.line, je.column);
			ck_assert_msg(doc != NULL || strstr(e1.msg, where) !=
			    NULL, "%s: not %s", e1.msg, where);
			json_decref(doc);
			break;		/* the session would end here */
		}
		ck_assert_int_eq(got.kind, want.kind);
		ck_assert_uint_eq(got.content_len, want.content_len);
		ck_assert(want.content_len == 0 ||
		    memcmp(got.content, want.content, want.content_len) == 0);
		ck_assert((got.path == NULL) == (want.path == NULL));
		if (got.path != NULL)
			ck_assert_str_eq(got.path, want.path);
		ks_req_free(&got);
		ks_req_free(&want);
	}
	ks_reader_free(&r);
	close(p[0]);
	ck_assert(waitpid(pid, &st, 0) == pid);
	return most;
}

static const char *const head = "{\"kind\":\"write\",\"path\":\"/w/f\","
    "\"content\":[";

/* A compact write is decoded in parts: the reader never held it. */
START_TEST(compact_write_is_read_in_parts)
{
	struct text t = { 0 };
	size_t most;

	big_write(&t, head, NULL, 0, "]}");
	ck_assert_uint_gt(t.len, 800000);
	most = read_back(&t, 1, 4093, false);
	ck_assert_msg(most < t.len / 4, "reader buffer %zu for a %zu-byte "
	    "frame", most, t.len);
	most = read_back(&t, 1, 0, false);
	ck_assert_msg(most < t.len / 4, "reader buffer %zu", most);
	free(t.p);
}
END_TEST

/*
 * Oddities at the start, at and around the part boundaries (about
 * 18,000 values in a 64 KiB part), at the end: each must give what the
 * whole payload gives, in pieces of a few sizes.
 */
static const char *const odd[] = { "256", "01", " 7", "7 ", "-1", "1.0",
    "1000", "", "\"7\"", "300", "255", "0", "7]", "[7]", "null" };

START_TEST(oddities_read_as_the_whole_payload_decodes)
{
	size_t at[] = { 0, 1, 17000, 18000, 18500, 18724, 19000, 36000, 37449,
	    VALUES - 2, VALUES - 1 };
	size_t pieces[] = { 0, 1000, 65536 + 7 };

	for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
		struct text t = { 0 };

		big_write(&t, head, odd[_i], at[a], "]}");
		read_back(&t, 1, pieces[a % 3], false);
		free(t.p);
	}
}
END_TEST

/* What surrounds the array: keys after it, a duplicate, errors after
 * it (jansson's position must be that of the text sent), a late key. */
static const struct {
	const char *head, *tail;
} frames[] = {
	{ "{\"kind\":\"write\",\"path\":\"/w/f\",\"content\":[", "]}" },
	{ "{\"content\":[", "],\"kind\":\"write\",\"path\":\"/w/f\"}" },
	{ "{\"kind\":\"write\",\"content\":[", "],\"path\":\"/w/f\",\"content\":[1]}" },
	{ "{\"kind\":\"write\",\"content\":[", "],\"path\":\"/w/f\",\"content\":\"x\"}" },
	{ "{\"kind\":\"write\",\"content\":[", "],\"path\":tru}" },
	{ "{\"kind\":\"write\",\"content\":[", "],\"path\":\"/w/f\"" },
	{ "{\"kind\":\"write\",\"content\":[", "]}  x" },
	{ "{\"kind\":\"write\",\"content\":[", "]" },
	{ "{\"kind\":\"write\",\n\"content\":[", "],\n\"path\":\"/w/f\",\"x\":]}" },
	{ "{\"kind\":\"ping\",\"content\":[", "]}" },
	{ "{\"kind\":\"write\",\"path\":5,\"content\":[", "]}" },
	{ "{\"kind\":\"write\",\"path\":\"/w/f\",\"content\" : [", "] }" },
	{ "[{\"kind\":\"write\",\"path\":\"/w/f\",\"content\":[", "]}]" },
	{ "{\"kind\":\"write\",\"path\":\"/w/f\",\"x\":{\"content\":[", "]},\"content\":[]}" },
};

START_TEST(surroundings_read_as_the_whole_payload_decodes)
{
	struct text t = { 0 };

	big_write(&t, frames[_i].head, NULL, 0, frames[_i].tail);
	read_back(&t, 1, 30000, false);
	free(t.p);
}
END_TEST

/* A key of 70,000 bytes before the content: past the first part, so
 * the frame is read whole, with the same result. */
START_TEST(content_after_a_long_head_is_read_whole)
{
	struct text t = { 0 };
	char *pad = malloc(70001);

	ck_assert(pad != NULL);
	memset(pad, 'x', 70000);
	pad[70000] = '\0';
	adds(&t, "{\"kind\":\"write\",\"path\":\"/w/f\",\"pad\":\"");
	adds(&t, pad);
	big_write(&t, "\",\"content\":[", NULL, 0, "]}");
	read_back(&t, 1, 0, false);
	free(pad);
	free(t.p);
}
END_TEST

/* Frames back to back (one pipe write may end inside the next), and a
 * frame cut off in its array. */
START_TEST(frames_in_a_row_and_a_frame_cut_short)
{
	struct text t[3] = { { 0 } };

	big_write(&t[0], head, NULL, 0, "]}");
	adds(&t[1], "{\"kind\":\"ping\"}");
	big_write(&t[2], head, "7", 5, "]}");
	read_back(t, 3, 0, false);
	read_back(t, 3, 50000, false);
	read_back(t, 3, 50000, true);
	for (int i = 0; i < 3; i++)
		free(t[i].p);
}
END_TEST

/* The values of text[0..len) (a segment that ends on its separator). */
static size_t
segment_values(const char *text, size_t len, unsigned char *want)
{
	size_t m = 0;

	for (size_t i = 0; i < len; i++)
		if (i == 0 || text[i - 1] == ',')
			want[m++] = (unsigned char)atoi(text + i);
	return m;
}

/* Every segment of 1 to 400 bytes that starts after a comma and ends on
 * one, at every start in the first 300 bytes, by every decoder. */
START_TEST(compact_decoders_take_every_valid_segment)
{
	static char text[8192];
	unsigned char out[512], want[512];
	size_t n = 0, k, m;

	for (size_t i = 0; n < sizeof(text) - 8; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, i ? ",%zu" :
		    "%zu", (i * 7919 + 13) % 256);
	for (int mode = KS_CDEC_WIDE; mode <= KS_CDEC_STREAMS; mode++) {
		if (!ks_use_decoder(mode,
		    "compact_decoders_take_every_valid_segment"))
			continue;
		for (size_t s = 0; s < 300; s++) {
			if (s > 0 && text[s - 1] != ',')
				continue;
			for (size_t e = s + 1; e < s + 400; e++) {
				if (text[e] != ',')
					continue;
				m = segment_values(text + s, e - s, want);
				ck_assert_msg(ks_cdec_run(text + s, 0, e - s, out,
				    &k), "mode %d refused %zu bytes from %zu",
				    mode, e - s, s);
				ck_assert_uint_eq(k, m);
				ck_assert(memcmp(out, want, m) == 0);
			}
		}
	}
	ks_cdec_force(KS_CDEC_AUTO);
}
END_TEST

/*
 * The decoders read nothing outside the text they are given: segments
 * of 60 to 700 bytes are put at the start of a mapping with no access
 * before it, and at its end, with only the byte after the separator
 * before the page of no access after it. A read past either edge is a
 * SIGSEGV, which Check reports as an error.
 */
START_TEST(compact_decoders_read_only_their_text)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)pg * 4, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *page = map + pg, *p;
	unsigned char want[512], out[512];
	char text[1024];
	size_t n = 0, k, m;

	ck_assert(map != MAP_FAILED);
	ck_assert(mprotect(map, (size_t)pg, PROT_NONE) == 0);
	ck_assert(mprotect(map + 3 * pg, (size_t)pg, PROT_NONE) == 0);
	for (size_t i = 0; n < sizeof(text) - 8; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, i ? ",%zu" :
		    "%zu", (i * 131 + 7) % 256);
	for (int mode = KS_CDEC_WIDE; mode <= KS_CDEC_STREAMS; mode++) {
		if (!ks_use_decoder(mode,
		    "compact_decoders_read_only_their_text"))
			continue;
		for (size_t e = 60; e < 700; e++) {
			if (text[e] != ',')
				continue;
			m = segment_values(text, e, want);
			for (int at_end = 0; at_end < 2; at_end++) {
				p = at_end ? page + 2 * pg - (e + 2) : page;
				memcpy(p, text, e);
				p[e] = ']';
				p[e + 1] = '}';
				ck_assert_msg(ks_cdec_run(p, 0, e, out, &k),
				    "mode %d refused %zu bytes", mode, e);
				ck_assert_uint_eq(k, m);
				ck_assert(memcmp(out, want, m) == 0);
			}
		}
	}
	ks_cdec_force(KS_CDEC_AUTO);
	munmap(map, (size_t)pg * 4);
}
END_TEST

Suite *
reqread_suite(void)
{
	Suite *s = suite_create("reqread");
	TCase *tc = tcase_create("parts");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, compact_decoders_take_every_valid_segment);
	tcase_add_test(tc, compact_decoders_read_only_their_text);
	tcase_add_test(tc, compact_write_is_read_in_parts);
	tcase_add_loop_test(tc, oddities_read_as_the_whole_payload_decodes, 0,
	    sizeof(odd) / sizeof(odd[0]));
	tcase_add_loop_test(tc, surroundings_read_as_the_whole_payload_decodes,
	    0, sizeof(frames) / sizeof(frames[0]));
	tcase_add_test(tc, content_after_a_long_head_is_read_whole);
	tcase_add_test(tc, frames_in_a_row_and_a_frame_cut_short);
	suite_add_tcase(s, tc);
	return s;
}
