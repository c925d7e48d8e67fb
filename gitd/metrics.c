#include "metrics.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

static _Atomic unsigned long *counters;

int metrics_init(void)
{
	void *p = mmap(NULL, sizeof(*counters) * M_METRIC_COUNT, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	counters = p;
	return 0;
}

void metrics_add(enum metric m, unsigned long n)
{
	if (counters)
		atomic_fetch_add(&counters[m], n);
}

static unsigned long get(enum metric m)
{
	return counters ? atomic_load(&counters[m]) : 0;
}

int metrics_listen(const char *addr, struct strbuf *err)
{
	return listen_tcp(addr, err);
}

static void counter(struct strbuf *out, const char *name, const char *help, const char *labels,
		    unsigned long value)
{
	if (help)
		strbuf_addf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	strbuf_addf(out, "%s%s %lu\n", name, labels, value);
}

static void gauge(struct strbuf *out, const char *name, const char *help, size_t value)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %zu\n", name, help, name, name, value);
}

static void format_metrics(struct strbuf *out, const struct metrics_gauges *g)
{
	gauge(out, "gitd_connections", "Open SSH connections.", g->connections);
	gauge(out, "gitd_connections_unauthenticated", "Connections not yet authenticated.", g->unauthenticated);
	counter(out, "gitd_connections_total", "SSH connections accepted.", "", get(M_CONNECTIONS));
	counter(out, "gitd_connections_refused_total", "Connections refused at max_connections.", "",
		get(M_CONNECTIONS_REFUSED));
	counter(out, "gitd_connections_evicted_total", "Stalled unauthenticated connections closed to make room.",
		"", get(M_CONNECTIONS_EVICTED));
	counter(out, "gitd_auth_total", "Public-key authentications by result.", "{result=\"ok\"}", get(M_AUTH_OK));
	counter(out, "gitd_auth_total", NULL, "{result=\"failed\"}", get(M_AUTH_FAILED));
	counter(out, "gitd_git_requests_total", "git requests by kind and result.",
		"{kind=\"fetch\",result=\"ok\"}", get(M_FETCH_OK));
	counter(out, "gitd_git_requests_total", NULL, "{kind=\"fetch\",result=\"failed\"}", get(M_FETCH_FAILED));
	counter(out, "gitd_git_requests_total", NULL, "{kind=\"push\",result=\"ok\"}", get(M_PUSH_OK));
	counter(out, "gitd_git_requests_total", NULL, "{kind=\"push\",result=\"failed\"}", get(M_PUSH_FAILED));
	counter(out, "gitd_git_requests_total", NULL, "{kind=\"any\",result=\"refused\"}", get(M_REFUSED));
	counter(out, "gitd_commands_total", "Admin commands run.", "", get(M_COMMANDS));
	counter(out, "gitd_jobs_total", "Deploy jobs finished by result.", "{result=\"ok\"}", get(M_JOBS_OK));
	counter(out, "gitd_jobs_total", NULL, "{result=\"failed\"}", get(M_JOBS_FAILED));
	gauge(out, "gitd_jobs_running", "Deploy jobs running.", g->jobs_running);
	gauge(out, "gitd_queue_depth", "Deploy jobs waiting.", g->jobs_pending);
	strbuf_addf(out, "# HELP gitd_job_step_seconds Time spent in each job step.\n"
			 "# TYPE gitd_job_step_seconds summary\n"
			 "gitd_job_step_seconds_sum{step=\"render\"} %.3f\n"
			 "gitd_job_step_seconds_count{step=\"render\"} %lu\n",
		    get(M_JOB_RENDER_MS) / 1000.0, get(M_JOB_RENDERS));
}

/* Read the request head: one GET /metrics. The metrics port is an operator's, yet never wait long. */
static int read_request(int fd, struct strbuf *req)
{
	char buf[1024];
	int64_t deadline = now_ms() + 1000;

	while (!strstr(req->buf, "\r\n\r\n") && !strstr(req->buf, "\n\n")) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (now_ms() > deadline || poll(&p, 1, 200) < 0)
			return -1;
		if (!p.revents)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || strbuf_add(req, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

void metrics_serve(int listen_fd, const struct metrics_gauges *g)
{
	struct strbuf req, body = STRBUF_INIT, resp = STRBUF_INIT;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	strbuf_init_capped(&req, 8192);
	if (read_request(fd, &req) < 0)
		goto cleanup;
	if (starts_with(req.buf, "GET /metrics ") || starts_with(req.buf, "GET / ")) {
		format_metrics(&body, g);
		strbuf_addf(&resp, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
				   "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
		strbuf_addbuf(&resp, &body);
	} else {
		strbuf_addstr(&resp, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	}
	if (send(fd, resp.buf, resp.len, MSG_NOSIGNAL) < 0) {
		/* the scraper went away */
	}
cleanup:
	close(fd);
	strbuf_release(&req);
	strbuf_release(&body);
	strbuf_release(&resp);
}
