/*
 * directory_seal.c: a directory service password sealed for the shared
 * store (directory_seal.h). Each node holds the same server secret (the
 * store's secret file), so each can open what another sealed; Redis holds
 * only the seal. The key is derived for this one use (HKDF-SHA256 with its
 * own info, the label's "1" its version), so the secret itself never keys
 * AES. The profile's name is the associated data: a seal moved to another
 * profile does not open.
 */
#include "directory_seal.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define GH_SEAL_INFO  "gatehouse directory password 1"
#define GH_SEAL_NONCE 12
#define GH_SEAL_TAG   16
#define GH_SEAL_RAW   (GH_SEAL_NONCE + GH_PASSWORD_MAX + GH_SEAL_TAG)

_Static_assert(4 * ((GH_SEAL_RAW + 2) / 3) < GH_DIRECTORY_SEALED_MAX,
               "GH_DIRECTORY_SEALED_MAX holds the largest seal's base64");

/* The AES key of the seals: HKDF-SHA256(secret, info). */
static bool seal_key(const uint8_t secret[GH_DIGEST_LEN], uint8_t key[32])
{
    EVP_KDF     *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM   params[4];
    bool         ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
                                                  GH_DIGEST_LEN);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, GH_SEAL_INFO,
                                                  sizeof(GH_SEAL_INFO) - 1);
    params[3] = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_KDF_derive(ctx, key, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok;
}

/* AES-256-GCM one way or the other over in (len bytes) into out; the tag
 * is made (enc) or checked (!enc) in tag. */
static bool seal_gcm(bool enc, const uint8_t key[32], const uint8_t *nonce, const char *name,
                     const uint8_t *in, int len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    bool ok;

    ok = ctx != NULL &&
         EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GH_SEAL_NONCE, NULL) == 1 &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)name, (int)strlen(name)) == 1 &&
         EVP_CipherUpdate(ctx, out, &n, in, len) == 1 &&
         (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GH_SEAL_TAG, tag) == 1) &&
         EVP_CipherFinal_ex(ctx, out + n, &fin) == 1 &&
         (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GH_SEAL_TAG, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

bool gh_directory_seal(const uint8_t secret[GH_DIGEST_LEN], const char *name, const char *pw,
                       size_t len, char out[GH_DIRECTORY_SEALED_MAX])
{
    uint8_t key[32], raw[GH_SEAL_RAW];
    bool    ok = false;

    out[0] = '\0';
    if (len == 0 || len > GH_PASSWORD_MAX || !seal_key(secret, key))
        goto done;
    if (RAND_bytes(raw, GH_SEAL_NONCE) != 1 ||
        !seal_gcm(true, key, raw, name, (const uint8_t *)pw, (int)len, raw + GH_SEAL_NONCE,
                  raw + GH_SEAL_NONCE + len))
        goto done;
    EVP_EncodeBlock((unsigned char *)out, raw, (int)(GH_SEAL_NONCE + len + GH_SEAL_TAG));
    ok = true;
done:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(raw, sizeof(raw));
    return ok;
}

/* sealed's bytes into raw (GH_SEAL_RAW bytes); their count, or -1. */
static int seal_decode(const char *sealed, uint8_t raw[GH_SEAL_RAW])
{
    uint8_t buf[3 * (GH_DIRECTORY_SEALED_MAX / 4)];
    size_t  n = strlen(sealed);
    int     got, pad = 0;

    if (n == 0 || n % 4 != 0 || n >= GH_DIRECTORY_SEALED_MAX)
        return -1;
    got = EVP_DecodeBlock(buf, (const unsigned char *)sealed, (int)n);
    pad = (sealed[n - 1] == '=') + (sealed[n - 2] == '=');
    if (got < 0 || got - pad < GH_SEAL_NONCE + 1 + GH_SEAL_TAG || got - pad > GH_SEAL_RAW)
        return -1;
    memcpy(raw, buf, (size_t)(got - pad));
    return got - pad;
}

bool gh_directory_unseal(const uint8_t secret[GH_DIGEST_LEN], const char *name,
                         const char *sealed, char pw[GH_PASSWORD_MAX + 1], size_t *len)
{
    uint8_t key[32], raw[GH_SEAL_RAW];
    int     n = seal_decode(sealed, raw);
    bool    ok = false;

    *len = 0;
    if (n < 0 || !seal_key(secret, key))
        goto done;
    n -= GH_SEAL_NONCE + GH_SEAL_TAG;
    if (!seal_gcm(false, key, raw, name, raw + GH_SEAL_NONCE, n, (uint8_t *)pw,
                  raw + GH_SEAL_NONCE + n))
        goto done;
    pw[n] = '\0';
    *len = (size_t)n;
    ok = true;
done:
    if (!ok)
        OPENSSL_cleanse(pw, GH_PASSWORD_MAX + 1);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(raw, sizeof(raw));
    return ok;
}
