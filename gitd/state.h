/*
 * state: what gitd last deployed for a repo, DATA/state/REPO.json:
 *
 *   { "refs": { "refs/heads/main": "<sha>", ... },      refs handled by a job
 *     "envs": { "dev": { "commit": "<sha>", "ref": "refs/heads/main",
 *                        "deploy_commit": "<sha>", "image": "...",
 *                        "job": 42, "time": "...", "status": "ok" } } }
 *
 * Written only by the job of that repo (one runs at a time), atomically;
 * read by `ssh gitd status` and by reconciliation.
 */
#ifndef GITD_STATE_H
#define GITD_STATE_H

#include <jansson.h>

/* The state of repo (new reference); an empty state when there is none yet. */
json_t *state_load(const char *data_dir, const char *repo);
/* 0, or -1 with errno. */
int state_save(const char *data_dir, const char *repo, const json_t *state);

#endif
