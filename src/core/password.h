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

/* The argon2id parameters we hash with or agree to verify. The upper bounds
 * keep a planted or mistyped hash from tying up a thread for minutes or
 * allocating gigabytes; the config accepts the same ranges. m >= 8 * p. */
#define GH_ARGON2_T_MIN       1
#define GH_ARGON2_T_MAX       32
#define GH_ARGON2_M_MIN_KIB   8
#define GH_ARGON2_M_MAX_KIB   1048576   /* 1 GiB */
#define GH_ARGON2_P_MIN       1
#define GH_ARGON2_P_MAX       16
#define GH_ARGON2_SALT_LEN    16        /* bytes of salt in hashes we make */
#define GH_ARGON2_HASH_LEN    32        /* bytes of output in hashes we make */

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
