/*
 * References between objects, fixed once every step has run (kustomize's
 * FixBackReferences with its builtin "nameReference" configuration): a
 * field that names a ConfigMap or Secret by the name it had before its
 * hash is given the new name, and references that carry a namespace
 * (RoleBinding subjects, webhook Services) follow the object they name
 * into its namespace.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay_int.h"
#include "util.h"
#include "banned.h"

#define POD "spec/"
#define TPL "spec/template/spec/"
#define CJ "spec/jobTemplate/spec/template/spec/"
#define PT "template/spec/"

/* Where pod specs hold ConfigMap and Secret names, per workload kind (any group). */
#define POD_REFS(kind, base, ver)                                                        \
	{ NULL, ver, kind, base "volumes/configMap/name", 0 },                           \
	{ NULL, ver, kind, base "containers/env/valueFrom/configMapKeyRef/name", 0 },    \
	{ NULL, ver, kind, base "initContainers/env/valueFrom/configMapKeyRef/name", 0 }, \
	{ NULL, ver, kind, base "containers/envFrom/configMapRef/name", 0 },             \
	{ NULL, ver, kind, base "initContainers/envFrom/configMapRef/name", 0 },         \
	{ NULL, ver, kind, base "volumes/projected/sources/configMap/name", 0 }

#define POD_SECRETS(kind, base, ver)                                                   \
	{ NULL, ver, kind, base "volumes/secret/secretName", 0 },                      \
	{ NULL, ver, kind, base "containers/env/valueFrom/secretKeyRef/name", 0 },     \
	{ NULL, ver, kind, base "initContainers/env/valueFrom/secretKeyRef/name", 0 }, \
	{ NULL, ver, kind, base "containers/envFrom/secretRef/name", 0 },              \
	{ NULL, ver, kind, base "initContainers/envFrom/secretRef/name", 0 },          \
	{ NULL, ver, kind, base "imagePullSecrets/name", 0 },                          \
	{ NULL, ver, kind, base "volumes/projected/sources/secret/name", 0 }

static const struct ov_fieldspec configmap_refs[] = {
	POD_REFS("Pod", POD, "v1"),
	POD_REFS("PodTemplate", PT, NULL),
	POD_REFS("Deployment", TPL, NULL),
	POD_REFS("ReplicaSet", TPL, NULL),
	POD_REFS("DaemonSet", TPL, NULL),
	POD_REFS("StatefulSet", TPL, NULL),
	POD_REFS("Job", TPL, NULL),
	POD_REFS("CronJob", CJ, NULL),
	{ NULL, NULL, "Node", "spec/configSource/configMap", 0 },
	{ NULL, NULL, "Role", "rules/resourceNames", 0 },
	{ NULL, NULL, "ClusterRole", "rules/resourceNames", 0 },
	{ NULL, NULL, "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap", 0 },
};

static const struct ov_fieldspec secret_refs[] = {
	POD_SECRETS("Pod", POD, "v1"),
	POD_SECRETS("PodTemplate", PT, NULL),
	POD_SECRETS("Deployment", TPL, NULL),
	POD_SECRETS("ReplicaSet", TPL, NULL),
	POD_SECRETS("DaemonSet", TPL, NULL),
	POD_SECRETS("StatefulSet", TPL, NULL),
	POD_SECRETS("Job", TPL, NULL),
	POD_SECRETS("CronJob", CJ, NULL),
	{ NULL, NULL, "Ingress", "spec/tls/secretName", 0 },
	{ NULL, NULL, "Ingress", "metadata/annotations/ingress.kubernetes.io\\/auth-secret", 0 },
	{ NULL, NULL, "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", 0 },
	{ NULL, NULL, "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", 0 },
	{ NULL, NULL, "ServiceAccount", "imagePullSecrets/name", 0 },
	{ NULL, NULL, "StorageClass", "parameters/secretName", 0 },
	{ NULL, NULL, "StorageClass", "parameters/adminSecretName", 0 },
	{ NULL, NULL, "StorageClass", "parameters/userSecretName", 0 },
	{ NULL, NULL, "StorageClass", "parameters/secretRef", 0 },
	{ NULL, NULL, "Role", "rules/resourceNames", 0 },
	{ NULL, NULL, "ClusterRole", "rules/resourceNames", 0 },
	{ "serving.knative.dev", "v1", "Service", "spec/template/spec/containers/env/valueFrom/secretKeyRef/name", 0 },
	{ NULL, NULL, "PersistentVolume", "spec/azureFile/secretName", 0 },
};

static const struct ov_fieldspec service_refs[] = {
	{ "apps", NULL, "StatefulSet", "spec/serviceName", 0 },
	{ NULL, NULL, "Ingress", "spec/rules/http/paths/backend/serviceName", 0 },
	{ NULL, NULL, "Ingress", "spec/backend/serviceName", 0 },
	{ NULL, NULL, "Ingress", "spec/rules/http/paths/backend/service/name", 0 },
	{ NULL, NULL, "Ingress", "spec/defaultBackend/service/name", 0 },
	{ "apiregistration.k8s.io", NULL, "APIService", "spec/service/name", 0 },
	{ "admissionregistration.k8s.io", NULL, "ValidatingWebhookConfiguration",
	  "webhooks/clientConfig/service", 0 },
	{ "admissionregistration.k8s.io", NULL, "MutatingWebhookConfiguration",
	  "webhooks/clientConfig/service", 0 },
	{ NULL, NULL, "HTTPRoute", "spec/rules/backendRefs/name", 0 },
};

static const struct ov_fieldspec service_account_refs[] = {
	{ "rbac.authorization.k8s.io", NULL, "RoleBinding", "subjects", 0 },
	{ "rbac.authorization.k8s.io", NULL, "ClusterRoleBinding", "subjects", 0 },
	{ NULL, NULL, "Pod", "spec/serviceAccountName", 0 },
	{ NULL, NULL, "StatefulSet", TPL "serviceAccountName", 0 },
	{ NULL, NULL, "Deployment", TPL "serviceAccountName", 0 },
	{ NULL, NULL, "ReplicationController", TPL "serviceAccountName", 0 },
	{ NULL, NULL, "CronJob", CJ "serviceAccountName", 0 },
	{ NULL, NULL, "Job", TPL "serviceAccountName", 0 },
	{ NULL, NULL, "DaemonSet", TPL "serviceAccountName", 0 },
};

/* A kind others refer to by name, and where they do. */
static const struct referral {
	const char *kind;
	const struct ov_fieldspec *specs;
	size_t nr;
} referrals[] = {
	{ "ConfigMap", configmap_refs, ARRAY_SIZE(configmap_refs) },
	{ "Secret", secret_refs, ARRAY_SIZE(secret_refs) },
	{ "Service", service_refs, ARRAY_SIZE(service_refs) },
	{ "ServiceAccount", service_account_refs, ARRAY_SIZE(service_account_refs) },
};

struct fix {
	struct octx *c;
	const struct referral *target;
	const json_t *referrer;
};

static const char *meta(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));

	return s ? s : "";
}

static const char *eff_ns(const json_t *obj, const char *ns)
{
	return ov_effective_ns(json_string_value(json_object_get(obj, "apiVersion")),
			       json_string_value(json_object_get(obj, "kind")), ns);
}

/* Is r a candidate for a reference to name from f->referrer? (kustomize's sieves) */
static int candidate(const struct fix *f, const struct ores *r, const char *name,
		     const char *org_ns)
{
	const char *kind = json_string_value(json_object_get(r->obj, "kind"));
	char *group, *version;
	int v1;

	ov_split_gv(json_string_value(json_object_get(r->obj, "apiVersion")), &group, &version);
	v1 = !strcmp(version, "v1");
	free(group);
	free(version);
	if (!kind || strcmp(kind, f->target->kind) || !v1)
		return 0;
	if (strcmp(r->org_name, name) && strcmp(meta(r->obj, "name"), name))
		return 0;
	if (org_ns && strcmp(eff_ns(r->obj, r->org_ns), org_ns))
		return 0;
	/* a namespaced referrer sees objects of its namespace, and any ServiceAccount */
	if (overlay_is_cluster_scoped(json_string_value(json_object_get(f->referrer, "apiVersion")),
				      json_string_value(json_object_get(f->referrer, "kind"))) ||
	    !strcmp(kind, "ServiceAccount"))
		return 1;
	return !strcmp(eff_ns(r->obj, meta(r->obj, "namespace")),
		       eff_ns(f->referrer, meta(f->referrer, "namespace")));
}

/* The object a reference names (by name, and by original namespace when org_ns). */
static const struct ores *select_referral(const struct fix *f, const char *name, const char *org_ns)
{
	const json_t *named = ov_named(f->c, f->target->kind, name);
	size_t k;
	json_t *i;

	json_array_foreach(named, k, i) {
		const struct ores *r = &f->c->res[json_integer_value(i)];

		if (candidate(f, r, name, org_ns))
			return r;
	}
	return NULL;
}

/* A reference by name alone: holder[field] is a name, or a list of names. */
static void fix_scalar(const struct fix *f, json_t *holder, const char *field, size_t index)
{
	json_t *v = field ? json_object_get(holder, field) : json_array_get(holder, index);
	const char *name = json_string_value(v);
	const struct ores *r;

	if (!name || !(r = select_referral(f, name, NULL)) || !strcmp(meta(r->obj, "name"), name))
		return;
	if (field)
		json_object_set_new(holder, field, json_string(meta(r->obj, "name")));
	else
		json_array_set_new(holder, index, json_string(meta(r->obj, "name")));
}

/* A reference with a name and maybe a namespace: {name, namespace}. */
static void fix_mapping(const struct fix *f, json_t *ref)
{
	const char *name = json_string_value(json_object_get(ref, "name"));
	json_t *ns = json_object_get(ref, "namespace");
	const struct ores *r;

	if (!name)
		return;
	r = select_referral(f, name, ns ? json_string_value(ns) ? json_string_value(ns) : "" : NULL);
	if (!r || (!strcmp(meta(r->obj, "name"), name) && !*meta(r->obj, "namespace")))
		return;
	json_object_set_new(ref, "name", json_string(meta(r->obj, "name")));
	if (*meta(r->obj, "namespace"))
		json_object_set_new(ref, "namespace", json_string(meta(r->obj, "namespace")));
}

static int fix_field(json_t *holder, const char *field, void *payload, struct strbuf *err)
{
	const struct fix *f = payload;
	json_t *v = json_object_get(holder, field), *e;
	size_t i;

	(void)err;
	if (json_is_object(v)) {
		fix_mapping(f, v);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_object(e))
				fix_mapping(f, e);
			else
				fix_scalar(f, v, NULL, i);
		}
	} else {
		fix_scalar(f, holder, field, 0);
	}
	return 0;
}

/* Fix the references obj holds to objects of target's kind. */
static void fix_refs_to(struct octx *c, json_t *obj, const struct referral *target,
			struct strbuf *err)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	struct fix f = { c, target, obj };

	for (size_t s = 0; s < target->nr; s++) {
		const char *want = target->specs[s].kind;

		/* most specs are for other kinds: pass over them before ov_fs_apply() looks */
		if (want && (!kind || strcmp(want, kind)))
			continue;
		if (ov_fs_apply(obj, &target->specs[s], OV_CREATE_NONE, fix_field, &f, err) < 0) {
			ov_err(c, c->ov->file, ov_kpos(c, NULL, NULL), "overlay-field",
			       "cannot follow references in %s: %s", ov_id_str(obj), err->buf);
			strbuf_reset(err);
		}
	}
}

int ov_fix_refs(struct octx *c)
{
	struct strbuf err = STRBUF_INIT;

	for (size_t i = 0; i < c->nr; i++)
		for (size_t t = 0; t < ARRAY_SIZE(referrals); t++)
			fix_refs_to(c, c->res[i].obj, &referrals[t], &err);
	strbuf_release(&err);
	return c->errors ? -1 : 0;
}
