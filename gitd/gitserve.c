#include "gitserve.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "config.h"
#include "dispatch.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "mirror.h"
#include "reconcile.h"
#include "reponame.h"
#include "repos.h"
#include "spawn.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

/* git configuration every git we run gets, on top of no system or global config. */
static const char *const git_settings[][2] = {
	{ "receive.fsckObjects", "true" },
	/* keep every push as a pack: clones then reuse its compressed data instead of deflating loose objects */
	{ "receive.unpackLimit", "1" },
	{ "receive.advertisePushOptions", "true" },
	{ "uploadpack.allowFilter", "true" },
	{ "core.logAllRefUpdates", "true" }, /* reflogs: who moved what, for recovery */
};

void gitserve_base_env(struct strvec *env, const char *data_dir)
{
	strvec_push(env, "PATH=/usr/local/bin:/usr/bin:/bin");
	strvec_pushf(env, "HOME=%s", data_dir);
	strvec_push(env, "GIT_CONFIG_NOSYSTEM=1");
	strvec_push(env, "GIT_CONFIG_GLOBAL=/dev/null");
}

void gitserve_env(struct child *c, const struct dispatch_ctx *ctx, const char *name)
{
	size_t n = ARRAY_SIZE(git_settings);

	gitserve_base_env(&c->env, ctx->data_dir);
	strvec_pushf(&c->env, "GIT_CONFIG_COUNT=%zu", n + 3);
	strvec_push(&c->env, "GIT_CONFIG_KEY_0=core.hooksPath");
	strvec_pushf(&c->env, "GIT_CONFIG_VALUE_0=%s/hooks", ctx->data_dir);
	/* git refuses a larger pack as it arrives, before writing it out */
	strvec_push(&c->env, "GIT_CONFIG_KEY_1=receive.maxInputSize");
	strvec_pushf(&c->env, "GIT_CONFIG_VALUE_1=%llu",
		     (unsigned long long)config_limits(ctx->cfg)->max_push_mb << 20);
	/* the job after the push runs gc, one at a time (housekeep.h); no job follows an admin push */
	strvec_push(&c->env, "GIT_CONFIG_KEY_2=receive.autogc");
	strvec_pushf(&c->env, "GIT_CONFIG_VALUE_2=%s", strcmp(name, ADMIN_REPO) ? "false" : "true");
	for (size_t i = 0; i < n; i++) {
		strvec_pushf(&c->env, "GIT_CONFIG_KEY_%zu=%s", i + 3, git_settings[i][0]);
		strvec_pushf(&c->env, "GIT_CONFIG_VALUE_%zu=%s", i + 3, git_settings[i][1]);
	}
	if (ctx->git_protocol)
		strvec_pushf(&c->env, "GIT_PROTOCOL=%s", ctx->git_protocol);
	strvec_pushf(&c->env, "GITD_USER=%s", ctx->who->user);
	strvec_pushf(&c->env, "GITD_KEY_FINGERPRINT=%s", ctx->who->fingerprint);
	strvec_pushf(&c->env, "GITD_REPO=%s", name);
	strvec_pushf(&c->env, "GITD_DATA=%s", ctx->data_dir);
	strvec_pushf(&c->env, "GITD_BIN=%s", ctx->bin_dir);
}

static int __attribute__((format(printf, 2, 3))) refuse(const struct dispatch_ctx *ctx, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&msg, "ERROR: ");
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_addch(&msg, '\n');
	ssh_channel_write_stderr(ctx->ch, msg.buf, (uint32_t)msg.len);
	strbuf_release(&msg);
	return 128;
}

/* Check that ctx's user may run service on name; print why not and return nonzero otherwise. */
static int authorize(const struct dispatch_ctx *ctx, enum git_service service, const char *name)
{
	enum access_perm perm = identity_perm(ctx->admin, ctx->who->user, name);
	int writing = service == GIT_SERVICE_RECEIVE_PACK;

	if (perm < ACCESS_READ || !repos_exists(ctx->data_dir, name))
		return refuse(ctx, "repository '%s' not found, or you do not have access to it", name);
	if (writing && !strcmp(name, DEPLOY_REPO))
		return refuse(ctx, "'%s' is written only by gitd itself; push to your app's repository instead", name);
	if (writing && perm < ACCESS_WRITE)
		return refuse(ctx, "you have read-only access to '%s'; ask an admin for write access", name);
	return 0;
}

int gitserve_run(const struct dispatch_ctx *ctx, enum git_service service, const char *arg)
{
	struct child c = CHILD_INIT;
	struct strbuf err = STRBUF_INIT;
	struct bridge_limits limits;
	char *name = NULL;
	int status, push_fd = -1;

	if (reponame_normalize(&name, arg, &err) < 0) {
		metrics_inc(M_REFUSED);
		status = refuse(ctx, "invalid repository name: %s", err.buf);
		goto cleanup;
	}
	status = authorize(ctx, service, name);
	log_event(LOG_INFO, git_service_name(service), "user", ctx->who->user, "repo", name,
		  "result", status ? "refused" : "ok", NULL);
	if (status) {
		metrics_inc(M_REFUSED);
		goto cleanup;
	}
	/* git subcommand form, so no git-* program has to be on PATH */
	strvec_pushl(&c.argv, "git", git_service_name(service) + 4, NULL);
	if (service == GIT_SERVICE_UPLOAD_PACK)
		strvec_push(&c.argv, "--strict");
	strvec_push_owned(&c.argv, repos_path(ctx->data_dir, name));
	gitserve_env(&c, ctx, name);
	limits.idle_timeout = config_limits(ctx->cfg)->idle_timeout;
	limits.keepalive_interval = config_limits(ctx->cfg)->keepalive_interval;
	if (service == GIT_SERVICE_RECEIVE_PACK)
		push_fd = reconcile_push_begin(ctx->data_dir, name);
	status = bridge_run(ctx->ssh, ctx->ev, ctx->ch, &c, &limits);
	if (push_fd >= 0)
		close(push_fd); /* before reconciling below, which waits for no push to run */
	log_event(LOG_INFO, "git-exit", "user", ctx->who->user, "repo", name,
		  "status", status < 0 ? "disconnected" : status ? "failed" : "ok", NULL);
	if (service == GIT_SERVICE_RECEIVE_PACK)
		metrics_inc(status ? M_PUSH_FAILED : M_PUSH_OK);
	else
		metrics_inc(status ? M_FETCH_FAILED : M_FETCH_OK);
	if (status == 0 && service == GIT_SERVICE_RECEIVE_PACK && !strcmp(name, ADMIN_REPO)) {
		identity_sync_repos(ctx->data_dir);
		mirror_request(NULL, ctx->data_dir, ctx->cfg, ADMIN_REPO); /* when a mirror names it */
	} else if (status == 0 && service == GIT_SERVICE_RECEIVE_PACK) {
		reconcile_repo(ctx->data_dir, ctx->cfg, name); /* in case post-receive's job was lost */
	}
cleanup:
	free(name);
	strbuf_release(&err);
	return status;
}
