/* Unit tests: the durable job queue (ids, order, claims, results, requeue). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "queue.h"
#include "util.h"
#include "unit.h"

static char dir[] = "/tmp/gitd-test-queue.XXXXXX";

static void setup(void)
{
	/* each test runs in a process of its own (CK_FORK), so the template is fresh */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	git_libgit2_init();
}

static void teardown(void)
{
	remove_tree(dir);
	git_libgit2_shutdown();
}

static unsigned long enqueue(const char *repo, const char *ref)
{
	struct ref_update u;
	unsigned long id = 0;

	memset(&u, 0, sizeof(u));
	u.ref = (char *)ref;
	git_oid_fromstr(&u.new_oid, "1111111111111111111111111111111111111111");
	ck_assert_int_eq(queue_enqueue(&id, dir, repo, "alice", &u, 1), 0);
	return id;
}

static int busy_shop(const char *repo, void *payload)
{
	(void)payload;
	return !strcmp(repo, "shop");
}

START_TEST(test_ids_grow_and_persist)
{
	ck_assert_uint_eq(enqueue("shop", "refs/heads/main"), 1);
	ck_assert_uint_eq(enqueue("shop", "refs/heads/main"), 2);
	ck_assert_uint_eq(enqueue("blog", "refs/tags/v1"), 3);
	ck_assert_uint_eq(queue_count(dir, "pending"), 3);
}
END_TEST

START_TEST(test_claim_in_order_skipping_busy_repos)
{
	struct job *j = NULL;

	enqueue("shop", "refs/heads/main");
	enqueue("blog", "refs/heads/main");
	ck_assert_int_eq(queue_claim(&j, dir, busy_shop, NULL), 0);
	ck_assert_str_eq(j->repo, "blog");
	ck_assert_uint_eq(j->id, 2);
	ck_assert_str_eq(j->pusher, "alice");
	ck_assert_str_eq(j->updates[0].ref, "refs/heads/main");
	job_free(j);
	ck_assert_int_eq(queue_claim(&j, dir, busy_shop, NULL), 1);
	ck_assert_int_eq(queue_claim(&j, dir, NULL, NULL), 0);
	ck_assert_str_eq(j->repo, "shop");
	ck_assert_uint_eq(queue_count(dir, "running"), 2);
	job_free(j);
}
END_TEST

START_TEST(test_finish_and_result)
{
	struct job *j = NULL;
	json_t *result = NULL;

	enqueue("shop", "refs/heads/main");
	ck_assert_int_eq(queue_result(&result, dir, 1), 1);
	ck_assert_int_eq(queue_claim(&j, dir, NULL, NULL), 0);
	ck_assert_int_eq(queue_result(&result, dir, 1), 1);
	ck_assert_int_eq(queue_finish(dir, j, "ok", "deployed"), 0);
	ck_assert_int_eq(queue_result(&result, dir, 1), 0);
	ck_assert_str_eq(json_string_value(json_object_get(result, "status")), "ok");
	ck_assert_str_eq(json_string_value(json_object_get(result, "message")), "deployed");
	ck_assert_uint_eq(queue_count(dir, "running"), 0);
	json_decref(result);
	ck_assert_int_eq(queue_result(&result, dir, 42), -1);
	ck_assert_ptr_null(result);
	job_free(j);
}
END_TEST

START_TEST(test_finish_without_room_for_the_result)
{
	char *blocker = xstrfmt("%s/queue/done/000000000001.json.tmp.%d", dir, (int)getpid());
	struct job *j = NULL;
	json_t *result = NULL, *list;

	enqueue("shop", "refs/heads/main");
	ck_assert_int_eq(queue_claim(&j, dir, NULL, NULL), 0);
	/* the result's temporary file cannot be created, as on a full disk */
	ck_assert_int_eq(mkdir(blocker, 0700), 0);
	ck_assert_int_eq(queue_finish(dir, j, "ok", "deployed"), -1);
	ck_assert_uint_eq(queue_count(dir, "running"), 0);
	ck_assert_int_eq(queue_result(&result, dir, 1), 0);
	ck_assert_str_eq(json_string_value(json_object_get(result, "status")), "failed");
	ck_assert_str_eq(json_string_value(json_object_get(result, "message")),
			 "its result could not be written; see gitd's log");
	list = queue_list(dir, "shop", 10);
	ck_assert_uint_eq(json_array_size(list), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "status")), "failed");
	json_decref(list);
	json_decref(result);
	job_free(j);
	free(blocker);
}
END_TEST

START_TEST(test_requeue_after_crash)
{
	struct job *j = NULL;

	enqueue("shop", "refs/heads/main");
	ck_assert_int_eq(queue_claim(&j, dir, NULL, NULL), 0);
	job_free(j);
	/* gitd died with the job running: the next start puts it back */
	ck_assert_uint_eq(queue_requeue_running(dir), 1);
	ck_assert_uint_eq(queue_count(dir, "pending"), 1);
	ck_assert_int_eq(queue_claim(&j, dir, NULL, NULL), 0);
	ck_assert_uint_eq(j->id, 1);
	job_free(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ids_grow_and_persist);
	tcase_add_test(tc, test_claim_in_order_skipping_busy_repos);
	tcase_add_test(tc, test_finish_and_result);
	tcase_add_test(tc, test_finish_without_room_for_the_result);
	tcase_add_test(tc, test_requeue_after_crash);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
