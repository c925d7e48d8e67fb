#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileutil.h"
#include "util.h"
#include "banned.h"

/* "gitdmet" and the layout's version: a hook of another release must not misread the file. */
#define METRICS_MAGIC 0x676974646d657401ULL

const double metrics_bucket_seconds[METRICS_BUCKETS] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800,
};

struct step_histogram {
	_Atomic uint64_t le[METRICS_BUCKETS]; /* per bucket, not cumulative */
	_Atomic uint64_t count;
	_Atomic uint64_t sum_ms;
};

struct shared_metrics {
	uint64_t magic;
	_Atomic uint64_t values[M_METRIC_COUNT];
	struct step_histogram steps[STEP_COUNT];
};

static struct shared_metrics *shared;

static char *metrics_path(const char *data_dir)
{
	return xstrfmt("%s/run/metrics", data_dir);
}

static int map_file(int fd)
{
	void *p = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	shared = p;
	return 0;
}

int metrics_create(const char *data_dir)
{
	char *dir = xstrfmt("%s/run", data_dir), *path = metrics_path(data_dir);
	char *tmp = xstrfmt("%s.new", path);
	int fd = -1, rc = -1;

	/* a new file, renamed into place: hooks of a previous run keep their own */
	if (mkdir_p(dir, 0700) < 0 ||
	    (fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    ftruncate(fd, sizeof(*shared)) < 0 || map_file(fd) < 0)
		goto cleanup;
	shared->magic = METRICS_MAGIC;
	if (rename(tmp, path) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	if (fd >= 0)
		close(fd);
	free(dir);
	free(path);
	free(tmp);
	return rc;
}

int metrics_attach(const char *data_dir)
{
	char *path = metrics_path(data_dir);
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	int rc = -1;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size != (off_t)sizeof(*shared) || map_file(fd) < 0)
		goto cleanup;
	if (shared->magic != METRICS_MAGIC) {
		munmap(shared, sizeof(*shared));
		shared = NULL;
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void metrics_add(enum metric m, uint64_t n)
{
	if (shared)
		atomic_fetch_add(&shared->values[m], n);
}

void metrics_set(enum metric m, uint64_t value)
{
	if (shared)
		atomic_store(&shared->values[m], value);
}

uint64_t metrics_get(enum metric m)
{
	return shared ? atomic_load(&shared->values[m]) : 0;
}

void metrics_observe(enum metric_step step, int64_t ms)
{
	struct step_histogram *h;

	if (!shared)
		return;
	if (ms < 0)
		ms = 0;
	h = &shared->steps[step];
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		if (ms <= metrics_bucket_seconds[i] * 1000) {
			atomic_fetch_add(&h->le[i], 1);
			break;
		}
	}
	atomic_fetch_add(&h->sum_ms, (uint64_t)ms);
	atomic_fetch_add(&h->count, 1);
}

void metrics_read_histogram(struct metrics_histogram *out, enum metric_step step)
{
	uint64_t below = 0;

	memset(out, 0, sizeof(*out));
	if (!shared)
		return;
	/* count first: a run observed meanwhile makes +Inf at least the last bucket */
	out->count = atomic_load(&shared->steps[step].count);
	out->sum_ms = atomic_load(&shared->steps[step].sum_ms);
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		below += atomic_load(&shared->steps[step].le[i]);
		out->le[i] = below;
	}
	if (out->count < below)
		out->count = below;
}
