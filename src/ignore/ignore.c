/*
 * ignore: a port of the `ignore` crate's (0.4.18) rules: gitignore.rs
 * (how a file's lines become globs and how a path is made relative to
 * the file's directory, by plain byte-prefix stripping) and dir.rs (the
 * precedence between .ignore, .gitignore, .git/info/exclude and the
 * global file, git rules only inside a work tree, parent directories
 * matched through the canonical root). Quirks are kept where they decide
 * what gets searched.
 */
#include "ignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ignfile.h"
#include "path.h"
#include "proto.h"

/* Rust's \\s: White_Space. */
#define WS "[\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}" \
	"\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"

/* One directory's files; has_git when it holds a .git. */
struct level {
	struct ks_ignfile ignore, git, exclude;
	bool has_git;
};

struct ks_ignore {
	struct level *v;		/* outermost first */
	size_t n, cap;
	size_t nparents;		/* the first ones: the root's parents */
	char *abs_base;			/* the canonical root, or NULL */
	struct ks_ignfile global;
};

/* The first answer found, innermost directory first, for each kind. */
struct verdict {
	enum ks_ignfile_match ignore, git, exclude;
	bool saw_git;
};

static void
ask(const struct level *l, const char *path, bool is_dir, bool any_git,
    struct verdict *v)
{
	if (v->ignore == KS_IGN_NONE)
		v->ignore = ks_ignfile_match(&l->ignore, path, is_dir);
	if (any_git && !v->saw_git) {
		if (v->git == KS_IGN_NONE)
			v->git = ks_ignfile_match(&l->git, path, is_dir);
		if (v->exclude == KS_IGN_NONE)
			v->exclude = ks_ignfile_match(&l->exclude, path,
			    is_dir);
	}
	v->saw_git |= l->has_git;
}

/* Ignore::matched_ignore. */
static enum ks_ignfile_match
matched(const struct ks_ignore *ig, const char *path, bool is_dir)
{
	struct verdict v = { KS_IGN_NONE, KS_IGN_NONE, KS_IGN_NONE, false };
	bool any_git = false;
	enum ks_ignfile_match global;
	char *abs;
	size_t i;

	if (strncmp(path, "./", 2) == 0)
		path += 2;
	for (i = 0; i < ig->n; i++)
		any_git |= ig->v[i].has_git;
	for (i = ig->n; i-- > ig->nparents; )
		ask(&ig->v[i], path, is_dir, any_git, &v);
	/* Parents see the path joined to the canonical root, as given:
	 * a relative path lands below it. */
	if (ig->nparents > 0 && (abs = ks_path_join(ig->abs_base, path))) {
		for (i = ig->nparents; i-- > 0; )
			ask(&ig->v[i], abs, is_dir, any_git, &v);
		free(abs);
	}
	global = any_git ? ks_ignfile_match(&ig->global, path, is_dir) :
	    KS_IGN_NONE;
	if (v.ignore != KS_IGN_NONE)
		return v.ignore;
	if (v.git != KS_IGN_NONE)
		return v.git;
	return v.exclude != KS_IGN_NONE ? v.exclude : global;
}

/* pathutil::is_hidden: a name that starts with '.', where the name is
 * what the crate's file_name finds (none when the path ends in '.'). */
static bool
hidden(const char *path)
{
	size_t n = strlen(path);
	const char *name;

	if (n == 0 || path[n - 1] == '.')
		return false;
	name = strrchr(path, '/');
	return (name != NULL ? name[1] : path[0]) == '.';
}

bool
ks_ignore_skip(const struct ks_ignore *ig, const char *path, bool is_dir)
{
	enum ks_ignfile_match m = matched(ig, path, is_dir);

	return m == KS_IGN_IGNORE || (m == KS_IGN_NONE && hidden(path));
}

/* The first line of a file, as BufRead::lines gives it; NULL when the
 * file is missing, empty or not UTF-8. Caller frees. */
static char *
first_line(int dirfd, const char *path)
{
	char *buf, *nl, *line = NULL;
	ssize_t n;
	size_t len;

	if ((n = ks_ignfile_read(dirfd, path, &buf)) <= 0) {
		free(buf);
		return NULL;
	}
	nl = memchr(buf, '\n', (size_t)n);
	len = nl != NULL ? (size_t)(nl - buf) : (size_t)n;
	if (nl != NULL && len > 0 && buf[len - 1] == '\r')
		len--;
	if (ks_utf8_valid(buf, len) &&
	    (line = malloc(len + 1)) != NULL) {
		memcpy(line, buf, len);
		line[len] = '\0';
	}
	free(buf);
	return line;
}

/*
 * resolve_git_commondir, for a .git that is a file ("gitdir: X", a
 * linked work tree): the common directory named by X/commondir, where
 * info/exclude lives. X is taken as written (a relative one from the
 * working directory, as the crate does). NULL when there is none.
 */
static char *
commondir(int fd)
{
	char *dot = NULL, *real, *cfile = NULL, *line = NULL, *dir = NULL;

	if ((dot = first_line(fd, ".git")) == NULL ||
	    strncmp(dot, "gitdir: ", 8) != 0)
		goto out;
	real = dot + 8;
	if ((cfile = ks_path_join(real, "commondir")) == NULL ||
	    (line = first_line(AT_FDCWD, cfile)) == NULL)
		goto out;
	dir = line[0] == '.' ? ks_path_join(real, line) : strdup(line);
out:
	free(dot);
	free(cfile);
	free(line);
	return dir;
}

/* The three files of the directory open at fd, whose path is dir. */
static int
load_level(struct level *l, int fd, const char *dir)
{
	struct stat st;
	char *common, *exclude;
	int rc;

	if ((rc = ks_ignfile_init(&l->ignore, dir)) < 0 ||
	    (rc = ks_ignfile_init(&l->git, dir)) < 0 ||
	    (rc = ks_ignfile_init(&l->exclude, dir)) < 0 ||
	    (rc = ks_ignfile_add(&l->ignore, fd, ".ignore")) < 0 ||
	    (rc = ks_ignfile_add(&l->git, fd, ".gitignore")) < 0)
		return rc;
	l->has_git = fstatat(fd, ".git", &st, 0) == 0;
	if (!l->has_git || !S_ISREG(st.st_mode))
		return ks_ignfile_add(&l->exclude, fd, ".git/info/exclude");
	if ((common = commondir(fd)) == NULL)
		return 0;
	exclude = ks_path_join(common, "info/exclude");
	rc = exclude != NULL ? ks_ignfile_add(&l->exclude, AT_FDCWD, exclude) :
	    -ENOMEM;
	free(exclude);
	free(common);
	return rc;
}

static int
push_level(struct ks_ignore *ig, int fd, const char *dir)
{
	struct level *v;
	int rc;

	if (ig->n == ig->cap) {
		ig->cap = ig->cap ? 2 * ig->cap : 16;
		if ((v = realloc(ig->v, ig->cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		ig->v = v;
	}
	memset(&ig->v[ig->n], 0, sizeof(ig->v[0]));
	rc = load_level(&ig->v[ig->n++], fd, dir);
	return rc;
}

int
ks_ignore_push(struct ks_ignore *ig, int fd, const char *path)
{
	return push_level(ig, fd, path);
}

void
ks_ignore_pop(struct ks_ignore *ig)
{
	struct level *l;

	if (ig->n <= ig->nparents)
		return;
	l = &ig->v[--ig->n];
	ks_ignfile_free(&l->ignore);
	ks_ignfile_free(&l->git);
	ks_ignfile_free(&l->exclude);
}

/* The home directory of uid in /etc/passwd ("name:pw:uid:gid:gecos:
 * dir:shell"), read directly: getpwuid_r would need NSS's shared
 * libraries at run time, which a static binary cannot promise. Caller
 * frees; NULL when there is no such entry. */
static char *
passwd_home(uid_t uid)
{
	char *line = NULL, *f[7], *p, *end, *home = NULL;
	size_t cap = 0;
	unsigned long id;
	FILE *fp;
	int n;

	if ((fp = fopen("/etc/passwd", "re")) == NULL)
		return NULL;
	while (home == NULL && getline(&line, &cap, fp) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		for (n = 0, p = line; n < 7 && p != NULL; n++)
			f[n] = strsep(&p, ":");
		if (n < 6 || f[2][0] < '0' || f[2][0] > '9')
			continue;
		errno = 0;
		id = strtoul(f[2], &end, 10);
		if (errno == 0 && *end == '\0' && id == uid)
			home = strdup(f[5]);
	}
	free(line);
	fclose(fp);
	return home;
}

/* std::env::home_dir: $HOME when set (even empty), else the passwd
 * entry. Caller frees; NULL when there is none. */
static char *
home_dir(void)
{
	const char *h = getenv("HOME");

	if (h != NULL)
		return strdup(h);
	return passwd_home(getuid());
}

/* expand_tilde: every '~' becomes home. */
static char *
tilde(const char *s, size_t n, const char *home)
{
	size_t hl = home != NULL ? strlen(home) : 1, k = 0;
	char *out;

	if ((out = malloc(n * hl + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '~' && home != NULL) {
			memcpy(out + k, home, hl);
			k += hl;
		} else
			out[k++] = s[i];
	}
	out[k] = '\0';
	return out;
}

/* parse_excludes_file: the crate's (?im)^\s*excludesfile\s*=\s*(.+)\s*$
 * over the whole file, Unicode \s and (?i) included; "~" becomes home. */
static char *
excludes_file(const char *data, size_t n, const char *home)
{
	static const char re[] = "^" WS "*excludesfile" WS "*=" WS "*([^\\n]+)"
	    WS "*$";
	pcre2_compile_context *cc;
	pcre2_code *code = NULL;
	pcre2_match_data *md = NULL;
	PCRE2_SIZE off, *ov;
	char *path = NULL;
	int ec;

	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		return NULL;
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_CASELESS | PCRE2_MULTILINE |
	    PCRE2_MATCH_INVALID_UTF, &ec, &off, cc);
	pcre2_compile_context_free(cc);
	if (code == NULL || (md = pcre2_match_data_create(2, NULL)) == NULL ||
	    pcre2_match(code, (PCRE2_SPTR)data, n, 0, 0, md, NULL) < 2)
		goto out;
	ov = pcre2_get_ovector_pointer(md);
	path = tilde(data + ov[2], ov[3] - ov[2], home);
out:
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	return path;
}

static char *
excludes_in(const char *dir, const char *file, const char *home)
{
	char *path, *data = NULL, *res = NULL;
	ssize_t n;

	if ((path = ks_path_join(dir, file)) == NULL)
		return NULL;
	if ((n = ks_ignfile_read(AT_FDCWD, path, &data)) >= 0)
		res = excludes_file(data, (size_t)n, home);
	free(data);
	free(path);
	return res;
}

/* gitconfig_excludes_path: core.excludesFile of ~/.gitconfig, then of
 * $XDG_CONFIG_HOME/git/config, else $XDG_CONFIG_HOME/git/ignore (with
 * ~/.config for an unset or empty XDG_CONFIG_HOME). */
static char *
excludes_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	char *home = home_dir(), *xdg = NULL, *path = NULL;

	if (x != NULL && *x != '\0')
		xdg = strdup(x);
	else if (home != NULL)
		xdg = ks_path_join(home, ".config");
	if (home != NULL)
		path = excludes_in(home, ".gitconfig", home);
	if (path == NULL && xdg != NULL)
		path = excludes_in(xdg, "git/config", home);
	if (path == NULL && xdg != NULL)
		path = ks_path_join(xdg, "git/ignore");
	free(home);
	free(xdg);
	return path;
}

static int
load_global(struct ks_ignore *ig)
{
	struct stat st;
	char *path;
	int rc;

	if ((rc = ks_ignfile_init(&ig->global, "")) < 0)
		return rc;
	if ((path = excludes_path()) == NULL)
		return 0;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		rc = ks_ignfile_add(&ig->global, AT_FDCWD, path);
	free(path);
	return rc;
}

/* Ignore::add_parents: every parent of the canonical root, "/" first. */
static int
load_parents(struct ks_ignore *ig, const char *root)
{
	char *dir = NULL, *slash;
	int fd, rc = 0;

	if ((ig->abs_base = realpath(root, NULL)) == NULL)
		return errno == ENOMEM ? -ENOMEM : 0;
	if (strcmp(ig->abs_base, "/") == 0)
		return 0;
	if ((dir = malloc(strlen(ig->abs_base) + 2)) == NULL)
		return -ENOMEM;
	for (slash = ig->abs_base; rc == 0 && (slash = strchr(slash, '/'));
	    slash++) {
		memcpy(dir, ig->abs_base, (size_t)(slash - ig->abs_base));
		dir[slash == ig->abs_base ? 1 : slash - ig->abs_base] = '\0';
		if (slash == ig->abs_base)
			dir[0] = '/';
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = push_level(ig, fd, dir);
		if (fd >= 0)
			close(fd);
		ig->nparents++;
	}
	free(dir);
	return rc;
}

int
ks_ignore_open(const char *root, struct ks_ignore **out)
{
	struct ks_ignore *ig;
	int rc;

	*out = NULL;
	if ((ig = calloc(1, sizeof(*ig))) == NULL)
		return -ENOMEM;
	if ((rc = load_global(ig)) < 0 || (rc = load_parents(ig, root)) < 0) {
		ks_ignore_free(ig);
		return rc;
	}
	*out = ig;
	return 0;
}

void
ks_ignore_free(struct ks_ignore *ig)
{
	if (ig == NULL)
		return;
	ig->nparents = 0;
	while (ig->n > 0)
		ks_ignore_pop(ig);
	free(ig->v);
	ks_ignfile_free(&ig->global);
	free(ig->abs_base);
	free(ig);
}
