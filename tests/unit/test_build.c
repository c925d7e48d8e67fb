#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "build.h"
#include "config.h"
#include "fileutil.h"
#include "queue.h"
#include "strbuf.h"
#include "strvec.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

#define ZERO_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define A_DIGEST "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_build.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	git_libgit2_init();
}

static void teardown(void)
{
	remove_tree(tmpdir);
	git_libgit2_shutdown();
}

static struct gitd_config *parse_config(const char *text, struct diags *d)
{
	struct gitd_config *cfg = NULL;

	config_parse(&cfg, "gitd.yaml", text, strlen(text), d);
	return cfg;
}

static char *read_all(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- a repository with hand-made trees (hostile ones too) ---- */

struct entry {
	const char *mode; /* "100644", "100755", "120000", "40000", "160000" */
	const char *name;
	git_oid id;
};

static void blob(git_oid *out, git_repository *repo, const char *data)
{
	ck_assert_int_eq(git_blob_create_from_buffer(out, repo, data, strlen(data)), 0);
}

/* A tree object written as raw bytes, so that names git refuses can be made. */
static void raw_tree(git_oid *out, git_repository *repo, const struct entry *e, size_t n)
{
	struct strbuf raw = STRBUF_INIT;
	git_odb *odb;

	for (size_t i = 0; i < n; i++) {
		strbuf_addf(&raw, "%s %s", e[i].mode, e[i].name);
		strbuf_add(&raw, "", 1);
		strbuf_add(&raw, e[i].id.id, GIT_OID_RAWSZ);
	}
	ck_assert_int_eq(git_repository_odb(&odb, repo), 0);
	ck_assert_int_eq(git_odb_write(out, odb, raw.buf, raw.len, GIT_OBJECT_TREE), 0);
	git_odb_free(odb);
	strbuf_release(&raw);
}

static void commit_tree(char hex[GIT_OID_HEXSZ + 1], git_repository *repo, const git_oid *tree_id)
{
	git_signature *sig;
	git_tree *tree;
	git_oid id;

	ck_assert_int_eq(git_signature_new(&sig, "T", "t@example.com", 1700000000, 0), 0);
	ck_assert_int_eq(git_tree_lookup(&tree, repo, tree_id), 0);
	ck_assert_int_eq(git_commit_create_v(&id, repo, "refs/heads/main", sig, sig, NULL, "c", tree, 0), 0);
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &id);
	git_tree_free(tree);
	git_signature_free(sig);
}

/* DATA/repos/shop.git with app.yaml, a Dockerfile, an executable, a subdir and a link. */
static git_repository *make_app_repo(char hex[GIT_OID_HEXSZ + 1])
{
	char *path = xstrfmt("%s/data/repos/shop.git", tmpdir);
	git_repository *repo;
	struct entry sub[1] = { { "100644", "notes.txt", { { 0 } } } };
	struct entry top[5] = {
		{ "100644", "Dockerfile", { { 0 } } }, { "100644", "app.yaml", { { 0 } } },
		{ "100755", "run.sh", { { 0 } } },     { "40000", "sub", { { 0 } } },
		{ "120000", "zlink", { { 0 } } },
	};
	git_oid tree;

	ck_assert_int_eq(git_repository_init(&repo, path, 1), 0);
	blob(&sub[0].id, repo, "hello\n");
	raw_tree(&top[3].id, repo, sub, 1);
	blob(&top[0].id, repo, "FROM scratch\nCOPY run.sh /\n");
	blob(&top[1].id, repo, "name: shop\nbuild: Dockerfile\n");
	blob(&top[2].id, repo, "#!/bin/sh\necho hi\n");
	blob(&top[4].id, repo, "sub/notes.txt");
	raw_tree(&tree, repo, top, 5);
	commit_tree(hex, repo, &tree);
	free(path);
	return repo;
}

/* ---- names, digests, signatures ---- */

START_TEST(test_digest_ok)
{
	ck_assert_int_eq(build_digest_ok(A_DIGEST), 1);
	ck_assert_int_eq(build_digest_ok(ZERO_DIGEST), 1);
	ck_assert_int_eq(build_digest_ok("sha256:A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90"), 0);
	ck_assert_int_eq(build_digest_ok("sha256:abc"), 0);
	ck_assert_int_eq(build_digest_ok("sha512:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"), 0);
	ck_assert_int_eq(build_digest_ok(A_DIGEST "0"), 0);
	ck_assert_int_eq(build_digest_ok(""), 0);
}
END_TEST

START_TEST(test_tag_and_name)
{
	const char *commit = "0123456789abcdef0123456789abcdef01234567";
	struct diags *d = diags_new();
	struct gitd_config *cfg = parse_config("registry: registry.example.com/team\n", d);
	char *tag = build_tag(commit, "Dockerfile"), *name;

	ck_assert_str_eq(tag, commit);
	free(tag);
	tag = build_tag(commit, "docker/Dockerfile.prod");
	ck_assert_str_eq(tag, "0123456789abcdef0123456789abcdef01234567-docker-Dockerfile.prod");
	free(tag);
	ck_assert_ptr_nonnull(cfg);
	name = build_image_name(cfg, "shop");
	ck_assert_str_eq(name, "registry.example.com/team/shop");
	free(name);
	config_free(cfg);
	diags_free(d);
}
END_TEST

START_TEST(test_hmac_rfc4231)
{
	char hex[65];

	/* RFC 4231 test case 2 */
	build_hmac_sha256_hex(hex, "Jefe", 4, "what do ya want for nothing?", 28);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_expand_argv)
{
	json_t *tmpl = json_pack("[s, s, s, s, s, s]", "/usr/bin/kaniko", "--context=dir://{context}",
				 "--dockerfile={dockerfile}", "--destination={image}",
				 "--digest-file={digestfile}", "{unknown}{image");
	struct strvec argv = STRVEC_INIT;

	build_expand_argv(&argv, tmpl, "/t/context", "/t/context/Dockerfile", "reg/shop:abc", "/t/digest");
	ck_assert_uint_eq(argv.nr, 6);
	ck_assert_str_eq(argv.v[0], "/usr/bin/kaniko");
	ck_assert_str_eq(argv.v[1], "--context=dir:///t/context");
	ck_assert_str_eq(argv.v[2], "--dockerfile=/t/context/Dockerfile");
	ck_assert_str_eq(argv.v[3], "--destination=reg/shop:abc");
	ck_assert_str_eq(argv.v[4], "--digest-file=/t/digest");
	ck_assert_str_eq(argv.v[5], "{unknown}{image");
	ck_assert_ptr_null(argv.v[6]);
	strvec_clear(&argv);
	json_decref(tmpl);
}
END_TEST

START_TEST(test_error_line)
{
	struct strbuf out = STRBUF_INIT;

	build_error_line(&out, "STEP 1/2: FROM scratch\nSTEP 2/2: COPY x /x\n"
			       "Error: building at STEP \"COPY x /x\": no such file\nlevel=info msg=done\n");
	ck_assert_str_eq(out.buf, "Error: building at STEP \"COPY x /x\": no such file");
	strbuf_reset(&out);
	build_error_line(&out, "compiling\n  make: *** [all] failed \x1b[31mred\x1b[0m\n\n");
	ck_assert_str_eq(out.buf, "make: *** [all] failed red");
	strbuf_reset(&out);
	build_error_line(&out, "");
	ck_assert_str_eq(out.buf, "");
	strbuf_release(&out);
}
END_TEST

/* ---- config ---- */

static void expect_config_error(const char *text, const char *message)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = parse_config(text, d);
	struct strbuf out = STRBUF_INIT;

	ck_assert_ptr_null(cfg);
	diags_format(&out, d, "");
	ck_assert_msg(strstr(out.buf, message), "expected \"%s\" in:\n%s", message, out.buf);
	strbuf_release(&out);
	diags_free(d);
}

START_TEST(test_config_builder)
{
	struct diags *d = diags_new();
	struct gitd_config *cfg = parse_config("builder:\n  kind: command\n  command: [/bin/b, \"{context}\"]\n"
					       "  timeout: 60\n  max_parallel: 2\n  auth_file: auth.json\n", d);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(config_builder_kind(cfg), "command");
	config_free(cfg);
	diags_free(d);
	expect_config_error("builder:\n  kind: command\n",
			    "gitd.yaml:2:3: error: `builder` of kind command needs `command` [config-missing-key]");
	expect_config_error("builder:\n  kind: command\n  command: [/bin/b, \"{contxt}\"]\n",
			    "gitd.yaml:3:21: error: `builder.command` has an unknown placeholder `{contxt}`");
	expect_config_error("builder:\n  kind: buildah\n  url: https://ci\n",
			    "gitd.yaml:3:3: error: unknown key `builder.url`");
	expect_config_error("builder:\n  kind: webhook\n  url: ftp://ci\n  secret_file: s\n",
			    "gitd.yaml:3:8: error: `builder.url` must be an http:// or https:// URL, not `ftp://ci`");
	expect_config_error("builder:\n  kind: webhook\n  url: https://ci\n",
			    "`builder` of kind webhook needs `secret_file`");
	expect_config_error("builder:\n  kind: buildah\n  timeout: 0\n",
			    "gitd.yaml:3:12: error: `builder.timeout` must be between 1 and 86400, not 0");
	expect_config_error("builder:\n  kind: buildah\n  isolation: docker\n",
			    "`builder.isolation` must be chroot, oci or rootless, not `docker`");
	expect_config_error("builder:\n  kind: none\n  timeout: 5\n", "unknown key `builder.timeout`");
}
END_TEST

/* ---- the build context ---- */

START_TEST(test_export)
{
	char hex[GIT_OID_HEXSZ + 1], link[64];
	git_repository *repo = make_app_repo(hex);
	char *git_dir = xstrfmt("%s/data/repos/shop.git", tmpdir), *dir = xstrfmt("%s/ctx", tmpdir);
	char *path, *data;
	struct strbuf err = STRBUF_INIT;
	struct stat st;
	ssize_t n;

	umask(077); /* the export sets modes itself */
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(build_export(dir, git_dir, hex, 1 << 20, &err), 0);
	path = xstrfmt("%s/Dockerfile", dir);
	data = read_all(path);
	ck_assert_str_eq(data, "FROM scratch\nCOPY run.sh /\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	free(data);
	free(path);
	path = xstrfmt("%s/run.sh", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	free(path);
	path = xstrfmt("%s/sub", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	free(path);
	path = xstrfmt("%s/zlink", dir);
	n = readlink(path, link, sizeof(link) - 1);
	ck_assert_int_eq(n, 13);
	link[n] = '\0';
	ck_assert_str_eq(link, "sub/notes.txt");
	free(path);
	umask(022);
	strbuf_release(&err);
	free(git_dir);
	free(dir);
	git_repository_free(repo);
}
END_TEST

/* A new bare repository tmpdir/NAME.git; *git_dir its path, *out an empty tmpdir/NAME.out. */
static git_repository *scratch_repo(const char *name, char **git_dir, char **out)
{
	git_repository *r;

	*git_dir = xstrfmt("%s/%s.git", tmpdir, name);
	*out = xstrfmt("%s/%s.out", tmpdir, name);
	ck_assert_int_eq(git_repository_init(&r, *git_dir, 1), 0);
	ck_assert_int_eq(mkdir(*out, 0700), 0);
	return r;
}

/* Commit the tree of entries in NAME's repository and export it; 0 or -1 with err. */
static int export_entries(const char *name, git_repository *r, const struct entry *e, size_t n,
			  size_t max, struct strbuf *err)
{
	char *git_dir = xstrfmt("%s/%s.git", tmpdir, name), *out = xstrfmt("%s/%s.out", tmpdir, name);
	char hex[GIT_OID_HEXSZ + 1];
	git_oid tree;
	int rc;

	raw_tree(&tree, r, e, n);
	commit_tree(hex, r, &tree);
	rc = build_export(out, git_dir, hex, max, err);
	free(git_dir);
	free(out);
	return rc;
}

START_TEST(test_export_dotdot)
{
	struct strbuf err = STRBUF_INIT;
	char *git_dir, *out;
	git_repository *r = scratch_repo("dotdot", &git_dir, &out);
	struct entry e[1] = { { "100644", "..", { { 0 } } } };

	blob(&e[0].id, r, "x");
	ck_assert_int_eq(export_entries("dotdot", r, e, 1, 1 << 20, &err), -1);
	ck_assert_str_eq(err.buf, "the commit holds a file name git refuses to check out: `..` in the top directory");
	git_repository_free(r);
	strbuf_release(&err);
	free(git_dir);
	free(out);
}
END_TEST

START_TEST(test_export_dotgit)
{
	struct strbuf err = STRBUF_INIT;
	char *git_dir, *out;
	git_repository *r = scratch_repo("dotgit", &git_dir, &out);
	struct entry inner[1] = { { "100644", ".GIT", { { 0 } } } }, top[1] = { { "40000", "docs", { { 0 } } } };

	blob(&inner[0].id, r, "[core]\n");
	raw_tree(&top[0].id, r, inner, 1);
	ck_assert_int_eq(export_entries("dotgit", r, top, 1, 1 << 20, &err), -1);
	ck_assert_str_eq(err.buf, "the commit holds a file name git refuses to check out: `.GIT` in `docs`");
	git_repository_free(r);
	strbuf_release(&err);
	free(git_dir);
	free(out);
}
END_TEST

/* A link named like the directory after it must not be written through. */
START_TEST(test_export_link_then_dir)
{
	struct strbuf err = STRBUF_INIT;
	char *git_dir, *out, *outside = xstrfmt("%s/outside", tmpdir), *escaped = xstrfmt("%s/pwned", outside);
	git_repository *r = scratch_repo("linkdir", &git_dir, &out);
	struct entry inner[1] = { { "100644", "pwned", { { 0 } } } };
	struct entry top[2] = { { "120000", "a", { { 0 } } }, { "40000", "a", { { 0 } } } };

	ck_assert_int_eq(mkdir(outside, 0700), 0);
	blob(&inner[0].id, r, "x");
	raw_tree(&top[1].id, r, inner, 1);
	blob(&top[0].id, r, outside);
	ck_assert_int_eq(export_entries("linkdir", r, top, 2, 1 << 20, &err), -1);
	ck_assert_str_eq(err.buf, "cannot export a: File exists");
	ck_assert_int_eq(access(escaped, F_OK), -1);
	git_repository_free(r);
	strbuf_release(&err);
	free(escaped);
	free(outside);
	free(git_dir);
	free(out);
}
END_TEST

START_TEST(test_export_size_cap)
{
	struct strbuf err = STRBUF_INIT;
	char *git_dir, *out, *big = xmalloc(600 * 1024 + 1);
	git_repository *r = scratch_repo("big", &git_dir, &out);
	struct entry top[2] = { { "100644", "a", { { 0 } } }, { "100644", "b", { { 0 } } } };

	memset(big, 'x', 600 * 1024);
	big[600 * 1024] = '\0';
	blob(&top[0].id, r, big);
	top[1].id = top[0].id; /* the same blob twice still counts twice */
	ck_assert_int_eq(export_entries("big", r, top, 2, 1 << 20, &err), -1);
	ck_assert_str_eq(err.buf, "the commit's files are larger than the build context limit (1 MiB)");
	git_repository_free(r);
	strbuf_release(&err);
	free(big);
	free(git_dir);
	free(out);
}
END_TEST

/* ---- supersede ---- */

static void enqueue(unsigned long *id, const char *data, const char *ref, const char *hex)
{
	struct ref_update u;

	memset(&u, 0, sizeof(u));
	u.ref = xstrdup(ref);
	ck_assert_int_eq(git_oid_fromstr(&u.new_oid, hex), 0);
	ck_assert_int_eq(queue_enqueue(id, data, "shop", "alice", &u, 1), 0);
	free(u.ref);
}

START_TEST(test_superseded_by)
{
	const char *hex = "0123456789abcdef0123456789abcdef01234567";
	char *data = xstrfmt("%s/data", tmpdir);
	struct diags *d = diags_new();
	struct gitd_config *cfg = parse_config("", d);
	struct job *first;
	char *path;
	const char *main_envs[] = { "dev", "staging" }, *prod[] = { "prod" };
	struct build_request req = { data, cfg, NULL, "shop", hex, "Dockerfile", main_envs, 2 };
	char from[] = "staging", to[] = "prod", ref[] = "refs/heads/main";
	struct job_promote p = { from, to, ref, { { 0 } }, NULL };
	unsigned long id1, id2, id3, id4;

	enqueue(&id1, data, "refs/heads/main", hex);
	path = xstrfmt("%s/queue/pending/%012lu.json", data, id1);
	ck_assert_int_eq(job_load(&first, path), 0);
	req.job = first;
	ck_assert_uint_eq(build_superseded_by(&req), 0);
	enqueue(&id2, data, "refs/tags/v1", hex);
	ck_assert_uint_eq(build_superseded_by(&req), 0); /* a tag deploys prod only */
	enqueue(&id3, data, "refs/heads/main", hex);
	ck_assert_uint_eq(build_superseded_by(&req), id3);
	req.envs = prod;
	req.nenvs = 1;
	ck_assert_uint_eq(build_superseded_by(&req), id2);
	ck_assert_int_eq(git_oid_fromstr(&p.commit, hex), 0);
	ck_assert_int_eq(queue_enqueue_promote(&id4, data, "shop", "alice", &p), 0);
	ck_assert_uint_eq(build_superseded_by(&req), id4);
	job_free(first);
	free(path);
	config_free(cfg);
	diags_free(d);
	free(data);
}
END_TEST

/* ---- build_image with the command builder ---- */

struct fixture {
	char hex[GIT_OID_HEXSZ + 1];
	char *data;
	struct job job;
	struct gitd_config *cfg;
	struct diags *d;
	FILE *log;
	char *log_path;
};

static void fixture_init(struct fixture *f, const char *builder_yaml)
{
	char *config = xstrfmt("registry: 127.0.0.1:5999\n%s", builder_yaml), *seq;
	git_repository *repo = make_app_repo(f->hex);

	git_repository_free(repo);
	f->data = xstrfmt("%s/data", tmpdir);
	memset(&f->job, 0, sizeof(f->job));
	f->job.id = 7;
	f->job.repo = xstrdup("shop");
	f->job.pusher = xstrdup("alice");
	f->d = diags_new();
	f->cfg = parse_config(config, f->d);
	ck_assert_ptr_nonnull(f->cfg);
	f->log_path = xstrfmt("%s/job.log", tmpdir);
	f->log = fopen(f->log_path, "w+");
	ck_assert_ptr_nonnull(f->log);
	/* this is job 7: jobs queued from here on are newer */
	ck_assert_int_eq(queue_init(f->data), 0);
	seq = xstrfmt("%s/queue/seq", f->data);
	ck_assert_int_eq(write_file_atomic(seq, "7\n", 2, 0600), 0);
	free(seq);
	free(config);
}

static void fixture_release(struct fixture *f)
{
	free(f->job.repo);
	free(f->job.pusher);
	fclose(f->log);
	config_free(f->cfg);
	diags_free(f->d);
	free(f->log_path);
	free(f->data);
}

static int run_build(struct fixture *f, char **image, struct strbuf *err)
{
	const char *envs[] = { "dev", "staging" };
	struct build_request req = { f->data, f->cfg, &f->job, "shop", f->hex, "Dockerfile", envs, 2 };

	return build_image(image, &req, f->log, err);
}

static char *job_log(struct fixture *f)
{
	fflush(f->log);
	return read_all(f->log_path);
}

/* A builder written as a shell script: $1 is the digest file, $2 the context. */
static const char *sh_builder(const char *script)
{
	static char yaml[1024];

	snprintf(yaml, sizeof(yaml),
		 "builder:\n  kind: command\n  timeout: 2\n  command: [/bin/sh, -c, '%s', sh, \"{digestfile}\", "
		 "\"{context}\", \"{image}\", \"{dockerfile}\"]\n", script);
	return yaml;
}

START_TEST(test_command_build_and_reuse)
{
	struct fixture f;
	struct strbuf err = STRBUF_INIT;
	char *image = NULL, *log, *record, *expected;

	fixture_init(&f, sh_builder("echo building $3 from $4; test -x $2/run.sh && test ! -e $2/.git && "
				    "echo " A_DIGEST " >$1; echo \"HOME=$HOME\" | grep -q /builds/tmp/7-"));
	ck_assert_int_eq(run_build(&f, &image, &err), 0);
	ck_assert_str_eq(image, "127.0.0.1:5999/shop@" A_DIGEST);
	log = job_log(&f);
	ck_assert_msg(strstr(log, "build: building 127.0.0.1:5999/shop:"), "%s", log);
	ck_assert_msg(strstr(log, "/context/Dockerfile\n"), "%s", log);
	ck_assert_msg(strstr(log, "gitd: built 127.0.0.1:5999/shop@" A_DIGEST " in "), "%s", log);
	free(log);
	free(image);
	/* recorded: the same commit is not built again */
	record = xstrfmt("%s/builds/records/shop/%s.json", f.data, f.hex);
	ck_assert_int_eq(access(record, F_OK), 0);
	rewind(f.log);
	ck_assert_int_eq(ftruncate(fileno(f.log), 0), 0);
	ck_assert_int_eq(run_build(&f, &image, &err), 0);
	ck_assert_str_eq(image, "127.0.0.1:5999/shop@" A_DIGEST);
	log = job_log(&f);
	expected = xstrfmt("gitd: using 127.0.0.1:5999/shop@" A_DIGEST ", already built for %.7s\n", f.hex);
	ck_assert_str_eq(log, expected);
	free(expected);
	free(log);
	free(image);
	free(record);
	strbuf_release(&err);
	fixture_release(&f);
}
END_TEST

START_TEST(test_command_failure)
{
	struct fixture f;
	struct strbuf err = STRBUF_INIT;
	char *image = NULL, *tmp;

	fixture_init(&f, sh_builder("echo step 1; echo \"error: no such instruction FROBNICATE\"; "
				    "echo cleaning up; exit 3"));
	ck_assert_int_eq(run_build(&f, &image, &err), -1);
	ck_assert_ptr_null(image);
	ck_assert_str_eq(err.buf, "error: no such instruction FROBNICATE");
	/* the temp dir is gone */
	tmp = xstrfmt("%s/builds/tmp", f.data);
	ck_assert_int_eq(rmdir(tmp), 0);
	free(tmp);
	strbuf_release(&err);
	fixture_release(&f);
}
END_TEST

START_TEST(test_command_no_digest)
{
	struct fixture f;
	struct strbuf err = STRBUF_INIT;
	char *image = NULL;

	fixture_init(&f, sh_builder("echo built"));
	ck_assert_int_eq(run_build(&f, &image, &err), -1);
	ck_assert_str_eq(err.buf, "the builder wrote no image digest");
	strbuf_release(&err);
	fixture_release(&f);
}
END_TEST

/* 1 if pid is gone (or a zombie nobody reaped yet: it runs no more). */
static int process_gone(pid_t pid)
{
	char *path = xstrfmt("/proc/%d/stat", (int)pid), *stat = read_all(path);
	const char *close = stat ? strrchr(stat, ')') : NULL;
	int gone = !close || close[2] == 'Z';

	free(stat);
	free(path);
	return gone;
}

START_TEST(test_command_timeout_kills_group)
{
	struct fixture f;
	struct strbuf err = STRBUF_INIT;
	char *image = NULL, *pidfile = xstrfmt("%s/grandchild", tmpdir), *script, *pid_text;

	script = xstrfmt("sleep 30 & echo $! >%s; wait", pidfile);
	fixture_init(&f, sh_builder(script));
	ck_assert_int_eq(run_build(&f, &image, &err), -1);
	ck_assert_str_eq(err.buf, "the build took longer than builder.timeout (2 s)");
	pid_text = read_all(pidfile);
	ck_assert_ptr_nonnull(pid_text);
	/* the builder's own child died with it */
	ck_assert_int_eq(process_gone((pid_t)atoi(pid_text)), 1);
	free(pid_text);
	free(script);
	free(pidfile);
	strbuf_release(&err);
	fixture_release(&f);
}
END_TEST

START_TEST(test_command_superseded)
{
	struct fixture f;
	struct strbuf err = STRBUF_INIT;
	char *image = NULL, *log;
	unsigned long id;
	pid_t pid;

	fixture_init(&f, sh_builder("echo started; sleep 20"));
	pid = fork();
	if (pid == 0) {
		/* a newer push arrives while the builder runs */
		for (int i = 0; i < 200; i++) {
			char *text = read_all(f.log_path);
			int started = text && strstr(text, "build: started\n");

			free(text);
			if (started)
				break;
			usleep(50 * 1000);
		}
		enqueue(&id, f.data, "refs/heads/main", f.hex);
		_exit(0);
	}
	ck_assert_int_eq(run_build(&f, &image, &err), BUILD_SUPERSEDED);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	log = job_log(&f);
	ck_assert_msg(strstr(log, "build: started\ngitd: superseded by job 8: build of "), "%s", log);
	free(log);
	/* before building: not started at all */
	rewind(f.log);
	ck_assert_int_eq(ftruncate(fileno(f.log), 0), 0);
	ck_assert_int_eq(run_build(&f, &image, &err), BUILD_SUPERSEDED);
	log = job_log(&f);
	ck_assert_msg(!strstr(log, "started"), "%s", log);
	free(log);
	strbuf_release(&err);
	fixture_release(&f);
}
END_TEST

/* gitd stopping: the build stops, cleans up, and the job process dies of SIGTERM (to be requeued). */
START_TEST(test_sigterm_stops_build)
{
	struct fixture f;
	char *pidfile = xstrfmt("%s/grandchild", tmpdir), *script, *pid_text = NULL, *tmp;
	int status;
	pid_t pid;

	script = xstrfmt("sleep 60 & echo $! >%s; echo started; wait", pidfile);
	fixture_init(&f, sh_builder(script));
	pid = fork();
	if (pid == 0) {
		struct strbuf err = STRBUF_INIT;
		char *image = NULL;

		signal(SIGTERM, SIG_DFL); /* as in a job process */
		run_build(&f, &image, &err);
		_exit(0); /* not reached: build_image() re-raises SIGTERM */
	}
	for (int i = 0; i < 200 && !pid_text; i++) {
		char *log = read_all(f.log_path);

		if (log && strstr(log, "build: started\n"))
			pid_text = read_all(pidfile);
		free(log);
		if (!pid_text)
			usleep(50 * 1000);
	}
	ck_assert_ptr_nonnull(pid_text);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	ck_assert_int_eq(process_gone((pid_t)atoi(pid_text)), 1);
	tmp = xstrfmt("%s/builds/tmp", f.data);
	ck_assert_int_eq(rmdir(tmp), 0); /* empty: the build's temp dir is gone */
	free(tmp);
	free(pid_text);
	free(script);
	free(pidfile);
	fixture_release(&f);
}
END_TEST

/* A process group of its own running sleep; its pid. */
static pid_t spawn_group(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	setpgid(pid, pid); /* also here: no race with the kill below */
	return pid;
}

static void write_record(const char *dir, pid_t pid, const char *start)
{
	char *path = xstrfmt("%s/builder.pid", dir), *boot = read_all("/proc/sys/kernel/random/boot_id");
	char *line;

	ck_assert_ptr_nonnull(boot);
	boot[strcspn(boot, "\n")] = '\0';
	line = xstrfmt("%d %s %s\n", (int)pid, start, boot);
	ck_assert_int_eq(mkdir_p(dir, 0700), 0);
	ck_assert_int_eq(write_file_atomic(path, line, strlen(line), 0600), 0);
	free(line);
	free(boot);
	free(path);
}

/* Field 22 of /proc/PID/stat. */
static char *start_time(pid_t pid)
{
	char *path = xstrfmt("/proc/%d/stat", (int)pid), *stat = read_all(path), *p;
	char *result;
	int field = 2;

	ck_assert_ptr_nonnull(stat);
	for (p = strrchr(stat, ')') + 1; field < 21; field++)
		p = strchr(p + 1, ' ');
	result = xstrndup(p + 1, strcspn(p + 1, " "));
	free(stat);
	free(path);
	return result;
}

START_TEST(test_cleanup_stale)
{
	char *data = xstrfmt("%s/data", tmpdir);
	char *ours = xstrfmt("%s/builds/tmp/3-aaaaaa", data), *reused = xstrfmt("%s/builds/tmp/4-bbbbbb", data);
	pid_t lost = spawn_group(), stranger = spawn_group();
	char *start = start_time(lost);
	int status;

	write_record(ours, lost, start);
	write_record(reused, stranger, "1"); /* the pid was reused by another process since */
	build_cleanup_stale(data);
	ck_assert_int_eq(waitpid(lost, &status, 0), lost);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_eq(waitpid(stranger, &status, WNOHANG), 0); /* left alone */
	ck_assert_int_eq(access(ours, F_OK), -1);
	ck_assert_int_eq(access(reused, F_OK), -1);
	kill(stranger, SIGKILL);
	waitpid(stranger, NULL, 0);
	free(start);
	free(ours);
	free(reused);
	free(data);
}
END_TEST

START_TEST(test_builder_none)
{
	struct fixture f;
	struct strbuf err = STRBUF_INIT;
	char *image = NULL;

	fixture_init(&f, "builder:\n  kind: none\n");
	ck_assert_int_eq(run_build(&f, &image, &err), -1);
	ck_assert_str_eq(err.buf, "shop builds Dockerfile, but builder.kind is none: set `image:` in app.yaml, "
				  "or configure a builder");
	strbuf_release(&err);
	fixture_release(&f);
}
END_TEST

/* ---- webhook results ---- */

START_TEST(test_report)
{
	char *data = xstrfmt("%s/data", tmpdir), *dir = xstrfmt("%s/data/builds/webhook", tmpdir);
	char *wait = xstrfmt("%s/12.wait", dir), *result = xstrfmt("%s/12.result", dir), *text;
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(build_report(data, 12, A_DIGEST, NULL, &err), -1);
	ck_assert_str_eq(err.buf, "job 12 is not waiting for a build (it finished, timed out, or builds "
				  "with another builder)");
	ck_assert_int_eq(mkdir_p(dir, 0700), 0);
	ck_assert_int_eq(write_file_atomic(wait, "x", 1, 0600), 0);
	strbuf_reset(&err);
	ck_assert_int_eq(build_report(data, 12, "sha256:nope", NULL, &err), -1);
	ck_assert_int_eq(access(result, F_OK), -1);
	ck_assert_int_eq(build_report(data, 12, A_DIGEST, NULL, &err), 0);
	text = read_all(result);
	ck_assert_str_eq(text, "{\"digest\": \"" A_DIGEST "\"}");
	free(text);
	ck_assert_int_eq(build_report(data, 12, NULL, "unit tests\x1b[31m failed", &err), 0);
	text = read_all(result);
	ck_assert_str_eq(text, "{\"reason\": \"unit tests failed\"}");
	free(text);
	strbuf_release(&err);
	free(wait);
	free(result);
	free(dir);
	free(data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("build");
	TCase *tc = tcase_create("build");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_digest_ok);
	tcase_add_test(tc, test_tag_and_name);
	tcase_add_test(tc, test_hmac_rfc4231);
	tcase_add_test(tc, test_expand_argv);
	tcase_add_test(tc, test_error_line);
	tcase_add_test(tc, test_config_builder);
	tcase_add_test(tc, test_export);
	tcase_add_test(tc, test_export_dotdot);
	tcase_add_test(tc, test_export_dotgit);
	tcase_add_test(tc, test_export_link_then_dir);
	tcase_add_test(tc, test_export_size_cap);
	tcase_add_test(tc, test_superseded_by);
	tcase_add_test(tc, test_command_build_and_reuse);
	tcase_add_test(tc, test_command_failure);
	tcase_add_test(tc, test_command_no_digest);
	tcase_add_test(tc, test_command_timeout_kills_group);
	tcase_add_test(tc, test_command_superseded);
	tcase_add_test(tc, test_sigterm_stops_build);
	tcase_add_test(tc, test_cleanup_stale);
	tcase_add_test(tc, test_builder_none);
	tcase_add_test(tc, test_report);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
