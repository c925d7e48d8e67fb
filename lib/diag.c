#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"
#include "banned.h"

/* Past this many entries, further ones are counted but not stored. */
#define DIAGS_MAX 1000

struct diags {
	struct diag *v;
	size_t nr, alloc;
	size_t dropped[2];
};

struct diags *diags_new(void)
{
	return xcalloc(1, sizeof(struct diags));
}

static void diag_release(struct diag *e)
{
	free(e->file);
	free(e->rule);
	free(e->message);
}

void diags_free(struct diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++)
		diag_release(&d->v[i]);
	free(d->v);
	free(d);
}

static char *sanitized(const char *s, size_t max)
{
	struct strbuf sb;

	strbuf_init_capped(&sb, max);
	strbuf_add_sanitized(&sb, s, strlen(s), 0);
	return strbuf_detach(&sb, NULL);
}

static int same_diag(const struct diag *a, const struct diag *b)
{
	return a->severity == b->severity && a->line == b->line && a->col == b->col &&
	       !strcmp(a->file, b->file) && !strcmp(a->rule, b->rule) && !strcmp(a->message, b->message);
}

/*
 * A problem already in d is not added again: the validator and the
 * renderer may each read a file with a warning, and the user should hear
 * of it once.
 */
void diags_add(struct diags *d, enum diag_severity sev, const char *file, unsigned line,
	       unsigned col, const char *rule, const char *fmt, ...)
{
	struct diag e;
	va_list ap;
	char *msg;

	if (d->nr >= DIAGS_MAX) {
		d->dropped[sev == DIAG_WARNING]++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	e.file = sanitized(file ? file : "", 4096);
	e.line = line;
	e.col = col;
	e.severity = sev;
	e.rule = sanitized(rule ? rule : "", 128);
	e.message = sanitized(msg, 2048);
	free(msg);
	for (size_t i = 0; i < d->nr; i++) {
		if (same_diag(&d->v[i], &e)) {
			diag_release(&e);
			return;
		}
	}
	ALLOC_GROW(d->v, d->nr + 1, d->alloc);
	d->v[d->nr++] = e;
}

size_t diags_nr(const struct diags *d)
{
	return d->nr;
}

const struct diag *diags_get(const struct diags *d, size_t i)
{
	return i < d->nr ? &d->v[i] : NULL;
}

size_t diags_count(const struct diags *d, enum diag_severity sev)
{
	size_t n = d->dropped[sev == DIAG_WARNING];

	for (size_t i = 0; i < d->nr; i++)
		n += d->v[i].severity == sev;
	return n;
}

static int diag_cmp(const struct diag *a, const struct diag *b)
{
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

void diags_sort(struct diags *d)
{
	/* Insertion sort: stable, and the lists are short. */
	for (size_t i = 1; i < d->nr; i++) {
		struct diag cur = d->v[i];
		size_t j = i;

		while (j > 0 && diag_cmp(&d->v[j - 1], &cur) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = cur;
	}
}

static const char *severity_name(enum diag_severity sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void diags_format(struct strbuf *out, const struct diags *d, const char *prefix)
{
	for (size_t i = 0; i < d->nr; i++) {
		const struct diag *e = &d->v[i];

		strbuf_addstr(out, prefix);
		if (e->line)
			strbuf_addf(out, "%s:%u:%u: ", e->file, e->line, e->col);
		else if (*e->file)
			strbuf_addf(out, "%s: ", e->file);
		strbuf_addf(out, "%s: %s", severity_name(e->severity), e->message);
		if (*e->rule)
			strbuf_addf(out, " [%s]", e->rule);
		strbuf_addch(out, '\n');
	}
	if (d->dropped[0] || d->dropped[1])
		strbuf_addf(out, "%s... and %zu more problems not shown\n", prefix,
			    d->dropped[0] + d->dropped[1]);
}

void diags_print_prefixed(const struct diags *d, FILE *out, const char *prefix)
{
	struct strbuf sb = STRBUF_INIT;

	diags_format(&sb, d, prefix);
	fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
}

void diags_print(const struct diags *d, FILE *out)
{
	diags_print_prefixed(d, out, "");
}

json_t *diags_to_json(const struct diags *d)
{
	json_t *list = json_array();

	for (size_t i = 0; i < d->nr; i++) {
		const struct diag *e = &d->v[i];

		json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:s, s:s, s:s}",
			"file", e->file, "line", (json_int_t)e->line, "column", (json_int_t)e->col,
			"severity", severity_name(e->severity), "rule", e->rule,
			"message", e->message));
	}
	return json_pack("{s:I, s:I, s:o}", "errors", (json_int_t)diags_count(d, DIAG_ERROR),
			 "warnings", (json_int_t)diags_count(d, DIAG_WARNING), "problems", list);
}
