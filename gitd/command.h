/*
 * command: the exec request a client sends, split into words.
 *
 * `ssh git@host COMMAND` sends COMMAND as one string; git sends
 * `git-upload-pack '/shop.git'`. We never hand it to a shell: it is split
 * here into words (blanks separate words; '...' quotes, and the sequence
 * '\'' used by git for a quote inside quotes), and each word is then checked
 * by the command that takes it. Control characters, double quotes and
 * backslashes outside '\'' are refused outright, as is anything longer than
 * COMMAND_MAX bytes or COMMAND_MAX_WORDS words.
 */
#ifndef GITD_COMMAND_H
#define GITD_COMMAND_H

#include "strvec.h"

struct strbuf;

#define COMMAND_MAX 4096
#define COMMAND_MAX_WORDS 32

/* Split line into words (appended to out); 0 on success, -1 with a message in err. */
int command_split(struct strvec *out, const char *line, struct strbuf *err);

enum git_service {
	GIT_SERVICE_NONE,
	GIT_SERVICE_UPLOAD_PACK,    /* fetch, clone */
	GIT_SERVICE_RECEIVE_PACK,   /* push */
	GIT_SERVICE_UPLOAD_ARCHIVE, /* git archive --remote */
};

/*
 * If words is a git transport command (`git-upload-pack ARG` or
 * `git upload-pack ARG`, likewise receive-pack and upload-archive), return
 * its service and set *arg to the repository argument (borrowed from words);
 * otherwise GIT_SERVICE_NONE.
 */
enum git_service command_git_service(const struct strvec *words, const char **arg);
/* "git-upload-pack" etc. */
const char *git_service_name(enum git_service s);

#endif
