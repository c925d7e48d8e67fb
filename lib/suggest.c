#include "suggest.h"

#include <ctype.h>
#include <string.h>

#include "banned.h"

/* Keys and names are short; anything longer is not a typo of them. */
#define SUGGEST_MAX_LEN 255

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

static int same(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

size_t suggest_distance(const char *a, const char *b)
{
	/* Three rows of the dynamic-programming table: i-2, i-1 and i. */
	size_t rows[3][SUGGEST_MAX_LEN + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = !same(a[i - 1], b[j - 1]);

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]) &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

/* A third of the word's length, at least one edit: "enviroments" -> "environments". */
static size_t max_edits(const char *word)
{
	size_t n = (strlen(word) + 2) / 3;
	return n ? n : 1;
}

const char *suggest_word(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_dist = max_edits(word) + 1;

	for (size_t i = 0; i < n; i++) {
		size_t dist;

		if (!candidates[i] || !strcmp(candidates[i], word))
			continue;
		dist = suggest_distance(word, candidates[i]);
		/* Never suggest by replacing every character ("x" -> "y"). */
		if (dist < best_dist && dist < strlen(candidates[i])) {
			best = candidates[i];
			best_dist = dist;
		}
	}
	return best;
}
