/*
 * yamlemit: YAML text byte for byte as `kubectl kustomize` prints it.
 *
 * Every expected text in the tables below is `kubectl kustomize` (v5.5.0)
 * output for an object holding the value under key "k" (or the whole
 * mapping), with apiVersion, kind and metadata left out. The golden corpus
 * in tests/yamlemit/ checks whole resources the same way.
 */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "strbuf.h"
#include "util.h"
#include "yamlemit.h"
#include "unit.h"
#include "banned.h"

#define CORPUS_DIR "tests/yamlemit"

struct emit_case {
	const char *json; /* a value for key "k", or a whole mapping */
	const char *yaml;
};

static json_t *parse(const char *json)
{
	json_error_t err;
	json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	ck_assert_msg(v != NULL, "bad test JSON %s: %s", json, err.text);
	return v;
}

/* Emit value as one document; the text (caller frees). */
static char *emit(const json_t *value)
{
	struct strbuf out = STRBUF_INIT;

	ck_assert_int_eq(yamlemit_doc(&out, value), 0);
	return strbuf_detach(&out, NULL);
}

static void check_doc(const char *json, const char *want)
{
	json_t *v = parse(json);
	char *got = emit(v);

	ck_assert_str_eq(got, want);
	free(got);
	json_decref(v);
}

/* Emit {"k": VALUE} for every case. */
static void check_values(const struct emit_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *doc = xstrfmt("{\"k\": %s}", cases[i].json);

		check_doc(doc, cases[i].yaml);
		free(doc);
	}
}

/*
 * Strings that plain would read back as another type under YAML 1.1
 * (go-yaml v2) are double-quoted; the rest stay plain.
 */
static const struct emit_case type_cases[] = {
	{ "\"\"", "k: \"\"\n" },
	{ "\"~\"", "k: \"~\"\n" },
	{ "\"null\"", "k: \"null\"\n" },
	{ "\"Null\"", "k: \"Null\"\n" },
	{ "\"NULL\"", "k: \"NULL\"\n" },
	{ "\"nULL\"", "k: nULL\n" },
	{ "\"y\"", "k: \"y\"\n" },
	{ "\"Y\"", "k: \"Y\"\n" },
	{ "\"n\"", "k: \"n\"\n" },
	{ "\"N\"", "k: \"N\"\n" },
	{ "\"yes\"", "k: \"yes\"\n" },
	{ "\"Yes\"", "k: \"Yes\"\n" },
	{ "\"YES\"", "k: \"YES\"\n" },
	{ "\"yEs\"", "k: yEs\n" },
	{ "\"no\"", "k: \"no\"\n" },
	{ "\"on\"", "k: \"on\"\n" },
	{ "\"On\"", "k: \"On\"\n" },
	{ "\"ON\"", "k: \"ON\"\n" },
	{ "\"off\"", "k: \"off\"\n" },
	{ "\"OFF\"", "k: \"OFF\"\n" },
	{ "\"oFF\"", "k: oFF\n" },
	{ "\"true\"", "k: \"true\"\n" },
	{ "\"True\"", "k: \"True\"\n" },
	{ "\"TRUE\"", "k: \"TRUE\"\n" },
	{ "\"tRUE\"", "k: tRUE\n" },
	{ "\"false\"", "k: \"false\"\n" },
	{ "\"1\"", "k: \"1\"\n" },
	{ "\"-1\"", "k: \"-1\"\n" },
	{ "\"+1\"", "k: \"+1\"\n" },
	{ "\"1.5\"", "k: \"1.5\"\n" },
	{ "\"1.\"", "k: \"1.\"\n" },
	{ "\".5\"", "k: \".5\"\n" },
	{ "\"-.5e3\"", "k: \"-.5e3\"\n" },
	{ "\"1e3\"", "k: \"1e3\"\n" },
	{ "\"1E3\"", "k: \"1E3\"\n" },
	{ "\"1e+3\"", "k: \"1e+3\"\n" },
	{ "\"1e-3\"", "k: \"1e-3\"\n" },
	{ "\"0x1F\"", "k: \"0x1F\"\n" },
	{ "\"0X1f\"", "k: \"0X1f\"\n" },
	{ "\"-0x1F\"", "k: \"-0x1F\"\n" },
	{ "\"+0x1F\"", "k: \"+0x1F\"\n" },
	{ "\"0o17\"", "k: \"0o17\"\n" },
	{ "\"0O17\"", "k: \"0O17\"\n" },
	{ "\"0777\"", "k: \"0777\"\n" },
	{ "\"08\"", "k: \"08\"\n" },
	{ "\"-08\"", "k: \"-08\"\n" },
	{ "\"0b101\"", "k: \"0b101\"\n" },
	{ "\"0B101\"", "k: \"0B101\"\n" },
	{ "\"-0b101\"", "k: \"-0b101\"\n" },
	{ "\"0b-1\"", "k: \"0b-1\"\n" },
	{ "\"1_000\"", "k: \"1_000\"\n" },
	{ "\"1__0\"", "k: \"1__0\"\n" },
	{ "\"+_1\"", "k: \"+_1\"\n" },
	{ "\"1_\"", "k: \"1_\"\n" },
	{ "\"0x_1\"", "k: \"0x_1\"\n" },
	{ "\".5_5\"", "k: \".5_5\"\n" },
	{ "\"9223372036854775807\"", "k: \"9223372036854775807\"\n" },
	{ "\"9223372036854775808\"", "k: \"9223372036854775808\"\n" },
	{ "\"18446744073709551615\"", "k: \"18446744073709551615\"\n" },
	{ "\"18446744073709551616\"", "k: \"18446744073709551616\"\n" },
	{ "\"-9223372036854775809\"", "k: \"-9223372036854775809\"\n" },
	{ "\"0xFFFFFFFFFFFFFFFF\"", "k: \"0xFFFFFFFFFFFFFFFF\"\n" },
	{ "\"1e-999\"", "k: \"1e-999\"\n" },
	{ "\".inf\"", "k: \".inf\"\n" },
	{ "\"-.Inf\"", "k: \"-.Inf\"\n" },
	{ "\"+.INF\"", "k: \"+.INF\"\n" },
	{ "\".NaN\"", "k: \".NaN\"\n" },
	{ "\"1:20\"", "k: \"1:20\"\n" },
	{ "\"-1:30\"", "k: \"-1:30\"\n" },
	{ "\"1:30.5\"", "k: \"1:30.5\"\n" },
	{ "\"1_:2\"", "k: \"1_:2\"\n" },
	{ "\"1:02\"", "k: \"1:02\"\n" },
	{ "\"2024-02-29\"", "k: \"2024-02-29\"\n" },
	{ "\"2024-1-1\"", "k: \"2024-1-1\"\n" },
	{ "\"0000-01-01\"", "k: \"0000-01-01\"\n" },
	{ "\"2024-01-01T10:00:00Z\"", "k: \"2024-01-01T10:00:00Z\"\n" },
	{ "\"2024-01-01t1:2:3.5+01:00\"", "k: \"2024-01-01t1:2:3.5+01:00\"\n" },
	{ "\"2024-01-01T10:00:00,5Z\"", "k: \"2024-01-01T10:00:00,5Z\"\n" },
	{ "\"2024-01-01T10:00:00+24:00\"", "k: \"2024-01-01T10:00:00+24:00\"\n" },
	{ "\"2024-01-01  10:00:00\"", "k: \"2024-01-01  10:00:00\"\n" },
	{ "\"2024-01-01 10:00:00.5\"", "k: \"2024-01-01 10:00:00.5\"\n" },
	{ "\"1e999\"", "k: 1e999\n" },
	{ "\".5e999\"", "k: .5e999\n" },
	{ "\"0x\"", "k: 0x\n" },
	{ "\"0x10000000000000000\"", "k: 0x10000000000000000\n" },
	{ "\"0x1p3\"", "k: 0x1p3\n" },
	{ "\"0b\"", "k: 0b\n" },
	{ "\"0b2\"", "k: 0b2\n" },
	{ "\"0o8\"", "k: 0o8\n" },
	{ "\"1.2.3\"", "k: 1.2.3\n" },
	{ "\"127.0.0.1\"", "k: 127.0.0.1\n" },
	{ "\"1,000\"", "k: 1,000\n" },
	{ "\"v1\"", "k: v1\n" },
	{ "\"1a\"", "k: 1a\n" },
	{ "\"e1\"", "k: e1\n" },
	{ "\"nan\"", "k: nan\n" },
	{ "\"inf\"", "k: inf\n" },
	{ "\"Infinity\"", "k: Infinity\n" },
	{ "\"+.nan\"", "k: +.nan\n" },
	{ "\"<<\"", "k: <<\n" },
	{ "\"=\"", "k: =\n" },
	{ "\"._5\"", "k: ._5\n" },
	{ "\"+\"", "k: +\n" },
	{ "\"_1\"", "k: _1\n" },
	{ "\"1:60\"", "k: 1:60\n" },
	{ "\"1:3_0\"", "k: 1:3_0\n" },
	{ "\"1:002\"", "k: 1:002\n" },
	{ "\"2024-02-30\"", "k: 2024-02-30\n" },
	{ "\"2023-02-29\"", "k: 2023-02-29\n" },
	{ "\"2024-13-01\"", "k: 2024-13-01\n" },
	{ "\"12345-01-01\"", "k: 12345-01-01\n" },
	{ "\"2024-01-01T24:00:00Z\"", "k: 2024-01-01T24:00:00Z\n" },
	{ "\"2024-01-01T10:00:00+25:00\"", "k: 2024-01-01T10:00:00+25:00\n" },
	{ "\"2024-01-01T10:00:00z\"", "k: 2024-01-01T10:00:00z\n" },
	{ "\"2024-01-01 10:00:00Z\"", "k: 2024-01-01 10:00:00Z\n" },
};

START_TEST(strings_that_read_as_other_types_are_double_quoted)
{
	check_values(type_cases, ARRAY_SIZE(type_cases));
}
END_TEST

/* Plain text that would be YAML syntax falls back to 'single quotes'. */
static const struct emit_case syntax_cases[] = {
	{ "\"*a\"", "k: '*a'\n" },
	{ "\"&a\"", "k: '&a'\n" },
	{ "\"!a\"", "k: '!a'\n" },
	{ "\"%a\"", "k: '%a'\n" },
	{ "\"@a\"", "k: '@a'\n" },
	{ "\"`a\"", "k: '`a'\n" },
	{ "\"{a\"", "k: '{a'\n" },
	{ "\"[a\"", "k: '[a'\n" },
	{ "\"}a\"", "k: '}a'\n" },
	{ "\"]a\"", "k: ']a'\n" },
	{ "\",a\"", "k: ',a'\n" },
	{ "\">a\"", "k: '>a'\n" },
	{ "\"|a\"", "k: '|a'\n" },
	{ "\"#a\"", "k: '#a'\n" },
	{ "\"'q'\"", "k: '''q'''\n" },
	{ "\"\\\"q\\\"\"", "k: '\"q\"'\n" },
	{ "\"? a\"", "k: '? a'\n" },
	{ "\"?a\"", "k: ?a\n" },
	{ "\":a\"", "k: :a\n" },
	{ "\": a\"", "k: ': a'\n" },
	{ "\"- a\"", "k: '- a'\n" },
	{ "\"-a\"", "k: -a\n" },
	{ "\"-\"", "k: '-'\n" },
	{ "\"--- a\"", "k: '--- a'\n" },
	{ "\"---\"", "k: '---'\n" },
	{ "\"...\"", "k: '...'\n" },
	{ "\"a: b\"", "k: 'a: b'\n" },
	{ "\"a:b\"", "k: a:b\n" },
	{ "\"a:\"", "k: 'a:'\n" },
	{ "\"a #b\"", "k: 'a #b'\n" },
	{ "\"a#b\"", "k: a#b\n" },
	{ "\"a,b\"", "k: a,b\n" },
	{ "\"a[b\"", "k: a[b\n" },
	{ "\"a{b\"", "k: a{b\n" },
	{ "\"a?b\"", "k: a?b\n" },
	{ "\"it's\"", "k: it's\n" },
	{ "\" a\"", "k: ' a'\n" },
	{ "\"a \"", "k: 'a '\n" },
	{ "\"a  b\"", "k: a  b\n" },
	{ "\"a\\\\b\\\"c\"", "k: a\\b\"c\n" },
	{ "\"http://example.com/#top\"", "k: http://example.com/#top\n" },
	{ "\"-- -\"", "k: -- -\n" },
	{ "\"&\"", "k: '&'\n" },
	{ "\"=a\"", "k: =a\n" },
	{ "\"~a\"", "k: ~a\n" },
	{ "\"a ~\"", "k: a ~\n" },
};

START_TEST(yaml_syntax_characters_are_single_quoted)
{
	check_values(syntax_cases, ARRAY_SIZE(syntax_cases));
}
END_TEST

/*
 * Non-ASCII text is plain; what go-yaml deems unprintable (controls, tab,
 * BOM, beyond the BMP) is escaped in double quotes; LS/PS are line breaks.
 */
static const struct emit_case unicode_cases[] = {
	{ "\"\\u00e9\"", "k: \xc3\xa9\n" },
	{ "\"\\u4e2d\\u6587\"", "k: \xe4\xb8\xad\xe6\x96\x87\n" },
	{ "\"\\ud83d\\ude00 smile\"", "k: \"\\U0001F600 smile\"\n" },
	{ "\"a\\u00a0b\"", "k: a\xc2\xa0" "b\n" },
	{ "\"\\ufeff\"", "k: \"\\uFEFF\"\n" },
	{ "\"x\\ufeff\"", "k: \"x\\uFEFF\"\n" },
	{ "\"\\ufeffa b\"", "k: \"\\uFEFF\\x61\\x20\\x62\"\n" },
	{ "\"a\\u2028b\"", "k: 'a\xe2\x80\xa8  b'\n" },
	{ "\"a\\u2029b\"", "k: 'a\xe2\x80\xa9  b'\n" },
	{ "\"a\\u2028 b\"", "k: \"a\\L b\"\n" },
	{ "\"\\u0001\"", "k: \"\\x01\"\n" },
	{ "\"x\\u001by\"", "k: \"x\\ey\"\n" },
	{ "\"a\\u0000b\"", "k: \"a\\0b\"\n" },
	{ "\"\\u0007\\b\\u000b\\f\\r\"", "k: \"\\a\\b\\v\\f\\r\"\n" },
	{ "\"a\\tb\"", "k: \"a\\tb\"\n" },
	{ "\"\\ud7ff\\ue000\\ufffd\"", "k: \xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd\n" },
};

START_TEST(unicode_and_control_characters)
{
	check_values(unicode_cases, ARRAY_SIZE(unicode_cases));
}
END_TEST

/* Strings with a newline: literal blocks with chomping and indentation hints. */
static const struct emit_case literal_cases[] = {
	{ "\"a\\n\"",
	  "k: |\n"
		"  a\n" },
	{ "\"a\\n\\n\"",
	  "k: |+\n"
		"  a\n"
		"\n" },
	{ "\"a\\n\\n\\n\"",
	  "k: |+\n"
		"  a\n"
		"\n"
		"\n" },
	{ "\"a\\nb\"",
	  "k: |-\n"
		"  a\n"
		"  b\n" },
	{ "\"a\\n\\nb\\n\"",
	  "k: |\n"
		"  a\n"
		"\n"
		"  b\n" },
	{ "\" a\\nb\"",
	  "k: |2-\n"
		"   a\n"
		"  b\n" },
	{ "\"\\na\"",
	  "k: |2-\n"
		"\n"
		"  a\n" },
	{ "\"\\n\"",
	  "k: |2+\n"
		"\n" },
	{ "\"\\n\\n\"",
	  "k: |2+\n"
		"\n"
		"\n" },
	{ "\"a\\n b\"",
	  "k: |-\n"
		"  a\n"
		"   b\n" },
	{ "\"a \\nb\"", "k: \"a \\nb\"\n" },
	{ "\"a\\nb \"", "k: \"a\\nb \"\n" },
	{ "\"a\\tb\\nc\"", "k: \"a\\tb\\nc\"\n" },
	{ "\"  indented\\nnext\\n\"",
	  "k: |2\n"
		"    indented\n"
		"  next\n" },
	{ "\"#!/bin/sh\\necho \\\"hi\\\" # comment\\nexit 0\\n\"",
	  "k: |\n"
		"  #!/bin/sh\n"
		"  echo \"hi\" # comment\n"
		"  exit 0\n" },
	{ "\"key: value\\nlist:\\n- a\\n\"",
	  "k: |\n"
		"  key: value\n"
		"  list:\n"
		"  - a\n" },
	{ "\"a\\u2028b\\nc\"",
	  "k: |-\n"
		"  a\xe2\x80\xa8  b\n"
		"  c\n" },
	{ "[\"a\\nb\\n\", [\"x\\ny\"], {\"run\": \"set -e\\nmake\\n\"}]",
	  "k:\n"
		"- |\n"
		"  a\n"
		"  b\n"
		"- - |-\n"
		"    x\n"
		"    y\n"
		"- run: |\n"
		"    set -e\n"
		"    make\n" },
};

START_TEST(multi_line_strings_are_literal_blocks)
{
	check_values(literal_cases, ARRAY_SIZE(literal_cases));
}
END_TEST

/* Plain and quoted scalars fold at a single space past column 80; literals never. */
static const struct emit_case fold_cases[] = {
	{ "\"w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 "
	"w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 "
	"w38 w39\"",
	  "k: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 "
		"w20 w21 w22\n"
		"  w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39\n" },
	{ "\"- w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
	"w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 "
	"w37 w38 w39\"",
	  "k: '- w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
		"w19 w20 w21\n"
		"  w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 "
		"w39'\n" },
	{ "\"\\tw0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
	"w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 "
	"w37 w38 w39\"",
	  "k: \"\\tw0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 "
		"w18 w19 w20 w21\n"
		"  w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 "
		"w39\"\n" },
	{ "\"a  b  xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx "
	"xx xx xx xx xx xx xx xx xx   y   z   y   z   y   z   y   z \"",
	  "k: 'a  b  xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx xx "
		"xx xx xx xx\n"
		"  xx xx xx xx xx xx   y   z   y   z   y   z   y   z '\n" },
	{ "\"'a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b a'b "
	"a'b a'b a'b a'b a'b a'b a'b a'b \"",
	  "k: '''a''b a''b a''b a''b a''b a''b a''b a''b a''b a''b a''b a''b a''b "
		"a''b a''b a''b\n"
		"  a''b a''b a''b a''b a''b a''b a''b a''b a''b '\n" },
	{ "\"a: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
	"w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 "
	"w37 w38 w39\"",
	  "k: 'a: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
		"w19 w20 w21\n"
		"  w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 "
		"w39'\n" },
	{ "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
	  "k: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" },
	{ "\"w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 "
	"w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 "
	"w38 w39\\nw0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 "
	"w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 "
	"w36 w37 w38 w39\"",
	  "k: |-\n"
		"  w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 "
		"w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 "
		"w38 w39\n"
		"  w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 "
		"w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 "
		"w38 w39\n" },
	{ "[\"item w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 "
	"w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 "
	"w36 w37 w38 w39\", {\"name\": \"w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 "
	"w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 "
	"w30 w31 w32 w33 w34 w35 w36 w37 w38 w39\"}, [\"w0 w1 w2 w3 w4 w5 w6 w7 "
	"w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 "
	"w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 w39\"]]",
	  "k:\n"
		"- item w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
		"w19 w20 w21\n"
		"  w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 "
		"w39\n"
		"- name: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 "
		"w18 w19 w20\n"
		"    w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 "
		"w38 w39\n"
		"- - w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 "
		"w19 w20 w21\n"
		"    w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37 w38 "
		"w39\n" },
	{ "{\"nested\": {\"deeper\": \"w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 "
	"w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 "
	"w31 w32 w33 w34 w35 w36 w37 w38 w39\"}}",
	  "k:\n"
		"  nested:\n"
		"    deeper: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 "
		"w17 w18 w19\n"
		"      w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 "
		"w36 w37 w38\n"
		"      w39\n" },
	{ "\"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww "
	"a b\"",
	  "k: wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\n"
		"  a b\n" },
	{ "\"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww "
	"a b\"",
	  "k: wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww\n"
		"  a b\n" },
	{ "\"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww "
	" a b\"",
	  "k: wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww "
		" a\n"
		"  b\n" },
	{ "\"\\twwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww "
	" a\"",
	  "k: \"\\twwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
		"wwwwwwwwwwwwwwww\n"
		"  \\ a\"\n" },
	{ "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
	"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\"
	"ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud"
	"83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00 "
	"a b\"",
	  "k: \"\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600"
		"\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U000"
		"1F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600\\U0001F600"
		"\\U0001F600\n"
		"  a b\"\n" },
};

START_TEST(long_scalars_fold_at_column_80)
{
	check_values(fold_cases, ARRAY_SIZE(fold_cases));
}
END_TEST

/* Numbers as Go prints them after kustomize's trip through JSON. */
static const struct emit_case number_cases[] = {
	{ "0", "k: 0\n" },
	{ "-5", "k: -5\n" },
	{ "9223372036854775807", "k: 9223372036854775807\n" },
	{ "-9223372036854775808", "k: -9223372036854775808\n" },
	{ "1.0", "k: 1\n" },
	{ "-0.0", "k: 0\n" },
	{ "0.5", "k: 0.5\n" },
	{ "-0.5", "k: -0.5\n" },
	{ "0.1", "k: 0.1\n" },
	{ "1000.0", "k: 1000\n" },
	{ "100000.0", "k: 100000\n" },
	{ "1000000.0", "k: 1000000\n" },
	{ "1234567.0", "k: 1234567\n" },
	{ "123456.7", "k: 123456.7\n" },
	{ "1234567.8", "k: 1.2345678e+06\n" },
	{ "-1234567.8", "k: -1.2345678e+06\n" },
	{ "1000000.5", "k: 1.0000005e+06\n" },
	{ "1e-07", "k: 1e-07\n" },
	{ "0.0001", "k: 0.0001\n" },
	{ "1e-05", "k: 1e-05\n" },
	{ "1e-06", "k: 1e-06\n" },
	{ "1.5e+300", "k: 1.5e+300\n" },
	{ "1000000000000000.0", "k: 1000000000000000\n" },
	{ "1e+20", "k: 1e+20\n" },
	{ "-1e+20", "k: -1e+20\n" },
	{ "1e+21", "k: 1e+21\n" },
	{ "9.3e+18", "k: 9300000000000000000\n" },
	{ "-9.3e+18", "k: -9.3e+18\n" },
	{ "-9.2e+18", "k: -9200000000000000000\n" },
	{ "1.8446744073709552e+19", "k: 1.8446744073709552e+19\n" },
	{ "1.152921504606847e+18", "k: 1152921504606847000\n" },
	{ "5e-324", "k: 5e-324\n" },
	{ "1.7976931348623157e+308", "k: 1.7976931348623157e+308\n" },
	{ "1.23456e-08", "k: 1.23456e-08\n" },
	{ "[1.0, 2.5, true, false, null]",
	  "k:\n"
		"- 1\n"
		"- 2.5\n"
		"- true\n"
		"- false\n"
		"- null\n" },
};

START_TEST(numbers_booleans_and_null)
{
	check_values(number_cases, ARRAY_SIZE(number_cases));
}
END_TEST

/* Key order and block layout of whole mappings. */
static const struct emit_case layout_cases[] = {
	{ "{\"status\": {}, \"spec\": {\"z\": 1, \"a\": {\"y\": 1, \"b\": 2}}, \"data\": "
	"1}",
	  "data: 1\n"
		"spec:\n"
		"  a:\n"
		"    b: 2\n"
		"    \"y\": 1\n"
		"  z: 1\n"
		"status: {}\n" },
	{ "{\"k\": {\"z\": 0, \"\\u00e9\": 1, \"10\": 2, \"2\": 3, \"1\": 4, \"~\": "
	"5, \"_x\": 6, \".\": 7, \"-\": 8, \"\": 9, \"x10\": 10, \"x9\": 11, \"x09\": "
	"12, \"a-b\": 13, \"ab\": 14, \"B\": 15, \"Z\": 16, \"a\": 17}}",
	  "k:\n"
		"  \"\": 9\n"
		"  '-': 8\n"
		"  .: 7\n"
		"  _x: 6\n"
		"  \"~\": 5\n"
		"  \"1\": 4\n"
		"  \"2\": 3\n"
		"  \"10\": 2\n"
		"  B: 15\n"
		"  Z: 16\n"
		"  a: 17\n"
		"  a-b: 13\n"
		"  ab: 14\n"
		"  x9: 11\n"
		"  x09: 12\n"
		"  x10: 10\n"
		"  z: 0\n"
		"  \xc3\xa9: 1\n" },
	{ "{\"k\": {\"map\": {\"a\": 1, \"b\": {\"c\": null}}, \"list\": [\"a\", "
	"1, true, null], \"maps\": [{\"name\": \"n\", \"extra\": {\"k\": \"v\"}}, "
	"{}], \"lists\": [[1, 2], [], [[3]], [{\"a\": 1}]], \"empty\": {}, \"emptyList\": "
	"[]}}",
	  "k:\n"
		"  empty: {}\n"
		"  emptyList: []\n"
		"  list:\n"
		"  - a\n"
		"  - 1\n"
		"  - true\n"
		"  - null\n"
		"  lists:\n"
		"  - - 1\n"
		"    - 2\n"
		"  - []\n"
		"  - - - 3\n"
		"  - - a: 1\n"
		"  map:\n"
		"    a: 1\n"
		"    b:\n"
		"      c: null\n"
		"  maps:\n"
		"  - extra:\n"
		"      k: v\n"
		"    name: \"n\"\n"
		"  - {}\n" },
};

START_TEST(key_order_and_layout)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(layout_cases); i++)
		check_doc(layout_cases[i].json, layout_cases[i].yaml);
}
END_TEST

static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * Keys up to 128 bytes are "key: value"; longer ones and keys with line
 * breaks use "? key" / ": value", where the key may fold and the value
 * starts on the ":" line. (kubectl kustomize output, as above.)
 */
START_TEST(long_and_multi_line_keys)
{
	char *k128 = repeat('k', 128), *k129 = repeat('k', 129);
	char *a130 = repeat('a', 130), *z130 = repeat('z', 130);
	char *json, *want;

	json = xstrfmt("{\"%s\": 1, \"%s\": 2}", k128, k129);
	want = xstrfmt("%s: 1\n? %s\n: 2\n", k128, k129);
	check_doc(json, want);
	free(json);
	free(want);

	json = xstrfmt("{\"a\\nb\": \"v\", \"q\\n\": {\"x\": 1}, \"%s\": [1, 2], "
		       "\"a\\u2028b\": 1, \"%s bbbbbbbbbb\": {}}", z130, a130);
	want = xstrfmt("? |-\n  a\n  b\n: v\n"
		       "? 'a\xe2\x80\xa8  b'\n: 1\n"
		       "? %s\n  bbbbbbbbbb\n: {}\n"
		       "? |\n  q\n: x: 1\n"
		       "? %s\n: - 1\n  - 2\n", a130, z130);
	check_doc(json, want);
	free(json);
	free(want);
	free(k128);
	free(k129);
	free(a130);
	free(z130);
}
END_TEST

/*
 * go-yaml's key order is cyclic here (a2 < a10 < a1b < a2), so kustomize's
 * output changes from run to run; ours depends only on the set of keys.
 */
START_TEST(cyclic_key_order_is_deterministic)
{
	static const char *const orders[] = {
		"{\"a2\":0,\"a10\":0,\"a1b\":0}", "{\"a2\":0,\"a1b\":0,\"a10\":0}",
		"{\"a10\":0,\"a2\":0,\"a1b\":0}", "{\"a10\":0,\"a1b\":0,\"a2\":0}",
		"{\"a1b\":0,\"a2\":0,\"a10\":0}", "{\"a1b\":0,\"a10\":0,\"a2\":0}",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(orders); i++)
		check_doc(orders[i], "a10: 0\na1b: 0\na2: 0\n");
}
END_TEST

/* kustomize prints only mappings at the root; other roots follow the same rules. */
START_TEST(root_values)
{
	check_doc("{}", "{}\n");
	check_doc("[]", "[]\n");
	check_doc("null", "null\n");
	check_doc("\"yes\"", "\"yes\"\n");
	check_doc("\"a\\nb\"", "|-\n  a\n  b\n");
	check_doc("[\"a\", [\"b\", {\"c\": 1}], {\"d\": [2]}]",
		  "- a\n- - b\n  - c: 1\n- d:\n  - 2\n");
}
END_TEST

/*
 * Characters kustomize cannot print: with DEL or C1 controls it fails, and
 * NEL it turns into a space. Here they are escaped as go-yaml would.
 */
START_TEST(characters_kustomize_cannot_print_are_escaped)
{
	check_doc("{\"k\": \"a\\u0085b\"}", "k: \"a\\Nb\"\n");
	check_doc("{\"k\": \"\\u007f\\u0080\\u009f\"}", "k: \"\\x7F\\x80\\x9F\"\n");
	check_doc("{\"k\": \"\\ufffe\\uffff\"}", "k: \"\\uFFFE\\uFFFF\"\n");
}
END_TEST

START_TEST(stream_separates_documents_with_dashes)
{
	json_t *a = parse("{\"a\": 1}"), *b = parse("{\"b\": \"x\\n\"}");
	const json_t *docs[] = { a, b };
	struct strbuf out = STRBUF_INIT;

	strbuf_addstr(&out, "# kept\n");
	ck_assert_int_eq(yamlemit_stream(&out, docs, 2), 0);
	ck_assert_str_eq(out.buf, "# kept\na: 1\n---\nb: |\n  x\n");
	strbuf_reset(&out);
	ck_assert_int_eq(yamlemit_stream(&out, docs, 1), 0);
	ck_assert_str_eq(out.buf, "a: 1\n");
	strbuf_reset(&out);
	ck_assert_int_eq(yamlemit_stream(&out, docs, 0), 0);
	ck_assert_uint_eq(out.len, 0);
	strbuf_release(&out);
	json_decref(a);
	json_decref(b);
}
END_TEST

/* Emit doc into a strbuf holding "keep"; it must fail and leave "keep". */
static void check_fails(json_t *doc)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_addstr(&out, "keep");
	ck_assert_int_eq(yamlemit_doc(&out, doc), -1);
	ck_assert_str_eq(out.buf, "keep");
	strbuf_release(&out);
	json_decref(doc);
}

static json_t *nested_arrays(size_t depth)
{
	json_t *v = json_array();

	while (--depth)
		v = json_pack("[o]", v);
	return v;
}

START_TEST(failures_leave_the_buffer_as_it_was)
{
	struct strbuf capped, out = STRBUF_INIT;
	json_t *doc = json_object(), *ok;
	const json_t *docs[2];

	json_object_set_new(doc, "k", json_stringn_nocheck("a\xff", 2));
	check_fails(doc);
	doc = json_object();
	json_object_setn_new_nocheck(doc, "\xc3", 1, json_integer(1));
	check_fails(doc);
	check_fails(nested_arrays(YAMLEMIT_MAX_DEPTH + 1));
	check_fails(json_pack("{s:[s,o]}", "k", "fine", nested_arrays(YAMLEMIT_MAX_DEPTH)));

	ok = nested_arrays(YAMLEMIT_MAX_DEPTH);
	free(emit(ok));
	json_decref(ok);

	ok = parse("{\"key\": \"a value longer than the cap\"}");
	strbuf_init_capped(&capped, 16);
	ck_assert_int_eq(yamlemit_doc(&capped, ok), -1);
	ck_assert_uint_eq(capped.len, 0);
	strbuf_release(&capped);

	/* the first document was fine: its text goes too */
	docs[0] = ok;
	docs[1] = NULL;
	strbuf_addstr(&out, "keep");
	ck_assert_int_eq(yamlemit_stream(&out, docs, 2), -1);
	ck_assert_str_eq(out.buf, "keep");
	strbuf_release(&out);
	json_decref(ok);
}
END_TEST

/* "line N: got ... want ..." for the first line where got and want differ (caller frees). */
static char *first_difference(const struct strbuf *got, const struct strbuf *want)
{
	size_t i = 0, start = 0, line = 1, g, w;

	for (; i < got->len && i < want->len && got->buf[i] == want->buf[i]; i++)
		if (got->buf[i] == '\n') {
			start = i + 1;
			line++;
		}
	g = strcspn(got->buf + start, "\n");
	w = strcspn(want->buf + start, "\n");
	return xstrfmt("line %zu: got \"%.*s\", want \"%.*s\"", line, (int)g, got->buf + start,
		       (int)w, want->buf + start);
}

/* NULL when case NAME (CORPUS_DIR/NAME.json) emits exactly NAME.yaml; else a message. */
static char *check_corpus_case(const char *name)
{
	char *path = xstrfmt("%s/%s.json", CORPUS_DIR, name), *msg = NULL;
	json_t *list = json_load_file(path, JSON_ALLOW_NUL, NULL);
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	const json_t **docs;
	size_t i, n = json_array_size(list);

	free(path);
	path = xstrfmt("%s/%s.yaml", CORPUS_DIR, name);
	if (!json_is_array(list) || strbuf_read_file(&want, path) < 0) {
		msg = xstrfmt("%s: cannot read the case", name);
		goto cleanup;
	}
	docs = xcalloc(n ? n : 1, sizeof(*docs));
	for (i = 0; i < n; i++)
		docs[i] = json_array_get(list, i);
	if (yamlemit_stream(&got, docs, n) < 0)
		msg = xstrfmt("%s: emit failed", name);
	else if (got.len != want.len || memcmp(got.buf, want.buf, got.len)) {
		char *diff = first_difference(&got, &want);

		msg = xstrfmt("%s: %s", path, diff);
		free(diff);
	}
	free(docs);
cleanup:
	free(path);
	json_decref(list);
	strbuf_release(&want);
	strbuf_release(&got);
	return msg;
}

START_TEST(golden_corpus_matches_kustomize)
{
	DIR *dir = opendir(CORPUS_DIR);
	struct dirent *ent;
	size_t cases = 0;

	ck_assert_msg(dir != NULL, "cannot open %s; run from the repository root", CORPUS_DIR);
	while ((ent = readdir(dir))) {
		char *name, *msg;

		if (!ends_with(ent->d_name, ".json"))
			continue;
		name = xstrndup(ent->d_name, strlen(ent->d_name) - strlen(".json"));
		msg = check_corpus_case(name);
		ck_assert_msg(msg == NULL, "%s", msg);
		free(name);
		cases++;
	}
	closedir(dir);
	ck_assert_uint_ge(cases, 10);
}
END_TEST

static Suite *yamlemit_suite(void)
{
	Suite *s = suite_create("yamlemit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, strings_that_read_as_other_types_are_double_quoted);
	tcase_add_test(tc, yaml_syntax_characters_are_single_quoted);
	tcase_add_test(tc, unicode_and_control_characters);
	tcase_add_test(tc, multi_line_strings_are_literal_blocks);
	tcase_add_test(tc, long_scalars_fold_at_column_80);
	tcase_add_test(tc, numbers_booleans_and_null);
	tcase_add_test(tc, key_order_and_layout);
	tcase_add_test(tc, long_and_multi_line_keys);
	tcase_add_test(tc, cyclic_key_order_is_deterministic);
	tcase_add_test(tc, root_values);
	tcase_add_test(tc, characters_kustomize_cannot_print_are_escaped);
	tcase_add_test(tc, stream_separates_documents_with_dashes);
	tcase_add_test(tc, failures_leave_the_buffer_as_it_was);
	tcase_add_test(tc, golden_corpus_matches_kustomize);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(yamlemit_suite());
}
