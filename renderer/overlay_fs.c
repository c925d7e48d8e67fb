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
#include "strvec.h"
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

/* Split a path at '/', joining parts around an escaped "\/". */
static void split_path(struct strvec *out, const char *path)
{
	struct strbuf part = STRBUF_INIT;

	for (const char *p = path;;) {
		size_t n = strcspn(p, "\\/");

		strbuf_add(&part, p, n);
		p += n;
		if (*p == '\\') {
			int slash = p[1] == '/'; /* any other backslash is itself */

			strbuf_addch(&part, slash ? '/' : '\\');
			p += slash ? 2 : 1;
			continue;
		}
		strvec_push(out, part.buf);
		strbuf_reset(&part);
		if (!*p++)
			break;
	}
	strbuf_release(&part);
}

struct fs_walk {
	const struct strvec *parts;
	enum ov_create create_kind;
	int create;
	ov_fs_fn fn;
	void *payload;
	struct strbuf *err;
};

static int walk(json_t *node, size_t i, const struct fs_walk *w);

static int walk_field(json_t *node, size_t i, const struct fs_walk *w)
{
	const char *part = w->parts->v[i];
	size_t len = strlen(part);
	int is_list = len >= 2 && !strcmp(part + len - 2, "[]");
	char *name = xstrndup(part, is_list ? len - 2 : len);
	int last = i + 1 == w->parts->nr;
	int may_create = w->create && w->create_kind != OV_CREATE_NONE && !is_list;
	json_t *v = json_object_get(node, name);
	int ret = 0;

	if (json_is_null(v))
		v = NULL;
	if (last && (v || may_create)) {
		if (!v && w->create_kind == OV_CREATE_MAP)
			json_object_set_new(node, name, json_object());
		ret = w->fn(node, name, w->payload, w->err);
	} else if (!last && (v || may_create)) {
		if (!v) {
			v = json_object();
			json_object_set_new(node, name, v);
		}
		ret = walk(v, i + 1, w);
	}
	free(name);
	return ret;
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
		strbuf_addf(w->err, "expected a mapping or a list on the way to `%s`",
			    w->parts->v[i]);
		return -1;
	}
	return walk_field(node, i, w);
}

int ov_fs_apply(json_t *obj, const struct ov_fieldspec *fs, enum ov_create create_kind,
		ov_fs_fn fn, void *payload, struct strbuf *err)
{
	struct strvec parts = STRVEC_INIT;
	struct fs_walk w = { &parts, create_kind, fs->create, fn, payload, err };
	int ret;

	if (!ov_fs_matches(fs, obj))
		return 0;
	split_path(&parts, fs->path);
	ret = walk(obj, 0, &w);
	strvec_clear(&parts);
	return ret;
}
