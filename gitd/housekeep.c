#include "housekeep.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "gitserve.h"
#include "log.h"
#include "repos.h"
#include "spawn.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

/* How much of gc's stderr is kept: its first line goes to the log. */
#define GC_STDERR_MAX 4096

static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

/*
 * Read c's stderr to the end into err, with SIGTERM unblocked only while
 * waiting (ppoll), so a stop is never missed: it stops the whole gc, whose
 * git processes remove their own lock files.
 */
static void collect_stderr(struct child *c, struct strbuf *err, const sigset_t *waiting_mask)
{
	char buf[1024];
	int stopped = 0;

	for (;;) {
		struct pollfd p = { c->err, POLLIN, 0 };
		ssize_t n;

		if (term_requested && !stopped) {
			kill(-c->pid, SIGTERM);
			stopped = 1;
		}
		if (ppoll(&p, 1, NULL, waiting_mask) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = read(c->err, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (err->len < GC_STDERR_MAX)
			strbuf_add(err, buf, (size_t)n < GC_STDERR_MAX - err->len ? (size_t)n : GC_STDERR_MAX - err->len);
	}
}

void housekeep_catch_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
}

/* Run gc in path to the end (or until SIGTERM); log why it failed. */
static void run_gc(const char *data_dir, const char *repo, const char *path)
{
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	sigset_t term, old_mask;
	int status;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old_mask);

	strvec_pushl(&c.argv, "git", "gc", "--auto", "--quiet", NULL);
	gitserve_base_env(&c.env, data_dir);
	strvec_push(&c.env, "GIT_CONFIG_COUNT=1");
	strvec_push(&c.env, "GIT_CONFIG_KEY_0=gc.autoDetach");
	strvec_push(&c.env, "GIT_CONFIG_VALUE_0=false"); /* in the foreground: under our lock, stoppable */
	c.dir = path;
	c.in = CHILD_NULL;
	c.out = CHILD_NULL;
	c.err = CHILD_PIPE;
	c.new_pgroup = 1; /* gc runs repack, pack-objects, prune: stopped together */
	if (child_start(&c) < 0) {
		log_event(LOG_WARN, "gc-failed", "repo", repo, "error", strerror(errno), NULL);
		child_release(&c);
	} else {
		collect_stderr(&c, &err, &old_mask);
		status = child_finish(&c);
		if (status != 0 && !term_requested) {
			char code[16];

			snprintf(code, sizeof(code), "%d", status);
			strbuf_setlen(&err, strcspn(err.buf, "\n"));
			log_event(LOG_WARN, "gc-failed", "repo", repo, "exit", code, "error", err.buf, NULL);
		}
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL); /* a SIGTERM still pending lands in on_term */
	strbuf_release(&err);
}

int housekeep_repo(const char *data_dir, const char *repo)
{
	char *path, *lock;
	int fd;

	if (term_requested)
		return -1; /* stopping: the next job packs it */
	path = repos_path(data_dir, repo);
	lock = xstrfmt("%s/gitd-gc.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		log_event(LOG_WARN, "gc-failed", "repo", repo, "error", strerror(errno), NULL);
	else if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		run_gc(data_dir, repo, path);
	/* else another job is packing it right now: nothing to add */
	if (fd >= 0)
		close(fd);
	free(lock);
	free(path);
	return term_requested ? -1 : 0;
}
