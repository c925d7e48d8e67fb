#include "metrics_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "mirror.h"
#include "queue.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

/* The longest a scraper may take to send its request, or to take the answer. */
#define SCRAPE_TIMEOUT_MS 1000

int metrics_server_listen(const char *addr, struct strbuf *err)
{
	return listen_tcp(addr, err);
}

static void help(struct strbuf *out, const char *name, const char *type, const char *text)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void sample(struct strbuf *out, const char *name, const char *labels, uint64_t value)
{
	strbuf_addf(out, "%s%s %llu\n", name, labels, (unsigned long long)value);
}

static void counter(struct strbuf *out, const char *name, const char *text, enum metric m)
{
	help(out, name, "counter", text);
	sample(out, name, "", metrics_get(m));
}

static void gauge(struct strbuf *out, const char *name, const char *text, uint64_t value)
{
	help(out, name, "gauge", text);
	sample(out, name, "", value);
}

/* A labelled family: labels[i] for metric ms[i]. */
static void family(struct strbuf *out, const char *name, const char *text, const char *const *labels,
		   const enum metric *ms, size_t n)
{
	help(out, name, "counter", text);
	for (size_t i = 0; i < n; i++)
		sample(out, name, labels[i], metrics_get(ms[i]));
}

static void step_histogram(struct strbuf *out, const char *step, enum metric_step s)
{
	struct metrics_histogram h;

	metrics_read_histogram(&h, s);
	for (size_t i = 0; i < METRICS_BUCKETS; i++)
		strbuf_addf(out, "gitd_job_step_seconds_bucket{step=\"%s\",le=\"%g\"} %llu\n", step,
			    metrics_bucket_seconds[i], (unsigned long long)h.le[i]);
	strbuf_addf(out, "gitd_job_step_seconds_bucket{step=\"%s\",le=\"+Inf\"} %llu\n", step,
		    (unsigned long long)h.count);
	strbuf_addf(out, "gitd_job_step_seconds_sum{step=\"%s\"} %.3f\n", step, (double)h.sum_ms / 1000.0);
	strbuf_addf(out, "gitd_job_step_seconds_count{step=\"%s\"} %llu\n", step, (unsigned long long)h.count);
}

static void format_connections(struct strbuf *out)
{
	static const char *const auth_labels[] = { "{result=\"ok\"}", "{result=\"failed\"}" };
	static const enum metric auth[] = { M_AUTH_OK, M_AUTH_FAILED };

	gauge(out, "gitd_connections", "Open SSH connections.", metrics_get(M_OPEN_CONNECTIONS));
	gauge(out, "gitd_connections_unauthenticated", "Connections not yet authenticated.",
	      metrics_get(M_OPEN_UNAUTHENTICATED));
	counter(out, "gitd_connections_total", "SSH connections accepted.", M_CONNECTIONS);
	counter(out, "gitd_connections_refused_total",
		"Connections refused at max_connections or max_connections_per_user.",
		M_CONNECTIONS_REFUSED);
	counter(out, "gitd_connections_evicted_total",
		"Stalled unauthenticated connections closed to make room.", M_CONNECTIONS_EVICTED);
	family(out, "gitd_auth_total", "Public-key authentications by result.", auth_labels, auth, 2);
}

static void format_requests(struct strbuf *out)
{
	static const char *const git_labels[] = {
		"{kind=\"fetch\",result=\"ok\"}", "{kind=\"fetch\",result=\"failed\"}",
		"{kind=\"push\",result=\"ok\"}", "{kind=\"push\",result=\"failed\"}",
		"{kind=\"any\",result=\"refused\"}",
	};
	static const enum metric git[] = { M_FETCH_OK, M_FETCH_FAILED, M_PUSH_OK, M_PUSH_FAILED, M_REFUSED };
	static const char *const refusal_labels[] = { "{reason=\"validation\"}", "{reason=\"access\"}" };
	static const enum metric refusals[] = { M_PUSH_REFUSED_VALIDATION, M_PUSH_REFUSED_ACCESS };

	family(out, "gitd_git_requests_total", "git requests by kind and result.", git_labels, git, 5);
	family(out, "gitd_push_refusals_total", "Pushes the pre-receive hook refused, by reason.",
	       refusal_labels, refusals, 2);
	counter(out, "gitd_commands_total", "Admin commands run.", M_COMMANDS);
}

static void format_jobs(struct strbuf *out, const char *data_dir)
{
	static const char *const job_labels[] = { "{result=\"ok\"}", "{result=\"failed\"}" };
	static const enum metric jobs[] = { M_JOBS_OK, M_JOBS_FAILED };
	static const char *const failure_labels[] = { "{step=\"build\"}", "{step=\"render\"}",
						      "{step=\"mirror\"}" };
	static const enum metric failures[] = { M_BUILDS_FAILED, M_RENDERS_FAILED, M_MIRRORS_FAILED };

	family(out, "gitd_jobs_total", "Deploy jobs finished by result.", job_labels, jobs, 2);
	gauge(out, "gitd_jobs_running", "Deploy jobs running.", metrics_get(M_JOBS_RUNNING));
	gauge(out, "gitd_queue_depth", "Deploy jobs waiting.", queue_count(data_dir, "pending"));
	family(out, "gitd_job_step_failures_total", "Failed job steps (a mirror run is a step).",
	       failure_labels, failures, 3);
	help(out, "gitd_job_step_seconds", "histogram", "Duration of each job step.");
	step_histogram(out, "build", STEP_BUILD);
	step_histogram(out, "render", STEP_RENDER);
	step_histogram(out, "mirror", STEP_MIRROR);
}

static void format_mirrors(struct strbuf *out, const char *data_dir, const struct gitd_config *cfg)
{
	struct mirror_summary s;
	int64_t lag_ms;

	mirror_summarize(&s, data_dir, cfg);
	lag_ms = s.oldest_pending ? mirror_now_ms() - s.oldest_pending : 0;
	help(out, "gitd_mirror_lag_seconds", "gauge",
	     "Age of the oldest change not yet mirrored (0 when every mirror is up to date).");
	strbuf_addf(out, "gitd_mirror_lag_seconds %.3f\n", lag_ms > 0 ? (double)lag_ms / 1000.0 : 0.0);
	gauge(out, "gitd_mirror_targets", "Mirror targets (a repository and a mirror URL).", s.targets);
	gauge(out, "gitd_mirror_targets_failing", "Mirror targets whose last run failed.", s.failing);
	gauge(out, "gitd_mirror_targets_paused", "Mirror targets paused until `mirror retry`.", s.paused);
}

void metrics_format(struct strbuf *out, const char *data_dir, const struct gitd_config *cfg)
{
	format_connections(out);
	format_requests(out);
	format_jobs(out, data_dir);
	format_mirrors(out, data_dir, cfg);
}

/* Read the request head: one GET /metrics. The metrics port is an operator's, yet never wait long. */
static int read_request(int fd, struct strbuf *req)
{
	char buf[1024];
	int64_t deadline = now_ms() + SCRAPE_TIMEOUT_MS;

	while (!strstr(req->buf, "\r\n\r\n") && !strstr(req->buf, "\n\n")) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || strbuf_add(req, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

static void serve_one(int fd, const char *data_dir, const struct gitd_config *cfg)
{
	struct strbuf req, body = STRBUF_INIT, resp = STRBUF_INIT;
	struct timeval send_timeout = { SCRAPE_TIMEOUT_MS / 1000, 0 };

	strbuf_init_capped(&req, 8192);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
	if (read_request(fd, &req) < 0)
		goto cleanup;
	if (starts_with(req.buf, "GET /metrics ") || starts_with(req.buf, "GET / ")) {
		metrics_format(&body, data_dir, cfg);
		strbuf_addf(&resp, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
				   "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
		strbuf_addbuf(&resp, &body);
	} else {
		strbuf_addstr(&resp, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	}
	if (send(fd, resp.buf, resp.len, MSG_NOSIGNAL) < 0) {
		/* the scraper went away, or did not read in time */
	}
cleanup:
	strbuf_release(&req);
	strbuf_release(&body);
	strbuf_release(&resp);
}

static void __attribute__((noreturn)) serve_forever(int listen_fd, const char *data_dir,
						    const struct gitd_config *cfg, pid_t parent)
{
	/* gitd stops it with SIGTERM; should gitd die without doing so, it goes too */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_event(LOG_ERROR, "metrics-accept-failed", "error", strerror(errno), NULL);
			_exit(1);
		}
		serve_one(fd, data_dir, cfg);
		close(fd);
	}
}

pid_t metrics_server_start(int listen_fd, const char *data_dir, const struct gitd_config *cfg,
			   const int *close_fds, size_t nfds)
{
	pid_t parent = getpid(), pid = fork();
	sigset_t none;

	if (pid < 0) {
		log_event(LOG_ERROR, "fork-failed", "error", strerror(errno), NULL);
		return -1;
	}
	if (pid > 0)
		return pid;
	for (size_t i = 0; i < nfds; i++)
		if (close_fds[i] >= 0 && close_fds[i] != listen_fd)
			close(close_fds[i]);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	log_set_pid(1);
	serve_forever(listen_fd, data_dir, cfg, parent);
}
