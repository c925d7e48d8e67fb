/*
 * render: one environment of an app repo, as plain manifests
 * (DESIGN.md "The deploy repo"; docs/render.md has the details).
 *
 *   1. validate the app for the environment (validate_app(): the same
 *      checks and messages as the pre-receive hook), and stop on an error;
 *   2. generate the objects app.yaml stands for (generate.h) and load every
 *      document of the .yaml and .yml files directly in resources/;
 *   3. apply overlays/ENV/kustomization.yaml, if there is one, to all of
 *      them (overlay_apply()), setting the namespace pattern's namespace on
 *      every namespaced object; without an overlay the same engine runs an
 *      empty kustomization, so the output is what `kustomize build` prints
 *      either way (sorted, namespaced, references fixed);
 *   4. write each object as one YAML file (yamlemit: kustomize's bytes).
 *
 * The deploy layout of environment ENV, app APP:
 *
 *   ENV/APP/kustomization.yaml        lists every file below, in output order
 *   ENV/APP/app/KIND-NAME.yaml        objects generated from app.yaml
 *   ENV/APP/resources/KIND-NAME.yaml  everything else: resources/, and what
 *                                     the overlay adds (its own resource
 *                                     files, generated ConfigMaps/Secrets)
 *
 * KIND is the kind in lower case, NAME the object's name in lower case
 * with any byte outside [a-z0-9._-] as '_' (cut at 180 bytes). When two
 * objects of one folder would share a file name, those that collide get
 * KIND.GROUP-NAME.yaml (GROUP "core" for the core group), and any still
 * colliding a "-2", "-3", ... suffix in output order. An object keeps its
 * folder through the overlay, even when a patch renames it.
 *
 * The same input always gives the same bytes. `kubectl kustomize ENV/APP`
 * prints exactly what render_env_stream() prints.
 */
#ifndef GITD_RENDER_H
#define GITD_RENDER_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "source.h"
#include "strbuf.h"

struct render_opts {
	const struct gitd_config *cfg;
	const char *repo_name;   /* the app's name unless app.yaml sets `name` */
	const char *env;         /* one of cfg's environments */
	/*
	 * The image the build step pushed (REGISTRY/APP@sha256:...) when the
	 * app builds one; NULL when none was built, which is an error for an
	 * app that builds in env ("no image built yet"). Ignored for `image:`.
	 */
	const char *built_image;
};

struct render_file {
	char *path; /* in the deploy repo: "dev/shop/app/deployment-shop.yaml" */
	char *data; /* the file's bytes, NUL-terminated */
	size_t len;
};

/* One environment's files, sorted by path (a plain value: RENDER_FILES_INIT, render_files_release()). */
struct render_files {
	char *app; /* the app's name: the folder ENV/APP */
	char *env;
	char *ns;  /* the namespace its objects are in */
	struct render_file *v;
	size_t nr, alloc;
};

#define RENDER_FILES_INIT { NULL, NULL, NULL, NULL, 0, 0 }

void render_files_release(struct render_files *rf);
/* The file at path, or NULL. */
const struct render_file *render_files_get(const struct render_files *rf, const char *path);

/*
 * Render environment o->env of the app in src into *out (which must be
 * RENDER_FILES_INIT or released). 0 on success; -1 with at least one error
 * in d (validation problems, "no image built yet", a repo that is not an
 * app, ...), and *out left empty. Validation warnings land in d either way.
 */
int render_env(struct render_files *out, struct source *src, const struct render_opts *o,
	       struct diags *d);

/*
 * The same objects as one multi-document YAML stream ("---" between
 * documents), in kustomize's order, appended to out. 0, or -1 as above.
 */
int render_env_stream(struct strbuf *out, struct source *src, const struct render_opts *o,
		      struct diags *d);

/*
 * After validate_app() passed: render every environment of cfg (or only
 * only_env) in memory and add the renderer's errors to d, so that nothing
 * validation accepts can fail when gitd renders it. An app that builds its
 * image gets a stand-in image reference (the build runs later). 0 when
 * every environment renders, -1 otherwise.
 */
int render_check(struct diags *d, struct source *src, const struct gitd_config *cfg,
		 const char *repo_name, const char *only_env);

#endif
