/*
 * clientenv: a spawned worker's environment and command line, built
 * before fork (client.c spawns).
 */
#ifndef KS_CLIENTENV_H
#define KS_CLIENTENV_H

#include "client.h"
#include "path.h"

struct ks_err;

/* The worker's environment: the caller's, the options' entries over it
 * (NAME=VALUE replacing NAME), then the proxy variables. 0, -ENOMEM. */
int ks_client_build_env(const struct ks_client_opts *o, struct ks_strv *env);

/* The worker's command line: BIN (or this executable as
 * koda-fs-worker) --socket SOCK [--root DIR]; *path is what to execute
 * (caller frees). 0, or -ENOENT / -ENOMEM with err set. */
int ks_client_build_argv(const struct ks_client_opts *o, const char *sock,
    char **path, const char *argv[7], struct ks_err *err);

#endif
