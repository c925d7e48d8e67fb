/*
 * deploy: land rendered environments in the deploy repo (DESIGN.md "The
 * deploy repo"), straight into the bare repository's object database with
 * libgit2: no working tree, no index, nothing to clean up after a crash.
 *
 * One call makes at most one commit on refs/heads/main:
 *
 *   - for each rendered environment ENV, the folder ENV/APP/ becomes
 *     exactly the rendered files (a file no longer rendered disappears);
 *     other apps and other environments are untouched;
 *   - argocd/applicationset.yaml is (re)written: see
 *     deploy_applicationset();
 *   - when the resulting tree equals main's, there is no commit
 *     (DEPLOY_UNCHANGED);
 *   - main moves by compare-and-swap: when something else moved it in
 *     between, the same change is applied again on top of the new tip,
 *     up to DEPLOY_MAX_ATTEMPTS times, so concurrent deploys of different
 *     apps all land. gitd's own writers also take turns, threads on a
 *     mutex and processes on a record lock (fcntl(2)) on DEPLOY_LOCK_FILE
 *     in the repository, held only to read main, write the commit and move
 *     main: with optimistic retries alone, a writer can starve while
 *     others keep landing. Two jobs of the same app must not run at once:
 *     the last to land wins.
 *
 * Commits are authored and committed by "gitd <gitd@localhost>". Message:
 *
 *   shop@1a2b3c4: dev, staging       APP@SHORT-SHA: the environments that changed
 *
 *   Source-Repo: shop
 *   Source-Commit: 1a2b3c4d...       (full id)
 *   Pushed-By: alice
 *   Image: 127.0.0.1:5000/shop@sha256:...
 *
 * The first commit on an empty deploy repo (main unborn) works the same way.
 * The caller initializes libgit2 (git_libgit2_init()); each call opens the
 * repository itself, so threads may call these functions at once.
 */
#ifndef GITD_DEPLOY_H
#define GITD_DEPLOY_H

#include <stddef.h>

#include <git2.h>

#include "render.h"
#include "strbuf.h"

/* deploy_write() / deploy_remove_app() result when there was nothing to commit. */
#define DEPLOY_UNCHANGED 1
/* Attempts to move main before giving up on other writers. */
#define DEPLOY_MAX_ATTEMPTS 10
/* gitd's writers' lock, in the bare repository, and how long to wait for it. */
#define DEPLOY_LOCK_FILE "gitd-deploy.lock"
#define DEPLOY_LOCK_TIMEOUT_MS 60000
/* The deploy repo as ArgoCD reaches it inside the cluster (deploy/kubernetes). */
#define DEPLOY_DEFAULT_REPO_URL "ssh://git@gitd.gitd.svc:22/deploy.git"
#define DEPLOY_BRANCH "refs/heads/main"
#define DEPLOY_APPSET_PATH "argocd/applicationset.yaml"

struct deploy_info {
	const char *source_repo;   /* Source-Repo: the app repo's name */
	const char *source_commit; /* Source-Commit: full hex id; NULL: none */
	const char *pushed_by;     /* Pushed-By; NULL: none */
	const char *image;         /* Image: the built image; NULL: none */
	const char *repo_url;      /* for the ApplicationSet; NULL: DEPLOY_DEFAULT_REPO_URL */
	const char *namespace_pattern; /* gitd.yaml `namespace:`; NULL: "{app}-{env}" */
	/*
	 * Called once per attempt, after the commit is written and before
	 * main moves; NULL for none. Tests move main here, as a concurrent
	 * writer would.
	 */
	void (*before_update)(void *payload);
	void *payload;
};

struct deploy_result {
	git_oid commit;    /* the new commit; main's tip when unchanged (zero if unborn) */
	unsigned attempts; /* 1, or more when other writers moved main meanwhile */
};

/*
 * Write the n rendered environments envs (from render_env(), all of app
 * app) into the bare repository at repo_path. 0 after committing,
 * DEPLOY_UNCHANGED when nothing changed, -1 with a message in err.
 * out may be NULL.
 */
int deploy_write(struct deploy_result *out, const char *repo_path, const char *app,
		 const struct render_files *envs, size_t n, const struct deploy_info *info,
		 struct strbuf *err);

/*
 * Remove ENV/APP/ from every environment folder (every top-level folder
 * but argocd/), for an app repo that was deleted; info's source_repo and
 * pushed_by go into the message. Returns as deploy_write().
 */
int deploy_remove_app(struct deploy_result *out, const char *repo_path, const char *app,
		      const struct deploy_info *info, struct strbuf *err);

/*
 * Append argocd/applicationset.yaml's text: deploy/argocd/applicationset.yaml
 * (a git directory generator over every ENV/APP folder, one Application
 * each) with repo_url as the repository, and the Application's name and
 * namespace derived from the folder by namespace_pattern ({app} is the
 * second path segment, {env} the first). NULLs take the defaults.
 */
void deploy_applicationset(struct strbuf *out, const char *repo_url, const char *namespace_pattern);

#endif
