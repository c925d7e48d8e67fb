/*
 * describe: words for values read from YAML, for messages that say what
 * was expected and what was found ("must be a string, not a number").
 *
 * YAML 1.1 reads some plain scalars as something else than most people
 * mean (`on` is true, `0755` is 493; see yamlload.h). describe_surprise()
 * explains such a value from the text the loader kept, so a message can
 * say "`on` was read as the boolean true; quote it".
 */
#ifndef GITD_DESCRIBE_H
#define GITD_DESCRIBE_H

#include <jansson.h>

#include "strbuf.h"
#include "yamlload.h"

/* "a string", "an integer", "a number", "a boolean", "null", "a mapping" or "a list". */
const char *describe_type(const json_t *v);

/*
 * When m says v was written as a plain scalar YAML 1.1 turned into a
 * non-string, append "`TEXT` was read as ..." (e.g. "`on` was read as the
 * boolean true") to sb and return 1; else append nothing and return 0.
 * m may be NULL.
 */
int describe_surprise(struct strbuf *sb, const json_t *v, const struct ymember *m);

/*
 * For an integer written with a leading zero (0755): append "`0755` was
 * read as the octal number 493; remove the leading zeros" and return 1;
 * else append nothing and return 0. m may be NULL.
 */
int describe_octal(struct strbuf *sb, const json_t *v, const struct ymember *m);

/*
 * Append why v is not a string, for "must be a string: ...": the surprise
 * and "; quote it" when there is one, else "not TYPE" ("not an integer;
 * quote it" for scalars, "not a mapping" otherwise).
 */
void describe_not_string(struct strbuf *sb, const json_t *v, const struct ymember *m);

#endif
