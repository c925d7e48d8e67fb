/*
 * The build context: a commit's tree written out of the object database
 * (no checkout, no index). Every file is created relative to its
 * directory's descriptor with O_EXCL and O_NOFOLLOW, and directories are
 * entered with O_NOFOLLOW, so no entry of a hostile tree (a symbolic link
 * named like a later directory, a duplicate name, "..") can write outside
 * the context. Modes are set exactly (0644, 0755), whatever gitd's umask.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "build.h"
#include "util.h"
#include "banned.h"

/* Directories deeper than this are refused (each level holds a descriptor). */
#define EXPORT_MAX_DEPTH 100
/* A symbolic link's target is a path, not data. */
#define EXPORT_MAX_LINK 4096

struct export {
	git_repository *repo;
	size_t bytes, max;
	unsigned depth;
	struct strbuf path; /* of the entry at hand, for messages */
	struct strbuf *err;
};

static int export_tree(struct export *x, int dfd, const git_tree *tree);

static int fail(struct export *x, const char *what)
{
	strbuf_addf(x->err, "cannot export %s: %s", x->path.buf, what);
	return -1;
}

static int fail_errno(struct export *x)
{
	return fail(x, strerror(errno));
}

/* Names git would refuse to check out: empty, ".", "..", with '/', or ".git" in any case. */
static int name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/') &&
	       strcasecmp(name, ".git");
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int export_blob(struct export *x, const git_tree_entry *e, git_blob **out)
{
	if (git_blob_lookup(out, x->repo, git_tree_entry_id(e)) < 0)
		return fail(x, git_error_last() ? git_error_last()->message : "unreadable blob");
	x->bytes = st_add(x->bytes, (size_t)git_blob_rawsize(*out));
	if (x->bytes > x->max) {
		strbuf_addf(x->err, "the commit's files are larger than the build context limit (%zu MiB)",
			    x->max >> 20);
		return -1;
	}
	return 0;
}

static int export_file(struct export *x, int dfd, const git_tree_entry *e, mode_t mode)
{
	git_blob *blob = NULL;
	int fd = -1, rc = -1;

	if (export_blob(x, e, &blob) < 0)
		goto cleanup;
	fd = openat(dfd, git_tree_entry_name(e), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0 ||
	    fchmod(fd, mode) < 0) {
		rc = fail_errno(x);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = fail_errno(x);
	git_blob_free(blob);
	return rc;
}

static int export_link(struct export *x, int dfd, const git_tree_entry *e)
{
	git_blob *blob = NULL;
	char *target = NULL;
	int rc = -1;

	if (export_blob(x, e, &blob) < 0)
		goto cleanup;
	if (git_blob_rawsize(blob) > EXPORT_MAX_LINK ||
	    memchr(git_blob_rawcontent(blob), '\0', (size_t)git_blob_rawsize(blob))) {
		rc = fail(x, "not a valid symbolic link target");
		goto cleanup;
	}
	target = xstrndup(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	rc = symlinkat(target, dfd, git_tree_entry_name(e)) < 0 ? fail_errno(x) : 0;
cleanup:
	free(target);
	git_blob_free(blob);
	return rc;
}

/* A directory (a tree, or an empty one for a submodule). */
static int export_dir(struct export *x, int dfd, const git_tree_entry *e, int submodule)
{
	const char *name = git_tree_entry_name(e);
	git_tree *sub = NULL;
	int fd = -1, rc = -1;

	if (x->depth >= EXPORT_MAX_DEPTH)
		return fail(x, "directories nested too deeply");
	if (mkdirat(dfd, name, 0700) < 0 ||
	    (fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fchmod(fd, 0755) < 0) {
		rc = fail_errno(x);
		goto cleanup;
	}
	if (submodule) {
		rc = 0;
		goto cleanup;
	}
	if (git_tree_lookup(&sub, x->repo, git_tree_entry_id(e)) < 0) {
		rc = fail(x, "unreadable tree");
		goto cleanup;
	}
	x->depth++;
	rc = export_tree(x, fd, sub);
	x->depth--;
cleanup:
	if (fd >= 0)
		close(fd);
	git_tree_free(sub);
	return rc;
}

static int export_entry(struct export *x, int dfd, const git_tree_entry *e)
{
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE:
		return export_dir(x, dfd, e, 0);
	case GIT_FILEMODE_COMMIT:
		return export_dir(x, dfd, e, 1);
	case GIT_FILEMODE_BLOB:
		return export_file(x, dfd, e, 0644);
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		return export_file(x, dfd, e, 0755);
	case GIT_FILEMODE_LINK:
		return export_link(x, dfd, e);
	default:
		return fail(x, "unknown file mode");
	}
}

static int export_tree(struct export *x, int dfd, const git_tree *tree)
{
	size_t base = x->path.len;

	for (size_t i = 0; i < git_tree_entrycount(tree); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		int rc;

		strbuf_setlen(&x->path, base);
		strbuf_addf(&x->path, "%s%s", base ? "/" : "", name);
		if (!name_ok(name)) {
			strbuf_setlen(&x->path, base);
			strbuf_addstr(x->err, "the commit holds a file name git refuses to check out: `");
			strbuf_add_sanitized(x->err, name, strlen(name), 0);
			if (base)
				strbuf_addf(x->err, "` in `%s`", x->path.buf);
			else
				strbuf_addstr(x->err, "` in the top directory");
			return -1;
		}
		rc = export_entry(x, dfd, e);
		if (rc < 0)
			return rc;
	}
	strbuf_setlen(&x->path, base);
	return 0;
}

int build_export(const char *dir, const char *git_dir, const char *commit, size_t max_bytes,
		 struct strbuf *err)
{
	struct export x = { NULL, 0, max_bytes, 0, STRBUF_INIT, err };
	git_object *obj = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	int dfd = -1, rc = -1;

	if (git_repository_open_bare(&x.repo, git_dir) < 0 || git_oid_fromstr(&oid, commit) < 0 ||
	    git_object_lookup(&obj, x.repo, &oid, GIT_OBJECT_COMMIT) < 0 ||
	    git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE) < 0) {
		strbuf_addf(err, "cannot read commit %.7s: %s", commit,
			    git_error_last() ? git_error_last()->message : "unknown error");
		goto cleanup;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		strbuf_addf(err, "cannot open %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	rc = export_tree(&x, dfd, tree);
cleanup:
	if (dfd >= 0)
		close(dfd);
	git_tree_free(tree);
	git_object_free(obj);
	git_repository_free(x.repo);
	strbuf_release(&x.path);
	return rc;
}
