/*
 * validate: check an app repo before it is accepted (issue 3).
 *
 * The pre-receive hook (on a git tree) and `gitd-render validate` (on a
 * checkout) run the same checks through a struct source and print the same
 * messages:
 *
 *   app.yaml               known keys, types and ranges, per-environment overrides
 *   resources/NAME.yaml    object identity and syntax, namespaces, denied and
 *                          cluster-scoped kinds, the built-in policy
 *   overlays/ENV/          the supported subset of kustomization.yaml, files
 *                          and patch targets
 *
 * and, when the platform config names a schemas directory, every object
 * against its JSON schema. Policy checks set to warn add warnings, which do
 * not fail validation.
 *
 * A repo with neither app.yaml nor resources/ is plain git hosting: it is
 * valid and nothing is checked (validate_is_app() tells).
 */
#ifndef GITD_VALIDATE_H
#define GITD_VALIDATE_H

#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "source.h"
#include "strbuf.h"

/*
 * Check the app in src. repo_name (e.g. "shop") is the app's name unless
 * app.yaml sets one. only_env limits the per-environment checks (overlays,
 * namespaces) to one environment of cfg; NULL checks all. Every problem is
 * added to d, which is then sorted by file and line. Returns 0 when there
 * is no error (warnings allowed), -1 otherwise.
 */
int validate_app(struct diags *d, struct source *src, const struct gitd_config *cfg,
		 const char *repo_name, const char *only_env);

/* 1 if src holds app.yaml or resources/, i.e. is deployed; 0 for plain git hosting. */
int validate_is_app(struct source *src);

/* What a validation looked at, for the summary line. */
struct validate_stats {
	size_t files; /* files read */
	int is_app;   /* 0: plain git hosting, nothing was checked */
};

/*
 * The one-line summary after the problems, without newline: "2 errors,
 * 1 warning in 3 files", "no problems in 3 files", or the plain-hosting note.
 */
void validate_format_summary(struct strbuf *out, const struct diags *d,
			     const struct validate_stats *st);

#endif
