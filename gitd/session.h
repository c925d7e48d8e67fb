/*
 * session: one client connection, in its own process (forked by server.c).
 *
 * Key exchange, public-key authentication against the admin repo, one
 * session channel, one exec request (or a shell request, which gets the
 * one-line "no shell access" answer), then the command runs and its exit
 * status goes back to the client. Everything else a client can ask for
 * (pty, subsystems, forwarding, agent, X11, environment other than
 * GIT_PROTOCOL, a second channel) is refused.
 */
#ifndef GITD_SESSION_H
#define GITD_SESSION_H

#include <libssh/server.h>

struct gitd_config;

struct session_opts {
	const char *data_dir;
	const char *bin_dir;           /* where gitd's own binaries are */
	const struct gitd_config *cfg;
	int startup_fd;                /* written to and closed once authenticated */
	const char *peer;              /* client address for logs */
};

/* Serve the connection on fd (already accepted) until it ends; never returns. */
void session_serve(ssh_bind bind, int fd, const struct session_opts *opts)
	__attribute__((noreturn));

#endif
