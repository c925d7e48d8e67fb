#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "../../renderer/source.h"
#include "diag.h"
#include "fileutil.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "yamlload.h"
#include "unit.h"
#include "banned.h"

/* The same small app repo in every backend. */
static const struct file {
	const char *path;
	const char *data;
} files[] = {
	{ "app.yaml", "image: nginx:1.27\n" },
	{ "resources/a.yaml", "kind: A\n" },
	{ "resources/b.yml", "kind: B\n" },
	{ "resources/sub/c.yaml", "kind: C\n" },
	{ "overlays/prod/kustomization.yaml", "images: []\n" },
	{ "zzz", "" },
};

static char tmpdir[64];

static void write_file(const char *root, const char *path, const char *data)
{
	char *full = xstrfmt("%s/%s", root, path);
	char *slash = strrchr(full, '/');
	FILE *f;

	for (char *p = full + strlen(root) + 1; p < slash; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(full, 0755);
			*p = '/';
		}
	}
	*slash = '\0';
	mkdir(full, 0755);
	*slash = '/';
	f = fopen(full, "w");
	ck_assert_ptr_nonnull(f);
	fputs(data, f);
	fclose(f);
	free(full);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_source.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	git_libgit2_init();
}

static void teardown(void)
{
	remove_tree(tmpdir);
	git_libgit2_shutdown();
}

static struct source *make_dir_source(void)
{
	struct strbuf err = STRBUF_INIT;
	char *root = xstrfmt("%s/dir", tmpdir);
	struct source *src;

	mkdir(root, 0755);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		write_file(root, files[i].path, files[i].data);
	ck_assert_int_eq(source_open_dir(&src, root, &err), 0);
	free(root);
	strbuf_release(&err);
	return src;
}

static struct source *make_mem_source(void)
{
	struct source *src = source_new_mem();

	/* Out of order on purpose: the backend sorts. */
	for (size_t i = ARRAY_SIZE(files); i-- > 0;)
		source_mem_add(src, files[i].path, files[i].data, strlen(files[i].data));
	return src;
}

/* Write the tree of every file under prefix into repo. */
static void build_tree(git_repository *repo, git_oid *out, const char *prefix)
{
	git_treebuilder *tb;
	size_t len = strlen(prefix);

	ck_assert_int_eq(git_treebuilder_new(&tb, repo, NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const char *rest, *slash;
		git_oid id;

		if (strncmp(files[i].path, prefix, len))
			continue;
		rest = files[i].path + len;
		slash = strchr(rest, '/');
		if (slash) {
			char *name = xstrndup(rest, (size_t)(slash - rest));
			char *sub = xstrfmt("%s%s/", prefix, name);

			if (!git_treebuilder_get(tb, name)) {
				build_tree(repo, &id, sub);
				ck_assert_int_eq(git_treebuilder_insert(NULL, tb, name, &id, GIT_FILEMODE_TREE), 0);
			}
			free(sub);
			free(name);
		} else {
			ck_assert_int_eq(git_blob_create_from_buffer(&id, repo, files[i].data,
								     strlen(files[i].data)), 0);
			ck_assert_int_eq(git_treebuilder_insert(NULL, tb, rest, &id, GIT_FILEMODE_BLOB), 0);
		}
	}
	ck_assert_int_eq(git_treebuilder_write(out, tb), 0);
	git_treebuilder_free(tb);
}

/* A bare repository at tmpdir/name holding files, and a commit of them in *commit. */
static git_repository *make_repo(const char *name, git_oid *commit)
{
	char *path = xstrfmt("%s/%s", tmpdir, name);
	git_repository *repo;
	git_signature *sig;
	git_tree *tree;
	git_oid tree_id;

	ck_assert_int_eq(git_repository_init(&repo, path, 1), 0);
	build_tree(repo, &tree_id, "");
	ck_assert_int_eq(git_tree_lookup(&tree, repo, &tree_id), 0);
	ck_assert_int_eq(git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
	ck_assert_int_eq(git_commit_create(commit, repo, NULL, sig, sig, NULL, "c", tree, 0, NULL), 0);
	git_signature_free(sig);
	git_tree_free(tree);
	free(path);
	return repo;
}

static char *listing(struct source *src, const char *path)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	if (source_list(src, path, &names, &err) < 0)
		strbuf_addf(&out, "error: %s", err.buf);
	for (size_t i = 0; i < names.nr; i++)
		strbuf_addf(&out, "%s%s", i ? "," : "", names.v[i]);
	strvec_clear(&names);
	strbuf_release(&err);
	return strbuf_detach(&out, NULL);
}

#define ck_listing(src, path, want)              \
	do {                                     \
		char *got_ = listing(src, path); \
		ck_assert_str_eq(got_, want);    \
		free(got_);                      \
	} while (0)

/* What every backend must answer for files[]. */
static void check_backend(struct source *src)
{
	static const size_t in_turn[] = { 3, 2, 3, 1, 4, 0, 3 };
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;

	ck_assert_int_eq(source_stat(src, ""), SOURCE_DIR);
	ck_assert_int_eq(source_stat(src, "app.yaml"), SOURCE_FILE);
	ck_assert_int_eq(source_stat(src, "resources"), SOURCE_DIR);
	ck_assert_int_eq(source_stat(src, "resources/sub/c.yaml"), SOURCE_FILE);
	ck_assert_int_eq(source_stat(src, "missing"), SOURCE_NONE);
	ck_assert_int_eq(source_stat(src, "resources/../app.yaml"), SOURCE_NONE);
	ck_assert_int_eq(source_stat(src, "/app.yaml"), SOURCE_NONE);
	ck_listing(src, "", "app.yaml,overlays,resources,zzz");
	ck_listing(src, "resources", "a.yaml,b.yml,sub");
	ck_listing(src, "overlays/prod", "kustomization.yaml");
	ck_listing(src, "app.yaml", "error: not a directory");
	ck_assert_int_eq(source_read(src, "resources/a.yaml", &buf, &err), 0);
	ck_assert_str_eq(buf.buf, "kind: A\n");
	ck_assert_int_eq(source_read(src, "zzz", &buf, &err), 0);
	ck_assert_uint_eq(buf.len, 0);
	ck_assert_int_eq(source_read(src, "nope.yaml", &buf, &err), SOURCE_MISSING);
	ck_assert_int_eq(source_read(src, "resources", &buf, &err), -1);
	ck_assert_str_eq(err.buf, "is a directory, not a file");
	ck_assert_uint_eq(source_files_read(src), 2);
	/* directories in turn (the directory backend keeps the last one open) */
	for (size_t i = 0; i < ARRAY_SIZE(in_turn); i++) {
		ck_assert_int_eq(source_read(src, files[in_turn[i]].path, &buf, &err), 0);
		ck_assert_str_eq(buf.buf, files[in_turn[i]].data);
	}
	strbuf_release(&buf);
	strbuf_release(&err);
}

START_TEST(test_dir_backend)
{
	struct source *src = make_dir_source();

	check_backend(src);
	source_free(src);
}
END_TEST

START_TEST(test_mem_backend)
{
	struct source *src = make_mem_source();

	check_backend(src);
	source_free(src);
}
END_TEST

START_TEST(test_git_backend)
{
	git_oid commit;
	git_repository *repo = make_repo("repo.git", &commit);
	struct strbuf err = STRBUF_INIT;
	struct source *src;

	ck_assert_int_eq(source_open_git(&src, repo, &commit, &err), 0);
	check_backend(src);
	source_free(src);
	git_repository_free(repo);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_open_rev_and_quarantine)
{
	git_oid commit;
	/* The pushed objects live only in the quarantine repository. */
	git_repository *q = make_repo("quarantine.git", &commit);
	git_repository *main_repo;
	char *main_path = xstrfmt("%s/main.git", tmpdir);
	char *q_objects = xstrfmt("%s/quarantine.git/objects", tmpdir);
	struct strbuf err = STRBUF_INIT;
	struct source *src = NULL;
	char hex[GIT_OID_HEXSZ + 1];

	ck_assert_int_eq(git_repository_init(&main_repo, main_path, 1), 0);
	git_repository_free(main_repo);
	git_oid_tostr(hex, sizeof(hex), &commit);
	ck_assert_int_eq(source_open_rev(&src, main_path, NULL, hex, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "unknown revision"));
	ck_assert_ptr_null(src);
	strbuf_reset(&err);
	ck_assert_int_eq(source_open_rev(&src, main_path, q_objects, hex, &err), 0);
	check_backend(src);
	source_free(src);
	strbuf_reset(&err);
	ck_assert_int_eq(source_open_rev(&src, "/nonexistent/repo.git", NULL, "HEAD", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "cannot open repository"));
	git_repository_free(q);
	free(main_path);
	free(q_objects);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_symlinks_are_not_followed)
{
	struct source *src = make_dir_source();
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	char *link = xstrfmt("%s/dir/resources/passwd.yaml", tmpdir);
	char *dirlink = xstrfmt("%s/dir/etc", tmpdir);

	ck_assert_int_eq(symlink("/etc/passwd", link), 0);
	ck_assert_int_eq(symlink("/etc", dirlink), 0);
	ck_assert_int_eq(source_stat(src, "resources/passwd.yaml"), SOURCE_OTHER);
	ck_assert_int_eq(source_read(src, "resources/passwd.yaml", &buf, &err), -1);
	ck_assert_str_eq(err.buf, "is a symbolic link or a submodule, not a regular file");
	ck_assert_int_eq(source_stat(src, "etc/passwd"), SOURCE_NONE);
	ck_assert_int_eq(source_read(src, "etc/passwd", &buf, &err), SOURCE_MISSING);
	ck_listing(src, "etc", "error: not a directory");
	source_free(src);
	free(link);
	free(dirlink);
	strbuf_release(&buf);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_size_cap)
{
	struct source *src = source_new_mem();
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	size_t big = SOURCE_MAX_FILE_BYTES + 1;
	char *data = xcalloc(big, 1);

	source_mem_add(src, "big.yaml", data, big);
	source_mem_add(src, "ok.yaml", data, SOURCE_MAX_FILE_BYTES);
	ck_assert_int_eq(source_read(src, "big.yaml", &buf, &err), -1);
	ck_assert_str_eq(err.buf, "larger than 1536 KiB, the most one Kubernetes object may be; split it into "
			 "several files");
	ck_assert_uint_eq(buf.len, 0);
	ck_assert_int_eq(source_read(src, "ok.yaml", &buf, &err), 0);
	ck_assert_uint_eq(buf.len, SOURCE_MAX_FILE_BYTES);
	source_free(src);
	free(data);
	strbuf_release(&buf);
	strbuf_release(&err);
}
END_TEST

START_TEST(test_total_cap)
{
	struct source *src = source_new_mem();
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	int failed = 0;

	source_mem_add(src, "f.yaml", "x", 1);
	for (size_t i = 0; i <= SOURCE_MAX_FILES; i++)
		failed |= source_read(src, "f.yaml", &buf, &err) < 0;
	ck_assert_int_eq(failed, 1);
	ck_assert_str_eq(err.buf, "not read: the repo has more than 2000 files or 32 MiB to check");
	source_free(src);
	strbuf_release(&buf);
	strbuf_release(&err);
}
END_TEST

/* Load path from src; the problems it added to a fresh diags, as printed, in *problems. */
static int load(const struct ydoc **out, struct source *src, const char *path, char **problems)
{
	struct diags *d = diags_new();
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	int ret = source_load_yaml(out, src, path, d, &err);

	diags_format(&text, d, "");
	strbuf_addstr(&text, err.buf);
	*problems = strbuf_detach(&text, NULL);
	diags_free(d);
	strbuf_release(&err);
	return ret;
}

#define MERGE_WARNING                                                                       \
	"warn.yaml:4:3: warning: the merge (<<) at line 5 replaces the value of key \"a\" set " \
	"here, because Kubernetes applies << in order; put << before the keys that should "  \
	"override it [yaml]\n"

START_TEST(test_load_yaml)
{
	static const char warn[] = "base: &b\n  a: 1\nm:\n  a: 0\n  <<: *b\n";
	struct source *src = source_new_mem();
	const struct ydoc *first, *again;
	char *problems;

	source_mem_add(src, "ok.yaml", "kind: A\n", 8);
	source_mem_add(src, "warn.yaml", warn, strlen(warn));
	source_mem_add(src, "bad.yaml", "a: [\n", 5);

	/* a clean file is read and parsed once */
	ck_assert_int_eq(load(&first, src, "ok.yaml", &problems), 0);
	ck_assert_str_eq(problems, "");
	free(problems);
	ck_assert_int_eq(load(&again, src, "ok.yaml", &problems), 0);
	ck_assert_str_eq(problems, "");
	free(problems);
	ck_assert_ptr_eq(first, again);
	ck_assert_uint_eq(source_files_read(src), 1);

	/* a file with problems is parsed each time, so each caller hears of them */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(load(&again, src, "warn.yaml", &problems), 0);
		ck_assert_str_eq(problems, MERGE_WARNING);
		free(problems);
		ck_assert_int_eq(load(&again, src, "bad.yaml", &problems), SOURCE_BAD_YAML);
		ck_assert_ptr_null(again);
		ck_assert_str_eq(problems, "bad.yaml:2:1: error: YAML syntax error: did not find "
					   "expected node content [yaml]\n");
		free(problems);
	}
	ck_assert_uint_eq(source_files_read(src), 5);
	ck_assert_int_eq(load(&again, src, "none.yaml", &problems), SOURCE_MISSING);
	free(problems);

	/* new contents are parsed anew; the old document stays valid */
	source_mem_add(src, "ok.yaml", "kind: B\n", 8);
	ck_assert_int_eq(load(&again, src, "ok.yaml", &problems), 0);
	free(problems);
	ck_assert_str_eq(json_string_value(json_object_get(ydoc_root(again, 0), "kind")), "B");
	ck_assert_str_eq(json_string_value(json_object_get(ydoc_root(first, 0), "kind")), "A");
	source_free(src);
}
END_TEST

/* Answers are remembered, but a file added to a memory source is seen at once. */
START_TEST(test_stat_after_add)
{
	struct source *src = source_new_mem();

	ck_assert_int_eq(source_stat(src, "a/b.yaml"), SOURCE_NONE);
	ck_assert_int_eq(source_stat(src, "a"), SOURCE_NONE);
	source_mem_add(src, "a/b.yaml", "x: 1\n", 5);
	ck_assert_int_eq(source_stat(src, "a/b.yaml"), SOURCE_FILE);
	ck_assert_int_eq(source_stat(src, "a"), SOURCE_DIR);
	source_free(src);
}
END_TEST

static char *joined(const char *base, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	if (source_path_join(&sb, base, rel) < 0)
		strbuf_addstr(&sb, "(refused)");
	return strbuf_detach(&sb, NULL);
}

#define ck_join(base, rel, want)                   \
	do {                                       \
		char *got_ = joined(base, rel);    \
		ck_assert_str_eq(got_, want);      \
		free(got_);                        \
	} while (0)

START_TEST(test_path_join)
{
	ck_join("overlays/prod", "patch.yaml", "overlays/prod/patch.yaml");
	ck_join("overlays/prod", "./a//b.yaml", "overlays/prod/a/b.yaml");
	ck_join("overlays/prod", "../../resources/x.yaml", "resources/x.yaml");
	ck_join("overlays/prod", "../../../x.yaml", "(refused)");
	ck_join("overlays/prod", "/etc/passwd", "(refused)");
	ck_join("overlays/prod", "", "(refused)");
	ck_join("overlays/prod", "../..", "(refused)");
	ck_join("", "Dockerfile", "Dockerfile");
	ck_assert_int_eq(source_path_ok("a/b"), 1);
	ck_assert_int_eq(source_path_ok("a//b"), 0);
	ck_assert_int_eq(source_path_ok("a/./b"), 0);
	ck_assert_int_eq(source_path_ok("a/"), 0);
	ck_assert_int_eq(source_path_ok(""), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("source");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dir_backend);
	tcase_add_test(tc, test_mem_backend);
	tcase_add_test(tc, test_git_backend);
	tcase_add_test(tc, test_open_rev_and_quarantine);
	tcase_add_test(tc, test_symlinks_are_not_followed);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_total_cap);
	tcase_add_test(tc, test_path_join);
	tcase_add_test(tc, test_load_yaml);
	tcase_add_test(tc, test_stat_after_add);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
