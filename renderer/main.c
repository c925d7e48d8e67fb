/*
 * gitd-render: the renderer's command line.
 *
 *   gitd-render validate DIR [--json] [--config FILE] [--env ENV]
 *
 * checks an app checkout exactly as the pre-receive hook checks a push.
 * Exit status: 0 valid (warnings allowed), 1 problems found, 2 usage or
 * config errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "source.h"
#include "strbuf.h"
#include "util.h"
#include "validate.h"
#include "banned.h"

#define EXIT_PROBLEMS 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: gitd-render validate DIR [--json] [--config FILE] [--env ENV]\n"
	"\n"
	"Commands:\n"
	"  validate   check an app checkout as the pre-receive hook checks a push:\n"
	"             app.yaml, resources/, overlays/ENV/\n"
	"\n"
	"Options:\n"
	"  --json          print the problems as JSON\n"
	"  --config FILE   the platform config (gitd.yaml); default: built-in defaults\n"
	"  --env ENV       check only environment ENV\n"
	"  -h, --help      show this help\n"
	"\n"
	"Exit status: 0 valid (warnings allowed), 1 problems found, 2 usage error.\n";

struct validate_opts {
	const char *dir;
	const char *config;
	const char *env;
	int json;
};

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", get_progname());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", get_progname());
	return EXIT_USAGE;
}

/* Option value: "--opt VALUE" or "--opt=VALUE"; NULL when absent. */
static const char *option_value(int argc, char **argv, int *i, const char *opt)
{
	size_t len = strlen(opt);

	if (!strncmp(argv[*i], opt, len) && argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (strcmp(argv[*i], opt))
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

static int parse_validate(struct validate_opts *o, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *val;

		if (!strcmp(argv[i], "--json"))
			o->json = 1;
		else if ((val = option_value(argc, argv, &i, "--config")))
			o->config = val;
		else if ((val = option_value(argc, argv, &i, "--env")))
			o->env = val;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'", argv[i]);
		else if (o->dir)
			return usage_error("more than one directory: '%s'", argv[i]);
		else
			o->dir = argv[i];
	}
	if (!o->dir)
		return usage_error("validate needs a directory");
	if ((o->config && !*o->config) || (o->env && !*o->env))
		return usage_error("--config and --env need a value");
	return 0;
}

/* The repository's name: the directory's, without a .git suffix. */
static char *repo_name(const char *dir)
{
	char *abs = realpath(dir, NULL);
	const char *base;
	char *name;

	if (!abs)
		return xstrdup(dir);
	base = strrchr(abs, '/');
	base = base && base[1] ? base + 1 : abs;
	name = xstrdup(base);
	if (ends_with(name, ".git") && strlen(name) > 4)
		name[strlen(name) - 4] = '\0';
	free(abs);
	return name;
}

static struct gitd_config *load_config(const char *path)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = NULL;
	FILE *f;

	if (!path) {
		cfg = config_default();
	} else if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "%s: --config %s: %s\n", get_progname(), path, strerror(errno));
	} else {
		fclose(f);
		if (config_load(&cfg, path, d) < 0) {
			diags_sort(d);
			diags_print(d, stderr);
		}
	}
	diags_free(d);
	return cfg;
}

static void print_json(const struct diags *d, struct source *src)
{
	json_t *out = diags_to_json(d);

	json_object_set_new(out, "files", json_integer((json_int_t)source_files_read(src)));
	json_object_set_new(out, "app", json_boolean(validate_is_app(src)));
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(out);
}

static int cmd_validate(int argc, char **argv)
{
	struct validate_opts o = { NULL, NULL, NULL, 0 };
	struct strbuf err = STRBUF_INIT;
	struct gitd_config *cfg = NULL;
	struct source *src = NULL;
	struct diags *d = NULL;
	char *name = NULL;
	int ret = parse_validate(&o, argc, argv);

	if (ret)
		return ret;
	ret = EXIT_USAGE;
	if (!(cfg = load_config(o.config)))
		goto cleanup;
	if (o.env && !config_env_find(cfg, o.env)) {
		usage_error("unknown environment '%s'", o.env);
		goto cleanup;
	}
	if (source_open_dir(&src, o.dir, &err) < 0) {
		fprintf(stderr, "%s: %s\n", get_progname(), err.buf);
		goto cleanup;
	}
	d = diags_new();
	name = repo_name(o.dir);
	ret = validate_app(d, src, cfg, name, o.env) < 0 ? EXIT_PROBLEMS : 0;
	if (o.json) {
		print_json(d, src);
	} else {
		diags_print(d, stdout);
		validate_print_summary(stdout, d, src);
	}
cleanup:
	free(name);
	diags_free(d);
	source_free(src);
	config_free(cfg);
	strbuf_release(&err);
	return ret;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "validate", cmd_validate },
};

int main(int argc, char **argv)
{
	set_progname(argv[0]);
	if (argc < 2)
		return usage_error("no command given");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help'.\n", get_progname(), argv[1],
		get_progname());
	return EXIT_USAGE;
}
