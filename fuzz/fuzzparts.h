/*
 * fuzzparts: split a fuzz input into parts separated by NUL bytes, and load
 * a part as YAML, for harnesses that need several inputs (a document and a
 * patch, a kustomization and its files). Header-only: each harness is
 * built from its one .c file.
 */
#ifndef GITD_FUZZPARTS_H
#define GITD_FUZZPARTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "yamlload.h"

#define FUZZPARTS_MAX 8

struct fuzzparts {
	const char *p[FUZZPARTS_MAX];
	size_t len[FUZZPARTS_MAX];
	size_t nr;
};

/* Split data at NUL bytes into at most FUZZPARTS_MAX parts (the last takes the rest). */
static inline void fuzzparts_split(struct fuzzparts *out, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	out->nr = 0;
	while (out->nr < FUZZPARTS_MAX) {
		const char *nul = out->nr + 1 < FUZZPARTS_MAX ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);

		out->p[out->nr] = p;
		out->len[out->nr++] = len;
		if (!nul)
			break;
		p = nul + 1;
	}
}

/*
 * Load part i as YAML with limits small enough to keep each run fast (the
 * code paths are those of the defaults). NULL when the part is missing or
 * is not valid YAML; the caller frees the result with ydoc_free().
 */
static inline struct ydoc *fuzzparts_yaml(const struct fuzzparts *parts, size_t i, const char *file,
					  struct diags *d)
{
	struct ylimits lim = { 65536, 64, 20000 };
	struct ydoc *doc = NULL;

	if (i >= parts->nr || ydoc_load(&doc, file, parts->p[i], parts->len[i], &lim, d) < 0)
		return NULL;
	return doc;
}

#endif
