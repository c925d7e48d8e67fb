/*
 * The admin commands: the table that says who may run what, the shared
 * helpers, whoami and help, and the dispatch (see admincmd.h).
 */
#include "admincmd_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "access.h"
#include "adminrepo.h"
#include "command.h"
#include "identity.h"
#include "mirror.h"
#include "reponame.h"
#include "repos.h"
#include "util.h"
#include "banned.h"

enum who_may {
	ANYONE,
	SERVER_ADMIN,
	SELF_OR_ADMIN, /* the user named by the first argument (default: yourself), or an admin */
	REPO_READER,   /* whoever may read the repository named by the first argument */
	BUILDER,       /* users with the builder role (access.yaml roles: builder) */
};

struct admin_command {
	const char *name;  /* "whoami", "repo create" */
	const char *args;  /* "NAME", for usage */
	const char *summary;
	size_t min_args, max_args;
	enum who_may who;
	int reads_stdin;
	int (*run)(struct cmd *c);
};

static int cmd_whoami(struct cmd *c);
static int cmd_help(struct cmd *c);

static const struct admin_command commands[] = {
	{ "whoami", "", "your user name and key fingerprint", 0, 0, ANYONE, 0, cmd_whoami },
	{ "help", "", "this list", 0, 0, ANYONE, 0, cmd_help },
	{ "repo create", "NAME", "create an empty repository", 1, 1, SERVER_ADMIN, 0, cmd_repo_create },
	{ "repo delete", "NAME", "delete a repository (kept in DATA/trash)", 1, 1, SERVER_ADMIN, 0, cmd_repo_delete },
	{ "repo list", "", "repositories you may read", 0, 0, ANYONE, 0, cmd_repo_list },
	{ "user add", "NAME", "add a user; their public key on stdin", 1, 1, SERVER_ADMIN, 1, cmd_user_add },
	{ "user remove", "NAME", "remove a user, their keys and permissions", 1, 1, SERVER_ADMIN, 0, cmd_user_remove },
	{ "user list", "", "every user", 0, 0, SERVER_ADMIN, 0, cmd_user_list },
	{ "key add", "NAME", "add a public key (on stdin) to a user", 1, 1, SELF_OR_ADMIN, 1, cmd_key_add },
	{ "key remove", "NAME FINGERPRINT", "remove a user's key", 2, 2, SELF_OR_ADMIN, 0, cmd_key_remove },
	{ "key list", "[NAME]", "a user's keys (default: yours)", 0, 1, SELF_OR_ADMIN, 0, cmd_key_list },
	{ "perm set", "REPO USER none|read|write|admin", "set a user's permission on a repository", 3, 3, SERVER_ADMIN, 0, cmd_perm_set },
	{ "perm list", "REPO", "who may do what on a repository", 1, 1, SERVER_ADMIN, 0, cmd_perm_list },
	{ "status", "APP", "what each environment runs, and when it was deployed", 1, 1, REPO_READER, 0, cmd_status },
	{ "logs", "APP [JOB]", "an app's recent jobs, or one job's log", 1, 2, REPO_READER, 0, cmd_logs },
	{ "promote", "APP FROM TO", "deploy what environment FROM runs (commit and image) to TO", 3, 3, REPO_READER, 0, cmd_promote },
	{ "build-done", "JOB DIGEST", "report that the image of job JOB was pushed (builders)", 2, 2, BUILDER, 0, cmd_build_done },
	{ "build-failed", "JOB REASON", "report that the image build of job JOB failed (builders)", 2, COMMAND_MAX_WORDS, BUILDER, 0, cmd_build_failed },
	{ "mirror status", "", "each mirror: last success, last error, pending refs, next retry", 0, 0, SERVER_ADMIN, 0, cmd_mirror_status },
	{ "mirror retry", "[REPO]", "mirror now (every repository, or REPO), resuming paused mirrors", 0, 1, SERVER_ADMIN, 0, cmd_mirror_retry },
};

/* ---- helpers ---- */

int cmd_fail(struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	strbuf_addstr(c->err, "error: ");
	va_start(ap, fmt);
	strbuf_vaddf(c->err, fmt, ap);
	va_end(ap);
	strbuf_addch(c->err, '\n');
	return 1;
}

const struct access *cmd_model(const struct cmd *c)
{
	return admin_state_access(c->ctx->admin);
}

int cmd_is_admin(const struct cmd *c)
{
	return c->ctx->admin && access_is_admin(cmd_model(c), c->ctx->who->user);
}

void cmd_print_json(struct cmd *c, json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text) {
		strbuf_addstr(c->out, text);
		strbuf_addch(c->out, '\n');
	}
	free(text);
	json_decref(value);
}

/* Commit an edit of the admin repo; print what went wrong otherwise. */
int cmd_commit_edit(struct cmd *c, int (*edit)(struct adminrepo_edit *, struct strbuf *, void *),
		       void *payload)
{
	char *path = repos_path(c->ctx->data_dir, ADMIN_REPO);
	struct diags *d = diags_new();
	struct strbuf msg = STRBUF_INIT;
	int rc;

	rc = adminrepo_commit(NULL, path, c->ctx->who->user, c->line, edit, payload, d, &msg);
	if (rc >= 0)
		mirror_request(NULL, c->ctx->data_dir, c->ctx->cfg, ADMIN_REPO); /* when a mirror names it */
	if (rc < 0) {
		diags_sort(d);
		diags_format(c->err, d, "");
		if (msg.len)
			strbuf_addf(c->err, "error: %s\n", msg.buf);
	}
	diags_free(d);
	strbuf_release(&msg);
	free(path);
	return rc < 0 ? 1 : 0;
}

/* ---- whoami, help ---- */

static int cmd_whoami(struct cmd *c)
{
	const struct identity *who = c->ctx->who;

	if (c->json)
		cmd_print_json(c, json_pack("{s:s, s:s, s:b}", "user", who->user, "fingerprint",
					who->fingerprint, "admin", cmd_is_admin(c)));
	else
		strbuf_addf(c->out, "%s %s\n", who->user, who->fingerprint);
	return 0;
}

static void usage_line(struct strbuf *out, const struct admin_command *ac)
{
	strbuf_addf(out, "%s%s%s", ac->name, *ac->args ? " " : "", ac->args);
}

static int cmd_help(struct cmd *c)
{
	json_t *list = c->json ? json_array() : NULL;

	if (!c->json)
		strbuf_addstr(c->out, "gitd commands (ssh git@HOST COMMAND; each takes --help and --json):\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		struct strbuf u = STRBUF_INIT;

		usage_line(&u, &commands[i]);
		if (list)
			json_array_append_new(list, json_pack("{s:s, s:s}", "usage", u.buf,
							      "summary", commands[i].summary));
		else
			strbuf_addf(c->out, "  %-45s %s\n", u.buf, commands[i].summary);
		strbuf_release(&u);
	}
	if (list)
		cmd_print_json(c, list);
	return 0;
}

/* ---- dispatch ---- */

/* The table entry for words ("repo create ..." or "whoami ..."); *used: words it took. */
static const struct admin_command *find_command(const struct strvec *words, size_t *used)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const char *name = commands[i].name, *space = strchr(name, ' ');

		if (!space && !strcmp(words->v[0], name)) {
			*used = 1;
			return &commands[i];
		}
		if (space && words->nr >= 2 && !strncmp(words->v[0], name, (size_t)(space - name)) &&
		    !words->v[0][space - name] && !strcmp(words->v[1], space + 1)) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* A known group with a missing or unknown subcommand: list what the group has. */
static int group_usage(const char *group, struct strbuf *err)
{
	size_t len = strlen(group);
	int found = 0;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strncmp(commands[i].name, group, len) || commands[i].name[len] != ' ')
			continue;
		strbuf_addstr(err, found++ ? "       " : "usage: ");
		usage_line(err, &commands[i]);
		strbuf_addch(err, '\n');
	}
	return found;
}

static int allowed(const struct cmd *c, const struct admin_command *ac)
{
	switch (ac->who) {
	case ANYONE:
		return 1;
	case SERVER_ADMIN:
		return cmd_is_admin(c);
	case SELF_OR_ADMIN:
		return cmd_is_admin(c) || !c->nargs || !strcmp(c->args[0], c->ctx->who->user);
	case REPO_READER: {
		struct strbuf scratch = STRBUF_INIT;
		int valid = reponame_check(c->args[0], &scratch) == 0; /* it becomes a path */

		strbuf_release(&scratch);
		return valid && identity_perm(c->ctx->admin, c->ctx->who->user, c->args[0]) >= ACCESS_READ;
	}
	case BUILDER:
		return access_has_role(cmd_model(c), c->ctx->who->user, ACCESS_ROLE_BUILDER);
	}
	return 0;
}

int admincmd_wants_stdin(const struct strvec *words)
{
	size_t used;
	const struct admin_command *ac = words->nr ? find_command(words, &used) : NULL;

	for (size_t i = 0; i < words->nr; i++)
		if (!strcmp(words->v[i], "--help"))
			return 0;
	return ac && ac->reads_stdin;
}

/* Split the words after the command name into flags and positional arguments. */
static int parse_args(struct cmd *c, const struct admin_command *ac, const struct strvec *words,
		      size_t used, struct strvec *args, int *help)
{
	for (size_t i = used; i < words->nr; i++) {
		const char *w = words->v[i];

		if (!strcmp(w, "--json"))
			c->json = 1;
		else if (!strcmp(w, "--help") || !strcmp(w, "-h"))
			*help = 1;
		else if (w[0] == '-') {
			cmd_fail(c, "unknown option '%s'", w);
			return -1;
		}
		else
			strvec_push(args, w);
	}
	c->args = (const char *const *)args->v;
	c->nargs = args->nr;
	if (!*help && (c->nargs < ac->min_args || c->nargs > ac->max_args))
		return -1;
	return 0;
}

int admincmd_run(const struct admincmd_ctx *ctx, const struct strvec *words,
		 const struct strbuf *in, struct strbuf *out, struct strbuf *err)
{
	struct cmd c = { ctx, NULL, 0, 0, in, out, err, NULL };
	struct strvec args = STRVEC_INIT;
	struct strbuf line = STRBUF_INIT;
	const struct admin_command *ac;
	size_t used = 0;
	int help = 0, rc = 2;

	ac = find_command(words, &used);
	if (!ac) {
		if (!group_usage(words->v[0], err))
			strbuf_addf(err, "error: unknown command '%s'; try `help`\n", words->v[0]);
		goto cleanup;
	}
	for (size_t i = 0; i < words->nr; i++)
		strbuf_addf(&line, "%s%s", i ? " " : "", words->v[i]);
	c.line = line.buf;
	if (parse_args(&c, ac, words, used, &args, &help) < 0 || help) {
		strbuf_addstr(help ? out : err, "usage: ");
		usage_line(help ? out : err, ac);
		strbuf_addf(help ? out : err, "\n%s\n", ac->summary);
		rc = help ? 0 : 2;
		goto cleanup;
	}
	if (!ctx->admin) {
		rc = cmd_fail(&c, "%s", "the admin repository is unreadable; an operator must check the server log");
		goto cleanup;
	}
	if (ac->who == REPO_READER && !allowed(&c, ac)) {
		/* the same answer as for an unknown repository: names do not leak */
		rc = cmd_fail(&c, "repository '%s' not found, or you do not have access to it", c.args[0]);
		goto cleanup;
	}
	if (!allowed(&c, ac)) {
		if (ac->who == SELF_OR_ADMIN)
			rc = cmd_fail(&c, "only server admins may run `%s` for another user", ac->name);
		else if (ac->who == BUILDER)
			rc = cmd_fail(&c, "only users with the builder role (access.yaml roles: builder) may run `%s`",
				  ac->name);
		else
			rc = cmd_fail(&c, "only server admins may run `%s`", ac->name);
		goto cleanup;
	}
	rc = ac->run(&c);
cleanup:
	strvec_clear(&args);
	strbuf_release(&line);
	return rc;
}
