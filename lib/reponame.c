#include "reponame.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "strvec.h"
#include "util.h"
#include "banned.h"

#define QUOTE_MAX 40

static int is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int is_wildcard(unsigned char c)
{
	return c == '*' || c == '?' || c == '[';
}

/* Append 'what' with non-printable bytes as \xNN, cut after QUOTE_MAX bytes. */
static void add_quoted(struct strbuf *err, const char *what)
{
	size_t i;

	strbuf_addch(err, '\'');
	for (i = 0; what[i] && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)what[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			strbuf_addch(err, c);
		else
			strbuf_addf(err, "\\x%02x", c);
	}
	strbuf_addstr(err, what[i] ? "'..." : "'");
}

static int fail(struct strbuf *err, const char *kind, const char *what, const char *why)
{
	strbuf_addf(err, "%s ", kind);
	add_quoted(err, what);
	strbuf_addf(err, " %s", why);
	return -1;
}

/* Describe the first byte outside the alphabet: a letter, a space, a byte. */
static int bad_char(struct strbuf *err, const char *kind, const char *what, unsigned char c)
{
	struct strbuf why = STRBUF_INIT;

	if (c >= 'A' && c <= 'Z')
		strbuf_addstr(&why, "has uppercase letters; use lowercase");
	else if (c > 0x20 && c < 0x7f)
		strbuf_addf(&why, "has '%c'; use only a-z, 0-9, '.', '_' and '-'", c);
	else
		strbuf_addf(&why, "has byte \\x%02x; use only a-z, 0-9, '.', '_' and '-'", c);
	fail(err, kind, what, why.buf);
	strbuf_release(&why);
	return -1;
}

/* What a name is checked as. */
struct name_kind {
	const char *what;    /* for messages */
	const char *example; /* a valid name */
	size_t max;
	int git_suffix_ok;
};

static const struct name_kind repo_name = { "repository name", "shop", REPONAME_MAX, 0 };
static const struct name_kind repo_pattern = { "repository pattern", "shop", REPONAME_MAX, 0 };
static const struct name_kind user_name = { "user name", "alice", USERNAME_MAX, 1 };

/* Checks shared by names and patterns, on everything but the alphabet. */
static int check_shape(const char *s, const struct name_kind *k, struct strbuf *err)
{
	const char *kind = k->what;
	size_t len = strlen(s);

	if (!len) {
		strbuf_addf(err, "%s is empty; use e.g. '%s'", kind, k->example);
		return -1;
	}
	if (len > k->max) {
		strbuf_addf(err, "%s is longer than %zu characters", kind, k->max);
		return -1;
	}
	if (strchr(s, '/'))
		return fail(err, kind, s,
			    k->git_suffix_ok ? "has '/'" : "has '/'; repositories do not nest");
	if (strstr(s, ".."))
		return fail(err, kind, s, "has '..'");
	if (s[0] == '-' || s[0] == '.')
		return fail(err, kind, s, "must start with a letter or digit");
	if (s[len - 1] == '.')
		return fail(err, kind, s, "must not end in '.'");
	if (!k->git_suffix_ok && ends_with(s, ".git"))
		return fail(err, kind, s, "must not end in '.git'; drop the suffix");
	return 0;
}

static int check_name(const char *name, const struct name_kind *k, struct strbuf *err)
{
	if (check_shape(name, k, err) < 0)
		return -1;
	for (const char *p = name; *p; p++)
		if (!is_name_char((unsigned char)*p))
			return bad_char(err, k->what, name, (unsigned char)*p);
	return 0;
}

int reponame_check(const char *name, struct strbuf *err)
{
	return check_name(name, &repo_name, err);
}

int reponame_check_user(const char *name, struct strbuf *err)
{
	return check_name(name, &user_name, err);
}

/* Length of the bracket expression at s (s[0] == '['), or 0 when it is invalid. */
static size_t bracket_len(const char *s)
{
	size_t i = 1, members = 0;

	if (s[i] == '!' || s[i] == '^')
		i++;
	for (; s[i] && s[i] != ']'; i++) {
		if (s[i] == '-' && members && s[i + 1] && s[i + 1] != ']')
			continue; /* a range: both ends are checked as members */
		if (!is_name_char((unsigned char)s[i]))
			return 0;
		members++;
	}
	return s[i] == ']' && members ? i + 1 : 0;
}

int reponame_check_pattern(const char *pattern, struct strbuf *err)
{
	const char *kind = repo_pattern.what;

	if (!reponame_is_pattern(pattern))
		return reponame_check(pattern, err);
	if (check_shape(pattern, &repo_pattern, err) < 0)
		return -1;
	for (const char *p = pattern; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '[') {
			size_t n = bracket_len(p);

			if (!n)
				return fail(err, kind, pattern,
					    "has a bad [...] set; write e.g. [a-z] or [!0-9]");
			p += n - 1;
		} else if (!is_name_char(c) && c != '*' && c != '?') {
			return bad_char(err, kind, pattern, c);
		}
	}
	return 0;
}

int reponame_is_pattern(const char *s)
{
	for (; *s; s++)
		if (is_wildcard((unsigned char)*s))
			return 1;
	return 0;
}

int reponame_match(const char *pattern, const char *name)
{
	if (!reponame_is_pattern(pattern))
		return !strcmp(pattern, name);
	return fnmatch(pattern, name, 0) == 0;
}

int reponame_normalize(char **out, const char *in, struct strbuf *err)
{
	size_t len = strlen(in);
	char *name;

	*out = NULL;
	/* Room for "/" and ".git" around a name of the longest length. */
	if (len > REPONAME_MAX + 5) {
		strbuf_addf(err, "repository name is longer than %d characters", REPONAME_MAX);
		return -1;
	}
	if (in[0] == '/') {
		in++;
		len--;
	}
	if (ends_with(in, ".git"))
		len -= 4;
	name = xstrndup(in, len);
	if (reponame_check(name, err) < 0) {
		free(name);
		return -1;
	}
	*out = name;
	return 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void reponame_list(struct strvec *out, const char *data_dir)
{
	char *dir = xstrfmt("%s/repos", data_dir);
	struct strbuf scratch = STRBUF_INIT;
	size_t from = out->nr;
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *name;

		if (len <= 4 || !ends_with(de->d_name, ".git"))
			continue;
		name = xstrndup(de->d_name, len - 4);
		if (reponame_check(name, &scratch) == 0)
			strvec_push_owned(out, name);
		else
			free(name);
		strbuf_reset(&scratch);
	}
	if (d)
		closedir(d);
	free(dir);
	strbuf_release(&scratch);
	if (out->nr > from)
		qsort(out->v + from, out->nr - from, sizeof(*out->v), compare_strings);
}
