/*
 * The overlay engine.
 *
 * agreement: every case under tests/kustomize/ is rendered by
 * overlay_apply() and yamlemit, and must equal byte for byte the
 * expected.yaml that `kubectl kustomize CASE/overlay` printed (see
 * tests/kustomize/regen.sh). The case's overlay is written for kustomize,
 * so the test reads it as gitd does: the `../base` entry of `resources` is
 * the app itself and `namespace:` is the namespace gitd sets.
 *
 * The other tests pin single behaviours and every error message.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "../../renderer/overlay.h"
#include "../../renderer/overlay_select.h"
#include "diag.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "yamlemit.h"
#include "yamlload.h"
#include "unit.h"
#include "banned.h"

#define CASES "tests/kustomize"

/* ---- reading case directories ---- */

static int read_in_dir(struct strbuf *out, const char *path, void *payload)
{
	char *full = xstrfmt("%s/%s", (const char *)payload, path);
	struct stat st;
	int ret;

	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
		free(full);
		errno = EISDIR;
		return -1;
	}
	ret = strbuf_read_file(out, full);
	free(full);
	return ret;
}

static struct ydoc *load_yaml_file(const char *path, struct diags *d)
{
	struct strbuf buf = STRBUF_INIT;
	struct ydoc *doc = NULL;

	if (strbuf_read_file(&buf, path) < 0)
		ck_abort_msg("cannot read %s: %s", path, strerror(errno));
	ydoc_load(&doc, path, buf.buf, buf.len, NULL, d);
	strbuf_release(&buf);
	return doc;
}

/* The app's objects: every document of every file base/kustomization.yaml lists. */
static json_t *load_base(const char *dir, struct diags *d)
{
	char *kpath = xstrfmt("%s/kustomization.yaml", dir);
	struct ydoc *k = load_yaml_file(kpath, d);
	json_t *objects = json_array(), *res;
	size_t i;

	ck_assert_msg(k != NULL, "%s does not load", kpath);
	res = json_object_get(ydoc_root(k, 0), "resources");
	for (i = 0; i < json_array_size(res); i++) {
		char *path = xstrfmt("%s/%s", dir, json_string_value(json_array_get(res, i)));
		struct ydoc *doc = load_yaml_file(path, d);

		ck_assert_msg(doc != NULL, "%s does not load", path);
		for (size_t j = 0; j < ydoc_count(doc); j++)
			json_array_append_new(objects, json_deep_copy(ydoc_root(doc, j)));
		ydoc_free(doc);
		free(path);
	}
	ydoc_free(k);
	free(kpath);
	return objects;
}

/* Drop what the app and gitd provide from a kustomize overlay: ../base and namespace. */
static char *as_gitd_overlay(json_t *k)
{
	json_t *res = json_object_get(k, "resources");
	const char *ns = json_string_value(json_object_get(k, "namespace"));
	char *namespace_ = ns ? xstrdup(ns) : NULL;

	for (size_t i = 0; i < json_array_size(res); i++)
		if (json_is_string(json_array_get(res, i)) &&
		    !strcmp(json_string_value(json_array_get(res, i)), "../base"))
			json_array_remove(res, i--);
	if (res && !json_array_size(res))
		json_object_del(k, "resources");
	json_object_del(k, "namespace");
	return namespace_;
}

/* Render CASES/name with gitd into out; 0, or -1 with the diagnostics in out. */
static int render_case(struct strbuf *out, const char *name)
{
	char *base_dir = xstrfmt(CASES "/%s/base", name), *ov_dir = xstrfmt(CASES "/%s/overlay", name);
	char *kfile = xstrfmt("%s/kustomization.yaml", ov_dir);
	struct diags *d = diags_new();
	struct ydoc *kdoc = load_yaml_file(kfile, d);
	json_t *base = load_base(base_dir, d), *objects = NULL;
	char *ns = as_gitd_overlay(ydoc_root(kdoc, 0));
	struct overlay ov = { ydoc_root(kdoc, 0), kdoc, kfile, ov_dir, read_in_dir, ov_dir, NULL };
	int ret = overlay_apply(&objects, base, &ov, ns, d);

	if (ret == 0) {
		const json_t **docs = xcalloc(json_array_size(objects) + 1, sizeof(*docs));

		for (size_t i = 0; i < json_array_size(objects); i++)
			docs[i] = json_array_get(objects, i);
		ck_assert_int_eq(yamlemit_stream(out, docs, json_array_size(objects)), 0);
		free(docs);
	} else {
		for (size_t i = 0; i < diags_nr(d); i++) {
			const struct diag *e = diags_get(d, i);

			strbuf_addf(out, "%s:%u:%u: %s [%s]\n", e->file, e->line, e->col, e->message,
				    e->rule);
		}
	}
	json_decref(objects);
	json_decref(base);
	ydoc_free(kdoc);
	diags_free(d);
	free(ns);
	free(kfile);
	free(base_dir);
	free(ov_dir);
	return ret;
}

/* The first line where a and b differ, for the failure message. */
static char *first_difference(const char *a, const char *b)
{
	size_t line = 1, i = 0;
	const char *ea, *eb;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			line++;
		i++;
	}
	while (i && a[i - 1] != '\n')
		i--;
	ea = strchr(a + i, '\n');
	eb = strchr(b + i, '\n');
	return xstrfmt("line %zu:\n  gitd:      %.*s\n  kustomize: %.*s", line,
		       (int)(ea ? ea - (a + i) : (long)strlen(a + i)), a + i,
		       (int)(eb ? eb - (b + i) : (long)strlen(b + i)), b + i);
}


/* ---- single behaviours, on files held in memory ---- */

/* path -> content pairs, NULL-terminated, for read_memory(). */
static int read_memory(struct strbuf *out, const char *path, void *payload)
{
	const char *const *files = payload;

	while (starts_with(path, "./"))
		path += 2;
	for (size_t i = 0; files && files[i]; i += 2) {
		if (!strcmp(files[i], path)) {
			strbuf_addstr(out, files[i + 1]);
			return 0;
		}
		if (starts_with(files[i], path) && files[i][strlen(path)] == '/') {
			errno = EISDIR;
			return -1;
		}
	}
	errno = ENOENT;
	return -1;
}

struct run {
	struct diags *d;
	json_t *out;
	struct strbuf yaml;   /* the output as kustomize would print it */
	struct strbuf report; /* every diag as "file:line:col: severity: message [rule]" */
	int ret;
};

/* Apply kustomization (YAML) to base (YAML documents) with files; ns as gitd's namespace. */
static void run_overlay(struct run *r, const char *kustomization, const char *base,
			const char *const *files, const char *ns)
{
	struct diags *load = diags_new();
	struct ydoc *kdoc = NULL, *bdoc = NULL;
	json_t *objects = json_array();
	struct overlay ov = { NULL, NULL, "overlays/prod/kustomization.yaml", "overlays/prod",
			      read_memory, (void *)files, NULL };

	memset(r, 0, sizeof(*r));
	r->d = diags_new();
	strbuf_init(&r->yaml, 0);
	strbuf_init(&r->report, 0);
	ck_assert_int_eq(ydoc_load(&kdoc, ov.file, kustomization, strlen(kustomization), NULL, load), 0);
	ck_assert_int_eq(ydoc_load(&bdoc, "app", base, strlen(base), NULL, load), 0);
	for (size_t i = 0; i < ydoc_count(bdoc); i++)
		json_array_append(objects, ydoc_root(bdoc, i));
	ov.kustomization = ydoc_count(kdoc) ? ydoc_root(kdoc, 0) : NULL;
	ov.doc = kdoc;
	r->ret = overlay_apply(&r->out, objects, &ov, ns, r->d);
	if (r->out) {
		const json_t **docs = xcalloc(json_array_size(r->out) + 1, sizeof(*docs));

		for (size_t i = 0; i < json_array_size(r->out); i++)
			docs[i] = json_array_get(r->out, i);
		ck_assert_int_eq(yamlemit_stream(&r->yaml, docs, json_array_size(r->out)), 0);
		free(docs);
	}
	for (size_t i = 0; i < diags_nr(r->d); i++) {
		const struct diag *e = diags_get(r->d, i);

		strbuf_addf(&r->report, "%s:%u:%u: %s: %s [%s]\n", e->file, e->line, e->col,
			    e->severity == DIAG_ERROR ? "error" : "warning", e->message, e->rule);
	}
	json_decref(objects);
	ydoc_free(kdoc);
	ydoc_free(bdoc);
	diags_free(load);
}

static void run_release(struct run *r)
{
	json_decref(r->out);
	diags_free(r->d);
	strbuf_release(&r->yaml);
	strbuf_release(&r->report);
}

/* The overlay must fail with exactly this report. */
static void check_refused(const char *kustomization, const char *base, const char *const *files,
			  const char *report)
{
	struct run r;

	run_overlay(&r, kustomization, base, files, "shop-prod");
	ck_assert_int_eq(r.ret, -1);
	ck_assert_ptr_null(r.out);
	ck_assert_str_eq(r.report.buf, report);
	run_release(&r);
}

/* The overlay must succeed and print exactly yaml, with this report (warnings). */
static void check_output(const char *kustomization, const char *base, const char *const *files,
			 const char *yaml, const char *report)
{
	struct run r;

	run_overlay(&r, kustomization, base, files, "shop-prod");
	ck_assert_msg(r.ret == 0, "refused:\n%s", r.report.buf);
	ck_assert_str_eq(r.yaml.buf, yaml);
	ck_assert_str_eq(r.report.buf, report);
	run_release(&r);
}

#define DEPLOYMENT                                                                        \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n" \
	"    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n"
#define CM "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: \"1\"\n"

START_TEST(unsupported_fields_are_errors)
{
	check_refused("namePrefix: p-\nnamespace: x\nvars: []\nbogus: 1\nkind: Component\n",
		      DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:1:1: error: `namePrefix` is not supported in "
		      "gitd overlays [overlay-unsupported]\n"
		      "overlays/prod/kustomization.yaml:2:1: error: `namespace` is set by gitd for each "
		      "environment; remove it [overlay-unsupported]\n"
		      "overlays/prod/kustomization.yaml:3:1: error: `vars` is not supported in gitd "
		      "overlays [overlay-unsupported]\n"
		      "overlays/prod/kustomization.yaml:4:1: error: unknown kustomization field `bogus` "
		      "[overlay-unsupported]\n"
		      "overlays/prod/kustomization.yaml:5:7: error: kustomize components are not "
		      "supported; an overlay is a Kustomization [overlay-unsupported]\n");
}
END_TEST

START_TEST(resource_files)
{
	static const char *const files[] = { "extra.yaml", CM, "dir/x.yaml", "", NULL };

	check_refused("resources:\n- missing.yaml\n- dir\n", DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:3: error: cannot read "
		      "overlays/prod/missing.yaml: No such file or directory [overlay-file]\n"
		      "overlays/prod/kustomization.yaml:3:3: error: `dir` is a directory; gitd overlays "
		      "take files (the app is the base already) [overlay-file]\n");
	check_refused("resources:\n- extra.yaml\n", CM, files,
		      "overlays/prod/extra.yaml:1:1: error: ConfigMap/plain is defined twice; "
		      "kustomize refuses a second object with the same kind, name and namespace "
		      "[overlay-conflict]\n");
	check_output("resources: [./extra.yaml]\n", DEPLOYMENT, files,
		     "apiVersion: v1\ndata:\n  a: \"1\"\nkind: ConfigMap\nmetadata:\n  name: plain\n"
		     "  namespace: shop-prod\n---\n" "apiVersion: apps/v1\nkind: Deployment\n"
		     "metadata:\n  name: web\n  namespace: shop-prod\nspec:\n  template:\n    spec:\n"
		     "      containers:\n      - image: nginx:1.25\n        name: app\n", "");
}
END_TEST

START_TEST(patch_errors)
{
	static const char *const files[] = {
		"v1beta1.yaml",
		"apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n",
		"ops.yaml", "- op: remove\n  path: /spec/nothing\n",
		"noname.yaml", "apiVersion: apps/v1\nkind: Deployment\nspec: {}\n",
		NULL,
	};

	check_refused("patches:\n- path: v1beta1.yaml\n", DEPLOYMENT, files,
		      "overlays/prod/v1beta1.yaml:1:1: error: no object matches this patch "
		      "(Deployment/web, apiVersion apps/v1beta1): apiVersion, kind, name and namespace "
		      "must all match [overlay-target]\n");
	check_refused("patches:\n- path: ops.yaml\n", DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:3: error: a JSON 6902 patch needs a "
		      "`target` [overlay-patch]\n");
	check_refused("patches:\n- path: ops.yaml\n  target: {kind: Deployment}\n", DEPLOYMENT, files,
		      "overlays/prod/ops.yaml:1:1: error: cannot patch Deployment/web: operation 1 "
		      "(remove /spec/nothing): there is no member \"nothing\" to remove "
		      "[overlay-patch]\n");
	check_refused("patches:\n- path: noname.yaml\n", DEPLOYMENT, files,
		      "overlays/prod/noname.yaml:1:1: error: a patch is either a list of JSON 6902 "
		      "operations or a strategic merge patch with `kind` and `metadata.name` "
		      "[overlay-patch]\n");
	check_refused("patches:\n- path: ops.yaml\n  patch: '[]'\n", DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:3: error: a `patches` entry needs exactly "
		      "one of `path` (a file) and `patch` (inline text) [overlay-type]\n");
	check_refused("patchesJson6902:\n- target: {kind: Deployment, name: nope}\n  path: ops.yaml\n",
		      DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:11: error: the target selects no object "
		      "[overlay-target]\n");
	check_refused("patches:\n- target: {name: '(?i)web'}\n  path: ops.yaml\n", DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:11: error: `(?i)web`: groups with (? flags "
		      "are not supported [overlay-target]\n");
	check_refused("patches:\n- target: {name: '(w)\\1'}\n  path: ops.yaml\n", DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:11: error: `(w)\\1`: this backslash escape "
		      "is not supported [overlay-target]\n");
	check_refused("patches:\n- patch: |-\n    - op: add\n      path: /x\n    - 3\n    ]\n",
		      DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:2:10: error: the inline patch is not valid YAML "
		      "(its line 4: YAML syntax error: did not find expected '-' indicator (while "
		      "parsing a block collection that starts at line 1, column 1); check the "
		      "indentation of the list items) [overlay-patch]\n");
}
END_TEST

START_TEST(patch_targets)
{
	/* a strategic merge patch with a target applies whatever its own name says */
	check_output("patches:\n- target:\n    name: 'w\\w+'\n    kind: Deployment\n"
		     "  patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n"
		     "    metadata: {name: other, namespace: elsewhere}\n    spec: {replicas: 2}\n"
		     "- target: {kind: Service}\n  patch: '[{op: add, path: /x, value: 1}]'\n",
		     DEPLOYMENT, NULL,
		     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		     "  namespace: shop-prod\nspec:\n  replicas: 2\n  template:\n    spec:\n"
		     "      containers:\n      - image: nginx:1.25\n        name: app\n",
		     "overlays/prod/kustomization.yaml:10:11: warning: the target selects no object "
		     "[overlay-target]\n");
}
END_TEST

START_TEST(generator_errors)
{
	static const char *const files[] = { "bad.env", "A=1\nB\n", NULL };

	check_refused("configMapGenerator:\n- name: c\n  envs: [bad.env]\n", DEPLOYMENT, files,
		      "overlays/prod/kustomization.yaml:3:10: error: configMapGenerator `c`: bad.env "
		      "line 2 has no `=`: kustomize would read the value from its own environment; "
		      "write KEY=VALUE [overlay-generator]\n");
	check_refused("configMapGenerator:\n- name: c\n  literals: [k=1, k=2]\n", DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:3:19: error: configMapGenerator `c`: the key "
		      "`k` is given twice [overlay-generator]\n");
	check_refused("secretGenerator:\n- name: s\n  behavior: merge\n  literals: [k=1]\n",
		      DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:3:13: error: secretGenerator `s`: `behavior: "
		      "merge` needs a Secret `s` in the base, and there is none [overlay-generator]\n");
	check_refused("configMapGenerator:\n- name: c\n  env: x.env\n  literals: [=x]\n", DEPLOYMENT,
		      NULL,
		      "overlays/prod/kustomization.yaml:3:3: error: configMapGenerator `c`: `env` is "
		      "deprecated in kustomize; use `envs: [FILE]` [overlay-generator]\n");
	check_refused("configMapGenerator:\n- name: c\n  literals: [=x]\n", DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:3:14: error: configMapGenerator `c`: literal "
		      "`=x` must be KEY=VALUE [overlay-generator]\n");
	check_refused("configMapGenerator:\n- name: c\n  options: {hash: no}\n", DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:3:13: error: unknown option `hash` in "
		      "`options` [overlay-unsupported]\n");
}
END_TEST

/* Names and hashes as kubectl kustomize gives them for the same generators. */
START_TEST(generator_hashes)
{
	check_output("configMapGenerator:\n- name: cfg\n  literals: [a=b]\n- name: empty\n"
		     "secretGenerator:\n- name: sec\n  type: kubernetes.io/basic-auth\n"
		     "  literals: [password=s3cret]\n",
		     "", NULL,
		     "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n"
		     "  name: cfg-4h2mbtbbt6\n  namespace: shop-prod\n---\n"
		     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty-6ct58987ht\n"
		     "  namespace: shop-prod\n---\n"
		     "apiVersion: v1\ndata:\n  password: czNjcmV0\nkind: Secret\nmetadata:\n"
		     "  name: sec-tt5ck8b7hb\n  namespace: shop-prod\ntype: kubernetes.io/basic-auth\n",
		     "");
	/* Go's JSON escapes: <, >, & and \b in the hashed data */
	check_output("configMapGenerator:\n- name: cfg\n  literals: [\"a=b\", 'c=d<e>&']\n"
		     "- name: ctl\n  literals: [\"a=\\b\\f<\"]\n",
		     "", NULL,
		     "apiVersion: v1\ndata:\n  a: b\n  c: d<e>&\nkind: ConfigMap\nmetadata:\n"
		     "  name: cfg-26d79275gt\n  namespace: shop-prod\n---\n"
		     "apiVersion: v1\ndata:\n  a: \"\\b\\f<\"\nkind: ConfigMap\nmetadata:\n"
		     "  name: ctl-d5dgb5mfff\n  namespace: shop-prod\n",
		     "");
}
END_TEST

START_TEST(replicas_and_images)
{
	check_refused("replicas:\n- name: nope\n  count: 2\n", DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:2:3: error: `replicas` names `nope`, but there "
		      "is no Deployment, ReplicationController, ReplicaSet or StatefulSet of that name "
		      "[overlay-target]\n");
	check_refused("images:\n- name: nginx\n  tagSuffix: -x\n", DEPLOYMENT, NULL,
		      "overlays/prod/kustomization.yaml:2:3: error: `tagSuffix` is not supported in "
		      "gitd overlays; set the whole `newTag` [overlay-unsupported]\n");
	check_output("images:\n- name: redis\n  newTag: '7'\n- name: ngin.\n  newName: mirror/nginx\n"
		     "replicas:\n- name: web\n  count: 0\n",
		     DEPLOYMENT, NULL,
		     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		     "  namespace: shop-prod\nspec:\n  replicas: 0\n  template:\n    spec:\n"
		     "      containers:\n      - image: mirror/nginx:1.25\n        name: app\n",
		     "overlays/prod/kustomization.yaml:2:3: warning: image `redis` matches no "
		     "container image [overlay-target]\n");
}
END_TEST

START_TEST(label_selectors)
{
	json_t *labels = json_pack("{s:s, s:s, s:s}", "app", "web", "tier", "front", "n", "5");
	int bad;

	ck_assert_int_eq(ov_label_selector_matches("", labels, &bad), 1);
	ck_assert_int_eq(ov_label_selector_matches("app=web", labels, &bad), 1);
	ck_assert_int_eq(ov_label_selector_matches("app==web, tier!=back", labels, &bad), 1);
	ck_assert_int_eq(ov_label_selector_matches("app in (web,api),tier notin (back)", labels, &bad), 1);
	ck_assert_int_eq(ov_label_selector_matches("app,!missing", labels, &bad), 1);
	ck_assert_int_eq(ov_label_selector_matches("n>4,n<6", labels, &bad), 1);
	ck_assert_int_eq(ov_label_selector_matches("app=api", labels, &bad), 0);
	ck_assert_int_eq(ov_label_selector_matches("missing", labels, &bad), 0);
	ck_assert_int_eq(bad, 0);
	ck_assert_int_eq(ov_label_selector_matches("app in (web", labels, &bad), 0);
	ck_assert_int_eq(bad, 1);
	ck_assert_int_eq(ov_label_selector_matches("app=web tier", labels, &bad), 0);
	ck_assert_int_eq(bad, 1);
	json_decref(labels);
}
END_TEST

/* A field spec path meets a scalar on the way: the error names the part it could not reach. */
START_TEST(field_spec_in_the_way)
{
	check_refused("labels:\n- pairs: {team: a}\n  fields:\n  - {kind: ConfigMap, path: "
		      "\"spec/x\\\\/y/list[]/labels\", create: true}\n",
		      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\nspec:\n"
		      "  x/y: text\n",
		      NULL,
		      "overlays/prod/kustomization.yaml:2:3: error: cannot set labels at "
		      "spec/x\\/y/list[]/labels of ConfigMap/plain in namespace shop-prod: "
		      "expected a mapping or a list on the way to `list[]` [overlay-field]\n");
}
END_TEST

START_TEST(namespace_step)
{
	json_t *objs = json_loads(
		"[{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
		"\"metadata\":{\"name\":\"rb\"},\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":"
		"\"default\"},{\"kind\":\"ServiceAccount\",\"name\":\"sa\"},{\"kind\":\"ServiceAccount\","
		"\"name\":\"sa\",\"namespace\":\"other\"}]},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"sa\"}},"
		"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
		"\"metadata\":{\"name\":\"cr\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"old\"}}]",
		0, NULL);
	struct diags *d = diags_new();
	char *got;

	ck_assert_int_eq(overlay_set_namespace(objs, "shop-prod", d), 0);
	overlay_sort(objs);
	got = json_dumps(objs, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(got,
		"[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop-prod\"}},"
		"{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"sa\","
		"\"namespace\":\"shop-prod\"}},"
		"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\","
		"\"metadata\":{\"name\":\"cr\"}},"
		"{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
		"\"metadata\":{\"name\":\"rb\",\"namespace\":\"shop-prod\"},\"subjects\":["
		"{\"kind\":\"ServiceAccount\",\"name\":\"default\",\"namespace\":\"shop-prod\"},"
		"{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"shop-prod\"},"
		"{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"other\"}]}]");
	ck_assert_uint_eq(diags_nr(d), 0);
	free(got);
	json_decref(objs);
	diags_free(d);
}
END_TEST

START_TEST(sort_order)
{
	static const char *const kinds[] = {
		"ValidatingWebhookConfiguration", "Zebra", "Deployment", "Namespace",
		"ConfigMap", "Alpha", "Service", "CronJob",
	};
	static const char *const want =
		"Namespace v1 a\nConfigMap v1 a\nConfigMap v1 b\nService v1 a\nDeployment apps/v1 a\n"
		"CronJob batch/v1 a\nAlpha a.example/v1 a\nAlpha v1 a\nZebra v1 a\n"
		"ValidatingWebhookConfiguration admissionregistration.k8s.io/v1 a\n";
	json_t *objs = json_array();
	struct strbuf got = STRBUF_INIT;
	size_t i;
	json_t *o;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		const char *av = !strcmp(kinds[i], "Deployment") ? "apps/v1" :
				 !strcmp(kinds[i], "CronJob") ? "batch/v1" :
				 !strcmp(kinds[i], "ValidatingWebhookConfiguration") ?
					"admissionregistration.k8s.io/v1" : "v1";

		json_array_append_new(objs, json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", av, "kind",
						      kinds[i], "metadata", "name", "a"));
	}
	json_array_append_new(objs, json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind",
					      "ConfigMap", "metadata", "name", "b"));
	json_array_append_new(objs, json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "a.example/v1",
					      "kind", "Alpha", "metadata", "name", "a"));
	overlay_sort(objs);
	json_array_foreach(objs, i, o)
		strbuf_addf(&got, "%s %s %s\n", json_string_value(json_object_get(o, "kind")),
			    json_string_value(json_object_get(o, "apiVersion")),
			    json_string_value(json_object_get(json_object_get(o, "metadata"), "name")));
	ck_assert_str_eq(got.buf, want);
	strbuf_release(&got);
	json_decref(objs);
}
END_TEST

START_TEST(cluster_scoped)
{
	ck_assert_int_eq(overlay_is_cluster_scoped("v1", "Namespace"), 1);
	ck_assert_int_eq(overlay_is_cluster_scoped("rbac.authorization.k8s.io/v1", "ClusterRole"), 1);
	ck_assert_int_eq(overlay_is_cluster_scoped("admissionregistration.k8s.io/v1",
						   "ValidatingAdmissionPolicy"), 1);
	ck_assert_int_eq(overlay_is_cluster_scoped("v1", "ConfigMap"), 0);
	ck_assert_int_eq(overlay_is_cluster_scoped("example.com/v1", "ClusterRole"), 0);
	ck_assert_int_eq(overlay_is_cluster_scoped(NULL, NULL), 0);
}
END_TEST

static struct strvec case_names;

static void find_cases(void)
{
	DIR *dir = opendir(CASES);
	struct dirent *e;

	if (!dir)
		die("no " CASES " here; run the tests from the repository root");
	while ((e = readdir(dir))) {
		char *p = xstrfmt(CASES "/%s/expected.yaml", e->d_name);
		struct stat st;

		if (e->d_name[0] != '.' && stat(p, &st) == 0)
			strvec_push(&case_names, e->d_name);
		free(p);
	}
	closedir(dir);
}

START_TEST(agreement)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	const char *name;
	char *path, *diff;

	find_cases();
	ck_assert_uint_gt(case_names.nr, (size_t)_i);
	name = case_names.v[_i];
	path = xstrfmt(CASES "/%s/expected.yaml", name);
	ck_assert_int_eq(strbuf_read_file(&want, path), 0);
	ck_assert_msg(render_case(&got, name) == 0, "%s: gitd refused it:\n%s", name, got.buf);
	diff = first_difference(got.buf, want.buf);
	ck_assert_msg(!strcmp(got.buf, want.buf), "%s differs from kubectl kustomize at %s", name,
		      diff);
	free(diff);
	free(path);
	strbuf_release(&got);
	strbuf_release(&want);
	strvec_clear(&case_names);
}
END_TEST

static Suite *overlay_suite(void)
{
	Suite *s = suite_create("overlay");
	TCase *tc = tcase_create("agreement");
	int n;

	find_cases();
	n = (int)case_names.nr;
	strvec_clear(&case_names);
	tcase_add_loop_test(tc, agreement, 0, n);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	tc = tcase_create("behaviour");
	tcase_add_test(tc, unsupported_fields_are_errors);
	tcase_add_test(tc, resource_files);
	tcase_add_test(tc, patch_errors);
	tcase_add_test(tc, patch_targets);
	tcase_add_test(tc, generator_errors);
	tcase_add_test(tc, generator_hashes);
	tcase_add_test(tc, replicas_and_images);
	tcase_add_test(tc, label_selectors);
	tcase_add_test(tc, field_spec_in_the_way);
	tcase_add_test(tc, namespace_step);
	tcase_add_test(tc, sort_order);
	tcase_add_test(tc, cluster_scoped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(overlay_suite());
}
