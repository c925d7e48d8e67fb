/*
 * spawn: run a program from an argv array, never through a shell.
 *
 * The caller fills a struct child (CHILD_INIT), then child_start() forks and
 * execs argv[0] (an absolute path, or a name looked up in PATH of the
 * child's environment). The child's environment is exactly `env` (built
 * from nothing), every descriptor but 0-2 is closed, and signal
 * dispositions and the mask are reset. An exec failure is reported to the
 * parent through a close-on-exec pipe, so child_start() returns -1 with
 * errno set instead of leaving a child that exits 127.
 *
 * For each of stdin/stdout/stderr: CHILD_PIPE makes a pipe and returns the
 * parent's end in in/out/err (close-on-exec, caller closes it); CHILD_NULL
 * connects /dev/null; CHILD_INHERIT keeps the parent's descriptor; a value
 * >= 0 passes that descriptor.
 */
#ifndef GITD_SPAWN_H
#define GITD_SPAWN_H

#include <sys/types.h>

#include "strvec.h"

#define CHILD_INHERIT (-1)
#define CHILD_PIPE (-2)
#define CHILD_NULL (-3)

struct child {
	struct strvec argv;
	struct strvec env;
	const char *dir;  /* chdir here first, or NULL */
	int in, out, err; /* see above; after start: parent's pipe ends or -1 */
	int new_pgroup;   /* run in a process group of its own (for killing it whole) */
	pid_t pid;
};

#define CHILD_INIT { STRVEC_INIT, STRVEC_INIT, NULL, CHILD_INHERIT, CHILD_INHERIT, CHILD_INHERIT, 0, -1 }

/* 0 on success (pid set), -1 with errno set on failure. */
int child_start(struct child *c);
/*
 * Wait for the child and release c's vectors. Returns the exit status
 * (0-255), 128 + signal number if it was killed, or -1 on error.
 */
int child_finish(struct child *c);
/* Free argv/env and close open pipe ends without waiting (after a failed start). */
void child_release(struct child *c);

/* Convert a waitpid() status to the value child_finish() returns. */
int child_exit_code(int status);

/*
 * Run c to completion, feeding it input (may be NULL) and collecting stdout
 * into out (may be NULL: discard) and stderr into err (may be NULL: inherit).
 * out and err should be capped strbufs for untrusted programs.
 * Returns what child_finish() returns, or -1 if it could not start.
 */
struct strbuf;
int child_run_capture(struct child *c, const char *input, size_t input_len,
		      struct strbuf *out, struct strbuf *err);

#endif
