/*
 * Patch targets (kustomize's types.Selector) and Kubernetes label
 * selectors; see overlay_select.c.
 */
#ifndef GITD_OVERLAY_SELECT_H
#define GITD_OVERLAY_SELECT_H

#include <regex.h>

#include <jansson.h>

#include "overlay_int.h"
#include "strbuf.h"

struct ov_selector {
	const char *group, *version, *kind, *name, *ns; /* NULL: any (borrowed from the target) */
	const char *labels, *annotations;               /* selectors, or NULL */
	regex_t name_re, ns_re;
	int has_name_re, has_ns_re;
};

/* Read a `target:` mapping; -1 with err set (unknown field, bad regular expression). */
int ov_selector_init(struct ov_selector *s, const json_t *target, struct strbuf *err);
void ov_selector_release(struct ov_selector *s);
/* 1 if r is selected, 0 if not, -1 with err set for a malformed label selector. */
int ov_selector_matches(const struct ov_selector *s, const struct ores *r, struct strbuf *err);

/* Compile an RE2-style pattern anchored at both ends (kustomize's "^(?:P)$"); -1 with err set. */
int ov_regex_compile(regex_t *re, const char *pattern, struct strbuf *err);

/* Does labels (a mapping or NULL) satisfy selector? *bad is set for a syntax error. */
int ov_label_selector_matches(const char *selector, const json_t *labels, int *bad);

#endif
