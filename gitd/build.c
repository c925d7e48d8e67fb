/*
 * Image builds: reuse, supersede, the build slots, the private temp dir,
 * and the choice of backend. See build.h.
 */
#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_int.h"
#include "config.h"
#include "fileutil.h"
#include "queue.h"
#include "source.h"
#include "util.h"
#include "yamlload.h"
#include "banned.h"

/* Longest line of builder output kept in the log; the rest is cut. */
#define LINE_MAX_BYTES 2000
/* How often a waiting build looks for a newer job of its repo. */
#define SUPERSEDE_CHECK_MS 1000

static volatile sig_atomic_t term_requested;

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

char *build_path(const char *data_dir, const char *sub)
{
	return xstrfmt("%s/builds/%s", data_dir, sub);
}

/* ---- settings ---- */

const char *build_conf_str(const struct build *b, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(b->conf, key));

	return s ? s : dflt;
}

long build_conf_int(const struct build *b, const char *key, long dflt)
{
	const json_t *v = json_object_get(b->conf, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

char *build_conf_path(const struct build *b, const char *key)
{
	const char *s = build_conf_str(b, key, NULL);

	if (!s)
		return NULL;
	return s[0] == '/' ? xstrdup(s) : xstrfmt("%s/%s", b->req->data_dir, s);
}

/* ---- names ---- */

char *build_image_name(const struct gitd_config *cfg, const char *app)
{
	return xstrfmt("%s/%s", config_registry(cfg), app);
}

char *build_tag(const char *commit, const char *dockerfile)
{
	struct strbuf tag = STRBUF_INIT;

	strbuf_addstr(&tag, commit);
	if (strcmp(dockerfile, "Dockerfile")) {
		strbuf_addch(&tag, '-');
		/* a tag is [A-Za-z0-9_.-], at most 128 bytes */
		for (const char *s = dockerfile; *s && tag.len < 128; s++)
			strbuf_addch(&tag, (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
					   (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ? *s : '-');
	}
	return strbuf_detach(&tag, NULL);
}

int build_digest_ok(const char *s)
{
	if (!starts_with(s, "sha256:") || strlen(s) != 7 + 64)
		return 0;
	for (s += 7; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

void build_error_line(struct strbuf *out, const char *output)
{
	const char *best = NULL, *last = NULL;
	size_t best_len = 0, last_len = 0;

	for (const char *line = output; *line;) {
		const char *end = strchrnul(line, '\n'), *s = line;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s < end) {
			last = s;
			last_len = (size_t)(end - s);
		}
		if ((size_t)(end - s) >= 5 && !strncasecmp(s, "error", 5)) {
			best = s;
			best_len = (size_t)(end - s);
		}
		line = *end ? end + 1 : end;
	}
	if (!best) {
		best = last;
		best_len = last_len;
	}
	if (best)
		strbuf_add_sanitized(out, best, best_len, 0);
}

/* ---- the job log ---- */

void build_logf(struct build *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->log)
		return;
	fputs("gitd: ", b->log);
	va_start(ap, fmt);
	vfprintf(b->log, fmt, ap);
	va_end(ap);
	fputc('\n', b->log);
	fflush(b->log);
	b->last_line = now_ms();
}

void build_log_output(struct build *b, const char *line, size_t len)
{
	struct strbuf clean;

	if (!b->log)
		return;
	strbuf_init_capped(&clean, LINE_MAX_BYTES);
	strbuf_add_sanitized(&clean, line, len, 0);
	fprintf(b->log, "build: %s%s\n", clean.buf, clean.len == LINE_MAX_BYTES ? " [cut]" : "");
	fflush(b->log);
	b->last_line = now_ms();
	strbuf_release(&clean);
}

void build_heartbeat(struct build *b, int64_t started, const char *what)
{
	int64_t now = now_ms();

	if (now - b->last_line >= BUILD_HEARTBEAT_SECONDS * 1000)
		build_logf(b, "%s (%lld s)", what, (long long)((now - started) / 1000));
}

void build_nap(int64_t ms)
{
	/* poll() returns early on a signal, unlike a restarted nanosleep() */
	poll(NULL, 0, (int)(ms > 0 ? ms : 0));
}

/* ---- supersede ---- */

/* 1 if j deploys environment env of cfg. */
static int job_deploys(const struct gitd_config *cfg, const struct job *j, const char *env)
{
	const struct config_env *e = config_env_find(cfg, env);

	if (j->promote)
		return !strcmp(j->promote->to, env);
	for (size_t i = 0; e && i < j->nr; i++)
		if (!git_oid_is_zero(&j->updates[i].new_oid) && !fnmatch(e->ref, j->updates[i].ref, 0))
			return 1;
	return 0;
}

unsigned long build_superseded_by(const struct build_request *req)
{
	struct job **jobs;
	size_t n = queue_pending_after(&jobs, req->data_dir, req->job->repo, req->job->id);
	unsigned long newer = 0;

	for (size_t i = n; i-- > 0 && !newer;) {
		size_t covered = 0;

		for (size_t e = 0; e < req->nenvs; e++)
			covered += job_deploys(req->cfg, jobs[i], req->envs[e]);
		if (req->nenvs && covered == req->nenvs)
			newer = jobs[i]->id;
	}
	for (size_t i = 0; i < n; i++)
		job_free(jobs[i]);
	free(jobs);
	return newer;
}

enum build_stop build_should_stop(struct build *b)
{
	int64_t now = now_ms();

	if (term_requested)
		b->terminated = 1;
	if (b->terminated)
		return BUILD_STOP_TERM;
	if (b->superseded_by)
		return BUILD_STOP_SUPERSEDED;
	if (now >= b->next_check) {
		b->next_check = now + SUPERSEDE_CHECK_MS;
		b->superseded_by = build_superseded_by(b->req);
		if (b->superseded_by)
			return BUILD_STOP_SUPERSEDED;
	}
	return b->deadline && now >= b->deadline ? BUILD_STOP_TIMEOUT : BUILD_GO;
}

/* ---- records: what each commit built ---- */

static char *record_path(const struct build_request *req)
{
	return xstrfmt("%s/builds/records/%s/%s.json", req->data_dir, req->job->repo, req->commit);
}

/* The image recorded for req's commit and Dockerfile under name, or NULL. */
static char *record_lookup(const struct build_request *req, const char *name)
{
	char *path = record_path(req), *prefix = xstrfmt("%s@sha256:", name), *image = NULL;
	json_t *rec = json_load_file(path, 0, NULL);
	const char *s = json_string_value(
		json_object_get(json_object_get(json_object_get(rec, "builds"), req->dockerfile), "image"));

	/* an image of another registry or app name is not this build's */
	if (s && starts_with(s, prefix) && build_digest_ok(s + strlen(name) + 1))
		image = xstrdup(s);
	json_decref(rec);
	free(prefix);
	free(path);
	return image;
}

static int record_store(const struct build_request *req, const char *image)
{
	char *path = record_path(req), *dir = xstrfmt("%s/builds/records/%s", req->data_dir, req->job->repo);
	json_t *rec = json_load_file(path, 0, NULL), *builds;
	char *text = NULL, now[32];
	time_t t = time(NULL);
	struct tm tm;
	int rc = -1;

	if (!json_is_object(rec)) {
		json_decref(rec);
		rec = json_pack("{s:s, s:{}}", "commit", req->commit, "builds");
	}
	builds = json_object_get(rec, "builds");
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(builds, req->dockerfile, json_pack("{s:s, s:I, s:s}", "image", image,
							       "job", (json_int_t)req->job->id, "time", now));
	text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text && mkdir_p(dir, 0700) == 0)
		rc = write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	json_decref(rec);
	free(dir);
	free(path);
	return rc;
}

/* ---- build slots: at most max_parallel local builds at once ---- */

/* Take a free slot: its locked descriptor; -1 when all are taken. */
static int try_slot(const char *data_dir, long max)
{
	char *dir = build_path(data_dir, "slots");
	int fd = -1;

	mkdir_p(dir, 0700);
	for (long i = 0; i < max && fd < 0; i++) {
		char *path = xstrfmt("%s/%ld.lock", dir, i);

		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			fd = -1;
		}
		free(path);
	}
	free(dir);
	return fd;
}

/* Wait for a slot; its descriptor (the lock goes with it), or -1 when told to stop. */
static int wait_slot(struct build *b)
{
	long max = build_conf_int(b, "max_parallel", BUILD_DEFAULT_MAX_PARALLEL);
	int64_t started = now_ms();
	int fd = try_slot(b->req->data_dir, max);

	if (fd < 0)
		build_logf(b, "waiting for a build slot (builder.max_parallel: %ld)", max);
	while (fd < 0 && build_should_stop(b) == BUILD_GO) {
		build_heartbeat(b, started, "still waiting for a build slot");
		build_nap(250);
		fd = try_slot(b->req->data_dir, max);
	}
	return fd;
}

/* ---- one build ---- */

static int make_tmp(struct build *b, struct strbuf *err)
{
	char *dir = build_path(b->req->data_dir, "tmp");
	int rc = -1;

	b->tmp = xstrfmt("%s/%lu-XXXXXX", dir, b->req->job->id);
	if (mkdir_p(dir, 0700) < 0 || !mkdtemp(b->tmp)) {
		strbuf_addf(err, "cannot create a build directory in %s: %s", dir, strerror(errno));
		free(b->tmp);
		b->tmp = NULL;
		goto cleanup;
	}
	b->context = xstrfmt("%s/context", b->tmp);
	rc = mkdir(b->context, 0700);
	if (rc < 0)
		strbuf_addf(err, "cannot create %s: %s", b->context, strerror(errno));
cleanup:
	free(dir);
	return rc;
}

/* A local build: slot, temp dir, the commit's files, the builder. */
static int build_locally(struct build *b, const char *kind, struct strbuf *err)
{
	char *git_dir = xstrfmt("%s/repos/%s.git", b->req->data_dir, b->req->job->repo);
	int64_t start;
	int slot = wait_slot(b), rc = -1;

	if (slot < 0) {
		rc = BUILD_STOPPED;
		goto cleanup;
	}
	if (make_tmp(b, err) < 0)
		goto cleanup;
	start = now_ms();
	if (build_export(b->context, git_dir, b->req->commit, BUILD_MAX_CONTEXT_BYTES, err) < 0)
		goto cleanup;
	build_logf(b, "building %s from %s (%s, %lld ms to export the tree)", b->tag, b->req->dockerfile,
		   kind, (long long)(now_ms() - start));
	b->deadline = now_ms() + build_conf_int(b, "timeout", BUILD_DEFAULT_TIMEOUT) * 1000;
	rc = !strcmp(kind, "command") ? build_with_command(b, err) : build_with_buildah(b, err);
cleanup:
	if (slot >= 0)
		close(slot); /* releases the slot */
	free(git_dir);
	return rc;
}

/* Why the build stopped early, as build_image() returns it. */
static int stopped(struct build *b, struct strbuf *err)
{
	switch (build_should_stop(b)) {
	case BUILD_STOP_SUPERSEDED:
		build_logf(b, "superseded by job %lu: build of %.7s cancelled", b->superseded_by, b->req->commit);
		return BUILD_SUPERSEDED;
	case BUILD_STOP_TIMEOUT:
		strbuf_addf(err, "the build took longer than builder.timeout (%ld s)",
			    build_conf_int(b, "timeout", BUILD_DEFAULT_TIMEOUT));
		return -1;
	case BUILD_STOP_TERM:
		strbuf_addstr(err, "gitd is stopping; the job runs again at the next start");
		return -1;
	case BUILD_GO:
		break;
	}
	return -1;
}

static int build_new(char **out, struct build *b, const char *name, struct strbuf *err)
{
	const char *kind = config_builder_kind(b->req->cfg);
	char *tag = build_tag(b->req->commit, b->req->dockerfile);
	int64_t start = now_ms();
	int rc;

	b->tag = xstrfmt("%s:%s", name, tag);
	free(tag);
	if (!strcmp(kind, "webhook")) {
		b->deadline = now_ms() + build_conf_int(b, "timeout", BUILD_DEFAULT_TIMEOUT) * 1000;
		rc = build_with_webhook(b, err);
	} else {
		rc = build_locally(b, kind, err);
	}
	if (rc == 0) {
		*out = xstrfmt("%s@%s", name, b->digest);
		build_logf(b, "built %s in %lld ms (builder %lld ms)", *out, (long long)(now_ms() - start),
			   (long long)b->builder_ms);
		if (record_store(b->req, *out) < 0)
			build_logf(b, "warning: cannot record the build: %s", strerror(errno));
	} else if (rc == BUILD_STOPPED) {
		strbuf_reset(err);
		rc = stopped(b, err);
	}
	return rc;
}

static void build_release(struct build *b)
{
	if (b->tmp && remove_tree(b->tmp) < 0)
		build_logf(b, "warning: cannot remove %s: %s", b->tmp, strerror(errno));
	free(b->tmp);
	free(b->context);
	free(b->tag);
	free(b->digest);
}

int build_image(char **out, const struct build_request *req, FILE *log, struct strbuf *err)
{
	struct build b = { .req = req, .conf = config_builder(req->cfg), .log = log, .last_line = now_ms() };
	char *name = build_image_name(req->cfg, req->app);
	struct sigaction sa, old;
	int rc = -1;

	*out = record_lookup(req, name);
	if (*out) {
		build_logf(&b, "using %s, already built for %.7s", *out, req->commit);
		free(name);
		return 0;
	}
	if (!strcmp(config_builder_kind(req->cfg), "none")) {
		strbuf_addf(err, "%s builds %s, but builder.kind is none: set `image:` in app.yaml, "
			    "or configure a builder", req->app, req->dockerfile);
		free(name);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term; /* no SA_RESTART: waits end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old);
	if (build_should_stop(&b) != BUILD_GO)
		rc = stopped(&b, err);
	else
		rc = build_new(out, &b, name, err);
	build_release(&b);
	free(name);
	sigaction(SIGTERM, &old, NULL);
	if (b.terminated || term_requested)
		raise(SIGTERM); /* cleaned up: now die of it, so the worker queues the job again */
	return rc;
}

/* ---- app.yaml ---- */

json_t *build_load_app_yaml(struct source *src)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	struct diags *d = diags_new();
	struct ydoc *doc = NULL;
	json_t *root = NULL;

	if (source_read(src, "app.yaml", &buf, &err) == 0 &&
	    ydoc_load(&doc, "app.yaml", buf.buf, buf.len, NULL, d) == 0 && ydoc_count(doc))
		root = json_incref(ydoc_root(doc, 0));
	ydoc_free(doc);
	diags_free(d);
	strbuf_release(&buf);
	strbuf_release(&err);
	if (root && !json_is_object(root)) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

/* ---- after a crash ---- */

static void remove_children(const char *dir, void (*each)(const char *path))
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *path;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = xstrfmt("%s/%s", dir, de->d_name);
		if (each)
			each(path);
		remove_tree(path);
		free(path);
	}
	if (d)
		closedir(d);
}

void build_cleanup_stale(const char *data_dir)
{
	char *tmp = build_path(data_dir, "tmp"), *waits = build_path(data_dir, "webhook");

	remove_children(tmp, build_kill_recorded);
	remove_children(waits, NULL);
	free(tmp);
	free(waits);
}
