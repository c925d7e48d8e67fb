/*
 * config: the platform config, gitd.yaml (see DESIGN.md and docs/config.md).
 *
 * config_load() validates the whole file (unknown keys, with a suggestion
 * for a likely typo; types; ranges) and reports every problem as a diag
 * with its position. A missing file is not an error: every key has a
 * default. String accessors never return NULL unless they say so.
 */
#ifndef GITD_CONFIG_H
#define GITD_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "diag.h"

enum policy_level {
	POLICY_OFF,
	POLICY_WARN,
	POLICY_ENFORCE,
};

struct config_env {
	const char *name; /* DNS-1123 label */
	const char *ref;  /* a ref name or fnmatch(3) pattern, e.g. refs/tags/v* */
};

struct config_limits {
	unsigned login_grace_time;   /* seconds to authenticate after connecting */
	unsigned max_unauthenticated; /* connections not yet authenticated, all sources */
	unsigned max_unauthenticated_per_source; /* the same, per client address */
	unsigned max_connections;     /* all connections */
	unsigned max_connections_per_user; /* authenticated connections of one user */
	unsigned idle_timeout;        /* seconds without a byte either way */
	unsigned keepalive_interval;  /* seconds between keepalive probes; 0: off */
	unsigned max_auth_tries;      /* failed public-key signatures per connection */
	unsigned max_push_mb;         /* largest pack one push may send, in MiB */
};

/* One entry of mirrors: where to push copies of matching repos. */
struct config_mirror {
	const char *repos;       /* fnmatch(3) pattern of repo names; "deploy" is the deploy repo */
	const char *url;         /* ssh://, https://, file://, USER@HOST:PATH or /PATH; may hold {repo} */
	const char *key;         /* SSH private key file, or NULL */
	const char *token_file;  /* file holding an HTTPS token, or NULL */
	const char *known_hosts; /* known_hosts file for SSH URLs, or NULL */
	const json_t *branches;  /* array of branch name patterns (borrowed), or NULL: every ref */
};

struct gitd_config;

/* Load path; on error returns -1 with problems in d and *out NULL. */
int config_load(struct gitd_config **out, const char *path, struct diags *d);
/* The same for the len bytes of buf, reported as file. */
int config_parse(struct gitd_config **out, const char *file, const char *buf, size_t len,
		 struct diags *d);
/* The defaults, as if the file were empty. */
struct gitd_config *config_default(void);
void config_free(struct gitd_config *cfg);

const char *config_listen(const struct gitd_config *cfg);      /* "127.0.0.1:2222" */
const char *config_log_format(const struct gitd_config *cfg);  /* "text" | "json" */
const struct config_limits *config_limits(const struct gitd_config *cfg);

size_t config_env_count(const struct gitd_config *cfg);
const struct config_env *config_env(const struct gitd_config *cfg, size_t i);
/* The environment called name, or NULL. */
const struct config_env *config_env_find(const struct gitd_config *cfg, const char *name);

/* "{app}-{env}" unless configured. */
const char *config_namespace_pattern(const struct gitd_config *cfg);
/* The namespace of app in environment env: the pattern filled in; caller frees. */
char *config_namespace(const struct gitd_config *cfg, const char *app, const char *env);
/* Level of policy check name ("latest_tag", "plaintext_secret", "privileged", "requests"). */
enum policy_level config_policy(const struct gitd_config *cfg, const char *check);
/* policy.denied_kinds: an array of strings (borrowed). */
const json_t *config_denied_kinds(const struct gitd_config *cfg);
/* policy.allowed_cluster_kinds: cluster-scoped kinds apps may create (borrowed array). */
const json_t *config_allowed_cluster_kinds(const struct gitd_config *cfg);
/* schemas: directory of JSON schemas, or NULL; config_load() makes a relative one relative to the file. */
const char *config_schemas_dir(const struct gitd_config *cfg);

/* builder.kind: "buildah" (the default), "command", "webhook" or "none". */
const char *config_builder_kind(const struct gitd_config *cfg);
/* The builder mapping (borrowed): kind plus the backend's own keys, which are not checked here. */
const json_t *config_builder(const struct gitd_config *cfg);
/* registry: "127.0.0.1:5000" unless configured. */
const char *config_registry(const struct gitd_config *cfg);
int config_registry_insecure(const struct gitd_config *cfg);
/* deploy_repo_url: where ArgoCD pulls the deploy repo from (argocd/applicationset.yaml). */
const char *config_deploy_repo_url(const struct gitd_config *cfg);
/* metrics_listen: HOST:PORT, or "" when off (the default). */
const char *config_metrics_listen(const struct gitd_config *cfg);

size_t config_mirror_count(const struct gitd_config *cfg);
const struct config_mirror *config_mirror(const struct gitd_config *cfg, size_t i);

/*
 * The whole config (borrowed), every default filled in, for sections other
 * modules own. Do not modify it: the accessors point into it.
 */
const json_t *config_json(const struct gitd_config *cfg);

#endif
