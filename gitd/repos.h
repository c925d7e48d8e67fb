/*
 * repos: the bare repositories under DATA/repos and the hooks git runs in them.
 *
 * Names are validated by reponame_normalize() before they reach here; these
 * functions only join them under DATA/repos, so a path can never leave it.
 */
#ifndef GITD_REPOS_H
#define GITD_REPOS_H

struct strbuf;

#define DEPLOY_REPO "deploy"
#define ADMIN_REPO "gitd-admin"

/* DATA/repos/NAME.git (caller frees). */
char *repos_path(const char *data_dir, const char *name);
/* 1 if NAME.git exists as a directory. */
int repos_exists(const char *data_dir, const char *name);
/* Create an empty bare repo with HEAD -> refs/heads/main; 0, or -1 with a message. */
int repos_create(const char *data_dir, const char *name, struct strbuf *err);
/*
 * Move NAME.git to DATA/trash/NAME-TIMESTAMP.git: deleting a repo over SSH
 * is recoverable by an operator. 0, or -1 with a message.
 */
int repos_delete(const char *data_dir, const char *name, struct strbuf *err);
/*
 * Point DATA/hooks/pre-receive and post-receive at gitd's hook programs in
 * bin_dir. git finds them through core.hooksPath, set when gitd runs git,
 * so no repository carries hooks of its own.
 */
int repos_install_hooks(const char *data_dir, const char *bin_dir, struct strbuf *err);
/*
 * Remove what pushes killed in the middle left in every repository: git's
 * quarantine directories (objects/tmp_objdir-incoming-*), which hold a
 * push's objects until its refs move. For startup, before gitd serves: no
 * push of its own runs then, so each one found is a dead push's, whose refs
 * never moved (git gc would keep it for two weeks). Logged.
 */
void repos_remove_dead_pushes(const char *data_dir);

#endif
