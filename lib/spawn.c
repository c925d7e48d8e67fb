#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"
#include "banned.h"

extern char **environ;

struct child_fds {
	int child_end[3];  /* what becomes 0, 1, 2 in the child; -1: inherit */
	int parent_end[3]; /* our end of each pipe, or -1 */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int setup_fd(struct child_fds *f, int i, int how)
{
	int p[2];

	f->child_end[i] = f->parent_end[i] = -1;
	if (how == CHILD_INHERIT)
		return 0;
	if (how >= 0) {
		f->child_end[i] = how;
		return 0;
	}
	if (how == CHILD_NULL) {
		f->child_end[i] = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
		return f->child_end[i] < 0 ? -1 : 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	f->child_end[i] = i == 0 ? p[0] : p[1];
	f->parent_end[i] = i == 0 ? p[1] : p[0];
	return 0;
}

/* In the child, after fork: only async-signal-safe calls until exec. */
static void __attribute__((noreturn)) exec_child(const struct child *c, const struct child_fds *f, int report_fd)
{
	sigset_t none;
	int err;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (c->new_pgroup)
		setpgid(0, 0);
	for (int i = 0; i < 3; i++) {
		if (f->child_end[i] < 0)
			continue;
		if (f->child_end[i] == i)
			fcntl(i, F_SETFD, 0);
		else if (dup2(f->child_end[i], i) < 0)
			goto fail;
	}
	/* Nothing else crosses exec; the report pipe closes there too, telling the parent it worked. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->dir && chdir(c->dir) < 0)
		goto fail;
	environ = c->env.v;
	execvp(c->argv.v[0], c->argv.v);
fail:
	err = errno;
	if (write(report_fd, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

int child_start(struct child *c)
{
	struct child_fds f = { { -1, -1, -1 }, { -1, -1, -1 } };
	int report[2] = { -1, -1 };
	int rc = -1, err = 0;
	ssize_t n;

	if (!c->argv.nr) {
		errno = EINVAL;
		return -1;
	}
	if (setup_fd(&f, 0, c->in) < 0 || setup_fd(&f, 1, c->out) < 0 ||
	    setup_fd(&f, 2, c->err) < 0 || pipe2(report, O_CLOEXEC) < 0)
		goto cleanup;
	c->pid = fork();
	if (c->pid < 0)
		goto cleanup;
	if (c->pid == 0)
		exec_child(c, &f, report[1]);
	close_fd(&report[1]);
	do
		n = read(report[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	if (n == sizeof(err)) {
		/* exec failed: reap the child, report its errno */
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (rc < 0 && !err)
		err = errno;
	for (int i = 0; i < 3; i++) {
		int how = i == 0 ? c->in : i == 1 ? c->out : c->err;
		if (how != CHILD_INHERIT && how < 0)
			close_fd(&f.child_end[i]); /* ours to close; caller-passed fds are not */
		if (rc < 0)
			close_fd(&f.parent_end[i]);
	}
	close_fd(&report[0]);
	close_fd(&report[1]);
	c->in = f.parent_end[0];
	c->out = f.parent_end[1];
	c->err = f.parent_end[2];
	if (rc < 0)
		errno = err;
	return rc;
}

int child_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

void child_release(struct child *c)
{
	strvec_clear(&c->argv);
	strvec_clear(&c->env);
	if (c->in >= 0)
		close_fd(&c->in);
	if (c->out >= 0)
		close_fd(&c->out);
	if (c->err >= 0)
		close_fd(&c->err);
}

int child_finish(struct child *c)
{
	int status, rc = -1;

	child_release(c);
	if (c->pid <= 0)
		return -1;
	while (waitpid(c->pid, &status, 0) < 0) {
		if (errno != EINTR)
			goto cleanup;
	}
	rc = child_exit_code(status);
cleanup:
	c->pid = -1;
	return rc;
}

/* Move bytes between the child's pipes until both outputs reach EOF. */
static int pump(struct child *c, const char *input, size_t input_len,
		struct strbuf *out, struct strbuf *err)
{
	size_t written = 0;
	char buf[16384];

	while (c->out >= 0 || c->err >= 0) {
		struct pollfd p[3] = { { c->in, POLLOUT, 0 }, { c->out, POLLIN, 0 }, { c->err, POLLIN, 0 } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (c->in >= 0 && p[0].revents) {
			ssize_t n = write(c->in, input + written, input_len - written);
			if (n > 0)
				written += (size_t)n;
			if (n < 0 || written == input_len)
				close_fd(&c->in);
		}
		for (int i = 1; i < 3; i++) {
			int *fd = i == 1 ? &c->out : &c->err;
			struct strbuf *sb = i == 1 ? out : err;
			ssize_t n;

			if (*fd < 0 || !p[i].revents)
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n <= 0)
				close_fd(fd);
			else if (sb)
				strbuf_add(sb, buf, (size_t)n); /* at the cap: the rest is dropped */
		}
	}
	return 0;
}

int child_run_capture(struct child *c, const char *input, size_t input_len,
		      struct strbuf *out, struct strbuf *err)
{
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int rc;

	c->in = input_len ? CHILD_PIPE : CHILD_NULL;
	c->out = CHILD_PIPE;
	c->err = err ? CHILD_PIPE : CHILD_INHERIT;
	if (child_start(c) < 0) {
		child_release(c);
		signal(SIGPIPE, old_pipe);
		return -1;
	}
	pump(c, input, input_len, out, err);
	rc = child_finish(c);
	signal(SIGPIPE, old_pipe);
	return rc;
}
