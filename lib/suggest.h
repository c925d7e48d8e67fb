/*
 * suggest: "did you mean ...?" for misspelt keys, commands and names.
 *
 * The distance is the optimal string alignment distance (Levenshtein plus
 * transposition of two adjacent characters, so "nmae" is one edit from
 * "name"), compared case-insensitively. A candidate is offered only when
 * it is close enough to be a likely typo rather than a different word.
 */
#ifndef GITD_SUGGEST_H
#define GITD_SUGGEST_H

#include <stddef.h>

/* Edits between a and b (case-insensitive); strings longer than 255 bytes count as far apart. */
size_t suggest_distance(const char *a, const char *b);

/*
 * The candidate closest to word, or NULL when none is a likely typo.
 * candidates is an array of n strings (NULL entries are skipped); ties go
 * to the earlier candidate. word itself, if present, is never suggested.
 */
const char *suggest_word(const char *word, const char *const *candidates, size_t n);

#endif
