#include "adminrepo.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reponame.h"
#include "util.h"
#include "yamlemit.h"
#include "yamlload.h"
#include "banned.h"

#define USERS_DIR "users"
#define COMMIT_TRIES 5
#define COMMITTER_NAME "gitd"
#define COMMITTER_EMAIL "gitd@localhost"

struct admin_state {
	struct access *access;
	struct pubkey_list *keys;
	struct strvec users; /* sorted */
	git_oid commit;
	int has_commit;
};

/* What loading a tree needs at hand. */
struct loader {
	git_repository *repo;
	struct diags *d;
	struct admin_state *s;
};

static struct admin_state *state_new(void)
{
	struct admin_state *s = xcalloc(1, sizeof(*s));

	s->keys = pubkey_list_new();
	s->users = (struct strvec)STRVEC_INIT;
	return s;
}

void admin_state_free(struct admin_state *s)
{
	if (!s)
		return;
	access_free(s->access);
	pubkey_list_free(s->keys);
	strvec_clear(&s->users);
	free(s);
}

const struct access *admin_state_access(const struct admin_state *s)
{
	return s->access;
}

const struct pubkey_list *admin_state_keys(const struct admin_state *s)
{
	return s->keys;
}

const struct strvec *admin_state_users(const struct admin_state *s)
{
	return &s->users;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int admin_state_has_user(const struct admin_state *s, const char *name)
{
	return bsearch(&name, s->users.v, s->users.nr, sizeof(char *), cmp_str) != NULL;
}

const struct pubkey *admin_state_find_key(const struct admin_state *s, const ssh_key key)
{
	return pubkey_list_find_key(s->keys, key);
}

const git_oid *admin_state_commit(const struct admin_state *s)
{
	return s->has_commit ? &s->commit : NULL;
}

/* ---- reading a tree ---- */

static const char *git_message(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

static int is_file(const git_tree_entry *e)
{
	git_filemode_t mode = git_tree_entry_filemode(e);
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/* Why entry e at path cannot be read as a file, as an error in d; 0 if it can. */
static int check_file(struct loader *l, const git_tree_entry *e, const char *path)
{
	if (is_file(e))
		return 0;
	diags_add(l->d, DIAG_ERROR, path, 0, 0, "admin-file-type", "%s",
		  git_tree_entry_filemode(e) == GIT_FILEMODE_LINK
			  ? "is a symbolic link; store the file itself"
			  : "must be a regular file");
	return -1;
}

/*
 * Read blob e into out, refusing one bigger than max before inflating it,
 * since a pushed tree may hold anything. 0, or -1 with an error in d.
 */
static int read_file(struct loader *l, const git_tree_entry *e, const char *path, size_t max,
		     struct strbuf *out)
{
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size;
	int rc = -1;

	if (git_repository_odb(&odb, l->repo) < 0 ||
	    git_odb_read_header(&size, &type, odb, git_tree_entry_id(e)) < 0 ||
	    git_blob_lookup(&blob, l->repo, git_tree_entry_id(e)) < 0) {
		diags_add(l->d, DIAG_ERROR, path, 0, 0, "admin-repo", "cannot read: %s",
			  git_message());
		goto cleanup;
	}
	if (size > max) {
		diags_add(l->d, DIAG_ERROR, path, 0, 0, "admin-file-size",
			  "file is larger than %zu KiB; it should hold a few lines", max / 1024);
		goto cleanup;
	}
	strbuf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	rc = 0;
cleanup:
	git_blob_free(blob);
	git_odb_free(odb);
	return rc;
}

static void load_user_keys(struct loader *l, const git_tree_entry *e, const char *path,
			   const char *user)
{
	struct strbuf buf = STRBUF_INIT;
	size_t before = pubkey_list_count(l->s->keys);

	if (check_file(l, e, path) < 0 || read_file(l, e, path, ADMINREPO_KEYFILE_MAX, &buf) < 0)
		goto cleanup;
	if (pubkey_list_parse(l->s->keys, user, path, buf.buf, buf.len, l->d) == 0 &&
	    pubkey_list_count(l->s->keys) == before)
		diags_add(l->d, DIAG_WARNING, path, 0, 0, "admin-no-keys",
			  "has no keys, so %s cannot log in; add a public key line", user);
cleanup:
	strbuf_release(&buf);
}

static void load_user_entry(struct loader *l, const git_tree_entry *e)
{
	const char *name = git_tree_entry_name(e);
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	char *user = NULL;

	strbuf_addf(&path, USERS_DIR "/%s", name);
	if (name[0] == '.')
		goto cleanup; /* .gitkeep and the like */
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE || !ends_with(name, ".pub")) {
		diags_add(l->d, DIAG_WARNING, path.buf, 0, 0, "admin-unexpected-file",
			  "not a key file; gitd reads only users/NAME.pub");
		goto cleanup;
	}
	user = xstrndup(name, strlen(name) - 4);
	if (reponame_check_user(user, &err) < 0) {
		diags_add(l->d, DIAG_ERROR, path.buf, 0, 0, "admin-user-name",
			  "%s; rename the file", err.buf);
		goto cleanup;
	}
	strvec_push(&l->s->users, user);
	load_user_keys(l, e, path.buf, user);
cleanup:
	free(user);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void load_users(struct loader *l, const git_tree_entry *e)
{
	git_tree *tree = NULL;

	if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		diags_add(l->d, DIAG_ERROR, USERS_DIR, 0, 0, "admin-file-type",
			  "must be a directory of NAME.pub key files");
		return;
	}
	if (git_tree_lookup(&tree, l->repo, git_tree_entry_id(e)) < 0) {
		diags_add(l->d, DIAG_ERROR, USERS_DIR, 0, 0, "admin-repo", "cannot read: %s",
			  git_message());
		return;
	}
	for (size_t i = 0; i < git_tree_entrycount(tree); i++)
		load_user_entry(l, git_tree_entry_byindex(tree, i));
	/* Tree order is not name order ("a-b.pub" < "a.pub" but "a" < "a-b"). */
	qsort(l->s->users.v, l->s->users.nr, sizeof(char *), cmp_str);
	git_tree_free(tree);
}

static void load_access(struct loader *l, const git_tree_entry *e)
{
	const struct ylimits limits = YLIMITS_DEFAULT;
	struct strbuf buf = STRBUF_INIT;
	struct ydoc *doc = NULL;

	if (check_file(l, e, ADMINREPO_ACCESS) < 0 ||
	    read_file(l, e, ADMINREPO_ACCESS, limits.max_bytes, &buf) < 0 ||
	    ydoc_load(&doc, ADMINREPO_ACCESS, buf.buf, buf.len, NULL, l->d) < 0)
		goto cleanup;
	access_parse(&l->s->access, doc, &l->s->users, l->d);
cleanup:
	ydoc_free(doc);
	strbuf_release(&buf);
}

/* Sort order for finding a key in two places: by fingerprint, then where it was read. */
static int cmp_key(const void *a, const void *b)
{
	const struct pubkey *x = *(const struct pubkey *const *)a;
	const struct pubkey *y = *(const struct pubkey *const *)b;
	int c = strcmp(x->fingerprint, y->fingerprint);

	if (c)
		return c;
	c = strcmp(x->file, y->file);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A key identifies its user: it may appear once in all of users/. */
static void check_duplicate_keys(struct loader *l)
{
	size_t n = pubkey_list_count(l->s->keys);
	const struct pubkey **v = xcalloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = pubkey_list_get(l->s->keys, i);
	qsort(v, n, sizeof(*v), cmp_key);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(v[i]->fingerprint, v[first]->fingerprint)) {
			first = i;
			continue;
		}
		if (!strcmp(v[i]->owner, v[first]->owner))
			diags_add(l->d, DIAG_WARNING, v[i]->file, v[i]->line, 1, "admin-duplicate-key",
				  "this key is already on line %u; remove one", v[first]->line);
		else
			diags_add(l->d, DIAG_ERROR, v[i]->file, v[i]->line, 1, "admin-duplicate-key",
				  "this key is also in %s:%u; a key must belong to one user",
				  v[first]->file, v[first]->line);
	}
	free(v);
}

/* With no admin able to log in, nobody could ever change access again. */
static void check_admin_has_key(struct loader *l)
{
	const struct access *a = l->s->access;

	if (!a || !access_admin_count(a))
		return;
	for (size_t i = 0; i < pubkey_list_count(l->s->keys); i++)
		if (access_is_admin(a, pubkey_list_get(l->s->keys, i)->owner))
			return;
	diags_add(l->d, DIAG_ERROR, ADMINREPO_ACCESS, 0, 0, "access-no-admins",
		  "no admin has a key in users/, so nobody could change access; add one");
}

/* Note where access.yaml and users/ are; warn about what gitd does not read. */
static void top_entry(struct loader *l, const git_tree_entry *e, const git_tree_entry **access,
		      const git_tree_entry **users)
{
	const char *name = git_tree_entry_name(e);

	if (!strcmp(name, ADMINREPO_ACCESS))
		*access = e;
	else if (!strcmp(name, USERS_DIR))
		*users = e;
	else if (name[0] != '.' && !starts_with(name, "README"))
		diags_add(l->d, DIAG_WARNING, name, 0, 0, "admin-unexpected-file",
			  "unexpected file; gitd reads only access.yaml and users/NAME.pub");
}

int adminrepo_load_tree(struct admin_state **out, git_repository *repo, const git_tree *tree,
			struct diags *d)
{
	struct loader l = { repo, d, state_new() };
	const git_tree_entry *access = NULL, *users = NULL;
	size_t errors = diags_count(d, DIAG_ERROR);

	*out = NULL;
	for (size_t i = 0; i < git_tree_entrycount(tree); i++)
		top_entry(&l, git_tree_entry_byindex(tree, i), &access, &users);
	if (users)
		load_users(&l, users); /* first: access.yaml names users */
	if (access)
		load_access(&l, access);
	else
		diags_add(d, DIAG_ERROR, ADMINREPO_ACCESS, 0, 0, "access-missing",
			  "access.yaml is missing; it must list at least the admins");
	check_duplicate_keys(&l);
	check_admin_has_key(&l);
	diags_sort(d);
	if (diags_count(d, DIAG_ERROR) > errors) {
		admin_state_free(l.s);
		return -1;
	}
	*out = l.s; /* transferred */
	return 0;
}

/* Open the bare repository at path; 0, or -1 with an error in d. */
static int open_repo(git_repository **out, const char *path, struct diags *d)
{
	if (git_repository_open_bare(out, path) == 0)
		return 0;
	diags_add(d, DIAG_ERROR, path, 0, 0, "admin-repo", "cannot open the admin repository: %s",
		  git_message());
	return -1;
}

/* Load the state of commit id in repo. */
static int load_commit(struct admin_state **out, git_repository *repo, const git_oid *id,
		       const char *path, struct diags *d)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	int rc = -1;

	*out = NULL;
	if (git_commit_lookup(&commit, repo, id) < 0 || git_commit_tree(&tree, commit) < 0) {
		diags_add(d, DIAG_ERROR, path, 0, 0, "admin-repo",
			  "cannot read the admin commit: %s", git_message());
		goto cleanup;
	}
	rc = adminrepo_load_tree(out, repo, tree, d);
	if (rc == 0) {
		git_oid_cpy(&(*out)->commit, id);
		(*out)->has_commit = 1;
	}
cleanup:
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

int adminrepo_load(struct admin_state **out, const char *path, struct diags *d)
{
	git_repository *repo = NULL;
	git_oid head;
	int rc = -1;

	*out = NULL;
	if (open_repo(&repo, path, d) < 0)
		return -1;
	if (git_reference_name_to_id(&head, repo, "HEAD") < 0)
		diags_add(d, DIAG_ERROR, path, 0, 0, "admin-repo",
			  "the admin repository has no commit on HEAD; run gitd init");
	else
		rc = load_commit(out, repo, &head, path, d);
	git_repository_free(repo);
	return rc;
}

/* ---- changes ---- */

struct change {
	char *path;
	struct strbuf content;
	int deleted;
};

struct adminrepo_edit {
	git_repository *repo;
	git_tree *base;             /* NULL for the first commit */
	struct admin_state *state;  /* NULL for the first commit */
	int access_touched;
	struct change *v;
	size_t nr, alloc;
};

/* What adminrepo_commit() was asked to do. */
struct commit_req {
	const char *author;
	const char *message;
	int (*edit)(struct adminrepo_edit *e, struct strbuf *err, void *payload);
	void *payload;
};

static void edit_release(struct adminrepo_edit *e)
{
	for (size_t i = 0; i < e->nr; i++) {
		free(e->v[i].path);
		strbuf_release(&e->v[i].content);
	}
	free(e->v);
	admin_state_free(e->state);
	git_tree_free(e->base);
}

const struct admin_state *adminrepo_edit_state(const struct adminrepo_edit *e)
{
	return e->state;
}

struct access *adminrepo_edit_access(struct adminrepo_edit *e)
{
	e->access_touched = 1;
	return e->state->access;
}

static struct change *change_get(struct adminrepo_edit *e, const char *path)
{
	struct change *c;

	for (size_t i = 0; i < e->nr; i++)
		if (!strcmp(e->v[i].path, path))
			return &e->v[i];
	ALLOC_GROW(e->v, e->nr + 1, e->alloc);
	c = &e->v[e->nr++];
	c->path = xstrdup(path);
	strbuf_init(&c->content, 0);
	c->deleted = 0;
	return c;
}

void adminrepo_edit_set(struct adminrepo_edit *e, const char *path, const char *buf, size_t len)
{
	struct change *c = change_get(e, path);

	strbuf_reset(&c->content);
	strbuf_add(&c->content, buf, len);
	c->deleted = 0;
}

void adminrepo_edit_delete(struct adminrepo_edit *e, const char *path)
{
	struct change *c = change_get(e, path);

	strbuf_reset(&c->content);
	c->deleted = 1;
}

int adminrepo_edit_read(const struct adminrepo_edit *e, const char *path, struct strbuf *out)
{
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int rc = 1;

	for (size_t i = 0; i < e->nr; i++) {
		if (strcmp(e->v[i].path, path))
			continue;
		if (e->v[i].deleted)
			return 1;
		strbuf_add(out, e->v[i].content.buf, e->v[i].content.len);
		return 0;
	}
	if (!e->base || git_tree_entry_bypath(&te, e->base, path) < 0 || !is_file(te))
		goto cleanup;
	rc = -1;
	if (git_blob_lookup(&blob, e->repo, git_tree_entry_id(te)) < 0)
		goto cleanup;
	strbuf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	rc = 0;
cleanup:
	git_blob_free(blob);
	git_tree_entry_free(te);
	return rc;
}

/* A path made of plain names: no empty, "." or ".." part, no leading or trailing '/'. */
static int path_ok(const char *path)
{
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0;
	}
	return p != path;
}

static int tree_has(git_tree *tree, const char *path)
{
	git_tree_entry *te = NULL;
	int found = tree && git_tree_entry_bypath(&te, tree, path) == 0;

	git_tree_entry_free(te);
	return found;
}

/* Write the blobs of e's changes and the tree they make on top of e->base. */
static int build_tree(git_oid *out, struct adminrepo_edit *e, struct strbuf *err)
{
	git_tree_update *up = xcalloc(e->nr ? e->nr : 1, sizeof(*up));
	size_t n = 0;
	int rc = -1;

	for (size_t i = 0; i < e->nr; i++) {
		const struct change *c = &e->v[i];
		git_tree_update *u = &up[n];

		if (!path_ok(c->path)) {
			strbuf_addf(err, "cannot write '%s': not a relative path", c->path);
			goto cleanup;
		}
		if (c->deleted && !tree_has(e->base, c->path))
			continue;
		u->path = c->path;
		u->action = c->deleted ? GIT_TREE_UPDATE_REMOVE : GIT_TREE_UPDATE_UPSERT;
		u->filemode = GIT_FILEMODE_BLOB;
		if (!c->deleted && git_blob_create_from_buffer(&u->id, e->repo, c->content.buf,
							       c->content.len) < 0)
			goto git_failed;
		n++;
	}
	if (git_tree_create_updated(out, e->repo, e->base, n, up) < 0)
		goto git_failed;
	rc = 0;
	goto cleanup;
git_failed:
	strbuf_addf(err, "cannot write the admin repository: %s", git_message());
cleanup:
	free(up);
	return rc;
}

/* Check the tree as a push would be checked: problems in d, a summary in err. */
static int validate_tree(git_repository *repo, const git_oid *id, struct diags *d,
			 struct strbuf *err)
{
	git_tree *tree = NULL;
	struct admin_state *s = NULL;
	int rc = -1;

	if (git_tree_lookup(&tree, repo, id) < 0)
		strbuf_addf(err, "cannot read the new tree: %s", git_message());
	else if (adminrepo_load_tree(&s, repo, tree, d) < 0)
		strbuf_addstr(err, "the change would leave the admin repository invalid; nothing was changed");
	else
		rc = 0;
	admin_state_free(s);
	git_tree_free(tree);
	return rc;
}

/* message, without control characters, ending in one newline. */
static void commit_message(struct strbuf *out, const char *message)
{
	strbuf_add_sanitized(out, message, strlen(message), 1);
	strbuf_rtrim(out);
	if (!out->len)
		strbuf_addstr(out, "Update access");
	strbuf_addch(out, '\n');
}

static int write_commit(git_oid *out, git_repository *repo, const struct commit_req *req,
			const git_oid *tree_id, git_commit *parent, struct strbuf *err)
{
	const git_commit *parents[1] = { parent };
	git_signature *author = NULL, *committer = NULL;
	struct strbuf email = STRBUF_INIT, msg = STRBUF_INIT;
	git_tree *tree = NULL;
	int rc = -1;

	strbuf_addf(&email, "%s@gitd", req->author);
	commit_message(&msg, req->message);
	if (git_signature_now(&author, req->author, email.buf) < 0 ||
	    git_signature_now(&committer, COMMITTER_NAME, COMMITTER_EMAIL) < 0 ||
	    git_tree_lookup(&tree, repo, tree_id) < 0 ||
	    git_commit_create(out, repo, NULL, author, committer, NULL, msg.buf, tree,
			      parent ? 1 : 0, parents) < 0)
		strbuf_addf(err, "cannot write the commit: %s", git_message());
	else
		rc = 0;
	git_tree_free(tree);
	git_signature_free(author);
	git_signature_free(committer);
	strbuf_release(&email);
	strbuf_release(&msg);
	return rc;
}

#define ATTEMPT_RETRY 2

/*
 * Point the branch at id if it still points at old (NULL: if it does not
 * exist yet). 0, ATTEMPT_RETRY when another writer got there first, or -1.
 */
static int move_branch(git_repository *repo, const git_oid *id, const git_oid *old,
		       const char *message, struct strbuf *err)
{
	git_reference *ref = NULL;
	struct strbuf log = STRBUF_INIT;
	int rc;

	strbuf_addstr(&log, "gitd: ");
	strbuf_add_sanitized(&log, message, strcspn(message, "\n"), 0);
	if (old)
		rc = git_reference_create_matching(&ref, repo, ADMINREPO_BRANCH, id, 1, old,
						   log.buf);
	else
		rc = git_reference_create(&ref, repo, ADMINREPO_BRANCH, id, 0, log.buf);
	if (rc == GIT_EMODIFIED || rc == GIT_ELOCKED || (old && rc == GIT_ENOTFOUND))
		rc = ATTEMPT_RETRY;
	else if (rc < 0)
		strbuf_addf(err, "cannot update %s: %s", ADMINREPO_BRANCH, git_message());
	git_reference_free(ref);
	strbuf_release(&log);
	return rc < 0 ? -1 : rc;
}

/* Start e from the tip of the branch: its tree and its (valid) state. */
static int edit_start(struct adminrepo_edit *e, git_oid *tip, git_commit **parent,
		      struct diags *d, struct strbuf *err)
{
	if (git_reference_name_to_id(tip, e->repo, ADMINREPO_BRANCH) < 0) {
		strbuf_addstr(err, "the admin repository has no " ADMINREPO_BRANCH "; run gitd init");
		return -1;
	}
	if (git_commit_lookup(parent, e->repo, tip) < 0 || git_commit_tree(&e->base, *parent) < 0) {
		strbuf_addf(err, "cannot read the admin repository: %s", git_message());
		return -1;
	}
	if (adminrepo_load_tree(&e->state, e->repo, e->base, d) < 0) {
		strbuf_addstr(err, "the admin repository is invalid; fix it with a push first");
		return -1;
	}
	return 0;
}

/* Apply the callback's changes to a tree; 0, ADMINREPO_UNCHANGED, or -1. */
static int edit_apply(git_oid *tree_id, struct adminrepo_edit *e, const struct commit_req *req,
		      struct strbuf *err)
{
	if (req->edit(e, err, req->payload) < 0)
		return -1;
	if (e->access_touched) {
		struct strbuf yaml = STRBUF_INIT;
		int rc = adminrepo_access_yaml(&yaml, e->state->access);

		if (!rc)
			adminrepo_edit_set(e, ADMINREPO_ACCESS, yaml.buf, yaml.len);
		strbuf_release(&yaml);
		if (rc < 0) {
			strbuf_addstr(err, "cannot write access.yaml: a name is not valid UTF-8");
			return -1;
		}
	}
	if (build_tree(tree_id, e, err) < 0)
		return -1;
	return git_oid_equal(tree_id, git_tree_id(e->base)) ? ADMINREPO_UNCHANGED : 0;
}

/* One try of adminrepo_commit(); 0, ADMINREPO_UNCHANGED, ATTEMPT_RETRY or -1. */
static int commit_once(git_oid *out, git_repository *repo, const struct commit_req *req,
		       struct diags *d, struct strbuf *err)
{
	struct adminrepo_edit e = { .repo = repo };
	git_commit *parent = NULL;
	git_oid tip, tree_id, commit_id;
	int rc;

	rc = edit_start(&e, &tip, &parent, d, err);
	if (!rc)
		rc = edit_apply(&tree_id, &e, req, err);
	if (!rc)
		rc = validate_tree(repo, &tree_id, d, err);
	if (!rc)
		rc = write_commit(&commit_id, repo, req, &tree_id, parent, err);
	if (!rc)
		rc = move_branch(repo, &commit_id, &tip, req->message, err);
	if (!rc && out)
		git_oid_cpy(out, &commit_id);
	git_commit_free(parent);
	edit_release(&e);
	return rc;
}

static void diags_copy(struct diags *to, const struct diags *from)
{
	for (size_t i = 0; i < diags_nr(from); i++) {
		const struct diag *g = diags_get(from, i);

		diags_add(to, g->severity, g->file, g->line, g->col, g->rule, "%s", g->message);
	}
}

/* Wait a little before trying again: the other writer is likely a push in progress. */
static void backoff(int attempt)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 * (long)(attempt + 1) };

	nanosleep(&ts, NULL);
}

int adminrepo_commit(git_oid *out, const char *path, const char *author, const char *message,
		     int (*edit)(struct adminrepo_edit *e, struct strbuf *err, void *payload),
		     void *payload, struct diags *d, struct strbuf *err)
{
	struct commit_req req = { author, message, edit, payload };
	git_repository *repo = NULL;
	struct diags *tries = NULL;
	int rc = -1;

	if (reponame_check_user(author, err) < 0)
		return -1;
	if (git_repository_open_bare(&repo, path) < 0) {
		strbuf_addf(err, "cannot open the admin repository: %s", git_message());
		return -1;
	}
	for (int attempt = 0; attempt < COMMIT_TRIES; attempt++) {
		/* Report only the last try's problems: earlier ones were about an old state. */
		diags_free(tries);
		tries = diags_new();
		rc = commit_once(out, repo, &req, tries, err);
		if (rc != ATTEMPT_RETRY)
			break;
		backoff(attempt);
	}
	if (rc == ATTEMPT_RETRY) {
		strbuf_addstr(err, "the admin repository kept changing during the update; try again");
		rc = -1;
	}
	diags_copy(d, tries);
	diags_free(tries);
	git_repository_free(repo);
	return rc;
}

/* ---- gitd init ---- */

/* The files of a new admin repository, checked before anything is created. */
static int init_files(struct strbuf *pub, struct strbuf *yaml, const char *admin,
		      const char *keys_file, const char *keys, size_t keys_len, struct diags *d,
		      struct strbuf *err)
{
	struct pubkey_list *list = pubkey_list_new();
	struct access *a = access_new();
	int rc = -1;

	if (reponame_check_user(admin, err) < 0)
		goto cleanup;
	if (pubkey_list_parse(list, admin, keys_file, keys, keys_len, d) < 0)
		goto cleanup;
	if (!pubkey_list_count(list)) {
		strbuf_addstr(err, "the admin key file holds no public key; give a .pub file");
		goto cleanup;
	}
	for (size_t i = 0; i < pubkey_list_count(list); i++)
		pubkey_format(pub, pubkey_list_get(list, i));
	if (access_set_admin(a, admin, 1, err) < 0 || access_add_repo(a, "deploy", err) < 0 ||
	    adminrepo_access_yaml(yaml, a) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (rc < 0 && !err->len)
		strbuf_addstr(err, "the admin key is not valid");
	access_free(a);
	pubkey_list_free(list);
	return rc;
}

static int create_repo(git_repository **out, const char *path, struct strbuf *err)
{
	git_repository_init_options opts;
	int rc;

	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
		     GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = "main";
	rc = git_repository_init_ext(out, path, &opts);
	if (rc == GIT_EEXISTS)
		strbuf_addf(err, "an admin repository already exists at %s", path);
	else if (rc < 0)
		strbuf_addf(err, "cannot create %s: %s", path, git_message());
	return rc < 0 ? -1 : 0;
}

int adminrepo_init(const char *path, const char *admin, const char *keys_file, const char *keys,
		   size_t keys_len, struct diags *d, struct strbuf *err)
{
	struct strbuf pub = STRBUF_INIT, yaml = STRBUF_INIT, file = STRBUF_INIT;
	struct adminrepo_edit e = { 0 };
	struct commit_req req = { admin, "Create the admin repository", NULL, NULL };
	git_oid tree_id, commit_id;
	int rc = -1;

	if (init_files(&pub, &yaml, admin, keys_file, keys, keys_len, d, err) < 0 ||
	    create_repo(&e.repo, path, err) < 0)
		goto cleanup;
	strbuf_addf(&file, USERS_DIR "/%s.pub", admin);
	adminrepo_edit_set(&e, file.buf, pub.buf, pub.len);
	adminrepo_edit_set(&e, ADMINREPO_ACCESS, yaml.buf, yaml.len);
	if (build_tree(&tree_id, &e, err) < 0 || validate_tree(e.repo, &tree_id, d, err) < 0 ||
	    write_commit(&commit_id, e.repo, &req, &tree_id, NULL, err) < 0 ||
	    move_branch(e.repo, &commit_id, NULL, req.message, err) != 0)
		goto cleanup;
	rc = 0;
cleanup:
	edit_release(&e);
	git_repository_free(e.repo);
	strbuf_release(&pub);
	strbuf_release(&yaml);
	strbuf_release(&file);
	return rc;
}

/* ---- access.yaml ---- */

int adminrepo_access_yaml(struct strbuf *out, const struct access *a)
{
	json_t *v = access_to_json(a);
	size_t len = out->len;
	int rc;

	strbuf_addstr(out, "# Who may do what: see docs/access.md.\n"
			   "# gitd's admin commands rewrite this file.\n");
	rc = yamlemit_doc(out, v);
	if (rc < 0)
		strbuf_setlen(out, len);
	json_decref(v);
	return rc;
}
