/*
 * adminrepo: the admin repository, repos/gitd-admin.git, the source of
 * truth for users, keys and permissions (gitolite-style):
 *
 *     access.yaml        who may do what (access.h)
 *     users/NAME.pub     user NAME's public keys, one per line (pubkey.h)
 *
 * Top-level README* and dot files (.gitignore, ...) are allowed; anything
 * else, and anything in users/ that is not NAME.pub, gets a warning and is
 * ignored. A tree is valid when access.yaml is valid, every users/NAME.pub
 * has a valid NAME and only valid keys, no key belongs to two users, every
 * name in access.yaml has a key file, and some admin has a key.
 *
 * The daemon reads the state fresh from HEAD on every connection
 * (adminrepo_load); the pre-receive hook checks a pushed tree
 * (adminrepo_load_tree, with the repository opened with
 * GIT_REPOSITORY_OPEN_FROM_ENV so quarantined objects are visible); admin
 * commands change it through adminrepo_commit, which validates the same
 * way and commits straight into the bare repository.
 *
 * The caller initialises libgit2 (git_libgit2_init) before calling these.
 */
#ifndef GITD_ADMINREPO_H
#define GITD_ADMINREPO_H

#include <stddef.h>

#include <git2.h>
#include <libssh/libssh.h>

#include "access.h"
#include "diag.h"
#include "pubkey.h"
#include "strbuf.h"
#include "strvec.h"

#define ADMINREPO_BRANCH "refs/heads/main"
#define ADMINREPO_ACCESS "access.yaml"
/* A key file holds a few lines; anything bigger is a mistake. */
#define ADMINREPO_KEYFILE_MAX (64 * 1024)
/* Returned by adminrepo_commit() when the change leaves the tree as it was. */
#define ADMINREPO_UNCHANGED 1

struct admin_state;

/*
 * Load and validate the admin state from tree (objects are read from repo).
 * Every problem is added to d, which is then sorted; the files are named
 * by their path in the tree ("users/alice.pub"). Returns 0 and sets *out,
 * or -1 with *out NULL if there is any error (warnings alone do not fail).
 */
int adminrepo_load_tree(struct admin_state **out, git_repository *repo, const git_tree *tree,
			struct diags *d);
/*
 * The same, from the commit HEAD points at in the bare repository at path.
 * A missing repository or branch is an error in d (file: path).
 */
int adminrepo_load(struct admin_state **out, const char *path, struct diags *d);
void admin_state_free(struct admin_state *s);

/* The access model. Callers of adminrepo_commit may change it (see adminrepo_edit_access). */
const struct access *admin_state_access(const struct admin_state *s);
/* Every valid key, each with its owner (user name) and fingerprint, in file order. */
const struct pubkey_list *admin_state_keys(const struct admin_state *s);
/* The user names (one per users/NAME.pub), sorted. */
const struct strvec *admin_state_users(const struct admin_state *s);
int admin_state_has_user(const struct admin_state *s, const char *name);
/* The key equal to key (its owner says who logged in), or NULL. */
const struct pubkey *admin_state_find_key(const struct admin_state *s, const ssh_key key);
/* The commit the state was loaded from; NULL when it came from a bare tree. */
const git_oid *admin_state_commit(const struct admin_state *s);

/*
 * Create the admin repository for `gitd init`: a bare repository at path
 * with HEAD -> refs/heads/main and one commit, authored by admin, holding
 * users/ADMIN.pub (keys: the admin's public key lines, as read from the
 * file named keys_file, e.g. --admin-key, rewritten in canonical form) and
 * access.yaml:
 *
 *     admins: [ADMIN]
 *     repos:
 *       deploy: {}        # the deploy repo: grant ArgoCD read here
 *
 * Fails, creating nothing, when admin is not a valid user name or keys
 * holds no valid key (problems in d); fails when a repository already
 * exists at path (message in err). 0 on success, -1 on failure.
 */
int adminrepo_init(const char *path, const char *admin, const char *keys_file, const char *keys,
		   size_t keys_len, struct diags *d, struct strbuf *err);

/* ---- changes by admin commands ---- */

/* The change being prepared; valid only inside the edit callback. */
struct adminrepo_edit;

/*
 * Commit a change to the admin repository at path, on behalf of user
 * author ("NAME <NAME@gitd>"; the committer is "gitd <gitd@localhost>"):
 *
 *   1. load the state of refs/heads/main;
 *   2. call edit(e, err, payload), which reads the state and records file
 *      changes through the adminrepo_edit_* functions; a negative return
 *      aborts with the callback's message in err;
 *   3. build the new tree, validate it like a push (problems in d: refused
 *      if any error), commit it with message and move refs/heads/main with
 *      compare-and-swap.
 *
 * If another writer moved the branch in between, everything is redone from
 * the new state (edit is called again, so it must derive its changes from
 * the state it is given), a few times at most. Returns 0 and sets *out (may
 * be NULL) to the new commit; ADMINREPO_UNCHANGED when the tree would not
 * change (nothing is committed); -1 with a message in err on failure.
 */
int adminrepo_commit(git_oid *out, const char *path, const char *author, const char *message,
		     int (*edit)(struct adminrepo_edit *e, struct strbuf *err, void *payload),
		     void *payload, struct diags *d, struct strbuf *err);

/* The state the change starts from. */
const struct admin_state *adminrepo_edit_state(const struct adminrepo_edit *e);
/*
 * The access model of that state, to change with the access_* mutators.
 * Calling this makes access.yaml be rewritten from the model in canonical
 * form (comments are not kept) after the callback returns.
 */
struct access *adminrepo_edit_access(struct adminrepo_edit *e);
/* Current content of path, with the changes so far: 0 and *out filled, or 1 if absent. */
int adminrepo_edit_read(const struct adminrepo_edit *e, const char *path, struct strbuf *out);
/* Set the content of path (e.g. "users/bob.pub"), creating it if needed. */
void adminrepo_edit_set(struct adminrepo_edit *e, const char *path, const char *buf, size_t len);
/* Delete path; nothing happens if it does not exist. */
void adminrepo_edit_delete(struct adminrepo_edit *e, const char *path);

/* Append the canonical text of access.yaml for model a: 0, or -1 if it cannot be written. */
int adminrepo_access_yaml(struct strbuf *out, const struct access *a);

#endif
