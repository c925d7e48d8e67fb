#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reponame.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

struct norm_case {
	const char *in;
	const char *name; /* NULL: refused */
	const char *err;
};

static const struct norm_case norm_cases[] = {
	{ "shop", "shop", NULL },
	{ "/shop", "shop", NULL },
	{ "shop.git", "shop", NULL },
	{ "/shop.git", "shop", NULL },
	{ "gitd-admin.git", "gitd-admin", NULL },
	{ "/deploy", "deploy", NULL },
	{ "a", "a", NULL },
	{ "0", "0", NULL },
	{ "my_app-2.v1", "my_app-2.v1", NULL },
	{ "", NULL, "repository name is empty; use e.g. 'shop'" },
	{ "/", NULL, "repository name is empty; use e.g. 'shop'" },
	{ ".git", NULL, "repository name is empty; use e.g. 'shop'" },
	{ "/.git", NULL, "repository name is empty; use e.g. 'shop'" },
	/* traversal */
	{ "..", NULL, "repository name '..' has '..'" },
	{ "/..", NULL, "repository name '..' has '..'" },
	{ "../shop", NULL, "repository name '../shop' has '/'; repositories do not nest" },
	{ "/../../etc/passwd", NULL,
	  "repository name '../../etc/passwd' has '/'; repositories do not nest" },
	{ "shop/../../x", NULL, "repository name 'shop/../../x' has '/'; repositories do not nest" },
	{ "//shop", NULL, "repository name '/shop' has '/'; repositories do not nest" },
	{ "shop/", NULL, "repository name 'shop/' has '/'; repositories do not nest" },
	{ "shop.git/", NULL, "repository name 'shop.git/' has '/'; repositories do not nest" },
	{ "a..b", NULL, "repository name 'a..b' has '..'" },
	{ "shop..git", NULL, "repository name 'shop.' must not end in '.'" },
	{ "~root/shop", NULL, "repository name '~root/shop' has '/'; repositories do not nest" },
	{ "~root", NULL, "repository name '~root' has '~'; use only a-z, 0-9, '.', '_' and '-'" },
	/* option and shell injection */
	{ "-shop", NULL, "repository name '-shop' must start with a letter or digit" },
	{ "--upload-pack=touch /tmp/x", NULL,
	  "repository name '--upload-pack=touch /tmp/x' has '/'; repositories do not nest" },
	{ "--help", NULL, "repository name '--help' must start with a letter or digit" },
	{ ".hidden", NULL, "repository name '.hidden' must start with a letter or digit" },
	{ "shop;rm -rf x", NULL,
	  "repository name 'shop;rm -rf x' has ';'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop$(id)", NULL,
	  "repository name 'shop$(id)' has '$'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop`id`", NULL,
	  "repository name 'shop`id`' has '`'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop|id", NULL,
	  "repository name 'shop|id' has '|'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop&", NULL, "repository name 'shop&' has '&'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "'shop'", NULL, "repository name ''shop'' has '''; use only a-z, 0-9, '.', '_' and '-'" },
	{ "\"shop\"", NULL,
	  "repository name '\"shop\"' has '\"'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop\\x", NULL,
	  "repository name 'shop\\x5cx' has '\\'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "sh op", NULL,
	  "repository name 'sh op' has byte \\x20; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop*", NULL, "repository name 'shop*' has '*'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop?", NULL, "repository name 'shop?' has '?'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop:x", NULL, "repository name 'shop:x' has ':'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop@{1}", NULL,
	  "repository name 'shop@{1}' has '@'; use only a-z, 0-9, '.', '_' and '-'" },
	/* control bytes and odd encodings */
	{ "shop\n", NULL,
	  "repository name 'shop\\x0a' has byte \\x0a; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop\ninjected", NULL, "repository name 'shop\\x0ainjected' has byte \\x0a; use only "
				  "a-z, 0-9, '.', '_' and '-'" },
	{ "shop\r", NULL,
	  "repository name 'shop\\x0d' has byte \\x0d; use only a-z, 0-9, '.', '_' and '-'" },
	{ "\t", NULL, "repository name '\\x09' has byte \\x09; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop\033[31m", NULL, "repository name 'shop\\x1b[31m' has byte \\x1b; use only a-z, "
				"0-9, '.', '_' and '-'" },
	{ "shop\x7f", NULL,
	  "repository name 'shop\\x7f' has byte \\x7f; use only a-z, 0-9, '.', '_' and '-'" },
	{ "shop\xff", NULL,
	  "repository name 'shop\\xff' has byte \\xff; use only a-z, 0-9, '.', '_' and '-'" },
	{ "caf\xc3\xa9", NULL,
	  "repository name 'caf\\xc3\\xa9' has byte \\xc3; use only a-z, 0-9, '.', '_' and '-'" },
	/* U+0455 CYRILLIC SMALL LETTER DZE looks like 's' */
	{ "\xd1\x95hop", NULL,
	  "repository name '\\xd1\\x95hop' has byte \\xd1; use only a-z, 0-9, '.', '_' and '-'" },
	/* fullwidth solidus U+FF0F */
	{ "a\xef\xbc\x8f" "b", NULL,
	  "repository name 'a\\xef\\xbc\\x8fb' has byte \\xef; use only a-z, 0-9, '.', '_' and '-'" },
	/* case */
	{ "Shop", NULL, "repository name 'Shop' has uppercase letters; use lowercase" },
	{ "/SHOP.git", NULL, "repository name 'SHOP' has uppercase letters; use lowercase" },
	{ "shop.GIT", NULL, "repository name 'shop.GIT' has uppercase letters; use lowercase" },
	/* suffixes */
	{ "shop.git.git", NULL, "repository name 'shop.git' must not end in '.git'; drop the suffix" },
	{ "shop.", NULL, "repository name 'shop.' must not end in '.'" },
};

START_TEST(normalize)
{
	const struct norm_case *c = &norm_cases[_i];
	struct strbuf err = STRBUF_INIT;
	char *name = (char *)"unchanged";
	int rc = reponame_normalize(&name, c->in, &err);

	if (c->name) {
		ck_assert_msg(rc == 0, "'%s' refused: %s", c->in, err.buf);
		ck_assert_str_eq(name, c->name);
		ck_assert_str_eq(err.buf, "");
	} else {
		ck_assert_msg(rc == -1, "'%s' accepted", c->in);
		ck_assert_ptr_null(name);
		ck_assert_str_eq(err.buf, c->err);
	}
	free(name);
	strbuf_release(&err);
}
END_TEST

START_TEST(length_limits)
{
	char buf[REPONAME_MAX + 16];
	struct strbuf err = STRBUF_INIT;
	char *name = NULL;

	memset(buf, 'a', REPONAME_MAX);
	buf[REPONAME_MAX] = '\0';
	ck_assert_int_eq(reponame_check(buf, &err), 0);
	ck_assert_int_eq(reponame_normalize(&name, buf, &err), 0);
	ck_assert_str_eq(name, buf);
	free(name);

	/* The longest name still fits with both decorations. */
	buf[0] = '/';
	memset(buf + 1, 'a', REPONAME_MAX);
	memcpy(buf + 1 + REPONAME_MAX, ".git", 5);
	ck_assert_int_eq(reponame_normalize(&name, buf, &err), 0);
	ck_assert_uint_eq(strlen(name), REPONAME_MAX);
	free(name);

	memset(buf, 'a', REPONAME_MAX + 1);
	buf[REPONAME_MAX + 1] = '\0';
	ck_assert_int_eq(reponame_check(buf, &err), -1);
	ck_assert_str_eq(err.buf, "repository name is longer than 100 characters");
	strbuf_reset(&err);
	ck_assert_int_eq(reponame_normalize(&name, buf, &err), -1);
	ck_assert_str_eq(err.buf, "repository name is longer than 100 characters");
	strbuf_release(&err);
}
END_TEST

START_TEST(very_long_hostile_input)
{
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	char *name = NULL;

	for (int i = 0; i < 100000; i++)
		strbuf_addstr(&in, "../");
	ck_assert_int_eq(reponame_normalize(&name, in.buf, &err), -1);
	ck_assert_str_eq(err.buf, "repository name is longer than 100 characters");
	strbuf_release(&in);
	strbuf_release(&err);
}
END_TEST

START_TEST(quote_is_cut)
{
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(reponame_check("abcdefghijklmnopqrstuvwxyz0123456789abcdefghij;", &err), -1);
	ck_assert_str_eq(err.buf, "repository name 'abcdefghijklmnopqrstuvwxyz0123456789abcd'... has "
				  "';'; use only a-z, 0-9, '.', '_' and '-'");
	strbuf_release(&err);
}
END_TEST

struct pattern_case {
	const char *pattern;
	const char *err; /* NULL: valid */
};

static const struct pattern_case pattern_cases[] = {
	{ "*", NULL },
	{ "team-*", NULL },
	{ "*-staging", NULL },
	{ "app?", NULL },
	{ "app[0-9]", NULL },
	{ "app[!0-9]x", NULL },
	{ "app[^a-c_]", NULL },
	{ "[a-z]*", NULL },
	{ "app[-.]x", NULL },
	{ "shop", NULL },
	{ "", "repository name is empty; use e.g. 'shop'" },
	{ "Team-*", "repository pattern 'Team-*' has uppercase letters; use lowercase" },
	{ "team/*", "repository pattern 'team/*' has '/'; repositories do not nest" },
	{ "../*", "repository pattern '../*' has '/'; repositories do not nest" },
	{ "..*", "repository pattern '..*' has '..'" },
	{ "-*", "repository pattern '-*' must start with a letter or digit" },
	{ ".*", "repository pattern '.*' must start with a letter or digit" },
	{ "*.git", "repository pattern '*.git' must not end in '.git'; drop the suffix" },
	{ "app[", "repository pattern 'app[' has a bad [...] set; write e.g. [a-z] or [!0-9]" },
	{ "app[]", "repository pattern 'app[]' has a bad [...] set; write e.g. [a-z] or [!0-9]" },
	{ "app[!]", "repository pattern 'app[!]' has a bad [...] set; write e.g. [a-z] or [!0-9]" },
	{ "app[A-Z]", "repository pattern 'app[A-Z]' has a bad [...] set; write e.g. [a-z] or [!0-9]" },
	{ "app[*]", "repository pattern 'app[*]' has a bad [...] set; write e.g. [a-z] or [!0-9]" },
	{ "app[[:alpha:]]",
	  "repository pattern 'app[[:alpha:]]' has a bad [...] set; write e.g. [a-z] or [!0-9]" },
	{ "app]*", "repository pattern 'app]*' has ']'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "a*\\*", "repository pattern 'a*\\x5c*' has '\\'; use only a-z, 0-9, '.', '_' and '-'" },
	{ "a* b", "repository pattern 'a* b' has byte \\x20; use only a-z, 0-9, '.', '_' and '-'" },
	{ "a*{b,c}", "repository pattern 'a*{b,c}' has '{'; use only a-z, 0-9, '.', '_' and '-'" },
};

START_TEST(patterns)
{
	const struct pattern_case *c = &pattern_cases[_i];
	struct strbuf err = STRBUF_INIT;
	int rc = reponame_check_pattern(c->pattern, &err);

	if (!c->err) {
		ck_assert_msg(rc == 0, "'%s' refused: %s", c->pattern, err.buf);
	} else {
		ck_assert_msg(rc == -1, "'%s' accepted", c->pattern);
		ck_assert_str_eq(err.buf, c->err);
	}
	strbuf_release(&err);
}
END_TEST

START_TEST(matching)
{
	ck_assert_int_eq(reponame_is_pattern("shop"), 0);
	ck_assert_int_eq(reponame_is_pattern("team-*"), 1);
	ck_assert_int_eq(reponame_is_pattern("a?"), 1);
	ck_assert_int_eq(reponame_is_pattern("a[b]"), 1);

	ck_assert_int_eq(reponame_match("shop", "shop"), 1);
	ck_assert_int_eq(reponame_match("shop", "shops"), 0);
	ck_assert_int_eq(reponame_match("team-*", "team-a"), 1);
	ck_assert_int_eq(reponame_match("team-*", "team-"), 1);
	ck_assert_int_eq(reponame_match("team-*", "team"), 0);
	ck_assert_int_eq(reponame_match("team-*", "xteam-a"), 0);
	ck_assert_int_eq(reponame_match("*", "gitd-admin"), 1);
	ck_assert_int_eq(reponame_match("app?", "app1"), 1);
	ck_assert_int_eq(reponame_match("app?", "app12"), 0);
	ck_assert_int_eq(reponame_match("app[0-9]", "app7"), 1);
	ck_assert_int_eq(reponame_match("app[0-9]", "appx"), 0);
	ck_assert_int_eq(reponame_match("app[!0-9]", "appx"), 1);
	ck_assert_int_eq(reponame_match("app[!0-9]", "app7"), 0);
}
END_TEST

START_TEST(user_names)
{
	struct strbuf err = STRBUF_INIT;
	char buf[USERNAME_MAX + 2];

	ck_assert_int_eq(reponame_check_user("alice", &err), 0);
	ck_assert_int_eq(reponame_check_user("ci.bot_2-x", &err), 0);
	ck_assert_int_eq(reponame_check_user("bob.git", &err), 0);
	memset(buf, 'u', USERNAME_MAX);
	buf[USERNAME_MAX] = '\0';
	ck_assert_int_eq(reponame_check_user(buf, &err), 0);
	ck_assert_str_eq(err.buf, "");

	buf[USERNAME_MAX] = 'u';
	buf[USERNAME_MAX + 1] = '\0';
	ck_assert_int_eq(reponame_check_user(buf, &err), -1);
	ck_assert_str_eq(err.buf, "user name is longer than 64 characters");
	strbuf_reset(&err);
	ck_assert_int_eq(reponame_check_user("", &err), -1);
	ck_assert_str_eq(err.buf, "user name is empty; use e.g. 'alice'");
	strbuf_reset(&err);
	ck_assert_int_eq(reponame_check_user("../alice", &err), -1);
	ck_assert_str_eq(err.buf, "user name '../alice' has '/'");
	strbuf_reset(&err);
	ck_assert_int_eq(reponame_check_user("Alice", &err), -1);
	ck_assert_str_eq(err.buf, "user name 'Alice' has uppercase letters; use lowercase");
	strbuf_reset(&err);
	ck_assert_int_eq(reponame_check_user("*", &err), -1);
	ck_assert_str_eq(err.buf, "user name '*' has '*'; use only a-z, 0-9, '.', '_' and '-'");
	strbuf_reset(&err);
	ck_assert_int_eq(reponame_check_user("a b", &err), -1);
	ck_assert_str_eq(err.buf,
			 "user name 'a b' has byte \\x20; use only a-z, 0-9, '.', '_' and '-'");
	strbuf_release(&err);
}
END_TEST

static Suite *reponame_suite(void)
{
	Suite *s = suite_create("reponame");
	TCase *tc = tcase_create("reponame");

	tcase_add_loop_test(tc, normalize, 0, ARRAY_SIZE(norm_cases));
	tcase_add_test(tc, length_limits);
	tcase_add_test(tc, very_long_hostile_input);
	tcase_add_test(tc, quote_is_cut);
	tcase_add_loop_test(tc, patterns, 0, ARRAY_SIZE(pattern_cases));
	tcase_add_test(tc, matching);
	tcase_add_test(tc, user_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(reponame_suite());
}
