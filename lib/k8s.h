/*
 * k8s: the syntax rules Kubernetes applies to names, labels, annotations
 * and resource quantities (k8s.io/apimachinery/pkg/util/validation and
 * k8s.io/apimachinery/pkg/api/resource), so gitd refuses at push time what
 * the API server would refuse at apply time.
 *
 * Each k8s_check_*() returns NULL when s is valid, else a short reason that
 * completes "NAME ..." (e.g. "must be at most 63 characters").
 */
#ifndef GITD_K8S_H
#define GITD_K8S_H

#include <stddef.h>

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 (namespaces, app names). */
const char *k8s_check_dns_label(const char *s);
/* RFC 1035 label: an RFC 1123 label starting with a letter (Service names). */
const char *k8s_check_dns1035_label(const char *s);
/* RFC 1123 subdomain: dot-separated labels, at most 253 (most object names). */
const char *k8s_check_dns_subdomain(const char *s);
/* Path segment: not "." or "..", no '/' or '%' (RBAC object names). */
const char *k8s_check_path_segment(const char *s);
/* Label and annotation keys: [PREFIX/]NAME, PREFIX a subdomain, NAME at most 63. */
const char *k8s_check_qualified_name(const char *s);
/* Label values: empty or at most 63 of [A-Za-z0-9_.-], alphanumeric at both ends. */
const char *k8s_check_label_value(const char *s);

/* An image reference split into its parts, pointing into the parsed string. */
struct k8s_image {
	size_t name_len;    /* the repository, with its registry: s[0, name_len) */
	const char *tag;    /* after ':', or NULL */
	size_t tag_len;
	const char *digest; /* after '@' ("sha256:..."), or NULL; runs to the end */
};

/*
 * Split an image reference ([REGISTRY/]PATH[:TAG][@DIGEST], as the
 * container runtimes read it) into *out. NULL when valid, else a reason.
 */
const char *k8s_parse_image(const char *s, struct k8s_image *out);

/*
 * Parse a quantity ("250m", "1.5Gi", "128974848", "129e6") into *out, in
 * base units (cores, bytes). 0 on success, -1 when s is not a quantity.
 */
int k8s_parse_quantity(const char *s, double *out);

/*
 * 1 if group/kind is a built-in cluster-scoped kind (Namespace, ClusterRole,
 * StorageClass, ...; group "" is the core group). Custom resources are
 * taken for namespaced, as kustomize does.
 */
int k8s_is_cluster_scoped(const char *group, const char *kind);

#endif
