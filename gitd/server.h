/*
 * server: `gitd serve`. Listens, and forks one process per connection
 * (session.c), as sshd does: a crash or a hostile client affects one
 * connection only.
 *
 * The parent never parses client data. It counts connections and knows
 * which are not yet authenticated (each child reports through a pipe when
 * its user is authenticated). Limits: max_connections in all;
 * max_unauthenticated in all and max_unauthenticated_per_source per client
 * address. A new connection over a limit takes the place of the oldest
 * *stalled* connection (no SSH key exchange 3 s after connecting; of its
 * own source first) rather than being refused, so a flood of idle
 * half-open connections cannot lock out a real user, while a burst of real
 * clients connecting at once never evicts itself. login_grace_time bounds
 * how long any connection may stay unauthenticated. SIGTERM and SIGINT drain (stop listening, let running sessions
 * finish for up to DRAIN_SECONDS), SIGHUP reloads gitd.yaml.
 */
#ifndef GITD_SERVER_H
#define GITD_SERVER_H

struct server_opts {
	const char *data_dir;
	const char *listen; /* HOST:PORT overriding the config, or NULL */
};

/* Run until drained; the process exit code. */
int server_run(const struct server_opts *opts);

#endif
