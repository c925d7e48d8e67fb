/*
 * admincmd: gitd's own commands over SSH (`ssh git@host COMMAND`):
 * whoami, help, repo, user, key and perm (see docs/commands.md).
 *
 * Commands that change users, keys or permissions commit to the admin
 * repo, authored by the user who ran them, so its history is the audit
 * log; the commit is validated exactly like a push to the admin repo.
 * Who may run a command is decided from a table, for a whole command group
 * at once: a repository admin is not a server admin.
 *
 * Every command answers --help, prints JSON with --json, writes errors to
 * err and returns a non-zero status on failure (2 for usage errors).
 */
#ifndef GITD_ADMINCMD_H
#define GITD_ADMINCMD_H

#include "strbuf.h"
#include "strvec.h"

struct admin_state;
struct gitd_config;
struct identity;

struct admincmd_ctx {
	const char *data_dir;
	const struct gitd_config *cfg;
	const struct admin_state *admin; /* as loaded when the connection began */
	const struct identity *who;
};

/* 1 if the command in words reads standard input (a public key). */
int admincmd_wants_stdin(const struct strvec *words);

/* Run words; output to out and err; returns the exit status. */
int admincmd_run(const struct admincmd_ctx *ctx, const struct strvec *words,
		 const struct strbuf *in, struct strbuf *out, struct strbuf *err);

#endif
