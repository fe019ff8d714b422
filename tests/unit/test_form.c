/*
 * test_form.c: the application/x-www-form-urlencoded reader
 * (src/dialects/common/form.c): decoding, strict escapes, the limits, repeated
 * names, the iterator, and that out is wiped whenever nothing is found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/common/form.h"

static gh_str S(const char *s)
{
    return (gh_str){ s, strlen(s) };
}

static int get(const char *input, const char *name, char *out, size_t outlen)
{
    return gh_form_get(S(input), name, out, outlen);
}

static void test_get_basic(void **state)
{
    const char *body = "grant_type=password&scope=ovirt-app-api&username=admin%40internal"
                       "&password=s%C3%A9cret+%2B+more";
    char        out[64];

    (void)state;
    assert_int_equal(get(body, "grant_type", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "password");
    assert_int_equal(get(body, "scope", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "ovirt-app-api");
    assert_int_equal(get(body, "username", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "admin@internal");
    assert_int_equal(get(body, "password", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "s\xc3\xa9" "cret + more");
    assert_int_equal(get(body, "client_id", out, sizeof(out)), GH_FORM_ABSENT);
    assert_string_equal(out, "");
    /* Names compare exactly, after decoding. */
    assert_int_equal(get(body, "Scope", out, sizeof(out)), GH_FORM_ABSENT);
    assert_int_equal(get("us%65r+name=x", "user name", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "x");
}

static void test_get_query(void **state)
{
    const char *q = "resource=ca-certificate&format=X509-PEM-CA";
    char        out[32];

    (void)state;
    assert_int_equal(get(q, "resource", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "ca-certificate");
    assert_int_equal(get(q, "format", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "X509-PEM-CA");
}

static void test_get_shapes(void **state)
{
    char out[32];

    (void)state;
    /* Empty pieces are skipped; no '=' is an empty value. */
    assert_int_equal(get("&&a=1&&b=2&", "b", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "2");
    assert_int_equal(get("flag&a=1", "flag", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "");
    assert_int_equal(get("a=", "a", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "");
    assert_int_equal(get("a==b", "a", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "=b");
    assert_int_equal(get("=x", "", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "x");
    assert_int_equal(get("", "a", out, sizeof(out)), GH_FORM_ABSENT);
    assert_int_equal(gh_form_get((gh_str){ NULL, 0 }, "a", out, sizeof(out)), GH_FORM_ABSENT);
    assert_int_equal(get("a=%41%62%7e%7E", "a", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "Ab~~");
    /* Raw UTF-8 passes as it is. */
    assert_int_equal(get("a=\xc3\xa9", "a", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "\xc3\xa9");
}

static void test_get_malformed(void **state)
{
    static const char *bad[] = {
        "a=%",  "a=%4", "a=%G1", "a=%4G", "a=% 1", "a=1%", "%zz=1&a=1",
        "a=1&b=%",           /* after the match: the whole input is checked */
        "a=1\r\n", "a=\x01", "a=\x7f", "a=1&a=2", "a=1&b=2&a=1",
        "a=%00",             /* a NUL cannot be a C string's byte */
        "a=x%00y",
    };
    char out[32];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(out, 'Z', sizeof(out));
        if (get(bad[i], "a", out, sizeof(out)) != GH_FORM_MALFORMED)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(out, "");
    }
    assert_int_equal(get("a=1", NULL, out, sizeof(out)), GH_FORM_MALFORMED);
}

static void test_get_too_long(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(get("a=1234567", "a", out, sizeof(out)), GH_FORM_FOUND);
    assert_string_equal(out, "1234567");
    memset(out, 'Z', sizeof(out));
    assert_int_equal(get("password=12345678", "password", out, sizeof(out)), GH_FORM_TOO_LONG);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], '\0');
    /* Escapes count once: %41 is one byte. */
    assert_int_equal(get("a=%41%41%41%41%41%41%41", "a", out, sizeof(out)), GH_FORM_FOUND);
    assert_int_equal(get("a=1", "a", out, 0), GH_FORM_TOO_LONG);
    assert_int_equal(get("a=1", "a", NULL, 8), GH_FORM_TOO_LONG);
}

static void test_limits(void **state)
{
    char  *buf = malloc(GH_FORM_INPUT_MAX + 2);
    char  *out = malloc(GH_FORM_VALUE_MAX + 1);
    size_t n = 0;

    (void)state;
    assert_non_null(buf);
    assert_non_null(out);

    /* GH_FORM_PAIRS_MAX pairs are fine, one more is not. */
    for (int i = 0; i < GH_FORM_PAIRS_MAX; i++)
        n += (size_t)sprintf(buf + n, "k%d=%d&", i, i);
    assert_int_equal(gh_form_get((gh_str){ buf, n }, "k63", out, 16), GH_FORM_FOUND);
    assert_string_equal(out, "63");
    n += (size_t)sprintf(buf + n, "x=1");
    assert_int_equal(gh_form_get((gh_str){ buf, n }, "k0", out, 16), GH_FORM_MALFORMED);

    /* A value of GH_FORM_VALUE_MAX decoded bytes, then one more. */
    memcpy(buf, "v=", 2);
    memset(buf + 2, 'x', GH_FORM_VALUE_MAX);
    n = 2 + GH_FORM_VALUE_MAX;
    assert_int_equal(gh_form_get((gh_str){ buf, n }, "v", out, GH_FORM_VALUE_MAX + 1), GH_FORM_FOUND);
    assert_int_equal(strlen(out), GH_FORM_VALUE_MAX);
    buf[n++] = 'x';
    assert_int_equal(gh_form_get((gh_str){ buf, n }, "v", out, GH_FORM_VALUE_MAX + 1), GH_FORM_MALFORMED);

    /* A name of GH_FORM_NAME_MAX bytes, then one more. */
    memset(buf, 'n', GH_FORM_NAME_MAX + 1);
    buf[GH_FORM_NAME_MAX] = '=';
    buf[GH_FORM_NAME_MAX + 1] = '1';
    assert_int_equal(gh_form_get((gh_str){ buf, GH_FORM_NAME_MAX + 2 }, "a", out, 16), GH_FORM_ABSENT);
    memset(buf, 'n', GH_FORM_NAME_MAX + 1);
    buf[GH_FORM_NAME_MAX + 1] = '=';
    assert_int_equal(gh_form_get((gh_str){ buf, GH_FORM_NAME_MAX + 2 }, "a", out, 16), GH_FORM_MALFORMED);

    /* The whole input. */
    memset(buf, '&', GH_FORM_INPUT_MAX + 1);
    memcpy(buf, "a=1", 3);
    assert_int_equal(gh_form_get((gh_str){ buf, GH_FORM_INPUT_MAX }, "a", out, 16), GH_FORM_FOUND);
    assert_int_equal(gh_form_get((gh_str){ buf, GH_FORM_INPUT_MAX + 1 }, "a", out, 16), GH_FORM_MALFORMED);
    free(buf);
    free(out);
}

static void test_iterator(void **state)
{
    gh_form_iter it;
    gh_str       n, v;
    char         out[16];

    (void)state;
    gh_form_iter_init(&it, S("a=1&&b&c=x+y%21&"));
    assert_int_equal(gh_form_next(&it, &n, &v), 1);
    assert_int_equal(n.len, 1);
    assert_memory_equal(n.data, "a", 1);
    assert_memory_equal(v.data, "1", 1);
    assert_int_equal(gh_form_next(&it, &n, &v), 1);
    assert_memory_equal(n.data, "b", 1);
    assert_int_equal(v.len, 0);
    assert_int_equal(gh_form_next(&it, &n, &v), 1);
    assert_int_equal(v.len, 6);
    assert_int_equal(gh_form_decode(v, out, sizeof(out)), 4);
    assert_string_equal(out, "x y!");
    assert_int_equal(gh_form_next(&it, &n, &v), 0);
    assert_int_equal(gh_form_next(&it, &n, &v), 0);

    /* A malformed pair stops the walk for good. */
    gh_form_iter_init(&it, S("a=1&b=%zz&c=3"));
    assert_int_equal(gh_form_next(&it, &n, &v), 1);
    assert_int_equal(gh_form_next(&it, &n, &v), -1);
    assert_null(n.data);
    assert_int_equal(gh_form_next(&it, &n, &v), -1);

    gh_form_iter_init(&it, S(""));
    assert_int_equal(gh_form_next(&it, &n, &v), 0);
}

static void test_decode(void **state)
{
    char out[4];

    (void)state;
    assert_int_equal(gh_form_decode(S("a+b"), out, sizeof(out)), 3);
    assert_string_equal(out, "a b");
    assert_int_equal(gh_form_decode(S("%2b%2B"), out, sizeof(out)), 2);
    assert_string_equal(out, "++");
    assert_int_equal(gh_form_decode(S(""), out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(gh_form_decode(S("abcd"), out, sizeof(out)), -2);
    assert_string_equal(out, "");
    assert_int_equal(gh_form_decode(S("%4"), out, sizeof(out)), -1);
    assert_int_equal(gh_form_decode(S("%00"), out, sizeof(out)), 1);
    assert_int_equal(out[0], '\0');
    assert_int_equal(gh_form_decode(S("a"), NULL, 0), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_basic),
        cmocka_unit_test(test_get_query),
        cmocka_unit_test(test_get_shapes),
        cmocka_unit_test(test_get_malformed),
        cmocka_unit_test(test_get_too_long),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_iterator),
        cmocka_unit_test(test_decode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
