/*
 * The deploy repo writer, on temporary bare repositories: exact trees and
 * commit messages, no commit for an unchanged render, stale files pruned,
 * other apps untouched, racing writers all landing, removing an app, and
 * the ApplicationSet kept equal to deploy/argocd/applicationset.yaml.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "../../renderer/deploy.h"
#include "fileutil.h"
#include "strbuf.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

#define SHA "1a2b3c4d5e6f708192a3b4c5d6e7f80912345678"

static char tmpdir[64];
static char *repo_path;

static void setup(void)
{
	git_repository_init_options opts;
	git_repository *repo;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_deploy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	git_libgit2_init();
	repo_path = xstrfmt("%s/deploy.git", tmpdir);
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	opts.initial_head = "main";
	ck_assert_int_eq(git_repository_init_ext(&repo, repo_path, &opts), 0);
	git_repository_free(repo);
}

static void teardown(void)
{
	remove_tree(tmpdir);
	free(repo_path);
	git_libgit2_shutdown();
}

/* One environment's files: pairs of (path under ENV/APP/, content), NULL-terminated. */
static struct render_files files_of(const char *env, const char *app, const char *const *pairs)
{
	struct render_files rf = RENDER_FILES_INIT;

	rf.env = xstrdup(env);
	rf.app = xstrdup(app);
	rf.ns = xstrfmt("%s-%s", app, env);
	for (size_t i = 0; pairs[i]; i += 2) {
		ALLOC_GROW(rf.v, rf.nr + 1, rf.alloc);
		rf.v[rf.nr].path = xstrfmt("%s/%s/%s", env, app, pairs[i]);
		rf.v[rf.nr].data = xstrdup(pairs[i + 1]);
		rf.v[rf.nr].len = strlen(pairs[i + 1]);
		rf.nr++;
	}
	return rf;
}

#define PAIRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct deploy_info alice = { "shop", SHA, "alice", "reg/shop@sha256:ab", NULL, NULL,
					  NULL, NULL };

/* Write one environment of app; returns deploy_write()'s result. */
static int write1(const char *env, const char *app, const char *const *pairs,
		  const struct deploy_info *info, struct deploy_result *res)
{
	struct render_files rf = files_of(env, app, pairs);
	struct strbuf err = STRBUF_INIT;
	int ret = deploy_write(res, repo_path, app, &rf, 1, info, &err);

	ck_assert_msg(ret >= 0, "deploy_write: %s", err.buf);
	render_files_release(&rf);
	strbuf_release(&err);
	return ret;
}

/* ---- reading the repo back ---- */

static git_repository *open_repo(void)
{
	git_repository *repo;

	ck_assert_int_eq(git_repository_open_bare(&repo, repo_path), 0);
	return repo;
}

static int add_path(const char *root, const git_tree_entry *e, void *payload)
{
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		strbuf_addf(payload, "%s%s\n", root, git_tree_entry_name(e));
	return 0;
}

/* Every file of main's tree, one path per line. */
static char *main_files(void)
{
	git_repository *repo = open_repo();
	struct strbuf out = STRBUF_INIT;
	git_commit *c;
	git_tree *t;
	git_oid id;

	ck_assert_int_eq(git_reference_name_to_id(&id, repo, "refs/heads/main"), 0);
	ck_assert_int_eq(git_commit_lookup(&c, repo, &id), 0);
	ck_assert_int_eq(git_commit_tree(&t, c), 0);
	git_tree_walk(t, GIT_TREEWALK_PRE, add_path, &out);
	git_tree_free(t);
	git_commit_free(c);
	git_repository_free(repo);
	return strbuf_detach(&out, NULL);
}

/* The file at path in main, or NULL. */
static char *main_file(const char *path)
{
	git_repository *repo = open_repo();
	git_object *obj = NULL;
	char *data = NULL;

	if (git_revparse_single(&obj, repo, "refs/heads/main") == 0) {
		git_object *blob = NULL;
		char *spec = xstrfmt("refs/heads/main:%s", path);

		if (git_revparse_single(&blob, repo, spec) == 0)
			data = xstrndup(git_blob_rawcontent((git_blob *)blob),
					(size_t)git_blob_rawsize((git_blob *)blob));
		git_object_free(blob);
		free(spec);
	}
	git_object_free(obj);
	git_repository_free(repo);
	return data;
}

static git_commit *main_commit(git_repository *repo)
{
	git_commit *c;
	git_oid id;

	ck_assert_int_eq(git_reference_name_to_id(&id, repo, "refs/heads/main"), 0);
	ck_assert_int_eq(git_commit_lookup(&c, repo, &id), 0);
	return c;
}

/* Commits on main, newest first: each subject line. */
static char *main_log(void)
{
	git_repository *repo = open_repo();
	struct strbuf out = STRBUF_INIT;
	git_commit *c = main_commit(repo);

	while (c) {
		git_commit *parent = NULL;

		strbuf_addf(&out, "%s\n", git_commit_summary(c));
		ck_assert_uint_le(git_commit_parentcount(c), 1);
		if (git_commit_parentcount(c))
			ck_assert_int_eq(git_commit_parent(&parent, c, 0), 0);
		git_commit_free(c);
		c = parent;
	}
	git_repository_free(repo);
	return strbuf_detach(&out, NULL);
}

#define ck_str_free(expr, expected)           \
	do {                                  \
		char *s_ = (expr);            \
		ck_assert_ptr_nonnull(s_);    \
		ck_assert_str_eq(s_, expected); \
		free(s_);                     \
	} while (0)

/* ---- tests ---- */

START_TEST(test_first_commit)
{
	struct render_files envs[2] = {
		files_of("dev", "shop", PAIRS("kustomization.yaml", "k-dev\n", "app/deployment-shop.yaml", "d\n")),
		files_of("staging", "shop", PAIRS("kustomization.yaml", "k-staging\n")),
	};
	struct strbuf err = STRBUF_INIT;
	struct deploy_result res;
	git_repository *repo;
	git_commit *c;

	ck_assert_int_eq(deploy_write(&res, repo_path, "shop", envs, 2, &alice, &err), 0);
	ck_assert_uint_eq(res.attempts, 1);
	ck_str_free(main_files(), "argocd/applicationset.yaml\n"
				  "dev/shop/app/deployment-shop.yaml\n"
				  "dev/shop/kustomization.yaml\n"
				  "staging/shop/kustomization.yaml\n");
	ck_str_free(main_file("dev/shop/app/deployment-shop.yaml"), "d\n");
	repo = open_repo();
	c = main_commit(repo);
	ck_assert(git_oid_equal(git_commit_id(c), &res.commit));
	ck_assert_str_eq(git_commit_message(c), "shop@1a2b3c4: dev, staging\n"
						"\n"
						"Source-Repo: shop\n"
						"Source-Commit: " SHA "\n"
						"Pushed-By: alice\n"
						"Image: reg/shop@sha256:ab\n");
	ck_assert_uint_eq(git_commit_parentcount(c), 0);
	ck_assert_str_eq(git_commit_author(c)->name, "gitd");
	ck_assert_str_eq(git_commit_author(c)->email, "gitd@localhost");
	ck_assert_str_eq(git_commit_committer(c)->email, "gitd@localhost");
	git_commit_free(c);
	git_repository_free(repo);
	render_files_release(&envs[0]);
	render_files_release(&envs[1]);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_unchanged_makes_no_commit)
{
	struct deploy_info other = alice;
	struct deploy_result res, again;

	ck_assert_int_eq(write1("dev", "shop", PAIRS("kustomization.yaml", "k\n"), &alice, &res), 0);
	other.source_commit = "ffffffffffffffffffffffffffffffffffffffff";
	other.pushed_by = "bob";
	ck_assert_int_eq(write1("dev", "shop", PAIRS("kustomization.yaml", "k\n"), &other, &again),
			 DEPLOY_UNCHANGED);
	ck_assert(git_oid_equal(&res.commit, &again.commit));
	ck_str_free(main_log(), "shop@1a2b3c4: dev\n");
}
END_TEST

/* ENV/APP/ is replaced whole; other apps and environments stay as they were. */
START_TEST(test_prune_and_isolation)
{
	struct deploy_info cart = alice;

	cart.source_repo = "cart";
	cart.source_commit = NULL;
	cart.image = NULL;
	write1("dev", "shop", PAIRS("kustomization.yaml", "k\n", "app/a.yaml", "a\n",
				    "resources/b.yaml", "b\n"), &alice, NULL);
	write1("staging", "shop", PAIRS("kustomization.yaml", "k\n", "app/a.yaml", "a\n"), &alice, NULL);
	write1("dev", "cart", PAIRS("kustomization.yaml", "kc\n"), &cart, NULL);
	ck_assert_int_eq(write1("dev", "shop", PAIRS("kustomization.yaml", "k2\n", "app/a.yaml", "a\n",
						     "app/c.yaml", "c\n"), &alice, NULL), 0);
	ck_str_free(main_files(), "argocd/applicationset.yaml\n"
				  "dev/cart/kustomization.yaml\n"
				  "dev/shop/app/a.yaml\n"
				  "dev/shop/app/c.yaml\n"
				  "dev/shop/kustomization.yaml\n"
				  "staging/shop/app/a.yaml\n"
				  "staging/shop/kustomization.yaml\n");
	ck_str_free(main_file("dev/shop/kustomization.yaml"), "k2\n");
	ck_str_free(main_file("dev/cart/kustomization.yaml"), "kc\n");
	ck_str_free(main_log(), "shop@1a2b3c4: dev\ncart: dev\nshop@1a2b3c4: staging\n"
				"shop@1a2b3c4: dev\n");
}
END_TEST

/*
 * Another writer, not taking gitd's lock (another tool, an older gitd):
 * commit path with content on top of main and move main.
 */
static void external_commit(const char *path, const char *content)
{
	git_repository *repo = open_repo();
	git_commit *tip = main_commit(repo);
	git_tree *tree = NULL, *new_tree = NULL;
	git_tree_update up;
	git_signature *sig;
	git_reference *ref;
	git_oid tree_id, id;

	memset(&up, 0, sizeof(up));
	up.action = GIT_TREE_UPDATE_UPSERT;
	up.filemode = GIT_FILEMODE_BLOB;
	up.path = path;
	ck_assert_int_eq(git_blob_create_from_buffer(&up.id, repo, content, strlen(content)), 0);
	ck_assert_int_eq(git_commit_tree(&tree, tip), 0);
	ck_assert_int_eq(git_tree_create_updated(&tree_id, repo, tree, 1, &up), 0);
	ck_assert_int_eq(git_tree_lookup(&new_tree, repo, &tree_id), 0);
	ck_assert_int_eq(git_signature_now(&sig, "other", "other@example.com"), 0);
	ck_assert_int_eq(git_commit_create_v(&id, repo, NULL, sig, sig, NULL, "external\n", new_tree,
					     1, tip), 0);
	ck_assert_int_eq(git_reference_create_matching(&ref, repo, "refs/heads/main", &id, 1,
						       git_commit_id(tip), "external"), 0);
	git_reference_free(ref);
	git_signature_free(sig);
	git_tree_free(new_tree);
	git_tree_free(tree);
	git_commit_free(tip);
	git_repository_free(repo);
}

static int raced;

/* Another writer lands between our commit and our ref update, once. */
static void race_once(void *payload)
{
	(void)payload;
	if (!raced++)
		external_commit("dev/cart/kustomization.yaml", "kc\n");
}

START_TEST(test_other_writer_moves_main)
{
	struct deploy_info info = alice;
	struct deploy_result res;
	git_repository *repo;
	git_commit *c, *parent;

	write1("dev", "shop", PAIRS("kustomization.yaml", "k\n"), &alice, NULL);
	info.before_update = race_once;
	raced = 0;
	ck_assert_int_eq(write1("staging", "shop", PAIRS("kustomization.yaml", "k\n"), &info, &res), 0);
	ck_assert_uint_eq(res.attempts, 2);
	ck_str_free(main_files(), "argocd/applicationset.yaml\n"
				  "dev/cart/kustomization.yaml\n"
				  "dev/shop/kustomization.yaml\n"
				  "staging/shop/kustomization.yaml\n");
	ck_str_free(main_log(), "shop@1a2b3c4: staging\nexternal\nshop@1a2b3c4: dev\n");
	repo = open_repo();
	c = main_commit(repo);
	ck_assert(git_oid_equal(git_commit_id(c), &res.commit));
	ck_assert_int_eq(git_commit_parent(&parent, c, 0), 0);
	ck_assert_str_eq(git_commit_summary(parent), "external");
	git_commit_free(parent);
	git_commit_free(c);
	git_repository_free(repo);
}
END_TEST

/* A writer that always loses gives up after DEPLOY_MAX_ATTEMPTS, with a message. */
static void race_always(void *payload)
{
	char *content = xstrfmt("%d\n", raced++);

	(void)payload;
	external_commit("dev/cart/kustomization.yaml", content);
	free(content);
}

START_TEST(test_gives_up)
{
	struct deploy_info info = alice;
	struct render_files rf = files_of("dev", "shop", PAIRS("kustomization.yaml", "k\n"));
	struct strbuf err = STRBUF_INIT;
	struct deploy_result res;

	write1("dev", "cart", PAIRS("kustomization.yaml", "kc\n"), &alice, NULL);
	info.before_update = race_always;
	raced = 0;
	ck_assert_int_eq(deploy_write(&res, repo_path, "shop", &rf, 1, &info, &err), -1);
	ck_assert_uint_eq(res.attempts, DEPLOY_MAX_ATTEMPTS);
	ck_assert_str_eq(err.buf, "refs/heads/main kept moving: other writers won 10 times in a row");
	ck_assert_ptr_null(main_file("dev/shop/kustomization.yaml"));
	render_files_release(&rf);
	strbuf_release(&err);
}
END_TEST

/* gitd's writers take turns: one waits while another process holds the lock, then lands. */
START_TEST(test_writers_take_turns)
{
	char *lock_path = xstrfmt("%s/%s", repo_path, DEPLOY_LOCK_FILE);
	int fd = open(lock_path, O_RDWR | O_CREAT, 0644);
	struct flock fl;
	int status;
	pid_t pid;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_SETLKW, &fl), 0);
	pid = fork(); /* the child does not inherit the record lock */
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct render_files rf = files_of("dev", "shop", PAIRS("kustomization.yaml", "k\n"));
		struct strbuf err = STRBUF_INIT;

		_exit(deploy_write(NULL, repo_path, "shop", &rf, 1, &alice, &err) == 0 ? 0 : 1);
	}
	usleep(200 * 1000);
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);
	ck_assert_ptr_null(main_file("dev/shop/kustomization.yaml"));
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_str_free(main_file("dev/shop/kustomization.yaml"), "k\n");
	free(lock_path);
}
END_TEST

/* Threads of one process deploying different apps at once: every deploy lands. */
static void *thread_writer(void *arg)
{
	char *app = xstrfmt("app%d", *(int *)arg);
	struct deploy_info info = alice;
	intptr_t bad = 0;

	info.source_repo = app;
	for (int i = 0; i < 5; i++) {
		char *k = xstrfmt("round %d\n", i);
		struct render_files rf = files_of("dev", app, PAIRS("kustomization.yaml", k));
		struct strbuf err = STRBUF_INIT;

		bad |= deploy_write(NULL, repo_path, app, &rf, 1, &info, &err) != 0;
		render_files_release(&rf);
		strbuf_release(&err);
		free(k);
	}
	free(app);
	return (void *)bad;
}

START_TEST(test_concurrent_threads)
{
	pthread_t threads[4];
	int ids[4] = { 0, 1, 2, 3 };
	char *log;
	size_t lines = 0;

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&threads[i], NULL, thread_writer, &ids[i]), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;

		ck_assert_int_eq(pthread_join(threads[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
	log = main_log();
	for (const char *p = log; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_uint_eq(lines, 20);
	free(log);
	ck_str_free(main_file("dev/app3/kustomization.yaml"), "round 4\n");
}
END_TEST

#define WRITERS 4
#define ROUNDS 10

/* Separate processes deploying different apps at once: every deploy lands. */
START_TEST(test_concurrent_processes)
{
	pid_t pids[WRITERS];
	char *files, *log;
	size_t lines = 0;

	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0) {
			char *app = xstrfmt("app%d", w);
			struct deploy_info info = alice;
			int bad = 0;

			info.source_repo = app;
			for (int i = 0; i < ROUNDS; i++) {
				char *k = xstrfmt("round %d\n", i);
				struct render_files rf = files_of("dev", app, PAIRS("kustomization.yaml", k));
				struct strbuf err = STRBUF_INIT;

				bad |= deploy_write(NULL, repo_path, app, &rf, 1, &info, &err) != 0;
				if (err.len)
					fprintf(stderr, "%s: %s\n", app, err.buf);
				render_files_release(&rf);
				strbuf_release(&err);
				free(k);
			}
			_exit(bad);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;

		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", w);
	}
	files = main_files();
	for (int w = 0; w < WRITERS; w++) {
		char *path = xstrfmt("dev/app%d/kustomization.yaml", w);

		ck_assert_ptr_nonnull(strstr(files, path));
		ck_str_free(main_file(path), "round 9\n");
		free(path);
	}
	log = main_log();
	for (const char *p = log; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_uint_eq(lines, WRITERS * ROUNDS);
	free(log);
	free(files);
}
END_TEST

START_TEST(test_remove_app)
{
	struct deploy_info admin = { "shop", NULL, "admin", NULL, NULL, NULL, NULL, NULL };
	struct strbuf err = STRBUF_INIT;
	struct deploy_result res;
	git_repository *repo;
	git_commit *c;

	ck_assert_int_eq(deploy_remove_app(&res, repo_path, "shop", &admin, &err), DEPLOY_UNCHANGED);
	write1("dev", "shop", PAIRS("kustomization.yaml", "k\n", "app/a.yaml", "a\n"), &alice, NULL);
	write1("staging", "shop", PAIRS("kustomization.yaml", "k\n"), &alice, NULL);
	write1("dev", "cart", PAIRS("kustomization.yaml", "kc\n"), &alice, NULL);
	ck_assert_int_eq(deploy_remove_app(&res, repo_path, "shop", &admin, &err), 0);
	ck_str_free(main_files(), "argocd/applicationset.yaml\ndev/cart/kustomization.yaml\n");
	repo = open_repo();
	c = main_commit(repo);
	ck_assert_str_eq(git_commit_message(c), "shop: removed from dev, staging\n"
						"\n"
						"Source-Repo: shop\n"
						"Pushed-By: admin\n");
	git_commit_free(c);
	git_repository_free(repo);
	ck_assert_int_eq(deploy_remove_app(&res, repo_path, "shop", &admin, &err), DEPLOY_UNCHANGED);
	ck_assert_str_eq(err.buf, "");
	strbuf_release(&err);
}
END_TEST

/* Lines from the first "apiVersion:" on: what follows the header comment. */
static const char *body_of(const char *text)
{
	const char *p = strstr(text, "\napiVersion:");

	ck_assert_ptr_nonnull(p);
	return p + 1;
}

START_TEST(test_applicationset)
{
	struct strbuf file = STRBUF_INIT, gen = STRBUF_INIT;

	ck_assert_int_eq(strbuf_read_file(&file, "deploy/argocd/applicationset.yaml"), 0);
	deploy_applicationset(&gen, NULL, NULL);
	ck_assert_str_eq(body_of(gen.buf), body_of(file.buf));
	ck_assert(starts_with(gen.buf, "# Written by gitd on every deploy; edits here are overwritten.\n"));
	strbuf_reset(&gen);
	deploy_applicationset(&gen, "https://git.example.com/it's deploy.git", "team-{app}-{env}");
	ck_assert_ptr_nonnull(strstr(gen.buf, "        repoURL: 'https://git.example.com/it''s deploy.git'\n"
					      "        revision: HEAD\n"));
	ck_assert_ptr_nonnull(strstr(gen.buf, "      name: 'team-{{index .path.segments 1}}-"
					      "{{index .path.segments 0}}'\n"));
	ck_assert_ptr_nonnull(strstr(gen.buf, "        namespace: 'team-{{index .path.segments 1}}-"
					      "{{index .path.segments 0}}'\n"));
	strbuf_release(&file);
	strbuf_release(&gen);
}
END_TEST

/* The URL in the info is the one written. */
START_TEST(test_applicationset_in_repo)
{
	struct deploy_info info = alice;

	info.repo_url = "ssh://git@git.example.com:2222/deploy.git";
	write1("dev", "shop", PAIRS("kustomization.yaml", "k\n"), &alice, NULL);
	ck_assert_int_eq(write1("dev", "shop", PAIRS("kustomization.yaml", "k\n"), &info, NULL), 0);
	ck_str_free(main_log(), "shop@1a2b3c4: argocd\nshop@1a2b3c4: dev\n");
	{
		char *text = main_file("argocd/applicationset.yaml");

		ck_assert_ptr_nonnull(strstr(text, "repoURL: ssh://git@git.example.com:2222/deploy.git\n"));
		free(text);
	}
}
END_TEST

static void ck_refused(const char *env, const char *app, const char *path,
		       const struct deploy_info *info, const char *message)
{
	struct render_files rf = files_of(env, "shop", PAIRS("kustomization.yaml", "k\n"));
	struct strbuf err = STRBUF_INIT;

	if (path) {
		free(rf.v[0].path);
		rf.v[0].path = xstrdup(path);
	}
	ck_assert_int_eq(deploy_write(NULL, repo_path, app, &rf, 1, info, &err), -1);
	ck_assert_str_eq(err.buf, message);
	render_files_release(&rf);
	strbuf_release(&err);
}

START_TEST(test_refusals)
{
	struct deploy_info bad = alice;
	struct render_files two[2];
	struct strbuf err = STRBUF_INIT;

	ck_refused("dev", "shop", "dev/cart/k.yaml", &alice, "file `dev/cart/k.yaml` is not under dev/shop/");
	ck_refused("dev", "shop", "dev/shop/../x", &alice, "file `dev/shop/../x` is not under dev/shop/");
	ck_refused("argocd", "shop", "argocd/shop/k", &alice,
		   "environment `argocd` would replace the ApplicationSet's folder");
	ck_refused("Dev", "shop", "Dev/shop/k", &alice, "environment `Dev` must be lower case");
	ck_refused("dev", "cart", NULL, &alice, "environment dev holds app shop, not cart");
	bad.pushed_by = "alice\nSource-Repo: evil";
	ck_refused("dev", "shop", NULL, &bad, "the pusher holds a control character");
	bad = alice;
	bad.source_repo = NULL;
	ck_refused("dev", "shop", NULL, &bad, "the source repo's name is missing");
	two[0] = files_of("dev", "shop", PAIRS("k", "1"));
	two[1] = files_of("dev", "shop", PAIRS("k", "2"));
	ck_assert_int_eq(deploy_write(NULL, repo_path, "shop", two, 2, &alice, &err), -1);
	ck_assert_str_eq(err.buf, "environment dev is given twice");
	strbuf_reset(&err);
	ck_assert_int_eq(deploy_write(NULL, "/nonexistent/deploy.git", "shop", two, 1, &alice, &err), -1);
	ck_assert(starts_with(err.buf, "/nonexistent/deploy.git: "));
	ck_assert_ptr_null(main_file("dev/shop/k"));
	render_files_release(&two[0]);
	render_files_release(&two[1]);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deploy");
	TCase *tc = tcase_create("deploy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_first_commit);
	tcase_add_test(tc, test_unchanged_makes_no_commit);
	tcase_add_test(tc, test_prune_and_isolation);
	tcase_add_test(tc, test_other_writer_moves_main);
	tcase_add_test(tc, test_gives_up);
	tcase_add_test(tc, test_writers_take_turns);
	tcase_add_test(tc, test_concurrent_threads);
	tcase_add_test(tc, test_concurrent_processes);
	tcase_add_test(tc, test_remove_app);
	tcase_add_test(tc, test_applicationset);
	tcase_add_test(tc, test_applicationset_in_repo);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
