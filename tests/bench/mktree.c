/*
 * mktree: generates the bench's source-like tree: DIR holding MB
 * megabytes in MB * 100 files (50 per directory, 40% of them .c),
 * lines of C-ish words, with two marker lines planted at fixed
 * intervals: COMMON about 3,000 times and RARE about 12 times whatever
 * the size, so that the common pattern's matches fit in one reply.
 * Deterministic. Removes whatever DIR held first and writes DIR.stamp
 * (the parameters and the counts) last, so that a partial tree is never
 * reused.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire.h"

#define STAMP_VERSION	1
#define PER_DIR		50
#define COMMON_LINE	"\tspin_lock_irqsave(&dev->lock, flags);\n"
#define RARE_LINE	"\txfrm_policy_kill(pol);\n"
#define LINE_BYTES	45	/* the generator's mean line, measured */

static const char *const words[] = {
	"int", "return", "struct", "buffer", "size_t", "len", "if", "for",
	"while", "static", "const", "char", "void", "ptr", "node", "list",
	"next", "prev", "count", "index", "value", "key", "hash", "table",
	"error", "status", "result", "data", "offset", "flags", "mode",
	"file", "path", "name", "entry", "alloc", "free", "init", "read",
	"write", "open", "close", "lock", "unlock", "queue", "task", "state",
	"config", "debug", "0", "1", "NULL", "(", ")", "=", "+", "->", "*",
	"&&", "||", "==", "!=", "<", ">", "unsigned", "long", "goto", "out",
	"err", "rc", "dev", "inode", "page", "sector", "bio", "request",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const exts[10] = {
	"c", "c", "c", "c", "h", "h", "txt", "txt", "md", "py",
};

struct gen {
	uint64_t rng;
	uint64_t line, common_every, rare_every;
	unsigned long common, rare;
	struct ks_wbuf buf;
};

static uint64_t
rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static void
put(struct gen *g, const char *s, size_t n)
{
	if (ks_wire_reserve(&g->buf, g->buf.len + n) < 0)
		err(1, "out of memory");
	memcpy(g->buf.p + g->buf.len, s, n);
	g->buf.len += n;
}

static void
line(struct gen *g)
{
	uint64_t r = rnd(g);
	unsigned ntok = 4 + r % 10;

	g->line++;
	if (g->line % g->common_every == g->common_every / 2) {
		put(g, COMMON_LINE, strlen(COMMON_LINE));
		g->common++;
		return;
	}
	if (g->line % g->rare_every == 7) {
		put(g, RARE_LINE, strlen(RARE_LINE));
		g->rare++;
		return;
	}
	put(g, "\t\t\t", (r >> 8) % 4);
	for (unsigned i = 0; i < ntok; i++) {
		const char *w = words[rnd(g) % NWORDS];

		put(g, w, strlen(w));
		put(g, i + 1 < ntok ? " " : ";\n", i + 1 < ntok ? 1 : 2);
	}
}

static void
file(struct gen *g, const char *dir, unsigned long i, size_t size)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/d%02lu/s%03lu", dir,
	    i / PER_DIR % 20, i / PER_DIR / 20);
	if (i % PER_DIR == 0) {
		snprintf(path, sizeof(path), "%s/d%02lu", dir,
		    i / PER_DIR % 20);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			err(1, "mkdir %s", path);
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "/s%03lu", i / PER_DIR / 20);
		if (mkdir(path, 0755) < 0)
			err(1, "mkdir %s", path);
	}
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
	    "/%s_%05lu.%s", words[i % NWORDS], i, exts[i % 10]);
	g->buf.len = 0;
	while (g->buf.len < size)
		line(g);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0 || ks_wire_write(fd, g->buf.p, g->buf.len) < 0 ||
	    close(fd) < 0)
		err(1, "write %s", path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		err(1, "remove %s", path);
	return 0;
}

int
main(int argc, char **argv)
{
	struct gen g = { .rng = 0x9e3779b97f4a7c15ULL };
	unsigned long mb, nfiles, avg, bytes = 0;
	char stamp[4096], tmp[4200];
	FILE *f;

	if (argc != 3 || (mb = strtoul(argv[2], NULL, 10)) == 0)
		errx(2, "usage: mktree DIR MB");
	nfiles = mb * 100;
	avg = mb * 1000000 / nfiles;
	g.common_every = mb * 1000000 / LINE_BYTES / 3000 + 1;
	g.rare_every = mb * 1000000 / LINE_BYTES / 12 + 1;
	snprintf(stamp, sizeof(stamp), "%s.stamp", argv[1]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", stamp);
	if (unlink(stamp) < 0 && errno != ENOENT)
		err(1, "remove %s", stamp);
	if (access(argv[1], F_OK) == 0 &&
	    nftw(argv[1], rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
		err(1, "remove %s", argv[1]);
	if (mkdir(argv[1], 0755) < 0)
		err(1, "mkdir %s", argv[1]);
	for (unsigned long i = 0; i < nfiles; i++) {
		file(&g, argv[1], i, avg / 5 + rnd(&g) % (avg * 8 / 5));
		bytes += g.buf.len;
	}
	if ((f = fopen(tmp, "w")) == NULL ||
	    fprintf(f, "koda-bench-tree %d mb=%lu files=%lu bytes=%lu "
	    "cfiles=%lu common=%lu rare=%lu\n", STAMP_VERSION, mb, nfiles,
	    bytes, (nfiles + 6) / 10 * 4, g.common, g.rare) < 0 ||
	    fclose(f) == EOF || rename(tmp, stamp) < 0)
		err(1, "write %s", stamp);
	free(g.buf.p);
	return 0;
}
