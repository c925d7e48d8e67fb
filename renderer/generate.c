/*
 * Generation from app.yaml: see generate.h for what comes out and why.
 * Key order does not matter here: yamlemit writes every mapping in
 * kustomize's order.
 */
#include "generate.h"

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "banned.h"

/* ---- settings ---- */

/* Lay one environment's overrides over settings. */
static void apply_overrides(json_t *settings, const json_t *overrides)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)overrides, key, value) {
		json_t *cur = json_object_get(settings, key);

		if (!strcmp(key, "env") && json_is_object(cur) && json_is_object(value)) {
			json_t *merged = json_deep_copy(cur);

			json_object_update(merged, value); /* keeps the order of names already set */
			json_object_set_new(settings, key, merged);
			continue;
		}
		if (!strcmp(key, "image"))
			json_object_del(settings, "build");
		else if (!strcmp(key, "build"))
			json_object_del(settings, "image");
		json_object_set_new(settings, key, json_deep_copy(value));
	}
}

json_t *generate_settings(const json_t *app_yaml, const char *env)
{
	json_t *settings = json_deep_copy(app_yaml);
	json_t *envs;

	if (!json_is_object(settings)) {
		json_decref(settings);
		return json_object();
	}
	envs = json_object_get(settings, "environments");
	if (env && json_is_object(json_object_get(envs, env)))
		apply_overrides(settings, json_object_get(envs, env));
	json_object_del(settings, "environments");
	return settings;
}

const char *generate_build_file(const json_t *app_yaml, const char *env)
{
	const json_t *envs = json_object_get(app_yaml, "environments");
	const json_t *ov = env ? json_object_get(envs, env) : NULL;

	if (json_object_get(ov, "build"))
		return json_string_value(json_object_get(ov, "build"));
	if (json_object_get(ov, "image"))
		return NULL;
	return json_string_value(json_object_get(app_yaml, "build"));
}

/* ---- building blocks ---- */

/* app.kubernetes.io/name and instance: what selectors use. */
static json_t *selector_labels(const struct generate_in *in)
{
	return json_pack("{s:s, s:s}", "app.kubernetes.io/name", in->app,
			 "app.kubernetes.io/instance", in->instance);
}

static json_t *all_labels(const struct generate_in *in)
{
	json_t *labels = selector_labels(in);

	json_object_set_new(labels, "app.kubernetes.io/managed-by", json_string(GENERATE_MANAGED_BY));
	return labels;
}

static json_t *new_object(const char *api_version, const char *kind, const struct generate_in *in)
{
	return json_pack("{s:s, s:s, s:{s:s, s:o}}", "apiVersion", api_version, "kind", kind,
			 "metadata", "name", in->app, "labels", all_labels(in));
}

/* A quantity as Kubernetes prints it: "250m", "1", "0.5" (app.yaml may give a number). */
static json_t *quantity(const json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return json_string(json_string_value(v));
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, sizeof(buf), "%.15g", json_number_value(v));
	return json_string(buf);
}

/* requests and limits, both the same; NULL when neither cpu nor memory is set. */
static json_t *container_resources(const json_t *settings)
{
	static const char *const keys[] = { "cpu", "memory" };
	json_t *amounts = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const json_t *v = json_object_get(settings, keys[i]);

		if (json_is_string(v) || json_is_number(v))
			json_object_set_new(amounts, keys[i], quantity(v));
	}
	if (!json_object_size(amounts)) {
		json_decref(amounts);
		return NULL;
	}
	return json_pack("{s:O, s:o}", "requests", amounts, "limits", amounts);
}

static json_t *container_env(const json_t *env)
{
	json_t *list = json_array();
	const char *name;
	json_t *value;

	json_object_foreach((json_t *)env, name, value)
		json_array_append_new(list, json_pack("{s:s, s:s}", "name", name, "value",
						      json_string_value(value)));
	return list;
}

static json_t *http_probe(const char *path)
{
	return json_pack("{s:{s:s, s:s}}", "httpGet", "path", path, "port", "http");
}

/* ---- checks ---- */

static int want_string(const json_t *settings, const char *key, struct strbuf *err)
{
	const json_t *v = json_object_get(settings, key);

	if (!v || json_is_string(v))
		return 0;
	strbuf_addf(err, "app.yaml: `%s` must be a string", key);
	return -1;
}

static int want_int(const json_t *settings, const char *key, json_int_t min, json_int_t max,
		    struct strbuf *err)
{
	const json_t *v = json_object_get(settings, key);

	if (!v || (json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max))
		return 0;
	strbuf_addf(err, "app.yaml: `%s` must be a whole number from %" JSON_INTEGER_FORMAT
		    " to %" JSON_INTEGER_FORMAT, key, min, max);
	return -1;
}

static int check_env_map(const json_t *env, struct strbuf *err)
{
	const char *name;
	json_t *value;

	if (!env)
		return 0;
	if (!json_is_object(env)) {
		strbuf_addstr(err, "app.yaml: `env` must be a mapping of names to strings");
		return -1;
	}
	json_object_foreach((json_t *)env, name, value) {
		if (!json_is_string(value)) {
			strbuf_addf(err, "app.yaml: `env.%s` must be a string", name);
			return -1;
		}
	}
	return 0;
}

static int check_quantity(const json_t *settings, const char *key, struct strbuf *err)
{
	const json_t *v = json_object_get(settings, key);

	if (!v || json_is_string(v) || json_is_number(v))
		return 0;
	strbuf_addf(err, "app.yaml: `%s` must be a quantity", key);
	return -1;
}

/* What a validated app.yaml guarantees, checked again so that nothing odd is rendered. */
static int check_settings(const json_t *s, struct strbuf *err)
{
	int port = json_object_get(s, "port") != NULL;

	if (want_string(s, "image", err) || want_string(s, "build", err) ||
	    want_string(s, "health", err) || want_string(s, "host", err) ||
	    want_int(s, "port", 1, 65535, err) || want_int(s, "replicas", 0, INT32_MAX, err) ||
	    check_env_map(json_object_get(s, "env"), err) || check_quantity(s, "cpu", err) ||
	    check_quantity(s, "memory", err))
		return -1;
	if (!port && json_object_get(s, "health")) {
		strbuf_addstr(err, "app.yaml: `health` needs `port`: the probes connect to it");
		return -1;
	}
	if (!port && json_object_get(s, "host")) {
		strbuf_addstr(err, "app.yaml: `host` needs `port`: the Ingress sends traffic to it");
		return -1;
	}
	return 0;
}

/* ---- objects ---- */

static json_t *container(const struct generate_in *in, const json_t *s, const char *image)
{
	const json_t *port = json_object_get(s, "port");
	const char *health = json_string_value(json_object_get(s, "health"));
	json_t *resources = container_resources(s);
	json_t *c = json_pack("{s:s, s:s, s:{s:b, s:{s:[s]}}}", "name", in->app, "image", image,
			      "securityContext", "allowPrivilegeEscalation", 0, "capabilities",
			      "drop", "ALL");

	if (port)
		json_object_set_new(c, "ports", json_pack("[{s:I, s:s, s:s}]", "containerPort",
							  json_integer_value(port), "name", "http",
							  "protocol", "TCP"));
	if (json_object_size(json_object_get(s, "env")))
		json_object_set_new(c, "env", container_env(json_object_get(s, "env")));
	if (resources)
		json_object_set_new(c, "resources", resources);
	if (health) {
		json_object_set_new(c, "readinessProbe", http_probe(health));
		json_object_set_new(c, "livenessProbe", http_probe(health));
	}
	return c;
}

static json_t *deployment(const struct generate_in *in, const json_t *s, const char *image)
{
	json_t *d = new_object("apps/v1", "Deployment", in);
	json_t *spec = json_pack("{s:{s:o}, s:{s:{s:o}, s:{s:{s:b, s:{s:s}}, s:[o]}}}",
				 "selector", "matchLabels", selector_labels(in),
				 "template", "metadata", "labels", all_labels(in),
				 "spec", "securityContext", "runAsNonRoot", 1,
				 "seccompProfile", "type", "RuntimeDefault",
				 "containers", container(in, s, image));

	if (json_object_get(s, "replicas"))
		json_object_set(spec, "replicas", json_object_get(s, "replicas"));
	json_object_set_new(d, "spec", spec);
	return d;
}

static json_t *service(const struct generate_in *in)
{
	json_t *svc = new_object("v1", "Service", in);

	json_object_set_new(svc, "spec", json_pack("{s:[{s:s, s:i, s:s, s:s}], s:o}", "ports", "name",
						   "http", "port", 80, "protocol", "TCP",
						   "targetPort", "http", "selector",
						   selector_labels(in)));
	return svc;
}

static json_t *ingress(const struct generate_in *in, const char *host)
{
	json_t *ing = new_object("networking.k8s.io/v1", "Ingress", in);
	json_t *backend = json_pack("{s:{s:s, s:{s:s}}}", "service", "name", in->app, "port",
				    "name", "http");

	json_object_set_new(ing, "spec", json_pack("{s:[{s:s, s:{s:[{s:o, s:s, s:s}]}}]}", "rules",
						   "host", host, "http", "paths", "backend",
						   backend, "path", "/", "pathType", "Prefix"));
	return ing;
}

/* The image the Deployment runs, or NULL with err set. */
static const char *pick_image(const struct generate_in *in, const json_t *s, struct strbuf *err,
			      int *code)
{
	const char *image = json_string_value(json_object_get(s, "image"));

	*code = -1;
	if (json_object_get(s, "build")) {
		if (!in->built_image || !*in->built_image) {
			strbuf_addf(err, "no image built yet: app.yaml builds `%s`, and environment %s "
				    "needs the image that build pushed",
				    json_string_value(json_object_get(s, "build")), in->env);
			*code = GENERATE_NO_IMAGE;
		}
		return in->built_image;
	}
	if (!image)
		strbuf_addstr(err, "app.yaml sets neither `image` nor `build`");
	return image;
}

int generate_objects(json_t **out, const struct generate_in *in, struct strbuf *err)
{
	json_t *s = generate_settings(in->app_yaml, in->env);
	const char *host = json_string_value(json_object_get(s, "host"));
	const char *image;
	int ret = -1;

	*out = NULL;
	if (!json_is_object(in->app_yaml)) {
		strbuf_addstr(err, "app.yaml must be a mapping");
		goto cleanup;
	}
	if (check_settings(s, err) < 0)
		goto cleanup;
	image = pick_image(in, s, err, &ret);
	if (!image || !*image)
		goto cleanup;
	*out = json_pack("[o]", deployment(in, s, image));
	if (json_object_get(s, "port"))
		json_array_append_new(*out, service(in));
	if (host)
		json_array_append_new(*out, ingress(in, host));
	ret = 0;
cleanup:
	json_decref(s);
	return ret;
}
