/*
 * Kubernetes objects from resources/ and from overlays: identity, metadata
 * syntax, namespaces, and which kinds an app may create at all.
 */
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "k8s.h"
#include "strbuf.h"
#include "util.h"
#include "validate_internal.h"
#include "banned.h"

/* Kubernetes' limit on the total size of an object's annotations. */
#define ANNOTATIONS_MAX_BYTES (256 * 1024)

struct group_kind {
	const char *group;
	const char *kind;
};


typedef const char *(*name_check_fn)(const char *name);

static const char *check_cronjob_name(const char *name)
{
	/* The controller appends an 11-character suffix to name Jobs. */
	if (strlen(name) > 52)
		return "must be at most 52 characters";
	return k8s_check_dns_subdomain(name);
}

/* Kinds whose names follow another rule than the usual DNS subdomain. */
static const struct name_rule {
	struct group_kind gk;
	name_check_fn check;
	const char *what;
} name_rules[] = {
	{ { "", "Namespace" }, k8s_check_dns_label, "DNS labels" },
	{ { "", "Service" }, k8s_check_dns1035_label, "DNS labels starting with a letter" },
	{ { "apps", "StatefulSet" }, k8s_check_dns_label, "DNS labels" },
	{ { "batch", "CronJob" }, check_cronjob_name, "DNS subdomains of at most 52 characters" },
	{ { "rbac.authorization.k8s.io", "Role" }, k8s_check_path_segment, "path segments" },
	{ { "rbac.authorization.k8s.io", "RoleBinding" }, k8s_check_path_segment, "path segments" },
	{ { "rbac.authorization.k8s.io", "ClusterRole" }, k8s_check_path_segment, "path segments" },
	{ { "rbac.authorization.k8s.io", "ClusterRoleBinding" }, k8s_check_path_segment,
	  "path segments" },
};

static int list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

/* One object being checked. */
struct vres {
	struct vctx *v;
	const struct ydoc *doc;
	const char *file;
	json_t *obj;
	json_t *meta;
	struct ypos pos; /* the document */
	const char *env; /* NULL: every environment */
};

static int valid_api_version(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *version = slash ? slash + 1 : s;
	char *group = slash ? xstrndup(s, (size_t)(slash - s)) : NULL;
	int ok = !group || !k8s_check_dns_subdomain(group);

	free(group);
	if (!*version)
		return 0;
	for (const char *p = version; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	return ok;
}

static int valid_kind(const char *s)
{
	if (!(*s >= 'A' && *s <= 'Z'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* A required string member of obj; NULL after reporting why not. */
static const char *want_string(struct vres *r, const json_t *obj, const char *key,
			       const char *path)
{
	json_t *val = json_object_get(obj, key);
	struct strbuf why = STRBUF_INIT;

	if (json_is_string(val) && *json_string_value(val))
		return json_string_value(val);
	if (!val)
		verror(r->v, r->file, obj == r->obj ? r->pos : ydoc_pos(r->doc, obj), "resource-object",
		       "object has no `%s`", path);
	else if (json_is_string(val))
		verror(r->v, r->file, vpos_val(r->doc, obj, key), "resource-object",
		       "`%s` must not be empty", path);
	else {
		describe_not_string(&why, val, ydoc_member(r->doc, obj, key));
		verror(r->v, r->file, vpos_val(r->doc, obj, key), "resource-object",
		       "`%s` must be a string: %s", path, why.buf);
	}
	strbuf_release(&why);
	return NULL;
}

static const char *check_api_version(struct vres *r)
{
	const char *av = want_string(r, r->obj, "apiVersion", "apiVersion");

	if (av && !valid_api_version(av)) {
		verror(r->v, r->file, vpos_val(r->doc, r->obj, "apiVersion"), "resource-object",
		       "`apiVersion` must be VERSION or GROUP/VERSION such as v1 or apps/v1, not `%s`",
		       av);
		return NULL;
	}
	return av;
}

static const char *check_kind(struct vres *r)
{
	const char *kind = want_string(r, r->obj, "kind", "kind");
	struct ypos pos = vpos_val(r->doc, r->obj, "kind");

	if (!kind)
		return NULL;
	if (!valid_kind(kind)) {
		verror(r->v, r->file, pos, "resource-object",
		       "`kind` must be a kind such as Deployment (letters and digits, starting with a "
		       "capital), not `%s`", kind);
		return NULL;
	}
	if (!strcmp(kind, "List") || (ends_with(kind, "List") && json_object_get(r->obj, "items"))) {
		verror(r->v, r->file, pos, "resource-object",
		       "`kind: %s` is not supported: write each object as its own YAML document, "
		       "separated by ---", kind);
		return NULL;
	}
	return kind;
}

static const char *check_name(struct vres *r, const char *group, const char *kind)
{
	const char *name;

	if (json_object_get(r->meta, "generateName") && !json_object_get(r->meta, "name")) {
		verror(r->v, r->file, vpos_key(r->doc, r->meta, "generateName"), "resource-name",
		       "`metadata.generateName` is not supported: objects are applied by name; set "
		       "`metadata.name`");
		return NULL;
	}
	name = want_string(r, r->meta, "name", "metadata.name");
	if (!name || !kind)
		return name;
	for (size_t i = 0; i < ARRAY_SIZE(name_rules); i++) {
		const struct name_rule *nr = &name_rules[i];

		if (!strcmp(nr->gk.group, group) && !strcmp(nr->gk.kind, kind)) {
			const char *why = nr->check(name);

			if (why)
				verror(r->v, r->file, vpos_val(r->doc, r->meta, "name"), "resource-name",
				       "%s name `%s` %s (%s names are %s)", kind, name, why, kind, nr->what);
			return why ? NULL : name;
		}
	}
	if (k8s_check_dns_subdomain(name)) {
		verror(r->v, r->file, vpos_val(r->doc, r->meta, "name"), "resource-name",
		       "%s name `%s` %s (names are DNS subdomains: lower-case letters, digits, '-' "
		       "and '.')", kind, name, k8s_check_dns_subdomain(name));
		return NULL;
	}
	return name;
}

static void check_namespace(struct vres *r)
{
	json_t *ns = json_object_get(r->meta, "namespace");
	struct ypos pos = vpos_val(r->doc, r->meta, "namespace");

	if (!ns)
		return;
	if (!json_is_string(ns)) {
		verror(r->v, r->file, pos, "resource-namespace",
		       "`metadata.namespace` must be a string; better, remove it: gitd sets the namespace");
		return;
	}
	for (size_t i = 0; i < config_env_count(r->v->cfg); i++) {
		const char *env = config_env(r->v->cfg, i)->name;
		char *want;

		if (!venv_wanted(r->v, env) || (r->env && strcmp(r->env, env)))
			continue;
		want = vnamespace(r->v, env);
		if (strcmp(want, json_string_value(ns))) {
			verror(r->v, r->file, pos, "resource-namespace",
			       "namespace `%s` is not the app's namespace in environment %s (`%s`); remove "
			       "`metadata.namespace`: gitd sets it",
			       json_string_value(ns), env, want);
			free(want);
			return;
		}
		free(want);
	}
}

/* A label or annotation key, as written. */
static void check_meta_key(struct vres *r, const json_t *map, const char *key, const char *what)
{
	const struct ymember *m = ydoc_member(r->doc, map, key);
	const char *why = k8s_check_qualified_name(key);

	if (m && m->key_source)
		verror(r->v, r->file, m->key, "resource-metadata", "%s key `%s` was read as `%s`; quote it",
		       what, m->key_source, key);
	else if (why)
		verror(r->v, r->file, vpos_key(r->doc, map, key), "resource-metadata",
		       "%s key `%s` %s", what, key, why);
}

/* metadata.labels or metadata.annotations: a mapping of valid keys to strings. */
static void check_meta_map(struct vres *r, const char *field, const char *what)
{
	json_t *map = json_object_get(r->meta, field);
	size_t total = 0;
	const char *key;
	json_t *val;

	if (!map || json_is_null(map))
		return;
	if (!json_is_object(map)) {
		verror(r->v, r->file, vpos_val(r->doc, r->meta, field), "resource-metadata",
		       "`metadata.%s` must be a mapping of keys to strings, not %s", field,
		       describe_type(map));
		return;
	}
	json_object_foreach(map, key, val) {
		struct ypos pos = vpos_val(r->doc, map, key);

		check_meta_key(r, map, key, what);
		if (!json_is_string(val)) {
			struct strbuf why = STRBUF_INIT;

			describe_not_string(&why, val, ydoc_member(r->doc, map, key));
			verror(r->v, r->file, pos, "resource-metadata", "%s `%s` must be a string: %s", what,
			       key, why.buf);
			strbuf_release(&why);
		} else if (!strcmp(field, "labels") && k8s_check_label_value(json_string_value(val))) {
			verror(r->v, r->file, pos, "resource-metadata", "label value `%s` %s",
			       json_string_value(val), k8s_check_label_value(json_string_value(val)));
		} else {
			total += strlen(key) + strlen(json_string_value(val));
		}
	}
	if (total > ANNOTATIONS_MAX_BYTES)
		verror(r->v, r->file, vpos_key(r->doc, r->meta, field), "resource-metadata",
		       "annotations total %zu bytes, more than Kubernetes' limit of %d", total,
		       ANNOTATIONS_MAX_BYTES);
}

/*
 * ConfigMap data and binaryData, Secret data and stringData: the API server
 * holds them as strings, so `DEBUG: on` or `mode: 0755` there would be
 * refused at apply time, long after the push was accepted.
 */
static void check_string_data(struct vres *r, const char *group, const char *kind)
{
	static const char *const fields[] = { "data", "binaryData", "stringData" };

	if (*group || (strcmp(kind, "ConfigMap") && strcmp(kind, "Secret")))
		return;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *map = json_object_get(r->obj, fields[i]), *val;
		const char *key;

		if (!map || json_is_null(map))
			continue;
		if (!json_is_object(map)) {
			verror(r->v, r->file, vpos_val(r->doc, r->obj, fields[i]), "resource-data",
			       "`%s` must be a mapping of keys to strings, not %s", fields[i], describe_type(map));
			continue;
		}
		json_object_foreach(map, key, val) {
			struct strbuf why = STRBUF_INIT;

			if (json_is_string(val))
				continue;
			describe_not_string(&why, val, ydoc_member(r->doc, map, key));
			verror(r->v, r->file, vpos_val(r->doc, map, key), "resource-data",
			       "`%s.%s` must be a string: %s", fields[i], key, why.buf);
			strbuf_release(&why);
		}
	}
}

static void check_kind_allowed(struct vres *r, const char *group, const char *kind)
{
	struct ypos pos = vpos_val(r->doc, r->obj, "kind");

	if (list_has(config_denied_kinds(r->v->cfg), kind))
		verror(r->v, r->file, pos, "resource-denied-kind",
		       "kind %s is not allowed by the platform policy (policy.denied_kinds)%s", kind,
		       !strcmp(kind, "Namespace") ? "; gitd creates the app's namespace itself" : "");
	else if (k8s_is_cluster_scoped(group, kind) &&
		 !list_has(config_allowed_cluster_kinds(r->v->cfg), kind))
		verror(r->v, r->file, pos, "resource-cluster-scoped",
		       "%s is cluster-scoped: apps may create only namespaced objects, unless the "
		       "platform allows the kind (policy.allowed_cluster_kinds)", kind);
}

static void check_object(struct vctx *v, const struct ydoc *doc, size_t i, const char *env)
{
	struct vres r = { v, doc, ydoc_file(doc), ydoc_root(doc, i), NULL, ydoc_root_pos(doc, i), env };
	const char *av, *kind, *name;
	char *group;

	if (!json_is_object(r.obj)) {
		verror(v, r.file, r.pos, "resource-object",
		       "each document must be a Kubernetes object (a mapping with apiVersion, kind and "
		       "metadata), not %s", describe_type(r.obj));
		return;
	}
	av = check_api_version(&r);
	kind = check_kind(&r);
	if (!kind && json_object_get(r.obj, "kind"))
		return; /* a List, or not a kind at all: the rest would only add noise */
	r.meta = json_object_get(r.obj, "metadata");
	if (!r.meta || !json_is_object(r.meta)) {
		verror(v, r.file, r.meta ? vpos_val(doc, r.obj, "metadata") : r.pos, "resource-object",
		       r.meta ? "`metadata` must be a mapping" : "object has no `metadata.name`");
		return;
	}
	group = vgroup_of(av ? av : "");
	name = check_name(&r, group, kind);
	check_meta_map(&r, "labels", "label");
	check_meta_map(&r, "annotations", "annotation");
	if (av && kind) {
		if (!k8s_is_cluster_scoped(group, kind))
			check_namespace(&r);
		check_kind_allowed(&r, group, kind);
		check_string_data(&r, group, kind);
	}
	if (av && kind && name) {
		struct vobj o = { r.file, doc, r.obj, group, kind, name, r.pos, env };

		vobj_add(v, &o);
	}
	free(group);
}

void validate_objects(struct vctx *v, const struct ydoc *doc, const char *env)
{
	for (size_t i = 0; i < ydoc_count(doc); i++)
		check_object(v, doc, i, env);
}

static int is_yaml_name(const char *name)
{
	return ends_with(name, ".yaml") || ends_with(name, ".yml");
}

/* One entry of resources/; returns 1 when it is a file to load. */
static int resource_entry_wanted(struct vctx *v, const char *path, const char *name)
{
	struct ypos none = { 0, 0 };

	if (name[0] == '.')
		return 0; /* .gitkeep and friends */
	if (source_stat(v->src, path) == SOURCE_DIR) {
		char *dir = xstrfmt("%s/", path);

		vreport(v, DIAG_WARNING, dir, none, "resource-ignored",
			"ignored: only files directly in resources/ are deployed, not subdirectories");
		free(dir);
		return 0;
	}
	if (!is_yaml_name(name)) {
		vreport(v, DIAG_WARNING, path, none, "resource-ignored",
			"ignored: only .yaml and .yml files in resources/ are deployed");
		return 0;
	}
	if (!strcmp(name, "kustomization.yaml") || !strcmp(name, "kustomization.yml")) {
		verror(v, path, none, "resource-object",
		       "resources/ holds plain manifests, not a kustomization: put per-environment "
		       "changes in overlays/ENV/kustomization.yaml");
		return 0;
	}
	return 1;
}

void validate_resources(struct vctx *v)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct ypos none = { 0, 0 };
	size_t loaded = 0;

	if (source_stat(v->src, "resources") == SOURCE_NONE)
		goto cleanup;
	if (source_stat(v->src, "resources") != SOURCE_DIR) {
		verror(v, "resources", none, "resource-object",
		       "resources must be a directory of Kubernetes manifests");
		goto cleanup;
	}
	if (source_list(v->src, "resources", &names, &err) < 0) {
		verror(v, "resources", none, "file", "%s", err.buf);
		goto cleanup;
	}
	for (size_t i = 0; i < names.nr; i++) {
		char *path = xstrfmt("resources/%s", names.v[i]);
		int wanted = resource_entry_wanted(v, path, names.v[i]);
		const struct ydoc *doc;

		if (wanted && ++loaded > VALIDATE_MAX_RESOURCE_FILES) {
			verror(v, path, none, "file", "not checked: resources/ holds more than %d files",
			       VALIDATE_MAX_RESOURCE_FILES);
			free(path);
			break;
		}
		if (wanted && (doc = vload(v, path)))
			validate_objects(v, doc, NULL);
		free(path);
	}
cleanup:
	strvec_clear(&names);
	strbuf_release(&err);
}
