#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "k8s.h"
#include "strbuf.h"
#include "suggest.h"
#include "util.h"
#include "yamlload.h"
#include "banned.h"

/* gitd.yaml is a page of settings; anything near this size is a mistake. */
#define CONFIG_MAX_BYTES (256 * 1024)
#define CONFIG_MAX_ENVS 64
#define CONFIG_MAX_MIRRORS 256

/* The effective config when gitd.yaml is empty: DESIGN.md's example. */
static const char default_config[] =
	"{\"listen\": \"127.0.0.1:2222\","
	" \"environments\": [{\"name\": \"dev\", \"ref\": \"refs/heads/main\"},"
	"                    {\"name\": \"staging\", \"ref\": \"refs/heads/main\"},"
	"                    {\"name\": \"prod\", \"ref\": \"refs/tags/v*\"}],"
	" \"builder\": {\"kind\": \"buildah\"},"
	" \"registry\": \"127.0.0.1:5000\","
	" \"registry_insecure\": false,"
	" \"mirrors\": [],"
	" \"policy\": {\"denied_kinds\": [\"Namespace\", \"ClusterRole\", \"ClusterRoleBinding\","
	"                                 \"CustomResourceDefinition\"],"
	"            \"allowed_cluster_kinds\": [],"
	"            \"latest_tag\": \"enforce\", \"plaintext_secret\": \"enforce\","
	"            \"privileged\": \"enforce\", \"requests\": \"warn\"},"
	" \"namespace\": \"{app}-{env}\","
	" \"metrics_listen\": \"\","
	" \"deploy_repo_url\": \"ssh://git@gitd.gitd.svc:22/deploy.git\","
	" \"log_format\": \"text\","
	" \"schemas\": null,"
	" \"limits\": {\"login_grace_time\": 30, \"max_unauthenticated\": 64,"
	"            \"max_unauthenticated_per_source\": 10, \"max_connections\": 500,"
	"            \"max_connections_per_user\": 250,"
	"            \"idle_timeout\": 600, \"keepalive_interval\": 30, \"max_auth_tries\": 6,"
	"            \"max_push_mb\": 2048}}";

static const char *const policy_checks[] = {
	"latest_tag", "plaintext_secret", "privileged", "requests",
};

struct gitd_config {
	json_t *root; /* effective config; every pointer below points into it */
	struct config_env *envs;
	size_t env_nr;
	struct config_mirror *mirrors;
	size_t mirror_nr;
	struct config_limits limits;
	enum policy_level policy[ARRAY_SIZE(policy_checks)];
};

/* The state of one validation pass over a loaded file. */
struct cfgcheck {
	const struct ydoc *doc;
	struct diags *d;
	const char *file;
};

typedef void (*check_fn)(struct cfgcheck *c, const json_t *obj, const char *key,
			 const char *path);

struct key_rule {
	const char *key;
	check_fn check;
};

static void __attribute__((format(printf, 4, 5)))
report(struct cfgcheck *c, struct ypos pos, const char *rule, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	diags_add(c->d, DIAG_ERROR, c->file, pos.line, pos.col, rule, "%s", msg.buf);
	strbuf_release(&msg);
}

static struct ypos value_pos(struct cfgcheck *c, const json_t *obj, const char *key)
{
	const struct ymember *m = ydoc_member(c->doc, obj, key);
	struct ypos none = { 0, 0 };

	return m ? m->value : none;
}

static struct ypos key_pos(struct cfgcheck *c, const json_t *obj, const char *key)
{
	const struct ymember *m = ydoc_member(c->doc, obj, key);
	struct ypos none = { 0, 0 };

	return m ? m->key : none;
}

static struct ypos item_pos(struct cfgcheck *c, const json_t *arr, size_t i)
{
	const struct ymember *m = ydoc_item(c->doc, arr, i);
	struct ypos none = { 0, 0 };

	return m ? m->value : none;
}

/* "`path` must be a string, not an integer" (or the YAML 1.1 explanation). */
static void type_error(struct cfgcheck *c, const json_t *obj, const char *key, const char *path,
		       const char *want)
{
	json_t *v = json_object_get(obj, key);
	const struct ymember *m = ydoc_member(c->doc, obj, key);
	struct strbuf why = STRBUF_INIT;

	if (!strcmp(want, "a string"))
		describe_not_string(&why, v, m);
	else if (!describe_surprise(&why, v, m))
		strbuf_addf(&why, "not %s", describe_type(v));
	report(c, value_pos(c, obj, key), "config-type", "`%s` must be %s: %s", path, want,
	       why.buf);
	strbuf_release(&why);
}

static const char *want_string(struct cfgcheck *c, const json_t *obj, const char *key,
			       const char *path)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return json_string_value(v);
	type_error(c, obj, key, path, "a string");
	return NULL;
}

static const json_t *want_type(struct cfgcheck *c, const json_t *obj, const char *key,
			       const char *path, json_type type)
{
	json_t *v = json_object_get(obj, key);

	if (json_typeof(v) == type)
		return v;
	type_error(c, obj, key, path, type == JSON_OBJECT ? "a mapping" : "a list");
	return NULL;
}

static void check_keys(struct cfgcheck *c, const json_t *obj, const char *prefix,
		       const struct key_rule *rules, size_t n)
{
	const char *names[32];
	const char *key;
	json_t *v;

	for (size_t i = 0; i < n && i < ARRAY_SIZE(names); i++)
		names[i] = rules[i].key;
	json_object_foreach((json_t *)obj, key, v) {
		char *path = xstrfmt("%s%s", prefix, key);
		size_t i;

		for (i = 0; i < n && strcmp(rules[i].key, key); i++)
			;
		if (i < n) {
			rules[i].check(c, obj, key, path);
		} else {
			const char *hint = suggest_word(key, names, n);

			report(c, key_pos(c, obj, key), "config-unknown-key", "unknown key `%s`%s%s%s",
			       path, hint ? "; did you mean `" : "", hint ? hint : "", hint ? "`?" : "");
		}
		free(path);
	}
}

/* Keys every item of a list section must have. */
static int require_keys(struct cfgcheck *c, const json_t *obj, struct ypos pos, const char *path,
			const char *const *keys, size_t n)
{
	int missing = 0;

	for (size_t i = 0; i < n; i++) {
		if (!json_object_get(obj, keys[i])) {
			report(c, pos, "config-missing-key", "`%s` needs `%s`", path, keys[i]);
			missing++;
		}
	}
	return missing ? -1 : 0;
}

/* HOST:PORT with a port in 1-65535; HOST may be [IPv6]. */
static int valid_hostport(const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;

	if (!colon || colon == s || parse_uint(colon + 1, 65535, &port) < 0 || !port)
		return 0;
	if (s[0] == '[')
		return colon[-1] == ']' && colon - s > 2;
	/* A bare IPv6 address is ambiguous: its last group reads as the port. */
	return memchr(s, ':', (size_t)(colon - s)) == NULL && !strpbrk(s, " /\t");
}

static void check_hostport(struct cfgcheck *c, const json_t *obj, const char *key,
			   const char *path)
{
	const char *s;

	if (!strcmp(key, "metrics_listen") &&
	    (json_is_false(json_object_get(obj, key)) || json_is_null(json_object_get(obj, key))))
		return; /* metrics_listen: off */
	s = want_string(c, obj, key, path);
	if (s && !(!strcmp(key, "metrics_listen") && !*s) && !valid_hostport(s))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must be HOST:PORT (e.g. 127.0.0.1:2222 or [::1]:2222), not `%s`", path,
		       s);
}

static void check_enum(struct cfgcheck *c, const json_t *obj, const char *key, const char *path,
		       const char *const *allowed, size_t n)
{
	const char *s = want_string(c, obj, key, path);
	struct strbuf list = STRBUF_INIT;
	const char *hint;

	if (!s)
		return;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, allowed[i]))
			return;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&list, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", allowed[i]);
	hint = suggest_word(s, allowed, n);
	report(c, value_pos(c, obj, key), "config-value", "`%s` must be %s, not `%s`%s%s%s", path,
	       list.buf, s, hint ? "; did you mean `" : "", hint ? hint : "", hint ? "`?" : "");
	strbuf_release(&list);
}

static void check_log_format(struct cfgcheck *c, const json_t *obj, const char *key,
			     const char *path)
{
	static const char *const formats[] = { "text", "json" };

	check_enum(c, obj, key, path, formats, ARRAY_SIZE(formats));
}

static void check_bool(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	if (!json_is_boolean(json_object_get(obj, key)))
		type_error(c, obj, key, path, "true or false");
}

static void check_path(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	if (!strcmp(path, "schemas") && json_is_null(json_object_get(obj, key)))
		return; /* schemas: ~ is the default, no schemas */
	const char *s = want_string(c, obj, key, path);

	if (s && !*s)
		report(c, value_pos(c, obj, key), "config-value", "`%s` must not be empty", path);
}

/* A URL git can fetch: a non-empty string without blanks or control characters. */
static void check_url(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	const char *s = want_string(c, obj, key, path);

	if (!s)
		return;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			report(c, value_pos(c, obj, key), "config-value",
			       "`%s` must be a URL without blanks", path);
			return;
		}
	}
	if (!*s || !strstr(s, "://"))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must be a URL such as ssh://git@gitd.example.com/deploy.git", path);
}

static void check_registry(struct cfgcheck *c, const json_t *obj, const char *key,
			   const char *path)
{
	const char *s = want_string(c, obj, key, path);

	if (!s)
		return;
	if (strstr(s, "://"))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` is a registry host, not a URL: write HOST[:PORT][/PATH] without `%.*s`",
		       path, (int)(strstr(s, "://") - s + 3), s);
	else if (!*s || strpbrk(s, " \t@") || s[0] == '/' || s[strlen(s) - 1] == '/')
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must be HOST[:PORT][/PATH] (e.g. 127.0.0.1:5000), not `%s`", path, s);
}

/* The namespace pattern must give a distinct, valid namespace for every app. */
static void check_namespace(struct cfgcheck *c, const json_t *obj, const char *key,
			    const char *path)
{
	const char *s = want_string(c, obj, key, path);
	struct strbuf sample = STRBUF_INIT;

	if (!s)
		return;
	for (const char *p = s; *p; p++) {
		if (starts_with(p, "{app}") || starts_with(p, "{env}")) {
			strbuf_addch(&sample, 'a');
			p += 4;
		} else {
			strbuf_addch(&sample, *p);
		}
	}
	if (!strstr(s, "{app}"))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must contain {app}, or every app would share one namespace", path);
	else if (k8s_check_dns_label(sample.buf))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must give a DNS label: {app} and {env} with lower-case letters, "
		       "digits and '-' between them, not `%s`",
		       path, s);
	strbuf_release(&sample);
}

static int valid_ref_pattern(const char *s)
{
	if (!starts_with(s, "refs/") || !s[5] || strstr(s, "..") || strstr(s, "//") ||
	    ends_with(s, "/") || ends_with(s, ".lock"))
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("~^:\\\x7f", *p))
			return 0;
	return 1;
}

static void check_env_name(struct cfgcheck *c, const json_t *obj, const char *key,
			   const char *path)
{
	const char *s = want_string(c, obj, key, path);
	const char *why = s ? k8s_check_dns_label(s) : NULL;

	if (why)
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must be a DNS label (it names a folder and a namespace): `%s` %s", path,
		       s, why);
}

static void check_env_ref(struct cfgcheck *c, const json_t *obj, const char *key,
			  const char *path)
{
	const char *s = want_string(c, obj, key, path);

	if (s && !valid_ref_pattern(s))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must be a full ref name or pattern such as refs/heads/main or "
		       "refs/tags/v*, not `%s`",
		       path, s);
}

/* Environment names are unique: each one is a folder of the deploy repo. */
static void check_env_unique(struct cfgcheck *c, const json_t *envs, size_t i)
{
	const char *name = json_string_value(json_object_get(json_array_get(envs, i), "name"));

	for (size_t j = 0; name && j < i; j++) {
		const json_t *other = json_array_get(envs, j);

		if (json_is_object(other) &&
		    json_equal(json_object_get(other, "name"), json_object_get(json_array_get(envs, i), "name"))) {
			report(c, value_pos(c, json_array_get(envs, i), "name"), "config-value",
			       "environment `%s` is defined twice (first in environments[%zu])", name, j);
			return;
		}
	}
}

static void check_environments(struct cfgcheck *c, const json_t *obj, const char *key,
			       const char *path)
{
	static const struct key_rule rules[] = {
		{ "name", check_env_name },
		{ "ref", check_env_ref },
	};
	static const char *const required[] = { "name", "ref" };
	const json_t *envs = want_type(c, obj, key, path, JSON_ARRAY);
	size_t n = json_array_size(envs);

	if (envs && (!n || n > CONFIG_MAX_ENVS)) {
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must list between 1 and %d environments", path, CONFIG_MAX_ENVS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *env = json_array_get(envs, i);
		char *item = xstrfmt("%s[%zu]", path, i);
		char *prefix = xstrfmt("%s.", item);

		if (!json_is_object(env)) {
			report(c, item_pos(c, envs, i), "config-type",
			       "`%s` must be a mapping with name and ref, not %s", item, describe_type(env));
		} else if (!require_keys(c, env, item_pos(c, envs, i), item, required,
					 ARRAY_SIZE(required))) {
			check_keys(c, env, prefix, rules, ARRAY_SIZE(rules));
			check_env_unique(c, envs, i);
		}
		free(prefix);
		free(item);
	}
}

static void check_builder_kind(struct cfgcheck *c, const json_t *obj, const char *key,
			       const char *path)
{
	static const char *const kinds[] = { "buildah", "command", "webhook", "none" };

	check_enum(c, obj, key, path, kinds, ARRAY_SIZE(kinds));
}

/* builder's whole-number keys and their ranges (docs/builds.md). */
static const struct builder_int_rule {
	const char *key;
	unsigned min, max;
} builder_ints[] = {
	{ "timeout", 1, 86400 },
	{ "max_parallel", 1, 64 },
	{ "request_timeout", 1, 600 },
	{ "retries", 0, 10 },
};

static void check_builder_int(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	json_t *v = json_object_get(obj, key);
	const struct builder_int_rule *rule = &builder_ints[0];

	for (size_t i = 0; i < ARRAY_SIZE(builder_ints); i++)
		if (!strcmp(builder_ints[i].key, key))
			rule = &builder_ints[i];
	if (!json_is_integer(v))
		type_error(c, obj, key, path, "a whole number");
	else if (json_integer_value(v) < rule->min || json_integer_value(v) > rule->max)
		report(c, value_pos(c, obj, key), "config-value", "`%s` must be between %u and %u, not %"
		       JSON_INTEGER_FORMAT, path, rule->min, rule->max, json_integer_value(v));
}

static void check_isolation(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	static const char *const modes[] = { "chroot", "oci", "rootless" };

	check_enum(c, obj, key, path, modes, ARRAY_SIZE(modes));
}

/* The placeholders a command builder's argv may hold. */
static const char *const builder_placeholders[] = { "context", "dockerfile", "image", "digestfile" };

static void check_placeholders(struct cfgcheck *c, const json_t *list, size_t i, const char *arg)
{
	for (const char *open = strchr(arg, '{'); open; open = strchr(open + 1, '{')) {
		const char *close = strchr(open, '}');
		size_t k;

		if (!close)
			break;
		for (k = 0; k < ARRAY_SIZE(builder_placeholders); k++)
			if (strlen(builder_placeholders[k]) == (size_t)(close - open - 1) &&
			    !strncmp(open + 1, builder_placeholders[k], (size_t)(close - open - 1)))
				break;
		if (k == ARRAY_SIZE(builder_placeholders))
			report(c, item_pos(c, list, i), "config-value",
			       "`builder.command` has an unknown placeholder `%.*s`: use {context}, "
			       "{dockerfile}, {image} or {digestfile}", (int)(close - open + 1), open);
	}
}

/* An argv template: a non-empty list of strings, run without a shell. */
static void check_builder_command(struct cfgcheck *c, const json_t *obj, const char *key,
				  const char *path)
{
	const json_t *list = want_type(c, obj, key, path, JSON_ARRAY), *v;
	size_t i;

	if (!list)
		return;
	if (!json_array_size(list))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must name a program and its arguments, e.g. [/usr/local/bin/build, {context}]", path);
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || !*json_string_value(v))
			report(c, item_pos(c, list, i), "config-type", "`%s` items must be non-empty strings", path);
		else
			check_placeholders(c, list, i, json_string_value(v));
	}
}

static void check_webhook_url(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	const char *s = want_string(c, obj, key, path);

	if (s && !starts_with(s, "https://") && !starts_with(s, "http://"))
		report(c, value_pos(c, obj, key), "config-value",
		       "`%s` must be an http:// or https:// URL, not `%s`", path, s);
}

/* Each kind's keys; the first `required` of them must be there. */
static const struct builder_kind_rules {
	const char *kind;
	struct key_rule rules[8];
	size_t nr, required;
} builder_kinds[] = {
	{ "buildah", { { "kind", check_builder_kind }, { "timeout", check_builder_int },
		       { "max_parallel", check_builder_int }, { "auth_file", check_path },
		       { "buildah", check_path }, { "storage_driver", check_path },
		       { "storage_root", check_path }, { "isolation", check_isolation } }, 8, 0 },
	{ "command", { { "command", check_builder_command }, { "kind", check_builder_kind },
		       { "timeout", check_builder_int }, { "max_parallel", check_builder_int },
		       { "auth_file", check_path } }, 5, 1 },
	{ "webhook", { { "url", check_webhook_url }, { "secret_file", check_path },
		       { "kind", check_builder_kind }, { "timeout", check_builder_int },
		       { "request_timeout", check_builder_int }, { "retries", check_builder_int } }, 6, 2 },
	{ "none", { { "kind", check_builder_kind } }, 1, 0 },
};

/* kind, then the keys that kind takes (docs/builds.md). */
static void check_builder(struct cfgcheck *c, const json_t *obj, const char *key,
			  const char *path)
{
	const json_t *builder = want_type(c, obj, key, path, JSON_OBJECT);
	const char *kind;

	if (!builder)
		return;
	if (!json_object_get(builder, "kind")) {
		report(c, value_pos(c, obj, key), "config-missing-key",
		       "`%s` needs `kind` (buildah, command, webhook or none)", path);
		return;
	}
	kind = json_string_value(json_object_get(builder, "kind"));
	for (size_t i = 0; i < ARRAY_SIZE(builder_kinds); i++) {
		const struct builder_kind_rules *k = &builder_kinds[i];

		if (!kind || strcmp(kind, k->kind))
			continue;
		for (size_t r = 0; r < k->required; r++)
			if (!json_object_get(builder, k->rules[r].key))
				report(c, value_pos(c, obj, key), "config-missing-key",
				       "`builder` of kind %s needs `%s`", kind, k->rules[r].key);
		check_keys(c, builder, "builder.", k->rules, k->nr);
		return;
	}
	check_builder_kind(c, builder, "kind", "builder.kind");
}

enum url_kind {
	URL_BAD,
	URL_SSH,
	URL_HTTPS,
	URL_HTTP,
	URL_LOCAL,
};

/* ssh://, USER@HOST:PATH (scp style), https://, http://, file:// or an absolute path. */
static enum url_kind classify_url(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');

	if (starts_with(url, "ssh://"))
		return url[6] ? URL_SSH : URL_BAD;
	if (starts_with(url, "https://"))
		return url[8] ? URL_HTTPS : URL_BAD;
	if (starts_with(url, "http://"))
		return URL_HTTP;
	if (starts_with(url, "file://") || url[0] == '/')
		return URL_LOCAL;
	if (strstr(url, "://"))
		return URL_BAD;
	/* As git reads it: a colon before any slash makes HOST:PATH. */
	if (colon && colon > url && colon[1] && (!slash || colon < slash))
		return URL_SSH;
	return URL_BAD;
}

static void check_mirror_url(struct cfgcheck *c, const json_t *m, const char *item)
{
	char *path = xstrfmt("%s.url", item);
	const char *url = json_string_value(json_object_get(m, "url"));
	int has_key = json_object_get(m, "key") != NULL;
	int has_token = json_object_get(m, "token_file") != NULL;
	struct ypos pos = value_pos(c, m, "url");

	switch (classify_url(url)) {
	case URL_SSH:
		if (!has_key || !json_object_get(m, "known_hosts"))
			report(c, pos, "config-missing-key",
			       "`%s` is an SSH URL: set `key` (the private key) and `known_hosts` "
			       "(host keys are always verified)", path);
		if (has_token)
			report(c, key_pos(c, m, "token_file"), "config-value",
			       "`token_file` is for https:// URLs; SSH URLs use `key`");
		break;
	case URL_HTTPS:
		if (!has_token)
			report(c, pos, "config-missing-key", "`%s` is an HTTPS URL: set `token_file`", path);
		if (has_key)
			report(c, key_pos(c, m, "key"), "config-value",
			       "`key` is for SSH URLs; https:// URLs use `token_file`");
		break;
	case URL_HTTP:
		report(c, pos, "config-value", "`%s` must not be plain http://: use https://", path);
		break;
	case URL_LOCAL:
		if (has_key || has_token)
			report(c, pos, "config-value", "`%s` is a local path: it takes no `key` or `token_file`",
			       path);
		break;
	case URL_BAD:
		report(c, pos, "config-value",
		       "`%s` must be ssh://..., USER@HOST:PATH, https://..., file://... or an absolute "
		       "path, not `%s`", path, url);
		break;
	}
	free(path);
}

static void check_string_list(struct cfgcheck *c, const json_t *obj, const char *key,
			      const char *path)
{
	const json_t *list = want_type(c, obj, key, path, JSON_ARRAY);
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || !*json_string_value(v)) {
			struct strbuf why = STRBUF_INIT;

			if (!json_is_string(v))
				describe_not_string(&why, v, ydoc_item(c->doc, list, i));
			report(c, item_pos(c, list, i), "config-type",
			       "`%s[%zu]` must be a non-empty string%s%s", path, i, why.len ? ": " : "",
			       why.buf);
			strbuf_release(&why);
		}
	}
}

static void check_mirror(struct cfgcheck *c, const json_t *mirrors, size_t i)
{
	static const struct key_rule rules[] = {
		{ "repos", check_path },	{ "url", check_path },
		{ "key", check_path },		{ "token_file", check_path },
		{ "known_hosts", check_path }, { "branches", check_string_list },
	};
	static const char *const required[] = { "repos", "url" };
	const json_t *m = json_array_get(mirrors, i);
	char *item = xstrfmt("mirrors[%zu]", i);
	char *prefix = xstrfmt("%s.", item);
	size_t before = diags_count(c->d, DIAG_ERROR);

	if (!json_is_object(m)) {
		report(c, item_pos(c, mirrors, i), "config-type",
		       "`%s` must be a mapping with repos and url, not %s", item, describe_type(m));
	} else if (!require_keys(c, m, item_pos(c, mirrors, i), item, required,
				 ARRAY_SIZE(required))) {
		check_keys(c, m, prefix, rules, ARRAY_SIZE(rules));
		if (diags_count(c->d, DIAG_ERROR) == before)
			check_mirror_url(c, m, item);
	}
	free(prefix);
	free(item);
}

static void check_mirrors(struct cfgcheck *c, const json_t *obj, const char *key,
			  const char *path)
{
	const json_t *mirrors = json_object_get(obj, key);

	if (json_is_null(mirrors))
		return;
	mirrors = want_type(c, obj, key, path, JSON_ARRAY);
	if (json_array_size(mirrors) > CONFIG_MAX_MIRRORS) {
		report(c, value_pos(c, obj, key), "config-value", "`%s` lists more than %d mirrors",
		       path, CONFIG_MAX_MIRRORS);
		return;
	}
	for (size_t i = 0; i < json_array_size(mirrors); i++)
		check_mirror(c, mirrors, i);
}

static void check_policy_level(struct cfgcheck *c, const json_t *obj, const char *key,
			       const char *path)
{
	static const char *const levels[] = { "enforce", "warn", "off" };

	/* `off` unquoted is YAML 1.1 false: take it as meant. */
	if (json_is_false(json_object_get(obj, key)))
		return;
	check_enum(c, obj, key, path, levels, ARRAY_SIZE(levels));
}

static int valid_kind(const char *s)
{
	if (!(*s >= 'A' && *s <= 'Z') || strlen(s) > 63)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static void check_kinds(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	const json_t *list = json_object_get(obj, key);
	size_t before = diags_count(c->d, DIAG_ERROR);
	size_t i;
	json_t *v;

	check_string_list(c, obj, key, path);
	if (diags_count(c->d, DIAG_ERROR) != before)
		return;
	json_array_foreach(list, i, v) {
		if (!valid_kind(json_string_value(v)))
			report(c, item_pos(c, list, i), "config-value",
			       "`%s[%zu]` must be a Kubernetes kind such as ClusterRole, not `%s`", path, i,
			       json_string_value(v));
	}
}

static int list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

static void check_kind_overlap(struct cfgcheck *c, const json_t *policy)
{
	const json_t *allowed = json_object_get(policy, "allowed_cluster_kinds");
	const json_t *denied = json_object_get(policy, "denied_kinds");
	size_t i;
	json_t *v;

	if (!json_is_array(allowed) || !json_is_array(denied))
		return;
	json_array_foreach(allowed, i, v) {
		if (json_is_string(v) && list_has(denied, json_string_value(v)))
			report(c, item_pos(c, allowed, i), "config-value",
			       "kind `%s` is both allowed and denied; remove it from one list",
			       json_string_value(v));
	}
}

static void check_policy(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	static const struct key_rule rules[] = {
		{ "denied_kinds", check_kinds },
		{ "allowed_cluster_kinds", check_kinds },
		{ "latest_tag", check_policy_level },
		{ "plaintext_secret", check_policy_level },
		{ "privileged", check_policy_level },
		{ "requests", check_policy_level },
	};
	const json_t *policy = want_type(c, obj, key, path, JSON_OBJECT);

	if (!policy)
		return;
	check_keys(c, policy, "policy.", rules, ARRAY_SIZE(rules));
	check_kind_overlap(c, policy);
}

static const struct limit_rule {
	const char *key;
	size_t offset;
	unsigned min, max;
} limit_rules[] = {
	{ "login_grace_time", offsetof(struct config_limits, login_grace_time), 1, 3600 },
	{ "max_unauthenticated", offsetof(struct config_limits, max_unauthenticated), 1, 100000 },
	{ "max_unauthenticated_per_source",
	  offsetof(struct config_limits, max_unauthenticated_per_source), 1, 100000 },
	{ "max_connections", offsetof(struct config_limits, max_connections), 1, 100000 },
	{ "max_connections_per_user", offsetof(struct config_limits, max_connections_per_user), 1, 100000 },
	{ "idle_timeout", offsetof(struct config_limits, idle_timeout), 0, 86400 },
	{ "keepalive_interval", offsetof(struct config_limits, keepalive_interval), 0, 3600 },
	{ "max_auth_tries", offsetof(struct config_limits, max_auth_tries), 1, 100 },
	{ "max_push_mb", offsetof(struct config_limits, max_push_mb), 1, 1048576 },
};

static void check_limit(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	json_t *v = json_object_get(obj, key);
	const struct limit_rule *rule = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(limit_rules); i++)
		if (!strcmp(limit_rules[i].key, key))
			rule = &limit_rules[i];
	if (!json_is_integer(v)) {
		type_error(c, obj, key, path, "a whole number");
	} else if (json_integer_value(v) < rule->min || json_integer_value(v) > rule->max) {
		report(c, value_pos(c, obj, key), "config-value", "`%s` must be between %u and %u, not %"
		       JSON_INTEGER_FORMAT, path, rule->min, rule->max, json_integer_value(v));
	}
}

static void check_limits(struct cfgcheck *c, const json_t *obj, const char *key, const char *path)
{
	struct key_rule rules[ARRAY_SIZE(limit_rules)];
	const json_t *limits = want_type(c, obj, key, path, JSON_OBJECT);

	if (!limits)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(limit_rules); i++) {
		rules[i].key = limit_rules[i].key;
		rules[i].check = check_limit;
	}
	check_keys(c, limits, "limits.", rules, ARRAY_SIZE(rules));
}

static const struct key_rule top_rules[] = {
	{ "listen", check_hostport },
	{ "environments", check_environments },
	{ "builder", check_builder },
	{ "registry", check_registry },
	{ "registry_insecure", check_bool },
	{ "mirrors", check_mirrors },
	{ "policy", check_policy },
	{ "namespace", check_namespace },
	{ "metrics_listen", check_hostport },
	{ "deploy_repo_url", check_url },
	{ "log_format", check_log_format },
	{ "schemas", check_path },
	{ "limits", check_limits },
};

/* Limits that depend on each other, checked once defaults are filled in. */
static void check_limit_pairs(struct cfgcheck *c, const json_t *user, const json_t *limits)
{
	const json_t *mine = json_object_get(user, "limits");
	json_int_t per_source =
		json_integer_value(json_object_get(limits, "max_unauthenticated_per_source"));
	json_int_t total = json_integer_value(json_object_get(limits, "max_unauthenticated"));
	struct ypos pos = key_pos(c, mine, "max_unauthenticated_per_source");

	if (!pos.line)
		pos = key_pos(c, mine, "max_unauthenticated");
	if (per_source > total)
		report(c, pos, "config-value",
		       "`limits.max_unauthenticated_per_source` (%" JSON_INTEGER_FORMAT
		       ") must not exceed `limits.max_unauthenticated` (%" JSON_INTEGER_FORMAT ")",
		       per_source, total);
}

/* Lay the user's settings over the defaults; policy and limits merge key by key. */
static json_t *effective_config(const json_t *user)
{
	json_t *root = json_loads(default_config, 0, NULL);
	const char *key;
	json_t *v;

	if (!root)
		die("built-in default config does not parse");
	json_object_foreach((json_t *)user, key, v) {
		if (!strcmp(key, "policy") || !strcmp(key, "limits"))
			json_object_update(json_object_get(root, key), v);
		else
			json_object_set(root, key, v);
	}
	if (!json_is_string(json_object_get(root, "metrics_listen")))
		json_object_set_new(root, "metrics_listen", json_string(""));
	for (size_t i = 0; i < ARRAY_SIZE(policy_checks); i++) {
		json_t *policy = json_object_get(root, "policy");

		if (json_is_false(json_object_get(policy, policy_checks[i])))
			json_object_set_new(policy, policy_checks[i], json_string("off"));
	}
	return root;
}

static enum policy_level level_of(const char *s)
{
	if (!strcmp(s, "enforce"))
		return POLICY_ENFORCE;
	return !strcmp(s, "warn") ? POLICY_WARN : POLICY_OFF;
}

static const char *str_or_null(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Point the typed fields of cfg into cfg->root, which has passed every check. */
static void config_index(struct gitd_config *cfg)
{
	const json_t *envs = json_object_get(cfg->root, "environments");
	const json_t *mirrors = json_object_get(cfg->root, "mirrors");
	const json_t *limits = json_object_get(cfg->root, "limits");
	const json_t *policy = json_object_get(cfg->root, "policy");

	cfg->env_nr = json_array_size(envs);
	cfg->envs = xcalloc(cfg->env_nr, sizeof(*cfg->envs));
	for (size_t i = 0; i < cfg->env_nr; i++) {
		cfg->envs[i].name = str_or_null(json_array_get(envs, i), "name");
		cfg->envs[i].ref = str_or_null(json_array_get(envs, i), "ref");
	}
	cfg->mirror_nr = json_array_size(mirrors);
	cfg->mirrors = xcalloc(cfg->mirror_nr, sizeof(*cfg->mirrors));
	for (size_t i = 0; i < cfg->mirror_nr; i++) {
		const json_t *m = json_array_get(mirrors, i);

		cfg->mirrors[i].repos = str_or_null(m, "repos");
		cfg->mirrors[i].url = str_or_null(m, "url");
		cfg->mirrors[i].key = str_or_null(m, "key");
		cfg->mirrors[i].token_file = str_or_null(m, "token_file");
		cfg->mirrors[i].known_hosts = str_or_null(m, "known_hosts");
		cfg->mirrors[i].branches = json_object_get(m, "branches");
	}
	for (size_t i = 0; i < ARRAY_SIZE(limit_rules); i++)
		*(unsigned *)((char *)&cfg->limits + limit_rules[i].offset) =
			(unsigned)json_integer_value(json_object_get(limits, limit_rules[i].key));
	for (size_t i = 0; i < ARRAY_SIZE(policy_checks); i++)
		cfg->policy[i] = level_of(str_or_null(policy, policy_checks[i]));
}

/* Check the loaded document; on success return the effective config, else NULL. */
static struct gitd_config *config_check(struct cfgcheck *c)
{
	size_t before = diags_count(c->d, DIAG_ERROR);
	const json_t *user = ydoc_count(c->doc) ? ydoc_root(c->doc, 0) : NULL;
	struct gitd_config *cfg;
	json_t *root;

	if (ydoc_count(c->doc) > 1)
		report(c, ydoc_root_pos(c->doc, 1), "config-type",
		       "gitd.yaml must hold one YAML document, not %zu", ydoc_count(c->doc));
	if (user && !json_is_object(user)) {
		report(c, ydoc_root_pos(c->doc, 0), "config-type",
		       "gitd.yaml must be a mapping of settings, not %s", describe_type(user));
		return NULL;
	}
	if (user)
		check_keys(c, user, "", top_rules, ARRAY_SIZE(top_rules));
	if (diags_count(c->d, DIAG_ERROR) != before)
		return NULL;
	root = effective_config(user);
	check_limit_pairs(c, user, json_object_get(root, "limits"));
	if (diags_count(c->d, DIAG_ERROR) != before) {
		json_decref(root);
		return NULL;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->root = root; /* transferred */
	config_index(cfg);
	return cfg;
}

int config_parse(struct gitd_config **out, const char *file, const char *buf, size_t len,
		 struct diags *d)
{
	struct ylimits limits = YLIMITS_DEFAULT;
	struct cfgcheck c = { NULL, d, file };
	struct ydoc *doc = NULL;

	*out = NULL;
	limits.max_bytes = CONFIG_MAX_BYTES;
	if (ydoc_load(&doc, file, buf, len, &limits, d) < 0)
		return -1;
	c.doc = doc;
	*out = config_check(&c);
	ydoc_free(doc);
	return *out ? 0 : -1;
}

/* A relative schemas directory is relative to the config file, not to where gitd runs. */
static void resolve_schemas_dir(struct gitd_config *cfg, const char *config_path)
{
	const char *dir = config_schemas_dir(cfg);
	const char *slash = strrchr(config_path, '/');

	if (!dir || dir[0] == '/' || !slash)
		return;
	json_object_set_new(cfg->root, "schemas",
			    json_sprintf("%.*s/%s", (int)(slash - config_path), config_path, dir));
}

int config_load(struct gitd_config **out, const char *path, struct diags *d)
{
	struct strbuf sb;
	int ret;

	*out = NULL;
	strbuf_init_capped(&sb, CONFIG_MAX_BYTES);
	if (strbuf_read_file(&sb, path) < 0) {
		ret = -1;
		if (errno == ENOENT) {
			*out = config_default();
			ret = 0;
		} else if (errno == EFBIG) {
			diags_add(d, DIAG_ERROR, path, 0, 0, "config-file",
				  "larger than %d KiB; is this the right file?", CONFIG_MAX_BYTES / 1024);
		} else {
			diags_add(d, DIAG_ERROR, path, 0, 0, "config-file", "cannot read: %s",
				  strerror(errno));
		}
		goto cleanup;
	}
	ret = config_parse(out, path, sb.buf, sb.len, d);
	if (!ret)
		resolve_schemas_dir(*out, path);
cleanup:
	strbuf_release(&sb);
	return ret;
}

struct gitd_config *config_default(void)
{
	struct gitd_config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->root = effective_config(NULL);
	config_index(cfg);
	return cfg;
}

void config_free(struct gitd_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->envs);
	free(cfg->mirrors);
	json_decref(cfg->root);
	free(cfg);
}

static const char *root_string(const struct gitd_config *cfg, const char *key)
{
	return json_string_value(json_object_get(cfg->root, key));
}

const char *config_listen(const struct gitd_config *cfg)
{
	return root_string(cfg, "listen");
}

const char *config_log_format(const struct gitd_config *cfg)
{
	return root_string(cfg, "log_format");
}

const struct config_limits *config_limits(const struct gitd_config *cfg)
{
	return &cfg->limits;
}

size_t config_env_count(const struct gitd_config *cfg)
{
	return cfg->env_nr;
}

const struct config_env *config_env(const struct gitd_config *cfg, size_t i)
{
	return i < cfg->env_nr ? &cfg->envs[i] : NULL;
}

const struct config_env *config_env_find(const struct gitd_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->env_nr; i++)
		if (!strcmp(cfg->envs[i].name, name))
			return &cfg->envs[i];
	return NULL;
}

const char *config_namespace_pattern(const struct gitd_config *cfg)
{
	return root_string(cfg, "namespace");
}

char *config_namespace(const struct gitd_config *cfg, const char *app, const char *env)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = config_namespace_pattern(cfg); *p; p++) {
		if (starts_with(p, "{app}")) {
			strbuf_addstr(&sb, app);
			p += 4;
		} else if (starts_with(p, "{env}")) {
			strbuf_addstr(&sb, env);
			p += 4;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}

enum policy_level config_policy(const struct gitd_config *cfg, const char *check)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy_checks); i++)
		if (!strcmp(policy_checks[i], check))
			return cfg->policy[i];
	return POLICY_OFF;
}

const json_t *config_denied_kinds(const struct gitd_config *cfg)
{
	return json_object_get(json_object_get(cfg->root, "policy"), "denied_kinds");
}

const json_t *config_allowed_cluster_kinds(const struct gitd_config *cfg)
{
	return json_object_get(json_object_get(cfg->root, "policy"), "allowed_cluster_kinds");
}

const char *config_schemas_dir(const struct gitd_config *cfg)
{
	return root_string(cfg, "schemas");
}

const char *config_builder_kind(const struct gitd_config *cfg)
{
	return json_string_value(json_object_get(config_builder(cfg), "kind"));
}

const json_t *config_builder(const struct gitd_config *cfg)
{
	return json_object_get(cfg->root, "builder");
}

const char *config_registry(const struct gitd_config *cfg)
{
	return root_string(cfg, "registry");
}

int config_registry_insecure(const struct gitd_config *cfg)
{
	return json_is_true(json_object_get(cfg->root, "registry_insecure"));
}

const char *config_deploy_repo_url(const struct gitd_config *cfg)
{
	return root_string(cfg, "deploy_repo_url");
}

const char *config_metrics_listen(const struct gitd_config *cfg)
{
	return root_string(cfg, "metrics_listen");
}

size_t config_mirror_count(const struct gitd_config *cfg)
{
	return cfg->mirror_nr;
}

const struct config_mirror *config_mirror(const struct gitd_config *cfg, size_t i)
{
	return i < cfg->mirror_nr ? &cfg->mirrors[i] : NULL;
}

const json_t *config_json(const struct gitd_config *cfg)
{
	return cfg->root;
}
