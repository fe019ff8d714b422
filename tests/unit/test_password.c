/*
 * test_password.c: argon2id round trips and rehash detection; imported
 * bcrypt, sha512crypt and yescrypt hashes, both made here with libxcrypt and
 * taken from published vectors; malformed and overpriced hashes refused
 * before any hashing; strict import checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <crypt.h>

#include "../../src/core/password.h"

/* Cheap parameters so the suite runs in well under a second. */
static const gh_argon2_params fast = { .t_cost = 1, .m_cost_kib = 8, .parallelism = 1 };

/* crypt(3) of password with a fresh setting for prefix at cost count. */
static void make_crypt(const char *prefix, unsigned long count, const char *password,
                       char out[CRYPT_OUTPUT_SIZE])
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data = calloc(1, sizeof(*data));

    assert_non_null(data);
    assert_non_null(crypt_gensalt_rn(prefix, count, NULL, 0, setting, sizeof(setting)));
    assert_non_null(crypt_rn(password, setting, data, (int)sizeof(*data)));
    snprintf(out, CRYPT_OUTPUT_SIZE, "%s", data->output);
    free(data);
}

static void test_argon2_round_trip(void **state)
{
    char hash[GH_PASSWORD_HASH_MAX], hash2[GH_PASSWORD_HASH_MAX];

    (void)state;
    assert_int_equal(gh_password_hash(&fast, "correct horse", 13, hash), GH_PASSWORD_OK);
    assert_true(strncmp(hash, "$argon2id$v=19$m=8,t=1,p=1$", 27) == 0);
    assert_int_equal(gh_password_verify(hash, "correct horse", 13), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "correct horsE", 13), GH_PASSWORD_MISMATCH);
    assert_int_equal(gh_password_verify(hash, "correct hors", 12), GH_PASSWORD_MISMATCH);
    assert_int_equal(gh_password_verify(hash, "", 0), GH_PASSWORD_MISMATCH);
    assert_true(gh_password_hash_importable(hash));

    /* A fresh salt each time: same password, different string. */
    assert_int_equal(gh_password_hash(&fast, "correct horse", 13, hash2), GH_PASSWORD_OK);
    assert_string_not_equal(hash, hash2);
}

static void test_argon2_binary_and_limits(void **state)
{
    char hash[GH_PASSWORD_HASH_MAX];
    char big[GH_PASSWORD_MAX + 1];

    (void)state;
    /* argon2id is binary-safe: a NUL inside the password counts. */
    assert_int_equal(gh_password_hash(&fast, "ab\0cd", 5, hash), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "ab\0cd", 5), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "ab", 2), GH_PASSWORD_MISMATCH);

    assert_int_equal(gh_password_hash(&fast, "", 0, hash), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "", 0), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, NULL, 0), GH_PASSWORD_OK);

    memset(big, 'x', sizeof(big));
    assert_int_equal(gh_password_hash(&fast, big, GH_PASSWORD_MAX, hash), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, big, GH_PASSWORD_MAX), GH_PASSWORD_OK);
    /* One byte over the limit is refused, not hashed. */
    assert_int_equal(gh_password_verify(hash, big, GH_PASSWORD_MAX + 1), GH_PASSWORD_MISMATCH);
    assert_int_equal(gh_password_hash(&fast, big, GH_PASSWORD_MAX + 1, hash), GH_PASSWORD_ERROR);
    assert_string_equal(hash, "");
}

static void test_argon2_bad_params(void **state)
{
    char hash[GH_PASSWORD_HASH_MAX];
    const gh_argon2_params bad[] = {
        { 0, 8, 1 },                            /* no iterations */
        { 1, 8, 0 },                            /* no lanes */
        { 1, 15, 2 },                           /* m < 8 * p */
        { GH_ARGON2_T_MAX + 1, 8, 1 },
        { 1, GH_ARGON2_M_MAX_KIB + 1, 1 },
        { 1, 8 * (GH_ARGON2_P_MAX + 1), GH_ARGON2_P_MAX + 1 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gh_password_hash(&bad[i], "pw", 2, hash), GH_PASSWORD_ERROR);
    assert_int_equal(gh_password_hash(NULL, "pw", 2, hash), GH_PASSWORD_ERROR);
}

static void test_needs_rehash(void **state)
{
    char hash[GH_PASSWORD_HASH_MAX], bcrypt[CRYPT_OUTPUT_SIZE];
    gh_argon2_params other = fast;

    (void)state;
    assert_int_equal(gh_password_hash(&fast, "pw", 2, hash), GH_PASSWORD_OK);
    assert_false(gh_password_needs_rehash(hash, &fast));
    other.t_cost = 2;
    assert_true(gh_password_needs_rehash(hash, &other));
    other = fast;
    other.m_cost_kib = 16;
    assert_true(gh_password_needs_rehash(hash, &other));
    other = fast;
    other.parallelism = 2;
    other.m_cost_kib = 16;
    assert_true(gh_password_needs_rehash(hash, &other));

    /* A different salt or output length is also not ours. */
    assert_true(gh_password_needs_rehash(
        "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MA", &fast));

    make_crypt("$2b$", 4, "pw", bcrypt);
    assert_true(gh_password_needs_rehash(bcrypt, &fast));
    assert_true(gh_password_needs_rehash("garbage", &fast));
    assert_true(gh_password_needs_rehash("", &fast));
    assert_true(gh_password_needs_rehash(NULL, &fast));
    assert_true(gh_password_needs_rehash(hash, NULL));
}

static void test_argon2_foreign_vector(void **state)
{
    /* From the reference implementation's own suite (phc-winner-argon2
     * src/test.c): argon2id, t=2, m=256 KiB, p=1, "password", "somesalt". */
    static const char vec[] =
        "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$"
        "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";

    (void)state;
    assert_int_equal(gh_password_verify(vec, "password", 8), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(vec, "passwore", 8), GH_PASSWORD_MISMATCH);
    assert_true(gh_password_hash_importable(vec));
}

static void check_crypt_kind(const char *prefix, unsigned long count)
{
    char hash[CRYPT_OUTPUT_SIZE];

    make_crypt(prefix, count, "hunter2", hash);
    assert_int_equal(gh_password_verify(hash, "hunter2", 7), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "hunter3", 7), GH_PASSWORD_MISMATCH);
    assert_int_equal(gh_password_verify(hash, "", 0), GH_PASSWORD_MISMATCH);
    /* crypt(3) stops at a NUL; we must not let "hunter2\0x" pass as "hunter2". */
    assert_int_equal(gh_password_verify(hash, "hunter2\0x", 9), GH_PASSWORD_MISMATCH);
    assert_true(gh_password_hash_importable(hash));
    assert_true(gh_password_needs_rehash(hash, &fast));
}

static void test_imported_generated(void **state)
{
    (void)state;
    check_crypt_kind("$2b$", 4);
    check_crypt_kind("$2a$", 4);
    check_crypt_kind("$2y$", 4);
    check_crypt_kind("$6$", 1000);
    check_crypt_kind("$y$", 1);
    check_crypt_kind("$y$", 5);
}

static void test_imported_vectors(void **state)
{
    static const char bcrypt[] =
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    static const char sha512[] =
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
        "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
    static const char sha512_rounds[] =
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbH"
        "bbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";

    (void)state;
    /* crypt_blowfish's "U*U" vector; the sha512crypt ones from its spec. */
    assert_int_equal(gh_password_verify(bcrypt, "U*U", 3), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(bcrypt, "U*V", 3), GH_PASSWORD_MISMATCH);
    assert_int_equal(gh_password_verify(sha512, "Hello world!", 12), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(sha512, "Hello world?", 12), GH_PASSWORD_MISMATCH);
    assert_int_equal(gh_password_verify(sha512_rounds, "Hello world!", 12), GH_PASSWORD_OK);
    assert_true(gh_password_hash_importable(bcrypt));
    assert_true(gh_password_hash_importable(sha512));
    assert_true(gh_password_hash_importable(sha512_rounds));
}

static void test_bcrypt_uses_72_bytes(void **state)
{
    char hash[CRYPT_OUTPUT_SIZE], pw[100];

    (void)state;
    memset(pw, 'k', sizeof(pw));
    pw[99] = '\0';
    make_crypt("$2b$", 4, pw, hash);
    assert_int_equal(gh_password_verify(hash, pw, 99), GH_PASSWORD_OK);
    /* Bytes past the 72nd do not count in bcrypt: documented, accepted. */
    pw[80] = 'z';
    assert_int_equal(gh_password_verify(hash, pw, 99), GH_PASSWORD_OK);
    pw[70] = 'z';
    assert_int_equal(gh_password_verify(hash, pw, 99), GH_PASSWORD_MISMATCH);
}

static const char *const malformed[] = {
    "",
    "plaintext",
    "*",
    "!",
    "$1$wSwBu1h3$RjPZ6BSt1b0oDdw9qJq3/1",                      /* md5crypt */
    "$5$vOYjCs/Z5qeai4Hc$eA6Abd7Dl.yRSacS4i8H7Vxh647MZFhvPONRSfCW8i/",   /* sha256 */
    "muF4Cr3YTrHNE",                                            /* DES */
    "$argon2i$v=19$m=8,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=16$m=8,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$m=8,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=08,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$short",
    "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPd",
    "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ",
    "$argon2id$v=19$m=8,t=1,p=1,x=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=8,t=4294967295,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=16,t=1,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$2b$04$abc",                                               /* truncated */
    "$2b$4$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  /* days of work */
    "$2b$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWx",
    "$6$saltstring",
    "$6$saltstring$",
    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl",
    "$6$rounds=999999999$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
    "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
    "$6$rounds=$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
    "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
    "$6$sa:lt$x",
    "$y$j9T$abc$def",
    "$y$jZZ$O2LH3pmTjgieyOrX1xtqR1$L/v80cVNHILLD8NrMPg3XzXVYJums2DKp.9mpe0/D23",
    "$y$j9T$O2LH3pmTjgieyOrX1xtqR1$L/v80cVNHILLD8NrMPg3XzXV",
};

static void test_malformed_is_bad_hash(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        gh_password_result r = gh_password_verify(malformed[i], "password", 8);

        if (r != GH_PASSWORD_BAD_HASH)
            fail_msg("verify(%s) = %d, want BAD_HASH", malformed[i], r);
        if (gh_password_hash_importable(malformed[i]))
            fail_msg("importable(%s)", malformed[i]);
    }
    assert_int_equal(gh_password_verify(NULL, "password", 8), GH_PASSWORD_BAD_HASH);
    assert_false(gh_password_hash_importable(NULL));
}

static void test_importable_strict(void **state)
{
    char hash[CRYPT_OUTPUT_SIZE], copy[CRYPT_OUTPUT_SIZE + 8];
    size_t len;

    (void)state;
    make_crypt("$6$", 5000, "pw", hash);
    len = strlen(hash);
    assert_true(gh_password_hash_importable(hash));

    /* A checksum character outside crypt's alphabet. */
    snprintf(copy, sizeof(copy), "%s", hash);
    copy[len - 3] = '!';
    assert_false(gh_password_hash_importable(copy));
    /* Trailing junk. */
    snprintf(copy, sizeof(copy), "%s!", hash);
    assert_false(gh_password_hash_importable(copy));
    /* A character short. */
    snprintf(copy, sizeof(copy), "%.*s", (int)len - 1, hash);
    assert_false(gh_password_hash_importable(copy));

    /* bcrypt salt whose last character carries bits bcrypt does not use. */
    make_crypt("$2b$", 4, "pw", hash);
    assert_true(gh_password_hash_importable(hash));
    snprintf(copy, sizeof(copy), "%s", hash);
    copy[7 + 21] = copy[7 + 21] == 'P' ? 'Q' : 'P';
    assert_false(gh_password_hash_importable(copy));

    /* A hash longer than we store. */
    memset(copy, 'A', sizeof(copy) - 1);
    memcpy(copy, "$6$", 3);
    copy[sizeof(copy) - 1] = '\0';
    assert_false(gh_password_hash_importable(copy));
    assert_int_equal(gh_password_verify(copy, "pw", 2), GH_PASSWORD_BAD_HASH);
}

static void test_too_long_password_crypt(void **state)
{
    char hash[CRYPT_OUTPUT_SIZE], big[GH_PASSWORD_MAX + 2];

    (void)state;
    memset(big, 'p', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    make_crypt("$6$", 1000, big, hash);
    /* Even the right password is refused once it is over the limit. */
    assert_int_equal(gh_password_verify(hash, big, GH_PASSWORD_MAX + 1), GH_PASSWORD_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argon2_round_trip),
        cmocka_unit_test(test_argon2_binary_and_limits),
        cmocka_unit_test(test_argon2_bad_params),
        cmocka_unit_test(test_needs_rehash),
        cmocka_unit_test(test_argon2_foreign_vector),
        cmocka_unit_test(test_imported_generated),
        cmocka_unit_test(test_imported_vectors),
        cmocka_unit_test(test_bcrypt_uses_72_bytes),
        cmocka_unit_test(test_malformed_is_bad_hash),
        cmocka_unit_test(test_importable_strict),
        cmocka_unit_test(test_too_long_password_crypt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
