/*
 * lists: glob, grep and list_dir replies (lists.c). Each carries out its
 * request on fs, writes the whole reply frame into reply (begun here),
 * and returns 0 or a negative errno with err set.
 */
#ifndef KS_LISTS_H
#define KS_LISTS_H

struct ks_buf;
struct ks_err;
struct ks_fs;
struct ks_req;

int ks_serve_glob(struct ks_fs *fs, const struct ks_req *req,
    struct ks_buf *reply, struct ks_err *err);
int ks_serve_grep(struct ks_fs *fs, const struct ks_req *req,
    struct ks_buf *reply, struct ks_err *err);
int ks_serve_list_dir(struct ks_fs *fs, const struct ks_req *req,
    struct ks_buf *reply, struct ks_err *err);

#endif
