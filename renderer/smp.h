/*
 * smp: strategic merge patches, as kustomize v5.5 applies them.
 *
 * kustomize does not use the API server's strategic merge patch code: it
 * merges YAML trees with kyaml's merge2 walker, schema-driven by the
 * Kubernetes 1.21 OpenAPI document compiled into it, and with patch list
 * elements placed first ("prepend"). smp_apply() reproduces that walk on
 * jansson values:
 *
 *   - maps merge member by member; a null in the patch deletes the member
 *     (and nulls already in a map the patch reaches are dropped);
 *   - scalars and lists without a merge strategy are replaced by the patch;
 *   - lists the schema gives a merge strategy (containers by name, env by
 *     name, ports by containerPort and protocol, volumes, volumeMounts by
 *     mountPath, imagePullSecrets, hostAliases by ip, finalizers, ...) merge
 *     element by element: the patch's elements first, in patch order, then
 *     the target's other elements; lists keyed by two fields (ports) keep
 *     the target's order after new elements, quirks included;
 *   - "$patch: delete" removes a map, a list element or (at the top) the
 *     whole object, "$patch: replace" replaces a map or a list, and
 *     "$patch: merge" is the default;
 *   - objects whose apiVersion/kind kustomize has no schema for (custom
 *     resources, and nested objects of such resources that carry no
 *     apiVersion/kind of their own) get no list merging at all: plain
 *     JSON merge patch (RFC 7386) semantics.
 *
 * Other directives (`$setElementOrder/...`, `$retainKeys`,
 * `$deleteFromPrimitiveList/...`) and `$patch` in a list that is replaced
 * rather than merged are not applied by kustomize, which copies them into
 * its output. smp_apply() refuses them instead (an error naming the path).
 */
#ifndef GITD_SMP_H
#define GITD_SMP_H

#include <jansson.h>

#include "strbuf.h"

enum smp_result {
	SMP_MERGED = 0,
	SMP_DELETED = 1, /* the patch deleted the whole object */
};

/*
 * Merge patch (an object; not modified) into *obj. On SMP_MERGED *obj holds
 * the merged object (possibly a different reference: the old one was
 * released); on SMP_DELETED *obj is NULL. On failure returns -1 with one
 * line in err and leaves *obj in an unspecified but valid state.
 */
int smp_apply(json_t **obj, const json_t *patch, struct strbuf *err);

/*
 * Whether kustomize knows the schema of apiVersion/kind (and so merges its
 * lists by key): 1 or 0.
 */
int smp_has_schema(const char *api_version, const char *kind);

#endif
