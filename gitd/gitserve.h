/*
 * gitserve: serve git-upload-pack, git-receive-pack and git-upload-archive
 * for an authenticated user: check the repository name and the user's
 * permission, then run git with an argv array and an environment built
 * from nothing, bridged to the channel.
 *
 * An unknown repository and one the user may not read get the same answer,
 * so names do not leak. The deploy repo is never writable over SSH.
 */
#ifndef GITD_GITSERVE_H
#define GITD_GITSERVE_H

#include "command.h"

struct dispatch_ctx;

/* The exit status for the client, or -1 if the connection was lost. */
int gitserve_run(const struct dispatch_ctx *ctx, enum git_service service, const char *arg);

/*
 * Fill c's environment for running git in repository name on behalf of
 * ctx's user: identity (GITD_*), gitd's hooks, no system or global git config.
 */
struct child;
void gitserve_env(struct child *c, const struct dispatch_ctx *ctx, const char *name);

/* Where the environment of every git gitd runs starts: PATH, HOME=data_dir, no system or global config. */
struct strvec;
void gitserve_base_env(struct strvec *env, const char *data_dir);

#endif
