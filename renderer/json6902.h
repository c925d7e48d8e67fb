/*
 * json6902: JSON Patch (RFC 6902) on jansson values.
 *
 * kustomize applies `patches` written as a list of operations with
 * gopkg.in/evanphx/json-patch.v4 (v4.12). To render exactly what
 * `kustomize build` renders, json6902_apply() keeps that library's
 * behaviour where it departs from the RFC:
 *
 *   - everything before the first '/' of a path is ignored ("a/b" is "/b"),
 *     and the empty path "" addresses nothing;
 *   - an array index is a decimal integer with an optional sign (leading
 *     zeros allowed); a negative index counts from the end: -1 is the last
 *     element, and for "add" -1 appends, like "-";
 *   - "replace" of a missing object member adds it;
 *   - "copy" from a missing object member, and "add" without a value, set null;
 *   - "test" against a missing member or a null succeeds only when the
 *     value is null; an object passes when each of its members is present and
 *     equal in the value (members only in the value are not compared); numbers
 *     compare by value.
 *
 * Unlike the library, a "copy" that would grow doc beyond 1,000,000 values
 * or 200 levels fails: copy can double a document with each operation, so
 * a short patch could otherwise exhaust memory.
 *
 * Operations are applied in order to doc (an object), in place. The
 * operation list is validated as it is applied: on the first failure the
 * function returns -1 with one line in err saying which operation failed
 * and why; doc may then hold the effect of the earlier operations, so
 * callers apply to a copy when they need all-or-nothing.
 */
#ifndef GITD_JSON6902_H
#define GITD_JSON6902_H

#include <jansson.h>

#include "strbuf.h"

struct strvec;

/* Apply the RFC 6902 operations in ops (an array) to doc; 0 or -1 with err set. */
int json6902_apply(json_t *doc, const json_t *ops, struct strbuf *err);

/*
 * Split a JSON pointer as json6902_apply() reads it: drop the text before
 * the first '/', then unescape ~1 to '/' and ~0 to '~' in each token.
 * Returns -1 (and pushes nothing) for a path without '/'.
 */
int json6902_split_path(struct strvec *out, const char *path);

#endif
