/*
 * token.h: random tokens and what is kept of them. A token is 32 bytes from
 * RAND_bytes shown to the client once as 64 hex characters; only its SHA-256
 * is kept. Session ids (the public name in a URL) are 16 random bytes in hex.
 */
#ifndef GH_TOKEN_H
#define GH_TOKEN_H

#include "gh.h"

#define GH_TOKEN_BYTES       32
#define GH_TOKEN_TEXT_LEN    64   /* hex characters */
#define GH_TOKEN_TEXT_MAX    512  /* longest token text we look at */
#define GH_SESSION_ID_LEN    32   /* hex characters */

/* Fill text with a new token (64 hex + NUL). 0 on success, -1 if the RNG failed. */
int gh_token_generate(char text[GH_TOKEN_TEXT_LEN + 1]);

/* Fill id with a new public session id (32 hex + NUL). 0 on success, -1 on RNG failure. */
int gh_token_session_id(char id[GH_SESSION_ID_LEN + 1]);

/* SHA-256 of the token text as presented: the only form a token is kept in. */
void gh_token_digest(const char *text, size_t len, uint8_t digest[GH_DIGEST_LEN]);

/* Constant-time equality of two byte strings of the same length. */
bool gh_token_equal(const void *a, const void *b, size_t len);

/* bytes as 2 * n lowercase hex digits and a NUL, into text. */
void gh_token_hex(const uint8_t *bytes, size_t n, char *text);

/* One piece of a MAC's input. */
typedef struct {
    const void *data;
    size_t      len;
} gh_bytes;

/* HMAC-SHA256(key, parts[0] || parts[1] || ...): true. On any failure out is
 * a value unique to this call, so it matches nothing: false. */
bool gh_token_mac(const uint8_t key[GH_DIGEST_LEN], const gh_bytes *parts, size_t nparts,
                  uint8_t out[GH_DIGEST_LEN]);

/* HMAC-SHA256(key, user || 0x00 || password): the credential cache key. */
void gh_token_credential_key(const uint8_t key[GH_DIGEST_LEN],
                             const char *user, size_t user_len,
                             const char *password, size_t password_len,
                             uint8_t out[GH_DIGEST_LEN]);

/* Fill buf with n random bytes. 0 on success, -1 on RNG failure. */
int gh_token_random(void *buf, size_t n);

#endif
