#include "job.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>

#include "config.h"
#include "deploy.h"
#include "fileutil.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "render.h"
#include "repos.h"
#include "source.h"
#include "state.h"
#include "strbuf.h"
#include "util.h"
#include "validate.h"
#include "banned.h"

/* One environment a job deploys: the commit of the last pushed ref that matches it. */
struct target {
	const char *env;
	const char *ref;
	const git_oid *commit;
};

struct job_run {
	const char *data_dir;
	const struct gitd_config *cfg;
	const struct job *job;
	FILE *log;
	struct target *targets;
	size_t nr;
};

static void __attribute__((format(printf, 2, 3))) job_log(struct job_run *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->log)
		return;
	fputs("gitd: ", r->log);
	va_start(ap, fmt);
	vfprintf(r->log, fmt, ap);
	va_end(ap);
	fputc('\n', r->log);
	fflush(r->log);
}

static FILE *open_log(const char *data_dir, const struct job *j)
{
	char *dir = xstrfmt("%s/jobs/%s", data_dir, j->repo), *path = job_log_path(data_dir, j->repo, j->id);
	FILE *f = NULL;

	if (mkdir_p(dir, 0700) == 0)
		f = fopen(path, "a");
	free(dir);
	free(path);
	return f;
}

/* Which environments the job's refs deploy to, in the config's (promotion) order. */
static void plan_targets(struct job_run *r)
{
	size_t n = config_env_count(r->cfg);

	r->targets = xcalloc(n ? n : 1, sizeof(*r->targets));
	for (size_t e = 0; e < n; e++) {
		const struct config_env *env = config_env(r->cfg, e);
		const struct ref_update *last = NULL;

		for (size_t i = 0; i < r->job->nr; i++) {
			const struct ref_update *u = &r->job->updates[i];
			if (!git_oid_is_zero(&u->new_oid) && !fnmatch(env->ref, u->ref, 0))
				last = u;
		}
		if (last)
			r->targets[r->nr++] = (struct target){ env->name, last->ref, &last->new_oid };
	}
}
