/*
 * check_applets: (being written)
 */
#include <check.h>

#include "testlib.h"

Suite *
applets_suite(void)
{
	return suite_create("applets");
}
