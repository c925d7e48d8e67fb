/*
 * strbuf: a growable, always NUL-terminated byte string.
 *
 * A strbuf may have a size cap (strbuf_init_capped). Appending past the cap
 * appends nothing and returns -1, so input from the network or from users
 * cannot grow without bound; without a cap appends always succeed (0).
 * buf is never NULL: an empty strbuf points at a shared "".
 * Release with strbuf_release(); take ownership with strbuf_detach().
 */
#ifndef GITD_STRBUF_H
#define GITD_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
	size_t max; /* 0: no cap */
};

extern char strbuf_empty[];
#define STRBUF_INIT { strbuf_empty, 0, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
/* An empty strbuf that refuses to grow beyond max bytes. */
void strbuf_init_capped(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);
/* Return the buffer (caller frees) and reset sb to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);

int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
int strbuf_addch(struct strbuf *sb, int c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Append s with everything a terminal could interpret removed: C0 and C1
 * control characters, DEL and ANSI escape sequences. Tabs become spaces;
 * newlines are kept only when keep_newlines is set. Bytes that are not
 * valid UTF-8 become '?', so the result is always valid UTF-8.
 */
int strbuf_add_sanitized(struct strbuf *sb, const char *s, size_t len, int keep_newlines);

/* Remove trailing whitespace. */
void strbuf_rtrim(struct strbuf *sb);

/* Read the whole of fd, up to sb's cap; 0 on success, -1 with errno set (EFBIG at the cap). */
int strbuf_read_fd(struct strbuf *sb, int fd);
/* Read the whole file at path; 0 on success, -1 with errno set. */
int strbuf_read_file(struct strbuf *sb, const char *path);

#endif
