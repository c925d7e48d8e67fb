#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "diag.h"
#include "util.h"
#include "yamlload.h"
#include "banned.h"

struct source_ops {
	enum source_type (*stat)(struct source *src, const char *path);
	int (*list)(struct source *src, const char *path, struct strvec *out, struct strbuf *err);
	/* Read a file known to be SOURCE_FILE, refusing more than max bytes. */
	int (*read)(struct source *src, const char *path, size_t max, struct strbuf *out,
		    struct strbuf *err);
	void (*release)(struct source *src);
};

struct source {
	const struct source_ops *ops;
	size_t files; /* files read */
	size_t bytes; /* bytes read */
	int dirfd;    /* directory backend: the root ... */
	struct strbuf parent; /* ... and the directory dir_parent() opened last */
	int parent_fd;
	git_repository *repo; /* git backend */
	git_tree *tree;
	int own_repo;
	struct strvec mem_paths; /* memory backend: sorted paths ... */
	struct strbuf *mem_data; /* ... and their contents */
	size_t mem_alloc;
	struct ydoc **docs; /* every document source_load_yaml() handed out */
	size_t docs_nr, docs_alloc;
	json_t *clean; /* path -> index into docs of its parse without problems */
	json_t *types; /* path -> enum source_type: the validator and the renderer ask alike */
};

int source_path_ok(const char *path)
{
	const char *p = path;

	if (!*path)
		return 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

int source_path_join(struct strbuf *out, const char *base, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = rel;
	int ret = -1;

	if (!*rel || *rel == '/')
		goto cleanup;
	strbuf_addstr(&sb, base);
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 2 && !memcmp(p, "..", 2)) {
			char *up;

			if (!sb.len)
				goto cleanup; /* above the root */
			up = strrchr(sb.buf, '/');
			strbuf_setlen(&sb, up ? (size_t)(up - sb.buf) : 0);
		} else if (n && !(n == 1 && *p == '.')) {
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, n);
		}
		p += n + (slash != NULL);
	}
	if (!sb.len)
		goto cleanup; /* the root itself is not a file */
	strbuf_reset(out);
	strbuf_add(out, sb.buf, sb.len);
	ret = 0;
cleanup:
	strbuf_release(&sb);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_tail(struct strvec *sv, size_t from)
{
	qsort(sv->v + from, sv->nr - from, sizeof(*sv->v), cmp_names);
}

/* ---- directory backend ---- */

/* Open directory path (len bytes of it) under the root, following no symbolic link. */
static int open_dir(struct source *src, const char *path, size_t len)
{
	int fd = dup(src->dirfd);
	const char *p = path, *end = path + len;

	while (fd >= 0 && p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		char *comp = xstrndup(p, slash ? (size_t)(slash - p) : (size_t)(end - p));
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		free(comp);
		close(fd);
		fd = next;
		p = slash ? slash + 1 : end;
	}
	return fd;
}

/*
 * The directory holding path's last component, opened without following
 * symbolic links anywhere, so nothing outside the root is reached; *last
 * points into path. The descriptor is src's (do not close it): it stays
 * open for the next call, as callers go through one directory at a time.
 */
static int dir_parent(struct source *src, const char *path, const char **last)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	int fd;

	*last = slash ? slash + 1 : path;
	if (!slash)
		return src->dirfd;
	if (src->parent_fd >= 0 && src->parent.len == len && !memcmp(src->parent.buf, path, len))
		return src->parent_fd;
	if ((fd = open_dir(src, path, len)) < 0)
		return -1;
	if (src->parent_fd >= 0)
		close(src->parent_fd);
	src->parent_fd = fd;
	strbuf_reset(&src->parent);
	strbuf_add(&src->parent, path, len);
	return fd;
}

static enum source_type dir_stat(struct source *src, const char *path)
{
	const char *last;
	struct stat st;
	int fd = dir_parent(src, path, &last);
	int ok = fd >= 0 && !fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW);

	if (!ok)
		return SOURCE_NONE;
	if (S_ISREG(st.st_mode))
		return SOURCE_FILE;
	return S_ISDIR(st.st_mode) ? SOURCE_DIR : SOURCE_OTHER;
}

static int dir_list(struct source *src, const char *path, struct strvec *out, struct strbuf *err)
{
	const char *last = ".";
	/* A fresh descriptor: a dup() would share the directory offset with the parent. */
	int parent = *path ? dir_parent(src, path, &last) : src->dirfd;
	int fd = parent < 0 ? -1 : openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	size_t from = out->nr;
	struct dirent *de;
	int ret = -1;

	if (!dir) {
		strbuf_addf(err, "cannot open directory: %s", strerror(errno));
		goto cleanup;
	}
	fd = -1; /* owned by dir */
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (out->nr - from >= SOURCE_MAX_ENTRIES) {
			strbuf_addf(err, "more than %d entries in one directory", SOURCE_MAX_ENTRIES);
			goto cleanup;
		}
		strvec_push(out, de->d_name);
	}
	sort_tail(out, from);
	ret = 0;
cleanup:
	if (dir)
		closedir(dir);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int read_capped(int fd, size_t max, struct strbuf *out)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (out->len + (size_t)n > max) {
			errno = EFBIG;
			return -1;
		}
		strbuf_add(out, buf, (size_t)n);
	}
	return 0;
}

/* Why a file is refused: the cap is Kubernetes' own limit for one object. */
static void too_large(struct strbuf *err, size_t max)
{
	strbuf_addf(err, "larger than %zu KiB, the most one Kubernetes object may be; split it into "
		    "several files", max / 1024);
}

static int dir_read(struct source *src, const char *path, size_t max, struct strbuf *out,
		    struct strbuf *err)
{
	const char *last;
	int parent = dir_parent(src, path, &last);
	int fd = parent < 0 ? -1 : openat(parent, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int ret = -1;

	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(err, "cannot read: %s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		strbuf_addstr(err, "not a regular file");
	} else if ((size_t)st.st_size > max || read_capped(fd, max, out) < 0) {
		if (errno == EFBIG || (size_t)st.st_size > max)
			too_large(err, max);
		else
			strbuf_addf(err, "cannot read: %s", strerror(errno));
	} else {
		ret = 0;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static void dir_release(struct source *src)
{
	close(src->dirfd);
	if (src->parent_fd >= 0)
		close(src->parent_fd);
	strbuf_release(&src->parent);
}

static const struct source_ops dir_ops = { dir_stat, dir_list, dir_read, dir_release };

int source_open_dir(struct source **out, const char *dir, struct strbuf *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0) {
		strbuf_addf(err, "%s: cannot open directory: %s", dir, strerror(errno));
		return -1;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->ops = &dir_ops;
	(*out)->dirfd = fd; /* transferred */
	strbuf_init(&(*out)->parent, 0);
	(*out)->parent_fd = -1;
	return 0;
}

/* ---- git backend ---- */

static enum source_type mode_type(git_filemode_t mode)
{
	switch (mode) {
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		return SOURCE_FILE;
	case GIT_FILEMODE_TREE:
		return SOURCE_DIR;
	default:
		return SOURCE_OTHER;
	}
}

static enum source_type git_stat(struct source *src, const char *path)
{
	git_tree_entry *e = NULL;
	enum source_type type = SOURCE_NONE;

	if (!git_tree_entry_bypath(&e, src->tree, path))
		type = mode_type(git_tree_entry_filemode(e));
	git_tree_entry_free(e);
	return type;
}

static const char *git_message(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

static int git_list(struct source *src, const char *path, struct strvec *out, struct strbuf *err)
{
	git_tree_entry *e = NULL;
	git_tree *tree = NULL;
	size_t from = out->nr, n;
	int ret = -1;

	if (*path && (git_tree_entry_bypath(&e, src->tree, path) ||
		      git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		      git_tree_lookup(&tree, src->repo, git_tree_entry_id(e)))) {
		strbuf_addstr(err, "not a directory");
		goto cleanup;
	}
	n = git_tree_entrycount(tree ? tree : src->tree);
	if (n > SOURCE_MAX_ENTRIES) {
		strbuf_addf(err, "more than %d entries in one directory", SOURCE_MAX_ENTRIES);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		strvec_push(out, git_tree_entry_name(git_tree_entry_byindex(tree ? tree : src->tree, i)));
	sort_tail(out, from);
	ret = 0;
cleanup:
	git_tree_free(tree);
	git_tree_entry_free(e);
	return ret;
}

static int git_read(struct source *src, const char *path, size_t max, struct strbuf *out,
		    struct strbuf *err)
{
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_odb *odb = NULL;
	git_object_t type;
	size_t size;
	int ret = -1;

	if (git_tree_entry_bypath(&e, src->tree, path) || git_repository_odb(&odb, src->repo) ||
	    git_odb_read_header(&size, &type, odb, git_tree_entry_id(e))) {
		strbuf_addf(err, "cannot read: %s", git_message());
		goto cleanup;
	}
	/* The header gives the size before anything is inflated. */
	if (size > max) {
		too_large(err, max);
		goto cleanup;
	}
	if (git_blob_lookup(&blob, src->repo, git_tree_entry_id(e))) {
		strbuf_addf(err, "cannot read: %s", git_message());
		goto cleanup;
	}
	strbuf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	ret = 0;
cleanup:
	git_blob_free(blob);
	git_odb_free(odb);
	git_tree_entry_free(e);
	return ret;
}

static void git_release(struct source *src)
{
	git_tree_free(src->tree);
	if (src->own_repo)
		git_repository_free(src->repo);
	git_libgit2_shutdown();
}

static const struct source_ops git_ops = { git_stat, git_list, git_read, git_release };

int source_open_git(struct source **out, git_repository *repo, const git_oid *id,
		    struct strbuf *err)
{
	git_object *obj = NULL;
	git_tree *tree = NULL;

	*out = NULL;
	git_libgit2_init();
	if (git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) ||
	    git_object_peel((git_object **)&tree, obj, GIT_OBJECT_TREE)) {
		strbuf_addf(err, "%s: not a commit or tree: %s", git_oid_tostr_s(id), git_message());
		git_object_free(obj);
		git_libgit2_shutdown();
		return -1;
	}
	git_object_free(obj);
	*out = xcalloc(1, sizeof(**out));
	(*out)->ops = &git_ops;
	(*out)->repo = repo;
	(*out)->tree = tree; /* transferred */
	(*out)->dirfd = -1;
	return 0;
}

int source_open_rev(struct source **out, const char *git_dir, const char *quarantine,
		    const char *rev, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	git_odb *odb = NULL;
	int ret = -1;

	*out = NULL;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, git_dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) {
		strbuf_addf(err, "%s: cannot open repository: %s", git_dir, git_message());
		goto cleanup;
	}
	/* Pushed objects stay in the quarantine directory until the push is accepted. */
	if (quarantine && *quarantine &&
	    (git_repository_odb(&odb, repo) || git_odb_add_disk_alternate(odb, quarantine))) {
		strbuf_addf(err, "%s: cannot use quarantine: %s", quarantine, git_message());
		goto cleanup;
	}
	if (git_revparse_single(&obj, repo, rev)) {
		strbuf_addf(err, "%s: unknown revision: %s", rev, git_message());
		goto cleanup;
	}
	if (source_open_git(out, repo, git_object_id(obj), err) < 0)
		goto cleanup;
	(*out)->own_repo = 1;
	repo = NULL; /* transferred */
	ret = 0;
cleanup:
	git_object_free(obj);
	git_odb_free(odb);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return ret;
}

/* ---- memory backend ---- */

/* Index of path in the sorted list, or where it would go (*found 0). */
static size_t mem_find(const struct source *src, const char *path, int *found)
{
	size_t lo = 0, hi = src->mem_paths.nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(src->mem_paths.v[mid], path);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

/* First file under directory dir ("a/b" matches "a/b/..."), or NULL. */
static const char *mem_under(const struct source *src, const char *dir, size_t *at)
{
	size_t len = strlen(dir);
	int found;

	for (size_t i = mem_find(src, dir, &found); i < src->mem_paths.nr; i++) {
		const char *p = src->mem_paths.v[i];

		if (strncmp(p, dir, len))
			break;
		if (!len || p[len] == '/') {
			*at = i;
			return p;
		}
	}
	return NULL;
}

static enum source_type mem_stat(struct source *src, const char *path)
{
	size_t at;
	int found;

	mem_find(src, path, &found);
	if (found)
		return SOURCE_FILE;
	return mem_under(src, path, &at) ? SOURCE_DIR : SOURCE_NONE;
}

static int mem_list(struct source *src, const char *path, struct strvec *out, struct strbuf *err)
{
	size_t len = strlen(path), from = out->nr, at;

	if (!mem_under(src, path, &at)) {
		strbuf_addstr(err, "not a directory");
		return -1;
	}
	for (size_t i = at; i < src->mem_paths.nr; i++) {
		const char *p = src->mem_paths.v[i], *name, *slash;
		char *entry;

		if (len && (strncmp(p, path, len) || p[len] != '/'))
			break;
		name = len ? p + len + 1 : p;
		slash = strchr(name, '/');
		entry = xstrndup(name, slash ? (size_t)(slash - name) : strlen(name));
		if (out->nr == from || strcmp(out->v[out->nr - 1], entry))
			strvec_push(out, entry);
		free(entry);
	}
	sort_tail(out, from);
	return 0;
}

static int mem_read(struct source *src, const char *path, size_t max, struct strbuf *out,
		    struct strbuf *err)
{
	int found;
	size_t i = mem_find(src, path, &found);

	if (src->mem_data[i].len > max) {
		too_large(err, max);
		return -1;
	}
	strbuf_add(out, src->mem_data[i].buf, src->mem_data[i].len);
	return 0;
}

static void mem_release(struct source *src)
{
	for (size_t i = 0; i < src->mem_paths.nr; i++)
		strbuf_release(&src->mem_data[i]);
	free(src->mem_data);
	strvec_clear(&src->mem_paths);
}

static const struct source_ops mem_ops = { mem_stat, mem_list, mem_read, mem_release };

struct source *source_new_mem(void)
{
	struct source *src = xcalloc(1, sizeof(*src));
	struct strvec empty = STRVEC_INIT;

	src->ops = &mem_ops;
	src->dirfd = -1;
	src->mem_paths = empty;
	return src;
}

void source_mem_add(struct source *src, const char *path, const char *data, size_t len)
{
	int found;
	size_t i;

	if (src->ops != &mem_ops || !source_path_ok(path))
		die("source_mem_add: invalid path '%s'", path);
	i = mem_find(src, path, &found);
	if (!found) {
		char *added;

		/* Append, then move into sorted place. */
		strvec_push(&src->mem_paths, path);
		added = src->mem_paths.v[src->mem_paths.nr - 1];
		memmove(src->mem_paths.v + i + 1, src->mem_paths.v + i,
			(src->mem_paths.nr - 1 - i) * sizeof(*src->mem_paths.v));
		src->mem_paths.v[i] = added;
		ALLOC_GROW(src->mem_data, src->mem_paths.nr, src->mem_alloc);
		memmove(src->mem_data + i + 1, src->mem_data + i,
			(src->mem_paths.nr - 1 - i) * sizeof(*src->mem_data));
		strbuf_init(&src->mem_data[i], 0);
	}
	strbuf_reset(&src->mem_data[i]);
	strbuf_add(&src->mem_data[i], data, len);
	json_object_del(src->clean, path); /* parse the new contents (the old document lives on) */
	json_object_clear(src->types);     /* the file, and maybe its directories, are new */
}

/* ---- common ---- */

void source_free(struct source *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->docs_nr; i++)
		ydoc_free(src->docs[i]);
	free(src->docs);
	json_decref(src->clean);
	json_decref(src->types);
	src->ops->release(src);
	free(src);
}

enum source_type source_stat(struct source *src, const char *path)
{
	const json_t *seen;
	enum source_type type;

	if (!*path)
		return SOURCE_DIR;
	if (!source_path_ok(path))
		return SOURCE_NONE;
	if ((seen = json_object_get(src->types, path)))
		return (enum source_type)json_integer_value(seen);
	type = src->ops->stat(src, path);
	if (!src->types)
		src->types = json_object();
	json_object_set_new_nocheck(src->types, path, json_integer(type));
	return type;
}

int source_list(struct source *src, const char *path, struct strvec *out, struct strbuf *err)
{
	if (*path && !source_path_ok(path)) {
		strbuf_addstr(err, "invalid path");
		return -1;
	}
	if (source_stat(src, path) != SOURCE_DIR) {
		strbuf_addstr(err, "not a directory");
		return -1;
	}
	return src->ops->list(src, path, out, err);
}

int source_read(struct source *src, const char *path, struct strbuf *out, struct strbuf *err)
{
	strbuf_reset(out);
	switch (source_stat(src, path)) {
	case SOURCE_NONE:
		return SOURCE_MISSING;
	case SOURCE_DIR:
		strbuf_addstr(err, "is a directory, not a file");
		return -1;
	case SOURCE_OTHER:
		strbuf_addstr(err, "is a symbolic link or a submodule, not a regular file");
		return -1;
	case SOURCE_FILE:
		break;
	}
	if (src->files >= SOURCE_MAX_FILES || src->bytes >= SOURCE_MAX_TOTAL_BYTES)
		goto too_much;
	if (src->ops->read(src, path, SOURCE_MAX_FILE_BYTES, out, err) < 0) {
		strbuf_reset(out);
		return -1;
	}
	src->files++;
	src->bytes += out->len;
	if (src->bytes > SOURCE_MAX_TOTAL_BYTES)
		goto too_much;
	return 0;
too_much:
	strbuf_reset(out);
	strbuf_addf(err, "not read: the repo has more than %d files or %d MiB to check",
		    SOURCE_MAX_FILES, SOURCE_MAX_TOTAL_BYTES / (1024 * 1024));
	return -1;
}

size_t source_files_read(const struct source *src)
{
	return src->files;
}

/* Add the problems of from to d. */
static void add_all(struct diags *d, const struct diags *from)
{
	for (size_t i = 0; i < diags_nr(from); i++) {
		const struct diag *e = diags_get(from, i);

		diags_add(d, e->severity, e->file, e->line, e->col, e->rule, "%s", e->message);
	}
}

int source_load_yaml(const struct ydoc **out, struct source *src, const char *path,
		     struct diags *d, struct strbuf *err)
{
	const json_t *seen = json_object_get(src->clean, path);
	struct strbuf buf = STRBUF_INIT;
	struct diags *found = NULL;
	struct ydoc *doc = NULL;
	int ret;

	*out = NULL;
	if (seen) {
		*out = src->docs[json_integer_value(seen)];
		return 0;
	}
	if ((ret = source_read(src, path, &buf, err)) < 0)
		goto cleanup;
	found = diags_new(); /* to tell a clean parse, even when d is full */
	if (ydoc_load(&doc, path, buf.buf, buf.len, NULL, found) < 0)
		ret = SOURCE_BAD_YAML;
	add_all(d, found);
	if (!doc)
		goto cleanup;
	if (!diags_nr(found)) {
		if (!src->clean)
			src->clean = json_object();
		json_object_set_new_nocheck(src->clean, path,
					    json_integer((json_int_t)src->docs_nr));
	}
	ALLOC_GROW(src->docs, src->docs_nr + 1, src->docs_alloc);
	src->docs[src->docs_nr++] = doc;
	*out = doc; /* transferred to src */
cleanup:
	diags_free(found);
	strbuf_release(&buf);
	return ret;
}
