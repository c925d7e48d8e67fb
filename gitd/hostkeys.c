#include "hostkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "strbuf.h"
#include "util.h"
#include "banned.h"

struct hostkey_kind {
	const char *file;
	enum ssh_keytypes_e type;
	int bits;
};

static const struct hostkey_kind kinds[] = {
	{ "ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0 },
	{ "ssh_host_ecdsa_key", SSH_KEYTYPE_ECDSA_P256, 256 },
	{ "ssh_host_rsa_key", SSH_KEYTYPE_RSA, 3072 },
};

static char *key_path(const char *data_dir, const char *file)
{
	return xstrfmt("%s/host_keys/%s", data_dir, file);
}

/* PATH.pub in OpenSSH's one-line format, for known_hosts files and for admins to publish. */
static int write_pubkey(const char *path, const ssh_key key, struct strbuf *err)
{
	char *b64 = NULL, *pub = xstrfmt("%s.pub", path);
	FILE *f = NULL;
	int rc = -1;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || !(f = fopen(pub, "w"))) {
		strbuf_addf(err, "cannot write %s", pub);
		goto cleanup;
	}
	fprintf(f, "%s %s\n", ssh_key_type_to_char(ssh_key_type(key)), b64);
	if (fclose(f) != 0) {
		strbuf_addf(err, "cannot write %s", pub);
		f = NULL;
		goto cleanup;
	}
	f = NULL;
	rc = 0;
cleanup:
	if (f)
		fclose(f);
	ssh_string_free_char(b64);
	free(pub);
	return rc;
}

/* Write a new key to a temporary name and rename it, so a crash never leaves half a key. */
static int generate_one(const char *path, const struct hostkey_kind *k, struct strbuf *err)
{
	ssh_key key = NULL;
	char *tmp = xstrfmt("%s.tmp", path);
	mode_t old_umask = umask(077);
	int rc = -1;

	unlink(tmp);
	if (ssh_pki_generate(k->type, k->bits, &key) != SSH_OK) {
		strbuf_addf(err, "cannot generate %s", k->file);
		goto cleanup;
	}
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, tmp) != SSH_OK) {
		strbuf_addf(err, "cannot write %s", tmp);
		goto cleanup;
	}
	if (write_pubkey(path, key, err) < 0)
		goto cleanup;
	if (rename(tmp, path) < 0) {
		strbuf_addf(err, "cannot rename %s: %s", tmp, strerror(errno));
		goto cleanup;
	}
	rc = 0;
cleanup:
	umask(old_umask);
	if (rc < 0)
		unlink(tmp);
	ssh_key_free(key);
	free(tmp);
	return rc;
}

int hostkeys_generate(const char *data_dir, struct strbuf *err)
{
	char *dir = xstrfmt("%s/host_keys", data_dir);
	int rc = -1;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create %s: %s", dir, strerror(errno));
		goto cleanup;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *path = key_path(data_dir, kinds[i].file);
		int missing = access(path, F_OK) < 0;
		int failed = missing && generate_one(path, &kinds[i], err) < 0;

		free(path);
		if (failed)
			goto cleanup;
	}
	rc = 0;
cleanup:
	free(dir);
	return rc;
}

int hostkeys_load(ssh_bind bind, const char *data_dir, struct strbuf *err)
{
	int loaded = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *path = key_path(data_dir, kinds[i].file);
		ssh_key key = NULL;

		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) == SSH_OK &&
		    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) == SSH_OK) {
			loaded++;
			key = NULL; /* owned by bind now */
		}
		ssh_key_free(key);
		free(path);
	}
	if (!loaded) {
		strbuf_addf(err, "no host key in %s/host_keys; run `gitd init` first", data_dir);
		return -1;
	}
	return 0;
}

int hostkeys_describe(struct strbuf *out, const char *data_dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *path = key_path(data_dir, kinds[i].file);
		ssh_key key = NULL;
		unsigned char *hash = NULL;
		size_t hlen = 0;
		char *fp = NULL;

		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) == SSH_OK &&
		    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0 &&
		    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)))
			strbuf_addf(out, "%s %s\n", ssh_key_type_to_char(ssh_key_type(key)), fp);
		ssh_string_free_char(fp);
		ssh_clean_pubkey_hash(&hash);
		ssh_key_free(key);
		free(path);
	}
	return 0;
}
