/*
 * labels, commonLabels, commonAnnotations, replicas and images: each sets
 * values at kustomize's field specs (v5.5's builtin configuration).
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "overlay_int.h"
#include "strvec.h"
#include "util.h"
#include "banned.h"

#define AFF "spec/template/spec/affinity/"

/* commonLabels, and `labels` with includeSelectors: selectors too. */
static const struct ov_fieldspec selector_labels[] = {
	{ NULL, "v1", "Service", "spec/selector", 1 },
	{ NULL, "v1", "ReplicationController", "spec/selector", 1 },
	{ NULL, NULL, "Deployment", "spec/selector/matchLabels", 1 },
	{ "apps", NULL, "Deployment",
	  AFF "podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "Deployment",
	  AFF "podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "Deployment",
	  AFF "podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "Deployment",
	  AFF "podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "Deployment", "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", 0 },
	{ NULL, NULL, "ReplicaSet", "spec/selector/matchLabels", 1 },
	{ NULL, NULL, "DaemonSet", "spec/selector/matchLabels", 1 },
	{ "apps", NULL, "StatefulSet", "spec/selector/matchLabels", 1 },
	{ "apps", NULL, "StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", 1 },
	{ "apps", NULL, "StatefulSet",
	  AFF "podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "StatefulSet",
	  AFF "podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "StatefulSet",
	  AFF "podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "StatefulSet",
	  AFF "podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels", 0 },
	{ "apps", NULL, "StatefulSet", "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", 0 },
	{ "batch", NULL, "Job", "spec/selector/matchLabels", 0 },
	{ "batch", NULL, "CronJob", "spec/jobTemplate/spec/selector/matchLabels", 0 },
	{ "policy", NULL, "PodDisruptionBudget", "spec/selector/matchLabels", 0 },
	{ "networking.k8s.io", NULL, "NetworkPolicy", "spec/podSelector/matchLabels", 0 },
	{ "networking.k8s.io", NULL, "NetworkPolicy", "spec/ingress/from/podSelector/matchLabels", 0 },
	{ "networking.k8s.io", NULL, "NetworkPolicy", "spec/egress/to/podSelector/matchLabels", 0 },
};

/* Pod templates (commonLabels, includeSelectors, includeTemplates). */
static const struct ov_fieldspec template_labels[] = {
	{ NULL, "v1", "ReplicationController", "spec/template/metadata/labels", 1 },
	{ NULL, NULL, "Deployment", "spec/template/metadata/labels", 1 },
	{ NULL, NULL, "ReplicaSet", "spec/template/metadata/labels", 1 },
	{ NULL, NULL, "DaemonSet", "spec/template/metadata/labels", 1 },
	{ "apps", NULL, "StatefulSet", "spec/template/metadata/labels", 1 },
	{ "apps", NULL, "StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", 1 },
	{ "batch", NULL, "Job", "spec/template/metadata/labels", 1 },
	{ "batch", NULL, "CronJob", "spec/jobTemplate/metadata/labels", 1 },
	{ "batch", NULL, "CronJob", "spec/jobTemplate/spec/template/metadata/labels", 1 },
};

static const struct ov_fieldspec metadata_labels = { NULL, NULL, NULL, "metadata/labels", 1 };

static const struct ov_fieldspec annotation_specs[] = {
	{ NULL, NULL, NULL, "metadata/annotations", 1 },
	{ NULL, "v1", "ReplicationController", "spec/template/metadata/annotations", 1 },
	{ NULL, NULL, "Deployment", "spec/template/metadata/annotations", 1 },
	{ NULL, NULL, "ReplicaSet", "spec/template/metadata/annotations", 1 },
	{ NULL, NULL, "DaemonSet", "spec/template/metadata/annotations", 1 },
	{ NULL, NULL, "StatefulSet", "spec/template/metadata/annotations", 1 },
	{ "batch", NULL, "Job", "spec/template/metadata/annotations", 1 },
	{ "batch", NULL, "CronJob", "spec/jobTemplate/metadata/annotations", 1 },
	{ "batch", NULL, "CronJob", "spec/jobTemplate/spec/template/metadata/annotations", 1 },
};

static const struct ov_fieldspec image_specs[] = {
	{ NULL, NULL, NULL, "spec/containers[]/image", 1 },
	{ NULL, NULL, NULL, "spec/initContainers[]/image", 1 },
	{ NULL, NULL, NULL, "spec/template/spec/containers[]/image", 1 },
	{ NULL, NULL, NULL, "spec/template/spec/initContainers[]/image", 1 },
};

static const char *const scalable_kinds[] = { "Deployment", "ReplicationController", "ReplicaSet",
					      "StatefulSet" };

/* ---- labels and annotations ---- */

/*
 * The pairs one label or annotation transformer sets on one object. As in
 * kustomize, where a key is new the same value node goes to every place
 * (one per key and object); where the key is there, its node is
 * overwritten in place, and so is every place that shares it. So a later
 * `labels` entry that sets a key only in metadata also changes the
 * selectors an earlier entry gave that key.
 */
struct pairs {
	const json_t *pairs; /* key -> string */
	json_t *cells;       /* key -> the value node shared on this object */
};

static int set_pairs(json_t *holder, const char *field, void *payload, struct strbuf *err)
{
	struct pairs *p = payload;
	json_t *map = json_object_get(holder, field), *v;
	const char *k;

	if (!json_is_object(map)) {
		strbuf_addf(err, "`%s` is not a mapping", field);
		return -1;
	}
	json_object_foreach((json_t *)p->pairs, k, v) {
		json_t *old = json_object_get(map, k);

		if (json_is_string(old))
			json_string_set(old, json_string_value(v));
		else
			json_object_set(map, k, json_object_get(p->cells, k));
	}
	return 0;
}

struct spec_list {
	const struct ov_fieldspec *v;
	size_t nr;
};

/* Apply the pairs at every spec of every list, to every object. */
static int set_everywhere(struct octx *c, const json_t *pairs, const struct spec_list *lists,
			  size_t nlists, struct ypos pos, const char *what)
{
	struct strbuf err = STRBUF_INIT;

	for (size_t r = 0; r < c->nr; r++) {
		struct pairs p = { pairs, json_object() };
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)pairs, k, v)
			json_object_set_new(p.cells, k, json_string(json_string_value(v)));
		for (size_t l = 0; l < nlists; l++)
			for (size_t i = 0; i < lists[l].nr; i++) {
				if (ov_fs_apply(c->res[r].obj, &lists[l].v[i], OV_CREATE_MAP, set_pairs,
						&p, &err) == 0)
					continue;
				ov_err(c, c->ov->file, pos, "overlay-field",
				       "cannot set %s at %s of %s: %s", what, lists[l].v[i].path,
				       ov_id_str(c->res[r].obj), err.buf);
				strbuf_reset(&err);
			}
		json_decref(p.cells);
	}
	strbuf_release(&err);
	return c->errors ? -1 : 0;
}

/* A mapping of strings (the keys' and values' checks are the validator's). */
static int string_map(struct octx *c, const json_t *map, const json_t *holder, const char *key,
		      const char *what)
{
	const char *k;
	json_t *v;

	if (!json_is_object(map)) {
		ov_err(c, c->ov->file, ov_kpos(c, holder, key), "overlay-type",
		       "`%s` must be a mapping of strings", what);
		return -1;
	}
	json_object_foreach((json_t *)map, k, v)
		if (!json_is_string(v)) {
			ov_err(c, c->ov->file, ov_kpos(c, map, k), "overlay-type",
			       "`%s.%s` must be a string (quote it)", what, k);
			return -1;
		}
	return 0;
}

/* A `labels` entry's own `fields`: field specs like kustomize's configuration. */
static int custom_specs(struct octx *c, const json_t *fields, struct ov_fieldspec **out,
			size_t *nr)
{
	static const char *const keys[] = { "group", "version", "kind", "path" };
	size_t i;
	json_t *f;

	*out = NULL;
	*nr = 0;
	if (!fields)
		return 0;
	if (!json_is_array(fields)) {
		ov_err(c, c->ov->file, ov_kpos(c, fields, NULL), "overlay-type",
		       "`labels[].fields` must be a list of field specs");
		return -1;
	}
	*out = xcalloc(json_array_size(fields) + 1, sizeof(**out));
	json_array_foreach(fields, i, f) {
		const char **dst[] = { &(*out)[i].group, &(*out)[i].version, &(*out)[i].kind,
				       &(*out)[i].path };

		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			*dst[k] = json_string_value(json_object_get(f, keys[k]));
		(*out)[i].create = json_is_true(json_object_get(f, "create"));
		if (!(*out)[i].path) {
			ov_err(c, c->ov->file, ov_kpos_item(c, fields, i), "overlay-type",
			       "a field spec needs a `path`");
			return -1;
		}
	}
	*nr = json_array_size(fields);
	return 0;
}

static int labels_entry(struct octx *c, const json_t *e, struct ypos pos)
{
	struct spec_list lists[4];
	struct ov_fieldspec *custom = NULL;
	size_t ncustom = 0, n = 0;
	const json_t *pairs = json_object_get(e, "pairs");
	int ret;

	if (!json_is_object(e) || string_map(c, pairs, e, "pairs", "labels[].pairs") < 0 ||
	    custom_specs(c, json_object_get(e, "fields"), &custom, &ncustom) < 0) {
		if (!json_is_object(e))
			ov_err(c, c->ov->file, pos, "overlay-type", "`labels` entries must be mappings");
		free(custom);
		return -1;
	}
	lists[n++] = (struct spec_list){ custom, ncustom };
	if (json_is_true(json_object_get(e, "includeSelectors"))) {
		lists[n++] = (struct spec_list){ selector_labels, ARRAY_SIZE(selector_labels) };
		lists[n++] = (struct spec_list){ template_labels, ARRAY_SIZE(template_labels) };
	} else if (json_is_true(json_object_get(e, "includeTemplates"))) {
		lists[n++] = (struct spec_list){ template_labels, ARRAY_SIZE(template_labels) };
	}
	lists[n++] = (struct spec_list){ &metadata_labels, 1 };
	ret = set_everywhere(c, pairs, lists, n, pos, "labels");
	free(custom);
	return ret;
}

int ov_labels(struct octx *c)
{
	const json_t *k = c->ov->kustomization;
	const json_t *list = ov_kfield(c, "labels"), *common = ov_kfield(c, "commonLabels");
	struct spec_list all[] = {
		{ selector_labels, ARRAY_SIZE(selector_labels) },
		{ template_labels, ARRAY_SIZE(template_labels) },
		{ &metadata_labels, 1 },
	};
	size_t i;
	json_t *e;

	if (list && !json_is_array(list)) {
		ov_err(c, c->ov->file, ov_kpos(c, k, "labels"), "overlay-type",
		       "`labels` must be a list");
		return -1;
	}
	json_array_foreach(list, i, e)
		if (labels_entry(c, e, ov_kpos_item(c, list, i)) < 0)
			return -1;
	if (!common)
		return 0;
	if (string_map(c, common, k, "commonLabels", "commonLabels") < 0)
		return -1;
	return set_everywhere(c, common, all, ARRAY_SIZE(all), ov_kpos(c, k, "commonLabels"),
			      "commonLabels");
}

int ov_annotations(struct octx *c)
{
	const json_t *k = c->ov->kustomization, *common = ov_kfield(c, "commonAnnotations");
	struct spec_list all = { annotation_specs, ARRAY_SIZE(annotation_specs) };

	if (!common)
		return 0;
	if (string_map(c, common, k, "commonAnnotations", "commonAnnotations") < 0)
		return -1;
	return set_everywhere(c, common, &all, 1, ov_kpos(c, k, "commonAnnotations"),
			      "commonAnnotations");
}

/* ---- replicas ---- */

static int set_count(json_t *holder, const char *field, void *payload, struct strbuf *err)
{
	(void)err;
	json_object_set(holder, field, (json_t *)payload);
	return 0;
}

static int is_scalable(const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	return kind && ov_in_list(kind, scalable_kinds, ARRAY_SIZE(scalable_kinds));
}

static int replicas_entry(struct octx *c, const json_t *e, struct ypos pos)
{
	const char *name = json_string_value(json_object_get(e, "name"));
	json_t *count = json_object_get(e, "count");
	struct ov_fieldspec fs = { NULL, NULL, NULL, "spec/replicas", 1 };
	struct strbuf err = STRBUF_INIT;
	int found = 0;

	if (!name || !json_is_integer(count) || json_integer_value(count) < 0) {
		ov_err(c, c->ov->file, pos, "overlay-type",
		       "`replicas` entries need a `name` and a whole `count` of at least 0");
		return -1;
	}
	for (size_t r = 0; r < c->nr; r++) {
		json_t *obj = c->res[r].obj;
		const char *cur = json_string_value(json_object_get(json_object_get(obj, "metadata"),
								    "name"));

		if (!is_scalable(obj) || ((!cur || strcmp(cur, name)) && strcmp(c->res[r].org_name, name)))
			continue;
		found = 1;
		if (ov_fs_apply(obj, &fs, OV_CREATE_SCALAR, set_count, count, &err) < 0) {
			ov_err(c, c->ov->file, pos, "overlay-field", "cannot set replicas of %s: %s",
			       ov_id_str(obj), err.buf);
			strbuf_reset(&err);
		}
	}
	strbuf_release(&err);
	if (!found)
		ov_err(c, c->ov->file, pos, "overlay-target",
		       "`replicas` names `%s`, but there is no Deployment, ReplicationController, "
		       "ReplicaSet or StatefulSet of that name", name);
	return c->errors ? -1 : 0;
}

int ov_replicas(struct octx *c)
{
	const json_t *list = ov_kfield(c, "replicas");
	size_t i;
	json_t *e;

	if (list && !json_is_array(list)) {
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, "replicas"), "overlay-type",
		       "`replicas` must be a list");
		return -1;
	}
	json_array_foreach(list, i, e)
		if (replicas_entry(c, e, ov_kpos_item(c, list, i)) < 0)
			return -1;
	return 0;
}

/* ---- images ---- */

struct image_rule {
	const char *name, *new_name, *new_tag, *digest;
	regex_t re;
	int literal; /* name has no regex syntax but '.': image_may_match() can rule out */
	int hits;
};

/* Where an image reference is: holder[field]. */
struct image_site {
	json_t *holder;
	char *field;
};

struct image_sites {
	struct image_site *v;
	size_t nr, alloc;
};

/*
 * Split an image reference as kustomize's image.Split does: the tag
 * starts at the first ':' after the first '/', the digest at '@'.
 */
static void image_split(const char *image, char **name, char **tag, char **digest)
{
	const char *slash = strchr(image, '/');
	const char *search = slash && slash != image ? slash : image;
	const char *at = strchr(search, '@'), *colon = strchr(search, ':');

	*tag = *digest = NULL;
	if (!at && !colon) {
		*name = xstrdup(image);
	} else if (at && (!colon || at < colon)) {
		*name = xstrndup(image, (size_t)(at - image));
		*digest = xstrdup(at + 1);
	} else if (at) {
		*name = xstrndup(image, (size_t)(colon - image));
		*tag = xstrndup(colon + 1, (size_t)(at - colon - 1));
		*digest = xstrdup(at + 1);
	} else {
		*name = xstrndup(image, (size_t)(colon - image));
		*tag = xstrdup(colon + 1);
	}
}

static char *image_update(const struct image_rule *r, const char *image)
{
	char *name, *tag, *digest, *out;
	const char *t, *dg;

	image_split(image, &name, &tag, &digest);
	t = tag;
	dg = digest;
	/* a new tag or digest replaces both the old tag and the old digest */
	if (r->new_tag || r->digest) {
		t = r->new_tag;
		dg = r->digest;
	}
	out = xstrfmt("%s%s%s%s%s", r->new_name ? r->new_name : name, t && *t ? ":" : "",
		      t && *t ? t : "", dg && *dg ? "@" : "", dg && *dg ? dg : "");
	free(name);
	free(tag);
	free(digest);
	return out;
}

/*
 * A cheap necessary condition for r's pattern to match image, when the
 * name is literal but for '.', which matches any character: image starts
 * with the name and goes on with a tag, a digest or nothing. Most images
 * fail it, and then regexec() need not run.
 */
static int image_may_match(const struct image_rule *r, const char *image)
{
	size_t i;

	if (!r->literal)
		return 1;
	for (i = 0; r->name[i]; i++)
		if (!image[i] || (r->name[i] != '.' && r->name[i] != image[i]))
			return 0;
	return !image[i] || image[i] == ':' || image[i] == '@';
}

/* holder[field] is an image reference: rewrite it when the rule's name matches. */
static void set_image(json_t *holder, const char *field, struct image_rule *r)
{
	const char *image = json_string_value(json_object_get(holder, field));
	char *updated;

	if (!image || !image_may_match(r, image) || regexec(&r->re, image, 0, NULL, 0))
		return;
	updated = image_update(r, image);
	json_object_set_new(holder, field, json_string(updated));
	free(updated);
	r->hits++;
}

static int add_site(json_t *holder, const char *field, void *payload, struct strbuf *err)
{
	struct image_sites *sites = payload;

	(void)err;
	ALLOC_GROW(sites->v, sites->nr + 1, sites->alloc);
	sites->v[sites->nr].holder = holder;
	sites->v[sites->nr++].field = xstrdup(field);
	return 0;
}

/* kustomize's legacy pass: every containers/initContainers list, anywhere but in a CRD. */
static void images_anywhere(json_t *node, struct image_sites *sites)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			images_anywhere(v, sites);
		return;
	}
	json_object_foreach(node, k, v) {
		json_t *container;

		images_anywhere(v, sites);
		if (strcmp(k, "containers") && strcmp(k, "initContainers"))
			continue;
		json_array_foreach(v, i, container)
			if (json_is_object(container) && json_object_get(container, "image"))
				add_site(container, "image", sites, NULL);
	}
}

static int image_rule_init(struct octx *c, struct image_rule *r, const json_t *e, struct ypos pos)
{
	char *pattern;
	int bad;

	memset(r, 0, sizeof(*r));
	r->name = json_string_value(json_object_get(e, "name"));
	r->new_name = json_string_value(json_object_get(e, "newName"));
	r->new_tag = json_string_value(json_object_get(e, "newTag"));
	r->digest = json_string_value(json_object_get(e, "digest"));
	/* kustomize treats an empty value as no value */
	r->new_name = r->new_name && *r->new_name ? r->new_name : NULL;
	r->new_tag = r->new_tag && *r->new_tag ? r->new_tag : NULL;
	r->digest = r->digest && *r->digest ? r->digest : NULL;
	if (json_object_get(e, "tagSuffix")) {
		ov_err(c, c->ov->file, pos, "overlay-unsupported",
		       "`tagSuffix` is not supported in gitd overlays; set the whole `newTag`");
		return -1;
	}
	if (!r->name || !*r->name) {
		ov_err(c, c->ov->file, pos, "overlay-type", "`images` entries need a `name`");
		return -1;
	}
	if (strchr(r->name, '\\')) {
		/* no image name has one, and POSIX back-references could be slow */
		ov_err(c, c->ov->file, pos, "overlay-type", "image name `%s` is not valid", r->name);
		return -1;
	}
	/* kustomize matches the name as a regular expression, followed by a tag or digest */
	pattern = xstrfmt("^%s(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$", r->name);
	r->literal = r->name[strspn(r->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789._/:-")] == '\0';
	bad = regcomp(&r->re, pattern, REG_EXTENDED | REG_NOSUB);
	free(pattern);
	if (bad)
		ov_err(c, c->ov->file, pos, "overlay-type", "image name `%s` is not valid", r->name);
	return bad ? -1 : 0;
}

/*
 * Every image reference of the resources, in the order kustomize visits
 * them: per object, the legacy containers pass, then the field specs.
 * Rewriting an image never adds or removes one, so one walk serves every
 * entry of images:.
 */
static void collect_sites(struct octx *c, struct image_sites *sites)
{
	struct strbuf err = STRBUF_INIT;

	for (size_t i = 0; i < c->nr; i++) {
		json_t *obj = c->res[i].obj;
		const char *kind = json_string_value(json_object_get(obj, "kind"));

		if (!kind || strcmp(kind, "CustomResourceDefinition"))
			images_anywhere(obj, sites);
		for (size_t s = 0; s < ARRAY_SIZE(image_specs); s++)
			ov_fs_apply(obj, &image_specs[s], OV_CREATE_NONE, add_site, sites, &err);
	}
	strbuf_release(&err);
}

static int images_entry(struct octx *c, const json_t *e, struct ypos pos, const struct image_sites *sites)
{
	struct image_rule r;

	if (!json_is_object(e) || image_rule_init(c, &r, e, pos) < 0) {
		if (!json_is_object(e))
			ov_err(c, c->ov->file, pos, "overlay-type", "`images` entries must be mappings");
		return -1;
	}
	for (size_t i = 0; i < sites->nr; i++)
		set_image(sites->v[i].holder, sites->v[i].field, &r);
	if (!r.hits)
		ov_warn(c, c->ov->file, pos, "overlay-target",
			"image `%s` matches no container image", r.name);
	regfree(&r.re);
	return 0;
}

int ov_images(struct octx *c)
{
	const json_t *list = ov_kfield(c, "images");
	struct image_sites sites = { NULL, 0, 0 };
	size_t i;
	json_t *e;
	int rc = 0;

	if (list && !json_is_array(list)) {
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, "images"), "overlay-type",
		       "`images` must be a list");
		return -1;
	}
	if (json_array_size(list))
		collect_sites(c, &sites);
	json_array_foreach(list, i, e) {
		if (images_entry(c, e, ov_kpos_item(c, list, i), &sites) < 0) {
			rc = -1;
			break;
		}
	}
	for (size_t k = 0; k < sites.nr; k++)
		free(sites.v[k].field);
	free(sites.v);
	return rc;
}
