/*
 * SHA-256 (FIPS 180-4), for kustomize's generated-name hash. Not for
 * anything secret: it is neither constant-time nor hardened.
 */
#ifndef GITD_OVERLAY_SHA256_H
#define GITD_OVERLAY_SHA256_H

#include <stddef.h>

/* The SHA-256 digest of the len bytes at data. */
void ov_sha256(unsigned char out[static 32], const void *data, size_t len);

#endif
