/*
 * overlay: apply overlays/ENV/kustomization.yaml to an app's objects, the
 * way `kustomize build` (v5.5) builds an overlay whose only base is the
 * app (app.yaml and resources/).
 *
 * kustomize's order, which overlay_apply() keeps:
 *
 *   1. resources accumulate: the base objects, then each `resources` file
 *      (local files only; a file may hold several documents);
 *   2. generators: every configMapGenerator, then every secretGenerator,
 *      with `behavior: create` (new object), `merge` (data added to the
 *      base object of that name, its labels and annotations merged) or
 *      `replace` (data replaced); `generatorOptions` add to each
 *      generator's own options, which win on conflict;
 *   3. patchesStrategicMerge, then `patches` (each in turn, strategic merge
 *      or JSON 6902, with or without a target);
 *   4. the namespace (gitd's, see overlay_set_namespace());
 *   5. `labels` entries in order, then commonLabels: metadata.labels, and
 *      for commonLabels and `includeSelectors` also selectors and pod
 *      templates, for `includeTemplates` pod templates only;
 *   6. commonAnnotations (metadata and pod templates);
 *   7. patchesJson6902;
 *   8. replicas, then images, each entry in turn;
 *   9. generated objects whose names take a hash get it: NAME-HASH, where
 *      HASH is kustomize's: sha256 of the JSON of {data, binaryData, kind,
 *      name, type} (name always empty, as kustomize's lookup of
 *      "metadata/name" finds nothing), first ten hex digits, with 0 1 3 a e
 *      replaced by g h k m t;
 *  10. references to renamed ConfigMaps and Secrets (env, envFrom,
 *      volumes, projected volumes, imagePullSecrets, Ingress TLS, ...) and
 *      the namespace of ServiceAccount subjects and webhook Services are
 *      updated;
 *  11. objects annotated config.kubernetes.io/local-config: "true" are
 *      dropped, and the rest sorted as overlay_sort() does.
 *
 * Fields kustomize knows but gitd does not render (namePrefix, components,
 * vars, replacements, helmCharts, ...), unknown fields, and `namespace`
 * (gitd sets it) are errors, never ignored. So are the few kustomize
 * behaviours that depend on the machine running it (an env file line
 * without "=", which kustomize fills from its own environment).
 *
 * Every problem is a diag: the kustomization's own mistakes at their
 * position in ov->file, a patch's at its position in the patch file.
 *
 * Where gitd knowingly differs from kustomize v5.5:
 *   - kinds kustomize's Kubernetes 1.21 schema does not know but that are
 *     cluster-scoped (FlowSchema v1, ValidatingAdmissionPolicy, IPAddress,
 *     ...) get no namespace; kustomize gives them one;
 *   - strategic merge directives kustomize copies into its output instead
 *     of applying them ($setElementOrder, $retainKeys, $patch inside a
 *     replaced list) are errors (see smp.h);
 *   - a patch target that selects nothing is a warning (kustomize is silent;
 *     patchesJson6902 fails in both);
 *   - names in targets are POSIX extended regular expressions plus \d \w
 *     \s; syntax only Go's RE2 has ((?i), lazy repeats, \b) is refused;
 *   - file paths are not restricted to the overlay directory (the caller
 *     keeps them inside the repository);
 *   - objects come in as JSON values, so an empty YAML value and `null`
 *     are the same (kustomize keeps an untouched `key: null` but drops an
 *     untouched `key:` when a patch merges the map that holds it).
 */
#ifndef GITD_OVERLAY_H
#define GITD_OVERLAY_H

#include <jansson.h>

#include "diag.h"
#include "strbuf.h"
#include "yamlload.h"

/*
 * Read the file path, named relative to the overlay directory exactly as
 * the kustomization wrote it, into out (appending). The caller resolves it
 * and keeps it inside the repository. Returns 0, or -1 with errno set
 * (ENOENT, EISDIR, EACCES, EFBIG, ...).
 */
typedef int (*overlay_read_fn)(struct strbuf *out, const char *path, void *payload);

/* overlay_load_fn's result for a file that is not valid YAML. */
#define OVERLAY_BAD_YAML (-2)

/*
 * Load the YAML file path (named as for overlay_read_fn) into *out, for a
 * caller that has parsed it already. The caller keeps *out until
 * overlay_apply() returns, which does not modify it; ydoc_file() of it is
 * the name messages show. Returns 0; -1 with errno set, as overlay_read_fn,
 * when it cannot be read; OVERLAY_BAD_YAML after adding the YAML errors to d.
 */
typedef int (*overlay_load_fn)(const struct ydoc **out, const char *path, struct diags *d,
			       void *payload);

struct overlay {
	const json_t *kustomization; /* overlays/ENV/kustomization.yaml, loaded */
	const struct ydoc *doc;      /* what it was loaded from (positions), or NULL */
	const char *file;            /* its path in messages: "overlays/prod/kustomization.yaml" */
	const char *dir;             /* the overlay directory in messages: "overlays/prod" */
	overlay_read_fn read_file;
	void *payload;             /* for read_file and load_yaml */
	overlay_load_fn load_yaml; /* NULL: YAML files are read with read_file and parsed */
};

/*
 * Apply ov to base (an array of objects, not modified). On success *out is
 * a new array of the resulting objects in output order and 0 is returned;
 * on failure *out is NULL, -1 is returned and d holds at least one error.
 * namespace_ is the namespace gitd gives every namespaced object (NULL:
 * leave namespaces alone). Warnings (a patch target or an image name that
 * matches nothing) may be added either way.
 */
int overlay_apply(json_t **out, const json_t *base, const struct overlay *ov,
		  const char *namespace_, struct diags *d);

/*
 * kustomize's namespace step, for objects rendered without an overlay:
 * set metadata.namespace on every namespaced object, the name of Namespace
 * objects, the namespace of RoleBinding and ClusterRoleBinding subjects
 * named "default" and of those naming a ServiceAccount in objects,
 * webhook and APIService references to a Service in objects, and a CRD's
 * conversion webhook Service. 0, or -1 with an error in d (an object that
 * is not a mapping, or a field in the way that is not a mapping).
 */
int overlay_set_namespace(json_t *objects, const char *namespace_, struct diags *d);

/*
 * Sort objects in kustomize's "legacy" order: Namespace, ResourceQuota,
 * StorageClass, CustomResourceDefinition, ServiceAccount,
 * PodSecurityPolicy, Role, ClusterRole, RoleBinding, ClusterRoleBinding,
 * ConfigMap, Secret, Endpoints, Service, LimitRange, PriorityClass,
 * PersistentVolume, PersistentVolumeClaim, Deployment, StatefulSet,
 * CronJob, PodDisruptionBudget first, in that order; then every other
 * kind; MutatingWebhookConfiguration and ValidatingWebhookConfiguration
 * last. Within a rank by group_version_kind ("~G" for the core group),
 * then by namespace ("~X" when none) and name. The input order does not
 * matter.
 */
void overlay_sort(json_t *objects);

/* 1 if objects of this apiVersion and kind have no namespace (Namespace, ClusterRole, ...). */
int overlay_is_cluster_scoped(const char *api_version, const char *kind);

#endif
