/*
 * The merge walk: kyaml's walk.Walker with the merge2.Merger visitor, on
 * jansson values. Sources are (dest, origin) = (the object, the patch).
 * As in kyaml, a patch map or list that is added where the object had none
 * becomes the result itself and is then walked against itself, which
 * removes its nulls and applies its directives.
 */
#include "smp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "smp_int.h"
#include "strvec.h"
#include "util.h"
#include "banned.h"

int smp_fail(struct smp_walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->path.len)
		strbuf_addf(w->err, "at %s: ", w->path.buf + (w->path.buf[0] == '.'));
	va_start(ap, fmt);
	strbuf_vaddf(w->err, fmt, ap);
	va_end(ap);
	return -1;
}

const char *smp_text(const json_t *v, char buf[static 32])
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, 32, "%.17g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	default:
		return "";
	}
}

enum node_kind { NODE_NONE, NODE_MAP, NODE_SEQ, NODE_SCALAR };

static enum node_kind node_kind(const json_t *v)
{
	if (smp_is_nil(v))
		return NODE_NONE;
	if (json_is_object(v))
		return NODE_MAP;
	return json_is_array(v) ? NODE_SEQ : NODE_SCALAR;
}

static const char *kind_name(enum node_kind k)
{
	static const char *const names[] = { "nothing", "map", "list", "scalar" };

	return names[k];
}

/*
 * The directive of a map patch, removed from it when known. With strict
 * unset an unknown directive is left in place (kyaml ignores the error
 * when the object has nothing to merge into).
 */
static int map_directive(json_t *patch, int strict, struct smp_walk *w)
{
	static const char *const names[] = { "merge", "replace", "delete" };
	json_t *v = json_object_get(patch, "$patch");
	char buf[32];
	const char *s;

	if (!json_is_object(patch) || !v)
		return SMP_D_MERGE;
	s = smp_text(v, buf);
	for (int d = SMP_D_MERGE; d <= SMP_D_DELETE; d++) {
		if (strcmp(s, names[d]))
			continue;
		json_object_del(patch, "$patch");
		return d;
	}
	if (!strict)
		return SMP_D_MERGE;
	return smp_fail(w, "unknown \"$patch: %s\": use merge, replace or delete", s);
}

/*
 * What the object's map becomes before its fields are walked: *next is
 * borrowed (NULL when the map is to be removed).
 */
static int visit_map(json_t **next, json_t *dest, json_t *origin, struct smp_walk *w)
{
	int d;

	*next = NULL;
	if (smp_is_nil(dest)) {
		if (map_directive(origin, 0, w) != SMP_D_DELETE)
			*next = origin;
		return 0;
	}
	if (json_is_null(origin))
		return 0;
	d = map_directive(origin, 1, w);
	if (d < 0)
		return -1;
	if (d != SMP_D_DELETE)
		*next = d == SMP_D_REPLACE ? origin : dest;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted union of the member names of a and b (either may be a non-object). */
static void field_names(struct strvec *out, json_t *a, json_t *b)
{
	json_t *src[2] = { a, b };
	const char *k;
	json_t *v;

	for (int i = 0; i < 2; i++) {
		if (!json_is_object(src[i]))
			continue;
		json_object_foreach(src[i], k, v) {
			size_t j;

			for (j = 0; j < out->nr && strcmp(out->v[j], k); j++)
				;
			if (j == out->nr)
				strvec_push(out, k);
		}
	}
	qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
}

/* Set member key of map to val (taken); a removed or null value deletes the member. */
static void field_set(json_t *map, const char *key, json_t *val)
{
	if (smp_is_nil(val)) {
		json_object_del(map, key);
		json_decref(val);
		return;
	}
	json_object_set_new(map, key, val);
}

static int walk_map(json_t **out, json_t *dest, json_t *origin, const struct smp_schema *schema,
		    struct smp_walk *w)
{
	struct strvec keys = STRVEC_INIT;
	json_t *next;
	int ret = -1;

	*out = NULL;
	if (visit_map(&next, dest, origin, w) < 0)
		return -1;
	if (!next)
		return 0;
	field_names(&keys, next, origin);
	for (size_t i = 0; i < keys.nr; i++) {
		json_t *dv = json_object_get(next, keys.v[i]);
		json_t *ov = json_is_object(origin) ? json_object_get(origin, keys.v[i]) : NULL;
		size_t len = w->path.len;
		json_t *val;

		/* kyaml keeps an explicit null the patch does not mention */
		if (json_is_null(dv) && !ov)
			continue;
		strbuf_addch(&w->path, '.');
		strbuf_addstr(&w->path, keys.v[i]);
		if (smp_walk(&val, dv, ov, smp_schema_field(schema, keys.v[i]), w) < 0)
			goto cleanup;
		strbuf_setlen(&w->path, len);
		if (json_is_object(next))
			field_set(next, keys.v[i], val);
		else
			json_decref(val);
	}
	*out = json_incref(next);
	ret = 0;
cleanup:
	strvec_clear(&keys);
	return ret;
}

/* A word YAML 1.1 reads as a boolean or null when unquoted. */
static int yaml11_word(const char *s)
{
	static const char *const words[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
		"false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null",
		"NULL", ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF",
		".nan", ".NaN", ".NAN",
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(s, words[i]))
			return 1;
	return 0;
}

/* Would s, written without quotes, read back as a number? (underscores, 0x, 0b, 1:30 too) */
static int yaml11_number(const char *s)
{
	char *clean = xstrdup(s), *o = clean, *end;
	int ret;

	for (const char *c = s; *c; c++)
		if (*c != '_' && *c != ':')
			*o++ = *c;
	*o = '\0';
	if (!strncmp(clean, "0b", 2) && clean[2] && strspn(clean + 2, "01") == strlen(clean + 2)) {
		free(clean);
		return 1;
	}
	strtod(clean, &end);
	ret = *clean && !*end && !strchr(clean, ' ') && strcspn(clean, "0123456789") < strlen(clean);
	free(clean);
	return ret;
}

/*
 * Was this string quoted in the YAML it came from? A string that YAML
 * would read as something else, or could not write plainly, must have
 * been; others are taken as written plainly, which is how gitd's emitter
 * (and kustomize's) writes them. kyaml keeps a replaced scalar's quoting.
 */
static int quoted_in_yaml(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len;

	if (!s)
		return 0;
	len = strlen(s);
	if (!len || yaml11_word(s) || yaml11_number(s))
		return 1;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]) || s[len - 1] == ' ' || s[len - 1] == ':')
		return 1;
	return strstr(s, ": ") || strstr(s, " #") || strchr(s, '\n');
}

/* Without a schema, an object that names its apiVersion and kind brings its own. */
static const struct smp_schema *schema_from_meta(json_t *dest, json_t *origin)
{
	json_t *src[2] = { dest, origin };

	for (int i = 0; i < 2; i++) {
		const char *av = json_string_value(json_object_get(src[i], "apiVersion"));
		const char *kind = json_string_value(json_object_get(src[i], "kind"));
		const struct smp_schema *s;

		if (!av || !*av || !kind || !*kind)
			continue;
		s = smp_schema_for(av, kind);
		if (s)
			return s;
	}
	return NULL;
}

int smp_walk(json_t **out, json_t *dest, json_t *origin, const struct smp_schema *schema,
	     struct smp_walk *w)
{
	enum node_kind kd = node_kind(dest), ko = node_kind(origin);
	enum node_kind k = kd != NODE_NONE ? kd : ko;

	*out = NULL;
	if (!schema)
		schema = schema_from_meta(dest, origin);
	if (kd != NODE_NONE && ko != NODE_NONE && kd != ko)
		return smp_fail(w, "the patch has a %s where the object has a %s", kind_name(ko),
				kind_name(kd));
	if (k == NODE_SEQ && schema && schema->list && schema->keys)
		return smp_walk_assoc(out, dest, origin, schema, w);
	if (k == NODE_SCALAR && !smp_is_nil(origin) && !json_is_string(origin) &&
	    quoted_in_yaml(dest)) {
		/* the new value takes the old one's quotes: it becomes a string */
		char buf[32];

		*out = json_string(smp_text(origin, buf));
		return 0;
	}
	if (k == NODE_SEQ || k == NODE_SCALAR) {
		/* scalars, and lists without a merge strategy, are replaced */
		*out = json_incref(origin ? origin : dest);
		return 0;
	}
	return walk_map(out, dest, origin, schema, w);
}

/* Directives kustomize leaves in its output rather than apply; NULL when none. */
static const char *unapplied_directive(const char *key)
{
	static const char *const prefixes[] = { "$patch", "$retainKeys", "$setElementOrder/",
						"$deleteFromPrimitiveList/" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (starts_with(key, prefixes[i]))
			return prefixes[i];
	return NULL;
}

static int check_directives(const json_t *v, struct smp_walk *w)
{
	const char *k;
	json_t *c;

	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (check_directives(json_array_get(v, i), w) < 0)
				return -1;
		return 0;
	}
	json_object_foreach((json_t *)v, k, c) {
		size_t len = w->path.len;

		strbuf_addch(&w->path, '.');
		strbuf_addstr(&w->path, k);
		if (unapplied_directive(k))
			return smp_fail(w, "kustomize does not apply \"%s\" here and would copy it "
					   "into the output; remove it", k);
		if (check_directives(c, w) < 0)
			return -1;
		strbuf_setlen(&w->path, len);
	}
	return 0;
}

int smp_apply(json_t **obj, const json_t *patch, struct strbuf *err)
{
	struct smp_walk w = { err, STRBUF_INIT };
	json_t *p = json_deep_copy(patch), *out = NULL;
	int ret = -1;

	if (!json_is_object(*obj) || !json_is_object(p)) {
		strbuf_addstr(err, "a strategic merge patch and its target must be mappings");
		goto cleanup;
	}
	if (smp_walk(&out, *obj, p, NULL, &w) < 0)
		goto cleanup;
	if (smp_is_nil(out) || (json_is_object(out) && !json_object_size(out))) {
		json_decref(*obj);
		*obj = NULL;
		ret = SMP_DELETED;
		goto cleanup;
	}
	if (check_directives(out, &w) < 0)
		goto cleanup;
	json_decref(*obj);
	*obj = out; /* transferred */
	out = NULL;
	ret = SMP_MERGED;
cleanup:
	json_decref(out);
	json_decref(p);
	strbuf_release(&w.path);
	return ret;
}
