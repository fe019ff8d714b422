/*
 * test_token.c: tokens and session ids are fresh lowercase hex, digests are
 * SHA-256, the credential key is HMAC-SHA256 over user, NUL, password, and
 * equality holds only for equal bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../src/core/token.h"

static bool all_lower_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void test_generate(void **state)
{
    char a[GH_TOKEN_TEXT_LEN + 1], b[GH_TOKEN_TEXT_LEN + 1];

    (void)state;
    assert_int_equal(gh_token_generate(a), 0);
    assert_int_equal(gh_token_generate(b), 0);
    assert_true(all_lower_hex(a, GH_TOKEN_TEXT_LEN));
    assert_true(all_lower_hex(b, GH_TOKEN_TEXT_LEN));
    assert_string_not_equal(a, b);
}

static void test_session_id(void **state)
{
    char a[GH_SESSION_ID_LEN + 1], b[GH_SESSION_ID_LEN + 1];

    (void)state;
    assert_int_equal(gh_token_session_id(a), 0);
    assert_int_equal(gh_token_session_id(b), 0);
    assert_true(all_lower_hex(a, GH_SESSION_ID_LEN));
    assert_true(all_lower_hex(b, GH_SESSION_ID_LEN));
    assert_string_not_equal(a, b);
}

static void test_random(void **state)
{
    uint8_t zero[64] = { 0 }, buf[64] = { 0 };

    (void)state;
    assert_int_equal(gh_token_random(buf, 0), 0);
    assert_memory_equal(buf, zero, sizeof(buf));
    assert_int_equal(gh_token_random(buf, sizeof(buf)), 0);
    /* 64 zero bytes from a working RNG: odds of 2^-512. */
    assert_memory_not_equal(buf, zero, sizeof(buf));
}

static void test_digest_vectors(void **state)
{
    uint8_t d[GH_DIGEST_LEN];
    char hex[2 * GH_DIGEST_LEN + 1];

    (void)state;
    /* FIPS 180-2 appendix B.1 and the digest of nothing. */
    gh_token_digest("abc", 3, d);
    to_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    gh_token_digest("", 0, d);
    to_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* Only len bytes count, as presented. */
    gh_token_digest("abcdef", 3, d);
    to_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_digest_of_token(void **state)
{
    char tok[GH_TOKEN_TEXT_LEN + 1];
    uint8_t d1[GH_DIGEST_LEN], d2[GH_DIGEST_LEN];

    (void)state;
    assert_int_equal(gh_token_generate(tok), 0);
    gh_token_digest(tok, strlen(tok), d1);
    gh_token_digest(tok, strlen(tok), d2);
    assert_true(gh_token_equal(d1, d2, sizeof(d1)));
    tok[0] = tok[0] == 'a' ? 'b' : 'a';
    gh_token_digest(tok, strlen(tok), d2);
    assert_false(gh_token_equal(d1, d2, sizeof(d1)));
}

static void test_equal(void **state)
{
    (void)state;
    assert_true(gh_token_equal("abcd", "abcd", 4));
    assert_false(gh_token_equal("abcd", "abce", 4));
    assert_false(gh_token_equal("xbcd", "abcd", 4));
    assert_true(gh_token_equal("ab", "ac", 1));
    assert_true(gh_token_equal("a", "b", 0));
}

/* The reference: one-shot HMAC over the concatenation, built independently. */
static void reference_key(const uint8_t key[GH_DIGEST_LEN], const char *user, size_t ulen,
                          const char *pw, size_t plen, uint8_t out[GH_DIGEST_LEN])
{
    unsigned char msg[512];
    unsigned int outlen = 0;

    assert_true(ulen + 1 + plen <= sizeof(msg));
    memcpy(msg, user, ulen);
    msg[ulen] = 0;
    memcpy(msg + ulen + 1, pw, plen);
    assert_non_null(HMAC(EVP_sha256(), key, GH_DIGEST_LEN, msg, ulen + 1 + plen, out, &outlen));
    assert_int_equal(outlen, GH_DIGEST_LEN);
}

static void test_credential_key(void **state)
{
    uint8_t key[GH_DIGEST_LEN], key2[GH_DIGEST_LEN];
    uint8_t a[GH_DIGEST_LEN], b[GH_DIGEST_LEN], ref[GH_DIGEST_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = (uint8_t)i;
        key2[i] = (uint8_t)(i + 1);
    }
    gh_token_credential_key(key, "alice", 5, "s3cret!", 7, a);
    reference_key(key, "alice", 5, "s3cret!", 7, ref);
    assert_memory_equal(a, ref, GH_DIGEST_LEN);

    /* Deterministic for the same input, different for any change. */
    gh_token_credential_key(key, "alice", 5, "s3cret!", 7, b);
    assert_memory_equal(a, b, GH_DIGEST_LEN);
    gh_token_credential_key(key, "alice", 5, "s3cret?", 7, b);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);
    gh_token_credential_key(key2, "alice", 5, "s3cret!", 7, b);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);

    /* The separator keeps "ab"+"c" apart from "a"+"bc". */
    gh_token_credential_key(key, "ab", 2, "c", 1, a);
    gh_token_credential_key(key, "a", 1, "bc", 2, b);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);

    /* Empty password is still a key, and matches the reference. */
    gh_token_credential_key(key, "bob", 3, "", 0, a);
    reference_key(key, "bob", 3, "", 0, ref);
    assert_memory_equal(a, ref, GH_DIGEST_LEN);
}

static void test_credential_key_nul_in_user(void **state)
{
    uint8_t key[GH_DIGEST_LEN] = { 1 };
    uint8_t a[GH_DIGEST_LEN], b[GH_DIGEST_LEN], ref[GH_DIGEST_LEN];

    (void)state;
    /* A NUL in the user would make "a\0b"+"c" collide with "a"+"b\0c":
     * such a key must match nothing, not even itself computed again. */
    gh_token_credential_key(key, "a\0b", 3, "c", 1, a);
    gh_token_credential_key(key, "a\0b", 3, "c", 1, b);
    reference_key(key, "a", 1, "b\0c", 3, ref);
    assert_memory_not_equal(a, ref, GH_DIGEST_LEN);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);
}

static void test_null_inputs(void **state)
{
    uint8_t key[GH_DIGEST_LEN] = { 2 };
    uint8_t a[GH_DIGEST_LEN], b[GH_DIGEST_LEN], empty[GH_DIGEST_LEN];

    (void)state;
    /* NULL with no length is the empty string... */
    gh_token_digest(NULL, 0, a);
    gh_token_digest("", 0, empty);
    assert_memory_equal(a, empty, GH_DIGEST_LEN);
    /* ...but NULL claiming a length is a caller's bug: match nothing. */
    gh_token_digest(NULL, 5, a);
    gh_token_digest(NULL, 5, b);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);
    assert_memory_not_equal(a, empty, GH_DIGEST_LEN);
    gh_token_credential_key(key, NULL, 3, "pw", 2, a);
    gh_token_credential_key(key, NULL, 3, "pw", 2, b);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);
    gh_token_credential_key(key, "u", 1, NULL, 4, a);
    gh_token_credential_key(key, "u", 1, NULL, 4, b);
    assert_memory_not_equal(a, b, GH_DIGEST_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_session_id),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_digest_vectors),
        cmocka_unit_test(test_digest_of_token),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_credential_key),
        cmocka_unit_test(test_credential_key_nul_in_user),
        cmocka_unit_test(test_null_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
