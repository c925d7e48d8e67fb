#include "job.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>

#include "build.h"
#include "config.h"
#include "deploy.h"
#include "fileutil.h"
#include "generate.h"
#include "housekeep.h"
#include "log.h"
#include "metrics.h"
#include "mirror.h"
#include "queue.h"
#include "render.h"
#include "repos.h"
#include "source.h"
#include "state.h"
#include "strbuf.h"
#include "util.h"
#include "validate.h"
#include "banned.h"

/* One environment a job deploys: the commit of the last pushed ref that matches it. */
struct target {
	const char *env;
	const char *ref;
	const git_oid *commit;
	char *image;    /* the built image it runs (build.h), or NULL */
	int superseded; /* a newer job deploys it: left alone */
};

struct job_run {
	const char *data_dir;
	const struct gitd_config *cfg;
	const struct job *job;
	FILE *log;
	struct target *targets;
	size_t nr;
	char *app; /* the app's name as rendered (app.yaml's `name`, or the repo's) */
	char *message; /* the job's result message when not the usual one */
	int deploy_changed; /* a render committed to the deploy repo */
};

static void __attribute__((format(printf, 2, 3))) job_log(struct job_run *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->log)
		return;
	fputs("gitd: ", r->log);
	va_start(ap, fmt);
	vfprintf(r->log, fmt, ap);
	va_end(ap);
	fputc('\n', r->log);
	fflush(r->log);
}

static FILE *open_log(const char *data_dir, const struct job *j)
{
	char *dir = xstrfmt("%s/jobs/%s", data_dir, j->repo), *path = job_log_path(data_dir, j->repo, j->id);
	FILE *f = NULL;

	if (mkdir_p(dir, 0700) == 0)
		f = fopen(path, "a");
	if (!f) /* the job runs anyway; the pusher is told its result instead of its log */
		log_event(LOG_WARN, "job-log-failed", "repo", j->repo, "path", path, "error", strerror(errno), NULL);
	free(dir);
	free(path);
	return f;
}

/* Which environments the job's refs deploy to, in the config's (promotion) order. */
static void plan_targets(struct job_run *r)
{
	size_t n = config_env_count(r->cfg);

	r->targets = xcalloc(n ? n : 1, sizeof(*r->targets));
	if (r->job->promote) {
		const struct config_env *env = config_env_find(r->cfg, r->job->promote->to);

		if (env)
			r->targets[r->nr++] = (struct target){ env->name, r->job->promote->ref,
							       &r->job->promote->commit, NULL, 0 };
		return;
	}
	for (size_t e = 0; e < n; e++) {
		const struct config_env *env = config_env(r->cfg, e);
		const struct ref_update *last = NULL;

		for (size_t i = 0; i < r->job->nr; i++) {
			const struct ref_update *u = &r->job->updates[i];
			if (!git_oid_is_zero(&u->new_oid) && !fnmatch(env->ref, u->ref, 0))
				last = u;
		}
		if (last)
			r->targets[r->nr++] = (struct target){ env->name, last->ref, &last->new_oid, NULL, 0 };
	}
}

/* Render every target that deploys commit from repo_path; -1 with the problems logged. */
static int render_targets(struct job_run *r, struct source *src, const git_oid *commit,
			  struct render_files *files, size_t *nfiles)
{
	struct diags *d = diags_new();
	int rc = 0;

	for (size_t i = 0; i < r->nr; i++) {
		struct render_opts o = { r->cfg, r->job->repo, r->targets[i].env, r->targets[i].image };
		struct render_files rf = RENDER_FILES_INIT;

		if (!git_oid_equal(r->targets[i].commit, commit) || r->targets[i].superseded)
			continue;
		if (render_env(&rf, src, &o, d) < 0) {
			rc = -1;
			continue;
		}
		files[(*nfiles)++] = rf;
	}
	if (diags_nr(d) && r->log) {
		struct strbuf text = STRBUF_INIT;

		diags_sort(d);
		diags_format(&text, d, "");
		fputs(text.buf, r->log);
		strbuf_release(&text);
	}
	diags_free(d);
	return rc;
}

/* The names of the targets that deploy commit, comma-separated. */
static void env_names(struct strbuf *out, const struct job_run *r, const git_oid *commit)
{
	for (size_t i = 0; i < r->nr; i++)
		if (git_oid_equal(r->targets[i].commit, commit) && !r->targets[i].superseded)
			strbuf_addf(out, "%s%s", out->len ? ", " : "", r->targets[i].env);
}

/* ---- images (build.h) ---- */

/* Build (or reuse) dockerfile for the targets of commit from first on that build it. */
static int build_targets(struct job_run *r, size_t first, const json_t *app_yaml, const char *hex,
			 const char *dockerfile)
{
	const char *name = json_string_value(json_object_get(app_yaml, "name"));
	const char **envs = xcalloc(r->nr, sizeof(*envs));
	struct build_request req = { r->data_dir, r->cfg, r->job, name ? name : r->job->repo, hex,
				     dockerfile, envs, 0 };
	struct strbuf err = STRBUF_INIT;
	char *image = NULL;
	int64_t start = now_ms();
	int rc;

	for (size_t k = first; k < r->nr; k++) {
		const char *f = generate_build_file(app_yaml, r->targets[k].env);

		if (git_oid_equal(r->targets[k].commit, r->targets[first].commit) && f && !strcmp(f, dockerfile))
			envs[req.nenvs++] = r->targets[k].env;
	}
	rc = build_image(&image, &req, r->log, &err);
	metrics_observe(STEP_BUILD, now_ms() - start);
	for (size_t k = first; k < r->nr; k++) {
		for (size_t e = 0; e < req.nenvs; e++) {
			if (r->targets[k].env != envs[e])
				continue;
			r->targets[k].image = image ? xstrdup(image) : NULL;
			r->targets[k].superseded = rc == BUILD_SUPERSEDED;
		}
	}
	if (rc < 0) {
		metrics_inc(M_BUILDS_FAILED);
		job_log(r, "error: the build of %.7s failed: %s", hex, err.buf);
		free(r->message);
		r->message = xstrfmt("build failed: %s", err.buf);
	}
	free(image);
	free(envs);
	strbuf_release(&err);
	return rc < 0 ? -1 : 0;
}

/*
 * The image each target of commit runs when its app builds one: the one a
 * promotion pins, or build_image()'s. 0 (some targets may be superseded),
 * or -1 (logged).
 */
static int obtain_images(struct job_run *r, struct source *src, const git_oid *commit, const char *hex)
{
	json_t *app_yaml = build_load_app_yaml(src);
	int rc = 0;

	for (size_t i = 0; i < r->nr && rc == 0; i++) {
		struct target *t = &r->targets[i];
		const char *dockerfile = generate_build_file(app_yaml, t->env);

		if (!dockerfile || !git_oid_equal(t->commit, commit) || t->image || t->superseded)
			continue;
		if (r->job->promote && r->job->promote->image)
			t->image = xstrdup(r->job->promote->image); /* promotion never rebuilds */
		else
			rc = build_targets(r, i, app_yaml, hex, dockerfile);
	}
	json_decref(app_yaml);
	return rc;
}

/* The image for the Image: trailer: the first one a rendered target of commit runs. */
static const char *commit_image(const struct job_run *r, const git_oid *commit)
{
	for (size_t i = 0; i < r->nr; i++)
		if (git_oid_equal(r->targets[i].commit, commit) && !r->targets[i].superseded &&
		    r->targets[i].image)
			return r->targets[i].image;
	return NULL;
}

/* 1 if every target of commit was superseded by a newer job. */
static int all_superseded(const struct job_run *r, const git_oid *commit)
{
	for (size_t i = 0; i < r->nr; i++)
		if (git_oid_equal(r->targets[i].commit, commit) && !r->targets[i].superseded)
			return 0;
	return 1;
}

/*
 * Render and commit the targets that deploy commit: one deploy commit per
 * source commit, so its trailers say exactly what it was rendered from.
 */
static int deploy_one_commit(struct job_run *r, const git_oid *commit, git_oid *deployed, int *changed)
{
	char *repo_path = repos_path(r->data_dir, r->job->repo), *deploy_path = repos_path(r->data_dir, DEPLOY_REPO);
	char hex[GIT_OID_HEXSZ + 1];
	struct render_files *files = xcalloc(r->nr, sizeof(*files));
	struct strbuf envs = STRBUF_INIT, err = STRBUF_INIT;
	struct source *src = NULL;
	size_t nfiles = 0;
	int64_t start = now_ms();
	int rc = -1;

	git_oid_tostr(hex, sizeof(hex), commit);
	if (source_open_rev(&src, repo_path, NULL, hex, &err) < 0) {
		job_log(r, "error: cannot read %.7s: %s", hex, err.buf);
		goto cleanup;
	}
	if (!validate_is_app(src)) {
		job_log(r, "no app.yaml or resources/: plain git hosting, nothing to deploy");
		memset(deployed, 0, sizeof(*deployed));
		rc = 0;
		goto cleanup;
	}
	if (obtain_images(r, src, commit, hex) < 0) {
		job_log(r, "error: nothing rendered; the deploy repo is unchanged");
		goto cleanup;
	}
	if (all_superseded(r, commit)) {
		rc = BUILD_SUPERSEDED;
		goto cleanup;
	}
	env_names(&envs, r, commit);
	job_log(r, "rendering %s@%.7s for %s", r->job->repo, hex, envs.buf);
	start = now_ms();
	if (render_targets(r, src, commit, files, &nfiles) < 0) {
		metrics_inc(M_RENDERS_FAILED);
		job_log(r, "error: rendering failed; the deploy repo is unchanged");
		goto cleanup;
	}
	{
		struct deploy_info info = { .source_repo = r->job->repo, .source_commit = hex,
					    .pushed_by = r->job->pusher, .image = commit_image(r, commit),
					    .repo_url = config_deploy_repo_url(r->cfg),
					    .namespace_pattern = config_namespace_pattern(r->cfg) };
		struct deploy_result res;

		memset(&res, 0, sizeof(res));
		rc = deploy_write(&res, deploy_path, files[0].app, files, nfiles, &info, &err);
		git_oid_cpy(deployed, &res.commit);
	}
	metrics_observe(STEP_RENDER, now_ms() - start); /* the deploy commit included */
	if (rc < 0) {
		metrics_inc(M_RENDERS_FAILED);
		job_log(r, "error: cannot commit to the deploy repo: %s", err.buf);
		goto cleanup;
	}
	*changed = rc != DEPLOY_UNCHANGED;
	free(r->app);
	r->app = xstrdup(files[0].app); /* the deploy folder's name: `repo delete` removes it */
	r->deploy_changed |= *changed;
	git_oid_tostr(hex, sizeof(hex), deployed);
	if (*changed)
		job_log(r, "deployed %s: deploy@%.7s", envs.buf, hex);
	else
		job_log(r, "%s: nothing changed, no deploy commit", envs.buf);
	rc = 0;
cleanup:
	for (size_t i = 0; i < nfiles; i++)
		render_files_release(&files[i]);
	free(files);
	source_free(src);
	strbuf_release(&envs);
	strbuf_release(&err);
	free(repo_path);
	free(deploy_path);
	return rc;
}

/*
 * A failed deploy changes nothing in the cluster: keep what the environment
 * still runs (promote reads it) and name the commit that failed.
 */
static void keep_running(json_t *e, const json_t *prev, const char *attempted)
{
	static const char *const kept[] = { "commit", "ref", "deploy_commit", "image", "promoted_from" };

	json_object_set_new(e, "failed_commit", json_string(attempted));
	if (!json_is_string(json_object_get(prev, "commit")))
		return; /* it never ran anything */
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
		json_t *v = json_object_get(prev, kept[i]);

		if (v)
			json_object_set(e, kept[i], v);
		else
			json_object_del(e, kept[i]);
	}
}

static void record_env(json_t *envs, const struct job_run *r, const struct target *t,
		       const git_oid *deployed, const char *status)
{
	char commit[GIT_OID_HEXSZ + 1], deploy[GIT_OID_HEXSZ + 1], now[32];
	time_t tnow = time(NULL);
	struct tm tm;
	json_t *e;

	gmtime_r(&tnow, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	git_oid_tostr(commit, sizeof(commit), t->commit);
	git_oid_tostr(deploy, sizeof(deploy), deployed);
	e = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "commit", commit, "ref", t->ref, "deploy_commit",
		      deploy, "job", (json_int_t)r->job->id, "time", now, "status", status);
	if (t->image)
		json_object_set_new(e, "image", json_string(t->image));
	if (r->job->promote)
		json_object_set_new(e, "promoted_from", json_string(r->job->promote->from));
	if (!strcmp(status, "failed"))
		keep_running(e, json_object_get(envs, t->env), commit);
	json_object_set_new(envs, t->env, e);
}

/* Record which refs this job handled and what each environment now runs. */
static void save_state(struct job_run *r, const git_oid *const *deployed, const char *const *status)
{
	json_t *state = state_load(r->data_dir, r->job->repo);
	json_t *refs = json_object_get(state, "refs"), *envs = json_object_get(state, "envs");

	for (size_t i = 0; i < r->job->nr; i++) {
		const struct ref_update *u = &r->job->updates[i];
		char hex[GIT_OID_HEXSZ + 1];

		if (git_oid_is_zero(&u->new_oid)) {
			json_object_del(refs, u->ref);
			continue;
		}
		git_oid_tostr(hex, sizeof(hex), &u->new_oid);
		json_object_set_new(refs, u->ref, json_string(hex));
	}
	for (size_t i = 0; i < r->nr; i++)
		if (status[i])
			record_env(envs, r, &r->targets[i], deployed[i], status[i]);
	if (r->app)
		json_object_set_new(state, "app", json_string(r->app));
	if (state_save(r->data_dir, r->job->repo, state) < 0)
		job_log(r, "warning: cannot record the deploy state: %s", strerror(errno));
	json_decref(state);
}

/*
 * Deploy each distinct source commit of the targets, in order. 0 when all
 * succeeded; BUILD_SUPERSEDED when newer jobs took over every target.
 */
static int deploy_targets(struct job_run *r)
{
	const git_oid **deployed = xcalloc(r->nr, sizeof(*deployed));
	const char **status = xcalloc(r->nr, sizeof(*status));
	git_oid *oids = xcalloc(r->nr, sizeof(*oids));
	int failed = 0, superseded = 1;

	for (size_t i = 0; i < r->nr; i++) {
		int changed = 0, rc;

		if (deployed[i])
			continue; /* done with an earlier target of the same commit */
		rc = deploy_one_commit(r, r->targets[i].commit, &oids[i], &changed);
		failed |= rc < 0;
		for (size_t k = i; k < r->nr; k++) {
			if (!git_oid_equal(r->targets[k].commit, r->targets[i].commit))
				continue;
			/* a superseded target is the newer job's to record */
			status[k] = rc < 0 ? "failed" : r->targets[k].superseded ? NULL : "ok";
			superseded &= status[k] == NULL;
			deployed[k] = &oids[i];
		}
	}
	save_state(r, deployed, status);
	free(deployed);
	free(status);
	free(oids);
	return failed ? -1 : superseded ? BUILD_SUPERSEDED : 0;
}

/* Ask for repo to be mirrored; say where, and warn when its last mirror run failed. */
static void request_mirror(struct job_run *r, const char *repo)
{
	struct mirror_note *notes = NULL;
	int n = mirror_request(&notes, r->data_dir, r->cfg, repo);

	if (n < 0) {
		job_log(r, "warning: cannot request the mirror of %s: %s", repo, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct mirror_note *m = &notes[i];

		job_log(r, "mirroring %s to %s", repo, m->display);
		if (m->paused)
			job_log(r, "warning: the mirror of %s to %s is paused after repeated authentication "
				"failures (%s); an admin fixes the credentials, then runs `mirror retry %s`",
				repo, m->display, m->last_error, repo);
		else if (m->last_error)
			job_log(r, "warning: the last mirror of %s to %s failed (%s); it is retried", repo,
				m->display, m->last_error);
	}
	mirror_notes_free(notes, (size_t)n);
}

int job_run(const char *data_dir, const struct gitd_config *cfg, const struct job *j)
{
	struct job_run r = { data_dir, cfg, j, open_log(data_dir, j), NULL, 0, NULL, NULL, 0 };
	const char *message, *status;
	int rc = 0;

	git_libgit2_init();
	plan_targets(&r);
	if (j->promote)
		job_log(&r, "promoting %s@%.7s from %s to %s", j->repo, git_oid_tostr_s(&j->promote->commit),
			j->promote->from, j->promote->to);
	if (!r.nr) {
		for (size_t i = 0; i < j->nr; i++)
			job_log(&r, "%s deploys to no environment", j->updates[i].ref);
		if (j->promote) {
			job_log(&r, "error: there is no environment %s in gitd.yaml", j->promote->to);
			rc = -1;
		}
		save_state(&r, NULL, NULL);
		message = rc < 0 ? "failed; see the log" : "nothing to deploy";
	} else {
		rc = deploy_targets(&r);
		message = rc < 0 ? "failed; see the log" : "deployed";
		if (rc == BUILD_SUPERSEDED)
			message = "superseded by a newer job";
	}
	/* after the render, so the deploy repo's mirror carries this push's commit */
	request_mirror(&r, j->repo);
	if (r.deploy_changed)
		request_mirror(&r, DEPLOY_REPO);
	status = rc < 0 ? "failed" : rc == BUILD_SUPERSEDED ? "superseded" : "ok";
	housekeep_catch_term(); /* the job is done: a stop now must not send it back to the queue */
	if (queue_finish(data_dir, j, status, r.message ? r.message : message) < 0) {
		char id[32];

		snprintf(id, sizeof(id), "%lu", j->id);
		log_event(LOG_ERROR, "job-result-lost", "job", id, "repo", j->repo, "error", strerror(errno), NULL);
	}
	if (r.log)
		fclose(r.log);
	/* after the result: the pusher does not wait for a repack */
	if (housekeep_repo(data_dir, j->repo) == 0 && r.deploy_changed)
		housekeep_repo(data_dir, DEPLOY_REPO);
	for (size_t i = 0; i < r.nr; i++)
		free(r.targets[i].image);
	free(r.targets);
	free(r.app);
	free(r.message);
	git_libgit2_shutdown();
	return rc < 0 ? -1 : 0;
}
