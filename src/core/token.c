/*
 * token.c: random tokens, session ids and the digests kept of them.
 *
 * Tokens and session ids are RAND_bytes output written as lowercase hex. A
 * token is never stored: only its SHA-256 is, so a copy of the store cannot be
 * replayed. The credential cache is keyed by HMAC-SHA256 under a per-process
 * secret, so the cache holds nothing that could be brute-forced offline.
 *
 * Digest and HMAC return nothing to their callers (the API is void), so a
 * failure inside OpenSSL must not leave a predictable value behind: two
 * failed digests that compared equal would let one token stand for another.
 * On failure the output is filled with a value that is unique to this call
 * and therefore matches no stored digest and no cached key.
 */
#include "token.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static const char gh_token_hexdigits[] = "0123456789abcdef";

static void gh_token_hex(const uint8_t *bytes, size_t n, char *text)
{
    for (size_t i = 0; i < n; i++) {
        text[2 * i] = gh_token_hexdigits[bytes[i] >> 4];
        text[2 * i + 1] = gh_token_hexdigits[bytes[i] & 0x0f];
    }
    text[2 * n] = '\0';
}

/*
 * Fill out with something no other call (in this or another process) will
 * produce: fresh random bytes if the RNG works, else a counter, the pid and
 * the clock. It need not be secret, only unmatchable.
 */
static void gh_token_unmatchable(uint8_t out[GH_DIGEST_LEN])
{
    static atomic_uint_fast64_t counter;
    uint64_t words[4];
    struct timespec ts;

    if (RAND_bytes(out, GH_DIGEST_LEN) == 1)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    words[0] = (uint64_t)atomic_fetch_add(&counter, 1) ^ 0xa5a5a5a5a5a5a5a5u;
    words[1] = (uint64_t)getpid();
    words[2] = (uint64_t)ts.tv_sec;
    words[3] = (uint64_t)ts.tv_nsec;
    memcpy(out, words, GH_DIGEST_LEN);
}

int gh_token_random(void *buf, size_t n)
{
    unsigned char *p = buf;

    /* RAND_bytes takes an int; larger requests are served in pieces. */
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;

        if (RAND_bytes(p, chunk) != 1)
            return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

int gh_token_generate(char text[GH_TOKEN_TEXT_LEN + 1])
{
    uint8_t raw[GH_TOKEN_BYTES];
    int rc = -1;

    text[0] = '\0';
    if (gh_token_random(raw, sizeof(raw)) != 0)
        goto done;
    gh_token_hex(raw, sizeof(raw), text);
    rc = 0;
done:
    gh_wipe(raw, sizeof(raw));
    return rc;
}

int gh_token_session_id(char id[GH_SESSION_ID_LEN + 1])
{
    uint8_t raw[GH_SESSION_ID_LEN / 2];

    id[0] = '\0';
    if (gh_token_random(raw, sizeof(raw)) != 0)
        return -1;
    gh_token_hex(raw, sizeof(raw), id);
    return 0;
}

void gh_token_digest(const char *text, size_t len, uint8_t digest[GH_DIGEST_LEN])
{
    unsigned int outlen = 0;

    if (text == NULL && len > 0) {
        gh_token_unmatchable(digest);
        return;
    }
    if (text == NULL)
        text = "";
    if (EVP_Digest(text, len, digest, &outlen, EVP_sha256(), NULL) != 1
        || outlen != GH_DIGEST_LEN)
        gh_token_unmatchable(digest);
}

bool gh_token_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/*
 * The HMAC implementation is fetched once per process: the credential key is
 * computed on every Basic request, and fetching by name each time would walk
 * the provider tables for nothing. The fetched object lives until exit.
 */
static CRYPTO_ONCE gh_token_mac_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MAC *gh_token_mac;

static void gh_token_mac_fetch(void)
{
    gh_token_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

void gh_token_credential_key(const uint8_t key[GH_DIGEST_LEN],
                             const char *user, size_t user_len,
                             const char *password, size_t password_len,
                             uint8_t out[GH_DIGEST_LEN])
{
    static const unsigned char sep = 0x00;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[2];
    EVP_MAC_CTX *ctx = NULL;
    size_t outlen = 0;
    bool ok = false;

    if ((user == NULL && user_len > 0) || (password == NULL && password_len > 0))
        goto done;
    if (user == NULL)
        user = "";
    if (password == NULL)
        password = "";
    /* The 0x00 separator is only unambiguous if the user holds no NUL. */
    if (memchr(user, '\0', user_len) != NULL)
        goto done;
    if (!CRYPTO_THREAD_run_once(&gh_token_mac_once, gh_token_mac_fetch)
        || gh_token_mac == NULL)
        goto done;
    ctx = EVP_MAC_CTX_new(gh_token_mac);
    if (ctx == NULL)
        goto done;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, GH_DIGEST_LEN, params) != 1
        || EVP_MAC_update(ctx, (const unsigned char *)user, user_len) != 1
        || EVP_MAC_update(ctx, &sep, 1) != 1
        || EVP_MAC_update(ctx, (const unsigned char *)password, password_len) != 1
        || EVP_MAC_final(ctx, out, &outlen, GH_DIGEST_LEN) != 1
        || outlen != GH_DIGEST_LEN)
        goto done;
    ok = true;
done:
    /* EVP_MAC_CTX_free cleanses the keyed state before freeing it. */
    EVP_MAC_CTX_free(ctx);
    if (!ok)
        gh_token_unmatchable(out);
}
