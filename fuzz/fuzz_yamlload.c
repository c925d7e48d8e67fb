/*
 * libFuzzer harness for lib/yamlload.c: load any input, then check that
 * every member and item of the result answers a position query, and free.
 * Limits are lowered so that each run stays fast; the code paths are the
 * same as with the defaults.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "yamlload.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_positions(const struct ydoc *doc, json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_object(v) || json_is_array(v)) {
		if (!ydoc_pos(doc, v).line)
			abort();
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			const struct ymember *m = ydoc_member(doc, v, key);

			if (!m || !m->key.line || !m->value.line)
				abort();
			check_positions(doc, item);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			const struct ymember *m = ydoc_item(doc, v, i);

			if (!m || !m->value.line || m->key.line)
				abort();
			check_positions(doc, item);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ylimits lim = { 65536, 64, 20000 };
	struct diags *d = diags_new();
	struct ydoc *doc = NULL;
	int rc = ydoc_load(&doc, "fuzz.yaml", (const char *)data, size, &lim, d);

	/* Failure and success are exclusive: an error and no documents, or documents and no error. */
	if (rc < 0 && (doc || !diags_count(d, DIAG_ERROR)))
		abort();
	if (rc == 0) {
		if (diags_count(d, DIAG_ERROR))
			abort();
		for (size_t i = 0; i < ydoc_count(doc); i++) {
			if (!ydoc_root_pos(doc, i).line)
				abort();
			check_positions(doc, ydoc_root(doc, i));
		}
	}
	ydoc_free(doc);
	diags_free(d);
	return 0;
}
