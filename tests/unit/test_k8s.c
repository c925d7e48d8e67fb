#include <check.h>
#include <stdlib.h>

#include "k8s.h"
#include "suggest.h"
#include "unit.h"
#include "banned.h"

START_TEST(test_suggest)
{
	static const char *const keys[] = { "name", "build", "image", "port", "environments" };

	ck_assert_uint_eq(suggest_distance("kitten", "sitting"), 3);
	ck_assert_uint_eq(suggest_distance("nmae", "name"), 1);
	ck_assert_uint_eq(suggest_distance("Port", "port"), 0);
	ck_assert_uint_eq(suggest_distance("", "abc"), 3);
	ck_assert_str_eq(suggest_word("enviroments", keys, 5), "environments");
	ck_assert_str_eq(suggest_word("nmae", keys, 5), "name");
	ck_assert_str_eq(suggest_word("imgae", keys, 5), "image");
	ck_assert_str_eq(suggest_word("Port", keys, 5), "port");
	ck_assert_ptr_null(suggest_word("replicas", keys, 5));
	ck_assert_ptr_null(suggest_word("x", keys, 5));
	ck_assert_ptr_null(suggest_word("name", keys, 5));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_ptr_null(k8s_check_dns_label("web-1"));
	ck_assert_str_eq(k8s_check_dns_label("Web"), "must be lower case");
	ck_assert_str_eq(k8s_check_dns_label("a.b"), "must not contain dots");
	ck_assert_str_eq(k8s_check_dns_label("-a"), "must start and end with a letter or digit");
	ck_assert_str_eq(k8s_check_dns_label(""), "must not be empty");
	ck_assert_str_eq(k8s_check_dns_label("a_b"), "must hold only lower-case letters, digits and '-'");
	ck_assert_str_eq(k8s_check_dns_label("a234567890123456789012345678901234567890123456789012345678901234"),
			 "must be at most 63 characters");
	ck_assert_ptr_null(k8s_check_dns1035_label("web"));
	ck_assert_str_eq(k8s_check_dns1035_label("1web"), "must start with a letter");
	ck_assert_ptr_null(k8s_check_dns_subdomain("my.app-1.example"));
	ck_assert_str_eq(k8s_check_dns_subdomain("a..b"), "must not be empty");
	ck_assert_str_eq(k8s_check_dns_subdomain("a.b-"), "must start and end with a letter or digit");
	ck_assert_ptr_null(k8s_check_path_segment("system:controller:x"));
	ck_assert_str_eq(k8s_check_path_segment("a/b"), "must not contain '/' or '%'");
	ck_assert_str_eq(k8s_check_path_segment(".."), "must not be `.` or `..`");
}
END_TEST

START_TEST(test_labels)
{
	ck_assert_ptr_null(k8s_check_qualified_name("app.kubernetes.io/name"));
	ck_assert_ptr_null(k8s_check_qualified_name("Tier_1.x"));
	ck_assert_str_eq(k8s_check_qualified_name("a/b/c"), "must contain at most one '/'");
	ck_assert_str_eq(k8s_check_qualified_name("/b"), "has an empty prefix before '/'");
	ck_assert_str_eq(k8s_check_qualified_name("Example.com/b"),
			 "has a prefix that is not a DNS subdomain (lower case, e.g. example.com/)");
	ck_assert_str_eq(k8s_check_qualified_name("a/"), "must have a name after the prefix");
	ck_assert_str_eq(k8s_check_qualified_name("a b"),
			 "must hold only letters, digits, '-', '_' and '.'");
	ck_assert_ptr_null(k8s_check_label_value(""));
	ck_assert_ptr_null(k8s_check_label_value("v1.2_3-A"));
	ck_assert_str_eq(k8s_check_label_value("-x"), "must start and end with a letter or digit");
}
END_TEST

START_TEST(test_quantity)
{
	double v;

	ck_assert_int_eq(k8s_parse_quantity("250m", &v), 0);
	ck_assert_double_eq_tol(v, 0.25, 1e-12);
	ck_assert_int_eq(k8s_parse_quantity("1.5Gi", &v), 0);
	ck_assert_double_eq(v, 1610612736.0);
	ck_assert_int_eq(k8s_parse_quantity("2", &v), 0);
	ck_assert_double_eq(v, 2.0);
	ck_assert_int_eq(k8s_parse_quantity("129e6", &v), 0);
	ck_assert_double_eq(v, 129e6);
	ck_assert_int_eq(k8s_parse_quantity("1E", &v), 0);
	ck_assert_double_eq(v, 1e18);
	ck_assert_int_eq(k8s_parse_quantity("1Ei", &v), 0);
	ck_assert_int_eq(k8s_parse_quantity(".5", &v), 0);
	ck_assert_int_eq(k8s_parse_quantity("256MB", &v), -1);
	ck_assert_int_eq(k8s_parse_quantity("Mi", &v), -1);
	ck_assert_int_eq(k8s_parse_quantity("1e", &v), -1);
	ck_assert_int_eq(k8s_parse_quantity("1 Gi", &v), -1);
	ck_assert_int_eq(k8s_parse_quantity("", &v), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("k8s");
	TCase *tc = tcase_create("k8s");

	tcase_add_test(tc, test_suggest);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_labels);
	tcase_add_test(tc, test_quantity);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
