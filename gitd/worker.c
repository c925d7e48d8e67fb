#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "spawn.h"
#include "util.h"
#include "banned.h"

struct running_job {
	pid_t pid;
	struct job *job;
};

struct worker {
	char *data_dir;
	int inotify_fd;
	struct running_job slots[WORKER_MAX_JOBS];
};

struct worker *worker_new(const char *data_dir)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	char *pending = xstrfmt("%s/queue/pending", data_dir);
	size_t requeued;

	w->data_dir = xstrdup(data_dir);
	w->inotify_fd = -1;
	if (queue_init(data_dir) < 0) {
		log_event(LOG_ERROR, "queue-init-failed", "error", strerror(errno), NULL);
		goto fail;
	}
	queue_set_draining(data_dir, 0);
	requeued = queue_requeue_running(data_dir);
	build_cleanup_stale(data_dir); /* no job runs yet: what builds left is a crash's */
	if (requeued) {
		char n[32];
		snprintf(n, sizeof(n), "%zu", requeued);
		log_event(LOG_INFO, "jobs-requeued", "count", n, NULL);
	}
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->inotify_fd < 0 || inotify_add_watch(w->inotify_fd, pending, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		log_event(LOG_ERROR, "queue-watch-failed", "error", strerror(errno), NULL);
		goto fail;
	}
	free(pending);
	return w;
fail:
	free(pending);
	worker_free(w);
	return NULL;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	for (size_t i = 0; i < WORKER_MAX_JOBS; i++)
		job_free(w->slots[i].job);
	free(w->data_dir);
	free(w);
}

int worker_fd(const struct worker *w)
{
	return w->inotify_fd;
}

size_t worker_running(const struct worker *w)
{
	size_t n = 0;

	for (size_t i = 0; i < WORKER_MAX_JOBS; i++)
		n += w->slots[i].job != NULL;
	return n;
}

void worker_drain(struct worker *w)
{
	if (queue_set_draining(w->data_dir, 1) < 0)
		log_event(LOG_ERROR, "drain-mark-failed", "error", strerror(errno), NULL);
}

void worker_stop(struct worker *w)
{
	for (size_t i = 0; i < WORKER_MAX_JOBS; i++)
		if (w->slots[i].job)
			kill(w->slots[i].pid, SIGTERM);
}

static int repo_busy(const char *repo, void *payload)
{
	const struct worker *w = payload;

	for (size_t i = 0; i < WORKER_MAX_JOBS; i++)
		if (w->slots[i].job && !strcmp(w->slots[i].job->repo, repo))
			return 1;
	return 0;
}

static void start_job(struct worker *w, struct running_job *slot, struct job *j,
		      const struct gitd_config *cfg, const int *close_fds, size_t nfds)
{
	char id[32];
	pid_t pid;

	snprintf(id, sizeof(id), "%lu", j->id);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		for (size_t i = 0; i < nfds; i++)
			close(close_fds[i]);
		close(w->inotify_fd);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		log_set_pid(1);
		exit(job_run(w->data_dir, cfg, j) == 0 ? 0 : 1);
	}
	if (pid < 0) {
		log_event(LOG_ERROR, "fork-failed", "job", id, "error", strerror(errno), NULL);
		queue_requeue_running(w->data_dir);
		job_free(j);
		return;
	}
	log_event(LOG_INFO, "job-started", "job", id, "repo", j->repo, NULL);
	slot->pid = pid;
	slot->job = j;
}

void worker_tick(struct worker *w, const struct gitd_config *cfg, const int *close_fds, size_t nfds)
{
	char events[4096];

	while (read(w->inotify_fd, events, sizeof(events)) > 0)
		; /* the directory is listed below; the events only woke us */
	for (size_t i = 0; i < WORKER_MAX_JOBS; i++) {
		struct job *j = NULL;

		if (w->slots[i].job)
			continue;
		if (queue_claim(&j, w->data_dir, repo_busy, w) != 0)
			break;
		start_job(w, &w->slots[i], j, cfg, close_fds, nfds);
	}
}

int worker_reaped(struct worker *w, pid_t pid, int status)
{
	for (size_t i = 0; i < WORKER_MAX_JOBS; i++) {
		struct running_job *slot = &w->slots[i];
		char id[32];

		if (!slot->job || slot->pid != pid)
			continue;
		snprintf(id, sizeof(id), "%lu", slot->job->id);
		if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)) {
			/* stopped from outside (gitd is stopping): run it again later */
			queue_requeue(w->data_dir, slot->job);
			log_event(LOG_INFO, "job-interrupted", "job", id, "repo", slot->job->repo, NULL);
		} else if (WIFSIGNALED(status)) {
			/* the job process crashed: record it rather than retry a crash forever */
			queue_finish(w->data_dir, slot->job, "failed", "the job process crashed; see gitd's log");
			log_event(LOG_ERROR, "job-crashed", "job", id, "repo", slot->job->repo, NULL);
			metrics_inc(M_JOBS_FAILED);
		} else {
			log_event(LOG_INFO, "job-finished", "job", id, "repo", slot->job->repo,
				  "result", child_exit_code(status) == 0 ? "ok" : "failed", NULL);
			metrics_inc(child_exit_code(status) == 0 ? M_JOBS_OK : M_JOBS_FAILED);
		}
		job_free(slot->job);
		slot->job = NULL;
		slot->pid = 0;
		return 1;
	}
	return 0;
}
