#include "pubkey.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "banned.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384 /* OpenSSH's limit too */

/* The key types we accept, and the shape of their blobs. */
struct key_kind {
	const char *name;
	enum ssh_keytypes_e type;
	const char *curve; /* ECDSA: the curve named inside the blob */
	unsigned bits;     /* 0: read from the blob (RSA) */
};

static const struct key_kind kinds[] = {
	{ "ssh-ed25519", SSH_KEYTYPE_ED25519, NULL, 256 },
	{ "ssh-rsa", SSH_KEYTYPE_RSA, NULL, 0 },
	{ "ecdsa-sha2-nistp256", SSH_KEYTYPE_ECDSA_P256, "nistp256", 256 },
	{ "ecdsa-sha2-nistp384", SSH_KEYTYPE_ECDSA_P384, "nistp384", 384 },
	{ "ecdsa-sha2-nistp521", SSH_KEYTYPE_ECDSA_P521, "nistp521", 521 },
};

struct pubkey_list {
	struct pubkey **v;
	size_t nr, alloc;
};

/* A token of a key line: where it starts and how long it is. */
struct token {
	const char *s;
	size_t len;
	unsigned col;
};

/* Where the line being parsed came from, for diags. */
struct line_ctx {
	struct diags *d;
	const char *file;
	unsigned line;
	const char *start; /* first byte of the line, for columns */
	int errors;
	int in_private; /* inside a pasted private key: skip to its END line */
};

struct pubkey_list *pubkey_list_new(void)
{
	return xcalloc(1, sizeof(struct pubkey_list));
}

static void pubkey_free(struct pubkey *k)
{
	if (!k)
		return;
	ssh_key_free(k->key);
	free(k->base64);
	free(k->comment);
	free(k->fingerprint);
	free(k->owner);
	free(k->file);
	free(k);
}

void pubkey_list_free(struct pubkey_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		pubkey_free(list->v[i]);
	free(list->v);
	free(list);
}

size_t pubkey_list_count(const struct pubkey_list *list)
{
	return list->nr;
}

const struct pubkey *pubkey_list_get(const struct pubkey_list *list, size_t i)
{
	return i < list->nr ? list->v[i] : NULL;
}

const struct pubkey *pubkey_list_find_key(const struct pubkey_list *list, const ssh_key key)
{
	for (size_t i = 0; i < list->nr; i++)
		if (ssh_key_cmp(list->v[i]->key, key, SSH_KEY_CMP_PUBLIC) == 0)
			return list->v[i];
	return NULL;
}

const struct pubkey *pubkey_list_find_fingerprint(const struct pubkey_list *list,
						  const char *fp)
{
	static const char prefix[] = "SHA256:";
	size_t skip = starts_with(fp, prefix) ? 0 : sizeof(prefix) - 1;

	for (size_t i = 0; i < list->nr; i++)
		if (!strcmp(list->v[i]->fingerprint + skip, fp))
			return list->v[i];
	return NULL;
}

int pubkey_fingerprint(char **out, const ssh_key key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	*out = NULL;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (!fp)
		return -1;
	*out = xstrdup(fp); /* ours to free with free(), not libssh's */
	ssh_string_free_char(fp);
	return 0;
}

void pubkey_format(struct strbuf *out, const struct pubkey *k)
{
	strbuf_addf(out, "%s %s", k->type, k->base64);
	if (*k->comment)
		strbuf_addf(out, " %s", k->comment);
	strbuf_addch(out, '\n');
}

/* ---- base64 ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

/*
 * Decode s (len bytes) into out. Padding is optional but, when present,
 * must be right. On failure *bad is the offset of the offending byte.
 */
static int b64_decode(struct strbuf *out, const char *s, size_t len, size_t *bad)
{
	uint32_t acc = 0;
	size_t n = 0, pad = 0;

	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	if ((len - pad) % 4 == 1 || (pad && len % 4)) {
		*bad = len - pad;
		return -1;
	}
	for (size_t i = 0; i < len - pad; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0) {
			*bad = i;
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		if (++n == 4) {
			unsigned char b[3] = { acc >> 16, acc >> 8, acc };
			strbuf_add(out, b, 3);
			acc = n = 0;
		}
	}
	if (n == 2) {
		strbuf_addch(out, (int)(acc >> 4) & 0xff);
	} else if (n == 3) {
		strbuf_addch(out, (int)(acc >> 10) & 0xff);
		strbuf_addch(out, (int)(acc >> 2) & 0xff);
	}
	return 0;
}

static char *b64_encode(const unsigned char *p, size_t len)
{
	struct strbuf sb;

	strbuf_init(&sb, st_mult(st_add(len, 2) / 3, 4));
	for (size_t i = 0; i < len; i += 3) {
		uint32_t acc = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			acc |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			acc |= p[i + 2];
		strbuf_addch(&sb, b64_alphabet[acc >> 18 & 63]);
		strbuf_addch(&sb, b64_alphabet[acc >> 12 & 63]);
		strbuf_addch(&sb, left > 1 ? b64_alphabet[acc >> 6 & 63] : '=');
		strbuf_addch(&sb, left > 2 ? b64_alphabet[acc & 63] : '=');
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- the SSH wire format of a public key blob (RFC 4253 6.6) ---- */

struct blob {
	const unsigned char *p;
	size_t left;
};

/* Read one length-prefixed string; -1 when the blob is too short. */
static int blob_string(struct blob *b, const unsigned char **out, size_t *len)
{
	uint32_t n;

	if (b->left < 4)
		return -1;
	n = (uint32_t)b->p[0] << 24 | (uint32_t)b->p[1] << 16 | (uint32_t)b->p[2] << 8 | b->p[3];
	if (n > b->left - 4)
		return -1;
	*out = b->p + 4;
	*len = n;
	b->p += 4 + (size_t)n;
	b->left -= 4 + (size_t)n;
	return 0;
}

static int blob_string_is(struct blob *b, const char *want)
{
	const unsigned char *s;
	size_t len;

	return !blob_string(b, &s, &len) && len == strlen(want) && !memcmp(s, want, len);
}

/* Bits in a positive mpint; 0 when it is zero or negative. */
static unsigned mpint_bits(const unsigned char *p, size_t len)
{
	unsigned bits;

	if (len && p[0] & 0x80)
		return 0;
	while (len && !p[0]) {
		p++;
		len--;
	}
	if (!len)
		return 0;
	if (len > RSA_MAX_BITS / 8)
		return RSA_MAX_BITS + 1; /* too big: the exact size does not matter */
	bits = (unsigned)(len - 1) * 8;
	for (unsigned c = p[0]; c; c >>= 1)
		bits++;
	return bits;
}

/*
 * Check the blob's structure against kind, so that a malformed blob gets a
 * precise message and trailing garbage is refused. Sets *bits.
 * Returns NULL when fine, else what is wrong.
 */
static const char *blob_check(const struct key_kind *kind, const struct strbuf *raw,
			      unsigned *bits)
{
	struct blob b = { (const unsigned char *)raw->buf, raw->len };
	const unsigned char *s;
	size_t len;

	*bits = kind->bits;
	if (kind->type == SSH_KEYTYPE_RSA) {
		if (blob_string(&b, &s, &len) < 0 || blob_string(&b, &s, &len) < 0 ||
		    blob_string(&b, &s, &len) < 0)
			return "truncated";
		*bits = mpint_bits(s, len);
		if (!*bits)
			return "the RSA modulus is invalid";
	} else if (kind->curve) {
		if (blob_string(&b, &s, &len) < 0 || !blob_string_is(&b, kind->curve) ||
		    blob_string(&b, &s, &len) < 0)
			return "the curve does not match the key type, or the data is truncated";
	} else if (blob_string(&b, &s, &len) < 0 || blob_string(&b, &s, &len) < 0 || len != 32) {
		return "an Ed25519 key is 32 bytes";
	}
	return b.left ? "there are extra bytes after the key" : NULL;
}

/* The type name at the start of the blob, for a mismatch message. */
static char *blob_type(const struct strbuf *raw)
{
	struct blob b = { (const unsigned char *)raw->buf, raw->len };
	const unsigned char *s;
	size_t len;
	struct strbuf sb = STRBUF_INIT;

	if (blob_string(&b, &s, &len) < 0 || len > 64)
		return NULL;
	strbuf_add_sanitized(&sb, (const char *)s, len, 0);
	return strbuf_detach(&sb, NULL);
}

/* ---- lines ---- */

static void line_error(struct line_ctx *ctx, unsigned col, const char *rule, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static void line_error(struct line_ctx *ctx, unsigned col, const char *rule, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	diags_add(ctx->d, DIAG_ERROR, ctx->file, ctx->line, col, rule, "%s", msg.buf);
	strbuf_release(&msg);
	ctx->errors++;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next whitespace-separated token at or after *pos; 0 when none is left. */
static int next_token(struct line_ctx *ctx, const char *s, size_t len, size_t *pos,
		      struct token *out)
{
	size_t i = *pos;

	while (i < len && is_blank(s[i]))
		i++;
	if (i == len)
		return 0;
	out->s = s + i;
	out->col = (unsigned)(s + i - ctx->start) + 1;
	while (i < len && !is_blank(s[i]))
		i++;
	out->len = (size_t)(s + i - out->s);
	*pos = i;
	return 1;
}

static const struct key_kind *kind_find(const struct token *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strlen(kinds[i].name) == t->len && !memcmp(kinds[i].name, t->s, t->len))
			return &kinds[i];
	return NULL;
}

/* libssh's idea of a type name, for names we refuse (needs a C string). */
static enum ssh_keytypes_e libssh_type(const struct token *t)
{
	char *name = xstrndup(t->s, t->len);
	enum ssh_keytypes_e type = ssh_key_type_from_name(name);

	free(name);
	return type;
}

static int is_cert_type(enum ssh_keytypes_e t)
{
	return t == SSH_KEYTYPE_DSS_CERT01 || t == SSH_KEYTYPE_RSA_CERT01 ||
	       t == SSH_KEYTYPE_ECDSA_P256_CERT01 || t == SSH_KEYTYPE_ECDSA_P384_CERT01 ||
	       t == SSH_KEYTYPE_ECDSA_P521_CERT01 || t == SSH_KEYTYPE_ED25519_CERT01 ||
	       t == SSH_KEYTYPE_SK_ECDSA_CERT01 || t == SSH_KEYTYPE_SK_ED25519_CERT01;
}

static int token_starts_with(const struct token *t, const char *prefix)
{
	size_t n = strlen(prefix);
	return t->len >= n && !memcmp(t->s, prefix, n);
}

/* A later token that looks like a key type means the line starts with options. */
static int has_type_later(struct line_ctx *ctx, const char *s, size_t len, size_t pos)
{
	struct token t;

	while (next_token(ctx, s, len, &pos, &t))
		if (kind_find(&t) || token_starts_with(&t, "ssh-") ||
		    token_starts_with(&t, "ecdsa-sha2-") || token_starts_with(&t, "sk-"))
			return 1;
	return 0;
}

/* Explain why the first token t is not an accepted key type. */
static void refuse_type(struct line_ctx *ctx, const struct token *t, const char *s, size_t len,
			size_t pos)
{
	enum ssh_keytypes_e type = libssh_type(t);
	int n = t->len > 64 ? 64 : (int)t->len;

	if (type == SSH_KEYTYPE_DSS)
		line_error(ctx, t->col, "pubkey-type",
			   "%.*s keys are too weak; use ssh-ed25519 (ssh-keygen -t ed25519)", n, t->s);
	else if (type == SSH_KEYTYPE_SK_ECDSA || type == SSH_KEYTYPE_SK_ED25519)
		line_error(ctx, t->col, "pubkey-type",
			   "security keys (%.*s) are not supported; use ssh-ed25519", n, t->s);
	else if (is_cert_type(type))
		line_error(ctx, t->col, "pubkey-type",
			   "certificates are not supported; give the plain public key");
	else if (token_starts_with(t, "rsa-sha2-"))
		line_error(ctx, t->col, "pubkey-type",
			   "%.*s is a signature algorithm, not a key type; the line should start with ssh-rsa",
			   n, t->s);
	else if (memchr(t->s, '=', t->len) || has_type_later(ctx, s, len, pos))
		line_error(ctx, t->col, "pubkey-options",
			   "key options (command=, from=, ...) are not supported; "
			   "remove everything before the key type");
	else
		line_error(ctx, t->col, "pubkey-type",
			   "unknown key type '%.*s'; expected a line like 'ssh-ed25519 AAAA... comment'",
			   n, t->s);
}

/* Decode and check the key data in t; on success *raw holds the blob. */
static int decode_blob(struct line_ctx *ctx, const struct key_kind *kind, const struct token *t,
		       struct strbuf *raw, unsigned *bits)
{
	const char *why;
	char *inner;
	size_t bad;

	if (b64_decode(raw, t->s, t->len, &bad) < 0) {
		line_error(ctx, t->col + (unsigned)bad, "pubkey-syntax",
			   "key data is not valid base64; copy the whole line from the .pub file");
		return -1;
	}
	inner = blob_type(raw);
	if (!inner || strcmp(inner, kind->name)) {
		if (inner && *inner)
			line_error(ctx, t->col, "pubkey-syntax",
				   "the key data holds a %s key but the line says %s; fix the key type",
				   inner, kind->name);
		else
			line_error(ctx, t->col, "pubkey-syntax",
				   "key data is not an SSH public key; copy the whole line from the .pub file");
		free(inner);
		return -1;
	}
	free(inner);
	why = blob_check(kind, raw, bits);
	if (why) {
		line_error(ctx, t->col, "pubkey-syntax",
			   "key data is corrupt (%s); copy the whole line again", why);
		return -1;
	}
	return 0;
}

static int check_rsa_size(struct line_ctx *ctx, const struct key_kind *kind,
			  const struct token *t, unsigned bits)
{
	if (kind->type != SSH_KEYTYPE_RSA)
		return 0;
	if (bits < RSA_MIN_BITS) {
		line_error(ctx, t->col, "pubkey-weak",
			   "RSA key has only %u bits; use at least %u, or better ssh-ed25519", bits,
			   RSA_MIN_BITS);
		return -1;
	}
	if (bits > RSA_MAX_BITS) {
		line_error(ctx, t->col, "pubkey-weak", "RSA key has %u bits; the limit is %u", bits,
			   RSA_MAX_BITS);
		return -1;
	}
	return 0;
}

/* The ssh_key for a checked blob, via libssh, which must agree on the type. */
static int import_key(struct line_ctx *ctx, const struct key_kind *kind, const struct token *t,
		      const char *b64, ssh_key *out)
{
	ssh_key key = NULL;
	int rc = ssh_pki_import_pubkey_base64(b64, kind->type, &key);

	if (rc != SSH_OK || ssh_key_type(key) != kind->type) {
		ssh_key_free(key);
		line_error(ctx, t->col, "pubkey-syntax",
			   "key data is corrupt (libssh cannot read it); copy the whole line again");
		return -1;
	}
	*out = key;
	return 0;
}

static char *comment_of(const char *s, size_t len, size_t pos)
{
	while (pos < len && is_blank(s[pos]))
		pos++;
	while (len > pos && is_blank(s[len - 1]))
		len--;
	return xstrndup(s + pos, len - pos);
}

static void list_append(struct pubkey_list *list, struct pubkey *k)
{
	ALLOC_GROW(list->v, list->nr + 1, list->alloc);
	list->v[list->nr++] = k;
}

/* Build the key from its checked parts; takes ownership of key, b64 and comment. */
static void add_key(struct pubkey_list *list, struct line_ctx *ctx, const char *owner,
		    const struct key_kind *kind, ssh_key key, char *b64, unsigned bits,
		    char *comment)
{
	struct pubkey *k = xcalloc(1, sizeof(*k));

	k->key = key;
	k->type = kind->name;
	k->bits = bits;
	k->base64 = b64;
	k->comment = comment;
	if (pubkey_fingerprint(&k->fingerprint, key) < 0)
		die("libssh cannot hash a public key it has just read");
	k->owner = xstrdup(owner ? owner : "");
	k->file = xstrdup(ctx->file);
	k->line = ctx->line;
	list_append(list, k);
}

static int has_control(struct line_ctx *ctx, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			line_error(ctx, (unsigned)i + 1, "pubkey-syntax",
				   "control character in key line; remove it");
			return 1;
		}
	}
	return 0;
}

/* First checks on a whole line: length, control bytes, a pasted private key. */
static int line_precheck(struct line_ctx *ctx, const char *s, size_t len)
{
	if (len > PUBKEY_LINE_MAX) {
		line_error(ctx, 1, "pubkey-syntax", "line is longer than %d bytes; is this a key?",
			   PUBKEY_LINE_MAX);
		return -1;
	}
	if (has_control(ctx, s, len))
		return -1;
	if (len >= 10 && !memcmp(s, "-----BEGIN", 10)) {
		line_error(ctx, 1, "pubkey-private",
			   "this is a private key: never share it; give the .pub file instead");
		ctx->in_private = 1;
		return -1;
	}
	return 0;
}

static void parse_line(struct pubkey_list *list, struct line_ctx *ctx, const char *owner,
		       const char *s, size_t len)
{
	struct strbuf raw = STRBUF_INIT;
	const struct key_kind *kind;
	struct token type, data;
	ssh_key key = NULL;
	char *b64 = NULL;
	size_t pos = 0;
	unsigned bits;

	if (line_precheck(ctx, s, len) < 0 || !next_token(ctx, s, len, &pos, &type) ||
	    type.s[0] == '#')
		goto cleanup;
	kind = kind_find(&type);
	if (!kind) {
		refuse_type(ctx, &type, s, len, pos);
		goto cleanup;
	}
	if (!next_token(ctx, s, len, &pos, &data)) {
		line_error(ctx, type.col + (unsigned)type.len, "pubkey-syntax",
			   "key data missing after %s; copy the whole line from the .pub file",
			   kind->name);
		goto cleanup;
	}
	if (decode_blob(ctx, kind, &data, &raw, &bits) < 0 ||
	    check_rsa_size(ctx, kind, &data, bits) < 0)
		goto cleanup;
	b64 = b64_encode((const unsigned char *)raw.buf, raw.len);
	if (import_key(ctx, kind, &data, b64, &key) < 0)
		goto cleanup;
	add_key(list, ctx, owner, kind, key, b64, bits, comment_of(s, len, pos));
	key = NULL; /* transferred */
	b64 = NULL;
cleanup:
	ssh_key_free(key);
	free(b64);
	strbuf_release(&raw);
}

int pubkey_list_parse(struct pubkey_list *list, const char *owner, const char *file,
		      const char *buf, size_t len, struct diags *d)
{
	struct line_ctx ctx = { d, file, 0, NULL, 0, 0 };
	size_t pos = 0;

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		ctx.line++;
		ctx.start = s;
		if (n && s[n - 1] == '\r')
			n--;
		if (ctx.in_private)
			ctx.in_private = !(n >= 8 && !memcmp(s, "-----END", 8));
		else
			parse_line(list, &ctx, owner, s, n);
	}
	return ctx.errors ? -1 : 0;
}

/* 1 if the line s (len bytes) is a valid key with fingerprint fp. */
static int line_has_key(const char *s, size_t len, const char *fp)
{
	struct pubkey_list *one = pubkey_list_new();
	struct diags *ignored = diags_new();
	int found;

	pubkey_list_parse(one, NULL, "", s, len, ignored);
	found = pubkey_list_find_fingerprint(one, fp) != NULL;
	diags_free(ignored);
	pubkey_list_free(one);
	return found;
}

size_t pubkey_remove(struct strbuf *out, const char *buf, size_t len, const char *fp)
{
	size_t pos = 0, removed = 0;

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) + 1 : len - pos;

		pos += n;
		if (line_has_key(s, n, fp))
			removed++;
		else
			strbuf_add(out, s, n);
	}
	return removed;
}
