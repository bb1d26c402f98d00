/*
 * log: the level is process state set once at start-up by the applet;
 * the core only reads it.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const names[] = { "error", "warn", "info", "debug",
    "trace" };
static enum ks_log_level threshold = KS_LOG_WARN;

int
ks_log_set_level(const char *name)
{
	threshold = KS_LOG_WARN;
	if (name == NULL || name[0] == '\0')
		return 0;
	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(name, names[i]) == 0) {
			threshold = (enum ks_log_level)i;
			return 0;
		}
	ks_log(KS_LOG_WARN, "KODA_FS_WORKER_LOG=%.100s: unknown level "
	    "(error, warn, info, debug or trace); using warn", name);
	return -1;
}

int
ks_log_enabled(enum ks_log_level level)
{
	return level <= threshold;
}

void
ks_log(enum ks_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > threshold)
		return;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above. */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line, so that lines of two workers never mix. */
	fprintf(stderr, "koda-fs-worker: %s: %s\n", names[level], buf);
}
