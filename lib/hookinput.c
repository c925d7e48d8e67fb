#include "hookinput.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"
#include "banned.h"

/* Length of the hex object id at s ending in a space: 40 (SHA-1) or 64 (SHA-256); else 0. */
static size_t oid_hex_len(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return (n == 40 || n == 64) && s[n] == ' ' ? n : 0;
}

int hookinput_parse_line(struct ref_update *out, const char *line, struct strbuf *err)
{
	size_t a = oid_hex_len(line), b = a ? oid_hex_len(line + a + 1) : 0;
	const char *ref = line + a + 1 + b + 1;
	size_t reflen;

	if (!a || b != a || git_oid_fromstrn(&out->old_oid, line, a) < 0 ||
	    git_oid_fromstrn(&out->new_oid, line + a + 1, b) < 0) {
		strbuf_addstr(err, "malformed ref update line from git");
		return -1;
	}
	reflen = strlen(ref);
	if (!reflen || reflen > HOOKINPUT_MAX_REFNAME || strpbrk(ref, " \t\r\n")) {
		strbuf_addf(err, "invalid or over-long ref name (limit %d bytes)", HOOKINPUT_MAX_REFNAME);
		return -1;
	}
	out->ref = xstrdup(ref);
	return 0;
}

void hookinput_free(struct ref_update *updates, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(updates[i].ref);
	free(updates);
}

int hookinput_read(struct ref_update **out, size_t *nr, FILE *in, struct diags *d)
{
	struct ref_update *v = NULL;
	size_t n = 0, alloc = 0, cap = 0;
	struct strbuf err = STRBUF_INIT;
	char *line = NULL;
	ssize_t len;
	int rc = -1;

	while ((len = getline(&line, &cap, in)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (n >= HOOKINPUT_MAX_REFS) {
			strbuf_addf(&err, "too many refs in one push (limit %d)", HOOKINPUT_MAX_REFS);
			goto cleanup;
		}
		if ((size_t)len != strlen(line)) {
			strbuf_addstr(&err, "NUL byte in ref update line");
			goto cleanup;
		}
		ALLOC_GROW(v, n + 1, alloc);
		if (hookinput_parse_line(&v[n], line, &err) < 0)
			goto cleanup;
		n++;
	}
	rc = 0;
cleanup:
	if (rc < 0) {
		diags_add(d, DIAG_ERROR, "", 0, 0, "hook-input", "%s", err.buf);
		hookinput_free(v, n);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nr = n;
	free(line);
	strbuf_release(&err);
	return rc;
}
