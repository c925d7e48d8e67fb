#include "repos.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "fileutil.h"
#include "log.h"
#include "reponame.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "banned.h"

char *repos_path(const char *data_dir, const char *name)
{
	return xstrfmt("%s/repos/%s.git", data_dir, name);
}

int repos_exists(const char *data_dir, const char *name)
{
	char *path = repos_path(data_dir, name);
	struct stat st;
	int exists = stat(path, &st) == 0 && S_ISDIR(st.st_mode);

	free(path);
	return exists;
}

int repos_create(const char *data_dir, const char *name, struct strbuf *err)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	char *path = repos_path(data_dir, name);
	int rc = -1;

	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
		     GIT_REPOSITORY_INIT_MKPATH;
	opts.initial_head = "main";
	if (git_repository_init_ext(&repo, path, &opts) < 0) {
		const git_error *e = git_error_last();
		strbuf_addf(err, "cannot create repository %s: %s", name, e ? e->message : "unknown error");
		goto cleanup;
	}
	rc = 0;
cleanup:
	git_repository_free(repo);
	free(path);
	return rc;
}

int repos_delete(const char *data_dir, const char *name, struct strbuf *err)
{
	char *path = repos_path(data_dir, name);
	char *trash = xstrfmt("%s/trash", data_dir);
	char *dest = xstrfmt("%s/%s-%lld.git", trash, name, (long long)time(NULL));
	int rc = -1;

	if (mkdir(trash, 0700) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create %s: %s", trash, strerror(errno));
		goto cleanup;
	}
	if (rename(path, dest) < 0) {
		strbuf_addf(err, "cannot move repository %s to the trash: %s", name, strerror(errno));
		goto cleanup;
	}
	rc = 0;
cleanup:
	free(path);
	free(trash);
	free(dest);
	return rc;
}

/* Replace link atomically with a symlink to target. */
static int symlink_replace(const char *target, const char *link, struct strbuf *err)
{
	char *tmp = xstrfmt("%s.tmp", link);
	int rc = -1;

	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
		strbuf_addf(err, "cannot link %s to %s: %s", link, target, strerror(errno));
		unlink(tmp);
		goto cleanup;
	}
	rc = 0;
cleanup:
	free(tmp);
	return rc;
}

int repos_install_hooks(const char *data_dir, const char *bin_dir, struct strbuf *err)
{
	static const char *const hooks[][2] = {
		{ "pre-receive", "gitd-pre-receive" },
		{ "post-receive", "gitd-post-receive" },
	};
	char *dir = xstrfmt("%s/hooks", data_dir);
	int rc = -1;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		char *target = xstrfmt("%s/%s", bin_dir, hooks[i][1]);
		char *link = xstrfmt("%s/%s", dir, hooks[i][0]);
		int failed = symlink_replace(target, link, err) < 0;

		free(target);
		free(link);
		if (failed)
			goto cleanup;
	}
	rc = 0;
cleanup:
	free(dir);
	return rc;
}

/* The entries of dir whose name starts with prefix, in out. */
static void list_entries(struct strvec *out, const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (starts_with(de->d_name, prefix) && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(out, de->d_name);
	if (d)
		closedir(d);
}

static void remove_quarantines(const char *repos_dir, const char *repo)
{
	char *objects = xstrfmt("%s/%s.git/objects", repos_dir, repo);
	struct strvec dirs = STRVEC_INIT;

	/* listed first: a directory is not changed while it is being read */
	list_entries(&dirs, objects, "tmp_objdir-incoming-");
	for (size_t i = 0; i < dirs.nr; i++) {
		char *path = xstrfmt("%s/%s", objects, dirs.v[i]);

		if (remove_tree(path) < 0)
			log_event(LOG_WARN, "dead-push-not-removed", "repo", repo, "dir", dirs.v[i], "error",
				  strerror(errno), NULL);
		else
			log_event(LOG_INFO, "dead-push-removed", "repo", repo, "dir", dirs.v[i], NULL);
		free(path);
	}
	strvec_clear(&dirs);
	free(objects);
}

void repos_remove_dead_pushes(const char *data_dir)
{
	char *dir = xstrfmt("%s/repos", data_dir);
	struct strvec repos = STRVEC_INIT;

	reponame_list(&repos, data_dir);
	for (size_t i = 0; i < repos.nr; i++)
		remove_quarantines(dir, repos.v[i]);
	strvec_clear(&repos);
	free(dir);
}
