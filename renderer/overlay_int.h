/*
 * overlay internals, shared by the overlay*.c files:
 *
 *   overlay.c        the driver: fields, resources, the order of steps
 *   overlay_gen.c    configMapGenerator / secretGenerator and the name hash
 *   overlay_patch.c  patchesStrategicMerge, patches, patchesJson6902, selectors
 *   overlay_meta.c   labels, annotations, replicas, images
 *   overlay_ns.c     the namespace step and cluster-scoped kinds
 *   overlay_ref.c    references to renamed objects; the legacy sort
 *   overlay_fs.c     kustomize's "field specs": paths into objects by kind
 */
#ifndef GITD_OVERLAY_INT_H
#define GITD_OVERLAY_INT_H

#include <sys/types.h>

#include <jansson.h>

#include "diag.h"
#include "overlay.h"
#include "strbuf.h"
#include "yamlload.h"

/* One object being built. */
struct ores {
	json_t *obj;
	char *org_name; /* name and namespace when it joined ("" for none) */
	char *org_ns;
	unsigned generated : 1; /* made by a generator */
	unsigned hash : 1;      /* gets the content hash in its name */
};

/* One overlay_apply() run. */
struct octx {
	const struct overlay *ov;
	const char *ns; /* gitd's namespace, or NULL */
	struct diags *d;
	struct ores *res;
	size_t nr, alloc;
	struct ydoc **docs; /* files loaded so far, kept for positions */
	size_t ndocs, docs_alloc;
	unsigned errors;
	/*
	 * "kind\x1fname" -> ascending indices into res of the resources with
	 * that kind and name, now or when they joined: adding an object and
	 * finding a patch's target look there instead of at every resource,
	 * which made a large app quadratic. NULL until ov_find() needs it, and
	 * again when it may be out of date (see ov_index_drop()).
	 */
	json_t *index;
};

/* An object's identity, as kustomize's ResId (strings owned). */
struct ov_id {
	char *group, *version, *kind, *name, *ns;
};

void ov_id_of(struct ov_id *out, const json_t *obj);
void ov_id_release(struct ov_id *id);
/* "Deployment/web" or "Deployment/web in namespace x", for messages (static buffer). */
const char *ov_id_str(const json_t *obj);
/* kustomize's parseGV: "apps/v1" -> apps, v1; "v1" -> "", v1. Both owned by the caller. */
void ov_split_gv(const char *api_version, char **group, char **version);

/* Problems: in the kustomization (container and key or index locate them) or any file. */
void ov_err(struct octx *c, const char *file, struct ypos pos, const char *rule,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void ov_warn(struct octx *c, const char *file, struct ypos pos, const char *rule,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct ypos ov_kpos(const struct octx *c, const json_t *container, const char *key);
struct ypos ov_kpos_item(const struct octx *c, const json_t *arr, size_t i);
/* Where the key (rather than the value) of container[key] is. */
struct ypos ov_kpos_key(const struct octx *c, const json_t *container, const char *key);

/* The kustomization's field, or NULL when it is absent or null. */
const json_t *ov_kfield(const struct octx *c, const char *field);

/* The kustomization-relative path rel as shown in messages ("overlays/prod/x.yaml"); owned. */
char *ov_display_path(const struct octx *c, const char *rel);
/*
 * Read and parse the YAML file rel, or have ov->load_yaml load it; *out is
 * kept by c (freed with it) or by ov's caller. -1 after reporting at pos
 * (in the kustomization) or the YAML errors.
 */
int ov_load_yaml(const struct ydoc **out, struct octx *c, const char *rel, struct ypos pos);
/* Read the file rel into buf; -1 after reporting at pos. */
int ov_read(struct strbuf *buf, struct octx *c, const char *rel, struct ypos pos);
/* Parse text (from file, shown as such) as YAML; kept by c. */
int ov_parse_yaml(const struct ydoc **out, struct octx *c, const char *file, const char *text,
		  size_t len);

/* Add obj (taken) as a new resource; -1 (obj released) when its id is already there. */
int ov_add(struct octx *c, json_t *obj, const char *file, struct ypos pos);
/* The index of the resource with this group, version, kind, name, namespace (any id it had); -1. */
ssize_t ov_find(struct octx *c, const struct ov_id *id);
/* How many resources have this identity (as ov_find() sees it); *first is the first one's index. */
size_t ov_find_all(struct octx *c, const struct ov_id *id, size_t *first);
/*
 * The resources of this kind named name now or when they joined, as an
 * array of ascending indices into c->res (NULL for none), valid until a
 * resource is renamed or removed.
 */
const json_t *ov_named(struct octx *c, const char *kind, const char *name);
/* Does r have this identity, now or when it joined? */
int ov_res_has_id(const struct ores *r, const struct ov_id *id);
/* Remove resource i. */
void ov_remove(struct octx *c, size_t i);
/*
 * Forget c->index. Whoever changes a resource's kind or metadata.name calls
 * it (ov_remove() does, and run_steps() after every step), so ov_find()
 * rebuilds it from the resources as they are.
 */
void ov_index_drop(struct octx *c);
/* The same, only if resource i's kind or name is no longer was's. */
void ov_index_check(struct octx *c, size_t i, const struct ov_id *was);

/* 1 if s is one of the n strings of list. */
int ov_in_list(const char *s, const char *const *list, size_t n);

/* kustomize's EffectiveNamespace: "default" for "", and a marker for cluster-scoped kinds. */
const char *ov_effective_ns(const char *api_version, const char *kind, const char *ns);

/* ---- field specs (overlay_fs.c) ---- */

struct ov_fieldspec {
	const char *group, *version, *kind; /* NULL: any */
	const char *path;                   /* "spec/template/metadata/labels" */
	int create;
};

enum ov_create { OV_CREATE_NONE, OV_CREATE_MAP, OV_CREATE_SCALAR };

/*
 * Called for a field a field spec reaches: holder is the mapping that has
 * (or, when created, gets) the member field. A missing scalar field is
 * the callback's to create.
 */
typedef int (*ov_fs_fn)(json_t *holder, const char *field, void *payload, struct strbuf *err);

/* Does fs apply to obj (kind, group and version as set)? */
int ov_fs_matches(const struct ov_fieldspec *fs, const json_t *obj);
/*
 * Follow fs.path in obj (if fs matches it), visiting every element of
 * lists on the way, creating missing mappings when fs.create and
 * create_kind allow, and call fn at the end. -1 with err set when a
 * scalar is in the way or fn fails.
 */
int ov_fs_apply(json_t *obj, const struct ov_fieldspec *fs, enum ov_create create_kind,
		ov_fs_fn fn, void *payload, struct strbuf *err);

/* ---- steps ---- */

int ov_generators(struct octx *c);
int ov_hash_names(struct octx *c);
/* kustomize's name hash of a ConfigMap or Secret into out (10 characters). */
void ov_hash(char out[static 11], const json_t *obj);

int ov_patches_sm(struct octx *c);
int ov_patches(struct octx *c);
int ov_patches_json6902(struct octx *c);

int ov_labels(struct octx *c);
int ov_annotations(struct octx *c);
int ov_replicas(struct octx *c);
int ov_images(struct octx *c);

/* The namespace step on c's resources (references are fixed in ov_fix_refs()). */
int ov_namespace(struct octx *c);
int ov_fix_refs(struct octx *c);

#endif
