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
 * Run `git gc --auto` in DATA/repos/REPO.git unless another gc holds it.
 * Failures are logged (gitd's log): packing is never worth failing a job.
 * Returns -1 if a SIGTERM stopped it (the gc was stopped too; the caller
 * should wind up), 0 otherwise.
 */
int housekeep_repo(const char *data_dir, const char *repo);

#endif
