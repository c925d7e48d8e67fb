/*
 * The durable side of mirroring: DATA/mirror/REPO-ID.json per target.
 *
 *   repo, url            the repository and the target's display URL
 *   seq                  requests so far; a run that started at seq N and
 *                        succeeds clears pending only if seq is still N
 *   pending              a run is wanted; pending_since: since when
 *   last_request         the latest request; last_run_end: when the last
 *                        run ended (both for coalescing, mirror_due_time)
 *   next_retry           not before this time (back-off after a failure)
 *   attempts             consecutive failed runs; auth_failures: of those,
 *                        consecutive credential or host key failures
 *   paused               set after MIRROR_PAUSE_AFTER auth failures
 *   last_success, last_error, last_error_time
 *   remote_refs          what the remote had after the last success
 *
 * Times are epoch milliseconds. Every change is a read-modify-write under
 * DATA/mirror/lock (flock), written atomically.
 */
#include "mirror.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fileutil.h"
#include "log.h"
#include "reponame.h"
#include "util.h"
#include "banned.h"

int64_t mirror_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* DATA/repos/NAME.git, as gitd/repos.c lays repositories out. */
static char *repo_path(const char *data_dir, const char *repo)
{
	return xstrfmt("%s/repos/%s.git", data_dir, repo);
}

/* 1 if the repository is there: a deleted one's requests are dropped, not retried. */
static int repo_exists(const char *data_dir, const char *repo)
{
	char *path = repo_path(data_dir, repo);
	int ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

static char *state_path(const char *data_dir, const char *repo, const char *id, const char *ext)
{
	return xstrfmt("%s/mirror/%s-%s.%s", data_dir, repo, id, ext);
}

static int64_t get_int(const json_t *st, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(st, key));
}

static void set_int(json_t *st, const char *key, int64_t v)
{
	json_object_set_new(st, key, json_integer((json_int_t)v));
}

static json_t *load_state(const char *path)
{
	json_t *st = json_load_file(path, 0, NULL);

	if (!json_is_object(st)) {
		json_decref(st);
		st = json_object();
	}
	return st;
}

/* A descriptor holding DATA/mirror/lock, or -1 with errno. */
static int lock_states(const char *data_dir)
{
	char *dir = xstrfmt("%s/mirror", data_dir), *path = xstrfmt("%s/lock", dir);
	int fd = -1;

	if (mkdir_p(dir, 0700) == 0 && (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0 &&
	    flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	free(dir);
	free(path);
	return fd;
}

/* Change the state of (repo, id) with edit under the lock; 0 or -1 with errno. */
static int update_state(const char *data_dir, const char *repo, const char *id,
			void (*edit)(json_t *st, void *payload), void *payload)
{
	char *path = state_path(data_dir, repo, id, "json"), *text = NULL;
	int fd = lock_states(data_dir), rc = -1, saved;
	json_t *st = NULL;

	if (fd < 0)
		goto cleanup;
	st = load_state(path);
	json_object_set_new(st, "repo", json_string(repo));
	edit(st, payload);
	text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
	rc = text ? write_file_atomic(path, text, strlen(text), 0600) : -1;
cleanup:
	saved = errno;
	if (fd >= 0)
		close(fd);
	json_decref(st);
	free(text);
	free(path);
	errno = saved;
	return rc;
}

/* ---- requests ---- */

struct request {
	const struct mirror_target *t;
	struct mirror_note *note;
	int retry; /* an admin's retry: resume, forget the back-off */
};

static void edit_request(json_t *st, void *payload)
{
	struct request *r = payload;
	int64_t now = mirror_now_ms();

	json_object_set_new(st, "url", json_string(r->t->display));
	set_int(st, "seq", get_int(st, "seq") + 1);
	set_int(st, "last_request", now);
	if (!json_is_true(json_object_get(st, "pending"))) {
		json_object_set_new(st, "pending", json_true());
		set_int(st, "pending_since", now);
	}
	if (r->retry) {
		/* at once: no back-off, no coalescing */
		json_object_set_new(st, "paused", json_false());
		set_int(st, "attempts", 0);
		set_int(st, "auth_failures", 0);
		json_object_del(st, "last_run_end");
	}
	if (r->note && get_int(st, "attempts") > 0) {
		r->note->last_error = xstrdup(json_string_value(json_object_get(st, "last_error")) ?
					      json_string_value(json_object_get(st, "last_error")) : "unknown");
		r->note->attempts = (unsigned)get_int(st, "attempts");
		r->note->paused = json_is_true(json_object_get(st, "paused"));
	}
}

/* Request a run of every target of repo; notes as mirror_request(). */
static int request_repo(struct mirror_note **notes, const char *data_dir, const struct gitd_config *cfg,
			const char *repo, int retry)
{
	struct mirror_target *t;
	size_t nr = mirror_targets(&t, cfg, repo);
	int rc = 0;

	if (notes)
		*notes = nr ? xcalloc(nr, sizeof(**notes)) : NULL;
	for (size_t i = 0; i < nr; i++) {
		struct request r = { &t[i], notes ? &(*notes)[i] : NULL, retry };

		if (notes)
			(*notes)[i].display = xstrdup(t[i].display);
		if (update_state(data_dir, repo, t[i].id, edit_request, &r) < 0)
			rc = -1;
	}
	mirror_targets_free(t, nr);
	return rc < 0 ? -1 : (int)nr;
}

int mirror_request(struct mirror_note **notes, const char *data_dir, const struct gitd_config *cfg,
		   const char *repo)
{
	return request_repo(notes, data_dir, cfg, repo, 0);
}

void mirror_notes_free(struct mirror_note *notes, size_t nr)
{
	for (size_t i = 0; notes && i < nr; i++) {
		free(notes[i].display);
		free(notes[i].last_error);
	}
	free(notes);
}

int mirror_retry(const char *data_dir, const struct gitd_config *cfg, const char *repo)
{
	struct strvec repos = STRVEC_INIT;
	int total = 0, n;

	if (repo)
		strvec_push(&repos, repo);
	else
		reponame_list(&repos, data_dir);
	for (size_t i = 0; i < repos.nr && total >= 0; i++) {
		n = request_repo(NULL, data_dir, cfg, repos.v[i], 1);
		total = n < 0 ? -1 : total + n;
	}
	strvec_clear(&repos);
	return total;
}

/* ---- scheduling ---- */

/* The target of repo with this id in the current config: 0 and *out set (free with mirror_targets_free), or -1. */
static int find_target(struct mirror_target **out, size_t *nr, const struct gitd_config *cfg,
		       const char *repo, const char *id)
{
	struct mirror_target *t;
	size_t n = mirror_targets(&t, cfg, repo);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].id, id))
			continue;
		if (i) {
			struct mirror_target tmp = t[0];
			t[0] = t[i];
			t[i] = tmp;
		}
		*out = t;
		*nr = n;
		return 0;
	}
	mirror_targets_free(t, n);
	return -1;
}

/* "REPO-ID.json": 0 with repo (caller frees) and id. */
static int parse_state_name(char **repo, char id[17], const char *name)
{
	size_t len = strlen(name);

	if (len < 1 + 1 + 16 + 5 || !ends_with(name, ".json") || name[len - 5 - 16 - 1] != '-')
		return -1;
	memcpy(id, name + len - 5 - 16, 16);
	id[16] = '\0';
	*repo = xstrndup(name, len - 5 - 16 - 1);
	return 0;
}

static int64_t state_due_time(const json_t *st)
{
	return mirror_due_time(get_int(st, "pending_since"), get_int(st, "last_request"),
			       get_int(st, "last_run_end"), (unsigned)get_int(st, "attempts"),
			       get_int(st, "next_retry"));
}

/* 1 if the state in st is due at now; else 0, lowering *next_ms to when it will be. */
static int state_due(const json_t *st, int64_t now, int ignore_backoff, int64_t *next_ms)
{
	int64_t at = state_due_time(st);

	if (!json_is_true(json_object_get(st, "pending")) || json_is_true(json_object_get(st, "paused")))
		return 0;
	if (ignore_backoff || at <= now)
		return 1;
	if (at < *next_ms)
		*next_ms = at;
	return 0;
}

size_t mirror_due(struct mirror_due **out, int64_t *next_ms, const char *data_dir,
		  const struct gitd_config *cfg, int64_t now_ms, int ignore_backoff)
{
	char *dir = xstrfmt("%s/mirror", data_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t nr = 0, alloc = 0;

	*out = NULL;
	*next_ms = INT64_MAX;
	while (d && (de = readdir(d))) {
		struct mirror_target *t = NULL;
		size_t nt = 0;
		char *repo = NULL, id[17], *path;
		json_t *st;

		if (parse_state_name(&repo, id, de->d_name) < 0)
			continue;
		path = xstrfmt("%s/%s", dir, de->d_name);
		st = load_state(path);
		if (state_due(st, now_ms, ignore_backoff, next_ms) && find_target(&t, &nt, cfg, repo, id) == 0 &&
		    repo_exists(data_dir, repo)) {
			ALLOC_GROW(*out, nr + 1, alloc);
			(*out)[nr].repo = repo;
			repo = NULL; /* transferred */
			memcpy((*out)[nr++].id, id, sizeof(id));
		}
		mirror_targets_free(t, nt);
		json_decref(st);
		free(path);
		free(repo);
	}
	if (d)
		closedir(d);
	free(dir);
	return nr;
}

void mirror_due_free(struct mirror_due *d, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(d[i].repo);
	free(d);
}

/* ---- results ---- */

struct result {
	enum mirror_failure failure;
	const char *reason;
	int64_t started_seq;
	json_t *pushed;  /* the remote's refs after a success (borrowed) */
	unsigned attempts; /* out: attempts after this result */
	int paused;        /* out: paused by this result */
	int64_t delay;     /* out: ms until the next run */
};

static uint32_t random_u32(void)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)mirror_now_ms() ^ (uint32_t)getpid();
	return r;
}

static void edit_success(json_t *st, struct result *r, int64_t now)
{
	set_int(st, "last_success", now);
	set_int(st, "attempts", 0);
	set_int(st, "auth_failures", 0);
	if (r->pushed)
		json_object_set(st, "remote_refs", r->pushed);
	if (get_int(st, "seq") == r->started_seq) {
		json_object_set_new(st, "pending", json_false());
		json_object_del(st, "pending_since");
	} else {
		set_int(st, "pending_since", now); /* requested again while it ran: once more, coalesced */
	}
}

static void edit_failure(json_t *st, struct result *r, int64_t now)
{
	int auth = r->failure == MIRROR_AUTH || r->failure == MIRROR_HOSTKEY;
	int64_t auth_failures = auth ? get_int(st, "auth_failures") + 1 : 0;

	r->attempts = (unsigned)get_int(st, "attempts") + 1;
	r->delay = (int64_t)mirror_backoff_ms(r->attempts, random_u32());
	set_int(st, "attempts", r->attempts);
	set_int(st, "auth_failures", auth_failures);
	json_object_set_new(st, "last_error", json_string(r->reason));
	set_int(st, "last_error_time", now);
	set_int(st, "next_retry", now + r->delay);
	if (auth_failures >= MIRROR_PAUSE_AFTER && !json_is_true(json_object_get(st, "paused"))) {
		json_object_set_new(st, "paused", json_true());
		r->paused = 1;
	}
}

static void edit_result(json_t *st, void *payload)
{
	struct result *r = payload;
	int64_t now = mirror_now_ms();

	set_int(st, "last_run_end", now);
	if (r->failure == MIRROR_OK)
		edit_success(st, r, now);
	else
		edit_failure(st, r, now);
}

static void log_result(const struct mirror_target *t, const struct result *r, int64_t ms)
{
	char n[32], took[32];

	snprintf(n, sizeof(n), "%u", r->attempts);
	snprintf(took, sizeof(took), "%lld", (long long)ms);
	if (r->failure == MIRROR_OK)
		log_event(LOG_INFO, "mirror-ok", "repo", t->repo, "url", t->display, "ms", took, NULL);
	else
		log_event(LOG_WARN, "mirror-failed", "repo", t->repo, "url", t->display, "attempts", n,
			  "reason", r->reason, NULL);
	if (r->paused)
		log_event(LOG_ERROR, "mirror-paused", "repo", t->repo, "url", t->display, "reason",
			  "repeated authentication failures; fix the credentials, then `mirror retry`", NULL);
}

/* Hold DATA/mirror/REPO-ID.run for the whole run; -1 with errno. */
static int lock_run(const char *data_dir, const char *repo, const char *id)
{
	char *path = state_path(data_dir, repo, id, "run");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	/* blocks only while a run that outlived a previous gitd finishes */
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

int mirror_run(const char *data_dir, const struct gitd_config *cfg, const char *repo, const char *id)
{
	struct mirror_target *t = NULL;
	struct strbuf reason = STRBUF_INIT;
	struct result r = { MIRROR_OK, NULL, 0, NULL, 0, 0, 0 };
	char *path = repo_path(data_dir, repo), *spath = state_path(data_dir, repo, id, "json");
	size_t nt = 0;
	int64_t start = now_ms();
	int fd = -1, rc = -1;
	json_t *st;

	if (find_target(&t, &nt, cfg, repo, id) < 0 || (fd = lock_run(data_dir, repo, id)) < 0)
		goto cleanup;
	st = load_state(spath);
	r.started_seq = get_int(st, "seq");
	json_decref(st);
	r.failure = mirror_push(&r.pushed, path, &t[0], &reason);
	r.reason = reason.buf;
	if (update_state(data_dir, repo, id, edit_result, &r) < 0)
		log_event(LOG_ERROR, "mirror-state-failed", "repo", repo, "error", strerror(errno), NULL);
	log_result(&t[0], &r, now_ms() - start);
	rc = r.failure == MIRROR_OK ? 0 : 1;
cleanup:
	if (fd >= 0)
		close(fd);
	json_decref(r.pushed);
	mirror_targets_free(t, nt);
	strbuf_release(&reason);
	free(spath);
	free(path);
	return rc;
}

void mirror_record_crash(const char *data_dir, const char *repo, const char *id, const char *reason)
{
	struct result r = { MIRROR_FAILED, reason, 0, NULL, 0, 0, 0 };

	if (update_state(data_dir, repo, id, edit_result, &r) < 0)
		log_event(LOG_ERROR, "mirror-state-failed", "repo", repo, "error", strerror(errno), NULL);
}

/* ---- status ---- */

static json_t *iso_time(int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (ms <= 0 || !gmtime_r(&secs, &tm))
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static const char *state_name(const json_t *st)
{
	if (json_is_true(json_object_get(st, "paused")))
		return "paused";
	if (get_int(st, "attempts") > 0)
		return "retrying";
	if (json_is_true(json_object_get(st, "pending")))
		return "pending";
	return get_int(st, "last_success") > 0 ? "ok" : "never";
}

/* Refs whose remote copy differs from the local one (or is unknown): what a run would push. */
static json_t *pending_refs(const char *data_dir, const struct mirror_target *t, const json_t *st)
{
	char *path = repo_path(data_dir, t->repo);
	json_t *local = mirror_local_refs(path, t->cfg->branches), *list = json_array();
	const json_t *remote = json_object_get(st, "remote_refs"), *v;
	const char *name;

	json_object_foreach((json_t *)local, name, v) {
		if (!json_equal(v, json_object_get(remote, name)))
			json_array_append_new(list, json_string(name));
	}
	json_object_foreach((json_t *)remote, name, v) {
		if (local && !json_object_get(local, name) && mirror_ref_in_scope(name, t->cfg->branches))
			json_array_append_new(list, json_string(name));
	}
	json_decref(local);
	free(path);
	return list;
}

static json_t *target_status(const char *data_dir, const struct mirror_target *t)
{
	char *path = state_path(data_dir, t->repo, t->id, "json");
	json_t *st = load_state(path);
	int pending = json_is_true(json_object_get(st, "pending"));
	int paused = json_is_true(json_object_get(st, "paused"));
	const char *err = json_string_value(json_object_get(st, "last_error"));
	json_t *out = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "repo", t->repo,
		"url", t->display, "state", state_name(st),
		"last_success", iso_time(get_int(st, "last_success")),
		"last_error", err ? json_string(err) : json_null(),
		"last_error_time", iso_time(get_int(st, "last_error_time")),
		"attempts", (json_int_t)get_int(st, "attempts"),
		"pending_since", pending ? iso_time(get_int(st, "pending_since")) : json_null(),
		"pending_refs", pending_refs(data_dir, t, st),
		"next_retry", pending && !paused ? iso_time(state_due_time(st)) : json_null());

	json_decref(st);
	free(path);
	return out;
}

json_t *mirror_status(const char *data_dir, const struct gitd_config *cfg)
{
	struct strvec repos = STRVEC_INIT;
	json_t *list = json_array();

	reponame_list(&repos, data_dir);
	for (size_t i = 0; i < repos.nr; i++) {
		struct mirror_target *t;
		size_t nt = mirror_targets(&t, cfg, repos.v[i]);

		for (size_t k = 0; k < nt; k++)
			json_array_append_new(list, target_status(data_dir, &t[k]));
		mirror_targets_free(t, nt);
	}
	strvec_clear(&repos);
	return list;
}

void mirror_summarize(struct mirror_summary *out, const char *data_dir, const struct gitd_config *cfg)
{
	struct strvec repos = STRVEC_INIT;

	memset(out, 0, sizeof(*out));
	reponame_list(&repos, data_dir);
	for (size_t i = 0; i < repos.nr; i++) {
		struct mirror_target *t;
		size_t nt = mirror_targets(&t, cfg, repos.v[i]);

		for (size_t k = 0; k < nt; k++) {
			char *path = state_path(data_dir, t[k].repo, t[k].id, "json");
			json_t *st = load_state(path);
			int64_t since = get_int(st, "pending_since");

			out->targets++;
			out->paused += json_is_true(json_object_get(st, "paused"));
			out->failing += get_int(st, "attempts") > 0;
			if (json_is_true(json_object_get(st, "pending")) && since > 0 &&
			    (!out->oldest_pending || since < out->oldest_pending))
				out->oldest_pending = since;
			json_decref(st);
			free(path);
		}
		mirror_targets_free(t, nt);
	}
	strvec_clear(&repos);
}
