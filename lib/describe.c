#include "describe.h"

#include "banned.h"

/* Written with a leading zero, as YAML 1.1 octal is ("0755", "-012"). */
static int looks_octal(const char *src)
{
	if (*src == '-' || *src == '+')
		src++;
	return src[0] == '0' && src[1] >= '0' && src[1] <= '9';
}

const char *describe_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

int describe_surprise(struct strbuf *sb, const json_t *v, const struct ymember *m)
{
	if (!m || !m->source)
		return 0;
	strbuf_addf(sb, "`%s` was read as ", m->source);
	if (json_is_boolean(v))
		strbuf_addf(sb, "the boolean %s", json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v) && looks_octal(m->source))
		strbuf_addf(sb, "the octal number %" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_integer(v))
		strbuf_addf(sb, "the number %" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		strbuf_addf(sb, "the number %g", json_real_value(v));
	else
		strbuf_addstr(sb, describe_type(v));
	return 1;
}

int describe_octal(struct strbuf *sb, const json_t *v, const struct ymember *m)
{
	if (!json_is_integer(v) || !m || !m->source || !looks_octal(m->source))
		return 0;
	describe_surprise(sb, v, m);
	strbuf_addstr(sb, "; remove the leading zeros");
	return 1;
}

void describe_not_string(struct strbuf *sb, const json_t *v, const struct ymember *m)
{
	if (describe_surprise(sb, v, m)) {
		strbuf_addstr(sb, "; quote it");
		return;
	}
	strbuf_addf(sb, "not %s", describe_type(v));
	if (json_is_number(v) || json_is_boolean(v))
		strbuf_addstr(sb, "; quote it");
}
