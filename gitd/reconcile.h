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

/* Queue what repo is missing; the number of refs queued, or -1 on error (logged). */
int reconcile_repo(const char *data_dir, const struct gitd_config *cfg, const char *repo);
/* reconcile_repo() for every app repository. */
void reconcile_all(const char *data_dir, const struct gitd_config *cfg);

#endif
