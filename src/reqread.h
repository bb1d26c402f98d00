/*
 * reqread: a request read off the wire, a large write's content array
 * decoded as it arrives (the frame is never held whole for it).
 */
#ifndef KS_REQREAD_H
#define KS_REQREAD_H

#include <stddef.h>

#include "frame.h"
#include "proto.h"

/*
 * Reads and decodes one request from r. Returns 1 (free req with
 * ks_req_free) with *len the payload's length, 0 at a clean end of
 * stream before a frame, or a negative errno with err set: a frame
 * error as ks_frame_read gives it, or a request error as ks_req_decode
 * gives it for the same payload. After an error the stream is not at a
 * frame boundary.
 */
int ks_req_read(struct ks_reader *r, struct ks_req *req, size_t *len,
    struct ks_err *err);

#endif
