/*
 * fuzz_reqread: ks_req_read (a large write decoded as it arrives)
 * against ks_req_decode on the same payload. The payload is a write of
 * about 80 KB of compact values (large enough to be read in parts) with
 * the input spliced into it: its first three bytes say where in the text
 * (17 bits) and how the pipe is fed (pieces of 1 to 128 times 61 bytes),
 * the rest is put there. Both must agree on the result, the message of an
 * error, the kind, the path and every byte of the content. Each side
 * runs a decoder of cdecode.h chosen by the first two bytes, so that the
 * decoders are also fuzzed against each other.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cdecode.h"
#include "err.h"
#include "frame.h"
#include "fuzz.h"
#include "proto.h"
#include "reqread.h"

#define VALUES 18500
#define PIPE_BYTES (1 << 20)

static char base[VALUES * 4 + 128];
static size_t base_len;

static void
make_base(void)
{
	size_t n = (size_t)snprintf(base, sizeof(base), "{\"kind\":\"write\","
	    "\"path\":\"/f\",\"content\":[");

	for (size_t i = 0; i < VALUES; i++)
		n += (size_t)snprintf(base + n, sizeof(base) - n, i ? ",%zu" :
		    "%zu", (i * 7919 + 13) % 256);
	n += (size_t)snprintf(base + n, sizeof(base) - n, "]}");
	base_len = n;
}

/* Writes the frame of p[0..n) to fd in pieces of piece bytes. */
static void
feed(int fd, const char *p, size_t n, size_t piece)
{
	unsigned char h[4] = { n >> 24, n >> 16, n >> 8, n };
	size_t off = 0, k;

	FUZZ_CHECK(write(fd, h, 4) == 4);
	for (; off < n; off += k) {
		k = n - off < piece ? n - off : piece;
		FUZZ_CHECK(write(fd, p + off, k) == (ssize_t)k);
	}
}

/* One of the decoders this CPU runs, by b (the fastest when b's is
 * not). */
static void
decoder(uint8_t b)
{
	if (!ks_cdec_force(KS_CDEC_WIDE + b % 3))
		ks_cdec_force(KS_CDEC_AUTO);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char payload[sizeof(base) + 4096];
	struct ks_reader r = { 0 };
	struct ks_req got, want;
	struct ks_err e1 = { 0 }, e2 = { 0 };
	size_t at, n, len = 0;
	int p[2], rc1, rc2;

	if (base_len == 0)
		make_base();
	if (size < 3 || size - 3 > 4096)
		return 0;
	at = ((size_t)data[0] | (size_t)data[1] << 8 | (size_t)(data[2] & 1) <<
	    16) % (base_len + 1);
	memcpy(payload, base, at);
	memcpy(payload + at, data + 3, size - 3);
	memcpy(payload + at + size - 3, base + at, base_len - at);
	n = base_len + size - 3;
	FUZZ_CHECK(pipe2(p, O_CLOEXEC) == 0);
	FUZZ_CHECK(fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES) >= PIPE_BYTES);
	feed(p[1], payload, n, ((size_t)(data[2] >> 1) + 1) * 61);
	close(p[1]);
	r.fd = p[0];
	decoder(data[0]);
	rc1 = ks_req_read(&r, &got, &len, &e1);
	decoder(data[1]);
	rc2 = ks_req_decode(payload, n, &want, &e2);
	ks_cdec_force(KS_CDEC_AUTO);
	FUZZ_CHECK((rc1 < 0) == (rc2 < 0));
	if (rc2 < 0) {
		FUZZ_CHECK(e1.code == e2.code);
		FUZZ_CHECK(strcmp(e1.msg, e2.msg) == 0);
	} else {
		FUZZ_CHECK(rc1 == 1 && len == n);
		FUZZ_CHECK(got.kind == want.kind);
		FUZZ_CHECK(got.content_len == want.content_len);
		FUZZ_CHECK(want.content_len == 0 || memcmp(got.content,
		    want.content, want.content_len) == 0);
		FUZZ_CHECK((got.path == NULL) == (want.path == NULL));
		FUZZ_CHECK(got.path == NULL || strcmp(got.path, want.path) ==
		    0);
		ks_req_free(&got);
		ks_req_free(&want);
	}
	ks_reader_free(&r);
	close(p[0]);
	return 0;
}
