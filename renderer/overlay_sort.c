/*
 * kustomize's "legacy" output order (its default for `kustomize build`):
 * a fixed rank for well-known kinds, then the group, version and kind,
 * then namespace and name.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay_int.h"
#include "util.h"
#include "banned.h"

static const char *const order_first[] = {
	"Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
	"ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
	"ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange",
	"PriorityClass", "PersistentVolume", "PersistentVolumeClaim", "Deployment",
	"StatefulSet", "CronJob", "PodDisruptionBudget",
};

static const char *const order_last[] = {
	"MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration",
};

static int kind_rank(const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(order_first); i++)
		if (!strcmp(kind, order_first[i]))
			return (int)i - (int)ARRAY_SIZE(order_first);
	for (size_t i = 0; i < ARRAY_SIZE(order_last); i++)
		if (!strcmp(kind, order_last[i]))
			return 1 + (int)i;
	return 0;
}

/* What one object sorts by. */
struct sort_key {
	json_t *obj;
	int rank;
	char *gvk; /* "group_version_kind", "~G" etc. for empty parts */
	char *id;  /* "namespace|name", "~X" / "~N" for empty parts */
};

static const char *nonempty(const char *s, const char *empty)
{
	return s && *s ? s : empty;
}

static void key_of(struct sort_key *k, json_t *obj)
{
	struct ov_id id;

	ov_id_of(&id, obj);
	k->obj = obj;
	k->rank = kind_rank(id.kind);
	k->gvk = xstrfmt("%s_%s_%s", nonempty(id.group, "~G"), nonempty(id.version, "~V"), nonempty(id.kind, "~K"));
	/* kustomize compares the joined string, '|' included */
	k->id = xstrfmt("%s|%s", nonempty(id.ns, "~X"), nonempty(id.name, "~N"));
	ov_id_release(&id);
}

static int cmp_keys(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;
	int c;

	if (strcmp(a->gvk, b->gvk)) {
		if (a->rank != b->rank)
			return a->rank < b->rank ? -1 : 1;
		return strcmp(a->gvk, b->gvk);
	}
	c = strcmp(a->id, b->id);
	return c;
}

void overlay_sort(json_t *objects)
{
	size_t n = json_array_size(objects);
	struct sort_key *keys = xcalloc(n ? n : 1, sizeof(*keys));

	for (size_t i = 0; i < n; i++)
		key_of(&keys[i], json_incref(json_array_get(objects, i)));
	qsort(keys, n, sizeof(*keys), cmp_keys);
	json_array_clear(objects);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(objects, keys[i].obj);
		free(keys[i].gvk);
		free(keys[i].id);
	}
	free(keys);
}
