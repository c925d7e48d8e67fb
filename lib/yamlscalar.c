#include "yamlscalar.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "banned.h"

#define STD_TAG "tag:yaml.org,2002:"

/* A scalar that looks like a number is copied without "_" into a buffer this big, or the heap. */
#define SMALL_NUMBER 64

enum tag_class {
	TAG_IMPLICIT, /* no tag: plain scalars resolve, others are strings */
	TAG_STRING,   /* !!str or the non-specific "!" */
	TAG_TYPED,    /* !!int !!float !!bool !!null */
	TAG_REFUSED,
};

enum go_result {
	GO_OK,
	GO_RANGE,  /* well-formed but too big */
	GO_SYNTAX,
};

struct word {
	const char *text;
	size_t len;
	enum yscalar_kind kind;
	int boolean;
	int yaml11;
};

#define W(s) s, sizeof(s) - 1

/* go-yaml v2's resolve table for booleans and null, with the YAML 1.1-only spellings marked. */
static const struct word words[] = {
	{ W("y"), YSCALAR_BOOL, 1, 1 },      { W("Y"), YSCALAR_BOOL, 1, 1 },
	{ W("yes"), YSCALAR_BOOL, 1, 1 },    { W("Yes"), YSCALAR_BOOL, 1, 1 },
	{ W("YES"), YSCALAR_BOOL, 1, 1 },    { W("true"), YSCALAR_BOOL, 1, 0 },
	{ W("True"), YSCALAR_BOOL, 1, 0 },   { W("TRUE"), YSCALAR_BOOL, 1, 0 },
	{ W("on"), YSCALAR_BOOL, 1, 1 },     { W("On"), YSCALAR_BOOL, 1, 1 },
	{ W("ON"), YSCALAR_BOOL, 1, 1 },     { W("n"), YSCALAR_BOOL, 0, 1 },
	{ W("N"), YSCALAR_BOOL, 0, 1 },      { W("no"), YSCALAR_BOOL, 0, 1 },
	{ W("No"), YSCALAR_BOOL, 0, 1 },     { W("NO"), YSCALAR_BOOL, 0, 1 },
	{ W("false"), YSCALAR_BOOL, 0, 0 },  { W("False"), YSCALAR_BOOL, 0, 0 },
	{ W("FALSE"), YSCALAR_BOOL, 0, 0 },  { W("off"), YSCALAR_BOOL, 0, 1 },
	{ W("Off"), YSCALAR_BOOL, 0, 1 },    { W("OFF"), YSCALAR_BOOL, 0, 1 },
	{ W(""), YSCALAR_NULL, 0, 0 },       { W("~"), YSCALAR_NULL, 0, 0 },
	{ W("null"), YSCALAR_NULL, 0, 0 },   { W("Null"), YSCALAR_NULL, 0, 0 },
	{ W("NULL"), YSCALAR_NULL, 0, 0 },
};

static const struct {
	const char *text;
	size_t len;
	double value;
} special_floats[] = {
	{ W(".nan"), NAN },       { W(".NaN"), NAN },       { W(".NAN"), NAN },
	{ W(".inf"), INFINITY },  { W(".Inf"), INFINITY },  { W(".INF"), INFINITY },
	{ W("+.inf"), INFINITY }, { W("+.Inf"), INFINITY }, { W("+.INF"), INFINITY },
	{ W("-.inf"), -INFINITY }, { W("-.Inf"), -INFINITY }, { W("-.INF"), -INFINITY },
};

/* strtod and strtof must not follow the caller's LC_NUMERIC; glibc returns a static object for "C". */
static locale_t c_locale(void)
{
	locale_t loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);

	if (loc == (locale_t)0)
		die("cannot create the C locale");
	return loc;
}

static int same(const char *text, size_t len, const char *word, size_t word_len)
{
	return word_len == len && memcmp(text, word, len) == 0;
}

static int lookup_word(struct yscalar *out, const char *text, size_t len)
{
	if (len > 5) /* the longest are "false" and "+.inf" */
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (same(text, len, words[i].text, words[i].len)) {
			out->kind = words[i].kind;
			out->boolean = words[i].boolean;
			out->yaml11 = words[i].yaml11;
			return 1;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(special_floats); i++) {
		if (same(text, len, special_floats[i].text, special_floats[i].len)) {
			out->kind = YSCALAR_FLOAT;
			out->real = special_floats[i].value;
			return 1;
		}
	}
	return 0;
}

/* go-yaml's first-character hint: 'S'ign, 'D'igit, 'M'ap word, '.' float, 0 string. */
static char hint(const char *text, size_t len)
{
	char c = len ? text[0] : '~';

	if (c == '+' || c == '-')
		return 'S';
	if (c >= '0' && c <= '9')
		return 'D';
	if (c == '.')
		return '.';
	return c && strchr("yYnNtTfFoO~", c) ? 'M' : 0;
}

static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A' + 10);
	return 99;
}

/* Go's strconv.ParseUint(s, 0, 64) on a string without "_"; *octal: a bare leading 0 chose base 8. */
static enum go_result go_parse_uint(const char *s, size_t n, uint64_t *out, int *octal)
{
	unsigned base = 10;
	size_t i = 0;
	uint64_t v = 0;
	int over = 0;

	*octal = 0;
	if (n == 0)
		return GO_SYNTAX;
	if (s[0] == '0') {
		char p = n >= 3 ? (char)(s[1] | 0x20) : 0;

		base = p == 'x' ? 16 : p == 'b' ? 2 : 8;
		i = (p == 'x' || p == 'o' || p == 'b') ? 2 : 1;
		*octal = i == 1;
	}
	for (; i < n; i++) {
		unsigned d = digit_value(s[i]);

		if (d >= base)
			return GO_SYNTAX;
		if (v > (UINT64_MAX - d) / base)
			over = 1;
		else
			v = v * base + d;
	}
	*out = v;
	return over ? GO_RANGE : GO_OK;
}

/* Go's strconv.ParseInt(s, 0, 64) on a string without "_". */
static enum go_result go_parse_int(const char *s, size_t n, int64_t *out, int *octal)
{
	int neg = n && s[0] == '-';
	uint64_t u;
	enum go_result r;

	if (n && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	r = go_parse_uint(s, n, &u, octal);
	if (r != GO_OK)
		return r;
	if (u > (uint64_t)INT64_MAX + neg)
		return GO_RANGE;
	if (neg)
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	else
		*out = (int64_t)u;
	*octal = *octal && n > 1;
	return GO_OK;
}

static size_t skip_digits(const char *s, size_t i, size_t n)
{
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s, size_t n)
{
	size_t i = 0, j;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < n && s[i] == '.') {
		j = skip_digits(s, i + 1, n);
		if (j == i + 1)
			return 0;
	} else {
		j = skip_digits(s, i, n);
		if (j == i)
			return 0;
		if (j < n && s[j] == '.')
			j = skip_digits(s, j + 1, n);
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		i = j + 1;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		j = skip_digits(s, i, n);
		if (j == i)
			return 0;
	}
	return j == n;
}

/* Go's ParseFloat on a NUL-terminated yamlStyleFloat string: -1 when it overflows. */
static int parse_double(const char *s, double *out)
{
	locale_t loc = c_locale();
	double d;

	errno = 0;
	d = strtod_l(s, NULL, loc);
	freelocale(loc);
	if (errno == ERANGE && isinf(d))
		return -1;
	*out = d;
	return 0;
}

/* A copy of text without "_"; in small when it fits, else on the heap (caller frees if != small). */
static char *without_underscores(const char *text, size_t len, char *small, size_t *n, int *had)
{
	char *p = len < SMALL_NUMBER ? small : xmalloc(st_add(len, 1));
	size_t k = 0;

	*had = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '_')
			*had = 1;
		else
			p[k++] = text[i];
	}
	p[k] = '\0';
	*n = k;
	return p;
}

static void out_of_range(const char *text, size_t len, struct strbuf *err)
{
	strbuf_addstr(err, "integer ");
	yscalar_add_quoted(err, text, len);
	strbuf_addf(err, " does not fit in 64 bits (%" PRId64 " to %" PRId64 "); quote it if it is not a number",
		    INT64_MIN, INT64_MAX);
}

/* After the integer forms failed: a float, an integer JSON cannot hold, or a string. */
static int resolve_not_int(struct yscalar *out, const char *plain, size_t n, const char *text, size_t len,
			   struct strbuf *err)
{
	int unsigned_form = plain[0] != '-' && plain[0] != '+';
	enum go_result ru = GO_SYNTAX;
	uint64_t u;
	int octal;

	if (unsigned_form)
		ru = go_parse_uint(plain, n, &u, &octal);
	/* go-yaml returns a uint64 here, and a big.Int below: neither fits a JSON integer of ours. */
	if (ru == GO_OK) {
		out_of_range(text, len, err);
		return -1;
	}
	if (yaml_style_float(plain, n) && parse_double(plain, &out->real) == 0) {
		out->kind = YSCALAR_FLOAT;
		return 0;
	}
	if (ru == GO_RANGE) {
		out_of_range(text, len, err);
		return -1;
	}
	return 0;
}

/* Plain scalars starting with a sign or a digit: int, float or string. */
static int resolve_number(struct yscalar *out, const char *text, size_t len, struct strbuf *err)
{
	char small[SMALL_NUMBER];
	size_t n;
	int had_underscore, octal, rc = 0;
	char *plain = without_underscores(text, len, small, &n, &had_underscore);

	if (go_parse_int(plain, n, &out->integer, &octal) == GO_OK) {
		out->kind = YSCALAR_INT;
		out->yaml11 = had_underscore || octal;
	} else {
		rc = resolve_not_int(out, plain, n, text, len, err);
		out->yaml11 = out->kind == YSCALAR_FLOAT && had_underscore;
	}
	if (plain != small)
		free(plain);
	return rc;
}

/* Go's underscore rule for ParseFloat without a base prefix: each "_" between two digits. */
static int underscores_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '_')
			continue;
		if (i == 0 || i + 1 == n || s[i - 1] < '0' || s[i - 1] > '9' || s[i + 1] < '0' ||
		    s[i + 1] > '9')
			return 0;
	}
	return 1;
}

/* Plain scalars starting with ".": go-yaml tries strconv.ParseFloat on the text as is. */
static void resolve_dot(struct yscalar *out, const char *text, size_t len)
{
	char small[SMALL_NUMBER];
	size_t n;
	int had_underscore;
	char *plain;

	if (!underscores_ok(text, len))
		return;
	plain = without_underscores(text, len, small, &n, &had_underscore);
	if (yaml_style_float(plain, n) && parse_double(plain, &out->real) == 0) {
		out->kind = YSCALAR_FLOAT;
		out->yaml11 = had_underscore;
	}
	if (plain != small)
		free(plain);
}

static int resolve_implicit(struct yscalar *out, const char *text, size_t len, struct strbuf *err)
{
	char h = hint(text, len);

	if (!h || lookup_word(out, text, len))
		return 0;
	if (h == '.')
		resolve_dot(out, text, len);
	else if (h == 'D' || h == 'S')
		return resolve_number(out, text, len, err);
	return 0;
}

static const char *std_tag_name(const char *tag)
{
	return strncmp(tag, STD_TAG, strlen(STD_TAG)) == 0 ? tag + strlen(STD_TAG) : NULL;
}

static void refuse_tag(const char *tag, const char *name, struct strbuf *err)
{
	strbuf_addstr(err, "the tag ");
	yscalar_add_tag(err, tag);
	if (name && (!strcmp(name, "binary") || !strcmp(name, "timestamp")))
		strbuf_addstr(err, " is not supported by Kubernetes' YAML reader; remove it and write the"
				   " value as a plain string");
	else if (name && (!strcmp(name, "map") || !strcmp(name, "seq")))
		strbuf_addstr(err, " cannot be used on a scalar");
	else if (name && !strcmp(name, "merge"))
		strbuf_addstr(err, " can only mark a merge key (<<)");
	else
		strbuf_addstr(err, " is unknown; only !!str, !!int, !!float, !!bool, !!null, !!map and"
				   " !!seq are supported");
}

static enum tag_class classify_tag(const char *tag, enum yscalar_kind *kind, struct strbuf *err)
{
	static const struct {
		const char *name;
		enum yscalar_kind kind;
	} typed[] = {
		{ "int", YSCALAR_INT }, { "float", YSCALAR_FLOAT },
		{ "bool", YSCALAR_BOOL }, { "null", YSCALAR_NULL },
	};
	const char *name;

	if (!tag)
		return TAG_IMPLICIT;
	name = std_tag_name(tag);
	if (!strcmp(tag, "!") || (name && !strcmp(name, "str")))
		return TAG_STRING;
	for (size_t i = 0; name && i < ARRAY_SIZE(typed); i++) {
		if (!strcmp(name, typed[i].name)) {
			*kind = typed[i].kind;
			return TAG_TYPED;
		}
	}
	refuse_tag(tag, name, err);
	return TAG_REFUSED;
}

/* go-yaml accepts a tagged scalar when its text resolves to the tag's kind (or an int for !!float). */
static int check_typed(struct yscalar *out, enum yscalar_kind want, const char *text, size_t len,
		       const char *tag, struct strbuf *err)
{
	out->yaml11 = 0;
	if (out->kind == want)
		return 0;
	if (want == YSCALAR_FLOAT && out->kind == YSCALAR_INT) {
		out->kind = YSCALAR_FLOAT;
		out->real = (double)out->integer;
		return 0;
	}
	yscalar_add_quoted(err, text, len);
	strbuf_addstr(err, " is not a valid ");
	yscalar_add_tag(err, tag);
	strbuf_addstr(err, " value");
	return -1;
}

int yscalar_resolve(struct yscalar *out, const char *text, size_t len, const char *tag, int plain,
		    struct strbuf *err)
{
	enum yscalar_kind want = YSCALAR_STR;

	memset(out, 0, sizeof(*out));
	out->kind = YSCALAR_STR;
	switch (classify_tag(tag, &want, err)) {
	case TAG_IMPLICIT:
		return plain ? resolve_implicit(out, text, len, err) : 0;
	case TAG_STRING:
		return 0;
	case TAG_TYPED:
		if (resolve_implicit(out, text, len, err) < 0)
			return -1;
		return check_typed(out, want, text, len, tag, err);
	case TAG_REFUSED:
		break;
	}
	return -1;
}

/* Significant digits of f printed to p digits, into d (nd returned), and the decimal exponent. */
static int float_digits(float f, int p, char *d, int *exp)
{
	char tmp[64];
	const char *s;
	int nd = 0;

	snprintf(tmp, sizeof(tmp), "%.*e", p - 1, (double)f);
	/* Skip the decimal point, whatever the locale made of it. */
	for (s = tmp; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			d[nd++] = *s;
	*exp = *s ? atoi(s + 1) : 0;
	d[nd] = '\0';
	return nd;
}

/* The fewest digits that read back as f (Go's shortest formatting); f > 0 and finite. */
static int shortest_digits(float f, char *d, int *exp)
{
	locale_t loc = c_locale();
	char back[64];
	int nd = 0;

	for (int p = 1; p <= 9; p++) {
		nd = float_digits(f, p, d, exp);
		snprintf(back, sizeof(back), "0.%se%d", d, *exp + 1);
		if (strtof_l(back, NULL, loc) == f)
			break;
	}
	freelocale(loc);
	return nd;
}

/* Go's fmtE and fmtF for 'g' with shortest digits d (nd of them), exponent exp. */
static void add_go_digits(struct strbuf *out, const char *d, int nd, int exp)
{
	int dp = exp + 1;

	if (exp < -4 || exp >= 6) {
		strbuf_addch(out, d[0]);
		if (nd > 1)
			strbuf_addf(out, ".%s", d + 1);
		strbuf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	if (dp <= 0)
		strbuf_addch(out, '0');
	for (int i = 0; i < dp; i++)
		strbuf_addch(out, i < nd ? d[i] : '0');
	if (nd > dp)
		strbuf_addch(out, '.');
	for (int i = dp; i < nd; i++)
		strbuf_addch(out, i < 0 ? '0' : d[i]);
}

/* strconv.FormatFloat(v, 'g', -1, 32), with sigs.k8s.io/yaml's names for infinities and NaN. */
static void add_go_float32(struct strbuf *out, double v)
{
	char d[16];
	int nd, exp;
	float f;

	/* float32(v) in Go rounds to infinity from half an ulp above FLT_MAX. */
	if (v >= 0x1.ffffffp127 || v <= -0x1.ffffffp127)
		v = v > 0 ? INFINITY : -INFINITY;
	if (isnan(v) || isinf(v)) {
		strbuf_addstr(out, isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf");
		return;
	}
	f = (float)v;
	if (signbit(f))
		strbuf_addch(out, '-');
	if (f == 0) {
		strbuf_addch(out, '0');
		return;
	}
	nd = shortest_digits(f < 0 ? -f : f, d, &exp);
	add_go_digits(out, d, nd, exp);
}

int yscalar_key(struct strbuf *out, const struct yscalar *s, const char *text, size_t len)
{
	switch (s->kind) {
	case YSCALAR_STR:
		strbuf_add(out, text, len);
		return 0;
	case YSCALAR_BOOL:
		strbuf_addstr(out, s->boolean ? "true" : "false");
		return 0;
	case YSCALAR_INT:
		strbuf_addf(out, "%" PRId64, s->integer);
		return 0;
	case YSCALAR_FLOAT:
		add_go_float32(out, s->real);
		return 0;
	case YSCALAR_NULL:
		break;
	}
	return -1;
}

void yscalar_add_tag(struct strbuf *sb, const char *tag)
{
	const char *name = std_tag_name(tag);

	if (name)
		strbuf_addf(sb, "!!%s", name);
	else
		strbuf_addstr(sb, tag);
}

void yscalar_add_quoted(struct strbuf *sb, const char *text, size_t len)
{
	size_t n = len;

	if (n > 60) {
		n = 60;
		/* Cut before a UTF-8 continuation byte, not inside a character. */
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	strbuf_addch(sb, '"');
	strbuf_add(sb, text, n);
	strbuf_addstr(sb, n < len ? "...\"" : "\"");
}
