/*
 * yamlload: read a YAML stream (libyaml) into jansson values, remembering
 * where every node came from, the way the Kubernetes API server reads YAML.
 *
 * Scalars resolve as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) does: plain
 * y/Y/yes/Yes/YES/on/On/ON/true/... are booleans, n/no/off/false/... false,
 * ~/null/empty are null, 0755 is octal 493, 0x1F hex, 0b101 binary,
 * 1_000 is 1000, 1.5/1e3/.inf/.nan floats (inf and nan, which JSON cannot
 * hold, are errors). Quoted scalars and explicit !!str are always strings.
 * Mapping keys become strings (a bool key `on:` becomes "true"), as
 * sigs.k8s.io/yaml does. A plain scalar whose meaning differs between YAML
 * 1.1 and what a person likely meant (yes/no/on/off/y/n, leading-zero
 * octal, underscores) keeps its source text so validators can explain it:
 * see ymember()->source.
 *
 * Errors (each a diag with file:line:col, rule "yaml"): syntax errors,
 * duplicate mapping keys, unknown tags, merge keys (<<) are supported,
 * alias expansion beyond limits->max_nodes (billion laughs), nesting beyond
 * limits->max_depth, input beyond limits->max_bytes, NUL bytes, invalid
 * UTF-8. Empty documents (only comments, or a bare ---) are dropped.
 *
 * Aliases are expanded by deep copy, so the values may be modified freely;
 * copies answer position queries with the anchored node's positions.
 *
 * Positions are looked up by (container, key) or (container, index), because
 * jansson shares true/false/null between all uses. A struct ydoc holds a
 * reference on every container it maps, so the pointers stay valid and
 * unique as long as the ydoc lives, even if the caller drops its own
 * references or modifies the documents.
 */
#ifndef GITD_YAMLLOAD_H
#define GITD_YAMLLOAD_H

#include <stddef.h>

#include <jansson.h>

#include "diag.h"

struct ypos {
	unsigned line; /* 1-based; 0: unknown */
	unsigned col;  /* 1-based */
};

struct ylimits {
	size_t max_bytes;   /* refuse input longer than this */
	unsigned max_depth; /* nesting of mappings and sequences */
	size_t max_nodes;   /* nodes in a document after alias expansion */
};

/* 1.5 MiB (Kubernetes' object size limit), depth 100, 1,000,000 nodes. */
#define YLIMITS_DEFAULT { 1536 * 1024, 100, 1000000 }

struct ydoc;

/* What is known about one member of a mapping or item of a sequence. */
struct ymember {
	struct ypos key; /* the key's position; {0,0} for sequence items */
	struct ypos value;
	/*
	 * For a plain (unquoted) scalar that resolved to a non-string value
	 * through a YAML 1.1 rule a reader may not expect (yes/no/on/off/y/n,
	 * octal with a leading 0, digits with _): the text as written; else NULL.
	 */
	const char *source;
	/* Same for the key: the key as written when a non-string key was turned into a string. */
	const char *key_source;
};

/*
 * Parse buf (len bytes, need not be NUL-terminated) as the file named file
 * (used only in messages). On success *out holds every non-empty document
 * and 0 is returned; on failure -1 is returned, *out is NULL and at least one
 * error was added to d. limits NULL means YLIMITS_DEFAULT.
 */
int ydoc_load(struct ydoc **out, const char *file, const char *buf, size_t len,
	      const struct ylimits *limits, struct diags *d);
void ydoc_free(struct ydoc *doc);

const char *ydoc_file(const struct ydoc *doc);
size_t ydoc_count(const struct ydoc *doc);
/* Document i (borrowed reference). */
json_t *ydoc_root(const struct ydoc *doc, size_t i);
/* Position of document i's root node. */
struct ypos ydoc_root_pos(const struct ydoc *doc, size_t i);

/* Position of a mapping or sequence node; {0,0} when unknown. */
struct ypos ydoc_pos(const struct ydoc *doc, const json_t *container);
/* The member key of mapping obj, or NULL when unknown (e.g. added after loading). */
const struct ymember *ydoc_member(const struct ydoc *doc, const json_t *obj, const char *key);
/* Item index of sequence arr, or NULL when unknown. */
const struct ymember *ydoc_item(const struct ydoc *doc, const json_t *arr, size_t index);

#endif
