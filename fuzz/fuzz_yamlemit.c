/*
 * libFuzzer harness for the YAML emitter (lib/yamlemit.h): a round trip.
 *
 * Load the input, print each document, load the printed text again: it
 * must be the same value. Printing it again must give the same text.
 *
 * Two known differences, both deliberate, are left out:
 *   - numbers are printed as Go prints a float64 (kustomize's JSON round
 *     trip), so integers beyond 2^53 come back rounded to the nearest
 *     double: numbers compare as doubles;
 *   - Go prints an integral float below 1e21 without an exponent, so a
 *     float from 2^63 to 2^64 (1e19) comes out as an integer that only an
 *     unsigned 64-bit integer holds, which go-yaml reads but the loader
 *     refuses (yamlscalar.h): documents holding one are not reloaded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "yamlemit.h"
#include "yamlload.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_value(const json_t *a, const json_t *b);

static int same_members(const json_t *a, const json_t *b)
{
	const char *key;
	const json_t *v;

	if (json_object_size(a) != json_object_size(b))
		return 0;
	json_object_foreach((json_t *)a, key, v) {
		const json_t *w = json_object_get(b, key);

		if (!w || !same_value(v, w))
			return 0;
	}
	return 1;
}

static int same_value(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a))
		return same_members(a, b);
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_value(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal(a, b);
}

/* 1 if v holds a real that prints as an integer from 2^63 to 2^64 (see above). */
static int has_uint64_real(const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_real(v))
		return json_real_value(v) >= 9223372036854775808.0 &&
		       json_real_value(v) < 18446744073709551616.0;
	json_object_foreach((json_t *)v, key, item)
		if (has_uint64_real(item))
			return 1;
	json_array_foreach(v, i, item)
		if (has_uint64_real(item))
			return 1;
	return 0;
}

/* Print v; load the text back; abort unless it is the same value and prints the same. */
static void round_trip(const json_t *v)
{
	struct ylimits lim = { 1 << 22, 100, 200000 };
	struct strbuf text = STRBUF_INIT, again = STRBUF_INIT;
	struct diags *d = diags_new();
	struct ydoc *doc = NULL;

	if (yamlemit_doc(&text, v) < 0)
		abort(); /* loaded values are valid UTF-8, finite and shallow */
	if (ydoc_load(&doc, "emitted.yaml", text.buf, text.len, &lim, d) < 0 || ydoc_count(doc) != 1)
		abort();
	if (!same_value(v, ydoc_root(doc, 0)))
		abort();
	if (yamlemit_doc(&again, ydoc_root(doc, 0)) < 0 || strcmp(text.buf, again.buf))
		abort();
	ydoc_free(doc);
	diags_free(d);
	strbuf_release(&text);
	strbuf_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ylimits lim = { 65536, 64, 20000 };
	struct diags *d = diags_new();
	struct ydoc *doc = NULL;

	if (ydoc_load(&doc, "fuzz.yaml", (const char *)data, size, &lim, d) == 0)
		for (size_t i = 0; i < ydoc_count(doc); i++)
			if (!has_uint64_real(ydoc_root(doc, i)))
				round_trip(ydoc_root(doc, i));
	ydoc_free(doc);
	diags_free(d);
	return 0;
}
