/*
 * yamlemit: write jansson values as YAML text, byte for byte as
 * `kubectl kustomize` (kustomize v5.5) prints resources.
 *
 * kustomize turns every resource into JSON and back into YAML with
 * sigs.k8s.io/yaml, i.e. with go-yaml v2's encoder. So the output is:
 *
 *   - block style, two-space indentation; a sequence that is a mapping
 *     value is not indented ("key:\n- a"), one inside a sequence is
 *     ("- - a\n  - b"), a mapping inside a sequence starts on the dash line
 *     ("- a: 1\n  b: 2"); empty containers are "{}" and "[]";
 *   - the keys of every mapping, at every level and in every kind of
 *     object, in go-yaml v2's "natural" order (see yamlemit.c); there is no
 *     apiVersion/kind/metadata-first rule;
 *   - strings plain when they read back as the same string under YAML 1.1,
 *     else single- or double-quoted, or a literal block when they contain a
 *     newline; plain and quoted scalars longer than 80 columns are folded
 *     at spaces;
 *   - numbers as Go prints a float64 that went through JSON: 1.0 as "1",
 *     1e3 as "1000", 1e21 as "1e+21", 1234567.5 as "1.2345675e+06".
 *
 * The same rules give access.yaml and other non-Kubernetes files a
 * canonical form, so there is one key order and no option.
 *
 * Functions append to out and return 0; on failure they return -1 and
 * leave out as it was. They fail when a string is not valid UTF-8, a real
 * is not finite, nesting is deeper than YAMLEMIT_MAX_DEPTH, or out's cap
 * is reached.
 */
#ifndef GITD_YAMLEMIT_H
#define GITD_YAMLEMIT_H

#include <stddef.h>

#include <jansson.h>

#include "strbuf.h"

#define YAMLEMIT_MAX_DEPTH 1000

/* Append value as one document, with no "---" line, ending in a newline. */
int yamlemit_doc(struct strbuf *out, const json_t *value);

/* Append n documents separated by "---" lines, as `kustomize build` prints them. */
int yamlemit_stream(struct strbuf *out, const json_t *const *docs, size_t n);

#endif
