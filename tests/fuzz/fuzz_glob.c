/*
 * fuzz_glob: ks_glob_compile on the input up to its first NUL byte and
 * ks_glob_match of the text after it (up to the next NUL). A pattern
 * without wildcards matches itself; a rejected one is a protocol error.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "glob.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_glob_pat *p = NULL;
	struct ks_err err;
	char *in, *text;
	int rc;

	/* Two NULs at the end: the text is empty when the input has none. */
	if ((in = malloc(size + 2)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = in[size + 1] = '\0';
	text = in + strlen(in) + 1;
	memset(&err, 0, sizeof(err));
	if ((rc = ks_glob_compile(in, &p, &err)) < 0) {
		FUZZ_CHECK(rc == -EINVAL && p == NULL);
		FUZZ_CHECK(err.code == KS_CODE_PROTOCOL);
		goto out;
	}
	(void)ks_glob_match(p, text);
	if (strpbrk(in, "*?[") == NULL)
		FUZZ_CHECK(ks_glob_match(p, in));
	else if (strcmp(in, text) == 0 && strpbrk(in, "?[") == NULL)
		FUZZ_CHECK(ks_glob_match(p, text));
out:
	ks_glob_free(p);
	free(in);
	return 0;
}
