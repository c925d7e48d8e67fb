#include "admincmd.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "access.h"
#include "build.h"
#include "command.h"
#include "config.h"
#include "deploy.h"
#include "adminrepo.h"
#include "identity.h"
#include "log.h"
#include "mirror.h"
#include "queue.h"
#include "pubkey.h"
#include "reponame.h"
#include "repos.h"
#include "state.h"
#include "util.h"
#include "banned.h"

enum who_may {
	ANYONE,
	SERVER_ADMIN,
	SELF_OR_ADMIN, /* the user named by the first argument (default: yourself), or an admin */
	REPO_READER,   /* whoever may read the repository named by the first argument */
	BUILDER,       /* users with the builder role (access.yaml roles: builder) */
};

struct cmd {
	const struct admincmd_ctx *ctx;
	const char *const *args; /* positional arguments */
	size_t nargs;
	int json;
	const struct strbuf *in;
	struct strbuf *out;
	struct strbuf *err;
	const char *line; /* the command as typed, for commit messages */
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
static int cmd_repo_create(struct cmd *c);
static int cmd_repo_delete(struct cmd *c);
static int cmd_repo_list(struct cmd *c);
static int cmd_user_add(struct cmd *c);
static int cmd_user_remove(struct cmd *c);
static int cmd_user_list(struct cmd *c);
static int cmd_key_add(struct cmd *c);
static int cmd_key_remove(struct cmd *c);
static int cmd_key_list(struct cmd *c);
static int cmd_perm_set(struct cmd *c);
static int cmd_perm_list(struct cmd *c);
static int cmd_status(struct cmd *c);
static int cmd_logs(struct cmd *c);
static int cmd_promote(struct cmd *c);
static int cmd_build_done(struct cmd *c);
static int cmd_build_failed(struct cmd *c);
static int cmd_mirror_status(struct cmd *c);
static int cmd_mirror_retry(struct cmd *c);

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

static int __attribute__((format(printf, 2, 3))) fail(struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	strbuf_addstr(c->err, "error: ");
	va_start(ap, fmt);
	strbuf_vaddf(c->err, fmt, ap);
	va_end(ap);
	strbuf_addch(c->err, '\n');
	return 1;
}

static const struct access *model(const struct cmd *c)
{
	return admin_state_access(c->ctx->admin);
}

static int is_admin(const struct cmd *c)
{
	return c->ctx->admin && access_is_admin(model(c), c->ctx->who->user);
}

static void print_json(struct cmd *c, json_t *value)
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
static int commit_edit(struct cmd *c, int (*edit)(struct adminrepo_edit *, struct strbuf *, void *),
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
		print_json(c, json_pack("{s:s, s:s, s:b}", "user", who->user, "fingerprint",
					who->fingerprint, "admin", is_admin(c)));
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
		print_json(c, list);
	return 0;
}

/* ---- repo ---- */

static int edit_add_repo(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	return access_add_repo(adminrepo_edit_access(e), payload, err) < 0 ? -1 : 0;
}

static int edit_remove_repo(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	(void)err;
	access_remove_repo(adminrepo_edit_access(e), payload);
	return 0;
}

static int cmd_repo_create(struct cmd *c)
{
	const char *name = c->args[0];
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (reponame_check(name, &err) < 0) {
		rc = fail(c, "invalid repository name: %s", err.buf);
		goto cleanup;
	}
	if (repos_exists(c->ctx->data_dir, name)) {
		rc = fail(c, "repository '%s' already exists", name);
		goto cleanup;
	}
	/* Declare it first: identity_sync_repos() would create it from the declaration anyway. */
	if (commit_edit(c, edit_add_repo, (void *)name))
		goto cleanup;
	if (repos_create(c->ctx->data_dir, name, &err) < 0) {
		rc = fail(c, "%s", err.buf);
		goto cleanup;
	}
	if (c->json)
		print_json(c, json_pack("{s:s}", "created", name));
	else
		strbuf_addf(c->out, "created repository %s\n", name);
	rc = 0;
cleanup:
	strbuf_release(&err);
	return rc;
}

/* Remove a deleted app's folders from the deploy repo, so ArgoCD prunes it. */
static void undeploy(struct cmd *c, const char *repo)
{
	json_t *state = state_load(c->ctx->data_dir, repo);
	const char *app = json_string_value(json_object_get(state, "app"));
	char *deploy = repos_path(c->ctx->data_dir, DEPLOY_REPO);
	struct deploy_info info = { .source_repo = repo, .pushed_by = c->ctx->who->user,
				    .repo_url = config_deploy_repo_url(c->ctx->cfg),
				    .namespace_pattern = config_namespace_pattern(c->ctx->cfg) };
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (!app) /* never deployed */
		goto cleanup;
	rc = deploy_remove_app(NULL, deploy, app, &info, &err);
	if (rc < 0)
		strbuf_addf(c->err, "warning: %s's folders are still in the deploy repo: %s\n", app, err.buf);
	else if (rc == 0 && !c->json)
		strbuf_addf(c->out, "removed %s from every environment of the deploy repo\n", app);
cleanup:
	strbuf_release(&err);
	free(deploy);
	json_decref(state);
}

static int cmd_repo_delete(struct cmd *c)
{
	const char *name = c->args[0];
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (!strcmp(name, DEPLOY_REPO) || !strcmp(name, ADMIN_REPO)) {
		rc = fail(c, "'%s' belongs to gitd itself and cannot be deleted", name);
		goto cleanup;
	}
	if (reponame_check(name, &err) < 0 || !repos_exists(c->ctx->data_dir, name)) {
		rc = fail(c, "no repository '%s'", name);
		goto cleanup;
	}
	/* Undeclare first, so the next admin push does not re-create it empty. */
	if (commit_edit(c, edit_remove_repo, (void *)name))
		goto cleanup;
	if (repos_delete(c->ctx->data_dir, name, &err) < 0) {
		rc = fail(c, "%s", err.buf);
		goto cleanup;
	}
	log_event(LOG_INFO, "repo-deleted", "repo", name, "by", c->ctx->who->user, NULL);
	undeploy(c, name);
	if (c->json)
		print_json(c, json_pack("{s:s}", "deleted", name));
	else
		strbuf_addf(c->out, "deleted repository %s (kept under trash/ in the data directory)\n", name);
	rc = 0;
cleanup:
	strbuf_release(&err);
	return rc;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the repositories on disk, sorted. */
static void list_repos(struct strvec *out, const char *data_dir)
{
	char *dir = xstrfmt("%s/repos", data_dir);
	struct strbuf scratch = STRBUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name;

		if (len <= 4 || !ends_with(de->d_name, ".git"))
			continue;
		name = xstrndup(de->d_name, len - 4);
		if (reponame_check(name, &scratch) == 0)
			strvec_push_owned(out, name);
		else
			free(name);
	}
	if (d)
		closedir(d);
	free(dir);
	strbuf_release(&scratch);
	qsort(out->v, out->nr, sizeof(*out->v), compare_strings);
}

static int cmd_repo_list(struct cmd *c)
{
	struct strvec names = STRVEC_INIT;
	json_t *list = c->json ? json_array() : NULL;

	list_repos(&names, c->ctx->data_dir);
	for (size_t i = 0; i < names.nr; i++) {
		enum access_perm p = identity_perm(c->ctx->admin, c->ctx->who->user, names.v[i]);

		if (p < ACCESS_READ)
			continue;
		if (list)
			json_array_append_new(list, json_pack("{s:s, s:s}", "name", names.v[i],
							      "access", access_perm_name(p)));
		else
			strbuf_addf(c->out, "%-30s %s\n", names.v[i], access_perm_name(p));
	}
	if (list)
		print_json(c, list);
	strvec_clear(&names);
	return 0;
}

/* ---- user, key ---- */

static char *key_file(const char *user)
{
	return xstrfmt("users/%s.pub", user);
}

/*
 * Parse the keys on stdin for user into canonical lines. Refuses invalid
 * lines (with file:line:col as they would appear in users/NAME.pub) and
 * keys that already belong to someone.
 */
static int stdin_keys(struct cmd *c, const char *user, struct strbuf *lines)
{
	struct pubkey_list *list = pubkey_list_new();
	struct diags *d = diags_new();
	char *file = key_file(user);
	int rc = 1;

	if (pubkey_list_parse(list, user, file, c->in->buf, c->in->len, d) < 0) {
		diags_format(c->err, d, "");
		goto cleanup;
	}
	if (!pubkey_list_count(list)) {
		rc = fail(c, "no public key on standard input; try: ssh ... %s < key.pub", c->line);
		goto cleanup;
	}
	for (size_t i = 0; i < pubkey_list_count(list); i++) {
		const struct pubkey *k = pubkey_list_get(list, i);
		const struct pubkey *owner = admin_state_find_key(c->ctx->admin, k->key);

		if (owner) {
			rc = fail(c, "key %s already belongs to a user", k->fingerprint);
			goto cleanup;
		}
		pubkey_format(lines, k);
	}
	rc = 0;
cleanup:
	pubkey_list_free(list);
	diags_free(d);
	free(file);
	return rc;
}

struct key_edit {
	const char *user;
	const char *lines;       /* key lines to add */
	const char *fingerprint; /* key to remove */
};

static int edit_user_add(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	const struct key_edit *ke = payload;
	char *file = key_file(ke->user);

	(void)err;
	adminrepo_edit_set(e, file, ke->lines, strlen(ke->lines));
	free(file);
	return 0;
}

static int edit_user_remove(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	char *file = key_file(payload);

	(void)err;
	adminrepo_edit_delete(e, file);
	access_remove_user(adminrepo_edit_access(e), payload);
	free(file);
	return 0;
}

static int edit_key_add(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	const struct key_edit *ke = payload;
	char *file = key_file(ke->user);
	struct strbuf text = STRBUF_INIT;

	(void)err;
	adminrepo_edit_read(e, file, &text);
	if (text.len && text.buf[text.len - 1] != '\n')
		strbuf_addch(&text, '\n');
	strbuf_addstr(&text, ke->lines);
	adminrepo_edit_set(e, file, text.buf, text.len);
	strbuf_release(&text);
	free(file);
	return 0;
}

/* Rewrite users/NAME.pub without the key whose fingerprint matches, keeping the rest as it is. */
static int edit_key_remove(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	const struct key_edit *ke = payload;
	char *file = key_file(ke->user);
	struct strbuf text = STRBUF_INIT, kept = STRBUF_INIT;
	struct pubkey_list *left = pubkey_list_new();
	struct diags *d = diags_new();
	int rc = -1;

	adminrepo_edit_read(e, file, &text);
	if (!pubkey_remove(&kept, text.buf, text.len, ke->fingerprint)) {
		strbuf_addf(err, "%s has no key %s; see `key list %s`", ke->user, ke->fingerprint, ke->user);
		goto cleanup;
	}
	pubkey_list_parse(left, ke->user, file, kept.buf, kept.len, d);
	if (!pubkey_list_count(left)) {
		strbuf_addf(err, "that is %s's only key: add another first, or use `user remove`", ke->user);
		goto cleanup;
	}
	adminrepo_edit_set(e, file, kept.buf, kept.len);
	rc = 0;
cleanup:
	pubkey_list_free(left);
	diags_free(d);
	strbuf_release(&text);
	strbuf_release(&kept);
	free(file);
	return rc;
}

static int cmd_user_add(struct cmd *c)
{
	struct key_edit ke = { c->args[0], NULL, NULL };
	struct strbuf err = STRBUF_INIT, lines = STRBUF_INIT;
	int rc = 1;

	if (reponame_check_user(ke.user, &err) < 0) {
		rc = fail(c, "invalid user name: %s", err.buf);
		goto cleanup;
	}
	if (admin_state_has_user(c->ctx->admin, ke.user)) {
		rc = fail(c, "user '%s' already exists; use `key add` to give them another key", ke.user);
		goto cleanup;
	}
	if (stdin_keys(c, ke.user, &lines))
		goto cleanup;
	ke.lines = lines.buf;
	if (commit_edit(c, edit_user_add, &ke))
		goto cleanup;
	if (c->json)
		print_json(c, json_pack("{s:s}", "added", ke.user));
	else
		strbuf_addf(c->out, "added user %s\n", ke.user);
	rc = 0;
cleanup:
	strbuf_release(&err);
	strbuf_release(&lines);
	return rc;
}

static int cmd_user_remove(struct cmd *c)
{
	const char *user = c->args[0];

	if (!admin_state_has_user(c->ctx->admin, user))
		return fail(c, "no user '%s'", user);
	if (commit_edit(c, edit_user_remove, (void *)user))
		return 1;
	if (c->json)
		print_json(c, json_pack("{s:s}", "removed", user));
	else
		strbuf_addf(c->out, "removed user %s, their keys and permissions\n", user);
	return 0;
}

static size_t count_keys(const struct admin_state *admin, const char *user)
{
	const struct pubkey_list *keys = admin_state_keys(admin);
	size_t n = 0;

	for (size_t i = 0; i < pubkey_list_count(keys); i++)
		n += !strcmp(pubkey_list_get(keys, i)->owner, user);
	return n;
}

static int cmd_user_list(struct cmd *c)
{
	const struct strvec *users = admin_state_users(c->ctx->admin);
	json_t *list = c->json ? json_array() : NULL;

	for (size_t i = 0; i < users->nr; i++) {
		const char *u = users->v[i];
		size_t keys = count_keys(c->ctx->admin, u);
		int admin = access_is_admin(model(c), u);

		if (list)
			json_array_append_new(list, json_pack("{s:s, s:I, s:b}", "name", u, "keys",
							      (json_int_t)keys, "admin", admin));
		else
			strbuf_addf(c->out, "%-20s %zu key%s%s\n", u, keys, keys == 1 ? "" : "s",
				    admin ? ", admin" : "");
	}
	if (list)
		print_json(c, list);
	return 0;
}

static int cmd_key_add(struct cmd *c)
{
	struct key_edit ke = { c->args[0], NULL, NULL };
	struct strbuf lines = STRBUF_INIT;
	int rc = 1;

	if (!admin_state_has_user(c->ctx->admin, ke.user)) {
		rc = fail(c, "no user '%s'; an admin adds users with `user add`", ke.user);
		goto cleanup;
	}
	if (stdin_keys(c, ke.user, &lines))
		goto cleanup;
	ke.lines = lines.buf;
	if (commit_edit(c, edit_key_add, &ke))
		goto cleanup;
	if (c->json)
		print_json(c, json_pack("{s:s}", "user", ke.user));
	else
		strbuf_addf(c->out, "added key to %s\n", ke.user);
	rc = 0;
cleanup:
	strbuf_release(&lines);
	return rc;
}

static int cmd_key_remove(struct cmd *c)
{
	struct key_edit ke = { c->args[0], NULL, c->args[1] };

	if (!admin_state_has_user(c->ctx->admin, ke.user))
		return fail(c, "no user '%s'", ke.user);
	if (commit_edit(c, edit_key_remove, &ke))
		return 1;
	if (c->json)
		print_json(c, json_pack("{s:s, s:s}", "user", ke.user, "removed", ke.fingerprint));
	else
		strbuf_addf(c->out, "removed key %s from %s\n", ke.fingerprint, ke.user);
	return 0;
}

static int cmd_key_list(struct cmd *c)
{
	const char *user = c->nargs ? c->args[0] : c->ctx->who->user;
	const struct pubkey_list *keys = admin_state_keys(c->ctx->admin);
	json_t *list = c->json ? json_array() : NULL;

	if (!admin_state_has_user(c->ctx->admin, user))
		return fail(c, "no user '%s'", user);
	for (size_t i = 0; i < pubkey_list_count(keys); i++) {
		const struct pubkey *k = pubkey_list_get(keys, i);

		if (strcmp(k->owner, user))
			continue;
		if (list)
			json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:s}", "fingerprint",
				k->fingerprint, "type", k->type, "bits", (json_int_t)k->bits,
				"comment", k->comment));
		else
			strbuf_addf(c->out, "%s %s %s\n", k->fingerprint, k->type, k->comment);
	}
	if (list)
		print_json(c, list);
	return 0;
}

/* ---- perm ---- */

struct perm_edit {
	const char *repo;
	const char *user;
	enum access_perm perm;
};

static int edit_perm_set(struct adminrepo_edit *e, struct strbuf *err, void *payload)
{
	const struct perm_edit *pe = payload;

	return access_set_perm(adminrepo_edit_access(e), pe->repo, pe->user, pe->perm, err);
}

static int cmd_perm_set(struct cmd *c)
{
	struct perm_edit pe = { c->args[0], c->args[1], ACCESS_NONE };
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (reponame_check_pattern(pe.repo, &err) < 0) {
		rc = fail(c, "%s", err.buf);
		goto cleanup;
	}
	if (strcmp(pe.user, ACCESS_EVERYONE) && !admin_state_has_user(c->ctx->admin, pe.user)) {
		rc = fail(c, "no user '%s'; add them first with `user add`", pe.user);
		goto cleanup;
	}
	if (access_perm_parse(&pe.perm, c->args[2]) < 0) {
		rc = fail(c, "unknown permission '%s': use none, read, write or admin", c->args[2]);
		goto cleanup;
	}
	if (commit_edit(c, edit_perm_set, &pe))
		goto cleanup;
	if (c->json)
		print_json(c, json_pack("{s:s, s:s, s:s}", "repo", pe.repo, "user", pe.user,
					"permission", access_perm_name(pe.perm)));
	else
		strbuf_addf(c->out, "%s: %s %s\n", pe.repo, pe.user, access_perm_name(pe.perm));
	rc = 0;
cleanup:
	strbuf_release(&err);
	return rc;
}

/* Everyone's effective permission on a repository, admins and patterns included. */
static int cmd_perm_list(struct cmd *c)
{
	const char *repo = c->args[0];
	const struct strvec *users = admin_state_users(c->ctx->admin);
	json_t *obj = c->json ? json_object() : NULL;
	struct strbuf err = STRBUF_INIT;

	if (reponame_check(repo, &err) < 0) {
		fail(c, "%s", err.buf);
		strbuf_release(&err);
		json_decref(obj);
		return 1;
	}
	strbuf_release(&err);
	for (size_t i = 0; i < users->nr; i++) {
		enum access_perm p = access_perm(model(c), repo, users->v[i]);

		if (p == ACCESS_NONE)
			continue;
		if (obj)
			json_object_set_new(obj, users->v[i], json_string(access_perm_name(p)));
		else
			strbuf_addf(c->out, "%-20s %s\n", users->v[i], access_perm_name(p));
	}
	if (obj)
		print_json(c, obj);
	return 0;
}

/* ---- status, logs ---- */

static const char *short_sha(const json_t *obj, const char *key)
{
	static char buf[8];
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(buf, sizeof(buf), "%.7s", s ? s : "-");
	return buf;
}

static int cmd_status(struct cmd *c)
{
	json_t *state = state_load(c->ctx->data_dir, c->args[0]);
	json_t *envs = json_object_get(state, "envs");

	if (c->json) {
		print_json(c, json_incref(envs));
	} else if (!json_object_size(envs)) {
		strbuf_addf(c->out, "%s has not been deployed yet\n", c->args[0]);
	} else {
		strbuf_addf(c->out, "%-12s %-8s %-8s %-8s %-6s %s\n", "ENVIRONMENT", "STATUS", "COMMIT",
			    "DEPLOY", "JOB", "TIME");
		for (size_t i = 0; i < config_env_count(c->ctx->cfg); i++) {
			const char *name = config_env(c->ctx->cfg, i)->name;
			const json_t *e = json_object_get(envs, name);
			char commit[8];

			if (!e)
				continue;
			snprintf(commit, sizeof(commit), "%s", short_sha(e, "commit"));
			strbuf_addf(c->out, "%-12s %-8s %-8s %-8s %-6" JSON_INTEGER_FORMAT " %s\n", name,
				    json_string_value(json_object_get(e, "status")), commit,
				    short_sha(e, "deploy_commit"), json_integer_value(json_object_get(e, "job")),
				    json_string_value(json_object_get(e, "time")));
		}
	}
	json_decref(state);
	return 0;
}

static int print_log(struct cmd *c, const char *repo, const char *id_arg)
{
	struct strbuf log;
	unsigned long id;
	char *path;
	int rc = 0;

	if (parse_uint(id_arg, 1UL << 40, &id) < 0)
		return fail(c, "'%s' is not a job number; see `logs %s`", id_arg, repo);
	path = job_log_path(c->ctx->data_dir, repo, id);
	strbuf_init_capped(&log, 4 << 20);
	if (strbuf_read_file(&log, path) < 0 && !log.len)
		rc = fail(c, "%s has no job %lu", repo, id);
	else if (c->json)
		print_json(c, json_pack("{s:I, s:s%}", "job", (json_int_t)id, "log", log.buf, log.len));
	else
		strbuf_addbuf(c->out, &log);
	strbuf_release(&log);
	free(path);
	return rc;
}

static int cmd_logs(struct cmd *c)
{
	json_t *jobs;
	size_t i;
	const json_t *job;

	if (c->nargs == 2)
		return print_log(c, c->args[0], c->args[1]);
	jobs = queue_list(c->ctx->data_dir, c->args[0], 20);
	if (c->json) {
		print_json(c, jobs);
		return 0;
	}
	json_array_foreach(jobs, i, job) {
		strbuf_addf(c->out, "%-6" JSON_INTEGER_FORMAT " %-8s %s %-12s %s\n",
			    json_integer_value(json_object_get(job, "id")),
			    json_string_value(json_object_get(job, "status")),
			    json_string_value(json_object_get(job, "created")),
			    json_string_value(json_object_get(job, "pusher")),
			    json_string_value(json_object_get(job, "message")) ?
				    json_string_value(json_object_get(job, "message")) : "");
	}
	json_decref(jobs);
	return 0;
}

/* ---- builds: promote, build-done, build-failed ---- */

/* How long `promote` waits for its job before pointing at `logs`. */
#define PROMOTE_WAIT_SECONDS 120

/* Promoting to env takes what a push to env's refs takes: write, and the refs: rules. */
static int may_deploy_to(struct cmd *c, const char *repo, const struct config_env *env)
{
	struct access_ref_rule rule;

	if (identity_perm(c->ctx->admin, c->ctx->who->user, repo) < ACCESS_WRITE)
		return !fail(c, "you may not deploy %s to %s: that needs write access to %s", repo, env->name, repo);
	if (!access_ref_check(&rule, model(c), repo, c->ctx->who->user, env->ref)) {
		strbuf_addstr(c->err, "error: ");
		access_ref_refusal(c->err, &rule, env->ref);
		strbuf_addf(c->err, "\nerror: promoting to %s takes the right to push %s\n", env->name, env->ref);
		return 0;
	}
	return 1;
}

/* What env runs, as a promotion of it; -1 (with the error) when it runs nothing. */
static int promotion_of(struct cmd *c, struct job_promote *out, const json_t *e, const char *repo)
{
	const char *commit = json_string_value(json_object_get(e, "commit"));
	const char *deploy = json_string_value(json_object_get(e, "deploy_commit"));
	const char *ref = json_string_value(json_object_get(e, "ref"));

	if (!commit || !deploy || strspn(deploy, "0") == strlen(deploy) ||
	    git_oid_fromstr(&out->commit, commit) < 0)
		return -fail(c, "%s runs nothing in %s yet: deploy it there first (see `status %s`)", repo,
			     out->from, repo);
	out->ref = xstrdup(ref ? ref : "");
	out->image = json_is_string(json_object_get(e, "image")) ?
			     xstrdup(json_string_value(json_object_get(e, "image"))) : NULL;
	return 0;
}

/* Wait for job id, then print its log; the exit status. */
static int follow_job(struct cmd *c, const char *repo, unsigned long id)
{
	char *path = job_log_path(c->ctx->data_dir, repo, id);
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	time_t deadline = time(NULL) + PROMOTE_WAIT_SECONDS;
	const char *status;
	json_t *result = NULL;
	struct strbuf log;
	int failed;

	while (queue_result(&result, c->ctx->data_dir, id) == 1 && time(NULL) < deadline)
		nanosleep(&tick, NULL);
	strbuf_init_capped(&log, 1 << 20);
	strbuf_read_file(&log, path);
	status = json_string_value(json_object_get(result, "status")); /* borrowed from result */
	failed = status && !strcmp(status, "failed");
	if (c->json)
		print_json(c, json_pack("{s:I, s:s, s:s%}", "job", (json_int_t)id, "status",
					status ? status : "running", "log", log.buf, log.len));
	else
		strbuf_addbuf(c->out, &log);
	if (!status && !c->json)
		strbuf_addf(c->out, "gitd: job %lu is still running; follow it with `logs %s %lu`\n", id, repo, id);
	json_decref(result);
	strbuf_release(&log);
	free(path);
	return failed;
}

static int cmd_promote(struct cmd *c)
{
	const char *repo = c->args[0];
	const struct config_env *from = config_env_find(c->ctx->cfg, c->args[1]);
	const struct config_env *to = config_env_find(c->ctx->cfg, c->args[2]);
	struct job_promote p;
	json_t *state = NULL;
	unsigned long id;
	int rc = 1;

	memset(&p, 0, sizeof(p));
	if (!from || !to) {
		rc = fail(c, "no environment `%s` in gitd.yaml", from ? c->args[2] : c->args[1]);
		goto cleanup;
	}
	p.from = xstrdup(from->name);
	p.to = xstrdup(to->name);
	if (from == to) {
		rc = fail(c, "FROM and TO are both %s", from->name);
		goto cleanup;
	}
	if (!may_deploy_to(c, repo, to))
		goto cleanup;
	state = state_load(c->ctx->data_dir, repo);
	if (promotion_of(c, &p, json_object_get(json_object_get(state, "envs"), from->name), repo) < 0)
		goto cleanup;
	if (queue_enqueue_promote(&id, c->ctx->data_dir, repo, c->ctx->who->user, &p) < 0) {
		rc = fail(c, "cannot queue the promotion: %s", strerror(errno));
		goto cleanup;
	}
	log_event(LOG_INFO, "promote-queued", "repo", repo, "from", from->name, "to", to->name,
		  "by", c->ctx->who->user, NULL);
	rc = follow_job(c, repo, id);
cleanup:
	free(p.from);
	free(p.to);
	free(p.ref);
	free(p.image);
	json_decref(state);
	return rc;
}

static int parse_job(struct cmd *c, unsigned long *out)
{
	if (parse_uint(c->args[0], 1UL << 40, out) < 0 || !*out)
		return fail(c, "'%s' is not a job number", c->args[0]);
	return 0;
}

static int report_build(struct cmd *c, const char *digest, const char *reason)
{
	struct strbuf err = STRBUF_INIT;
	unsigned long id;
	char n[32];
	int rc;

	if (parse_job(c, &id))
		return 1;
	rc = build_report(c->ctx->data_dir, id, digest, reason, &err);
	if (rc < 0) {
		fail(c, "%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	snprintf(n, sizeof(n), "%lu", id);
	log_event(LOG_INFO, "build-reported", "job", n, "by", c->ctx->who->user, "result",
		  digest ? "done" : "failed", NULL);
	if (c->json)
		print_json(c, json_pack("{s:I, s:s}", "job", (json_int_t)id, "result", digest ? "done" : "failed"));
	else
		strbuf_addf(c->out, "job %lu: build %s recorded\n", id, digest ? "result" : "failure");
	strbuf_release(&err);
	return 0;
}

static int cmd_build_done(struct cmd *c)
{
	return report_build(c, c->args[1], NULL);
}

static int cmd_build_failed(struct cmd *c)
{
	struct strbuf reason = STRBUF_INIT;
	int rc;

	for (size_t i = 1; i < c->nargs; i++)
		strbuf_addf(&reason, "%s%s", i > 1 ? " " : "", c->args[i]);
	rc = report_build(c, NULL, reason.buf);
	strbuf_release(&reason);
	return rc;
}

/* ---- mirror ---- */

static const char *str_or_dash(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

static void print_mirror(struct cmd *c, const json_t *m)
{
	const json_t *refs = json_object_get(m, "pending_refs"), *r;
	json_int_t attempts = json_integer_value(json_object_get(m, "attempts"));
	size_t i;

	strbuf_addf(c->out, "%s -> %s\n", str_or_dash(m, "repo"), str_or_dash(m, "url"));
	strbuf_addf(c->out, "  state         %s", str_or_dash(m, "state"));
	if (attempts)
		strbuf_addf(c->out, " (%" JSON_INTEGER_FORMAT " failed attempt%s)", attempts, attempts == 1 ? "" : "s");
	strbuf_addf(c->out, "\n  last success  %s\n", str_or_dash(m, "last_success"));
	if (json_is_string(json_object_get(m, "last_error")))
		strbuf_addf(c->out, "  last error    %s: %s\n", str_or_dash(m, "last_error_time"),
			    str_or_dash(m, "last_error"));
	else
		strbuf_addstr(c->out, "  last error    -\n");
	strbuf_addstr(c->out, "  pending refs ");
	json_array_foreach(refs, i, r)
		strbuf_addf(c->out, " %s", json_string_value(r));
	if (!json_array_size(refs))
		strbuf_addstr(c->out, " -");
	strbuf_addf(c->out, "\n  next retry    %s\n", str_or_dash(m, "next_retry"));
}

static int cmd_mirror_status(struct cmd *c)
{
	json_t *list = mirror_status(c->ctx->data_dir, c->ctx->cfg);
	size_t i;
	const json_t *m;

	if (c->json) {
		print_json(c, list);
		return 0;
	}
	if (!json_array_size(list))
		strbuf_addstr(c->out, config_mirror_count(c->ctx->cfg) ?
			      "no repository matches a mirror of gitd.yaml\n" :
			      "no mirrors configured (see `mirrors:` in gitd.yaml)\n");
	json_array_foreach(list, i, m)
		print_mirror(c, m);
	json_decref(list);
	return 0;
}

static int cmd_mirror_retry(struct cmd *c)
{
	const char *repo = c->nargs ? c->args[0] : NULL;
	struct strbuf err = STRBUF_INIT;
	int n;

	if (repo && (reponame_check(repo, &err) < 0 || !repos_exists(c->ctx->data_dir, repo))) {
		strbuf_release(&err);
		return fail(c, "no repository '%s'", repo);
	}
	strbuf_release(&err);
	n = mirror_retry(c->ctx->data_dir, c->ctx->cfg, repo);
	if (n < 0)
		return fail(c, "cannot record the retry: %s", strerror(errno));
	if (!n)
		return fail(c, "%s%s", repo ? "no mirror of gitd.yaml matches " : "no mirrors configured",
			    repo ? repo : "");
	log_event(LOG_INFO, "mirror-retry", "repo", repo ? repo : "*", "by", c->ctx->who->user, NULL);
	if (c->json)
		print_json(c, json_pack("{s:I}", "retrying", (json_int_t)n));
	else
		strbuf_addf(c->out, "retrying %d mirror%s\n", n, n == 1 ? "" : "s");
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
		return is_admin(c);
	case SELF_OR_ADMIN:
		return is_admin(c) || !c->nargs || !strcmp(c->args[0], c->ctx->who->user);
	case REPO_READER: {
		struct strbuf scratch = STRBUF_INIT;
		int valid = reponame_check(c->args[0], &scratch) == 0; /* it becomes a path */

		strbuf_release(&scratch);
		return valid && identity_perm(c->ctx->admin, c->ctx->who->user, c->args[0]) >= ACCESS_READ;
	}
	case BUILDER:
		return access_has_role(model(c), c->ctx->who->user, ACCESS_ROLE_BUILDER);
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
			fail(c, "unknown option '%s'", w);
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
		rc = fail(&c, "%s", "the admin repository is unreadable; an operator must check the server log");
		goto cleanup;
	}
	if (ac->who == REPO_READER && !allowed(&c, ac)) {
		/* the same answer as for an unknown repository: names do not leak */
		rc = fail(&c, "repository '%s' not found, or you do not have access to it", c.args[0]);
		goto cleanup;
	}
	if (!allowed(&c, ac)) {
		if (ac->who == SELF_OR_ADMIN)
			rc = fail(&c, "only server admins may run `%s` for another user", ac->name);
		else if (ac->who == BUILDER)
			rc = fail(&c, "only users with the builder role (access.yaml roles: builder) may run `%s`",
				  ac->name);
		else
			rc = fail(&c, "only server admins may run `%s`", ac->name);
		goto cleanup;
	}
	rc = ac->run(&c);
cleanup:
	strvec_clear(&args);
	strbuf_release(&line);
	return rc;
}
