/*
 * Local builders: `buildah` and `command`. Each builder process runs in a
 * process group of its own, with an environment built from nothing, its
 * output read line by line into the job log. Stopping a build (timeout,
 * a newer job, gitd stopping) kills the whole group. The group's id is
 * written into the build's temp dir first, so that a crash of gitd cannot
 * leave a builder running unnoticed (build_kill_recorded()).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build_int.h"
#include "config.h"
#include "fileutil.h"
#include "log.h"
#include "source.h"
#include "spawn.h"
#include "strvec.h"
#include "util.h"
#include "banned.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Output kept to find the builder's error line. */
#define TAIL_MAX (16 * 1024)
/* How long a stopped builder gets between SIGTERM and SIGKILL. */
#define KILL_GRACE_MS 5000

/* ---- the process group record ---- */

/* Field 22 of /proc/PID/stat (start time), and field 5 (process group) in *pgrp; NULL if gone. */
static char *proc_start(pid_t pid, long *pgrp)
{
	char *path = xstrfmt("/proc/%d/stat", (int)pid), *start = NULL;
	struct strbuf stat;
	const char *p;

	strbuf_init_capped(&stat, 4096);
	if (strbuf_read_file(&stat, path) == 0 && (p = strrchr(stat.buf, ')'))) {
		struct strvec f = STRVEC_INIT;

		char *save = NULL;

		for (char *tok = strtok_r(stat.buf + (p - stat.buf) + 1, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save))
			strvec_push(&f, tok);
		if (f.nr > 19) {
			*pgrp = strtol(f.v[2], NULL, 10);
			start = xstrdup(f.v[19]);
		}
		strvec_clear(&f);
	}
	strbuf_release(&stat);
	free(path);
	return start;
}

static char *boot_id(void)
{
	struct strbuf id;

	strbuf_init_capped(&id, 64);
	strbuf_read_file(&id, "/proc/sys/kernel/random/boot_id");
	strbuf_rtrim(&id);
	return strbuf_detach(&id, NULL);
}

/* tmp/builder.pid: "PID START BOOT", identifying the builder beyond pid reuse. */
static void record_group(const struct build *b, pid_t pid)
{
	char *path = xstrfmt("%s/builder.pid", b->tmp), *boot = boot_id(), *line;
	long pgrp = 0;
	char *start = proc_start(pid, &pgrp);

	line = xstrfmt("%d %s %s\n", (int)pid, start ? start : "0", boot);
	write_file_atomic(path, line, strlen(line), 0600);
	free(line);
	free(start);
	free(boot);
	free(path);
}

void build_kill_recorded(const char *tmp)
{
	char *path = xstrfmt("%s/builder.pid", tmp), *boot = boot_id(), *start = NULL, *save = NULL;
	struct strbuf rec = STRBUF_INIT;
	struct strvec f = STRVEC_INIT;
	long pgrp = 0;
	pid_t pid;

	if (strbuf_read_file(&rec, path) < 0)
		goto cleanup;
	for (char *tok = strtok_r(rec.buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		strvec_push(&f, tok);
	if (f.nr != 3 || strcmp(f.v[2], boot) || (pid = (pid_t)strtol(f.v[0], NULL, 10)) <= 1)
		goto cleanup; /* another boot: nothing of it runs */
	start = proc_start(pid, &pgrp);
	/* the leader itself, if alive, must be the one recorded; its group outlives it */
	if ((!start || (!strcmp(start, f.v[1]) && pgrp == pid)) && kill(-pid, SIGKILL) == 0)
		log_event(LOG_WARN, "stale-build-killed", "pgid", f.v[0], "dir", tmp, NULL);
cleanup:
	strvec_clear(&f);
	strbuf_release(&rec);
	free(start);
	free(boot);
	free(path);
}

/* ---- running one builder process ---- */

/* What the output reader keeps between reads. */
struct reader {
	struct build *b;
	int quiet;           /* keep the output out of the log (buildah rmi) */
	struct strbuf line;  /* a line still being read */
	struct strbuf tail;  /* the last output, for the error line */
	size_t logged;
};

static void reader_line(struct reader *r)
{
	if (!r->quiet && r->logged < BUILD_OUTPUT_MAX) {
		build_log_output(r->b, r->line.buf, r->line.len);
		r->logged += r->line.len;
		if (r->logged >= BUILD_OUTPUT_MAX)
			build_logf(r->b, "the build prints more than %d MiB; the rest is not kept",
				   BUILD_OUTPUT_MAX >> 20);
	}
	if (r->tail.len + r->line.len + 1 > TAIL_MAX) {
		const char *cut = memchr(r->tail.buf + r->tail.len / 2, '\n', r->tail.len - r->tail.len / 2);
		size_t keep = cut ? r->tail.len - (size_t)(cut + 1 - r->tail.buf) : 0;

		memmove(r->tail.buf, r->tail.buf + r->tail.len - keep, keep);
		strbuf_setlen(&r->tail, keep);
	}
	strbuf_add(&r->tail, r->line.buf, r->line.len < TAIL_MAX / 2 ? r->line.len : TAIL_MAX / 2);
	strbuf_addch(&r->tail, '\n');
	strbuf_reset(&r->line);
}

/* Split what was read into lines; \r (progress bars) ends a line too. */
static void reader_feed(struct reader *r, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			if (r->line.len)
				reader_line(r);
		} else if (strbuf_addch(&r->line, buf[i]) < 0) {
			reader_line(r); /* an endless line: cut it into pieces */
			strbuf_addch(&r->line, buf[i]);
		}
	}
}

/* 1 once pid has exited (without reaping it, so its group id stays reserved). */
static int has_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Read fd into the log until the builder ends or the build must stop; the reason. */
static enum build_stop pump(struct reader *r, int fd, pid_t pid)
{
	int64_t started = now_ms();
	enum build_stop stop = BUILD_GO;
	char buf[8192];

	while ((stop = build_should_stop(r->b)) == BUILD_GO) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		n = p.revents ? read(fd, buf, sizeof(buf)) : -1;
		if (n > 0) {
			reader_feed(r, buf, (size_t)n);
			continue;
		}
		/* EOF, or a builder that left a child holding the pipe open */
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && p.revents) || has_exited(pid))
			break;
		if (!r->quiet)
			build_heartbeat(r->b, started, "still building");
	}
	while (stop == BUILD_GO && fcntl(fd, F_SETFL, O_NONBLOCK) == 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		reader_feed(r, buf, (size_t)n); /* what the builder printed last */
	}
	if (r->line.len)
		reader_line(r);
	return stop;
}

/* Stop (when asked) and reap the builder, killing what is left of its group; its exit code. */
static int end_group(pid_t pid, int stop)
{
	int status = 0;

	if (stop) {
		int64_t limit = now_ms() + KILL_GRACE_MS;

		kill(-pid, SIGTERM);
		while (!has_exited(pid) && now_ms() < limit)
			build_nap(50);
	}
	kill(-pid, SIGKILL); /* the leader is reaped only after: its group id cannot be reused */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return child_exit_code(status);
}

static void builder_env(struct strvec *env, const struct build *b, const char *auth)
{
	const char *path = getenv("PATH");

	strvec_pushf(env, "PATH=%s", path && *path ? path : DEFAULT_PATH);
	strvec_pushf(env, "HOME=%s/home", b->tmp);
	strvec_pushf(env, "TMPDIR=%s/tmp", b->tmp);
	strvec_pushf(env, "REGISTRY_AUTH_FILE=%s", auth);
}

/*
 * Run argv (consumed) in the temp dir; its output to the log unless quiet.
 * 0 when it exits 0; BUILD_STOPPED; -1 with the builder's error line in err.
 */
static int run_builder(struct build *b, struct strvec *argv, const char *auth, int quiet,
		       struct strbuf *err)
{
	struct child c = CHILD_INIT;
	struct reader r = { b, quiet, STRBUF_INIT, STRBUF_INIT, 0 };
	const char *prog = argv->v[0];
	int p[2], code, rc = -1;
	enum build_stop stop;
	int64_t start = now_ms();

	strbuf_init_capped(&r.line, 4096);
	c.argv = *argv;
	*argv = (struct strvec)STRVEC_INIT; /* transferred to c */
	builder_env(&c.env, b, auth);
	c.dir = b->tmp;
	c.in = CHILD_NULL;
	c.new_pgroup = 1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		strbuf_addf(err, "cannot make a pipe: %s", strerror(errno));
		child_release(&c);
		return -1;
	}
	c.out = c.err = p[1];
	if (child_start(&c) < 0) {
		strbuf_addf(err, "cannot run %s: %s", prog, strerror(errno));
		close(p[0]);
		close(p[1]);
		child_release(&c);
		return -1;
	}
	close(p[1]);
	record_group(b, c.pid);
	stop = pump(&r, p[0], c.pid);
	close(p[0]);
	code = end_group(c.pid, stop != BUILD_GO);
	b->builder_ms += now_ms() - start;
	if (stop != BUILD_GO)
		rc = BUILD_STOPPED;
	else if (code == 0)
		rc = 0;
	else {
		build_error_line(err, r.tail.buf);
		if (!err->len)
			strbuf_addf(err, "%s exited with status %d", prog, code);
	}
	child_release(&c);
	strbuf_release(&r.line);
	strbuf_release(&r.tail);
	return rc;
}

/* ---- shared by both backends ---- */

/*
 * The credentials file the builder may use: builder.auth_file, or an empty
 * one, so that nothing else on the machine (root's `podman login`) is used.
 */
static char *auth_file(const struct build *b)
{
	static const char empty[] = "{\"auths\": {}}\n";
	char *path = build_conf_path(b, "auth_file");

	if (path)
		return path;
	path = xstrfmt("%s/empty-auth.json", b->tmp);
	write_file_atomic(path, empty, strlen(empty), 0600);
	return path;
}

/* Directories the builder's HOME and TMPDIR point into. */
static int builder_dirs(const struct build *b, struct strbuf *err)
{
	const char *const sub[] = { "home", "tmp" };

	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		char *dir = xstrfmt("%s/%s", b->tmp, sub[i]);
		int rc = mkdir(dir, 0700);

		if (rc < 0)
			strbuf_addf(err, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The Dockerfile's path inside the exported context (caller frees), or NULL with err. */
static char *dockerfile_path(const struct build *b, struct strbuf *err)
{
	struct strbuf norm = STRBUF_INIT;
	char *path = NULL;

	if (source_path_join(&norm, "", b->req->dockerfile) < 0)
		strbuf_addf(err, "app.yaml `build: %s` is not a path inside the repository", b->req->dockerfile);
	else
		path = xstrfmt("%s/%s", b->context, norm.buf);
	strbuf_release(&norm);
	return path;
}

/* The digest the builder wrote to path into b->digest; -1 with err. */
static int read_digest(struct build *b, const char *path, struct strbuf *err)
{
	struct strbuf d;
	int rc = -1;

	strbuf_init_capped(&d, 256);
	if (strbuf_read_file(&d, path) < 0 && !d.len) {
		strbuf_addstr(err, "the builder wrote no image digest");
		goto cleanup;
	}
	strbuf_rtrim(&d);
	if (!build_digest_ok(d.buf)) {
		strbuf_addstr(err, "the builder wrote something other than an image digest (sha256:...)");
		goto cleanup;
	}
	b->digest = strbuf_detach(&d, NULL);
	rc = 0;
cleanup:
	strbuf_release(&d);
	return rc;
}

/* ---- command ---- */

static void expand_one(struct strbuf *out, const char *arg, const char *const *names,
		       const char *const *values, size_t n)
{
	while (*arg) {
		size_t k;

		for (k = 0; k < n; k++) {
			size_t len = strlen(names[k]);

			if (arg[0] == '{' && !strncmp(arg + 1, names[k], len) && arg[len + 1] == '}') {
				strbuf_addstr(out, values[k]);
				arg += len + 2;
				break;
			}
		}
		if (k == n)
			strbuf_addch(out, *arg++);
	}
}

void build_expand_argv(struct strvec *argv, const json_t *tmpl, const char *context,
		       const char *dockerfile, const char *image, const char *digestfile)
{
	const char *const names[] = { "context", "dockerfile", "image", "digestfile" };
	const char *const values[] = { context, dockerfile, image, digestfile };
	const json_t *v;
	size_t i;

	json_array_foreach(tmpl, i, v) {
		struct strbuf arg = STRBUF_INIT;

		expand_one(&arg, json_string_value(v) ? json_string_value(v) : "", names, values,
			   ARRAY_SIZE(names));
		strvec_push_owned(argv, strbuf_detach(&arg, NULL));
	}
}

int build_with_command(struct build *b, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	char *dockerfile = dockerfile_path(b, err), *digest = xstrfmt("%s/digest", b->tmp);
	char *auth = NULL;
	int rc = -1;

	if (!dockerfile || builder_dirs(b, err) < 0)
		goto cleanup;
	auth = auth_file(b);
	build_expand_argv(&argv, json_object_get(b->conf, "command"), b->context, dockerfile, b->tag,
			  digest);
	rc = run_builder(b, &argv, auth, 0, err);
	if (rc == 0)
		rc = read_digest(b, digest, err);
cleanup:
	strvec_clear(&argv);
	free(auth);
	free(dockerfile);
	free(digest);
	return rc;
}

/* ---- buildah ---- */

/* 1 if the registry is on loopback, which Docker and buildah's users expect to be plain HTTP. */
static int registry_is_loopback(const char *registry)
{
	size_t host_len = strcspn(registry, "/");
	char *host = xstrndup(registry, host_len), *colon = strrchr(host, ':');
	int loopback;

	if (colon && host[0] != '[')
		*colon = '\0';
	loopback = !strcmp(host, "localhost") || starts_with(host, "127.") || starts_with(host, "[::1]");
	free(host);
	return loopback;
}

/* buildah and its storage options, the start of every buildah command line. */
static void buildah_argv(struct strvec *argv, const struct build *b)
{
	char *root = build_conf_path(b, "storage_root");

	if (!root)
		root = build_path(b->req->data_dir, "storage");
	strvec_push(argv, build_conf_str(b, "buildah", "buildah"));
	strvec_pushf(argv, "--root=%s/root", root);
	strvec_pushf(argv, "--runroot=%s/run", root);
	strvec_pushf(argv, "--storage-driver=%s", build_conf_str(b, "storage_driver", "vfs"));
	free(root);
}

static int buildah_bud(struct build *b, const char *auth, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	char *dockerfile = dockerfile_path(b, err);
	int rc = -1;

	if (!dockerfile)
		return -1;
	buildah_argv(&argv, b);
	strvec_pushl(&argv, "bud", "--isolation", build_conf_str(b, "isolation", "chroot"), "--authfile",
		     auth, "-f", dockerfile, "-t", b->tag, NULL);
	if (config_registry_insecure(b->req->cfg))
		strvec_push(&argv, "--tls-verify=false");
	strvec_push(&argv, b->context);
	rc = run_builder(b, &argv, auth, 0, err);
	free(dockerfile);
	return rc;
}

static int buildah_push(struct build *b, const char *auth, struct strbuf *err)
{
	struct strvec argv = STRVEC_INIT;
	char *digest = xstrfmt("%s/digest", b->tmp);
	int rc;

	buildah_argv(&argv, b);
	strvec_pushl(&argv, "push", "--authfile", auth, "--digestfile", digest, NULL);
	if (config_registry_insecure(b->req->cfg) || registry_is_loopback(config_registry(b->req->cfg)))
		strvec_push(&argv, "--tls-verify=false");
	strvec_push(&argv, b->tag);
	strvec_pushf(&argv, "docker://%s", b->tag);
	rc = run_builder(b, &argv, auth, 0, err);
	if (rc == 0)
		rc = read_digest(b, digest, err);
	free(digest);
	return rc;
}

/* Drop the local copy: the registry has it, and storage would only grow. */
static void buildah_rmi(struct build *b, const char *auth)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf ignored = STRBUF_INIT;

	buildah_argv(&argv, b);
	strvec_pushl(&argv, "rmi", b->tag, NULL);
	run_builder(b, &argv, auth, 1, &ignored);
	strbuf_release(&ignored);
}

int build_with_buildah(struct build *b, struct strbuf *err)
{
	char *auth = NULL;
	int rc = -1;

	if (builder_dirs(b, err) < 0)
		return -1;
	auth = auth_file(b);
	rc = buildah_bud(b, auth, err);
	if (rc == 0) {
		rc = buildah_push(b, auth, err);
		if (rc != BUILD_STOPPED)
			buildah_rmi(b, auth);
	}
	free(auth);
	return rc;
}
