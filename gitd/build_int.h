/*
 * build_int: what build.c shares with its backends (build_local.c,
 * build_webhook.c). Not for other modules: see build.h.
 */
#ifndef GITD_BUILD_INT_H
#define GITD_BUILD_INT_H

#include <stdint.h>
#include <stdio.h>

#include "build.h"
#include "strbuf.h"

/* Builder output kept in the job log per build command; the rest is dropped. */
#define BUILD_OUTPUT_MAX (2 << 20)

/* One build in progress. */
struct build {
	const struct build_request *req;
	const json_t *conf; /* gitd.yaml's builder mapping (borrowed) */
	FILE *log;
	char *tmp;          /* private temp dir, DATA/builds/tmp/JOB-XXXXXX */
	char *context;      /* tmp/context: the commit's files (local builders) */
	char *tag;          /* REGISTRY/APP:TAG, where the builder pushes */
	char *digest;       /* sha256:..., when the build succeeded */
	int64_t deadline;   /* now_ms() past which the build is stopped */
	int64_t last_line;  /* when the log last got a line, for heartbeats */
	int64_t next_check; /* when to look for a newer job again */
	int64_t builder_ms; /* time spent in the builder itself */
	unsigned long superseded_by;
	int terminated;     /* SIGTERM arrived: stop, clean up, die of it */
};

enum build_stop {
	BUILD_GO,
	BUILD_STOP_TERM,       /* gitd is stopping */
	BUILD_STOP_SUPERSEDED, /* b->superseded_by is set */
	BUILD_STOP_TIMEOUT,
};

/* Whether to stop now, checking at most once a second for a newer job. */
enum build_stop build_should_stop(struct build *b);

/* A "gitd: ..." line in the job log. */
void build_logf(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line of the builder's output (sanitized, capped) in the job log. */
void build_log_output(struct build *b, const char *line, size_t len);
/* "gitd: WHAT (N s)" when the log has been silent for BUILD_HEARTBEAT_SECONDS. */
void build_heartbeat(struct build *b, int64_t started, const char *what);
/* Sleep up to ms, waking early when a signal arrives. */
void build_nap(int64_t ms);

/* The builder setting key as a string, or dflt. */
const char *build_conf_str(const struct build *b, const char *key, const char *dflt);
/* The builder setting key as a number, or dflt. */
long build_conf_int(const struct build *b, const char *key, long dflt);
/* A path setting made absolute (relative to the data directory, where gitd.yaml is), or NULL. */
char *build_conf_path(const struct build *b, const char *key);

/* A backend's result when it stopped because build_should_stop() said so. */
#define BUILD_STOPPED 2

/* The backends: 0 with b->digest set; BUILD_STOPPED; -1 with why in err. */
int build_with_buildah(struct build *b, struct strbuf *err);
int build_with_command(struct build *b, struct strbuf *err);
int build_with_webhook(struct build *b, struct strbuf *err);

/* Kill what is left of the builder whose record is in the temp dir tmp (after a crash). */
void build_kill_recorded(const char *tmp);

/* DATA/builds/SUB (caller frees). */
char *build_path(const char *data_dir, const char *sub);

#endif
