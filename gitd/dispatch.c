#include "dispatch.h"

#include <string.h>

#include "admincmd.h"
#include "command.h"
#include "gitserve.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "banned.h"

/* Largest stdin an admin command takes (public keys). */
#define ADMIN_STDIN_MAX (64 * 1024)

/* Send sb to the client with control and ANSI characters removed (newlines kept). */
static int write_all(ssh_channel ch, const struct strbuf *sb, int is_stderr)
{
	struct strbuf clean = STRBUF_INIT;
	int rc = 0;

	strbuf_add_sanitized(&clean, sb->buf, sb->len, 1);
	if (clean.len && is_stderr)
		rc = ssh_channel_write_stderr(ch, clean.buf, (uint32_t)clean.len);
	else if (clean.len)
		rc = ssh_channel_write(ch, clean.buf, (uint32_t)clean.len);
	strbuf_release(&clean);
	return rc == SSH_ERROR ? -1 : 0;
}

/* Read the client's stdin up to EOF; -1 if it is larger than the cap or the connection fails. */
static int read_stdin(ssh_channel ch, struct strbuf *in)
{
	char buf[4096];

	for (;;) {
		int n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, 30000);
		if (n == SSH_ERROR)
			return -1;
		if (n == 0 && (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)))
			return 0;
		if (n == 0)
			return -1; /* timed out waiting for input */
		if (strbuf_add(in, buf, (size_t)n) < 0)
			return -1;
	}
}

static int run_admin(const struct dispatch_ctx *ctx, const struct strvec *words)
{
	struct admincmd_ctx actx = { ctx->data_dir, ctx->cfg, ctx->admin, ctx->who };
	struct strbuf in, out = STRBUF_INIT, err = STRBUF_INIT;
	int status;

	strbuf_init_capped(&in, ADMIN_STDIN_MAX);
	if (admincmd_wants_stdin(words) && read_stdin(ctx->ch, &in) < 0) {
		strbuf_addf(&err, "error: could not read standard input (at most %d bytes)\n",
			    ADMIN_STDIN_MAX);
		status = 1;
	} else {
		status = admincmd_run(&actx, words, &in, &out, &err);
	}
	metrics_inc(M_COMMANDS);
	log_event(LOG_INFO, "command", "user", ctx->who->user, "command", words->v[0],
		  "status", status ? "failed" : "ok", NULL);
	if (write_all(ctx->ch, &out, 0) < 0 || write_all(ctx->ch, &err, 1) < 0)
		status = -1;
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&err);
	return status;
}

int dispatch_command(const struct dispatch_ctx *ctx, const char *line)
{
	struct strvec words = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	enum git_service service;
	const char *arg;
	int status;

	if (command_split(&words, line, &err) < 0 || !words.nr) {
		if (!err.len)
			strbuf_addstr(&err, "empty command");
		strbuf_addstr(&err, "; try `help`\n");
		status = write_all(ctx->ch, &err, 1) < 0 ? -1 : 1;
		goto cleanup;
	}
	service = command_git_service(&words, &arg);
	if (service != GIT_SERVICE_NONE)
		status = gitserve_run(ctx, service, arg);
	else
		status = run_admin(ctx, &words);
cleanup:
	strvec_clear(&words);
	strbuf_release(&err);
	return status;
}
