/*
 * The part of the Kubernetes 1.21 OpenAPI schema (the one compiled into
 * kustomize v5.5) that changes how a strategic merge patch merges: the
 * lists with a merge strategy, and the paths that lead to them. Every
 * other field of a known type merges as a map or is replaced as a whole,
 * which is what an "opaque" schema gives.
 */
#include "smp_int.h"

#include <string.h>

#include "smp.h"
#include "util.h"
#include "banned.h"

#define END { NULL, NULL, 0, NULL, NULL }
#define OBJ(n, t) { n, t, 0, NULL, NULL }
#define MERGE(n, k, e) { n, NULL, 1, k, e }

/* A known type or field with nothing below it that merges specially. */
static const struct smp_schema no_fields[] = { END };
static const struct smp_schema opaque = { NULL, no_fields, 0, NULL, NULL };

static const struct smp_schema object_meta_fields[] = {
	MERGE("finalizers", "", &opaque),
	MERGE("ownerReferences", "uid", &opaque),
	END,
};

static const struct smp_schema container_fields[] = {
	MERGE("ports", "containerPort,protocol", &opaque),
	MERGE("env", "name", &opaque),
	MERGE("volumeMounts", "mountPath", &opaque),
	MERGE("volumeDevices", "devicePath", &opaque),
	END,
};
static const struct smp_schema container = { NULL, container_fields, 0, NULL, NULL };

static const struct smp_schema pod_spec_fields[] = {
	MERGE("volumes", "name", &opaque),
	MERGE("initContainers", "name", &container),
	MERGE("containers", "name", &container),
	MERGE("ephemeralContainers", "name", &container),
	MERGE("imagePullSecrets", "name", &opaque),
	MERGE("hostAliases", "ip", &opaque),
	MERGE("topologySpreadConstraints", "topologyKey,whenUnsatisfiable", &opaque),
	END,
};

static const struct smp_schema pod_template_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", pod_spec_fields),
	END,
};

/* Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, ReplicationController specs. */
static const struct smp_schema workload_spec_fields[] = {
	OBJ("template", pod_template_fields),
	END,
};

static const struct smp_schema job_template_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", workload_spec_fields),
	END,
};

static const struct smp_schema cron_job_spec_fields[] = {
	OBJ("jobTemplate", job_template_fields),
	END,
};

static const struct smp_schema service_spec_fields[] = {
	MERGE("ports", "port,protocol", &opaque),
	END,
};

static const struct smp_schema node_spec_fields[] = {
	MERGE("podCIDRs", "", &opaque),
	END,
};

static const struct smp_schema generic_fields[] = {
	OBJ("metadata", object_meta_fields),
	END,
};
static const struct smp_schema pod_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", pod_spec_fields),
	END,
};
static const struct smp_schema pod_template_kind_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("template", pod_template_fields),
	END,
};
static const struct smp_schema workload_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", workload_spec_fields),
	END,
};
static const struct smp_schema cron_job_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", cron_job_spec_fields),
	END,
};
static const struct smp_schema service_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", service_spec_fields),
	END,
};
static const struct smp_schema service_account_fields[] = {
	OBJ("metadata", object_meta_fields),
	MERGE("secrets", "name", &opaque),
	END,
};
static const struct smp_schema webhook_config_fields[] = {
	OBJ("metadata", object_meta_fields),
	MERGE("webhooks", "name", &opaque),
	END,
};
static const struct smp_schema node_fields[] = {
	OBJ("metadata", object_meta_fields),
	OBJ("spec", node_spec_fields),
	END,
};

#define TYPE(f) { NULL, f, 0, NULL, NULL }
static const struct smp_schema generic = TYPE(generic_fields);
static const struct smp_schema pod = TYPE(pod_fields);
static const struct smp_schema pod_template = TYPE(pod_template_kind_fields);
static const struct smp_schema workload = TYPE(workload_fields);
static const struct smp_schema cron_job = TYPE(cron_job_fields);
static const struct smp_schema service = TYPE(service_fields);
static const struct smp_schema service_account = TYPE(service_account_fields);
static const struct smp_schema webhook_config = TYPE(webhook_config_fields);
static const struct smp_schema node = TYPE(node_fields);

/* Every apiVersion/kind of the Kubernetes 1.21 schema kustomize v5.5 carries. */
static const struct {
	const char *api_version;
	const char *kind;
	const struct smp_schema *schema;
} known_types[] = {
	{ "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", &webhook_config },
	{ "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &webhook_config },
	{ "admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", &webhook_config },
	{ "admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", &webhook_config },
	{ "apiextensions.k8s.io/v1", "CustomResourceDefinition", &generic },
	{ "apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", &generic },
	{ "apiregistration.k8s.io/v1", "APIService", &generic },
	{ "apiregistration.k8s.io/v1beta1", "APIService", &generic },
	{ "apps/v1", "ControllerRevision", &generic },
	{ "apps/v1", "DaemonSet", &workload },
	{ "apps/v1", "Deployment", &workload },
	{ "apps/v1", "ReplicaSet", &workload },
	{ "apps/v1", "StatefulSet", &workload },
	{ "autoscaling/v1", "HorizontalPodAutoscaler", &generic },
	{ "autoscaling/v1", "Scale", &generic },
	{ "autoscaling/v2beta1", "HorizontalPodAutoscaler", &generic },
	{ "autoscaling/v2beta2", "HorizontalPodAutoscaler", &generic },
	{ "batch/v1", "CronJob", &cron_job },
	{ "batch/v1", "Job", &workload },
	{ "batch/v1beta1", "CronJob", &cron_job },
	{ "certificates.k8s.io/v1", "CertificateSigningRequest", &generic },
	{ "certificates.k8s.io/v1beta1", "CertificateSigningRequest", &generic },
	{ "coordination.k8s.io/v1", "Lease", &generic },
	{ "coordination.k8s.io/v1beta1", "Lease", &generic },
	{ "discovery.k8s.io/v1", "EndpointSlice", &generic },
	{ "discovery.k8s.io/v1beta1", "EndpointSlice", &generic },
	{ "events.k8s.io/v1", "Event", &generic },
	{ "events.k8s.io/v1beta1", "Event", &generic },
	{ "extensions/v1beta1", "Ingress", &generic },
	{ "flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", &generic },
	{ "flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", &generic },
	{ "networking.k8s.io/v1", "Ingress", &generic },
	{ "networking.k8s.io/v1", "IngressClass", &generic },
	{ "networking.k8s.io/v1", "NetworkPolicy", &generic },
	{ "networking.k8s.io/v1beta1", "Ingress", &generic },
	{ "networking.k8s.io/v1beta1", "IngressClass", &generic },
	{ "node.k8s.io/v1", "RuntimeClass", &generic },
	{ "node.k8s.io/v1beta1", "RuntimeClass", &generic },
	{ "policy/v1", "PodDisruptionBudget", &generic },
	{ "policy/v1beta1", "PodDisruptionBudget", &generic },
	{ "policy/v1beta1", "PodSecurityPolicy", &generic },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole", &generic },
	{ "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &generic },
	{ "rbac.authorization.k8s.io/v1", "Role", &generic },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding", &generic },
	{ "rbac.authorization.k8s.io/v1beta1", "ClusterRole", &generic },
	{ "rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", &generic },
	{ "rbac.authorization.k8s.io/v1beta1", "Role", &generic },
	{ "rbac.authorization.k8s.io/v1beta1", "RoleBinding", &generic },
	{ "scheduling.k8s.io/v1", "PriorityClass", &generic },
	{ "scheduling.k8s.io/v1beta1", "PriorityClass", &generic },
	{ "storage.k8s.io/v1", "CSIDriver", &generic },
	{ "storage.k8s.io/v1", "CSINode", &generic },
	{ "storage.k8s.io/v1", "StorageClass", &generic },
	{ "storage.k8s.io/v1", "VolumeAttachment", &generic },
	{ "storage.k8s.io/v1beta1", "CSIDriver", &generic },
	{ "storage.k8s.io/v1beta1", "CSINode", &generic },
	{ "storage.k8s.io/v1beta1", "CSIStorageCapacity", &generic },
	{ "storage.k8s.io/v1beta1", "StorageClass", &generic },
	{ "storage.k8s.io/v1beta1", "VolumeAttachment", &generic },
	{ "v1", "ComponentStatus", &generic },
	{ "v1", "ConfigMap", &generic },
	{ "v1", "Endpoints", &generic },
	{ "v1", "Event", &generic },
	{ "v1", "LimitRange", &generic },
	{ "v1", "Namespace", &generic },
	{ "v1", "Node", &node },
	{ "v1", "PersistentVolume", &generic },
	{ "v1", "PersistentVolumeClaim", &generic },
	{ "v1", "Pod", &pod },
	{ "v1", "PodTemplate", &pod_template },
	{ "v1", "ReplicationController", &workload },
	{ "v1", "ResourceQuota", &generic },
	{ "v1", "Secret", &generic },
	{ "v1", "Service", &service },
	{ "v1", "ServiceAccount", &service_account },
};

const struct smp_schema *smp_schema_for(const char *api_version, const char *kind)
{
	if (!api_version || !kind)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(known_types); i++)
		if (!strcmp(known_types[i].api_version, api_version) &&
		    !strcmp(known_types[i].kind, kind))
			return known_types[i].schema;
	return NULL;
}

int smp_has_schema(const char *api_version, const char *kind)
{
	return smp_schema_for(api_version, kind) != NULL;
}

const struct smp_schema *smp_schema_field(const struct smp_schema *s, const char *name)
{
	if (!s)
		return NULL;
	for (const struct smp_schema *f = s->fields; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f; /* a field entry is also the schema of its value */
	return &opaque;
}
