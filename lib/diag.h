/*
 * diags: the problems found in user input, each with a source position.
 *
 * Every validator (app repos, access.yaml, gitd.yaml) reports through a
 * struct diags so that the pre-receive hook, `gitd-render validate` and the
 * admin commands print the same messages in the same order:
 *
 *     path:line:col: error: message [rule]
 *
 * Messages are sanitized on entry (no control or ANSI characters), so user
 * text can be echoed back safely. Line and column are 1-based; 0 means
 * "the whole file".
 */
#ifndef GITD_DIAG_H
#define GITD_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	char *file;
	unsigned line;
	unsigned col;
	enum diag_severity severity;
	char *rule;    /* short stable id, e.g. "app-unknown-key"; never NULL */
	char *message; /* one line, no trailing period */
};

struct diags;

struct diags *diags_new(void);
void diags_free(struct diags *d);

void diags_add(struct diags *d, enum diag_severity sev, const char *file, unsigned line,
	       unsigned col, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

size_t diags_nr(const struct diags *d);
const struct diag *diags_get(const struct diags *d, size_t i);
/* Number of entries of severity sev. */
size_t diags_count(const struct diags *d, enum diag_severity sev);

/* Order by file, then line, then column, keeping the order of equal positions. */
void diags_sort(struct diags *d);
/* Print every entry as "file:line:col: severity: message [rule]", one per line. */
void diags_print(const struct diags *d, FILE *out);
/* Append the lines diags_print_prefixed() prints to out. */
struct strbuf;
void diags_format(struct strbuf *out, const struct diags *d, const char *prefix);
/* Print entries with prefix before each line (e.g. "" or "  "), then nothing else. */
void diags_print_prefixed(const struct diags *d, FILE *out, const char *prefix);
/* {"errors":N,"warnings":N,"problems":[{file,line,column,severity,rule,message}]}; new reference. */
json_t *diags_to_json(const struct diags *d);

#endif
