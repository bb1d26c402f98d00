/*
 * reqread: one request off the wire. A large frame whose "content"
 * array begins within its first part is decoded as it arrives: the
 * array's values go straight into the bytes to write and its text is
 * dropped part by part, so that a 256 KiB write holds its 256 KiB and
 * one part of the frame, not the 877 KB of JSON it came as. Any text
 * that is not in the compact form sends the rest of the frame down the
 * whole-frame path, with the values read so far printed back: nothing
 * is accepted or refused here that ks_req_decode would not.
 */
#include "reqread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cdecode.h"
#include "content.h"
#include "err.h"

/* Frames from this size are read in parts of PART bytes. */
#define STREAM_MIN ((size_t)64 * 1024)
#define PART ((size_t)64 * 1024)

static int
whole(struct ks_reader *r, size_t n, struct ks_req *req, struct ks_err *err)
{
	const char *p;
	size_t avail;
	int rc;

	if ((rc = ks_frame_peek(r, n, &p, &avail, err)) < 0)
		return rc;
	ks_frame_consume(r, avail);
	return ks_req_decode(p, avail, req, err);
}

/* What is left of the frame, appended to text. */
static int
rest(struct ks_reader *r, struct ks_buf *text, struct ks_err *err)
{
	const char *p;
	size_t avail;
	int rc;

	if ((rc = ks_frame_peek(r, r->left, &p, &avail, err)) < 0)
		return rc;
	if (ks_buf_put(text, p, avail) < 0)
		return ks_err_os(err, ENOMEM);
	ks_frame_consume(r, avail);
	return 0;
}

/*
 * Decodes the array's values from the reader into bytes (*n so far)
 * until its ']' (left unconsumed). Returns 1, 0 when the text is not
 * compact (nothing of it consumed past the last value decoded), or a
 * negative errno.
 */
static int
array(struct ks_reader *r, unsigned char *bytes, size_t *n,
    struct ks_err *err)
{
	const char *p, *close;
	size_t avail, q, k;
	int rc;

	for (;;) {
		if ((rc = ks_frame_peek(r, PART, &p, &avail, err)) < 0)
			return rc;
		/* The decoders read one byte past the value's separator. */
		if ((close = memchr(p, ']', avail)) != NULL &&
		    (size_t)(close - p) + 1 < avail) {
			q = (size_t)(close - p);
			if (q == 0 && *n == 0)
				return 1;		/* [] */
			if (q == 0 || !ks_cdec_run(p, 0, q, bytes + *n, &k))
				return 0;
			*n += k;
			ks_frame_consume(r, q);
			return 1;
		}
		if (close != NULL || avail < 2)
			return 0;		/* the frame ends there */
		for (q = avail - 2; q > 0 && p[q] != ','; q--)
			;
		if (q == 0 || !ks_cdec_run(p, 0, q, bytes + *n, &k))
			return 0;
		*n += k;
		ks_frame_consume(r, q + 1);
	}
}

static int
in_parts(struct ks_reader *r, size_t n, struct ks_req *req,
    struct ks_err *err)
{
	struct ks_buf text = { 0 };
	unsigned char *bytes = NULL;
	size_t avail, start, nb = 0;
	const char *p;
	int rc;

	if ((rc = ks_frame_peek(r, PART, &p, &avail, err)) < 0)
		return rc;
	if ((start = ks_content_start(p, avail)) == 0)
		return whole(r, n, req, err);
	/* Each value takes two bytes of text at least ("0,"); the
	 * decoders store four bytes at a time. */
	if ((bytes = malloc(n / 2 + 8)) == NULL ||
	    ks_buf_put(&text, p, start + 1) < 0) {
		rc = ks_err_os(err, ENOMEM);
		goto out;
	}
	ks_frame_consume(r, start + 1);
	if ((rc = array(r, bytes, &nb, err)) < 0)
		goto out;
	if (rc == 0) {
		/* Not compact: the whole frame, as it was sent, the values
		 * decoded so far printed back. */
		if (ks_content_print(&text, bytes, nb) < 0) {
			rc = ks_err_os(err, ENOMEM);
			goto out;
		}
		if ((rc = rest(r, &text, err)) < 0)
			goto out;
		rc = ks_req_decode(text.p, text.len, req, err);
		goto out;
	}
	if ((rc = rest(r, &text, err)) < 0)
		goto out;
	rc = ks_req_decode_lifted(text.p, text.len, start, bytes, nb, req, err);
	bytes = NULL;			/* req's now */
out:
	free(bytes);
	ks_buf_free(&text);
	/* A frame left part-read (no memory) cannot be resynchronised:
	 * the error is fatal to the session, as a bad frame is. */
	return rc;
}

int
ks_req_read(struct ks_reader *r, struct ks_req *req, size_t *len,
    struct ks_err *err)
{
	size_t n;
	int rc;

	memset(req, 0, sizeof(*req));
	if ((rc = ks_frame_head(r, &n, err)) <= 0)
		return rc;
	*len = n;
	rc = n >= STREAM_MIN ? in_parts(r, n, req, err) : whole(r, n, req, err);
	return rc < 0 ? rc : 1;
}
