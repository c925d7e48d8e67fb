/*
 * app.yaml: the simple part of an app repo (DESIGN.md "The app repo").
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "generate.h"
#include "k8s.h"
#include "strbuf.h"
#include "util.h"
#include "validate_internal.h"
#include "banned.h"

#define APP_FILE "app.yaml"

/* Where a key of app.yaml is: the top level, or one environment's overrides. */
struct app_scope {
	struct vctx *v;
	const json_t *obj;
	const char *prefix; /* "" or "environments.prod." */
};

typedef void (*app_check_fn)(const struct app_scope *s, const char *key);

static const char *const app_keys[] = {
	"name", "build", "image", "port", "replicas", "env",
	"cpu", "memory", "health", "host", "environments",
};

static struct ypos pos_of(const struct app_scope *s, const char *key)
{
	return vpos_val(s->v->app_doc, s->obj, key);
}

static const struct ymember *member(const struct app_scope *s, const char *key)
{
	return ydoc_member(s->v->app_doc, s->obj, key);
}

static void __attribute__((format(printf, 4, 5)))
app_error(const struct app_scope *s, const char *key, const char *rule, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	verror(s->v, APP_FILE, pos_of(s, key), rule, "`%s%s` %s", s->prefix, key, msg.buf);
	strbuf_release(&msg);
}

/* The string value of key, or NULL after reporting what it is instead. */
static const char *app_string(const struct app_scope *s, const char *key, const char *rule)
{
	json_t *v = json_object_get(s->obj, key);
	struct strbuf why = STRBUF_INIT;

	if (json_is_string(v))
		return json_string_value(v);
	describe_not_string(&why, v, member(s, key));
	app_error(s, key, rule, "must be a string: %s", why.buf);
	strbuf_release(&why);
	return NULL;
}

/* An integer in [min, max], refusing YAML 1.1 surprises such as 0755. */
static void app_integer(const struct app_scope *s, const char *key, const char *rule,
			json_int_t min, json_int_t max)
{
	json_t *v = json_object_get(s->obj, key);
	struct strbuf why = STRBUF_INIT;

	const struct ymember *m = member(s, key);
	unsigned long digits;

	if (describe_octal(&why, v, m) || (!json_is_integer(v) && describe_surprise(&why, v, m)))
		app_error(s, key, rule, "must be a whole number: %s", why.buf);
	else if (json_is_string(v) && !parse_uint(json_string_value(v), ULONG_MAX, &digits))
		app_error(s, key, rule, "must be a whole number, not a string; remove the quotes");
	else if (json_is_real(v))
		app_error(s, key, rule, "must be a whole number, not %g", json_real_value(v));
	else if (!json_is_integer(v))
		app_error(s, key, rule, "must be a whole number, not %s", describe_type(v));
	else if (json_integer_value(v) < min || json_integer_value(v) > max)
		app_error(s, key, rule, "must be between %" JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT
			  ", not %" JSON_INTEGER_FORMAT, min, max, json_integer_value(v));
	strbuf_release(&why);
}

static void check_name(const struct app_scope *s, const char *key)
{
	const char *name = app_string(s, key, "app-name");
	const char *why = name ? k8s_check_dns1035_label(name) : NULL;

	if (why)
		app_error(s, key, "app-name",
			  "must be a DNS label such as `hello` (it names the Deployment, the Service "
			  "and the namespace): `%s` %s", name, why);
}

static void check_build(const struct app_scope *s, const char *key)
{
	const char *path = app_string(s, key, "app-build");
	struct strbuf norm = STRBUF_INIT;

	if (!path)
		return;
	if (source_path_join(&norm, "", path) < 0)
		app_error(s, key, "app-build",
			  "must name a Dockerfile inside the repository, such as `Dockerfile`, not `%s`",
			  path);
	else if (source_stat(s->v->src, norm.buf) == SOURCE_NONE)
		app_error(s, key, "app-build", "names `%s`, which does not exist in the repository",
			  path);
	else if (source_stat(s->v->src, norm.buf) != SOURCE_FILE)
		app_error(s, key, "app-build", "must name a regular file (the Dockerfile), and `%s` is not one",
			  path);
	strbuf_release(&norm);
}

static void check_image(const struct app_scope *s, const char *key)
{
	const char *image = app_string(s, key, "app-image");
	struct k8s_image parts;
	const char *why = image ? k8s_parse_image(image, &parts) : NULL;

	if (why)
		app_error(s, key, "app-image", "must be an image reference such as `nginx:1.27`: `%s` %s",
			  image, why);
}

static void check_port(const struct app_scope *s, const char *key)
{
	app_integer(s, key, "app-port", 1, 65535);
}

static void check_replicas(const struct app_scope *s, const char *key)
{
	app_integer(s, key, "app-replicas", 0, 2147483647);
}

/* Environment variable names as Kubernetes has long required: C identifiers plus '-' and '.'. */
static int valid_env_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("_-.", *s)))
			return 0;
	return 1;
}

static void check_env_var(const struct app_scope *s, const json_t *env, const char *name)
{
	const struct ymember *m = ydoc_member(s->v->app_doc, env, name);
	struct ypos kpos = vpos_key(s->v->app_doc, env, name);
	json_t *value = json_object_get(env, name);
	struct strbuf why = STRBUF_INIT;

	if (m && m->key_source) {
		verror(s->v, APP_FILE, kpos, "app-env", "`%senv` name `%s` was read as `%s`; quote it",
		       s->prefix, m->key_source, name);
	} else if (!valid_env_name(name)) {
		verror(s->v, APP_FILE, kpos, "app-env",
		       "`%senv` name `%s` must hold only letters, digits, '_', '-' and '.', and not "
		       "start with a digit", s->prefix, name);
	} else if (json_is_null(value)) {
		verror(s->v, APP_FILE, m ? m->value : kpos, "app-env",
		       "`%senv.%s` has no value; write \"\" for an empty string", s->prefix, name);
	} else if (!json_is_string(value)) {
		describe_not_string(&why, value, m);
		verror(s->v, APP_FILE, m ? m->value : kpos, "app-env",
		       "`%senv.%s` must be a string (env values are strings): %s", s->prefix, name,
		       why.buf);
	}
	strbuf_release(&why);
}

static void check_env(const struct app_scope *s, const char *key)
{
	json_t *env = json_object_get(s->obj, key);
	const char *name;
	json_t *value;

	if (!json_is_object(env)) {
		app_error(s, key, "app-env", "must be a mapping of NAME: value, not %s",
			  describe_type(env));
		return;
	}
	json_object_foreach(env, name, value)
		check_env_var(s, env, name);
}

/* cpu and memory: Kubernetes quantities, as strings or plain numbers. */
static int app_quantity(const struct app_scope *s, const char *key, double *out)
{
	json_t *v = json_object_get(s->obj, key);
	const char *rule = !strcmp(key, "cpu") ? "app-cpu" : "app-memory";
	const char *example = !strcmp(key, "cpu") ? "250m or 1" : "256Mi or 1Gi";
	const struct ymember *m = member(s, key);

	if (json_is_number(v) && !(m && m->source)) {
		*out = json_number_value(v);
	} else if (!json_is_string(v) || k8s_parse_quantity(json_string_value(v), out) < 0) {
		struct strbuf why = STRBUF_INIT;

		if (json_is_string(v))
			strbuf_addf(&why, "not `%s`", json_string_value(v));
		else if (!describe_surprise(&why, v, m))
			strbuf_addf(&why, "not %s", describe_type(v));
		app_error(s, key, rule, "must be a quantity such as %s: %s", example, why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (*out <= 0) {
		app_error(s, key, rule, "must be more than zero");
		return -1;
	}
	return 0;
}

static void check_cpu(const struct app_scope *s, const char *key)
{
	double cores;

	if (!app_quantity(s, key, &cores) && cores < 0.001)
		app_error(s, key, "app-cpu", "is less than 1m, the smallest CPU unit");
}

static void check_memory(const struct app_scope *s, const char *key)
{
	const char *text = json_string_value(json_object_get(s->obj, key));
	double bytes;

	if (app_quantity(s, key, &bytes) < 0)
		return;
	/* "256m" is 0.256 bytes: almost always meant as 256Mi. */
	if (text && ends_with(text, "m"))
		app_error(s, key, "app-memory", "is `%s`, %g bytes (m means milli); did you mean `%.*sMi`?",
			  text, bytes, (int)strlen(text) - 1, text);
	else if (bytes < 1024 * 1024)
		app_error(s, key, "app-memory",
			  "is only %.0f bytes; write a unit, such as 256Mi or 1Gi", bytes);
}

static void check_health(const struct app_scope *s, const char *key)
{
	const char *path = app_string(s, key, "app-health");

	if (!path)
		return;
	if (path[0] != '/' || path[1] == '/')
		app_error(s, key, "app-health",
			  "must be an absolute URL path such as `/healthz`, not `%s`", path);
	else if (strlen(path) > 1024 || strpbrk(path, " \t\r\n#"))
		app_error(s, key, "app-health",
			  "must be a URL path without spaces or '#', at most 1024 characters");
}

static void check_host(const struct app_scope *s, const char *key)
{
	const char *host = app_string(s, key, "app-host");
	const char *name = host && starts_with(host, "*.") ? host + 2 : host;
	const char *why = name ? k8s_check_dns_subdomain(name) : NULL;

	if (!host)
		return;
	if (strstr(host, "://") || strchr(host, '/'))
		app_error(s, key, "app-host",
			  "must be a host name such as `hello.example.com`, without a scheme or path, "
			  "not `%s`", host);
	else if (strchr(host, ':'))
		app_error(s, key, "app-host",
			  "must be a host name without a port (the Ingress listens on 80 and 443), not `%s`",
			  host);
	else if (why)
		app_error(s, key, "app-host", "must be a host name such as `hello.example.com`: `%s` %s",
			  host, why);
}

static void check_environments(const struct app_scope *s, const char *key);

static const struct app_rule {
	const char *key;
	app_check_fn check;
} app_rules[] = {
	{ "name", check_name },		{ "build", check_build },   { "image", check_image },
	{ "port", check_port },		{ "replicas", check_replicas }, { "env", check_env },
	{ "cpu", check_cpu },		{ "memory", check_memory }, { "health", check_health },
	{ "host", check_host },		{ "environments", check_environments },
};

/* Exactly one source for the image: a Dockerfile to build or an image to run. */
static void check_build_or_image(const struct app_scope *s)
{
	int build = json_object_get(s->obj, "build") != NULL;
	int image = json_object_get(s->obj, "image") != NULL;

	if (build && image)
		verror(s->v, APP_FILE, vpos_key(s->v->app_doc, s->obj, "image"), "app-build-image",
		       "set either `%sbuild` or `%simage`, not both", s->prefix, s->prefix);
	else if (!build && !image && !*s->prefix)
		verror(s->v, APP_FILE, ydoc_pos(s->v->app_doc, s->obj), "app-build-image",
		       "app.yaml must set `build` (a Dockerfile to build) or `image` (an image to run)");
}

static void check_keys(const struct app_scope *s)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)s->obj, key, value) {
		struct ypos kpos = vpos_key(s->v->app_doc, s->obj, key);
		size_t i;

		for (i = 0; i < ARRAY_SIZE(app_rules) && strcmp(app_rules[i].key, key); i++)
			;
		if (i == ARRAY_SIZE(app_rules))
			vunknown_key(s->v, APP_FILE, kpos, "app-unknown-key", "key", key, NULL, app_keys,
				     ARRAY_SIZE(app_keys));
		else if (*s->prefix && (!strcmp(key, "name") || !strcmp(key, "environments")))
			verror(s->v, APP_FILE, kpos, "app-environments",
			       "`%s` cannot be set per environment: it is the same in every environment",
			       key);
		else
			app_rules[i].check(s, key);
	}
	check_build_or_image(s);
}

static const char **env_names(const struct gitd_config *cfg)
{
	const char **names = xcalloc(config_env_count(cfg) + 1, sizeof(*names));

	for (size_t i = 0; i < config_env_count(cfg); i++)
		names[i] = config_env(cfg, i)->name;
	return names;
}

static void check_environments(const struct app_scope *s, const char *key)
{
	json_t *envs = json_object_get(s->obj, key);
	const char **names = env_names(s->v->cfg);
	const char *env;
	json_t *overrides;

	if (!json_is_object(envs)) {
		app_error(s, key, "app-environments",
			  "must be a mapping of environment names to overrides, not %s",
			  describe_type(envs));
		free(names);
		return;
	}
	json_object_foreach(envs, env, overrides) {
		char *prefix = xstrfmt("environments.%s.", env);
		struct app_scope sub = { s->v, overrides, prefix };

		if (!config_env_find(s->v->cfg, env))
			vunknown_key(s->v, APP_FILE, vpos_key(s->v->app_doc, envs, env),
				     "app-environments", "environment", env, NULL, names,
				     config_env_count(s->v->cfg));
		else if (json_is_object(overrides))
			check_keys(&sub);
		else if (!json_is_null(overrides))
			verror(s->v, APP_FILE, vpos_val(s->v->app_doc, envs, env), "app-environments",
			       "`environments.%s` must be a mapping of overrides, not %s", env,
			       describe_type(overrides));
		free(prefix);
	}
	free(names);
}

/* The app is named in app.yaml, or after its repository. */
static void settle_name(struct vctx *v, const char *repo_name)
{
	const char *name = json_string_value(json_object_get(v->app_yaml, "name"));
	const char *why;

	if (name) {
		v->app = xstrdup(name); /* check_name() reports a bad one */
		return;
	}
	v->app = xstrdup(repo_name);
	why = k8s_check_dns1035_label(repo_name);
	if (why)
		verror(v, v->app_yaml ? APP_FILE : "", ydoc_pos(v->app_doc, v->app_yaml), "app-name",
		       "the app is named after its repository, `%s`, which is not a DNS label (%s); "
		       "set `name:` in app.yaml", repo_name, why);
}

static void check_namespaces(struct vctx *v)
{
	struct ypos pos = vpos_val(v->app_doc, v->app_yaml, "name");

	if (k8s_check_dns1035_label(v->app))
		return; /* already reported */
	for (size_t i = 0; i < config_env_count(v->cfg); i++) {
		const char *env = config_env(v->cfg, i)->name;
		char *ns = vnamespace(v, env);
		const char *why = k8s_check_dns_label(ns);

		if (venv_wanted(v, env) && why)
			verror(v, v->app_yaml ? APP_FILE : "", pos, "app-name",
			       "the app's namespace in environment %s, `%s`, %s; choose a shorter name",
			       env, ns, why);
		free(ns);
	}
}

static int set_anywhere(const json_t *app, const char *key)
{
	const char *env;
	json_t *overrides;

	if (json_object_get(app, key))
		return 1;
	json_object_foreach(json_object_get(app, "environments"), env, overrides)
		if (json_object_get(overrides, key))
			return 1;
	return 0;
}

/*
 * The objects generate_objects() makes from app.yaml, for duplicate and
 * patch-target checks: change both together.
 */
static void register_generated(struct vctx *v)
{
	struct vobj o;

	memset(&o, 0, sizeof(o));
	o.file = APP_FILE;
	o.name = v->app;
	o.pos = ydoc_pos(v->app_doc, v->app_yaml);
	o.group = "apps";
	o.kind = "Deployment";
	vobj_add(v, &o);
	if (set_anywhere(v->app_yaml, "port")) {
		o.group = "";
		o.kind = "Service";
		vobj_add(v, &o);
	}
	if (set_anywhere(v->app_yaml, "host")) {
		o.group = "networking.k8s.io";
		o.kind = "Ingress";
		vobj_add(v, &o);
	}
}

/* Where key is set for env: in its overrides if there, else at the top level. */
static struct ypos setting_pos(const struct vctx *v, const char *env, const char *key)
{
	const json_t *ov = json_object_get(json_object_get(v->app_yaml, "environments"), env);

	if (json_object_get(ov, key))
		return vpos_key(v->app_doc, ov, key);
	return vpos_key(v->app_doc, v->app_yaml, key);
}

/* The probes and the Ingress reach the app through its port: `health` and `host` need one. */
static void check_port_needed(struct vctx *v)
{
	static const char *const why[][2] = {
		{ "health", "the readiness and liveness probes connect to it" },
		{ "host", "the Ingress sends traffic to it through the Service" },
	};

	for (size_t i = 0; i < config_env_count(v->cfg); i++) {
		const char *env = config_env(v->cfg, i)->name;
		json_t *s = generate_settings(v->app_yaml, env);

		for (size_t j = 0; venv_wanted(v, env) && j < ARRAY_SIZE(why); j++)
			if (json_object_get(s, why[j][0]) && !json_object_get(s, "port"))
				verror(v, APP_FILE, setting_pos(v, env, why[j][0]), "app-port",
				       "`%s` needs `port`, the port the container listens on: %s",
				       why[j][0], why[j][1]);
		json_decref(s);
	}
}

/* latest_tag on the image each checked environment runs. */
static void check_app_images(struct vctx *v)
{
	const json_t *envs = json_object_get(v->app_yaml, "environments");
	const char *top = json_string_value(json_object_get(v->app_yaml, "image"));
	int top_used = 0;

	for (size_t i = 0; i < config_env_count(v->cfg); i++) {
		const char *env = config_env(v->cfg, i)->name;
		const json_t *ov = json_object_get(envs, env);
		const char *image = json_string_value(json_object_get(ov, "image"));

		if (!venv_wanted(v, env))
			continue;
		if (!image) {
			top_used |= !json_object_get(ov, "build");
			continue;
		}
		validate_image_tag(v, APP_FILE, vpos_val(v->app_doc, ov, "image"), "image", image, NULL, 0);
	}
	if (top && top_used)
		validate_image_tag(v, APP_FILE, vpos_val(v->app_doc, v->app_yaml, "image"), "image", top,
				   NULL, 0);
}

static void load_app_yaml(struct vctx *v)
{
	const struct ydoc *doc = vload(v, APP_FILE);
	json_t *root;

	if (!doc)
		return;
	v->app_doc = doc;
	if (ydoc_count(doc) > 1)
		verror(v, APP_FILE, ydoc_root_pos(doc, 1), "app-type",
		       "app.yaml must hold one YAML document, not %zu", ydoc_count(doc));
	root = ydoc_root(doc, 0);
	if (!root) {
		verror(v, APP_FILE, ydoc_root_pos(doc, 0), "app-build-image",
		       "app.yaml is empty: set `build` (a Dockerfile to build) or `image` (an image to run)");
	} else if (!json_is_object(root)) {
		verror(v, APP_FILE, ydoc_root_pos(doc, 0), "app-type",
		       "app.yaml must be a mapping of settings such as `image: nginx:1.27`, not %s",
		       describe_type(root));
	} else {
		v->app_yaml = root;
	}
}

void validate_app_yaml(struct vctx *v, const char *repo_name)
{
	if (source_stat(v->src, APP_FILE) != SOURCE_NONE)
		load_app_yaml(v);
	settle_name(v, repo_name);
	check_namespaces(v);
	if (v->app_yaml) {
		struct app_scope top = { v, v->app_yaml, "" };

		check_keys(&top);
		register_generated(v);
		check_port_needed(v);
		check_app_images(v);
	}
}
