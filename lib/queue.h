/*
 * queue: the durable job queue in DATA/queue, one JSON file per job.
 *
 *   pending/ID.json   accepted pushes waiting for a worker
 *   running/ID.json   taken by a worker; moved back to pending/ at startup,
 *                     so a crash of gitd never loses a job
 *   done/ID.json      the job plus its result (status, message, finished)
 *   seq               the last job id handed out (under lock)
 *
 * Every move is a rename and every write is atomic (fileutil.h), so after a
 * crash at any moment each job is in exactly one directory, whole. Job ids
 * grow, and a worker takes jobs in id order, never two of one repo at once:
 * one repo's pushes are deployed in the order they were accepted.
 *
 * A job's log, streamed to the pusher and kept for `ssh gitd logs`, is
 * DATA/jobs/REPO/ID.log.
 */
#ifndef GITD_QUEUE_H
#define GITD_QUEUE_H

#include <stddef.h>

#include <jansson.h>

#include "hookinput.h"

/* A promotion (`ssh gitd promote APP FROM TO`): render what FROM runs into TO. */
struct job_promote {
	char *from;     /* environments */
	char *to;
	char *ref;      /* the ref FROM was deployed from */
	git_oid commit; /* the commit FROM runs */
	char *image;    /* the image FROM runs when the app builds one, or NULL */
};

struct job {
	unsigned long id;
	char *repo;
	char *pusher;
	struct ref_update *updates; /* none for a promotion */
	size_t nr;
	struct job_promote *promote; /* NULL for a push */
};

/* Create the directories; 0 or -1 with errno. */
int queue_init(const char *data_dir);
/* Move every running/ job back to pending/ (at daemon startup); the number moved. */
size_t queue_requeue_running(const char *data_dir);

/* Add a job; *out gets its id. 0, or -1 with errno. */
int queue_enqueue(unsigned long *out, const char *data_dir, const char *repo, const char *pusher,
		  const struct ref_update *updates, size_t nr);

/* Add a promotion job (no ref updates); *out gets its id. 0, or -1 with errno. */
int queue_enqueue_promote(unsigned long *out, const char *data_dir, const char *repo, const char *user,
			  const struct job_promote *p);

/*
 * The pending jobs of repo whose id is above after, oldest first, in *out
 * (free each with job_free(), then the array); their number.
 */
size_t queue_pending_after(struct job ***out, const char *data_dir, const char *repo, unsigned long after);

/*
 * Take the oldest pending job whose repo busy() says is not busy (busy may
 * be NULL), moving it to running/. 0 and *out set; 1 when there is none.
 */
int queue_claim(struct job **out, const char *data_dir,
		int (*busy)(const char *repo, void *payload), void *payload);

/*
 * Record j's result and move it from running/ to done/. 0, or -1 with errno
 * when the result could not be written: j is in done/ all the same, without
 * it, and reads back as failed (queue_result(), queue_list()).
 */
int queue_finish(const char *data_dir, const struct job *j, const char *status, const char *message);

/* Move j from running/ back to pending/, to run again (it was interrupted). */
int queue_requeue(const char *data_dir, const struct job *j);

/* done/ID.json of job id (new reference) in *out: 0; 1 while it is pending or running; -1 unknown. */
int queue_result(json_t **out, const char *data_dir, unsigned long id);

/* Every job of repo, pending, running or done, newest first (array of job JSON, new reference). */
json_t *queue_list(const char *data_dir, const char *repo, size_t max);

/* The number of jobs in state ("pending", "running", "done"). */
size_t queue_count(const char *data_dir, const char *state);

/*
 * The daemon is draining (DATA/queue/draining exists): pending jobs start
 * only after the restart, so nobody should wait for them now.
 */
int queue_draining(const char *data_dir);
/* Create (on) or remove (off) the draining mark; 0 or -1 with errno. */
int queue_set_draining(const char *data_dir, int on);
/* 1 if job id is still pending (not yet taken by a worker). */
int queue_is_pending(const char *data_dir, unsigned long id);

/* Load the job file at path; 0 or -1. */
int job_load(struct job **out, const char *path);
void job_free(struct job *j);
/* DATA/jobs/REPO/ID.log (caller frees). */
char *job_log_path(const char *data_dir, const char *repo, unsigned long id);

#endif
