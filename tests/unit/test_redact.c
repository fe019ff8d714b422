/*
 * test_redact.c: gh_redact_line (src/dialects/common/redact.c) on the lines nginx
 * 1.22 writes for requests: query parameters in the request line, referrer
 * and :path; credential headers in the messages that quote a header (invalid,
 * too long, duplicate, HTTP/2's "header \"NAME\" with invalid value"); URL
 * user information; and what it must leave alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/common/redact.h"

#define HANDLER ", client: 127.0.0.1, server: , request: \"GET / HTTP/1.1\", host: \"h\""

static const char *redact(const char *line)
{
    static char out[8192];
    size_t      n = gh_redact_line(line, strlen(line), out, sizeof(out) - 1);

    out[n] = '\0';
    return out;
}

static void test_query(void **state)
{
    (void)state;
    assert_string_equal(
        redact("client sent too long URI while reading client request line, client: 127.0.0.1, "
               "server: , request: \"GET /ovirt-engine/api?token=T1&a=1&password=P2"
               "&access_token=A3&refresh_token=R4&client_secret=C5&x=2 HTTP/1.1\""),
        "client sent too long URI while reading client request line, client: 127.0.0.1, "
        "server: , request: \"GET /ovirt-engine/api?token=[redacted]&a=1&password=[redacted]"
        "&access_token=[redacted]&refresh_token=[redacted]&client_secret=[redacted]&x=2 "
        "HTTP/1.1\"");
    /* Names are decoded and compared in any case; empty values stay empty. */
    assert_string_equal(redact("GET /?to%6Ben=s1&PassWord=s2&Api_Key=s3&token=&n=1 HTTP/1.1"),
                        "GET /?to%6Ben=[redacted]&PassWord=[redacted]&Api_Key=[redacted]"
                        "&token=&n=1 HTTP/1.1");
    /* A value ends at '&' or '#', or where nginx's text resumes: a raw blank
     * or quote inside it does not end it. */
    assert_string_equal(redact("request: \"GET /?password=a b\"c\" d HTTP/1.1\", host: \"h\""),
                        "request: \"GET /?password=[redacted] HTTP/1.1\", host: \"h\"");
    assert_string_equal(redact("client sent invalid :path header: \"x?token=s#f\" while x"),
                        "client sent invalid :path header: \"x?token=[redacted]#f\" while x");
    /* Cut off by the end of the line (nginx's 2048 bytes). */
    assert_string_equal(redact("request: \"GET /?token=abcdef"), "request: \"GET /?token=[redacted]");
    /* ;jsessionid= path parameters, the referrer's query. */
    assert_string_equal(redact("request: \"GET /a;jsessionid=S?x=1 HTTP/1.1\""),
                        "request: \"GET /a;jsessionid=[redacted] HTTP/1.1\"");
    assert_string_equal(redact(", referrer: \"https://x/?access_token=S\""),
                        ", referrer: \"https://x/?access_token=[redacted]\"");
}

static void test_headers(void **state)
{
    (void)state;
    assert_string_equal(
        redact("client sent invalid header line: \"Authorization: Basic YTpi\\x00...\" while "
               "reading client request headers" HANDLER),
        "client sent invalid header line: \"Authorization: [redacted] while reading client "
        "request headers" HANDLER);
    /* Too long: cut off inside the value, then the handler's text. */
    assert_string_equal(
        redact("client sent too long header line: \"Cookie: JSESSIONID=abc...\" while reading "
               "client request headers" HANDLER),
        "client sent too long header line: \"Cookie: [redacted] while reading client request "
        "headers" HANDLER);
    /* Both values of a duplicate go, up to the end of the message. */
    assert_string_equal(
        redact("client sent duplicate header line: \"Authorization: Basic x\", previous value: "
               "\"Authorization: Bearer y\" while reading client request headers" HANDLER),
        "client sent duplicate header line: \"Authorization: [redacted] while reading client "
        "request headers" HANDLER);
    /* HTTP/2 names the header in quotes; its value may hold quotes. */
    assert_string_equal(
        redact("client sent header \"x-auth-token\" with invalid value: \"a\"b\nc\" while "
               "processing HTTP/2 connection, client: 127.0.0.1"),
        "client sent header \"x-auth-token\" [redacted] while processing HTTP/2 connection, "
        "client: 127.0.0.1");
    /* Names holding a credential word, as dialects and nginx spell them. */
    assert_string_equal(redact("\"DELL-EMC-TOKEN: t\""), "\"DELL-EMC-TOKEN: [redacted]");
    assert_string_equal(redact("\"CSRFPreventionToken : t\" while x"),
                        "\"CSRFPreventionToken : [redacted] while x");
    assert_string_equal(redact("\"X_Auth_Token: t\""), "\"X_Auth_Token: [redacted]");
    assert_string_equal(redact("upstream sent invalid header: \"Set-Cookie: s=1\\x0A...\" "
                               "while reading response header from upstream, client: c"),
                        "upstream sent invalid header: \"Set-Cookie: [redacted] while reading "
                        "response header from upstream, client: c");
    /* A name alone is no credential. */
    assert_string_equal(redact("client sent invalid header name: \"X-Auth-Token\" while x"),
                        "client sent invalid header name: \"X-Auth-Token\" while x");
}

static void test_userinfo(void **state)
{
    (void)state;
    assert_string_equal(redact("referrer: \"https://user:pw@host/p\""),
                        "referrer: \"https://[redacted]@host/p\"");
    assert_string_equal(redact("request: \"GET http://a:b@h/ HTTP/1.1\""),
                        "request: \"GET http://[redacted]@h/ HTTP/1.1\"");
    assert_string_equal(redact("\"https://host/a@b\""), "\"https://host/a@b\"");
}

static void test_left_alone(void **state)
{
    static const char *const lines[] = {
        "2026/12/07 04:09:19 [notice] 31685#31685: start worker process 31700",
        "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) "
        "while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:8443",
        "client sent invalid method while reading client request line, client: 127.0.0.1, "
        "server: , request: \"POST /ovirt-engine/sso/oauth/token?grant_type=password"
        "&scope=ovirt-app-api HTTP/1.1\"",
        "client intended to send too large body: 5000 bytes" HANDLER,
        "request: \"GET /redfish/v1/SessionService/Sessions/abc HTTP/1.1\"",
        "gatehouse: cannot open the audit log \"/var/lib/gatehouse/audit.log\"",
        "client sent invalid request" HANDLER ", host: \"auth.example.org:8443\", "
        "referrer: \"https://key.example.org/\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        assert_string_equal(redact(lines[i]), lines[i]);
}

static void test_room(void **state)
{
    const char *line = "GET /?key=1&key=2&key=3 HTTP/1.1";
    char        out[64];
    size_t      n, cap;

    (void)state;
    /* Every room from none to enough: never over it, never the values. */
    for (cap = 0; cap < sizeof(out); cap++) {
        memset(out, 'Z', sizeof(out));
        n = gh_redact_line(line, strlen(line), out, cap);
        assert_true(n <= cap);
        assert_int_equal(out[cap], 'Z');
        assert_null(memmem(out, n, "=1", 2));
        assert_null(memmem(out, n, "=2", 2));
    }
    /* NUL bytes are bytes, and a long name is taken as a credential. */
    {
        char in[400];

        memcpy(in, "?token=a\0b", 10);
        n = gh_redact_line(in, 10, out, sizeof(out));
        assert_int_equal(n, strlen("?token=[redacted]"));
        assert_memory_equal(out, "?token=[redacted]", n);
        memset(in, 'n', 300);
        memcpy(in + 300, "=v", 2);
        n = gh_redact_line(in, 302, out, sizeof(out));
        assert_null(memmem(out, n, "=v", 2));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_left_alone),
        cmocka_unit_test(test_room),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
