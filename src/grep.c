/*
 * grep: the reference worker's grep loop, kept in its order:
 *
 *	compile the regex, then the include glob;
 *	walk the root as the `ignore` crate's Walk does by default;
 *	keep regular files whose name the include glob matches;
 *	read each whole, skip it unless it is all UTF-8;
 *	split it like str::lines and report every line the regex matches.
 *
 * Ours differs in the order of the answer (sorted, see walk) and in
 * speed: a file is read with one read into a buffer kept across files,
 * candidate lines are found in the whole buffer at once from the
 * pattern's required literal (rx's prefilter), and the regex only runs
 * on those.
 */
#include "grep.h"

#include <dirent.h>
#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "proto.h"
#include "glob.h"
#include "ignore/ignore.h"
#include "lookup.h"
#include "path.h"
#include "rx/rx.h"
#include "walk.h"

/* A file that keeps growing while it is read is read this much past
 * the size it had. */
#define GROWTH_MAX (64u << 20)

struct grep {
	struct ks_rx *rx;
	struct ks_glob_pat *include;
	struct ks_ignore *ig;
	const struct ks_path_filter *filter;
	const struct ks_grep_sink *sink;
	const char *pattern;
	struct ks_err *err;
	char *buf;			/* the file being searched */
	size_t cap;
	const struct ks_grep_opts *opts;
	size_t min_line;		/* lines up to this are skipped */
	const char *root;		/* as given */
	const char *landing;		/* where the root directory is */
	char *at;			/* an entry's landing place */
	size_t atcap;
};

/* Zeroed bytes kept after the content read into g->buf. */
#define READ_PAD 64

/* Reads the regular file open at fd whole into g->buf; returns its
 * length, or -1 when it cannot be read (it is then passed over). */
static ssize_t
read_file(struct grep *g, int fd)
{
	struct stat st;
	size_t got = 0, want, stop;
	ssize_t r = 0;
	char *p;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    ks_path_denied_file(g->filter, &st))
		return -1;
	want = (size_t)st.st_size + 1;	/* one more: room to see growth */
	stop = (size_t)st.st_size + GROWTH_MAX;
	for (;;) {
		if (want > g->cap) {
			if ((p = realloc(g->buf, want + READ_PAD)) == NULL)
				return -1;
			g->buf = p;
			g->cap = want;
		}
		while (got < g->cap && (r = read(fd, g->buf + got,
		    g->cap - got)) > 0) {
			got += (size_t)r;
			/* All of the size fstat told: done, one read(2) less
			 * per file (a file growing meanwhile is read as it
			 * was when opened; the reference would race too). */
			if (got == (size_t)st.st_size && st.st_size > 0) {
				r = 0;
				break;
			}
		}
		if (got < g->cap || got >= stop) {
			/* PCRE2's JIT reads whole vectors near the end of a
			 * subject: let them be in bounds and defined. */
			memset(g->buf + got, 0, READ_PAD);
			return r < 0 ? -1 : (ssize_t)got;
		}
		want = 2 * g->cap;
	}
}

/* The '\n' in s[0..n): up to a match, so every matching file pays it
 * for the bytes before its matches. SSE2 (all of x86-64): 16 bytes a
 * compare, counted in bytes for up to 255 rounds, then summed. */
static size_t
count_lines(const char *s, size_t n)
{
	size_t c = 0, i = 0;

#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

	while (n - i >= 16) {
		__m128i acc = zero;
		size_t rounds = (n - i) / 16 < 255 ? (n - i) / 16 : 255;

		for (size_t r = 0; r < rounds; r++, i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(
			    (const __m128i *)(const void *)(s + i)), nl));
		acc = _mm_sad_epu8(acc, zero);
		c += (size_t)_mm_cvtsi128_si32(acc) +
		    (size_t)_mm_extract_epi16(acc, 4);
	}
#endif
	for (; i < n; i++)
		c += s[i] == '\n';
	return c;
}

static int
too_complex(struct grep *g, const char *path, int code)
{
	struct ks_quote qp, qf;

	return ks_err_set(g->err, EPROTO, KS_CODE_PROTOCOL,
	    "grep regex \"%s\": too complex to search %s (PCRE2 error %d: "
	    "match limit exceeded)", ks_quote(&qp, g->pattern),
	    ks_quote(&qf, path), code);
}

/*
 * The lines of buf[0..n) that match, in order, numbered as str::lines
 * numbers them: split at '\n', a '\r' before it dropped, no line after
 * a final '\n'. Returns 0, 1 when the sink stopped, or -EPROTO.
 */
static int
search(struct grep *g, const char *path, const char *buf, size_t n)
{
	size_t pos = 0, counted = 0, line = 1, ls, le, len;
	long long hit;
	const char *nl;
	int m;

	while (pos < n) {
		if ((hit = ks_rx_scan(g->rx, buf, n, pos)) < 0)
			return too_complex(g, path, (int)hit);
		if ((size_t)hit >= n)
			break;
		nl = memrchr(buf + pos, '\n', (size_t)hit - pos);
		ls = nl != NULL ? (size_t)(nl - buf) + 1 : pos;
		nl = memchr(buf + hit, '\n', n - (size_t)hit);
		le = nl != NULL ? (size_t)(nl - buf) : n;
		len = le - ls;
		if (nl != NULL && len > 0 && buf[le - 1] == '\r')
			len--;
		line += count_lines(buf + counted, ls - counted);
		counted = ls;
		if ((m = ks_rx_match(g->rx, buf + ls, len)) < 0)
			return too_complex(g, path, m);
		if (m == 1 && line > g->min_line && g->sink->emit(
		    g->sink->ctx, path, line, buf + ls, len) != 0)
			return 1;
		pos = le + 1;
	}
	return 0;
}

/* Searches the file name (of dirfd) at path; links are not followed
 * below the root (nofollow). */
/*
 * Where path stands to the resume point: <0 before it (its matches were
 * given already; a directory holding it is still entered), 0 the file
 * of the last match given, >0 after it, or no resume point.
 */
static int
resume_cmp(const struct grep *g, const char *path, bool dir)
{
	const char *after = g->opts != NULL ? g->opts->after_path : NULL;
	int c;

	if (after == NULL || (c = ks_path_cmp(path, after)) > 0)
		return 1;
	if (c < 0 && dir && ks_path_beneath(after, path))
		return 1;
	return c;
}

/* Searches the regular file open at fd, whose path is path. */
static int
search_fd(struct grep *g, int fd, const char *path)
{
	int c = resume_cmp(g, path, false);
	ssize_t n;

	if (c < 0)
		return 0;
	g->min_line = c == 0 ? g->opts->after_line : 0;
	n = read_file(g, fd);
	if (n <= 0)
		return 0;
	/* A file without the literal has no match, valid UTF-8 or not:
	 * the byte search spares most files the validation. */
	if (ks_rx_scan_bytewise(g->rx) &&
	    ks_rx_scan(g->rx, g->buf, (size_t)n, 0) >= n)
		return 0;
	if (!ks_utf8_valid(g->buf, (size_t)n))
		return 0;
	return search(g, path, g->buf, (size_t)n);
}

/* Searches the file name (of dirfd) at path; no link is followed. */
static int
search_file(struct grep *g, int dirfd, const char *name, const char *path)
{
	int fd, rc;

	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW);
	if (fd < 0)
		return 0;
	rc = search_fd(g, fd, path);
	close(fd);
	return rc;
}

/*
 * Where entry path (root joined with names) really is: the walk opens
 * no link, so it is the root's landing joined with the same names.
 * NULL on ENOMEM.
 */
static const char *
landing_of(struct grep *g, const char *path)
{
	const char *rel = path + strlen(g->root);
	size_t ll = strlen(g->landing), rl, need;
	char *p;

	while (*rel == '/')
		rel++;
	rl = strlen(rel);
	need = ll + 1 + rl + 1;
	if (need > g->atcap) {
		if ((p = realloc(g->at, 2 * need)) == NULL)
			return NULL;
		g->at = p;
		g->atcap = 2 * need;
	}
	memcpy(g->at, g->landing, ll);
	if (ll == 0 || g->landing[ll - 1] != '/')
		g->at[ll++] = '/';
	memcpy(g->at + ll, rel, rl + 1);
	return g->at;
}

static int
on_entry(void *ctx, const struct ks_walk_ent *e)
{
	struct grep *g = ctx;
	const char *at;
	int rc;

	/* The reference opens by path: past PATH_MAX it cannot. A name that
	 * is not UTF-8 cannot be answered (it drops the connection). */
	if (!ks_utf8_valid(e->name, strlen(e->name))) {
		if (g->filter != NULL && g->filter->skipped != NULL)
			(*g->filter->skipped)++;
		return KS_WALK_SKIP;
	}
	if (strlen(e->path) >= PATH_MAX ||
	    ks_ignore_skip(g->ig, e->path, e->type == DT_DIR))
		return KS_WALK_SKIP;
	if (resume_cmp(g, e->path, e->type == DT_DIR) < 0)
		return KS_WALK_SKIP;
	if ((at = landing_of(g, e->path)) == NULL)
		return -ENOMEM;
	if (ks_path_denied_at(g->filter, e->path, at))
		return KS_WALK_SKIP;
	if (e->type != DT_REG ||
	    (g->include != NULL && !ks_glob_match(g->include, e->name)))
		return KS_WALK_NEXT;
	rc = search_file(g, e->dirfd, e->name, e->path);
	return rc == 1 ? KS_WALK_STOP : rc;
}

static int
on_enter(void *ctx, int fd, const char *path)
{
	struct grep *g = ctx;

	return ks_ignore_push(g->ig, fd, path);
}

static void
on_leave(void *ctx)
{
	struct grep *g = ctx;

	ks_ignore_pop(g->ig);
}

/*
 * std's Path::file_name of a root that is a file, as a string for the
 * include glob: the last component ("" when it is "..", when there is
 * none, or when it is not UTF-8, as the reference's unwrap_or("")).
 */
static const char *
file_name(const char *root, char *buf, size_t size)
{
	size_t end = strlen(root), start, n;

	for (;;) {	/* trailing '/' and "/." are not components */
		while (end > 1 && root[end - 1] == '/')
			end--;
		if (end >= 2 && root[end - 1] == '.' && root[end - 2] == '/')
			end--;
		else
			break;
	}
	for (start = end; start > 0 && root[start - 1] != '/'; start--)
		;
	n = end - start;
	if (n == 0 || n >= size || (n == 1 && root[start] == '.') ||
	    (n == 2 && root[start] == '.' && root[start + 1] == '.') ||
	    !ks_utf8_valid(root + start, n))
		return "";
	memcpy(buf, root + start, n);
	buf[n] = '\0';
	return buf;
}

/* A regular file as the root: opened for reading by a second lookup,
 * judged again, since the first one held only a path descriptor. */
static int
grep_file(struct grep *g, const char *root)
{
	char name[NAME_MAX + 1], *landing = NULL;
	bool denied;
	int fd, rc;

	if (g->include != NULL && !ks_glob_match(g->include,
	    file_name(root, name, sizeof(name))))
		return 0;
	fd = ks_lookup_open(root, ks_path_base(g->filter), O_RDONLY |
	    O_NONBLOCK | O_NOCTTY, KS_LOOKUP_FOLLOW, &landing);
	denied = ks_path_denied_at(g->filter, root, landing);
	free(landing);
	if (denied) {
		if (fd >= 0)
			close(fd);
		return ks_err_read_changed(g->err, root);
	}
	if (fd < 0)
		return fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM ? fd : 0;
	rc = search_fd(g, fd, root);
	close(fd);
	return rc;
}

/* A directory as the root: walked from the descriptor the lookup
 * opened, every entry judged where it lies beneath the landing. */
static int
grep_dir(struct grep *g, int pfd, const char *root)
{
	struct ks_walk_ops ops = { on_entry, on_enter, on_leave, g };
	int fd, rc;

	if ((fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno == EMFILE || errno == ENFILE ? -errno : 0;
	if ((rc = ks_ignore_open(root, &g->ig)) == 0)
		rc = ks_walk_run(fd, root, &ops);
	close(fd);
	return rc;
}

/*
 * A root that is a file is searched (through a link too); a directory
 * is walked; anything else, or nothing there, gives no matches. The
 * root is looked up through descriptors and judged where it landed: a
 * root swapped for a link to a denied area since the caller checked
 * its path is an error, never its content.
 */
static int
grep_root(struct grep *g, const char *root)
{
	char *landing = NULL;
	struct stat st;
	int pfd, rc = 0;

	pfd = ks_lookup_open(root, ks_path_base(g->filter), O_PATH,
	    KS_LOOKUP_FOLLOW, &landing);
	if (pfd < 0) {
		free(landing);
		return pfd == -EMFILE || pfd == -ENFILE || pfd == -ENOMEM ?
		    pfd : 0;
	}
	if (ks_path_denied_at(g->filter, root, landing))
		rc = ks_err_read_changed(g->err, root);
	else if (fstat(pfd, &st) < 0)
		rc = 0;		/* an O_PATH descriptor: cannot fail here */
	else if (S_ISREG(st.st_mode))
		rc = grep_file(g, root);
	else if (S_ISDIR(st.st_mode)) {
		g->root = root;
		g->landing = landing;
		rc = grep_dir(g, pfd, root);
	}
	close(pfd);
	free(landing);
	return rc;
}

/*
 * The regex to compile: the pattern, written as a literal when it is a
 * fixed string, and prefixed with (?i) when case does not count. A new
 * string (caller frees), or NULL on ENOMEM.
 */
static char *
regex_of(const char *pattern, const struct ks_grep_opts *o)
{
	static const char meta[] = "\\.+*?()|[]{}^$#&-~";
	size_t n = strlen(pattern), k = 0;
	char *s;

	if ((s = malloc(4 + 2 * n + 1)) == NULL)
		return NULL;
	if (o != NULL && o->icase) {
		memcpy(s, "(?i)", 4);
		k = 4;
	}
	for (size_t i = 0; i < n; i++) {
		if (o != NULL && o->fixed && strchr(meta, pattern[i]) != NULL)
			s[k++] = '\\';
		s[k++] = pattern[i];
	}
	s[k] = '\0';
	return s;
}

/* Compiles the pattern, then the include glob, as the reference does. */
static int
compile(struct grep *g, const char *include)
{
	char why[KS_ERR_MAX], *rx;
	struct ks_quote q;
	int rc;

	if ((rx = regex_of(g->pattern, g->opts)) == NULL)
		return ks_err_os(g->err, ENOMEM);
	rc = ks_rx_compile(rx, &g->rx, why, sizeof(why));
	free(rx);
	if (rc == -1)
		return ks_err_set(g->err, EPROTO, KS_CODE_PROTOCOL,
		    "grep regex \"%s\": %s", ks_quote(&q, g->pattern), why);
	if (rc < 0)
		return ks_err_os(g->err, -rc);
	if (include == NULL ||
	    (rc = ks_glob_compile(include, &g->include, g->err)) == 0)
		return 0;
	if (rc == -ENOMEM || g->err == NULL)
		return rc == -ENOMEM ? ks_err_os(g->err, ENOMEM) : -EPROTO;
	snprintf(why, sizeof(why), "%s", g->err->msg);
	return ks_err_set(g->err, EPROTO, KS_CODE_PROTOCOL,
	    "grep include \"%s\": %s", ks_quote(&q, include), why);
}

int
ks_grep_run(const char *pattern, const char *root, const char *include,
    const struct ks_grep_opts *opts, const struct ks_path_filter *filter,
    const struct ks_grep_sink *sink, struct ks_err *err)
{
	struct grep g = { .pattern = pattern, .filter = filter,
	    .sink = sink, .err = err, .opts = opts };
	int rc;

	if ((rc = compile(&g, include)) == 0 &&
	    ((rc = grep_root(&g, root)) == -ENOMEM || rc == -EMFILE ||
	    rc == -ENFILE))
		ks_err_os(err, -rc);
	ks_rx_free(g.rx);
	ks_glob_free(g.include);
	ks_ignore_free(g.ig);
	free(g.buf);
	free(g.at);
	return rc;
}
