/*
 * kustomize's field specs: "apply to field PATH of objects of KIND (and
 * GROUP, VERSION)". A path is a list of field names separated by '/'
 * ("\/" is a slash inside a name); "name[]" says the field is a list. Any
 * list met on the way is entered element by element, named "[]" or not,
 * as kustomize's fieldspec filter does.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay_int.h"
#include "util.h"
#include "banned.h"

int ov_fs_matches(const struct ov_fieldspec *fs, const json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	char *group, *version;
	int match;

	if (fs->kind && (!kind || strcmp(fs->kind, kind)))
		return 0;
	if (!fs->group && !fs->version)
		return 1;
	ov_split_gv(json_string_value(json_object_get(obj, "apiVersion")), &group, &version);
	match = (!fs->group || !strcmp(fs->group, group)) &&
		(!fs->version || !strcmp(fs->version, version));
	free(group);
	free(version);
	return match;
}

/* One field name of a path; "name[]" says the field is a list. */
struct fs_part {
	const char *name;
	int is_list;
};

/* A path split once per ov_fs_apply(): the names point into buf. */
struct fs_path {
	char *buf;
	struct fs_part *v;
	size_t nr, alloc;
};

/* Split path at '/' (an escaped "\/" is part of a name), in place in a copy. */
static void split_path(struct fs_path *out, const char *path)
{
	char *w = out->buf = xstrdup(path), *name = w;

	for (const char *p = path;; p++) {
		size_t len;

		if (*p == '\\' && p[1] == '/') {
			*w++ = *++p;
			continue;
		}
		if (*p && *p != '/') {
			*w++ = *p;
			continue;
		}
		*w = '\0';
		len = (size_t)(w - name);
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr].is_list = len >= 2 && !strcmp(name + len - 2, "[]");
		if (out->v[out->nr].is_list)
			name[len - 2] = '\0';
		out->v[out->nr++].name = name;
		if (!*p)
			break;
		name = ++w;
	}
}

struct fs_walk {
	const struct fs_path *path;
	enum ov_create create_kind;
	int create;
	ov_fs_fn fn;
	void *payload;
	struct strbuf *err;
};

static int walk(json_t *node, size_t i, const struct fs_walk *w);

static int walk_field(json_t *node, size_t i, const struct fs_walk *w)
{
	const struct fs_part *part = &w->path->v[i];
	int last = i + 1 == w->path->nr;
	int may_create = w->create && w->create_kind != OV_CREATE_NONE && !part->is_list;
	json_t *v = json_object_get(node, part->name);

	if (json_is_null(v))
		v = NULL;
	if (!v && !may_create)
		return 0;
	if (last) {
		if (!v && w->create_kind == OV_CREATE_MAP)
			json_object_set_new(node, part->name, json_object());
		return w->fn(node, part->name, w->payload, w->err);
	}
	if (!v) {
		v = json_object();
		json_object_set_new(node, part->name, v);
	}
	return walk(v, i + 1, w);
}

static int walk(json_t *node, size_t i, const struct fs_walk *w)
{
	if (json_is_array(node)) {
		for (size_t j = 0; j < json_array_size(node); j++)
			if (walk(json_array_get(node, j), i, w) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(node)) {
		strbuf_addf(w->err, "expected a mapping or a list on the way to `%s%s`",
			    w->path->v[i].name, w->path->v[i].is_list ? "[]" : "");
		return -1;
	}
	return walk_field(node, i, w);
}

int ov_fs_apply(json_t *obj, const struct ov_fieldspec *fs, enum ov_create create_kind,
		ov_fs_fn fn, void *payload, struct strbuf *err)
{
	struct fs_path path = { NULL, NULL, 0, 0 };
	struct fs_walk w = { &path, create_kind, fs->create, fn, payload, err };
	int ret;

	if (!ov_fs_matches(fs, obj))
		return 0;
	split_path(&path, fs->path);
	ret = walk(obj, 0, &w);
	free(path.buf);
	free(path.v);
	return ret;
}
