/*
 * test_credential.c: the credential parsers (src/dialects/common/credential.c):
 * Authorization Basic and Bearer with strict base64 and every limit,
 * X-Auth-Token, the Cookie lookup, and wiping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../src/dialects/common/credential.h"

/* "Basic " + base64 of n raw bytes, in a static buffer. */
static const char *basic_n(const char *raw, size_t n)
{
    static char buf[4096];

    memcpy(buf, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)buf + 6, (const unsigned char *)raw, (int)n);
    return buf;
}

static const char *basic(const char *raw)
{
    return basic_n(raw, strlen(raw));
}

static gh_str S(const char *s)
{
    return (gh_str){ s, strlen(s) };
}

static gh_cred_kind auth(const char *value, bool split, gh_credential *c)
{
    gh_credential_authorization(S(value), split, c);
    return c->kind;
}

static void test_absent_and_empty(void **state)
{
    gh_credential c;

    (void)state;
    gh_credential_authorization((gh_str){ NULL, 0 }, false, &c);
    assert_int_equal(c.kind, GH_CRED_NONE);
    assert_int_equal(auth("", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("   ", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("Basic", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("Basic ", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("Bearer", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("Bearer   ", false, &c), GH_CRED_MALFORMED);
}

static void test_basic_ok(void **state)
{
    gh_credential c;

    (void)state;
    assert_int_equal(auth("Basic dXNlcjpwYXNz", false, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "user");
    assert_string_equal(c.password, "pass");
    assert_int_equal(c.password_len, 4);
    assert_string_equal(c.domain, "");
    /* Scheme case, several spaces, surrounding blanks. */
    assert_int_equal(auth("basic dXNlcjpwYXNz", false, &c), GH_CRED_BASIC);
    assert_int_equal(auth("BASIC dXNlcjpwYXNz", false, &c), GH_CRED_BASIC);
    assert_int_equal(auth(" \tBasic    dXNlcjpwYXNz \t", false, &c), GH_CRED_BASIC);
    assert_string_equal(c.password, "pass");
    /* Split at the first ':'; the password keeps later ones. */
    assert_int_equal(auth(basic("a:b:c"), false, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "a");
    assert_string_equal(c.password, "b:c");
    /* An empty password is a credential (a wrong one, for the verifier). */
    assert_int_equal(auth(basic("admin:"), false, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "admin");
    assert_int_equal(c.password_len, 0);
    /* Control bytes are fine in a password, UTF-8 in a user. */
    assert_int_equal(auth(basic("j\xc3\xb8rgen:p\tw\x7f"), false, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "j\xc3\xb8rgen");
    assert_int_equal(c.password_len, 4);
    gh_credential_wipe(&c);
}

/* EVP_DecodeBlock counts padding as output bytes; the parser must not. */
static void test_basic_padding(void **state)
{
    gh_credential c;

    (void)state;
    assert_int_equal(auth("Basic YTpi", false, &c), GH_CRED_BASIC);         /* a:b */
    assert_int_equal(c.password_len, 1);
    assert_int_equal(auth("Basic YTpiYw==", false, &c), GH_CRED_BASIC);     /* a:bc */
    assert_string_equal(c.password, "bc");
    assert_int_equal(c.password_len, 2);
    assert_int_equal(auth("Basic YTpiY2Q=", false, &c), GH_CRED_BASIC);     /* a:bcd */
    assert_string_equal(c.password, "bcd");
    assert_int_equal(c.password_len, 3);
}

static void test_basic_bad_base64(void **state)
{
    static const char *bad[] = {
        "Basic dXNlcjpwYXN*",        /* alphabet */
        "Basic dXNlcjpwYX-z",        /* base64url is not base64 */
        "Basic dXNlcjpwYX_z",
        "Basic dXNlcjpwYXM",         /* length not a multiple of 4 */
        "Basic dXNlcjpwYXM==",
        "Basic =dXNlcjpwYXM",        /* padding not at the end */
        "Basic dX=lcjpwYXM=",
        "Basic YTpiYw=A",
        "Basic YTpi====",
        "Basic YTp===",
        "Basic ====",
        "Basic YTpiYx==",            /* non-zero bits under the padding */
        "Basic YTpiY2R=",
        "Basic dXNlcjpw YXNz",       /* a space inside */
        "Basic dXNlcjpwYXNz\r\n",
        "Basic\tdXNlcjpwYXNz",       /* 1*SP after the scheme, not a tab */
        "Basic dXNlcjpwYXNz,",
        "Basic dXNlcg==",            /* "user": no ':' */
    };
    gh_credential c;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gh_credential_authorization(S(bad[i]), false, &c);
        if (c.kind != GH_CRED_MALFORMED)
            fail_msg("accepted %s", bad[i]);
        assert_string_equal(c.user, "");
        assert_int_equal(c.password_len, 0);
    }
}

static void test_basic_user_rules(void **state)
{
    char          raw[1024];
    gh_credential c;

    (void)state;
    assert_int_equal(auth(basic(":pw"), false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth(basic("a\x01:pw"), false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth(basic("a\x1f" "b:pw"), false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth(basic("a\x7f:pw"), false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth(basic_n("a\0b:pw", 6), false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth(basic_n("ab:p\0w", 6), false, &c), GH_CRED_MALFORMED);

    /* User at the limit and one over. */
    memset(raw, 'u', GH_USER_NAME_MAX);
    strcpy(raw + GH_USER_NAME_MAX, ":pw");
    assert_int_equal(auth(basic(raw), false, &c), GH_CRED_BASIC);
    assert_int_equal(strlen(c.user), GH_USER_NAME_MAX);
    memset(raw, 'u', GH_USER_NAME_MAX + 1);
    strcpy(raw + GH_USER_NAME_MAX + 1, ":pw");
    assert_int_equal(auth(basic(raw), false, &c), GH_CRED_MALFORMED);

    /* Password at the limit and one over. */
    raw[0] = 'u';
    raw[1] = ':';
    memset(raw + 2, 'p', GH_PASSWORD_MAX);
    raw[2 + GH_PASSWORD_MAX] = '\0';
    assert_int_equal(auth(basic(raw), false, &c), GH_CRED_BASIC);
    assert_int_equal(c.password_len, GH_PASSWORD_MAX);
    assert_int_equal(strlen(c.password), GH_PASSWORD_MAX);
    raw[2 + GH_PASSWORD_MAX] = 'p';
    raw[3 + GH_PASSWORD_MAX] = '\0';
    assert_int_equal(auth(basic(raw), false, &c), GH_CRED_MALFORMED);

    /* Far past every limit: refused before decoding. */
    memset(raw, 'A', 1000);
    memcpy(raw, "Basic ", 6);
    raw[1000] = '\0';
    assert_int_equal(auth(raw, false, &c), GH_CRED_MALFORMED);
}

static void test_basic_domain(void **state)
{
    char          raw[512];
    gh_credential c;

    (void)state;
    assert_int_equal(auth(basic("admin@internal:pw"), true, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "admin");
    assert_string_equal(c.domain, "internal");
    assert_string_equal(c.password, "pw");
    /* The last '@' splits: user names may hold one. */
    assert_int_equal(auth(basic("a@b.example@corp:pw"), true, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "a@b.example");
    assert_string_equal(c.domain, "corp");
    /* An '@' in the password is not the domain's. */
    assert_int_equal(auth(basic("admin:p@ss"), true, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "admin");
    assert_string_equal(c.domain, "");
    assert_string_equal(c.password, "p@ss");
    /* Without splitting the whole name is the user. */
    assert_int_equal(auth(basic("admin@internal:pw"), false, &c), GH_CRED_BASIC);
    assert_string_equal(c.user, "admin@internal");
    assert_string_equal(c.domain, "");
    assert_int_equal(auth(basic("@internal:pw"), false, &c), GH_CRED_BASIC);
    assert_int_equal(auth(basic("@internal:pw"), true, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth(basic("admin@:pw"), true, &c), GH_CRED_MALFORMED);

    /* Both parts at their limits fit; the domain one over does not. */
    memset(raw, 'u', GH_USER_NAME_MAX);
    raw[GH_USER_NAME_MAX] = '@';
    memset(raw + GH_USER_NAME_MAX + 1, 'd', GH_DOMAIN_MAX);
    raw[GH_USER_NAME_MAX + 1 + GH_DOMAIN_MAX] = ':';
    memset(raw + GH_USER_NAME_MAX + 2 + GH_DOMAIN_MAX, 'p', GH_PASSWORD_MAX);
    raw[GH_USER_NAME_MAX + 2 + GH_DOMAIN_MAX + GH_PASSWORD_MAX] = '\0';
    assert_int_equal(strlen(raw), GH_BASIC_DECODED_MAX);
    assert_int_equal(auth(basic(raw), true, &c), GH_CRED_BASIC);
    assert_int_equal(strlen(c.user), GH_USER_NAME_MAX);
    assert_int_equal(strlen(c.domain), GH_DOMAIN_MAX);
    assert_int_equal(c.password_len, GH_PASSWORD_MAX);
    assert_int_equal(auth(basic(raw), false, &c), GH_CRED_MALFORMED);
    memmove(raw + 1, raw, strlen(raw) + 1);
    raw[0] = 'u';
    assert_int_equal(auth(basic(raw), true, &c), GH_CRED_MALFORMED);
    gh_credential_wipe(&c);
}

static void test_bearer(void **state)
{
    char          raw[GH_TOKEN_TEXT_MAX + 16];
    gh_credential c;

    (void)state;
    assert_int_equal(auth("Bearer abc.DEF-123_~+/=", false, &c), GH_CRED_BEARER);
    assert_true(gh_str_eq(c.token, "abc.DEF-123_~+/="));
    assert_int_equal(auth("bearer  tok  ", false, &c), GH_CRED_BEARER);
    assert_true(gh_str_eq(c.token, "tok"));
    assert_int_equal(auth("Bearer a b", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("Bearer a\x80", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("Bearer a\x01", false, &c), GH_CRED_MALFORMED);

    memcpy(raw, "Bearer ", 7);
    memset(raw + 7, 't', GH_TOKEN_TEXT_MAX);
    raw[7 + GH_TOKEN_TEXT_MAX] = '\0';
    assert_int_equal(auth(raw, false, &c), GH_CRED_BEARER);
    assert_int_equal(c.token.len, GH_TOKEN_TEXT_MAX);
    raw[7 + GH_TOKEN_TEXT_MAX] = 't';
    raw[8 + GH_TOKEN_TEXT_MAX] = '\0';
    assert_int_equal(auth(raw, false, &c), GH_CRED_MALFORMED);
    assert_null(c.token.data);
}

static void test_other_schemes(void **state)
{
    gh_credential c;

    (void)state;
    assert_int_equal(auth("Digest username=\"a\", realm=\"r\"", false, &c), GH_CRED_NONE);
    assert_int_equal(auth("Negotiate YIIabc==", false, &c), GH_CRED_NONE);
    assert_int_equal(auth("NTLM", false, &c), GH_CRED_NONE);
    assert_int_equal(auth("Basicx dXNlcjpwYXNz", false, &c), GH_CRED_NONE);
    /* Not a scheme at all. */
    assert_int_equal(auth("B@sic dXNlcjpwYXNz", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("(Basic) dXNlcjpwYXNz", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("\"Basic\"", false, &c), GH_CRED_MALFORMED);
    assert_int_equal(auth("=abc", false, &c), GH_CRED_MALFORMED);
}

static void test_reuse_and_wipe(void **state)
{
    gh_credential c;
    gh_credential zero;

    (void)state;
    assert_int_equal(auth(basic("admin@internal:secret"), true, &c), GH_CRED_BASIC);
    /* A later parse into the same struct leaves nothing of the first. */
    assert_int_equal(auth("Basic !!!!", true, &c), GH_CRED_MALFORMED);
    assert_string_equal(c.user, "");
    assert_string_equal(c.domain, "");
    assert_string_equal(c.password, "");

    assert_int_equal(auth(basic("admin@internal:secret"), true, &c), GH_CRED_BASIC);
    gh_credential_wipe(&c);
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&c, &zero, sizeof(c));
    gh_credential_wipe(NULL);
}

static void test_x_auth_token(void **state)
{
    char          raw[GH_TOKEN_TEXT_MAX + 2];
    gh_credential c;

    (void)state;
    gh_credential_token((gh_str){ NULL, 0 }, &c);
    assert_int_equal(c.kind, GH_CRED_NONE);
    gh_credential_token(S("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), &c);
    assert_int_equal(c.kind, GH_CRED_TOKEN);
    assert_int_equal(c.token.len, 64);
    gh_credential_token(S("  abc \t"), &c);
    assert_int_equal(c.kind, GH_CRED_TOKEN);
    assert_true(gh_str_eq(c.token, "abc"));
    gh_credential_token(S(""), &c);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);
    gh_credential_token(S("  "), &c);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);
    gh_credential_token(S("a b"), &c);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);
    gh_credential_token(S("ab\xff"), &c);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);
    gh_credential_token((gh_str){ "a\0b", 3 }, &c);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);

    memset(raw, 'a', GH_TOKEN_TEXT_MAX);
    gh_credential_token((gh_str){ raw, GH_TOKEN_TEXT_MAX }, &c);
    assert_int_equal(c.kind, GH_CRED_TOKEN);
    raw[GH_TOKEN_TEXT_MAX] = 'a';
    gh_credential_token((gh_str){ raw, GH_TOKEN_TEXT_MAX + 1 }, &c);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);
}

/* gh_cookies_without dropping the cookies named PVEAuthCookie (any case). */
static bool drop_pve(gh_str name, void *arg)
{
    (*(int *)arg)++;
    return gh_str_eq_nocase(name, "PVEAuthCookie");
}

static const char *without(const char *header)
{
    static char out[2048];
    int         asked = 0;
    size_t      n = gh_cookies_without(header != NULL ? S(header) : (gh_str){ NULL, 0 },
                                       drop_pve, &asked, out);

    assert_true(n <= 2 * (header != NULL ? strlen(header) : 0));
    out[n] = '\0';
    return out;
}

static void test_cookies_without(void **state)
{
    (void)state;
    assert_string_equal(without("a=1; PVEAuthCookie=x; b=2"), "a=1; b=2");
    assert_string_equal(without("PVEAuthCookie=x"), "");
    assert_string_equal(without("pveauthcookie=x;PVEAuthCookie=y"), "");
    assert_string_equal(without("a=1;b=2"), "a=1; b=2");
    assert_string_equal(without("  ;a=1;;  b ;PVEAuthCookie =x; c=\"q;"), "a=1; b; c=\"q");
    assert_string_equal(without("PVEAuthCookieX=1; XPVEAuthCookie=2"),
                        "PVEAuthCookieX=1; XPVEAuthCookie=2");
    assert_string_equal(without("a=PVEAuthCookie=1"), "a=PVEAuthCookie=1");
    assert_string_equal(without(""), "");
    assert_string_equal(without(NULL), "");
    assert_string_equal(without(";;;"), "");
}

/* The cookie's value, or "(null)" when absent or malformed. */
static const char *cookie(const char *header, const char *name)
{
    static char out[1024];
    gh_str      v = gh_credential_cookie(header != NULL ? S(header) : (gh_str){ NULL, 0 }, name);

    if (v.data == NULL)
        return "(null)";
    snprintf(out, sizeof(out), "%.*s", (int)v.len, v.data);
    return out;
}

static void test_cookie(void **state)
{
    char big[GH_TOKEN_TEXT_MAX + 32];

    (void)state;
    assert_string_equal(cookie("auth_cookie=abc", "auth_cookie"), "abc");
    assert_string_equal(cookie("a=1; auth_cookie=abc; b=2", "auth_cookie"), "abc");
    assert_string_equal(cookie("a=1;auth_cookie=abc;b=2", "auth_cookie"), "abc");
    assert_string_equal(cookie("  auth_cookie=abc  ", "auth_cookie"), "abc");
    assert_string_equal(cookie("auth_cookie=\"abc\"", "auth_cookie"), "abc");
    assert_string_equal(cookie("auth_cookie=", "auth_cookie"), "");
    assert_string_equal(cookie("auth_cookie=\"\"", "auth_cookie"), "");
    assert_string_equal(cookie("JSESSIONID=a=b/c", "JSESSIONID"), "a=b/c");
    /* Names match whole and exactly. */
    assert_string_equal(cookie("xauth_cookie=1; auth_cookie=2", "auth_cookie"), "2");
    assert_string_equal(cookie("auth_cookiex=1", "auth_cookie"), "(null)");
    assert_string_equal(cookie("AUTH_COOKIE=1", "auth_cookie"), "(null)");
    assert_string_equal(cookie("auth_cookie =1", "auth_cookie"), "(null)");
    assert_string_equal(cookie("a=1", "auth_cookie"), "(null)");
    assert_string_equal(cookie("", "auth_cookie"), "(null)");
    assert_string_equal(cookie(";;;", "auth_cookie"), "(null)");
    assert_string_equal(cookie(NULL, "auth_cookie"), "(null)");
    /* Someone else's odd cookie does not hide ours. */
    assert_string_equal(cookie("odd cookie with spaces; =x; ;auth_cookie=ok", "auth_cookie"), "ok");
    /* The first with the name decides, valid or not. */
    assert_string_equal(cookie("auth_cookie=a; auth_cookie=b", "auth_cookie"), "a");
    assert_string_equal(cookie("auth_cookie=a b; auth_cookie=c", "auth_cookie"), "(null)");
    /* Malformed values. */
    assert_string_equal(cookie("auth_cookie=\"abc", "auth_cookie"), "(null)");
    assert_string_equal(cookie("auth_cookie=\"", "auth_cookie"), "(null)");
    assert_string_equal(cookie("auth_cookie=a\"b", "auth_cookie"), "(null)");
    assert_string_equal(cookie("auth_cookie=a,b", "auth_cookie"), "(null)");
    assert_string_equal(cookie("auth_cookie=a\\b", "auth_cookie"), "(null)");
    assert_string_equal(cookie("auth_cookie=a\x80", "auth_cookie"), "(null)");
    /* Bad names asked for. */
    assert_string_equal(cookie("a=1", ""), "(null)");
    assert_string_equal(cookie("a=1", NULL), "(null)");
    assert_string_equal(cookie("a b=1", "a b"), "(null)");
    /* The value limit. */
    memcpy(big, "t=", 2);
    memset(big + 2, 'v', GH_TOKEN_TEXT_MAX);
    big[2 + GH_TOKEN_TEXT_MAX] = '\0';
    assert_int_equal(strlen(cookie(big, "t")), GH_TOKEN_TEXT_MAX);
    strcat(big, "v");
    assert_string_equal(cookie(big, "t"), "(null)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_and_empty),
        cmocka_unit_test(test_basic_ok),
        cmocka_unit_test(test_basic_padding),
        cmocka_unit_test(test_basic_bad_base64),
        cmocka_unit_test(test_basic_user_rules),
        cmocka_unit_test(test_basic_domain),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_other_schemes),
        cmocka_unit_test(test_reuse_and_wipe),
        cmocka_unit_test(test_x_auth_token),
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_cookies_without),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
