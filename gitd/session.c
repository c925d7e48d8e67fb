#include "session.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "command.h"
#include "config.h"
#include "dispatch.h"
#include "identity.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"
#include "strvec.h"
#include "userslot.h"
#include "util.h"
#include "banned.h"

struct session {
	const struct session_opts *opts;
	const struct config_limits *limits;
	ssh_session ssh;
	ssh_event ev;
	ssh_channel ch;
	struct admin_state *admin;    /* users, keys, access.yaml: read once per connection */
	struct identity who;          /* set only after a valid signature */
	unsigned auth_tries;
	char *exec;                   /* the exec request's command, once received */
	int shell;                    /* a shell request was received */
	char *git_protocol;           /* GIT_PROTOCOL sent by the client, validated */
	struct ssh_server_callbacks_struct server_cb;
	struct ssh_channel_callbacks_struct channel_cb;
};

/*
 * Progress reports to the parent over the startup pipe: STARTUP_KEX once the
 * key exchange is done (a real client, not a half-open socket: the parent
 * no longer evicts it early), then EOF once authenticated.
 */
#define STARTUP_KEX 'k'

static void notify_parent_kex(struct session *s)
{
	char kex = STARTUP_KEX;

	if (s->opts->startup_fd >= 0 && write(s->opts->startup_fd, &kex, 1) < 0) {
		/* the parent is gone; it no longer counts us */
	}
}

static void notify_parent_authenticated(struct session *s)
{
	if (s->opts->startup_fd >= 0)
		close(s->opts->startup_fd);
	alarm(0); /* the login grace timer is over */
}

/*
 * Called for the probe of a key (state NONE: "would you accept this key?")
 * and for a signed request (state VALID: libssh checked the signature).
 * Identity is bound only in the second case.
 */
static int on_auth_pubkey(ssh_session ssh, const char *user, struct ssh_key_struct *key,
			  char state, void *payload)
{
	struct session *s = payload;
	const struct pubkey *known;

	(void)ssh;
	(void)user; /* like GitHub: the SSH user name is ignored; the key says who it is */
	if (s->who.user || ++s->auth_tries > s->limits->max_auth_tries)
		return SSH_AUTH_DENIED;
	known = s->admin ? admin_state_find_key(s->admin, key) : NULL;
	if (!known) {
		log_event(LOG_INFO, "auth", "peer", s->opts->peer, "result", "unknown-key", NULL);
		metrics_inc(M_AUTH_FAILED);
		return SSH_AUTH_DENIED;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;
	if (state != SSH_PUBLICKEY_STATE_VALID)
		return SSH_AUTH_DENIED;
	s->who.user = xstrdup(known->owner);
	s->who.fingerprint = xstrdup(known->fingerprint);
	log_event(LOG_INFO, "auth", "peer", s->opts->peer, "user", known->owner, "key",
		  known->fingerprint, "result", "ok", NULL);
	metrics_inc(M_AUTH_OK);
	notify_parent_authenticated(s);
	return SSH_AUTH_SUCCESS;
}

static int on_pty_request(ssh_session ssh, ssh_channel ch, const char *term, int w, int h,
			  int pw, int ph, void *payload)
{
	(void)ssh, (void)ch, (void)term, (void)w, (void)h, (void)pw, (void)ph, (void)payload;
	return -1;
}

static int on_shell_request(ssh_session ssh, ssh_channel ch, void *payload)
{
	struct session *s = payload;

	(void)ssh, (void)ch;
	if (s->exec || s->shell)
		return -1;
	s->shell = 1;
	return 0;
}

static int on_exec_request(ssh_session ssh, ssh_channel ch, const char *command, void *payload)
{
	struct session *s = payload;

	(void)ssh, (void)ch;
	if (s->exec || s->shell)
		return -1;
	s->exec = xstrdup(command);
	return 0;
}

/* GIT_PROTOCOL is the only variable a client may set: "version=2" and the like. */
static int valid_git_protocol(const char *value)
{
	size_t n = strlen(value);

	return n > 0 && n <= 64 && strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789=:.-") == n;
}

static int on_env_request(ssh_session ssh, ssh_channel ch, const char *name, const char *value,
			  void *payload)
{
	struct session *s = payload;

	(void)ssh, (void)ch;
	if (strcmp(name, "GIT_PROTOCOL") || !valid_git_protocol(value) || s->exec) {
		log_event(LOG_INFO, "env-refused", "user", s->who.user, "name", name, NULL);
		return -1;
	}
	free(s->git_protocol);
	s->git_protocol = xstrdup(value);
	return 0;
}

static int on_subsystem_request(ssh_session ssh, ssh_channel ch, const char *subsystem, void *payload)
{
	(void)ssh, (void)ch, (void)subsystem, (void)payload;
	return -1;
}

static ssh_channel on_channel_open(ssh_session ssh, void *payload)
{
	struct session *s = payload;

	if (!s->who.user || s->ch)
		return NULL; /* one session channel per connection, after authentication */
	s->ch = ssh_channel_new(ssh);
	ssh_callbacks_init(&s->channel_cb);
	s->channel_cb.userdata = s;
	s->channel_cb.channel_pty_request_function = on_pty_request;
	s->channel_cb.channel_shell_request_function = on_shell_request;
	s->channel_cb.channel_exec_request_function = on_exec_request;
	s->channel_cb.channel_env_request_function = on_env_request;
	s->channel_cb.channel_subsystem_request_function = on_subsystem_request;
	ssh_set_channel_callbacks(s->ch, &s->channel_cb);
	return s->ch;
}

static void setup_callbacks(struct session *s)
{
	ssh_callbacks_init(&s->server_cb);
	s->server_cb.userdata = s;
	s->server_cb.auth_pubkey_function = on_auth_pubkey;
	s->server_cb.channel_open_request_session_function = on_channel_open;
	ssh_set_server_callbacks(s->ssh, &s->server_cb);
	ssh_set_auth_methods(s->ssh, SSH_AUTH_METHOD_PUBLICKEY);
}

/* Process packets until the client asked for a command or a shell. */
static int wait_for_request(struct session *s)
{
	int64_t deadline = now_ms() + (int64_t)s->limits->idle_timeout * 1000;

	while (!s->exec && !s->shell) {
		if (ssh_event_dopoll(s->ev, 1000) == SSH_ERROR || !ssh_is_connected(s->ssh))
			return -1;
		if (s->ch && ssh_channel_is_closed(s->ch))
			return -1;
		if (s->limits->idle_timeout && now_ms() > deadline)
			return -1;
	}
	return 0;
}

/*
 * Send the exit status and close the channel, then let the client hang up
 * first, as sshd does: until it does, libssh may still be flushing the
 * tail of the output, and closing early would cut it off.
 */
#define HANGUP_WAIT_MS 60000
static void finish_channel(struct session *s, int status)
{
	int64_t deadline = now_ms() + HANGUP_WAIT_MS;

	ssh_channel_request_send_exit_status(s->ch, status);
	ssh_channel_send_eof(s->ch);
	ssh_channel_close(s->ch);
	while (ssh_is_connected(s->ssh) && now_ms() < deadline)
		if (ssh_event_dopoll(s->ev, 1000) == SSH_ERROR)
			break;
}

static void session_release(struct session *s)
{
	if (s->ev)
		ssh_event_free(s->ev);
	if (s->ch)
		ssh_channel_free(s->ch);
	admin_state_free(s->admin);
	identity_release(&s->who);
	free(s->exec);
	free(s->git_protocol);
	if (s->ssh) {
		ssh_disconnect(s->ssh);
		ssh_free(s->ssh);
	}
}

/* Hold one of the user's connection slots until the process ends; -1 (told and logged) when none is free. */
static int take_user_slot(struct session *s)
{
	unsigned max = s->limits->max_connections_per_user;
	struct strbuf msg = STRBUF_INIT;

	if (userslot_take(s->opts->data_dir, s->who.user, max) >= 0)
		return 0; /* the descriptor stays open until exit: it holds the slot */
	if (errno == EBUSY) {
		strbuf_addf(&msg, "ERROR: %s already has %u connections open, the most "
			    "limits.max_connections_per_user allows; wait for some to end\n", s->who.user, max);
		log_event(LOG_WARN, "connection-refused", "peer", s->opts->peer, "user", s->who.user, "reason",
			  "max_connections_per_user", NULL);
	} else {
		strbuf_addstr(&msg, "ERROR: the server cannot count connections; an operator must check its log\n");
		log_event(LOG_ERROR, "slot-failed", "user", s->who.user, "error", strerror(errno), NULL);
	}
	metrics_inc(M_CONNECTIONS_REFUSED);
	ssh_channel_write_stderr(s->ch, msg.buf, (uint32_t)msg.len);
	strbuf_release(&msg);
	return -1;
}

static int run_request(struct session *s)
{
	struct dispatch_ctx ctx = {
		.ssh = s->ssh,
		.ev = s->ev,
		.ch = s->ch,
		.data_dir = s->opts->data_dir,
		.bin_dir = s->opts->bin_dir,
		.cfg = s->opts->cfg,
		.admin = s->admin,
		.who = &s->who,
		.git_protocol = s->git_protocol,
	};

	if (take_user_slot(s) < 0)
		return 1;
	if (s->shell) {
		struct strbuf msg = STRBUF_INIT;
		strbuf_addf(&msg, "Hi %s! gitd does not provide shell access.\n", s->who.user);
		ssh_channel_write_stderr(s->ch, msg.buf, (uint32_t)msg.len);
		strbuf_release(&msg);
		log_event(LOG_INFO, "shell-refused", "user", s->who.user, NULL);
		return 1;
	}
	return dispatch_command(&ctx, s->exec);
}

void session_serve(ssh_bind bind, int fd, const struct session_opts *opts)
{
	struct session s = { 0 };
	int status;

	s.opts = opts;
	s.limits = config_limits(opts->cfg);
	signal(SIGALRM, SIG_DFL);
	alarm(s.limits->login_grace_time); /* unauthenticated connections die on SIGALRM */
	s.admin = identity_load_admin(opts->data_dir);
	s.ssh = ssh_new();
	if (!s.ssh || ssh_bind_accept_fd(bind, s.ssh, fd) != SSH_OK)
		goto cleanup;
	setup_callbacks(&s);
	if (ssh_handle_key_exchange(s.ssh) != SSH_OK) {
		log_event(LOG_INFO, "handshake-failed", "peer", opts->peer, "error",
			  ssh_get_error(s.ssh), NULL);
		goto cleanup;
	}
	notify_parent_kex(&s);
	s.ev = ssh_event_new();
	if (!s.ev || ssh_event_add_session(s.ev, s.ssh) != SSH_OK)
		goto cleanup;
	if (wait_for_request(&s) < 0)
		goto cleanup;
	status = run_request(&s);
	if (status >= 0)
		finish_channel(&s, status);
cleanup:
	session_release(&s);
	exit(0); /* not _exit: leak checkers run at exit in sanitizer builds */
}
