#include "job.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>

#include "config.h"
#include "deploy.h"
#include "fileutil.h"
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
};

struct job_run {
	const char *data_dir;
	const struct gitd_config *cfg;
	const struct job *job;
	FILE *log;
	struct target *targets;
	size_t nr;
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
	free(dir);
	free(path);
	return f;
}

/* Which environments the job's refs deploy to, in the config's (promotion) order. */
static void plan_targets(struct job_run *r)
{
	size_t n = config_env_count(r->cfg);

	r->targets = xcalloc(n ? n : 1, sizeof(*r->targets));
	for (size_t e = 0; e < n; e++) {
		const struct config_env *env = config_env(r->cfg, e);
		const struct ref_update *last = NULL;

		for (size_t i = 0; i < r->job->nr; i++) {
			const struct ref_update *u = &r->job->updates[i];
			if (!git_oid_is_zero(&u->new_oid) && !fnmatch(env->ref, u->ref, 0))
				last = u;
		}
		if (last)
			r->targets[r->nr++] = (struct target){ env->name, last->ref, &last->new_oid };
	}
}

/* Render every target that deploys commit from repo_path; -1 with the problems logged. */
static int render_targets(struct job_run *r, struct source *src, const git_oid *commit,
			  struct render_files *files, size_t *nfiles)
{
	struct diags *d = diags_new();
	int rc = 0;

	for (size_t i = 0; i < r->nr; i++) {
		struct render_opts o = { r->cfg, r->job->repo, r->targets[i].env, NULL };
		struct render_files rf = RENDER_FILES_INIT;

		if (!git_oid_equal(r->targets[i].commit, commit))
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
		if (git_oid_equal(r->targets[i].commit, commit))
			strbuf_addf(out, "%s%s", out->len ? ", " : "", r->targets[i].env);
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
	env_names(&envs, r, commit);
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
	job_log(r, "rendering %s@%.7s for %s", r->job->repo, hex, envs.buf);
	if (render_targets(r, src, commit, files, &nfiles) < 0) {
		job_log(r, "error: rendering failed; the deploy repo is unchanged");
		goto cleanup;
	}
	metrics_add(M_JOB_RENDER_MS, (unsigned long)(now_ms() - start));
	metrics_inc(M_JOB_RENDERS);
	{
		struct deploy_info info = { .source_repo = r->job->repo, .source_commit = hex,
					    .pushed_by = r->job->pusher,
					    .namespace_pattern = config_namespace_pattern(r->cfg) };
		struct deploy_result res;

		memset(&res, 0, sizeof(res));
		rc = deploy_write(&res, deploy_path, files[0].app, files, nfiles, &info, &err);
		git_oid_cpy(deployed, &res.commit);
	}
	if (rc < 0) {
		job_log(r, "error: cannot commit to the deploy repo: %s", err.buf);
		goto cleanup;
	}
	*changed = rc != DEPLOY_UNCHANGED;
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

static void record_env(json_t *envs, const struct job_run *r, const struct target *t,
		       const git_oid *deployed, const char *status)
{
	char commit[GIT_OID_HEXSZ + 1], deploy[GIT_OID_HEXSZ + 1], now[32];
	time_t tnow = time(NULL);
	struct tm tm;

	gmtime_r(&tnow, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	git_oid_tostr(commit, sizeof(commit), t->commit);
	git_oid_tostr(deploy, sizeof(deploy), deployed);
	json_object_set_new(envs, t->env, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "commit", commit,
		"ref", t->ref, "deploy_commit", deploy, "job", (json_int_t)r->job->id, "time", now,
		"status", status));
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
	if (state_save(r->data_dir, r->job->repo, state) < 0)
		job_log(r, "warning: cannot record the deploy state: %s", strerror(errno));
	json_decref(state);
}

/* Deploy each distinct source commit of the targets, in order. 0 when all succeeded. */
static int deploy_targets(struct job_run *r)
{
	const git_oid **deployed = xcalloc(r->nr, sizeof(*deployed));
	const char **status = xcalloc(r->nr, sizeof(*status));
	git_oid *oids = xcalloc(r->nr, sizeof(*oids));
	int failed = 0;

	for (size_t i = 0; i < r->nr; i++) {
		int changed = 0, rc;

		if (status[i])
			continue; /* done with an earlier target of the same commit */
		rc = deploy_one_commit(r, r->targets[i].commit, &oids[i], &changed);
		failed |= rc < 0;
		for (size_t k = i; k < r->nr; k++) {
			if (!git_oid_equal(r->targets[k].commit, r->targets[i].commit))
				continue;
			status[k] = rc < 0 ? "failed" : "ok";
			deployed[k] = &oids[i];
		}
	}
	save_state(r, deployed, status);
	free(deployed);
	free(status);
	free(oids);
	return failed ? -1 : 0;
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
	struct job_run r = { data_dir, cfg, j, open_log(data_dir, j), NULL, 0, 0 };
	const char *message;
	int rc = 0;

	git_libgit2_init();
	plan_targets(&r);
	if (!r.nr) {
		for (size_t i = 0; i < j->nr; i++)
			job_log(&r, "%s deploys to no environment", j->updates[i].ref);
		save_state(&r, NULL, NULL);
		message = "nothing to deploy";
	} else {
		rc = deploy_targets(&r);
		message = rc < 0 ? "failed; see the log" : "deployed";
	}
	/* after the render, so the deploy repo's mirror carries this push's commit */
	request_mirror(&r, j->repo);
	if (r.deploy_changed)
		request_mirror(&r, DEPLOY_REPO);
	queue_finish(data_dir, j, rc < 0 ? "failed" : "ok", message);
	if (r.log)
		fclose(r.log);
	free(r.targets);
	git_libgit2_shutdown();
	return rc;
}
