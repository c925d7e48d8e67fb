#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libssh/server.h>

#include "config.h"
#include "hostkeys.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "metrics_server.h"
#include "mirrorer.h"
#include "notify.h"
#include "reconcile.h"
#include "repos.h"
#include "session.h"
#include "worker.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

#define DRAIN_SECONDS 60
/* The parent kills a child that is still unauthenticated this long after the grace time. */
#define GRACE_SLACK_MS 5000

struct conn {
	pid_t pid;
	int startup_fd;  /* read end; -1 once authenticated or evicted */
	int kex_done;    /* the key exchange completed: a real SSH client */
	int evicted;     /* killed to make room; gone once reaped */
	char source[INET6_ADDRSTRLEN];
	int64_t started;
};

struct server {
	const struct server_opts *opts;
	struct gitd_config *cfg;
	char *bin_dir;
	ssh_bind bind;
	struct worker *worker;
	struct mirrorer *mirrorer;
	int listen_fd;
	int signal_fd;
	int metrics_fd; /* Prometheus scrapes, or -1; served by the metrics process */
	pid_t metrics_pid;
	int64_t metrics_started;
	struct conn *conns;
	size_t nr, alloc;
	int draining;
	int64_t drain_deadline;
};

static int load_config(struct gitd_config **out, const char *data_dir)
{
	char *path = xstrfmt("%s/gitd.yaml", data_dir);
	struct diags *d = diags_new();
	int rc = config_load(out, path, d);

	if (rc < 0) {
		diags_sort(d);
		diags_print(d, stderr);
	}
	diags_free(d);
	free(path);
	return rc;
}

/* The directory holding this executable: the hooks live next to it. */
static char *own_bin_dir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	return xstrdup(path);
}

static void describe_address(char *out, size_t outlen, const struct sockaddr_storage *ss, int with_port)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	if (with_port)
		snprintf(out, outlen, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
	else
		snprintf(out, outlen, "%s", host);
}

static void log_listening(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN + 8];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	describe_address(addr, sizeof(addr), &ss, 1);
	log_event(LOG_INFO, "listening", "address", addr, NULL);
}

static size_t count_unauthenticated(const struct server *srv, const char *source)
{
	size_t n = 0;

	for (size_t i = 0; i < srv->nr; i++)
		n += srv->conns[i].startup_fd >= 0 &&
		     (!source || !strcmp(srv->conns[i].source, source));
	return n;
}

/* Connections not evicted (evicted ones stay in the table until reaped). */
static size_t live_connections(const struct server *srv)
{
	size_t n = 0;

	for (size_t i = 0; i < srv->nr; i++)
		n += !srv->conns[i].evicted;
	return n;
}

/*
 * A connection that has not completed the SSH key exchange this long after
 * connecting is stalled: a real client sends its banner and key exchange at
 * once, even when many connect together on a busy machine. Only stalled
 * connections are evicted, so a burst of real clients never evicts itself;
 * one past the key exchange keeps its login_grace_time, unless every
 * connection is in use (see admit()).
 */
#define STALLED_MS 3000

/*
 * Kill the oldest stalled unauthenticated connection (of source, if given;
 * past the key exchange too if any_stage); 0 if one was found.
 */
static int evict_stalled(struct server *srv, const char *source, int any_stage)
{
	struct conn *oldest = NULL;
	int64_t cutoff = now_ms() - STALLED_MS;

	for (size_t i = 0; i < srv->nr; i++) {
		struct conn *c = &srv->conns[i];
		if (c->startup_fd < 0 || (c->kex_done && !any_stage) || c->started > cutoff ||
		    (source && strcmp(c->source, source)))
			continue;
		if (!oldest || c->started < oldest->started)
			oldest = c;
	}
	if (!oldest)
		return -1;
	log_event(LOG_INFO, "evicted-unauthenticated", "peer", oldest->source, NULL);
	metrics_inc(M_CONNECTIONS_EVICTED);
	kill(oldest->pid, SIGKILL);
	close(oldest->startup_fd);
	oldest->startup_fd = -1;
	oldest->evicted = 1;
	return 0;
}

/*
 * Apply the connection limits to a new connection from source; 0 to accept.
 * Over a limit, the new connection takes the place of the oldest stalled
 * unauthenticated one (its own source's first); it is refused only when
 * all connections are in use and none is stalled. When all are in use, one
 * stalled after the key exchange goes too: real clients authenticate right
 * after it, and otherwise clients that complete the key exchange and then
 * wait would hold every connection for login_grace_time, over and over.
 */
static int admit(struct server *srv, const char *source)
{
	const struct config_limits *lim = config_limits(srv->cfg);

	if (count_unauthenticated(srv, source) >= lim->max_unauthenticated_per_source)
		evict_stalled(srv, source, 0);
	if (count_unauthenticated(srv, NULL) >= lim->max_unauthenticated)
		evict_stalled(srv, NULL, 0);
	if (live_connections(srv) >= lim->max_connections && evict_stalled(srv, NULL, 0) < 0 &&
	    evict_stalled(srv, NULL, 1) < 0)
		return -1;
	return 0;
}

static void __attribute__((noreturn)) run_child(struct server *srv, int fd, int startup_fd,
						const char *peer)
{
	struct session_opts so = { srv->opts->data_dir, srv->bin_dir, srv->cfg, startup_fd, peer };
	sigset_t none;

	close(srv->listen_fd);
	close(srv->signal_fd);
	if (srv->worker)
		close(worker_fd(srv->worker));
	if (srv->mirrorer)
		close(mirrorer_fd(srv->mirrorer));
	if (srv->metrics_fd >= 0)
		close(srv->metrics_fd);
	for (size_t i = 0; i < srv->nr; i++)
		if (srv->conns[i].startup_fd >= 0)
			close(srv->conns[i].startup_fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	log_set_pid(1);
	session_serve(srv->bind, fd, &so);
}

static void accept_one(struct server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char source[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN + 8];
	int fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	int pipefd[2], one = 1;
	pid_t pid;

	if (fd < 0)
		return;
	describe_address(source, sizeof(source), &ss, 0);
	describe_address(peer, sizeof(peer), &ss, 1);
	if (admit(srv, source) < 0) {
		log_event(LOG_WARN, "connection-refused", "peer", peer, "reason", "max_connections", NULL);
		metrics_inc(M_CONNECTIONS_REFUSED);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(fd);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		run_child(srv, fd, pipefd[1], peer);
	}
	close(fd);
	close(pipefd[1]);
	if (pid < 0) {
		log_event(LOG_ERROR, "fork-failed", "error", strerror(errno), NULL);
		close(pipefd[0]);
		return;
	}
	metrics_inc(M_CONNECTIONS);
	ALLOC_GROW(srv->conns, srv->nr + 1, srv->alloc);
	srv->conns[srv->nr].pid = pid;
	srv->conns[srv->nr].startup_fd = pipefd[0];
	snprintf(srv->conns[srv->nr].source, sizeof(srv->conns[srv->nr].source), "%s", source);
	srv->conns[srv->nr].started = now_ms();
	srv->conns[srv->nr].evicted = 0;
	srv->conns[srv->nr].kex_done = 0;
	srv->nr++;
}

static void reap_children(struct server *srv)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (srv->worker && worker_reaped(srv->worker, pid, status))
			continue;
		if (srv->mirrorer && mirrorer_reaped(srv->mirrorer, pid, status))
			continue;
		if (pid == srv->metrics_pid) {
			srv->metrics_pid = 0; /* serve_loop starts another */
			if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
				log_event(LOG_ERROR, "metrics-process-died", NULL);
			continue;
		}
		for (size_t i = 0; i < srv->nr; i++) {
			if (srv->conns[i].pid != pid)
				continue;
			if (srv->conns[i].startup_fd >= 0)
				close(srv->conns[i].startup_fd);
			srv->conns[i] = srv->conns[--srv->nr];
			break;
		}
	}
}

static void reload_config(struct server *srv)
{
	struct gitd_config *cfg;

	if (load_config(&cfg, srv->opts->data_dir) < 0) {
		log_event(LOG_ERROR, "reload-failed", "reason", "gitd.yaml has errors; keeping the old config", NULL);
		return;
	}
	notify_systemd("RELOADING=1");
	config_free(srv->cfg);
	srv->cfg = cfg;
	log_set_format(config_log_format(cfg));
	if (srv->metrics_pid > 0) {
		kill(srv->metrics_pid, SIGTERM); /* the next one reads the new mirrors: */
		srv->metrics_started = 0;        /* start it as soon as this one is gone */
	}
	log_event(LOG_INFO, "reloaded", NULL);
	notify_systemd("READY=1");
}

static void start_drain(struct server *srv)
{
	if (srv->draining)
		return;
	srv->draining = 1;
	srv->drain_deadline = now_ms() + DRAIN_SECONDS * 1000;
	notify_systemd("STOPPING=1");
	if (srv->worker)
		worker_drain(srv->worker);
	close(srv->listen_fd);
	srv->listen_fd = -1;
	for (size_t i = 0; i < srv->nr; i++)
		if (srv->conns[i].startup_fd >= 0)
			kill(srv->conns[i].pid, SIGKILL);
	log_event(LOG_INFO, "draining", NULL);
}

static void handle_signal(struct server *srv)
{
	struct signalfd_siginfo si;

	while (read(srv->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap_children(srv);
		else if (si.ssi_signo == SIGHUP)
			reload_config(srv);
		else
			start_drain(srv);
	}
}

/* Read a child's progress: a byte when its key exchange is done, EOF once authenticated. */
static void read_startup(struct conn *c)
{
	char buf[8];
	ssize_t n = read(c->startup_fd, buf, sizeof(buf));

	if (n > 0) {
		c->kex_done = 1;
	} else if (n == 0 || errno != EAGAIN) {
		close(c->startup_fd);
		c->startup_fd = -1;
	}
}

/* Track children's progress; kill those past the grace time. */
static void check_startups(struct server *srv, const struct pollfd *p, size_t np)
{
	int64_t limit = (int64_t)config_limits(srv->cfg)->login_grace_time * 1000 + GRACE_SLACK_MS;

	for (size_t i = 0; i < np; i++) {
		if (!p[i].revents)
			continue;
		for (size_t j = 0; j < srv->nr; j++)
			if (srv->conns[j].startup_fd == p[i].fd)
				read_startup(&srv->conns[j]);
	}
	for (size_t j = 0; j < srv->nr; j++)
		if (srv->conns[j].startup_fd >= 0 && now_ms() - srv->conns[j].started > limit)
			kill(srv->conns[j].pid, SIGKILL);
}

/* Keep the metrics process running (at most one start a second), and the gauges it reports current. */
static void tend_metrics(struct server *srv, const int *close_fds, size_t nfds)
{
	metrics_set(M_OPEN_CONNECTIONS, live_connections(srv));
	metrics_set(M_OPEN_UNAUTHENTICATED, count_unauthenticated(srv, NULL));
	metrics_set(M_JOBS_RUNNING, srv->worker ? worker_running(srv->worker) : 0);
	if (srv->metrics_fd < 0 || srv->metrics_pid > 0 || now_ms() - srv->metrics_started < 1000)
		return;
	srv->metrics_started = now_ms();
	srv->metrics_pid = metrics_server_start(srv->metrics_fd, srv->opts->data_dir, srv->cfg, close_fds, nfds);
}

/* Work still running: connections, and jobs (which a drain lets finish too). */
static int busy(const struct server *srv)
{
	return srv->nr || (srv->worker && worker_running(srv->worker));
}

static void serve_loop(struct server *srv)
{
	struct pollfd *p = NULL;
	size_t palloc = 0;

	while (!srv->draining || (busy(srv) && now_ms() < srv->drain_deadline)) {
		size_t np = 0;
		/* what a job, a mirror run or the metrics process must not keep: the others' watches included */
		int own_fds[4] = { srv->listen_fd, srv->signal_fd, srv->metrics_fd, mirrorer_fd(srv->mirrorer) };
		int mirror_fds[4] = { srv->listen_fd, srv->signal_fd, srv->metrics_fd, worker_fd(srv->worker) };
		int metrics_fds[4] = { srv->listen_fd, srv->signal_fd, worker_fd(srv->worker),
				       mirrorer_fd(srv->mirrorer) };

		ALLOC_GROW(p, srv->nr + 4, palloc);
		p[np++] = (struct pollfd){ srv->signal_fd, POLLIN, 0 };
		p[np++] = (struct pollfd){ srv->listen_fd, POLLIN, 0 };
		p[np++] = (struct pollfd){ srv->worker && !srv->draining ? worker_fd(srv->worker) : -1, POLLIN, 0 };
		p[np++] = (struct pollfd){ !srv->draining ? mirrorer_fd(srv->mirrorer) : -1, POLLIN, 0 };
		for (size_t i = 0; i < srv->nr; i++)
			if (srv->conns[i].startup_fd >= 0)
				p[np++] = (struct pollfd){ srv->conns[i].startup_fd, POLLIN, 0 };
		if (poll(p, np, mirrorer_timeout_ms(srv->mirrorer)) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			handle_signal(srv);
		/* before accepting: a new connection may reuse a descriptor number polled here */
		check_startups(srv, p + 4, np - 4);
		if (!srv->draining && p[1].revents)
			accept_one(srv);
		tend_metrics(srv, metrics_fds, 4);
		if (srv->worker && !srv->draining)
			worker_tick(srv->worker, srv->cfg, own_fds, 4);
		if (!srv->draining)
			mirrorer_tick(srv->mirrorer, srv->cfg, mirror_fds, 4);
	}
	for (size_t i = 0; i < srv->nr; i++)
		kill(srv->conns[i].pid, SIGTERM);
	if (srv->worker)
		worker_stop(srv->worker); /* what still runs is queued again at the next start */
	mirrorer_stop(srv->mirrorer); /* their targets stay pending until the next start */
	if (srv->metrics_pid > 0)
		kill(srv->metrics_pid, SIGTERM);
	free(p);
}

static int server_setup(struct server *srv, struct strbuf *err)
{
	sigset_t mask;

	if (load_config(&srv->cfg, srv->opts->data_dir) < 0) {
		strbuf_addf(err, "%s/gitd.yaml has errors (see above)", srv->opts->data_dir);
		return -1;
	}
	log_set_format(config_log_format(srv->cfg));
	srv->bin_dir = own_bin_dir();
	if (!srv->bin_dir) {
		strbuf_addstr(err, "cannot find the directory of the gitd executable");
		return -1;
	}
	if (repos_install_hooks(srv->opts->data_dir, srv->bin_dir, err) < 0)
		return -1;
	repos_remove_dead_pushes(srv->opts->data_dir);
	srv->worker = worker_new(srv->opts->data_dir);
	if (!srv->worker) {
		strbuf_addstr(err, "cannot set up the job queue (see above)");
		return -1;
	}
	srv->mirrorer = mirrorer_new(srv->opts->data_dir);
	if (!srv->mirrorer) {
		strbuf_addstr(err, "cannot watch the mirror state (see above)");
		return -1;
	}
	reconcile_all(srv->opts->data_dir, srv->cfg);
	srv->bind = ssh_bind_new();
	if (!srv->bind || hostkeys_load(srv->bind, srv->opts->data_dir, err) < 0)
		return -1;
	srv->listen_fd = listen_tcp(srv->opts->listen ? srv->opts->listen : config_listen(srv->cfg), err);
	if (srv->listen_fd < 0)
		return -1;
	if (metrics_create(srv->opts->data_dir) < 0)
		log_event(LOG_WARN, "metrics-unavailable", "error", strerror(errno), NULL);
	if (*config_metrics_listen(srv->cfg) &&
	    (srv->metrics_fd = metrics_server_listen(config_metrics_listen(srv->cfg), err)) < 0)
		return -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	srv->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	return srv->signal_fd < 0 ? -1 : 0;
}

int server_run(const struct server_opts *opts)
{
	struct server srv = { .opts = opts, .listen_fd = -1, .signal_fd = -1, .metrics_fd = -1 };
	struct strbuf err = STRBUF_INIT;
	int rc = 1;

	if (server_setup(&srv, &err) < 0) {
		log_event(LOG_ERROR, "startup-failed", "error", err.buf, NULL);
		goto cleanup;
	}
	log_listening(srv.listen_fd);
	notify_systemd("READY=1");
	serve_loop(&srv);
	log_event(LOG_INFO, "stopped", NULL);
	rc = 0;
cleanup:
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	if (srv.signal_fd >= 0)
		close(srv.signal_fd);
	if (srv.metrics_fd >= 0)
		close(srv.metrics_fd);
	if (srv.bind)
		ssh_bind_free(srv.bind);
	worker_free(srv.worker);
	mirrorer_free(srv.mirrorer);
	config_free(srv.cfg);
	free(srv.conns);
	free(srv.bin_dir);
	strbuf_release(&err);
	return rc;
}
