/* Admin commands that edit the admin repo: repo, user, key, perm. */
#include "admincmd_int.h"

#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "adminrepo.h"
#include "config.h"
#include "deploy.h"
#include "identity.h"
#include "log.h"
#include "pubkey.h"
#include "reponame.h"
#include "repos.h"
#include "state.h"
#include "util.h"
#include "banned.h"

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

int cmd_repo_create(struct cmd *c)
{
	const char *name = c->args[0];
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (reponame_check(name, &err) < 0) {
		rc = cmd_fail(c, "invalid repository name: %s", err.buf);
		goto cleanup;
	}
	if (repos_exists(c->ctx->data_dir, name)) {
		rc = cmd_fail(c, "repository '%s' already exists", name);
		goto cleanup;
	}
	/* Declare it first: identity_sync_repos() would create it from the declaration anyway. */
	if (cmd_commit_edit(c, edit_add_repo, (void *)name))
		goto cleanup;
	if (repos_create(c->ctx->data_dir, name, &err) < 0) {
		rc = cmd_fail(c, "%s", err.buf);
		goto cleanup;
	}
	if (c->json)
		cmd_print_json(c, json_pack("{s:s}", "created", name));
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

int cmd_repo_delete(struct cmd *c)
{
	const char *name = c->args[0];
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (!strcmp(name, DEPLOY_REPO) || !strcmp(name, ADMIN_REPO)) {
		rc = cmd_fail(c, "'%s' belongs to gitd itself and cannot be deleted", name);
		goto cleanup;
	}
	if (reponame_check(name, &err) < 0 || !repos_exists(c->ctx->data_dir, name)) {
		rc = cmd_fail(c, "no repository '%s'", name);
		goto cleanup;
	}
	/* Undeclare first, so the next admin push does not re-create it empty. */
	if (cmd_commit_edit(c, edit_remove_repo, (void *)name))
		goto cleanup;
	if (repos_delete(c->ctx->data_dir, name, &err) < 0) {
		rc = cmd_fail(c, "%s", err.buf);
		goto cleanup;
	}
	log_event(LOG_INFO, "repo-deleted", "repo", name, "by", c->ctx->who->user, NULL);
	undeploy(c, name);
	if (c->json)
		cmd_print_json(c, json_pack("{s:s}", "deleted", name));
	else
		strbuf_addf(c->out, "deleted repository %s (kept under trash/ in the data directory)\n", name);
	rc = 0;
cleanup:
	strbuf_release(&err);
	return rc;
}

int cmd_repo_list(struct cmd *c)
{
	struct strvec names = STRVEC_INIT;
	json_t *list = c->json ? json_array() : NULL;

	reponame_list(&names, c->ctx->data_dir);
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
		cmd_print_json(c, list);
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
		rc = cmd_fail(c, "no public key on standard input; try: ssh ... %s < key.pub", c->line);
		goto cleanup;
	}
	for (size_t i = 0; i < pubkey_list_count(list); i++) {
		const struct pubkey *k = pubkey_list_get(list, i);
		const struct pubkey *owner = admin_state_find_key(c->ctx->admin, k->key);

		if (owner) {
			rc = cmd_fail(c, "key %s already belongs to a user", k->fingerprint);
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

int cmd_user_add(struct cmd *c)
{
	struct key_edit ke = { c->args[0], NULL, NULL };
	struct strbuf err = STRBUF_INIT, lines = STRBUF_INIT;
	int rc = 1;

	if (reponame_check_user(ke.user, &err) < 0) {
		rc = cmd_fail(c, "invalid user name: %s", err.buf);
		goto cleanup;
	}
	if (admin_state_has_user(c->ctx->admin, ke.user)) {
		rc = cmd_fail(c, "user '%s' already exists; use `key add` to give them another key", ke.user);
		goto cleanup;
	}
	if (stdin_keys(c, ke.user, &lines))
		goto cleanup;
	ke.lines = lines.buf;
	if (cmd_commit_edit(c, edit_user_add, &ke))
		goto cleanup;
	if (c->json)
		cmd_print_json(c, json_pack("{s:s}", "added", ke.user));
	else
		strbuf_addf(c->out, "added user %s\n", ke.user);
	rc = 0;
cleanup:
	strbuf_release(&err);
	strbuf_release(&lines);
	return rc;
}

int cmd_user_remove(struct cmd *c)
{
	const char *user = c->args[0];

	if (!admin_state_has_user(c->ctx->admin, user))
		return cmd_fail(c, "no user '%s'", user);
	if (cmd_commit_edit(c, edit_user_remove, (void *)user))
		return 1;
	if (c->json)
		cmd_print_json(c, json_pack("{s:s}", "removed", user));
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

int cmd_user_list(struct cmd *c)
{
	const struct strvec *users = admin_state_users(c->ctx->admin);
	json_t *list = c->json ? json_array() : NULL;

	for (size_t i = 0; i < users->nr; i++) {
		const char *u = users->v[i];
		size_t keys = count_keys(c->ctx->admin, u);
		int admin = access_is_admin(cmd_model(c), u);

		if (list)
			json_array_append_new(list, json_pack("{s:s, s:I, s:b}", "name", u, "keys",
							      (json_int_t)keys, "admin", admin));
		else
			strbuf_addf(c->out, "%-20s %zu key%s%s\n", u, keys, keys == 1 ? "" : "s",
				    admin ? ", admin" : "");
	}
	if (list)
		cmd_print_json(c, list);
	return 0;
}

int cmd_key_add(struct cmd *c)
{
	struct key_edit ke = { c->args[0], NULL, NULL };
	struct strbuf lines = STRBUF_INIT;
	int rc = 1;

	if (!admin_state_has_user(c->ctx->admin, ke.user)) {
		rc = cmd_fail(c, "no user '%s'; an admin adds users with `user add`", ke.user);
		goto cleanup;
	}
	if (stdin_keys(c, ke.user, &lines))
		goto cleanup;
	ke.lines = lines.buf;
	if (cmd_commit_edit(c, edit_key_add, &ke))
		goto cleanup;
	if (c->json)
		cmd_print_json(c, json_pack("{s:s}", "user", ke.user));
	else
		strbuf_addf(c->out, "added key to %s\n", ke.user);
	rc = 0;
cleanup:
	strbuf_release(&lines);
	return rc;
}

int cmd_key_remove(struct cmd *c)
{
	struct key_edit ke = { c->args[0], NULL, c->args[1] };

	if (!admin_state_has_user(c->ctx->admin, ke.user))
		return cmd_fail(c, "no user '%s'", ke.user);
	if (cmd_commit_edit(c, edit_key_remove, &ke))
		return 1;
	if (c->json)
		cmd_print_json(c, json_pack("{s:s, s:s}", "user", ke.user, "removed", ke.fingerprint));
	else
		strbuf_addf(c->out, "removed key %s from %s\n", ke.fingerprint, ke.user);
	return 0;
}

int cmd_key_list(struct cmd *c)
{
	const char *user = c->nargs ? c->args[0] : c->ctx->who->user;
	const struct pubkey_list *keys = admin_state_keys(c->ctx->admin);
	json_t *list = c->json ? json_array() : NULL;

	if (!admin_state_has_user(c->ctx->admin, user))
		return cmd_fail(c, "no user '%s'", user);
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
		cmd_print_json(c, list);
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

int cmd_perm_set(struct cmd *c)
{
	struct perm_edit pe = { c->args[0], c->args[1], ACCESS_NONE };
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (reponame_check_pattern(pe.repo, &err) < 0) {
		rc = cmd_fail(c, "%s", err.buf);
		goto cleanup;
	}
	if (strcmp(pe.user, ACCESS_EVERYONE) && !admin_state_has_user(c->ctx->admin, pe.user)) {
		rc = cmd_fail(c, "no user '%s'; add them first with `user add`", pe.user);
		goto cleanup;
	}
	if (access_perm_parse(&pe.perm, c->args[2]) < 0) {
		rc = cmd_fail(c, "unknown permission '%s': use none, read, write or admin", c->args[2]);
		goto cleanup;
	}
	if (cmd_commit_edit(c, edit_perm_set, &pe))
		goto cleanup;
	if (c->json)
		cmd_print_json(c, json_pack("{s:s, s:s, s:s}", "repo", pe.repo, "user", pe.user,
					"permission", access_perm_name(pe.perm)));
	else
		strbuf_addf(c->out, "%s: %s %s\n", pe.repo, pe.user, access_perm_name(pe.perm));
	rc = 0;
cleanup:
	strbuf_release(&err);
	return rc;
}

/* Everyone's effective permission on a repository, admins and patterns included. */
int cmd_perm_list(struct cmd *c)
{
	const char *repo = c->args[0];
	const struct strvec *users = admin_state_users(c->ctx->admin);
	json_t *obj = c->json ? json_object() : NULL;
	struct strbuf err = STRBUF_INIT;

	if (reponame_check(repo, &err) < 0) {
		cmd_fail(c, "%s", err.buf);
		strbuf_release(&err);
		json_decref(obj);
		return 1;
	}
	strbuf_release(&err);
	for (size_t i = 0; i < users->nr; i++) {
		enum access_perm p = access_perm(cmd_model(c), repo, users->v[i]);

		if (p == ACCESS_NONE)
			continue;
		if (obj)
			json_object_set_new(obj, users->v[i], json_string(access_perm_name(p)));
		else
			strbuf_addf(c->out, "%-20s %s\n", users->v[i], access_perm_name(p));
	}
	if (obj)
		cmd_print_json(c, obj);
	return 0;
}

