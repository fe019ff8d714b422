/*
 * password.h: password hashing and verification. New hashes are argon2id PHC
 * strings (libargon2); imported crypt(3) hashes (bcrypt $2a$/$2b$/$2y$,
 * yescrypt $y$, sha512crypt $6$) verify through libxcrypt. Slow on purpose:
 * call only from a thread pool or the command line, never an event loop.
 */
#ifndef GH_PASSWORD_H
#define GH_PASSWORD_H

#include "gh.h"

#define GH_PASSWORD_HASH_MAX 256   /* longest stored hash string, with its NUL */

typedef struct {
    uint32_t t_cost;       /* iterations */
    uint32_t m_cost_kib;   /* memory in KiB */
    uint32_t parallelism;  /* lanes */
} gh_argon2_params;

typedef enum {
    GH_PASSWORD_OK = 0,
    GH_PASSWORD_MISMATCH,
    GH_PASSWORD_BAD_HASH,    /* the stored string is not a hash we know */
    GH_PASSWORD_ERROR        /* out of memory or a library failure */
} gh_password_result;

/* Hash with argon2id and a fresh 16-byte salt into out (a PHC string). */
gh_password_result gh_password_hash(const gh_argon2_params *params,
                                    const char *password, size_t len,
                                    char out[GH_PASSWORD_HASH_MAX]);

/* Verify password against a stored hash of any supported kind, in constant time. */
gh_password_result gh_password_verify(const char *hash,
                                      const char *password, size_t len);

/* True when hash is not argon2id with exactly these parameters. */
bool gh_password_needs_rehash(const char *hash, const gh_argon2_params *params);

/* True when hash is a well-formed string of a supported kind (for --password-hash). */
bool gh_password_hash_importable(const char *hash);

#endif
