/*
 * reponame: repository names, name patterns, and user names.
 *
 * A repository name is what follows "repos/" on disk (without ".git"), the
 * key in access.yaml and the {repo} in mirror URLs, so it is kept to a
 * small, safe alphabet: [a-z0-9][a-z0-9._-]*, at most REPONAME_MAX bytes,
 * with no "..", not ending in '.' and not ending in ".git" (which clients
 * may add, see reponame_normalize()). No slash: repositories do not nest.
 *
 * A pattern (access.yaml keys like "team-*") may also use the fnmatch(3)
 * wildcards '*', '?' and bracket expressions "[a-z]", "[!0-9]" of the same
 * alphabet. A pattern without wildcards is a plain name.
 *
 * A user name (users/NAME.pub in the admin repo, GITD_USER, the author of
 * admin commits) uses the same alphabet and shape, at most USERNAME_MAX
 * bytes, and may end in ".git".
 *
 * Messages put in err quote the offending input with every byte that is
 * not printable ASCII written as \xNN, cut after 40 bytes, so hostile input
 * can be echoed back.
 */
#ifndef GITD_REPONAME_H
#define GITD_REPONAME_H

#include "strbuf.h"

#define REPONAME_MAX 100
#define USERNAME_MAX 64

/* 0 if name is a valid repository name; else -1 with a message in err. */
int reponame_check(const char *name, struct strbuf *err);

/* 0 if name is a valid user name; else -1 with a message in err. */
int reponame_check_user(const char *name, struct strbuf *err);

/* 0 if pattern is a valid name or name pattern; else -1 with a message in err. */
int reponame_check_pattern(const char *pattern, struct strbuf *err);
/*
 * The names of the repositories under DATA/repos (each NAME.git whose NAME
 * is a valid repository name), sorted, appended to out.
 */
struct strvec;
void reponame_list(struct strvec *out, const char *data_dir);

/* 1 if s holds a wildcard ('*', '?' or '['), 0 if it is a plain name. */
int reponame_is_pattern(const char *s);

/* 1 if name matches pattern (a valid name or pattern), else 0. */
int reponame_match(const char *pattern, const char *name);

/*
 * Turn the path a git client sends ("shop", "/shop", "shop.git",
 * "/shop.git") into the repository name ("shop"): drop one leading '/' and
 * one ".git" suffix, then check the rest with reponame_check(). On success
 * *out is the name (caller frees) and 0 is returned; otherwise *out is NULL,
 * err holds a message and -1 is returned.
 */
int reponame_normalize(char **out, const char *in, struct strbuf *err);

#endif
