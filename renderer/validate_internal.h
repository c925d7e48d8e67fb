/*
 * The validator's shared state and helpers, for renderer/validate*.c only.
 *
 * One struct vctx lives for one validate_app() call. It knows every loaded
 * YAML file (the source keeps them, so positions stay valid) and keeps a
 * registry of the Kubernetes objects found, so duplicates and patch targets
 * can be checked across files.
 */
#ifndef GITD_VALIDATE_INTERNAL_H
#define GITD_VALIDATE_INTERNAL_H

#include <jansson.h>

#include "config.h"
#include "strvec.h"
#include "diag.h"
#include "source.h"
#include "yamlload.h"

/* resources/ files considered at most; the source caps bytes as well. */
#define VALIDATE_MAX_RESOURCE_FILES 500
/* Objects registered at most: far beyond any app, and a bound on every per-object loop. */
#define VALIDATE_MAX_OBJECTS 10000
/* Problems compared for duplicates at most (struct diags keeps 1000). */
#define VALIDATE_MAX_REPORTS 2000
/* Entries of one kustomization list (patches, resources, images, ...) at most. */
#define VALIDATE_MAX_LIST 500

struct vfile {
	char *path;
	const struct ydoc *doc; /* owned by the source (source_load_yaml()) */
};

/* One Kubernetes object an environment will hold. */
struct vobj {
	const char *file;       /* where it is defined */
	const struct ydoc *doc; /* NULL when generated from app.yaml */
	json_t *obj;            /* the object (borrowed from doc); NULL when generated */
	const char *group;      /* API group of apiVersion; "" for the core group */
	const char *kind;
	const char *name;
	struct ypos pos;        /* of the document (or of app.yaml's root) */
	const char *env;        /* NULL: in every environment; else only in this one's overlay */
};

/* overlays/ENV/kustomization.yaml, once loaded. */
struct voverlay {
	char *env;
	char *file;
	const struct ydoc *doc;
	json_t *k; /* the kustomization (borrowed from doc) */
};

struct vctx {
	struct diags *d;
	struct source *src;
	const struct gitd_config *cfg;
	const char *only_env;
	char *app; /* the app's name */
	const struct ydoc *app_doc;
	json_t *app_yaml; /* app.yaml's root (borrowed from app_doc) or NULL */
	struct vfile *files;
	size_t file_nr, file_alloc;
	struct vobj *objs;
	size_t obj_nr, obj_alloc;
	json_t *obj_index;  /* "group\x1fkind\x1fname" -> indices into objs */
	json_t *name_index; /* "kind\x1fname" -> indices into objs */
	int obj_capped;    /* objects past VALIDATE_MAX_OBJECTS were dropped */
	json_t *patches_checked; /* patch file, environment and target already checked */
	struct voverlay *overlays;
	size_t overlay_nr, overlay_alloc;
	struct strvec strings;  /* owns the strings of objs */
	struct strvec reported; /* every problem reported, to report each once */
};

/* ---- validate.c ---- */

void vreport(struct vctx *v, enum diag_severity sev, const char *file, struct ypos pos,
	     const char *rule, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define verror(v, file, pos, rule, ...) vreport(v, DIAG_ERROR, file, pos, rule, __VA_ARGS__)

/* Positions of a member's key or value, or of a sequence item; {0,0} when unknown. */
struct ypos vpos_key(const struct ydoc *doc, const json_t *obj, const char *key);
struct ypos vpos_val(const struct ydoc *doc, const json_t *obj, const char *key);
struct ypos vpos_item(const struct ydoc *doc, const json_t *arr, size_t i);

/*
 * Read and parse path, once: a second call returns the same document.
 * Problems (unreadable, YAML errors) are reported against path. Returns
 * the document (owned by the source, see source_load_yaml()) or NULL.
 */
const struct ydoc *vload(struct vctx *v, const char *path);
/* Like vload(), but a missing or unreadable file is reported where from names it. */
const struct ydoc *vload_ref(struct vctx *v, const char *path, const char *from,
			     struct ypos from_pos);

/* Is environment env checked in this run (only_env)? */
int venv_wanted(const struct vctx *v, const char *env);
/* The namespace of the app in env (caller frees). */
char *vnamespace(const struct vctx *v, const char *env);

/* A copy of s that lives as long as v. */
const char *vintern(struct vctx *v, const char *s);
/* Register a copy of tmpl (its strings are copied); reports a duplicate of an object already visible in the same environment. */
void vobj_add(struct vctx *v, const struct vobj *tmpl);
/* Objects visible in env (NULL env: those of every environment), one by one. */
const struct vobj *vobj_next(const struct vctx *v, const char *env, size_t *iter);
/* The same, among the objects of one kind and name only. */
const struct vobj *vobj_next_named(const struct vctx *v, const char *env, const char *kind,
				   const char *name, size_t *iter);
/* The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""); caller frees. */
char *vgroup_of(const char *api_version);

/* Severity for a policy check, or -1 when it is off. */
int vpolicy(const struct vctx *v, const char *check);

/*
 * "unknown WHAT `key` in `where`; did you mean `y`?", or "...; expected one
 * of: a, b, c" when no candidate is close. where may be NULL.
 */
void vunknown_key(struct vctx *v, const char *file, struct ypos pos, const char *rule,
		  const char *what, const char *key, const char *where, const char *const *known,
		  size_t n);

/* ---- validate_app.c ---- */

/* Check app.yaml (when present) and settle v->app. */
void validate_app_yaml(struct vctx *v, const char *repo_name);

/* ---- validate_resource.c ---- */

/*
 * Check every document of doc as a Kubernetes object and register it,
 * visible in env (NULL: every environment).
 */
void validate_objects(struct vctx *v, const struct ydoc *doc, const char *env);
/* Check resources/ (all files). */
void validate_resources(struct vctx *v);

/* ---- validate_policy.c ---- */

/* The built-in policy checks on one object. */
void validate_policy(struct vctx *v, const struct vobj *o);
/*
 * An image reference against the latest_tag policy; what names it
 * ("container `web`"). With use_overlays, an image the overlays of every
 * checked environment (env only, unless NULL) pin to a tag or digest passes.
 */
void validate_image_tag(struct vctx *v, const char *file, struct ypos pos, const char *what,
			const char *image, const char *env, int use_overlays);

/* ---- validate_overlay.c ---- */

void validate_overlays(struct vctx *v);
/* 1 when the overlay of env pins image (name without tag) to a tag or digest. */
int validate_overlay_pins(struct vctx *v, const char *env, const char *image_name);

/* ---- validate_schema.c ---- */

/* Every object of a file against the JSON schemas of the platform config, if it names a directory. */
void validate_schemas(struct vctx *v);

#endif
