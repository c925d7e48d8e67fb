/*
 * Generation from app.yaml: the exact objects, per-environment overrides,
 * the image of apps that build, and the refusals.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../renderer/generate.h"
#include "diag.h"
#include "strbuf.h"
#include "util.h"
#include "yamlemit.h"
#include "yamlload.h"
#include "unit.h"
#include "banned.h"

struct gen {
	int ret;
	char *yaml; /* the objects as a YAML stream, or the error */
};

static json_t *parse(const char *text)
{
	struct diags *d = diags_new();
	struct ydoc *doc = NULL;
	json_t *root;

	ck_assert_int_eq(ydoc_load(&doc, "app.yaml", text, strlen(text), NULL, d), 0);
	root = json_incref(ydoc_root(doc, 0));
	ydoc_free(doc);
	diags_free(d);
	return root;
}

static struct gen gen_env(const char *app_yaml, const char *env, const char *built)
{
	json_t *app = parse(app_yaml);
	char *instance = xstrfmt("shop-%s", env);
	struct generate_in in = { app, "shop", env, instance, built };
	struct strbuf out = STRBUF_INIT;
	struct gen g;
	json_t *objs = NULL;

	g.ret = generate_objects(&objs, &in, &out);
	if (g.ret == 0) {
		const json_t *docs[8];

		ck_assert_uint_le(json_array_size(objs), 8);
		for (size_t i = 0; i < json_array_size(objs); i++)
			docs[i] = json_array_get(objs, i);
		ck_assert_int_eq(yamlemit_stream(&out, docs, json_array_size(objs)), 0);
	} else {
		ck_assert_ptr_null(objs);
	}
	g.yaml = strbuf_detach(&out, NULL);
	json_decref(objs);
	json_decref(app);
	free(instance);
	return g;
}

/* Long texts: name the first line that differs rather than print both whole. */
static void ck_same_text(const char *got, const char *want)
{
	size_t line = 1, i = 0;

	while (got[i] && got[i] == want[i])
		line += got[i++] == '\n';
	while (i && got[i - 1] != '\n')
		i--;
	ck_assert_msg(strcmp(got, want) == 0, "line %zu differs: got `%.*s`, want `%.*s`", line,
		      (int)strcspn(got + i, "\n"), got + i, (int)strcspn(want + i, "\n"), want + i);
}

#define ck_gen(app_yaml, env, built, expected)              \
	do {                                                \
		struct gen g_ = gen_env(app_yaml, env, built); \
		ck_assert_int_eq(g_.ret, 0);                \
		ck_same_text(g_.yaml, expected);            \
		free(g_.yaml);                              \
	} while (0)

#define ck_gen_fails(app_yaml, env, built, code, message)   \
	do {                                                \
		struct gen g_ = gen_env(app_yaml, env, built); \
		ck_assert_int_eq(g_.ret, code);             \
		ck_assert_str_eq(g_.yaml, message);         \
		free(g_.yaml);                              \
	} while (0)

#define LABELS(indent)                                      \
	indent "app.kubernetes.io/instance: shop-dev\n"     \
	indent "app.kubernetes.io/managed-by: gitd\n"       \
	indent "app.kubernetes.io/name: shop\n"

#define SECURITY                                            \
	"        securityContext:\n"                        \
	"          allowPrivilegeEscalation: false\n"       \
	"          capabilities:\n"                         \
	"            drop:\n"                               \
	"            - ALL\n"                               \
	"      securityContext:\n"                          \
	"        runAsNonRoot: true\n"                      \
	"        seccompProfile:\n"                         \
	"          type: RuntimeDefault\n"

START_TEST(test_minimal)
{
	ck_gen("image: nginx:1.27\n", "dev", NULL,
	       "apiVersion: apps/v1\n"
	       "kind: Deployment\n"
	       "metadata:\n"
	       "  labels:\n" LABELS("    ")
	       "  name: shop\n"
	       "spec:\n"
	       "  selector:\n"
	       "    matchLabels:\n"
	       "      app.kubernetes.io/instance: shop-dev\n"
	       "      app.kubernetes.io/name: shop\n"
	       "  template:\n"
	       "    metadata:\n"
	       "      labels:\n" LABELS("        ")
	       "    spec:\n"
	       "      containers:\n"
	       "      - image: nginx:1.27\n"
	       "        name: shop\n" SECURITY);
}
END_TEST

static const char full_app[] =
	"name: shop\n"
	"image: nginx:1.27\n"
	"port: 8080\n"
	"replicas: 2\n"
	"env:\n"
	"  LOG_LEVEL: info\n"
	"  A_FIRST: \"1\"\n"
	"cpu: 250m\n"
	"memory: 256Mi\n"
	"health: /healthz\n"
	"host: shop.example.com\n"
	"environments:\n"
	"  prod:\n"
	"    replicas: 3\n"
	"    cpu: 1\n"
	"    memory: 0.5Gi\n"
	"    env: { LOG_LEVEL: warn, EXTRA: x }\n"
	"    host: shop.example.org\n";

START_TEST(test_full)
{
	ck_gen(full_app, "dev", NULL,
	       "apiVersion: apps/v1\n"
	       "kind: Deployment\n"
	       "metadata:\n"
	       "  labels:\n" LABELS("    ")
	       "  name: shop\n"
	       "spec:\n"
	       "  replicas: 2\n"
	       "  selector:\n"
	       "    matchLabels:\n"
	       "      app.kubernetes.io/instance: shop-dev\n"
	       "      app.kubernetes.io/name: shop\n"
	       "  template:\n"
	       "    metadata:\n"
	       "      labels:\n" LABELS("        ")
	       "    spec:\n"
	       "      containers:\n"
	       "      - env:\n"
	       "        - name: LOG_LEVEL\n"
	       "          value: info\n"
	       "        - name: A_FIRST\n"
	       "          value: \"1\"\n"
	       "        image: nginx:1.27\n"
	       "        livenessProbe:\n"
	       "          httpGet:\n"
	       "            path: /healthz\n"
	       "            port: http\n"
	       "        name: shop\n"
	       "        ports:\n"
	       "        - containerPort: 8080\n"
	       "          name: http\n"
	       "          protocol: TCP\n"
	       "        readinessProbe:\n"
	       "          httpGet:\n"
	       "            path: /healthz\n"
	       "            port: http\n"
	       "        resources:\n"
	       "          limits:\n"
	       "            cpu: 250m\n"
	       "            memory: 256Mi\n"
	       "          requests:\n"
	       "            cpu: 250m\n"
	       "            memory: 256Mi\n" SECURITY
	       "---\n"
	       "apiVersion: v1\n"
	       "kind: Service\n"
	       "metadata:\n"
	       "  labels:\n" LABELS("    ")
	       "  name: shop\n"
	       "spec:\n"
	       "  ports:\n"
	       "  - name: http\n"
	       "    port: 80\n"
	       "    protocol: TCP\n"
	       "    targetPort: http\n"
	       "  selector:\n"
	       "    app.kubernetes.io/instance: shop-dev\n"
	       "    app.kubernetes.io/name: shop\n"
	       "---\n"
	       "apiVersion: networking.k8s.io/v1\n"
	       "kind: Ingress\n"
	       "metadata:\n"
	       "  labels:\n" LABELS("    ")
	       "  name: shop\n"
	       "spec:\n"
	       "  rules:\n"
	       "  - host: shop.example.com\n"
	       "    http:\n"
	       "      paths:\n"
	       "      - backend:\n"
	       "          service:\n"
	       "            name: shop\n"
	       "            port:\n"
	       "              name: http\n"
	       "        path: /\n"
	       "        pathType: Prefix\n");
}
END_TEST

/* Overrides replace keys; env merges name by name, keeping the order of names already set. */
START_TEST(test_environment_overrides)
{
	json_t *app = parse(full_app);
	json_t *s = generate_settings(app, "prod");
	char *dump = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);

	ck_assert_str_eq(dump, "{\"name\":\"shop\",\"image\":\"nginx:1.27\",\"port\":8080,"
			       "\"replicas\":3,\"env\":{\"LOG_LEVEL\":\"warn\",\"A_FIRST\":\"1\","
			       "\"EXTRA\":\"x\"},\"cpu\":1,\"memory\":\"0.5Gi\",\"health\":\"/healthz\","
			       "\"host\":\"shop.example.org\"}");
	free(dump);
	json_decref(s);
	/* an environment without overrides gets the top level, without `environments` */
	s = generate_settings(app, "staging");
	ck_assert_ptr_null(json_object_get(s, "environments"));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "replicas")), 2);
	json_decref(s);
	json_decref(app);
}
END_TEST

/* Quantities given as numbers come out as the strings Kubernetes prints. */
START_TEST(test_quantities_as_numbers)
{
	struct gen g = gen_env(full_app, "prod", NULL);

	ck_assert_int_eq(g.ret, 0);
	ck_assert_ptr_nonnull(strstr(g.yaml, "          limits:\n"
					     "            cpu: \"1\"\n"
					     "            memory: 0.5Gi\n"
					     "          requests:\n"
					     "            cpu: \"1\"\n"
					     "            memory: 0.5Gi\n"));
	ck_assert_ptr_nonnull(strstr(g.yaml, "  replicas: 3\n"));
	ck_assert_ptr_nonnull(strstr(g.yaml, "  - host: shop.example.org\n"));
	ck_assert_ptr_nonnull(strstr(g.yaml, "        - name: LOG_LEVEL\n          value: warn\n"
					     "        - name: A_FIRST\n          value: \"1\"\n"
					     "        - name: EXTRA\n          value: x\n"));
	free(g.yaml);
	g = gen_env("image: a:1\ncpu: 0.25\nmemory: 268435456\n", "dev", NULL);
	ck_assert_ptr_nonnull(strstr(g.yaml, "            cpu: \"0.25\"\n"
					     "            memory: \"268435456\"\n"));
	free(g.yaml);
}
END_TEST

START_TEST(test_build_image)
{
	static const char app[] = "build: Dockerfile\nenvironments:\n  prod: {image: 'nginx:1.27'}\n";
	struct gen g;

	ck_gen_fails(app, "dev", NULL, GENERATE_NO_IMAGE,
		     "no image built yet: app.yaml builds `Dockerfile`, and environment dev needs "
		     "the image that build pushed");
	ck_gen_fails(app, "dev", "", GENERATE_NO_IMAGE,
		     "no image built yet: app.yaml builds `Dockerfile`, and environment dev needs "
		     "the image that build pushed");
	g = gen_env(app, "dev", "127.0.0.1:5000/shop@sha256:0123");
	ck_assert_int_eq(g.ret, 0);
	ck_assert_ptr_nonnull(strstr(g.yaml, "      - image: 127.0.0.1:5000/shop@sha256:0123\n"));
	free(g.yaml);
	/* prod runs an image: the built one is not used */
	g = gen_env(app, "prod", "127.0.0.1:5000/shop@sha256:0123");
	ck_assert_int_eq(g.ret, 0);
	ck_assert_ptr_nonnull(strstr(g.yaml, "      - image: nginx:1.27\n"));
	free(g.yaml);
}
END_TEST

START_TEST(test_build_file)
{
	json_t *app = parse("image: a:1\nenvironments:\n  dev: {build: docker/Dockerfile}\n"
			    "  prod: {replicas: 2}\n");

	ck_assert_str_eq(generate_build_file(app, "dev"), "docker/Dockerfile");
	ck_assert_ptr_null(generate_build_file(app, "prod"));
	ck_assert_ptr_null(generate_build_file(app, "staging"));
	json_decref(app);
	app = parse("build: Dockerfile\nenvironments:\n  prod: {image: 'a:1'}\n");
	ck_assert_str_eq(generate_build_file(app, "dev"), "Dockerfile");
	ck_assert_ptr_null(generate_build_file(app, "prod"));
	json_decref(app);
}
END_TEST

/* What validation refuses is refused here too, never rendered half-right. */
START_TEST(test_refusals)
{
	ck_gen_fails("image: a:1\nhealth: /h\n", "dev", NULL, -1,
		     "app.yaml: `health` needs `port`: the probes connect to it");
	ck_gen_fails("image: a:1\nhost: a.example.com\n", "dev", NULL, -1,
		     "app.yaml: `host` needs `port`: the Ingress sends traffic to it");
	ck_gen_fails("image: a:1\nport: '80'\n", "dev", NULL, -1,
		     "app.yaml: `port` must be a whole number from 1 to 65535");
	ck_gen_fails("image: a:1\nreplicas: -1\n", "dev", NULL, -1,
		     "app.yaml: `replicas` must be a whole number from 0 to 2147483647");
	ck_gen_fails("image: a:1\nenv: {A: 1}\n", "dev", NULL, -1,
		     "app.yaml: `env.A` must be a string");
	ck_gen_fails("image: a:1\nenv: [A]\n", "dev", NULL, -1,
		     "app.yaml: `env` must be a mapping of names to strings");
	ck_gen_fails("image: [a]\n", "dev", NULL, -1, "app.yaml: `image` must be a string");
	ck_gen_fails("cpu: {a: 1}\nimage: a:1\n", "dev", NULL, -1,
		     "app.yaml: `cpu` must be a quantity");
	ck_gen_fails("port: 80\n", "dev", NULL, -1, "app.yaml sets neither `image` nor `build`");
	ck_gen_fails("- a\n", "dev", NULL, -1, "app.yaml must be a mapping");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("generate");
	TCase *tc = tcase_create("generate");

	tcase_add_test(tc, test_minimal);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_environment_overrides);
	tcase_add_test(tc, test_quantities_as_numbers);
	tcase_add_test(tc, test_build_image);
	tcase_add_test(tc, test_build_file);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
