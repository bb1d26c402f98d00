/*
 * ignfile: one ignore file, as the `ignore` crate's gitignore.rs reads
 * and matches it: lines as BufRead::lines gives them (a line that is not
 * UTF-8 ends the file), comments, trailing whitespace unless escaped,
 * "!" and "/" and a trailing "/", a "**" prefix for a rule without a
 * slash; and a path made relative to the file's directory by stripping
 * it as a plain byte prefix, the last matching rule deciding.
 */
#include "ignfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ignglob.h"
#include "proto.h"

/* A bound on one ignore file: a larger one is read only this far. */
#define FILE_MAX (16u << 20)

struct ks_ignrule {
	struct ks_ignglob *g;
	bool white, only_dir;
};

void
ks_ignfile_free(struct ks_ignfile *m)
{
	for (size_t i = 0; i < m->n; i++)
		ks_ignglob_free(m->v[i].g);
	free(m->v);
	free(m->root);
	memset(m, 0, sizeof(*m));
}

/* GitignoreBuilder::new: the root loses a leading "./". */
int
ks_ignfile_init(struct ks_ignfile *m, const char *dir)
{
	const char *r = strncmp(dir, "./", 2) == 0 ? dir + 2 : dir;
	const char *p;

	if ((m->root = strdup(r)) == NULL)
		return -ENOMEM;
	m->rootlen = strlen(r);
	/* Path::new(root) == Path::new("."): only "." components. */
	for (p = r, m->dot = *r != '\0'; *p != '\0'; p++)
		if (*p != '.' && *p != '/')
			m->dot = false;
	m->dot = m->dot && r[0] == '.' && strstr(r, "..") == NULL;
	return 0;
}

static bool
is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/* str::trim_end: trailing White_Space characters go. */
static size_t
trim_end(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start;
	uint32_t c;

	while (n > 0) {
		for (start = n - 1; start > 0 && (u[start] & 0xc0) == 0x80;
		    start--)
			;
		c = u[start];
		if (c >= 0x80) {
			c &= 0x3f >> (n - start - 1);
			for (size_t i = start + 1; i < n; i++)
				c = c << 6 | (u[i] & 0x3f);
		}
		if (!is_space(c))
			break;
		n = start;
	}
	return n;
}

/* The glob of a rule: a "**" prefix unless it is anchored or holds a
 * slash, and one more component after a trailing "**" component (so
 * the directory itself is not matched). Caller frees; NULL on ENOMEM. */
static char *
rule_glob(const char *line, size_t n, bool absolute)
{
	char *glob;
	size_t k = 0;

	if ((glob = malloc(n + 8)) == NULL)
		return NULL;
	if (!absolute && memchr(line, '/', n) == NULL &&
	    !(n >= 3 && memcmp(line, "**/", 3) == 0) &&
	    !(n == 2 && memcmp(line, "**", 2) == 0))
		memcpy(glob, "**/", k = 3);
	memcpy(glob + k, line, n);
	k += n;
	glob[k] = '\0';
	if (k >= 3 && strcmp(glob + k - 3, "/**") == 0)
		memcpy(glob + k, "/*", 3);
	return glob;
}

static int
add_rule(struct ks_ignfile *m, struct ks_ignrule r)
{
	struct ks_ignrule *v;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		if ((v = realloc(m->v, m->cap * sizeof(*v))) == NULL) {
			ks_ignglob_free(r.g);
			return -ENOMEM;
		}
		m->v = v;
	}
	m->v[m->n++] = r;
	return 0;
}

/* GitignoreBuilder::add_line: one line into a rule. A line whose glob
 * globset rejects is dropped, as there; so is one holding a NUL byte,
 * which no path can match as written. */
static int
add_line(struct ks_ignfile *m, const char *line, size_t n)
{
	struct ks_ignrule r = { NULL, false, false };
	bool absolute = false;
	char *glob;
	int rc;

	if ((n > 0 && line[0] == '#') || memchr(line, '\0', n) != NULL)
		return 0;
	if (n < 2 || line[n - 2] != '\\' || line[n - 1] != ' ')
		n = trim_end(line, n);
	if (n == 0)
		return 0;
	if (n >= 2 && line[0] == '\\' && (line[1] == '!' || line[1] == '#'))
		line++, n--;
	else {
		if (line[0] == '!')
			r.white = true, line++, n--;
		if (n > 0 && line[0] == '/')
			absolute = true, line++, n--;
	}
	if (n > 0 && line[n - 1] == '/')
		r.only_dir = true, n--;
	if ((glob = rule_glob(line, n, absolute)) == NULL)
		return -ENOMEM;
	rc = ks_ignglob_compile(glob, &r.g);
	free(glob);
	if (rc == -1)
		return 0;
	return rc < 0 ? rc : add_rule(m, r);
}

/*
 * Reads a regular file (path relative to dirfd) whole, or up to
 * FILE_MAX. Anything else (missing, a directory, a FIFO that would
 * block) reads as nothing. Returns the size or -1; caller frees *out.
 */
ssize_t
ks_ignfile_read(int dirfd, const char *path, char **out)
{
	struct stat st;
	size_t got = 0, room;
	ssize_t r;
	char *buf = NULL, *p;
	int fd;

	*out = NULL;
	fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto fail;
	room = st.st_size < FILE_MAX ? (size_t)st.st_size + 1 : FILE_MAX;
	if ((buf = malloc(room)) == NULL)
		goto fail;
	while ((r = read(fd, buf + got, room - got)) > 0) {
		got += (size_t)r;
		if (got < room || room == FILE_MAX)
			continue;
		room = 2 * room < FILE_MAX ? 2 * room : FILE_MAX;
		if ((p = realloc(buf, room)) == NULL)
			goto fail;
		buf = p;
	}
	close(fd);
	*out = buf;
	return (ssize_t)got;
fail:
	free(buf);
	close(fd);
	return -1;
}

/* GitignoreBuilder::add: BufRead::lines, stopping at the first line that
 * is not UTF-8. */
int
ks_ignfile_add(struct ks_ignfile *m, int dirfd, const char *path)
{
	char *buf, *line, *nl;
	ssize_t n;
	size_t len;
	int rc = 0;

	if ((n = ks_ignfile_read(dirfd, path, &buf)) < 0)
		return 0;
	for (line = buf; rc == 0 && line < buf + n; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(buf + n - line))) == NULL)
			nl = buf + n;
		len = (size_t)(nl - line);
		if (nl < buf + n && len > 0 && line[len - 1] == '\r')
			len--;
		if (!ks_utf8_valid(line,
		    (size_t)(nl - line)))
			break;
		rc = add_line(m, line, len);
	}
	free(buf);
	return rc;
}

/* Gitignore::matched: the path made relative to the file's directory
 * (a plain byte prefix, as the crate strips it), the last rule that
 * matches deciding. */
enum ks_ignfile_match
ks_ignfile_match(const struct ks_ignfile *m, const char *path, bool is_dir)
{
	struct ks_ignglob_cand c;
	size_t n;

	if (m->n == 0)
		return KS_IGN_NONE;
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	if (!m->dot && strchr(path, '/') != NULL &&
	    strncmp(path, m->root, m->rootlen) == 0) {
		path += m->rootlen;
		if (*path == '/')
			path++;
	}
	n = strlen(path);
	ks_ignglob_candidate(&c, path, n);
	for (size_t i = m->n; i-- > 0; )
		if ((!m->v[i].only_dir || is_dir) &&
		    ks_ignglob_match(m->v[i].g, &c))
			return m->v[i].white ? KS_IGN_WHITE : KS_IGN_IGNORE;
	return KS_IGN_NONE;
}

