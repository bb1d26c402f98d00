/*
 * check_frame: the wire's framing over pipes: clean and unclean ends,
 * the 1 MiB limit on both sides, and frames that arrive joined or in
 * pieces.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"

Suite *frame_suite(void);

static void
put_be32(unsigned char *h, uint32_t n)
{
	h[0] = n >> 24;
	h[1] = n >> 16;
	h[2] = n >> 8;
	h[3] = n;
}

/* A pipe whose read end holds buf[0..len) followed by end of stream. */
static int
pipe_with(const void *buf, size_t len)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert(len < 65536);
	ck_assert_int_eq(write(p[1], buf, len), (ssize_t)len);
	close(p[1]);
	return p[0];
}

/* Forks a writer that sends buf[0..len) in pieces of step bytes. */
static pid_t
writer(int fd, const unsigned char *buf, size_t len, size_t step)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		if (write(fd, buf + off, n) != (ssize_t)n)
			_exit(1);
		if (step == 1)
			usleep(50);
	}
	_exit(0);
}

static void
reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A frame of n payload bytes: byte i of the payload is i * 7 mod 251. */
static unsigned char *
make_frame(uint32_t n)
{
	unsigned char *f = malloc(4 + (size_t)n);

	put_be32(f, n);
	for (uint32_t i = 0; i < n; i++)
		f[4 + i] = (unsigned char)(i * 7 % 251);
	return f;
}

START_TEST(clean_eof_before_any_byte_returns_0)
{
	struct ks_reader r = { .fd = pipe_with("", 0) };
	struct ks_err err = { .code = KS_CODE_NONE };
	const char *p;
	size_t len;

	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 0);
	ck_assert_int_eq(err.code, KS_CODE_NONE);
	ks_reader_free(&r);
	close(r.fd);
}
END_TEST

START_TEST(eof_inside_length_prefix_is_a_protocol_error)
{
	static const char *const want[] = {
		"", "EOF after 1 of 4 length-prefix bytes",
		"EOF after 2 of 4 length-prefix bytes",
		"EOF after 3 of 4 length-prefix bytes",
	};
	struct ks_reader r = { .fd = pipe_with("\0\0\0", (size_t)_i) };
	struct ks_err err;
	const char *p;
	size_t len;

	ck_assert_int_lt(ks_frame_read(&r, &p, &len, &err), 0);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, want[_i]);
	ks_reader_free(&r);
	close(r.fd);
}
END_TEST

START_TEST(eof_inside_payload_is_early_eof)
{
	/* Length 10, then 0 or 5 or 9 of its bytes. */
	static const size_t have[] = { 0, 5, 9 };
	unsigned char buf[14] = { 0, 0, 0, 10, 'a', 'b', 'c', 'd', 'e', 'f',
	    'g', 'h', 'i', 'j' };
	struct ks_reader r = { .fd = pipe_with(buf, 4 + have[_i]) };
	struct ks_err err;
	const char *p;
	size_t len;

	ck_assert_int_lt(ks_frame_read(&r, &p, &len, &err), 0);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, "early eof");
	ks_reader_free(&r);
	close(r.fd);
}
END_TEST

START_TEST(empty_frame_is_delivered_with_length_0)
{
	struct ks_reader r = { .fd = pipe_with("\0\0\0\0", 4) };
	struct ks_err err;
	const char *p = NULL;
	size_t len = 99;

	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 0);
	ks_reader_free(&r);
	close(r.fd);
}
END_TEST

START_TEST(frame_of_exactly_1_mib_is_accepted_and_delivered)
{
	unsigned char *f = make_frame(KS_FRAME_MAX);
	struct ks_reader r = { 0 };
	struct ks_err err;
	const char *p;
	size_t len;
	int fds[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = writer(fds[1], f, 4 + (size_t)KS_FRAME_MAX, 65536);
	close(fds[1]);
	r.fd = fds[0];
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 1);
	ck_assert_uint_eq(len, 1048576);
	ck_assert(memcmp(p, f + 4, len) == 0);
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 0);
	reap(pid);
	ks_reader_free(&r);
	close(fds[0]);
	free(f);
}
END_TEST

START_TEST(frame_over_1_mib_is_refused_before_its_payload_is_read)
{
	static const uint32_t sizes[] = { KS_FRAME_MAX + 1, 0xFFFFFFFFu };
	static const char *const want[] = {
		"payload size 1048577 exceeds max 1048576",
		"payload size 4294967295 exceeds max 1048576",
	};
	unsigned char buf[4 + 100] = { 0 };
	struct ks_reader r = { 0 };
	struct ks_err err;
	const char *p;
	size_t len;

	put_be32(buf, sizes[_i]);
	r.fd = pipe_with(buf, sizeof(buf));
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), -EMSGSIZE);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, want[_i]);
	/* Nothing near the claimed size was allocated. */
	ck_assert_uint_lt(r.in.cap, KS_FRAME_MAX / 4);
	ks_reader_free(&r);
	close(r.fd);
}
END_TEST

START_TEST(frames_joined_in_one_write_are_split)
{
	static const char joined[] =
	    "\0\0\0\x02{}" "\0\0\0\0"
	    "\0\0\0\x0f{\"kind\":\"ping\"}" "\0\0\0\x01x";
	static const char *const want[] = { "{}", "", "{\"kind\":\"ping\"}",
	    "x" };
	struct ks_reader r = { .fd = pipe_with(joined, sizeof(joined) - 1) };
	struct ks_err err;
	const char *p;
	size_t len;

	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 1);
		ck_assert_uint_eq(len, strlen(want[i]));
		ck_assert(memcmp(p, want[i], len) == 0);
	}
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 0);
	ks_reader_free(&r);
	close(r.fd);
}
END_TEST

/* Two frames (300 and 5 bytes) written 1, 3 or 7 bytes at a time. */
START_TEST(frame_written_in_small_pieces_is_reassembled)
{
	static const size_t steps[] = { 1, 3, 7 };
	unsigned char *a = make_frame(300), buf[4 + 300 + 4 + 5];
	struct ks_reader r = { 0 };
	struct ks_err err;
	const char *p;
	size_t len;
	int fds[2];
	pid_t pid;

	memcpy(buf, a, 304);
	memcpy(buf + 304, "\0\0\0\x05hello", 9);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	pid = writer(fds[1], buf, sizeof(buf), steps[_i]);
	close(fds[1]);
	r.fd = fds[0];
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 1);
	ck_assert_uint_eq(len, 300);
	ck_assert(memcmp(p, a + 4, 300) == 0);
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 1);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(p, "hello", 5) == 0);
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 0);
	reap(pid);
	ks_reader_free(&r);
	close(fds[0]);
	free(a);
}
END_TEST

START_TEST(read_error_is_a_protocol_error_with_os_text)
{
	struct ks_reader r = { .fd = -1 };
	struct ks_err err;
	const char *p;
	size_t len;

	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), -EBADF);
	ck_assert_int_eq(err.code, KS_CODE_PROTOCOL);
	ck_assert_str_eq(err.msg, "Bad file descriptor (os error 9)");
	ks_reader_free(&r);
}
END_TEST

/* Sends a frame of n payload bytes and returns what the pipe got. */
static unsigned char *
send_and_collect(uint32_t n, size_t *got)
{
	struct ks_buf b = { 0 };
	struct ks_err err;
	unsigned char *f = make_frame(n), *out = malloc(4 + (size_t)n + 1);
	ssize_t k;
	int fds[2];
	pid_t pid;

	ck_assert_int_eq(ks_frame_begin(&b), 0);
	ck_assert_int_eq(ks_buf_put(&b, f + 4, n), 0);
	ck_assert_uint_eq(ks_frame_size(&b), n);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	if ((pid = fork()) == 0)
		_exit(ks_frame_send(fds[1], &b, &err) == 0 ? 0 : 1);
	close(fds[1]);
	*got = 0;
	while ((k = read(fds[0], out + *got, 4 + (size_t)n + 1 - *got)) > 0)
		*got += (size_t)k;
	reap(pid);
	ck_assert(memcmp(out + 4, f + 4, n) == 0);
	close(fds[0]);
	ks_buf_free(&b);
	free(f);
	return out;
}

START_TEST(send_writes_a_big_endian_length_prefix)
{
	static const struct {
		uint32_t n;
		unsigned char h[4];
	} t[] = {
		{ 0, { 0, 0, 0, 0 } },
		{ 5, { 0, 0, 0, 5 } },
		{ 300, { 0, 0, 1, 0x2C } },
		{ 0x010203, { 0, 1, 2, 3 } },
		{ KS_FRAME_MAX, { 0, 0x10, 0, 0 } },
	};
	size_t got;
	unsigned char *out = send_and_collect(t[_i].n, &got);

	ck_assert_uint_eq(got, 4 + (size_t)t[_i].n);
	ck_assert(memcmp(out, t[_i].h, 4) == 0);
	free(out);
}
END_TEST

START_TEST(send_refuses_a_payload_over_1_mib_and_writes_nothing)
{
	struct ks_buf b = { 0 };
	struct ks_err err;
	char c;
	int fds[2];

	ck_assert_int_eq(ks_frame_begin(&b), 0);
	ck_assert_int_eq(ks_buf_reserve(&b, KS_FRAME_MAX + 1), 0);
	memset(b.p + 4, 'x', KS_FRAME_MAX + 1);
	b.len += KS_FRAME_MAX + 1;
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(ks_frame_send(fds[1], &b, &err), -EMSGSIZE);
	ck_assert_int_eq(err.code, KS_CODE_INTERNAL);
	ck_assert_str_eq(err.msg,
	    "outgoing payload size 1048577 exceeds max 1048576");
	ck_assert_int_eq(read(fds[0], &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(fds[0]);
	close(fds[1]);
	ks_buf_free(&b);
}
END_TEST

START_TEST(frame_sent_is_read_back)
{
	struct ks_buf b = { 0 };
	struct ks_reader r = { 0 };
	struct ks_err err;
	const char *p;
	size_t len;
	int fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ks_frame_begin(&b), 0);
		ck_assert_int_eq(ks_buf_put(&b, "{\"kind\":\"pong\"}", 15 - i),
		    0);
		ck_assert_int_eq(ks_frame_send(fds[1], &b, &err), 0);
	}
	close(fds[1]);
	r.fd = fds[0];
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 1);
		ck_assert_uint_eq(len, (size_t)(15 - i));
		ck_assert(memcmp(p, "{\"kind\":\"pong\"}", len) == 0);
	}
	ck_assert_int_eq(ks_frame_read(&r, &p, &len, &err), 0);
	ks_reader_free(&r);
	ks_buf_free(&b);
	close(fds[0]);
}
END_TEST

Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, clean_eof_before_any_byte_returns_0);
	tcase_add_loop_test(tc, eof_inside_length_prefix_is_a_protocol_error,
	    1, 4);
	tcase_add_loop_test(tc, eof_inside_payload_is_early_eof, 0, 3);
	tcase_add_test(tc, empty_frame_is_delivered_with_length_0);
	tcase_add_test(tc, frame_of_exactly_1_mib_is_accepted_and_delivered);
	tcase_add_loop_test(tc,
	    frame_over_1_mib_is_refused_before_its_payload_is_read, 0, 2);
	tcase_add_test(tc, frames_joined_in_one_write_are_split);
	tcase_add_loop_test(tc, frame_written_in_small_pieces_is_reassembled,
	    0, 3);
	tcase_add_test(tc, read_error_is_a_protocol_error_with_os_text);
	tcase_add_loop_test(tc, send_writes_a_big_endian_length_prefix, 0, 5);
	tcase_add_test(tc,
	    send_refuses_a_payload_over_1_mib_and_writes_nothing);
	tcase_add_test(tc, frame_sent_is_read_back);
	suite_add_tcase(s, tc);
	return s;
}
