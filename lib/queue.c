#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

static const char *const queue_dirs[] = { "pending", "running", "done" };

static char *job_path(const char *data_dir, const char *state, unsigned long id)
{
	return xstrfmt("%s/queue/%s/%012lu.json", data_dir, state, id);
}

char *job_log_path(const char *data_dir, const char *repo, unsigned long id)
{
	return xstrfmt("%s/jobs/%s/%012lu.log", data_dir, repo, id);
}

int queue_init(const char *data_dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(queue_dirs); i++) {
		char *dir = xstrfmt("%s/queue/%s", data_dir, queue_dirs[i]);
		int rc = mkdir_p(dir, 0700);

		free(dir);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void timestamp(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The next job id, from DATA/queue/seq under an exclusive lock. */
static int next_id(unsigned long *out, const char *data_dir)
{
	char *lock = xstrfmt("%s/queue/lock", data_dir), *seq = xstrfmt("%s/queue/seq", data_dir);
	struct strbuf sb = STRBUF_INIT;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	unsigned long id = 0;
	int rc = -1;

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		goto cleanup;
	if (strbuf_read_file(&sb, seq) == 0) {
		strbuf_rtrim(&sb);
		if (sb.len && parse_uint(sb.buf, (unsigned long)-1 / 2, &id) < 0) {
			errno = EINVAL; /* never hand out an id twice: refuse rather than restart at 1 */
			goto cleanup;
		}
	}
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%lu\n", ++id);
	if (write_file_atomic(seq, sb.buf, sb.len, 0600) < 0)
		goto cleanup;
	*out = id;
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd); /* releases the lock */
	strbuf_release(&sb);
	free(lock);
	free(seq);
	return rc;
}

static json_t *promote_to_json(const struct job_promote *p)
{
	char hex[GIT_OID_HEXSZ + 1];
	json_t *obj;

	git_oid_tostr(hex, sizeof(hex), &p->commit);
	obj = json_pack("{s:s, s:s, s:s, s:s}", "from", p->from, "to", p->to, "ref", p->ref, "commit", hex);
	if (p->image)
		json_object_set_new(obj, "image", json_string(p->image));
	return obj;
}

static json_t *job_to_json(unsigned long id, const char *repo, const char *pusher,
			   const struct ref_update *u, size_t nr, const struct job_promote *p)
{
	json_t *updates = json_array(), *job;
	char created[32];

	for (size_t i = 0; i < nr; i++) {
		char old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(old_hex, sizeof(old_hex), &u[i].old_oid);
		git_oid_tostr(new_hex, sizeof(new_hex), &u[i].new_oid);
		json_array_append_new(updates, json_pack("{s:s, s:s, s:s}", "ref", u[i].ref,
							 "old", old_hex, "new", new_hex));
	}
	timestamp(created, sizeof(created));
	job = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)id, "repo", repo,
			"pusher", pusher, "created", created, "updates", updates);
	if (p)
		json_object_set_new(job, "promote", promote_to_json(p));
	return job;
}

static int write_json(const char *path, const json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int rc;

	if (!text)
		return -1;
	rc = write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

static int enqueue(unsigned long *out, const char *data_dir, const char *repo, const char *pusher,
		   const struct ref_update *updates, size_t nr, const struct job_promote *p)
{
	json_t *job = NULL;
	char *path = NULL;
	unsigned long id;
	int rc = -1;

	if (queue_init(data_dir) < 0 || next_id(&id, data_dir) < 0)
		goto cleanup;
	job = job_to_json(id, repo, pusher, updates, nr, p);
	path = job_path(data_dir, "pending", id);
	if (write_json(path, job) < 0)
		goto cleanup;
	*out = id;
	rc = 0;
cleanup:
	json_decref(job);
	free(path);
	return rc;
}

int queue_enqueue(unsigned long *out, const char *data_dir, const char *repo, const char *pusher,
		  const struct ref_update *updates, size_t nr)
{
	return enqueue(out, data_dir, repo, pusher, updates, nr, NULL);
}

int queue_enqueue_promote(unsigned long *out, const char *data_dir, const char *repo, const char *user,
			  const struct job_promote *p)
{
	return enqueue(out, data_dir, repo, user, NULL, 0, p);
}

static void promote_free(struct job_promote *p)
{
	if (!p)
		return;
	free(p->from);
	free(p->to);
	free(p->ref);
	free(p->image);
	free(p);
}

void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->repo);
	free(j->pusher);
	hookinput_free(j->updates, j->nr);
	promote_free(j->promote);
	free(j);
}

static int promote_from_json(struct job_promote **out, const json_t *obj)
{
	const char *from = json_string_value(json_object_get(obj, "from"));
	const char *to = json_string_value(json_object_get(obj, "to"));
	const char *ref = json_string_value(json_object_get(obj, "ref"));
	const char *commit = json_string_value(json_object_get(obj, "commit"));
	const char *image = json_string_value(json_object_get(obj, "image"));
	struct job_promote *p;

	if (!from || !to || !ref || !commit)
		return -1;
	p = xcalloc(1, sizeof(*p));
	*out = p;
	p->from = xstrdup(from);
	p->to = xstrdup(to);
	p->ref = xstrdup(ref);
	p->image = image ? xstrdup(image) : NULL;
	return git_oid_fromstr(&p->commit, commit) < 0 ? -1 : 0;
}

static int job_from_json(struct job *j, const json_t *root)
{
	const json_t *updates = json_object_get(root, "updates"), *u;
	json_int_t id;
	size_t i;

	if (!json_is_integer(json_object_get(root, "id")) || !json_is_array(updates) ||
	    !json_is_string(json_object_get(root, "repo")))
		return -1;
	id = json_integer_value(json_object_get(root, "id"));
	j->id = (unsigned long)id;
	j->repo = xstrdup(json_string_value(json_object_get(root, "repo")));
	j->pusher = xstrdup(json_string_value(json_object_get(root, "pusher")) ?
			    json_string_value(json_object_get(root, "pusher")) : "");
	j->updates = xcalloc(json_array_size(updates), sizeof(*j->updates));
	json_array_foreach(updates, i, u) {
		const char *ref = json_string_value(json_object_get(u, "ref"));
		const char *old_hex = json_string_value(json_object_get(u, "old"));
		const char *new_hex = json_string_value(json_object_get(u, "new"));

		if (!ref || !old_hex || !new_hex || git_oid_fromstr(&j->updates[i].old_oid, old_hex) < 0 ||
		    git_oid_fromstr(&j->updates[i].new_oid, new_hex) < 0)
			return -1;
		j->updates[i].ref = xstrdup(ref);
		j->nr++;
	}
	if (json_object_get(root, "promote"))
		return promote_from_json(&j->promote, json_object_get(root, "promote"));
	return 0;
}

int job_load(struct job **out, const char *path)
{
	json_t *root = json_load_file(path, 0, NULL);
	struct job *j = xcalloc(1, sizeof(*j));
	int rc = -1;

	if (!root || job_from_json(j, root) < 0)
		goto cleanup;
	*out = j;
	j = NULL; /* transferred */
	rc = 0;
cleanup:
	job_free(j);
	json_decref(root);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* File names (ID.json) in DATA/queue/STATE, sorted: oldest job first. */
static size_t list_jobs(char ***out, const char *data_dir, const char *state)
{
	char *dir = xstrfmt("%s/queue/%s", data_dir, state);
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, alloc = 0;

	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 17 || !ends_with(de->d_name, ".json"))
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	free(dir);
	if (nr)
		qsort(names, nr, sizeof(*names), compare_names);
	*out = names;
	return nr;
}

static void free_names(char **names, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
}

int queue_draining(const char *data_dir)
{
	char *path = xstrfmt("%s/queue/draining", data_dir);
	int on = access(path, F_OK) == 0;

	free(path);
	return on;
}

int queue_set_draining(const char *data_dir, int on)
{
	char *path = xstrfmt("%s/queue/draining", data_dir);
	int rc = on ? write_file_atomic(path, "", 0, 0600) : unlink(path);

	if (!on && rc < 0 && errno == ENOENT)
		rc = 0;
	free(path);
	return rc;
}

int queue_is_pending(const char *data_dir, unsigned long id)
{
	char *path = job_path(data_dir, "pending", id);
	int pending = access(path, F_OK) == 0;

	free(path);
	return pending;
}

size_t queue_count(const char *data_dir, const char *state)
{
	char **names;
	size_t nr = list_jobs(&names, data_dir, state);

	free_names(names, nr);
	return nr;
}

size_t queue_requeue_running(const char *data_dir)
{
	char **names;
	size_t nr = list_jobs(&names, data_dir, "running"), moved = 0;

	for (size_t i = 0; i < nr; i++) {
		char *from = xstrfmt("%s/queue/running/%s", data_dir, names[i]);
		char *to = xstrfmt("%s/queue/pending/%s", data_dir, names[i]);

		moved += rename_durable(from, to) == 0;
		free(from);
		free(to);
	}
	free_names(names, nr);
	return moved;
}

size_t queue_pending_after(struct job ***out, const char *data_dir, const char *repo, unsigned long after)
{
	char **names;
	size_t nr = list_jobs(&names, data_dir, "pending"), n = 0;
	struct job **jobs = xcalloc(nr ? nr : 1, sizeof(*jobs));

	for (size_t i = 0; i < nr; i++) {
		char *path = xstrfmt("%s/queue/pending/%s", data_dir, names[i]);
		unsigned long id;
		struct job *j = NULL;

		/* the name is the id: skip older jobs without reading them */
		if (sscanf(names[i], "%12lu", &id) == 1 && id > after && job_load(&j, path) == 0 &&
		    !strcmp(j->repo, repo)) {
			jobs[n++] = j;
			j = NULL; /* transferred */
		}
		job_free(j);
		free(path);
	}
	free_names(names, nr);
	*out = jobs;
	return n;
}

int queue_claim(struct job **out, const char *data_dir,
		int (*busy)(const char *repo, void *payload), void *payload)
{
	char **names;
	size_t nr = list_jobs(&names, data_dir, "pending");
	int rc = 1;

	for (size_t i = 0; i < nr && rc == 1; i++) {
		char *from = xstrfmt("%s/queue/pending/%s", data_dir, names[i]);
		char *to = xstrfmt("%s/queue/running/%s", data_dir, names[i]);
		struct job *j = NULL;

		if (job_load(&j, from) == 0 && !(busy && busy(j->repo, payload)) &&
		    rename_durable(from, to) == 0) {
			*out = j;
			j = NULL; /* transferred */
			rc = 0;
		}
		job_free(j);
		free(from);
		free(to);
	}
	free_names(names, nr);
	return rc;
}

int queue_finish(const char *data_dir, const struct job *j, const char *status, const char *message)
{
	char *running = job_path(data_dir, "running", j->id), *done = job_path(data_dir, "done", j->id);
	json_t *root = json_load_file(running, 0, NULL);
	char finished[32];
	int rc = -1;

	if (!root)
		root = job_to_json(j->id, j->repo, j->pusher, j->updates, j->nr, j->promote);
	timestamp(finished, sizeof(finished));
	json_object_set_new(root, "status", json_string(status));
	json_object_set_new(root, "message", json_string(message ? message : ""));
	json_object_set_new(root, "finished", json_string(finished));
	if (write_json(done, root) < 0) {
		int saved = errno;

		/*
		 * No room for the result (a full disk): move the job as it is, which
		 * takes no space, so it never looks running once its process is gone.
		 * Read back, it has failed (see lost_result()).
		 */
		rename_durable(running, done);
		errno = saved;
		goto cleanup;
	}
	unlink(running);
	rc = 0;
cleanup:
	json_decref(root);
	free(running);
	free(done);
	return rc;
}

int queue_requeue(const char *data_dir, const struct job *j)
{
	char *running = job_path(data_dir, "running", j->id), *pending = job_path(data_dir, "pending", j->id);
	int rc = rename_durable(running, pending);

	free(running);
	free(pending);
	return rc;
}

/* A job in done/ without a result: queue_finish() could not write it. */
static void lost_result(json_t *job)
{
	if (json_object_get(job, "status"))
		return;
	json_object_set_new(job, "status", json_string("failed"));
	json_object_set_new(job, "message", json_string("its result could not be written; see gitd's log"));
}

int queue_result(json_t **out, const char *data_dir, unsigned long id)
{
	char *path = job_path(data_dir, "done", id);
	int rc = 1;

	*out = json_load_file(path, 0, NULL);
	if (*out) {
		lost_result(*out);
		rc = 0;
	} else {
		char *pending = job_path(data_dir, "pending", id), *running = job_path(data_dir, "running", id);
		if (access(pending, F_OK) < 0 && access(running, F_OK) < 0)
			rc = -1;
		free(pending);
		free(running);
	}
	free(path);
	return rc;
}

json_t *queue_list(const char *data_dir, const char *repo, size_t max)
{
	json_t *list = json_array();

	for (size_t s = 0; s < ARRAY_SIZE(queue_dirs); s++) {
		char **names;
		size_t nr = list_jobs(&names, data_dir, queue_dirs[s]);

		for (size_t i = nr; i-- > 0;) {
			char *path = xstrfmt("%s/queue/%s/%s", data_dir, queue_dirs[s], names[i]);
			json_t *job = json_load_file(path, 0, NULL);
			const char *r = json_string_value(json_object_get(job, "repo"));

			if (job && r && !strcmp(r, repo)) {
				if (!strcmp(queue_dirs[s], "done"))
					lost_result(job);
				else if (!json_object_get(job, "status"))
					json_object_set_new(job, "status", json_string(queue_dirs[s]));
				json_array_append(list, job);
			}
			json_decref(job);
			free(path);
		}
		free_names(names, nr);
	}
	while (json_array_size(list) > max)
		json_array_remove(list, json_array_size(list) - 1);
	return list;
}
