/*
 * metrics: counters shared by the daemon and every process it forks
 * (connections, jobs), served in the Prometheus text format on
 * metrics_listen (gitd.yaml).
 *
 * The counters live in an anonymous shared mapping made before the first
 * fork, so a connection process counts by an atomic add and the daemon
 * reads the totals without any IPC. The HTTP side is deliberately tiny:
 * one GET per connection, answered from the daemon's main loop.
 */
#ifndef GITD_METRICS_H
#define GITD_METRICS_H

#include <stddef.h>

enum metric {
	M_CONNECTIONS,          /* accepted */
	M_CONNECTIONS_REFUSED,  /* over max_connections */
	M_CONNECTIONS_EVICTED,  /* stalled unauthenticated, to make room */
	M_AUTH_OK,
	M_AUTH_FAILED,
	M_FETCH_OK,             /* upload-pack and upload-archive */
	M_FETCH_FAILED,
	M_PUSH_OK,              /* receive-pack */
	M_PUSH_FAILED,          /* including pushes the hooks refused */
	M_REFUSED,              /* unknown repo, no permission, bad name */
	M_COMMANDS,             /* admin commands */
	M_JOBS_OK,
	M_JOBS_FAILED,
	M_JOB_RENDER_MS,        /* total time spent rendering */
	M_JOB_RENDERS,
	M_METRIC_COUNT
};

/* Set up the shared counters; 0, or -1 (then counting is a no-op). Call before forking. */
int metrics_init(void);
/* Add n to m (any process). */
void metrics_add(enum metric m, unsigned long n);
#define metrics_inc(m) metrics_add((m), 1)

/* Gauges the daemon knows at the time of a scrape. */
struct metrics_gauges {
	size_t connections;
	size_t unauthenticated;
	size_t jobs_running;
	size_t jobs_pending;
};

/* Listen on HOST:PORT for scrapes; the socket, or -1 with a message in err. */
struct strbuf;
int metrics_listen(const char *addr, struct strbuf *err);
/* Answer one scrape waiting on listen_fd. */
void metrics_serve(int listen_fd, const struct metrics_gauges *g);

#endif
