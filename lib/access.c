#include "access.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "reponame.h"
#include "util.h"
#include "banned.h"

#define REF_PATTERN_MAX 255
#define SUGGEST_MAX_LEN 64

enum { ROLE_BUILDER, ROLE_COUNT };
static const char *const role_names[ROLE_COUNT] = { ACCESS_ROLE_BUILDER };
static const char *const top_keys[] = { "admins", "repos", "refs", "roles" };
static const char *const perm_names[] = { "none", "read", "write", "admin" };

/*
 * Every table below is an array of structs whose first member is their
 * char * key, kept sorted by it (see keyed_find()): the model is then in
 * canonical order at all times.
 */
struct grant {
	char *user;
	enum access_perm perm;
};

struct repo_entry {
	char *key; /* a name or a pattern */
	struct grant *v;
	size_t nr, alloc;
};

struct ref_rule {
	char *pattern;
	struct strvec users; /* sorted */
};

struct ref_entry {
	char *repo; /* a name or a pattern */
	struct ref_rule *v;
	size_t nr, alloc;
};

struct access {
	struct strvec admins; /* sorted, like every list of users */
	struct repo_entry *repos;
	size_t repos_nr, repos_alloc;
	struct ref_entry *refs;
	size_t refs_nr, refs_alloc;
	struct strvec roles[ROLE_COUNT];
};

/* ---- sorted tables ---- */

/*
 * Find key in base[0..nr), elements of size bytes each starting with a
 * char * key. Returns its index with *found = 1, or where it would be
 * inserted with *found = 0.
 */
static size_t keyed_find(const void *base, size_t nr, size_t size, const char *key, int *found)
{
	size_t lo = 0, hi = nr;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = *(char *const *)((const char *)base + mid * size);
		int c = strcmp(key, k);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Open a zeroed slot at index at of *base and return it. */
static void *keyed_insert(void **base, size_t *nr, size_t *alloc, size_t size, size_t at)
{
	char *p;

	grow_array(base, size, st_add(*nr, 1), alloc);
	p = *base;
	memmove(p + (at + 1) * size, p + at * size, (*nr - at) * size);
	memset(p + at * size, 0, size);
	(*nr)++;
	return p + at * size;
}

static void keyed_remove(void *base, size_t *nr, size_t size, size_t at)
{
	char *p = base;

	memmove(p + at * size, p + (at + 1) * size, (*nr - at - 1) * size);
	(*nr)--;
}

static int names_has(const struct strvec *sv, const char *name)
{
	int found;

	keyed_find(sv->v, sv->nr, sizeof(char *), name, &found);
	return found;
}

/* Add name in sorted position; 1 if it was already there. */
static int names_add(struct strvec *sv, const char *name)
{
	int found;
	size_t at = keyed_find(sv->v, sv->nr, sizeof(char *), name, &found);
	char *s;

	if (found)
		return 1;
	strvec_push(sv, name);
	s = sv->v[sv->nr - 1];
	memmove(&sv->v[at + 1], &sv->v[at], (sv->nr - 1 - at) * sizeof(char *));
	sv->v[at] = s;
	return 0;
}

/* Remove name; 1 if it was there. */
static int names_remove(struct strvec *sv, const char *name)
{
	int found;
	size_t at = keyed_find(sv->v, sv->nr, sizeof(char *), name, &found);

	if (!found)
		return 0;
	free(sv->v[at]);
	/* Moves the terminating NULL down too. */
	memmove(&sv->v[at], &sv->v[at + 1], (sv->nr - at) * sizeof(char *));
	sv->nr--;
	return 1;
}

static json_t *names_json(const struct strvec *sv)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < sv->nr; i++)
		json_array_append_new(arr, json_string(sv->v[i]));
	return arr;
}

static struct repo_entry *repo_get(struct access *a, const char *key, int create)
{
	int found;
	size_t at = keyed_find(a->repos, a->repos_nr, sizeof(*a->repos), key, &found);
	struct repo_entry *e;

	if (found)
		return &a->repos[at];
	if (!create)
		return NULL;
	e = keyed_insert((void **)&a->repos, &a->repos_nr, &a->repos_alloc, sizeof(*e), at);
	e->key = xstrdup(key);
	return e;
}

static void grant_set(struct repo_entry *e, const char *user, enum access_perm perm)
{
	int found;
	size_t at = keyed_find(e->v, e->nr, sizeof(*e->v), user, &found);
	struct grant *g;

	if (found && perm == ACCESS_NONE) {
		free(e->v[at].user);
		keyed_remove(e->v, &e->nr, sizeof(*e->v), at);
	} else if (found) {
		e->v[at].perm = perm;
	} else if (perm != ACCESS_NONE) {
		g = keyed_insert((void **)&e->v, &e->nr, &e->alloc, sizeof(*g), at);
		g->user = xstrdup(user);
		g->perm = perm;
	}
}

static struct ref_entry *ref_entry_get(struct access *a, const char *repo)
{
	int found;
	size_t at = keyed_find(a->refs, a->refs_nr, sizeof(*a->refs), repo, &found);
	struct ref_entry *e;

	if (found)
		return &a->refs[at];
	e = keyed_insert((void **)&a->refs, &a->refs_nr, &a->refs_alloc, sizeof(*e), at);
	e->repo = xstrdup(repo);
	return e;
}

static struct ref_rule *ref_rule_get(struct ref_entry *e, const char *pattern)
{
	int found;
	size_t at = keyed_find(e->v, e->nr, sizeof(*e->v), pattern, &found);
	struct ref_rule *r;

	if (found)
		return &e->v[at];
	r = keyed_insert((void **)&e->v, &e->nr, &e->alloc, sizeof(*r), at);
	r->pattern = xstrdup(pattern);
	r->users = (struct strvec)STRVEC_INIT;
	return r;
}

/* ---- lifecycle ---- */

struct access *access_new(void)
{
	struct access *a = xcalloc(1, sizeof(*a));

	a->admins = (struct strvec)STRVEC_INIT;
	for (size_t i = 0; i < ROLE_COUNT; i++)
		a->roles[i] = (struct strvec)STRVEC_INIT;
	return a;
}

static void repo_entry_release(struct repo_entry *e)
{
	for (size_t i = 0; i < e->nr; i++)
		free(e->v[i].user);
	free(e->v);
	free(e->key);
}

static void ref_entry_release(struct ref_entry *e)
{
	for (size_t i = 0; i < e->nr; i++) {
		free(e->v[i].pattern);
		strvec_clear(&e->v[i].users);
	}
	free(e->v);
	free(e->repo);
}

void access_free(struct access *a)
{
	if (!a)
		return;
	strvec_clear(&a->admins);
	for (size_t i = 0; i < a->repos_nr; i++)
		repo_entry_release(&a->repos[i]);
	free(a->repos);
	for (size_t i = 0; i < a->refs_nr; i++)
		ref_entry_release(&a->refs[i]);
	free(a->refs);
	for (size_t i = 0; i < ROLE_COUNT; i++)
		strvec_clear(&a->roles[i]);
	free(a);
}

/* ---- names and suggestions ---- */

const char *access_perm_name(enum access_perm perm)
{
	return (size_t)perm < ARRAY_SIZE(perm_names) ? perm_names[perm] : "none";
}

int access_perm_parse(enum access_perm *out, const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(perm_names); i++) {
		if (!strcmp(s, perm_names[i])) {
			*out = (enum access_perm)i;
			return 0;
		}
	}
	return -1;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

/* Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SUGGEST_MAX_LEN + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* The candidate closest to word if it is close enough to be a likely typo, else NULL. */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), limit = len <= 4 ? 1 : 2, best = limit + 1;
	const char *found = NULL;

	if (len > SUGGEST_MAX_LEN)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t dist;

		if (strlen(cands[i]) > SUGGEST_MAX_LEN)
			continue;
		dist = edit_distance(word, cands[i]);
		if (dist < best && dist < len) {
			best = dist;
			found = cands[i];
		}
	}
	return found;
}

/* ---- parsing ---- */

struct parse {
	const struct ydoc *doc;
	const char *file;
	const struct strvec *users; /* NULL: do not check */
	struct diags *d;
	struct access *a;
	size_t errors;
};

static const struct ypos nowhere = { 0, 0 };

static void report(struct parse *p, enum diag_severity sev, struct ypos pos, const char *rule,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct parse *p, enum diag_severity sev, struct ypos pos, const char *rule,
		   const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	diags_add(p->d, sev, p->file, pos.line, pos.col, rule, "%s", msg.buf);
	strbuf_release(&msg);
	if (sev == DIAG_ERROR)
		p->errors++;
}

static struct ypos key_pos(const struct ymember *m)
{
	return m ? m->key : nowhere;
}

static struct ypos value_pos(const struct ymember *m)
{
	return m ? m->value : nowhere;
}

/* Describe value v (as written: source) for "got ..." in messages. */
static void add_got(struct strbuf *sb, const json_t *v, const char *source)
{
	if (source) {
		strbuf_addf(sb, "'%s', which YAML reads as %s; quote it", source,
			    json_is_boolean(v) ? "true/false" : "a number");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: strbuf_addstr(sb, "a mapping"); break;
	case JSON_ARRAY: strbuf_addstr(sb, "a list"); break;
	case JSON_STRING: strbuf_addstr(sb, "a string"); break;
	case JSON_INTEGER:
	case JSON_REAL: strbuf_addstr(sb, "a number"); break;
	case JSON_TRUE:
	case JSON_FALSE: strbuf_addstr(sb, "true/false"); break;
	default: strbuf_addstr(sb, "nothing"); break;
	}
}

/* Report that v (at m) is not what we want: "WHAT must be ...; got ...". */
static void type_error(struct parse *p, const struct ymember *m, struct ypos pos, const json_t *v,
		       const char *what)
{
	struct strbuf got = STRBUF_INIT;

	add_got(&got, v, m ? m->source : NULL);
	report(p, DIAG_ERROR, pos, "access-type", "%s; got %s", what, got.buf);
	strbuf_release(&got);
}

/* A mapping key YAML turned into a string behind the writer's back (on: -> "true"). */
static int key_is_mangled(struct parse *p, const struct ymember *m, const char *key)
{
	if (!m || !m->key_source || !strcmp(m->key_source, key))
		return 0;
	report(p, DIAG_ERROR, m->key, "access-type",
	       "YAML reads the key '%s' as '%s'; quote it: \"%s\"", m->key_source, key,
	       m->key_source);
	return 1;
}

static int is_known_user(const struct strvec *users, const char *name)
{
	for (size_t i = 0; i < users->nr; i++)
		if (!strcmp(users->v[i], name))
			return 1;
	return 0;
}

/* Check a reference to a user; everyone: whether "*" is allowed here. 0 if fine. */
static int check_user(struct parse *p, const char *name, struct ypos pos, int everyone)
{
	struct strbuf err = STRBUF_INIT;
	const char *near;

	if (!strcmp(name, ACCESS_EVERYONE)) {
		if (everyone)
			return 0;
		report(p, DIAG_ERROR, pos, "access-everyone",
		       "'*' (every user) is not allowed here; name the users");
		return -1;
	}
	if (reponame_check_user(name, &err) < 0) {
		report(p, DIAG_ERROR, pos, "access-user-name", "%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	if (!p->users || is_known_user(p->users, name))
		return 0;
	near = closest(name, (const char *const *)p->users->v, p->users->nr);
	if (near)
		report(p, DIAG_ERROR, pos, "access-unknown-user",
		       "unknown user '%s'; did you mean '%s'?", name, near);
	else
		report(p, DIAG_ERROR, pos, "access-unknown-user",
		       "unknown user '%s'; add users/%s.pub first", name, name);
	return -1;
}

/* Read v, a list of user names at pos (what names it in messages), into out. */
static void parse_user_list(struct parse *p, const json_t *v, const struct ymember *m,
			    const char *what, struct strvec *out)
{
	const json_t *item;
	size_t i;

	if (!json_is_array(v)) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "%s must be a list of user names, e.g. [alice]", what);
		type_error(p, m, value_pos(m), v, msg.buf);
		strbuf_release(&msg);
		return;
	}
	json_array_foreach(v, i, item) {
		const struct ymember *im = ydoc_item(p->doc, v, i);
		struct ypos pos = im ? im->value : value_pos(m);

		if (!json_is_string(item))
			type_error(p, im, pos, item, "expected a user name");
		else if (check_user(p, json_string_value(item), pos, 0) < 0)
			continue;
		else if (names_add(out, json_string_value(item)))
			report(p, DIAG_WARNING, pos, "access-duplicate",
			       "'%s' is listed twice in %s", json_string_value(item), what);
	}
}

static void parse_admins(struct parse *p, const json_t *root)
{
	const struct ymember *m = ydoc_member(p->doc, root, "admins");
	const json_t *v = json_object_get(root, "admins");

	if (!v) {
		report(p, DIAG_ERROR, nowhere, "access-no-admins",
		       "admins: is missing; add 'admins: [NAME]', or nobody can change access");
		return;
	}
	if (json_is_array(v) && !json_array_size(v)) {
		report(p, DIAG_ERROR, value_pos(m), "access-no-admins",
		       "admins: is empty; keep at least one admin, or nobody can change access");
		return;
	}
	parse_user_list(p, v, m, "admins", &p->a->admins);
}

static int parse_perm(struct parse *p, const json_t *v, const struct ymember *m,
		      enum access_perm *out)
{
	const char *s = json_string_value(v), *near;

	if (!s) {
		type_error(p, m, value_pos(m), v, "permission must be read, write or admin");
		return -1;
	}
	if (!access_perm_parse(out, s) && *out != ACCESS_NONE)
		return 0;
	near = closest(s, perm_names + 1, ARRAY_SIZE(perm_names) - 1);
	if (!strcmp(s, "none"))
		report(p, DIAG_ERROR, value_pos(m), "access-perm",
		       "'none' is not needed: remove the line to give no access");
	else if (near)
		report(p, DIAG_ERROR, value_pos(m), "access-perm",
		       "unknown permission '%s'; did you mean '%s'?", s, near);
	else
		report(p, DIAG_ERROR, value_pos(m), "access-perm",
		       "unknown permission '%s'; use read, write or admin", s);
	return -1;
}

static void parse_grant(struct parse *p, struct repo_entry *e, const json_t *grants,
			const char *user, const json_t *v)
{
	const struct ymember *m = ydoc_member(p->doc, grants, user);
	enum access_perm perm;

	if (key_is_mangled(p, m, user) || check_user(p, user, key_pos(m), 1) < 0 ||
	    parse_perm(p, v, m, &perm) < 0)
		return;
	if (!strcmp(user, ACCESS_EVERYONE) && perm == ACCESS_ADMIN) {
		report(p, DIAG_ERROR, value_pos(m), "access-everyone",
		       "'*' (every user) cannot have admin; give admin to named users");
		return;
	}
	grant_set(e, user, perm);
}

/* Check a repos: or refs: key; 0 if it is a valid name or pattern. */
static int check_repo_key(struct parse *p, const struct ymember *m, const char *key)
{
	struct strbuf err = STRBUF_INIT;

	if (key_is_mangled(p, m, key))
		return -1;
	if (reponame_check_pattern(key, &err) < 0) {
		report(p, DIAG_ERROR, key_pos(m), "access-repo-name", "%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	return 0;
}

static void parse_repo_entry(struct parse *p, const json_t *repos, const char *key,
			     const json_t *grants)
{
	const struct ymember *m = ydoc_member(p->doc, repos, key);
	struct repo_entry *e;
	const char *user;
	json_t *v;

	if (check_repo_key(p, m, key) < 0)
		return;
	e = repo_get(p->a, key, 1);
	if (json_is_null(grants))
		return; /* "deploy:" alone: an entry nobody but admins may use */
	if (!json_is_object(grants)) {
		type_error(p, m, value_pos(m), grants,
			   "a repository maps users to read, write or admin, e.g. { alice: write }");
		return;
	}
	json_object_foreach((json_t *)grants, user, v)
		parse_grant(p, e, grants, user, v);
}

/* Sections that are optional may be left empty ("refs:"); others must be mappings. */
static const json_t *section(struct parse *p, const json_t *root, const char *name,
			     const char *want)
{
	const json_t *v = json_object_get(root, name);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		type_error(p, ydoc_member(p->doc, root, name),
			   value_pos(ydoc_member(p->doc, root, name)), v, want);
		return NULL;
	}
	return v;
}

static void parse_repos(struct parse *p, const json_t *root)
{
	const json_t *repos = section(p, root, "repos",
				      "repos: maps repositories to users, e.g. shop: { alice: write }");
	const char *key;
	json_t *v;

	if (repos)
		json_object_foreach((json_t *)repos, key, v)
			parse_repo_entry(p, repos, key, v);
}

/* 0 if s can be a ref pattern; else -1 with a message in err. */
static int check_ref_pattern(const char *s, struct strbuf *err)
{
	size_t len = strlen(s);

	if (!starts_with(s, "refs/") || len == 5) {
		strbuf_addf(err, "ref pattern '%s' must start with refs/, e.g. refs/tags/v*", s);
		return -1;
	}
	if (len > REF_PATTERN_MAX) {
		strbuf_addf(err, "ref pattern is longer than %d characters", REF_PATTERN_MAX);
		return -1;
	}
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || strchr("~^:\\", *c)) {
			strbuf_addf(err, "ref pattern '%s' has a character git does not allow in refs",
				    s);
			return -1;
		}
	}
	if (strstr(s, "..") || strstr(s, "//") || strstr(s, "@{") || ends_with(s, "/") ||
	    ends_with(s, ".") || ends_with(s, ".lock")) {
		strbuf_addf(err, "ref pattern '%s' can never match a valid ref name", s);
		return -1;
	}
	return 0;
}

/* Does entry key cover repo? Patterns never cover the admin repository. */
static int entry_covers(const char *key, const char *repo)
{
	if (reponame_is_pattern(key))
		return strcmp(repo, ACCESS_ADMIN_REPO) && reponame_match(key, repo);
	return !strcmp(key, repo);
}

/*
 * 1 if a refs: key may name a repository someone can reach: a pattern, or a
 * name that some repos: entry covers. Else it is likely a typo.
 */
static int repo_key_covered(const struct access *a, const char *key)
{
	if (reponame_is_pattern(key))
		return 1;
	for (size_t i = 0; i < a->repos_nr; i++)
		if (entry_covers(a->repos[i].key, key))
			return 1;
	return 0;
}

static void parse_ref_rule(struct parse *p, struct ref_entry *e, const json_t *rules,
			   const char *pattern, const json_t *users)
{
	const struct ymember *m = ydoc_member(p->doc, rules, pattern);
	struct strbuf err = STRBUF_INIT, what = STRBUF_INIT;

	if (check_ref_pattern(pattern, &err) < 0) {
		report(p, DIAG_ERROR, key_pos(m), "access-ref-pattern", "%s", err.buf);
		goto cleanup;
	}
	strbuf_addf(&what, "refs.%s.%s", e->repo, pattern);
	if (json_is_null(users)) {
		report(p, DIAG_ERROR, value_pos(m), "access-type",
		       "%s must list the users who may update these refs; use [] for nobody",
		       what.buf);
		goto cleanup;
	}
	parse_user_list(p, users, m, what.buf, &ref_rule_get(e, pattern)->users);
cleanup:
	strbuf_release(&err);
	strbuf_release(&what);
}

static void parse_ref_entry(struct parse *p, const json_t *refs, const char *repo,
			    const json_t *rules)
{
	const struct ymember *m = ydoc_member(p->doc, refs, repo);
	struct ref_entry *e;
	const char *pattern;
	json_t *v;

	if (check_repo_key(p, m, repo) < 0)
		return;
	if (!repo_key_covered(p->a, repo))
		report(p, DIAG_WARNING, key_pos(m), "access-refs-repo",
		       "'%s' is not in repos:; check the name", repo);
	if (!json_is_object(rules)) {
		type_error(p, m, value_pos(m), rules,
			   "refs rules map ref patterns to users, e.g. refs/tags/v*: [alice]");
		return;
	}
	e = ref_entry_get(p->a, repo);
	json_object_foreach((json_t *)rules, pattern, v)
		parse_ref_rule(p, e, rules, pattern, v);
}

static void parse_refs(struct parse *p, const json_t *root)
{
	const json_t *refs = section(p, root, "refs",
				     "refs: maps repositories to ref rules, e.g. shop: { refs/tags/v*: [alice] }");
	const char *key;
	json_t *v;

	if (refs)
		json_object_foreach((json_t *)refs, key, v)
			parse_ref_entry(p, refs, key, v);
}

static int role_index(const char *name)
{
	for (size_t i = 0; i < ROLE_COUNT; i++)
		if (!strcmp(name, role_names[i]))
			return (int)i;
	return -1;
}

static void parse_roles(struct parse *p, const json_t *root)
{
	const json_t *roles = section(p, root, "roles",
				      "roles: maps roles to users, e.g. builder: [ci]");
	const char *name;
	json_t *v;

	if (!roles)
		return;
	json_object_foreach((json_t *)roles, name, v) {
		const struct ymember *m = ydoc_member(p->doc, roles, name);
		const char *near = closest(name, role_names, ROLE_COUNT);
		int i = role_index(name);
		struct strbuf what = STRBUF_INIT;

		if (i < 0 && near)
			report(p, DIAG_ERROR, key_pos(m), "access-role",
			       "unknown role '%s'; did you mean '%s'?", name, near);
		else if (i < 0)
			report(p, DIAG_ERROR, key_pos(m), "access-role",
			       "unknown role '%s'; the only role is %s", name, ACCESS_ROLE_BUILDER);
		if (i < 0)
			continue;
		strbuf_addf(&what, "roles.%s", name);
		parse_user_list(p, v, m, what.buf, &p->a->roles[i]);
		strbuf_release(&what);
	}
}

static void check_top_keys(struct parse *p, const json_t *root)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)root, key, v) {
		const struct ymember *m = ydoc_member(p->doc, root, key);
		const char *near = closest(key, top_keys, ARRAY_SIZE(top_keys));
		size_t i;

		for (i = 0; i < ARRAY_SIZE(top_keys); i++)
			if (!strcmp(key, top_keys[i]))
				break;
		if (i < ARRAY_SIZE(top_keys))
			continue;
		if (near)
			report(p, DIAG_ERROR, key_pos(m), "access-unknown-key",
			       "unknown key '%s'; did you mean '%s'?", key, near);
		else
			report(p, DIAG_ERROR, key_pos(m), "access-unknown-key",
			       "unknown key '%s'; the keys are admins, repos, refs and roles", key);
	}
}

/* The one document's root mapping, or NULL after reporting why not. */
static const json_t *document_root(struct parse *p)
{
	const json_t *root;

	if (!ydoc_count(p->doc)) {
		report(p, DIAG_ERROR, nowhere, "access-no-admins",
		       "the file is empty; it needs at least 'admins: [NAME]'");
		return NULL;
	}
	if (ydoc_count(p->doc) > 1) {
		report(p, DIAG_ERROR, ydoc_root_pos(p->doc, 1), "access-type",
		       "only one YAML document is allowed; remove the second '---'");
		return NULL;
	}
	root = ydoc_root(p->doc, 0);
	if (!json_is_object(root)) {
		report(p, DIAG_ERROR, ydoc_root_pos(p->doc, 0), "access-type",
		       "the file must be a mapping with admins:, repos:, refs: and roles:");
		return NULL;
	}
	return root;
}

int access_parse(struct access **out, const struct ydoc *doc, const struct strvec *users,
		 struct diags *d)
{
	struct parse p = { doc, ydoc_file(doc), users, d, access_new(), 0 };
	const json_t *root = document_root(&p);

	*out = NULL;
	if (root) {
		check_top_keys(&p, root);
		parse_admins(&p, root);
		parse_repos(&p, root); /* before refs: which looks its keys up */
		parse_refs(&p, root);
		parse_roles(&p, root);
	}
	if (p.errors) {
		access_free(p.a);
		return -1;
	}
	*out = p.a; /* transferred */
	return 0;
}

/* ---- serializing ---- */

static json_t *repos_json(const struct access *a)
{
	json_t *repos = json_object();

	for (size_t i = 0; i < a->repos_nr; i++) {
		const struct repo_entry *e = &a->repos[i];
		json_t *grants = json_object();

		for (size_t j = 0; j < e->nr; j++)
			json_object_set_new(grants, e->v[j].user,
					    json_string(access_perm_name(e->v[j].perm)));
		json_object_set_new(repos, e->key, grants);
	}
	return repos;
}

/* NULL when no entry has rules: the section is then left out. */
static json_t *refs_json(const struct access *a)
{
	json_t *refs = json_object();

	for (size_t i = 0; i < a->refs_nr; i++) {
		const struct ref_entry *e = &a->refs[i];
		json_t *rules;

		if (!e->nr)
			continue;
		rules = json_object();
		for (size_t j = 0; j < e->nr; j++)
			json_object_set_new(rules, e->v[j].pattern, names_json(&e->v[j].users));
		json_object_set_new(refs, e->repo, rules);
	}
	if (!json_object_size(refs)) {
		json_decref(refs);
		return NULL;
	}
	return refs;
}

static json_t *roles_json(const struct access *a)
{
	json_t *roles = json_object();

	for (size_t i = 0; i < ROLE_COUNT; i++)
		if (a->roles[i].nr)
			json_object_set_new(roles, role_names[i], names_json(&a->roles[i]));
	if (!json_object_size(roles)) {
		json_decref(roles);
		return NULL;
	}
	return roles;
}

json_t *access_to_json(const struct access *a)
{
	json_t *o = json_object(), *refs = refs_json(a), *roles = roles_json(a);

	json_object_set_new(o, "admins", names_json(&a->admins));
	json_object_set_new(o, "repos", repos_json(a));
	if (refs)
		json_object_set_new(o, "refs", refs);
	if (roles)
		json_object_set_new(o, "roles", roles);
	return o;
}

/* ---- queries ---- */

int access_is_admin(const struct access *a, const char *user)
{
	return names_has(&a->admins, user);
}

int access_has_role(const struct access *a, const char *user, const char *role)
{
	int i = role_index(role);

	return i >= 0 && names_has(&a->roles[i], user);
}

enum access_perm access_perm(const struct access *a, const char *repo, const char *user)
{
	enum access_perm best = ACCESS_NONE;

	if (access_is_admin(a, user))
		return ACCESS_ADMIN;
	for (size_t i = 0; i < a->repos_nr; i++) {
		const struct repo_entry *e = &a->repos[i];

		if (!entry_covers(e->key, repo))
			continue;
		for (size_t j = 0; j < e->nr; j++) {
			const struct grant *g = &e->v[j];

			if ((!strcmp(g->user, user) || !strcmp(g->user, ACCESS_EVERYONE)) &&
			    g->perm > best)
				best = g->perm;
		}
	}
	return best;
}

int access_ref_check(struct access_ref_rule *out, const struct access *a, const char *repo,
		     const char *user, const char *ref)
{
	for (size_t i = 0; i < a->refs_nr; i++) {
		const struct ref_entry *e = &a->refs[i];

		if (!reponame_match(e->repo, repo))
			continue;
		for (size_t j = 0; j < e->nr; j++) {
			const struct ref_rule *r = &e->v[j];

			if (fnmatch(r->pattern, ref, 0) || names_has(&r->users, user))
				continue;
			if (out) {
				out->repo = e->repo;
				out->pattern = r->pattern;
				out->users = (const char *const *)r->users.v;
				out->users_nr = r->users.nr;
			}
			return 0;
		}
	}
	return 1;
}

void access_ref_refusal(struct strbuf *out, const struct access_ref_rule *rule, const char *ref)
{
	strbuf_add_sanitized(out, ref, strlen(ref), 0);
	if (!rule->users_nr)
		strbuf_addstr(out, ": nobody");
	else
		strbuf_addstr(out, ": only ");
	for (size_t i = 0; i < rule->users_nr; i++) {
		if (i)
			strbuf_addstr(out, i + 1 == rule->users_nr ? " and " : ", ");
		strbuf_addstr(out, rule->users[i]);
	}
	strbuf_addf(out, " may create or move refs matching %s (access.yaml refs.%s)",
		    rule->pattern, rule->repo);
}

size_t access_admin_count(const struct access *a)
{
	return a->admins.nr;
}

const char *access_admin(const struct access *a, size_t i)
{
	return i < a->admins.nr ? a->admins.v[i] : NULL;
}

size_t access_repo_count(const struct access *a)
{
	return a->repos_nr;
}

const char *access_repo_key(const struct access *a, size_t i)
{
	return i < a->repos_nr ? a->repos[i].key : NULL;
}

size_t access_repo_grant_count(const struct access *a, size_t i)
{
	return i < a->repos_nr ? a->repos[i].nr : 0;
}

const char *access_repo_grant(const struct access *a, size_t i, size_t j, enum access_perm *perm)
{
	if (i >= a->repos_nr || j >= a->repos[i].nr)
		return NULL;
	*perm = a->repos[i].v[j].perm;
	return a->repos[i].v[j].user;
}

int access_has_repo(const struct access *a, const char *key)
{
	int found;

	keyed_find(a->repos, a->repos_nr, sizeof(*a->repos), key, &found);
	return found;
}

/* ---- changes ---- */

static int check_grantee(const char *user, enum access_perm perm, struct strbuf *err)
{
	if (strcmp(user, ACCESS_EVERYONE))
		return reponame_check_user(user, err);
	if (perm == ACCESS_ADMIN) {
		strbuf_addstr(err, "'*' (every user) cannot have admin; give admin to named users");
		return -1;
	}
	return 0;
}

int access_set_perm(struct access *a, const char *repo, const char *user, enum access_perm perm,
		    struct strbuf *err)
{
	struct repo_entry *e;

	if (reponame_check_pattern(repo, err) < 0 || check_grantee(user, perm, err) < 0)
		return -1;
	e = repo_get(a, repo, perm != ACCESS_NONE);
	if (e)
		grant_set(e, user, perm);
	return 0;
}

int access_add_repo(struct access *a, const char *key, struct strbuf *err)
{
	if (reponame_check_pattern(key, err) < 0)
		return -1;
	if (access_has_repo(a, key))
		return 1;
	repo_get(a, key, 1);
	return 0;
}

int access_remove_repo(struct access *a, const char *key)
{
	int found_repo, found_refs;
	size_t at = keyed_find(a->repos, a->repos_nr, sizeof(*a->repos), key, &found_repo);

	if (found_repo) {
		repo_entry_release(&a->repos[at]);
		keyed_remove(a->repos, &a->repos_nr, sizeof(*a->repos), at);
	}
	at = keyed_find(a->refs, a->refs_nr, sizeof(*a->refs), key, &found_refs);
	if (found_refs) {
		ref_entry_release(&a->refs[at]);
		keyed_remove(a->refs, &a->refs_nr, sizeof(*a->refs), at);
	}
	return found_repo || found_refs ? 0 : 1;
}

int access_set_admin(struct access *a, const char *user, int admin, struct strbuf *err)
{
	if (reponame_check_user(user, err) < 0)
		return -1;
	if (admin)
		names_add(&a->admins, user);
	else
		names_remove(&a->admins, user);
	return 0;
}

size_t access_remove_user(struct access *a, const char *user)
{
	size_t n = (size_t)names_remove(&a->admins, user);

	for (size_t i = 0; i < a->repos_nr; i++) {
		struct repo_entry *e = &a->repos[i];
		size_t before = e->nr;

		grant_set(e, user, ACCESS_NONE);
		n += before - e->nr;
	}
	/* A rule left with no users freezes its refs: failing closed is the safe side. */
	for (size_t i = 0; i < a->refs_nr; i++)
		for (size_t j = 0; j < a->refs[i].nr; j++)
			n += (size_t)names_remove(&a->refs[i].v[j].users, user);
	for (size_t i = 0; i < ROLE_COUNT; i++)
		n += (size_t)names_remove(&a->roles[i], user);
	return n;
}
