/*
 * Merging a list that has a merge strategy, as kyaml's
 * walkAssociativeSequence does with the "prepend" option kustomize uses.
 *
 * Each element is identified by the text of its key fields (a "tuple"; ""
 * for a missing key). The patch's tuples come first, then the object's;
 * each tuple's pair of elements is merged and collected in that order, and
 * the object's elements are then folded into the collection: an element
 * with the same key replaces its match in place, others go to the end.
 * With two key fields (ports: containerPort and protocol) an object's
 * element is taken out and appended again, so the object's order wins,
 * and tuples that differ only by a missing key are unified first. The
 * helpers below mirror kyaml's ElementSetter, ElementList and friends,
 * down to their corner cases, because the output order depends on them.
 */
#include "smp_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strvec.h"
#include "util.h"
#include "banned.h"

#define SMP_MAX_LIST 10000

/* kyaml's [][]string: one tuple of key texts per element. */
struct tuples {
	struct strvec *v;
	size_t nr, alloc;
};

static void tuples_push(struct tuples *t, const struct strvec *src)
{
	struct strvec *dst;

	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	dst = &t->v[t->nr++];
	*dst = (struct strvec)STRVEC_INIT;
	for (size_t i = 0; i < src->nr; i++)
		strvec_push(dst, src->v[i]);
}

static void tuples_clear(struct tuples *t)
{
	for (size_t i = 0; i < t->nr; i++)
		strvec_clear(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->nr = t->alloc = 0;
}

static void tuple_copy(struct strvec *dst, const struct strvec *src)
{
	strvec_clear(dst);
	for (size_t i = 0; i < src->nr; i++)
		strvec_push(dst, src->v[i]);
}

static int tuple_eq(const struct strvec *a, const struct strvec *b)
{
	if (a->nr != b->nr)
		return 0;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->v[i], b->v[i]))
			return 0;
	return 1;
}

/* The text kyaml compares for a node: a scalar's value, "" for maps and lists. */
static const char *node_value(const json_t *v, char buf[static 32])
{
	return json_is_object(v) || json_is_array(v) ? "" : smp_text(v, buf);
}

/* A key field's text as ElementValuesList reads it: "" when missing, null or empty. */
static const char *key_text(const json_t *elem, const char *key, char buf[static 32])
{
	json_t *f = json_is_object(elem) ? json_object_get(elem, key) : NULL;

	if (smp_is_nil(f) || (json_is_object(f) && !json_object_size(f)) ||
	    (json_is_array(f) && !json_array_size(f)))
		return "";
	return node_value(f, buf);
}

/* The distinct key tuples of the patch's elements, then of the object's. */
static void element_values(struct tuples *out, const struct strvec *keys, json_t *origin,
			   json_t *dest)
{
	json_t *src[2] = { origin, dest };

	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; keys->nr && i < json_array_size(src[s]); i++) {
			struct strvec t = STRVEC_INIT;
			size_t j;
			char buf[32];

			for (size_t k = 0; k < keys->nr; k++)
				strvec_push(&t, key_text(json_array_get(src[s], i), keys->v[k], buf));
			for (j = 0; j < out->nr && !tuple_eq(&out->v[j], &t); j++)
				;
			if (j == out->nr)
				tuples_push(out, &t);
			strvec_clear(&t);
		}
	}
}

/* For a list of scalars (finalizers): the distinct values, the patch's first. */
static void primitive_values(struct tuples *out, json_t *origin, json_t *dest)
{
	json_t *src[2] = { origin, dest };

	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < json_array_size(src[s]); i++) {
			char buf[32];
			const char *v = node_value(json_array_get(src[s], i), buf);
			struct strvec t = STRVEC_INIT;
			size_t j;

			strvec_push(&t, v);
			for (j = 0; j < out->nr && !tuple_eq(&out->v[j], &t); j++)
				;
			if (j == out->nr)
				tuples_push(out, &t);
			strvec_clear(&t);
		}
	}
}

/* Two tuples match when they share a value and differ only where one is "". */
static int tuple_match(struct strvec *res, const struct strvec *a, const struct strvec *b)
{
	int common = 0;

	strvec_clear(res);
	if (a->nr != b->nr)
		return 0;
	for (size_t i = 0; i < a->nr; i++) {
		if (!strcmp(a->v[i], b->v[i])) {
			common = 1;
			strvec_push(res, a->v[i]);
		} else if (*a->v[i] && *b->v[i]) {
			return 0;
		} else {
			strvec_push(res, *a->v[i] ? a->v[i] : b->v[i]);
		}
	}
	return common;
}

/* Unify tuples that differ only by missing keys (kyaml's mergeValues). */
static void merge_values(struct tuples *t)
{
	struct strvec v1 = STRVEC_INIT, res = STRVEC_INIT;

	for (size_t i = 0; i < t->nr; i++) {
		tuple_copy(&v1, &t->v[i]);
		for (size_t j = 0; j < t->nr; j++) {
			if (!tuple_match(&res, &v1, &t->v[j]))
				continue;
			tuple_copy(&t->v[i], &res);
			tuple_copy(&t->v[j], &res);
		}
	}
	strvec_clear(&v1);
	strvec_clear(&res);
}

/* Keep the keys some tuple of all has a value for (all keys when none has). */
static void validate_keys(struct strvec *vk, struct strvec *vv, const struct tuples *all,
			  const struct strvec *values, const struct strvec *keys)
{
	int any = 0;
	int *valid = xcalloc(keys->nr, sizeof(*valid));

	strvec_clear(vk);
	strvec_clear(vv);
	for (size_t t = 0; t < all->nr; t++)
		for (size_t i = 0; i < all->v[t].nr && i < keys->nr; i++)
			if (*all->v[t].v[i])
				valid[i] = any = 1;
	for (size_t i = 0; i < keys->nr; i++)
		if (!any || valid[i])
			strvec_push(vk, keys->v[i]);
	for (size_t i = 0; i < values->nr && i < keys->nr; i++)
		if (!any || *values->v[i] || valid[i])
			strvec_push(vv, values->v[i]);
	free(valid);
}

/* The first element whose key fields all have these texts (kyaml's ElementList). */
static json_t *element_list(json_t *list, const struct strvec *keys, const struct strvec *values)
{
	char buf[32];

	if (!json_is_array(list))
		return NULL;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		size_t k;

		if (!keys->nr || !*keys->v[0]) {
			if (!strcmp(node_value(e, buf), values->v[0]))
				return e;
			continue;
		}
		if (!json_is_object(e))
			continue;
		for (k = 0; k < keys->nr; k++) {
			json_t *f = json_object_get(e, keys->v[k]);

			if (!f || strcmp(node_value(f, buf), values->v[k]))
				break;
		}
		if (k == keys->nr)
			return e;
	}
	return NULL;
}

/* kyaml's FieldMatcher{Name, StringValue}: 1 matched, 0 not, -1 error. */
static int field_matcher(const json_t *e, const char *name, const char *value, struct smp_walk *w)
{
	char buf[32];
	json_t *f;

	if (smp_is_nil(e))
		return 0;
	if (!*name) {
		if (json_is_object(e) || json_is_array(e))
			return smp_fail(w, "a list of scalars holds a map or a list");
		return !strcmp(node_value(e, buf), value);
	}
	if (!json_is_object(e))
		return smp_fail(w, "a list merged by \"%s\" holds a non-map element", name);
	f = json_object_get(e, name);
	return f && (!*value || !strcmp(node_value(f, buf), value));
}

/* Does e match every key=value (kyaml's ElementSetter loop, with its short-values quirk)? */
static int setter_matches(const json_t *e, const struct strvec *keys, const struct strvec *values,
			  struct smp_walk *w)
{
	size_t nkeys = keys->nr ? keys->nr : 1; /* no keys means the scalar key "" */
	int m = 0;

	for (size_t j = 0; j < nkeys; j++) {
		if (j < values->nr) {
			m = field_matcher(e, keys->nr ? keys->v[j] : "", values->v[j], w);
			if (m < 0)
				return -1;
		}
		if (!m)
			return 0;
	}
	return 1;
}

/*
 * kyaml's ElementSetter: in list, replace every element matching the keys
 * with elem (remove them when elem is NULL), or append elem when none
 * matches. Empty elements are dropped on the way.
 */
static int element_setter(json_t *list, json_t *elem, const struct strvec *keys,
			  const struct strvec *values, struct smp_walk *w)
{
	int mapping = keys->nr && *keys->v[0] && values->nr && *values->v[0];
	json_t *kept = json_array();
	int found = 0, ret = -1;

	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		int m;

		if (smp_is_nil(e) || (json_is_object(e) && !json_object_size(e)))
			continue;
		if (mapping && !json_is_object(e)) {
			json_array_append(kept, e);
			continue;
		}
		m = setter_matches(e, keys, values, w);
		if (m < 0)
			goto cleanup;
		if (!m) {
			if (values->nr)
				json_array_append(kept, e);
			continue;
		}
		found = 1;
		if (elem)
			json_array_append(kept, elem);
	}
	json_array_clear(list);
	json_array_extend(list, kept);
	if (!smp_is_nil(elem) && !found)
		json_array_append(list, elem);
	ret = 0;
cleanup:
	json_decref(kept);
	return ret;
}

/* Fold src's elements into dst (kyaml's appendListNode). */
static int append_list_node(json_t *dst, json_t *src, const struct strvec *keys,
			    struct smp_walk *w)
{
	struct strvec v = STRVEC_INIT;
	int ret = -1;

	for (size_t i = 0; i < json_array_size(src); i++) {
		json_t *e = json_array_get(src, i);
		char buf[32];

		strvec_clear(&v);
		if (!*keys->v[0]) {
			strvec_push(&v, node_value(e, buf));
			if (element_setter(dst, e, keys, &v, w) < 0)
				goto cleanup;
			continue;
		}
		if (!smp_is_nil(e) && !json_is_object(e)) {
			smp_fail(w, "a list merged by \"%s\" holds a non-map element", keys->v[0]);
			goto cleanup;
		}
		for (size_t k = 0; k < keys->nr; k++) {
			json_t *f = json_is_object(e) ? json_object_get(e, keys->v[k]) : NULL;

			if (f)
				strvec_push(&v, node_value(f, buf));
			else
				json_array_append(dst, e);
		}
		if (keys->nr > 1 && element_setter(dst, NULL, keys, &v, w) < 0)
			goto cleanup;
		if (element_setter(dst, e, keys, &v, w) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	strvec_clear(&v);
	return ret;
}

/* Give val the key fields it lacks, as kyaml sets them: plain YAML scalars. */
static void set_missing_keys(json_t *val, const struct strvec *vk, const struct strvec *vv)
{
	for (size_t i = 0; i < vk->nr && i < vv->nr; i++) {
		unsigned long n;
		json_t *s;

		if (!json_is_object(val) || !*vk->v[i] || !*vv->v[i] ||
		    json_object_get(val, vk->v[i]))
			continue;
		if (parse_uint(vv->v[i], (unsigned long)INT64_MAX, &n) == 0)
			s = json_integer((json_int_t)n);
		else if (!strcmp(vv->v[i], "true") || !strcmp(vv->v[i], "false"))
			s = json_boolean(!strcmp(vv->v[i], "true"));
		else
			s = json_string(vv->v[i]);
		json_object_set_new(val, vk->v[i], s);
	}
}

/* Name a list element in messages: "[name=app]", "[f1]" for a scalar. */
static void path_push_element(struct strbuf *path, const struct strvec *keys,
			      const struct strvec *values)
{
	strbuf_addch(path, '[');
	for (size_t i = 0; i < keys->nr && i < values->nr; i++) {
		if (i)
			strbuf_addch(path, ',');
		if (*keys->v[i])
			strbuf_addf(path, "%s=", keys->v[i]);
		strbuf_addstr(path, values->v[i]);
	}
	strbuf_addch(path, ']');
}

/* Merge the element pair of one tuple and collect it in items. */
static int merge_element(json_t *items, json_t *dest, json_t *origin, const struct tuples *vals,
			 const struct strvec *values, const struct strvec *keys,
			 const struct smp_schema *elem, struct strvec *vk, struct smp_walk *w)
{
	struct strvec vv = STRVEC_INIT, k2 = STRVEC_INIT, v2 = STRVEC_INIT;
	struct tuples one = { NULL, 0, 0 };
	json_t *val = NULL;
	size_t len = w->path.len;
	int ret = -1;


	validate_keys(vk, &vv, vals, values, keys);
	tuples_push(&one, &vv);
	validate_keys(&k2, &v2, &one, &vv, vk);
	path_push_element(&w->path, vk, &vv);
	if (smp_walk(&val, element_list(dest, &k2, &v2), element_list(origin, &k2, &v2), elem, w) < 0)
		goto cleanup;
	strbuf_setlen(&w->path, len);
	if (smp_is_nil(val) || (json_is_object(val) && !json_object_size(val))) {
		ret = element_setter(dest, NULL, vk, &vv, w);
		goto cleanup;
	}
	set_missing_keys(val, vk, &vv);
	ret = element_setter(items, val, vk, &vv, w);
cleanup:
	json_decref(val);
	tuples_clear(&one);
	strvec_clear(&vv);
	strvec_clear(&k2);
	strvec_clear(&v2);
	return ret;
}

static int set_assoc(json_t **out, struct tuples *vals, const struct strvec *keys, json_t *dest,
		     json_t *origin, const struct smp_schema *elem, struct smp_walk *w)
{
	struct strvec vk = STRVEC_INIT;
	json_t *items = json_array();
	int ret = -1;

	if (keys->nr > 1)
		merge_values(vals);
	for (size_t i = 0; i < vals->nr; i++)
		if (vals->v[i].nr &&
		    merge_element(items, dest, origin, vals, &vals->v[i], keys, elem, &vk, w) < 0)
			goto cleanup;
	if (!vals->nr) {
		*out = json_incref(dest);
	} else {
		/* with "prepend", the object's elements fold into the patch's */
		if (append_list_node(items, dest, &vk, w) < 0)
			goto cleanup;
		*out = json_incref(items);
	}
	ret = 0;
cleanup:
	json_decref(items);
	strvec_clear(&vk);
	return ret;
}

int smp_list_directive(json_t *list, struct smp_walk *w)
{
	static const char *const names[] = { "merge", "replace", "delete" };
	json_t *e = NULL, *v;
	struct strvec key = STRVEC_INIT, val = STRVEC_INIT;
	const char *s;
	char buf[32];
	int d;

	for (size_t i = 0; i < json_array_size(list) && !e; i++)
		if (json_object_get(json_array_get(list, i), "$patch"))
			e = json_array_get(list, i);
	/* an element with more fields carries an element directive */
	if (!e || json_object_size(e) > 1)
		return SMP_D_MERGE;
	v = json_object_get(e, "$patch");
	s = smp_text(v, buf);
	for (d = SMP_D_MERGE; d <= SMP_D_DELETE && strcmp(s, names[d]); d++)
		;
	if (d > SMP_D_DELETE)
		return smp_fail(w, "unknown \"$patch: %s\": use merge, replace or delete", s);
	strvec_push(&key, "$patch");
	strvec_push(&val, names[d]);
	if (element_setter(list, NULL, &key, &val, w) < 0)
		d = -1;
	strvec_clear(&key);
	strvec_clear(&val);
	return d;
}

static void split_keys(struct strvec *out, const char *keys)
{
	while (*keys) {
		const char *comma = strchr(keys, ',');
		size_t len = comma ? (size_t)(comma - keys) : strlen(keys);
		char *k = xstrndup(keys, len);

		strvec_push(out, k);
		free(k);
		keys += len + !!comma;
	}
}

int smp_walk_assoc(json_t **out, json_t *dest, json_t *origin, const struct smp_schema *schema,
		   struct smp_walk *w)
{
	struct strvec keys = STRVEC_INIT;
	struct tuples vals = { NULL, 0, 0 };
	json_t *next = dest;
	int ret = -1, d;

	*out = NULL;
	/* merging is quadratic in the list's length, as in kustomize: keep it sane */
	if (json_array_size(dest) + json_array_size(origin) > SMP_MAX_LIST)
		return smp_fail(w, "a list of more than %d elements is too long to merge",
				SMP_MAX_LIST);
	if (smp_is_nil(dest)) {
		next = origin;
	} else if (json_is_null(origin)) {
		return 0;
	} else if (origin) {
		d = smp_list_directive(origin, w);
		if (d < 0)
			return -1;
		if (d == SMP_D_DELETE)
			return 0;
		if (d == SMP_D_REPLACE)
			next = origin;
	}
	split_keys(&keys, schema->keys);
	element_values(&vals, &keys, origin, next);
	if (!vals.nr && !keys.nr) {
		primitive_values(&vals, origin, next);
		strvec_push(&keys, "");
	}
	ret = set_assoc(out, &vals, &keys, next, origin, schema->elem, w);
	tuples_clear(&vals);
	strvec_clear(&keys);
	return ret;
}
