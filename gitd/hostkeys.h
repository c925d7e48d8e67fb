/*
 * hostkeys: the server's SSH host keys, kept in the data directory so the
 * host's fingerprints never change across restarts.
 *
 *   DATA/host_keys/ssh_host_ed25519_key   (OpenSSH private key format, 0600)
 *   DATA/host_keys/ssh_host_ecdsa_key
 *   DATA/host_keys/ssh_host_rsa_key
 */
#ifndef GITD_HOSTKEYS_H
#define GITD_HOSTKEYS_H

#include <libssh/server.h>

struct strbuf;

/* Create whichever host keys are missing; 0 on success, -1 with a message in err. */
int hostkeys_generate(const char *data_dir, struct strbuf *err);
/* Load every host key into bind; -1 with a message in err if none could be loaded. */
int hostkeys_load(ssh_bind bind, const char *data_dir, struct strbuf *err);
/* Append "TYPE SHA256:fingerprint" lines for each host key, for `gitd init` to print. */
int hostkeys_describe(struct strbuf *out, const char *data_dir);

#endif
