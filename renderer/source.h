/*
 * source: the files of an app repo, read-only, as the validator and the
 * renderer see them. Two backends give the same answers:
 *
 *   - a directory (the `gitd-render` CLI on a checkout), and
 *   - a git tree read straight from the object database with libgit2
 *     (the hooks: no checkout, nothing written).
 *
 * Paths are relative to the repo root, '/'-separated, without "." or ".."
 * components or a leading '/' (see source_path_join() to build one from
 * user input). Only regular files and directories are visible: symbolic
 * links and submodules are SOURCE_OTHER and cannot be read, so a checkout
 * and its commit validate alike and nothing outside the repo is reached.
 *
 * Reads are capped (SOURCE_MAX_FILE_BYTES per file, SOURCE_MAX_TOTAL_BYTES
 * and SOURCE_MAX_FILES per source) so a hostile push cannot make the hook
 * read without bound; past a cap source_read() fails with a message.
 */
#ifndef GITD_SOURCE_H
#define GITD_SOURCE_H

#include <stddef.h>

#include <git2.h>

#include "strbuf.h"
#include "strvec.h"

#define SOURCE_MAX_FILE_BYTES (1536 * 1024) /* Kubernetes' object size limit */
#define SOURCE_MAX_TOTAL_BYTES (32 * 1024 * 1024)
#define SOURCE_MAX_FILES 2000
#define SOURCE_MAX_ENTRIES 2000 /* entries listed from one directory */

/* source_read() result when the path does not exist. */
#define SOURCE_MISSING (-2)
/* source_load_yaml() result when the file is not valid YAML. */
#define SOURCE_BAD_YAML (-3)

enum source_type {
	SOURCE_NONE,  /* does not exist */
	SOURCE_FILE,  /* regular file (executable or not) */
	SOURCE_DIR,
	SOURCE_OTHER, /* symbolic link, submodule, device, ... */
};

struct source;
struct ydoc;
struct diags;

/* A directory tree rooted at dir. -1 with a message in err when dir cannot be opened. */
int source_open_dir(struct source **out, const char *dir, struct strbuf *err);
/*
 * The tree of commit (or tree) id in repo, which must outlive the source.
 * -1 with a message in err when id is not a commit or tree.
 */
int source_open_git(struct source **out, git_repository *repo, const git_oid *id,
		    struct strbuf *err);
/*
 * For hooks: open the bare repository git_dir and the tree of rev (a hex
 * object id or any revision git understands). quarantine is the value of
 * $GIT_QUARANTINE_PATH in a pre-receive hook (pushed objects live there
 * until the push is accepted), or NULL. The source owns the repository.
 */
int source_open_rev(struct source **out, const char *git_dir, const char *quarantine,
		    const char *rev, struct strbuf *err);
/*
 * An empty in-memory tree, for tests and fuzzing: add files with
 * source_mem_add(); directories exist as the paths imply them.
 */
struct source *source_new_mem(void);
/* Add (or replace) the file at path with a copy of len bytes of data; path must be valid. */
void source_mem_add(struct source *src, const char *path, const char *data, size_t len);
void source_free(struct source *src);

/* What path is; SOURCE_NONE also for invalid paths. "" is the root. */
enum source_type source_stat(struct source *src, const char *path);
/*
 * Append the names of the entries of directory path ("" for the root) to
 * out, sorted bytewise. -1 when path is not a directory or holds more than
 * SOURCE_MAX_ENTRIES entries (err says why, without the path).
 */
int source_list(struct source *src, const char *path, struct strvec *out, struct strbuf *err);
/*
 * Replace out's contents with the file at path. 0 on success;
 * SOURCE_MISSING when it does not exist; -1 with a message in err (without
 * the path) when it is not a regular file, is too large, or a cap is reached.
 */
int source_read(struct source *src, const char *path, struct strbuf *out, struct strbuf *err);
/* How many files were read so far. */
size_t source_files_read(const struct source *src);

/*
 * Read path with source_read() and parse it with ydoc_load() (default
 * limits; path names the file in messages). The validator and the
 * renderer read the same files: a file that parsed without a problem is
 * read and parsed once, and later calls get the same document. Anything
 * else is not remembered, so its problems are reported again each time.
 *
 * Returns 0 with *out set (d may have gained warnings); SOURCE_MISSING or
 * -1 (err says why, as source_read()); or SOURCE_BAD_YAML after adding the
 * YAML errors to d. The source owns *out until source_free(): it is shared,
 * so nobody may modify it.
 */
int source_load_yaml(const struct ydoc **out, struct source *src, const char *path,
		     struct diags *d, struct strbuf *err);

/*
 * Resolve rel (from a file such as overlays/prod/kustomization.yaml) against
 * directory base ("" for the root) into a source path in out. -1 when rel is
 * absolute, empty, or climbs above the root with "..".
 */
int source_path_join(struct strbuf *out, const char *base, const char *rel);
/* 1 if path is a valid source path (see above). */
int source_path_ok(const char *path);

#endif
