/*
 * check_readrace: (being written)
 */
#include <check.h>

#include "testlib.h"

Suite *
readrace_suite(void)
{
	return suite_create("readrace");
}
