/*
 * gitd-pre-receive: git runs this before it updates any ref of a push,
 * with "<old> <new> <ref>" lines on stdin and the pushed objects still in
 * quarantine. A non-zero exit refuses the whole push: nothing changes on
 * the server. It checks, for every ref:
 *
 *   - the refs: rules of access.yaml (who may create or move a ref);
 *   - that deletions and non-fast-forward updates come from a repo admin;
 *   - for the admin repo, that the pushed tree is a valid admin state;
 *   - for an app repo, the manifests of every commit a ref deploys (a ref
 *     matching an environment of gitd.yaml, and the default branch),
 *     read straight from the object database (renderer/validate.h), then
 *     renders each environment in memory, so an accepted push renders.
 *
 * Every problem of the push is printed, then a one-line summary.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "access.h"
#include "adminrepo.h"
#include "config.h"
#include "diag.h"
#include "hookinput.h"
#include "metrics.h"
#include "strbuf.h"
#include "util.h"
#include "render.h"
#include "source.h"
#include "validate.h"
#include "banned.h"

struct push {
	const char *data_dir;
	const char *repo_name;
	const char *user;
	git_repository *repo;
	struct admin_state *admin;
	struct gitd_config *cfg;
	struct diags *d;
	struct validate_stats stats; /* of the app validations, for the summary */
	git_oid *validated;          /* commits already validated in this push */
	size_t validated_nr, validated_alloc;
};


/* 1 if old..new is not a fast-forward (history would be rewritten). */
static int rewrites_history(git_repository *repo, const struct ref_update *u)
{
	if (git_oid_is_zero(&u->old_oid) || git_oid_is_zero(&u->new_oid))
		return 0;
	if (starts_with(u->ref, "refs/tags/"))
		return 1; /* moving a tag rewrites what a release means */
	return git_graph_descendant_of(repo, &u->new_oid, &u->old_oid) != 1;
}

static void check_access(struct push *p, const struct ref_update *u)
{
	const struct access *a = admin_state_access(p->admin);
	int is_admin = access_perm(a, p->repo_name, p->user) >= ACCESS_ADMIN;
	struct access_ref_rule rule;

	if (git_oid_is_zero(&u->new_oid) && !is_admin)
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "ref-delete",
			  "%s: deleting a ref needs admin permission on %s", u->ref, p->repo_name);
	else if (rewrites_history(p->repo, u) && !is_admin)
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "ref-force",
			  "%s: a force push (not a fast-forward) needs admin permission on %s; "
			  "pull and merge or rebase instead", u->ref, p->repo_name);
	if (!access_ref_check(&rule, a, p->repo_name, p->user, u->ref)) {
		struct strbuf msg = STRBUF_INIT;

		access_ref_refusal(&msg, &rule, u->ref);
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "ref-rule", "%s", msg.buf);
		strbuf_release(&msg);
	}
}

/* A push to the admin repo: its one branch must hold a valid admin state. */
static void check_admin_push(struct push *p, const struct ref_update *u)
{
	struct admin_state *next = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;

	if (strcmp(u->ref, ADMINREPO_BRANCH)) {
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "admin-branch",
			  "%s: the admin repo has a single branch, main", u->ref);
		return;
	}
	if (git_oid_is_zero(&u->new_oid)) {
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "admin-branch", "main cannot be deleted");
		return;
	}
	if (git_commit_lookup(&commit, p->repo, &u->new_oid) < 0 || git_commit_tree(&tree, commit) < 0)
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "admin-tree", "cannot read the pushed commit");
	else
		adminrepo_load_tree(&next, p->repo, tree, p->d);
	admin_state_free(next);
	git_tree_free(tree);
	git_commit_free(commit);
}

/* 1 if ref deploys somewhere: the default branch, or an environment's ref pattern. */
static int ref_deploys(const struct push *p, const char *ref)
{
	for (size_t i = 0; i < config_env_count(p->cfg); i++)
		if (!fnmatch(config_env(p->cfg, i)->ref, ref, 0))
			return 1;
	return !strcmp(ref, "refs/heads/main");
}

/*
 * Validate the manifests of the commit u brings, once per commit, then
 * render every environment in memory (render_check()), so an accepted push
 * renders. Both read one source: each file is read and parsed once.
 */
static void check_app_push(struct push *p, const struct ref_update *u)
{
	struct strbuf err = STRBUF_INIT;
	struct source *src = NULL;
	char hex[GIT_OID_HEXSZ + 1];

	if (git_oid_is_zero(&u->new_oid) || !ref_deploys(p, u->ref))
		return;
	for (size_t i = 0; i < p->validated_nr; i++)
		if (git_oid_equal(&p->validated[i], &u->new_oid))
			return;
	ALLOC_GROW(p->validated, p->validated_nr + 1, p->validated_alloc);
	git_oid_cpy(&p->validated[p->validated_nr++], &u->new_oid);
	git_oid_tostr(hex, sizeof(hex), &u->new_oid);
	if (source_open_rev(&src, git_repository_path(p->repo), getenv("GIT_QUARANTINE_PATH"), hex, &err) < 0) {
		diags_add(p->d, DIAG_ERROR, "", 0, 0, "git", "cannot read the pushed commit: %s", err.buf);
		goto cleanup;
	}
	if (validate_app(p->d, src, p->cfg, p->repo_name, NULL) == 0 && validate_is_app(src))
		render_check(p->d, src, p->cfg, p->repo_name, NULL);
	p->stats.files += source_files_read(src);
	p->stats.is_app |= validate_is_app(src);
cleanup:
	source_free(src);
	strbuf_release(&err);
}

/* Count a refusal by its reason: access when a ref rule refused, validation otherwise. */
static void count_refusal(const struct push *p)
{
	for (size_t i = 0; i < diags_nr(p->d); i++) {
		const struct diag *dg = diags_get(p->d, i);

		if (dg->severity == DIAG_ERROR && starts_with(dg->rule, "ref-")) {
			metrics_inc(M_PUSH_REFUSED_ACCESS);
			return;
		}
	}
	metrics_inc(M_PUSH_REFUSED_VALIDATION);
}

static void print_summary(const struct push *p)
{
	size_t errors = diags_count(p->d, DIAG_ERROR);
	struct strbuf line = STRBUF_INIT;

	diags_print(p->d, stderr);
	if (p->validated_nr || errors) {
		validate_format_summary(&line, p->d, &p->stats);
		fprintf(stderr, "gitd: %s%s\n", errors ? "push refused: " : "", line.buf);
	}
	strbuf_release(&line);
}

static struct gitd_config *load_config(const char *data_dir, struct diags *d)
{
	char *path = xstrfmt("%s/gitd.yaml", data_dir);
	struct gitd_config *cfg = NULL;

	if (config_load(&cfg, path, d) < 0)
		diags_add(d, DIAG_ERROR, "", 0, 0, "config",
			  "the server's gitd.yaml is invalid; an operator must run `gitd check-config`");
	free(path);
	return cfg;
}

static const char *need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		die("%s is not set: this hook runs only under gitd", name);
	return v;
}

int main(int argc, char **argv)
{
	struct push p = { 0 };
	struct ref_update *updates = NULL;
	size_t nr = 0;
	char *admin_path;
	int rc;

	(void)argc;
	set_progname(argv[0]);
	p.data_dir = need_env("GITD_DATA");
	p.repo_name = need_env("GITD_REPO");
	p.user = need_env("GITD_USER");
	git_libgit2_init();
	p.d = diags_new();
	if (hookinput_read(&updates, &nr, stdin, p.d) < 0)
		goto report;
	/* GIT_DIR and the quarantine's object directories come from git. */
	if (git_repository_open_ext(&p.repo, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0)
		die("cannot open the repository: %s", git_error_last()->message);
	admin_path = xstrfmt("%s/repos/gitd-admin.git", p.data_dir);
	if (adminrepo_load(&p.admin, admin_path, p.d) < 0)
		diags_add(p.d, DIAG_ERROR, "", 0, 0, "admin-state",
			  "the admin repo is unreadable; an operator must check the server log");
	free(admin_path);
	p.cfg = load_config(p.data_dir, p.d);
	for (size_t i = 0; p.admin && p.cfg && i < nr; i++) {
		check_access(&p, &updates[i]);
		if (!strcmp(p.repo_name, "gitd-admin"))
			check_admin_push(&p, &updates[i]);
		else
			check_app_push(&p, &updates[i]);
	}
report:
	diags_sort(p.d);
	print_summary(&p);
	rc = diags_count(p.d, DIAG_ERROR) ? 1 : 0;
	if (rc && metrics_attach(p.data_dir) == 0)
		count_refusal(&p);
	hookinput_free(updates, nr);
	admin_state_free(p.admin);
	config_free(p.cfg);
	free(p.validated);
	git_repository_free(p.repo);
	diags_free(p.d);
	git_libgit2_shutdown();
	return rc;
}
