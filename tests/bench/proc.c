/*
 * proc: the processes the bench drives (see proc.h).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"

/* In the child: wires fds 0 and 1 and execs; never returns. */
static void
child(char *const argv[], int in, int out)
{
	if ((in >= 0 && in != 0 && dup2(in, 0) < 0) ||
	    (out >= 0 && out != 1 && dup2(out, 1) < 0))
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int
ks_proc_spawn(struct ks_proc *p, char *const argv[])
{
	int in[2], out[2];

	*p = (struct ks_proc){ .pid = -1, .to = -1, .from = -1, .aux = -1 };
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if ((p->pid = fork()) == 0)
		child(argv, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	p->to = in[1];
	p->from = out[0];
	if (p->pid < 0) {
		ks_proc_close(p);
		return -1;
	}
	return 0;
}

/* Reads the "ready\n" line from fd; 0, or -1 (EPROTO for anything else
 * or an early end). */
static int
await_ready(int fd)
{
	char line[16];
	size_t got = 0;
	ssize_t r;

	while (got < 6) {
		if ((r = read(fd, line + got, 6 - got)) < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? EPROTO : errno;
			return -1;
		}
		got += (size_t)r;
	}
	if (memcmp(line, "ready\n", 6) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

static int
connect_to(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(sock);
	int fd;

	if (n >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, sock, n + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
ks_proc_spawn_socket(struct ks_proc *p, char *const argv[], const char *sock)
{
	int out[2], null, fd, saved;

	*p = (struct ks_proc){ .pid = -1, .to = -1, .from = -1, .aux = -1 };
	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(null);
		return -1;
	}
	if ((p->pid = fork()) == 0)
		child(argv, null, out[1]);
	close(null);
	close(out[1]);
	if (p->pid < 0 || await_ready(out[0]) < 0 ||
	    (fd = connect_to(sock)) < 0) {
		saved = errno;
		p->aux = out[0];
		ks_proc_close(p);
		errno = saved;
		return -1;
	}
	/* Its stdout stays open until it exits: a closed pipe would make
	 * a late write of its fail, which is not what a host does. */
	p->to = p->from = fd;
	p->aux = out[0];
	return 0;
}

int
ks_proc_spawn_pair(struct ks_proc *p, const char *path)
{
	char *argv[] = { (char *)path, NULL };
	int sv[2];

	*p = (struct ks_proc){ .pid = -1, .to = -1, .from = -1, .aux = -1 };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((p->pid = fork()) == 0)
		child(argv, sv[1], sv[1]);
	close(sv[1]);
	p->to = p->from = sv[0];
	if (p->pid < 0) {
		ks_proc_close(p);
		return -1;
	}
	return 0;
}

int
ks_proc_call(struct ks_proc *p, const void *req, size_t n, struct ks_wbuf *r)
{
	int rc = -1;

	if (p->dead)
		return -1;
	if (ks_wire_send(p->to, req, n) == 0 &&
	    (rc = ks_wire_recv(p->from, r)) == 1)
		return 0;
	if (rc == 0)
		errno = EPIPE;
	p->dead = true;
	return -1;
}

int
ks_proc_close(struct ks_proc *p)
{
	int st = -1;

	if (p->from != p->to)
		close_fd(&p->from);
	close_fd(&p->to);
	p->from = -1;
	close_fd(&p->aux);
	if (p->pid > 0) {
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		p->pid = -1;
	}
	return st;
}

long
ks_proc_hwm(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* Reads fd to its end, counting lines and bytes. */
static void
drain(int fd, long *lines, long *bytes)
{
	static char buf[1 << 16];
	ssize_t r;

	*lines = *bytes = 0;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		*bytes += r;
		for (char *q = buf; (q = memchr(q, '\n',
		    (size_t)(buf + r - q))) != NULL; q++)
			(*lines)++;
	}
}

int
ks_proc_run(char *const argv[], int in, int out, long *lines, long *bytes,
    long *maxrss)
{
	struct rusage ru;
	int fds[2] = { -1, -1 }, st;
	long nl = 0, nb = 0;
	pid_t pid;

	if (out < 0 && pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) == 0)
		child(argv, in, out >= 0 ? out : fds[1]);
	close_fd(&fds[1]);
	if (pid > 0 && fds[0] >= 0)
		drain(fds[0], &nl, &nb);
	close_fd(&fds[0]);
	if (pid < 0)
		return -1;
	if (lines != NULL)
		*lines = nl;
	if (bytes != NULL)
		*bytes = nb;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	if (maxrss != NULL)
		*maxrss = ru.ru_maxrss * 1024;
	return st;
}

const char *
ks_proc_which(const char *name)
{
	static char found[PATH_MAX];
	const char *path = getenv("PATH"), *end;

	for (; path != NULL && *path != '\0'; path = *end ? end + 1 : end) {
		end = strchrnul(path, ':');
		if (snprintf(found, sizeof(found), "%.*s/%s", (int)(end - path),
		    path, name) < (int)sizeof(found) &&
		    end > path && access(found, X_OK) == 0)
			return found;
	}
	return NULL;
}
