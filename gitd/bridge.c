#include "bridge.h"

#include <libssh/server.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

#define INBUF_MAX (256 * 1024) /* client -> child bytes held at most */
#define CHUNK (64 * 1024)

struct bridge {
	ssh_session s;
	ssh_event ev;
	ssh_channel ch;
	struct child *c;
	char *in;        /* client data not yet written to the child */
	size_t in_len;
	int client_eof;  /* the client sent EOF: close the child's stdin once drained */
	int64_t last_io; /* time of the last byte in either direction */
	int64_t last_client;
};

static void set_nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Take what the channel holds, as far as our buffer has room. */
static int pull_from_client(struct bridge *b)
{
	while (b->in_len < INBUF_MAX) {
		int n = ssh_channel_read_nonblocking(b->ch, b->in + b->in_len,
						     (uint32_t)(INBUF_MAX - b->in_len), 0);
		if (n == SSH_ERROR)
			return -1;
		if (n <= 0)
			break;
		b->in_len += (size_t)n;
		b->last_io = b->last_client = now_ms();
	}
	if (!b->in_len && !b->client_eof && ssh_channel_is_eof(b->ch))
		b->client_eof = 1;
	return 0;
}

static void push_to_child(struct bridge *b)
{
	ssize_t n;

	if (b->c->in < 0)
		return;
	if (b->in_len) {
		n = write(b->c->in, b->in, b->in_len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* the child stopped reading (e.g. it failed): drop client data */
			b->in_len = 0;
			close_fd(&b->c->in);
			return;
		}
		if (n > 0) {
			memmove(b->in, b->in + n, b->in_len - (size_t)n);
			b->in_len -= (size_t)n;
			b->last_io = now_ms();
		}
	}
	if (!b->in_len && b->client_eof)
		close_fd(&b->c->in);
}

/* Copy one chunk of the child's stdout or stderr to the channel; close fd at EOF. */
static int forward_output(struct bridge *b, int *fd, int is_stderr)
{
	char buf[CHUNK];
	uint32_t window = ssh_channel_window_size(b->ch);
	size_t want = window < sizeof(buf) ? window : sizeof(buf);
	ssize_t n;

	if (!want)
		return 0;
	n = read(*fd, buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	b->last_io = now_ms();
	if (is_stderr)
		return ssh_channel_write_stderr(b->ch, buf, (uint32_t)n) == SSH_ERROR ? -1 : 0;
	return ssh_channel_write(b->ch, buf, (uint32_t)n) == SSH_ERROR ? -1 : 0;
}

/* One round: wait for anything to do, then do it. -1 when the connection is gone. */
static int bridge_step(struct bridge *b, const struct bridge_limits *lim)
{
	int open_window = ssh_channel_window_size(b->ch) > 0;
	struct pollfd p[4] = {
		{ ssh_get_fd(b->s), POLLIN, 0 },
		{ b->in_len ? b->c->in : -1, POLLOUT, 0 },
		{ open_window ? b->c->out : -1, POLLIN, 0 },
		{ open_window ? b->c->err : -1, POLLIN, 0 },
	};

	if (poll(p, 4, 1000) < 0 && errno != EINTR)
		return -1;
	if (ssh_event_dopoll(b->ev, 0) == SSH_ERROR && !ssh_is_connected(b->s))
		return -1;
	if (ssh_channel_is_closed(b->ch) || pull_from_client(b) < 0)
		return -1;
	push_to_child(b);
	if (p[2].revents && forward_output(b, &b->c->out, 0) < 0)
		return -1;
	if (p[3].revents && forward_output(b, &b->c->err, 1) < 0)
		return -1;
	if (lim->keepalive_interval &&
	    now_ms() - b->last_client > (int64_t)lim->keepalive_interval * 1000) {
		ssh_send_keepalive(b->s);
		b->last_client = now_ms();
	}
	if (lim->idle_timeout && now_ms() - b->last_io > (int64_t)lim->idle_timeout * 1000) {
		log_event(LOG_INFO, "idle-timeout", NULL);
		return -1;
	}
	return 0;
}

/*
 * The client is gone. Let the child end on its own rather than kill it in
 * the middle of updating refs: it sees EOF on stdin, and its output is
 * read and dropped. A child that still runs after DRAIN_MAX_MS is killed.
 */
#define DRAIN_MAX_MS (5 * 60 * 1000)
static void drain_child(struct child *c)
{
	int64_t deadline = now_ms() + DRAIN_MAX_MS;
	char buf[CHUNK];

	close_fd(&c->in);
	while (c->out >= 0 || c->err >= 0) {
		struct pollfd p[2] = { { c->out, POLLIN, 0 }, { c->err, POLLIN, 0 } };

		if (now_ms() > deadline) {
			kill(-c->pid, SIGKILL);
			break;
		}
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &c->err : &c->out;
			ssize_t n;

			if (*fd >= 0 && p[i].revents && (n = read(*fd, buf, sizeof(buf))) <= 0 &&
			    !(n < 0 && (errno == EAGAIN || errno == EINTR)))
				close_fd(fd);
		}
	}
}

int bridge_run(ssh_session s, ssh_event ev, ssh_channel ch, struct child *c,
	       const struct bridge_limits *limits)
{
	struct bridge b = { s, ev, ch, c, NULL, 0, 0, now_ms(), now_ms() };
	int failed = 0;

	c->in = c->out = c->err = CHILD_PIPE;
	c->new_pgroup = 1;
	if (child_start(c) < 0) {
		log_event(LOG_ERROR, "spawn-failed", "program", c->argv.v[0], "error", strerror(errno), NULL);
		child_release(c);
		return -1;
	}
	set_nonblocking(c->in);
	set_nonblocking(c->out);
	set_nonblocking(c->err);
	b.in = xmalloc(INBUF_MAX);
	while (c->out >= 0 || c->err >= 0) {
		if (bridge_step(&b, limits) < 0) {
			failed = 1;
			break;
		}
	}
	free(b.in);
	if (failed) {
		drain_child(c);
		child_finish(c);
		return -1;
	}
	return child_finish(c);
}
