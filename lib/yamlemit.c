/*
 * yamlemit: YAML text as `kubectl kustomize` prints it.
 *
 * kustomize prints each resource with sigs.k8s.io/yaml's JSONToYAML: the
 * resource goes to JSON, go-yaml v2 reads that JSON back into Go maps and
 * writes them with its port of libyaml's emitter (indent 2, width 80,
 * unicode on). Every rule below was checked against `kubectl kustomize`
 * output; the test corpus in tests/yamlemit/ holds the evidence.
 *
 * The emitter keeps libyaml's bookkeeping (column, "last character was
 * whitespace", "only indentation on this line") because the layout rules
 * are phrased in those terms; only what kustomize output can contain is
 * implemented: block mappings and sequences, "{}" and "[]" for empty ones,
 * and plain, single-quoted, double-quoted and literal scalars.
 */
#include "yamlemit.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "banned.h"

#define INDENT_STEP 2    /* go-yaml's best_indent */
#define BEST_WIDTH 80    /* fold scalars at the first space past this column */
#define MAX_SIMPLE_KEY 128 /* longer keys (in bytes) use the "? key" form */

/* ---- Characters ---------------------------------------------------------- */

static int is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

/* Decode the UTF-8 character at s (len > 0 bytes left); its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0];

	if (c < 0x80)
		n = 1;
	else if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int utf8_valid(const char *s, size_t len)
{
	size_t i, w;
	uint32_t c;

	for (i = 0; i < len; i += w)
		if (!(w = utf8_decode((const unsigned char *)s + i, len - i, &c)))
			return 0;
	return 1;
}

/* The character at s[i] of a valid UTF-8 string; *w gets its length. */
static uint32_t char_at(const char *s, size_t len, size_t i, size_t *w)
{
	uint32_t c = 0;

	*w = utf8_decode((const unsigned char *)s + i, len - i, &c);
	return c;
}

/*
 * go-yaml's printable set: tab, CR, NEL, DEL, C1 controls, U+FEFF, U+FFFE/F
 * and everything beyond the BMP (emoji) are not printable, which forces
 * double quotes: "\t", "\U0001F600".
 */
static int is_printable(uint32_t c)
{
	return c == '\n' || (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) ||
	       (c >= 0xe000 && c <= 0xfffd && c != 0xfeff);
}

/* YAML 1.1 line breaks: CR, LF, NEL, LS, PS. */
static int is_break(uint32_t c)
{
	return c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

static int is_blank(uint32_t c)
{
	return c == ' ' || c == '\t';
}

/* ---- Would a plain scalar read back as something other than this string? */

/*
 * go-yaml v2's resolve(): only text starting with one of these characters
 * can be anything but a string.
 */
static int resolve_hint(char c)
{
	return c && (strchr("+-.0123456789yYnNtTfFoO~", c) != NULL);
}

/* YAML 1.1 booleans (y/n/yes/no/on/off/true/false in three casings), nulls, inf and nan. */
static int is_resolve_word(const char *s, size_t len)
{
	static const char *const words[] = {
		"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
		"~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
		"+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == len && !memcmp(words[i], s, len))
			return 1;
	return 0;
}

static size_t digit_run(const char *s, size_t len, size_t i)
{
	size_t n = 0;

	while (i + n < len && is_digit((unsigned char)s[i + n]))
		n++;
	return n;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * Go's strconv.ParseUint(s, base, 64): 0 when s is an in-range unsigned
 * number. Base 0 reads a 0b/0o/0x prefix (any case), a bare leading 0 means
 * octal, so "0x1F", "0o17", "0777" are numbers and "08", "0x" are not.
 */
static int go_parse_uint(const char *s, size_t len, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (!len)
		return -1;
	if (base == 0) {
		char p = len >= 3 ? s[1] | 0x20 : 0;
		int prefixed = s[0] == '0' && (p == 'b' || p == 'o' || p == 'x');

		base = s[0] != '0' ? 10 : p == 'b' ? 2 : p == 'x' ? 16 : 8;
		i = s[0] != '0' ? 0 : prefixed ? 2 : 1;
	}
	for (; i < len; i++) {
		unsigned d = (unsigned)digit_value(s[i]);

		if (d >= (unsigned)base || v > (UINT64_MAX - d) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + d;
	}
	*out = v;
	return 0;
}

/* Go's strconv.ParseInt(s, base, 64): an optional sign, then ParseUint, in int64 range. */
static int go_parse_int(const char *s, size_t len, int base)
{
	int neg = len && s[0] == '-';
	uint64_t v;

	if (len && (s[0] == '+' || s[0] == '-'))
		s++, len--;
	if (go_parse_uint(s, len, base, &v) < 0)
		return -1;
	return v <= (uint64_t)INT64_MAX + (uint64_t)neg ? 0 : -1;
}

/* go-yaml v2's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int is_float_syntax(const char *s, size_t len)
{
	size_t i = 0, n, m;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	n = digit_run(s, len, i);
	i += n;
	if (i < len && s[i] == '.') {
		m = digit_run(s, len, i + 1);
		if (!n && !m)
			return 0;
		i += 1 + m;
	} else if (!n) {
		return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		n = digit_run(s, len, i);
		if (!n)
			return 0;
		i += n;
	}
	return i == len;
}

/*
 * Go's ParseFloat fails on overflow ("1e999" stays a plain string) but not
 * on underflow ("1e-999" is the float 0, so it is quoted). s is NUL-terminated
 * and matches is_float_syntax.
 */
static int float_is_finite(const char *s)
{
	return isfinite(strtod(s, NULL));
}

/* s without underscores, NUL-terminated (caller frees): go-yaml ignores them in numbers. */
static char *strip_underscores(const char *s, size_t len, size_t *out_len)
{
	char *p = xmalloc(st_add(len, 1));
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (s[i] != '_')
			p[n++] = s[i];
	p[n] = '\0';
	*out_len = n;
	return p;
}

/*
 * resolve() for text starting with a digit or sign: an int for ParseInt or
 * ParseUint with base 0 ("1_000", "+0x1F", "0o17"), a finite yamlStyleFloat
 * ("1.", "1e3", "-.5"), or "0b" followed by a signed binary number ("0b-1").
 */
static int resolves_to_number(const char *s, size_t len)
{
	size_t n;
	char *p = strip_underscores(s, len, &n);
	uint64_t v;
	int yes;

	yes = !go_parse_int(p, n, 0) || !go_parse_uint(p, n, 0, &v) ||
	      (is_float_syntax(p, n) && float_is_finite(p)) ||
	      (n >= 2 && p[0] == '0' && p[1] == 'b' &&
	       (!go_parse_int(p + 2, n - 2, 2) || !go_parse_uint(p + 2, n - 2, 2, &v)));
	free(p);
	return yes;
}

/*
 * resolve() for text starting with '.': ParseFloat, which allows an
 * underscore only between two digits (".5_5" is a float, "._5" is not).
 */
static int resolves_dot_float(const char *s, size_t len)
{
	size_t i, n;
	char *p;
	int yes;

	for (i = 0; i < len; i++)
		if (s[i] == '_' && (!i || i + 1 == len || !is_digit((unsigned char)s[i - 1]) ||
				    !is_digit((unsigned char)s[i + 1])))
			return 0;
	p = strip_underscores(s, len, &n);
	yes = is_float_syntax(p, n) && float_is_finite(p);
	free(p);
	return yes;
}

/* Go's time.Parse number: one or two digits. */
static int get_num(const char **p, const char *end, int *out)
{
	const char *s = *p;

	if (s >= end || !is_digit((unsigned char)*s))
		return -1;
	*out = *s++ - '0';
	if (s < end && is_digit((unsigned char)*s))
		*out = *out * 10 + (*s++ - '0');
	*p = s;
	return 0;
}

static int days_in(int month, int year)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* "YYYY-M-D" ("YYYY-" already checked), a real date: "2024-02-29" but not "2023-02-29". */
static int parse_date(const char **p, const char *end)
{
	const char *s = *p;
	int year = 0, month, day;

	for (; s < *p + 4; s++)
		year = year * 10 + (*s - '0');
	s++; /* '-' */
	if (get_num(&s, end, &month) || month < 1 || month > 12)
		return -1;
	if (s >= end || *s++ != '-' || get_num(&s, end, &day))
		return -1;
	if (day < 1 || day > days_in(month, year))
		return -1;
	*p = s;
	return 0;
}

/* "H:M:S" (one or two digits each, in range) and an optional ".digits" or ",digits". */
static int parse_clock(const char **p, const char *end)
{
	const char *s = *p;
	int h, m, sec;

	if (get_num(&s, end, &h) || h >= 24 || s >= end || *s++ != ':')
		return -1;
	if (get_num(&s, end, &m) || m >= 60 || s >= end || *s++ != ':')
		return -1;
	if (get_num(&s, end, &sec) || sec >= 60)
		return -1;
	if (end - s >= 2 && (*s == '.' || *s == ',') && is_digit((unsigned char)s[1]))
		for (s++; s < end && is_digit((unsigned char)*s); s++)
			;
	*p = s;
	return 0;
}

/* "Z" or "+hh:mm"/"-hh:mm" (hour up to 24, minute up to 60), then the end. */
static int parse_zone(const char *s, const char *end)
{
	if (s < end && *s == 'Z')
		return s + 1 == end ? 0 : -1;
	if (end - s != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	if (!is_digit((unsigned char)s[1]) || !is_digit((unsigned char)s[2]) ||
	    !is_digit((unsigned char)s[4]) || !is_digit((unsigned char)s[5]))
		return -1;
	if ((s[1] - '0') * 10 + (s[2] - '0') > 24 || (s[4] - '0') * 10 + (s[5] - '0') > 60)
		return -1;
	return 0;
}

/*
 * go-yaml v2 timestamps: Go's time.Parse with "2006-1-2T15:4:5.999999999Z07:00",
 * the same with "t", "2006-1-2 15:4:5.999999999" (any run of spaces) and
 * "2006-1-2". Exactly four year digits.
 */
static int is_timestamp(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	if (digit_run(s, len, 0) != 4 || len < 5 || s[4] != '-' || parse_date(&p, end))
		return 0;
	if (p == end)
		return 1;
	if (*p == 'T' || *p == 't') {
		p++;
		return !parse_clock(&p, end) && !parse_zone(p, end);
	}
	if (*p != ' ')
		return 0;
	while (p < end && *p == ' ')
		p++;
	return !parse_clock(&p, end) && p == end;
}

/* go-yaml v2 quotes YAML 1.1 base-60 numbers: ^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$ */
static int is_base60(const char *s, size_t len)
{
	size_t i = 0, n, groups = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= len || !is_digit((unsigned char)s[i]))
		return 0;
	while (i < len && (is_digit((unsigned char)s[i]) || s[i] == '_'))
		i++;
	for (; i < len && s[i] == ':'; i += 1 + n, groups++) {
		n = digit_run(s, len, i + 1);
		if (n < 1 || n > 2 || (n == 2 && s[i + 1] > '5'))
			return 0;
	}
	if (groups && i < len && s[i] == '.')
		for (i++; i < len && (is_digit((unsigned char)s[i]) || s[i] == '_'); i++)
			;
	return groups && i == len;
}

/*
 * 1 when s written plain would read back as a non-string under go-yaml v2's
 * YAML 1.1 rules, so it must be double-quoted: "", "~", "null", "y", "n",
 * "yes", "off", "True", "1", "1.5", "1e3", "0x1F", "0777", "1_000", ".inf",
 * "1:20", "2024-01-01". Not: "<<", "nan", "0x1p3", "1e999", "1.2.3", "v1".
 */
static int needs_double_quotes(const char *s, size_t len)
{
	if (!len || is_base60(s, len))
		return 1;
	if (!resolve_hint(s[0]))
		return 0;
	if (is_resolve_word(s, len))
		return 1;
	if (s[0] == '.')
		return resolves_dot_float(s, len);
	if (s[0] == '+' || s[0] == '-' || is_digit((unsigned char)s[0]))
		return is_timestamp(s, len) || resolves_to_number(s, len);
	return 0;
}

/* ---- Numbers ------------------------------------------------------------- */

/* By hand, so that the program need not link libm. */
static double abs_double(double d)
{
	return d < 0 ? -d : d;
}

/* Every double from 2^52 up is an integer; below, the int64 conversion is exact. */
static int is_integral(double d)
{
	return abs_double(d) >= 0x1p52 || (double)(int64_t)d == d;
}

/*
 * The shortest decimal digits that read back as d (finite, > 0), as Go's
 * strconv finds them, and the decimal exponent of the first digit.
 */
static void shortest_digits(double d, char digits[20], int *exp10)
{
	char buf[40], *p;
	size_t n = 0;
	int prec;

	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	for (p = buf; *p != 'e'; p++)
		if (is_digit((unsigned char)*p))
			digits[n++] = *p;
	digits[n] = '\0';
	*exp10 = atoi(p + 1);
}


/* Positional form of digits with dp of them before the point: "123456.7", "0.0001". */
static void format_positional(struct strbuf *sb, const char *digits, int dp)
{
	int i, nd = (int)strlen(digits);

	if (dp <= 0) {
		strbuf_addstr(sb, "0.");
		for (i = dp; i < 0; i++)
			strbuf_addch(sb, '0');
		strbuf_addstr(sb, digits);
		return;
	}
	for (i = 0; i < dp; i++)
		strbuf_addch(sb, i < nd ? digits[i] : '0');
	if (nd > dp)
		strbuf_addf(sb, ".%s", digits + dp);
}

/*
 * Go's FormatFloat(d, 'g', -1, 64): the exponent form when the exponent is
 * below -4 or at least 6 (1e+06, 1.5e-05, 1.2345678e+06, 1e-07), else
 * positional (123456.7, 0.0001, 0.5).
 */
static void format_go_g(struct strbuf *sb, double d)
{
	char digits[20];
	int exp10;

	if (d < 0)
		strbuf_addch(sb, '-');
	shortest_digits(abs_double(d), digits, &exp10);
	if (exp10 >= -4 && exp10 < 6) {
		format_positional(sb, digits, exp10 + 1);
		return;
	}
	strbuf_addch(sb, digits[0]);
	if (digits[1])
		strbuf_addf(sb, ".%s", digits + 1);
	strbuf_addf(sb, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
}

/*
 * An integral real below 1e21 leaves Go's JSON encoder without a fraction
 * ("1.0" -> "1", "1e20" -> "100000000000000000000"), and go-yaml reads that
 * back as an integer when it fits int64 or uint64. -1 when it does not.
 */
static int format_integral(struct strbuf *sb, double d)
{
	char digits[20], text[24];
	int exp10, i, nd;
	uint64_t v;

	if (d == 0) { /* -0.0 too: JSON "-0" reads as the integer 0 */
		strbuf_addch(sb, '0');
		return 0;
	}
	shortest_digits(abs_double(d), digits, &exp10);
	nd = (int)strlen(digits);
	for (i = 0; i <= exp10; i++)
		text[i] = i < nd ? digits[i] : '0';
	text[i] = '\0';
	if (go_parse_uint(text, (size_t)i, 10, &v) < 0 || (d < 0 && v > (uint64_t)INT64_MAX + 1))
		return -1;
	strbuf_addf(sb, "%s%s", d < 0 ? "-" : "", text);
	return 0;
}

/*
 * A real as kustomize prints it after the trip through JSON: 1.0 as "1",
 * -0.0 as "0", 1e3 as "1000", 1e20 as "1e+20", 0.5 as "0.5".
 */
static int format_real(struct strbuf *sb, double d)
{
	if (!isfinite(d))
		return -1;
	if (is_integral(d) && abs_double(d) < 1e21 && !format_integral(sb, d))
		return 0;
	format_go_g(sb, d);
	return 0;
}

/* ---- Key order ----------------------------------------------------------- */

/*
 * Non-ASCII blocks without letters: punctuation, symbols, combining marks,
 * emoji, private use. Go's unicode.IsLetter is approximated as "any other
 * non-ASCII character"; exact for ASCII and Latin-1, which is what
 * Kubernetes keys are made of.
 */
static const uint32_t nonletters[][2] = {
	{ 0x80, 0xa9 }, { 0xab, 0xb4 }, { 0xb6, 0xb9 }, { 0xbb, 0xbf }, { 0xd7, 0xd7 },
	{ 0xf7, 0xf7 }, { 0x300, 0x36f }, { 0x2000, 0x206f }, { 0x20a0, 0x20ff },
	{ 0x2190, 0x2bff }, { 0x3000, 0x3004 }, { 0x3007, 0x3030 }, { 0x3036, 0x303a },
	{ 0x303d, 0x303f }, { 0xd800, 0xf8ff }, { 0xfe00, 0xfe6f }, { 0xfeff, 0xfeff },
	{ 0xff01, 0xff20 }, { 0xff3b, 0xff40 }, { 0xff5b, 0xff65 }, { 0xfff0, 0xffff },
	{ 0x1f000, 0x1faff }, { 0xe0000, 0x10ffff },
};

static int is_letter(uint32_t c)
{
	size_t i;

	if (c < 0x80)
		return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
	for (i = 0; i < ARRAY_SIZE(nonletters); i++)
		if (c >= nonletters[i][0] && c <= nonletters[i][1])
			return 0;
	return 1;
}

/*
 * Two keys differ first at byte i (characters ca, cb) and neither is a
 * letter: compare the runs of digits there as numbers (non-digits count as
 * 0); a run continues digits before i unless those are all zeros. Go's
 * int64 arithmetic wraps, so uint64 is used and compared as int64.
 */
static int number_less(const char *a, size_t na, const char *b, size_t nb, size_t i,
		       uint32_t ca, uint32_t cb)
{
	uint64_t an = 0, bn = 0;
	size_t ai, bi, k;

	if (ca == '0' || cb == '0')
		for (k = i; k-- > 0 && is_digit((unsigned char)a[k]);)
			if (a[k] != '0') {
				an = bn = 1;
				break;
			}
	for (ai = i; ai < na && is_digit((unsigned char)a[ai]); ai++)
		an = an * 10 + (uint64_t)(a[ai] - '0');
	for (bi = i; bi < nb && is_digit((unsigned char)b[bi]); bi++)
		bn = bn * 10 + (uint64_t)(b[bi] - '0');
	if (an != bn)
		return (int64_t)an < (int64_t)bn;
	if (ai != bi)
		return ai < bi;
	return ca < cb;
}

/*
 * go-yaml v2's key order (keyList.Less), used by kustomize at every level of
 * every object: at the first differing character, two letters compare by
 * code point, a letter sorts after anything else, and otherwise the runs of
 * digits there compare as numbers. So: "" < "-" < "." < "_x" < "~" < "1" <
 * "2" < "10" < "B" < "Z" < "a" < "z" < "é", "a-b" < "ab", "x9" < "x10",
 * and "apiVersion" < "data" < "kind" < "metadata" < "spec" < "status".
 */
static int key_less(const char *a, size_t na, const char *b, size_t nb)
{
	size_t i = 0, wa, wb;

	while (i < na && i < nb) {
		uint32_t ca = char_at(a, na, i, &wa), cb = char_at(b, nb, i, &wb);
		int al, bl;

		if (ca == cb) {
			i += wa;
			continue;
		}
		al = is_letter(ca);
		bl = is_letter(cb);
		if (al && bl)
			return ca < cb;
		if (al || bl)
			return bl;
		return number_less(a, na, b, nb, i, ca, cb);
	}
	return na < nb;
}

struct member {
	const char *key;
	size_t len;
	const json_t *value;
};

static int member_less(const struct member *a, const struct member *b)
{
	return key_less(a->key, a->len, b->key, b->len);
}

/* Byte order, a total order, for the presort. */
static int member_cmp_bytes(const void *x, const void *y)
{
	const struct member *a = x, *b = y;
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Stable merge sort of m[0..n) by member_less; tmp holds n members. */
static void merge_sort(struct member *m, struct member *tmp, size_t n)
{
	size_t half = n / 2, i = 0, j = half, k = 0;

	if (n < 2)
		return;
	merge_sort(m, tmp, half);
	merge_sort(m + half, tmp, n - half);
	while (i < half && j < n)
		tmp[k++] = member_less(&m[j], &m[i]) ? m[j++] : m[i++];
	while (i < half)
		tmp[k++] = m[i++];
	memcpy(m, tmp, k * sizeof(*m));
}

/*
 * Sort members by key_less. That order can be cyclic when digit runs meet
 * letters ("a2" < "a10" < "a1b" < "a2"); kustomize then prints the keys in
 * an order that changes from run to run with Go's map order. Here the
 * keys are first put in byte order, so the result depends only on the set
 * of keys, and equals kustomize's whenever kustomize's is determined.
 */
static void sort_members(struct member *m, size_t n)
{
	struct member *tmp = xcalloc(n, sizeof(*tmp));

	qsort(m, n, sizeof(*m), member_cmp_bytes);
	merge_sort(m, tmp, n);
	free(tmp);
}

/* obj's members in key order (caller frees); -1 when a key is not valid UTF-8. */
static int sorted_members(struct member **out, const json_t *obj)
{
	struct member *m = xcalloc(json_object_size(obj), sizeof(*m));
	const char *key;
	size_t len, n = 0;
	json_t *value;

	/* jansson's iteration wants a non-const object; nothing is modified. */
	json_object_keylen_foreach((json_t *)obj, key, len, value) {
		if (!utf8_valid(key, len)) {
			free(m);
			return -1;
		}
		m[n++] = (struct member){ key, len, value };
	}
	sort_members(m, n);
	*out = m;
	return 0;
}

/* ---- Layout -------------------------------------------------------------- */

struct emitter {
	struct strbuf *out;
	int indent;      /* indentation of the current node; -1 outside the root */
	size_t column;   /* characters (not bytes) since the last line break */
	int whitespace;  /* the last thing written separates like a space */
	int indention;   /* the line holds only indentation and "-", "?", ":" indicators */
	unsigned depth;
	int failed;      /* out's cap was reached */
};

/* Where a node sits: decides indentation of sequences and folding of scalars. */
enum context {
	CTX_ROOT,
	CTX_SEQUENCE,   /* an item of a block sequence */
	CTX_MAPPING,    /* a mapping value, or a key in the "? key" form */
	CTX_SIMPLE_KEY, /* a key in the "key: value" form: never folded */
};

static void put(struct emitter *e, char c)
{
	if (strbuf_addch(e->out, c) < 0)
		e->failed = 1;
	e->column++;
}

static void put_break(struct emitter *e)
{
	if (strbuf_addch(e->out, '\n') < 0)
		e->failed = 1;
	e->column = 0;
}

/* Copy the character at s[*i] and step over it. */
static void write_char(struct emitter *e, const char *s, size_t len, size_t *i)
{
	size_t w;

	char_at(s, len, *i, &w);
	if (strbuf_add(e->out, s + *i, w) < 0)
		e->failed = 1;
	e->column++;
	*i += w;
}

/* Copy s[*i] up to end, characters without line breaks, and step over them. */
static void write_run(struct emitter *e, const char *s, size_t end, size_t *i)
{
	if (strbuf_add(e->out, s + *i, end - *i) < 0)
		e->failed = 1;
	for (; *i < end; (*i)++)
		e->column += ((unsigned char)s[*i] & 0xc0) != 0x80; /* one per character */
}

/* Copy the line break at s[*i]: "\n" as a newline; LS and PS as they are. */
static void write_break(struct emitter *e, const char *s, size_t len, size_t *i)
{
	if (s[*i] == '\n') {
		put_break(e);
		(*i)++;
		return;
	}
	write_char(e, s, len, i);
	e->column = 0;
}

/* Go to the current indentation, starting a new line unless already there. */
static void write_indent(struct emitter *e)
{
	size_t indent = e->indent < 0 ? 0 : (size_t)e->indent;

	if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
		put_break(e);
	while (e->column < indent)
		put(e, ' ');
	e->whitespace = 1;
	e->indention = 1;
}

static void write_indicator(struct emitter *e, const char *indicator, int need_whitespace,
			    int is_whitespace, int is_indention)
{
	if (need_whitespace && !e->whitespace)
		put(e, ' ');
	while (*indicator)
		put(e, *indicator++);
	e->whitespace = is_whitespace;
	e->indention = e->indention && is_indention;
}

/*
 * Indentation steps by 2. The root's block content starts at column 0 and a
 * root scalar's continuation lines at 2; an "indentless" sequence (a
 * mapping value) puts its "- " at its key's column. Returns the old value.
 */
static int increase_indent(struct emitter *e, int scalar, int indentless)
{
	int old = e->indent;

	if (e->indent < 0)
		e->indent = scalar ? INDENT_STEP : 0;
	else if (!indentless)
		e->indent += INDENT_STEP;
	return old;
}

/* ---- Scalar styles ------------------------------------------------------- */

enum style { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL };

/* What libyaml's scalar analysis finds, reduced to what block context needs. */
enum scalar_trait {
	LEADING_SPACE = 1 << 0,
	LEADING_BREAK = 1 << 1,
	TRAILING_SPACE = 1 << 2,
	TRAILING_BREAK = 1 << 3,
	BREAK_SPACE = 1 << 4,   /* a space right after a line break */
	SPACE_BREAK = 1 << 5,   /* a space right before a line break */
	SPECIAL = 1 << 6,       /* a character that is not printable */
	LINE_BREAKS = 1 << 7,
	INDICATOR = 1 << 8,     /* plain text would parse as YAML syntax */
};

/*
 * Plain text is syntax when it starts with one of #,[]{}&*!|>'"%@` or with
 * "? ", ": ", "- " (or is just "?", ":", "-"), or contains ": " or " #", or
 * ends in ":". Inside, ",[]{}?" are fine: "a,b", "a[b", "?a", ":a", "-a".
 */
static unsigned indicator_trait(uint32_t c, int first, int preceded_by_ws, int followed_by_ws)
{
	if (first) {
		if (c && c < 0x80 && strchr("#,[]{}&*!|>'\"%@`", (int)c))
			return INDICATOR;
		return (c == '?' || c == ':' || c == '-') && followed_by_ws ? INDICATOR : 0;
	}
	return (c == ':' && followed_by_ws) || (c == '#' && preceded_by_ws) ? INDICATOR : 0;
}

static unsigned space_trait(uint32_t c, uint32_t prev, int first, int last)
{
	unsigned t = 0;

	if (c == ' ') {
		t |= first ? LEADING_SPACE : 0;
		t |= last ? TRAILING_SPACE : 0;
		t |= is_break(prev) ? BREAK_SPACE : 0;
	} else if (is_break(c)) {
		t |= LINE_BREAKS;
		t |= first ? LEADING_BREAK : 0;
		t |= last ? TRAILING_BREAK : 0;
		t |= prev == ' ' ? SPACE_BREAK : 0;
	}
	return t;
}

/* libyaml's yaml_emitter_analyze_scalar as go-yaml v2 has it. */
static unsigned analyze(const char *s, size_t len)
{
	unsigned t = 0;
	uint32_t c, prev = 0, next;
	size_t i, w, nw;

	if (len >= 3 && (!memcmp(s, "---", 3) || !memcmp(s, "...", 3)))
		t |= INDICATOR;
	for (i = 0; i < len; i += w, prev = c) {
		int last;

		c = char_at(s, len, i, &w);
		last = i + w == len;
		next = last ? 0 : char_at(s, len, i + w, &nw);
		/* "preceded by whitespace" includes NUL and line breaks; "followed by" not */
		t |= indicator_trait(c, i == 0, !i || is_blank(prev) || is_break(prev) || !prev,
				     last || is_blank(next));
		t |= space_trait(c, prev, i == 0, last);
		if (!is_printable(c))
			t |= SPECIAL;
	}
	return t;
}

/*
 * go-yaml's choice for a string: a literal block if it has a newline, double
 * quotes if plain text would read back as another type, else plain.
 */
static enum style requested_style(const char *s, size_t len)
{
	if (memchr(s, '\n', len))
		return STYLE_LITERAL;
	return needs_double_quotes(s, len) ? STYLE_DOUBLE : STYLE_PLAIN;
}

/*
 * libyaml's fallbacks: plain -> single quotes when the text has leading or
 * trailing spaces, line breaks (LS, PS), indicators or is empty; single ->
 * double quotes for non-printable characters or spaces next to line breaks;
 * literal -> double quotes for those or trailing spaces ("a\nb " and
 * "a \nb" are double-quoted; " a\nb" and "a\n b" stay literal). Keys that
 * would need the other rules (multi-line, empty plain) never reach here as
 * simple keys.
 */
static enum style select_style(enum style style, unsigned t)
{
	unsigned no_plain = LEADING_SPACE | LEADING_BREAK | TRAILING_SPACE | TRAILING_BREAK |
			    BREAK_SPACE | SPACE_BREAK | SPECIAL | LINE_BREAKS | INDICATOR;

	if (style == STYLE_PLAIN && (t & no_plain))
		style = STYLE_SINGLE;
	if (style == STYLE_SINGLE && (t & (BREAK_SPACE | SPACE_BREAK | SPECIAL)))
		style = STYLE_DOUBLE;
	if (style == STYLE_LITERAL && (t & (TRAILING_SPACE | SPACE_BREAK | SPECIAL)))
		style = STYLE_DOUBLE;
	return style;
}

/* Plain text, folded at a single space once past column 80 (never in keys). */
static void write_plain(struct emitter *e, const char *s, size_t len, int allow_breaks)
{
	size_t i = 0;
	int spaces = 0;

	if (!e->whitespace)
		put(e, ' ');
	while (i < len) {
		if (s[i] == ' ') {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i + 1 < len &&
			    s[i + 1] != ' ') {
				write_indent(e);
				i++;
			} else {
				write_char(e, s, len, &i);
			}
			spaces = 1;
		} else {
			const char *space = memchr(s + i, ' ', len - i);

			/* nothing folds before the next space: copy up to it at once */
			write_run(e, s, space ? (size_t)(space - s) : len, &i);
			e->indention = 0;
			spaces = 0;
		}
	}
	e->whitespace = 0;
	e->indention = 0;
}

/*
 * 'single quotes' with '' for a quote, folded like plain text but never at
 * the first or last character. A line break (only LS or PS can get here)
 * is copied and the next line indented.
 */
static void write_single(struct emitter *e, const char *s, size_t len, int allow_breaks)
{
	size_t i = 0, w;
	int spaces = 0, breaks = 0;

	write_indicator(e, "'", 1, 0, 0);
	while (i < len) {
		uint32_t c = char_at(s, len, i, &w);

		if (c == ' ') {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 &&
			    i + 1 < len && s[i + 1] != ' ') {
				write_indent(e);
				i++;
			} else {
				write_char(e, s, len, &i);
			}
			spaces = 1;
		} else if (is_break(c)) {
			if (!breaks && c == '\n')
				put_break(e);
			write_break(e, s, len, &i);
			e->indention = 1;
			breaks = 1;
		} else {
			if (breaks)
				write_indent(e);
			if (c == '\'')
				put(e, '\'');
			write_char(e, s, len, &i);
			e->indention = 0;
			spaces = breaks = 0;
		}
	}
	write_indicator(e, "'", 0, 0, 0);
	e->whitespace = 0;
	e->indention = 0;
}

/* Escapes: \0 \a \b \t \n \v \f \r \e \" \\ \N \_ \L \P, else \xXX, \uXXXX, \UXXXXXXXX. */
static void write_escape(struct emitter *e, uint32_t c)
{
	static const char named_chars[] = "\0\a\b\t\n\v\f\r\x1b\"\\";
	static const char named_letters[] = "0abtnvfre\"\\";
	char hex[12];
	size_t i;

	put(e, '\\');
	for (i = 0; i < sizeof(named_chars) - 1; i++)
		if (c == (unsigned char)named_chars[i]) {
			put(e, named_letters[i]);
			return;
		}
	if (c == 0x85 || c == 0xa0 || c == 0x2028 || c == 0x2029) {
		put(e, c == 0x85 ? 'N' : c == 0xa0 ? '_' : c == 0x2028 ? 'L' : 'P');
		return;
	}
	snprintf(hex, sizeof(hex), c <= 0xff ? "x%02X" : c <= 0xffff ? "u%04X" : "U%08X", c);
	for (i = 0; hex[i]; i++)
		put(e, hex[i]);
}

/*
 * "Double quotes" with escapes for non-printable characters, line breaks,
 * '"' and '\'. Folded at a space past column 80 like single quotes; when
 * the next character is a space too it is escaped ("\ ") so it survives.
 * go-yaml quirk: when the text starts with a BOM, every character is
 * escaped ("\uFEFF\x61").
 */
static void write_double(struct emitter *e, const char *s, size_t len, int allow_breaks)
{
	int bom = len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3), spaces = 0;
	size_t i = 0, w;

	write_indicator(e, "\"", 1, 0, 0);
	while (i < len) {
		uint32_t c = char_at(s, len, i, &w);

		if (bom || !is_printable(c) || is_break(c) || c == '"' || c == '\\') {
			write_escape(e, c);
			i += w;
			spaces = 0;
		} else if (c == ' ') {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 &&
			    i + 1 < len) {
				write_indent(e);
				if (s[i + 1] == ' ')
					put(e, '\\');
				i++;
			} else {
				write_char(e, s, len, &i);
			}
			spaces = 1;
		} else {
			write_char(e, s, len, &i);
			spaces = 0;
		}
	}
	write_indicator(e, "\"", 0, 0, 0);
	e->whitespace = 0;
	e->indention = 0;
}

/* Offset of the last character of s (len > 0). */
static size_t last_char(const char *s, size_t len)
{
	size_t i = len - 1;

	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/*
 * Block header after "|": "2" when the text starts with a space or line break
 * (a reader could not guess the indentation), then "-" when it does not end
 * in a line break, "+" when it ends in two or more (or is only one), nothing
 * when it ends in exactly one.
 */
static void write_block_hints(struct emitter *e, const char *s, size_t len)
{
	size_t w, i = last_char(s, len);
	uint32_t c = char_at(s, len, 0, &w);

	if (c == ' ' || is_break(c))
		write_indicator(e, "2", 0, 0, 0);
	if (!is_break(char_at(s, len, i, &w)))
		write_indicator(e, "-", 0, 0, 0);
	else if (i == 0 || is_break(char_at(s, len, last_char(s, i), &w)))
		write_indicator(e, "+", 0, 0, 0);
}

/* A literal block: lines as they are (never folded), empty lines not indented. */
static void write_literal(struct emitter *e, const char *s, size_t len)
{
	size_t i = 0, w;
	int breaks = 1;

	write_indicator(e, "|", 1, 0, 0);
	write_block_hints(e, s, len);
	put_break(e);
	e->indention = 1;
	e->whitespace = 1;
	while (i < len) {
		if (is_break(char_at(s, len, i, &w))) {
			write_break(e, s, len, &i);
			e->indention = 1;
			breaks = 1;
		} else {
			if (breaks)
				write_indent(e);
			write_char(e, s, len, &i);
			e->indention = 0;
			breaks = 0;
		}
	}
}

static void emit_scalar(struct emitter *e, const char *s, size_t len, enum style style,
			enum context ctx)
{
	int allow_breaks = ctx != CTX_SIMPLE_KEY;
	int old;

	style = select_style(style, analyze(s, len));
	old = increase_indent(e, 1, 0);
	if (style == STYLE_PLAIN)
		write_plain(e, s, len, allow_breaks);
	else if (style == STYLE_SINGLE)
		write_single(e, s, len, allow_breaks);
	else if (style == STYLE_DOUBLE)
		write_double(e, s, len, allow_breaks);
	else
		write_literal(e, s, len);
	e->indent = old;
}

/* ---- Nodes --------------------------------------------------------------- */

static int emit_node(struct emitter *e, const json_t *v, enum context ctx);

static int emit_string(struct emitter *e, const char *s, size_t len, enum context ctx)
{
	if (!utf8_valid(s, len))
		return -1;
	emit_scalar(e, s, len, requested_style(s, len), ctx);
	return 0;
}

/*
 * "key: value", or "? key\n: value" when the key is longer than 128 bytes
 * or has a line break; then the key may fold and a value starts on the ":"
 * line (": - 1\n  - 2", ": a: 1").
 */
static int emit_member(struct emitter *e, const struct member *m)
{
	size_t i, w;
	int simple = m->len <= MAX_SIMPLE_KEY;

	for (i = 0; i < m->len && simple; i += w)
		simple = !is_break(char_at(m->key, m->len, i, &w));
	write_indent(e);
	if (simple) {
		emit_scalar(e, m->key, m->len, requested_style(m->key, m->len), CTX_SIMPLE_KEY);
		write_indicator(e, ":", 0, 0, 0);
	} else {
		write_indicator(e, "?", 1, 0, 1);
		emit_scalar(e, m->key, m->len, requested_style(m->key, m->len), CTX_MAPPING);
		write_indent(e);
		write_indicator(e, ":", 1, 0, 1);
	}
	return emit_node(e, m->value, CTX_MAPPING);
}

/* Keys in key_less order, each at the mapping's indentation; "{}" when empty. */
static int emit_mapping(struct emitter *e, const json_t *obj)
{
	struct member *m;
	size_t i, n = json_object_size(obj);
	int old, rc = 0;

	if (!n) {
		write_indicator(e, "{", 1, 1, 0);
		write_indicator(e, "}", 0, 0, 0);
		return 0;
	}
	if (sorted_members(&m, obj) < 0)
		return -1;
	old = increase_indent(e, 0, 0);
	for (i = 0; i < n && !rc; i++)
		rc = emit_member(e, &m[i]);
	e->indent = old;
	free(m);
	return rc;
}

/*
 * "- item" lines; "[]" when empty. As a mapping value the dashes stay at the
 * key's column ("key:\n- a"); as an item they are indented ("- - a\n  - b").
 */
static int emit_sequence(struct emitter *e, const json_t *arr, enum context ctx)
{
	size_t i, n = json_array_size(arr);
	int mapping = ctx == CTX_MAPPING || ctx == CTX_SIMPLE_KEY;
	int old, rc = 0;

	if (!n) {
		write_indicator(e, "[", 1, 1, 0);
		write_indicator(e, "]", 0, 0, 0);
		return 0;
	}
	old = increase_indent(e, 0, mapping && !e->indention);
	for (i = 0; i < n && !rc; i++) {
		write_indent(e);
		write_indicator(e, "-", 1, 0, 1);
		rc = emit_node(e, json_array_get(arr, i), CTX_SEQUENCE);
	}
	e->indent = old;
	return rc;
}

/* Numbers, booleans and null: plain text. */
static int emit_atom(struct emitter *e, const json_t *v, enum context ctx)
{
	struct strbuf text = STRBUF_INIT;
	int rc = 0;

	if (json_is_integer(v))
		strbuf_addf(&text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		rc = format_real(&text, json_real_value(v));
	else if (json_is_boolean(v))
		strbuf_addstr(&text, json_is_true(v) ? "true" : "false");
	else
		strbuf_addstr(&text, "null");
	if (!rc)
		emit_scalar(e, text.buf, text.len, STYLE_PLAIN, ctx);
	strbuf_release(&text);
	return rc;
}

static int emit_node(struct emitter *e, const json_t *v, enum context ctx)
{
	int rc;

	if (!v || e->depth >= YAMLEMIT_MAX_DEPTH)
		return -1;
	e->depth++;
	if (json_is_object(v))
		rc = emit_mapping(e, v);
	else if (json_is_array(v))
		rc = emit_sequence(e, v, ctx);
	else if (json_is_string(v))
		rc = emit_string(e, json_string_value(v), json_string_length(v), ctx);
	else
		rc = emit_atom(e, v, ctx);
	e->depth--;
	return rc;
}

static int emit_document(struct strbuf *out, const json_t *value)
{
	struct emitter e = { .out = out, .indent = -1, .whitespace = 1, .indention = 1 };

	if (emit_node(&e, value, CTX_ROOT) < 0)
		return -1;
	write_indent(&e); /* end the last line */
	return e.failed ? -1 : 0;
}

int yamlemit_doc(struct strbuf *out, const json_t *value)
{
	return yamlemit_stream(out, &value, 1);
}

int yamlemit_stream(struct strbuf *out, const json_t *const *docs, size_t n)
{
	/* Numbers are read and printed with '.' whatever the program's LC_NUMERIC. */
	locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	locale_t saved = c_locale ? uselocale(c_locale) : (locale_t)0;
	size_t start = out->len, i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		if (i && strbuf_addstr(out, "---\n") < 0)
			rc = -1;
		else
			rc = emit_document(out, docs[i]);
	}
	if (rc)
		strbuf_setlen(out, start);
	if (c_locale) {
		uselocale(saved);
		freelocale(c_locale);
	}
	return rc;
}
