/*
 * test_directory_seal.c: a directory service password sealed for the
 * shared store (directory_seal.h) opens with the same secret and name
 * only: a changed byte, another secret or another profile is refused; and
 * the stored profile text carries the seal (config_directory.c), which a
 * configuration file's section cannot set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/core/config.h"
#include "../../src/core/directory_seal.h"

static const uint8_t secret[GH_DIGEST_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const char pw[] = "Service-pw-42!";

static void test_round_trip(void **state)
{
    char sealed[GH_DIRECTORY_SEALED_MAX], again[GH_DIRECTORY_SEALED_MAX];
    char out[GH_PASSWORD_MAX + 1], big[GH_PASSWORD_MAX];
    size_t len = 0;

    (void)state;
    assert_true(gh_directory_seal(secret, "lab", pw, strlen(pw), sealed));
    assert_null(strstr(sealed, pw));
    assert_true(gh_directory_unseal(secret, "lab", sealed, out, &len));
    assert_int_equal(len, strlen(pw));
    assert_string_equal(out, pw);
    /* a fresh nonce each time: the same password seals differently */
    assert_true(gh_directory_seal(secret, "lab", pw, strlen(pw), again));
    assert_string_not_equal(sealed, again);
    /* the longest password fits */
    memset(big, 'x', sizeof(big));
    assert_true(gh_directory_seal(secret, "lab", big, sizeof(big), sealed));
    assert_true(strlen(sealed) < GH_DIRECTORY_SEALED_MAX);
    assert_true(gh_directory_unseal(secret, "lab", sealed, out, &len));
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(out, big, sizeof(big));
    assert_false(gh_directory_seal(secret, "lab", big, sizeof(big) + 1, sealed));
    assert_false(gh_directory_seal(secret, "lab", pw, 0, sealed));
}

static void test_tampered_refused(void **state)
{
    char sealed[GH_DIRECTORY_SEALED_MAX], out[GH_PASSWORD_MAX + 1];
    size_t len = 1;

    (void)state;
    assert_true(gh_directory_seal(secret, "lab", pw, strlen(pw), sealed));
    for (size_t i = 0; sealed[i] != '\0' && sealed[i] != '='; i++) {
        char keep = sealed[i];

        sealed[i] = keep == 'A' ? 'B' : 'A';
        assert_false(gh_directory_unseal(secret, "lab", sealed, out, &len));
        assert_int_equal(len, 0);
        sealed[i] = keep;
    }
    assert_true(gh_directory_unseal(secret, "lab", sealed, out, &len));
    /* cut short, not base64, empty */
    sealed[strlen(sealed) - 4] = '\0';
    assert_false(gh_directory_unseal(secret, "lab", sealed, out, &len));
    assert_false(gh_directory_unseal(secret, "lab", "!!!!", out, &len));
    assert_false(gh_directory_unseal(secret, "lab", "", out, &len));
}

static void test_wrong_secret_or_profile_refused(void **state)
{
    char sealed[GH_DIRECTORY_SEALED_MAX], out[GH_PASSWORD_MAX + 1];
    uint8_t other[GH_DIGEST_LEN];
    size_t len = 1;

    (void)state;
    memcpy(other, secret, sizeof(other));
    other[31] ^= 1;
    assert_true(gh_directory_seal(secret, "lab", pw, strlen(pw), sealed));
    assert_false(gh_directory_unseal(other, "lab", sealed, out, &len));
    assert_int_equal(len, 0);
    assert_null(strstr(out, pw));
    assert_false(gh_directory_unseal(secret, "lab2", sealed, out, &len));
}

static void test_profile_text_carries_the_seal(void **state)
{
    gh_config_directory p, q;
    char text[GH_DIRECTORY_TEXT_MAX];
    const char *why;

    (void)state;
    gh_config_directory_defaults(&p);
    snprintf(p.name, sizeof(p.name), "lab");
    snprintf(p.servers, sizeof(p.servers), "ldap://127.0.0.1:389");
    snprintf(p.user_base, sizeof(p.user_base), "ou=people,dc=x");
    assert_true(gh_directory_seal(secret, "lab", pw, strlen(pw), p.bind_password_sealed));
    assert_true(gh_config_directory_write(&p, text, sizeof(text)));
    gh_config_directory_defaults(&q);
    assert_true(gh_config_directory_read(&q, text, &why));
    assert_string_equal(q.user_base, p.user_base);
    assert_string_equal(q.bind_password_sealed, p.bind_password_sealed);
    /* none: no line */
    p.bind_password_sealed[0] = '\0';
    assert_true(gh_config_directory_write(&p, text, sizeof(text)));
    assert_null(strstr(text, "bind_password_sealed"));
    /* only base64 that fits */
    assert_false(gh_config_directory_read(&q, "bind_password_sealed=a\nb\n", &why));
    assert_false(gh_config_directory_read(&q, "bind_password_sealed=a b\n", &why));
}

static void test_file_cannot_set_the_seal(void **state)
{
    static const char conf[] = "[directory corp]\n"
                               "servers = ldaps://dc1.example.org\n"
                               "user_base = ou=people,dc=example,dc=org\n"
                               "readonly_groups = cn=readers,ou=groups,dc=example,dc=org\n"
                               "bind_password_sealed = AAAA\n";
    char path[] = "/tmp/gh-seal-XXXXXX";
    int fd = mkstemp(path);
    gh_config *cfg = calloc(1, sizeof(*cfg));
    char err[256] = "";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, conf, sizeof(conf) - 1), (ssize_t)(sizeof(conf) - 1));
    close(fd);
    assert_non_null(cfg);
    gh_config_defaults(cfg);
    assert_int_not_equal(gh_config_load(cfg, path, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "bind_password_sealed"));
    free(cfg);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampered_refused),
        cmocka_unit_test(test_wrong_secret_or_profile_refused),
        cmocka_unit_test(test_profile_text_carries_the_seal),
        cmocka_unit_test(test_file_cannot_set_the_seal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
