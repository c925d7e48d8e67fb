/*
 * metrics: counters shared by every gitd process of one data directory,
 * served in the Prometheus text format by gitd/metrics_server.c.
 *
 * They live in DATA/run/metrics, a small file that `gitd serve` creates
 * afresh at every start (Prometheus counters start over with the process)
 * and maps shared before it forks: connection, job and mirror processes
 * count by an atomic add on the inherited mapping, and the hooks, which
 * git execs, map the same file by its path (metrics_attach()). No IPC, no
 * lock; a process that cannot map the file counts nothing.
 */
#ifndef GITD_METRICS_H
#define GITD_METRICS_H

#include <stdint.h>

enum metric {
	/* counters */
	M_CONNECTIONS,          /* accepted */
	M_CONNECTIONS_REFUSED,  /* over max_connections */
	M_CONNECTIONS_EVICTED,  /* stalled unauthenticated, to make room */
	M_AUTH_OK,
	M_AUTH_FAILED,
	M_FETCH_OK,             /* upload-pack and upload-archive */
	M_FETCH_FAILED,
	M_PUSH_OK,              /* receive-pack */
	M_PUSH_FAILED,          /* including pushes the hooks refused */
	M_PUSH_REFUSED_VALIDATION, /* pre-receive: manifests, admin state */
	M_PUSH_REFUSED_ACCESS,  /* pre-receive: ref rules, force push, deletion */
	M_REFUSED,              /* unknown repo, no permission, bad name */
	M_COMMANDS,             /* admin commands */
	M_JOBS_OK,
	M_JOBS_FAILED,
	M_BUILDS_FAILED,
	M_RENDERS_FAILED,       /* rendering or the deploy commit */
	M_MIRRORS_OK,
	M_MIRRORS_FAILED,       /* including runs that crashed or timed out */
	/* gauges the daemon keeps current */
	M_OPEN_CONNECTIONS,
	M_OPEN_UNAUTHENTICATED,
	M_JOBS_RUNNING,
	M_METRIC_COUNT
};

/* The job steps whose durations are kept as histograms. */
enum metric_step { STEP_BUILD, STEP_RENDER, STEP_MIRROR, STEP_COUNT };

/* Histogram bucket upper bounds, in seconds (the +Inf bucket is the count). */
#define METRICS_BUCKETS 12
extern const double metrics_bucket_seconds[METRICS_BUCKETS];

/* A step's histogram as read at one moment. */
struct metrics_histogram {
	uint64_t le[METRICS_BUCKETS]; /* cumulative, as Prometheus wants them */
	uint64_t count;
	uint64_t sum_ms;
};

/* gitd serve, before forking: a fresh DATA/run/metrics, mapped. 0, or -1 with errno. */
int metrics_create(const char *data_dir);
/* A process git execs (the hooks): map the running gitd's counters. 0, or -1. */
int metrics_attach(const char *data_dir);

void metrics_add(enum metric m, uint64_t n);
#define metrics_inc(m) metrics_add((m), 1)
void metrics_set(enum metric m, uint64_t value);
uint64_t metrics_get(enum metric m);
/* Count one run of step that took ms milliseconds. */
void metrics_observe(enum metric_step step, int64_t ms);
void metrics_read_histogram(struct metrics_histogram *out, enum metric_step step);

#endif
