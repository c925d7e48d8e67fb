/* Commands about deploys: status, logs, promote, build reports, mirrors. */
#include "admincmd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "adminrepo.h"
#include "build.h"
#include "config.h"
#include "identity.h"
#include "log.h"
#include "mirror.h"
#include "queue.h"
#include "reponame.h"
#include "repos.h"
#include "state.h"
#include "util.h"
#include "banned.h"

/* ---- status, logs ---- */

static const char *short_sha(const json_t *obj, const char *key)
{
	static char buf[8];
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(buf, sizeof(buf), "%.7s", s ? s : "-");
	return buf;
}

int cmd_status(struct cmd *c)
{
	json_t *state = state_load(c->ctx->data_dir, c->args[0]);
	json_t *envs = json_object_get(state, "envs");

	if (c->json) {
		cmd_print_json(c, json_incref(envs));
	} else if (!json_object_size(envs)) {
		strbuf_addf(c->out, "%s has not been deployed yet\n", c->args[0]);
	} else {
		strbuf_addf(c->out, "%-12s %-8s %-8s %-8s %-6s %s\n", "ENVIRONMENT", "STATUS", "COMMIT",
			    "DEPLOY", "JOB", "TIME");
		for (size_t i = 0; i < config_env_count(c->ctx->cfg); i++) {
			const char *name = config_env(c->ctx->cfg, i)->name;
			const json_t *e = json_object_get(envs, name);
			char commit[8];

			if (!e)
				continue;
			snprintf(commit, sizeof(commit), "%s", short_sha(e, "commit"));
			strbuf_addf(c->out, "%-12s %-8s %-8s %-8s %-6" JSON_INTEGER_FORMAT " %s\n", name,
				    json_string_value(json_object_get(e, "status")), commit,
				    short_sha(e, "deploy_commit"), json_integer_value(json_object_get(e, "job")),
				    json_string_value(json_object_get(e, "time")));
		}
	}
	json_decref(state);
	return 0;
}

static int print_log(struct cmd *c, const char *repo, const char *id_arg)
{
	struct strbuf log;
	unsigned long id;
	char *path;
	int rc = 0;

	if (parse_uint(id_arg, 1UL << 40, &id) < 0)
		return cmd_fail(c, "'%s' is not a job number; see `logs %s`", id_arg, repo);
	path = job_log_path(c->ctx->data_dir, repo, id);
	strbuf_init_capped(&log, 4 << 20);
	if (strbuf_read_file(&log, path) < 0 && !log.len)
		rc = cmd_fail(c, "%s has no job %lu", repo, id);
	else if (c->json)
		cmd_print_json(c, json_pack("{s:I, s:s%}", "job", (json_int_t)id, "log", log.buf, log.len));
	else
		strbuf_addbuf(c->out, &log);
	strbuf_release(&log);
	free(path);
	return rc;
}

int cmd_logs(struct cmd *c)
{
	json_t *jobs;
	size_t i;
	const json_t *job;

	if (c->nargs == 2)
		return print_log(c, c->args[0], c->args[1]);
	jobs = queue_list(c->ctx->data_dir, c->args[0], 20);
	if (c->json) {
		cmd_print_json(c, jobs);
		return 0;
	}
	json_array_foreach(jobs, i, job) {
		strbuf_addf(c->out, "%-6" JSON_INTEGER_FORMAT " %-8s %s %-12s %s\n",
			    json_integer_value(json_object_get(job, "id")),
			    json_string_value(json_object_get(job, "status")),
			    json_string_value(json_object_get(job, "created")),
			    json_string_value(json_object_get(job, "pusher")),
			    json_string_value(json_object_get(job, "message")) ?
				    json_string_value(json_object_get(job, "message")) : "");
	}
	json_decref(jobs);
	return 0;
}

/* ---- builds: promote, build-done, build-failed ---- */

/* How long `promote` waits for its job before pointing at `logs`. */
#define PROMOTE_WAIT_SECONDS 120

/* Promoting to env takes what a push to env's refs takes: write, and the refs: rules. */
static int may_deploy_to(struct cmd *c, const char *repo, const struct config_env *env)
{
	struct access_ref_rule rule;

	if (identity_perm(c->ctx->admin, c->ctx->who->user, repo) < ACCESS_WRITE)
		return !cmd_fail(c, "you may not deploy %s to %s: that needs write access to %s", repo, env->name, repo);
	if (!access_ref_check(&rule, cmd_model(c), repo, c->ctx->who->user, env->ref)) {
		strbuf_addstr(c->err, "error: ");
		access_ref_refusal(c->err, &rule, env->ref);
		strbuf_addf(c->err, "\nerror: promoting to %s takes the right to push %s\n", env->name, env->ref);
		return 0;
	}
	return 1;
}

/* What env runs, as a promotion of it; -1 (with the error) when it runs nothing. */
static int promotion_of(struct cmd *c, struct job_promote *out, const json_t *e, const char *repo)
{
	const char *commit = json_string_value(json_object_get(e, "commit"));
	const char *deploy = json_string_value(json_object_get(e, "deploy_commit"));
	const char *ref = json_string_value(json_object_get(e, "ref"));

	if (!commit || !deploy || strspn(deploy, "0") == strlen(deploy) ||
	    git_oid_fromstr(&out->commit, commit) < 0)
		return -cmd_fail(c, "%s runs nothing in %s yet: deploy it there first (see `status %s`)", repo,
			     out->from, repo);
	out->ref = xstrdup(ref ? ref : "");
	out->image = json_is_string(json_object_get(e, "image")) ?
			     xstrdup(json_string_value(json_object_get(e, "image"))) : NULL;
	return 0;
}

/* Wait for job id, then print its log; the exit status. */
static int follow_job(struct cmd *c, const char *repo, unsigned long id)
{
	char *path = job_log_path(c->ctx->data_dir, repo, id);
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	time_t deadline = time(NULL) + PROMOTE_WAIT_SECONDS;
	const char *status;
	json_t *result = NULL;
	struct strbuf log;
	int failed;

	while (queue_result(&result, c->ctx->data_dir, id) == 1 && time(NULL) < deadline)
		nanosleep(&tick, NULL);
	strbuf_init_capped(&log, 1 << 20);
	strbuf_read_file(&log, path);
	status = json_string_value(json_object_get(result, "status")); /* borrowed from result */
	failed = status && !strcmp(status, "failed");
	if (c->json)
		cmd_print_json(c, json_pack("{s:I, s:s, s:s%}", "job", (json_int_t)id, "status",
					status ? status : "running", "log", log.buf, log.len));
	else
		strbuf_addbuf(c->out, &log);
	if (!status && !c->json)
		strbuf_addf(c->out, "gitd: job %lu is still running; follow it with `logs %s %lu`\n", id, repo, id);
	json_decref(result);
	strbuf_release(&log);
	free(path);
	return failed;
}

int cmd_promote(struct cmd *c)
{
	const char *repo = c->args[0];
	const struct config_env *from = config_env_find(c->ctx->cfg, c->args[1]);
	const struct config_env *to = config_env_find(c->ctx->cfg, c->args[2]);
	struct job_promote p;
	json_t *state = NULL;
	unsigned long id;
	int rc = 1;

	memset(&p, 0, sizeof(p));
	if (!from || !to) {
		rc = cmd_fail(c, "no environment `%s` in gitd.yaml", from ? c->args[2] : c->args[1]);
		goto cleanup;
	}
	p.from = xstrdup(from->name);
	p.to = xstrdup(to->name);
	if (from == to) {
		rc = cmd_fail(c, "FROM and TO are both %s", from->name);
		goto cleanup;
	}
	if (!may_deploy_to(c, repo, to))
		goto cleanup;
	state = state_load(c->ctx->data_dir, repo);
	if (promotion_of(c, &p, json_object_get(json_object_get(state, "envs"), from->name), repo) < 0)
		goto cleanup;
	if (queue_enqueue_promote(&id, c->ctx->data_dir, repo, c->ctx->who->user, &p) < 0) {
		rc = cmd_fail(c, "cannot queue the promotion: %s", strerror(errno));
		goto cleanup;
	}
	log_event(LOG_INFO, "promote-queued", "repo", repo, "from", from->name, "to", to->name,
		  "by", c->ctx->who->user, NULL);
	rc = follow_job(c, repo, id);
cleanup:
	free(p.from);
	free(p.to);
	free(p.ref);
	free(p.image);
	json_decref(state);
	return rc;
}

static int parse_job(struct cmd *c, unsigned long *out)
{
	if (parse_uint(c->args[0], 1UL << 40, out) < 0 || !*out)
		return cmd_fail(c, "'%s' is not a job number", c->args[0]);
	return 0;
}

static int report_build(struct cmd *c, const char *digest, const char *reason)
{
	struct strbuf err = STRBUF_INIT;
	unsigned long id;
	char n[32];
	int rc;

	if (parse_job(c, &id))
		return 1;
	rc = build_report(c->ctx->data_dir, id, digest, reason, &err);
	if (rc < 0) {
		cmd_fail(c, "%s", err.buf);
		strbuf_release(&err);
		return 1;
	}
	snprintf(n, sizeof(n), "%lu", id);
	log_event(LOG_INFO, "build-reported", "job", n, "by", c->ctx->who->user, "result",
		  digest ? "done" : "failed", NULL);
	if (c->json)
		cmd_print_json(c, json_pack("{s:I, s:s}", "job", (json_int_t)id, "result", digest ? "done" : "failed"));
	else
		strbuf_addf(c->out, "job %lu: build %s recorded\n", id, digest ? "result" : "failure");
	strbuf_release(&err);
	return 0;
}

int cmd_build_done(struct cmd *c)
{
	return report_build(c, c->args[1], NULL);
}

int cmd_build_failed(struct cmd *c)
{
	struct strbuf reason = STRBUF_INIT;
	int rc;

	for (size_t i = 1; i < c->nargs; i++)
		strbuf_addf(&reason, "%s%s", i > 1 ? " " : "", c->args[i]);
	rc = report_build(c, NULL, reason.buf);
	strbuf_release(&reason);
	return rc;
}

/* ---- mirror ---- */

static const char *str_or_dash(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

static void print_mirror(struct cmd *c, const json_t *m)
{
	const json_t *refs = json_object_get(m, "pending_refs"), *r;
	json_int_t attempts = json_integer_value(json_object_get(m, "attempts"));
	size_t i;

	strbuf_addf(c->out, "%s -> %s\n", str_or_dash(m, "repo"), str_or_dash(m, "url"));
	strbuf_addf(c->out, "  state         %s", str_or_dash(m, "state"));
	if (attempts)
		strbuf_addf(c->out, " (%" JSON_INTEGER_FORMAT " failed attempt%s)", attempts, attempts == 1 ? "" : "s");
	strbuf_addf(c->out, "\n  last success  %s\n", str_or_dash(m, "last_success"));
	if (json_is_string(json_object_get(m, "last_error")))
		strbuf_addf(c->out, "  last error    %s: %s\n", str_or_dash(m, "last_error_time"),
			    str_or_dash(m, "last_error"));
	else
		strbuf_addstr(c->out, "  last error    -\n");
	strbuf_addstr(c->out, "  pending refs ");
	json_array_foreach(refs, i, r)
		strbuf_addf(c->out, " %s", json_string_value(r));
	if (!json_array_size(refs))
		strbuf_addstr(c->out, " -");
	strbuf_addf(c->out, "\n  next retry    %s\n", str_or_dash(m, "next_retry"));
}

int cmd_mirror_status(struct cmd *c)
{
	json_t *list = mirror_status(c->ctx->data_dir, c->ctx->cfg);
	size_t i;
	const json_t *m;

	if (c->json) {
		cmd_print_json(c, list);
		return 0;
	}
	if (!json_array_size(list))
		strbuf_addstr(c->out, config_mirror_count(c->ctx->cfg) ?
			      "no repository matches a mirror of gitd.yaml\n" :
			      "no mirrors configured (see `mirrors:` in gitd.yaml)\n");
	json_array_foreach(list, i, m)
		print_mirror(c, m);
	json_decref(list);
	return 0;
}

int cmd_mirror_retry(struct cmd *c)
{
	const char *repo = c->nargs ? c->args[0] : NULL;
	struct strbuf err = STRBUF_INIT;
	int n;

	if (repo && (reponame_check(repo, &err) < 0 || !repos_exists(c->ctx->data_dir, repo))) {
		strbuf_release(&err);
		return cmd_fail(c, "no repository '%s'", repo);
	}
	strbuf_release(&err);
	n = mirror_retry(c->ctx->data_dir, c->ctx->cfg, repo);
	if (n < 0)
		return cmd_fail(c, "cannot record the retry: %s", strerror(errno));
	if (!n)
		return cmd_fail(c, "%s%s", repo ? "no mirror of gitd.yaml matches " : "no mirrors configured",
			    repo ? repo : "");
	log_event(LOG_INFO, "mirror-retry", "repo", repo ? repo : "*", "by", c->ctx->who->user, NULL);
	if (c->json)
		cmd_print_json(c, json_pack("{s:I}", "retrying", (json_int_t)n));
	else
		strbuf_addf(c->out, "retrying %d mirror%s\n", n, n == 1 ? "" : "s");
	return 0;
}

