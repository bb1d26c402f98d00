/*
 * check_main: runs every suite, counts skips, ends with Check's summary.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"

static Suite *(*const suites[])(void) = {
	err_suite, frame_suite, proto_suite, path_suite, policy_suite,
	walk_suite, ignore_suite, glob_suite, grep_suite, fsops_suite,
	confine_suite, attack_suite, client_suite, worker_suite,
	policy_check_suite, agreement_suite, golden_suite, fault_suite,
	stress_suite, traversal_suite, readrace_suite, applets_suite,
	hostcli_suite, extend_suite, extlist_suite, verdict_suite, encode_suite,
	pool_suite, audit_suite, hostx_suite, reqread_suite,
};

int
main(void)
{
	char log[] = "/tmp/ks-skips-XXXXXX";
	SRunner *sr;
	int fd, failed;

	/* Skips are counted in a file: each test runs in its own fork. */
	if ((fd = mkstemp(log)) < 0)
		return 2;
	close(fd);
	setenv("KS_SKIP_LOG", log, 1);
	/* This process read its sanitizer options already; the workers it
	 * starts, even through host-client, must not run LeakSanitizer's
	 * exit check (it uses ptrace, which their filter kills). */
	setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
	sr = srunner_create(suites[0]());
	for (size_t i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_SILENT);
	printf("%d skipped\n", ks_skips_counted());
	unlink(log);
	/* Check's own summary stays the last word. */
	srunner_print(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
