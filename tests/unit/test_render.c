/*
 * Rendering one environment: the deploy layout's exact file names and
 * bytes, the stream, which folder each object lands in through an overlay,
 * file name collisions, and the refusals.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../renderer/render.h"
#include "../../renderer/source.h"
#include "config.h"
#include "diag.h"
#include "strbuf.h"
#include "util.h"
#include "yamlemit.h"
#include "yamlload.h"
#include "unit.h"
#include "banned.h"

#define FILES(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct result {
	int ret;
	struct render_files rf;
	char *paths;  /* every path, one per line */
	char *diags;  /* the problems as printed */
	char *stream; /* render_env_stream()'s output */
};

static struct source *mem_source(const char *const *files)
{
	struct source *src = source_new_mem();

	for (size_t i = 0; files[i]; i += 2)
		source_mem_add(src, files[i], files[i + 1], strlen(files[i + 1]));
	return src;
}

static struct result render_files(const char *const *files, const char *env, const char *image)
{
	struct gitd_config *cfg = config_default();
	struct source *src = mem_source(files);
	struct render_opts o = { cfg, "shop", env, image };
	struct strbuf paths = STRBUF_INIT, text = STRBUF_INIT, stream = STRBUF_INIT;
	struct diags *d = diags_new(), *d2 = diags_new();
	struct result r = { 0, RENDER_FILES_INIT, NULL, NULL, NULL };

	r.ret = render_env(&r.rf, src, &o, d);
	for (size_t i = 0; i < r.rf.nr; i++)
		strbuf_addf(&paths, "%s\n", r.rf.v[i].path);
	diags_format(&text, d, "");
	ck_assert_int_eq(render_env_stream(&stream, src, &o, d2), r.ret);
	r.paths = strbuf_detach(&paths, NULL);
	r.diags = strbuf_detach(&text, NULL);
	r.stream = strbuf_detach(&stream, NULL);
	diags_free(d);
	diags_free(d2);
	source_free(src);
	config_free(cfg);
	return r;
}

static void result_release(struct result *r)
{
	render_files_release(&r->rf);
	free(r->paths);
	free(r->diags);
	free(r->stream);
}

static const char *file_data(const struct result *r, const char *path)
{
	const struct render_file *f = render_files_get(&r->rf, path);

	ck_assert_msg(f != NULL, "no file %s in:\n%s", path, r->paths);
	ck_assert_uint_eq(strlen(f->data), f->len);
	return f->data;
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

static const char app_yaml[] = "image: nginx:1.27\nport: 8080\nhost: shop.example.com\n";
static const char config_yaml[] =
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-config\ndata:\n  mode: quiet\n"
	"---\n"
	"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: shop\n";

START_TEST(test_layout)
{
	struct result r = render_files(FILES("app.yaml", app_yaml, "resources/config.yaml", config_yaml,
					     "resources/notes.txt", "ignored\n", "README.md", "hi\n"),
				       "dev", NULL);

	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.rf.app, "shop");
	ck_assert_str_eq(r.rf.env, "dev");
	ck_assert_str_eq(r.rf.ns, "shop-dev");
	ck_assert_str_eq(r.paths, "dev/shop/app/deployment-shop.yaml\n"
				  "dev/shop/app/ingress-shop.yaml\n"
				  "dev/shop/app/service-shop.yaml\n"
				  "dev/shop/kustomization.yaml\n"
				  "dev/shop/resources/configmap-shop-config.yaml\n"
				  "dev/shop/resources/serviceaccount-shop.yaml\n");
	ck_assert_str_eq(file_data(&r, "dev/shop/kustomization.yaml"),
			 "# Rendered by gitd: app shop, environment dev. Edits here are overwritten;\n"
			 "# change the app's repository instead.\n"
			 "apiVersion: kustomize.config.k8s.io/v1beta1\n"
			 "kind: Kustomization\n"
			 "resources:\n"
			 "- resources/serviceaccount-shop.yaml\n"
			 "- resources/configmap-shop-config.yaml\n"
			 "- app/service-shop.yaml\n"
			 "- app/deployment-shop.yaml\n"
			 "- app/ingress-shop.yaml\n");
	ck_assert_str_eq(file_data(&r, "dev/shop/resources/configmap-shop-config.yaml"),
			 "apiVersion: v1\ndata:\n  mode: quiet\nkind: ConfigMap\nmetadata:\n"
			 "  name: shop-config\n  namespace: shop-dev\n");
	ck_assert_str_eq(file_data(&r, "dev/shop/app/service-shop.yaml"),
			 "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n"
			 "    app.kubernetes.io/instance: shop-dev\n"
			 "    app.kubernetes.io/managed-by: gitd\n"
			 "    app.kubernetes.io/name: shop\n"
			 "  name: shop\n  namespace: shop-dev\nspec:\n  ports:\n  - name: http\n"
			 "    port: 80\n    protocol: TCP\n    targetPort: http\n  selector:\n"
			 "    app.kubernetes.io/instance: shop-dev\n    app.kubernetes.io/name: shop\n");
	ck_assert_str_eq(r.diags, "resources/notes.txt: warning: ignored: only .yaml and .yml files "
				  "in resources/ are deployed [resource-ignored]\n");
	result_release(&r);
}
END_TEST

/* The stream is the files' objects in kustomization.yaml's order: what kustomize prints. */
START_TEST(test_stream_is_the_files)
{
	struct result r = render_files(FILES("app.yaml", app_yaml, "resources/config.yaml", config_yaml),
				       "staging", NULL);
	struct strbuf joined = STRBUF_INIT;
	const char *k = file_data(&r, "staging/shop/kustomization.yaml");

	ck_assert_int_eq(r.ret, 0);
	for (const char *p = strstr(k, "\n- "); p; p = strstr(p + 1, "\n- ")) {
		char *path = xstrfmt("staging/shop/%.*s", (int)strcspn(p + 3, "\n"), p + 3);

		strbuf_addf(&joined, "%s%s", joined.len ? "---\n" : "", file_data(&r, path));
		free(path);
	}
	ck_same_text(r.stream, joined.buf);
	strbuf_release(&joined);
	result_release(&r);
}
END_TEST

START_TEST(test_deterministic)
{
	static const char *const *files;
	struct result a, b;

	files = FILES("app.yaml", "image: a:1\nenv: {Z: z, A: a, M: m}\n", "resources/config.yaml",
		      config_yaml, "overlays/prod/kustomization.yaml",
		      "configMapGenerator:\n- name: gen\n  literals: [x=1, a=2]\n");
	a = render_files(files, "prod", NULL);
	b = render_files(files, "prod", NULL);
	ck_assert_int_eq(a.ret, 0);
	ck_assert_str_eq(a.paths, b.paths);
	for (size_t i = 0; i < a.rf.nr; i++)
		ck_assert_str_eq(a.rf.v[i].data, b.rf.v[i].data);
	ck_assert_str_eq(a.stream, b.stream);
	result_release(&a);
	result_release(&b);
}
END_TEST

static const char overlay_yaml[] =
	"resources:\n- pdb.yaml\n"
	"configMapGenerator:\n- name: extra\n  literals: [a=b]\n"
	"patches:\n"
	"- target: {kind: Deployment, name: shop}\n"
	"  patch: |-\n"
	"    - op: replace\n      path: /metadata/name\n      value: shop-web\n"
	"- target: {kind: Service, name: shop}\n"
	"  patch: |-\n"
	"    - op: add\n      path: /metadata/annotations\n      value: {team: a}\n";
static const char pdb_yaml[] =
	"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: shop\n"
	"spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n"
	"      app.kubernetes.io/name: shop\n";

/*
 * Objects keep their folder through the overlay: renamed or with their
 * annotations replaced, generated ones stay in app/; what the overlay adds
 * goes to resources/.
 */
START_TEST(test_overlay_origin)
{
	struct result r = render_files(FILES("app.yaml", app_yaml, "resources/config.yaml", config_yaml,
					     "overlays/prod/kustomization.yaml", overlay_yaml,
					     "overlays/prod/pdb.yaml", pdb_yaml),
				       "prod", NULL);

	ck_assert_msg(r.ret == 0, "%s", r.diags);
	ck_assert_str_eq(r.paths, "prod/shop/app/deployment-shop-web.yaml\n"
				  "prod/shop/app/ingress-shop.yaml\n"
				  "prod/shop/app/service-shop.yaml\n"
				  "prod/shop/kustomization.yaml\n"
				  "prod/shop/resources/configmap-extra-4h2mbtbbt6.yaml\n"
				  "prod/shop/resources/configmap-shop-config.yaml\n"
				  "prod/shop/resources/poddisruptionbudget-shop.yaml\n"
				  "prod/shop/resources/serviceaccount-shop.yaml\n");
	ck_assert_ptr_nonnull(strstr(file_data(&r, "prod/shop/app/service-shop.yaml"),
				     "metadata:\n  annotations:\n    team: a\n  labels:\n"));
	ck_assert_ptr_null(strstr(r.stream, "gitd.internal"));
	ck_assert_ptr_nonnull(strstr(r.stream, "  name: shop-web\n  namespace: shop-prod\n"));
	result_release(&r);
}
END_TEST

/* The origin marker is gitd's: an app's own object cannot claim app/ with it. */
START_TEST(test_marker_reserved)
{
	struct result r = render_files(
		FILES("resources/cm.yaml",
		      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n"
		      "    gitd.internal/generated: app.yaml\n    keep: me\n"),
		"dev", NULL);

	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.paths, "dev/shop/kustomization.yaml\ndev/shop/resources/configmap-c.yaml\n");
	ck_assert_str_eq(file_data(&r, "dev/shop/resources/configmap-c.yaml"),
			 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    keep: me\n"
			 "  name: c\n  namespace: shop-dev\n");
	result_release(&r);
}
END_TEST

/* The validator and the renderer share the source's parsed files; rendering changes none. */
START_TEST(test_source_documents_untouched)
{
	static const char cm[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n"
				 "    gitd.internal/generated: app.yaml\n  name: c\n";
	static const char patch[] = "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n"
				    "  name: c\n";
	struct source *src = mem_source(FILES("resources/cm.yaml", cm,
					      "overlays/prod/kustomization.yaml",
					      "patches:\n- path: p.yaml\n",
					      "overlays/prod/p.yaml", patch));
	struct gitd_config *cfg = config_default();
	struct render_opts o = { cfg, "shop", "prod", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, yaml = STRBUF_INIT;
	struct diags *d = diags_new();
	const struct ydoc *doc;

	for (int i = 0; i < 2; i++) {
		strbuf_reset(&out);
		ck_assert_int_eq(render_env_stream(&out, src, &o, d), 0);
		ck_assert_str_eq(out.buf, "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\n"
					  "metadata:\n  name: c\n  namespace: shop-prod\n");
	}
	ck_assert_int_eq(source_load_yaml(&doc, src, "resources/cm.yaml", d, &err), 0);
	ck_assert_int_eq(yamlemit_doc(&yaml, ydoc_root(doc, 0)), 0);
	ck_assert_str_eq(yaml.buf, cm);
	ck_assert_int_eq(source_load_yaml(&doc, src, "overlays/prod/p.yaml", d, &err), 0);
	strbuf_reset(&yaml);
	ck_assert_int_eq(yamlemit_doc(&yaml, ydoc_root(doc, 0)), 0);
	ck_assert_str_eq(yaml.buf, patch);
	ck_assert_uint_eq(diags_nr(d), 0);
	diags_free(d);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&yaml);
	config_free(cfg);
	source_free(src);
}
END_TEST

#define CERT(group, name) \
	"apiVersion: " group "/v1\nkind: Certificate\nmetadata:\n  name: " name "\nspec: {}\n"
#define ROLE(name) "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: '" name "'\n"

START_TEST(test_file_name_collisions)
{
	struct result r = render_files(
		FILES("resources/x.yaml",
		      CERT("cert-manager.io", "web") "---\n" CERT("example.com", "web") "---\n"
		      CERT("example.com", "other") "---\n" ROLE("system:reader") "---\n"
		      ROLE("a:b") "---\n" ROLE("a_b") "---\n" ROLE("Reader") "---\n" ROLE("reader")),
		"dev", NULL);

	ck_assert_msg(r.ret == 0, "%s", r.diags);
	ck_assert_str_eq(r.paths, "dev/shop/kustomization.yaml\n"
				  "dev/shop/resources/certificate-other.yaml\n"
				  "dev/shop/resources/certificate.cert-manager.io-web.yaml\n"
				  "dev/shop/resources/certificate.example.com-web.yaml\n"
				  "dev/shop/resources/role-system_reader.yaml\n"
				  "dev/shop/resources/role.rbac.authorization.k8s.io-a_b-2.yaml\n"
				  "dev/shop/resources/role.rbac.authorization.k8s.io-a_b.yaml\n"
				  "dev/shop/resources/role.rbac.authorization.k8s.io-reader-2.yaml\n"
				  "dev/shop/resources/role.rbac.authorization.k8s.io-reader.yaml\n");
	ck_assert_ptr_nonnull(strstr(file_data(&r, "dev/shop/resources/role.rbac.authorization.k8s.io-reader.yaml"),
				     "  name: Reader\n"));
	ck_assert_ptr_nonnull(strstr(file_data(&r, "dev/shop/resources/role.rbac.authorization.k8s.io-a_b.yaml"),
				     "  name: a:b\n"));
	result_release(&r);
}
END_TEST

START_TEST(test_no_image_built)
{
	static const char *const *files;
	struct result r;

	files = FILES("app.yaml", "port: 8080\nbuild: Dockerfile\n", "Dockerfile", "FROM scratch\n");
	r = render_files(files, "dev", NULL);
	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.paths, "");
	ck_assert_str_eq(r.diags, "app.yaml:2:1: error: no image built yet: app.yaml builds "
				  "`Dockerfile`, and environment dev needs the image that build "
				  "pushed [render-no-image]\n");
	ck_assert_str_eq(r.stream, "");
	result_release(&r);
	r = render_files(files, "dev", "127.0.0.1:5000/shop@sha256:00ff");
	ck_assert_int_eq(r.ret, 0);
	ck_assert_ptr_nonnull(strstr(r.stream, "      - image: 127.0.0.1:5000/shop@sha256:00ff\n"));
	result_release(&r);
}
END_TEST

/* Rendering validates first, with the validator's own messages. */
START_TEST(test_invalid_app_refused)
{
	struct result r = render_files(FILES("app.yaml", "image: nginx:1.27\nreplica: 2\n"), "dev",
				       NULL);

	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.paths, "");
	ck_assert_str_eq(r.diags, "app.yaml:2:1: error: unknown key `replica`; did you mean "
				  "`replicas`? [app-unknown-key]\n");
	result_release(&r);
	r = render_files(FILES("app.yaml", "image: nginx:1.27\n"), "qa", NULL);
	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.diags, "error: unknown environment `qa`: the platform config defines no "
				  "such environment [environment]\n");
	result_release(&r);
}
END_TEST

START_TEST(test_plain_hosting)
{
	struct result r = render_files(FILES("README.md", "hi\n"), "dev", NULL);

	ck_assert_int_eq(r.ret, -1);
	ck_assert_str_eq(r.diags, "error: nothing to render: no app.yaml or resources/ (plain git "
				  "hosting) [render-not-app]\n");
	result_release(&r);
}
END_TEST

/* Without app.yaml the app is named after its repo and app/ stays empty. */
START_TEST(test_resources_only)
{
	struct result r = render_files(FILES("resources/config.yaml", config_yaml), "prod", NULL);

	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.paths, "prod/shop/kustomization.yaml\n"
				  "prod/shop/resources/configmap-shop-config.yaml\n"
				  "prod/shop/resources/serviceaccount-shop.yaml\n");
	ck_assert_str_eq(r.stream, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: shop\n"
				   "  namespace: shop-prod\n---\napiVersion: v1\ndata:\n  mode: quiet\n"
				   "kind: ConfigMap\nmetadata:\n  name: shop-config\n"
				   "  namespace: shop-prod\n");
	result_release(&r);
}
END_TEST

/* app.yaml's name names the folder, the objects and the namespace. */
START_TEST(test_app_name)
{
	struct result r = render_files(FILES("app.yaml", "name: store\nimage: a:1\n"), "dev", NULL);

	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.paths, "dev/store/app/deployment-store.yaml\ndev/store/kustomization.yaml\n");
	ck_assert_ptr_nonnull(strstr(r.stream, "  name: store\n  namespace: store-dev\n"));
	result_release(&r);
}
END_TEST

/* .yml files count, and the overlay may be kustomization.yml; other files are not objects. */
START_TEST(test_file_kinds)
{
	struct result r = render_files(FILES("resources/a.yml", config_yaml, "resources/.hidden.yaml",
					     "junk: [\n", "overlays/dev/kustomization.yml",
					     "commonLabels: {team: a}\n"),
				       "dev", NULL);

	ck_assert_msg(r.ret == 0, "%s", r.diags);
	ck_assert_str_eq(r.paths, "dev/shop/kustomization.yaml\n"
				  "dev/shop/resources/configmap-shop-config.yaml\n"
				  "dev/shop/resources/serviceaccount-shop.yaml\n");
	ck_assert_ptr_nonnull(strstr(r.stream, "  labels:\n    team: a\n  name: shop-config\n"));
	result_release(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_stream_is_the_files);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_overlay_origin);
	tcase_add_test(tc, test_marker_reserved);
	tcase_add_test(tc, test_file_name_collisions);
	tcase_add_test(tc, test_no_image_built);
	tcase_add_test(tc, test_invalid_app_refused);
	tcase_add_test(tc, test_plain_hosting);
	tcase_add_test(tc, test_resources_only);
	tcase_add_test(tc, test_app_name);
	tcase_add_test(tc, test_file_kinds);
	tcase_add_test(tc, test_source_documents_untouched);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
