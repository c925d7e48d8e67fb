/* Unit tests: the shared counters (lib/metrics.c) and the scrape's text (gitd/metrics_server.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fileutil.h"
#include "metrics.h"
#include "metrics_server.h"
#include "strbuf.h"
#include "util.h"
#include "unit.h"

static char dir[] = "/tmp/gitd-test-metrics.XXXXXX";

static void setup(void)
{
	/* each test runs in a process of its own (CK_FORK), so the template is fresh */
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	remove_tree(dir);
}

/* Run fn in a child process that maps the counters by path, as a hook does. */
static void in_hook_process(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (metrics_attach(dir) < 0)
			_exit(2);
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

static void refuse_twice(void)
{
	metrics_inc(M_PUSH_REFUSED_VALIDATION);
	metrics_inc(M_PUSH_REFUSED_VALIDATION);
}

START_TEST(test_attached_process_counts)
{
	ck_assert_int_eq(metrics_create(dir), 0);
	metrics_add(M_CONNECTIONS, 3);
	in_hook_process(refuse_twice);
	ck_assert_uint_eq(metrics_get(M_PUSH_REFUSED_VALIDATION), 2);
	ck_assert_uint_eq(metrics_get(M_CONNECTIONS), 3);
	metrics_set(M_OPEN_CONNECTIONS, 7);
	metrics_set(M_OPEN_CONNECTIONS, 5);
	ck_assert_uint_eq(metrics_get(M_OPEN_CONNECTIONS), 5);
}
END_TEST

START_TEST(test_restart_starts_over)
{
	ck_assert_int_eq(metrics_create(dir), 0);
	metrics_add(M_PUSH_OK, 4);
	ck_assert_int_eq(metrics_create(dir), 0);
	ck_assert_uint_eq(metrics_get(M_PUSH_OK), 0);
}
END_TEST

START_TEST(test_attach_refuses_other_files)
{
	char *path = xstrfmt("%s/run", dir);
	FILE *f;

	ck_assert_int_eq(metrics_attach(dir), -1); /* no gitd running */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	free(path);
	path = xstrfmt("%s/run/metrics", dir);
	f = fopen(path, "w");
	fputs("not counters", f);
	fclose(f);
	ck_assert_int_eq(metrics_attach(dir), -1);
	free(path);
}
END_TEST

START_TEST(test_histogram_is_cumulative)
{
	struct metrics_histogram h;

	ck_assert_int_eq(metrics_create(dir), 0);
	metrics_observe(STEP_RENDER, 20);     /* le 0.05 */
	metrics_observe(STEP_RENDER, 100);    /* le 0.1: bounds are inclusive */
	metrics_observe(STEP_RENDER, 4000);   /* le 5 */
	metrics_observe(STEP_RENDER, 3600000); /* +Inf only */
	metrics_read_histogram(&h, STEP_RENDER);
	ck_assert_uint_eq(h.le[0], 1);
	ck_assert_uint_eq(h.le[1], 2);
	ck_assert_uint_eq(h.le[5], 2);
	ck_assert_uint_eq(h.le[6], 3);
	ck_assert_uint_eq(h.le[METRICS_BUCKETS - 1], 3);
	ck_assert_uint_eq(h.count, 4);
	ck_assert_uint_eq(h.sum_ms, 20 + 100 + 4000 + 3600000);
	metrics_read_histogram(&h, STEP_BUILD);
	ck_assert_uint_eq(h.count, 0);
}
END_TEST

START_TEST(test_format)
{
	struct gitd_config *cfg = config_default();
	struct strbuf out = STRBUF_INIT;

	ck_assert_int_eq(metrics_create(dir), 0);
	metrics_inc(M_PUSH_REFUSED_ACCESS);
	metrics_observe(STEP_MIRROR, 300);
	metrics_inc(M_MIRRORS_FAILED);
	metrics_format(&out, dir, cfg);
	ck_assert_ptr_nonnull(strstr(out.buf, "# TYPE gitd_push_refusals_total counter\n"
					      "gitd_push_refusals_total{reason=\"validation\"} 0\n"
					      "gitd_push_refusals_total{reason=\"access\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.buf, "# TYPE gitd_job_step_seconds histogram\n"));
	ck_assert_ptr_nonnull(strstr(out.buf, "gitd_job_step_seconds_bucket{step=\"mirror\",le=\"0.25\"} 0\n"
					      "gitd_job_step_seconds_bucket{step=\"mirror\",le=\"0.5\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.buf, "gitd_job_step_seconds_bucket{step=\"mirror\",le=\"+Inf\"} 1\n"
					      "gitd_job_step_seconds_sum{step=\"mirror\"} 0.300\n"
					      "gitd_job_step_seconds_count{step=\"mirror\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.buf, "gitd_job_step_failures_total{step=\"mirror\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.buf, "gitd_mirror_lag_seconds 0.000\n"));
	ck_assert_ptr_nonnull(strstr(out.buf, "gitd_queue_depth 0\n"));
	/* every line is a comment or NAME[{LABELS}] VALUE */
	for (char *line = out.buf; *line; line = strchr(line, '\n') + 1)
		ck_assert(line[0] == '#' || !strncmp(line, "gitd_", 5));
	strbuf_release(&out);
	config_free(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_attached_process_counts);
	tcase_add_test(tc, test_restart_starts_over);
	tcase_add_test(tc, test_attach_refuses_other_files);
	tcase_add_test(tc, test_histogram_is_cumulative);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
