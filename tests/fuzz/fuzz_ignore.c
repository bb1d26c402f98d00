/*
 * fuzz_ignore: the gitignore parser (ks_ignfile_add, which reads the
 * file and compiles each line with ks_ignglob_compile) on the input up
 * to its first NUL byte, as a file in a memfd; then ks_ignfile_match of
 * some fixed paths and of each line after the NUL, as a file and as a
 * directory, for rules rooted at "." and at "root".
 */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "ignore/ignfile.h"

static const char *const fixed[] = {
	"a", "a.o", "a.log", "root/a.c", "root/sub/x.c", "./b/c", ".env",
	"root/.git/config", "build/x", "deep/a/deep/b", "root", "",
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))
/* Paths from the input matched, at most. */
#define NPATHS 64

static int memfd = -1, fddir = -1;
static char name[32];

static void
match(const struct ks_ignfile *f, const char *path)
{
	enum ks_ignfile_match m;

	for (int d = 0; d < 2; d++) {
		m = ks_ignfile_match(f, path, d);
		FUZZ_CHECK(m == KS_IGN_NONE || m == KS_IGN_IGNORE ||
		    m == KS_IGN_WHITE);
	}
}

static void
run(const char *dir, const uint8_t *file, size_t flen, const char *paths)
{
	struct ks_ignfile f = { 0 };
	const char *p, *nl;
	char buf[4096];
	size_t n, k;

	FUZZ_CHECK(ks_ignfile_init(&f, dir) == 0);
	FUZZ_CHECK(ftruncate(memfd, 0) == 0);
	FUZZ_CHECK(pwrite(memfd, file, flen, 0) == (ssize_t)flen);
	FUZZ_CHECK(ks_ignfile_add(&f, fddir, name) == 0);
	FUZZ_CHECK(f.n <= flen);
	for (size_t i = 0; i < NFIXED; i++)
		match(&f, fixed[i]);
	for (p = paths, k = 0; p != NULL && k < NPATHS; k++) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n < sizeof(buf)) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			match(&f, buf);
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	ks_ignfile_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t flen = nul != NULL ? (size_t)(nul - data) : size;
	char *paths;

	if (memfd < 0) {
		FUZZ_CHECK((memfd = memfd_create("ignore", MFD_CLOEXEC)) >= 0);
		FUZZ_CHECK((fddir = open("/proc/self/fd", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) >= 0);
		snprintf(name, sizeof(name), "%d", memfd);
	}
	if ((paths = malloc(size - flen + 1)) == NULL)
		return 0;
	memcpy(paths, data + flen + (nul != NULL), size - flen -
	    (nul != NULL));
	paths[size - flen - (nul != NULL)] = '\0';
	run(".", data, flen, paths);
	run("root", data, flen, paths);
	free(paths);
	return 0;
}
