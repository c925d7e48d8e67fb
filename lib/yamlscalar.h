/*
 * yamlscalar: what one YAML scalar means to Kubernetes, which reads YAML
 * with sigs.k8s.io/yaml on go-yaml v2 (YAML 1.1 resolution, Go's strconv
 * number syntax). lib/yamlload.c is the only user; it is a module of its
 * own so the rules can be read, and tested, in one place.
 *
 * An untagged plain scalar resolves as go-yaml v2's resolve():
 *   null   "" ~ null Null NULL
 *   bool   y Y yes Yes YES true True TRUE on On ON, and n ... off for false
 *   int    Go's strconv.ParseInt(s, 0, 64) after removing every "_":
 *          sign, 0x/0o/0b prefixes (either case), a bare leading 0 is octal
 *   float  [-+]?(.D+|D+(.D*)?)([eE][-+]?D+)? after removing "_", .5, and
 *          .inf .nan with their case variants
 *   string everything else, including timestamps (go-yaml hands those to
 *          interface{} as the original text) and 60-based numbers (1:20)
 * Quoted and block scalars are strings. The tags !!str !!int !!float
 * !!bool !!null and the non-specific "!" are honoured as go-yaml does (a
 * tagged scalar resolves from its text whatever its style; !!float accepts
 * an int). !!binary, !!timestamp and every other tag are refused.
 *
 * Where go-yaml produces an integer that a 64-bit signed integer cannot
 * hold (uint64 above 2^63-1, or a big.Int for longer hex and binary) this
 * is an error; where go-yaml falls back to a float (longer decimal
 * numbers) so does this.
 */
#ifndef GITD_YAMLSCALAR_H
#define GITD_YAMLSCALAR_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum yscalar_kind {
	YSCALAR_STR,
	YSCALAR_NULL,
	YSCALAR_BOOL,
	YSCALAR_INT,
	YSCALAR_FLOAT,
};

struct yscalar {
	enum yscalar_kind kind;
	int boolean;
	int64_t integer;
	double real; /* may be infinite or NaN */
	/*
	 * Set for an untagged plain scalar read through a YAML 1.1 rule a
	 * person may not expect: yes/no/on/off/y/n in any accepted case,
	 * an integer with a leading 0 (octal), a number written with "_".
	 */
	int yaml11;
};

/*
 * Resolve text (len bytes, no NUL) carrying tag (as libyaml reports it,
 * e.g. "tag:yaml.org,2002:int", or NULL); plain is 1 for an unquoted flow
 * scalar. 0 on success; -1 with a one-line message appended to err when
 * the tag is not supported, the text does not fit the tag, or an integer
 * is out of range.
 */
int yscalar_resolve(struct yscalar *out, const char *text, size_t len, const char *tag, int plain,
		    struct strbuf *err);

/*
 * Append to out the mapping key sigs.k8s.io/yaml makes of s: a string as
 * is, true/false, decimal integers, floats as Go's FormatFloat(f, 'g', -1,
 * 32) and .inf/-.inf/.nan. text is s's source text. -1 for null, which
 * sigs.k8s.io/yaml refuses as a key.
 */
int yscalar_key(struct strbuf *out, const struct yscalar *s, const char *text, size_t len);

/* Append tag for a message: "!!int" for "tag:yaml.org,2002:int", else tag itself. */
void yscalar_add_tag(struct strbuf *sb, const char *tag);

/* Append text quoted for a message, cut after about 60 bytes ("..."). */
void yscalar_add_quoted(struct strbuf *sb, const char *text, size_t len);

#endif
