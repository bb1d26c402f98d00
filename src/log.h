/*
 * log: leveled messages to stderr, the core's only output. The level
 * comes from a name (KODA_FS_WORKER_LOG: error|warn|info|debug|trace).
 */
#ifndef KS_LOG_H
#define KS_LOG_H

enum ks_log_level {
	KS_LOG_ERROR,
	KS_LOG_WARN,
	KS_LOG_INFO,
	KS_LOG_DEBUG,
	KS_LOG_TRACE,
};

/*
 * Sets the level from name, in any case (NULL or "": warn). An unknown
 * name leaves warn and says so, naming the levels. Returns 0, or -1 for
 * an unknown name.
 */
int ks_log_set_level(const char *name);

/* True when messages of level are printed (to skip building them). */
int ks_log_enabled(enum ks_log_level level);

/* Prints "koda-sandbox: LEVEL: message" when level is enabled. */
void ks_log(enum ks_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
