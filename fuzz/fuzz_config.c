/*
 * libFuzzer harness for the platform config, gitd.yaml (lib/config.h).
 *
 * Checks: success and failure are exclusive (a config and no error, or an
 * error and no config), and every accessor answers on a config that
 * loaded, with the documented types and ranges.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "diag.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strings(const struct gitd_config *cfg)
{
	const char *s[] = {
		config_listen(cfg),
		config_log_format(cfg),
		config_namespace_pattern(cfg),
		config_builder_kind(cfg),
		config_registry(cfg),
		config_metrics_listen(cfg),
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (!s[i])
			abort();
}

static void check_lists(const struct gitd_config *cfg)
{
	for (size_t i = 0; i < config_env_count(cfg); i++) {
		const struct config_env *e = config_env(cfg, i);

		if (!e || !e->name || !e->ref || config_env_find(cfg, e->name) == NULL)
			abort();
		free(config_namespace(cfg, "app", e->name));
	}
	for (size_t i = 0; i < config_mirror_count(cfg); i++) {
		const struct config_mirror *m = config_mirror(cfg, i);

		if (!m || !m->repos || !m->url)
			abort();
	}
	if (!json_is_array(config_denied_kinds(cfg)) || !json_is_array(config_allowed_cluster_kinds(cfg)))
		abort();
}

static void check_limits(const struct gitd_config *cfg)
{
	const struct config_limits *l = config_limits(cfg);

	if (!l->login_grace_time || !l->max_unauthenticated || !l->max_connections ||
	    !l->max_auth_tries || l->max_unauthenticated_per_source > l->max_unauthenticated)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = (struct gitd_config *)1; /* must be set either way */
	int rc = config_parse(&cfg, "gitd.yaml", (const char *)data, size, d);

	if (rc < 0 && (cfg || !diags_count(d, DIAG_ERROR)))
		abort();
	if (rc == 0) {
		if (!cfg || diags_count(d, DIAG_ERROR))
			abort();
		check_strings(cfg);
		check_lists(cfg);
		check_limits(cfg);
		config_policy(cfg, "latest_tag");
		config_policy(cfg, "requests");
		config_registry_insecure(cfg);
		config_schemas_dir(cfg);
		config_builder(cfg);
		config_json(cfg);
	}
	config_free(cfg);
	diags_free(d);
	return 0;
}
