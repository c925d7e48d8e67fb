/*
 * yamlload: read a YAML stream (libyaml) into jansson values, remembering
 * where every node came from, the way the Kubernetes API server reads YAML.
 *
 * Scalars resolve as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) does: plain
 * y/Y/yes/Yes/YES/on/On/ON/true/... are booleans, n/no/off/false/... false,
 * ~/null/empty are null, 0755 is octal 493, 0x1F hex, 0b101 binary,
 * 1_000 is 1000, 1.5/1e3/.inf/.nan floats (inf and nan, which JSON cannot
 * hold, are errors). Quoted scalars and explicit !!str are always strings.
 * The exact rules, and what happens to integers beyond 64 bits, are in
 * yamlscalar.h. A float with an integral value (1.0, 1e3) becomes a JSON
 * integer, as in the JSON sigs.k8s.io/yaml hands to Kubernetes.
 * Mapping keys become strings (a bool key `on:` becomes "true", 1.0 becomes
 * "1"), as sigs.k8s.io/yaml does; a null key is an error. A plain scalar
 * whose meaning differs between YAML 1.1 and what a person likely meant
 * (yes/no/on/off/y/n, leading-zero octal, underscores) keeps its source text
 * so validators can explain it: see ymember()->source.
 *
 * Merge keys work as in go-yaml v2: `<<: *base` or `<<: [*a, *b]` (earlier
 * sources win) sets the members in document order, so keys after the <<
 * override it, and a key before it is overridden (with a warning, since
 * the YAML merge spec says otherwise). A key written twice is an error.
 *
 * Errors (each a diag with file:line:col, rule "yaml"): syntax errors,
 * duplicate mapping keys, unknown or unsupported tags, alias expansion
 * beyond limits->max_nodes or beyond go-yaml's "excessive aliasing" ratio
 * (billion laughs; refused before the copies are made), nesting beyond
 * limits->max_depth, input beyond limits->max_bytes, NUL bytes, invalid
 * UTF-8, control characters. Documents that are empty, only comments, a
 * bare --- or null are dropped, as kubectl skips them.
 *
 * Aliases are expanded by deep copy, so the values may be modified freely;
 * copies answer position queries with the anchored node's positions, and
 * merged members with the positions of the mapping they came from.
 *
 * Positions are looked up by (container, key) or (container, index), because
 * jansson shares true/false/null between all uses. A struct ydoc holds a
 * reference on every container it maps, so the pointers stay valid and
 * unique as long as the ydoc lives, even if the caller drops its own
 * references or modifies the documents. A member added later has no
 * position; inserting or removing sequence items shifts what an index
 * answers. Columns count characters, not bytes; a node with an anchor or
 * a tag starts there (`spec: &s` puts the mapping at the &).
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
	unsigned max_depth; /* nesting of mappings and sequences; at most 1000 */
	size_t max_nodes;   /* nodes (keys included) in the whole stream after alias expansion; <= 2^30 */
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
	/*
	 * For a key that was not a string (on, 1.0, 0x10, True): the key as
	 * written, when the string it became differs from it; else NULL.
	 */
	const char *key_source;
};

/*
 * Parse buf (len bytes, need not be NUL-terminated) as the file named file
 * (used only in messages). On success *out holds every non-empty document
 * and 0 is returned (d may have gained warnings); on failure -1 is
 * returned, *out is NULL and at least one error was added to d. limits
 * NULL means YLIMITS_DEFAULT.
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
