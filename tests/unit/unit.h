/* What every unit test program shares: its main() ends with `return unit_run(suite);`. */
#ifndef GITD_TESTS_UNIT_H
#define GITD_TESTS_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Run every test of s (each in a process of its own under CK_FORK=yes); the exit status. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
