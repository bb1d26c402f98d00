/*
 * serve: the worker's dispatcher: one decoded request in, one encoded
 * reply out. Every failure is an error reply; nothing here ends the
 * worker.
 */
#ifndef KS_SERVE_H
#define KS_SERVE_H

struct ks_buf;
struct ks_err;
struct ks_fs;
struct ks_req;

/*
 * Carries out req and writes its reply frame into reply (begun here).
 * Returns 0, or a negative errno with err set: the caller sends
 * ks_reply_error instead.
 */
int ks_serve(struct ks_fs *fs, const struct ks_req *req, struct ks_buf *reply,
    struct ks_err *err);

/*
 * Serves requests from fd in, replies to fd out, one at a time, until a
 * clean end of stream or a shutdown request (returns 0). A protocol
 * error gets one error frame ("read error: ...") and returns -EPROTO; a
 * peer that went away returns its negative errno. err says why.
 */
int ks_serve_loop(struct ks_fs *fs, int in, int out, struct ks_err *err);

#endif
