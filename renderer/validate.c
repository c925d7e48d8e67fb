#include "validate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "suggest.h"
#include "util.h"
#include "validate_internal.h"
#include "banned.h"

/* Has the same problem been reported at the same place (a file named twice, say)? */
static int seen_before(struct vctx *v, const char *key)
{
	/* Past the cap, diags drops entries anyway: do not let the search grow quadratic. */
	if (v->reported.nr >= VALIDATE_MAX_REPORTS)
		return 0;
	for (size_t i = 0; i < v->reported.nr; i++)
		if (!strcmp(v->reported.v[i], key))
			return 1;
	strvec_push(&v->reported, key);
	return 0;
}

void vreport(struct vctx *v, enum diag_severity sev, const char *file, struct ypos pos,
	     const char *rule, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT, key = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_addf(&key, "%s:%u:%u:%d:%s:%s", file, pos.line, pos.col, (int)sev, rule, msg.buf);
	if (!seen_before(v, key.buf))
		diags_add(v->d, sev, file, pos.line, pos.col, rule, "%s", msg.buf);
	strbuf_release(&key);
	strbuf_release(&msg);
}

struct ypos vpos_key(const struct ydoc *doc, const json_t *obj, const char *key)
{
	const struct ymember *m = doc ? ydoc_member(doc, obj, key) : NULL;
	struct ypos none = { 0, 0 };

	return m ? m->key : none;
}

struct ypos vpos_val(const struct ydoc *doc, const json_t *obj, const char *key)
{
	const struct ymember *m = doc ? ydoc_member(doc, obj, key) : NULL;
	struct ypos none = { 0, 0 };

	return m ? m->value : none;
}

struct ypos vpos_item(const struct ydoc *doc, const json_t *arr, size_t i)
{
	const struct ymember *m = doc ? ydoc_item(doc, arr, i) : NULL;
	struct ypos none = { 0, 0 };

	return m ? m->value : none;
}

const struct ydoc *vload_ref(struct vctx *v, const char *path, const char *from,
			     struct ypos from_pos)
{
	struct strbuf err = STRBUF_INIT;
	const struct ydoc *doc = NULL;
	int ret;

	/* A file named twice is read and reported once. */
	for (size_t i = 0; i < v->file_nr; i++)
		if (!strcmp(v->files[i].path, path))
			return v->files[i].doc;
	ret = source_load_yaml(&doc, v->src, path, v->d, &err);
	if (ret == SOURCE_MISSING)
		verror(v, from ? from : path, from_pos, "file", "`%s` does not exist", path);
	else if (ret == -1 && from)
		verror(v, from, from_pos, "file", "`%s`: %s", path, err.buf);
	else if (ret == -1)
		verror(v, path, from_pos, "file", "%s", err.buf);
	if (ret != SOURCE_MISSING) {
		ALLOC_GROW(v->files, v->file_nr + 1, v->file_alloc);
		v->files[v->file_nr].path = xstrdup(path);
		v->files[v->file_nr++].doc = doc; /* NULL when it did not load */
	}
	strbuf_release(&err);
	return doc;
}

const struct ydoc *vload(struct vctx *v, const char *path)
{
	struct ypos none = { 0, 0 };

	return vload_ref(v, path, NULL, none);
}

int venv_wanted(const struct vctx *v, const char *env)
{
	return !v->only_env || !strcmp(v->only_env, env);
}

char *vnamespace(const struct vctx *v, const char *env)
{
	return config_namespace(v->cfg, v->app, env);
}

char *vgroup_of(const char *api_version)
{
	const char *slash = strchr(api_version, '/');

	return slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
}

/* Would a and b end up in the same environment? */
static int visible_together(const struct vobj *a, const struct vobj *b)
{
	return !a->env || !b->env || !strcmp(a->env, b->env);
}

static void report_duplicate(struct vctx *v, const struct vobj *o, const struct vobj *first)
{
	if (!first->doc)
		verror(v, o->file, o->pos, "resource-duplicate",
		       "%s `%s` is also generated from app.yaml; rename one, or change the generated "
		       "one through app.yaml or an overlay patch",
		       o->kind, o->name);
	else
		verror(v, o->file, o->pos, "resource-duplicate",
		       "%s `%s` is already defined at %s:%u", o->kind, o->name, first->file,
		       first->pos.line);
}

void vobj_add(struct vctx *v, const struct vobj *tmpl)
{
	/* group, kind and name cannot hold \x1f, so the key is unambiguous. */
	char *key = xstrfmt("%s\x1f%s\x1f%s", tmpl->group, tmpl->kind, tmpl->name);
	json_t *same = json_object_get(v->obj_index, key);
	struct vobj *o;
	size_t i;
	json_t *at;

	if (v->obj_nr >= VALIDATE_MAX_OBJECTS) {
		if (!v->obj_capped++)
			verror(v, tmpl->file, tmpl->pos, "resource-object",
			       "more than %d objects: this one and the rest are not checked",
			       VALIDATE_MAX_OBJECTS);
		goto cleanup;
	}
	json_array_foreach(same, i, at) {
		const struct vobj *other = &v->objs[json_integer_value(at)];

		if (visible_together(other, tmpl)) {
			report_duplicate(v, tmpl, other);
			goto cleanup;
		}
	}
	if (!same)
		json_object_set_new(v->obj_index, key, same = json_array());
	json_array_append_new(same, json_integer((json_int_t)v->obj_nr));
	free(key);
	key = xstrfmt("%s\x1f%s", tmpl->kind, tmpl->name);
	if (!(same = json_object_get(v->name_index, key)))
		json_object_set_new(v->name_index, key, same = json_array());
	json_array_append_new(same, json_integer((json_int_t)v->obj_nr));
	ALLOC_GROW(v->objs, v->obj_nr + 1, v->obj_alloc);
	o = &v->objs[v->obj_nr++];
	*o = *tmpl;
	o->file = vintern(v, tmpl->file);
	o->group = vintern(v, tmpl->group);
	o->kind = vintern(v, tmpl->kind);
	o->name = vintern(v, tmpl->name);
	o->env = tmpl->env ? vintern(v, tmpl->env) : NULL;
cleanup:
	free(key);
}

const char *vintern(struct vctx *v, const char *s)
{
	strvec_push(&v->strings, s);
	return v->strings.v[v->strings.nr - 1];
}

const struct vobj *vobj_next_named(const struct vctx *v, const char *env, const char *kind,
				   const char *name, size_t *iter)
{
	char *key = xstrfmt("%s\x1f%s", kind, name);
	const json_t *same = json_object_get(v->name_index, key);
	const struct vobj *found = NULL;

	while (!found && *iter < json_array_size(same)) {
		const struct vobj *o = &v->objs[json_integer_value(json_array_get(same, (*iter)++))];

		if (!o->env || (env && !strcmp(o->env, env)))
			found = o;
	}
	free(key);
	return found;
}

const struct vobj *vobj_next(const struct vctx *v, const char *env, size_t *iter)
{
	while (*iter < v->obj_nr) {
		const struct vobj *o = &v->objs[(*iter)++];

		if (!o->env || (env && !strcmp(o->env, env)))
			return o;
	}
	return NULL;
}

int vpolicy(const struct vctx *v, const char *check)
{
	switch (config_policy(v->cfg, check)) {
	case POLICY_ENFORCE:
		return DIAG_ERROR;
	case POLICY_WARN:
		return DIAG_WARNING;
	case POLICY_OFF:
	default:
		return -1;
	}
}

void vunknown_key(struct vctx *v, const char *file, struct ypos pos, const char *rule,
		  const char *what, const char *key, const char *where, const char *const *known,
		  size_t n)
{
	const char *hint = suggest_word(key, known, n);
	struct strbuf msg = STRBUF_INIT;

	strbuf_addf(&msg, "unknown %s `%s`", what, key);
	if (where)
		strbuf_addf(&msg, " in `%s`", where);
	if (hint)
		strbuf_addf(&msg, "; did you mean `%s`?", hint);
	for (size_t i = 0; !hint && i < n; i++)
		strbuf_addf(&msg, "%s%s", i ? ", " : "; expected one of: ", known[i]);
	verror(v, file, pos, rule, "%s", msg.buf);
	strbuf_release(&msg);
}

int validate_is_app(struct source *src)
{
	return source_stat(src, "app.yaml") != SOURCE_NONE ||
	       source_stat(src, "resources") != SOURCE_NONE;
}

static void vctx_release(struct vctx *v)
{
	for (size_t i = 0; i < v->overlay_nr; i++) {
		free(v->overlays[i].env);
		free(v->overlays[i].file);
	}
	for (size_t i = 0; i < v->file_nr; i++)
		free(v->files[i].path);
	free(v->objs);
	free(v->overlays);
	free(v->files);
	free(v->app);
	json_decref(v->obj_index);
	json_decref(v->name_index);
	json_decref(v->patches_checked);
	strvec_clear(&v->strings);
	strvec_clear(&v->reported);
}

int validate_app(struct diags *d, struct source *src, const struct gitd_config *cfg,
		 const char *repo_name, const char *only_env)
{
	struct vctx v;
	size_t before = diags_count(d, DIAG_ERROR);

	memset(&v, 0, sizeof(v));
	v.d = d;
	v.src = src;
	v.cfg = cfg;
	v.only_env = only_env;
	v.obj_index = json_object();
	v.name_index = json_object();
	v.patches_checked = json_object();
	if (only_env && !config_env_find(cfg, only_env)) {
		diags_add(d, DIAG_ERROR, "", 0, 0, "environment",
			  "unknown environment `%s`: the platform config defines no such environment",
			  only_env);
		goto cleanup;
	}
	if (!validate_is_app(src))
		goto cleanup;
	validate_app_yaml(&v, repo_name);
	validate_resources(&v);
	validate_overlays(&v);
	for (size_t i = 0; i < v.obj_nr; i++)
		if (v.objs[i].doc)
			validate_policy(&v, &v.objs[i]);
	validate_schemas(&v);
cleanup:
	vctx_release(&v);
	diags_sort(d);
	return diags_count(d, DIAG_ERROR) > before ? -1 : 0;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

void validate_format_summary(struct strbuf *out, const struct diags *d,
			     const struct validate_stats *st)
{
	size_t errors = diags_count(d, DIAG_ERROR), warnings = diags_count(d, DIAG_WARNING);

	if (!st->is_app && !errors && !warnings) {
		strbuf_addstr(out, "no app.yaml or resources/: plain git hosting, nothing to check");
		return;
	}
	if (errors)
		strbuf_addf(out, "%zu error%s", errors, plural(errors));
	if (warnings)
		strbuf_addf(out, "%s%zu warning%s", errors ? ", " : "", warnings, plural(warnings));
	if (!errors && !warnings)
		strbuf_addstr(out, "no problems");
	strbuf_addf(out, " in %zu file%s", st->files, plural(st->files));
}
