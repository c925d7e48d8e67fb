/*
 * The overlay driver: check the kustomization's fields, gather the
 * resources, run the steps in kustomize's order, and hand back the
 * objects sorted. Helpers every step uses (identities, messages, files,
 * the resource list) live here too.
 */
#include "overlay.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "overlay_int.h"
#include "strvec.h"
#include "util.h"
#include "banned.h"

/* ---- identities ---- */

void ov_split_gv(const char *api_version, char **group, char **version)
{
	const char *av = api_version ? api_version : "";
	const char *slash = strchr(av, '/');

	if (slash) {
		*group = xstrndup(av, (size_t)(slash - av));
		*version = xstrdup(slash + 1);
	} else if (av[0] == 'v' && (av[1] == '1' || av[1] == '2')) {
		/* the core group's "v1" (kustomize: v followed by 1 or 2) */
		*group = xstrdup("");
		*version = xstrdup(av);
	} else {
		*group = xstrdup(av);
		*version = xstrdup("");
	}
}

static const char *meta_string(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));

	return s ? s : "";
}

void ov_id_of(struct ov_id *out, const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	ov_split_gv(json_string_value(json_object_get(obj, "apiVersion")), &out->group,
		    &out->version);
	out->kind = xstrdup(kind ? kind : "");
	out->name = xstrdup(meta_string(obj, "name"));
	out->ns = xstrdup(meta_string(obj, "namespace"));
}

void ov_id_release(struct ov_id *id)
{
	free(id->group);
	free(id->version);
	free(id->kind);
	free(id->name);
	free(id->ns);
}

const char *ov_id_str(const json_t *obj)
{
	static char buf[512];
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = meta_string(obj, "namespace");

	snprintf(buf, sizeof(buf), "%s/%s%s%s", kind ? kind : "?", meta_string(obj, "name"),
		 *ns ? " in namespace " : "", ns);
	return buf;
}

const char *ov_effective_ns(const char *api_version, const char *kind, const char *ns)
{
	if (overlay_is_cluster_scoped(api_version, kind))
		return "_non_namespaceable_";
	return ns && *ns ? ns : "default";
}

/* ---- messages ---- */

static void ov_report(struct octx *c, enum diag_severity sev, const char *file, struct ypos pos,
		      const char *rule, const char *fmt, va_list ap)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_vaddf(&msg, fmt, ap);
	diags_add(c->d, sev, file, pos.line, pos.col, rule, "%s", msg.buf);
	strbuf_release(&msg);
	if (sev == DIAG_ERROR)
		c->errors++;
}

void ov_err(struct octx *c, const char *file, struct ypos pos, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ov_report(c, DIAG_ERROR, file, pos, rule, fmt, ap);
	va_end(ap);
}

void ov_warn(struct octx *c, const char *file, struct ypos pos, const char *rule, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	ov_report(c, DIAG_WARNING, file, pos, rule, fmt, ap);
	va_end(ap);
}

struct ypos ov_kpos(const struct octx *c, const json_t *container, const char *key)
{
	struct ypos none = { 0, 0 };
	const struct ymember *m;

	if (!c->ov->doc || !container)
		return none;
	if (key && (m = ydoc_member(c->ov->doc, container, key)))
		return m->value;
	return ydoc_pos(c->ov->doc, container);
}

struct ypos ov_kpos_key(const struct octx *c, const json_t *container, const char *key)
{
	struct ypos none = { 0, 0 };
	const struct ymember *m;

	if (!c->ov->doc || !container)
		return none;
	m = ydoc_member(c->ov->doc, container, key);
	return m ? m->key : ydoc_pos(c->ov->doc, container);
}

struct ypos ov_kpos_item(const struct octx *c, const json_t *arr, size_t i)
{
	struct ypos none = { 0, 0 };
	const struct ymember *m;

	if (!c->ov->doc)
		return none;
	m = ydoc_item(c->ov->doc, arr, i);
	return m ? m->value : ydoc_pos(c->ov->doc, arr);
}

const json_t *ov_kfield(const struct octx *c, const char *field)
{
	const json_t *v = json_object_get(c->ov->kustomization, field);

	return json_is_null(v) ? NULL : v; /* `patches:` with nothing is no patches */
}

/* ---- files ---- */

char *ov_display_path(const struct octx *c, const char *rel)
{
	struct strvec parts = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT;
	char *joined = *rel == '/' ? xstrdup(rel) : xstrfmt("%s/%s", c->ov->dir, rel);
	char *save = NULL;

	/* lexical clean-up: drop "." and empty parts, let ".." eat a part */
	for (char *p = strtok_r(joined, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, "..") && parts.nr && strcmp(parts.v[parts.nr - 1], "..")) {
			free(parts.v[--parts.nr]);
			parts.v[parts.nr] = NULL;
			continue;
		}
		strvec_push(&parts, p);
	}
	for (size_t i = 0; i < parts.nr; i++)
		strbuf_addf(&out, "%s%s", i ? "/" : "", parts.v[i]);
	free(joined);
	strvec_clear(&parts);
	return strbuf_detach(&out, NULL);
}

/* rel cannot be read, errno says why: report it at pos. */
static void report_unreadable(struct octx *c, const char *rel, struct ypos pos)
{
	int why = errno;
	char *shown = ov_display_path(c, rel);

	if (why == EISDIR)
		ov_err(c, c->ov->file, pos, "overlay-file",
		       "`%s` is a directory; gitd overlays take files (the app is the base already)",
		       rel);
	else
		ov_err(c, c->ov->file, pos, "overlay-file", "cannot read %s: %s", shown,
		       strerror(why));
	free(shown);
}

int ov_read(struct strbuf *buf, struct octx *c, const char *rel, struct ypos pos)
{
	if (!c->ov->read_file(buf, rel, c->ov->payload))
		return 0;
	report_unreadable(c, rel, pos);
	return -1;
}

int ov_parse_yaml(const struct ydoc **out, struct octx *c, const char *file, const char *text,
		  size_t len)
{
	struct ydoc *doc;
	size_t before = diags_count(c->d, DIAG_ERROR);

	if (ydoc_load(&doc, file, text, len, NULL, c->d) < 0) {
		c->errors += (unsigned)(diags_count(c->d, DIAG_ERROR) - before);
		return -1;
	}
	ALLOC_GROW(c->docs, c->ndocs + 1, c->docs_alloc);
	c->docs[c->ndocs++] = doc;
	*out = doc;
	return 0;
}

/* ov_load_yaml() through the caller's load_yaml. */
static int load_shared(const struct ydoc **out, struct octx *c, const char *rel, struct ypos pos)
{
	size_t before = diags_count(c->d, DIAG_ERROR);
	int ret = c->ov->load_yaml(out, rel, c->d, c->ov->payload);

	if (ret == OVERLAY_BAD_YAML)
		c->errors += (unsigned)(diags_count(c->d, DIAG_ERROR) - before);
	else if (ret < 0)
		report_unreadable(c, rel, pos);
	return ret < 0 ? -1 : 0;
}

int ov_load_yaml(const struct ydoc **out, struct octx *c, const char *rel, struct ypos pos)
{
	struct strbuf buf = STRBUF_INIT;
	char *shown;
	int ret = -1;

	if (c->ov->load_yaml)
		return load_shared(out, c, rel, pos);
	shown = ov_display_path(c, rel);
	if (ov_read(&buf, c, rel, pos) == 0)
		ret = ov_parse_yaml(out, c, shown, buf.buf, buf.len);
	strbuf_release(&buf);
	free(shown);
	return ret;
}

/* ---- the resource list ---- */

static int id_matches(const struct ov_id *want, const json_t *obj, const char *name,
		      const char *ns)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	char *group, *version;
	int match;

	ov_split_gv(av, &group, &version);
	match = !strcmp(group, want->group) && !strcmp(version, want->version) && kind &&
		!strcmp(kind, want->kind) && !strcmp(name, want->name) &&
		!strcmp(ov_effective_ns(av, kind, ns), ov_effective_ns(av, kind, want->ns));
	free(group);
	free(version);
	return match;
}

int ov_res_has_id(const struct ores *r, const struct ov_id *id)
{
	return id_matches(id, r->obj, meta_string(r->obj, "name"), meta_string(r->obj, "namespace")) ||
	       id_matches(id, r->obj, r->org_name, r->org_ns);
}

/* Put resource i under kind and name in c->index. */
static void index_put(struct octx *c, const char *kind, const char *name, size_t i)
{
	char *key = xstrfmt("%s\x1f%s", kind, name);
	json_t *list = json_object_get(c->index, key);

	if (!list) {
		list = json_array();
		json_object_set_new_nocheck(c->index, key, list);
	}
	json_array_append_new(list, json_integer((json_int_t)i));
	free(key);
}

/* Index resource i under each name ov_res_has_id() may know it by. */
static void index_add(struct octx *c, size_t i)
{
	const struct ores *r = &c->res[i];
	const char *kind = json_string_value(json_object_get(r->obj, "kind"));
	const char *name = meta_string(r->obj, "name");

	if (!c->index || !kind)
		return; /* no index yet, or an object without a kind, which no id matches */
	index_put(c, kind, name, i);
	if (strcmp(name, r->org_name))
		index_put(c, kind, r->org_name, i);
}

const json_t *ov_named(struct octx *c, const char *kind, const char *name)
{
	char *key = xstrfmt("%s\x1f%s", kind, name);
	const json_t *list;

	if (!c->index) {
		c->index = json_object();
		for (size_t i = 0; i < c->nr; i++)
			index_add(c, i);
	}
	list = json_object_get(c->index, key);
	free(key);
	return list;
}

size_t ov_find_all(struct octx *c, const struct ov_id *id, size_t *first)
{
	const json_t *list = ov_named(c, id->kind, id->name);
	size_t k, hits = 0;
	json_t *v;

	/* a key may hold resources of other namespaces or groups: each is checked */
	json_array_foreach(list, k, v) {
		size_t i = (size_t)json_integer_value(v);

		if (ov_res_has_id(&c->res[i], id) && !hits++)
			*first = i;
	}
	return hits;
}

ssize_t ov_find(struct octx *c, const struct ov_id *id)
{
	size_t first;

	return ov_find_all(c, id, &first) ? (ssize_t)first : -1;
}

void ov_index_drop(struct octx *c)
{
	json_decref(c->index);
	c->index = NULL;
}

void ov_index_check(struct octx *c, size_t i, const struct ov_id *was)
{
	const char *kind = json_string_value(json_object_get(c->res[i].obj, "kind"));

	if (!kind || strcmp(kind, was->kind) || strcmp(meta_string(c->res[i].obj, "name"), was->name))
		ov_index_drop(c);
}

int ov_add(struct octx *c, json_t *obj, const char *file, struct ypos pos)
{
	struct ov_id id;
	struct ores *r;
	ssize_t dup;

	ov_id_of(&id, obj);
	dup = ov_find(c, &id);
	ov_id_release(&id);
	if (dup >= 0) {
		ov_err(c, file, pos, "overlay-conflict",
		       "%s is defined twice; kustomize refuses a second object with the same "
		       "kind, name and namespace", ov_id_str(obj));
		json_decref(obj);
		return -1;
	}
	ALLOC_GROW(c->res, c->nr + 1, c->alloc);
	r = &c->res[c->nr++];
	memset(r, 0, sizeof(*r));
	r->obj = obj; /* transferred */
	r->org_name = xstrdup(meta_string(obj, "name"));
	r->org_ns = xstrdup(meta_string(obj, "namespace"));
	index_add(c, c->nr - 1);
	return 0;
}

void ov_remove(struct octx *c, size_t i)
{
	json_decref(c->res[i].obj);
	free(c->res[i].org_name);
	free(c->res[i].org_ns);
	memmove(&c->res[i], &c->res[i + 1], (c->nr - i - 1) * sizeof(*c->res));
	c->nr--;
	ov_index_drop(c); /* the indices after i moved */
}

static void octx_release(struct octx *c)
{
	while (c->nr)
		ov_remove(c, c->nr - 1);
	free(c->res);
	for (size_t i = 0; i < c->ndocs; i++)
		ydoc_free(c->docs[i]);
	free(c->docs);
	ov_index_drop(c);
}

/* ---- the kustomization's fields ---- */

static const char *const supported_fields[] = {
	"apiVersion",	     "kind",	    "metadata",		     "resources",
	"configMapGenerator", "secretGenerator", "generatorOptions", "patchesStrategicMerge",
	"patches",	     "patchesJson6902", "images",	     "replicas",
	"labels",	     "commonLabels",	"commonAnnotations",
};

static const char *const unsupported_fields[] = {
	"bases",	"buildMetadata", "components",	"configurations", "crds",
	"generators",	"helmChartInflationGenerator", "helmCharts", "helmGlobals",
	"imageTags",	"inventory",	 "namePrefix",	"nameSuffix",	  "openapi",
	"replacements", "sortOptions",	 "transformers", "validators",	  "vars",
};

int ov_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

static void check_header(struct octx *c, const char *field, const char *want)
{
	const json_t *k = c->ov->kustomization;
	const char *s = json_string_value(json_object_get(k, field));

	if (!json_object_get(k, field))
		return;
	if (s && !strcmp(s, want))
		return;
	if (s && !strcmp(field, "kind") && !strcmp(s, "Component"))
		ov_err(c, c->ov->file, ov_kpos(c, k, field), "overlay-unsupported",
		       "kustomize components are not supported; an overlay is a Kustomization");
	else
		ov_err(c, c->ov->file, ov_kpos(c, k, field), "overlay-type", "`%s` must be %s",
		       field, want);
}

static int check_fields(struct octx *c)
{
	const json_t *k = c->ov->kustomization;
	const char *field;
	json_t *val;

	if (!json_is_object(k)) {
		ov_err(c, c->ov->file, ov_kpos(c, k, NULL), "overlay-type",
		       "a kustomization must be a mapping of fields");
		return -1;
	}
	json_object_foreach((json_t *)k, field, val) {
		struct ypos pos = ov_kpos_key(c, k, field);

		if (ov_in_list(field, supported_fields, ARRAY_SIZE(supported_fields)))
			continue;
		if (!strcmp(field, "namespace"))
			ov_err(c, c->ov->file, pos, "overlay-unsupported",
			       "`namespace` is set by gitd for each environment; remove it");
		else if (ov_in_list(field, unsupported_fields, ARRAY_SIZE(unsupported_fields)))
			ov_err(c, c->ov->file, pos, "overlay-unsupported",
			       "`%s` is not supported in gitd overlays", field);
		else
			ov_err(c, c->ov->file, pos, "overlay-unsupported",
			       "unknown kustomization field `%s`", field);
	}
	check_header(c, "apiVersion", "kustomize.config.k8s.io/v1beta1");
	check_header(c, "kind", "Kustomization");
	return c->errors ? -1 : 0;
}

/* ---- resources ---- */

static int check_object(struct octx *c, const json_t *obj, const char *file, struct ypos pos)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (!json_is_object(obj)) {
		ov_err(c, file, pos, "overlay-resource", "a resource must be a mapping");
		return -1;
	}
	if (!json_string_value(json_object_get(obj, "apiVersion")) || !kind || !*kind) {
		ov_err(c, file, pos, "overlay-resource", "a resource needs `apiVersion` and `kind`");
		return -1;
	}
	if (ends_with(kind, "List")) {
		ov_err(c, file, pos, "overlay-resource",
		       "`kind: %s` is not supported; write each item as its own document", kind);
		return -1;
	}
	if (!*meta_string(obj, "name")) {
		ov_err(c, file, pos, "overlay-resource", "a resource needs `metadata.name`");
		return -1;
	}
	return 0;
}

static void add_file(struct octx *c, const char *rel, struct ypos pos)
{
	const struct ydoc *doc;

	if (ov_load_yaml(&doc, c, rel, pos) < 0)
		return;
	for (size_t i = 0; i < ydoc_count(doc); i++) {
		json_t *obj = ydoc_root(doc, i);

		if (check_object(c, obj, ydoc_file(doc), ydoc_root_pos(doc, i)) == 0)
			ov_add(c, json_deep_copy(obj), ydoc_file(doc), ydoc_root_pos(doc, i));
	}
}

static int accumulate(struct octx *c, const json_t *base)
{
	const json_t *list = ov_kfield(c, "resources");
	size_t i;
	json_t *v;

	json_array_foreach(base, i, v) {
		if (check_object(c, v, c->ov->file, ov_kpos(c, NULL, NULL)) == 0)
			ov_add(c, json_deep_copy(v), c->ov->file, ov_kpos(c, NULL, NULL));
	}
	if (list && !json_is_array(list))
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, "resources"), "overlay-type",
		       "`resources` must be a list of file names");
	json_array_foreach(list, i, v) {
		if (json_is_string(v))
			add_file(c, json_string_value(v), ov_kpos_item(c, list, i));
		else
			ov_err(c, c->ov->file, ov_kpos_item(c, list, i), "overlay-type",
			       "`resources` entries must be file names");
	}
	return c->errors ? -1 : 0;
}

/* ---- the end ---- */

static int is_local_config(const json_t *obj)
{
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const char *v = json_string_value(json_object_get(ann, "config.kubernetes.io/local-config"));

	return v && !strcmp(v, "true");
}

/* kustomize never prints an empty or null metadata.annotations. */
static void tidy(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *ann = json_object_get(meta, "annotations");

	if (ann && (json_is_null(ann) || (json_is_object(ann) && !json_object_size(ann))))
		json_object_del(meta, "annotations");
}

static json_t *finish(struct octx *c)
{
	json_t *out = json_array();

	for (size_t i = 0; i < c->nr; i++) {
		if (is_local_config(c->res[i].obj))
			continue;
		tidy(c->res[i].obj);
		json_array_append(out, c->res[i].obj);
	}
	overlay_sort(out);
	return out;
}

static int run_steps(struct octx *c)
{
	static int (*const steps[])(struct octx *c) = {
		ov_generators, ov_patches_sm,	     ov_patches,   ov_namespace, ov_labels,
		ov_annotations, ov_patches_json6902, ov_replicas,  ov_images,	 ov_hash_names,
		ov_fix_refs,
	};

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		int ret = steps[i](c);

		ov_index_drop(c); /* steps rename objects as they like */
		if (ret < 0 || c->errors)
			return -1;
	}
	return 0;
}

int overlay_apply(json_t **out, const json_t *base, const struct overlay *ov,
		  const char *namespace_, struct diags *d)
{
	struct octx c = { .ov = ov, .ns = namespace_, .d = d };
	int ret = -1;

	*out = NULL;
	if (!json_is_array(base)) {
		ov_err(&c, ov->file, ov_kpos(&c, NULL, NULL), "overlay-resource",
		       "the app's objects must be a list");
		goto cleanup;
	}
	if (check_fields(&c) < 0 || accumulate(&c, base) < 0 || run_steps(&c) < 0)
		goto cleanup;
	*out = finish(&c);
	ret = 0;
cleanup:
	octx_release(&c);
	return ret;
}
