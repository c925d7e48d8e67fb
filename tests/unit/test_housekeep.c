/* Unit tests: gitd's per-repository gc (gitd/housekeep.c), on real repositories. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "housekeep.h"
#include "spawn.h"
#include "strvec.h"
#include "util.h"
#include "unit.h"

static char dir[] = "/tmp/gitd-test-housekeep.XXXXXX";
static char *repo, *work;

/* Run argv (NULL-terminated) to completion with lib/spawn, output discarded; its exit status. */
static int run(const char *arg0, ...)
{
	struct child c = CHILD_INIT;
	const char *a;
	va_list ap;

	va_start(ap, arg0);
	for (a = arg0; a; a = va_arg(ap, const char *))
		strvec_push(&c.argv, a);
	va_end(ap);
	strvec_push(&c.env, "PATH=/usr/bin:/bin");
	strvec_pushf(&c.env, "HOME=%s", dir);
	c.in = c.out = c.err = CHILD_NULL;
	if (child_start(&c) < 0) {
		child_release(&c);
		return -1;
	}
	return child_finish(&c);
}

static size_t count_packs(void)
{
	char *path = xstrfmt("%s/objects/pack", repo);
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += ends_with(e->d_name, ".pack");
	closedir(d);
	free(path);
	return n;
}

/* Commit a file named name in the work tree and push it: one more pack in the repo. */
static void push_commit(const char *name)
{
	char *file = xstrfmt("%s/%s", work, name);
	FILE *f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", name);
	fclose(f);
	ck_assert_int_eq(run("git", "-C", work, "add", name, NULL), 0);
	ck_assert_int_eq(run("git", "-C", work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit",
			     "-qm", name, NULL), 0);
	ck_assert_int_eq(run("git", "-C", work, "push", "-q", repo, "HEAD:refs/heads/main", NULL), 0);
	free(file);
}

/* DATA/repos/r.git holding two packs, and a limit of one before gc --auto repacks. */
static void setup(void)
{
	char *repos;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	repos = xstrfmt("%s/repos", dir);
	repo = xstrfmt("%s/r.git", repos);
	work = xstrfmt("%s/work", dir);
	ck_assert_int_eq(mkdir(repos, 0700), 0);
	ck_assert_int_eq(run("git", "init", "-q", "--bare", repo, NULL), 0);
	ck_assert_int_eq(run("git", "--git-dir", repo, "config", "receive.unpackLimit", "1", NULL), 0);
	ck_assert_int_eq(run("git", "--git-dir", repo, "config", "gc.autoPackLimit", "1", NULL), 0);
	/* as gitd's receive-pack: otherwise each push below starts a gc of its own */
	ck_assert_int_eq(run("git", "--git-dir", repo, "config", "receive.autogc", "false", NULL), 0);
	ck_assert_int_eq(run("git", "init", "-q", work, NULL), 0);
	push_commit("a");
	push_commit("b");
	ck_assert_uint_eq(count_packs(), 2);
	free(repos);
}

static void teardown(void)
{
	remove_tree(dir);
	free(repo);
	free(work);
}

START_TEST(test_repacks_past_the_limit)
{
	ck_assert_int_eq(housekeep_repo(dir, "r"), 0);
	ck_assert_uint_eq(count_packs(), 1);
	ck_assert_int_eq(run("git", "--git-dir", repo, "fsck", "--no-progress", NULL), 0);
}
END_TEST

START_TEST(test_skips_while_another_gc_runs)
{
	char *lock = xstrfmt("%s/gitd-gc.lock", repo);
	int fd = open(lock, O_RDWR | O_CREAT, 0600);

	/* a lock of its own open file: conflicts as another process's would */
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(housekeep_repo(dir, "r"), 0);
	ck_assert_uint_eq(count_packs(), 2);
	close(fd);
	ck_assert_int_eq(housekeep_repo(dir, "r"), 0);
	ck_assert_uint_eq(count_packs(), 1);
	free(lock);
}
END_TEST

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* 1 while pid runs: not gone, and not a zombie that whoever inherited it has yet to reap. */
static int running(pid_t pid)
{
	char *path = xstrfmt("/proc/%d/stat", (int)pid), buf[512] = "";
	FILE *f = fopen(path, "r");
	const char *end;

	free(path);
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	end = strrchr(buf, ')'); /* "PID (COMM) STATE ..." */
	return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

START_TEST(test_sigterm_stops_the_whole_gc)
{
	/* git runs pre-auto-gc before packing: one that hangs holds gc where we can stop it */
	char *hook = xstrfmt("%s/hooks/pre-auto-gc", repo), *started = xstrfmt("%s/started", dir),
	     *pidfile = xstrfmt("%s/hook.pid", dir);
	FILE *f = fopen(hook, "w");
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t pid, hook_pid;
	int status, waited = 0;

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho $$ >'%s'\ntouch '%s'\nexec sleep 60\n", pidfile, started);
	fclose(f);
	ck_assert_int_eq(chmod(hook, 0755), 0);
	pid = fork();
	if (pid == 0) {
		housekeep_catch_term();
		/* the stopped gc, then one that must not start at all */
		_exit(housekeep_repo(dir, "r") == -1 && housekeep_repo(dir, "r") == -1 ? 3 : 0);
	}
	while (!exists(started) && waited++ < 3000)
		nanosleep(&tick, NULL);
	ck_assert(exists(started));
	f = fopen(pidfile, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &hook_pid), 1);
	fclose(f);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status)); /* SIGTERM did not kill the job outright: it wound up */
	ck_assert_int_eq(WEXITSTATUS(status), 3);
	/* the gc's own children went too (closing the pipe is not quite the end of exiting) */
	for (waited = 0; running(hook_pid) && waited < 3000; waited++)
		nanosleep(&tick, NULL);
	ck_assert(!running(hook_pid));
	ck_assert_uint_eq(count_packs(), 2);
	free(hook);
	free(started);
	free(pidfile);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("housekeep");
	TCase *tc = tcase_create("housekeep");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_repacks_past_the_limit);
	tcase_add_test(tc, test_skips_while_another_gc_runs);
	tcase_add_test(tc, test_sigterm_stops_the_whole_gc);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
