#include "json6902.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strvec.h"
#include "util.h"
#include "banned.h"

/*
 * "copy" can double a document with each operation, so a patch of a few
 * lines could ask for more memory than any machine has (or nest values
 * deep enough to overflow the stack of recursive code). Copies may grow a
 * document to this many values and this many levels, no further.
 */
#define MAX_VALUES 1000000
#define MAX_DEPTH 200

/* One operation being applied, for messages. */
struct op_ctx {
	size_t nr;        /* 1-based position in the list */
	const char *name; /* "add", "remove", ... */
	const char *path;
	struct strbuf *err;
	size_t *values;   /* values in the document, counting what copies added */
};

static int op_fail(const struct op_ctx *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int op_fail(const struct op_ctx *op, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(op->err, "operation %zu (%s %s): ", op->nr, op->name, op->path);
	va_start(ap, fmt);
	strbuf_vaddf(op->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Undo RFC 6901 escapes in the order the library does: ~1 first, then ~0. */
static char *unescape_token(const char *s, size_t len)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '~' && i + 1 < len && s[i + 1] == '1') {
			strbuf_addch(&a, '/');
			i++;
		} else {
			strbuf_addch(&a, s[i]);
		}
	}
	for (size_t i = 0; i < a.len; i++) {
		if (a.buf[i] == '~' && i + 1 < a.len && a.buf[i + 1] == '0') {
			strbuf_addch(&b, '~');
			i++;
		} else {
			strbuf_addch(&b, a.buf[i]);
		}
	}
	strbuf_release(&a);
	return strbuf_detach(&b, NULL);
}

int json6902_split_path(struct strvec *out, const char *path)
{
	const char *p = strchr(path, '/');

	if (!p)
		return -1;
	while (p) {
		const char *start = p + 1;
		const char *end = strchr(start, '/');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		char *tok = unescape_token(start, len);

		strvec_push(out, tok);
		free(tok);
		p = end;
	}
	return 0;
}

/* Go's strconv.Atoi: optional sign, then at least one decimal digit, nothing else. */
static int parse_index(const char *s, long long *out)
{
	const char *d = s + (*s == '+' || *s == '-');
	char *end;

	if (!*d)
		return -1;
	for (const char *c = d; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/*
 * Resolve an index into an array of len elements for get, replace and
 * remove: negative counts from the end. -1 when out of range.
 */
static int resolve_index(const char *key, size_t len, size_t *out)
{
	long long idx;

	if (parse_index(key, &idx) < 0)
		return -1;
	if (idx < 0) {
		if (idx < -(long long)len)
			return -1;
		idx += (long long)len;
	}
	if ((unsigned long long)idx >= len)
		return -1;
	*out = (size_t)idx;
	return 0;
}

/*
 * The container holding the last token of path: an object or an array, or
 * NULL when some step is missing, null, a scalar or a bad index.
 */
static json_t *find_container(json_t *doc, const struct strvec *toks)
{
	json_t *cur = doc;

	for (size_t i = 0; i + 1 < toks->nr; i++) {
		json_t *next = NULL;
		size_t idx;

		if (json_is_object(cur))
			next = json_object_get(cur, toks->v[i]);
		else if (resolve_index(toks->v[i], json_array_size(cur), &idx) == 0)
			next = json_array_get(cur, idx);
		if (!json_is_object(next) && !json_is_array(next))
			return NULL;
		cur = next;
	}
	return cur;
}

/* Read the member or element key of con; *out is NULL for a missing or null member. */
static int con_get(json_t **out, json_t *con, const char *key, const struct op_ctx *op)
{
	size_t idx;

	*out = NULL;
	if (json_is_object(con)) {
		json_t *v = json_object_get(con, key);

		*out = json_is_null(v) ? NULL : v;
		return 0;
	}
	if (resolve_index(key, json_array_size(con), &idx) < 0)
		return op_fail(op, "index \"%s\" is not an element of an array of %zu", key,
			       json_array_size(con));
	*out = json_array_get(con, idx);
	if (json_is_null(*out))
		*out = NULL;
	return 0;
}

/* Insert val (a new reference, taken) at key of con. */
static int con_add(json_t *con, const char *key, json_t *val, const struct op_ctx *op)
{
	size_t len = json_array_size(con);
	long long idx;

	if (json_is_object(con))
		return json_object_set_new(con, key, val) ? op_fail(op, "cannot set member") : 0;
	if (!strcmp(key, "-"))
		return json_array_append_new(con, val) ? op_fail(op, "cannot append") : 0;
	if (parse_index(key, &idx) < 0) {
		json_decref(val);
		return op_fail(op, "\"%s\" is not an array index", key);
	}
	if (idx >= (long long)len + 1 || idx < -((long long)len + 1)) {
		json_decref(val);
		return op_fail(op, "index %lld is out of range for an array of %zu", idx, len);
	}
	if (idx < 0)
		idx += (long long)len + 1;
	return json_array_insert_new(con, (size_t)idx, val) ? op_fail(op, "cannot insert") : 0;
}

static int con_remove(json_t *con, const char *key, const struct op_ctx *op)
{
	size_t idx;

	if (json_is_object(con)) {
		if (json_object_del(con, key) < 0)
			return op_fail(op, "there is no member \"%s\" to remove", key);
		return 0;
	}
	if (resolve_index(key, json_array_size(con), &idx) < 0)
		return op_fail(op, "index \"%s\" is not an element of an array of %zu", key,
			       json_array_size(con));
	json_array_remove(con, idx);
	return 0;
}

/* Replace the existing element or member key of con with val (taken). */
static int con_set(json_t *con, const char *key, json_t *val, const struct op_ctx *op)
{
	size_t idx;

	if (json_is_object(con))
		return json_object_set_new(con, key, val) ? op_fail(op, "cannot set member") : 0;
	if (resolve_index(key, json_array_size(con), &idx) < 0) {
		json_decref(val);
		return op_fail(op, "index \"%s\" is not an element of an array of %zu", key,
			       json_array_size(con));
	}
	json_array_set_new(con, idx, val);
	return 0;
}

/* Locate path's container and last token; -1 with a message when path is unusable. */
static int locate(json_t **con, char **key, json_t *doc, const char *path,
		  const struct op_ctx *op)
{
	struct strvec toks = STRVEC_INIT;
	int ret = -1;

	if (json6902_split_path(&toks, path) < 0) {
		op_fail(op, "a path must start with '/'");
		goto cleanup;
	}
	*con = find_container(doc, &toks);
	if (!*con) {
		op_fail(op, "the object has nothing at the parent of this path");
		goto cleanup;
	}
	*key = xstrdup(toks.v[toks.nr - 1]);
	ret = 0;
cleanup:
	strvec_clear(&toks);
	return ret;
}

/* Numbers compare by value, as the library compares their JSON text. */
static int scalar_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

/* The library's lopsided equality: every member of doc_val must match in want. */
static int test_equal(const json_t *doc_val, const json_t *want)
{
	const char *k;
	json_t *v;

	if (json_is_object(doc_val)) {
		if (!json_is_object(want))
			return 0;
		json_object_foreach((json_t *)doc_val, k, v) {
			json_t *w = json_object_get(want, k);

			if (!w || (!json_is_null(v) && !test_equal(v, w)) ||
			    (json_is_null(v) != json_is_null(w)))
				return 0;
		}
		return 1;
	}
	if (json_is_array(doc_val)) {
		if (!json_is_array(want) || json_array_size(want) != json_array_size(doc_val))
			return 0;
		for (size_t i = 0; i < json_array_size(doc_val); i++)
			if (!test_equal(json_array_get(doc_val, i), json_array_get(want, i)))
				return 0;
		return 1;
	}
	return scalar_equal(doc_val, want);
}

/* The operation's "value": a new reference, null when absent. */
static json_t *op_value(const json_t *o)
{
	json_t *v = json_object_get(o, "value");

	return v ? json_deep_copy(v) : json_null();
}

static int do_add(json_t *doc, const json_t *o, const struct op_ctx *op)
{
	json_t *con;
	char *key;
	int ret;

	if (locate(&con, &key, doc, op->path, op) < 0)
		return -1;
	ret = con_add(con, key, op_value(o), op);
	free(key);
	return ret;
}

static int do_remove(json_t *doc, const json_t *o, const struct op_ctx *op)
{
	json_t *con;
	char *key;
	int ret;

	(void)o;
	if (locate(&con, &key, doc, op->path, op) < 0)
		return -1;
	ret = con_remove(con, key, op);
	free(key);
	return ret;
}

static int do_replace(json_t *doc, const json_t *o, const struct op_ctx *op)
{
	json_t *con, *old;
	char *key;
	int ret = -1;

	if (locate(&con, &key, doc, op->path, op) < 0)
		return -1;
	if (con_get(&old, con, key, op) == 0)
		ret = con_set(con, key, op_value(o), op);
	free(key);
	return ret;
}

static int do_test(json_t *doc, const json_t *o, const struct op_ctx *op)
{
	json_t *con, *val, *want = json_object_get(o, "value");
	char *key;
	int ret = -1;

	if (locate(&con, &key, doc, op->path, op) < 0)
		return -1;
	if (con_get(&val, con, key, op) < 0)
		goto cleanup;
	if (!want) {
		op_fail(op, "a test needs a \"value\"");
		goto cleanup;
	}
	if (val ? json_is_null(want) || !test_equal(val, want) : !json_is_null(want)) {
		op_fail(op, "the value at this path differs from the expected value");
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(key);
	return ret;
}

/* The value at "from": a new reference (null for a missing member); -1 on error. */
static int read_from(json_t **out, json_t *doc, const char *from, int detach,
		     const struct op_ctx *op)
{
	json_t *con, *val;
	char *key;
	int ret = -1;

	if (locate(&con, &key, doc, from, op) < 0)
		return -1;
	if (con_get(&val, con, key, op) < 0)
		goto cleanup;
	*out = val ? (detach ? json_incref(val) : json_deep_copy(val)) : json_null();
	if (detach && con_remove(con, key, op) < 0) {
		json_decref(*out);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(key);
	return ret;
}

/* Count v's values into *n and its levels into *depth, descending no further than the caps. */
static void measure(const json_t *v, size_t level, size_t *n, size_t *depth)
{
	const char *key;
	json_t *item;
	size_t i;

	(*n)++;
	if (level > *depth)
		*depth = level;
	if (*n > MAX_VALUES || level > MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, item)
			measure(item, level + 1, n, depth);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			measure(item, level + 1, n, depth);
	}
}

/* Account for a copy of val to op->path; -1 when it would pass MAX_VALUES or MAX_DEPTH. */
static int grow(const struct op_ctx *op, const json_t *val)
{
	size_t n = 0, depth = 0, at = 0;

	for (const char *c = strchr(op->path, '/'); c; c = strchr(c + 1, '/'))
		at++; /* one level per token */
	measure(val, 1, &n, &depth);
	if (*op->values + n > MAX_VALUES || at + depth > MAX_DEPTH)
		return op_fail(op, "the copy would make the object larger than %d values or deeper "
			       "than %d levels", MAX_VALUES, MAX_DEPTH);
	*op->values += n;
	return 0;
}

/* move (detach = 1) and copy (detach = 0). */
static int do_transfer(json_t *doc, const json_t *o, const struct op_ctx *op, int detach)
{
	const char *from = json_string_value(json_object_get(o, "from"));
	json_t *con, *val;
	char *key;
	int ret;

	if (!from)
		return op_fail(op, "\"from\" must be a string");
	if (read_from(&val, doc, from, detach, op) < 0)
		return -1;
	if (!detach && grow(op, val) < 0) {
		json_decref(val);
		return -1;
	}
	if (locate(&con, &key, doc, op->path, op) < 0) {
		json_decref(val);
		return -1;
	}
	ret = con_add(con, key, val, op);
	free(key);
	return ret;
}

static int do_move(json_t *doc, const json_t *o, const struct op_ctx *op)
{
	return do_transfer(doc, o, op, 1);
}

static int do_copy(json_t *doc, const json_t *o, const struct op_ctx *op)
{
	return do_transfer(doc, o, op, 0);
}

static const struct {
	const char *name;
	int (*fn)(json_t *doc, const json_t *o, const struct op_ctx *op);
} ops_table[] = {
	{ "add", do_add },   { "remove", do_remove }, { "replace", do_replace },
	{ "move", do_move }, { "copy", do_copy },     { "test", do_test },
};

static int apply_one(json_t *doc, const json_t *o, size_t nr, size_t *values, struct strbuf *err)
{
	const char *name = json_string_value(json_object_get(o, "op"));
	const char *path = json_string_value(json_object_get(o, "path"));
	struct op_ctx op = { nr, name ? name : "?", path ? path : "", err, values };

	if (!json_is_object(o)) {
		strbuf_addf(err, "operation %zu: must be a mapping with op, path and value", nr);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ops_table); i++) {
		if (!name || strcmp(name, ops_table[i].name))
			continue;
		if (!path)
			return op_fail(&op, "\"path\" must be a string");
		return ops_table[i].fn(doc, o, &op);
	}
	strbuf_addf(err, "operation %zu: \"op\" must be one of add, remove, replace, move, copy, test",
		    nr);
	return -1;
}

int json6902_apply(json_t *doc, const json_t *ops, struct strbuf *err)
{
	size_t values = 0, depth = 0;

	if (!json_is_array(ops)) {
		strbuf_addstr(err, "a JSON patch must be a list of operations");
		return -1;
	}
	measure(doc, 1, &values, &depth);
	for (size_t i = 0; i < json_array_size(ops); i++)
		if (apply_one(doc, json_array_get(ops, i), i + 1, &values, err) < 0)
			return -1;
	return 0;
}
