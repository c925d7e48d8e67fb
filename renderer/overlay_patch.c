/*
 * patchesStrategicMerge, patches and patchesJson6902.
 *
 * A patch is a strategic merge patch (one or more YAML mappings, each
 * naming its target with apiVersion, kind and metadata.name) or a JSON
 * 6902 patch (one YAML or JSON list of operations). Without a `target:`
 * a strategic merge patch applies to the one object with its group,
 * version, kind, name and namespace; with one, to every object the target
 * selects, whatever the patch's own name. As in kustomize, a strategic
 * merge patch never changes an object's namespace, nor its name or kind
 * unless the entry's options allowNameChange / allowKindChange say so,
 * and "$patch: delete" at its top removes the object.
 */
#include <stdlib.h>
#include <string.h>

#include "json6902.h"
#include "overlay_int.h"
#include "overlay_select.h"
#include "smp.h"
#include "util.h"
#include "banned.h"

struct patch {
	const struct ydoc *doc;
	const char *file; /* where problems are reported */
	struct ypos pos;  /* ... and at which position */
	int json;         /* a JSON 6902 list (document 0) rather than merge patches */
};

struct patch_opts {
	int allow_name, allow_kind, allow_no_match;
};

/* ---- loading ---- */

static int parse_inline(const struct ydoc **out, struct octx *c, const char *text, struct ypos pos)
{
	struct diags *tmp = diags_new();
	const struct diag *e;
	struct ydoc *doc;
	int ret = 0;

	if (ydoc_load(&doc, "patch", text, strlen(text), NULL, tmp) == 0) {
		ALLOC_GROW(c->docs, c->ndocs + 1, c->docs_alloc);
		c->docs[c->ndocs++] = doc;
		*out = doc;
	} else {
		e = diags_get(tmp, 0);
		ov_err(c, c->ov->file, pos, "overlay-patch",
		       "the inline patch is not valid YAML (its line %u: %s)", e ? e->line : 0,
		       e ? e->message : "?");
		ret = -1;
	}
	diags_free(tmp);
	return ret;
}

/* Does every document of doc look like a strategic merge patch? */
static int all_mappings(const struct ydoc *doc)
{
	for (size_t i = 0; i < ydoc_count(doc); i++)
		if (!json_is_object(ydoc_root(doc, i)))
			return 0;
	return ydoc_count(doc) > 0;
}

static int classify(struct octx *c, struct patch *p)
{
	size_t n = ydoc_count(p->doc);

	if (!n) {
		ov_err(c, p->file, p->pos, "overlay-patch", "the patch is empty");
		return -1;
	}
	if (n == 1 && json_is_array(ydoc_root(p->doc, 0))) {
		p->json = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *d = ydoc_root(p->doc, i);
		const char *kind = json_string_value(json_object_get(d, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(d, "metadata"),
								     "name"));

		if (!json_is_object(d) || !kind || !*kind || !name || !*name) {
			ov_err(c, p->file, ydoc_root_pos(p->doc, i), "overlay-patch",
			       "a patch is either a list of JSON 6902 operations or a strategic merge "
			       "patch with `kind` and `metadata.name`");
			return -1;
		}
	}
	return 0;
}

/* Load the patch from file rel, or from the inline text. */
static int load_patch(struct patch *p, struct octx *c, const char *rel, const char *text,
		      struct ypos pos)
{
	char *trimmed;
	size_t len;
	int ret;

	memset(p, 0, sizeof(*p));
	if (rel) {
		if (ov_load_yaml(&p->doc, c, rel, pos) < 0)
			return -1;
		p->file = ydoc_file(p->doc);
		p->pos = ydoc_count(p->doc) ? ydoc_root_pos(p->doc, 0) : pos;
		return classify(c, p);
	}
	/* kustomize trims the inline text */
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	len = strlen(text);
	while (len && strchr(" \t\n\r", text[len - 1]))
		len--;
	trimmed = xstrndup(text, len);
	p->file = c->ov->file;
	p->pos = pos;
	ret = parse_inline(&p->doc, c, trimmed, pos);
	free(trimmed);
	return ret < 0 ? -1 : classify(c, p);
}

/* The patch's own position for document i. */
static struct ypos doc_pos(const struct patch *p, size_t i)
{
	return p->file == ydoc_file(p->doc) ? ydoc_root_pos(p->doc, i) : p->pos;
}

/* ---- applying ---- */

static void restore(json_t *obj, const char *key, const char *value)
{
	json_t *meta = json_object_get(obj, "metadata");

	if (!strcmp(key, "kind")) {
		json_object_set_new(obj, "kind", json_string(value));
		return;
	}
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	if (*value)
		json_object_set_new(meta, key, json_string(value));
	else
		json_object_del(meta, key);
}

/*
 * Merge patch into resource i; kind, name and namespace stay unless the
 * options say otherwise. Returns 1 when the object was deleted, 0, or -1.
 */
static int merge_one(struct octx *c, size_t i, const json_t *patch, const struct patch_opts *o,
		     const char *file, struct ypos pos)
{
	struct ores *r = &c->res[i];
	json_t *copy = json_deep_copy(patch);
	struct ov_id was;
	struct strbuf err = STRBUF_INIT;
	int ret;

	/* kustomize gives the patch its target's apiVersion */
	json_object_set(copy, "apiVersion", json_object_get(r->obj, "apiVersion"));
	ov_id_of(&was, r->obj);
	ret = smp_apply(&r->obj, copy, &err);
	json_decref(copy);
	if (ret < 0)
		ov_err(c, file, pos, "overlay-patch", "cannot patch %s: %s", ov_id_str(r->obj),
		       err.buf);
	else if (ret == SMP_DELETED)
		ov_remove(c, i);
	if (ret == SMP_MERGED) {
		if (!o->allow_kind)
			restore(r->obj, "kind", was.kind);
		if (!o->allow_name)
			restore(r->obj, "name", was.name);
		restore(r->obj, "namespace", was.ns);
		ov_index_check(c, i, &was);
	}
	ov_id_release(&was);
	strbuf_release(&err);
	return ret < 0 ? -1 : ret == SMP_DELETED;
}

static int json_one(struct octx *c, size_t i, const json_t *ops, const char *file, struct ypos pos)
{
	json_t *copy = json_deep_copy(c->res[i].obj);
	struct strbuf err = STRBUF_INIT;
	int ret = json6902_apply(copy, ops, &err);
	struct ov_id was;

	if (ret < 0) {
		ov_err(c, file, pos, "overlay-patch", "cannot patch %s: %s", ov_id_str(c->res[i].obj),
		       err.buf);
		json_decref(copy);
	} else {
		ov_id_of(&was, c->res[i].obj);
		json_decref(c->res[i].obj);
		c->res[i].obj = copy; /* transferred */
		ov_index_check(c, i, &was);
		ov_id_release(&was);
	}
	strbuf_release(&err);
	return ret;
}

/* The one object a strategic merge patch names (kustomize's GetById); -1 after reporting. */
static ssize_t find_named(struct octx *c, const json_t *patch, const char *file, struct ypos pos)
{
	const char *av = json_string_value(json_object_get(patch, "apiVersion"));
	struct ov_id id;
	size_t found = 0, hits;

	ov_id_of(&id, patch);
	hits = ov_find_all(c, &id, &found);
	ov_id_release(&id);
	if (hits > 1)
		ov_err(c, file, pos, "overlay-target", "more than one object matches this patch (%s)",
		       ov_id_str(patch));
	else if (!hits)
		ov_err(c, file, pos, "overlay-target",
		       "no object matches this patch (%s, apiVersion %s): apiVersion, kind, name "
		       "and namespace must all match", ov_id_str(patch), av ? av : "missing");
	return hits == 1 ? (ssize_t)found : -1;
}

/* Apply merge patches that name their targets. */
static int apply_named(struct octx *c, const struct patch *p, const struct patch_opts *o)
{
	for (size_t d = 0; d < ydoc_count(p->doc); d++) {
		const json_t *patch = ydoc_root(p->doc, d);
		ssize_t i = find_named(c, patch, p->file, doc_pos(p, d));

		if (i < 0 || merge_one(c, (size_t)i, patch, o, p->file, doc_pos(p, d)) < 0)
			return -1;
	}
	return 0;
}

/* Which resources the target selects (an array of flags, one per resource); NULL after reporting. */
static int *select_targets(struct octx *c, const struct ov_selector *s, struct ypos pos, size_t *hits)
{
	int *sel = xcalloc(c->nr + 1, sizeof(*sel));
	struct strbuf err = STRBUF_INIT;

	*hits = 0;
	for (size_t i = 0; i < c->nr; i++) {
		int m = ov_selector_matches(s, &c->res[i], &err);

		if (m < 0) {
			ov_err(c, c->ov->file, pos, "overlay-target", "%s", err.buf);
			free(sel);
			sel = NULL;
			break;
		}
		sel[i] = m;
		*hits += (size_t)m;
	}
	strbuf_release(&err);
	return sel;
}

/* Apply p to every resource target selects. */
static int apply_targeted(struct octx *c, const struct patch *p, const json_t *target,
			  const struct patch_opts *o, struct ypos tpos, const char *field)
{
	struct ov_selector s;
	struct strbuf err = STRBUF_INIT;
	size_t hits, n = c->nr;
	int *sel, ret = 0;
	json_t *patch = (json_t *)ydoc_root(p->doc, 0);

	if (ov_selector_init(&s, target, &err) < 0) {
		ov_err(c, c->ov->file, tpos, "overlay-target", "%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	sel = select_targets(c, &s, tpos, &hits);
	for (size_t i = 0, j = 0; sel && j < n && ret >= 0; j++) {
		if (!sel[j])
			i++;
		else if (p->json)
			ret = json_one(c, i++, patch, p->file, doc_pos(p, 0));
		else if ((ret = merge_one(c, i, patch, o, p->file, doc_pos(p, 0))) == 0)
			i++;
	}
	if (sel && !hits && !strcmp(field, "patchesJson6902"))
		ov_err(c, c->ov->file, tpos, "overlay-target", "the target selects no object");
	else if (sel && !hits && !o->allow_no_match)
		ov_warn(c, c->ov->file, tpos, "overlay-target", "the target selects no object");
	free(sel);
	ov_selector_release(&s);
	strbuf_release(&err);
	return ret < 0 || !sel ? -1 : 0;
}

/* ---- the three fields ---- */

static int read_opts(struct octx *c, struct patch_opts *o, const json_t *opts)
{
	static const char *const keys[] = { "allowNameChange", "allowKindChange",
					    "allowNoTargetMatch" };
	int *dst[] = { &o->allow_name, &o->allow_kind, &o->allow_no_match };
	const char *k;
	json_t *v;

	memset(o, 0, sizeof(*o));
	if (opts && !json_is_object(opts)) {
		ov_err(c, c->ov->file, ov_kpos(c, opts, NULL), "overlay-type",
		       "`options` must be a mapping");
		return -1;
	}
	json_object_foreach((json_t *)opts, k, v) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(keys) && strcmp(keys[i], k); i++)
			;
		if (i == ARRAY_SIZE(keys) || !json_is_boolean(v)) {
			ov_err(c, c->ov->file, ov_kpos_key(c, opts, k), "overlay-type",
			       i == ARRAY_SIZE(keys) ? "unknown patch option `%s`" :
						     "patch option `%s` must be true or false", k);
			return -1;
		}
		*dst[i] = json_is_true(v);
	}
	return 0;
}

static int check_keys(struct octx *c, const json_t *e, const char *field, struct ypos pos)
{
	static const char *const keys[] = { "path", "patch", "target", "options" };
	size_t nkeys = ARRAY_SIZE(keys) - !strcmp(field, "patchesJson6902");
	const char *k;
	json_t *v;
	int has_path = !!json_object_get(e, "path"), has_patch = !!json_object_get(e, "patch");

	json_object_foreach((json_t *)e, k, v)
		if (!ov_in_list(k, keys, nkeys)) {
			ov_err(c, c->ov->file, ov_kpos_key(c, e, k), "overlay-unsupported",
			       "unknown field `%s` in a `%s` entry", k, field);
			return -1;
		}
	if (has_path == has_patch || !json_string_value(json_object_get(e, has_path ? "path" : "patch"))) {
		ov_err(c, c->ov->file, pos, "overlay-type",
		       "a `%s` entry needs exactly one of `path` (a file) and `patch` (inline text)",
		       field);
		return -1;
	}
	return 0;
}

static int patch_entry(struct octx *c, const json_t *e, const char *field, struct ypos pos)
{
	const json_t *target = json_object_get(e, "target");
	const char *rel = json_string_value(json_object_get(e, "path"));
	struct patch_opts o;
	struct patch p;

	if (!json_is_object(e)) {
		ov_err(c, c->ov->file, pos, "overlay-type",
		       "`%s` entries must be mappings with `path` or `patch`", field);
		return -1;
	}
	if (check_keys(c, e, field, pos) < 0 || read_opts(c, &o, json_object_get(e, "options")) < 0 ||
	    load_patch(&p, c, rel, json_string_value(json_object_get(e, "patch")),
		       ov_kpos(c, e, rel ? "path" : "patch")) < 0)
		return -1;
	if (!strcmp(field, "patchesJson6902") && (!p.json || !target)) {
		ov_err(c, c->ov->file, pos, "overlay-patch", !target ?
		       "a `patchesJson6902` entry needs a `target`" :
		       "`patchesJson6902` takes a list of JSON 6902 operations");
		return -1;
	}
	if (p.json && !target) {
		ov_err(c, c->ov->file, pos, "overlay-patch", "a JSON 6902 patch needs a `target`");
		return -1;
	}
	if (p.json && !json_array_size(ydoc_root(p.doc, 0))) {
		ov_err(c, p.file, p.pos, "overlay-patch", "the patch has no operations");
		return -1;
	}
	if (!target)
		return apply_named(c, &p, &o);
	if (!p.json && ydoc_count(p.doc) > 1) {
		ov_err(c, c->ov->file, pos, "overlay-patch",
		       "a patch with a `target` must hold one strategic merge patch, not %zu",
		       ydoc_count(p.doc));
		return -1;
	}
	return apply_targeted(c, &p, target, &o, ov_kpos(c, e, "target"), field);
}

static int patch_list(struct octx *c, const char *field)
{
	const json_t *list = ov_kfield(c, field);
	size_t i;
	json_t *e;

	if (list && !json_is_array(list)) {
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, field), "overlay-type",
		       "`%s` must be a list", field);
		return -1;
	}
	json_array_foreach(list, i, e)
		if (patch_entry(c, e, field, ov_kpos_item(c, list, i)) < 0)
			return -1;
	return 0;
}

int ov_patches(struct octx *c)
{
	return patch_list(c, "patches");
}

int ov_patches_json6902(struct octx *c)
{
	return patch_list(c, "patchesJson6902");
}

/* A patchesStrategicMerge entry is inline YAML when it reads as mappings, else a file name. */
static int is_inline_patch(const char *s)
{
	struct diags *tmp;
	struct ydoc *doc;
	int inline_yaml = 0;

	if (!strchr(s, '\n') && !strchr(s, ':'))
		return 0;
	tmp = diags_new();
	if (ydoc_load(&doc, "patch", s, strlen(s), NULL, tmp) == 0) {
		inline_yaml = all_mappings(doc);
		ydoc_free(doc);
	}
	diags_free(tmp);
	return inline_yaml;
}

int ov_patches_sm(struct octx *c)
{
	const char *field = "patchesStrategicMerge";
	const json_t *list = ov_kfield(c, field);
	struct patch_opts o = { 0, 0, 0 };
	size_t i;
	json_t *e;

	if (list && !json_is_array(list)) {
		ov_err(c, c->ov->file, ov_kpos(c, c->ov->kustomization, field), "overlay-type",
		       "`%s` must be a list", field);
		return -1;
	}
	json_array_foreach(list, i, e) {
		const char *s = json_string_value(e);
		struct ypos pos = ov_kpos_item(c, list, i);
		struct patch p;

		if (!s) {
			ov_err(c, c->ov->file, pos, "overlay-type",
			       "`%s` entries must be file names or inline patches", field);
			return -1;
		}
		if (load_patch(&p, c, is_inline_patch(s) ? NULL : s, s, pos) < 0)
			return -1;
		if (p.json) {
			ov_err(c, p.file, p.pos, "overlay-patch",
			       "`%s` takes strategic merge patches; put JSON 6902 operations in "
			       "`patches` with a `target`", field);
			return -1;
		}
		if (apply_named(c, &p, &o) < 0)
			return -1;
	}
	return 0;
}
