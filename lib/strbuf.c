#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "banned.h"

char strbuf_empty[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->buf = strbuf_empty;
	sb->len = sb->alloc = sb->max = 0;
	if (hint) {
		sb->buf = xmalloc(st_add(hint, 1));
		sb->alloc = hint + 1;
		sb->buf[0] = '\0';
	}
}

void strbuf_init_capped(struct strbuf *sb, size_t max)
{
	strbuf_init(sb, 0);
	sb->max = max;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *s = sb->alloc ? sb->buf : xstrdup("");
	size_t max = sb->max;

	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	sb->max = max;
	return s;
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc)
		return;
	if (len < sb->len)
		sb->len = len;
	sb->buf[sb->len] = '\0';
}

/* Make room for extra more bytes (plus the NUL); -1 when the cap forbids it. */
static int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want = st_add(st_add(sb->len, extra), 1);

	if (sb->max && want - 1 > sb->max)
		return -1;
	if (want <= sb->alloc)
		return 0;
	if (!sb->alloc)
		sb->buf = NULL;
	want = st_add(want, want / 2);
	sb->buf = xrealloc(sb->buf, want);
	if (!sb->alloc)
		sb->buf[0] = '\0';
	sb->alloc = want;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (strbuf_grow(sb, len) < 0)
		return -1;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addbuf(struct strbuf *sb, const struct strbuf *other)
{
	return strbuf_add(sb, other->buf, other->len);
}

int strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;
	return strbuf_add(sb, &ch, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || strbuf_grow(sb, (size_t)n) < 0)
		return -1;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return rc;
}

/* Length of the ANSI escape sequence at s (s[0] == ESC), at most len. */
static size_t escape_len(const unsigned char *s, size_t len)
{
	size_t i = 1;

	if (len < 2)
		return len;
	if (s[1] == '[') { /* CSI: parameters, then one final byte 0x40-0x7e */
		for (i = 2; i < len; i++)
			if (s[i] >= 0x40 && s[i] <= 0x7e)
				return i + 1;
		return len;
	}
	if (s[1] == ']') { /* OSC: up to BEL or ESC \ */
		for (i = 2; i < len; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b && i + 1 < len && s[i + 1] == '\\')
				return i + 2;
		}
		return len;
	}
	return 2; /* two-byte escape */
}

/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes left, s[0] >= 0x80),
 * or 0: a stray continuation byte, an overlong form, a surrogate, a code
 * point past U+10FFFF, or a sequence cut short.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	unsigned long cp = s[0] & (0x7f >> len);

	if (s[0] < 0xc2 || s[0] > 0xf4 || n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int strbuf_add_sanitized(struct strbuf *sb, const char *str, size_t len, int keep_newlines)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t w;

		if (c == 0x1b) {
			i += escape_len(s + i, len - i);
			continue;
		}
		if (c >= 0x80) {
			/*
			 * A byte that is not part of valid UTF-8 may be a raw C1
			 * control (0x9b is CSI to an 8-bit terminal), and makes
			 * JSON logs drop the field: it becomes '?'.
			 */
			w = utf8_len(s + i, len - i);
			if (!w && strbuf_addch(sb, '?') < 0)
				return -1;
			/* UTF-8 encoding of C1 controls (U+0080..U+009F) is C2 80..C2 9F. */
			if (w && !(c == 0xc2 && s[i + 1] <= 0x9f) && strbuf_add(sb, s + i, w) < 0)
				return -1;
			i += w ? w : 1;
			continue;
		}
		i++;
		if (c == '\t')
			c = ' ';
		else if (c == '\n' && keep_newlines)
			;
		else if (c < 0x20 || c == 0x7f)
			continue;
		if (strbuf_addch(sb, c) < 0)
			return -1;
	}
	return 0;
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && strchr(" \t\r\n", sb->buf[sb->len - 1]))
		sb->len--;
	strbuf_setlen(sb, sb->len);
}

int strbuf_read_fd(struct strbuf *sb, int fd)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (strbuf_add(sb, chunk, (size_t)n) < 0) {
			errno = EFBIG;
			return -1;
		}
	}
}

int strbuf_read_file(struct strbuf *sb, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = strbuf_read_fd(sb, fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
