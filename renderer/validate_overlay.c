/*
 * overlays/ENV/kustomization.yaml: the subset of kustomize gitd renders.
 *
 * The app itself (app.yaml and resources/) is the overlay's base, so an
 * overlay names no bases; it may add local files, patch, set images and
 * replicas, add labels and annotations, and generate ConfigMaps and
 * Secrets. Everything else kustomize knows is refused by name, and gitd
 * sets the namespace.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "k8s.h"
#include "strbuf.h"
#include "suggest.h"
#include "util.h"
#include "validate_internal.h"
#include "banned.h"

/* One overlay being checked. */
struct vk {
	struct vctx *v;
	const struct ydoc *doc;
	const char *file; /* overlays/ENV/kustomization.yaml */
	const char *dir;  /* overlays/ENV */
	const char *env;
	json_t *k;
};

typedef void (*field_fn)(struct vk *k, const char *field);

static void field_resources(struct vk *k, const char *field);
static void field_generator(struct vk *k, const char *field);
static void field_generator_options(struct vk *k, const char *field);
static void field_smp_list(struct vk *k, const char *field);
static void field_patches(struct vk *k, const char *field);
static void field_json6902(struct vk *k, const char *field);
static void field_images(struct vk *k, const char *field);
static void field_replicas(struct vk *k, const char *field);
static void field_labels(struct vk *k, const char *field);
static void field_common_map(struct vk *k, const char *field);
static void field_header(struct vk *k, const char *field);

/* Supported fields, in the order they are checked: objects first, then what refers to them. */
static const struct field_rule {
	const char *field;
	field_fn check;
} field_rules[] = {
	{ "apiVersion", field_header },
	{ "kind", field_header },
	{ "metadata", NULL },
	{ "resources", field_resources },
	{ "configMapGenerator", field_generator },
	{ "secretGenerator", field_generator },
	{ "generatorOptions", field_generator_options },
	{ "patchesStrategicMerge", field_smp_list },
	{ "patches", field_patches },
	{ "patchesJson6902", field_json6902 },
	{ "images", field_images },
	{ "replicas", field_replicas },
	{ "labels", field_labels },
	{ "commonLabels", field_common_map },
	{ "commonAnnotations", field_common_map },
};

/* kustomize fields gitd does not render, refused by name rather than as typos. */
static const char *const unsupported_fields[] = {
	"bases",	     "buildMetadata",  "components",     "configurations",
	"crds",		     "generators",     "helmChartInflationGenerator",
	"helmCharts",	     "helmGlobals",    "imageTags",	 "inventory",
	"namePrefix",	     "nameSuffix",     "openapi",	 "replacements",
	"sortOptions",	     "transformers",   "validators",	 "vars",
};

static void __attribute__((format(printf, 4, 5)))
kerr(struct vk *k, struct ypos pos, const char *rule, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	verror(k->v, k->file, pos, rule, "%s", msg.buf);
	strbuf_release(&msg);
}

static struct ypos field_pos(struct vk *k, const char *field)
{
	return vpos_val(k->doc, k->k, field);
}

/* k[field] as a list, or NULL after reporting what it is instead. */
static json_t *field_list(struct vk *k, const char *field)
{
	json_t *list = json_object_get(k->k, field);

	if (json_is_array(list) && json_array_size(list) > VALIDATE_MAX_LIST) {
		kerr(k, field_pos(k, field), "overlay-type", "`%s` has more than %d entries", field,
		     VALIDATE_MAX_LIST);
		return NULL;
	}
	if (json_is_array(list))
		return list;
	if (!json_is_null(list))
		kerr(k, field_pos(k, field), "overlay-type", "`%s` must be a list, not %s", field,
		     describe_type(list));
	return NULL;
}

/* A string member of obj (path names it in messages); NULL after reporting. */
static const char *member_string(struct vk *k, const json_t *obj, const char *key,
				 const char *path, int required)
{
	json_t *val = json_object_get(obj, key);
	struct strbuf why = STRBUF_INIT;

	if (json_is_string(val))
		return json_string_value(val);
	if (!val && required)
		kerr(k, ydoc_pos(k->doc, obj), "overlay-type", "`%s` needs `%s`", path, key);
	else if (val) {
		describe_not_string(&why, val, ydoc_member(k->doc, obj, key));
		kerr(k, vpos_val(k->doc, obj, key), "overlay-type", "`%s.%s` must be a string: %s",
		     path, key, why.buf);
	}
	strbuf_release(&why);
	return NULL;
}

/* Only the keys in known may appear in obj (an item of field). */
static void item_keys(struct vk *k, const json_t *obj, const char *path,
		      const char *const *known, size_t n)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		size_t i;

		for (i = 0; i < n && strcmp(known[i], key); i++)
			;
		if (i == n)
			vunknown_key(k->v, k->file, vpos_key(k->doc, obj, key), "overlay-unsupported", "key",
				     key, path, known, n);
	}
}

static int is_remote(const char *s)
{
	return strstr(s, "://") || starts_with(s, "git@") || starts_with(s, "github.com/") ||
	       starts_with(s, "gitlab.com/") || starts_with(s, "bitbucket.org/");
}

/*
 * Resolve a file named in the kustomization into out (a source path): it
 * must be local, inside the repo, and an existing regular file.
 */
static int overlay_file(struct vk *k, const char *rel, struct ypos pos, const char *field,
			struct strbuf *out)
{
	enum source_type type;

	if (is_remote(rel)) {
		kerr(k, pos, "overlay-unsupported",
		     "`%s` entry `%s` is remote; gitd overlays take only files in the repository", field,
		     rel);
		return -1;
	}
	if (source_path_join(out, k->dir, rel) < 0) {
		kerr(k, pos, "overlay-file", "`%s` entry `%s` must be a relative path inside the repository",
		     field, rel);
		return -1;
	}
	type = source_stat(k->v->src, out->buf);
	if (type == SOURCE_NONE)
		kerr(k, pos, "overlay-file", "`%s` entry `%s` does not exist (looked for %s)", field, rel,
		     out->buf);
	else if (type == SOURCE_DIR)
		kerr(k, pos, "overlay-file",
		     "`%s` entry `%s` is a directory; list files: app.yaml and resources/ are the "
		     "overlay's base already", field, rel);
	else if (type == SOURCE_OTHER)
		kerr(k, pos, "overlay-file", "`%s` entry `%s` is a symbolic link or a submodule", field,
		     rel);
	return type == SOURCE_FILE ? 0 : -1;
}

static void field_header(struct vk *k, const char *field)
{
	const char *want = !strcmp(field, "kind") ? "Kustomization" : "kustomize.config.k8s.io/v1beta1";
	const char *s = member_string(k, k->k, field, field, 0);

	if (!s)
		return;
	if (!strcmp(field, "kind") && !strcmp(s, "Component"))
		kerr(k, field_pos(k, field), "overlay-unsupported",
		     "kustomize components are not supported; an overlay is a Kustomization");
	else if (strcmp(s, want))
		kerr(k, field_pos(k, field), "overlay-type", "`%s` must be %s, not `%s`", field, want, s);
}

static void field_resources(struct vk *k, const char *field)
{
	json_t *list = field_list(k, field);
	struct strbuf path = STRBUF_INIT;
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item) {
		struct ypos pos = vpos_item(k->doc, list, i);
		const struct ydoc *doc;

		if (!json_is_string(item)) {
			kerr(k, pos, "overlay-type", "`resources` entries must be file names, not %s",
			     describe_type(item));
			continue;
		}
		if (overlay_file(k, json_string_value(item), pos, field, &path) < 0)
			continue;
		if (starts_with(path.buf, "resources/") && !strchr(path.buf + 10, '/')) {
			kerr(k, pos, "overlay-file",
			     "`resources` entry `%s` is in resources/, which every environment has already",
			     json_string_value(item));
			continue;
		}
		doc = vload_ref(k->v, path.buf, k->file, pos);
		if (doc)
			validate_objects(k->v, doc, k->env);
	}
	strbuf_release(&path);
}

/* "KEY=VALUE" literals; "[KEY=]FILE" files; env files: all local and present. */
static void generator_sources(struct vk *k, const json_t *gen, const char *path)
{
	static const char *const lists[] = { "literals", "files", "envs" };
	struct strbuf file = STRBUF_INIT;

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_t *list = json_object_get(gen, lists[l]);
		size_t i;
		json_t *item;

		if (list && !json_is_array(list))
			kerr(k, vpos_val(k->doc, gen, lists[l]), "overlay-type", "`%s.%s` must be a list",
			     path, lists[l]);
		json_array_foreach(list, i, item) {
			struct ypos pos = vpos_item(k->doc, list, i);
			const char *s = json_string_value(item), *eq = s ? strchr(s, '=') : NULL;

			if (!s)
				kerr(k, pos, "overlay-type", "`%s.%s` entries must be strings", path, lists[l]);
			else if (!strcmp(lists[l], "literals") && (!eq || eq == s))
				kerr(k, pos, "overlay-type", "literal `%s` must be KEY=VALUE", s);
			else if (strcmp(lists[l], "literals"))
				overlay_file(k, eq && !strcmp(lists[l], "files") ? eq + 1 : s, pos, path, &file);
		}
	}
	strbuf_release(&file);
}

/* A generated ConfigMap or Secret replaces or merges into one of the base, or is new. */
static void generator_object(struct vk *k, const json_t *gen, const char *field, const char *name)
{
	const char *behavior = json_string_value(json_object_get(gen, "behavior"));
	const char *kind = !strcmp(field, "secretGenerator") ? "Secret" : "ConfigMap";
	struct vobj o = { k->file, k->doc, NULL, "", kind, name, ydoc_pos(k->doc, gen), k->env };
	size_t iter = 0;
	const struct vobj *base;

	if (!behavior || !strcmp(behavior, "create")) {
		vobj_add(k->v, &o);
		return;
	}
	while ((base = vobj_next(k->v, k->env, &iter)))
		if (!strcmp(base->kind, kind) && !strcmp(base->group, "") && !strcmp(base->name, name))
			return;
	kerr(k, vpos_val(k->doc, gen, "behavior"), "overlay-target",
	     "`behavior: %s` needs a %s `%s` to %s, and there is none", behavior, kind, name, behavior);
}

static void check_generator(struct vk *k, const char *field, const json_t *gen, size_t i)
{
	static const char *const keys[] = { "name", "behavior", "files", "literals", "envs",
					    "env", "options", "type" };
	static const char *const behaviors[] = { "create", "replace", "merge" };
	char *path = xstrfmt("%s[%zu]", field, i);
	const char *name = member_string(k, gen, "name", path, 1);
	const char *behavior = member_string(k, gen, "behavior", path, 0);
	int sev = vpolicy(k->v, "plaintext_secret");

	item_keys(k, gen, path, keys, ARRAY_SIZE(keys) - !strcmp(field, "configMapGenerator"));
	if (json_object_get(gen, "env"))
		kerr(k, vpos_key(k->doc, gen, "env"), "overlay-unsupported",
		     "`env` is deprecated in kustomize; use `envs: [FILE]`");
	if (behavior && strcmp(behavior, behaviors[0]) && strcmp(behavior, behaviors[1]) &&
	    strcmp(behavior, behaviors[2]))
		kerr(k, vpos_val(k->doc, gen, "behavior"), "overlay-type",
		     "`%s.behavior` must be create, replace or merge, not `%s`", path, behavior);
	else if (name && k8s_check_dns_subdomain(name))
		kerr(k, vpos_val(k->doc, gen, "name"), "resource-name", "%s name `%s` %s", field, name,
		     k8s_check_dns_subdomain(name));
	else if (name)
		generator_object(k, gen, field, name);
	generator_sources(k, gen, path);
	if (!strcmp(field, "secretGenerator") && sev >= 0 &&
	    (json_object_get(gen, "literals") || json_object_get(gen, "files") || json_object_get(gen, "envs")))
		vreport(k->v, sev, k->file, ydoc_pos(k->doc, gen), "plaintext-secret",
			"secretGenerator `%s` takes its values from git as plain text: use a SealedSecret "
			"or an ExternalSecret instead", name ? name : "?");
	free(path);
}

static void field_generator(struct vk *k, const char *field)
{
	json_t *list = field_list(k, field);
	size_t i;
	json_t *gen;

	json_array_foreach(list, i, gen) {
		if (json_is_object(gen))
			check_generator(k, field, gen, i);
		else
			kerr(k, vpos_item(k->doc, list, i), "overlay-type",
			     "`%s` entries must be mappings with a name, not %s", field, describe_type(gen));
	}
}

static void field_generator_options(struct vk *k, const char *field)
{
	static const char *const keys[] = { "labels", "annotations", "disableNameSuffixHash",
					    "immutable" };
	json_t *opts = json_object_get(k->k, field);

	if (!json_is_object(opts))
		kerr(k, field_pos(k, field), "overlay-type", "`%s` must be a mapping, not %s", field,
		     describe_type(opts));
	else
		item_keys(k, opts, field, keys, ARRAY_SIZE(keys));
}

/* ---- patch targets ---- */

/* A patch target: from a `target:` selector, or from a strategic merge patch's own identity. */
struct target {
	const char *group, *version, *kind, *name, *namespace;
	const char *label_selector, *annotation_selector;
	int from_selector; /* name, kind, ... are anchored regular expressions */
};

static int regex_ok(const char *pattern)
{
	char *anchored = xstrfmt("^(%s)$", pattern);
	regex_t re;
	int ok = !regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB);

	if (ok)
		regfree(&re);
	free(anchored);
	return ok;
}

/* The identity fields of a target, compiled once: exact strings, or anchored regular expressions. */
enum target_field { TF_GROUP, TF_VERSION, TF_KIND, TF_NAME, TF_NAMESPACE, TF_COUNT };

struct matcher {
	const char *want[TF_COUNT]; /* NULL or "": any */
	regex_t re[TF_COUNT];
	int compiled[TF_COUNT];
	char *ns; /* the app's namespace in the overlay's environment */
};

static void matcher_init(struct matcher *m, struct vk *k, const struct target *t)
{
	memset(m, 0, sizeof(*m));
	m->want[TF_GROUP] = t->group;
	m->want[TF_VERSION] = t->version;
	m->want[TF_KIND] = t->kind;
	m->want[TF_NAME] = t->name;
	m->want[TF_NAMESPACE] = t->namespace;
	m->ns = vnamespace(k->v, k->env);
	for (int f = 0; f < TF_COUNT && t->from_selector; f++) {
		char *anchored;

		if (!m->want[f] || !*m->want[f])
			continue;
		anchored = xstrfmt("^(%s)$", m->want[f]);
		/* An invalid pattern was reported by parse_target(); it then compares exactly. */
		m->compiled[f] = !regcomp(&m->re[f], anchored, REG_EXTENDED | REG_NOSUB);
		free(anchored);
	}
}

static void matcher_release(struct matcher *m)
{
	for (int f = 0; f < TF_COUNT; f++)
		if (m->compiled[f])
			regfree(&m->re[f]);
	free(m->ns);
}

static int field_matches(const struct matcher *m, enum target_field f, const char *have)
{
	if (!m->want[f] || !*m->want[f])
		return 1;
	if (m->compiled[f])
		return !regexec(&m->re[f], have, 0, NULL, 0);
	return !strcmp(m->want[f], have);
}

static char *trim(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return xstrndup(s, len);
}

/* "key in (a, b)" / "key notin (a,b)": does value (NULL: absent) satisfy it? */
static int set_requirement(const char *op, const char *value, int *bad)
{
	const char *open = strchr(op, '('), *close = strrchr(op, ')');
	int in = starts_with(op, "in"), found = 0;

	if (!open || !close || close < open) {
		*bad = 1;
		return 0;
	}
	for (const char *p = open + 1; p < close;) {
		const char *comma = memchr(p, ',', (size_t)(close - p));
		char *item = trim(p, (size_t)((comma ? comma : close) - p));

		found |= value && !strcmp(item, value);
		free(item);
		p = comma ? comma + 1 : close;
	}
	return in ? found : !found;
}

/* One requirement of a label selector against labels (a mapping or NULL). */
static int requirement_matches(const char *req, const json_t *labels, int *bad)
{
	const char *ne = strstr(req, "!="), *eq = strchr(req, '='), *sp = strchr(req, ' ');
	const char *key_end = ne ? ne : eq ? eq : sp ? sp : req + strlen(req);
	char *key = trim(req[0] == '!' ? req + 1 : req, (size_t)(key_end - req) - (req[0] == '!'));
	const char *value = json_string_value(json_object_get(labels, key));
	int match;

	if (!*key)
		*bad = 1;
	if (req[0] == '!')
		match = !value;
	else if (ne || eq) {
		const char *rhs = ne ? ne + 2 : (eq[1] == '=' ? eq + 2 : eq + 1);
		char *want = trim(rhs, strlen(rhs));

		match = value && !strcmp(value, want);
		match = ne ? !match : match;
		free(want);
	} else if (sp) {
		const char *op = sp;

		while (*op == ' ')
			op++;
		if (!starts_with(op, "in") && !starts_with(op, "notin"))
			*bad = 1;
		match = set_requirement(op, value, bad);
	} else {
		match = value != NULL;
	}
	free(key);
	return match;
}

/* A label selector ("app=web,tier!=db,!canary,env in (a,b)") against labels; *bad on syntax errors. */
static int selector_matches(const char *selector, const json_t *labels, int *bad)
{
	const char *p = selector;
	int match = 1;

	while (*p) {
		const char *q = p;
		char *req;

		for (int depth = 0; *q && (depth || *q != ','); q++)
			depth += (*q == '(') - (*q == ')');
		req = trim(p, (size_t)(q - p));
		if (*req)
			match &= requirement_matches(req, labels, bad);
		free(req);
		p = *q ? q + 1 : q;
	}
	return match;
}

static const char *object_version(const struct vobj *o)
{
	const char *av = json_string_value(json_object_get(o->obj, "apiVersion"));
	const char *slash = av ? strchr(av, '/') : NULL;

	return slash ? slash + 1 : av;
}

static int target_matches(const struct matcher *m, const struct target *t, const struct vobj *o,
			  int *bad)
{
	const json_t *meta = json_object_get(o->obj, "metadata");
	const char *version = object_version(o);
	const char *own_ns = json_string_value(json_object_get(meta, "namespace"));

	if (!field_matches(m, TF_KIND, o->kind) || !field_matches(m, TF_NAME, o->name) ||
	    !field_matches(m, TF_GROUP, o->group) || (version && !field_matches(m, TF_VERSION, version)))
		return 0;
	/* Objects generated from app.yaml have labels this check cannot see: assume they match. */
	if (o->obj && t->label_selector &&
	    !selector_matches(t->label_selector, json_object_get(meta, "labels"), bad))
		return 0;
	if (o->obj && t->annotation_selector &&
	    !selector_matches(t->annotation_selector, json_object_get(meta, "annotations"), bad))
		return 0;
	return field_matches(m, TF_NAMESPACE, m->ns) || field_matches(m, TF_NAMESPACE, own_ns ? own_ns : "");
}

/* Report (at file:pos) a target that matches no object of the environment. */
static void check_target(struct vk *k, const struct target *t, const char *file, struct ypos pos)
{
	const char *names[64];
	size_t iter = 0, n = 0;
	const struct vobj *o;
	struct matcher m;
	int bad = 0, found = 0;
	const char *hint;

	matcher_init(&m, k, t);
	if (!t->from_selector && t->kind && t->name) {
		/* An exact identity: look only at objects of that kind and name. */
		while (!found && (o = vobj_next_named(k->v, k->env, t->kind, t->name, &iter)))
			found = target_matches(&m, t, o, &bad);
	} else {
		while (!found && (o = vobj_next(k->v, k->env, &iter)))
			found = target_matches(&m, t, o, &bad);
	}
	matcher_release(&m);
	if (found)
		return;
	/* Names of the same kind, for a suggestion, while problems are still being shown. */
	for (iter = 0; t->kind && k->v->reported.nr < VALIDATE_MAX_REPORTS &&
		       (o = vobj_next(k->v, k->env, &iter)) && n < ARRAY_SIZE(names);)
		if (!strcmp(o->kind, t->kind))
			names[n++] = o->name;
	if (bad) {
		verror(k->v, file, pos, "overlay-target", "invalid label or annotation selector");
		return;
	}
	hint = t->name && !t->from_selector ? suggest_word(t->name, names, n) : NULL;
	verror(k->v, file, pos, "overlay-target",
	       "patch target %s %s%s%s matches no object of environment %s%s%s%s",
	       t->kind ? t->kind : "(any kind)", t->name ? "`" : "(any name)", t->name ? t->name : "",
	       t->name ? "`" : "", k->env, hint ? "; did you mean `" : "", hint ? hint : "",
	       hint ? "`?" : "");
}

/* ---- patches ---- */

/* A parsed patch and where to report problems in it. */
struct patch {
	const struct ydoc *doc;
	const char *file; /* the patch file, or the kustomization for inline patches */
	struct ypos pos;  /* inline patches: the string's position; {0,0} otherwise */
	int is_inline;
};

static struct ypos patch_pos(const struct patch *p, struct ypos inner)
{
	return p->is_inline ? p->pos : inner;
}

static void check_ops(struct vk *k, const struct patch *p, const json_t *ops)
{
	static const char *const names[] = { "add", "remove", "replace", "move", "copy", "test" };
	size_t i;
	json_t *op;

	json_array_foreach(ops, i, op) {
		struct ypos pos = patch_pos(p, vpos_item(p->doc, ops, i));
		const char *name = json_string_value(json_object_get(op, "op"));
		const char *path = json_string_value(json_object_get(op, "path"));
		size_t n;

		if (!json_is_object(op) || !name || !path) {
			verror(k->v, p->file, pos, "overlay-patch",
			       "JSON 6902 operation %zu must be a mapping with `op` and `path`", i + 1);
			continue;
		}
		for (n = 0; n < ARRAY_SIZE(names) && strcmp(names[n], name); n++)
			;
		if (n == ARRAY_SIZE(names))
			vunknown_key(k->v, p->file, pos, "overlay-patch", "JSON 6902 operation", name, NULL, names,
				     ARRAY_SIZE(names));
		else if (path[0] != '/')
			verror(k->v, p->file, pos, "overlay-patch",
			       "JSON 6902 path `%s` must start with '/' (e.g. /spec/replicas)", path);
		else if (n <= 2 && strcmp(name, "remove") && !json_object_get(op, "value"))
			verror(k->v, p->file, pos, "overlay-patch", "JSON 6902 `%s` needs a `value`", name);
		else if (n == 5 && !json_object_get(op, "value"))
			verror(k->v, p->file, pos, "overlay-patch", "JSON 6902 `test` needs a `value`");
		else if ((n == 3 || n == 4) && !json_is_string(json_object_get(op, "from")))
			verror(k->v, p->file, pos, "overlay-patch", "JSON 6902 `%s` needs a `from` path", name);
	}
}

/* A strategic merge patch names its own target: kind, metadata.name and maybe apiVersion. */
static void check_smp_target(struct vk *k, const struct patch *p, size_t i)
{
	json_t *doc = ydoc_root(p->doc, i);
	const char *av = json_string_value(json_object_get(doc, "apiVersion"));
	struct target t;
	char *group;

	memset(&t, 0, sizeof(t));
	t.kind = json_string_value(json_object_get(doc, "kind"));
	t.name = json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	if (!t.kind || !t.name) {
		verror(k->v, p->file, patch_pos(p, ydoc_root_pos(p->doc, i)), "overlay-patch",
		       "a strategic merge patch needs `kind` and `metadata.name` to find its target, or "
		       "a `target` in the kustomization");
		return;
	}
	group = av ? vgroup_of(av) : NULL;
	t.group = group;
	check_target(k, &t, p->file, patch_pos(p, ydoc_root_pos(p->doc, i)));
	free(group);
}

/* What a patch holds decides its kind: a list of operations, or strategic merge documents. */
/* Has this patch file already been checked for this environment with this target? */
static int patch_seen(struct vk *k, const struct patch *p, const struct target *t,
		      const char *field)
{
	char *key;
	int seen;

	if (p->is_inline)
		return 0;
	key = xstrfmt("%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", k->env,
		      strcmp(field, "patchesJson6902") ? "" : "6902", p->file,
		      t ? "t" : "", t && t->group ? t->group : "", t && t->version ? t->version : "",
		      t && t->kind ? t->kind : "", t && t->name ? t->name : "",
		      t && t->label_selector ? t->label_selector : "",
		      t && t->annotation_selector ? t->annotation_selector : "");
	seen = json_object_get(k->v->patches_checked, key) != NULL;
	if (!seen)
		json_object_set_new(k->v->patches_checked, key, json_true());
	free(key);
	return seen;
}

static void check_patch(struct vk *k, const struct patch *p, const struct target *t,
			struct ypos tpos, const char *field)
{
	json_t *first = ydoc_root(p->doc, 0);

	if (patch_seen(k, p, t, field))
		return; /* the same file and target again: the same findings */
	if (!first) {
		verror(k->v, p->file, p->pos, "overlay-patch", "the patch is empty");
		return;
	}
	if (json_is_array(first)) {
		check_ops(k, p, first);
		if (ydoc_count(p->doc) > 1)
			verror(k->v, p->file, patch_pos(p, ydoc_root_pos(p->doc, 1)), "overlay-patch",
			       "a JSON 6902 patch is a single list of operations");
		if (!t)
			verror(k->v, p->file, patch_pos(p, ydoc_root_pos(p->doc, 0)), "overlay-patch",
			       "a JSON 6902 patch (a list of operations) needs a `target` in the kustomization");
		else
			check_target(k, t, k->file, tpos);
		return;
	}
	if (!strcmp(field, "patchesJson6902")) {
		verror(k->v, p->file, patch_pos(p, ydoc_root_pos(p->doc, 0)), "overlay-patch",
		       "`patchesJson6902` takes a list of JSON 6902 operations; put strategic merge "
		       "patches in `patches`");
		return;
	}
	for (size_t i = 0; i < ydoc_count(p->doc); i++) {
		if (!json_is_object(ydoc_root(p->doc, i)))
			verror(k->v, p->file, patch_pos(p, ydoc_root_pos(p->doc, i)), "overlay-patch",
			       "a strategic merge patch must be a mapping, not %s",
			       describe_type(ydoc_root(p->doc, i)));
		else if (!t)
			check_smp_target(k, p, i);
	}
	if (t)
		check_target(k, t, k->file, tpos);
}

/*
 * Load a patch named by path (relative to the overlay) or written inline;
 * pos is where the kustomization names it. On success p->doc is set; an
 * inline patch's document is then owned by the caller (*owned).
 */
static int load_patch(struct vk *k, const char *text, int is_inline, struct ypos pos,
		      const char *field, struct patch *p, struct ydoc **owned)
{
	struct strbuf path = STRBUF_INIT;
	struct diags *d = NULL;

	memset(p, 0, sizeof(*p));
	*owned = NULL;
	p->file = k->file;
	p->pos = pos;
	p->is_inline = is_inline;
	if (!is_inline) {
		if (!overlay_file(k, text, pos, field, &path) &&
		    (p->doc = vload_ref(k->v, path.buf, k->file, pos)))
			p->file = ydoc_file(p->doc);
	} else {
		d = diags_new();
		if (ydoc_load(owned, k->file, text, strlen(text), NULL, d) < 0)
			verror(k->v, k->file, pos, "overlay-patch", "the inline patch is not valid YAML: %s",
			       diags_nr(d) ? diags_get(d, 0)->message : "parse error");
		p->doc = *owned;
		diags_free(d);
	}
	strbuf_release(&path);
	return p->doc ? 0 : -1;
}

static void field_smp_list(struct vk *k, const char *field)
{
	json_t *list = field_list(k, field);
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item) {
		struct ypos pos = vpos_item(k->doc, list, i);
		const char *s = json_string_value(item);
		struct ydoc *owned;
		struct patch p;
		struct ypos none = { 0, 0 };

		if (!s) {
			kerr(k, pos, "overlay-type", "`%s` entries must be file names or inline patches", field);
			continue;
		}
		if (!load_patch(k, s, strchr(s, '\n') != NULL, pos, field, &p, &owned))
			check_patch(k, &p, NULL, none, field);
		ydoc_free(owned);
	}
}

/* A `target:` mapping into *t (strings borrowed from it); -1 after reporting a problem. */
static int parse_target(struct vk *k, const json_t *obj, const char *path, int required_id,
			struct target *t)
{
	static const char *const keys[] = { "group", "version", "kind", "name", "namespace",
					    "labelSelector", "annotationSelector" };
	const char **fields[] = { &t->group, &t->version, &t->kind, &t->name, &t->namespace,
				  &t->label_selector, &t->annotation_selector };
	size_t before = diags_count(k->v->d, DIAG_ERROR);

	memset(t, 0, sizeof(*t));
	t->from_selector = !required_id;
	if (!json_is_object(obj)) {
		kerr(k, ydoc_pos(k->doc, obj), "overlay-type", "`%s` must be a mapping", path);
		return -1;
	}
	item_keys(k, obj, path, keys, ARRAY_SIZE(keys) - (required_id ? 2 : 0));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		*fields[i] = member_string(k, obj, keys[i], path, required_id && (i == 2 || i == 3));
		if (*fields[i] && i < 5 && t->from_selector && !regex_ok(*fields[i]))
			kerr(k, vpos_val(k->doc, obj, keys[i]), "overlay-type",
			     "`%s.%s` is not a valid regular expression", path, keys[i]);
	}
	return diags_count(k->v->d, DIAG_ERROR) == before ? 0 : -1;
}

/* One entry of `patches` or `patchesJson6902`: path or patch, and a target. */
static void check_patch_entry(struct vk *k, const char *field, const json_t *entry, size_t i)
{
	static const char *const keys[] = { "path", "patch", "target", "options" };
	int ops_only = !strcmp(field, "patchesJson6902");
	char *path = xstrfmt("%s[%zu]", field, i);
	char *tpath = xstrfmt("%s.target", path);
	json_t *target = json_object_get(entry, "target");
	const char *file = member_string(k, entry, "path", path, 0);
	const char *text = member_string(k, entry, "patch", path, 0);
	struct ydoc *owned = NULL;
	struct target t;
	struct patch p;

	item_keys(k, entry, path, keys, ARRAY_SIZE(keys) - ops_only);
	if (!!json_object_get(entry, "path") == !!json_object_get(entry, "patch"))
		kerr(k, ydoc_pos(k->doc, entry), "overlay-type",
		     "`%s` needs exactly one of `path` (a file) and `patch` (inline)", path);
	else if (ops_only && !target)
		kerr(k, ydoc_pos(k->doc, entry), "overlay-type", "`%s` needs a `target`", path);
	else if ((!target || !parse_target(k, target, tpath, ops_only, &t)) && (file || text) &&
		 !load_patch(k, file ? file : text, !file, vpos_val(k->doc, entry, file ? "path" : "patch"),
			     field, &p, &owned))
		check_patch(k, &p, target ? &t : NULL, vpos_key(k->doc, entry, "target"), field);
	ydoc_free(owned);
	free(tpath);
	free(path);
}

static void field_patches(struct vk *k, const char *field)
{
	json_t *list = field_list(k, field);
	size_t i;
	json_t *entry;

	json_array_foreach(list, i, entry) {
		if (json_is_object(entry))
			check_patch_entry(k, field, entry, i);
		else
			kerr(k, vpos_item(k->doc, list, i), "overlay-type",
			     "`%s` entries must be mappings with `path` or `patch`, not %s", field,
			     describe_type(entry));
	}
}

static void field_json6902(struct vk *k, const char *field)
{
	field_patches(k, field);
}

static void check_image_entry(struct vk *k, const json_t *entry, size_t i)
{
	static const char *const keys[] = { "name", "newName", "newTag", "digest" };
	char *path = xstrfmt("images[%zu]", i);
	const char *name = member_string(k, entry, "name", path, 1);
	const char *tag = member_string(k, entry, "newTag", path, 0);
	int sev = vpolicy(k->v, "latest_tag");

	if (json_object_get(entry, "tagSuffix")) {
		kerr(k, vpos_key(k->doc, entry, "tagSuffix"), "overlay-unsupported",
		     "`tagSuffix` is not supported in gitd overlays; set the whole `newTag`");
		free(path);
		return;
	}
	item_keys(k, entry, path, keys, ARRAY_SIZE(keys));
	member_string(k, entry, "newName", path, 0);
	member_string(k, entry, "digest", path, 0);
	if (name && !json_object_get(entry, "newName") && !json_object_get(entry, "newTag") &&
	    !json_object_get(entry, "digest"))
		kerr(k, ydoc_pos(k->doc, entry), "overlay-type",
		     "`%s` changes nothing: set `newName`, `newTag` or `digest`", path);
	if (tag && !strcmp(tag, "latest") && sev >= 0)
		vreport(k->v, sev, k->file, vpos_val(k->doc, entry, "newTag"), "latest-tag",
			"image `%s` is set to the `latest` tag: pin a version or a digest", name ? name : "?");
	free(path);
}

static void field_images(struct vk *k, const char *field)
{
	json_t *list = field_list(k, field);
	size_t i;
	json_t *entry;

	json_array_foreach(list, i, entry) {
		if (json_is_object(entry))
			check_image_entry(k, entry, i);
		else
			kerr(k, vpos_item(k->doc, list, i), "overlay-type",
			     "`images` entries must be mappings with a name, not %s", describe_type(entry));
	}
}

static int has_scalable(struct vk *k, const char *name)
{
	static const char *const kinds[] = { "Deployment", "StatefulSet", "ReplicaSet",
					     "ReplicationController" };
	size_t iter = 0;
	const struct vobj *o;

	while ((o = vobj_next(k->v, k->env, &iter)))
		for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
			if (!strcmp(o->kind, kinds[i]) && !strcmp(o->name, name))
				return 1;
	return 0;
}

static void check_replicas_entry(struct vk *k, const json_t *entry, size_t i)
{
	static const char *const keys[] = { "name", "count" };
	char *path = xstrfmt("replicas[%zu]", i);
	const char *name = member_string(k, entry, "name", path, 1);
	json_t *count = json_object_get(entry, "count");
	struct strbuf why = STRBUF_INIT;

	item_keys(k, entry, path, keys, ARRAY_SIZE(keys));
	if (!count)
		kerr(k, ydoc_pos(k->doc, entry), "overlay-type", "`%s` needs `count`", path);
	else if (describe_octal(&why, count, ydoc_member(k->doc, entry, "count")) ||
		 (!json_is_integer(count) && describe_surprise(&why, count, ydoc_member(k->doc, entry, "count"))) ||
		 !json_is_integer(count) || json_integer_value(count) < 0)
		kerr(k, vpos_val(k->doc, entry, "count"), "overlay-type",
		     "`%s.count` must be a whole number of at least 0%s%s", path, why.len ? ": " : "",
		     why.buf);
	if (name && !has_scalable(k, name))
		kerr(k, vpos_val(k->doc, entry, "name"), "overlay-target",
		     "`%s` names `%s`, but environment %s has no Deployment, StatefulSet or ReplicaSet "
		     "of that name", path, name, k->env);
	strbuf_release(&why);
	free(path);
}

static void field_replicas(struct vk *k, const char *field)
{
	json_t *list = field_list(k, field);
	size_t i;
	json_t *entry;

	json_array_foreach(list, i, entry) {
		if (json_is_object(entry))
			check_replicas_entry(k, entry, i);
		else
			kerr(k, vpos_item(k->doc, list, i), "overlay-type",
			     "`replicas` entries must be mappings with name and count, not %s",
			     describe_type(entry));
	}
}

/* ---- labels and annotations ---- */

static void check_label_map(struct vk *k, const json_t *map, const char *path, int labels)
{
	const char *key;
	json_t *val;

	if (!json_is_object(map)) {
		kerr(k, ydoc_pos(k->doc, map), "overlay-type", "`%s` must be a mapping of keys to strings",
		     path);
		return;
	}
	json_object_foreach((json_t *)map, key, val) {
		const char *why = k8s_check_qualified_name(key);
		struct strbuf not = STRBUF_INIT;

		if (why)
			kerr(k, vpos_key(k->doc, map, key), "resource-metadata", "%s key `%s` %s",
			     labels ? "label" : "annotation", key, why);
		if (!json_is_string(val)) {
			describe_not_string(&not, val, ydoc_member(k->doc, map, key));
			kerr(k, vpos_val(k->doc, map, key), "resource-metadata", "`%s.%s` must be a string: %s",
			     path, key, not.buf);
		} else if (labels && (why = k8s_check_label_value(json_string_value(val)))) {
			kerr(k, vpos_val(k->doc, map, key), "resource-metadata", "label value `%s` %s",
			     json_string_value(val), why);
		}
		strbuf_release(&not);
	}
}

static void field_common_map(struct vk *k, const char *field)
{
	check_label_map(k, json_object_get(k->k, field), field, !strcmp(field, "commonLabels"));
}

static void field_labels(struct vk *k, const char *field)
{
	static const char *const keys[] = { "pairs", "includeSelectors", "includeTemplates", "fields" };
	json_t *list = field_list(k, field);
	size_t i;
	json_t *entry;

	json_array_foreach(list, i, entry) {
		char *path = xstrfmt("labels[%zu]", i);

		if (!json_is_object(entry)) {
			kerr(k, vpos_item(k->doc, list, i), "overlay-type",
			     "`labels` entries must be mappings with `pairs`, not %s", describe_type(entry));
		} else {
			char *pairs = xstrfmt("%s.pairs", path);

			item_keys(k, entry, path, keys, ARRAY_SIZE(keys));
			if (json_object_get(entry, "pairs"))
				check_label_map(k, json_object_get(entry, "pairs"), pairs, 1);
			else
				kerr(k, ydoc_pos(k->doc, entry), "overlay-type", "`%s` needs `pairs`", path);
			free(pairs);
		}
		free(path);
	}
}

/* ---- the kustomization ---- */

static int is_supported(const char *field)
{
	for (size_t i = 0; i < ARRAY_SIZE(field_rules); i++)
		if (!strcmp(field_rules[i].field, field))
			return 1;
	return 0;
}

static void check_fields(struct vk *k)
{
	const char *names[ARRAY_SIZE(field_rules) + ARRAY_SIZE(unsupported_fields)];
	size_t n = 0;
	const char *field;
	json_t *val;

	for (size_t i = 0; i < ARRAY_SIZE(field_rules); i++)
		names[n++] = field_rules[i].field;
	json_object_foreach(k->k, field, val) {
		struct ypos pos = vpos_key(k->doc, k->k, field);
		char *ns;
		size_t i;

		if (is_supported(field))
			continue;
		for (i = 0; i < ARRAY_SIZE(unsupported_fields) && strcmp(unsupported_fields[i], field); i++)
			;
		if (!strcmp(field, "namespace")) {
			ns = vnamespace(k->v, k->env);
			kerr(k, pos, "overlay-unsupported",
			     "`namespace` is set by gitd (`%s` in environment %s); remove it", ns, k->env);
			free(ns);
		} else if (i < ARRAY_SIZE(unsupported_fields)) {
			kerr(k, pos, "overlay-unsupported",
			     "`%s` is not supported in gitd overlays (supported: resources, patches, images, "
			     "replicas, labels, annotations, ConfigMap and Secret generators)", field);
		} else {
			vunknown_key(k->v, k->file, pos, "overlay-unsupported", "field", field, NULL, names, n);
		}
	}
}

static void check_kustomization(struct vk *k)
{
	check_fields(k);
	for (size_t i = 0; i < ARRAY_SIZE(field_rules); i++)
		if (field_rules[i].check && json_object_get(k->k, field_rules[i].field))
			field_rules[i].check(k, field_rules[i].field);
}

/* The kustomization file of overlays/ENV, or NULL after reporting. */
static char *find_kustomization(struct vctx *v, const char *dir)
{
	static const char *const names[] = { "kustomization.yaml", "kustomization.yml", "Kustomization" };
	struct ypos none = { 0, 0 };
	char *found = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *path = xstrfmt("%s/%s", dir, names[i]);

		if (source_stat(v->src, path) == SOURCE_NONE) {
			free(path);
		} else if (found) {
			verror(v, path, none, "overlay-file", "%s has two kustomization files; keep one",
			       dir);
			free(path);
		} else {
			found = path;
		}
	}
	if (!found)
		verror(v, dir, none, "overlay-file", "no kustomization.yaml in this overlay");
	return found;
}

static void check_overlay(struct vctx *v, const char *env, const char *dir)
{
	char *file = find_kustomization(v, dir);
	const struct ydoc *doc = file ? vload(v, file) : NULL;
	json_t *root = doc ? ydoc_root(doc, 0) : NULL;
	struct vk k = { v, doc, file, dir, env, root };
	struct voverlay *o;

	if (doc && (!json_is_object(root) || ydoc_count(doc) != 1)) {
		verror(v, file, ydoc_root_pos(doc, 0), "overlay-type",
		       "a kustomization must be one YAML mapping");
	} else if (doc) {
		ALLOC_GROW(v->overlays, v->overlay_nr + 1, v->overlay_alloc);
		o = &v->overlays[v->overlay_nr++];
		o->env = xstrdup(env);
		o->file = xstrdup(file);
		o->doc = doc;
		o->k = root;
		check_kustomization(&k);
	}
	free(file);
}

static void overlay_entry(struct vctx *v, const char *name, const char **envs)
{
	char *dir = xstrfmt("overlays/%s", name);
	struct ypos none = { 0, 0 };

	if (name[0] == '.')
		goto cleanup; /* .gitkeep and friends */
	if (source_stat(v->src, dir) != SOURCE_DIR)
		vreport(v, DIAG_WARNING, dir, none, "overlay-file",
			"ignored: overlays/ holds one directory per environment");
	else if (!config_env_find(v->cfg, name))
		vunknown_key(v, dir, none, "overlay-env", "environment", name, NULL, envs,
			     config_env_count(v->cfg));
	else if (venv_wanted(v, name))
		check_overlay(v, name, dir);
cleanup:
	free(dir);
}

void validate_overlays(struct vctx *v)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct ypos none = { 0, 0 };
	const char **envs = xcalloc(config_env_count(v->cfg) + 1, sizeof(*envs));

	for (size_t i = 0; i < config_env_count(v->cfg); i++)
		envs[i] = config_env(v->cfg, i)->name;
	if (source_stat(v->src, "overlays") == SOURCE_NONE)
		goto cleanup;
	if (source_list(v->src, "overlays", &names, &err) < 0)
		verror(v, "overlays", none, "overlay-file", "%s", err.buf);
	for (size_t i = 0; i < names.nr; i++)
		overlay_entry(v, names.v[i], envs);
cleanup:
	free(envs);
	strvec_clear(&names);
	strbuf_release(&err);
}

int validate_overlay_pins(struct vctx *v, const char *env, const char *image_name)
{
	for (size_t i = 0; i < v->overlay_nr; i++) {
		json_t *images = json_object_get(v->overlays[i].k, "images");
		size_t j;
		json_t *entry;

		if (strcmp(v->overlays[i].env, env))
			continue;
		json_array_foreach(images, j, entry) {
			const char *name = json_string_value(json_object_get(entry, "name"));
			const char *tag = json_string_value(json_object_get(entry, "newTag"));

			if (name && !strcmp(name, image_name) &&
			    (json_is_string(json_object_get(entry, "digest")) || (tag && strcmp(tag, "latest"))))
				return 1;
		}
	}
	return 0;
}
