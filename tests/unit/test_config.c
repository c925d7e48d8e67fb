#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

/* Parse text as gitd.yaml; return the printed problems (caller frees), *out the config or NULL. */
static char *parse(const char *text, struct gitd_config **out)
{
	struct diags *d = diags_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	config_parse(out, "gitd.yaml", text, strlen(text), d);
	diags_sort(d);
	diags_print(d, f);
	fclose(f);
	diags_free(d);
	return buf;
}

/* Parse text that must be refused, and return the problems. */
static char *refused(const char *text)
{
	struct gitd_config *cfg = NULL;
	char *msg = parse(text, &cfg);

	ck_assert_ptr_null(cfg);
	return msg;
}

static struct gitd_config *accepted(const char *text)
{
	struct gitd_config *cfg = NULL;
	char *msg = parse(text, &cfg);

	ck_assert_str_eq(msg, "");
	ck_assert_ptr_nonnull(cfg);
	free(msg);
	return cfg;
}

#define ck_refused(text, expected)                \
	do {                                      \
		char *msg_ = refused(text);       \
		ck_assert_str_eq(msg_, expected); \
		free(msg_);                       \
	} while (0)

START_TEST(test_defaults)
{
	struct gitd_config *cfg = config_default();
	const struct config_limits *l = config_limits(cfg);
	char *ns = config_namespace(cfg, "shop", "prod");

	ck_assert_str_eq(config_listen(cfg), "127.0.0.1:2222");
	ck_assert_str_eq(config_log_format(cfg), "text");
	ck_assert_uint_eq(config_env_count(cfg), 3);
	ck_assert_str_eq(config_env(cfg, 0)->name, "dev");
	ck_assert_str_eq(config_env(cfg, 1)->ref, "refs/heads/main");
	ck_assert_str_eq(config_env_find(cfg, "prod")->ref, "refs/tags/v*");
	ck_assert_ptr_null(config_env_find(cfg, "qa"));
	ck_assert_ptr_null(config_env(cfg, 3));
	ck_assert_str_eq(ns, "shop-prod");
	ck_assert_str_eq(config_builder_kind(cfg), "buildah");
	ck_assert_str_eq(config_registry(cfg), "127.0.0.1:5000");
	ck_assert_int_eq(config_registry_insecure(cfg), 0);
	ck_assert_str_eq(config_metrics_listen(cfg), "");
	ck_assert_ptr_null(config_schemas_dir(cfg));
	ck_assert_uint_eq(config_mirror_count(cfg), 0);
	ck_assert_int_eq(config_policy(cfg, "latest_tag"), POLICY_ENFORCE);
	ck_assert_int_eq(config_policy(cfg, "requests"), POLICY_WARN);
	ck_assert_uint_eq(json_array_size(config_denied_kinds(cfg)), 4);
	ck_assert_uint_eq(json_array_size(config_allowed_cluster_kinds(cfg)), 0);
	ck_assert_uint_eq(l->login_grace_time, 30);
	ck_assert_uint_eq(l->max_unauthenticated, 64);
	ck_assert_uint_eq(l->max_unauthenticated_per_source, 10);
	ck_assert_uint_eq(l->max_connections, 500);
	ck_assert_uint_eq(l->max_connections_per_user, 250);
	ck_assert_uint_eq(l->idle_timeout, 600);
	ck_assert_uint_eq(l->keepalive_interval, 30);
	ck_assert_uint_eq(l->max_auth_tries, 6);
	ck_assert_uint_eq(l->max_push_mb, 2048);
	free(ns);
	config_free(cfg);
}
END_TEST

START_TEST(test_missing_file_is_default)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = NULL;

	ck_assert_int_eq(config_load(&cfg, "/nonexistent/gitd.yaml", d), 0);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(diags_nr(d), 0);
	ck_assert_str_eq(config_listen(cfg), "127.0.0.1:2222");
	config_free(cfg);
	diags_free(d);
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "listen: 0.0.0.0:22\nlog_format: json\n";
	struct diags *d = diags_new();
	struct gitd_config *cfg = NULL;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(config_load(&cfg, path, d), 0);
	ck_assert_str_eq(config_listen(cfg), "0.0.0.0:22");
	ck_assert_str_eq(config_log_format(cfg), "json");
	config_free(cfg);
	unlink(path);
	diags_free(d);
}
END_TEST

START_TEST(test_empty_and_comments)
{
	struct gitd_config *cfg = accepted("# nothing set\n");

	ck_assert_str_eq(config_listen(cfg), "127.0.0.1:2222");
	config_free(cfg);
}
END_TEST

START_TEST(test_unknown_key_suggests)
{
	ck_refused("listen: 127.0.0.1:2222\nenviroments: []\nfrobnicate: 1\n",
		   "gitd.yaml:2:1: error: unknown key `enviroments`; did you mean `environments`? "
		   "[config-unknown-key]\n"
		   "gitd.yaml:3:1: error: unknown key `frobnicate` [config-unknown-key]\n");
	ck_refused("limits:\n  idle_timout: 5\n",
		   "gitd.yaml:2:3: error: unknown key `limits.idle_timout`; did you mean "
		   "`idle_timeout`? [config-unknown-key]\n");
}
END_TEST

START_TEST(test_not_a_mapping)
{
	ck_refused("- a\n- b\n",
		   "gitd.yaml:1:1: error: gitd.yaml must be a mapping of settings, not a list "
		   "[config-type]\n");
}
END_TEST

START_TEST(test_environments)
{
	struct gitd_config *cfg =
		accepted("environments:\n  - name: qa\n    ref: refs/heads/develop\n"
			 "  - {name: live, ref: 'refs/tags/release-*'}\n");

	ck_assert_uint_eq(config_env_count(cfg), 2);
	ck_assert_str_eq(config_env(cfg, 1)->name, "live");
	ck_assert_str_eq(config_env(cfg, 1)->ref, "refs/tags/release-*");
	config_free(cfg);

	ck_refused("environments:\n  - {name: dev, ref: refs/heads/main}\n"
		   "  - {name: dev, ref: main}\n  - {name: Prod_1, ref: refs/tags/v*}\n"
		   "  - {name: x}\n  - 3\n",
		   "gitd.yaml:3:12: error: environment `dev` is defined twice (first in "
		   "environments[0]) [config-value]\n"
		   "gitd.yaml:3:22: error: `environments[1].ref` must be a full ref name or pattern "
		   "such as refs/heads/main or refs/tags/v*, not `main` [config-value]\n"
		   "gitd.yaml:4:12: error: `environments[2].name` must be a DNS label (it names a "
		   "folder and a namespace): `Prod_1` must be lower case [config-value]\n"
		   "gitd.yaml:5:5: error: `environments[3]` needs `ref` [config-missing-key]\n"
		   "gitd.yaml:6:5: error: `environments[4]` must be a mapping with name and ref, not "
		   "an integer [config-type]\n");
	ck_refused("environments: []\n",
		   "gitd.yaml:1:15: error: `environments` must list between 1 and 64 environments "
		   "[config-value]\n");
}
END_TEST

START_TEST(test_limits)
{
	struct gitd_config *cfg = accepted("limits:\n  max_connections: 20\n  keepalive_interval: 0\n");

	ck_assert_uint_eq(config_limits(cfg)->max_connections, 20);
	ck_assert_uint_eq(config_limits(cfg)->keepalive_interval, 0);
	ck_assert_uint_eq(config_limits(cfg)->login_grace_time, 30);
	config_free(cfg);

	ck_refused("limits:\n  login_grace_time: 0\n  max_auth_tries: '6'\n",
		   "gitd.yaml:2:21: error: `limits.login_grace_time` must be between 1 and 3600, "
		   "not 0 [config-value]\n"
		   "gitd.yaml:3:19: error: `limits.max_auth_tries` must be a whole number: not a "
		   "string [config-type]\n");
	ck_refused("limits:\n  max_unauthenticated_per_source: 100\n",
		   "gitd.yaml:2:3: error: `limits.max_unauthenticated_per_source` (100) must not "
		   "exceed `limits.max_unauthenticated` (64) [config-value]\n");
}
END_TEST

START_TEST(test_policy)
{
	struct gitd_config *cfg = accepted("policy:\n  requests: off\n  latest_tag: warn\n"
					   "  allowed_cluster_kinds: [StorageClass]\n");

	ck_assert_int_eq(config_policy(cfg, "requests"), POLICY_OFF);
	ck_assert_int_eq(config_policy(cfg, "latest_tag"), POLICY_WARN);
	ck_assert_int_eq(config_policy(cfg, "privileged"), POLICY_ENFORCE);
	ck_assert_int_eq(config_policy(cfg, "nonsense"), POLICY_OFF);
	ck_assert_str_eq(json_string_value(json_array_get(config_allowed_cluster_kinds(cfg), 0)),
			 "StorageClass");
	ck_assert_uint_eq(json_array_size(config_denied_kinds(cfg)), 4);
	config_free(cfg);

	ck_refused("policy:\n  privileged: enforse\n  requests: on\n"
		   "  denied_kinds: [Namespace, 'not a kind']\n",
		   "gitd.yaml:2:15: error: `policy.privileged` must be enforce, warn or off, not "
		   "`enforse`; did you mean `enforce`? [config-value]\n"
		   "gitd.yaml:3:13: error: `policy.requests` must be a string: `on` was read as the "
		   "boolean true; quote it [config-type]\n"
		   "gitd.yaml:4:29: error: `policy.denied_kinds[1]` must be a Kubernetes kind such as "
		   "ClusterRole, not `not a kind` [config-value]\n");
	ck_refused("policy:\n  denied_kinds: [Namespace]\n  allowed_cluster_kinds: [Namespace]\n",
		   "gitd.yaml:3:27: error: kind `Namespace` is both allowed and denied; remove it "
		   "from one list [config-value]\n");
}
END_TEST

START_TEST(test_listen_and_metrics)
{
	struct gitd_config *cfg = accepted("listen: '[::1]:2222'\nmetrics_listen: 127.0.0.1:9522\n");

	ck_assert_str_eq(config_listen(cfg), "[::1]:2222");
	ck_assert_str_eq(config_metrics_listen(cfg), "127.0.0.1:9522");
	config_free(cfg);
	cfg = accepted("metrics_listen: off\nschemas: ~\n");
	ck_assert_str_eq(config_metrics_listen(cfg), "");
	ck_assert_ptr_null(config_schemas_dir(cfg));
	config_free(cfg);
	cfg = accepted("schemas: /srv/schemas\n");
	ck_assert_str_eq(config_schemas_dir(cfg), "/srv/schemas");
	config_free(cfg);

	ck_refused("listen: 2222\nmetrics_listen: localhost:99999\n",
		   "gitd.yaml:1:9: error: `listen` must be a string: not an integer; quote it "
		   "[config-type]\n"
		   "gitd.yaml:2:17: error: `metrics_listen` must be HOST:PORT (e.g. 127.0.0.1:2222 or "
		   "[::1]:2222), not `localhost:99999` [config-value]\n");
	ck_refused("listen: ':2222'\n",
		   "gitd.yaml:1:9: error: `listen` must be HOST:PORT (e.g. 127.0.0.1:2222 or "
		   "[::1]:2222), not `:2222` [config-value]\n");
}
END_TEST

START_TEST(test_deploy_repo_url)
{
	struct gitd_config *cfg = accepted("");

	ck_assert_str_eq(config_deploy_repo_url(cfg), "ssh://git@gitd.gitd.svc:22/deploy.git");
	config_free(cfg);
	cfg = accepted("deploy_repo_url: https://github.com/example/deploy.git\n");
	ck_assert_str_eq(config_deploy_repo_url(cfg), "https://github.com/example/deploy.git");
	config_free(cfg);
	ck_refused("deploy_repo_url: deploy.git\n",
		   "gitd.yaml:1:18: error: `deploy_repo_url` must be a URL such as "
		   "ssh://git@gitd.example.com/deploy.git [config-value]\n");
	ck_refused("deploy_repo_url: 'ssh://a b'\n",
		   "gitd.yaml:1:18: error: `deploy_repo_url` must be a URL without blanks [config-value]\n");
}
END_TEST

START_TEST(test_builder_registry)
{
	struct gitd_config *cfg =
		accepted("builder:\n  kind: webhook\n  url: https://ci.example.com/hook\n  secret_file: s\n"
			 "registry: registry.example.com/team\nregistry_insecure: yes\n");

	ck_assert_str_eq(config_builder_kind(cfg), "webhook");
	ck_assert_str_eq(json_string_value(json_object_get(config_builder(cfg), "url")),
			 "https://ci.example.com/hook");
	ck_assert_str_eq(config_registry(cfg), "registry.example.com/team");
	ck_assert_int_eq(config_registry_insecure(cfg), 1);
	config_free(cfg);

	ck_refused("builder: {kind: docker}\nregistry: https://r.example.com\n",
		   "gitd.yaml:1:17: error: `builder.kind` must be buildah, command, webhook or none, "
		   "not `docker` [config-value]\n"
		   "gitd.yaml:2:11: error: `registry` is a registry host, not a URL: write "
		   "HOST[:PORT][/PATH] without `https://` [config-value]\n");
	ck_refused("builder:\n  command: make\n",
		   "gitd.yaml:2:3: error: `builder` needs `kind` (buildah, command, webhook or none) "
		   "[config-missing-key]\n");
}
END_TEST

START_TEST(test_mirrors)
{
	struct gitd_config *cfg =
		accepted("mirrors:\n"
			 "  - repos: '*'\n    url: ssh://git@github.com/org/{repo}.git\n"
			 "    key: /k\n    known_hosts: /kh\n    branches: [main, 'release/*']\n"
			 "  - {repos: deploy, url: 'https://github.com/org/deploy.git', token_file: /t}\n"
			 "  - {repos: '*', url: 'git@gitlab.com:org/x.git', key: /k, known_hosts: /kh}\n"
			 "  - {repos: '*', url: '/srv/backup/{repo}.git'}\n");
	const struct config_mirror *m = config_mirror(cfg, 0);

	ck_assert_uint_eq(config_mirror_count(cfg), 4);
	ck_assert_str_eq(m->url, "ssh://git@github.com/org/{repo}.git");
	ck_assert_str_eq(m->key, "/k");
	ck_assert_ptr_null(m->token_file);
	ck_assert_uint_eq(json_array_size(m->branches), 2);
	ck_assert_str_eq(config_mirror(cfg, 1)->token_file, "/t");
	ck_assert_ptr_null(config_mirror(cfg, 1)->branches);
	ck_assert_ptr_null(config_mirror(cfg, 4));
	config_free(cfg);

	ck_refused("mirrors:\n"
		   "  - {repos: '*', url: 'ssh://h/x', key: /k}\n"
		   "  - {repos: '*', url: 'https://h/x', key: /k}\n"
		   "  - {repos: '*', url: 'http://h/x'}\n"
		   "  - {repos: '*', url: 'ftp://h/x'}\n"
		   "  - {url: /x, branches: [main, 1]}\n",
		   "gitd.yaml:2:23: error: `mirrors[0].url` is an SSH URL: set `key` (the private key) "
		   "and `known_hosts` (host keys are always verified) [config-missing-key]\n"
		   "gitd.yaml:3:23: error: `mirrors[1].url` is an HTTPS URL: set `token_file` "
		   "[config-missing-key]\n"
		   "gitd.yaml:3:38: error: `key` is for SSH URLs; https:// URLs use `token_file` "
		   "[config-value]\n"
		   "gitd.yaml:4:23: error: `mirrors[2].url` must not be plain http://: use https:// "
		   "[config-value]\n"
		   "gitd.yaml:5:23: error: `mirrors[3].url` must be ssh://..., USER@HOST:PATH, "
		   "https://..., file://... or an absolute path, not `ftp://h/x` [config-value]\n"
		   "gitd.yaml:6:5: error: `mirrors[4]` needs `repos` [config-missing-key]\n");
	ck_refused("mirrors:\n  - {repos: '*', url: /x, branches: [main, 1]}\n",
		   "gitd.yaml:2:44: error: `mirrors[0].branches[1]` must be a non-empty string: not an "
		   "integer; quote it [config-type]\n");
}
END_TEST

START_TEST(test_namespace_and_log_format)
{
	struct gitd_config *cfg = accepted("namespace: 'team-{env}-{app}'\n");
	char *ns = config_namespace(cfg, "shop", "dev");

	ck_assert_str_eq(ns, "team-dev-shop");
	free(ns);
	config_free(cfg);

	ck_refused("namespace: '{env}'\nlog_format: xml\n",
		   "gitd.yaml:1:12: error: `namespace` must contain {app}, or every app would share "
		   "one namespace [config-value]\n"
		   "gitd.yaml:2:13: error: `log_format` must be text or json, not `xml` "
		   "[config-value]\n");
	ck_refused("namespace: '{app}_{env}'\n",
		   "gitd.yaml:1:12: error: `namespace` must give a DNS label: {app} and {env} with "
		   "lower-case letters, digits and '-' between them, not `{app}_{env}` "
		   "[config-value]\n");
}
END_TEST

START_TEST(test_yaml_error)
{
	struct gitd_config *cfg = NULL;
	char *msg = parse("listen: [\n", &cfg);

	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(msg, "gitd.yaml:"));
	ck_assert_ptr_nonnull(strstr(msg, "[yaml]"));
	free(msg);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_missing_file_is_default);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_empty_and_comments);
	tcase_add_test(tc, test_unknown_key_suggests);
	tcase_add_test(tc, test_not_a_mapping);
	tcase_add_test(tc, test_environments);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_listen_and_metrics);
	tcase_add_test(tc, test_deploy_repo_url);
	tcase_add_test(tc, test_builder_registry);
	tcase_add_test(tc, test_mirrors);
	tcase_add_test(tc, test_namespace_and_log_format);
	tcase_add_test(tc, test_yaml_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(config_suite());
}
