/*
 * The namespace step, as kustomize's NamespaceTransformer does it with
 * its builtin field specs, and the kinds that have no namespace.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s.h"
#include "overlay_int.h"
#include "util.h"
#include "banned.h"

int overlay_is_cluster_scoped(const char *api_version, const char *kind)
{
	char *group, *version;
	int found = 0;

	if (!kind)
		return 0;
	ov_split_gv(api_version, &group, &version);
	found = k8s_is_cluster_scoped(group, kind);
	free(group);
	free(version);
	return found;
}

/* The namespace field specs other than metadata.namespace and subjects. */
static const struct ov_fieldspec ns_specs[] = {
	{ NULL, NULL, "Namespace", "metadata/name", 1 },
	{ "apiregistration.k8s.io", NULL, "APIService", "spec/service/namespace", 1 },
	{ "apiextensions.k8s.io", NULL, "CustomResourceDefinition",
	  "spec/conversion/webhook/clientConfig/service/namespace", 0 },
};

static int set_string(json_t *holder, const char *field, void *payload, struct strbuf *err)
{
	json_t *old = json_object_get(holder, field);

	if (old && !json_is_string(old) && !json_is_null(old)) {
		strbuf_addf(err, "`%s` is not a string", field);
		return -1;
	}
	json_object_set_new(holder, field, json_string(payload));
	return 0;
}

/* RoleBinding and ClusterRoleBinding subjects named "default" take the namespace. */
static void default_subjects(json_t *obj, const char *ns)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *subjects = json_object_get(obj, "subjects"), *s;
	size_t i;

	if (!kind || (strcmp(kind, "RoleBinding") && strcmp(kind, "ClusterRoleBinding")))
		return;
	json_array_foreach(subjects, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));

		if (json_is_object(s) && name && !strcmp(name, "default"))
			json_object_set_new(s, "namespace", json_string(ns));
	}
}

/* Set ns on one object; -1 with err set when something is in the way. */
static int namespace_one(json_t *obj, const char *ns, struct strbuf *err)
{
	static const struct ov_fieldspec meta_ns = { NULL, NULL, NULL, "metadata/namespace", 1 };
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (!overlay_is_cluster_scoped(av, kind) &&
	    ov_fs_apply(obj, &meta_ns, OV_CREATE_SCALAR, set_string, (void *)ns, err) < 0)
		return -1;
	default_subjects(obj, ns);
	for (size_t i = 0; i < ARRAY_SIZE(ns_specs); i++)
		if (ov_fs_apply(obj, &ns_specs[i], OV_CREATE_SCALAR, set_string, (void *)ns, err) < 0)
			return -1;
	return 0;
}

int ov_namespace(struct octx *c)
{
	struct strbuf err = STRBUF_INIT;

	if (!c->ns)
		return 0;
	for (size_t i = 0; i < c->nr; i++) {
		if (namespace_one(c->res[i].obj, c->ns, &err) == 0)
			continue;
		ov_err(c, c->ov->file, ov_kpos(c, NULL, NULL), "overlay-field",
		       "cannot set the namespace of %s: %s", ov_id_str(c->res[i].obj), err.buf);
		strbuf_reset(&err);
	}
	strbuf_release(&err);
	return c->errors ? -1 : 0;
}

static char *member_or_empty(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));

	return xstrdup(s ? s : "");
}

int overlay_set_namespace(json_t *objects, const char *namespace_, struct diags *d)
{
	struct overlay ov = { .file = "", .dir = "" };
	struct octx c = { .ov = &ov, .ns = namespace_, .d = d };
	size_t i;
	json_t *obj;
	int ret;

	json_array_foreach(objects, i, obj) {
		ALLOC_GROW(c.res, c.nr + 1, c.alloc);
		memset(&c.res[c.nr], 0, sizeof(c.res[c.nr]));
		c.res[c.nr].obj = json_incref(obj);
		c.res[c.nr].org_name = member_or_empty(obj, "name");
		c.res[c.nr].org_ns = member_or_empty(obj, "namespace");
		c.nr++;
	}
	ret = ov_namespace(&c) < 0 || ov_fix_refs(&c) < 0 ? -1 : 0;
	while (c.nr)
		ov_remove(&c, c.nr - 1);
	free(c.res);
	ov_index_drop(&c);
	return ret;
}
