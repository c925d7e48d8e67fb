/*
 * fileutil: crash-safe file writes and small filesystem helpers.
 *
 * write_file_atomic() writes a temporary file in the same directory, syncs
 * it, renames it over the target and syncs the directory: after a crash at
 * any moment the target holds either the old content or the new, never a
 * mix or a truncated file.
 */
#ifndef GITD_FILEUTIL_H
#define GITD_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/* 0, or -1 with errno set. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* rename(2), then fsync the target's directory; 0 or -1 with errno. */
int rename_durable(const char *from, const char *to);
/* mkdir -p; 0, or -1 with errno set. */
int mkdir_p(const char *path, mode_t mode);
/* fsync the directory holding path; 0 or -1 with errno. */
int fsync_parent(const char *path);
/*
 * rm -rf path, never following a symbolic link (a link is removed, not what
 * it points to). 0 when path is gone (also when it never existed), -1 with errno.
 */
int remove_tree(const char *path);

#endif
