#include "k8s.h"

#include <math.h>
#include <string.h>

#include "util.h"
#include "banned.h"

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One label of s (len bytes): NULL or the reason it is invalid. */
static const char *check_label(const char *s, size_t len)
{
	if (!len)
		return "must not be empty";
	if (len > 63)
		return "must be at most 63 characters";
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			return "must be lower case";
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "must hold only lower-case letters, digits and '-'";
	}
	if (s[0] == '-' || s[len - 1] == '-')
		return "must start and end with a letter or digit";
	return NULL;
}

const char *k8s_check_dns_label(const char *s)
{
	if (strchr(s, '.'))
		return "must not contain dots";
	return check_label(s, strlen(s));
}

const char *k8s_check_dns1035_label(const char *s)
{
	const char *why = k8s_check_dns_label(s);

	if (!why && !(s[0] >= 'a' && s[0] <= 'z'))
		return "must start with a letter";
	return why;
}

const char *k8s_check_dns_subdomain(const char *s)
{
	size_t len = strlen(s);

	if (!len)
		return "must not be empty";
	if (len > 253)
		return "must be at most 253 characters";
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		const char *why = check_label(p, n);

		if (why)
			return n > 63 ? "must have at most 63 characters between dots" : why;
		if (!dot)
			return NULL;
		p = dot + 1;
	}
}

const char *k8s_check_path_segment(const char *s)
{
	if (!*s)
		return "must not be empty";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "must not be `.` or `..`";
	if (strpbrk(s, "/%"))
		return "must not contain '/' or '%'";
	return NULL;
}

/* The name part of a qualified name, or a label value (len bytes). */
static const char *check_name_part(const char *s, size_t len)
{
	if (len > 63)
		return "must be at most 63 characters";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
			return "must hold only letters, digits, '-', '_' and '.'";
	if (len && (!is_alnum(s[0]) || !is_alnum(s[len - 1])))
		return "must start and end with a letter or digit";
	return NULL;
}

const char *k8s_check_qualified_name(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;

	if (slash) {
		char prefix[254];
		size_t n = (size_t)(slash - s);

		if (!n)
			return "has an empty prefix before '/'";
		if (n >= sizeof(prefix))
			return "has a prefix longer than 253 characters";
		memcpy(prefix, s, n);
		prefix[n] = '\0';
		if (k8s_check_dns_subdomain(prefix))
			return "has a prefix that is not a DNS subdomain (lower case, e.g. example.com/)";
		if (strchr(name, '/'))
			return "must contain at most one '/'";
	}
	if (!*name)
		return "must have a name after the prefix";
	return check_name_part(name, strlen(name));
}

const char *k8s_check_label_value(const char *s)
{
	return check_name_part(s, strlen(s));
}

/* [+-](digits[.digits] | .digits); *end past it; -1 when there are no digits. */
static int parse_number(const char *s, double *out, const char **end)
{
	const char *p = s;
	double value = 0, frac = 1;
	int neg = 0, digits = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		value = value * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			frac /= 10;
			value += (*p - '0') * frac;
		}
	}
	if (!digits)
		return -1;
	*out = neg ? -value : value;
	*end = p;
	return 0;
}

static int suffix_scale(const char *suffix, double *scale)
{
	static const struct {
		const char *suffix;
		double scale;
	} table[] = {
		{ "", 1 },	   { "n", 1e-9 },	   { "u", 1e-6 },	 { "m", 1e-3 },
		{ "k", 1e3 },	   { "M", 1e6 },	   { "G", 1e9 },	 { "T", 1e12 },
		{ "P", 1e15 },	   { "E", 1e18 },	   { "Ki", 1024.0 },	 { "Mi", 1048576.0 },
		{ "Gi", 1073741824.0 }, { "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
		{ "Ei", 1152921504606846976.0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (!strcmp(suffix, table[i].suffix)) {
			*scale = table[i].scale;
			return 0;
		}
	}
	return -1;
}

/* "e3", "E-2": a decimal exponent (not the suffix "E" alone, which is exa). */
static int parse_exponent(const char *s, double *scale)
{
	const char *p = s + 1;
	int neg = 0;
	unsigned exp = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || exp > 100)
			return -1;
		exp = exp * 10 + (unsigned)(*p - '0');
	}
	*scale = 1;
	while (exp--)
		*scale = neg ? *scale / 10 : *scale * 10;
	return 0;
}

int k8s_parse_quantity(const char *s, double *out)
{
	const char *end;
	double num, scale;

	if (parse_number(s, &num, &end) < 0)
		return -1;
	if ((*end == 'e' || *end == 'E') && end[1] && end[1] != 'i') {
		if (parse_exponent(end, &scale) < 0)
			return -1;
	} else if (suffix_scale(end, &scale) < 0) {
		return -1;
	}
	*out = num * scale;
	return isfinite(*out) ? 0 : -1;
}

/* [a-z0-9]+ joined by '.', '_', "__" or runs of '-' (one path component of a repository). */
static int valid_path_component(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		for (; i < len && is_lower_alnum(s[i]); i++)
			run++;
		if (!run)
			return 0;
		if (i == len)
			return 1;
		if (s[i] == '.' || (s[i] == '_' && (i + 1 >= len || s[i + 1] != '_')))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else
			return 0;
		if (i == len)
			return 0;
	}
	return 0;
}

/* One label of a registry host: letters, digits and '-', alphanumeric at both ends. */
static int valid_host_label(const char *s, size_t len)
{
	if (!len || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* HOST[:PORT], HOST dot-separated labels. */
static int valid_domain(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len), *end = colon ? colon : s + len;

	if (colon) {
		if (colon + 1 == s + len)
			return 0;
		for (const char *p = colon + 1; p < s + len; p++)
			if (*p < '0' || *p > '9')
				return 0;
	}
	for (const char *p = s;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));

		if (!valid_host_label(p, (size_t)((dot ? dot : end) - p)))
			return 0;
		if (!dot)
			return 1;
		p = dot + 1;
	}
}

static const char *check_digest(const char *d)
{
	const char *colon = strchr(d, ':');
	size_t hex = 0;

	if (!colon || colon == d)
		return "has a digest that is not ALGORITHM:HEX (e.g. sha256:...)";
	for (const char *p = d; p < colon; p++)
		if (!is_alnum(*p) && !strchr("+._-", *p))
			return "has a digest with an invalid algorithm";
	for (const char *p = colon + 1; *p; p++, hex++)
		if (!strchr("0123456789abcdefABCDEF", *p))
			return "has a digest that is not hexadecimal";
	if (hex < 32)
		return "has a digest shorter than 32 hexadecimal digits";
	return NULL;
}

static const char *check_tag(const char *t, size_t len)
{
	if (!len)
		return "has an empty tag after ':'";
	if (len > 128)
		return "has a tag longer than 128 characters";
	if (t[0] == '.' || t[0] == '-')
		return "has a tag that starts with '.' or '-'";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(t[i]) && !strchr("_.-", t[i]))
			return "has a tag with characters other than letters, digits, '_', '.' and '-'";
	return NULL;
}

/* The first component names a registry when it has a '.' or ':' or is localhost. */
static int is_registry(const char *s, size_t len)
{
	return memchr(s, '.', len) || memchr(s, ':', len) || (len == 9 && !memcmp(s, "localhost", 9));
}

static const char *check_repository(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	int first = 1;

	if (!len)
		return "has no repository name";
	if (len > 255)
		return "has a repository name longer than 255 characters";
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
		int registry = first && slash && is_registry(p, n);

		if (registry ? !valid_domain(p, n) : !valid_path_component(p, n)) {
			for (size_t i = 0; !registry && i < n; i++)
				if (p[i] >= 'A' && p[i] <= 'Z')
					return "must have a lower-case repository name";
			return registry ? "has an invalid registry host" : "has an invalid repository name";
		}
		first = 0;
		if (!slash)
			break;
		p = slash + 1;
	}
	return NULL;
}

const char *k8s_parse_image(const char *s, struct k8s_image *out)
{
	const char *at = strchr(s, '@');
	size_t len = at ? (size_t)(at - s) : strlen(s);
	const char *slash = NULL, *colon = NULL, *why;

	memset(out, 0, sizeof(*out));
	if (at && (why = check_digest(at + 1)))
		return why;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/')
			slash = s + i;
		else if (s[i] == ':')
			colon = s + i;
	}
	if (colon && slash && colon < slash)
		colon = NULL; /* a registry port, not a tag */
	out->name_len = colon ? (size_t)(colon - s) : len;
	if (colon) {
		out->tag = colon + 1;
		out->tag_len = len - out->name_len - 1;
		if ((why = check_tag(out->tag, out->tag_len)))
			return why;
	}
	out->digest = at ? at + 1 : NULL;
	return check_repository(s, out->name_len);
}

/*
 * Cluster-scoped kinds of Kubernetes itself, by API group. kustomize reads
 * this from its 1.21 schema and takes every kind it does not know for
 * namespaced; gitd knows the newer ones (FlowSchema v1,
 * ValidatingAdmissionPolicy, ...) too, and leaves their namespace alone.
 * Custom resources are taken for namespaced, as kustomize does.
 */
static const struct {
	const char *group, *kind;
} cluster_scoped[] = {
	{ "", "ComponentStatus" },
	{ "", "Namespace" },
	{ "", "Node" },
	{ "", "PersistentVolume" },
	{ "admissionregistration.k8s.io", "MutatingAdmissionPolicy" },
	{ "admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding" },
	{ "admissionregistration.k8s.io", "MutatingWebhookConfiguration" },
	{ "admissionregistration.k8s.io", "ValidatingAdmissionPolicy" },
	{ "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding" },
	{ "admissionregistration.k8s.io", "ValidatingWebhookConfiguration" },
	{ "apiextensions.k8s.io", "CustomResourceDefinition" },
	{ "apiregistration.k8s.io", "APIService" },
	{ "authentication.k8s.io", "SelfSubjectReview" },
	{ "authentication.k8s.io", "TokenReview" },
	{ "authorization.k8s.io", "SelfSubjectAccessReview" },
	{ "authorization.k8s.io", "SelfSubjectRulesReview" },
	{ "authorization.k8s.io", "SubjectAccessReview" },
	{ "certificates.k8s.io", "CertificateSigningRequest" },
	{ "certificates.k8s.io", "ClusterTrustBundle" },
	{ "flowcontrol.apiserver.k8s.io", "FlowSchema" },
	{ "flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration" },
	{ "internal.apiserver.k8s.io", "StorageVersion" },
	{ "networking.k8s.io", "IPAddress" },
	{ "networking.k8s.io", "IngressClass" },
	{ "networking.k8s.io", "ServiceCIDR" },
	{ "node.k8s.io", "RuntimeClass" },
	{ "policy", "PodSecurityPolicy" },
	{ "rbac.authorization.k8s.io", "ClusterRole" },
	{ "rbac.authorization.k8s.io", "ClusterRoleBinding" },
	{ "resource.k8s.io", "DeviceClass" },
	{ "resource.k8s.io", "ResourceSlice" },
	{ "scheduling.k8s.io", "PriorityClass" },
	{ "storage.k8s.io", "CSIDriver" },
	{ "storage.k8s.io", "CSINode" },
	{ "storage.k8s.io", "StorageClass" },
	{ "storage.k8s.io", "VolumeAttachment" },
	{ "storage.k8s.io", "VolumeAttributesClass" },
	{ "storagemigration.k8s.io", "StorageVersionMigration" },
};

int k8s_is_cluster_scoped(const char *group, const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(cluster_scoped); i++)
		if (!strcmp(cluster_scoped[i].group, group) && !strcmp(cluster_scoped[i].kind, kind))
			return 1;
	return 0;
}
