#include "mirrorer.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "fileutil.h"
#include "log.h"
#include "metrics.h"
#include "mirror.h"
#include "util.h"
#include "banned.h"

struct mirror_run {
	pid_t pid; /* 0: a free slot */
	char *repo;
	char id[17];
	int64_t started;  /* monotonic ms */
	int timed_out;    /* killed by us for running too long */
};

struct mirrorer {
	char *data_dir;
	int inotify_fd;
	int dirty;        /* something changed: scan the state files */
	int startup;      /* the first scans ignore back-off */
	int stopping;
	int64_t next_due; /* epoch ms of the earliest retry waiting */
	struct mirror_run runs[MIRRORER_MAX_RUNS];
};

struct mirrorer *mirrorer_new(const char *data_dir)
{
	struct mirrorer *m = xcalloc(1, sizeof(*m));
	char *dir = xstrfmt("%s/mirror", data_dir);

	m->data_dir = xstrdup(data_dir);
	m->dirty = m->startup = 1;
	m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	/* requests and results land by rename (write_file_atomic), so IN_MOVED_TO sees them all */
	if (mkdir_p(dir, 0700) < 0 || m->inotify_fd < 0 ||
	    inotify_add_watch(m->inotify_fd, dir, IN_MOVED_TO) < 0) {
		log_event(LOG_ERROR, "mirror-watch-failed", "error", strerror(errno), NULL);
		mirrorer_free(m);
		m = NULL;
	}
	free(dir);
	return m;
}

void mirrorer_free(struct mirrorer *m)
{
	if (!m)
		return;
	if (m->inotify_fd >= 0)
		close(m->inotify_fd);
	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++)
		free(m->runs[i].repo);
	free(m->data_dir);
	free(m);
}

int mirrorer_fd(const struct mirrorer *m)
{
	return m->inotify_fd;
}

size_t mirrorer_running(const struct mirrorer *m)
{
	size_t n = 0;

	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++)
		n += m->runs[i].pid != 0;
	return n;
}

void mirrorer_stop(struct mirrorer *m)
{
	m->stopping = 1;
	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++)
		if (m->runs[i].pid)
			kill(m->runs[i].pid, SIGTERM);
}

static struct mirror_run *find_run(struct mirrorer *m, const char *repo, const char *id)
{
	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++)
		if (m->runs[i].pid && !strcmp(m->runs[i].repo, repo) && !strcmp(m->runs[i].id, id))
			return &m->runs[i];
	return NULL;
}

static void __attribute__((noreturn)) run_child(struct mirrorer *m, const struct gitd_config *cfg,
						 const struct mirror_due *d, const int *close_fds, size_t nfds)
{
	sigset_t none;
	int64_t start;
	int rc;

	for (size_t i = 0; i < nfds; i++)
		if (close_fds[i] >= 0)
			close(close_fds[i]);
	close(m->inotify_fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	log_set_pid(1);
	git_libgit2_init();
	start = now_ms();
	rc = mirror_run(m->data_dir, cfg, d->repo, d->id);
	if (rc >= 0) {
		metrics_observe(STEP_MIRROR, now_ms() - start);
		metrics_inc(rc == 0 ? M_MIRRORS_OK : M_MIRRORS_FAILED);
	}
	git_libgit2_shutdown();
	exit(rc == 0 ? 0 : 1);
}

/* Start a run of d in slot; 0, or -1 if fork failed (logged). */
static int start_run(struct mirrorer *m, struct mirror_run *slot, const struct gitd_config *cfg,
		     const struct mirror_due *d, const int *close_fds, size_t nfds)
{
	pid_t pid = fork();

	if (pid == 0)
		run_child(m, cfg, d, close_fds, nfds);
	if (pid < 0) {
		log_event(LOG_ERROR, "fork-failed", "repo", d->repo, "error", strerror(errno), NULL);
		return -1;
	}
	slot->pid = pid;
	slot->repo = xstrdup(d->repo);
	memcpy(slot->id, d->id, sizeof(slot->id));
	slot->started = now_ms();
	slot->timed_out = 0;
	return 0;
}

static struct mirror_run *free_slot(struct mirrorer *m)
{
	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++)
		if (!m->runs[i].pid)
			return &m->runs[i];
	return NULL;
}

static void kill_overdue(struct mirrorer *m)
{
	int64_t now = now_ms();

	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++) {
		struct mirror_run *r = &m->runs[i];

		if (r->pid && !r->timed_out && now - r->started > MIRRORER_RUN_TIMEOUT_MS) {
			log_event(LOG_WARN, "mirror-timeout", "repo", r->repo, NULL);
			kill(r->pid, SIGKILL);
			r->timed_out = 1;
		}
	}
}

/* Start what is due; leave dirty set when something due had to wait for a slot. */
static void start_due(struct mirrorer *m, const struct gitd_config *cfg, const int *close_fds, size_t nfds)
{
	struct mirror_due *due;
	size_t nr = mirror_due(&due, &m->next_due, m->data_dir, cfg, mirror_now_ms(), m->startup);
	int waiting = 0;

	for (size_t i = 0; i < nr; i++) {
		struct mirror_run *slot;

		if (find_run(m, due[i].repo, due[i].id))
			continue; /* it scans again when that run ends */
		slot = free_slot(m);
		if (!slot || start_run(m, slot, cfg, &due[i], close_fds, nfds) < 0) {
			waiting = 1;
			break;
		}
	}
	m->dirty = waiting;
	if (!waiting)
		m->startup = 0;
	mirror_due_free(due, nr);
}

void mirrorer_tick(struct mirrorer *m, const struct gitd_config *cfg, const int *close_fds, size_t nfds)
{
	char events[4096];

	while (read(m->inotify_fd, events, sizeof(events)) > 0)
		m->dirty = 1; /* which file does not matter: the scan reads them all */
	kill_overdue(m);
	if (m->stopping || (!m->dirty && mirror_now_ms() < m->next_due))
		return;
	start_due(m, cfg, close_fds, nfds);
}

int mirrorer_timeout_ms(const struct mirrorer *m)
{
	int64_t wait = m->next_due - mirror_now_ms();

	return wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
}

int mirrorer_reaped(struct mirrorer *m, pid_t pid, int status)
{
	for (size_t i = 0; i < MIRRORER_MAX_RUNS; i++) {
		struct mirror_run *r = &m->runs[i];
		char reason[96];

		if (!r->pid || r->pid != pid)
			continue;
		if (r->timed_out || (WIFSIGNALED(status) && !m->stopping))
			metrics_inc(M_MIRRORS_FAILED); /* a run that could not count itself */
		if (r->timed_out) {
			snprintf(reason, sizeof(reason), "timed out after %d s", MIRRORER_RUN_TIMEOUT_MS / 1000);
			mirror_record_crash(m->data_dir, r->repo, r->id, reason);
		} else if (WIFSIGNALED(status) && !m->stopping) {
			/* a run records its own result; one killed before it could is a failure too */
			snprintf(reason, sizeof(reason), "the mirror process died (signal %d)", WTERMSIG(status));
			mirror_record_crash(m->data_dir, r->repo, r->id, reason);
			log_event(LOG_ERROR, "mirror-crashed", "repo", r->repo, NULL);
		}
		free(r->repo);
		memset(r, 0, sizeof(*r));
		m->dirty = 1; /* it may have been requested again meanwhile */
		return 1;
	}
	return 0;
}
