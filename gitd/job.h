/*
 * job: what a queued push does, run by the worker in a process of its own:
 * render every environment the pushed refs deploy to into the deploy repo,
 * as one commit, then record the result (state.h) and finish the job
 * (queue.h). Progress goes to the job's log, which the pusher sees
 * streamed by gitd-post-receive and `ssh gitd logs` shows later.
 * Later steps (image builds, mirroring) belong here too.
 */
#ifndef GITD_JOB_H
#define GITD_JOB_H

struct gitd_config;
struct job;

/* 0 when the job succeeded. The job is finished (moved to done/) either way. */
int job_run(const char *data_dir, const struct gitd_config *cfg, const struct job *j);

#endif
