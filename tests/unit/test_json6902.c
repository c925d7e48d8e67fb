/*
 * JSON 6902 patches. Every expectation below was checked against
 * `kubectl kustomize` (kustomize v5.5, evanphx/json-patch v4.12) on the same
 * document and operation.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../renderer/json6902.h"
#include "strbuf.h"
#include "strvec.h"
#include "unit.h"
#include "banned.h"

#define DOC "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"]}"

/* Apply ops (JSON text) to doc (JSON text); the result as sorted compact JSON, or "error: MSG". */
static char *patch(const char *doc, const char *ops)
{
	json_t *d = json_loads(doc, 0, NULL), *o = json_loads(ops, 0, NULL);
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(o);
	if (json6902_apply(d, o, &err) < 0) {
		strbuf_addf(&out, "error: %s", err.buf);
	} else {
		char *s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);

		strbuf_addstr(&out, s);
		free(s);
	}
	strbuf_release(&err);
	json_decref(d);
	json_decref(o);
	return strbuf_detach(&out, NULL);
}

static void check_patch(const char *ops, const char *want)
{
	char *got = patch(DOC, ops);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(add_appends_with_dash_index_and_minus_one)
{
	check_patch("[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":\"d\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\",\"d\"]}");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/3\",\"value\":\"d\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\",\"d\"]}");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/-1\",\"value\":\"d\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\",\"d\"]}");
}
END_TEST

START_TEST(add_inserts_at_signed_and_zero_padded_indexes)
{
	check_patch("[{\"op\":\"add\",\"path\":\"/list/01\",\"value\":\"z\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"z\",\"b\",\"c\"]}");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/+1\",\"value\":\"z\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"z\",\"b\",\"c\"]}");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/-4\",\"value\":\"z\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"z\",\"a\",\"b\",\"c\"]}");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/-3\",\"value\":\"z\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"z\",\"b\",\"c\"]}");
}
END_TEST

START_TEST(add_errors)
{
	check_patch("[{\"op\":\"add\",\"path\":\"/list/4\",\"value\":\"d\"}]",
		    "error: operation 1 (add /list/4): index 4 is out of range for an array of 3");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/-5\",\"value\":\"d\"}]",
		    "error: operation 1 (add /list/-5): index -5 is out of range for an array of 3");
	check_patch("[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":\"d\"}]",
		    "error: operation 1 (add /x/y): the object has nothing at the parent of this path");
	check_patch("[{\"op\":\"add\",\"path\":\"/data/a/x\",\"value\":1}]",
		    "error: operation 1 (add /data/a/x): the object has nothing at the parent of this path");
	check_patch("[{\"op\":\"add\",\"path\":\"\",\"value\":{}}]",
		    "error: operation 1 (add ): a path must start with '/'");
	check_patch("[{\"op\":\"add\",\"value\":1}]",
		    "error: operation 1 (add ): \"path\" must be a string");
	check_patch("[{\"op\":\"add\",\"path\":\"/list/x\",\"value\":1}]",
		    "error: operation 1 (add /list/x): \"x\" is not an array index");
}
END_TEST

START_TEST(add_quirks)
{
	/* The text before the first slash is ignored. */
	check_patch("[{\"op\":\"add\",\"path\":\"data/x\",\"value\":\"d\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"],\"x\":\"d\"}");
	/* "-" is an ordinary member name in an object. */
	check_patch("[{\"op\":\"add\",\"path\":\"/data/-\",\"value\":\"d\"}]",
		    "{\"data\":{\"-\":\"d\",\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"]}");
	/* No value: null. */
	check_patch("[{\"op\":\"add\",\"path\":\"/list\"}]", "{\"data\":{\"a\":\"1\"},\"list\":null}");
	check_patch("[{\"op\":\"add\",\"path\":\"/data/a~1b~0c\",\"value\":\"z\"}]",
		    "{\"data\":{\"a\":\"1\",\"a/b~c\":\"z\"},\"list\":[\"a\",\"b\",\"c\"]}");
}
END_TEST

START_TEST(remove_replace)
{
	check_patch("[{\"op\":\"remove\",\"path\":\"/list/-1\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\"]}");
	check_patch("[{\"op\":\"remove\",\"path\":\"/nope\"}]",
		    "error: operation 1 (remove /nope): there is no member \"nope\" to remove");
	check_patch("[{\"op\":\"remove\",\"path\":\"/list/3\"}]",
		    "error: operation 1 (remove /list/3): index \"3\" is not an element of an array of 3");
	check_patch("[{\"op\":\"remove\",\"path\":\"/list/-\"}]",
		    "error: operation 1 (remove /list/-): index \"-\" is not an element of an array of 3");
	/* replace adds a missing object member, but not a missing element */
	check_patch("[{\"op\":\"replace\",\"path\":\"/nope\",\"value\":1}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"],\"nope\":1}");
	check_patch("[{\"op\":\"replace\",\"path\":\"/list/5\",\"value\":1}]",
		    "error: operation 1 (replace /list/5): index \"5\" is not an element of an array of 3");
	check_patch("[{\"op\":\"replace\",\"path\":\"/list/-1\",\"value\":\"z\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"z\"]}");
}
END_TEST

START_TEST(move_copy)
{
	check_patch("[{\"op\":\"copy\",\"from\":\"/data\",\"path\":\"/copy\"}]",
		    "{\"copy\":{\"a\":\"1\"},\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"]}");
	check_patch("[{\"op\":\"move\",\"from\":\"/data/a\",\"path\":\"/data/b\"}]",
		    "{\"data\":{\"b\":\"1\"},\"list\":[\"a\",\"b\",\"c\"]}");
	check_patch("[{\"op\":\"move\",\"from\":\"/list/0\",\"path\":\"/list/-\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"b\",\"c\",\"a\"]}");
	check_patch("[{\"op\":\"move\",\"from\":\"/data\",\"path\":\"/data/x\"}]",
		    "error: operation 1 (move /data/x): the object has nothing at the parent of this path");
	/* copying a missing member copies null */
	check_patch("[{\"op\":\"copy\",\"from\":\"/nope\",\"path\":\"/x\"}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"],\"x\":null}");
	check_patch("[{\"op\":\"move\",\"path\":\"/x\"}]",
		    "error: operation 1 (move /x): \"from\" must be a string");
}
END_TEST

START_TEST(test_op)
{
	check_patch("[{\"op\":\"test\",\"path\":\"/data/a\",\"value\":\"2\"}]",
		    "error: operation 1 (test /data/a): the value at this path differs from the expected value");
	check_patch("[{\"op\":\"test\",\"path\":\"/data/a\",\"value\":\"1\"}]", DOC);
	check_patch("[{\"op\":\"test\",\"path\":\"/list\",\"value\":[\"a\",\"b\",\"c\"]}]", DOC);
	check_patch("[{\"op\":\"test\",\"path\":\"/nope\",\"value\":null}]", DOC);
	/* members only in the expected value are not compared */
	check_patch("[{\"op\":\"test\",\"path\":\"/data\",\"value\":{\"a\":\"1\",\"b\":2}}]", DOC);
	check_patch("[{\"op\":\"test\",\"path\":\"/data\",\"value\":{}}]",
		    "error: operation 1 (test /data): the value at this path differs from the expected value");
	check_patch("[{\"op\":\"test\",\"path\":\"/nope\"}]",
		    "error: operation 1 (test /nope): a test needs a \"value\"");
}
END_TEST

START_TEST(bad_ops_and_order)
{
	check_patch("[{\"op\":\"bogus\",\"path\":\"/list\"}]",
		    "error: operation 1: \"op\" must be one of add, remove, replace, move, copy, test");
	check_patch("[{\"op\":\"add\",\"path\":\"/x\",\"value\":1},3]",
		    "error: operation 2: must be a mapping with op, path and value");
	check_patch("{\"op\":\"add\"}", "error: a JSON patch must be a list of operations");
	/* operations see the effect of earlier ones */
	check_patch("[{\"op\":\"add\",\"path\":\"/x\",\"value\":{}},"
		    "{\"op\":\"add\",\"path\":\"/x/y\",\"value\":[1]},"
		    "{\"op\":\"add\",\"path\":\"/x/y/0\",\"value\":0}]",
		    "{\"data\":{\"a\":\"1\"},\"list\":[\"a\",\"b\",\"c\"],\"x\":{\"y\":[0,1]}}");
}
END_TEST

START_TEST(split_path)
{
	struct strvec v = STRVEC_INIT;

	ck_assert_int_eq(json6902_split_path(&v, "/a~1b/~0~1/~01/"), 0);
	ck_assert_uint_eq(v.nr, 4);
	ck_assert_str_eq(v.v[0], "a/b");
	ck_assert_str_eq(v.v[1], "~/");
	ck_assert_str_eq(v.v[2], "~1");
	ck_assert_str_eq(v.v[3], "");
	strvec_clear(&v);
	ck_assert_int_eq(json6902_split_path(&v, "nothing"), -1);
	ck_assert_uint_eq(v.nr, 0);
}
END_TEST

static Suite *json6902_suite(void)
{
	Suite *s = suite_create("json6902");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, add_appends_with_dash_index_and_minus_one);
	tcase_add_test(tc, add_inserts_at_signed_and_zero_padded_indexes);
	tcase_add_test(tc, add_errors);
	tcase_add_test(tc, add_quirks);
	tcase_add_test(tc, remove_replace);
	tcase_add_test(tc, move_copy);
	tcase_add_test(tc, test_op);
	tcase_add_test(tc, bad_ops_and_order);
	tcase_add_test(tc, split_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(json6902_suite());
}
