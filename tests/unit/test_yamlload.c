#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"
#include "util.h"
#include "yamlload.h"
#include "yamlscalar.h"
#include "unit.h"
#include "banned.h"

static struct diags *d;
static struct ydoc *doc;
static char *printed;

static void setup(void)
{
	d = diags_new();
	doc = NULL;
	printed = NULL;
}

static void teardown(void)
{
	ydoc_free(doc);
	diags_free(d);
	free(printed);
}

/* Load len bytes of text as t.yaml with limits (NULL: defaults), forgetting the last load. */
static int load_n(const char *text, size_t len, const struct ylimits *lim)
{
	ydoc_free(doc);
	doc = NULL;
	diags_free(d);
	d = diags_new();
	return ydoc_load(&doc, "t.yaml", text, len, lim, d);
}

static int load(const char *text)
{
	return load_n(text, strlen(text), NULL);
}

static int load_lim(const char *text, const struct ylimits *lim)
{
	return load_n(text, strlen(text), lim);
}

/* The problems of the last load as printed; "" when none. */
static const char *problems(void)
{
	size_t len = 0;
	FILE *f;

	free(printed);
	printed = NULL;
	f = open_memstream(&printed, &len);
	diags_print(d, f);
	fclose(f);
	return printed;
}

/* Load text, which must succeed without problems; its first document. */
static json_t *root_of(const char *text)
{
	int rc = load(text);

	ck_assert_msg(rc == 0, "loading %s failed: %s", text, problems());
	ck_assert_str_eq(problems(), "");
	ck_assert_uint_ge(ydoc_count(doc), 1);
	return ydoc_root(doc, 0);
}

static const char *dump(const json_t *v)
{
	free(printed);
	printed = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return printed;
}

/* The first document of text, as compact JSON. */
static const char *as_json(const char *text)
{
	return dump(root_of(text));
}

/* The value of `v: text`, as compact JSON. */
static const char *value_of(const char *text)
{
	char *yaml = xstrfmt("v: %s\n", text);
	json_t *root = root_of(yaml);

	free(yaml);
	return dump(json_object_get(root, "v"));
}

/* The source recorded for the value of `v: text`, or "(none)". */
static const char *source_of(const char *text)
{
	char *yaml = xstrfmt("v: %s\n", text);
	const struct ymember *m = ydoc_member(doc, root_of(yaml), "v");

	free(yaml);
	ck_assert_ptr_nonnull(m);
	return m->source ? m->source : "(none)";
}

/* Load text; it must fail with exactly the problems expected, as printed. */
static void assert_fails(const char *text, const char *expected)
{
	int rc = load(text);

	ck_assert_msg(rc == -1, "loading %s succeeded", text);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(problems(), expected);
}

/* CPU time of this thread in milliseconds: unlike the wall clock, a busy machine does not inflate it. */
static int64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define ck_assert_pos(p, l, c)                  \
	do {                                    \
		struct ypos p_ = (p);           \
		ck_assert_uint_eq(p_.line, (l)); \
		ck_assert_uint_eq(p_.col, (c));  \
	} while (0)

/* ---- positions ---- */

START_TEST(test_positions_block)
{
	json_t *root = root_of("# a comment\n"
			       "name: hello\n"
			       "spec:\n"
			       "  replicas:   3\n"
			       "  ports:\n"
			       "    - 80\n"
			       "    -   name: http\n"
			       "        port: 8080\n");
	json_t *spec = json_object_get(root, "spec");
	json_t *ports = json_object_get(spec, "ports");
	json_t *second = json_array_get(ports, 1);
	const struct ymember *m;

	ck_assert_pos(ydoc_root_pos(doc, 0), 2, 1);
	ck_assert_pos(ydoc_pos(doc, root), 2, 1);
	m = ydoc_member(doc, root, "name");
	ck_assert_pos(m->key, 2, 1);
	ck_assert_pos(m->value, 2, 7);
	ck_assert_ptr_null(m->source);
	ck_assert_ptr_null(m->key_source);
	m = ydoc_member(doc, root, "spec");
	ck_assert_pos(m->key, 3, 1);
	ck_assert_pos(m->value, 4, 3);
	ck_assert_pos(ydoc_pos(doc, spec), 4, 3);
	m = ydoc_member(doc, spec, "replicas");
	ck_assert_pos(m->key, 4, 3);
	ck_assert_pos(m->value, 4, 15);
	ck_assert_pos(ydoc_pos(doc, ports), 6, 5);
	m = ydoc_item(doc, ports, 0);
	ck_assert_pos(m->key, 0, 0);
	ck_assert_pos(m->value, 6, 7);
	m = ydoc_item(doc, ports, 1);
	ck_assert_pos(m->value, 7, 9);
	ck_assert_pos(ydoc_pos(doc, second), 7, 9);
	m = ydoc_member(doc, second, "port");
	ck_assert_pos(m->key, 8, 9);
	ck_assert_pos(m->value, 8, 15);
	ck_assert_ptr_null(ydoc_item(doc, ports, 2));
	ck_assert_ptr_null(ydoc_member(doc, root, "missing"));
	ck_assert_ptr_null(ydoc_member(doc, spec, "name"));
	ck_assert_str_eq(ydoc_file(doc), "t.yaml");
}
END_TEST

START_TEST(test_positions_flow_and_quotes)
{
	json_t *root = root_of("a: {x: 1, 'y': \"two\"}\nb: [ true, [null] ]\n");
	json_t *a = json_object_get(root, "a"), *b = json_object_get(root, "b");
	const struct ymember *m;

	ck_assert_pos(ydoc_pos(doc, a), 1, 4);
	m = ydoc_member(doc, a, "x");
	ck_assert_pos(m->key, 1, 5);
	ck_assert_pos(m->value, 1, 8);
	m = ydoc_member(doc, a, "y");
	ck_assert_pos(m->key, 1, 11);
	ck_assert_pos(m->value, 1, 16);
	ck_assert_pos(ydoc_pos(doc, b), 2, 4);
	ck_assert_pos(ydoc_item(doc, b, 0)->value, 2, 6);
	ck_assert_pos(ydoc_item(doc, b, 1)->value, 2, 12);
	ck_assert_pos(ydoc_item(doc, json_array_get(b, 1), 0)->value, 2, 13);
}
END_TEST

START_TEST(test_positions_count_characters)
{
	/* Columns count characters; a BOM and CRLF line ends do not shift them. */
	json_t *root = root_of("\xef\xbb\xbf"
			       "k\xc3\xa9y: \xe2\x82\xac\xe2\x82\xac x\r\n"
			       "next: 1\r\n");

	ck_assert_pos(ydoc_member(doc, root, "k\xc3\xa9y")->key, 1, 1);
	ck_assert_pos(ydoc_member(doc, root, "k\xc3\xa9y")->value, 1, 6);
	ck_assert_pos(ydoc_member(doc, root, "next")->key, 2, 1);
	ck_assert_pos(ydoc_member(doc, root, "next")->value, 2, 7);
}
END_TEST

START_TEST(test_positions_after_modification)
{
	json_t *root = root_of("meta:\n  name: a\nspec:\n  list: [1, 2]\n");
	json_t *meta = json_object_get(root, "meta");
	json_t *spec = json_object_get(root, "spec");
	json_t *fresh[64];

	/* The caller drops a subtree and adds new values. */
	json_incref(meta);
	json_object_del(root, "meta");
	json_decref(meta);
	json_object_set_new(root, "added", json_string("x"));
	json_array_append_new(json_object_get(spec, "list"), json_integer(3));
	for (size_t i = 0; i < ARRAY_SIZE(fresh); i++)
		fresh[i] = json_object();

	/* What was loaded keeps its positions; the ydoc's references keep meta alive. */
	ck_assert_pos(ydoc_pos(doc, meta), 2, 3);
	ck_assert_pos(ydoc_member(doc, meta, "name")->value, 2, 9);
	ck_assert_pos(ydoc_member(doc, root, "spec")->key, 3, 1);
	ck_assert_pos(ydoc_item(doc, json_object_get(spec, "list"), 1)->value, 4, 13);
	/* What was added has none, and new objects never take a loaded one's address. */
	ck_assert_ptr_null(ydoc_member(doc, root, "added"));
	ck_assert_ptr_null(ydoc_item(doc, json_object_get(spec, "list"), 2));
	for (size_t i = 0; i < ARRAY_SIZE(fresh); i++) {
		ck_assert_uint_eq(ydoc_pos(doc, fresh[i]).line, 0);
		json_decref(fresh[i]);
	}
	ck_assert_uint_eq(ydoc_pos(doc, NULL).line, 0);
	ck_assert_ptr_null(ydoc_member(doc, NULL, "x"));
}
END_TEST

/* ---- scalars ---- */

static const struct {
	const char *yaml;
	const char *json;
} scalars[] = {
	/* booleans, every spelling go-yaml v2 accepts */
	{ "y", "true" }, { "Y", "true" }, { "yes", "true" }, { "Yes", "true" }, { "YES", "true" },
	{ "true", "true" }, { "True", "true" }, { "TRUE", "true" }, { "on", "true" },
	{ "On", "true" }, { "ON", "true" }, { "n", "false" }, { "N", "false" }, { "no", "false" },
	{ "No", "false" }, { "NO", "false" }, { "false", "false" }, { "False", "false" },
	{ "FALSE", "false" }, { "off", "false" }, { "Off", "false" }, { "OFF", "false" },
	/* ... and near misses, which are strings */
	{ "yES", "\"yES\"" }, { "oN", "\"oN\"" }, { "tRUE", "\"tRUE\"" }, { "yes please", "\"yes please\"" },
	/* null */
	{ "~", "null" }, { "null", "null" }, { "Null", "null" }, { "NULL", "null" }, { "", "null" },
	{ "nULL", "\"nULL\"" },
	/* integers: Go's ParseInt(s, 0, 64) after removing "_" */
	{ "0", "0" }, { "-0", "0" }, { "+12", "12" }, { "-12", "-12" }, { "012", "10" },
	{ "-010", "-8" }, { "0o17", "15" }, { "0O17", "15" }, { "0x1F", "31" }, { "0X1f", "31" },
	{ "-0x10", "-16" }, { "0b101", "5" }, { "0B11", "3" }, { "-0b11", "-3" },
	{ "1_000", "1000" }, { "0x_1F", "31" }, { "1__0_", "10" },
	{ "9223372036854775807", "9223372036854775807" },
	{ "-9223372036854775808", "-9223372036854775808" },
	/* floats; integral ones are integers in the JSON Kubernetes sees */
	{ "1.5", "1.5" }, { "-1.5", "-1.5" }, { "+.5", "0.5" }, { ".5", "0.5" }, { "-.25", "-0.25" },
	{ "1.", "1" }, { "1e3", "1000" }, { "1E+3", "1000" }, { "2.5e-1", "0.25" }, { "1.0", "1" },
	{ "1_000.5", "1000.5" }, { ".2_5", "0.25" }, { "08", "8" }, { "019", "19" }, { "0.0", "0" },
	{ "99999999999999999999", "1e20" }, { "-9223372036854775809", "-9223372036854775808" },
	/* strings that look like something else */
	{ "1e400", "\"1e400\"" }, { ".5e999", "\".5e999\"" }, { "0x", "\"0x\"" }, { "0b2", "\"0b2\"" },
	{ "1e", "\"1e\"" }, { "1:20", "\"1:20\"" }, { "2001-12-14", "\"2001-12-14\"" },
	{ "2001-12-14t21:59:43.10-05:00", "\"2001-12-14t21:59:43.10-05:00\"" }, { "1.2.3", "\"1.2.3\"" },
	{ ".Nan", "\".Nan\"" }, { "-inf", "\"-inf\"" }, { "inf", "\"inf\"" }, { "_1", "\"_1\"" },
	{ "._5", "\"._5\"" }, { "+", "\"+\"" }, { ".", "\".\"" }, { "<<", "\"<<\"" },
	{ "-0x1FFFFFFFFFFFFFFFFF", "\"-0x1FFFFFFFFFFFFFFFFF\"" }, { "12abc", "\"12abc\"" },
	/* quoted and block scalars are strings */
	{ "\"yes\"", "\"yes\"" }, { "'12'", "\"12\"" }, { "\"\"", "\"\"" }, { "''", "\"\"" },
	{ "\"~\"", "\"~\"" }, { "|\n  on\n", "\"on\\n\"" }, { ">-\n  1\n  2\n", "\"1 2\"" },
	{ "\"a\\tb\\u00e9\"", "\"a\\tb\xc3\xa9\"" },
	/* tags */
	{ "!!str 12", "\"12\"" }, { "!!str yes", "\"yes\"" }, { "!!str", "\"\"" },
	{ "!<tag:yaml.org,2002:str> 1", "\"1\"" }, { "! 12", "\"12\"" }, { "!!int \"12\"", "12" },
	{ "!!int 0x10", "16" }, { "!!float 3", "3" }, { "!!float \"2.5\"", "2.5" },
	{ "!!bool \"yes\"", "true" }, { "!!bool off", "false" }, { "!!null \"\"", "null" },
	{ "!!null ~", "null" }, { "!!map {a: 1}", "{\"a\":1}" }, { "!!seq [1]", "[1]" },
	{ "! {a: 1}", "{\"a\":1}" },
};

START_TEST(test_scalars)
{
	for (size_t i = 0; i < ARRAY_SIZE(scalars); i++) {
		const char *got = value_of(scalars[i].yaml);

		ck_assert_msg(!strcmp(got, scalars[i].json), "`%s` gave %s, not %s", scalars[i].yaml, got,
			      scalars[i].json);
	}
}
END_TEST

START_TEST(test_scalar_kinds)
{
	json_t *root = root_of("a: 1.5\nb: 1.0\nc: 99999999999999999999\nd: 12\n");

	ck_assert(json_is_real(json_object_get(root, "a")));
	ck_assert(json_is_integer(json_object_get(root, "b")));
	ck_assert(json_is_real(json_object_get(root, "c")));
	ck_assert(json_real_value(json_object_get(root, "c")) == 1e20);
	ck_assert(json_is_integer(json_object_get(root, "d")));
}
END_TEST

START_TEST(test_sources)
{
	static const struct {
		const char *yaml, *source;
	} cases[] = {
		{ "yes", "yes" }, { "No", "No" }, { "ON", "ON" }, { "off", "off" }, { "y", "y" },
		{ "N", "N" }, { "010", "010" }, { "-0755", "-0755" }, { "00", "00" }, { "1_000", "1_000" },
		{ "1_0.5", "1_0.5" }, { ".2_5", ".2_5" },
		{ "true", "(none)" }, { "False", "(none)" }, { "12", "(none)" }, { "0", "(none)" },
		{ "0x1F", "(none)" }, { "0o17", "(none)" }, { "08", "(none)" }, { "1.5", "(none)" },
		{ "~", "(none)" }, { "\"yes\"", "(none)" }, { "!!bool yes", "(none)" },
		{ "!!int 010", "(none)" }, { "hello", "(none)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = source_of(cases[i].yaml);

		ck_assert_msg(!strcmp(got, cases[i].source), "`%s` has source %s, not %s", cases[i].yaml,
			      got, cases[i].source);
	}
	/* Items record it too. */
	root_of("- on\n- 2\n");
	ck_assert_str_eq(ydoc_item(doc, ydoc_root(doc, 0), 0)->source, "on");
	ck_assert_ptr_null(ydoc_item(doc, ydoc_root(doc, 0), 1)->source);
}
END_TEST

START_TEST(test_scalar_errors)
{
	assert_fails("a: .inf\nb: -.Inf\nc: .NaN\n",
		     "t.yaml:1:4: error: \".inf\" is infinite, which JSON cannot hold; quote it if it is text"
		     " [yaml]\n"
		     "t.yaml:2:4: error: \"-.Inf\" is infinite, which JSON cannot hold; quote it if it is text"
		     " [yaml]\n"
		     "t.yaml:3:4: error: \".NaN\" is NaN (not a number), which JSON cannot hold; quote it if"
		     " it is text [yaml]\n");
	assert_fails("a: !!float .inf\n",
		     "t.yaml:1:4: error: \".inf\" is infinite, which JSON cannot hold; quote it if it is text"
		     " [yaml]\n");
	assert_fails("a: !!int foo\nb: !!null 0\nc: !!bool 1\nd: !!int 1.5\n",
		     "t.yaml:1:4: error: \"foo\" is not a valid !!int value [yaml]\n"
		     "t.yaml:2:4: error: \"0\" is not a valid !!null value [yaml]\n"
		     "t.yaml:3:4: error: \"1\" is not a valid !!bool value [yaml]\n"
		     "t.yaml:4:4: error: \"1.5\" is not a valid !!int value [yaml]\n");
	assert_fails("a: !foo x\nb: !!set {a: 1}\nc: !!binary aGk=\nd: !!timestamp 2001-12-14\n",
		     "t.yaml:1:4: error: the tag !foo is unknown; only !!str, !!int, !!float, !!bool, !!null,"
		     " !!map and !!seq are supported [yaml]\n"
		     "t.yaml:2:4: error: the tag !!set cannot be used on a mapping; only !!map is allowed"
		     " there [yaml]\n"
		     "t.yaml:3:4: error: the tag !!binary is not supported by Kubernetes' YAML reader; remove"
		     " it and write the value as a plain string [yaml]\n"
		     "t.yaml:4:4: error: the tag !!timestamp is not supported by Kubernetes' YAML reader;"
		     " remove it and write the value as a plain string [yaml]\n");
	assert_fails("a: !!map x\nb: !!str [1]\n",
		     "t.yaml:1:4: error: the tag !!map cannot be used on a scalar [yaml]\n"
		     "t.yaml:2:4: error: the tag !!str cannot be used on a list; only !!seq is allowed there"
		     " [yaml]\n");
	assert_fails("a: \"x\\0y\"\n",
		     "t.yaml:1:4: error: a NUL character (an escape such as \\0 or \\x00) is not allowed in a"
		     " string [yaml]\n");
}
END_TEST

START_TEST(test_integer_range)
{
	/* go-yaml gives a uint64 or a big.Int here: a JSON integer of ours cannot hold either. */
	assert_fails("a: 9223372036854775808\n",
		     "t.yaml:1:4: error: integer \"9223372036854775808\" does not fit in 64 bits"
		     " (-9223372036854775808 to 9223372036854775807); quote it if it is not a number [yaml]\n");
	ck_assert_int_eq(load("a: 18446744073709551615\nb: 0x1FFFFFFFFFFFFFFFF\nc: 0b1_0000000000000000"
			      "000000000000000000000000000000000000000000000000\n"),
			 -1);
	ck_assert_uint_eq(diags_nr(d), 3);
	ck_assert_uint_eq(diags_get(d, 2)->line, 3);
	/* Where go-yaml falls back to a float, so does the loader. */
	ck_assert_str_eq(value_of("-99999999999999999999"), "-1e20");
	ck_assert_str_eq(value_of("077777777777777777777777"), "7.7777777777777773e22");
}
END_TEST

/* ---- keys ---- */

START_TEST(test_key_conversion)
{
	static const struct {
		const char *yaml, *key, *key_source;
	} cases[] = {
		{ "true", "true", NULL },     { "on", "true", "on" },          { "Yes", "true", "Yes" },
		{ "y", "true", "y" },         { "False", "false", "False" },   { "NO", "false", "NO" },
		{ "1", "1", NULL },           { "-1", "-1", NULL },            { "+1", "1", "+1" },
		{ "0x10", "16", "0x10" },     { "010", "8", "010" },           { "1_000", "1000", "1_000" },
		{ "1.5", "1.5", NULL },       { "1.0", "1", "1.0" },           { "1e6", "1e+06", "1e6" },
		{ "100000.0", "100000", "100000.0" }, { "0.0001", "0.0001", NULL },
		{ "0.00001", "1e-05", "0.00001" }, { "3.14159265358979", "3.1415927", "3.14159265358979" },
		{ "-0.0", "-0", "-0.0" },     { "1e40", ".inf", "1e40" },      { ".inf", ".inf", NULL },
		{ "-.INF", "-.inf", "-.INF" }, { ".NaN", ".nan", ".NaN" },     { "\"on\"", "on", NULL },
		{ "'1'", "1", NULL },         { "!!str on", "on", NULL },      { "2001-12-14", "2001-12-14", NULL },
		{ "!!int \"7\"", "7", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *yaml = xstrfmt("%s: x\n", cases[i].yaml);
		json_t *root = root_of(yaml);
		const struct ymember *m = ydoc_member(doc, root, cases[i].key);

		ck_assert_msg(m != NULL, "`%s` did not become key %s but %s", cases[i].yaml, cases[i].key,
			      dump(root));
		ck_assert_str_eq(json_string_value(json_object_get(root, cases[i].key)), "x");
		if (cases[i].key_source)
			ck_assert_pstr_eq(m->key_source, cases[i].key_source);
		else
			ck_assert_msg(!m->key_source, "`%s` has key_source %s", cases[i].yaml, m->key_source);
		ck_assert_pos(m->key, 1, 1);
		free(yaml);
	}
}
END_TEST

START_TEST(test_bad_keys)
{
	assert_fails("~: 1\nnull: 2\nx:\n  ?\n  : 3\n",
		     "t.yaml:1:1: error: the key \"~\" is null, and a mapping key must be a string; quote it if"
		     " it is text [yaml]\n"
		     "t.yaml:2:1: error: the key \"null\" is null, and a mapping key must be a string; quote it if"
		     " it is text [yaml]\n"
		     "t.yaml:4:4: error: a mapping key is empty, and a mapping key must be a string [yaml]\n");
	assert_fails("? [a, b]\n: 1\n? {x: 1}\n: 2\nok: 3\n",
		     "t.yaml:1:3: error: a list cannot be a mapping key: Kubernetes needs keys that are strings"
		     " [yaml]\n"
		     "t.yaml:3:3: error: a mapping cannot be a mapping key: Kubernetes needs keys that are"
		     " strings [yaml]\n");
	assert_fails("a: &l [1]\n*l : 2\n",
		     "t.yaml:2:1: error: a list cannot be a mapping key: Kubernetes needs keys that are strings"
		     " [yaml]\n");
}
END_TEST

START_TEST(test_duplicate_keys)
{
	assert_fails("x: 1\ny: 2\nx: 3\n",
		     "t.yaml:3:1: error: duplicate key \"x\" (first at line 1) [yaml]\n");
	/* Keys are compared after they become strings, as in the JSON Kubernetes gets. */
	assert_fails("1: a\n\"1\": b\non: c\ntrue: d\n",
		     "t.yaml:2:1: error: duplicate key \"1\" (first at line 1) [yaml]\n"
		     "t.yaml:4:1: error: duplicate key \"true\" (first at line 3) [yaml]\n");
	assert_fails("m: {a: 1,\n    a: 2}\n",
		     "t.yaml:2:5: error: duplicate key \"a\" (first at line 1) [yaml]\n");
	/* The same key in different mappings is fine. */
	ck_assert_str_eq(as_json("a: {x: 1}\nb: {x: 2}\n"), "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
}
END_TEST

START_TEST(test_many_keys)
{
	/* A big mapping: duplicate detection must not be quadratic, and must still work at the end. */
	struct strbuf sb = STRBUF_INIT;
	int64_t start;

	for (int i = 0; i < 100000; i++)
		strbuf_addf(&sb, "k%d: %d\n", i, i);
	start = cpu_ms();
	ck_assert_int_eq(load_n(sb.buf, sb.len, NULL), 0);
	ck_assert_int_lt(cpu_ms() - start, 2000);
	ck_assert_uint_eq(json_object_size(ydoc_root(doc, 0)), 100000);
	ck_assert_pos(ydoc_member(doc, ydoc_root(doc, 0), "k99999")->value, 100000, 9);
	strbuf_addstr(&sb, "k5: again\n");
	ck_assert_int_eq(load_n(sb.buf, sb.len, NULL), -1);
	ck_assert_str_eq(problems(), "t.yaml:100001:1: error: duplicate key \"k5\" (first at line 6) [yaml]\n");
	strbuf_release(&sb);
}
END_TEST

/* ---- anchors, aliases, merge keys ---- */

START_TEST(test_aliases)
{
	json_t *root = root_of("base: &b\n"
			       "  name: x\n"
			       "  list: [1, 2]\n"
			       "copy: *b\n"
			       "word: &w yes\n"
			       "again: *w\n"
			       "more:\n"
			       "  - *w\n");
	json_t *base = json_object_get(root, "base"), *copy = json_object_get(root, "copy");
	const struct ymember *m;

	ck_assert_str_eq(dump(copy), "{\"name\":\"x\",\"list\":[1,2]}");
	ck_assert_ptr_ne(base, copy);
	ck_assert_ptr_ne(json_object_get(base, "list"), json_object_get(copy, "list"));
	/*
	 * The member holding the alias is where the alias is; the copy answers
	 * with the anchored node's positions (a node starts at its anchor).
	 */
	ck_assert_pos(ydoc_pos(doc, base), 1, 7);
	m = ydoc_member(doc, root, "copy");
	ck_assert_pos(m->key, 4, 1);
	ck_assert_pos(m->value, 4, 7);
	ck_assert_pos(ydoc_pos(doc, copy), 1, 7);
	ck_assert_pos(ydoc_member(doc, copy, "name")->value, 2, 9);
	ck_assert_pos(ydoc_item(doc, json_object_get(copy, "list"), 1)->value, 3, 13);
	/* A scalar alias keeps the anchor's source text. */
	ck_assert(json_is_true(json_object_get(root, "again")));
	ck_assert_str_eq(ydoc_member(doc, root, "again")->source, "yes");
	ck_assert_pos(ydoc_member(doc, root, "again")->value, 6, 8);
	ck_assert_str_eq(ydoc_item(doc, json_object_get(root, "more"), 0)->source, "yes");
	/* Copies are independent values. */
	json_object_set_new(copy, "name", json_string("changed"));
	ck_assert_str_eq(json_string_value(json_object_get(base, "name")), "x");
}
END_TEST

START_TEST(test_alias_details)
{
	/* A later anchor of the same name wins, as in go-yaml. */
	ck_assert_str_eq(as_json("a: &x 1\nb: &x 2\nc: *x\n"), "{\"a\":1,\"b\":2,\"c\":2}");
	/* An alias can be a key; it is converted like the anchored scalar. */
	ck_assert_str_eq(as_json("a: &k on\n*k : 2\n"), "{\"a\":true,\"true\":2}");
	ck_assert_str_eq(ydoc_member(doc, ydoc_root(doc, 0), "true")->key_source, "on");
	/* An anchored key can be used as a value. */
	ck_assert_str_eq(as_json("&k 010: a\nb: *k\n"), "{\"8\":\"a\",\"b\":8}");
	/* Anchors do not cross documents. */
	ck_assert_int_eq(load("a: &x 1\n---\nb: *x\n"), -1);
	ck_assert_str_eq(problems(), "t.yaml:3:4: error: alias *x has no anchor &x before it in this document"
				     " [yaml]\n");
	assert_fails("a: *nope\n",
		     "t.yaml:1:4: error: alias *nope has no anchor &nope before it in this document [yaml]\n");
	assert_fails("a: &r\n  b: [*r]\n",
		     "t.yaml:2:7: error: alias *r is inside the node it refers to (&r at line 1); YAML cannot"
		     " describe a structure that contains itself [yaml]\n");
	/* The last anchor before the alias counts, even an open one... */
	assert_fails("a: &r 1\nb: &r [*r]\n",
		     "t.yaml:2:8: error: alias *r is inside the node it refers to (&r at line 2); YAML cannot"
		     " describe a structure that contains itself [yaml]\n");
	/* ... and a complete one inside it is later still. */
	ck_assert_str_eq(as_json("a: &r [&r 1, *r]\n"), "{\"a\":[1,1]}");
	/* An infinite float is reported where it is written and where an alias uses it. */
	assert_fails("a: &i .inf\nb: *i\n",
		     "t.yaml:1:4: error: \".inf\" is infinite, which JSON cannot hold; quote it if it is text"
		     " [yaml]\n"
		     "t.yaml:2:4: error: \".inf\" is infinite, which JSON cannot hold; quote it if it is text"
		     " [yaml]\n");
}
END_TEST

START_TEST(test_merge_keys)
{
	json_t *root = root_of("base: &b {name: b, port: 80}\n"
			       "more: &m {port: 81, extra: 1}\n"
			       "one:\n"
			       "  <<: *b\n"
			       "  port: 8080\n"
			       "list:\n"
			       "  <<: [*m, *b]\n"
			       "inline:\n"
			       "  <<: {a: 1}\n"
			       "  b: 2\n");
	json_t *one = json_object_get(root, "one"), *list = json_object_get(root, "list");

	ck_assert_str_eq(dump(one), "{\"name\":\"b\",\"port\":8080}");
	/* Earlier sources in a list win. */
	ck_assert_str_eq(dump(list), "{\"name\":\"b\",\"port\":81,\"extra\":1}");
	ck_assert_str_eq(dump(json_object_get(root, "inline")), "{\"a\":1,\"b\":2}");
	/* Merged members answer with the positions where they were written. */
	ck_assert_pos(ydoc_member(doc, one, "name")->key, 1, 11);
	ck_assert_pos(ydoc_member(doc, one, "name")->value, 1, 17);
	ck_assert_pos(ydoc_member(doc, one, "port")->key, 5, 3);
	ck_assert_pos(ydoc_member(doc, list, "port")->value, 2, 17);
	ck_assert_pos(ydoc_member(doc, list, "name")->key, 1, 11);
	ck_assert_ptr_null(ydoc_member(doc, one, "<<"));
	/* Changing a merged value leaves the anchor alone. */
	json_object_set_new(one, "name", json_string("c"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "base"), "name")), "b");
	/* Quoted "<<" is an ordinary key. */
	ck_assert_str_eq(as_json("\"<<\": 1\n"), "{\"<<\":1}");
	ck_assert_str_eq(as_json("a: &a {x: 1}\nb: {!!merge <<: *a}\n"),
			 "{\"a\":{\"x\":1},\"b\":{\"x\":1}}");
}
END_TEST

START_TEST(test_merge_order)
{
	/* go-yaml v2 applies << in document order: a key before it is overridden, with a warning. */
	ck_assert_int_eq(load("a: &a {x: 1, z: 1}\nb:\n  x: 2\n  <<: *a\n"), 0);
	ck_assert_str_eq(dump(ydoc_root(doc, 0)), "{\"a\":{\"x\":1,\"z\":1},\"b\":{\"x\":1,\"z\":1}}");
	ck_assert_str_eq(problems(),
			 "t.yaml:3:3: warning: the merge (<<) at line 4 replaces the value of key \"x\" set here,"
			 " because Kubernetes applies << in order; put << before the keys that should override it"
			 " [yaml]\n");
	/* A key written twice is a duplicate even with a merge between. */
	assert_fails("a: &a {x: 1}\nb:\n  x: 2\n  <<: *a\n  x: 3\n",
		     "t.yaml:3:3: warning: the merge (<<) at line 4 replaces the value of key \"x\" set here,"
		     " because Kubernetes applies << in order; put << before the keys that should override it"
		     " [yaml]\n"
		     "t.yaml:5:3: error: duplicate key \"x\" (first at line 3) [yaml]\n");
}
END_TEST

START_TEST(test_merge_errors)
{
	assert_fails("a: &s x\nb:\n  <<: *s\n",
		     "t.yaml:3:7: error: the value of a merge key (<<) must be a mapping, an alias of one, or a"
		     " list of them [yaml]\n");
	assert_fails("a: &s x\nb:\n  <<: [*s]\n",
		     "t.yaml:3:8: error: an item of a merge key (<<) list must be a mapping, an alias of one, or"
		     " a list of them [yaml]\n");
	assert_fails("a: {x: 1}\nb:\n  <<: {y: 1}\n  <<: {z: 1}\n",
		     "t.yaml:4:3: error: duplicate key \"<<\" (first at line 3) [yaml]\n");
	assert_fails("a: !!merge x\n",
		     "t.yaml:1:4: error: the tag !!merge can only mark a merge key (<<) [yaml]\n");
}
END_TEST

/* ---- limits ---- */

static char *billion_laughs(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (char c = 'b'; c <= 'i'; c++) {
		strbuf_addf(&sb, "%c: &%c [", c, c);
		for (int i = 0; i < 9; i++)
			strbuf_addf(&sb, "%s*%c", i ? "," : "", c - 1);
		strbuf_addstr(&sb, "]\n");
	}
	return strbuf_detach(&sb, NULL);
}

START_TEST(test_billion_laughs)
{
	char *bomb = billion_laughs();
	int64_t start = cpu_ms();

	/* Refused after counting a few thousand nodes, long before expanding 10^9 of them. */
	ck_assert_int_eq(load(bomb), -1);
	ck_assert_int_lt(cpu_ms() - start, 50);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(problems(),
			 "t.yaml:4:17: error: alias *c makes the document almost entirely alias expansions (4630 of"
			 " 4670 nodes); Kubernetes refuses such \"excessive aliasing\", a known attack (\"billion"
			 " laughs\") [yaml]\n");
	ck_assert_str_eq(diags_get(d, 0)->rule, "yaml");
	free(bomb);
}
END_TEST

START_TEST(test_node_limit)
{
	struct ylimits lim = YLIMITS_DEFAULT;

	/* Aliases are counted before they are copied. */
	lim.max_nodes = 50;
	ck_assert_int_eq(load_lim("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: *a\nc: *a\nd: *a\n", &lim), -1);
	ck_assert_str_eq(problems(),
			 "t.yaml:4:4: error: alias *a would expand the file to more than 50 nodes; refusing it,"
			 " since aliases that multiply like this are a known attack (\"billion laughs\") [yaml]\n");
	/* Plain nodes count too, across documents. */
	lim.max_nodes = 5;
	ck_assert_int_eq(load_lim("[1, 2]\n--- [3, 4]\n", &lim), -1);
	ck_assert_str_eq(problems(), "t.yaml:2:9: error: the file has more than 5 nodes; split it into smaller"
				     " files [yaml]\n");
	lim.max_nodes = 6;
	ck_assert_int_eq(load_lim("[1, 2]\n--- [3, 4]\n", &lim), 0);
}
END_TEST

START_TEST(test_depth_limit)
{
	struct strbuf sb = STRBUF_INIT;
	struct ylimits lim = YLIMITS_DEFAULT;

	for (int i = 0; i < 100; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 100; i++)
		strbuf_addch(&sb, ']');
	ck_assert_int_eq(load_n(sb.buf, sb.len, NULL), 0);
	strbuf_reset(&sb);
	/* A depth bomb is refused at the first level too deep, without reading the rest. */
	for (int i = 0; i < 1000000; i++)
		strbuf_addch(&sb, '[');
	ck_assert_int_eq(load_n(sb.buf, sb.len, NULL), -1);
	ck_assert_str_eq(problems(), "t.yaml:1:101: error: mappings and lists are nested more than 100 levels"
				     " deep [yaml]\n");
	/* Alias copies count their depth. */
	lim.max_depth = 3;
	ck_assert_int_eq(load_lim("a: &a {b: {c: 1}}\nx: [*a]\n", &lim), -1);
	ck_assert_str_eq(problems(),
			 "t.yaml:2:5: error: alias *a would nest mappings and lists more than 3 levels deep"
			 " [yaml]\n");
	lim.max_depth = 4;
	ck_assert_int_eq(load_lim("a: &a {b: {c: 1}}\nx: [*a]\n", &lim), 0);
	/* Larger depths are capped. */
	lim.max_depth = 1000000;
	ck_assert_int_eq(load_n(sb.buf, sb.len, &lim), -1);
	ck_assert_str_eq(problems(), "t.yaml:1:1001: error: mappings and lists are nested more than 1000"
				     " levels deep [yaml]\n");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_size_limit)
{
	struct ylimits lim = YLIMITS_DEFAULT;
	char *big = xmalloc(lim.max_bytes + 1);

	memset(big, '#', lim.max_bytes + 1);
	ck_assert_int_eq(load_n(big, lim.max_bytes + 1, NULL), -1);
	ck_assert_str_eq(problems(), "t.yaml: error: the file is 1572865 bytes, more than the limit of 1572864"
				     " (a Kubernetes object is at most about 1.5 MB); split it into smaller files"
				     " [yaml]\n");
	ck_assert_int_eq(load_n(big, lim.max_bytes, NULL), 0);
	ck_assert_uint_eq(ydoc_count(doc), 0);
	lim.max_bytes = 4;
	ck_assert_int_eq(load_n("a: 1\n", 5, &lim), -1);
	ck_assert_int_eq(load_n("a: 1", 4, &lim), 0);
	free(big);
}
END_TEST

/* ---- text checks ---- */

START_TEST(test_bad_text)
{
	static const struct {
		const char *text;
		size_t len;
		const char *problem;
	} cases[] = {
		{ "a: 1\nb: x\0y\n", 11, "t.yaml:2:5: error: NUL byte: YAML files are text, and this looks like a"
					 " binary file [yaml]\n" },
		{ "a: \xff\n", 5, "t.yaml:1:4: error: invalid UTF-8 (byte 0xFF); YAML files must be UTF-8 text"
				  " [yaml]\n" },
		{ "a: \xc3\n", 5, "t.yaml:1:4: error: invalid UTF-8 (byte 0xC3); YAML files must be UTF-8 text"
				  " [yaml]\n" },
		{ "\xc3\xa9: \x80", 5, "t.yaml:1:4: error: invalid UTF-8 (byte 0x80); YAML files must be UTF-8"
				       " text [yaml]\n" },
		{ "a: \xc0\xaf", 5, "t.yaml:1:4: error: invalid UTF-8 (byte 0xC0); YAML files must be UTF-8 text"
				    " [yaml]\n" },
		{ "a: \xe0\x80\xaf", 6, "t.yaml:1:4: error: invalid UTF-8 (byte 0xE0); YAML files must be UTF-8"
					" text [yaml]\n" },
		{ "a: \xed\xa0\x80", 6, "t.yaml:1:4: error: invalid UTF-8 (byte 0xED); YAML files must be UTF-8"
					" text [yaml]\n" },
		{ "a: \xf4\x90\x80\x80", 7, "t.yaml:1:4: error: invalid UTF-8 (byte 0xF4); YAML files must be"
					    " UTF-8 text [yaml]\n" },
		{ "a: \xe2\x82", 5, "t.yaml:1:4: error: invalid UTF-8 (byte 0xE2); YAML files must be UTF-8 text"
				    " [yaml]\n" },
		{ "a: b\x07\n", 6, "t.yaml:1:5: error: control character U+0007 is not allowed in YAML; remove"
				   " it, or write it as \\u0007 inside a double-quoted string [yaml]\n" },
		{ "a:\r\n b\x7f", 7, "t.yaml:2:3: error: control character U+007F is not allowed in YAML; remove"
				     " it, or write it as \\u007F inside a double-quoted string [yaml]\n" },
		{ "a: \xc2\x9b", 5, "t.yaml:1:4: error: control character U+009B is not allowed in YAML; remove"
				    " it, or write it as \\u009B inside a double-quoted string [yaml]\n" },
		{ "\xff\xfe" "a\0", 4, "t.yaml:1:1: error: the file is UTF-16 text; save it as UTF-8 [yaml]\n" },
		{ "\xfe\xff\0a", 4, "t.yaml:1:1: error: the file is UTF-16 text; save it as UTF-8 [yaml]\n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_msg(load_n(cases[i].text, cases[i].len, NULL) == -1, "case %zu loaded", i);
		ck_assert_str_eq(problems(), cases[i].problem);
	}
	/* Tabs, CR, NEL (a line break in YAML 1.1), non-BMP characters and an inner BOM are text. */
	ck_assert_str_eq(as_json("a:\t\"\xc2\x85\xf0\x9f\x98\x80\xef\xbb\xbf\"\r\nb: 1\xc2\x85" "c: 2\n"),
			 "{\"a\":\" \xf0\x9f\x98\x80\xef\xbb\xbf\",\"b\":1,\"c\":2}");
	ck_assert_pos(ydoc_member(doc, ydoc_root(doc, 0), "c")->key, 4, 1);
}
END_TEST

/* ---- syntax errors ---- */

START_TEST(test_syntax_errors)
{
	assert_fails("a: b: c\n",
		     "t.yaml:1:5: error: YAML syntax error: mapping values are not allowed in this context; a value"
		     " that contains \": \" must be quoted, or a line above is missing its \":\" [yaml]\n");
	assert_fails("a:\n  b: 1\n c: 2\n",
		     "t.yaml:3:2: error: YAML syntax error: did not find expected key (while parsing a block"
		     " mapping that starts at line 1, column 1); check the indentation: keys of one mapping start"
		     " in the same column [yaml]\n");
	assert_fails("a:\n\tb: 1\n",
		     "t.yaml:2:1: error: YAML syntax error: found character that cannot start any token; indent"
		     " with spaces: YAML does not allow tabs here [yaml]\n");
	assert_fails("a: \"abc\n",
		     "t.yaml:2:1: error: YAML syntax error: found unexpected end of stream (while scanning a"
		     " quoted scalar that starts at line 1, column 4); a quoted string or a [...] or {...} is not"
		     " closed [yaml]\n");
	assert_fails("a: [1, 2\n",
		     "t.yaml:2:1: error: YAML syntax error: did not find expected ',' or ']' (while parsing a flow"
		     " sequence that starts at line 1, column 4); a [...] list is not closed, or an item is"
		     " missing a comma [yaml]\n");
	assert_fails("a: @x\n",
		     "t.yaml:1:4: error: YAML syntax error: found character that cannot start any token; a value"
		     " cannot start with @ or `; quote it [yaml]\n");
	assert_fails("- a\nb: 1\n",
		     "t.yaml:2:1: error: YAML syntax error: did not find expected '-' indicator (while parsing a"
		     " block collection that starts at line 1, column 1); check the indentation of the list"
		     " items [yaml]\n");
	assert_fails("a: !e!x 1\n",
		     "t.yaml:1:4: error: YAML syntax error: found undefined tag handle [yaml]\n");
	{
		char *long_key = xmalloc(1100 + 5);

		memset(long_key, 'k', 1100);
		memcpy(long_key + 1100, ": v\n", 5);
		assert_fails(long_key, "t.yaml:1:1101: error: YAML syntax error: mapping values are not allowed in"
				       " this context; a key on one line is at most 1024 characters long [yaml]\n");
		free(long_key);
	}
	/* Errors found before a syntax error are kept. */
	assert_fails("a: 1\na: 2\nb: [\n",
		     "t.yaml:2:1: error: duplicate key \"a\" (first at line 1) [yaml]\n"
		     "t.yaml:4:1: error: YAML syntax error: did not find expected node content [yaml]\n");
}
END_TEST

/* ---- documents ---- */

START_TEST(test_documents)
{
	ck_assert_int_eq(load("# only a comment\n"), 0);
	ck_assert_uint_eq(ydoc_count(doc), 0);
	ck_assert_ptr_null(ydoc_root(doc, 0));
	ck_assert_pos(ydoc_root_pos(doc, 0), 0, 0);
	ck_assert_int_eq(load_n("", 0, NULL), 0);
	ck_assert_uint_eq(ydoc_count(doc), 0);
	ck_assert_int_eq(load_n(NULL, 0, NULL), 0);
	ck_assert_uint_eq(ydoc_count(doc), 0);
	ck_assert_int_eq(load("---\n"
			      "---\n"
			      "# nothing\n"
			      "---\n"
			      "kind: A\n"
			      "...\n"
			      "--- ~\n"
			      "---\n"
			      "null\n"
			      "--- !!map\n"
			      "kind: B\n"
			      "--- text\n"
			      "---\n"
			      "- 1\n"),
			 0);
	ck_assert_str_eq(problems(), "");
	ck_assert_uint_eq(ydoc_count(doc), 4);
	ck_assert_str_eq(dump(ydoc_root(doc, 0)), "{\"kind\":\"A\"}");
	ck_assert_pos(ydoc_root_pos(doc, 0), 5, 1);
	ck_assert_str_eq(dump(ydoc_root(doc, 1)), "{\"kind\":\"B\"}");
	ck_assert_pos(ydoc_root_pos(doc, 1), 10, 5);
	ck_assert_str_eq(dump(ydoc_root(doc, 2)), "\"text\"");
	ck_assert_pos(ydoc_root_pos(doc, 2), 12, 5);
	ck_assert_str_eq(dump(ydoc_root(doc, 3)), "[1]");
	ck_assert_pos(ydoc_root_pos(doc, 3), 14, 1);
	ck_assert_pos(ydoc_item(doc, ydoc_root(doc, 3), 0)->value, 14, 3);
}
END_TEST

START_TEST(test_failure_keeps_nothing)
{
	/* An error in a later document fails the whole load. */
	ck_assert_int_eq(load("a: 1\n---\nb: .nan\n"), -1);
	ck_assert_ptr_null(doc);
	ck_assert_uint_eq(diags_count(d, DIAG_ERROR), 1);
}
END_TEST

/* ---- the scalar module on its own ---- */

START_TEST(test_yscalar_quoted)
{
	struct strbuf sb = STRBUF_INIT;
	char long_text[100];

	memset(long_text, 'a', sizeof(long_text));
	memcpy(long_text + 58, "\xc3\xa9\xc3\xa9", 4);
	yscalar_add_quoted(&sb, long_text, sizeof(long_text));
	ck_assert_str_eq(sb.buf, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9...\"");
	strbuf_reset(&sb);
	yscalar_add_tag(&sb, "tag:yaml.org,2002:int");
	yscalar_add_tag(&sb, " !x");
	ck_assert_str_eq(sb.buf, "!!int !x");
	strbuf_release(&sb);
}
END_TEST

static Suite *yamlload_suite(void)
{
	Suite *s = suite_create("yamlload");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_positions_block);
	tcase_add_test(tc, test_positions_flow_and_quotes);
	tcase_add_test(tc, test_positions_count_characters);
	tcase_add_test(tc, test_positions_after_modification);
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_scalar_kinds);
	tcase_add_test(tc, test_sources);
	tcase_add_test(tc, test_scalar_errors);
	tcase_add_test(tc, test_integer_range);
	tcase_add_test(tc, test_key_conversion);
	tcase_add_test(tc, test_bad_keys);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_many_keys);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_alias_details);
	tcase_add_test(tc, test_merge_keys);
	tcase_add_test(tc, test_merge_order);
	tcase_add_test(tc, test_merge_errors);
	tcase_add_test(tc, test_billion_laughs);
	tcase_add_test(tc, test_node_limit);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_bad_text);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_documents);
	tcase_add_test(tc, test_failure_keeps_nothing);
	tcase_add_test(tc, test_yscalar_quoted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(yamlload_suite());
}
