/*
 * The admin commands' shared parts (admincmd.c holds the table and the
 * dispatch; admincmd_admin.c repo/user/key/perm; admincmd_deploy.c
 * status/logs/promote/builds/mirror). Not for other modules.
 */
#ifndef GITD_ADMINCMD_INT_H
#define GITD_ADMINCMD_INT_H

#include <jansson.h>

#include "admincmd.h"

struct access;
struct adminrepo_edit;

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

/* "error: MESSAGE" on the command's stderr; returns 1, the exit status. */
int cmd_fail(struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The access model of the admin state the connection started with. */
const struct access *cmd_model(const struct cmd *c);
/* 1 if the user running c is a server admin. */
int cmd_is_admin(const struct cmd *c);
/* Print value (consumed) as indented JSON on the command's stdout. */
void cmd_print_json(struct cmd *c, json_t *value);
/* Commit an edit of the admin repo as the user running c; 0, or 1 with the problems printed. */
int cmd_commit_edit(struct cmd *c, int (*edit)(struct adminrepo_edit *, struct strbuf *, void *),
		    void *payload);

/* The commands, one per table entry of admincmd.c. */
int cmd_repo_create(struct cmd *c);
int cmd_repo_delete(struct cmd *c);
int cmd_repo_list(struct cmd *c);
int cmd_user_add(struct cmd *c);
int cmd_user_remove(struct cmd *c);
int cmd_user_list(struct cmd *c);
int cmd_key_add(struct cmd *c);
int cmd_key_remove(struct cmd *c);
int cmd_key_list(struct cmd *c);
int cmd_perm_set(struct cmd *c);
int cmd_perm_list(struct cmd *c);
int cmd_status(struct cmd *c);
int cmd_logs(struct cmd *c);
int cmd_promote(struct cmd *c);
int cmd_build_done(struct cmd *c);
int cmd_build_failed(struct cmd *c);
int cmd_mirror_status(struct cmd *c);
int cmd_mirror_retry(struct cmd *c);

#endif
