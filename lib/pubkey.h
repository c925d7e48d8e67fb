/*
 * pubkey: OpenSSH public key lines (authorized_keys format), as kept in the
 * admin repo's users/NAME.pub files and sent on stdin by `user add` and
 * `key add`.
 *
 * One key per line: "TYPE BASE64 [COMMENT]". Blank lines and lines starting
 * with '#' are skipped; a trailing CR is ignored. Accepted types:
 * ssh-ed25519, ssh-rsa (2048 to 16384 bits), ecdsa-sha2-nistp256/384/521.
 * Refused with a message saying what to do instead: DSA, security keys
 * (sk-*), certificates, unknown types, and any options prefix
 * (command=, from=, no-pty, ...): gitd decides what a key may do, not the
 * key line. The type name must match the type inside the key data.
 *
 * Fingerprints are in the format `ssh-keygen -l` prints: "SHA256:" and the
 * unpadded base64 of the SHA-256 of the key blob.
 */
#ifndef GITD_PUBKEY_H
#define GITD_PUBKEY_H

#include <stddef.h>

#include <libssh/libssh.h>

#include "diag.h"
#include "strbuf.h"

/* Longest key line accepted (a 16384-bit RSA key is about 2.8 KB). */
#define PUBKEY_LINE_MAX 16384

/* One parsed key. Owned by its pubkey_list; every field is read-only. */
struct pubkey {
	ssh_key key;
	const char *type;  /* "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", ... */
	unsigned bits;     /* RSA modulus size; 256/384/521 for ECDSA; 256 for Ed25519 */
	char *base64;      /* the key blob, canonical padded base64 */
	char *comment;     /* text after the key data, trimmed; "" when none */
	char *fingerprint; /* "SHA256:..." */
	char *owner;       /* the owner given to pubkey_list_parse(); "" when none */
	char *file;        /* where the line was read, for messages */
	unsigned line;
};

struct pubkey_list;

struct pubkey_list *pubkey_list_new(void);
void pubkey_list_free(struct pubkey_list *list);

/*
 * Parse buf (len bytes, need not be NUL-terminated) as key lines of the file
 * named file (used in messages) and append every valid key to list, each
 * tagged with owner (may be NULL). Every problem becomes an error in d
 * with file:line:col. Returns 0 when every non-blank line was a valid key,
 * -1 otherwise (valid keys are appended all the same).
 */
int pubkey_list_parse(struct pubkey_list *list, const char *owner, const char *file,
		      const char *buf, size_t len, struct diags *d);

size_t pubkey_list_count(const struct pubkey_list *list);
/* Key i in the order parsed, or NULL when out of range. */
const struct pubkey *pubkey_list_get(const struct pubkey_list *list, size_t i);
/* The first key equal to key (public parts, ssh_key_cmp), or NULL. */
const struct pubkey *pubkey_list_find_key(const struct pubkey_list *list, const ssh_key key);
/* The first key with fingerprint fp ("SHA256:..." or just the base64 part), or NULL. */
const struct pubkey *pubkey_list_find_fingerprint(const struct pubkey_list *list,
						  const char *fp);

/* Set *out to key's fingerprint, "SHA256:..." (caller frees); 0, or -1 if libssh fails. */
int pubkey_fingerprint(char **out, const ssh_key key);

/* Append k as one canonical line, "TYPE BASE64[ COMMENT]\n". */
void pubkey_format(struct strbuf *out, const struct pubkey *k);

/*
 * Append the lines of buf (len bytes) to out, except each valid key line
 * whose fingerprint is fp ("SHA256:..." or just the base64 part), for
 * `key remove`: comments and other lines are kept as they are. Returns the
 * number of lines left out.
 */
size_t pubkey_remove(struct strbuf *out, const char *buf, size_t len, const char *fp);

#endif
