/*
 * hookinput: the "<old-oid> <new-oid> <ref-name>" lines git gives the
 * pre-receive and post-receive hooks on stdin, parsed with limits (line
 * length, number of refs) so a hostile push cannot exhaust the hook.
 */
#ifndef GITD_HOOKINPUT_H
#define GITD_HOOKINPUT_H

#include <stddef.h>
#include <stdio.h>

#include <git2.h>

#include "diag.h"

#define HOOKINPUT_MAX_REFS 10000
#define HOOKINPUT_MAX_REFNAME 1024

struct ref_update {
	git_oid old_oid; /* zero when the ref is created */
	git_oid new_oid; /* zero when the ref is deleted */
	char *ref;
};

/* Parse one line (without its newline); 0, or -1 with a message in err. */
struct strbuf;
int hookinput_parse_line(struct ref_update *out, const char *line, struct strbuf *err);

/* Read every line of in; 0, or -1 with an error in d (and nothing in *out). */
int hookinput_read(struct ref_update **out, size_t *nr, FILE *in, struct diags *d);
void hookinput_free(struct ref_update *updates, size_t nr);

#endif
