/*
 * Patch targets: kustomize's types.Selector. group, version and kind
 * match exactly; name and namespace are regular expressions matched
 * against the whole of the object's current or original value ("" and
 * "default" are the same namespace); labelSelector and
 * annotationSelector use Kubernetes' selector syntax ("a=b,c!=d,e in
 * (x,y),f notin (z),g,!h").
 *
 * kustomize's regular expressions are Go's (RE2). gitd compiles them as
 * POSIX extended ones, after turning \d \w \s (and their capitals) into
 * classes; RE2 syntax POSIX lacks ((?i), non-greedy repeats, \b, \pL)
 * is refused rather than misread.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "overlay_select.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

/* Translate an RE2 pattern to POSIX ERE, anchored; -1 with why set for unsupported syntax. */
static int re2_to_ere(struct strbuf *out, const char *re, const char **why)
{
	strbuf_addstr(out, "^(");
	for (const char *p = re; *p; p++) {
		const char *cls = NULL;

		if (p[0] == '(' && p[1] == '?') {
			*why = "groups with (? flags are not supported";
			return -1;
		}
		if ((p[0] == '*' || p[0] == '+' || p[0] == '?' || p[0] == '}') && p[1] == '?') {
			*why = "non-greedy repeats are not supported";
			return -1;
		}
		if (p[0] != '\\' || !p[1]) {
			strbuf_addch(out, *p);
			continue;
		}
		switch (p[1]) {
		case 'd': cls = "[0-9]"; break;
		case 'D': cls = "[^0-9]"; break;
		case 'w': cls = "[0-9A-Za-z_]"; break;
		case 'W': cls = "[^0-9A-Za-z_]"; break;
		case 's': cls = "[[:space:]]"; break;
		case 'S': cls = "[^[:space:]]"; break;
		default:
			/* letters are RE2 classes and assertions; digits, back-references */
			if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
			    (p[1] >= '0' && p[1] <= '9')) {
				*why = "this backslash escape is not supported";
				return -1;
			}
		}
		if (cls)
			strbuf_addstr(out, cls);
		else
			strbuf_add(out, p, 2);
		p++;
	}
	strbuf_addstr(out, ")$");
	return 0;
}

int ov_regex_compile(regex_t *re, const char *pattern, struct strbuf *err)
{
	struct strbuf ere = STRBUF_INIT;
	const char *why = NULL;
	int ret = -1;

	if (re2_to_ere(&ere, pattern, &why) < 0)
		strbuf_addf(err, "`%s`: %s", pattern, why);
	else if (regcomp(re, ere.buf, REG_EXTENDED | REG_NOSUB))
		strbuf_addf(err, "`%s` is not a valid regular expression", pattern);
	else
		ret = 0;
	strbuf_release(&ere);
	return ret;
}

/* ---- label selectors ---- */

struct lexer {
	const char *p;
};

static void skip_space(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

/* A key or value: letters, digits and . _ - / (values: no '/'). */
static char *word(struct lexer *lx)
{
	const char *start;

	skip_space(lx);
	start = lx->p;
	while (*lx->p && (strchr("._-/", *lx->p) || (*lx->p >= '0' && *lx->p <= '9') ||
			  (*lx->p >= 'a' && *lx->p <= 'z') || (*lx->p >= 'A' && *lx->p <= 'Z')))
		lx->p++;
	return xstrndup(start, (size_t)(lx->p - start));
}

static int take(struct lexer *lx, const char *tok)
{
	skip_space(lx);
	if (strncmp(lx->p, tok, strlen(tok)))
		return 0;
	lx->p += strlen(tok);
	return 1;
}

/* "(a, b)": is value (NULL for none) one of them? -1 on a syntax error. */
static int value_set(struct lexer *lx, const char *value)
{
	int found = 0;

	if (!take(lx, "("))
		return -1;
	for (;;) {
		char *v = word(lx);

		found |= value && !strcmp(v, value);
		free(v);
		if (take(lx, ")"))
			return found;
		if (!take(lx, ","))
			return -1;
	}
}

static const char *label_value(const json_t *labels, const char *key, char buf[static 32])
{
	json_t *v = json_object_get(labels, key);

	if (!v)
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return json_is_true(v) ? "true" : json_is_false(v) ? "false" : "";
}

/* Go's strconv.ParseInt for selector values: optional sign, decimal digits. */
static int parse_ll(const char *s, long long *out)
{
	char *end;

	if (!*s || strspn(s + (*s == '-' || *s == '+'), "0123456789") != strlen(s) - (*s == '-' || *s == '+'))
		return -1;
	*out = strtoll(s, &end, 10);
	return *end ? -1 : 0;
}

/* The comparison after a key: 1 matches, 0 does not, -1 syntax error. */
static int requirement_op(struct lexer *lx, const char *value)
{
	long long want, have;
	char *v;
	int ret;

	if (take(lx, "!=")) {
		v = word(lx);
		ret = !value || strcmp(v, value);
	} else if (take(lx, "==") || take(lx, "=")) {
		v = word(lx);
		ret = value && !strcmp(v, value);
	} else if (take(lx, "notin")) {
		ret = value_set(lx, value);
		return ret < 0 ? -1 : !ret;
	} else if (take(lx, "in")) {
		return value_set(lx, value);
	} else if (take(lx, ">")) {
		v = word(lx);
		ret = value && !parse_ll(v, &want) && !parse_ll(value, &have) && have > want;
	} else if (take(lx, "<")) {
		v = word(lx);
		ret = value && !parse_ll(v, &want) && !parse_ll(value, &have) && have < want;
	} else {
		return value != NULL; /* a bare key: it exists */
	}
	free(v);
	return ret;
}

int ov_label_selector_matches(const char *selector, const json_t *labels, int *bad)
{
	struct lexer lx = { selector };
	int all = 1;

	*bad = 0;
	skip_space(&lx);
	if (!*lx.p)
		return 1;
	for (;;) {
		int negate = take(&lx, "!"), m;
		char *key = word(&lx);
		char buf[32];
		const char *value = label_value(labels, key, buf);

		m = negate ? !value : requirement_op(&lx, value);
		if (!*key || m < 0) {
			free(key);
			*bad = 1;
			return 0;
		}
		free(key);
		all &= m;
		skip_space(&lx);
		if (!*lx.p)
			return all;
		if (!take(&lx, ",")) {
			*bad = 1;
			return 0;
		}
	}
}

/* ---- selectors ---- */

int ov_selector_init(struct ov_selector *s, const json_t *target, struct strbuf *err)
{
	static const char *const keys[] = { "group", "version", "kind", "name", "namespace",
					    "labelSelector", "annotationSelector" };
	const char **fields[] = { &s->group, &s->version, &s->kind, &s->name, &s->ns,
				  &s->labels, &s->annotations };
	const char *k;
	json_t *v;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(target)) {
		strbuf_addstr(err, "a `target` must be a mapping");
		return -1;
	}
	json_object_foreach((json_t *)target, k, v) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(keys) && strcmp(keys[i], k); i++)
			;
		if (i == ARRAY_SIZE(keys) || !json_is_string(v)) {
			strbuf_addf(err, i == ARRAY_SIZE(keys) ? "unknown target field `%s`" :
								   "target `%s` must be a string", k);
			return -1;
		}
		*fields[i] = *json_string_value(v) ? json_string_value(v) : NULL;
	}
	if (s->name && ov_regex_compile(&s->name_re, s->name, err) < 0)
		return -1;
	s->has_name_re = !!s->name;
	if (s->ns && ov_regex_compile(&s->ns_re, s->ns, err) < 0) {
		ov_selector_release(s);
		return -1;
	}
	s->has_ns_re = !!s->ns;
	return 0;
}

void ov_selector_release(struct ov_selector *s)
{
	if (s->has_name_re)
		regfree(&s->name_re);
	if (s->has_ns_re)
		regfree(&s->ns_re);
	s->has_name_re = s->has_ns_re = 0;
}

static int regex_match(const regex_t *re, const char *s)
{
	return !regexec(re, s, 0, NULL, 0);
}

static const char *meta(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));

	return s ? s : "";
}

int ov_selector_matches(const struct ov_selector *s, const struct ores *r, struct strbuf *err)
{
	const json_t *obj = r->obj, *md = json_object_get(obj, "metadata");
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	char *group, *version;
	int match, bad = 0;

	if (s->has_ns_re && !regex_match(&s->ns_re, ov_effective_ns(av, kind, r->org_ns)) &&
	    !regex_match(&s->ns_re, ov_effective_ns(av, kind, meta(obj, "namespace"))))
		return 0;
	if (s->has_name_re && !regex_match(&s->name_re, r->org_name) &&
	    !regex_match(&s->name_re, meta(obj, "name")))
		return 0;
	ov_split_gv(av, &group, &version);
	match = (!s->group || !strcmp(s->group, group)) && (!s->version || !strcmp(s->version, version)) &&
		(!s->kind || (kind && !strcmp(s->kind, kind)));
	free(group);
	free(version);
	if (match && s->labels)
		match = ov_label_selector_matches(s->labels, json_object_get(md, "labels"), &bad);
	if (!bad && match && s->annotations)
		match = ov_label_selector_matches(s->annotations, json_object_get(md, "annotations"), &bad);
	if (bad) {
		strbuf_addstr(err, "the label or annotation selector is not valid");
		return -1;
	}
	return match;
}
