/*
 * client: spawning, connecting to and stopping a worker. Everything the
 * child needs is built before fork, so that the API is safe to call from
 * a threaded host.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "clientenv.h"
#include "path.h"

/* Grace given to a worker to exit after shutdown, then after SIGTERM. */
#define GRACE_MS 1000

struct ks_client {
	int fd;
	pid_t pid;			/* 0: connected, not spawned */
	char *sock;
	struct ks_reader r;
	struct ks_buf out;
};

static unsigned long socket_seq;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits up to ms for pid to exit; returns its status or -1. */
static int
reap_within(pid_t pid, int ms)
{
	long deadline = now_ms() + ms;
	int st;

	do {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(1000);
	} while (now_ms() < deadline);
	return -1;
}

/* Describes how the worker ended, for messages. */
static void
describe_exit(int st, char *buf, size_t size)
{
	if (WIFEXITED(st))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, size, "stopped (status %d)", st);
}

/*
 * Waits until the worker prints "ready" on fd, it ends, or ms pass.
 * Returns 0 when ready, or a negative errno with err set.
 */
static int
wait_ready(pid_t pid, int fd, const char *bin, int ms, struct ks_err *err)
{
	char buf[64], how[64];
	size_t have = 0;
	long deadline = now_ms() + ms;
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;
	int st;

	for (;;) {
		long left = deadline - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return ks_err_set(err, ETIMEDOUT, KS_CODE_INTERNAL,
			    "worker %s did not say ready within %d ms", bin, ms);
		if ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "ready\n") != NULL)
			return 0;
		if (have == sizeof(buf) - 1)
			return ks_err_set(err, EPROTO, KS_CODE_INTERNAL,
			    "worker %s printed '%.40s' instead of ready", bin,
			    buf);
	}
	/* End of its stdout: it exited (give it a moment to be reapable),
	 * or it closed stdout and hangs on. */
	if ((st = reap_within(pid, 200)) >= 0) {
		describe_exit(st, how, sizeof(how));
		return ks_err_set(err, ECHILD, KS_CODE_INTERNAL, "worker %s %s "
		    "before it was ready", bin, how);
	}
	return ks_err_set(err, EPROTO, KS_CODE_INTERNAL, "worker %s closed "
	    "its output without saying ready", bin);
}

static int
connect_sock(const char *path, int ms, int *out, struct ks_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long deadline = now_ms() + ms;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ks_err_set(err, ENAMETOOLONG, KS_CODE_INTERNAL,
		    "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return ks_err_set(err, errno, KS_CODE_INTERNAL,
			    "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			*out = fd;
			return 0;
		}
		close(fd);
		if ((errno != ECONNREFUSED && errno != ENOENT &&
		    errno != EAGAIN) || now_ms() >= deadline)
			return ks_err_set(err, errno, KS_CODE_INTERNAL,
			    "connect %s: %s", path, strerror(errno));
		usleep(1000);
	}
}

static struct ks_client *
client_new(int fd, pid_t pid, char *sock)
{
	struct ks_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->pid = pid;
	c->sock = sock;
	c->r.fd = fd;
	return c;
}

/* Kills and reaps a worker that failed to start; removes its socket. */
static void
abandon(pid_t pid, const char *sock)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	unlink(sock);
}

/*
 * The child: stdout to the pipe, no other host file, a clean signal
 * mask, death with its parent; an execve failure's errno goes to efd.
 */
static pid_t
start_child(const char *path, const char *const *argv, char *const *envp,
    int out, int efd)
{
	pid_t parent = getpid(), pid = fork();
	sigset_t none;
	int e;

	if (pid != 0)
		return pid;
	/* Only async-signal-safe calls from here on. */
	if (dup2(out, STDOUT_FILENO) < 0)
		_exit(127);
	/* A host that dies by any means takes its worker with it (the
	 * signal comes when the thread that forked exits). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* A mask the host held (host-client blocks signals around spawn)
	 * must not outlive exec. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The host's other files are none of the worker's business
	 * (it could read them through /dev/fd). */
	if (efd > 3)
		close_range(3, (unsigned)efd - 1, 0);
	close_range(efd >= 3 ? (unsigned)efd + 1 : 3, ~0U, 0);
	execve(path, (char *const *)argv, envp);
	e = errno;
	if (efd >= 3)
		(void)!write(efd, &e, sizeof(e));
	_exit(127);
}

/* Why the child could not execute the worker, or 0 when it did. */
static int
exec_errno(int efd)
{
	int e = 0;

	return read(efd, &e, sizeof(e)) == (ssize_t)sizeof(e) ? e : 0;
}

/* A worker that exited before it was ready because it could not be
 * executed: say why. */
static void
add_exec_errno(int rc, int efd, struct ks_err *err)
{
	size_t n;
	int e;

	if (rc != -ECHILD || err == NULL || (e = exec_errno(efd)) == 0)
		return;
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, " (it could not be "
	    "executed: %s)", strerror(e));
}

int
ks_client_spawn(const struct ks_client_opts *o, struct ks_client **out,
    struct ks_err *err)
{
	struct ks_strv env = { 0 };
	const char *argv[7] = { NULL };
	const char *tmp = getenv("TMPDIR");
	char *sock = NULL, *path = NULL;
	int pfd[2] = { -1, -1 }, efd[2] = { -1, -1 }, fd = -1, rc;
	pid_t pid = -1;

	*out = NULL;
	if (asprintf(&sock, "%s/koda-fs-worker-%ld-%lu.sock",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", (long)getpid(),
	    __atomic_fetch_add(&socket_seq, 1, __ATOMIC_RELAXED)) < 0)
		return ks_err_os(err, ENOMEM);
	if ((rc = ks_client_build_argv(o, sock, &path, argv, err)) < 0)
		goto out;
	if ((rc = ks_client_build_env(o, &env)) < 0 || pipe2(pfd, O_CLOEXEC) < 0 ||
	    pipe2(efd, O_CLOEXEC) < 0) {
		rc = ks_err_set(err, rc < 0 ? -rc : errno, KS_CODE_INTERNAL,
		    "preparing worker %s: %s", argv[0], strerror(rc < 0 ?
		    -rc : errno));
		goto out;
	}
	if ((pid = start_child(path, argv, env.v, pfd[1], efd[1])) < 0) {
		rc = ks_err_set(err, errno, KS_CODE_INTERNAL, "fork: %s",
		    strerror(errno));
		goto out;
	}
	close(pfd[1]);
	close(efd[1]);
	pfd[1] = efd[1] = -1;
	if ((rc = wait_ready(pid, pfd[0], argv[0], o->ready_ms > 0 ?
	    o->ready_ms : 5000, err)) < 0) {
		add_exec_errno(rc, efd[0], err);
		goto out;
	}
	if ((rc = connect_sock(sock, o->connect_ms > 0 ? o->connect_ms : 2000,
	    &fd, err)) < 0)
		goto out;
	if ((*out = client_new(fd, pid, sock)) == NULL) {
		rc = ks_err_os(err, ENOMEM);
		goto out;
	}
	sock = NULL;
	fd = -1;
	pid = -1;
out:
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 2; i++) {
		if (pfd[i] >= 0)
			close(pfd[i]);
		if (efd[i] >= 0)
			close(efd[i]);
	}
	if (sock != NULL)
		abandon(pid, sock);
	free(sock);
	free(path);
	ks_strv_free(&env);
	return *out != NULL ? 0 : rc;
}

int
ks_client_connect(const char *sock, struct ks_client **out,
    struct ks_err *err)
{
	char *copy = strdup(sock);
	int fd = -1, rc;

	*out = NULL;
	if (copy == NULL)
		return ks_err_os(err, ENOMEM);
	if ((rc = connect_sock(sock, 0, &fd, err)) < 0) {
		free(copy);
		return rc;
	}
	if ((*out = client_new(fd, 0, copy)) == NULL) {
		close(fd);
		free(copy);
		return ks_err_os(err, ENOMEM);
	}
	return 0;
}

/* Names the worker's end for a transport failure: its exit status when
 * it has died. */
static int
transport(struct ks_client *c, int rc, const char *what, struct ks_err *err)
{
	char how[64], why[300];
	int st;

	snprintf(why, sizeof(why), "%.290s", err != NULL ? err->msg : "");
	if (c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid) {
		describe_exit(st, how, sizeof(how));
		c->pid = -1;	/* reaped */
		return ks_err_set(err, rc, KS_CODE_INTERNAL, "%s: the worker "
		    "%s", what, how);
	}
	return ks_err_set(err, rc, KS_CODE_INTERNAL, "%s: %s", what,
	    why[0] ? why : "the worker closed the connection");
}

/* Writes the frame in c->out without ever raising SIGPIPE in the host. */
static int
send_frame(struct ks_client *c, struct ks_err *err)
{
	size_t n = ks_frame_size(&c->out), off = 0;
	unsigned char *h = (unsigned char *)c->out.p;
	ssize_t w;

	if (n > KS_FRAME_MAX)
		return ks_err_set(err, EMSGSIZE, KS_CODE_PROTOCOL, "request of "
		    "%zu bytes exceeds the frame limit of %u", n, KS_FRAME_MAX);
	h[0] = n >> 24;
	h[1] = n >> 16;
	h[2] = n >> 8;
	h[3] = n;
	while (off < c->out.len) {
		w = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ks_err_set(err, errno, KS_CODE_INTERNAL, "%s",
			    strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

/* Gives a worker whose connection ended a moment to be reapable. */
static void
settle(struct ks_client *c)
{
	siginfo_t si;

	for (int i = 0; i < 100 && c->pid > 0; i++) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) < 0 || si.si_pid == c->pid)
			return;
		usleep(1000);
	}
}

int
ks_client_call(struct ks_client *c, const char *req, size_t len,
    char **reply, size_t *rlen, struct ks_err *err)
{
	const char *payload;
	size_t n;
	int rc;

	*reply = NULL;
	if (c->fd < 0)
		return ks_err_set(err, EPIPE, KS_CODE_INTERNAL, "the "
		    "connection to the worker is closed");
	if (ks_frame_begin(&c->out) < 0 || ks_buf_put(&c->out, req, len) < 0)
		return ks_err_os(err, ENOMEM);
	if ((rc = send_frame(c, err)) < 0) {
		if (rc == -EMSGSIZE)
			return rc;
		settle(c);
		return transport(c, rc, "sending the request", err);
	}
	if ((rc = ks_frame_read(&c->r, &payload, &n, err)) <= 0) {
		settle(c);
		if (rc == 0 && err != NULL)
			err->msg[0] = '\0';
		return transport(c, rc == 0 ? -EPIPE : rc,
		    "waiting for the reply", err);
	}
	if ((*reply = malloc(n + 1)) == NULL)
		return ks_err_os(err, ENOMEM);
	memcpy(*reply, payload, n);
	(*reply)[n] = '\0';
	*rlen = n;
	return 0;
}

static int
stop_worker(struct ks_client *c)
{
	static const char req[] = "{\"kind\":\"shutdown\"}";
	int st;

	struct pollfd p = { c->fd, POLLIN, 0 };
	const char *pong;
	size_t n;

	/* Ask, and take the answer: a worker whose last reply found no
	 * reader would end with an error. */
	if (c->fd >= 0 && ks_frame_begin(&c->out) == 0 &&
	    ks_buf_put(&c->out, req, sizeof(req) - 1) == 0 &&
	    send_frame(c, NULL) == 0 && poll(&p, 1, GRACE_MS) == 1)
		(void)ks_frame_read(&c->r, &pong, &n, NULL);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if ((st = reap_within(c->pid, GRACE_MS)) >= 0)
		return st;
	kill(c->pid, SIGTERM);
	if ((st = reap_within(c->pid, GRACE_MS)) >= 0)
		return st;
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

int
ks_client_close(struct ks_client *c)
{
	int st = 0;

	if (c == NULL)
		return 0;
	if (c->pid > 0)
		st = stop_worker(c);
	if (c->fd >= 0)
		close(c->fd);
	if (c->pid != 0)
		unlink(c->sock);	/* ours: it never outlives the worker */
	ks_reader_free(&c->r);
	ks_buf_free(&c->out);
	free(c->sock);
	free(c);
	return st;
}

const char *
ks_client_socket(const struct ks_client *c)
{
	return c->sock;
}

pid_t
ks_client_pid(const struct ks_client *c)
{
	return c->pid > 0 ? c->pid : 0;
}

bool
ks_client_idle_ok(const struct ks_client *c)
{
	struct pollfd pfd = { c->fd, POLLIN, 0 };

	/* An idle worker sends nothing: anything to read is its end. */
	return c->fd >= 0 && poll(&pfd, 1, 0) == 0;
}
