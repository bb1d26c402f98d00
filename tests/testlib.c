/*
 * testlib: helpers for the suites. Failures here abort the test with
 * Check's ck_assert, so a broken fixture never passes silently.
 */
#include "testlib.h"

#include "cdecode.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>
#include <unistd.h>

void
ks_skip(const char *name, const char *why)
{
	const char *log = getenv("KS_SKIP_LOG");
	FILE *f;

	printf("skipped: %s: %s\n", name, why);
	fflush(stdout);
	if (log != NULL && (f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s\n", name);
		fclose(f);
	}
}

bool
ks_use_decoder(int which, const char *test)
{
	static const char *const names[] = { "auto", "wide", "windows",
	    "streams" };
	char name[160];

	if (ks_cdec_force(which))
		return true;
	snprintf(name, sizeof(name), "%s (%s)", test, names[which]);
	ks_skip(name, "this CPU cannot run that decoder");
	return false;
}

int
ks_skips_counted(void)
{
	const char *log = getenv("KS_SKIP_LOG");
	int c, n = 0;
	FILE *f;

	if (log == NULL || (f = fopen(log, "r")) == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

char *
ks_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	ck_assert(asprintf(&p, "%s/ks-test-XXXXXX", base ? base : "/tmp") > 0);
	ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp: %s", strerror(errno));
	return p;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
ks_rmtree(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *ks_root;

void
ks_root_setup(void)
{
	ks_root = ks_tmpdir();
}

void
ks_root_teardown(void)
{
	ks_rmtree(ks_root);
	free(ks_root);
}

static void
mkparents(const char *path)
{
	char *p = strdup(path);

	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0777);
		*s = '/';
	}
	free(p);
}

void
ks_mkdirs(const char *dir)
{
	mkparents(dir);
	ck_assert_msg(mkdir(dir, 0777) == 0 || errno == EEXIST, "mkdir %s: %s",
	    dir, strerror(errno));
}

void
ks_put(const char *path, const char *s, size_t len)
{
	int fd;

	mkparents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert(write(fd, s, len) == (ssize_t)len);
	close(fd);
}

void
ks_putf(const char *s, const char *fmt, ...)
{
	char *path;
	va_list ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&path, fmt, ap) > 0);
	va_end(ap);
	ks_put(path, s, strlen(s));
	free(path);
}

char *
ks_slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	do {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			ck_assert((buf = realloc(buf, cap + 1)) != NULL);
		}
		r = read(fd, buf + n, cap - n);
		ck_assert(r >= 0);
		n += (size_t)r;
	} while (r > 0);
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

char *
ks_dq(const char *s)
{
	char *d = strdup(s);

	ck_assert(d != NULL);
	for (char *p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

char *
ks_subst(const char *s, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value), n = 0;
	char *o = malloc(strlen(s) * (vl + 1) + 1);

	ck_assert(o != NULL && kl > 0);
	while (*s != '\0') {
		if (strncmp(s, key, kl) == 0) {
			memcpy(o + n, value, vl);
			n += vl;
			s += kl;
		} else {
			o[n++] = *s++;
		}
	}
	o[n] = '\0';
	return o;
}

void
ks_bin_for_nobody(const char *dir)
{
	char *cmd, *bin;

	ck_assert(asprintf(&cmd, "cp %s %s/koda-sandbox && chmod 755 "
	    "%s/koda-sandbox", ks_bin(), dir, dir) > 0);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	ck_assert(asprintf(&bin, "%s/koda-sandbox", dir) > 0);
	setenv("KS_BIN", bin, 1);	/* this test's own process only */
	free(cmd);
	free(bin);
}

char *
ks_as_nobody(char *(*fn)(void *), void *arg)
{
	char *text = NULL, buf[4096];
	size_t len = 0;
	ssize_t n;
	int p[2], st;
	pid_t pid;

	ck_assert(pipe(p) == 0);
	ck_assert((pid = fork()) >= 0);
	if (pid == 0) {
		char *out = NULL;

		close(p[0]);
		if (setgroups(0, NULL) == 0 && setresgid(65534, 65534,
		    65534) == 0 && setresuid(65534, 65534, 65534) == 0)
			out = fn(arg);
		if (out == NULL || write(p[1], out, strlen(out)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		ck_assert((text = realloc(text, len + (size_t)n + 1)) != NULL);
		memcpy(text + len, buf, (size_t)n);
		len += (size_t)n;
	}
	close(p[0]);
	ck_assert(waitpid(pid, &st, 0) == pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the part run as 65534 failed (status %#x)", st);
	if (text == NULL)
		text = strdup("");
	else
		text[len] = '\0';
	return text;
}

const char *
ks_bin(void)
{
	const char *b = getenv("KS_BIN");

	ck_assert_msg(b != NULL, "KS_BIN is not set (run through make check)");
	return b;
}

static void
child(int in, int out, int errfd, const char *const *argv,
    const char *const *env, bool uid_drop)
{
	const char *av[32] = { "koda-fs-worker" }, *ev[36];
	int n = 1, m = 0, keep;
	char home[4200], path[] = "PATH=/usr/bin:/bin", *vg = NULL;

	dup2(in, 0);
	dup2(out, 1);
	dup2(errfd, 2);
	if (getenv("KS_VG_BIN") != NULL &&
	    asprintf(&vg, "KS_VG_BIN=%s", getenv("KS_VG_BIN")) < 0)
		_exit(126);
	for (; argv != NULL && *argv != NULL && n < 31; argv++)
		av[n++] = *argv;
	av[n] = NULL;
	snprintf(home, sizeof(home), "HOME=%s", getenv("HOME") ?
	    getenv("HOME") : "/nonexistent");
	ev[m++] = path;
	/* A sanitizer build's leak check at exit uses ptrace, which the
	 * seccomp filter kills: confined workers run without it. */
	ev[m++] = "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1";
	ev[m++] = "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1";
	/* Under `make valgrind` the worker is a wrapper that needs this. */
	if (vg != NULL)
		ev[m++] = vg;
	/* The caller's HOME, if it gives one, wins. */
	for (const char *const *e = env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, "HOME=", 5) == 0)
			home[0] = '\0';
	if (home[0] != '\0')
		ev[m++] = home;
	for (; env != NULL && *env != NULL && m < 31; env++)
		ev[m++] = *env;
	ev[m] = NULL;
	/* Nothing of the test process reaches the worker, but for one
	 * descriptor a test hands down on purpose (KS_KEEP_FD). */
	keep = getenv("KS_KEEP_FD") != NULL ? atoi(getenv("KS_KEEP_FD")) : -1;
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range(keep >= 3 ? (unsigned)keep + 1 : 3, ~0U, 0);
	if (uid_drop && (setgroups(0, NULL) < 0 ||
	    setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0))
		_exit(126);
	execve(ks_bin(), (char *const *)av, (char *const *)ev);
	_exit(127);
}

static const char *
socket_arg(const char *const *argv)
{
	for (; argv != NULL && *argv != NULL; argv++)
		if (strcmp(*argv, "--socket") == 0)
			return argv[1];
	return NULL;
}

/* In --socket mode: wait for "ready", then connect. */
static void
connect_ready(struct ks_proc *p, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[16] = { 0 };
	ssize_t n;

	n = read(p->from, line, sizeof(line) - 1);
	ck_assert_msg(n == 6 && strcmp(line, "ready\n") == 0,
	    "worker did not say ready (got %zd bytes: '%s')", n, line);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	p->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(p->sock >= 0);
	ck_assert_msg(connect(p->sock, (struct sockaddr *)&sa,
	    sizeof(sa)) == 0, "connect %s: %s", path, strerror(errno));
	close(p->to);
	close(p->from);
	p->to = p->from = p->sock;
}

void
ks_spawn(struct ks_proc *p, const char *const *argv, const char *const *env,
    bool uid_drop)
{
	int in[2], out[2], er[2];
	const char *sock = socket_arg(argv);

	/* A worker that died is seen as an error, not a signal here. */
	signal(SIGPIPE, SIG_IGN);
	ck_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
	    pipe2(er, O_CLOEXEC) == 0);
	memset(p, 0, sizeof(*p));
	p->sock = -1;
	if ((p->pid = fork()) == 0)
		child(in[0], out[1], er[1], argv, env, uid_drop);
	ck_assert(p->pid > 0);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	p->to = in[1];
	p->from = out[0];
	p->err = er[0];
	if (sock != NULL)
		connect_ready(p, sock);
}

void
ks_spawn_root(struct ks_proc *p, const char *root, const char *policy,
    bool uid_drop)
{
	const char *argv[3] = { "--root", root, NULL };
	const char *env[2] = { NULL, NULL };
	char *pol = NULL;

	if (policy != NULL) {
		ck_assert(asprintf(&pol, "KODA_FS_WORKER_POLICY=%s", policy) > 0);
		env[0] = pol;
	}
	ks_spawn(p, root != NULL ? argv : NULL, env, uid_drop);
	free(pol);
}

void
ks_send_raw(struct ks_proc *p, const void *buf, size_t len)
{
	const char *s = buf;
	ssize_t w;

	while (len > 0) {
		w = write(p->to, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		ck_assert_msg(w > 0, "write to worker: %s", strerror(errno));
		s += w;
		len -= (size_t)w;
	}
}

void
ks_send(struct ks_proc *p, const char *json, size_t len)
{
	unsigned char h[4] = { len >> 24, len >> 16, len >> 8, len };

	ks_send_raw(p, h, 4);
	ks_send_raw(p, json, len);
}

void
ks_sends(struct ks_proc *p, const char *json)
{
	ks_send(p, json, strlen(json));
}

static bool
read_full(int fd, void *buf, size_t len)
{
	char *s = buf;
	ssize_t r;

	while (len > 0) {
		r = read(fd, s, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		s += r;
		len -= (size_t)r;
	}
	return true;
}

char *
ks_recv(struct ks_proc *p, size_t *len)
{
	unsigned char h[4];
	size_t n;
	char *s;

	if (!read_full(p->from, h, 4))
		return NULL;
	n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	ck_assert_msg(n <= (1u << 20), "reply frame of %zu bytes", n);
	ck_assert((s = malloc(n + 1)) != NULL);
	ck_assert_msg(read_full(p->from, s, n), "short reply frame");
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}

char *
ks_call(struct ks_proc *p, const char *json)
{
	char *r;

	ks_sends(p, json);
	r = ks_recv(p, NULL);
	ck_assert_msg(r != NULL, "no reply to %.200s", json);
	return r;
}

void
ks_expect(struct ks_proc *p, const char *root, const char *req,
    const char *want)
{
	char *rq = ks_subst(req, "%R", root), *w = ks_subst(want, "%R", root);
	char *got = ks_call(p, rq);

	ck_assert_msg(strcmp(got, w) == 0, "request %.300s\n want %s\n got  %s",
	    rq, w, got);
	free(rq);
	free(w);
	free(got);
}

static void
drain_err(struct ks_proc *p)
{
	char buf[4096];
	size_t n = 0;
	ssize_t r;

	p->errtext = calloc(1, 1);
	while ((r = read(p->err, buf, sizeof(buf))) > 0) {
		p->errtext = realloc(p->errtext, n + (size_t)r + 1);
		memcpy(p->errtext + n, buf, (size_t)r);
		n += (size_t)r;
		p->errtext[n] = '\0';
	}
	close(p->err);
	p->err = -1;
}

int
ks_wait(struct ks_proc *p)
{
	int st = 0;

	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

int
ks_finish(struct ks_proc *p)
{
	int st;

	if (p->sock >= 0) {
		close(p->sock);
	} else {
		close(p->to);
		close(p->from);
	}
	st = ks_wait(p);
	drain_err(p);
	return st;
}

char *
ks_drain(int fd)
{
	char *s = calloc(1, 1), buf[4096];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0 ||
	    (r < 0 && errno == EINTR)) {
		if (r < 0)
			continue;
		s = realloc(s, n + (size_t)r + 1);
		memcpy(s + n, buf, (size_t)r);
		n += (size_t)r;
		s[n] = '\0';
	}
	close(fd);
	return s;
}

int
ks_run(const char *const *argv, char **out, char **err)
{
	return ks_run_in(argv, NULL, 0, out, err);
}

int
ks_run_in(const char *const *argv, const char *in, size_t len, char **out,
    char **err)
{
	int o[2], e[2], st = 0, nul;
	pid_t pid;

	/* The input waits in a memory file: no pipe to deadlock on. */
	nul = in != NULL ? memfd_create("stdin", MFD_CLOEXEC) :
	    open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert(nul >= 0);
	if (in != NULL) {
		ck_assert(write(nul, in, len) == (ssize_t)len);
		ck_assert(lseek(nul, 0, SEEK_SET) == 0);
	}
	ck_assert(pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0);
	if ((pid = fork()) == 0) {
		dup2(nul, 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		execv(ks_bin(), (char *const *)argv);
		_exit(127);
	}
	ck_assert(pid > 0);
	close(nul);
	close(o[1]);
	close(e[1]);
	*out = ks_drain(o[0]);
	*err = ks_drain(e[0]);	/* small: read after stdout is done */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}
