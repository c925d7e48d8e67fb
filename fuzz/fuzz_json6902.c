/*
 * libFuzzer harness for JSON Patch (renderer/json6902.h).
 *
 * Input: a document and a list of operations, as YAML, separated by a NUL
 * byte. Checks: the operations are never modified, a failure always says
 * why, applying is deterministic, and every "path" and "from" splits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzzparts.h"
#include "json6902.h"
#include "strbuf.h"
#include "strvec.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int apply(json_t **out, const json_t *doc, const json_t *ops)
{
	struct strbuf err = STRBUF_INIT;
	int rc;

	*out = json_deep_copy(doc);
	rc = json6902_apply(*out, ops, &err);
	if (rc < 0 && !err.len)
		abort();
	if (rc != 0 && rc != -1)
		abort();
	strbuf_release(&err);
	return rc;
}

static void split_paths(const json_t *ops)
{
	static const char *const fields[] = { "path", "from" };
	const json_t *op;
	size_t i;

	json_array_foreach(ops, i, op) {
		for (size_t f = 0; f < 2; f++) {
			const char *s = json_string_value(json_object_get(op, fields[f]));
			struct strvec tokens = STRVEC_INIT;

			if (s && json6902_split_path(&tokens, s) < 0 && tokens.nr)
				abort(); /* a path it refuses pushes nothing */
			strvec_clear(&tokens);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzzparts parts;
	struct diags *d = diags_new();
	struct ydoc *doc = NULL, *ops = NULL;
	json_t *v, *o, *before, *a = NULL, *b = NULL;

	fuzzparts_split(&parts, data, size);
	doc = fuzzparts_yaml(&parts, 0, "doc.yaml", d);
	ops = fuzzparts_yaml(&parts, 1, "ops.yaml", d);
	if (!doc || !ops || !ydoc_count(doc) || !ydoc_count(ops))
		goto cleanup;
	v = ydoc_root(doc, 0);
	o = ydoc_root(ops, 0);
	if (!json_is_object(v) || !json_is_array(o))
		goto cleanup;
	split_paths(o);
	before = json_deep_copy(o);
	if (apply(&a, v, o) != apply(&b, v, o) || !json_equal(a, b))
		abort();
	if (!json_equal(before, o))
		abort(); /* the operations are read-only */
	json_decref(before);
cleanup:
	json_decref(a);
	json_decref(b);
	ydoc_free(doc);
	ydoc_free(ops);
	diags_free(d);
	return 0;
}
