/*
 * fuzz_frame: ks_frame_read over a pipe fed the input. The first byte
 * picks how the rest is cut into writes on a packet-mode pipe (each
 * write is one read at most), so that frames arrive split anywhere.
 * Every frame returned is at most KS_FRAME_MAX and lies within the
 * stream; every error is a protocol error with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "fuzz.h"

/* Pipe capacity asked for; packets of up to a page each fill slots. */
#define PIPE_BYTES (1 << 20)
#define SLOTS (PIPE_BYTES / 4096)

/* Writes s[0..n) in chunks of about chunk bytes, at most SLOTS writes. */
static void
feed(int fd, const uint8_t *s, size_t n, size_t chunk)
{
	size_t off = 0, k;
	ssize_t w;

	if (chunk * SLOTS < n)
		chunk = (n + SLOTS - 1) / SLOTS;
	while (off < n) {
		k = n - off < chunk ? n - off : chunk;
		w = write(fd, s + off, k);
		FUZZ_CHECK(w == (ssize_t)k);
		off += k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_reader r = { 0 };
	struct ks_err err;
	const char *payload;
	size_t len, total = 0;
	int p[2], rc;

	if (size < 1 || size > PIPE_BYTES / 2)
		return 0;
	if (pipe2(p, O_CLOEXEC | O_DIRECT) < 0)
		FUZZ_CHECK(pipe2(p, O_CLOEXEC) == 0);
	FUZZ_CHECK(fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES) >= PIPE_BYTES);
	feed(p[1], data + 1, size - 1, (size_t)data[0] + 1);
	close(p[1]);
	r.fd = p[0];
	for (;;) {
		memset(&err, 0, sizeof(err));
		rc = ks_frame_read(&r, &payload, &len, &err);
		if (rc <= 0)
			break;
		FUZZ_CHECK(rc == 1);
		FUZZ_CHECK(len <= KS_FRAME_MAX);
		total += 4 + len;
		FUZZ_CHECK(total <= size - 1);
		/* The payload is the stream's bytes, after the header. */
		FUZZ_CHECK(memcmp(payload, data + 1 + total - len, len) == 0);
	}
	if (rc == 0)
		FUZZ_CHECK(total == size - 1);
	else {
		FUZZ_CHECK(err.code == KS_CODE_PROTOCOL);
		FUZZ_CHECK(err.msg[0] != '\0');
	}
	ks_reader_free(&r);
	close(p[0]);
	return 0;
}
