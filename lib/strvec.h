/*
 * strvec: a NULL-terminated array of owned strings, for argv and envp.
 * v is never NULL; STRVEC_INIT is ready to use; strvec_clear frees all.
 */
#ifndef GITD_STRVEC_H
#define GITD_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
/* Push s, which the strvec now owns. */
void strvec_push_owned(struct strvec *sv, char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Push every argument up to a terminating NULL. */
void strvec_pushl(struct strvec *sv, ...) __attribute__((sentinel));
void strvec_clear(struct strvec *sv);

#endif
