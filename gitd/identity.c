#include "identity.h"

#include <stdlib.h>

#include "log.h"
#include "reponame.h"
#include "repos.h"
#include "strbuf.h"
#include "util.h"
#include "banned.h"

void identity_release(struct identity *who)
{
	free(who->user);
	free(who->fingerprint);
	who->user = who->fingerprint = NULL;
}

struct admin_state *identity_load_admin(const char *data_dir)
{
	char *path = repos_path(data_dir, ADMIN_REPO);
	struct diags *d = diags_new();
	struct admin_state *state = NULL;

	if (adminrepo_load(&state, path, d) < 0) {
		for (size_t i = 0; i < diags_nr(d); i++) {
			const struct diag *e = diags_get(d, i);
			if (e->severity == DIAG_ERROR)
				log_event(LOG_ERROR, "admin-repo-invalid", "file", e->file,
					  "message", e->message, NULL);
		}
	}
	diags_free(d);
	free(path);
	return state;
}

enum access_perm identity_perm(const struct admin_state *admin, const char *user, const char *repo)
{
	if (!admin || !user)
		return ACCESS_NONE;
	return access_perm(admin_state_access(admin), repo, user);
}

void identity_sync_repos(const char *data_dir)
{
	struct admin_state *admin = identity_load_admin(data_dir);
	const struct access *a;
	struct strbuf err = STRBUF_INIT;

	if (!admin)
		return;
	a = admin_state_access(admin);
	for (size_t i = 0; i < access_repo_count(a); i++) {
		const char *name = access_repo_key(a, i);

		if (reponame_is_pattern(name) || repos_exists(data_dir, name))
			continue;
		strbuf_reset(&err);
		if (repos_create(data_dir, name, &err) < 0)
			log_event(LOG_ERROR, "repo-create-failed", "repo", name, "error", err.buf, NULL);
		else
			log_event(LOG_INFO, "repo-created", "repo", name, "by", "access.yaml", NULL);
	}
	strbuf_release(&err);
	admin_state_free(admin);
}
