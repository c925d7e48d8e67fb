/*
 * libFuzzer harness for the overlay engine (renderer/overlay.h): a
 * kustomization from the input applied to base objects from the input.
 *
 * Input parts, separated by NUL bytes: overlays/prod/kustomization.yaml,
 * the base objects (YAML documents), then the files the kustomization may
 * name: patch.yaml, patch2.yaml, app.env, file.txt. Checks: success and
 * failure are exclusive (a result and no error, or an error and no
 * result), the result is an array of objects, and it can be printed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzparts.h"
#include "overlay.h"
#include "strbuf.h"
#include "util.h"
#include "yamlemit.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const file_names[] = { "patch.yaml", "patch2.yaml", "app.env", "file.txt" };
#define FIRST_FILE 2 /* the part holding file_names[0] */

static int read_part(struct strbuf *out, const char *path, void *payload)
{
	const struct fuzzparts *parts = payload;

	while (starts_with(path, "./"))
		path += 2;
	for (size_t i = 0; i < ARRAY_SIZE(file_names); i++) {
		if (strcmp(path, file_names[i]))
			continue;
		if (FIRST_FILE + i >= parts->nr)
			break;
		if (strbuf_add(out, parts->p[FIRST_FILE + i], parts->len[FIRST_FILE + i]) < 0) {
			errno = EFBIG;
			return -1;
		}
		return 0;
	}
	errno = ENOENT;
	return -1;
}

static void check_output(const json_t *out)
{
	const json_t **docs;
	struct strbuf yaml = STRBUF_INIT;

	if (!json_is_array(out))
		abort();
	docs = xcalloc(json_array_size(out) + 1, sizeof(*docs));
	for (size_t i = 0; i < json_array_size(out); i++) {
		docs[i] = json_array_get(out, i);
		if (!json_is_object(docs[i]))
			abort();
	}
	if (yamlemit_stream(&yaml, docs, json_array_size(out)) < 0)
		abort();
	free(docs);
	strbuf_release(&yaml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzzparts parts;
	struct diags *load = diags_new(), *d = diags_new();
	struct ydoc *kdoc, *bdoc;
	json_t *base = json_array(), *out = NULL;
	struct overlay ov = { NULL, NULL, "overlays/prod/kustomization.yaml", "overlays/prod",
			      read_part, &parts };
	int rc;

	fuzzparts_split(&parts, data, size);
	kdoc = fuzzparts_yaml(&parts, 0, ov.file, load);
	bdoc = fuzzparts_yaml(&parts, 1, "resources/base.yaml", load);
	if (!kdoc || !ydoc_count(kdoc) || !json_is_object(ydoc_root(kdoc, 0)))
		goto cleanup;
	for (size_t i = 0; bdoc && i < ydoc_count(bdoc); i++)
		if (json_is_object(ydoc_root(bdoc, i)))
			json_array_append(base, ydoc_root(bdoc, i));
	ov.kustomization = ydoc_root(kdoc, 0);
	ov.doc = kdoc;
	rc = overlay_apply(&out, base, &ov, "fuzz-prod", d);
	if (rc == 0 && (!out || diags_count(d, DIAG_ERROR)))
		abort();
	if (rc < 0 && (out || !diags_count(d, DIAG_ERROR)))
		abort();
	if (rc != 0 && rc != -1)
		abort();
	if (out)
		check_output(out);
cleanup:
	json_decref(out);
	json_decref(base);
	ydoc_free(kdoc);
	ydoc_free(bdoc);
	diags_free(load);
	diags_free(d);
	return 0;
}
