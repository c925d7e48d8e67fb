/*
 * build: the image an app runs, built from the pushed commit and pinned by
 * digest (docs/builds.md).
 *
 * A job calls build_image() for each commit whose app builds an image
 * (app.yaml `build:`) before rendering it. The answer is an image
 * reference with its digest, REGISTRY/APP@sha256:..., which the renderer
 * puts in the Deployment and the deploy commit in its Image: trailer:
 *
 *   1. reuse: DATA/builds/records/REPO/COMMIT.json remembers what each
 *      commit built (per Dockerfile), so a commit is never built twice
 *      (a tag that deploys to prod renders the image built for main);
 *   2. supersede: when a newer pending job of the repo deploys every
 *      environment this build is for, the build is not started, or is
 *      stopped (its process group killed, its temp dir removed);
 *   3. build with builder.kind from gitd.yaml:
 *        buildah  export the commit's tree into a private temp dir,
 *                 `buildah bud`, `buildah push --digestfile`
 *        command  the same with any builder, from an argv template
 *        webhook  POST a signed request to a CI system, which answers
 *                 with `ssh gitd build-done JOB DIGEST` (build_report())
 *        none     nothing builds: apps must set `image:`
 *      Local builds run at most builder.max_parallel at once (across
 *      jobs) and builder.timeout seconds each.
 *
 * Everything the builder prints goes to the job's log, a line at a time,
 * with a heartbeat line when it is silent for BUILD_HEARTBEAT_SECONDS.
 * Registry credentials (builder.auth_file) reach the builder as a file
 * name, never on a command line or in the log.
 *
 * While a build runs, SIGTERM (gitd stopping) stops the builder and
 * cleans up before the job process dies of it, so the job is queued
 * again; a crash of gitd instead leaves a record that
 * build_cleanup_stale() uses at the next start.
 */
#ifndef GITD_BUILD_H
#define GITD_BUILD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "strbuf.h"

struct gitd_config;
struct job;
struct source;
struct strvec;

/* build_image() result when a newer job made the build pointless. */
#define BUILD_SUPERSEDED 1

#define BUILD_HEARTBEAT_SECONDS 10
/* Defaults of gitd.yaml's builder keys. */
#define BUILD_DEFAULT_TIMEOUT 1800
#define BUILD_DEFAULT_MAX_PARALLEL 1
/* A build context (the commit's files) larger than this is refused. */
#define BUILD_MAX_CONTEXT_BYTES ((size_t)2 << 30)

struct build_request {
	const char *data_dir;
	const struct gitd_config *cfg;
	const struct job *job;    /* the job that builds: its id names the build */
	const char *app;          /* the app's name: the image is REGISTRY/APP */
	const char *commit;       /* full hex id of the commit to build */
	const char *dockerfile;   /* app.yaml's `build:`, a path in the repo */
	const char *const *envs;  /* the environments the image is for */
	size_t nenvs;
};

/*
 * The image for req in *out (caller frees): recorded for the commit, or
 * built now, with progress on log. 0; BUILD_SUPERSEDED (logged); -1 with
 * why in err: the builder's own error line when it failed.
 */
int build_image(char **out, const struct build_request *req, FILE *log, struct strbuf *err);

/*
 * The id of a pending job of req's repo, newer than req's, that deploys
 * every one of req's environments; 0 when there is none.
 */
unsigned long build_superseded_by(const struct build_request *req);

/* app.yaml of src (new reference), or NULL when there is none or it does not parse. */
json_t *build_load_app_yaml(struct source *src);

/*
 * Remove what builds of a previous run of gitd left (temp dirs, pending
 * webhook waits), killing any builder still running. Call before any job
 * starts.
 */
void build_cleanup_stale(const char *data_dir);

/*
 * An external builder's result for job (`build-done` / `build-failed`):
 * digest ("sha256:" and 64 hex digits) or, when digest is NULL, the
 * reason it failed. 0; -1 with a message in err when the job is not
 * waiting for a build or digest is malformed.
 */
int build_report(const char *data_dir, unsigned long job, const char *digest, const char *reason,
		 struct strbuf *err);

/* 1 if s is "sha256:" followed by 64 lowercase hex digits. */
int build_digest_ok(const char *s);

/* The registry repository of app: "REGISTRY/APP" (caller frees). */
char *build_image_name(const struct gitd_config *cfg, const char *app);

/*
 * The tag a build of dockerfile at commit pushes: the commit id, followed
 * by "-" and the Dockerfile's path (made tag-safe) for any Dockerfile but
 * "Dockerfile" (caller frees).
 */
char *build_tag(const char *commit, const char *dockerfile);

/* HMAC-SHA256 of data with key, as 64 lowercase hex digits plus NUL in out. */
void build_hmac_sha256_hex(char out[65], const void *key, size_t key_len, const void *data, size_t len);

/*
 * Fill the placeholders {context}, {dockerfile}, {image} and {digestfile}
 * of each string of tmpl (a JSON array of strings) from the matching
 * values; the result is appended to argv.
 */
void build_expand_argv(struct strvec *argv, const json_t *tmpl, const char *context,
		       const char *dockerfile, const char *image, const char *digestfile);

/*
 * Write the tree of commit (full hex) of the bare repository git_dir into
 * the empty directory dir: files, executables, directories and symbolic
 * links, without following any link, refusing entry names git itself
 * refuses; submodules become empty directories. -1 with a message in err,
 * also past max_bytes of file data.
 */
int build_export(const char *dir, const char *git_dir, const char *commit, size_t max_bytes,
		 struct strbuf *err);

/*
 * The builder's error line in output: the last line that starts with
 * "error" (any case), else the last non-empty line; appended to out.
 */
void build_error_line(struct strbuf *out, const char *output);

#endif
