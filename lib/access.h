/*
 * access: the model of access.yaml in the admin repo, who may do what.
 *
 *     admins: [admin]              # server admins: admin on every repository,
 *                                  # and the admin commands (user, perm, repo ...)
 *     repos:                       # repository name or pattern -> user -> permission
 *       shop: { alice: write, bob: read }
 *       "team-*": { carol: write } # fnmatch(3) pattern, see reponame.h
 *       deploy: { argocd: read }
 *       "*": { "*": read }         # every user may read every repository
 *     refs:                        # optional: only these users may update matching refs
 *       shop:
 *         refs/tags/v*: [alice]
 *     roles:                       # optional
 *       builder: [ci]              # may report build results
 *
 * Permissions are ordered: none < read < write < admin. read lets a user
 * fetch; write also push; admin is write plus managing that repository
 * (the daemon decides which commands that covers). A user's permission on
 * a repository is the highest of every entry that names it or whose pattern
 * matches it; a server admin has admin everywhere.
 *
 * Patterns never match the admin repository, ACCESS_ADMIN_REPO: only an
 * entry named exactly "gitd-admin" grants on it, so "*": { "*": write }
 * cannot hand out control of access.yaml by accident. Write on gitd-admin
 * is as good as admin: whoever pushes there edits access.yaml.
 *
 * The user "*" (quoted in YAML) stands for every authenticated user. It may
 * be given read or write in repos:, never admin, and may not appear in
 * admins:, refs: or roles:.
 *
 * refs: rules restrict, they never grant: a push must first have write.
 * For each update of a ref, every rule of every refs: entry matching the
 * repository whose pattern matches the ref (fnmatch(3) without FNM_PATHNAME,
 * so '*' also matches '/') must list the pusher. Server admins are not
 * exempt, so the file says exactly who may tag a release. An empty list
 * freezes the matching refs. The daemon should check creations, moves and
 * deletions alike (deleting a tag and pushing it again moves it).
 *
 * Every name in the file must be a valid user name (reponame.h) with a key
 * file users/NAME.pub in the admin repo. Keys are kept in canonical order
 * (sorted), which is also the order of access_to_json().
 */
#ifndef GITD_ACCESS_H
#define GITD_ACCESS_H

#include <stddef.h>

#include <jansson.h>

#include "diag.h"
#include "strbuf.h"
#include "strvec.h"
#include "yamlload.h"

enum access_perm {
	ACCESS_NONE,
	ACCESS_READ,
	ACCESS_WRITE,
	ACCESS_ADMIN,
};

#define ACCESS_EVERYONE "*"
#define ACCESS_ADMIN_REPO "gitd-admin"
#define ACCESS_ROLE_BUILDER "builder"

struct access;

/* A refs: rule, as returned by access_ref_check(). Borrowed from the model. */
struct access_ref_rule {
	const char *repo;          /* the refs: key holding it: "shop", "team-*" */
	const char *pattern;       /* "refs/tags/v*" */
	const char *const *users;  /* who may update matching refs, sorted */
	size_t users_nr;           /* 0: nobody */
};

/* An empty model: no admins, no repositories. */
struct access *access_new(void);
void access_free(struct access *a);

/*
 * Build the model from doc, the loaded access.yaml, checking everything and
 * adding every problem to d with its position in ydoc_file(doc). users
 * holds the known user names (those with users/NAME.pub); NULL skips that
 * check. On success returns 0 and sets *out; with any error returns -1 and
 * sets *out to NULL (warnings alone do not fail).
 */
int access_parse(struct access **out, const struct ydoc *doc, const struct strvec *users,
		 struct diags *d);

/* The canonical form (new reference): keys in the order above, every map sorted. */
json_t *access_to_json(const struct access *a);

/* "none", "read", "write", "admin". */
const char *access_perm_name(enum access_perm perm);
/* Parse one of those four names; 0, or -1 if s is none of them. */
int access_perm_parse(enum access_perm *out, const char *s);

/* ---- queries ---- */

/* The user's permission on repository repo (a name, not a pattern). */
enum access_perm access_perm(const struct access *a, const char *repo, const char *user);
int access_is_admin(const struct access *a, const char *user);
/* 1 if user holds role (e.g. ACCESS_ROLE_BUILDER), else 0. */
int access_has_role(const struct access *a, const char *user, const char *role);
/*
 * May user update ref in repository repo, as far as refs: rules go?
 * Returns 1 if so; 0 if a rule refuses, which is described in *out (may be
 * NULL). The caller still checks write permission separately.
 */
int access_ref_check(struct access_ref_rule *out, const struct access *a, const char *repo,
		     const char *user, const char *ref);
/*
 * Append why rule refuses an update of ref, e.g. "refs/tags/v1: only alice
 * may create or move refs matching refs/tags/v* (access.yaml refs.shop)".
 */
void access_ref_refusal(struct strbuf *out, const struct access_ref_rule *rule, const char *ref);

/* Server admins, sorted. */
size_t access_admin_count(const struct access *a);
const char *access_admin(const struct access *a, size_t i);

/* Entries of repos:, sorted by key (a name or a pattern). */
size_t access_repo_count(const struct access *a);
const char *access_repo_key(const struct access *a, size_t i);
/* The grants of entry i, sorted by user: user j's name, its permission in *perm. */
size_t access_repo_grant_count(const struct access *a, size_t i);
const char *access_repo_grant(const struct access *a, size_t i, size_t j, enum access_perm *perm);
/* 1 if repos: has an entry whose key is exactly key. */
int access_has_repo(const struct access *a, const char *key);

/* ---- changes, for the admin commands ---- */

/*
 * Give user (or ACCESS_EVERYONE) perm on entry repo (a name or pattern),
 * creating the entry if needed; ACCESS_NONE removes the user from the
 * entry, which stays, and creates none. 0, or -1 with a message in err for
 * an invalid name or "*" with admin. Whether the user exists is the
 * caller's to check.
 */
int access_set_perm(struct access *a, const char *repo, const char *user, enum access_perm perm,
		    struct strbuf *err);
/* Add an empty repos: entry; 0 if added, 1 if it was there, -1 (err) if key is invalid. */
int access_add_repo(struct access *a, const char *key, struct strbuf *err);
/* Remove the repos: and refs: entries with exactly this key; 0 if one was there, else 1. */
int access_remove_repo(struct access *a, const char *key);
/* Make user a server admin or not; 0, or -1 (err) for an invalid name. */
int access_set_admin(struct access *a, const char *user, int admin, struct strbuf *err);
/* Remove user from admins, repos, refs and roles; returns the number of places. */
size_t access_remove_user(struct access *a, const char *user);

#endif
