#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "../../renderer/validate.h"
#include "config.h"
#include "fileutil.h"
#include "strbuf.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

/* Validation result: the printed problems and validate_app()'s return value. */
struct result {
	char *text;
	int ret;
};

static struct gitd_config *config_from(const char *text)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = NULL;

	if (!text)
		cfg = config_default();
	else
		config_parse(&cfg, "gitd.yaml", text, strlen(text), d);
	ck_assert_msg(cfg != NULL, "test config does not load");
	diags_free(d);
	return cfg;
}

static struct source *source_from(const char *const *files)
{
	struct source *src = source_new_mem();

	for (size_t i = 0; files[i]; i += 2)
		source_mem_add(src, files[i], files[i + 1], strlen(files[i + 1]));
	return src;
}

/* Validate files (path, content, ..., NULL) as repo "shop" under config text (NULL: defaults). */
static struct result run_full(const char *const *files, const char *config, const char *env,
			      int summary)
{
	struct gitd_config *cfg = config_from(config);
	struct source *src = source_from(files);
	struct diags *d = diags_new();
	struct result r;
	size_t len = 0;
	FILE *f = open_memstream(&r.text, &len);

	r.ret = validate_app(d, src, cfg, "shop", env);
	diags_print(d, f);
	if (summary) {
		struct validate_stats st = { source_files_read(src), validate_is_app(src) };
		struct strbuf line = STRBUF_INIT;

		validate_format_summary(&line, d, &st);
		fprintf(f, "%s\n", line.buf);
		strbuf_release(&line);
	}
	fclose(f);
	diags_free(d);
	source_free(src);
	config_free(cfg);
	return r;
}

static char *run(const char *const *files)
{
	return run_full(files, NULL, NULL, 0).text;
}

#define FILES(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define ck_output(files, expected)                \
	do {                                      \
		char *out_ = run(files);          \
		ck_assert_str_eq(out_, expected); \
		free(out_);                       \
	} while (0)

#define ck_output_cfg(files, config, env, expected)                        \
	do {                                                               \
		struct result r_ = run_full(files, config, env, 0);        \
		ck_assert_str_eq(r_.text, expected);                       \
		free(r_.text);                                             \
	} while (0)

/* A workload that passes every check, to build on. */
#define DEPLOY(name, image)                                                              \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " name "\nspec:\n"       \
	"  template:\n    spec:\n      containers:\n        - name: c\n          image: " \
	image "\n          resources: {requests: {cpu: 10m, memory: 16Mi}}\n"

/* ---- app.yaml ---- */

START_TEST(test_plain_hosting)
{
	struct result r = run_full(FILES("README.md", "hi\n", "overlays/prod/x.yaml", "junk: ["), NULL,
				   NULL, 1);

	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.text, "no app.yaml or resources/: plain git hosting, nothing to check\n");
	free(r.text);
}
END_TEST

START_TEST(test_minimal_app)
{
	struct result r = run_full(FILES("app.yaml", "image: nginx:1.27\n"), NULL, NULL, 1);

	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.text, "no problems in 1 file\n");
	free(r.text);
}
END_TEST

START_TEST(test_app_unknown_keys)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\nenviroments: {}\nzzz: 1\n"),
		  "app.yaml:2:1: error: unknown key `enviroments`; did you mean `environments`? "
		  "[app-unknown-key]\n"
		  "app.yaml:3:1: error: unknown key `zzz`; expected one of: name, build, image, port, "
		  "replicas, env, cpu, memory, health, host, environments [app-unknown-key]\n");
}
END_TEST

START_TEST(test_app_not_a_mapping)
{
	ck_output(FILES("app.yaml", "- image\n"),
		  "app.yaml:1:1: error: app.yaml must be a mapping of settings such as `image: "
		  "nginx:1.27`, not a list [app-type]\n");
	ck_output(FILES("app.yaml", "# nothing\n"),
		  "app.yaml: error: app.yaml is empty: set `build` (a Dockerfile to build) or "
		  "`image` (an image to run) [app-build-image]\n");
}
END_TEST

START_TEST(test_app_env_yaml11)
{
	/* The example of issue 3. */
	ck_output(FILES("app.yaml", "image: nginx:1.27\nenv: {DEBUG: on}\n"),
		  "app.yaml:2:14: error: `env.DEBUG` must be a string (env values are strings): `on` "
		  "was read as the boolean true; quote it [app-env]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nenv:\n  MODE: 0755\n  N: x\n  NUM: 3\n"
				    "  'A B': x\n"),
		  "app.yaml:3:9: error: `env.MODE` must be a string (env values are strings): `0755` "
		  "was read as the octal number 493; quote it [app-env]\n"
		  "app.yaml:4:3: error: `env` name `N` was read as `false`; quote it [app-env]\n"
		  "app.yaml:5:8: error: `env.NUM` must be a string (env values are strings): not an "
		  "integer; quote it [app-env]\n"
		  "app.yaml:6:3: error: `env` name `A B` must hold only letters, digits, '_', '-' and "
		  "'.', and not start with a digit [app-env]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nenv: [a]\n"),
		  "app.yaml:2:6: error: `env` must be a mapping of NAME: value, not a list [app-env]\n");
}
END_TEST

START_TEST(test_app_numbers)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\nport: 0\nreplicas: 1.5\n"),
		  "app.yaml:2:7: error: `port` must be between 1 and 65535, not 0 [app-port]\n"
		  "app.yaml:3:11: error: `replicas` must be a whole number, not 1.5 [app-replicas]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nport: '80'\nreplicas: yes\n"),
		  "app.yaml:2:7: error: `port` must be a whole number, not a string; remove the quotes "
		  "[app-port]\n"
		  "app.yaml:3:11: error: `replicas` must be a whole number: `yes` was read as the "
		  "boolean true [app-replicas]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nport: 08080\nreplicas: 0\n"), "");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nport: 0700\n"),
		  "app.yaml:2:7: error: `port` must be a whole number: `0700` was read as the octal "
		  "number 448; remove the leading zeros [app-port]\n");
}
END_TEST

START_TEST(test_app_quantities)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\ncpu: 0.5\nmemory: 1Gi\n"), "");
	ck_output(FILES("app.yaml", "image: nginx:1.27\ncpu: 2 cores\nmemory: 512m\n"),
		  "app.yaml:2:6: error: `cpu` must be a quantity such as 250m or 1: not `2 cores` "
		  "[app-cpu]\n"
		  "app.yaml:3:9: error: `memory` is `512m`, 0.512 bytes (m means milli); did you mean "
		  "`512Mi`? [app-memory]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\ncpu: -1\nmemory: 1000\n"),
		  "app.yaml:2:6: error: `cpu` must be more than zero [app-cpu]\n"
		  "app.yaml:3:9: error: `memory` is only 1000 bytes; write a unit, such as 256Mi or 1Gi "
		  "[app-memory]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\ncpu: 0.0001\nmemory: [1]\n"),
		  "app.yaml:2:6: error: `cpu` is less than 1m, the smallest CPU unit [app-cpu]\n"
		  "app.yaml:3:9: error: `memory` must be a quantity such as 256Mi or 1Gi: not a list "
		  "[app-memory]\n");
}
END_TEST

START_TEST(test_app_name_health_host)
{
	ck_output(FILES("app.yaml", "name: 1shop\nimage: nginx:1.27\nhealth: /ready?x=1\n"
				    "host: '*.shop.example.com'\nport: 8080\n"),
		  "app.yaml:1:7: error: `name` must be a DNS label such as `hello` (it names the "
		  "Deployment, the Service and the namespace): `1shop` must start with a letter "
		  "[app-name]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nhealth: //x\nhost: shop.example.com:443\nport: 80\n"),
		  "app.yaml:2:9: error: `health` must be an absolute URL path such as `/healthz`, not "
		  "`//x` [app-health]\n"
		  "app.yaml:3:7: error: `host` must be a host name without a port (the Ingress listens "
		  "on 80 and 443), not `shop.example.com:443` [app-host]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nhost: Shop.Example.com\nname: no\nport: 80\n"),
		  "app.yaml:2:7: error: `host` must be a host name such as `hello.example.com`: "
		  "`Shop.Example.com` must be lower case [app-host]\n"
		  "app.yaml:3:7: error: `name` must be a string: `no` was read as the boolean false; "
		  "quote it [app-name]\n");
}
END_TEST

/* The probes and the Ingress need the container port, in every environment. */
START_TEST(test_app_port_needed)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\nhealth: /healthz\nhost: shop.example.com\n"),
		  "app.yaml:2:1: error: `health` needs `port`, the port the container listens on: "
		  "the readiness and liveness probes connect to it [app-port]\n"
		  "app.yaml:3:1: error: `host` needs `port`, the port the container listens on: the "
		  "Ingress sends traffic to it through the Service [app-port]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nhealth: /healthz\n"
				    "environments:\n  prod: {port: 8080}\n"),
		  "app.yaml:2:1: error: `health` needs `port`, the port the container listens on: "
		  "the readiness and liveness probes connect to it [app-port]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nport: 8080\n"
				    "environments:\n  prod: {host: shop.example.com}\n"),
		  "");
	ck_output(FILES("app.yaml", "image: nginx:1.27\n"
				    "environments:\n  prod: {host: shop.example.com}\n"),
		  "app.yaml:3:10: error: `host` needs `port`, the port the container listens on: the "
		  "Ingress sends traffic to it through the Service [app-port]\n");
}
END_TEST

START_TEST(test_app_repo_name)
{
	struct gitd_config *cfg = config_default();
	struct source *src = source_from(FILES("app.yaml", "image: nginx:1.27\n"));
	struct diags *d = diags_new();

	ck_assert_int_eq(validate_app(d, src, cfg, "My_Repo", NULL), -1);
	ck_assert_uint_eq(diags_nr(d), 1);
	ck_assert_str_eq(diags_get(d, 0)->message,
			 "the app is named after its repository, `My_Repo`, which is not a DNS label "
			 "(must be lower case); set `name:` in app.yaml");
	diags_free(d);
	d = diags_new();
	/* The namespace of a 60-character name is too long in staging. */
	ck_assert_int_eq(validate_app(d, src, cfg,
				      "a23456789012345678901234567890123456789012345678901234567890",
				      "staging"), -1);
	ck_assert_uint_eq(diags_nr(d), 1);
	ck_assert_str_eq(diags_get(d, 0)->rule, "app-name");
	ck_assert_ptr_nonnull(strstr(diags_get(d, 0)->message, "the app's namespace in environment "
								"staging"));
	diags_free(d);
	source_free(src);
	config_free(cfg);
}
END_TEST

START_TEST(test_app_build_image)
{
	ck_output(FILES("app.yaml", "build: Dockerfile\n", "Dockerfile", "FROM scratch\n"), "");
	ck_output(FILES("app.yaml", "port: 80\n"),
		  "app.yaml:1:1: error: app.yaml must set `build` (a Dockerfile to build) or `image` "
		  "(an image to run) [app-build-image]\n");
	ck_output(FILES("app.yaml", "build: ../Dockerfile\nimage: nginx:1.27\n"),
		  "app.yaml:1:8: error: `build` must name a Dockerfile inside the repository, such as "
		  "`Dockerfile`, not `../Dockerfile` [app-build]\n"
		  "app.yaml:2:1: error: set either `build` or `image`, not both [app-build-image]\n");
	ck_output(FILES("app.yaml", "image: 'nginx:1.27 '\n"),
		  "app.yaml:1:8: error: `image` must be an image reference such as `nginx:1.27`: "
		  "`nginx:1.27 ` has a tag with characters other than letters, digits, '_', '.' and "
		  "'-' [app-image]\n");
}
END_TEST

START_TEST(test_app_environments)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\nenvironments:\n  prod: {replicas: 3}\n"
				    "  qa: {}\n  dev: {name: x, environments: {}, imag: y}\n"),
		  "app.yaml:4:3: error: unknown environment `qa`; expected one of: dev, staging, prod "
		  "[app-environments]\n"
		  "app.yaml:5:9: error: `name` cannot be set per environment: it is the same in every "
		  "environment [app-environments]\n"
		  "app.yaml:5:18: error: `environments` cannot be set per environment: it is the same "
		  "in every environment [app-environments]\n"
		  "app.yaml:5:36: error: unknown key `imag`; did you mean `image`? [app-unknown-key]\n");
	ck_output(FILES("app.yaml", "image: nginx:1.27\nenvironments: [prod]\n"),
		  "app.yaml:2:15: error: `environments` must be a mapping of environment names to "
		  "overrides, not a list [app-environments]\n");
}
END_TEST

/* ---- resources ---- */

START_TEST(test_resource_identity)
{
	ck_output(FILES("resources/a.yaml", "kind: ConfigMap\nmetadata: {name: a}\n---\n"
					    "apiVersion: v1\nmetadata: {name: b}\n---\n"
					    "apiVersion: v1\nkind: ConfigMap\n---\n"
					    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 7}\n---\n"
					    "apiVersion: v1\nkind: ConfigMap\nmetadata: []\n"),
		  "resources/a.yaml:1:1: error: object has no `apiVersion` [resource-object]\n"
		  "resources/a.yaml:4:1: error: object has no `kind` [resource-object]\n"
		  "resources/a.yaml:7:1: error: object has no `metadata.name` [resource-object]\n"
		  "resources/a.yaml:12:18: error: `metadata.name` must be a string: not an integer; "
		  "quote it [resource-object]\n"
		  "resources/a.yaml:16:11: error: `metadata` must be a mapping [resource-object]\n");
}
END_TEST

START_TEST(test_resource_names)
{
	ck_output(FILES("resources/a.yaml",
			"apiVersion: v1\nkind: Service\nmetadata: {name: web.svc}\n---\n"
			"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db.main}\n---\n"
			"apiVersion: batch/v1\nkind: CronJob\n"
			"metadata: {name: a2345678901234567890123456789012345678901234567890123}\n---\n"
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
			"metadata: {name: 'system:a/b'}\n---\n"
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg.v1}\n"),
		  "resources/a.yaml:3:18: error: Service name `web.svc` must not contain dots (Service "
		  "names are DNS labels starting with a letter) [resource-name]\n"
		  "resources/a.yaml:7:18: error: StatefulSet name `db.main` must not contain dots "
		  "(StatefulSet names are DNS labels) [resource-name]\n"
		  "resources/a.yaml:11:18: error: CronJob name "
		  "`a2345678901234567890123456789012345678901234567890123` must be at most 52 "
		  "characters (CronJob names are DNS subdomains of at most 52 characters) "
		  "[resource-name]\n"
		  "resources/a.yaml:15:18: error: Role name `system:a/b` must not contain '/' or '%' "
		  "(Role names are path segments) [resource-name]\n");
}
END_TEST

START_TEST(test_resource_duplicates)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\nport: 8080\n",
			"resources/a.yaml",
			"apiVersion: v1\nkind: Service\nmetadata: {name: shop}\n---\n"
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			"resources/b.yaml",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
			"apiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: c}\n"),
		  "resources/a.yaml:1:1: error: Service `shop` is also generated from app.yaml; rename "
		  "one, or change the generated one through app.yaml or an overlay patch "
		  "[resource-duplicate]\n"
		  "resources/b.yaml:1:1: error: ConfigMap `c` is already defined at resources/a.yaml:5 "
		  "[resource-duplicate]\n");
}
END_TEST

START_TEST(test_resource_namespace)
{
	const char *cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop-prod}\n";

	ck_output(FILES("resources/a.yaml", cm),
		  "resources/a.yaml:3:32: error: namespace `shop-prod` is not the app's namespace in "
		  "environment dev (`shop-dev`); remove `metadata.namespace`: gitd sets it "
		  "[resource-namespace]\n");
	ck_output_cfg(FILES("resources/a.yaml", cm), NULL, "prod", "");
	ck_output_cfg(FILES("resources/a.yaml", cm), "namespace: '{app}-prod'\n", NULL, "");
}
END_TEST

START_TEST(test_resource_labels_annotations)
{
	struct strbuf big = STRBUF_INIT;
	char *out;

	ck_output(FILES("resources/a.yaml",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
			"  labels: {ok: 'yes', on: x, k: 'a b', nil: null}\n"
			"  annotations: {x/y/z: '', 'a.io/b': 1}\n"),
		  "resources/a.yaml:5:23: error: label key `on` was read as `true`; quote it "
		  "[resource-metadata]\n"
		  "resources/a.yaml:5:33: error: label value `a b` must hold only letters, digits, '-', "
		  "'_' and '.' [resource-metadata]\n"
		  "resources/a.yaml:5:45: error: label `nil` must be a string: not null "
		  "[resource-metadata]\n"
		  "resources/a.yaml:6:17: error: annotation key `x/y/z` must contain at most one '/' "
		  "[resource-metadata]\n"
		  "resources/a.yaml:6:38: error: annotation `a.io/b` must be a string: not an integer; "
		  "quote it [resource-metadata]\n");
	strbuf_addstr(&big, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n"
			    "    big: '");
	for (int i = 0; i < 300 * 1024; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "'\n");
	out = run(FILES("resources/a.yaml", big.buf));
	ck_assert_str_eq(out, "resources/a.yaml:5:3: error: annotations total 307203 bytes, more than "
			      "Kubernetes' limit of 262144 [resource-metadata]\n");
	free(out);
	strbuf_release(&big);
}
END_TEST

START_TEST(test_resource_kinds)
{
	const char *sc = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: f}\n"
			 "---\napiVersion: example.com/v1\nkind: StorageClass\nmetadata: {name: g}\n"
			 "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n";

	ck_output(FILES("resources/a.yaml", sc),
		  "resources/a.yaml:2:7: error: StorageClass is cluster-scoped: apps may create only "
		  "namespaced objects, unless the platform allows the kind "
		  "(policy.allowed_cluster_kinds) [resource-cluster-scoped]\n"
		  "resources/a.yaml:10:7: error: kind Namespace is not allowed by the platform policy "
		  "(policy.denied_kinds); gitd creates the app's namespace itself "
		  "[resource-denied-kind]\n");
	ck_output_cfg(FILES("resources/a.yaml", sc),
		      "policy: {allowed_cluster_kinds: [StorageClass], denied_kinds: [ConfigMap]}\n",
		      NULL,
		      "resources/a.yaml:10:7: error: Namespace is cluster-scoped: apps may create only "
		      "namespaced objects, unless the platform allows the kind "
		      "(policy.allowed_cluster_kinds) [resource-cluster-scoped]\n");
	ck_output(FILES("resources/a.yaml", "apiVersion: v1\nkind: List\nitems: []\n"),
		  "resources/a.yaml:2:7: error: `kind: List` is not supported: write each object as its "
		  "own YAML document, separated by --- [resource-object]\n");
}
END_TEST

START_TEST(test_resource_files)
{
	ck_output(FILES("resources/a.json", "{}", "resources/.keep", "", "resources/d/x.yaml", "a: 1\n",
			"resources/kustomization.yml", "resources: []\n",
			"resources/bad.yaml", "a: [\n"),
		  "resources/a.json: warning: ignored: only .yaml and .yml files in resources/ are "
		  "deployed [resource-ignored]\n"
		  "resources/bad.yaml:2:1: error: YAML syntax error: did not find expected node content "
		  "[yaml]\n"
		  "resources/d/: warning: ignored: only files directly in resources/ are deployed, not "
		  "subdirectories [resource-ignored]\n"
		  "resources/kustomization.yml: error: resources/ holds plain manifests, not a "
		  "kustomization: put per-environment changes in overlays/ENV/kustomization.yaml "
		  "[resource-object]\n");
	ck_output(FILES("resources", "not a directory\n"),
		  "resources: error: resources must be a directory of Kubernetes manifests "
		  "[resource-object]\n");
}
END_TEST

/* ---- policy ---- */

START_TEST(test_policy_latest_tag)
{
	ck_output(FILES("resources/a.yaml", DEPLOY("a", "nginx") "---\n" DEPLOY("b", "nginx:latest")
			"---\n" DEPLOY("c", "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			"---\n" DEPLOY("d", "localhost:5000/nginx") "---\n" DEPLOY("e", "localhost:5000/nginx:1")),
		  "resources/a.yaml:10:18: error: container `c` image `nginx` has no tag, so it means "
		  "`latest`: pin a version (`nginx:1.2.3`) or a digest [latest-tag]\n"
		  "resources/a.yaml:22:18: error: container `c` image `nginx:latest` uses the `latest` "
		  "tag: pin a version or a digest, so every deploy runs the image that was checked "
		  "[latest-tag]\n"
		  "resources/a.yaml:46:18: error: container `c` image `localhost:5000/nginx` has no tag, "
		  "so it means `latest`: pin a version (`localhost:5000/nginx:1.2.3`) or a digest "
		  "[latest-tag]\n");
}
END_TEST

START_TEST(test_policy_latest_tag_overlays)
{
	const char *const files[] = {
		"resources/a.yaml", DEPLOY("a", "example.com/api"),
		"overlays/prod/kustomization.yaml", "images: [{name: example.com/api, newTag: '1.2'}]\n",
		"overlays/dev/kustomization.yaml", "images: [{name: example.com/api, digest: 'sha256:0'}]\n",
		NULL,
	};

	ck_output(files, "resources/a.yaml:10:18: error: container `c` image `example.com/api` has no "
			 "tag (in environment staging), so it means `latest`: pin a version "
			 "(`example.com/api:1.2.3`) or a digest [latest-tag]\n");
	ck_output_cfg(files, NULL, "prod", "");
}
END_TEST

START_TEST(test_policy_app_image)
{
	ck_output(FILES("app.yaml", "image: nginx\nenvironments: {prod: {image: 'nginx:1'}}\n"),
		  "app.yaml:1:8: error: image `nginx` has no tag, so it means `latest`: pin a version "
		  "(`nginx:1.2.3`) or a digest [latest-tag]\n");
	ck_output_cfg(FILES("app.yaml", "image: nginx\nenvironments: {prod: {image: 'nginx:1'}}\n"),
		      NULL, "prod", "");
	ck_output_cfg(FILES("app.yaml", "image: nginx\n"), "policy: {latest_tag: warn}\n", NULL,
		      "app.yaml:1:8: warning: image `nginx` has no tag, so it means `latest`: pin a "
		      "version (`nginx:1.2.3`) or a digest [latest-tag]\n");
	ck_output_cfg(FILES("app.yaml", "image: nginx\n"), "policy: {latest_tag: off}\n", NULL, "");
}
END_TEST

START_TEST(test_policy_plaintext_secret)
{
	const char *const files[] = {
		"resources/s.yaml",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n---\n"
		"apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ndata: {}\n---\n"
		"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: u}\n"
		"spec: {encryptedData: {a: AgB}}\n",
		NULL,
	};

	ck_output(files, "resources/s.yaml:4:1: error: Secret `s` keeps its values in git as plain text "
			 "(base64 is not encryption): use a SealedSecret or an ExternalSecret instead "
			 "[plaintext-secret]\n");
	ck_output_cfg(files, "policy: {plaintext_secret: off}\n", NULL, "");
}
END_TEST

START_TEST(test_policy_privileged)
{
	const char *const files[] = {
		"resources/p.yaml",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostIPC: true\n"
		"  hostNetwork: false\n  volumes: [{name: v, hostPath: {path: /}}]\n"
		"  containers:\n  - name: c\n    image: nginx:1\n"
		"    resources: {requests: {cpu: 1, memory: 1Gi}}\n"
		"    securityContext: {privileged: true, allowPrivilegeEscalation: false}\n",
		NULL,
	};

	ck_output(files, "resources/p.yaml:5:3: error: hostIPC: true shares the node's namespace with "
			 "the pod; remove it [privileged]\n"
			 "resources/p.yaml:7:23: error: volume `v` mounts a hostPath, a directory of the "
			 "node; use a PersistentVolumeClaim, a ConfigMap or an emptyDir [privileged]\n"
			 "resources/p.yaml:12:35: error: container `c` runs privileged, with full access "
			 "to the node [privileged]\n");
	ck_output_cfg(files, "policy: {privileged: off}\n", NULL, "");
}
END_TEST

START_TEST(test_policy_requests)
{
	struct result r = run_full(FILES("resources/j.yaml",
					 "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n"
					 "  template:\n    spec:\n      initContainers: [{name: i, image: 'a:1'}]\n"
					 "      containers:\n      - {name: c, image: 'a:1', resources: "
					 "{requests: {memory: 1Gi}}}\n"),
				   NULL, NULL, 1);

	/* Warnings do not fail validation; init containers need no requests. */
	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.text, "resources/j.yaml:9:9: warning: container `c` has no cpu request: set "
				 "resources.requests so the scheduler can place it [requests]\n"
				 "1 warning in 1 file\n");
	free(r.text);
	ck_output_cfg(FILES("resources/j.yaml", DEPLOY("a", "a:1")), "policy: {requests: enforce}\n",
		      NULL, "");
}
END_TEST

/* ---- overlays ---- */

static const char *const base_files[] = {
	"app.yaml", "image: nginx:1.27\n",
	"resources/web.yaml", DEPLOY("web", "nginx:1.27") "---\napiVersion: v1\nkind: ConfigMap\n"
		"metadata: {name: cfg, labels: {tier: web}}\n",
};

/* base_files plus an overlay for prod with kustomization text (and one extra file). */
static char *run_overlay(const char *kustomization, const char *extra_path, const char *extra)
{
	const char *files[] = {
		base_files[0], base_files[1], base_files[2], base_files[3],
		"overlays/prod/kustomization.yaml", kustomization,
		extra_path, extra, NULL,
	};

	return run(files);
}

#define ck_overlay(kustomization, extra_path, extra, expected)              \
	do {                                                                \
		char *out_ = run_overlay(kustomization, extra_path, extra); \
		ck_assert_str_eq(out_, expected);                           \
		free(out_);                                                 \
	} while (0)

START_TEST(test_overlay_fields)
{
	ck_overlay("namespace: x\nbases: [../base]\npatchs: []\nkind: Kustomization\n", NULL, NULL,
		   "overlays/prod/kustomization.yaml:1:1: error: `namespace` is set by gitd (`shop-prod` "
		   "in environment prod); remove it [overlay-unsupported]\n"
		   "overlays/prod/kustomization.yaml:2:1: error: `bases` is not supported in gitd "
		   "overlays (supported: resources, patches, images, replicas, labels, annotations, "
		   "ConfigMap and Secret generators) [overlay-unsupported]\n"
		   "overlays/prod/kustomization.yaml:3:1: error: unknown field `patchs`; did you mean "
		   "`patches`? [overlay-unsupported]\n");
	ck_overlay("apiVersion: v1\nimages: {}\n", NULL, NULL,
		   "overlays/prod/kustomization.yaml:1:13: error: `apiVersion` must be "
		   "kustomize.config.k8s.io/v1beta1, not `v1` [overlay-type]\n"
		   "overlays/prod/kustomization.yaml:2:9: error: `images` must be a list, not a mapping "
		   "[overlay-type]\n");
}
END_TEST

START_TEST(test_overlay_dirs)
{
	ck_output(FILES("app.yaml", "image: nginx:1.27\n", "overlays/qa/kustomization.yaml", "{}\n",
			"overlays/prod/patch.yaml", "{}\n", "overlays/x.yaml", "{}\n"),
		  "overlays/prod: error: no kustomization.yaml in this overlay [overlay-file]\n"
		  "overlays/qa: error: unknown environment `qa`; expected one of: dev, staging, prod "
		  "[overlay-env]\n"
		  "overlays/x.yaml: warning: ignored: overlays/ holds one directory per environment "
		  "[overlay-file]\n");
	ck_output_cfg(FILES("app.yaml", "image: nginx:1.27\n", "overlays/prod/patch.yaml", "{}\n"),
		      NULL, "dev", "");
	ck_output(FILES("app.yaml", "image: nginx:1.27\n", "overlays/dev/kustomization.yaml", "- a\n"),
		  "overlays/dev/kustomization.yaml:1:1: error: a kustomization must be one YAML "
		  "mapping [overlay-type]\n");
}
END_TEST

START_TEST(test_overlay_resources)
{
	ck_overlay("resources: [extra.yaml, gone.yaml, 'git@github.com:a/b.git', ../../resources/web.yaml]\n",
		   "overlays/prod/extra.yaml", DEPLOY("web", "nginx:1.27") "---\n" DEPLOY("more", "nginx"),
		   "overlays/prod/extra.yaml:1:1: error: Deployment `web` is already defined at "
		   "resources/web.yaml:1 [resource-duplicate]\n"
		   "overlays/prod/extra.yaml:22:18: error: container `c` image `nginx` has no tag, so it "
		   "means `latest`: pin a version (`nginx:1.2.3`) or a digest [latest-tag]\n"
		   "overlays/prod/kustomization.yaml:1:25: error: `resources` entry `gone.yaml` does not "
		   "exist (looked for overlays/prod/gone.yaml) [overlay-file]\n"
		   "overlays/prod/kustomization.yaml:1:36: error: `resources` entry "
		   "`git@github.com:a/b.git` is remote; gitd overlays take only files in the repository "
		   "[overlay-unsupported]\n"
		   "overlays/prod/kustomization.yaml:1:62: error: `resources` entry "
		   "`../../resources/web.yaml` is in resources/, which every environment has already "
		   "[overlay-file]\n");
}
END_TEST

START_TEST(test_overlay_patch_targets)
{
	ck_overlay("patches:\n- path: p.yaml\n- {path: p.yaml, target: {kind: Deployment, name: 'w.*'}}\n"
		   "- {path: p.yaml, target: {labelSelector: 'tier=web'}}\n"
		   "- {path: p.yaml, target: {kind: ConfigMap, labelSelector: 'tier in (db)'}}\n"
		   "- {path: p.yaml, target: {name: '('}}\n",
		   "overlays/prod/p.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: wbe}\n",
		   "overlays/prod/kustomization.yaml:5:18: error: patch target ConfigMap (any name) "
		   "matches no object of environment prod [overlay-target]\n"
		   "overlays/prod/kustomization.yaml:6:33: error: `patches[4].target.name` is not a valid "
		   "regular expression [overlay-type]\n"
		   "overlays/prod/p.yaml:1:1: error: patch target Deployment `wbe` matches no object of "
		   "environment prod; did you mean `web`? [overlay-target]\n");
	/* The Deployment generated from app.yaml is a target too. */
	ck_overlay("patchesStrategicMerge:\n- |\n  apiVersion: apps/v1\n  kind: Deployment\n"
		   "  metadata: {name: shop}\n",
		   NULL, NULL, "");
}
END_TEST

START_TEST(test_overlay_json6902)
{
	ck_overlay("patches:\n- {path: ops.yaml, target: {kind: ConfigMap, name: cfg}}\n- path: ops.yaml\n"
		   "patchesJson6902:\n- {target: {version: v1, kind: ConfigMap, name: nope}, path: ops.yaml}\n",
		   "overlays/prod/ops.yaml",
		   "- {op: add, path: /data/a, value: b}\n- {op: move, path: /x}\n- {op: copy, from: /a}\n",
		   "overlays/prod/kustomization.yaml:5:4: error: patch target ConfigMap `nope` matches "
		   "no object of environment prod [overlay-target]\n"
		   "overlays/prod/ops.yaml:1:1: error: a JSON 6902 patch (a list of operations) needs a "
		   "`target` in the kustomization [overlay-patch]\n"
		   "overlays/prod/ops.yaml:2:3: error: JSON 6902 `move` needs a `from` path "
		   "[overlay-patch]\n"
		   "overlays/prod/ops.yaml:3:3: error: JSON 6902 operation 3 must be a mapping with `op` "
		   "and `path` [overlay-patch]\n");
}
END_TEST

START_TEST(test_overlay_generators_replicas)
{
	ck_overlay("configMapGenerator:\n- {name: cfg, behavior: merge, literals: [a=b]}\n"
		   "- {name: new, files: [x.conf]}\n"
		   "secretGenerator:\n- {name: s, envs: [s.env]}\n"
		   "replicas:\n- {name: web, count: 2}\n- {name: cfg, count: 1}\n"
		   "generatorOptions: {disableNameSuffixHash: true, labels: {}, foo: 1}\n",
		   "overlays/prod/x.conf", "a\n",
		   "overlays/prod/kustomization.yaml:5:3: error: secretGenerator `s` takes its values "
		   "from git as plain text: use a SealedSecret or an ExternalSecret instead "
		   "[plaintext-secret]\n"
		   "overlays/prod/kustomization.yaml:5:20: error: `secretGenerator[0]` entry `s.env` does "
		   "not exist (looked for overlays/prod/s.env) [overlay-file]\n"
		   "overlays/prod/kustomization.yaml:8:10: error: `replicas[1]` names `cfg`, but "
		   "environment prod has no Deployment, StatefulSet or ReplicaSet of that name "
		   "[overlay-target]\n"
		   "overlays/prod/kustomization.yaml:9:61: error: unknown key `foo` in "
		   "`generatorOptions`; expected one of: labels, annotations, disableNameSuffixHash, "
		   "immutable [overlay-unsupported]\n");
}
END_TEST

START_TEST(test_overlay_labels)
{
	ck_overlay("commonLabels: {'a b': x, ok: 'v!'}\ncommonAnnotations: {num: 1}\n"
		   "labels: [{pairs: {t: on}}, {includeSelectors: true}]\n",
		   NULL, NULL,
		   "overlays/prod/kustomization.yaml:1:16: error: label key `a b` must hold only "
		   "letters, digits, '-', '_' and '.' [resource-metadata]\n"
		   "overlays/prod/kustomization.yaml:1:30: error: label value `v!` must hold only "
		   "letters, digits, '-', '_' and '.' [resource-metadata]\n"
		   "overlays/prod/kustomization.yaml:2:26: error: `commonAnnotations.num` must be a "
		   "string: not an integer; quote it [resource-metadata]\n"
		   "overlays/prod/kustomization.yaml:3:22: error: `labels[0].pairs.t` must be a string: "
		   "`on` was read as the boolean true; quote it [resource-metadata]\n"
		   "overlays/prod/kustomization.yaml:3:28: error: `labels[1]` needs `pairs` "
		   "[overlay-type]\n");
}
END_TEST

/* ---- the whole ---- */

START_TEST(test_only_env_unknown)
{
	struct result r = run_full(FILES("app.yaml", "image: nginx:1.27\n"), NULL, "qa", 0);

	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.text, "error: unknown environment `qa`: the platform config defines no such "
				 "environment [environment]\n");
	free(r.text);
}
END_TEST

START_TEST(test_sorted_and_summary)
{
	struct result r = run_full(FILES("resources/b.yaml", "apiVersion: v1\nkind: ConfigMap\n",
					 "app.yaml", "image: nginx\nport: 0\n",
					 "resources/a.yaml", DEPLOY("a", "a:1") "      hostPID: true\n"),
				   NULL, NULL, 1);

	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.text,
			 "app.yaml:1:8: error: image `nginx` has no tag, so it means `latest`: pin a "
			 "version (`nginx:1.2.3`) or a digest [latest-tag]\n"
			 "app.yaml:2:7: error: `port` must be between 1 and 65535, not 0 [app-port]\n"
			 "resources/a.yaml:12:7: error: hostPID: true shares the node's namespace with "
			 "the pod; remove it [privileged]\n"
			 "resources/b.yaml:1:1: error: object has no `metadata.name` [resource-object]\n"
			 "4 errors in 3 files\n");
	free(r.text);
}
END_TEST

START_TEST(test_typical_app_is_fast)
{
	struct gitd_config *cfg = config_default();
	struct source *src = source_new_mem();
	struct strbuf path = STRBUF_INIT;
	int64_t start;

	source_mem_add(src, "app.yaml", "image: nginx:1.27\nport: 8080\n", 28);
	for (int i = 0; i < 15; i++) {
		char *doc = xstrfmt(DEPLOY("w%d", "nginx:1.27") "---\napiVersion: v1\nkind: Service\n"
				    "metadata: {name: s%d}\nspec: {ports: [{port: 80}]}\n", i, i);

		strbuf_reset(&path);
		strbuf_addf(&path, "resources/r%d.yaml", i);
		source_mem_add(src, path.buf, doc, strlen(doc));
		free(doc);
	}
	source_mem_add(src, "overlays/prod/kustomization.yaml",
		       "images: [{name: nginx, newTag: '1.28'}]\nreplicas: [{name: w1, count: 3}]\n", 73);
	start = now_ms();
	for (int i = 0; i < 10; i++) {
		struct diags *d = diags_new();

		ck_assert_int_eq(validate_app(d, src, cfg, "shop", NULL), 0);
		ck_assert_uint_eq(diags_nr(d), 0);
		diags_free(d);
	}
	/* Ten runs; generous for sanitizer builds, typically ~1 ms per run. */
	ck_assert_int_lt(now_ms() - start, 10 * 50);
	strbuf_release(&path);
	source_free(src);
	config_free(cfg);
}
END_TEST

START_TEST(test_summary_lines)
{
	struct diags *d = diags_new();
	struct validate_stats st = { 1, 1 };
	struct strbuf sb = STRBUF_INIT;

	validate_format_summary(&sb, d, &st);
	ck_assert_str_eq(sb.buf, "no problems in 1 file");
	diags_add(d, DIAG_WARNING, "a", 1, 1, "r", "w");
	strbuf_reset(&sb);
	validate_format_summary(&sb, d, &st);
	ck_assert_str_eq(sb.buf, "1 warning in 1 file");
	diags_add(d, DIAG_ERROR, "a", 1, 1, "r", "e");
	diags_add(d, DIAG_ERROR, "a", 2, 1, "r", "e");
	diags_add(d, DIAG_ERROR, "a", 2, 1, "r", "e"); /* the same problem once more: not counted */
	st.files = 3;
	strbuf_reset(&sb);
	validate_format_summary(&sb, d, &st);
	ck_assert_str_eq(sb.buf, "2 errors, 1 warning in 3 files");
	strbuf_release(&sb);
	diags_free(d);
}
END_TEST

/* A bare repository in a new temporary directory with one commit of app.yaml and resources/a.yaml. */
static char *make_repo(char *hex, size_t hexlen)
{
	char tmpl[] = "/tmp/test_validate.XXXXXX";
	char *path;
	git_repository *repo;
	git_treebuilder *root, *sub;
	git_signature *sig;
	git_tree *tree;
	git_oid blob, id, commit;
	const char *app = "image: nginx:1.27\nport: 0\n", *res = "apiVersion: v1\nkind: ConfigMap\n";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	path = xstrfmt("%s/shop.git", tmpl);
	ck_assert_int_eq(git_repository_init(&repo, path, 1), 0);
	ck_assert_int_eq(git_treebuilder_new(&sub, repo, NULL), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&blob, repo, res, strlen(res)), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, sub, "a.yaml", &blob, GIT_FILEMODE_BLOB), 0);
	ck_assert_int_eq(git_treebuilder_write(&id, sub), 0);
	ck_assert_int_eq(git_treebuilder_new(&root, repo, NULL), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, root, "resources", &id, GIT_FILEMODE_TREE), 0);
	ck_assert_int_eq(git_blob_create_from_buffer(&blob, repo, app, strlen(app)), 0);
	ck_assert_int_eq(git_treebuilder_insert(NULL, root, "app.yaml", &blob, GIT_FILEMODE_BLOB), 0);
	ck_assert_int_eq(git_treebuilder_write(&id, root), 0);
	ck_assert_int_eq(git_tree_lookup(&tree, repo, &id), 0);
	ck_assert_int_eq(git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
	ck_assert_int_eq(git_commit_create(&commit, repo, NULL, sig, sig, NULL, "c", tree, 0, NULL), 0);
	git_oid_tostr(hex, hexlen, &commit);
	git_signature_free(sig);
	git_tree_free(tree);
	git_treebuilder_free(root);
	git_treebuilder_free(sub);
	git_repository_free(repo);
	return path;
}

START_TEST(test_validate_commit)
{
	struct gitd_config *cfg = config_default();
	struct diags *d = diags_new();
	struct strbuf err = STRBUF_INIT;
	struct source *src = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	char *path, *dir;
	FILE *f;
	char *text = NULL;
	size_t len = 0;

	git_libgit2_init();
	path = make_repo(hex, sizeof(hex));
	ck_assert_int_eq(source_open_rev(&src, path, NULL, hex, &err), 0);
	ck_assert_int_eq(validate_app(d, src, cfg, "shop", NULL), -1);
	ck_assert_uint_eq(source_files_read(src), 2);
	ck_assert_int_eq(validate_is_app(src), 1);
	source_free(src);
	f = open_memstream(&text, &len);
	diags_print(d, f);
	fclose(f);
	ck_assert_str_eq(text, "app.yaml:2:7: error: `port` must be between 1 and 65535, not 0 [app-port]\n"
			       "resources/a.yaml:1:1: error: object has no `metadata.name` "
			       "[resource-object]\n");
	free(text);
	diags_free(d);
	ck_assert_int_eq(source_open_rev(&src, path, NULL, "0123456789abcdef0123456789abcdef01234567", &err), -1);
	ck_assert_ptr_null(src);
	strbuf_release(&err);
	/* Remove the temporary directory and the repository in it. */
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	ck_assert_int_eq(remove_tree(dir), 0);
	free(dir);
	free(path);
	config_free(cfg);
	git_libgit2_shutdown();
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

START_TEST(test_schemas)
{
	char dir[] = "/tmp/test_validate.XXXXXX";
	char *config, *sub, *expected;
	struct result r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_text(dir, "configmap-v1.json",
		   "{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
		   "\"apiVersion\": {}, \"kind\": {}, \"metadata\": {\"type\": \"object\"},"
		   "\"immutable\": {\"type\": \"boolean\"}}}");
	sub = xstrfmt("%s/example.com", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	write_text(sub, "widget_v1.json",
		   "{\"properties\": {\"apiVersion\": {}, \"kind\": {}, \"metadata\": {},"
		   " \"spec\": {\"$ref\": \"#/definitions/spec\"}},"
		   " \"definitions\": {\"spec\": {\"required\": [\"size\"]}}}");
	config = xstrfmt("schemas: %s\n", dir);
	r = run_full(FILES("resources/a.yaml",
			   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nimmutable: \"no\"\nbinary: {}\n"
			   "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n"
			   "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"),
		     config, NULL, 0);
	expected = xstrfmt("resources/a.yaml:4:12: error: `immutable` must be a boolean, not a string "
			   "[schema]\n"
			   "resources/a.yaml:5:1: error: `binary` is not a known field [schema]\n"
			   "resources/a.yaml:10:7: error: `spec` needs `size` [schema]\n"
			   "resources/a.yaml:13:7: warning: no schema for v1 Secret in %s (looked for "
			   "secret-v1.json): not checked [schema]\n", dir);
	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.text, expected);
	free(expected);
	free(r.text);
	free(config);
	config = xstrfmt("schemas: %s/nowhere\n", dir);
	r = run_full(FILES("resources/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
		     config, NULL, 0);
	ck_assert_int_eq(r.ret, 0);
	ck_assert_ptr_nonnull(strstr(r.text, "warning: no schema for v1 ConfigMap in "));
	free(r.text);
	ck_assert_int_eq(remove_tree(dir), 0);
	free(config);
	free(sub);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("validate");
	TCase *app = tcase_create("app"), *res = tcase_create("resources");
	TCase *pol = tcase_create("policy"), *ovl = tcase_create("overlays");
	TCase *all = tcase_create("whole");

	tcase_add_test(app, test_plain_hosting);
	tcase_add_test(app, test_minimal_app);
	tcase_add_test(app, test_app_unknown_keys);
	tcase_add_test(app, test_app_not_a_mapping);
	tcase_add_test(app, test_app_env_yaml11);
	tcase_add_test(app, test_app_numbers);
	tcase_add_test(app, test_app_quantities);
	tcase_add_test(app, test_app_name_health_host);
	tcase_add_test(app, test_app_port_needed);
	tcase_add_test(app, test_app_repo_name);
	tcase_add_test(app, test_app_build_image);
	tcase_add_test(app, test_app_environments);
	tcase_add_test(res, test_resource_identity);
	tcase_add_test(res, test_resource_names);
	tcase_add_test(res, test_resource_duplicates);
	tcase_add_test(res, test_resource_namespace);
	tcase_add_test(res, test_resource_labels_annotations);
	tcase_add_test(res, test_resource_kinds);
	tcase_add_test(res, test_resource_files);
	tcase_add_test(pol, test_policy_latest_tag);
	tcase_add_test(pol, test_policy_latest_tag_overlays);
	tcase_add_test(pol, test_policy_app_image);
	tcase_add_test(pol, test_policy_plaintext_secret);
	tcase_add_test(pol, test_policy_privileged);
	tcase_add_test(pol, test_policy_requests);
	tcase_add_test(ovl, test_overlay_fields);
	tcase_add_test(ovl, test_overlay_dirs);
	tcase_add_test(ovl, test_overlay_resources);
	tcase_add_test(ovl, test_overlay_patch_targets);
	tcase_add_test(ovl, test_overlay_json6902);
	tcase_add_test(ovl, test_overlay_generators_replicas);
	tcase_add_test(ovl, test_overlay_labels);
	tcase_add_test(all, test_only_env_unknown);
	tcase_add_test(all, test_sorted_and_summary);
	tcase_add_test(all, test_typical_app_is_fast);
	tcase_add_test(all, test_summary_lines);
	tcase_add_test(all, test_validate_commit);
	tcase_add_test(all, test_schemas);
	suite_add_tcase(s, app);
	suite_add_tcase(s, res);
	suite_add_tcase(s, pol);
	suite_add_tcase(s, ovl);
	suite_add_tcase(s, all);
	return unit_run(s);
}
