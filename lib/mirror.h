/*
 * mirror: copies of gitd's repositories on other git servers (GitHub),
 * kept up to date durably (docs/mirror.md).
 *
 * A *target* is one entry of `mirrors:` in gitd.yaml applied to one
 * repository: its URL with {repo} filled in. "*" and other patterns match
 * every app repo and the deploy repo ("deploy"); the admin repo
 * ("gitd-admin") only when an entry names it exactly.
 *
 * A run pushes like `git push --mirror`, limited to branches and tags
 * (refs/heads/ and refs/tags/): every local branch and tag with force, and
 * a deletion for every remote one that no longer exists here (branches
 * outside an entry's `branches:` filter are neither pushed nor deleted). A run mirrors the
 * repository's refs as they are when it starts, so any number of requests
 * made before it starts cost one run.
 *
 * Each target has a state file, DATA/mirror/REPO-ID.json (ID: a hash of
 * the URL), written atomically under DATA/mirror/lock by whoever changes
 * it: the job that requests a run, the run that records its result, the
 * admin who retries. A crash at any moment leaves a request pending, so it
 * is retried when gitd starts again.
 *
 * Secrets: URLs may hold credentials, and key and token files do. Only
 * the display form of a URL (no password) is ever written to a state
 * file, a log line or command output; errors are short reasons with the
 * URL replaced by its display form and the token cut out.
 */
#ifndef GITD_MIRROR_H
#define GITD_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>
#include <jansson.h>

#include "strbuf.h"
#include "strvec.h"

struct config_mirror;
struct gitd_config;

/* Consecutive authentication (or host key) failures that pause a target. */
#define MIRROR_PAUSE_AFTER 3
/* The back-off: the first retry within a second, doubling up to the cap. */
#define MIRROR_BACKOFF_BASE_MS 1000
#define MIRROR_BACKOFF_CAP_MS (5 * 60 * 1000)
/*
 * Coalescing: a target that ran within the last SETTLE_MS waits until
 * requests stop for SETTLE_MS, but never more than MAX_WAIT_MS, before it
 * runs again; an idle target runs at once.
 */
#define MIRROR_SETTLE_MS 1000
#define MIRROR_MAX_WAIT_MS 10000
/* Longest error reason kept, in bytes. */
#define MIRROR_REASON_MAX 200

/* One configured mirror applied to one repository. */
struct mirror_target {
	const struct config_mirror *cfg; /* borrowed from the config */
	char *repo;
	char *url;     /* {repo} filled in; may hold credentials: never show it */
	char *display; /* url without its password: for logs, state and status */
	char id[17];   /* hex hash of url, naming the state file */
};

/* ---- targets (mirror.c) ---- */

/* 1 if pattern (a `repos:` value) selects repo: gitd-admin only when named exactly. */
int mirror_pattern_matches(const char *pattern, const char *repo);
/* url with every "{repo}" replaced by repo (caller frees). */
char *mirror_url_expand(const char *url, const char *repo);
/* url with any password in its user part removed (caller frees). */
char *mirror_url_display(const char *url);
/*
 * The host and port an SSH URL (ssh://[USER@]HOST[:PORT]/PATH or
 * USER@HOST:PATH) connects to: 0 with *host set (caller frees); -1 when
 * url is not an SSH URL.
 */
int mirror_url_ssh_host(char **host, unsigned *port, const char *url);
/* The path of a local URL (/PATH or file:///PATH), pointing into url; NULL for other URLs. */
const char *mirror_url_local_path(const char *url);
/* The targets of repo, in config order, without duplicate URLs; *out NULL when none. */
size_t mirror_targets(struct mirror_target **out, const struct gitd_config *cfg, const char *repo);
void mirror_targets_free(struct mirror_target *t, size_t nr);

/*
 * Milliseconds to wait after the attempts-th consecutive failure (1 for
 * the first): BASE * 2^(attempts-1), capped at CAP, of which a random part
 * (drawn from random) up to one half is taken off, so targets failing
 * together spread out. Pure: the caller supplies the randomness.
 */
uint64_t mirror_backoff_ms(unsigned attempts, uint32_t random);

/*
 * When a pending target's next run is due (epoch ms), from when it was
 * first requested (since), last requested, when its last run ended (0:
 * never, or forgotten by an admin's retry), its consecutive failures, and
 * the back-off deadline the last failure set. Pure.
 */
int64_t mirror_due_time(int64_t since, int64_t last_request, int64_t last_run_end, unsigned attempts,
			int64_t next_retry);

/* One ref and where it points, local or as the remote advertised it. */
struct mirror_ref {
	const char *name;
	git_oid oid;
};

/* 1 if a run mirrors ref name: a branch that branches (array of patterns, or NULL) allows, or a tag. */
int mirror_ref_in_scope(const char *name, const json_t *branches);

/*
 * The refspecs that make the remote's refs equal to the local ones within
 * scope: "+REF:REF" for each local ref the remote lacks or has elsewhere,
 * ":REF" for each remote ref in scope that no longer exists locally.
 * Refs outside refs/heads/ and refs/tags/ are left alone either way.
 */
void mirror_refspecs(struct strvec *out, const struct mirror_ref *local, size_t nlocal,
		     const struct mirror_ref *remote, size_t nremote, const json_t *branches);

/* ---- the push (mirror_push.c) ---- */

enum mirror_failure {
	MIRROR_OK = 0,
	MIRROR_FAILED,   /* network, server or local trouble: retried */
	MIRROR_AUTH,     /* credentials refused or unreadable: retried, then paused */
	MIRROR_HOSTKEY,  /* host key unknown or different from known_hosts: as MIRROR_AUTH */
};

/*
 * Check an SSH host key, given as the SHA-256 of its blob, against the
 * known_hosts text for host and port (entries written "host" for port 22,
 * "[host]:port" otherwise; hashed names and wildcards as OpenSSH reads
 * them; @revoked keys refused, @cert-authority lines ignored). 0 when a
 * matching entry has the key; -1 with the reason in err.
 */
int mirror_known_hosts_check(const char *known_hosts, const char *host, unsigned port,
			     const unsigned char sha256[32], struct strbuf *err);

/*
 * Make t's remote mirror the bare repository at repo_path. On success
 * *pushed (may be NULL) gets the refs in scope the remote now has, as an
 * object ref name -> hex id (new reference). Returns MIRROR_OK or the
 * kind of failure, with a short reason, free of secrets, in err.
 */
enum mirror_failure mirror_push(json_t **pushed, const char *repo_path,
				const struct mirror_target *t, struct strbuf *err);

/*
 * The branches and tags of the bare repository at repo_path that a target
 * with this branches filter mirrors, as ref name -> hex id (new
 * reference); NULL when the repository cannot be read.
 */
json_t *mirror_local_refs(const char *repo_path, const json_t *branches);

/* ---- durable state (mirror_state.c) ---- */

/* What a requesting job tells its pusher about a target. */
struct mirror_note {
	char *display;    /* the target's URL, without password */
	char *last_error; /* why the previous run failed, or NULL when it did not */
	unsigned attempts;
	int paused;
};

/*
 * Ask for a run of every target of repo. *notes (may be NULL) gets one
 * note per target (caller frees with mirror_notes_free). The number of
 * targets, or -1 with errno when a state file could not be written.
 */
int mirror_request(struct mirror_note **notes, const char *data_dir, const struct gitd_config *cfg,
		   const char *repo);
void mirror_notes_free(struct mirror_note *notes, size_t nr);

/*
 * `mirror retry`: ask for a run of every target of repo (every repository
 * when repo is NULL) now, resuming paused targets and dropping back-off.
 * The number of targets, or -1 with errno.
 */
int mirror_retry(const char *data_dir, const struct gitd_config *cfg, const char *repo);

/* A target a run is due for: mirror_due() fills these. */
struct mirror_due {
	char *repo;
	char id[17];
};

/*
 * The targets whose run is due at now_ms (epoch milliseconds): requested,
 * not paused, past their back-off, still configured, of a repository
 * that still exists. With
 * ignore_backoff, back-off is disregarded (at startup). *next_ms gets the
 * earliest time another becomes due (INT64_MAX when none waits).
 */
size_t mirror_due(struct mirror_due **out, int64_t *next_ms, const char *data_dir,
		  const struct gitd_config *cfg, int64_t now_ms, int ignore_backoff);
void mirror_due_free(struct mirror_due *d, size_t nr);

/*
 * One run of the target of repo identified by id: push (mirror_push) and
 * record the result in its state file. Meant for a process of its own:
 * it holds DATA/mirror/REPO-ID.run locked throughout, so runs of one
 * target never overlap. 0 when the remote is up to date, 1 when the run
 * failed (recorded), -1 when there was nothing to run (not configured).
 */
int mirror_run(const char *data_dir, const struct gitd_config *cfg, const char *repo, const char *id);

/* Record a failure of a run that could not record it itself (it crashed or timed out). */
void mirror_record_crash(const char *data_dir, const char *repo, const char *id, const char *reason);

/*
 * `mirror status`: every target of every repository, as an array of
 * objects (new reference): repo, url, state ("ok", "pending", "retrying",
 * "paused" or "never"), last_success, last_error, last_error_time,
 * attempts, pending_since, pending_refs, next_retry. Times are ISO 8601
 * UTC strings, or null.
 */
json_t *mirror_status(const char *data_dir, const struct gitd_config *cfg);

/* For metrics: the configured targets of every repository, at one moment. */
struct mirror_summary {
	size_t targets;
	size_t failing;         /* their last run failed (retrying or paused) */
	size_t paused;          /* waiting for `mirror retry` */
	int64_t oldest_pending; /* epoch ms of the oldest change not yet mirrored, 0: none */
};
void mirror_summarize(struct mirror_summary *out, const char *data_dir, const struct gitd_config *cfg);

/* Epoch milliseconds, from the real-time clock (state files outlive processes). */
int64_t mirror_now_ms(void);

#endif
