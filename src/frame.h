/*
 * frame: length-prefixed frames on file descriptors (SPEC §2): a 4-byte
 * big-endian length, then that many bytes, at most KS_FRAME_MAX.
 */
#ifndef KS_FRAME_H
#define KS_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct ks_err;

#define KS_FRAME_MAX (1u << 20)

/* A growable byte buffer. Zero-initialise; free with ks_buf_free. */
struct ks_buf {
	char *p;
	size_t len, cap;
};

/* Makes room for n more bytes; returns 0 or -ENOMEM. */
int ks_buf_reserve(struct ks_buf *b, size_t n);
int ks_buf_put(struct ks_buf *b, const void *s, size_t n);
void ks_buf_free(struct ks_buf *b);

/* Buffered frame reader on fd. Zero-initialise, then set fd. */
struct ks_reader {
	int fd;
	struct ks_buf in;
	size_t off;		/* start of unconsumed bytes in in.p */
	size_t left;		/* of the frame begun, bytes not consumed */
};

/*
 * Reads one frame. Returns 1 with *payload and *len pointing into the
 * reader's buffer (valid until the next call), 0 on a clean end of
 * stream before the first length byte, or a negative errno with err set
 * (KS_CODE_PROTOCOL; the message is the reference's reason, e.g.
 * "payload size N exceeds max 1048576") for a truncated or oversize
 * frame or a read error. The buffer never grows past twice one
 * maximal frame (KS_FRAME_MAX + 4), whatever length a peer claims.
 */
int ks_frame_read(struct ks_reader *r, const char **payload, size_t *len,
    struct ks_err *err);

/*
 * A frame in parts, for a reader that decodes as bytes arrive: the
 * head (1 with the payload's length, 0 at a clean end of stream, or a
 * negative errno, as above); then, as often as needed, a peek that
 * reads until at least want more bytes of the payload are buffered
 * (fewer when the payload has fewer left) and points *p at all of them
 * that are buffered, *avail; and a consume of the first n of those.
 * Bytes not consumed stay in front of the next peek. Every byte of the
 * payload must be consumed before the next head.
 */
int ks_frame_head(struct ks_reader *r, size_t *len, struct ks_err *err);
int ks_frame_peek(struct ks_reader *r, size_t want, const char **p,
    size_t *avail, struct ks_err *err);
void ks_frame_consume(struct ks_reader *r, size_t n);

void ks_reader_free(struct ks_reader *r);

/* Frees r's buffer when it holds more than keep bytes and none of them
 * unconsumed, so that a large frame's memory does not stay. */
void ks_reader_trim(struct ks_reader *r, size_t keep);

/*
 * Starts a frame in b: empties it and reserves the 4 length bytes that
 * ks_frame_send fills in.
 */
int ks_frame_begin(struct ks_buf *b);

/* Payload bytes written to b since ks_frame_begin. */
size_t ks_frame_size(const struct ks_buf *b);

/*
 * Fills in b's length prefix and writes the whole frame to fd (looping
 * over partial writes and EINTR). Returns 0, -EMSGSIZE when the payload
 * exceeds KS_FRAME_MAX (nothing written), or a negative errno.
 */
int ks_frame_send(int fd, struct ks_buf *b, struct ks_err *err);

/*
 * The whole of file ("-": standard input) in a new NUL-terminated buffer
 * (caller frees) and its length; NULL with errno set when it cannot be
 * read.
 */
char *ks_read_file(const char *file, size_t *len);

#endif
