/*
 * gitd: the daemon and its administration commands.
 *
 *   gitd init --data DIR --admin-key FILE [--admin-name NAME]
 *   gitd serve --data DIR [--listen HOST:PORT]
 *   gitd check-config --data DIR
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <libssh/libssh.h>

#include "config.h"
#include "init.h"
#include "server.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

static const char usage_text[] =
	"usage: gitd init --data DIR --admin-key FILE [--admin-name NAME]\n"
	"       gitd serve --data DIR [--listen HOST:PORT]\n"
	"       gitd check-config --data DIR\n"
	"\n"
	"  init          create the data directory: host keys, gitd.yaml, the admin\n"
	"                repo (with FILE as the first admin's public key), the deploy repo\n"
	"  serve         serve git over SSH (SIGTERM drains, SIGHUP reloads gitd.yaml)\n"
	"  check-config  validate DIR/gitd.yaml and exit (0: valid)\n";

struct cli {
	const char *data;
	const char *listen;
	const char *admin_key;
	const char *admin_name;
};

static int parse_options(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "admin-key", required_argument, NULL, 'k' },
		{ "admin-name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->data = optarg; break;
		case 'l': cli->listen = optarg; break;
		case 'k': cli->admin_key = optarg; break;
		case 'n': cli->admin_name = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gitd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!cli->data) {
		fprintf(stderr, "gitd: --data DIR is required\n");
		return -1;
	}
	return 0;
}

static int cmd_check_config(const struct cli *cli)
{
	char *path = xstrfmt("%s/gitd.yaml", cli->data);
	struct diags *d = diags_new();
	struct gitd_config *cfg = NULL;
	int rc = config_load(&cfg, path, d);

	diags_sort(d);
	diags_print(d, stderr);
	if (rc == 0)
		printf("%s: ok\n", path);
	config_free(cfg);
	diags_free(d);
	free(path);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct cli cli = { .admin_name = "admin" };
	const char *cmd;
	int rc;

	set_progname(argv[0]);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (parse_options(&cli, argc - 1, argv + 1) < 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	git_libgit2_init();
	ssh_init();
	if (!strcmp(cmd, "serve")) {
		/* absolute: it reaches git and the hooks, which run in the repository */
		char *data = realpath(cli.data, NULL);
		struct server_opts so = { data, cli.listen };

		if (!data) {
			fprintf(stderr, "gitd: %s: %s; create it with `gitd init`\n", cli.data, strerror(errno));
			rc = 1;
		} else {
			rc = server_run(&so);
		}
		free(data);
	} else if (!strcmp(cmd, "init")) {
		rc = init_data_dir(cli.data, cli.admin_key, cli.admin_name);
	} else if (!strcmp(cmd, "check-config")) {
		rc = cmd_check_config(&cli);
	} else {
		fprintf(stderr, "gitd: unknown command '%s'\n%s", cmd, usage_text);
		rc = 2;
	}
	ssh_finalize();
	git_libgit2_shutdown();
	return rc;
}
