/*
 * Optional: every object against its JSON schema (gitd.yaml `schemas: DIR`).
 *
 * DIR holds schemas in kubeconform's layout, KIND-GROUP-VERSION.json (kind
 * lower case, the group's first label: deployment-apps-v1.json,
 * service-v1.json), or GROUP/KIND_VERSION.json as CRD catalogs have them.
 * Validation is strict, as `kubeconform -strict`: an object schema with
 * properties and no additionalProperties allows no other field. Supported:
 * type, properties, additionalProperties, required, items, enum, pattern,
 * minimum, maximum, oneOf, anyOf, allOf, $ref (within a file and to other
 * files of DIR), int-or-string, x-kubernetes-preserve-unknown-fields.
 * A kind without a schema is a warning.
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "strbuf.h"
#include "util.h"
#include "validate_internal.h"
#include "banned.h"

/* Reported per object, beyond which the rest is noise. */
#define SCHEMA_MAX_ERRORS 20
/* Nesting of instance and $ref together. */
#define SCHEMA_MAX_DEPTH 64
#define SCHEMA_MAX_FILE_BYTES (8 * 1024 * 1024)

struct schema_file {
	char *name; /* relative to the schemas directory */
	json_t *doc; /* NULL: absent or unreadable */
};

/* The schemas loaded for one validate_app() run. */
struct schema_cache {
	const char *dir;
	struct schema_file *files;
	size_t nr, alloc;
};

/* One object being checked against one schema. */
struct schema_run {
	struct vctx *v;
	const struct vobj *o;
	struct schema_cache *cache;
	int quiet;   /* inside oneOf/anyOf: count failures, report nothing */
	int failed;  /* failures counted */
	int reported;
	int depth;
};

/* Where an instance value sits: its container and key or index, for positions and paths. */
struct here {
	const json_t *parent; /* NULL for the object itself */
	const char *key;      /* NULL in a sequence */
	size_t index;
	const char *path;     /* "spec.template.spec.containers[0].image" */
	const json_t *root;   /* the schema document $refs with '#' resolve in */
};

static const json_t *schema_load(struct schema_cache *c, const char *name)
{
	struct schema_file *f;
	struct strbuf sb;
	char *path;

	for (size_t i = 0; i < c->nr; i++)
		if (!strcmp(c->files[i].name, name))
			return c->files[i].doc;
	ALLOC_GROW(c->files, c->nr + 1, c->alloc);
	f = &c->files[c->nr++];
	f->name = xstrdup(name);
	f->doc = NULL;
	if (strstr(name, "..") || name[0] == '/')
		return NULL; /* refs stay inside the directory */
	path = xstrfmt("%s/%s", c->dir, name);
	strbuf_init_capped(&sb, SCHEMA_MAX_FILE_BYTES);
	if (!strbuf_read_file(&sb, path))
		f->doc = json_loadb(sb.buf, sb.len, 0, NULL);
	strbuf_release(&sb);
	free(path);
	return f->doc;
}

static void schema_cache_release(struct schema_cache *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		free(c->files[i].name);
		json_decref(c->files[i].doc);
	}
	free(c->files);
}

static char *lower(const char *s)
{
	char *out = xstrdup(s);

	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

/* The schema of an object, trying both layouts; *tried names the first file looked for. */
static const json_t *schema_for(struct schema_cache *c, const char *api_version, const char *kind,
				char **tried)
{
	const char *slash = strchr(api_version, '/');
	const char *version = slash ? slash + 1 : api_version;
	char *group = slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
	char *dot = strchr(group, '.');
	char *lkind = lower(kind), *catalog;
	const json_t *doc;

	*tried = slash ? xstrfmt("%s-%.*s-%s.json", lkind, dot ? (int)(dot - group) : (int)strlen(group),
				 group, version)
		       : xstrfmt("%s-%s.json", lkind, version);
	for (char *p = *tried; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	doc = schema_load(c, *tried);
	if (!doc && slash) {
		catalog = xstrfmt("%s/%s_%s.json", group, lkind, version);
		doc = schema_load(c, catalog);
		free(catalog);
	}
	free(lkind);
	free(group);
	return doc;
}

static struct ypos here_pos(const struct schema_run *r, const struct here *h)
{
	if (!h->parent)
		return r->o->pos;
	return h->key ? vpos_val(r->o->doc, h->parent, h->key) : vpos_item(r->o->doc, h->parent, h->index);
}

static void __attribute__((format(printf, 4, 5)))
schema_error(struct schema_run *r, const struct here *h, struct ypos pos, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	r->failed++;
	if (r->quiet || r->reported >= SCHEMA_MAX_ERRORS)
		return;
	r->reported++;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	verror(r->v, r->o->file, pos.line ? pos : here_pos(r, h), "schema", "`%s` %s",
	       *h->path ? h->path : r->o->kind, msg.buf);
	strbuf_release(&msg);
}

/* Follow a JSON pointer ("/definitions/io.k8s.api.core.v1.Pod") from doc. */
static const json_t *follow_pointer(const json_t *doc, const char *ptr)
{
	struct strbuf token = STRBUF_INIT;
	const json_t *node = doc;

	while (node && *ptr == '/') {
		const char *end = strchr(ptr + 1, '/');
		size_t len = end ? (size_t)(end - ptr - 1) : strlen(ptr + 1);

		strbuf_reset(&token);
		for (size_t i = 0; i < len; i++) {
			char ch = ptr[1 + i];

			if (ch == '~' && i + 1 < len && (ptr[2 + i] == '0' || ptr[2 + i] == '1'))
				ch = ptr[2 + i++] == '0' ? '~' : '/';
			strbuf_addch(&token, ch);
		}
		node = json_is_array(node) ? json_array_get(node, strtoul(token.buf, NULL, 10))
					   : json_object_get(node, token.buf);
		ptr += len + 1;
	}
	strbuf_release(&token);
	return *ptr ? NULL : node;
}

/* Resolve "#/definitions/X", "file.json#/definitions/X" or "file.json"; *root becomes the target's document. */
static const json_t *resolve_ref(struct schema_run *r, const char *ref, const json_t **root)
{
	const char *hash = strchr(ref, '#');
	char *file = xstrndup(ref, hash ? (size_t)(hash - ref) : strlen(ref));
	const json_t *doc = *file ? schema_load(r->cache, file) : *root;

	free(file);
	if (!doc)
		return NULL;
	*root = doc;
	return follow_pointer(doc, hash ? hash + 1 : "");
}

static int type_is(const char *type, const json_t *v)
{
	if (!strcmp(type, "object"))
		return json_is_object(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "integer"))
		return json_is_integer(v) ||
		       (json_is_real(v) && json_real_value(v) == (double)(json_int_t)json_real_value(v));
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	return !strcmp(type, "null") && json_is_null(v);
}

static const char *type_word(const json_t *v)
{
	if (json_is_object(v))
		return "an object";
	if (json_is_array(v))
		return "a list";
	if (json_is_string(v))
		return "a string";
	if (json_is_integer(v))
		return "an integer";
	if (json_is_number(v))
		return "a number";
	return json_is_boolean(v) ? "a boolean" : "null";
}

static int is_int_or_string(const json_t *schema)
{
	const char *format = json_string_value(json_object_get(schema, "format"));

	return json_is_true(json_object_get(schema, "x-kubernetes-int-or-string")) ||
	       (format && !strcmp(format, "int-or-string"));
}

/* type (a name or a list of names), or int-or-string; 0 after reporting a mismatch. */
static int check_type(struct schema_run *r, const json_t *schema, const json_t *inst,
		      const struct here *h)
{
	const json_t *type = json_object_get(schema, "type");
	struct ypos none = { 0, 0 };
	struct strbuf want = STRBUF_INIT;
	int ok = 0;
	size_t i;
	json_t *t;

	if (is_int_or_string(schema)) {
		ok = json_is_string(inst) || json_is_integer(inst);
		strbuf_addstr(&want, "an integer or a string");
	} else if (json_is_string(type)) {
		ok = type_is(json_string_value(type), inst);
		strbuf_addf(&want, "%s %s", strchr("aeiou", json_string_value(type)[0]) ? "an" : "a",
			    json_string_value(type));
	} else if (json_is_array(type)) {
		json_array_foreach(type, i, t) {
			ok |= json_is_string(t) && type_is(json_string_value(t), inst);
			strbuf_addf(&want, "%s%s", i ? " or " : "", json_string_value(t) ? json_string_value(t) : "?");
		}
	} else {
		ok = 1;
	}
	if (!ok)
		schema_error(r, h, none, "must be %s, not %s", want.buf, type_word(inst));
	strbuf_release(&want);
	return ok;
}

static void check(struct schema_run *r, const json_t *schema, const json_t *inst,
		  const struct here *h);

static void check_enum(struct schema_run *r, const json_t *schema, const json_t *inst,
		       const struct here *h)
{
	const json_t *values = json_object_get(schema, "enum");
	struct strbuf list = STRBUF_INIT;
	struct ypos none = { 0, 0 };
	char *text;
	size_t i;
	json_t *val;

	if (!json_is_array(values))
		return;
	json_array_foreach(values, i, val) {
		if (json_equal(val, (json_t *)inst))
			goto cleanup;
		text = json_dumps(val, JSON_ENCODE_ANY);
		strbuf_addf(&list, "%s%s", i ? ", " : "", text ? text : "?");
		free(text);
	}
	text = json_dumps(inst, JSON_ENCODE_ANY);
	schema_error(r, h, none, "must be one of %s, not %s", list.buf, text ? text : "?");
	free(text);
cleanup:
	strbuf_release(&list);
}

static void check_pattern(struct schema_run *r, const json_t *schema, const json_t *inst,
			  const struct here *h)
{
	const char *pattern = json_string_value(json_object_get(schema, "pattern"));
	struct ypos none = { 0, 0 };
	regex_t re;

	/* ECMA-262 patterns POSIX cannot compile are skipped rather than misread. */
	if (!pattern || !json_is_string(inst) || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return;
	if (regexec(&re, json_string_value(inst), 0, NULL, 0))
		schema_error(r, h, none, "is `%s`, which does not match the pattern %s",
			     json_string_value(inst), pattern);
	regfree(&re);
}

static void check_range(struct schema_run *r, const json_t *schema, const json_t *inst,
			const struct here *h)
{
	const json_t *min = json_object_get(schema, "minimum"), *max = json_object_get(schema, "maximum");
	struct ypos none = { 0, 0 };

	if (!json_is_number(inst))
		return;
	if (json_is_number(min) && json_number_value(inst) < json_number_value(min))
		schema_error(r, h, none, "must be at least %g", json_number_value(min));
	if (json_is_number(max) && json_number_value(inst) > json_number_value(max))
		schema_error(r, h, none, "must be at most %g", json_number_value(max));
}

/* How many of the schemas in list inst satisfies, reporting nothing. */
static size_t count_matches(struct schema_run *r, const json_t *list, const json_t *inst,
			    const struct here *h)
{
	size_t i, matches = 0;
	json_t *sub;

	r->quiet++;
	json_array_foreach(list, i, sub) {
		int before = r->failed;

		check(r, sub, inst, h);
		matches += r->failed == before;
		r->failed = before;
	}
	r->quiet--;
	return matches;
}

static void check_combinators(struct schema_run *r, const json_t *schema, const json_t *inst,
			      const struct here *h)
{
	const json_t *all = json_object_get(schema, "allOf");
	const json_t *any = json_object_get(schema, "anyOf");
	const json_t *one = json_object_get(schema, "oneOf");
	struct ypos none = { 0, 0 };
	size_t i, n;
	json_t *sub;

	json_array_foreach(all, i, sub)
		check(r, sub, inst, h);
	if (json_is_array(any) && json_array_size(any) && !count_matches(r, any, inst, h))
		schema_error(r, h, none, "matches none of the allowed forms");
	if (json_is_array(one) && json_array_size(one) && (n = count_matches(r, one, inst, h)) != 1)
		schema_error(r, h, none, "%s", n ? "matches more than one of the allowed forms, which "
						   "must be exactly one"
						 : "matches none of the allowed forms");
}

static void check_member(struct schema_run *r, const json_t *schema, const json_t *inst,
			 const struct here *h, const char *key)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const json_t *sub = json_object_get(props, key);
	char *path = *h->path ? xstrfmt("%s.%s", h->path, key) : xstrdup(key);
	struct here child = { inst, key, 0, path, h->root };

	if (!strcmp(path, "metadata.labels") || !strcmp(path, "metadata.annotations")) {
		/* validate_resource.c checks these with Kubernetes' own rules already. */
	} else if (sub) {
		check(r, sub, json_object_get(inst, key), &child);
	} else if (json_is_object(addl)) {
		check(r, addl, json_object_get(inst, key), &child);
	} else if (json_is_false(addl) ||
		   (!addl && json_is_object(props) &&
		    !json_is_true(json_object_get(schema, "x-kubernetes-preserve-unknown-fields")))) {
		const char *names[128];
		const char *name, *hint;
		size_t n = 0;
		json_t *unused;

		json_object_foreach((json_t *)props, name, unused)
			if (n < ARRAY_SIZE(names))
				names[n++] = name;
		hint = suggest_word(key, names, n);
		schema_error(r, &child, vpos_key(r->o->doc, inst, key), "is not a known field%s%s%s",
			     hint ? "; did you mean `" : "", hint ? hint : "", hint ? "`?" : "");
	}
	free(path);
}

static void check_object(struct schema_run *r, const json_t *schema, const json_t *inst,
			 const struct here *h)
{
	const json_t *required = json_object_get(schema, "required");
	const char *key;
	struct ypos none = { 0, 0 };
	size_t i;
	json_t *val;

	json_array_foreach(required, i, val)
		if (json_is_string(val) && !json_object_get(inst, json_string_value(val)))
			schema_error(r, h, none, "needs `%s`", json_string_value(val));
	json_object_foreach((json_t *)inst, key, val)
		check_member(r, schema, inst, h, key);
}

static void check_items(struct schema_run *r, const json_t *schema, const json_t *inst,
			const struct here *h)
{
	const json_t *items = json_object_get(schema, "items");
	size_t i;
	json_t *val;

	if (!json_is_object(items))
		return;
	json_array_foreach(inst, i, val) {
		char *path = xstrfmt("%s[%zu]", h->path, i);
		struct here child = { inst, NULL, i, path, h->root };

		check(r, items, val, &child);
		free(path);
	}
}

static void check(struct schema_run *r, const json_t *schema, const json_t *inst,
		  const struct here *h)
{
	const char *ref = json_string_value(json_object_get(schema, "$ref"));

	if (!json_is_object(schema) || r->depth >= SCHEMA_MAX_DEPTH)
		return;
	r->depth++;
	if (ref) {
		/* As in draft 4, a $ref replaces its siblings. */
		struct here target = *h;
		const json_t *sub = resolve_ref(r, ref, &target.root);

		if (sub)
			check(r, sub, inst, &target);
	} else if (check_type(r, schema, inst, h)) {
		check_enum(r, schema, inst, h);
		check_pattern(r, schema, inst, h);
		check_range(r, schema, inst, h);
		check_combinators(r, schema, inst, h);
		if (json_is_object(inst))
			check_object(r, schema, inst, h);
		else if (json_is_array(inst))
			check_items(r, schema, inst, h);
	}
	r->depth--;
}

static int list_has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

void validate_schemas(struct vctx *v)
{
	struct schema_cache cache = { config_schemas_dir(v->cfg), NULL, 0, 0 };
	struct strvec missing = STRVEC_INIT;

	if (!cache.dir)
		return;
	for (size_t i = 0; i < v->obj_nr; i++) {
		const struct vobj *o = &v->objs[i];
		const char *av = json_string_value(json_object_get(o->obj, "apiVersion"));
		struct schema_run r = { v, o, &cache, 0, 0, 0, 0 };
		char *tried = NULL;
		const json_t *schema = av ? schema_for(&cache, av, o->kind, &tried) : NULL;
		struct here top = { NULL, NULL, 0, "", schema };

		char *id = xstrfmt("%s %s", av ? av : "", o->kind);

		if (schema) {
			check(&r, schema, o->obj, &top);
		} else if (av && !list_has(&missing, id)) {
			/* Once per kind: every object of it would say the same. */
			strvec_push(&missing, id);
			vreport(v, DIAG_WARNING, o->file, vpos_val(o->doc, o->obj, "kind"), "schema",
				"no schema for %s %s in %s (looked for %s): not checked", av, o->kind,
				cache.dir, tried);
		}
		free(id);
		free(tried);
	}
	strvec_clear(&missing);
	schema_cache_release(&cache);
}
