/*
 * smp internals shared by smp.c (the walker), smp_list.c (merging lists by
 * key) and smp_schema.c (the part of the Kubernetes schema that decides how
 * lists merge).
 */
#ifndef GITD_SMP_INT_H
#define GITD_SMP_INT_H

#include <jansson.h>

#include "strbuf.h"

/*
 * What the schema says about one value. A value is either an object of
 * some type (fields != NULL) or a list (list != 0) whose elements have the
 * element schema; keys tells how a list merges: NULL replaces it, "" merges
 * a list of scalars by value, "a" or "a,b" merges elements by those fields.
 */
struct smp_schema {
	const char *name;                /* field name; NULL for a type's own schema */
	const struct smp_schema *fields; /* for objects: field schemas, NULL-name terminated */
	int list;
	const char *keys;
	const struct smp_schema *elem; /* for lists: the element schema */
};

/* Schema of the top-level object apiVersion/kind, or NULL when kustomize has none. */
const struct smp_schema *smp_schema_for(const char *api_version, const char *kind);
/* Schema of field name of an object schema s, or NULL. */
const struct smp_schema *smp_schema_field(const struct smp_schema *s, const char *name);

/* One merge in progress. */
struct smp_walk {
	struct strbuf *err;
	struct strbuf path; /* ".spec.template" while walking it, for messages */
};

/*
 * Merge origin (the patch side) into dest; both borrowed, either may be
 * NULL (absent) or the same value. *out receives a new reference to the
 * result, or NULL when the value is to be removed. 0 or -1 (w->err set).
 */
int smp_walk(json_t **out, json_t *dest, json_t *origin, const struct smp_schema *schema,
	     struct smp_walk *w);

/* Merge a list whose schema has a merge strategy (kyaml's associative walk). */
int smp_walk_assoc(json_t **out, json_t *dest, json_t *origin, const struct smp_schema *schema,
		   struct smp_walk *w);

/* The directive of a list patch: SMP_D_MERGE when none; -1 for an unknown one. */
enum smp_directive { SMP_D_MERGE, SMP_D_REPLACE, SMP_D_DELETE };
int smp_list_directive(json_t *list, struct smp_walk *w);

/* A scalar's text as YAML holds it ("80", "true", "a"); "" for maps and lists. */
const char *smp_text(const json_t *v, char buf[static 32]);

/* 1 for NULL (absent) or a JSON null. */
static inline int smp_is_nil(const json_t *v)
{
	return !v || json_is_null(v);
}

int smp_fail(struct smp_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
