/*
 * token.c: random tokens, session ids and the digests kept of them.
 *
 * Tokens and session ids are RAND_bytes output written as lowercase hex. A
 * token is never stored: only its SHA-256 is, so a copy of the store cannot be
 * replayed. The credential cache is keyed by HMAC-SHA256 under the server
 * secret (made once by the store, the same in every process), so the cache
 * holds nothing that could be brute-forced offline.
 *
 * Digest and HMAC return nothing to their callers (the API is void), so a
 * failure inside OpenSSL must not leave a predictable value behind: two
 * failed digests that compared equal would let one token stand for another.
 * On failure the output is filled with a value that is unique to this call
 * and therefore matches no stored digest and no cached key.
 */
#include "token.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
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

void gh_token_hex(const uint8_t *bytes, size_t n, char *text)
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

/*
 * A digest is taken on every token request and a MAC on every Basic request,
 * so neither may cost more than the hashing itself: SHA-256 and HMAC are
 * fetched from the provider once per process, and each thread keeps one
 * digest context and one keyed MAC context that it initialises again for
 * each use (a MAC context keeps its key: initialising it again without one
 * starts from the keyed state).
 *
 * A thread's contexts live until the process exits, on a list that keeps
 * them reachable. Not freed by a thread-exit destructor on purpose: nginx
 * unloads the module while its pool threads are still exiting, and a
 * destructor in unloaded code would crash the exit.
 */
typedef struct gh_token_thread {
    EVP_MD_CTX             *md;
    EVP_MAC_CTX            *mac;
    bool                    mac_keyed;      /* mac holds mac_key's keyed state */
    uint8_t                 mac_key[GH_DIGEST_LEN];
    struct gh_token_thread *next;           /* every thread's, for reachability */
} gh_token_thread;

static CRYPTO_ONCE gh_token_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *gh_token_sha256;
static EVP_MAC *gh_token_hmac;
static pthread_mutex_t gh_token_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static gh_token_thread *gh_token_threads;
static _Thread_local gh_token_thread *gh_token_mine;

static void gh_token_init(void)
{
    gh_token_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    gh_token_hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

/* This thread's contexts, made on first use; NULL when OpenSSL fails. */
static gh_token_thread *gh_token_thread_get(void)
{
    gh_token_thread *t = gh_token_mine;

    if (t != NULL)
        return t;
    if (!CRYPTO_THREAD_run_once(&gh_token_once, gh_token_init) || gh_token_sha256 == NULL
        || gh_token_hmac == NULL)
        return NULL;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->md = EVP_MD_CTX_new();
    t->mac = EVP_MAC_CTX_new(gh_token_hmac);
    if (t->md == NULL || t->mac == NULL) {
        EVP_MD_CTX_free(t->md);
        EVP_MAC_CTX_free(t->mac);
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&gh_token_threads_lock);
    t->next = gh_token_threads;
    gh_token_threads = t;
    pthread_mutex_unlock(&gh_token_threads_lock);
    gh_token_mine = t;
    return t;
}

void gh_token_digest(const char *text, size_t len, uint8_t digest[GH_DIGEST_LEN])
{
    gh_token_thread *t = gh_token_thread_get();
    unsigned int outlen = 0;

    if (t == NULL || (text == NULL && len > 0)) {
        gh_token_unmatchable(digest);
        return;
    }
    if (EVP_DigestInit_ex2(t->md, gh_token_sha256, NULL) != 1
        || (len > 0 && EVP_DigestUpdate(t->md, text, len) != 1)
        || EVP_DigestFinal_ex(t->md, digest, &outlen) != 1
        || outlen != GH_DIGEST_LEN)
        gh_token_unmatchable(digest);
}

bool gh_token_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

/* The thread's MAC context, started afresh under key. */
static bool gh_token_mac_start(gh_token_thread *t, const uint8_t key[GH_DIGEST_LEN])
{
    char digest_name[] = "SHA256";
    OSSL_PARAM params[2];

    if (t->mac_keyed && CRYPTO_memcmp(t->mac_key, key, GH_DIGEST_LEN) == 0)
        return EVP_MAC_init(t->mac, NULL, 0, NULL) == 1;
    /* The first use, or another key than last time: key the context. */
    t->mac_keyed = false;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(t->mac, key, GH_DIGEST_LEN, params) != 1)
        return false;
    memcpy(t->mac_key, key, GH_DIGEST_LEN);
    t->mac_keyed = true;
    return true;
}

bool gh_token_mac(const uint8_t key[GH_DIGEST_LEN], const gh_bytes *parts, size_t nparts,
                  uint8_t out[GH_DIGEST_LEN])
{
    gh_token_thread *t = gh_token_thread_get();
    size_t outlen = 0;

    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].data == NULL && parts[i].len > 0)
            t = NULL;
    }
    if (t == NULL || !gh_token_mac_start(t, key))
        goto fail;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].len > 0 && EVP_MAC_update(t->mac, parts[i].data, parts[i].len) != 1)
            goto fail;
    }
    if (EVP_MAC_final(t->mac, out, &outlen, GH_DIGEST_LEN) == 1 && outlen == GH_DIGEST_LEN)
        return true;
fail:
    if (t != NULL)
        t->mac_keyed = false;   /* a context in an unknown state is keyed again */
    gh_token_unmatchable(out);
    return false;
}

void gh_token_credential_key(const uint8_t key[GH_DIGEST_LEN],
                             const char *user, size_t user_len,
                             const char *password, size_t password_len,
                             uint8_t out[GH_DIGEST_LEN])
{
    static const unsigned char sep = 0x00;
    const gh_bytes parts[] = { { user, user_len }, { &sep, 1 }, { password, password_len } };

    /* The 0x00 separator is only unambiguous if the user holds no NUL. */
    if (user != NULL && memchr(user, '\0', user_len) != NULL) {
        gh_token_unmatchable(out);
        return;
    }
    gh_token_mac(key, parts, sizeof(parts) / sizeof(parts[0]), out);
}
