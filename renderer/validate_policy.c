/*
 * The built-in policy (gitd.yaml `policy:`): each check is enforce (an
 * error), warn (a warning) or off.
 *
 *   latest_tag        images without a tag or digest, or tagged latest
 *   plaintext_secret  Secrets with data or stringData in git
 *   privileged        privileged containers, privilege escalation, host
 *                     namespaces, hostPath volumes
 *   requests          containers without cpu or memory requests
 */
#include <stdlib.h>
#include <string.h>

#include "k8s.h"
#include "strbuf.h"
#include "util.h"
#include "validate_internal.h"
#include "banned.h"

/* Where the pod spec of a workload is. */
static const struct pod_path {
	const char *kind;
	const char *path[5];
} pod_paths[] = {
	{ "Pod", { "spec" } },
	{ "Deployment", { "spec", "template", "spec" } },
	{ "StatefulSet", { "spec", "template", "spec" } },
	{ "DaemonSet", { "spec", "template", "spec" } },
	{ "ReplicaSet", { "spec", "template", "spec" } },
	{ "ReplicationController", { "spec", "template", "spec" } },
	{ "Job", { "spec", "template", "spec" } },
	{ "CronJob", { "spec", "jobTemplate", "spec", "template", "spec" } },
};

static const char *const container_lists[] = { "initContainers", "containers" };

/* The built-in groups that define the workload kinds above. */
static int workload_group(const char *group)
{
	return !strcmp(group, "") || !strcmp(group, "apps") || !strcmp(group, "batch") ||
	       !strcmp(group, "extensions");
}

static json_t *pod_spec(const struct vobj *o)
{
	if (!workload_group(o->group))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(pod_paths); i++) {
		json_t *node = o->obj;

		if (strcmp(pod_paths[i].kind, o->kind))
			continue;
		for (size_t j = 0; node && j < ARRAY_SIZE(pod_paths[i].path) && pod_paths[i].path[j]; j++)
			node = json_object_get(node, pod_paths[i].path[j]);
		return json_is_object(node) ? node : NULL;
	}
	return NULL;
}

static const char *container_name(const json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));

	return name ? name : "?";
}

/* Environments (checked in this run, and where the object is) whose overlay does not pin name. */
static void unpinned_envs(struct vctx *v, const char *env, const char *name, struct strvec *out,
			  size_t *considered)
{
	for (size_t i = 0; i < config_env_count(v->cfg); i++) {
		const char *e = config_env(v->cfg, i)->name;

		if (!venv_wanted(v, e) || (env && strcmp(env, e)))
			continue;
		(*considered)++;
		if (!validate_overlay_pins(v, e, name))
			strvec_push(out, e);
	}
}

void validate_image_tag(struct vctx *v, const char *file, struct ypos pos, const char *what,
			const char *image, const char *env, int use_overlays)
{
	int sev = vpolicy(v, "latest_tag");
	struct strvec envs = STRVEC_INIT;
	struct strbuf where = STRBUF_INIT;
	struct k8s_image img;
	size_t considered = 0;
	char *name;

	if (sev < 0 || k8s_parse_image(image, &img) ||
	    img.digest || (img.tag && !(img.tag_len == 6 && !memcmp(img.tag, "latest", 6))))
		return;
	name = xstrndup(image, img.name_len);
	if (use_overlays) {
		unpinned_envs(v, env, name, &envs, &considered);
		if (!envs.nr)
			goto cleanup; /* every overlay sets a tag or digest */
		if (envs.nr < considered)
			for (size_t i = 0; i < envs.nr; i++)
				strbuf_addf(&where, "%s%s", i ? ", " : " (in environment ", envs.v[i]);
		if (where.len)
			strbuf_addch(&where, ')');
	}
	if (img.tag)
		vreport(v, sev, file, pos, "latest-tag",
			"%s `%s` uses the `latest` tag%s: pin a version or a digest, so every deploy "
			"runs the image that was checked", what, image, where.buf);
	else
		vreport(v, sev, file, pos, "latest-tag",
			"%s `%s` has no tag%s, so it means `latest`: pin a version (`%s:1.2.3`) or a "
			"digest", what, image, where.buf, name);
cleanup:
	free(name);
	strvec_clear(&envs);
	strbuf_release(&where);
}

static void check_container_image(struct vctx *v, const struct vobj *o, const json_t *c,
				  const json_t *list, size_t i)
{
	json_t *image = json_object_get(c, "image");
	struct ypos pos = vpos_val(o->doc, c, "image");
	struct k8s_image img;
	const char *why;
	char *what;

	if (!json_is_string(image)) {
		verror(v, o->file, image ? pos : vpos_item(o->doc, list, i), "resource-image",
		       "container `%s` needs an `image` (a string such as nginx:1.27)", container_name(c));
		return;
	}
	why = k8s_parse_image(json_string_value(image), &img);
	if (why) {
		verror(v, o->file, pos, "resource-image",
		       "container `%s` image `%s` is not a valid image reference: it %s",
		       container_name(c), json_string_value(image), why);
		return;
	}
	what = xstrfmt("container `%s` image", container_name(c));
	validate_image_tag(v, o->file, pos, what, json_string_value(image), o->env, 1);
	free(what);
}

static void check_container_privileges(struct vctx *v, const struct vobj *o, const json_t *c,
				       int sev)
{
	json_t *sc = json_object_get(c, "securityContext");

	if (json_is_true(json_object_get(sc, "privileged")))
		vreport(v, sev, o->file, vpos_val(o->doc, sc, "privileged"), "privileged",
			"container `%s` runs privileged, with full access to the node", container_name(c));
	if (json_is_true(json_object_get(sc, "allowPrivilegeEscalation")))
		vreport(v, sev, o->file, vpos_val(o->doc, sc, "allowPrivilegeEscalation"), "privileged",
			"container `%s` allows privilege escalation; remove allowPrivilegeEscalation: true",
			container_name(c));
}

static void check_container_requests(struct vctx *v, const struct vobj *o, const json_t *c,
				     struct ypos pos)
{
	json_t *req = json_object_get(json_object_get(c, "resources"), "requests");
	int cpu = json_object_get(req, "cpu") != NULL, mem = json_object_get(req, "memory") != NULL;
	int sev = vpolicy(v, "requests");

	if (sev < 0 || (cpu && mem))
		return;
	vreport(v, sev, o->file, pos, "requests",
		"container `%s` has no %s request%s: set resources.requests so the scheduler can place "
		"it", container_name(c), !cpu && !mem ? "cpu or memory" : !cpu ? "cpu" : "memory",
		!cpu && !mem ? "s" : "");
}

static void check_containers(struct vctx *v, const struct vobj *o, const json_t *spec)
{
	int privileged = vpolicy(v, "privileged");

	for (size_t l = 0; l < ARRAY_SIZE(container_lists); l++) {
		json_t *list = json_object_get(spec, container_lists[l]);
		size_t i;
		json_t *c;

		json_array_foreach(list, i, c) {
			if (!json_is_object(c))
				continue;
			check_container_image(v, o, c, list, i);
			if (privileged >= 0)
				check_container_privileges(v, o, c, privileged);
			if (!strcmp(container_lists[l], "containers"))
				check_container_requests(v, o, c, vpos_item(o->doc, list, i));
		}
	}
}

static void check_pod_privileges(struct vctx *v, const struct vobj *o, const json_t *spec)
{
	static const char *const host_ns[] = { "hostNetwork", "hostPID", "hostIPC" };
	json_t *volumes = json_object_get(spec, "volumes");
	int sev = vpolicy(v, "privileged");
	size_t i;
	json_t *vol;

	if (sev < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(host_ns); i++)
		if (json_is_true(json_object_get(spec, host_ns[i])))
			vreport(v, sev, o->file, vpos_key(o->doc, spec, host_ns[i]), "privileged",
				"%s: true shares the node's namespace with the pod; remove it", host_ns[i]);
	json_array_foreach(volumes, i, vol) {
		if (json_object_get(vol, "hostPath"))
			vreport(v, sev, o->file, vpos_key(o->doc, vol, "hostPath"), "privileged",
				"volume `%s` mounts a hostPath, a directory of the node; use a "
				"PersistentVolumeClaim, a ConfigMap or an emptyDir",
				json_string_value(json_object_get(vol, "name")) ?
					json_string_value(json_object_get(vol, "name")) : "?");
	}
}

static void check_secret(struct vctx *v, const struct vobj *o)
{
	static const char *const fields[] = { "data", "stringData" };
	int sev = vpolicy(v, "plaintext_secret");

	if (sev < 0 || strcmp(o->group, "") || strcmp(o->kind, "Secret"))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		json_t *data = json_object_get(o->obj, fields[i]);

		if (json_is_object(data) && json_object_size(data)) {
			vreport(v, sev, o->file, vpos_key(o->doc, o->obj, fields[i]), "plaintext-secret",
				"Secret `%s` keeps its values in git as plain text (base64 is not "
				"encryption): use a SealedSecret or an ExternalSecret instead", o->name);
			return;
		}
	}
}

void validate_policy(struct vctx *v, const struct vobj *o)
{
	json_t *spec = pod_spec(o);

	check_secret(v, o);
	if (!spec)
		return;
	check_containers(v, o, spec);
	check_pod_privileges(v, o, spec);
}
