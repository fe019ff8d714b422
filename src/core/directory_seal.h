/*
 * directory_seal.h: a directory profile's service password sealed for the
 * shared store (docs/scale-out.md): AES-256-GCM under a key derived from
 * the server secret (HKDF-SHA256, info "gatehouse directory password 1"),
 * a random 96-bit nonce per seal, the profile's name as associated data.
 * The sealed text is base64 of nonce, ciphertext and tag.
 */
#ifndef GH_DIRECTORY_SEAL_H
#define GH_DIRECTORY_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gh.h"

/* Seal pw (len bytes, 1 to GH_PASSWORD_MAX) for profile name into out
 * (GH_DIRECTORY_SEALED_MAX bytes, NUL-terminated base64). */
bool gh_directory_seal(const uint8_t secret[GH_DIGEST_LEN], const char *name, const char *pw,
                       size_t len, char out[GH_DIRECTORY_SEALED_MAX]);

/* Open sealed for profile name into pw (GH_PASSWORD_MAX + 1 bytes, NUL
 * added), *len its bytes. false for text that is not a seal of this name
 * under this secret (tampered, another secret or another profile): pw is
 * then wiped. */
bool gh_directory_unseal(const uint8_t secret[GH_DIGEST_LEN], const char *name,
                         const char *sealed, char pw[GH_PASSWORD_MAX + 1], size_t *len);

#endif
