/*
 * housekeep: keep repositories packed, one `git gc --auto` per repository
 * at a time.
 *
 * receive-pack's own gc is off (gitserve.c): every push would start one,
 * and two pushes finishing together race for gc.pid.lock, so one pusher
 * reads git's "fatal: Unable to create '.../gc.pid.lock': File exists".
 * The job that follows a push runs it instead, after its result is
 * recorded, so the pusher never waits for a repack. An exclusive lock,
 * REPO.git/gitd-gc.lock, keeps a second gc out: it skips rather than waits.
 * The deploy repo, written by libgit2 as loose objects, is kept packed the
 * same way.
 */
#ifndef GITD_HOUSEKEEP_H
#define GITD_HOUSEKEEP_H

/*
 * From now on a SIGTERM does not kill this process: it stops a running gc,
 * skips the ones still to come, and makes housekeep_repo() return -1. A job
 * calls it before recording its result, so a stop that lands after that
 * point leaves a finished job, not one the worker would try to requeue.
 */
void housekeep_catch_term(void);

/*
 * Run `git gc --auto` in DATA/repos/REPO.git unless another gc holds it.
 * Failures are logged (gitd's log): packing is never worth failing a job.
 * Returns -1 once a SIGTERM was caught (any gc it interrupted was stopped
 * with all its processes; the caller should wind up), 0 otherwise.
 */
int housekeep_repo(const char *data_dir, const char *repo);

#endif
