/* One mirror push with libgit2: credentials, host key checks, mirror refspecs. */
#include "mirror.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "config.h"
#include "util.h"
#include "banned.h"

/* Caps on the files a push reads: a known_hosts file and a token. */
#define KNOWN_HOSTS_MAX (1 << 20)
#define TOKEN_MAX 4096

struct push_ctx {
	const struct mirror_target *t;
	unsigned cred_calls;
	enum mirror_failure failure; /* set by a callback that refused */
	struct strbuf reason;
	struct strbuf rejected;      /* refs the remote refused, with its reasons */
	char *token;                 /* to cut out of any message */
};

static int __attribute__((format(printf, 3, 4))) refuse(struct push_ctx *ctx, enum mirror_failure f,
							 const char *fmt, ...)
{
	va_list ap;

	ctx->failure = f;
	strbuf_reset(&ctx->reason);
	va_start(ap, fmt);
	strbuf_vaddf(&ctx->reason, fmt, ap);
	va_end(ap);
	return GIT_EUSER;
}

static int ssh_key_credential(git_credential **out, struct push_ctx *ctx, const char *user)
{
	const char *key = ctx->t->cfg->key;

	if (!key)
		return refuse(ctx, MIRROR_AUTH, "the server asks for an SSH key: set `key` for this mirror");
	if (access(key, R_OK) < 0)
		return refuse(ctx, MIRROR_AUTH, "cannot read the key file %s: %s", key, strerror(errno));
	/* libssh2 derives the public key from the private one */
	return git_credential_ssh_key_new(out, user ? user : "git", NULL, key, NULL);
}

static int token_credential(git_credential **out, struct push_ctx *ctx, const char *user)
{
	const char *file = ctx->t->cfg->token_file;
	struct strbuf token;
	int rc;

	if (!file)
		return refuse(ctx, MIRROR_AUTH, "the server asks for a password: set `token_file` for this mirror");
	strbuf_init_capped(&token, TOKEN_MAX);
	if (strbuf_read_file(&token, file) < 0) {
		rc = refuse(ctx, MIRROR_AUTH, "cannot read the token file %s: %s", file, strerror(errno));
		strbuf_release(&token);
		return rc;
	}
	strbuf_rtrim(&token);
	if (!token.len || strchr(token.buf, '\n')) {
		strbuf_release(&token);
		return refuse(ctx, MIRROR_AUTH, "the token file %s must hold one line, the token", file);
	}
	free(ctx->token);
	ctx->token = strbuf_detach(&token, NULL);
	/* GitHub takes any user name with a token; x-access-token is what its apps use */
	return git_credential_userpass_plaintext_new(out, user ? user : "x-access-token", ctx->token);
}

static int credentials(git_credential **out, const char *url, const char *user, unsigned int allowed,
		       void *payload)
{
	struct push_ctx *ctx = payload;

	(void)url;
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, "git");
	/* asked again: the server refused what we gave; asking once more would not help */
	if (ctx->cred_calls++)
		return refuse(ctx, MIRROR_AUTH, "authentication failed: the server refused the %s",
			      allowed & GIT_CREDENTIAL_SSH_KEY ? "key" : "token");
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return ssh_key_credential(out, ctx, user);
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
		return token_credential(out, ctx, user);
	return refuse(ctx, MIRROR_AUTH, "the server asks for a kind of credential gitd does not have");
}

static int check_ssh_host_key(struct push_ctx *ctx, const git_cert_hostkey *cert)
{
	const char *file = ctx->t->cfg->known_hosts;
	struct strbuf text, err = STRBUF_INIT;
	char *host = NULL;
	unsigned port = 22;
	int rc;

	if (!(cert->type & GIT_CERT_SSH_SHA256))
		return refuse(ctx, MIRROR_HOSTKEY, "the SSH library gave no SHA-256 of the host key");
	if (!file)
		return refuse(ctx, MIRROR_HOSTKEY, "set `known_hosts` for this mirror: host keys are always verified");
	if (mirror_url_ssh_host(&host, &port, ctx->t->url) < 0)
		return refuse(ctx, MIRROR_HOSTKEY, "cannot tell the host of the URL");
	strbuf_init_capped(&text, KNOWN_HOSTS_MAX);
	if (strbuf_read_file(&text, file) < 0)
		rc = refuse(ctx, MIRROR_HOSTKEY, "cannot read %s: %s", file, strerror(errno));
	else if (mirror_known_hosts_check(text.buf, host, port, cert->hash_sha256, &err) < 0)
		rc = refuse(ctx, MIRROR_HOSTKEY, "%s (in %s)", err.buf, file);
	else
		rc = 0;
	strbuf_release(&text);
	strbuf_release(&err);
	free(host);
	return rc;
}

static int certificate_check(git_cert *cert, int valid, const char *host, void *payload)
{
	struct push_ctx *ctx = payload;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
		return check_ssh_host_key(ctx, (const git_cert_hostkey *)cert);
	if (!valid)
		return refuse(ctx, MIRROR_HOSTKEY, "the TLS certificate of %s is not trusted", host);
	return 0;
}

static int update_reference(const char *refname, const char *status, void *payload)
{
	struct push_ctx *ctx = payload;

	if (status)
		strbuf_addf(&ctx->rejected, "%s%s: %s", ctx->rejected.len ? "; " : "", refname, status);
	return 0;
}

/* ---- known_hosts ---- */

/* OpenSSH writes a host on another port than 22 as [HOST]:PORT. */
static char *known_hosts_name(const char *host, unsigned port)
{
	return port == 22 ? xstrdup(host) : xstrfmt("[%s]:%u", host, port);
}

/* 1 if the entry's key has the given SHA-256. */
static int entry_has_key(const struct ssh_knownhosts_entry *e, const unsigned char sha256[32])
{
	unsigned char *hash = NULL;
	size_t len = 0;
	int same;

	if (ssh_get_publickey_hash(e->publickey, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) < 0)
		return 0;
	same = len == 32 && !memcmp(hash, sha256, 32);
	ssh_clean_pubkey_hash(&hash);
	return same;
}

enum kh_result { KH_NONE, KH_MATCH, KH_OTHER_KEY, KH_REVOKED };

/* What one line says about the key of name. */
static enum kh_result known_hosts_line(const char *name, char *line, const unsigned char sha256[32])
{
	struct ssh_knownhosts_entry *e = NULL;
	enum kh_result r;
	int revoked = 0;

	line += strspn(line, " \t");
	if (!*line || *line == '#' || starts_with(line, "@cert-authority"))
		return KH_NONE; /* certificates are not checked: a plain key entry is needed */
	if (starts_with(line, "@revoked")) {
		revoked = 1;
		line += strlen("@revoked");
		line += strspn(line, " \t");
	}
	if (ssh_known_hosts_parse_line(name, line, &e) != SSH_OK)
		return KH_NONE;
	if (entry_has_key(e, sha256))
		r = revoked ? KH_REVOKED : KH_MATCH;
	else
		r = revoked ? KH_NONE : KH_OTHER_KEY;
	ssh_knownhosts_entry_free(e);
	return r;
}

static void describe_key(struct strbuf *err, const unsigned char sha256[32])
{
	unsigned char copy[32];
	char *fp;

	memcpy(copy, sha256, sizeof(copy));
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, copy, sizeof(copy));
	strbuf_addstr(err, fp ? fp : "?");
	ssh_string_free_char(fp);
}

int mirror_known_hosts_check(const char *known_hosts, const char *host, unsigned port,
			     const unsigned char sha256[32], struct strbuf *err)
{
	char *name = known_hosts_name(host, port), *text = xstrdup(known_hosts), *save = NULL;
	int match = 0, other = 0, revoked = 0;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = '\0';
		switch (known_hosts_line(name, line, sha256)) {
		case KH_MATCH: match = 1; break;
		case KH_OTHER_KEY: other = 1; break;
		case KH_REVOKED: revoked = 1; break;
		case KH_NONE: break;
		}
	}
	if (revoked || !match) {
		strbuf_addf(err, "host key %s", name);
		strbuf_addstr(err, revoked ? " is revoked: " : other ? " does not match known_hosts: " :
			      " is not in known_hosts: ");
		describe_key(err, sha256);
	}
	free(name);
	free(text);
	return revoked || !match ? -1 : 0;
}

/* ---- the push ---- */

static int compare_refs(const void *a, const void *b)
{
	return strcmp(((const struct mirror_ref *)a)->name, ((const struct mirror_ref *)b)->name);
}

/* The branches and tags of repo that t mirrors, sorted by name; names owned by the array. */
static int local_refs(struct mirror_ref **out, size_t *nr, git_repository *repo, const json_t *branches)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	if (git_reference_iterator_new(&it, repo) < 0)
		return -1;
	while ((rc = git_reference_next(&ref, it)) == 0) {
		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    mirror_ref_in_scope(git_reference_name(ref), branches)) {
			ALLOC_GROW(*out, *nr + 1, alloc);
			(*out)[*nr].name = xstrdup(git_reference_name(ref));
			git_oid_cpy(&(*out)[(*nr)++].oid, git_reference_target(ref));
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (*nr)
		qsort(*out, *nr, sizeof(**out), compare_refs);
	return rc == GIT_ITEROVER ? 0 : -1;
}

static void free_refs(struct mirror_ref *refs, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free((char *)refs[i].name);
	free(refs);
}

/* The remote's advertised refs (borrowed names), without peeled tags. */
static int remote_refs(struct mirror_ref **out, size_t *nr, git_remote *remote)
{
	const git_remote_head **heads;
	size_t n;

	*out = NULL;
	*nr = 0;
	if (git_remote_ls(&heads, &n, remote) < 0)
		return -1;
	*out = xcalloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		if (!starts_with(heads[i]->name, "refs/") || ends_with(heads[i]->name, "^{}"))
			continue;
		(*out)[*nr].name = heads[i]->name;
		git_oid_cpy(&(*out)[(*nr)++].oid, &heads[i]->oid);
	}
	return 0;
}

static json_t *refs_json(const struct mirror_ref *refs, size_t nr)
{
	json_t *obj = json_object();

	for (size_t i = 0; i < nr; i++) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), &refs[i].oid);
		json_object_set_new(obj, refs[i].name, json_string(hex));
	}
	return obj;
}

/* Replace every occurrence of secret in sb with replacement. */
static void scrub(struct strbuf *sb, const char *secret, const char *replacement)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = sb->buf, *hit;

	if (!secret || !*secret || !strstr(sb->buf, secret))
		return;
	while ((hit = strstr(p, secret))) {
		strbuf_add(&out, p, (size_t)(hit - p));
		strbuf_addstr(&out, replacement);
		p = hit + strlen(secret);
	}
	strbuf_addstr(&out, p);
	strbuf_reset(sb);
	strbuf_addbuf(sb, &out);
	strbuf_release(&out);
}

/* The short reason for a failed libgit2 call rc: ours if a callback refused, else libgit2's. */
static enum mirror_failure explain(struct push_ctx *ctx, int rc, const char *what, struct strbuf *err)
{
	const git_error *e = git_error_last();
	enum mirror_failure f = ctx->failure;
	struct strbuf raw = STRBUF_INIT;

	if (f != MIRROR_OK) {
		strbuf_addbuf(&raw, &ctx->reason);
	} else {
		f = rc == GIT_EAUTH ? MIRROR_AUTH : rc == GIT_ECERTIFICATE ? MIRROR_HOSTKEY : MIRROR_FAILED;
		strbuf_addf(&raw, "%s: %s", what, e && e->message ? e->message : "unknown error");
	}
	scrub(&raw, ctx->t->url, ctx->t->display);
	scrub(&raw, ctx->token, "***");
	strbuf_reset(err);
	strbuf_add_sanitized(err, raw.buf, strcspn(raw.buf, "\n"), 0);
	strbuf_rtrim(err);
	if (err->len > MIRROR_REASON_MAX)
		strbuf_setlen(err, MIRROR_REASON_MAX);
	strbuf_release(&raw);
	return f;
}

/* Honour the usual OpenSSL variables for the CA bundle (libgit2 may use another TLS library). */
static void set_ca_locations(void)
{
	const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");

	if ((file && *file) || (dir && *dir))
		git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file && *file ? file : NULL,
				 dir && *dir ? dir : NULL);
}

/* Connect, compare refs, push what differs. */
static int push_refs(struct push_ctx *ctx, git_remote *remote, const struct mirror_ref *local,
		     size_t nlocal, const char **what)
{
	git_remote_callbacks cbs;
	git_push_options opts;
	struct strvec specs = STRVEC_INIT;
	struct mirror_ref *remote_list = NULL;
	size_t nremote = 0;
	git_strarray arr;
	int rc;

	git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION);
	git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
	cbs.credentials = credentials;
	cbs.certificate_check = certificate_check;
	cbs.push_update_reference = update_reference;
	cbs.payload = ctx;
	*what = "cannot connect";
	rc = git_remote_connect(remote, GIT_DIRECTION_PUSH, &cbs, NULL, NULL);
	if (rc == 0 && (rc = remote_refs(&remote_list, &nremote, remote)) == 0) {
		mirror_refspecs(&specs, local, nlocal, remote_list, nremote, ctx->t->cfg->branches);
		*what = "push failed";
		arr.strings = specs.v;
		arr.count = specs.nr;
		opts.callbacks = cbs;
		if (specs.nr)
			rc = git_remote_upload(remote, &arr, &opts);
	}
	git_remote_disconnect(remote);
	free(remote_list);
	strvec_clear(&specs);
	return rc;
}

/* An anonymous remote for exactly url: no url.*.insteadOf rewriting from any git config. */
static int create_remote(git_remote **out, git_repository *repo, const char *url)
{
	git_remote_create_options opts;

	git_remote_create_options_init(&opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	opts.repository = repo;
	opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, url, &opts);
}

enum mirror_failure mirror_push(json_t **pushed, const char *repo_path, const struct mirror_target *t,
				struct strbuf *err)
{
	struct push_ctx ctx = { t, 0, MIRROR_OK, STRBUF_INIT, STRBUF_INIT, NULL };
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	struct mirror_ref *local = NULL;
	size_t nlocal = 0;
	const char *what = "cannot read the repository";
	enum mirror_failure f = MIRROR_OK;
	int rc = 0;

	set_ca_locations();
	if (mirror_url_local_path(t->url) && access(mirror_url_local_path(t->url), F_OK) < 0) {
		/* libgit2 would call a missing path an unknown protocol */
		refuse(&ctx, MIRROR_FAILED, "no repository at %s", mirror_url_local_path(t->url));
		rc = GIT_EUSER;
	}
	if (rc == 0)
		rc = git_repository_open_bare(&repo, repo_path);
	if (rc == 0)
		rc = local_refs(&local, &nlocal, repo, t->cfg->branches);
	if (rc == 0) {
		what = "bad URL";
		rc = create_remote(&remote, repo, t->url);
	}
	if (rc == 0)
		rc = push_refs(&ctx, remote, local, nlocal, &what);
	if (rc < 0) {
		f = explain(&ctx, rc, what, err);
	} else if (ctx.rejected.len) {
		refuse(&ctx, MIRROR_FAILED, "the remote refused %s", ctx.rejected.buf);
		f = explain(&ctx, 0, "", err);
	} else if (pushed) {
		*pushed = refs_json(local, nlocal);
	}
	free_refs(local, nlocal);
	git_remote_free(remote);
	git_repository_free(repo);
	strbuf_release(&ctx.reason);
	strbuf_release(&ctx.rejected);
	free(ctx.token);
	return f;
}

json_t *mirror_local_refs(const char *repo_path, const json_t *branches)
{
	git_repository *repo = NULL;
	struct mirror_ref *refs = NULL;
	size_t nr = 0;
	json_t *obj = NULL;

	if (git_repository_open_bare(&repo, repo_path) == 0 && local_refs(&refs, &nr, repo, branches) == 0)
		obj = refs_json(refs, nr);
	free_refs(refs, nr);
	git_repository_free(repo);
	return obj;
}
