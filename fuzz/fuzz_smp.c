/*
 * libFuzzer harness for the strategic-merge engine (renderer/smp.h).
 *
 * Input: a target object and a patch, as YAML (JSON is YAML too),
 * separated by a NUL byte. The first document of each is used. Checks:
 * the patch is never modified, the result has the documented shape, and
 * merging is deterministic (two copies of the target give equal results).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzzparts.h"
#include "smp.h"
#include "strbuf.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Merge patch into a deep copy of target; the result, or NULL (deleted or failed). */
static json_t *merge(const json_t *target, const json_t *patch, int *rc)
{
	json_t *obj = json_deep_copy(target);
	struct strbuf err = STRBUF_INIT;

	*rc = smp_apply(&obj, patch, &err);
	if (*rc < 0 && !err.len)
		abort(); /* a failure always says why */
	if (*rc == SMP_MERGED && !json_is_object(obj))
		abort();
	if (*rc == SMP_DELETED && obj)
		abort();
	strbuf_release(&err);
	if (*rc < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzzparts parts;
	struct diags *d = diags_new();
	struct ydoc *target = NULL, *patch = NULL;
	json_t *t, *p, *before, *a = NULL, *b = NULL;
	int rc_a, rc_b;

	fuzzparts_split(&parts, data, size);
	target = fuzzparts_yaml(&parts, 0, "target.yaml", d);
	patch = fuzzparts_yaml(&parts, 1, "patch.yaml", d);
	if (!target || !patch || !ydoc_count(target) || !ydoc_count(patch))
		goto cleanup;
	t = ydoc_root(target, 0);
	p = ydoc_root(patch, 0);
	if (!json_is_object(t) || !json_is_object(p))
		goto cleanup;
	smp_has_schema(json_string_value(json_object_get(t, "apiVersion")),
		       json_string_value(json_object_get(t, "kind")));
	before = json_deep_copy(p);
	a = merge(t, p, &rc_a);
	b = merge(t, p, &rc_b);
	if (!json_equal(before, p))
		abort(); /* the patch is read-only */
	json_decref(before);
	if (rc_a != rc_b || (a && !json_equal(a, b)))
		abort();
cleanup:
	json_decref(a);
	json_decref(b);
	ydoc_free(target);
	ydoc_free(patch);
	diags_free(d);
	return 0;
}
