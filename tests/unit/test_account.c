/*
 * test_account.c: the account rules the command line and the Redfish
 * AccountService share (src/core/account.c): which names are accounts'
 * names, and how a password's length is counted in characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/core/account.h"

static void test_names_accepted(void **state)
{
    char longest[GH_USER_NAME_MAX + 1];

    (void)state;
    assert_true(gh_account_name_valid("a"));
    assert_true(gh_account_name_valid("admin"));
    assert_true(gh_account_name_valid("Z"));
    assert_true(gh_account_name_valid("9lives"));
    assert_true(gh_account_name_valid("john.doe"));
    assert_true(gh_account_name_valid("svc_backup-2"));
    assert_true(gh_account_name_valid("a-"));
    assert_true(gh_account_name_valid("a..b"));
    memset(longest, 'x', GH_USER_NAME_MAX);
    longest[GH_USER_NAME_MAX] = '\0';
    assert_true(gh_account_name_valid(longest));
}

static void test_names_refused(void **state)
{
    char too_long[GH_USER_NAME_MAX + 2];
    /* leading punctuation, characters outside the rule (UTF-8 letters
     * too), and the separators the credential parsers split on */
    static const char *const bad[] = {
        "", "-admin", ".admin", "_admin", "a:b", "a@b", "a b", " a", "a ", "a/b",
        "a\\b", "a\tb", "a\nb", "a+b", "a%41", "a;b", "a\x7f", "\xc3\xa9t\xc3\xa9",
        "caf\xc3\xa9", "a\xff",
    };

    (void)state;
    assert_false(gh_account_name_valid(NULL));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gh_account_name_valid(bad[i]))
            fail_msg("name %zu (\"%s\") was accepted", i, bad[i]);
    }
    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    assert_false(gh_account_name_valid(too_long));
}

static void test_password_chars(void **state)
{
    (void)state;
    assert_int_equal(gh_account_password_chars(NULL, 0), 0);
    assert_int_equal(gh_account_password_chars(NULL, 8), 0);
    assert_int_equal(gh_account_password_chars("", 0), 0);
    assert_int_equal(gh_account_password_chars("password", 8), 8);
    /* only len bytes count, whatever follows */
    assert_int_equal(gh_account_password_chars("password", 3), 3);
    /* é (2 bytes), € (3 bytes), U+1F600 (4 bytes): one character each */
    assert_int_equal(gh_account_password_chars("\xc3\xa9", 2), 1);
    assert_int_equal(gh_account_password_chars("\xe2\x82\xac", 3), 1);
    assert_int_equal(gh_account_password_chars("\xf0\x9f\x98\x80", 4), 1);
    assert_int_equal(gh_account_password_chars("p\xc3\xa4ssw\xc3\xb6rd", 10), 8);
    /* a NUL is a byte like any other here; the callers refuse it earlier */
    assert_int_equal(gh_account_password_chars("a\0b", 3), 3);
}

/* Not UTF-8: stray continuation bytes count nothing, a lead byte without its
 * continuation counts one, so the count never exceeds the bytes. */
static void test_password_chars_not_utf8(void **state)
{
    (void)state;
    assert_int_equal(gh_account_password_chars("\x80\x80\x80", 3), 0);
    assert_int_equal(gh_account_password_chars("\xc3", 1), 1);
    assert_int_equal(gh_account_password_chars("\xff\xfe", 2), 2);
    assert_int_equal(gh_account_password_chars("ab\xc3\xa9\x80", 5), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_accepted),
        cmocka_unit_test(test_names_refused),
        cmocka_unit_test(test_password_chars),
        cmocka_unit_test(test_password_chars_not_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
