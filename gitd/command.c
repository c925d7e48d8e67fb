#include "command.h"

#include <string.h>

#include "strbuf.h"
#include "util.h"
#include "banned.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Scan one word at *p into word; advance *p past it. */
static int split_word(struct strbuf *word, const char **p, struct strbuf *err)
{
	const char *s = *p;

	while (*s && !is_blank(*s)) {
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (!end) {
				strbuf_addstr(err, "unterminated quote in command");
				return -1;
			}
			strbuf_add(word, s + 1, (size_t)(end - s - 1));
			s = end + 1;
		} else if (*s == '\\' && s[1] == '\'') {
			strbuf_addch(word, '\''); /* the '\'' idiom */
			s += 2;
		} else if (*s == '"' || *s == '\\') {
			strbuf_addstr(err, "double quotes and backslashes are not accepted in commands");
			return -1;
		} else {
			strbuf_addch(word, *s++);
		}
	}
	*p = s;
	return 0;
}

int command_split(struct strvec *out, const char *line, struct strbuf *err)
{
	struct strbuf word = STRBUF_INIT;
	const char *p = line;
	int rc = -1;

	if (strlen(line) > COMMAND_MAX) {
		strbuf_addf(err, "command too long (limit %d bytes)", COMMAND_MAX);
		goto cleanup;
	}
	for (const char *c = line; *c; c++) {
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			strbuf_addstr(err, "control characters are not accepted in commands");
			goto cleanup;
		}
	}
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (out->nr >= COMMAND_MAX_WORDS) {
			strbuf_addf(err, "too many words in command (limit %d)", COMMAND_MAX_WORDS);
			goto cleanup;
		}
		strbuf_reset(&word);
		if (split_word(&word, &p, err) < 0)
			goto cleanup;
		strvec_push(out, word.buf);
	}
	rc = 0;
cleanup:
	strbuf_release(&word);
	return rc;
}

static const struct {
	const char *name;
	enum git_service service;
} git_services[] = {
	{ "upload-pack", GIT_SERVICE_UPLOAD_PACK },
	{ "receive-pack", GIT_SERVICE_RECEIVE_PACK },
	{ "upload-archive", GIT_SERVICE_UPLOAD_ARCHIVE },
};

enum git_service command_git_service(const struct strvec *words, const char **arg)
{
	const char *name = NULL;
	size_t nargs = 0;

	if (words->nr >= 1 && starts_with(words->v[0], "git-")) {
		name = words->v[0] + 4;
		nargs = words->nr - 1;
	} else if (words->nr >= 2 && !strcmp(words->v[0], "git")) {
		name = words->v[1];
		nargs = words->nr - 2;
	}
	if (!name || nargs != 1)
		return GIT_SERVICE_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(git_services); i++) {
		if (!strcmp(name, git_services[i].name)) {
			*arg = words->v[words->nr - 1];
			return git_services[i].service;
		}
	}
	return GIT_SERVICE_NONE;
}

const char *git_service_name(enum git_service s)
{
	switch (s) {
	case GIT_SERVICE_UPLOAD_PACK:
		return "git-upload-pack";
	case GIT_SERVICE_RECEIVE_PACK:
		return "git-receive-pack";
	case GIT_SERVICE_UPLOAD_ARCHIVE:
		return "git-upload-archive";
	case GIT_SERVICE_NONE:
		break;
	}
	return "none";
}
