/*
 * configMapGenerator and secretGenerator, and the content hash kustomize
 * appends to generated names.
 *
 * Data comes from env files first, then literals, then files, as in
 * kustomize; a key given twice is an error. A ConfigMap keeps text in
 * `data` and anything that is not UTF-8 in `binaryData` (base64); a
 * Secret keeps everything base64 in `data`.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "overlay_int.h"
#include "overlay_sha256.h"
#include "util.h"
#include "banned.h"

struct generator {
	const json_t *entry;
	const char *field; /* "configMapGenerator" or "secretGenerator" */
	const char *kind;  /* "ConfigMap" or "Secret" */
	const char *name;
	struct ypos pos;
	json_t *data, *binary; /* key -> string */
};

/* ---- encodings ---- */

static void base64(struct strbuf *out, const unsigned char *s, size_t len)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		strbuf_addch(out, digits[(v >> 18) & 63]);
		strbuf_addch(out, digits[(v >> 12) & 63]);
		strbuf_addch(out, i + 1 < len ? digits[(v >> 6) & 63] : '=');
		strbuf_addch(out, i + 2 < len ? digits[v & 63] : '=');
	}
}

/*
 * Base64 as kustomize's generators write it (kyaml's encodeBase64): when
 * the encoding reaches 70 characters it is cut into lines of 70, each
 * ending in a newline, and the hash covers that text.
 */
static void base64_lines(struct strbuf *out, const unsigned char *s, size_t len)
{
	struct strbuf flat = STRBUF_INIT;

	base64(&flat, s, len);
	if (flat.len < 70) {
		strbuf_add(out, flat.buf, flat.len);
	} else {
		for (size_t i = 0; i < flat.len; i += 70) {
			strbuf_add(out, flat.buf + i, flat.len - i < 70 ? flat.len - i : 70);
			strbuf_addch(out, '\n');
		}
	}
	strbuf_release(&flat);
}

/* Length of the UTF-8 sequence at s (of n bytes), or 0 when it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3 :
		     s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (len == 4 && s[0] == 0xf0 && s[1] < 0x90) || (len == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate, or beyond U+10FFFF */
	return len;
}

static int valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0, l; i < n; i += l)
		if (!(l = utf8_len((const unsigned char *)s + i, n - i)))
			return 0;
	return 1;
}

/* A JSON string as Go's encoding/json writes it: HTML-safe, \b and \f short. */
static void go_json_string(struct strbuf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	strbuf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" :
				  c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" :
				  c == '\t' ? "\\t" : NULL;

		if (esc)
			strbuf_addstr(out, esc);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			strbuf_addf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			 ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			strbuf_addf(out, "\\u202%c", (unsigned char)s[i + 2] == 0xa8 ? '8' : '9');
			i += 2;
		} else
			strbuf_addch(out, (char)c);
	}
	strbuf_addch(out, '"');
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A float64 as Go's encoding/json writes it: the shortest digits that read
 * back the same, in %f form for 1e-6 <= |x| < 1e21, else %e with at least
 * two exponent digits dropped to one ("1e-07" is written "1e-7").
 */
static void go_float(struct strbuf *out, double x)
{
	double ax = x < 0 ? -x : x;
	char buf[64], *e;
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	if (ax != 0 && (ax < 1e-6 || ax >= 1e21)) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
		e = strchr(buf, 'e');
		if (e && (e[1] == '-' || e[1] == '+') && e[2] == '0' && e[3])
			memmove(e + 2, e + 3, strlen(e + 3) + 1);
	} else {
		/* %f with exactly the digits %g chose; %e tells the decimal exponent */
		int exp10, decimals;

		snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
		exp10 = atoi(strchr(buf, 'e') + 1);
		decimals = prec - 1 - exp10;

		snprintf(buf, sizeof(buf), "%.*f", decimals > 0 ? decimals : 0, x);
		if (strchr(buf, '.')) {
			for (e = buf + strlen(buf) - 1; *e == '0'; e--)
				*e = '\0';
			if (*e == '.')
				*e = '\0';
		}
	}
	strbuf_addstr(out, buf);
}

/* v as Go's json.Marshal writes a decoded YAML value: maps with sorted keys. */
static void go_json(struct strbuf *out, const json_t *v)
{
	const char **keys;
	const char *k;
	json_t *e;
	size_t i = 0, n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = json_object_size(v);
		keys = xcalloc(n ? n : 1, sizeof(*keys));
		json_object_foreach((json_t *)v, k, e)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_str);
		strbuf_addch(out, '{');
		for (i = 0; i < n; i++) {
			strbuf_addstr(out, i ? "," : "");
			go_json_string(out, keys[i], strlen(keys[i]));
			strbuf_addch(out, ':');
			go_json(out, json_object_get(v, keys[i]));
		}
		strbuf_addch(out, '}');
		free(keys);
		return;
	case JSON_ARRAY:
		strbuf_addch(out, '[');
		json_array_foreach(v, i, e) {
			strbuf_addstr(out, i ? "," : "");
			go_json(out, e);
		}
		strbuf_addch(out, ']');
		return;
	case JSON_STRING:
		go_json_string(out, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		strbuf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		go_float(out, json_real_value(v));
		return;
	default:
		strbuf_addstr(out, json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
	}
}

/*
 * A member as kustomize's hasher reads it: a map as itself, a missing
 * field as "", a scalar as its text.
 */
static void hash_member(struct strbuf *out, const json_t *v)
{
	struct strbuf text = STRBUF_INIT;

	if (json_is_object(v) || json_is_array(v) || json_is_string(v)) {
		go_json(out, v);
		return;
	}
	if (v)
		go_json(&text, v); /* a number or boolean: its text */
	go_json_string(out, text.buf, text.len);
	strbuf_release(&text);
}

void ov_hash(char out[static 11], const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	int secret = kind && !strcmp(kind, "Secret");
	const char *extra = secret ? "stringData" : "binaryData";
	struct strbuf s = STRBUF_INIT;
	unsigned char digest[32];
	static const char hex[] = "0123456789abcdef";

	/* keys in sorted order: binaryData, data, kind, name, stringData, type */
	strbuf_addch(&s, '{');
	if (!secret && json_is_object(json_object_get(obj, extra))) {
		strbuf_addstr(&s, "\"binaryData\":");
		go_json(&s, json_object_get(obj, extra));
		strbuf_addch(&s, ',');
	}
	strbuf_addstr(&s, "\"data\":");
	hash_member(&s, json_object_get(obj, "data"));
	strbuf_addf(&s, ",\"kind\":\"%s\",\"name\":\"\"", secret ? "Secret" : "ConfigMap");
	if (secret && json_is_object(json_object_get(obj, extra))) {
		strbuf_addstr(&s, ",\"stringData\":");
		go_json(&s, json_object_get(obj, extra));
	}
	if (secret) {
		strbuf_addstr(&s, ",\"type\":");
		hash_member(&s, json_object_get(obj, "type"));
	}
	strbuf_addch(&s, '}');
	ov_sha256(digest, s.buf, s.len);
	for (int i = 0; i < 10; i++) {
		char c = hex[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 15];

		/* kustomize's encode(): no vowels, no 0 1 3 */
		out[i] = c == '0' ? 'g' : c == '1' ? 'h' : c == '3' ? 'k' : c == 'a' ? 'm' : c == 'e' ? 't' : c;
	}
	out[10] = '\0';
	strbuf_release(&s);
}

/* ---- data sources ---- */

struct gen_options {
	json_t *labels, *annotations; /* new references */
	int no_hash, immutable;
};

static void gen_fail(struct octx *c, const struct generator *g, struct ypos pos, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

static void gen_fail(struct octx *c, const struct generator *g, struct ypos pos, const char *fmt,
		     ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	ov_err(c, c->ov->file, pos.line ? pos : g->pos, "overlay-generator", "%s `%s`: %s", g->field,
	       g->name, msg.buf);
	strbuf_release(&msg);
}

static int add_pair(struct octx *c, struct generator *g, const char *key, const char *val,
		    size_t len, struct ypos pos)
{
	struct strbuf b64 = STRBUF_INIT;
	int secret = !strcmp(g->kind, "Secret");

	if (json_object_get(g->data, key) || json_object_get(g->binary, key)) {
		gen_fail(c, g, pos, "the key `%s` is given twice", key);
		return -1;
	}
	if (!secret && valid_utf8(val, len) && !memchr(val, '\0', len)) {
		json_object_set_new(g->data, key, json_stringn(val, len));
		return 0;
	}
	base64_lines(&b64, (const unsigned char *)val, len);
	json_object_set_new(secret ? g->data : g->binary, key, json_string(b64.buf));
	strbuf_release(&b64);
	return 0;
}

/* KEY=VALUE; quotes around the whole value are dropped, as kustomize does. */
static int add_literal(struct octx *c, struct generator *g, const char *s, struct ypos pos)
{
	const char *eq = strchr(s, '='), *v;
	size_t len;
	char *key;
	int ret;

	if (!eq || eq == s) {
		gen_fail(c, g, pos, "literal `%s` must be KEY=VALUE", s);
		return -1;
	}
	v = eq + 1;
	len = strlen(v);
	if (len >= 2 && v[0] == v[len - 1] && (v[0] == '"' || v[0] == '\'')) {
		v++;
		len -= 2;
	}
	key = xstrndup(s, (size_t)(eq - s));
	ret = add_pair(c, g, key, v, len, pos);
	free(key);
	return ret;
}

/* One line of an env file: KEY=VALUE, blank, or a # comment. */
static int env_line(struct octx *c, struct generator *g, const char *line, size_t len,
		    size_t nr, const char *file, struct ypos pos)
{
	const char *eq;
	char *key;
	int ret;

	if (len && line[len - 1] == '\r')
		len--;
	if (nr == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
		line += 3, len -= 3;
	while (len && *line && strchr(" \t\v\f\r", *line))
		line++, len--;
	if (!len || *line == '#')
		return 0;
	if (!valid_utf8(line, len)) {
		gen_fail(c, g, pos, "%s line %zu is not UTF-8", file, nr);
		return -1;
	}
	eq = memchr(line, '=', len);
	if (!eq) {
		gen_fail(c, g, pos,
			 "%s line %zu has no `=`: kustomize would read the value from its own "
			 "environment; write KEY=VALUE", file, nr);
		return -1;
	}
	key = xstrndup(line, (size_t)(eq - line));
	ret = add_pair(c, g, key, eq + 1, len - (size_t)(eq - line) - 1, pos);
	free(key);
	return ret;
}

static int add_env_file(struct octx *c, struct generator *g, const char *rel, struct ypos pos)
{
	struct strbuf buf = STRBUF_INIT;
	size_t nr = 0;
	int ret = 0;

	if (ov_read(&buf, c, rel, pos) < 0)
		return -1;
	for (const char *p = buf.buf; p < buf.buf + buf.len && ret == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(buf.buf + buf.len - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(buf.buf + buf.len - p);

		ret = env_line(c, g, p, len, ++nr, rel, pos);
		p += len + 1;
	}
	strbuf_release(&buf);
	return ret;
}

/* [KEY=]FILE: the key defaults to the file's base name. */
static int add_file(struct octx *c, struct generator *g, const char *spec, struct ypos pos)
{
	const char *eq = strchr(spec, '='), *path = eq ? eq + 1 : spec, *slash;
	struct strbuf buf = STRBUF_INIT;
	char *key;
	int ret = -1;

	if (eq && (eq == spec || !*path || strchr(path, '='))) {
		gen_fail(c, g, pos, "file source `%s` must be FILE or KEY=FILE", spec);
		return -1;
	}
	slash = strrchr(path, '/');
	key = eq ? xstrndup(spec, (size_t)(eq - spec)) : xstrdup(slash ? slash + 1 : path);
	if (ov_read(&buf, c, path, pos) == 0)
		ret = add_pair(c, g, key, buf.buf, buf.len, pos);
	free(key);
	strbuf_release(&buf);
	return ret;
}

typedef int (*source_fn)(struct octx *c, struct generator *g, const char *s, struct ypos pos);

static int add_sources(struct octx *c, struct generator *g, const char *field, source_fn fn)
{
	const json_t *list = json_object_get(g->entry, field);
	size_t i;
	json_t *v;
	int ret = 0;

	if (list && !json_is_array(list)) {
		gen_fail(c, g, ov_kpos(c, g->entry, field), "`%s` must be a list", field);
		return -1;
	}
	json_array_foreach(list, i, v) {
		if (!json_is_string(v)) {
			gen_fail(c, g, ov_kpos_item(c, list, i), "`%s` entries must be strings", field);
			ret = -1;
		} else if (fn(c, g, json_string_value(v), ov_kpos_item(c, list, i)) < 0) {
			ret = -1;
		}
	}
	return ret;
}

/* ---- options ---- */

static int merge_string_map(struct octx *c, json_t *dst, const json_t *src, const char *what)
{
	const char *k;
	json_t *v;

	if (!src)
		return 0;
	if (!json_is_object(src)) {
		ov_err(c, c->ov->file, ov_kpos(c, src, NULL), "overlay-type",
		       "`%s` must be a mapping of strings", what);
		return -1;
	}
	json_object_foreach((json_t *)src, k, v) {
		if (!json_is_string(v)) {
			ov_err(c, c->ov->file, ov_kpos(c, src, k), "overlay-type",
			       "`%s.%s` must be a string (quote it)", what, k);
			return -1;
		}
		json_object_set(dst, k, v);
	}
	return 0;
}

/* Fold one options mapping in; later calls win on conflicts. */
static int read_options(struct octx *c, struct gen_options *o, const json_t *opts, const char *what)
{
	static const char *const keys[] = { "labels", "annotations", "disableNameSuffixHash",
					    "immutable" };
	const char *k;
	json_t *v;

	if (!opts)
		return 0;
	if (!json_is_object(opts)) {
		ov_err(c, c->ov->file, ov_kpos(c, opts, NULL), "overlay-type", "`%s` must be a mapping",
		       what);
		return -1;
	}
	json_object_foreach((json_t *)opts, k, v)
		if (!ov_in_list(k, keys, ARRAY_SIZE(keys))) {
			ov_err(c, c->ov->file, ov_kpos_key(c, opts, k), "overlay-unsupported",
			       "unknown option `%s` in `%s`", k, what);
			return -1;
		}
	o->no_hash |= json_is_true(json_object_get(opts, "disableNameSuffixHash"));
	o->immutable |= json_is_true(json_object_get(opts, "immutable"));
	if (merge_string_map(c, o->labels, json_object_get(opts, "labels"), "labels") < 0)
		return -1;
	return merge_string_map(c, o->annotations, json_object_get(opts, "annotations"),
				"annotations");
}

/* ---- objects ---- */

static json_t *make_object(const struct generator *g, const struct gen_options *o)
{
	const char *type = json_string_value(json_object_get(g->entry, "type"));
	json_t *meta = json_pack("{s:s}", "name", g->name);
	json_t *obj = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", g->kind);

	/* copies: later steps overwrite label values in place */
	if (json_object_size(o->labels))
		json_object_set_new(meta, "labels", json_deep_copy(o->labels));
	if (json_object_size(o->annotations))
		json_object_set_new(meta, "annotations", json_deep_copy(o->annotations));
	json_object_set_new(obj, "metadata", meta);
	if (!strcmp(g->kind, "Secret"))
		json_object_set_new(obj, "type", json_string(type && *type ? type : "Opaque"));
	if (json_object_size(g->data))
		json_object_set(obj, "data", g->data);
	if (json_object_size(g->binary))
		json_object_set(obj, "binaryData", g->binary);
	if (o->immutable)
		json_object_set_new(obj, "immutable", json_true());
	return obj;
}

/* old's members of field under new's (new wins), into new. */
static void merge_member(json_t *new_obj, const json_t *old_obj, const char *field)
{
	json_t *merged = json_deep_copy(json_object_get(old_obj, field));
	json_t *fresh = json_object_get(new_obj, field);

	if (!json_is_object(merged)) {
		json_decref(merged);
		return;
	}
	if (json_is_object(fresh))
		json_object_update(merged, fresh);
	if (json_object_size(merged))
		json_object_set(new_obj, field, merged);
	json_decref(merged);
}

/* merge and replace: the new object takes the old one's place, name and metadata. */
static int merge_into(struct octx *c, const struct generator *g, json_t *obj, int replace)
{
	struct ov_id id = { xstrdup(""), xstrdup("v1"), xstrdup(g->kind), xstrdup(g->name),
			    xstrdup("") };
	ssize_t i = ov_find(c, &id);
	json_t *old, *meta = json_object_get(obj, "metadata");
	const char *old_ns;

	ov_id_release(&id);
	if (i < 0) {
		gen_fail(c, g, ov_kpos(c, g->entry, "behavior"),
			 "`behavior: %s` needs a %s `%s` in the base, and there is none",
			 replace ? "replace" : "merge", g->kind, g->name);
		json_decref(obj);
		return -1;
	}
	old = c->res[i].obj;
	merge_member(meta, json_object_get(old, "metadata"), "labels");
	merge_member(meta, json_object_get(old, "metadata"), "annotations");
	old_ns = json_string_value(json_object_get(json_object_get(old, "metadata"), "namespace"));
	json_object_set(meta, "name", json_object_get(json_object_get(old, "metadata"), "name"));
	if (old_ns && *old_ns)
		json_object_set_new(meta, "namespace", json_string(old_ns));
	if (!replace) {
		merge_member(obj, old, "data");
		merge_member(obj, old, "binaryData");
	}
	/* the object keeps its place and, as in kustomize, its own name-hash setting */
	json_decref(old);
	c->res[i].obj = obj; /* transferred */
	return 0;
}

static int check_entry_keys(struct octx *c, const struct generator *g)
{
	static const char *const keys[] = { "name", "behavior", "literals", "files", "envs",
					    "options", "type" };
	size_t nkeys = ARRAY_SIZE(keys) - !strcmp(g->kind, "ConfigMap");
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)g->entry, k, v) {
		if (ov_in_list(k, keys, nkeys))
			continue;
		if (!strcmp(k, "env"))
			gen_fail(c, g, ov_kpos_key(c, g->entry, k),
				 "`env` is deprecated in kustomize; use `envs: [FILE]`");
		else if (!strcmp(k, "namespace"))
			gen_fail(c, g, ov_kpos_key(c, g->entry, k), "the namespace is set by gitd; remove it");
		else
			gen_fail(c, g, ov_kpos_key(c, g->entry, k), "unknown field `%s`", k);
		return -1;
	}
	return 0;
}

static int generate(struct octx *c, struct generator *g, const char *behavior)
{
	struct gen_options o = { json_object(), json_object(), 0, 0 };
	const json_t *global = ov_kfield(c, "generatorOptions");
	json_t *obj = NULL;
	int ret = -1;

	/* gitd's order of precedence is kustomize's: the generator's own options win */
	if (check_entry_keys(c, g) < 0 || read_options(c, &o, global, "generatorOptions") < 0 ||
	    read_options(c, &o, json_object_get(g->entry, "options"), "options") < 0)
		goto cleanup;
	if (add_sources(c, g, "envs", add_env_file) < 0 ||
	    add_sources(c, g, "literals", add_literal) < 0 || add_sources(c, g, "files", add_file) < 0)
		goto cleanup;
	obj = make_object(g, &o);
	if (strcmp(behavior, "create")) {
		ret = merge_into(c, g, obj, !strcmp(behavior, "replace"));
		goto cleanup;
	}
	if (ov_add(c, obj, c->ov->file, g->pos) == 0) {
		c->res[c->nr - 1].generated = 1;
		c->res[c->nr - 1].hash = !o.no_hash;
		ret = 0;
	}
cleanup:
	json_decref(o.labels);
	json_decref(o.annotations);
	return ret;
}

static int generator_entry(struct octx *c, const json_t *e, const char *field, struct ypos pos)
{
	static const char *const behaviors[] = { "create", "merge", "replace" };
	struct generator g = { e, field, !strcmp(field, "secretGenerator") ? "Secret" : "ConfigMap",
			       NULL, pos, json_object(), json_object() };
	const char *behavior = json_string_value(json_object_get(e, "behavior"));
	int ret = -1;

	g.name = json_string_value(json_object_get(e, "name"));
	if (!json_is_object(e) || !g.name || !*g.name) {
		ov_err(c, c->ov->file, pos, "overlay-type", "`%s` entries need a `name`", field);
	} else if (behavior && !ov_in_list(behavior, behaviors, ARRAY_SIZE(behaviors))) {
		gen_fail(c, &g, ov_kpos(c, e, "behavior"),
			 "`behavior` must be create, merge or replace");
	} else {
		ret = generate(c, &g, behavior ? behavior : "create");
	}
	json_decref(g.data);
	json_decref(g.binary);
	return ret;
}

static int generator_list(struct octx *c, const char *field)
{
	const json_t *list = ov_kfield(c, field);
	size_t i;
	json_t *e;

	if (list && !json_is_array(list)) {
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, field), "overlay-type",
		       "`%s` must be a list", field);
		return -1;
	}
	json_array_foreach(list, i, e)
		generator_entry(c, e, field, ov_kpos_item(c, list, i));
	return c->errors ? -1 : 0;
}

int ov_generators(struct octx *c)
{
	const json_t *opts = ov_kfield(c, "generatorOptions");

	if (opts && !json_is_object(opts)) {
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, "generatorOptions"),
		       "overlay-type", "`generatorOptions` must be a mapping");
		return -1;
	}
	if (generator_list(c, "configMapGenerator") < 0)
		return -1;
	return generator_list(c, "secretGenerator");
}

int ov_hash_names(struct octx *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		json_t *meta = json_object_get(c->res[i].obj, "metadata");
		const char *name = json_string_value(json_object_get(meta, "name"));
		char hash[11];

		if (!c->res[i].hash || !name)
			continue;
		ov_hash(hash, c->res[i].obj);
		json_object_set_new(meta, "name", json_sprintf("%s-%s", name, hash));
	}
	return 0;
}
