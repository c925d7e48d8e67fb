/* Unit tests: parsing the ref update lines git gives the hooks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hookinput.h"
#include "strbuf.h"
#include "unit.h"

#define Z40 "0000000000000000000000000000000000000000"
#define A40 "1111111111111111111111111111111111111111"

START_TEST(test_parse_line)
{
	struct ref_update u;
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(hookinput_parse_line(&u, Z40 " " A40 " refs/heads/main", &err), 0);
	ck_assert(git_oid_is_zero(&u.old_oid));
	ck_assert(!git_oid_is_zero(&u.new_oid));
	ck_assert_str_eq(u.ref, "refs/heads/main");
	free(u.ref);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_parse_line_refuses)
{
	static const char *bad[] = {
		"",
		Z40 " " A40,
		Z40 " " A40 " ",
		Z40 A40 " refs/heads/x",
		"zz" Z40 " " A40 " refs/heads/x",
		Z40 " " A40 " refs/heads/a b",
		"00000 11111 refs/heads/x",
	};
	struct ref_update u;
	struct strbuf err = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hookinput_parse_line(&u, bad[i], &err) < 0, "accepted: %s", bad[i]);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_read_stream)
{
	const char *text = Z40 " " A40 " refs/heads/main\n" A40 " " Z40 " refs/tags/v1\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct diags *d = diags_new();
	struct ref_update *u;
	size_t nr;

	ck_assert_int_eq(hookinput_read(&u, &nr, f, d), 0);
	ck_assert_uint_eq(nr, 2);
	ck_assert_str_eq(u[1].ref, "refs/tags/v1");
	ck_assert(git_oid_is_zero(&u[1].new_oid));
	hookinput_free(u, nr);
	fclose(f);
	diags_free(d);
}
END_TEST

START_TEST(test_read_refuses_garbage)
{
	const char *text = Z40 " " A40 " refs/heads/main\ngarbage\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct diags *d = diags_new();
	struct ref_update *u;
	size_t nr;

	ck_assert_int_eq(hookinput_read(&u, &nr, f, d), -1);
	ck_assert_ptr_null(u);
	ck_assert_uint_eq(nr, 0);
	ck_assert_str_eq(diags_get(d, 0)->message, "malformed ref update line from git");
	fclose(f);
	diags_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hookinput");
	TCase *tc = tcase_create("core");
	int rc;

	git_libgit2_init();
	tcase_add_test(tc, test_parse_line);
	tcase_add_test(tc, test_parse_line_refuses);
	tcase_add_test(tc, test_read_stream);
	tcase_add_test(tc, test_read_refuses_garbage);
	suite_add_tcase(s, tc);
	rc = unit_run(s);
	git_libgit2_shutdown();
	return rc;
}
