/*
 * reconcile: make sure every pushed ref that deploys gets a job.
 *
 * git tells the client a push succeeded before it runs post-receive, so
 * the hook's job can be lost (the client disconnects, gitd restarts).
 * After every receive-pack and at startup, gitd compares each repo's refs
 * that deploy somewhere (a ref matching an environment of gitd.yaml) with
 * the refs its jobs handled (state.h) and with the jobs still queued, and
 * queues one job for whatever is missing.
 */
#ifndef GITD_RECONCILE_H
#define GITD_RECONCILE_H

struct gitd_config;

/*
 * A push of repo starts: keep the returned descriptor open until it ends.
 * Between a push's ref update and its post-receive queuing the job, the
 * job is neither queued nor done, and must not be taken for a lost one, so
 * reconcile_repo() does nothing while a push of repo runs: the last push
 * to end reconciles. The descriptor holds a shared lock on the repo's
 * gitd-push.lock; -1 when it cannot be taken (the push goes on).
 */
int reconcile_push_begin(const char *data_dir, const char *repo);

/*
 * Queue what repo is missing; the number of refs queued (0 too when a push
 * of repo runs), or -1 on error (logged).
 */
int reconcile_repo(const char *data_dir, const struct gitd_config *cfg, const char *repo);
/* reconcile_repo() for every app repository. */
void reconcile_all(const char *data_dir, const struct gitd_config *cfg);

#endif
