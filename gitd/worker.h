/*
 * worker: runs the jobs of the durable queue (lib/queue.h) from the daemon.
 *
 * The server's main loop polls worker_fd() (an inotify watch on the
 * pending/ directory, so a new job starts at once) and calls worker_tick()
 * at least once a second. Each job runs in a forked process of its own
 * (job.c): a crash in one job cannot take gitd down, and gitd's own
 * restart finds the job in running/ and queues it again. At most
 * WORKER_MAX_JOBS run at once, never two of the same repo.
 */
#ifndef GITD_WORKER_H
#define GITD_WORKER_H

#include <sys/types.h>

struct gitd_config;
struct worker;

#define WORKER_MAX_JOBS 2

/* Requeue jobs a previous run left in running/, watch pending/. NULL on failure (logged). */
struct worker *worker_new(const char *data_dir);
void worker_free(struct worker *w);

/* A descriptor that becomes readable when a job was queued. */
int worker_fd(const struct worker *w);
/* Drain worker_fd() and start what can start. close_fds lists descriptors the job process must not keep. */
void worker_tick(struct worker *w, const struct gitd_config *cfg, const int *close_fds, size_t nfds);
/* Whether pid was one of the worker's jobs (then it is accounted for). */
int worker_reaped(struct worker *w, pid_t pid, int status);
/* gitd is draining: no new job starts, and pushers stop waiting for queued ones. */
void worker_drain(struct worker *w);
/* Send SIGTERM to every running job (gitd is stopping; they are requeued at the next start). */
void worker_stop(struct worker *w);
/* Jobs running now. */
size_t worker_running(const struct worker *w);

#endif
