/*
 * The deploy repo writer: see deploy.h. Each attempt reads main's tree,
 * swaps in the prepared ENV/APP trees (built once, before the first
 * attempt), and moves main only if it still points where it did.
 */
#include "deploy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s.h"
#include "source.h"
#include "util.h"
#include "banned.h"

/*
 * deploy/argocd/applicationset.yaml from its `apiVersion:` line on, with
 * @URL@ for the repository and @NS@ for the name and namespace template;
 * tests/unit/test_deploy.c checks that the two stay the same.
 */
static const char appset_template[] =
	"apiVersion: argoproj.io/v1alpha1\n"
	"kind: ApplicationSet\n"
	"metadata:\n"
	"  name: gitd-deploy\n"
	"  namespace: argocd\n"
	"spec:\n"
	"  goTemplate: true\n"
	"  goTemplateOptions: [\"missingkey=error\"]\n"
	"  generators:\n"
	"    - git:\n"
	"        repoURL: @URL@\n"
	"        revision: HEAD\n"
	"        directories:\n"
	"          - path: \"*/*\"\n"
	"          # argocd/ holds manifests for ArgoCD itself, not an app.\n"
	"          - path: \"argocd/*\"\n"
	"            exclude: true\n"
	"  template:\n"
	"    metadata:\n"
	"      name: '@NS@'\n"
	"      labels:\n"
	"        app.kubernetes.io/part-of: gitd\n"
	"        env: '{{index .path.segments 0}}'\n"
	"        app: '{{index .path.segments 1}}'\n"
	"      # An app folder removed from the deploy repo is removed from the cluster.\n"
	"      finalizers:\n"
	"        - resources-finalizer.argocd.argoproj.io\n"
	"    spec:\n"
	"      project: gitd-apps\n"
	"      source:\n"
	"        repoURL: @URL@\n"
	"        targetRevision: HEAD\n"
	"        path: '{{.path.path}}'\n"
	"      destination:\n"
	"        server: https://kubernetes.default.svc\n"
	"        namespace: '@NS@'\n"
	"      syncPolicy:\n"
	"        automated:\n"
	"          prune: true\n"
	"          selfHeal: true\n"
	"        syncOptions:\n"
	"          - CreateNamespace=true\n"
	"  syncPolicy:\n"
	"    # Deleting this ApplicationSet leaves the running apps alone.\n"
	"    preserveResourcesOnDeletion: true\n";

static const char appset_header[] =
	"# Written by gitd on every deploy; edits here are overwritten.\n"
	"# One ArgoCD Application per ENV/APP folder of this repository, deployed\n"
	"# into the namespace gitd renders the folder for. Apply it once:\n"
	"#   kubectl apply -n argocd -f argocd/applicationset.yaml\n"
	"# (with the AppProject and repository Secret of gitd's deploy/argocd/).\n";

/* ---- the ApplicationSet ---- */

/* A URL as a YAML scalar: plain when that reads back the same, else single-quoted. */
static void add_yaml_url(struct strbuf *out, const char *url)
{
	int plain = (*url >= 'a' && *url <= 'z') || (*url >= 'A' && *url <= 'Z') || *url == '/';

	for (const char *p = url; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("@:/._~%+=?&-", *p);
	if (plain) {
		strbuf_addstr(out, url);
		return;
	}
	strbuf_addch(out, '\'');
	for (const char *p = url; *p; p++)
		strbuf_add(out, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
	strbuf_addch(out, '\'');
}

/* The namespace pattern as a Go template over the folder's path, inside single quotes. */
static void add_ns_template(struct strbuf *out, const char *pattern)
{
	for (const char *p = pattern; *p; p++) {
		if (starts_with(p, "{app}")) {
			strbuf_addstr(out, "{{index .path.segments 1}}");
			p += 4;
		} else if (starts_with(p, "{env}")) {
			strbuf_addstr(out, "{{index .path.segments 0}}");
			p += 4;
		} else {
			strbuf_add(out, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1);
		}
	}
}

void deploy_applicationset(struct strbuf *out, const char *repo_url, const char *namespace_pattern)
{
	const char *url = repo_url ? repo_url : DEPLOY_DEFAULT_REPO_URL;
	const char *pattern = namespace_pattern ? namespace_pattern : "{app}-{env}";

	strbuf_addstr(out, appset_header);
	for (const char *p = appset_template; *p; p++) {
		if (starts_with(p, "@URL@")) {
			add_yaml_url(out, url);
			p += 4;
		} else if (starts_with(p, "@NS@")) {
			add_ns_template(out, pattern);
			p += 3;
		} else {
			strbuf_addch(out, *p);
		}
	}
}

/* ---- checking the input ---- */

static int gitfail(struct strbuf *err, const char *what)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "%s: %s", what, e && e->message ? e->message : "unknown error");
	return -1;
}

/* A commit message value: one line, no control characters. */
static int check_value(const char *what, const char *s, struct strbuf *err)
{
	for (const char *p = s; p && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			strbuf_addf(err, "%s holds a control character", what);
			return -1;
		}
	}
	return 0;
}

static int check_info(const struct deploy_info *info, struct strbuf *err)
{
	if (!info->source_repo || !*info->source_repo) {
		strbuf_addstr(err, "the source repo's name is missing");
		return -1;
	}
	return check_value("the source repo", info->source_repo, err) ||
	       check_value("the source commit", info->source_commit, err) ||
	       check_value("the pusher", info->pushed_by, err) ||
	       check_value("the image", info->image, err) ||
	       check_value("the repository URL", info->repo_url, err) ||
	       check_value("the namespace pattern", info->namespace_pattern, err) ? -1 : 0;
}

/* ENV and APP name folders: DNS labels, and no environment may take argocd/. */
static int check_folder(const char *what, const char *name, struct strbuf *err)
{
	const char *why = name ? k8s_check_dns_label(name) : "is missing";

	if (why) {
		strbuf_addf(err, "%s `%s` %s", what, name ? name : "", why);
		return -1;
	}
	if (!strcmp(what, "environment") && !strcmp(name, "argocd")) {
		strbuf_addstr(err, "environment `argocd` would replace the ApplicationSet's folder");
		return -1;
	}
	return 0;
}

/* Every file of rf lies under ENV/APP/, with a clean relative path. */
static int check_files(const struct render_files *rf, const char *app, struct strbuf *err)
{
	char *prefix;
	int ret = 0;

	if (check_folder("environment", rf->env, err) || check_folder("app", rf->app, err))
		return -1;
	if (strcmp(rf->app, app)) {
		strbuf_addf(err, "environment %s holds app %s, not %s", rf->env, rf->app, app);
		return -1;
	}
	prefix = xstrfmt("%s/%s/", rf->env, rf->app);
	for (size_t i = 0; i < rf->nr && !ret; i++) {
		const char *path = rf->v[i].path;

		if (!starts_with(path, prefix) || !source_path_ok(path) || !path[strlen(prefix)]) {
			strbuf_addf(err, "file `%s` is not under %s", path, prefix);
			ret = -1;
		}
	}
	free(prefix);
	return ret;
}

/* ---- building trees ---- */

static int cmp_file_ptr(const void *a, const void *b)
{
	const struct render_file *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/*
 * Write the tree of files[lo, hi) (sorted by path), each named by its path
 * from byte skip on; a '/' there starts a subtree. Paths sharing a folder
 * are adjacent in sorted order.
 */
static int build_tree(git_oid *out, git_repository *repo, struct render_file *const *files,
		      size_t lo, size_t hi, size_t skip, struct strbuf *err)
{
	git_treebuilder *bld = NULL;
	int ret = -1;

	if (git_treebuilder_new(&bld, repo, NULL) < 0)
		return gitfail(err, "cannot build a tree");
	for (size_t i = lo, j; i < hi; i = j) {
		const char *name = files[i]->path + skip;
		const char *slash = strchr(name, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);
		char *entry = xstrndup(name, len);
		git_oid id;
		int r;

		for (j = i + 1; slash && j < hi && !strncmp(files[j]->path + skip, name, len + 1); j++)
			;
		if (slash)
			r = build_tree(&id, repo, files, i, j, skip + len + 1, err);
		else if ((r = git_blob_create_from_buffer(&id, repo, files[i]->data, files[i]->len)) < 0)
			gitfail(err, "cannot write a file");
		if (!r && (r = git_treebuilder_insert(NULL, bld, entry, &id,
						      slash ? GIT_FILEMODE_TREE : GIT_FILEMODE_BLOB)) < 0)
			gitfail(err, files[i]->path);
		free(entry);
		if (r < 0)
			goto cleanup;
	}
	if (git_treebuilder_write(out, bld) < 0) {
		gitfail(err, "cannot write a tree");
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_treebuilder_free(bld);
	return ret;
}

/* The tree of ENV/APP/ from rf's files. */
static int build_app_tree(git_oid *out, git_repository *repo, const struct render_files *rf,
			  struct strbuf *err)
{
	struct render_file **files = xcalloc(rf->nr + 1, sizeof(*files));
	size_t skip = strlen(rf->env) + strlen(rf->app) + 2;
	int ret = 0;

	for (size_t i = 0; i < rf->nr; i++)
		files[i] = &rf->v[i];
	qsort(files, rf->nr, sizeof(*files), cmp_file_ptr);
	for (size_t i = 1; i < rf->nr && !ret; i++) {
		if (!strcmp(files[i]->path, files[i - 1]->path)) {
			strbuf_addf(err, "file `%s` is given twice", files[i]->path);
			ret = -1;
		}
	}
	if (!ret)
		ret = build_tree(out, repo, files, 0, rf->nr, skip, err);
	free(files);
	return ret;
}

/*
 * In the root tree builder, set DIR/NAME to id with mode, or remove it
 * (id NULL); a folder left empty disappears, as git has no empty folders.
 */
static int set_in_dir(git_treebuilder *root, git_repository *repo, const char *dir,
		      const char *name, const git_oid *id, git_filemode_t mode, struct strbuf *err)
{
	const git_tree_entry *e = git_treebuilder_get(root, dir);
	git_treebuilder *bld = NULL;
	git_tree *sub = NULL;
	git_oid sub_id;
	int ret = -1;

	if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
		return gitfail(err, dir);
	if (git_treebuilder_new(&bld, repo, sub) < 0 ||
	    (id && git_treebuilder_insert(NULL, bld, name, id, mode) < 0) ||
	    (!id && git_treebuilder_get(bld, name) && git_treebuilder_remove(bld, name) < 0)) {
		gitfail(err, dir);
		goto cleanup;
	}
	if (!git_treebuilder_entrycount(bld))
		ret = git_treebuilder_get(root, dir) ? git_treebuilder_remove(root, dir) : 0;
	else if ((ret = git_treebuilder_write(&sub_id, bld)) == 0)
		ret = git_treebuilder_insert(NULL, root, dir, &sub_id, GIT_FILEMODE_TREE);
	if (ret < 0)
		gitfail(err, dir);
cleanup:
	git_treebuilder_free(bld);
	git_tree_free(sub);
	return ret < 0 ? -1 : 0;
}

/* ---- one change, tried until it lands ---- */

/* What one call changes: prepared once, applied to whatever main holds. */
struct change {
	const char *app;
	const struct render_files *envs; /* NULL: remove the app everywhere */
	size_t n;
	git_oid *trees;  /* the new ENV/APP tree of each env */
	git_oid appset;  /* argocd/applicationset.yaml's blob */
	const struct deploy_info *info;
};

/* main's commit and tree, or unborn (both NULL, 0). */
struct tip {
	git_oid id;
	git_commit *commit;
	git_tree *tree;
};

static int read_tip(struct tip *out, git_repository *repo, struct strbuf *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = git_reference_name_to_id(&out->id, repo, DEPLOY_BRANCH);
	if (r == GIT_ENOTFOUND) {
		memset(&out->id, 0, sizeof(out->id));
		return 0;
	}
	if (r < 0 || git_commit_lookup(&out->commit, repo, &out->id) < 0 ||
	    git_commit_tree(&out->tree, out->commit) < 0)
		return gitfail(err, "cannot read " DEPLOY_BRANCH);
	return 0;
}

static void tip_release(struct tip *t)
{
	git_tree_free(t->tree);
	git_commit_free(t->commit);
}

/* The id of path in tree (may be NULL), or zero. */
static void entry_id(git_oid *out, git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;

	memset(out, 0, sizeof(*out));
	if (tree && git_tree_entry_bypath(&e, tree, path) == 0)
		git_oid_cpy(out, git_tree_entry_id(e));
	git_tree_entry_free(e);
}

/* The environments this change moves, for the subject: "dev, staging". */
static void add_changed(struct strbuf *out, const struct change *ch, git_tree *old)
{
	size_t start = out->len;
	git_oid was;

	for (size_t i = 0; i < ch->n; i++) {
		char *path = xstrfmt("%s/%s", ch->envs[i].env, ch->app);

		entry_id(&was, old, path);
		if (!git_oid_equal(&was, &ch->trees[i]))
			strbuf_addf(out, "%s%s", out->len > start ? ", " : "", ch->envs[i].env);
		free(path);
	}
	/* the ApplicationSet only when it is all that changed: new URL or pattern */
	if (out->len == start)
		strbuf_addstr(out, "argocd");
}

/* Top-level folders of tree holding APP/ (environments to remove the app from). */
static void app_envs(struct strvec *out, git_tree *tree, const char *app)
{
	for (size_t i = 0; tree && i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		char *path = xstrfmt("%s/%s", git_tree_entry_name(e), app);
		git_oid id;

		entry_id(&id, tree, path);
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE && strcmp(git_tree_entry_name(e), "argocd") &&
		    !git_oid_is_zero(&id))
			strvec_push(out, git_tree_entry_name(e));
		free(path);
	}
}

static void add_trailers(struct strbuf *msg, const struct deploy_info *info)
{
	strbuf_addf(msg, "\nSource-Repo: %s\n", info->source_repo);
	if (info->source_commit)
		strbuf_addf(msg, "Source-Commit: %s\n", info->source_commit);
	if (info->pushed_by)
		strbuf_addf(msg, "Pushed-By: %s\n", info->pushed_by);
	if (info->image)
		strbuf_addf(msg, "Image: %s\n", info->image);
}

static void write_message(struct strbuf *msg, const struct change *ch, git_tree *old,
			  const struct strvec *removed)
{
	const char *sha = ch->info->source_commit;

	strbuf_addstr(msg, ch->app);
	if (sha)
		strbuf_addf(msg, "@%.7s", sha);
	strbuf_addstr(msg, ": ");
	if (ch->envs) {
		add_changed(msg, ch, old);
	} else {
		strbuf_addstr(msg, "removed from ");
		for (size_t i = 0; i < removed->nr; i++)
			strbuf_addf(msg, "%s%s", i ? ", " : "", removed->v[i]);
	}
	strbuf_addch(msg, '\n');
	add_trailers(msg, ch->info);
}

/* The new root tree: main's with the change applied. */
static int apply_change(git_oid *out, git_repository *repo, const struct change *ch,
			git_tree *base, const struct strvec *removed, struct strbuf *err)
{
	git_treebuilder *root = NULL;
	int ret = -1;

	if (git_treebuilder_new(&root, repo, base) < 0)
		return gitfail(err, "cannot build the root tree");
	for (size_t i = 0; ch->envs && i < ch->n; i++)
		if (set_in_dir(root, repo, ch->envs[i].env, ch->app, &ch->trees[i],
			       GIT_FILEMODE_TREE, err) < 0)
			goto cleanup;
	if (ch->envs && set_in_dir(root, repo, "argocd", "applicationset.yaml", &ch->appset,
				   GIT_FILEMODE_BLOB, err) < 0)
		goto cleanup;
	for (size_t i = 0; i < removed->nr; i++)
		if (set_in_dir(root, repo, removed->v[i], ch->app, NULL, 0, err) < 0)
			goto cleanup;
	if (git_treebuilder_write(out, root) < 0) {
		gitfail(err, "cannot write the root tree");
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_treebuilder_free(root);
	return ret;
}

static int make_commit(git_oid *out, git_repository *repo, const struct tip *tip,
		       const git_oid *tree_id, const char *msg, struct strbuf *err)
{
	const git_commit *parents[1] = { tip->commit };
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	int ret = -1;

	if (git_signature_now(&sig, "gitd", "gitd@localhost") < 0 ||
	    git_tree_lookup(&tree, repo, tree_id) < 0 ||
	    git_commit_create(out, repo, NULL, sig, sig, NULL, msg, tree, tip->commit ? 1 : 0,
			      parents) < 0)
		gitfail(err, "cannot write the commit");
	else
		ret = 0;
	git_tree_free(tree);
	git_signature_free(sig);
	return ret;
}

/*
 * Move main from tip to id. 0 when it moved, 1 when another writer got
 * there first (try again), -1 on other errors.
 */
static int move_main(git_repository *repo, const struct tip *tip, const git_oid *id,
		     const char *subject, struct strbuf *err)
{
	git_reference *ref = NULL;
	char *log = xstrfmt("gitd: %s", subject);
	int r;

	/*
	 * Under the ref's lock, libgit2 compares main with tip->id; the zero id
	 * (unborn main) matches only a missing ref. Creating without force
	 * instead would check for the ref before taking the lock, and could
	 * overwrite a first commit made in between.
	 */
	r = git_reference_create_matching(&ref, repo, DEPLOY_BRANCH, id, 1, &tip->id, log);
	git_reference_free(ref);
	free(log);
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED)
		return 1;
	return r < 0 ? gitfail(err, "cannot move " DEPLOY_BRANCH) : 0;
}

/*
 * Before trying again: a random pause up to 2^attempt ms (at most 64 ms),
 * so writers that keep colliding spread out ("full jitter" back-off).
 */
static void back_off(unsigned attempt)
{
	struct timespec now, ts;
	uint64_t x;

	clock_gettime(CLOCK_MONOTONIC, &now);
	x = ((uint64_t)getpid() << 32) ^ (uint64_t)now.tv_nsec ^ attempt;
	x ^= x >> 33; /* splitmix64's finalizer: enough randomness for a pause */
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x %= (uint64_t)1000 << (attempt < 6 ? attempt : 6); /* microseconds */
	ts.tv_sec = (time_t)(x / 1000000);
	ts.tv_nsec = (long)(x % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One attempt: 0 landed, DEPLOY_UNCHANGED, 1 + DEPLOY_UNCHANGED to retry, -1 error. */
#define ATTEMPT_RETRY (DEPLOY_UNCHANGED + 1)

static int attempt(struct deploy_result *res, git_repository *repo, const struct change *ch,
		   struct strbuf *err)
{
	struct strvec removed = STRVEC_INIT;
	struct strbuf msg = STRBUF_INIT;
	struct tip tip;
	git_oid tree, commit;
	int ret = read_tip(&tip, repo, err);

	if (ret < 0)
		goto cleanup;
	git_oid_cpy(&res->commit, &tip.id);
	if (!ch->envs)
		app_envs(&removed, tip.tree, ch->app);
	ret = -1;
	if (apply_change(&tree, repo, ch, tip.tree, &removed, err) < 0)
		goto cleanup;
	if ((tip.tree && git_oid_equal(&tree, git_tree_id(tip.tree))) || (!ch->envs && !removed.nr)) {
		ret = DEPLOY_UNCHANGED;
		goto cleanup;
	}
	write_message(&msg, ch, tip.tree, &removed);
	if (make_commit(&commit, repo, &tip, &tree, msg.buf, err) < 0)
		goto cleanup;
	if (ch->info->before_update)
		ch->info->before_update(ch->info->payload);
	*strchr(msg.buf, '\n') = '\0';
	ret = move_main(repo, &tip, &commit, msg.buf, err);
	if (ret == 1)
		ret = ATTEMPT_RETRY;
	else if (ret == 0)
		git_oid_cpy(&res->commit, &commit);
cleanup:
	tip_release(&tip);
	strvec_clear(&removed);
	strbuf_release(&msg);
	return ret;
}

/* A pause of ms milliseconds. */
static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * gitd's writers take turns: threads of one process on this mutex,
 * processes on a POSIX record lock on DEPLOY_LOCK_FILE. Unlike flock(2),
 * a record lock does not pass to children the daemon forks while a deploy
 * holds it, and it goes when its process dies.
 */
static pthread_mutex_t writers_mutex = PTHREAD_MUTEX_INITIALIZER;

static int lock_file(int fd, const char *path, int64_t start, struct strbuf *err)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
			strbuf_addf(err, "cannot lock %s: %s", path, strerror(errno));
			return -1;
		}
		if (now_ms() - start > DEPLOY_LOCK_TIMEOUT_MS) {
			strbuf_addf(err, "another deploy has held %s for %d seconds", path,
				    DEPLOY_LOCK_TIMEOUT_MS / 1000);
			return -1;
		}
		pause_ms(2);
	}
	return 0;
}

/* Take the writers' lock of the repository at git_dir; *out is for unlock_writers(). */
static int lock_writers(int *out, const char *git_dir, struct strbuf *err)
{
	char *path = xstrfmt("%s/%s", git_dir, DEPLOY_LOCK_FILE);
	int64_t start = now_ms();
	struct timespec deadline;
	int fd = -1, ret = -1;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DEPLOY_LOCK_TIMEOUT_MS / 1000;
	if (pthread_mutex_timedlock(&writers_mutex, &deadline)) {
		strbuf_addf(err, "another deploy in this process has held %s for %d seconds", path,
			    DEPLOY_LOCK_TIMEOUT_MS / 1000);
		goto cleanup;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		strbuf_addf(err, "cannot open %s: %s", path, strerror(errno));
	if (fd < 0 || lock_file(fd, path, start, err) < 0) {
		if (fd >= 0)
			close(fd);
		pthread_mutex_unlock(&writers_mutex);
		goto cleanup;
	}
	*out = fd; /* transferred */
	ret = 0;
cleanup:
	free(path);
	return ret;
}

static void unlock_writers(int fd)
{
	close(fd); /* releases the record lock */
	pthread_mutex_unlock(&writers_mutex);
}

/* Attempt until the change lands, nothing changes, or other writers win too often. */
static int land(struct deploy_result *res, git_repository *repo, const struct change *ch,
		struct strbuf *err)
{
	int ret;

	do {
		if (res->attempts)
			back_off(res->attempts);
		res->attempts++;
		ret = attempt(res, repo, ch, err);
	} while (ret == ATTEMPT_RETRY && res->attempts < DEPLOY_MAX_ATTEMPTS);
	if (ret == ATTEMPT_RETRY) {
		strbuf_addf(err, "%s kept moving: other writers won %d times in a row", DEPLOY_BRANCH,
			    DEPLOY_MAX_ATTEMPTS);
		ret = -1;
	}
	return ret;
}

/* Prepare what does not depend on main (outside the lock), then land it. */
static int run_change(struct deploy_result *out, const char *repo_path, struct change *ch,
		      struct strbuf *err)
{
	struct deploy_result res;
	git_repository *repo = NULL;
	struct strbuf appset = STRBUF_INIT;
	int lock = -1, ret = -1;

	memset(&res, 0, sizeof(res));
	if (git_repository_open_bare(&repo, repo_path) < 0) {
		gitfail(err, repo_path);
		goto cleanup;
	}
	deploy_applicationset(&appset, ch->info->repo_url, ch->info->namespace_pattern);
	if (ch->envs && git_blob_create_from_buffer(&ch->appset, repo, appset.buf, appset.len) < 0) {
		gitfail(err, "cannot write " DEPLOY_APPSET_PATH);
		goto cleanup;
	}
	for (size_t i = 0; i < ch->n; i++)
		if (build_app_tree(&ch->trees[i], repo, &ch->envs[i], err) < 0)
			goto cleanup;
	if (lock_writers(&lock, git_repository_path(repo), err) < 0)
		goto cleanup;
	ret = land(&res, repo, ch, err);
cleanup:
	if (lock >= 0)
		unlock_writers(lock);
	if (out)
		*out = res;
	strbuf_release(&appset);
	git_repository_free(repo);
	return ret;
}

/* Each environment's files are in order, and no environment comes twice. */
static int check_envs(const char *app, const struct render_files *envs, size_t n,
		      struct strbuf *err)
{
	if (!n) {
		strbuf_addstr(err, "no environment to write");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (check_files(&envs[i], app, err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(envs[i].env, envs[j].env)) {
				strbuf_addf(err, "environment %s is given twice", envs[i].env);
				return -1;
			}
		}
	}
	return 0;
}

int deploy_write(struct deploy_result *out, const char *repo_path, const char *app,
		 const struct render_files *envs, size_t n, const struct deploy_info *info,
		 struct strbuf *err)
{
	struct change ch = { app, envs, n, NULL, { { 0 } }, info };
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	if (check_info(info, err) < 0 || check_folder("app", app, err) < 0 ||
	    check_envs(app, envs, n, err) < 0)
		return -1;
	ch.trees = xcalloc(n, sizeof(*ch.trees));
	ret = run_change(out, repo_path, &ch, err);
	free(ch.trees);
	return ret;
}

int deploy_remove_app(struct deploy_result *out, const char *repo_path, const char *app,
		      const struct deploy_info *info, struct strbuf *err)
{
	struct change ch = { app, NULL, 0, NULL, { { 0 } }, info };

	if (out)
		memset(out, 0, sizeof(*out));
	if (check_info(info, err) < 0 || check_folder("app", app, err) < 0)
		return -1;
	return run_change(out, repo_path, &ch, err);
}
