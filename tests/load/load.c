/*
 * load: WORKERS workers in parallel, each spawned on its own socket
 * through the client API (src/client.h) and driven by its own client
 * process with REQUESTS mixed requests (ping, write, read, stat, glob,
 * grep, edit, get_env), every reply compared with the exact answer.
 * Afterwards: no worker left running, no socket file left in the TMPDIR
 * used, and no descriptor growth in any worker between request R/10 and
 * request R. Prints the throughput and the p50/p99 latency.
 *
 * usage: load [WORKERS [REQUESTS]]   (default 64 10000)
 * The worker is $KS_BIN, else koda-sandbox beside this program.
 * Exit 0 when every check passed, 1 otherwise, 2 on usage.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "err.h"

/* What one client process reports back through shared memory. */
struct result {
	pid_t worker;
	int fds_early, fds_late;	/* at request R/10 and at the end */
	int status;			/* the worker's wait status */
	bool ok;
	char why[512];
};

static const char *bin;
static char tmp[] = "/tmp/ks-load-XXXXXX";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(s, f);
	return fclose(f);
}

/* Entries of /proc/PID/fd, or -1. */
static int
count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Appends s as a JSON array of byte values. */
static size_t
bytes(char *o, const char *s)
{
	size_t n = 0;

	o[n++] = '[';
	for (size_t i = 0; s[i] != '\0'; i++)
		n += (size_t)sprintf(o + n, "%s%u", i ? "," : "",
		    (unsigned char)s[i]);
	o[n++] = ']';
	o[n] = '\0';
	return n;
}

/* Request number i for the worker on root (w: its number), and the
 * exact reply it must get. */
static void
request(int w, const char *root, int i, char *req, char *want)
{
	char content[64], arr[256];

	switch (i % 8) {
	case 0:
		strcpy(req, "{\"kind\":\"ping\"}");
		strcpy(want, "{\"kind\":\"pong\"}");
		break;
	case 1:
		snprintf(content, sizeof(content), "v%d", i);
		bytes(arr, content);
		sprintf(req, "{\"kind\":\"write\",\"path\":\"%s/w/f%d.txt\","
		    "\"content\":%s}", root, i % 16, arr);
		sprintf(want, "{\"kind\":\"write\",\"bytes_written\":%zu}",
		    strlen(content));
		break;
	case 2:		/* what request i - 1 wrote */
		snprintf(content, sizeof(content), "v%d", i - 1);
		bytes(arr, content);
		sprintf(req, "{\"kind\":\"read\",\"path\":\"%s/w/f%d.txt\"}",
		    root, (i - 1) % 16);
		sprintf(want, "{\"kind\":\"read\",\"content\":%s}", arr);
		break;
	case 3:
		sprintf(req, "{\"kind\":\"stat\",\"path\":\"%s/a.txt\"}", root);
		strcpy(want, "{\"kind\":\"stat\",\"size\":6,\"is_dir\":false,"
		    "\"is_symlink\":false}");
		break;
	case 4:
		sprintf(req, "{\"kind\":\"glob\",\"pattern\":\"*.txt\","
		    "\"root\":\"%s\"}", root);
		sprintf(want, "{\"kind\":\"glob\",\"paths\":[\"%s/a.txt\","
		    "\"%s/e.txt\"]}", root, root);
		break;
	case 5:
		sprintf(req, "{\"kind\":\"grep\",\"pattern\":\"hel+o\","
		    "\"root\":\"%s\"}", root);
		sprintf(want, "{\"kind\":\"grep\",\"matches\":[{\"path\":"
		    "\"%s/a.txt\",\"line\":1,\"text\":\"hello\"}]}", root);
		break;
	case 6:		/* foo -> bar, then back */
		sprintf(req, "{\"kind\":\"edit\",\"path\":\"%s/e.txt\","
		    "\"old_string\":\"%s\",\"new_string\":\"%s\"}", root,
		    i / 8 % 2 ? "bar" : "foo", i / 8 % 2 ? "foo" : "bar");
		strcpy(want, "{\"kind\":\"edit\",\"replacements\":1}");
		break;
	default:
		strcpy(req, "{\"kind\":\"get_env\",\"names\":[\"KS_LOAD_VAR\","
		    "\"KS_LOAD_UNSET\"]}");
		sprintf(want, "{\"kind\":\"get_env\",\"values\":[\"w%d\","
		    "null]}", w);
		break;
	}
}

/* Records why the client failed: what it did and what it got. */
static int
fail(struct result *r, const char *what, const char *a, const char *b)
{
	snprintf(r->why, sizeof(r->why), "%s %.200s: %.200s", what, a, b);
	r->ok = false;
	return 1;
}

/* One client process: its worker, its requests, its latencies. */
static int
client(int w, int nreq, struct result *r, double *lat)
{
	struct ks_client_opts o = { 0 };
	struct ks_client *c = NULL;
	struct ks_err e;
	char root[256], path[300], env[64], req[1024], want[1024], *got;
	const char *envv[2] = { env, NULL };
	size_t len;
	double t;
	int rc = 0;

	snprintf(root, sizeof(root), "%s/w%d", tmp, w);
	snprintf(path, sizeof(path), "%s/w", root);
	if (mkdir(root, 0755) < 0 || mkdir(path, 0755) < 0)
		return fail(r, "mkdir", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/a.txt", root);
	put(path, "hello\n");
	snprintf(path, sizeof(path), "%s/e.txt", root);
	put(path, "state foo\n");
	snprintf(env, sizeof(env), "KS_LOAD_VAR=w%d", w);
	o.worker = bin;
	o.root = root;
	o.env = envv;
	if (ks_client_spawn(&o, &c, &e) < 0)
		return fail(r, "spawn", bin, e.msg);
	r->worker = ks_client_pid(c);
	for (int i = 0; i < nreq && rc == 0; i++) {
		request(w, root, i, req, want);
		t = now();
		if (ks_client_call(c, req, strlen(req), &got, &len, &e) < 0) {
			rc = fail(r, "call", req, e.msg);
			break;
		}
		lat[i] = now() - t;
		if (strcmp(got, want) != 0) {
			snprintf(r->why, sizeof(r->why), "request %d: %.150s\n  "
			    "want %.150s\n  got  %.150s", i, req, want, got);
			r->ok = false;
			rc = 1;
		}
		free(got);
		if (i + 1 == nreq / 10)
			r->fds_early = count_fds(r->worker);
	}
	r->fds_late = count_fds(r->worker);
	r->status = ks_client_close(c);
	if (rc == 0 && r->status != 0) {
		snprintf(r->why, sizeof(r->why), "worker status %d", r->status);
		r->ok = false;
		rc = 1;
	}
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sockets (and other strays) in tmp: anything but the w<i> trees. */
static int
strays(void)
{
	struct dirent *e;
	DIR *d = opendir(tmp);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || e->d_name[0] == 'w')
			continue;
		fprintf(stderr, "load: left in %s: %s\n", tmp, e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static void
rmtree(const char *dir)
{
	char *cmd;

	if (asprintf(&cmd, "rm -rf '%s'", dir) > 0) {
		(void)!system(cmd);
		free(cmd);
	}
}

int
main(int argc, char **argv)
{
	int nw = argc > 1 ? atoi(argv[1]) : 64, nr = argc > 2 ?
	    atoi(argv[2]) : 10000, bad = 0, st, grew = 0;
	struct result *res;
	double *lat, t0, t;
	char *self = NULL, *b = NULL;
	pid_t *pids;

	if (argc > 3 || nw < 1 || nr < 8) {
		fprintf(stderr, "usage: load [WORKERS [REQUESTS >= 8]]\n");
		return 2;
	}
	if ((bin = getenv("KS_BIN")) == NULL) {
		if ((self = realpath("/proc/self/exe", NULL)) == NULL ||
		    asprintf(&b, "%s/koda-sandbox", dirname(self)) < 0)
			return 2;
		bin = b;
	}
	if (mkdtemp(tmp) == NULL) {
		perror("load: mkdtemp");
		return 1;
	}
	/* The clients put their sockets here; nothing else may stay. */
	setenv("TMPDIR", tmp, 1);
	unsetenv("KS_LOAD_UNSET");
	signal(SIGPIPE, SIG_IGN);
	res = mmap(NULL, sizeof(*res) * (size_t)nw + sizeof(double) *
	    (size_t)nw * (size_t)nr, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	pids = calloc((size_t)nw, sizeof(*pids));
	if (res == MAP_FAILED || pids == NULL)
		return 1;
	lat = (double *)(res + nw);
	fflush(stdout);
	t0 = now();
	for (int w = 0; w < nw; w++) {
		res[w].ok = true;
		if ((pids[w] = fork()) == 0)
			_exit(client(w, nr, &res[w], lat + (size_t)w * nr));
		if (pids[w] < 0) {
			perror("load: fork");
			return 1;
		}
	}
	for (int w = 0; w < nw; w++) {
		while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !res[w].ok) {
			fprintf(stderr, "load: client %d (status %d): %s\n", w,
			    st, res[w].why);
			bad++;
		}
	}
	t = now() - t0;
	for (int w = 0; w < nw; w++) {
		if (res[w].worker > 0 && (kill(res[w].worker, 0) == 0 ||
		    errno != ESRCH)) {
			fprintf(stderr, "load: worker %d (pid %d) still "
			    "running\n", w, (int)res[w].worker);
			bad++;
		}
		if (res[w].fds_early < 0 ||
		    res[w].fds_late != res[w].fds_early) {
			fprintf(stderr, "load: worker %d: %d descriptors at "
			    "request %d, %d at %d\n", w, res[w].fds_early,
			    nr / 10, res[w].fds_late, nr);
			grew++;
		}
	}
	bad += grew + (strays() != 0);
	qsort(lat, (size_t)nw * nr, sizeof(double), cmp_double);
	printf("load: %d workers x %d requests: %.0f requests/s overall "
	    "(%.2f s); latency p50 %.3f ms, p99 %.3f ms; descriptors %d at "
	    "request %d and at %d; %s\n", nw, nr, (double)nw * nr / t, t,
	    lat[(size_t)nw * nr / 2] * 1e3,
	    lat[(size_t)nw * nr * 99 / 100] * 1e3, res[0].fds_early, nr / 10,
	    nr, bad == 0 ? "every reply as expected, no worker or socket "
	    "left" : "FAILED");
	rmtree(tmp);
	free(pids);
	free(self);
	free(b);
	return bad == 0 ? 0 : 1;
}
