/*
 * Rendering one environment: validate, generate, load resources/, run the
 * overlay engine, name the files. See render.h for the layout.
 */
#include "render.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "generate.h"
#include "overlay.h"
#include "util.h"
#include "validate.h"
#include "yamlemit.h"
#include "yamlload.h"
#include "banned.h"

#define APP_FILE "app.yaml"
/*
 * Marks the objects generate_objects() made while they go through the
 * overlay, which may reorder, rename and add objects; removed before
 * output. gitd reserves the key: it is dropped from the app's own objects.
 */
#define ORIGIN_KEY "gitd.internal/generated"
/* A file name's NAME part at most, so KIND-NAME.yaml stays under NAME_MAX. */
#define FILE_NAME_MAX 180

struct rctx {
	struct source *src;
	const struct render_opts *o;
	struct diags *d;
	char *app;
	char *ns;
	struct ydoc *app_doc;
	const json_t *app_yaml; /* borrowed from app_doc, or NULL */
	struct ydoc **docs;     /* resources/ files, whose documents base holds */
	size_t ndocs, docs_alloc;
	json_t *base;           /* generated objects, then resources/ */
	json_t *gen_ids;        /* identities of the generated objects */
	json_t *objects;        /* the output, in kustomize's order */
	unsigned char *generated; /* for each of objects: from app.yaml */
};

static void __attribute__((format(printf, 5, 6)))
rerror(struct rctx *c, const char *file, struct ypos pos, const char *rule, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	diags_add(c->d, DIAG_ERROR, file, pos.line, pos.col, rule, "%s", msg.buf);
	strbuf_release(&msg);
}

/* Read and parse path; NULL after reporting. */
static struct ydoc *load_yaml(struct rctx *c, const char *path)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	struct ypos none = { 0, 0 };
	struct ydoc *doc = NULL;

	if (source_read(c->src, path, &buf, &err) < 0)
		rerror(c, path, none, "file", "cannot read: %s", err.len ? err.buf : "no such file");
	else
		ydoc_load(&doc, path, buf.buf, buf.len, NULL, c->d);
	strbuf_release(&buf);
	strbuf_release(&err);
	return doc;
}

/* "group\x1fkind\x1fname" of obj; caller frees. */
static char *identity(const json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *slash = av ? strchr(av, '/') : NULL;

	return xstrfmt("%.*s\x1f%s\x1f%s", slash ? (int)(slash - av) : 0, av ? av : "",
		       kind ? kind : "", name ? name : "");
}

/* ---- the objects going in ---- */

static int load_app(struct rctx *c)
{
	const char *name;

	if (source_stat(c->src, APP_FILE) != SOURCE_NONE) {
		if (!(c->app_doc = load_yaml(c, APP_FILE)))
			return -1;
		c->app_yaml = ydoc_root(c->app_doc, 0);
	}
	name = json_string_value(json_object_get(c->app_yaml, "name"));
	c->app = xstrdup(name ? name : c->o->repo_name);
	c->ns = config_namespace(c->o->cfg, c->app, c->o->env);
	return 0;
}

/* Where `build` is set for env, for "no image built yet". */
static struct ypos build_pos(const struct rctx *c)
{
	const json_t *ov = json_object_get(json_object_get(c->app_yaml, "environments"), c->o->env);
	const json_t *holder = json_object_get(ov, "build") ? ov : c->app_yaml;
	const struct ymember *m = ydoc_member(c->app_doc, holder, "build");
	struct ypos none = { 0, 0 };

	return m ? m->key : none;
}

static int add_generated(struct rctx *c)
{
	struct generate_in in = { c->app_yaml, c->app, c->o->env, c->ns, c->o->built_image };
	struct strbuf err = STRBUF_INIT;
	json_t *objs = NULL, *obj;
	size_t i;
	int ret;

	if (!c->app_yaml)
		return 0;
	ret = generate_objects(&objs, &in, &err);
	if (ret == GENERATE_NO_IMAGE)
		rerror(c, APP_FILE, build_pos(c), "render-no-image", "%s", err.buf);
	else if (ret < 0)
		rerror(c, APP_FILE, ydoc_pos(c->app_doc, c->app_yaml), "render-app", "%s", err.buf);
	json_array_foreach(objs, i, obj) {
		json_t *meta = json_object_get(obj, "metadata");
		char *id = identity(obj);

		json_object_set_new(meta, "annotations", json_pack("{s:s}", ORIGIN_KEY, APP_FILE));
		json_object_set_new(c->gen_ids, id, json_true());
		json_array_append(c->base, obj);
		free(id);
	}
	json_decref(objs);
	strbuf_release(&err);
	return ret < 0 ? -1 : 0;
}

/* Drop the origin marker (and the annotations it leaves empty). */
static int strip_marker(json_t *obj)
{
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");

	if (!json_object_get(ann, ORIGIN_KEY))
		return 0;
	json_object_del(ann, ORIGIN_KEY);
	if (!json_object_size(ann))
		json_object_del(json_object_get(obj, "metadata"), "annotations");
	return 1;
}

/* The documents of path join the base as they are: overlay_apply() copies what it changes. */
static int add_resource_file(struct rctx *c, const char *path)
{
	struct ydoc *doc = load_yaml(c, path);

	if (!doc)
		return -1;
	for (size_t i = 0; i < ydoc_count(doc); i++) {
		strip_marker(ydoc_root(doc, i));
		json_array_append(c->base, ydoc_root(doc, i));
	}
	ALLOC_GROW(c->docs, c->ndocs + 1, c->docs_alloc);
	c->docs[c->ndocs++] = doc; /* transferred */
	return 0;
}

/* Every file the validator deploys: *.yaml and *.yml directly in resources/. */
static int add_resources(struct rctx *c)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct ypos none = { 0, 0 };
	int ret = 0;

	if (source_stat(c->src, "resources") != SOURCE_DIR)
		return 0;
	if (source_list(c->src, "resources", &names, &err) < 0) {
		rerror(c, "resources", none, "file", "%s", err.buf);
		ret = -1;
	}
	for (size_t i = 0; !ret && i < names.nr; i++) {
		char *path = xstrfmt("resources/%s", names.v[i]);

		if (names.v[i][0] != '.' && (ends_with(path, ".yaml") || ends_with(path, ".yml")) &&
		    source_stat(c->src, path) == SOURCE_FILE)
			ret = add_resource_file(c, path);
		free(path);
	}
	strvec_clear(&names);
	strbuf_release(&err);
	return ret;
}

/* ---- the overlay ---- */

struct overlay_reader {
	struct source *src;
	const char *dir;
};

static int read_overlay_file(struct strbuf *out, const char *path, void *payload)
{
	const struct overlay_reader *r = payload;
	struct strbuf full = STRBUF_INIT, buf = STRBUF_INIT, err = STRBUF_INIT;
	int ret = -1;

	if (source_path_join(&full, r->dir, path) < 0) {
		errno = EACCES;
	} else if (source_stat(r->src, full.buf) == SOURCE_DIR) {
		errno = EISDIR;
	} else {
		ret = source_read(r->src, full.buf, &buf, &err);
		if (ret == SOURCE_MISSING)
			errno = ENOENT;
		else if (ret < 0)
			errno = source_stat(r->src, full.buf) == SOURCE_OTHER ? EACCES : EFBIG;
		else
			strbuf_add(out, buf.buf, buf.len);
	}
	strbuf_release(&full);
	strbuf_release(&buf);
	strbuf_release(&err);
	return ret < 0 ? -1 : 0;
}

/* overlays/ENV's kustomization file (as the validator looks for it), or NULL. */
static char *find_kustomization(struct rctx *c, const char *dir)
{
	static const char *const names[] = { "kustomization.yaml", "kustomization.yml", "Kustomization" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *path = xstrfmt("%s/%s", dir, names[i]);

		if (source_stat(c->src, path) == SOURCE_FILE)
			return path;
		free(path);
	}
	return NULL;
}

/*
 * Run the overlay engine with overlays/ENV's kustomization, or an empty one
 * (then problems are the objects' own, reported against app.yaml).
 */
static int apply_overlay(struct rctx *c)
{
	char *dir = xstrfmt("overlays/%s", c->o->env);
	char *file = find_kustomization(c, dir);
	struct overlay_reader reader = { c->src, dir };
	struct overlay ov = { NULL, NULL, file ? file : APP_FILE, dir, read_overlay_file, &reader };
	struct ydoc *doc = file ? load_yaml(c, file) : NULL;
	json_t *empty = json_object();
	int ret = -1;

	if (file && !doc)
		goto cleanup;
	ov.kustomization = doc ? ydoc_root(doc, 0) : empty;
	ov.doc = doc;
	ret = overlay_apply(&c->objects, c->base, &ov, c->ns, c->d);
cleanup:
	json_decref(empty);
	ydoc_free(doc);
	free(file);
	free(dir);
	return ret;
}

/* Which objects go to app/: those marked, or (if a patch replaced the annotations) named so. */
static void classify(struct rctx *c)
{
	size_t i;
	json_t *obj;

	c->generated = xcalloc(json_array_size(c->objects) + 1, 1);
	json_array_foreach(c->objects, i, obj) {
		char *id = identity(obj);

		c->generated[i] = strip_marker(obj) || json_object_get(c->gen_ids, id);
		free(id);
	}
}

static void rctx_release(struct rctx *c)
{
	free(c->app);
	free(c->ns);
	ydoc_free(c->app_doc);
	json_decref(c->base);
	for (size_t i = 0; i < c->ndocs; i++)
		ydoc_free(c->docs[i]);
	free(c->docs);
	json_decref(c->gen_ids);
	json_decref(c->objects);
	free(c->generated);
}

/* Steps 1 to 3 of render.h: c->objects and c->generated. */
static int render_objects(struct rctx *c, struct source *src, const struct render_opts *o,
			  struct diags *d)
{
	struct ypos none = { 0, 0 };

	memset(c, 0, sizeof(*c));
	c->src = src;
	c->o = o;
	c->d = d;
	c->base = json_array();
	c->gen_ids = json_object();
	if (validate_app(d, src, o->cfg, o->repo_name, o->env) < 0)
		return -1;
	if (!validate_is_app(src)) {
		rerror(c, "", none, "render-not-app",
		       "nothing to render: no app.yaml or resources/ (plain git hosting)");
		return -1;
	}
	if (load_app(c) < 0 || add_generated(c) < 0 || add_resources(c) < 0 ||
	    apply_overlay(c) < 0)
		return -1;
	classify(c);
	return 0;
}

/* ---- the files coming out ---- */

/* Append s in lower case, with every byte but letters, digits and those of extra as '_'. */
static void add_sanitized(struct strbuf *sb, const char *s, size_t len, const char *extra)
{
	for (size_t i = 0; i < len && s[i]; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr(extra, ch)))
			ch = '_';
		strbuf_addch(sb, ch);
	}
}

/* KIND[.GROUP]-NAME, as render.h describes. */
static char *file_base(const json_t *obj, int with_group)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *slash = av ? strchr(av, '/') : NULL;
	struct strbuf sb = STRBUF_INIT;

	add_sanitized(&sb, kind ? kind : "", SIZE_MAX, "");
	if (with_group) {
		strbuf_addch(&sb, '.');
		if (slash)
			add_sanitized(&sb, av, (size_t)(slash - av), ".-");
		else
			strbuf_addstr(&sb, "core");
	}
	strbuf_addch(&sb, '-');
	add_sanitized(&sb, name ? name : "", FILE_NAME_MAX, "._-");
	return strbuf_detach(&sb, NULL);
}

/* The folder of object i, "app" or "resources". */
static const char *folder_of(const struct rctx *c, size_t i)
{
	return c->generated[i] ? "app" : "resources";
}

/* How many objects would take each "FOLDER/KIND-NAME". */
static json_t *count_plain_names(const struct rctx *c)
{
	json_t *counts = json_object();
	size_t i;
	json_t *obj;

	json_array_foreach(c->objects, i, obj) {
		char *base = file_base(obj, 0);
		char *key = xstrfmt("%s/%s", folder_of(c, i), base);
		json_int_t n = json_integer_value(json_object_get(counts, key));

		json_object_set_new(counts, key, json_integer(n + 1));
		free(key);
		free(base);
	}
	return counts;
}

/* The path of each object under ENV/APP/, pushed to names in object order. */
static void name_files(struct strvec *names, const struct rctx *c)
{
	json_t *counts = count_plain_names(c);
	json_t *used = json_object();
	size_t i;
	json_t *obj;

	json_array_foreach(c->objects, i, obj) {
		const char *folder = folder_of(c, i);
		char *base = file_base(obj, 0);
		char *key = xstrfmt("%s/%s", folder, base);
		char *path;

		if (json_integer_value(json_object_get(counts, key)) > 1) {
			free(base);
			base = file_base(obj, 1);
		}
		path = xstrfmt("%s/%s.yaml", folder, base);
		for (unsigned n = 2; json_object_get(used, path); n++) {
			free(path);
			path = xstrfmt("%s/%s-%u.yaml", folder, base, n);
		}
		json_object_set_new(used, path, json_true());
		strvec_push_owned(names, path); /* transferred */
		free(key);
		free(base);
	}
	json_decref(counts);
	json_decref(used);
}

static void add_file(struct render_files *rf, char *path, struct strbuf *data)
{
	struct render_file *f;

	ALLOC_GROW(rf->v, rf->nr + 1, rf->alloc);
	f = &rf->v[rf->nr++];
	f->path = path; /* transferred */
	f->data = strbuf_detach(data, &f->len);
}

/* ENV/APP/kustomization.yaml: every file, in output order, so kustomize prints the same stream. */
static int add_kustomization(struct render_files *rf, const struct strvec *names)
{
	json_t *k = json_pack("{s:s, s:s, s:[]}", "apiVersion", "kustomize.config.k8s.io/v1beta1",
			      "kind", "Kustomization", "resources");
	struct strbuf data = STRBUF_INIT;
	int ret;

	for (size_t i = 0; i < names->nr; i++)
		json_array_append_new(json_object_get(k, "resources"), json_string(names->v[i]));
	strbuf_addf(&data, "# Rendered by gitd: app %s, environment %s. Edits here are overwritten;\n"
		    "# change the app's repository instead.\n", rf->app, rf->env);
	ret = yamlemit_doc(&data, k);
	if (!ret)
		add_file(rf, xstrfmt("%s/%s/kustomization.yaml", rf->env, rf->app), &data);
	strbuf_release(&data);
	json_decref(k);
	return ret;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct render_file *)a)->path, ((const struct render_file *)b)->path);
}

static int emit_files(struct render_files *out, const struct rctx *c)
{
	struct strvec names = STRVEC_INIT;
	struct ypos none = { 0, 0 };
	size_t i;
	json_t *obj;
	int ret = 0;

	name_files(&names, c);
	json_array_foreach(c->objects, i, obj) {
		struct strbuf data = STRBUF_INIT;

		if (yamlemit_doc(&data, obj) < 0) {
			diags_add(c->d, DIAG_ERROR, "", none.line, none.col, "render-emit",
				  "cannot write %s as YAML (a string that is not UTF-8?)", names.v[i]);
			ret = -1;
		} else {
			add_file(out, xstrfmt("%s/%s/%s", c->o->env, c->app, names.v[i]), &data);
		}
		strbuf_release(&data);
	}
	if (!ret)
		ret = add_kustomization(out, &names);
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_file);
	strvec_clear(&names);
	return ret;
}

/* ---- public ---- */

void render_files_release(struct render_files *rf)
{
	for (size_t i = 0; i < rf->nr; i++) {
		free(rf->v[i].path);
		free(rf->v[i].data);
	}
	free(rf->v);
	free(rf->app);
	free(rf->env);
	free(rf->ns);
	memset(rf, 0, sizeof(*rf));
}

const struct render_file *render_files_get(const struct render_files *rf, const char *path)
{
	for (size_t i = 0; i < rf->nr; i++)
		if (!strcmp(rf->v[i].path, path))
			return &rf->v[i];
	return NULL;
}

int render_env(struct render_files *out, struct source *src, const struct render_opts *o,
	       struct diags *d)
{
	struct rctx c;
	int ret = render_objects(&c, src, o, d);

	if (ret < 0)
		goto cleanup;
	out->app = xstrdup(c.app);
	out->env = xstrdup(o->env);
	out->ns = xstrdup(c.ns);
	ret = emit_files(out, &c);
cleanup:
	if (ret < 0)
		render_files_release(out);
	rctx_release(&c);
	return ret;
}

int render_env_stream(struct strbuf *out, struct source *src, const struct render_opts *o,
		      struct diags *d)
{
	struct ypos none = { 0, 0 };
	const json_t **docs = NULL;
	struct rctx c;
	int ret = render_objects(&c, src, o, d);

	if (ret < 0)
		goto cleanup;
	docs = xcalloc(json_array_size(c.objects) + 1, sizeof(*docs));
	for (size_t i = 0; i < json_array_size(c.objects); i++)
		docs[i] = json_array_get(c.objects, i);
	ret = yamlemit_stream(out, docs, json_array_size(c.objects));
	if (ret < 0)
		rerror(&c, "", none, "render-emit",
		       "cannot write the objects as YAML (a string that is not UTF-8?)");
cleanup:
	free(docs);
	rctx_release(&c);
	return ret;
}

int render_check(struct diags *d, struct source *src, const struct gitd_config *cfg,
		 const char *repo_name, const char *only_env)
{
	char *stand_in = xstrfmt("image.invalid/%s@sha256:%064d", repo_name, 0);
	struct diags *rd = diags_new();
	int rc = 0;

	for (size_t i = 0; i < config_env_count(cfg); i++) {
		struct render_opts o = { cfg, repo_name, config_env(cfg, i)->name, stand_in };
		struct render_files rf = RENDER_FILES_INIT;

		if (only_env && strcmp(only_env, o.env))
			continue;
		if (render_env(&rf, src, &o, rd) < 0)
			rc = -1;
		render_files_release(&rf);
	}
	/* validation passed, so every error is the renderer's; its warnings repeat validation's */
	for (size_t i = 0; i < diags_nr(rd); i++) {
		const struct diag *e = diags_get(rd, i);

		if (e->severity == DIAG_ERROR)
			diags_add(d, DIAG_ERROR, e->file, e->line, e->col, e->rule, "%s", e->message);
	}
	diags_sort(d);
	diags_free(rd);
	free(stand_in);
	return rc;
}
