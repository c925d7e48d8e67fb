#define _XOPEN_SOURCE 700
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adminrepo.h"
#include "fileutil.h"
#include "util.h"
#include "yamlload.h"
#include "testkeys.h"
#include "unit.h"
#include "banned.h"

#define ADMIN_KEY "ssh-ed25519 " KEY_ED25519_B64 " admin@laptop\n"
#define ALICE_KEY "ssh-ed25519 " KEY_ED25519_2_B64 " alice@laptop\n"
#define BOB_KEY "ssh-rsa " KEY_RSA2048_B64 " bob\n"

static char tmpdir[64];
static char *path; /* the admin repo under tmpdir */
static struct diags *d;
static struct strbuf err;
static char *printed;

static void setup(void)
{
	git_libgit2_init();
	memcpy(tmpdir, "/tmp/gitd-adminrepo-XXXXXX", 27);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	path = xstrfmt("%s/gitd-admin.git", tmpdir);
	d = diags_new();
	strbuf_init(&err, 0);
	printed = NULL;
}

static void teardown(void)
{
	remove_tree(tmpdir);
	free(path);
	diags_free(d);
	strbuf_release(&err);
	free(printed);
	git_libgit2_shutdown();
}

static const char *print_diags(void)
{
	size_t len = 0;
	FILE *f;

	free(printed);
	f = open_memstream(&printed, &len);
	diags_print(d, f);
	fclose(f);
	return printed;
}

static void reset_diags(void)
{
	diags_free(d);
	d = diags_new();
}

static void init_repo(void)
{
	ck_assert_int_eq(adminrepo_init(path, "admin", "id.pub", ADMIN_KEY, strlen(ADMIN_KEY), d,
					&err),
			 0);
	ck_assert_str_eq(err.buf, "");
	ck_assert_str_eq(print_diags(), "");
}

/* ---- trees built by hand, for adminrepo_load_tree ---- */

struct file {
	const char *path;
	const char *content;
	git_filemode_t mode; /* 0: a regular file */
};

static git_repository *scratch;

/* A tree of files in a scratch bare repository (freed by free_tree). */
static git_tree *make_tree(const struct file *files)
{
	git_tree_update up[32];
	git_tree *tree = NULL;
	git_oid id;
	size_t n = 0;

	if (!scratch)
		ck_assert_int_eq(git_repository_init(&scratch, path, 1), 0);
	for (; files[n].path; n++) {
		ck_assert_int_eq(git_blob_create_from_buffer(&up[n].id, scratch, files[n].content,
							     strlen(files[n].content)), 0);
		up[n].action = GIT_TREE_UPDATE_UPSERT;
		up[n].filemode = files[n].mode ? files[n].mode : GIT_FILEMODE_BLOB;
		up[n].path = files[n].path;
	}
	ck_assert_int_eq(git_tree_create_updated(&id, scratch, NULL, n, up), 0);
	ck_assert_int_eq(git_tree_lookup(&tree, scratch, &id), 0);
	return tree;
}

/* Load files as a tree; return the diags as printed. *out gets the state (may be NULL). */
static const char *load_files(const struct file *files, struct admin_state **out)
{
	git_tree *tree = make_tree(files);
	struct admin_state *s = NULL;

	adminrepo_load_tree(&s, scratch, tree, d);
	git_tree_free(tree);
	if (out)
		*out = s;
	else
		admin_state_free(s);
	return print_diags();
}

static void scratch_teardown(void)
{
	git_repository_free(scratch);
	scratch = NULL;
	teardown();
}

START_TEST(valid_tree)
{
	static const struct file files[] = {
		{ "access.yaml", "admins: [admin]\nrepos: { shop: { alice: write, a-b: read } }\n", 0 },
		{ "users/admin.pub", ADMIN_KEY, 0 },
		{ "users/alice.pub", "# alice\n" ALICE_KEY, 0 },
		{ "users/a-b.pub", BOB_KEY, 0 },
		{ "users/.gitkeep", "", 0 },
		{ "README.md", "# Access\n", 0 },
		{ ".gitignore", "*~\n", 0 },
		{ NULL, NULL, 0 },
	};
	struct admin_state *s = NULL;
	const struct strvec *users;
	ssh_key key = NULL;
	const struct pubkey *k;

	ck_assert_str_eq(load_files(files, &s), "");
	ck_assert_ptr_nonnull(s);
	users = admin_state_users(s);
	ck_assert_uint_eq(users->nr, 3);
	ck_assert_str_eq(users->v[0], "a-b");
	ck_assert_str_eq(users->v[1], "admin");
	ck_assert_str_eq(users->v[2], "alice");
	ck_assert_int_eq(admin_state_has_user(s, "alice"), 1);
	ck_assert_int_eq(admin_state_has_user(s, "alic"), 0);
	ck_assert_ptr_null(admin_state_commit(s));
	ck_assert_int_eq(access_perm(admin_state_access(s), "shop", "alice"), ACCESS_WRITE);
	ck_assert_uint_eq(pubkey_list_count(admin_state_keys(s)), 3);

	ck_assert_int_eq(ssh_pki_import_pubkey_base64(KEY_ED25519_2_B64, SSH_KEYTYPE_ED25519, &key), 0);
	k = admin_state_find_key(s, key);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->owner, "alice");
	ck_assert_str_eq(k->fingerprint, KEY_ED25519_2_FP);
	ck_assert_str_eq(k->file, "users/alice.pub");
	ck_assert_uint_eq(k->line, 2);
	ssh_key_free(key);
	ck_assert_int_eq(
		ssh_pki_import_pubkey_base64(KEY_ECDSA256_B64, SSH_KEYTYPE_ECDSA_P256, &key), 0);
	ck_assert_ptr_null(admin_state_find_key(s, key));
	ssh_key_free(key);
	admin_state_free(s);
}
END_TEST

START_TEST(missing_access_yaml)
{
	static const struct file files[] = {
		{ "users/admin.pub", ADMIN_KEY, 0 },
		{ NULL, NULL, 0 },
	};
	struct admin_state *s = NULL;

	ck_assert_str_eq(load_files(files, &s),
			 "access.yaml: error: access.yaml is missing; it must list at least the admins "
			 "[access-missing]\n");
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(bad_yaml)
{
	static const struct file files[] = {
		{ "access.yaml", "admins: [admin\n", 0 },
		{ "users/admin.pub", ADMIN_KEY, 0 },
		{ NULL, NULL, 0 },
	};
	const char *out = load_files(files, NULL);

	ck_assert_msg(starts_with(out, "access.yaml:2:"), "%s", out);
	ck_assert_uint_eq(diags_count(d, DIAG_ERROR), 1);
}
END_TEST

START_TEST(every_problem_reported)
{
	static const struct file files[] = {
		{ "access.yaml", "admins: [admin]\n"
				 "repos:\n"
				 "  shop: { alice: raed, bob: write }\n", 0 },
		{ "users/admin.pub", ADMIN_KEY "ssh-dss AAAA\n", 0 },
		{ "users/alice.pub", "ssh-rsa " KEY_RSA1024_B64 "\n" ALICE_KEY ALICE_KEY, 0 },
		{ "users/carol.pub", "\n" ADMIN_KEY, 0 },
		{ "users/Dave.pub", ADMIN_KEY, 0 },
		{ "users/notes.txt", "hi\n", 0 },
		{ "users/old/x.pub", ADMIN_KEY, 0 },
		{ "users/link.pub", "../access.yaml", GIT_FILEMODE_LINK },
		{ "users/empty.pub", "# no keys yet\n", 0 },
		{ "todo.txt", "x\n", 0 },
		{ NULL, NULL, 0 },
	};
	struct admin_state *s = NULL;

	ck_assert_str_eq(load_files(files, &s),
			 "access.yaml:3:18: error: unknown permission 'raed'; did you mean 'read'? "
			 "[access-perm]\n"
			 "access.yaml:3:24: error: unknown user 'bob'; add users/bob.pub first "
			 "[access-unknown-user]\n"
			 "todo.txt: warning: unexpected file; gitd reads only access.yaml and "
			 "users/NAME.pub [admin-unexpected-file]\n"
			 "users/Dave.pub: error: user name 'Dave' has uppercase letters; use lowercase; "
			 "rename the file [admin-user-name]\n"
			 "users/admin.pub:2:1: error: ssh-dss keys are too weak; use ssh-ed25519 "
			 "(ssh-keygen -t ed25519) [pubkey-type]\n"
			 "users/alice.pub:1:9: error: RSA key has only 1024 bits; use at least 2048, or "
			 "better ssh-ed25519 [pubkey-weak]\n"
			 "users/alice.pub:3:1: warning: this key is already on line 2; remove one "
			 "[admin-duplicate-key]\n"
			 "users/carol.pub:2:1: error: this key is also in users/admin.pub:1; a key must "
			 "belong to one user [admin-duplicate-key]\n"
			 "users/empty.pub: warning: has no keys, so empty cannot log in; add a public "
			 "key line [admin-no-keys]\n"
			 "users/link.pub: error: is a symbolic link; store the file itself "
			 "[admin-file-type]\n"
			 "users/notes.txt: warning: not a key file; gitd reads only users/NAME.pub "
			 "[admin-unexpected-file]\n"
			 "users/old: warning: not a key file; gitd reads only users/NAME.pub "
			 "[admin-unexpected-file]\n");
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(no_admin_can_log_in)
{
	static const struct file files[] = {
		{ "access.yaml", "admins: [admin]\nrepos: { shop: { alice: admin } }\n", 0 },
		{ "users/admin.pub", "", 0 },
		{ "users/alice.pub", ALICE_KEY, 0 },
		{ NULL, NULL, 0 },
	};

	ck_assert_str_eq(load_files(files, NULL),
			 "access.yaml: error: no admin has a key in users/, so nobody could change "
			 "access; add one [access-no-admins]\n"
			 "users/admin.pub: warning: has no keys, so admin cannot log in; add a public "
			 "key line [admin-no-keys]\n");
}
END_TEST

START_TEST(file_kinds_and_sizes)
{
	struct strbuf big = STRBUF_INIT;
	struct file files[] = {
		{ "access.yaml", "admins: [admin]\n", 0 },
		{ "users", "not a directory\n", 0 },
		{ NULL, NULL, 0 },
	};

	ck_assert_str_eq(load_files(files, NULL),
			 "access.yaml:1:10: error: unknown user 'admin'; add users/admin.pub first "
			 "[access-unknown-user]\n"
			 "users: error: must be a directory of NAME.pub key files [admin-file-type]\n");
	reset_diags();
	while (big.len <= ADMINREPO_KEYFILE_MAX)
		strbuf_addstr(&big, "# padding padding padding padding\n");
	files[1].path = "users/admin.pub";
	files[1].content = big.buf;
	/* The user exists, but with no usable key. */
	ck_assert_str_eq(load_files(files, NULL),
			 "access.yaml: error: no admin has a key in users/, so nobody could change "
			 "access; add one [access-no-admins]\n"
			 "users/admin.pub: error: file is larger than 64 KiB; it should hold a few "
			 "lines [admin-file-size]\n");
	strbuf_release(&big);
}
END_TEST

/* ---- gitd init ---- */

static git_repository *open_path(void)
{
	git_repository *repo = NULL;

	ck_assert_int_eq(git_repository_open_bare(&repo, path), 0);
	return repo;
}

static git_commit *branch_tip(git_repository *repo)
{
	git_commit *c = NULL;
	git_oid id;

	ck_assert_int_eq(git_reference_name_to_id(&id, repo, ADMINREPO_BRANCH), 0);
	ck_assert_int_eq(git_commit_lookup(&c, repo, &id), 0);
	return c;
}

/* Content of file in the tip commit. */
static char *tip_file(git_repository *repo, const char *file)
{
	git_commit *c = branch_tip(repo);
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	char *s;

	ck_assert_int_eq(git_commit_tree(&tree, c), 0);
	ck_assert_int_eq(git_tree_entry_bypath(&te, tree, file), 0);
	ck_assert_int_eq(git_blob_lookup(&blob, repo, git_tree_entry_id(te)), 0);
	s = xstrndup(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	return s;
}

START_TEST(init_creates_repo)
{
	git_repository *repo;
	git_reference *head = NULL;
	git_commit *c;
	static const char keys[] = "# my key\n  " ADMIN_KEY;
	struct admin_state *s = NULL;
	char *pub;

	ck_assert_int_eq(adminrepo_init(path, "admin", "id.pub", keys, strlen(keys), d, &err), 0);
	ck_assert_str_eq(print_diags(), "");
	repo = open_path();
	ck_assert_int_eq(git_repository_is_bare(repo), 1);
	ck_assert_int_eq(git_reference_lookup(&head, repo, "HEAD"), 0);
	ck_assert_str_eq(git_reference_symbolic_target(head), "refs/heads/main");
	c = branch_tip(repo);
	ck_assert_uint_eq(git_commit_parentcount(c), 0);
	ck_assert_str_eq(git_commit_author(c)->name, "admin");
	ck_assert_str_eq(git_commit_author(c)->email, "admin@gitd");
	ck_assert_str_eq(git_commit_committer(c)->name, "gitd");
	ck_assert_str_eq(git_commit_committer(c)->email, "gitd@localhost");
	ck_assert_str_eq(git_commit_message(c), "Create the admin repository\n");
	pub = tip_file(repo, "users/admin.pub");
	ck_assert_str_eq(pub, ADMIN_KEY);
	free(pub);
	pub = tip_file(repo, "access.yaml");
	ck_assert_str_eq(pub, "# Who may do what: see docs/access.md.\n"
			      "# gitd's admin commands rewrite this file.\n"
			      "admins:\n"
			      "- admin\n"
			      "repos:\n"
			      "  deploy: {}\n");
	free(pub);

	ck_assert_int_eq(adminrepo_load(&s, path, d), 0);
	ck_assert_str_eq(print_diags(), "");
	ck_assert_int_eq(git_oid_equal(admin_state_commit(s), git_commit_id(c)), 1);
	ck_assert_int_eq(access_is_admin(admin_state_access(s), "admin"), 1);
	ck_assert_int_eq(access_has_repo(admin_state_access(s), "deploy"), 1);
	ck_assert_uint_eq(access_repo_grant_count(admin_state_access(s), 0), 0);
	ck_assert_str_eq(pubkey_list_get(admin_state_keys(s), 0)->owner, "admin");
	admin_state_free(s);
	git_commit_free(c);
	git_reference_free(head);
	git_repository_free(repo);
}
END_TEST

START_TEST(init_refuses_bad_input)
{
	static const char weak[] = "ssh-rsa " KEY_RSA1024_B64 "\n";
	struct stat st;

	ck_assert_int_eq(adminrepo_init(path, "Admin", "id.pub", ADMIN_KEY, strlen(ADMIN_KEY), d,
					&err),
			 -1);
	ck_assert_str_eq(err.buf, "user name 'Admin' has uppercase letters; use lowercase");
	strbuf_reset(&err);
	ck_assert_int_eq(adminrepo_init(path, "admin", "id.pub", weak, strlen(weak), d, &err), -1);
	ck_assert_str_eq(err.buf, "the admin key is not valid");
	ck_assert_str_eq(print_diags(), "id.pub:1:9: error: RSA key has only 1024 bits; use at "
					"least 2048, or better ssh-ed25519 [pubkey-weak]\n");
	strbuf_reset(&err);
	ck_assert_int_eq(adminrepo_init(path, "admin", "id.pub", "# nothing\n", 10, d, &err), -1);
	ck_assert_str_eq(err.buf, "the admin key file holds no public key; give a .pub file");
	/* Nothing was created. */
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(init_refuses_existing)
{
	char *want = xstrfmt("an admin repository already exists at %s", path);
	git_repository *repo;
	char *pub;

	init_repo();
	ck_assert_int_eq(adminrepo_init(path, "other", "id.pub", ALICE_KEY, strlen(ALICE_KEY), d,
					&err),
			 -1);
	ck_assert_str_eq(err.buf, want);
	repo = open_path();
	pub = tip_file(repo, "users/admin.pub");
	ck_assert_str_eq(pub, ADMIN_KEY);
	free(pub);
	free(want);
	git_repository_free(repo);
}
END_TEST

START_TEST(load_missing)
{
	struct admin_state *s = (struct admin_state *)&s;
	git_repository *repo = NULL;
	char *want;

	ck_assert_int_eq(adminrepo_load(&s, path, d), -1);
	ck_assert_ptr_null(s);
	ck_assert_uint_eq(diags_nr(d), 1);
	ck_assert_str_eq(diags_get(d, 0)->rule, "admin-repo");
	ck_assert_msg(starts_with(diags_get(d, 0)->message, "cannot open the admin repository: "),
		      "%s", diags_get(d, 0)->message);
	reset_diags();
	ck_assert_int_eq(git_repository_init(&repo, path, 1), 0);
	ck_assert_int_eq(adminrepo_load(&s, path, d), -1);
	want = xstrfmt("%s: error: the admin repository has no commit on HEAD; run gitd init "
		       "[admin-repo]\n",
		       path);
	ck_assert_str_eq(print_diags(), want);
	free(want);
	git_repository_free(repo);
}
END_TEST


/* ---- commits by admin commands ---- */

struct perm_args {
	const char *repo, *user;
	enum access_perm perm;
	int calls;
};

static int set_perm_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	struct perm_args *p = payload;

	p->calls++;
	return access_set_perm(adminrepo_edit_access(e), p->repo, p->user, p->perm, err_out);
}

struct user_args {
	const char *name;
	const char *keys; /* NULL: remove the user */
};

static int user_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	struct user_args *u = payload;
	char *file = xstrfmt("users/%s.pub", u->name);

	(void)err_out;
	if (u->keys) {
		adminrepo_edit_set(e, file, u->keys, strlen(u->keys));
	} else {
		adminrepo_edit_delete(e, file);
		access_remove_user(adminrepo_edit_access(e), u->name);
	}
	free(file);
	return 0;
}

static void add_user(const char *name, const char *keys)
{
	struct user_args u = { name, keys };
	char *msg = xstrfmt("user add %s", name);

	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", msg, user_cb, &u, d, &err), 0);
	ck_assert_str_eq(err.buf, "");
	free(msg);
}

static void tip_id(git_oid *out)
{
	git_repository *repo = open_path();

	ck_assert_int_eq(git_reference_name_to_id(out, repo, ADMINREPO_BRANCH), 0);
	git_repository_free(repo);
}

START_TEST(commit_perm_set)
{
	struct perm_args p = { "shop", "alice", ACCESS_WRITE, 0 };
	git_oid before, after;
	git_repository *repo;
	git_commit *c;
	struct admin_state *s = NULL;

	init_repo();
	add_user("alice", ALICE_KEY);
	tip_id(&before);
	ck_assert_int_eq(adminrepo_commit(&after, path, "admin", "perm set shop alice write",
					  set_perm_cb, &p, d, &err),
			 0);
	ck_assert_str_eq(err.buf, "");
	ck_assert_str_eq(print_diags(), "");
	ck_assert_int_eq(p.calls, 1);

	repo = open_path();
	c = branch_tip(repo);
	ck_assert_int_eq(git_oid_equal(git_commit_id(c), &after), 1);
	ck_assert_uint_eq(git_commit_parentcount(c), 1);
	ck_assert_int_eq(git_oid_equal(git_commit_parent_id(c, 0), &before), 1);
	ck_assert_str_eq(git_commit_author(c)->name, "admin");
	ck_assert_str_eq(git_commit_author(c)->email, "admin@gitd");
	ck_assert_str_eq(git_commit_committer(c)->name, "gitd");
	ck_assert_str_eq(git_commit_message(c), "perm set shop alice write\n");
	git_commit_free(c);
	git_repository_free(repo);

	ck_assert_int_eq(adminrepo_load(&s, path, d), 0);
	ck_assert_int_eq(access_perm(admin_state_access(s), "shop", "alice"), ACCESS_WRITE);
	ck_assert_int_eq(access_has_repo(admin_state_access(s), "deploy"), 1);
	admin_state_free(s);
}
END_TEST

START_TEST(commit_unchanged)
{
	struct perm_args p = { "shop", "admin", ACCESS_NONE, 0 };
	git_oid before, after, out;

	init_repo();
	tip_id(&before);
	ck_assert_int_eq(adminrepo_commit(&out, path, "admin", "perm set shop admin none",
					  set_perm_cb, &p, d, &err),
			 ADMINREPO_UNCHANGED);
	ck_assert_str_eq(err.buf, "");
	tip_id(&after);
	ck_assert_int_eq(git_oid_equal(&before, &after), 1);
}
END_TEST

START_TEST(commit_refused_when_invalid)
{
	struct user_args u = { "admin", NULL };
	git_oid before, after;

	init_repo();
	tip_id(&before);
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "user remove admin", user_cb, &u, d,
					  &err),
			 -1);
	ck_assert_str_eq(err.buf,
			 "the change would leave the admin repository invalid; nothing was changed");
	ck_assert_str_eq(print_diags(),
			 "access.yaml:3:9: error: admins: is empty; keep at least one admin, or nobody "
			 "can change access [access-no-admins]\n");
	tip_id(&after);
	ck_assert_int_eq(git_oid_equal(&before, &after), 1);
}
END_TEST

static int failing_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	(void)payload;
	adminrepo_edit_delete(e, "access.yaml");
	strbuf_addstr(err_out, "no such user: zed");
	return -1;
}

START_TEST(commit_callback_fails)
{
	git_oid before, after;

	init_repo();
	tip_id(&before);
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "x", failing_cb, NULL, d, &err), -1);
	ck_assert_str_eq(err.buf, "no such user: zed");
	tip_id(&after);
	ck_assert_int_eq(git_oid_equal(&before, &after), 1);
}
END_TEST

START_TEST(commit_bad_author)
{
	struct perm_args p = { "shop", "admin", ACCESS_READ, 0 };

	init_repo();
	ck_assert_int_eq(adminrepo_commit(NULL, path, "Eve <eve@x>", "x", set_perm_cb, &p, d, &err),
			 -1);
	ck_assert_str_eq(err.buf, "user name 'Eve <eve@x>' has uppercase letters; use lowercase");
	ck_assert_int_eq(p.calls, 0);
}
END_TEST

START_TEST(commit_user_remove)
{
	struct user_args u = { "alice", NULL };
	struct perm_args p = { "shop", "alice", ACCESS_WRITE, 0 };
	struct admin_state *s = NULL;
	git_repository *repo;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_commit *c;

	init_repo();
	add_user("alice", ALICE_KEY);
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "perm", set_perm_cb, &p, d, &err), 0);
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "user remove alice", user_cb, &u, d,
					  &err),
			 0);
	ck_assert_str_eq(print_diags(), "");
	ck_assert_int_eq(adminrepo_load(&s, path, d), 0);
	ck_assert_int_eq(admin_state_has_user(s, "alice"), 0);
	ck_assert_int_eq(access_perm(admin_state_access(s), "shop", "alice"), ACCESS_NONE);
	admin_state_free(s);
	repo = open_path();
	c = branch_tip(repo);
	ck_assert_int_eq(git_commit_tree(&tree, c), 0);
	ck_assert_int_eq(git_tree_entry_bypath(&te, tree, "users/alice.pub"), GIT_ENOTFOUND);
	git_tree_free(tree);
	git_commit_free(c);
	git_repository_free(repo);
}
END_TEST

/* key add: read the current file, append, write back. */
static int key_add_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	struct strbuf buf = STRBUF_INIT;

	(void)err_out;
	(void)payload;
	ck_assert_int_eq(adminrepo_edit_read(e, "users/missing.pub", &buf), 1);
	ck_assert_int_eq(adminrepo_edit_read(e, "users/admin.pub", &buf), 0);
	ck_assert_str_eq(buf.buf, ADMIN_KEY);
	strbuf_addstr(&buf, BOB_KEY);
	adminrepo_edit_set(e, "users/admin.pub", buf.buf, buf.len);
	strbuf_reset(&buf);
	ck_assert_int_eq(adminrepo_edit_read(e, "users/admin.pub", &buf), 0);
	ck_assert_str_eq(buf.buf, ADMIN_KEY BOB_KEY);
	adminrepo_edit_set(e, "scratch.txt", "x", 1);
	adminrepo_edit_delete(e, "scratch.txt");
	ck_assert_int_eq(adminrepo_edit_read(e, "scratch.txt", &buf), 1);
	adminrepo_edit_delete(e, "users/never-there.pub");
	ck_assert_ptr_nonnull(adminrepo_edit_state(e));
	strbuf_release(&buf);
	return 0;
}

START_TEST(commit_read_modify_write)
{
	git_repository *repo;
	char *pub;

	init_repo();
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "key add admin", key_add_cb, NULL, d,
					  &err),
			 0);
	ck_assert_str_eq(err.buf, "");
	repo = open_path();
	pub = tip_file(repo, "users/admin.pub");
	ck_assert_str_eq(pub, ADMIN_KEY BOB_KEY);
	free(pub);
	git_repository_free(repo);
}
END_TEST

static int bad_path_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	(void)err_out;
	adminrepo_edit_set(e, payload, "x", 1);
	return 0;
}

START_TEST(commit_refuses_bad_paths)
{
	static const char *const bad[] = {
		"../x", "/abs", "users//a.pub", "users/", "./a", "", "a/..",
	};

	init_repo();
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *want = xstrfmt("cannot write '%s': not a relative path", bad[i]);

		strbuf_reset(&err);
		ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "x", bad_path_cb,
						  (void *)bad[i], d, &err),
				 -1);
		ck_assert_str_eq(err.buf, want);
		free(want);
	}
}
END_TEST

/* Another writer moves the branch while the first change is being prepared. */
static int racing_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	struct perm_args *p = payload;

	if (p->calls == 0) {
		struct perm_args other = { "api", "admin", ACCESS_READ, 0 };
		struct diags *d2 = diags_new();
		struct strbuf err2 = STRBUF_INIT;

		ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "other", set_perm_cb, &other,
						  d2, &err2),
				 0);
		diags_free(d2);
		strbuf_release(&err2);
	}
	return set_perm_cb(e, err_out, payload);
}

START_TEST(commit_retries_after_race)
{
	struct perm_args p = { "shop", "admin", ACCESS_WRITE, 0 };
	struct admin_state *s = NULL;
	git_repository *repo;
	git_commit *c;

	init_repo();
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "mine", racing_cb, &p, d, &err), 0);
	ck_assert_int_eq(p.calls, 2);
	ck_assert_int_eq(adminrepo_load(&s, path, d), 0);
	/* Both changes landed, one after the other. */
	ck_assert_int_eq(access_has_repo(admin_state_access(s), "api"), 1);
	ck_assert_int_eq(access_has_repo(admin_state_access(s), "shop"), 1);
	admin_state_free(s);
	repo = open_path();
	c = branch_tip(repo);
	ck_assert_str_eq(git_commit_message(c), "mine\n");
	ck_assert_uint_eq(git_commit_parentcount(c), 1);
	git_commit_free(c);
	git_repository_free(repo);
}
END_TEST

START_TEST(commit_gives_up_when_locked)
{
	struct perm_args p = { "shop", "admin", ACCESS_READ, 0 };
	char *lock = xstrfmt("%s/refs/heads/main.lock", path);
	int fd;

	init_repo();
	fd = open(lock, O_CREAT | O_EXCL | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "x", set_perm_cb, &p, d, &err), -1);
	ck_assert_str_eq(err.buf, "the admin repository kept changing during the update; try again");
	ck_assert_int_eq(p.calls, 5);
	unlink(lock);
	free(lock);
}
END_TEST

START_TEST(commit_message_sanitized)
{
	struct perm_args p = { "shop", "admin", ACCESS_READ, 0 };
	git_repository *repo;
	git_commit *c;

	init_repo();
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin",
					  "perm set\033[31m shop\n\nwhy: \a test\n\n", set_perm_cb, &p,
					  d, &err),
			 0);
	repo = open_path();
	c = branch_tip(repo);
	ck_assert_str_eq(git_commit_message(c), "perm set shop\n\nwhy:  test\n");
	git_commit_free(c);
	git_repository_free(repo);
}
END_TEST

/* ---- the daemon's path: fast enough to run on every connection ---- */

static int many_users_cb(struct adminrepo_edit *e, struct strbuf *err_out, void *payload)
{
	struct access *a = adminrepo_edit_access(e);

	(void)payload;
	for (int i = 0; i < 100; i++) {
		ssh_key key = NULL;
		char *file = xstrfmt("users/user%03d.pub", i), *user = xstrfmt("user%03d", i);
		char *b64 = NULL, *line;

		ck_assert_int_eq(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
		ck_assert_int_eq(ssh_pki_export_pubkey_base64(key, &b64), SSH_OK);
		line = xstrfmt("ssh-ed25519 %s %s@laptop\n", b64, user);
		adminrepo_edit_set(e, file, line, strlen(line));
		ck_assert_int_eq(access_set_perm(a, i % 2 ? "shop" : "team-*", user, ACCESS_WRITE,
						 err_out),
				 0);
		free(line);
		free(b64);
		free(file);
		free(user);
		ssh_key_free(key);
	}
	return 0;
}

START_TEST(load_is_fast)
{
	struct admin_state *s = NULL;
	int64_t start;
	int runs = 20;
	double ms;

	init_repo();
	ck_assert_int_eq(adminrepo_commit(NULL, path, "admin", "100 users", many_users_cb, NULL, d,
					  &err),
			 0);
	start = now_ms();
	for (int i = 0; i < runs; i++) {
		ck_assert_int_eq(adminrepo_load(&s, path, d), 0);
		admin_state_free(s);
	}
	ms = (double)(now_ms() - start) / runs;
	fprintf(stderr, "adminrepo_load with 101 users: %.1f ms\n", ms);
	ck_assert_int_eq(adminrepo_load(&s, path, d), 0);
	ck_assert_uint_eq(admin_state_users(s)->nr, 101);
	ck_assert_int_eq(access_perm(admin_state_access(s), "team-x", "user042"), ACCESS_WRITE);
	admin_state_free(s);
	/* Generous, for sanitizer builds; a plain build takes a few ms. */
	ck_assert_msg(ms < 100, "%.1f ms", ms);
}
END_TEST

static Suite *adminrepo_suite(void)
{
	Suite *s = suite_create("adminrepo");
	TCase *tree = tcase_create("tree"), *init = tcase_create("init"),
	      *commit = tcase_create("commit");

	tcase_add_checked_fixture(tree, setup, scratch_teardown);
	tcase_add_test(tree, valid_tree);
	tcase_add_test(tree, missing_access_yaml);
	tcase_add_test(tree, bad_yaml);
	tcase_add_test(tree, every_problem_reported);
	tcase_add_test(tree, no_admin_can_log_in);
	tcase_add_test(tree, file_kinds_and_sizes);
	suite_add_tcase(s, tree);

	tcase_add_checked_fixture(init, setup, teardown);
	tcase_add_test(init, init_creates_repo);
	tcase_add_test(init, init_refuses_bad_input);
	tcase_add_test(init, init_refuses_existing);
	tcase_add_test(init, load_missing);
	suite_add_tcase(s, init);

	tcase_add_checked_fixture(commit, setup, teardown);
	tcase_set_timeout(commit, 30);
	tcase_add_test(commit, commit_perm_set);
	tcase_add_test(commit, commit_unchanged);
	tcase_add_test(commit, commit_refused_when_invalid);
	tcase_add_test(commit, commit_callback_fails);
	tcase_add_test(commit, commit_bad_author);
	tcase_add_test(commit, commit_user_remove);
	tcase_add_test(commit, commit_read_modify_write);
	tcase_add_test(commit, commit_refuses_bad_paths);
	tcase_add_test(commit, commit_retries_after_race);
	tcase_add_test(commit, commit_gives_up_when_locked);
	tcase_add_test(commit, commit_message_sanitized);
	tcase_add_test(commit, load_is_fast);
	suite_add_tcase(s, commit);
	return s;
}

int main(void)
{
	return unit_run(adminrepo_suite());
}
