/*
 * dispatch: run the command of an exec request for an authenticated user
 * and return its exit status (what the client's ssh exits with), or -1 if
 * the connection was lost. git transport commands go to gitserve.c, the
 * rest to the admin commands (admincmd.c).
 */
#ifndef GITD_DISPATCH_H
#define GITD_DISPATCH_H

#include <libssh/libssh.h>

struct gitd_config;
struct identity;
struct admin_state;

struct dispatch_ctx {
	ssh_session ssh;
	ssh_event ev;
	ssh_channel ch;
	const char *data_dir;
	const char *bin_dir;
	const struct gitd_config *cfg;
	const struct admin_state *admin;
	const struct identity *who;
	const char *git_protocol; /* validated GIT_PROTOCOL, or NULL */
};

int dispatch_command(const struct dispatch_ctx *ctx, const char *line);

#endif
