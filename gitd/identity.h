/*
 * identity: who is on the other end of a connection, and the admin state
 * (users, keys, access.yaml) their rights come from.
 *
 * The admin state is read from the admin repo's HEAD once per connection,
 * so a change (a push to gitd-admin or an admin command) takes effect on
 * the next connection, with no restart and no cache to invalidate.
 */
#ifndef GITD_IDENTITY_H
#define GITD_IDENTITY_H

#include "access.h"
#include "adminrepo.h"

struct identity {
	char *user;        /* NULL until a signature was verified */
	char *fingerprint; /* SHA256:... of the key that signed */
};

void identity_release(struct identity *who);

/* The admin state of data_dir's admin repo, or NULL (problems are logged). */
struct admin_state *identity_load_admin(const char *data_dir);

/* user's permission on repo; ACCESS_NONE without an admin state. */
enum access_perm identity_perm(const struct admin_state *admin, const char *user, const char *repo);

/*
 * Create every repository that access.yaml names exactly (not by a pattern)
 * and that does not exist yet, as gitolite does when its config names a new
 * repo. Run after each accepted push to the admin repo.
 */
void identity_sync_repos(const char *data_dir);

#endif
