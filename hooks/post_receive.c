/*
 * gitd-post-receive: git runs this after a push has updated refs. It
 * records the push as a durable job (lib/queue.h) for gitd's worker, then
 * streams the job's log to the pusher ("remote: ...") until the job ends
 * or STREAM_SECONDS pass. The job goes on whatever happens here: the
 * client may disconnect, and `git push -o nowait` skips the wait.
 *
 * git reports success to the client before this runs, so this is not the
 * only way a push reaches the queue: gitd also compares refs with what it
 * last deployed, after every push and at startup (gitd/reconcile.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "diag.h"
#include "fileutil.h"
#include "hookinput.h"
#include "queue.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

#define STREAM_SECONDS 300

static const char *need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		die("%s is not set: this hook runs only under gitd", name);
	return v;
}

/* 1 if the pusher gave `git push -o NAME`. */
static int push_option(const char *name)
{
	unsigned long n = 0;
	const char *count = getenv("GIT_PUSH_OPTION_COUNT");

	if (!count || parse_uint(count, 1000, &n) < 0)
		return 0;
	for (unsigned long i = 0; i < n; i++) {
		char key[48];
		const char *v;

		snprintf(key, sizeof(key), "GIT_PUSH_OPTION_%lu", i);
		v = getenv(key);
		if (v && !strcmp(v, name))
			return 1;
	}
	return 0;
}

/* Print what the log has beyond *offset; advance it. */
static void print_new_lines(const char *log_path, off_t *offset)
{
	FILE *f = fopen(log_path, "r");
	char line[4096];

	if (!f)
		return;
	if (fseeko(f, *offset, SEEK_SET) == 0) {
		while (fgets(line, sizeof(line), f)) {
			if (!strchr(line, '\n'))
				break; /* a line still being written: print it whole next time */
			fputs(line, stderr);
			*offset = ftello(f);
		}
	}
	fclose(f);
}

/*
 * An inotify descriptor that wakes us when the job's log grows or a job
 * finishes (moves to queue/done), or -1: then we poll. The log's folder is
 * made here so it can be watched before the job writes its first line.
 */
static int watch_job(const char *data_dir, const char *log_path)
{
	char *log_dir = xstrndup(log_path, (size_t)(strrchr(log_path, '/') - log_path)),
	     *done_dir = xstrfmt("%s/queue/done", data_dir);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd >= 0 && (mkdir_p(log_dir, 0700) < 0 || inotify_add_watch(fd, log_dir, IN_MODIFY | IN_CREATE) < 0 ||
			inotify_add_watch(fd, done_dir, IN_MOVED_TO | IN_CREATE) < 0)) {
		close(fd);
		fd = -1;
	}
	free(log_dir);
	free(done_dir);
	return fd;
}

/* Sleep until watch reports something, or a while passes (the drain mark is not watched). */
static void wait_for_news(int watch)
{
	char events[4096];

	if (watch < 0) {
		struct timespec tick = { 0, 50 * 1000 * 1000 };
		nanosleep(&tick, NULL);
		return;
	}
	poll(&(struct pollfd){ watch, POLLIN, 0 }, 1, 250);
	while (read(watch, events, sizeof(events)) > 0)
		; /* what changed is read from the files themselves */
}

static void stream_job(const char *data_dir, const char *repo, unsigned long id)
{
	char *log_path = job_log_path(data_dir, repo, id);
	time_t deadline = time(NULL) + STREAM_SECONDS;
	int watch = watch_job(data_dir, log_path);
	off_t offset = 0;
	json_t *result = NULL;
	int done = 0;

	while (!done && time(NULL) < deadline) {
		done = queue_result(&result, data_dir, id) != 1;
		print_new_lines(log_path, &offset);
		if (!done && queue_draining(data_dir) && queue_is_pending(data_dir, id)) {
			fprintf(stderr, "gitd: the server is restarting; job %lu runs when it is back "
					"(`ssh ... logs %s %lu`)\n", id, repo, id);
			break;
		}
		if (!done)
			wait_for_news(watch);
	}
	if (done && offset == 0) { /* its log could not be written: the result is all there is to say */
		const char *status = json_string_value(json_object_get(result, "status")),
			   *message = json_string_value(json_object_get(result, "message"));

		fprintf(stderr, "gitd: job %lu %s: %s\n", id, status ? status : "finished", message ? message : "");
	}
	if (!done && time(NULL) >= deadline)
		fprintf(stderr, "gitd: job %lu is still running; follow it with `ssh ... logs %s %lu`\n",
			id, repo, id);
	if (watch >= 0)
		close(watch);
	json_decref(result);
	free(log_path);
}

int main(int argc, char **argv)
{
	const char *data_dir, *repo, *user;
	struct ref_update *updates = NULL;
	struct diags *d;
	size_t nr = 0;
	unsigned long id;
	int rc = 0;

	(void)argc;
	set_progname(argv[0]);
	data_dir = need_env("GITD_DATA");
	repo = need_env("GITD_REPO");
	user = need_env("GITD_USER");
	if (!strcmp(repo, "gitd-admin"))
		return 0; /* the admin repo takes effect by itself */
	git_libgit2_init();
	d = diags_new();
	if (hookinput_read(&updates, &nr, stdin, d) < 0) {
		diags_print(d, stderr);
		rc = 1;
		goto cleanup;
	}
	if (queue_enqueue(&id, data_dir, repo, user, updates, nr) < 0) {
		/* the push landed; reconciliation will queue it, so say so rather than fail */
		fprintf(stderr, "gitd: could not queue the deploy job (%s); gitd will retry it\n",
			strerror(errno));
		goto cleanup;
	}
	fprintf(stderr, "gitd: job %lu queued\n", id);
	if (push_option("nowait"))
		fprintf(stderr, "gitd: not waiting (-o nowait); follow it with `ssh ... logs %s %lu`\n", repo, id);
	else
		stream_job(data_dir, repo, id);
cleanup:
	hookinput_free(updates, nr);
	diags_free(d);
	git_libgit2_shutdown();
	return rc;
}
