/* Unit tests: splitting exec requests into words, recognising git services. */
#include <check.h>
#include <stdlib.h>

#include "command.h"
#include "strbuf.h"
#include "strvec.h"
#include "unit.h"

static int split(struct strvec *words, const char *line, struct strbuf *err)
{
	strvec_clear(words);
	strbuf_reset(err);
	return command_split(words, line, err);
}

START_TEST(test_split_plain_and_quoted)
{
	struct strvec w = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(split(&w, "git-upload-pack '/shop.git'", &err), 0);
	ck_assert_uint_eq(w.nr, 2);
	ck_assert_str_eq(w.v[0], "git-upload-pack");
	ck_assert_str_eq(w.v[1], "/shop.git");

	ck_assert_int_eq(split(&w, "  perm   set\tshop alice  write ", &err), 0);
	ck_assert_uint_eq(w.nr, 5);
	ck_assert_str_eq(w.v[4], "write");

	/* git's quoting of a quote inside quotes */
	ck_assert_int_eq(split(&w, "x 'a'\\''b'", &err), 0);
	ck_assert_str_eq(w.v[1], "a'b");

	ck_assert_int_eq(split(&w, "x ''", &err), 0);
	ck_assert_uint_eq(w.nr, 2);
	ck_assert_str_eq(w.v[1], "");
	strvec_clear(&w);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_split_refuses)
{
	struct strvec w = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	char *big = malloc(COMMAND_MAX + 2);

	ck_assert_int_eq(split(&w, "git-upload-pack 'shop", &err), -1);
	ck_assert_str_eq(err.buf, "unterminated quote in command");
	ck_assert_int_eq(split(&w, "whoami\nid", &err), -1);
	ck_assert_str_eq(err.buf, "control characters are not accepted in commands");
	ck_assert_int_eq(split(&w, "echo \"x\"", &err), -1);
	ck_assert_int_eq(split(&w, "echo a\\b", &err), -1);
	memset(big, 'a', COMMAND_MAX + 1);
	big[COMMAND_MAX + 1] = '\0';
	ck_assert_int_eq(split(&w, big, &err), -1);
	ck_assert_str_eq(err.buf, "command too long (limit 4096 bytes)");
	ck_assert_int_eq(split(&w, "a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7", &err), -1);
	free(big);
	strvec_clear(&w);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_git_service)
{
	struct strvec w = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *arg = NULL;

	split(&w, "git-receive-pack 'shop.git'", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_RECEIVE_PACK);
	ck_assert_str_eq(arg, "shop.git");
	split(&w, "git upload-pack shop", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_UPLOAD_PACK);
	split(&w, "git-upload-archive '/shop.git'", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_UPLOAD_ARCHIVE);
	/* wrong arity, unknown services, and lookalikes are not git */
	split(&w, "git-upload-pack", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_NONE);
	split(&w, "git-upload-pack a b", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_NONE);
	split(&w, "git-shell -c x", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_NONE);
	split(&w, "git-upload-packx shop", &err);
	ck_assert_int_eq(command_git_service(&w, &arg), GIT_SERVICE_NONE);
	ck_assert_str_eq(git_service_name(GIT_SERVICE_RECEIVE_PACK), "git-receive-pack");
	strvec_clear(&w);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_split_plain_and_quoted);
	tcase_add_test(tc, test_split_refuses);
	tcase_add_test(tc, test_git_service);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
