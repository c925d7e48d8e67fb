/*
 * Small helpers every binary uses: allocation that cannot fail silently,
 * overflow-checked size arithmetic, and die() for one-shot programs.
 */
#ifndef GITD_UTIL_H
#define GITD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Print "PROGNAME: fatal: MSG" to stderr and exit(128). Not for the daemon's main loop. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Like die(), with ": strerror(errno)" appended. */
void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The name die() prints; set once from main(). */
void set_progname(const char *name);
const char *get_progname(void);

/* Allocation: abort the process on out-of-memory rather than return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* a + b and a * b, dying on overflow. */
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/* Grow *arr (element size elem) so it holds at least n elements; *alloc tracks capacity. */
void grow_array(void **arr, size_t elem, size_t n, size_t *alloc);
#define ALLOC_GROW(arr, n, alloc) grow_array((void **)&(arr), sizeof(*(arr)), (n), &(alloc))

/* 1 if s starts with prefix. */
int starts_with(const char *s, const char *prefix);
/* 1 if s ends with suffix. */
int ends_with(const char *s, const char *suffix);

/* Parse a non-negative decimal integer in [0, max]; 0 on success, -1 otherwise. */
int parse_uint(const char *s, unsigned long max, unsigned long *out);

/* Monotonic clock in milliseconds. */
int64_t now_ms(void);

#endif
