#include "reconcile.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <git2.h>

#include "config.h"
#include "log.h"
#include "queue.h"
#include "reponame.h"
#include "repos.h"
#include "state.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

static int ref_deploys(const struct gitd_config *cfg, const char *ref)
{
	for (size_t i = 0; i < config_env_count(cfg); i++)
		if (!fnmatch(config_env(cfg, i)->ref, ref, 0))
			return 1;
	return 0;
}

/* 1 if a pending or running job of repo brings ref to oid. */
static int in_flight(const json_t *jobs, const char *ref, const char *oid)
{
	size_t i, j;
	const json_t *job, *u;

	json_array_foreach(jobs, i, job) {
		const char *status = json_string_value(json_object_get(job, "status"));

		if (!status || (strcmp(status, "pending") && strcmp(status, "running")))
			continue;
		json_array_foreach(json_object_get(job, "updates"), j, u) {
			if (!strcmp(json_string_value(json_object_get(u, "ref")), ref) &&
			    !strcmp(json_string_value(json_object_get(u, "new")), oid))
				return 1;
		}
	}
	return 0;
}

/* Append an update for every deploying ref whose target no job has handled or will handle. */
static int missing_updates(struct ref_update **out, size_t *nr, git_repository *repo,
			   const struct gitd_config *cfg, const json_t *handled, const json_t *jobs)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	size_t alloc = 0;

	if (git_reference_iterator_new(&it, repo) < 0)
		return -1;
	while (git_reference_next(&ref, it) == 0) {
		const char *name = git_reference_name(ref);
		const git_oid *target = git_reference_target(ref);
		char hex[GIT_OID_HEXSZ + 1];
		const char *done;

		if (target && ref_deploys(cfg, name)) {
			git_oid_tostr(hex, sizeof(hex), target);
			done = json_string_value(json_object_get(handled, name));
			if ((!done || strcmp(done, hex)) && !in_flight(jobs, name, hex)) {
				ALLOC_GROW(*out, *nr + 1, alloc);
				memset(&(*out)[*nr], 0, sizeof(**out));
				if (done)
					git_oid_fromstr(&(*out)[*nr].old_oid, done);
				git_oid_cpy(&(*out)[*nr].new_oid, target);
				(*out)[(*nr)++].ref = xstrdup(name);
			}
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return 0;
}

/* DATA/repos/REPO.git/gitd-push.lock, opened (created if need be); -1 with errno. */
static int open_push_lock(const char *data_dir, const char *repo)
{
	char *repo_path = repos_path(data_dir, repo), *path = xstrfmt("%s/gitd-push.lock", repo_path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	free(repo_path);
	return fd;
}

int reconcile_push_begin(const char *data_dir, const char *repo)
{
	int fd = open_push_lock(data_dir, repo);

	if (fd >= 0 && flock(fd, LOCK_SH) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int reconcile_repo(const char *data_dir, const struct gitd_config *cfg, const char *repo_name)
{
	char *path = repos_path(data_dir, repo_name), *lock = xstrfmt("%s/queue/reconcile.lock", data_dir);
	git_repository *repo = NULL;
	json_t *state = NULL, *jobs = NULL;
	struct ref_update *updates = NULL;
	size_t nr = 0;
	unsigned long id;
	int push_fd = open_push_lock(data_dir, repo_name), fd = -1, rc = -1;

	if (push_fd >= 0 && flock(push_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = 0; /* a push runs: its post-receive may not have queued its job yet */
		goto cleanup;
	}
	/* one reconciliation at a time, so two of them do not queue the same refs */
	if (queue_init(data_dir) < 0 || (fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX) < 0 || git_repository_open_bare(&repo, path) < 0)
		goto cleanup;
	state = state_load(data_dir, repo_name);
	jobs = queue_list(data_dir, repo_name, 1000);
	if (missing_updates(&updates, &nr, repo, cfg, json_object_get(state, "refs"), jobs) < 0)
		goto cleanup;
	if (nr && queue_enqueue(&id, data_dir, repo_name, "gitd", updates, nr) < 0)
		goto cleanup;
	if (nr) {
		char n[32];
		snprintf(n, sizeof(n), "%zu", nr);
		log_event(LOG_INFO, "reconcile-queued", "repo", repo_name, "refs", n, NULL);
	}
	rc = (int)nr;
cleanup:
	if (rc < 0)
		log_event(LOG_ERROR, "reconcile-failed", "repo", repo_name, NULL);
	if (fd >= 0)
		close(fd);
	if (push_fd >= 0)
		close(push_fd);
	hookinput_free(updates, nr);
	json_decref(state);
	json_decref(jobs);
	git_repository_free(repo);
	free(lock);
	free(path);
	return rc;
}

void reconcile_all(const char *data_dir, const struct gitd_config *cfg)
{
	char *dir = xstrfmt("%s/repos", data_dir);
	struct strbuf scratch = STRBUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *name;

		if (!ends_with(de->d_name, ".git") || strlen(de->d_name) <= 4)
			continue;
		name = xstrndup(de->d_name, strlen(de->d_name) - 4);
		if (strcmp(name, DEPLOY_REPO) && strcmp(name, ADMIN_REPO) && reponame_check(name, &scratch) == 0)
			reconcile_repo(data_dir, cfg, name);
		free(name);
	}
	if (d)
		closedir(d);
	strbuf_release(&scratch);
	free(dir);
}
