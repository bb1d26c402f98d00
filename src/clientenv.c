/*
 * clientenv: what a spawned worker is given, built before fork: its
 * environment (the caller's, with the options' entries and the proxy
 * variables over it), its command line, and the binary found on PATH.
 */
#include "clientenv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "path.h"

extern char **environ;

#define NO_PROXY "localhost,127.0.0.1,::1,169.254.0.0/16,10.0.0.0/8," \
	"172.16.0.0/12,192.168.0.0/16"

int
ks_client_proxy_env(int port, const char *ca, struct ks_strv *out)
{
	static const char *const proxy[] = { "HTTP_PROXY", "HTTPS_PROXY",
	    "http_proxy", "https_proxy" };
	static const char *const cas[] = { "SSL_CERT_FILE",
	    "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE" };
	char buf[4200];
	int rc = 0;

	for (size_t i = 0; i < 4 && rc == 0; i++) {
		snprintf(buf, sizeof(buf), "%s=http://127.0.0.1:%d", proxy[i],
		    port);
		rc = ks_strv_push(out, buf, strlen(buf));
	}
	if (rc == 0)
		rc = ks_strv_push(out, "NO_PROXY=" NO_PROXY,
		    strlen("NO_PROXY=" NO_PROXY));
	if (rc == 0)
		rc = ks_strv_push(out, "no_proxy=" NO_PROXY,
		    strlen("no_proxy=" NO_PROXY));
	for (size_t i = 0; ca != NULL && i < 4 && rc == 0; i++) {
		snprintf(buf, sizeof(buf), "%s=%s", cas[i], ca);
		rc = ks_strv_push(out, buf, strlen(buf));
	}
	return rc;
}

/* True when entry "NAME=..." sets a name that over (NAME=...) also sets. */
static bool
overridden(const char *entry, const struct ks_strv *over)
{
	size_t n = strcspn(entry, "=");

	for (size_t i = 0; i < over->n; i++)
		if (strncmp(over->v[i], entry, n + 1) == 0)
			return true;
	return false;
}

/* The child's environment: ours, less what is set anew, plus that. */
int
ks_client_build_env(const struct ks_client_opts *o, struct ks_strv *env)
{
	struct ks_strv over = { 0 };
	char *pol = NULL;
	int rc = 0;

	if (o->policy_json != NULL) {
		if (asprintf(&pol, "KODA_FS_WORKER_POLICY=%s",
		    o->policy_json) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		if ((rc = ks_strv_take(&over, pol)) < 0)
			goto out;
	}
	if (o->proxy_port > 0 && (rc = ks_client_proxy_env(o->proxy_port,
	    o->ca_bundle, &over)) < 0)
		goto out;
	for (const char *const *e = o->env; e != NULL && *e != NULL; e++)
		if ((rc = ks_strv_push(&over, *e, strlen(*e))) < 0)
			goto out;
	for (char **e = environ; *e != NULL; e++)
		if (!overridden(*e, &over) &&
		    (rc = ks_strv_push(env, *e, strlen(*e))) < 0)
			goto out;
	for (size_t i = 0; i < over.n && rc == 0; i++)
		rc = ks_strv_push(env, over.v[i], strlen(over.v[i]));
	/* execve wants the list NULL-terminated. */
	if (rc == 0 && (rc = ks_strv_take(env, NULL)) == 0)
		env->n--;
out:
	ks_strv_free(&over);
	return rc;
}

/* A bare name (no slash) is looked up in $PATH, as execvp(3) would, but
 * before fork: the child may call only async-signal-safe functions. */
static int
find_in_path(const char *name, char **out, struct ks_err *err)
{
	const char *p = getenv("PATH"), *end;
	struct stat st;
	char *cand;
	size_t n;

	if (p == NULL || *p == '\0')
		p = "/usr/local/bin:/usr/bin:/bin";
	for (;; p = end + 1) {
		end = strchrnul(p, ':');
		n = (size_t)(end - p);
		if (asprintf(&cand, "%.*s%s%s", (int)n, p, n > 0 ? "/" : "",
		    name) < 0)
			return ks_err_os(err, ENOMEM);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(cand, X_OK) == 0) {
			*out = cand;
			return 0;
		}
		free(cand);
		if (*end == '\0')
			break;
	}
	ks_err_set(err, ENOENT, KS_CODE_INTERNAL, "worker %s: not found in "
	    "PATH (a name without a slash is looked up there; give a path such "
	    "as ./%s for another place)", name, name);
	return -ENOENT;
}

/* The worker's command line: BIN (or this executable as
 * koda-fs-worker) --socket SOCK [--root DIR]; *path is what to execute
 * (caller frees). */
int
ks_client_build_argv(const struct ks_client_opts *o, const char *sock, char **path,
    const char *argv[7], struct ks_err *err)
{
	const char *bin = o->worker != NULL ? o->worker :
	    getenv("KODA_FS_WORKER_BIN");
	int n = 0;

	if (bin == NULL || *bin == '\0') {
		bin = NULL;
		*path = strdup("/proc/self/exe");
	} else if (strchr(bin, '/') != NULL) {
		*path = strdup(bin);
	} else if (find_in_path(bin, path, err) < 0) {
		return -ENOENT;
	}
	if (*path == NULL) {
		ks_err_os(err, ENOMEM);
		return -ENOMEM;
	}
	argv[n++] = bin != NULL ? bin : "koda-fs-worker";
	argv[n++] = "--socket";
	argv[n++] = sock;
	if (o->root != NULL) {
		argv[n++] = "--root";
		argv[n++] = o->root;
	}
	argv[n] = NULL;
	return 0;
}
