/*
 * gitd-render: the renderer's command line.
 *
 *   gitd-render validate DIR [--json] [--config FILE] [--env ENV]
 *   gitd-render render DIR --env ENV [--out DIR] [--config FILE] [--image REF]
 *
 * `validate` checks an app checkout exactly as the pre-receive hook checks
 * a push. `render` validates the same way, then prints one environment's
 * manifests as a YAML stream, or writes its deploy-repo folder ENV/APP/
 * under --out (replacing what was there). Exit status: 0 success
 * (warnings allowed), 1 problems found, 2 usage or config errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "render.h"
#include "source.h"
#include "strbuf.h"
#include "util.h"
#include "validate.h"
#include "banned.h"

#define EXIT_PROBLEMS 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: gitd-render validate DIR [--json] [--config FILE] [--env ENV]\n"
	"   or: gitd-render render DIR --env ENV [--out DIR] [--config FILE] [--image REF]\n"
	"\n"
	"Commands:\n"
	"  validate   check an app checkout as the pre-receive hook checks a push:\n"
	"             app.yaml, resources/, overlays/ENV/\n"
	"  render     validate, then print environment ENV's manifests as one YAML\n"
	"             stream, or write the deploy-repo folder ENV/APP/ under --out\n"
	"\n"
	"Options:\n"
	"  --json          print the problems as JSON (validate)\n"
	"  --config FILE   the platform config (gitd.yaml); default: built-in defaults\n"
	"  --env ENV       check only environment ENV; the environment to render\n"
	"  --out DIR       write ENV/APP/ under DIR, replacing it, instead of printing\n"
	"  --image REF     the image built for an app with `build:` (REGISTRY/APP@sha256:...)\n"
	"  -h, --help      show this help\n"
	"\n"
	"Exit status: 0 success (warnings allowed), 1 problems found, 2 usage error.\n";

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

static void print_json(const struct diags *d, const struct validate_stats *st)
{
	json_t *out = diags_to_json(d);

	json_object_set_new(out, "files", json_integer((json_int_t)st->files));
	json_object_set_new(out, "app", json_boolean(st->is_app));
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(out);
}

static int cmd_validate(int argc, char **argv)
{
	struct validate_opts o = { NULL, NULL, NULL, 0 };
	struct validate_stats st = { 0, 0 };
	struct strbuf err = STRBUF_INIT, summary = STRBUF_INIT;
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
	/* the files validation read; rendering reads them again */
	st.files = source_files_read(src);
	st.is_app = validate_is_app(src);
	if (!ret && st.is_app && render_check(d, src, cfg, name, o.env) < 0)
		ret = EXIT_PROBLEMS;
	if (o.json) {
		print_json(d, &st);
	} else {
		diags_print(d, stdout);
		validate_format_summary(&summary, d, &st);
		printf("%s\n", summary.buf);
	}
cleanup:
	free(name);
	diags_free(d);
	source_free(src);
	config_free(cfg);
	strbuf_release(&err);
	strbuf_release(&summary);
	return ret;
}

/* ---- render ---- */

struct render_cli {
	const char *dir;
	const char *config;
	const char *env;
	const char *out;
	const char *image;
};

static int parse_render(struct render_cli *o, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *val;

		if ((val = option_value(argc, argv, &i, "--config")))
			o->config = val;
		else if ((val = option_value(argc, argv, &i, "--env")))
			o->env = val;
		else if ((val = option_value(argc, argv, &i, "--out")))
			o->out = val;
		else if ((val = option_value(argc, argv, &i, "--image")))
			o->image = val;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'", argv[i]);
		else if (o->dir)
			return usage_error("more than one directory: '%s'", argv[i]);
		else
			o->dir = argv[i];
	}
	if (!o->dir)
		return usage_error("render needs a directory");
	if (!o->env)
		return usage_error("render needs --env ENV");
	if (!*o->env || (o->config && !*o->config) || (o->out && !*o->out) ||
	    (o->image && !*o->image))
		return usage_error("--env, --config, --out and --image need a value");
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Create every missing parent directory of path. */
static int make_parents(const char *path)
{
	char *dir = xstrdup(path);
	int ret = 0;

	for (char *p = strchr(dir + 1, '/'); p && !ret; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0777) < 0 && errno != EEXIST)
			ret = -1;
		*p = '/';
	}
	free(dir);
	return ret;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Replace OUT/ENV/APP/ with the rendered files: nothing stale stays. */
static int write_layout(const char *out, const struct render_files *rf)
{
	char *folder = xstrfmt("%s/%s/%s", out, rf->env, rf->app);
	int ret = 0;

	if (nftw(folder, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		fprintf(stderr, "%s: cannot remove %s: %s\n", get_progname(), folder, strerror(errno));
		ret = -1;
	}
	for (size_t i = 0; !ret && i < rf->nr; i++) {
		char *path = xstrfmt("%s/%s", out, rf->v[i].path);

		if (make_parents(path) < 0 || write_file(path, rf->v[i].data, rf->v[i].len) < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", get_progname(), path,
				strerror(errno));
			ret = -1;
		}
		free(path);
	}
	if (!ret)
		printf("wrote %zu files to %s/\n", rf->nr, folder);
	free(folder);
	return ret;
}

/* Render, then print the stream or write the layout. EXIT_PROBLEMS when the app has errors. */
static int render_and_write(const struct render_cli *o, struct source *src,
			    const struct render_opts *ro, struct diags *d)
{
	struct render_files rf = RENDER_FILES_INIT;
	struct strbuf stream = STRBUF_INIT;
	int ret;

	if (o->out)
		ret = render_env(&rf, src, ro, d);
	else
		ret = render_env_stream(&stream, src, ro, d);
	diags_print(d, stderr);
	if (ret < 0) {
		fprintf(stderr, "%s: nothing rendered: %zu error%s\n", get_progname(),
			diags_count(d, DIAG_ERROR), diags_count(d, DIAG_ERROR) == 1 ? "" : "s");
		ret = EXIT_PROBLEMS;
	} else if (o->out) {
		ret = write_layout(o->out, &rf) < 0 ? EXIT_PROBLEMS : 0;
	} else {
		ret = fwrite(stream.buf, 1, stream.len, stdout) == stream.len && !fflush(stdout) ? 0 :
		      EXIT_PROBLEMS;
	}
	render_files_release(&rf);
	strbuf_release(&stream);
	return ret;
}

static int cmd_render(int argc, char **argv)
{
	struct render_cli o = { NULL, NULL, NULL, NULL, NULL };
	struct render_opts ro = { NULL, NULL, NULL, NULL };
	struct strbuf err = STRBUF_INIT;
	struct gitd_config *cfg = NULL;
	struct source *src = NULL;
	struct diags *d = NULL;
	char *name = NULL;
	int ret = parse_render(&o, argc, argv);

	if (ret)
		return ret;
	ret = EXIT_USAGE;
	if (!(cfg = load_config(o.config)))
		goto cleanup;
	if (!config_env_find(cfg, o.env)) {
		usage_error("unknown environment '%s'", o.env);
		goto cleanup;
	}
	if (source_open_dir(&src, o.dir, &err) < 0) {
		fprintf(stderr, "%s: %s\n", get_progname(), err.buf);
		goto cleanup;
	}
	d = diags_new();
	name = repo_name(o.dir);
	ro.cfg = cfg;
	ro.repo_name = name;
	ro.env = o.env;
	ro.built_image = o.image;
	ret = render_and_write(&o, src, &ro, d);
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
	{ "render", cmd_render },
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
