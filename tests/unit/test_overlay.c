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
#include "diag.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "yamlemit.h"
#include "yamlload.h"
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
		if (!strcmp(json_string_value(json_array_get(res, i)), "../base"))
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
	struct overlay ov = { ydoc_root(kdoc, 0), kdoc, kfile, ov_dir, read_in_dir, ov_dir };
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
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(overlay_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
