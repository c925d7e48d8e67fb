/*
 * bridge: run a child process with its stdin, stdout and stderr connected
 * to an SSH channel, both ways at once, until the child exits.
 *
 * Neither side can stall the other: the child's stdin is written without
 * blocking from a bounded buffer, and client data is only taken off the
 * channel while that buffer has room, so the SSH window (not our memory)
 * absorbs a fast client. The child's output is read only while the
 * client's window is open. A transfer in progress is never idle: the idle
 * timer restarts on every byte in either direction.
 */
#ifndef GITD_BRIDGE_H
#define GITD_BRIDGE_H

#include <libssh/libssh.h>

struct child;

struct bridge_limits {
	unsigned idle_timeout;       /* seconds without a byte either way; 0: none */
	unsigned keepalive_interval; /* seconds of client silence before a keepalive; 0: none */
};

/*
 * Start c (argv and env filled in; its stdio is set up here) and bridge it to
 * channel ch of session s, whose packets are processed through event ev.
 * Returns the child's exit code (see child_finish()), or -1 if it could not
 * start or the connection failed (the child is then killed and reaped).
 */
int bridge_run(ssh_session s, ssh_event ev, ssh_channel ch, struct child *c,
	       const struct bridge_limits *limits);

#endif
