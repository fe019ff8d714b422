/*
 * test_http.c: gatehouse's own request/response helpers (src/dialects/common/http.c):
 * method names, header lookup through the adapter callback, the wipe of a
 * request's secrets when it ends, the response's
 * header arena and its owned and borrowed bodies, the string compares and
 * which media types an Accept header takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/common/http.h"

static void test_method_from(void **state)
{
    (void)state;
    assert_int_equal(gh_method_from(GH_STR("GET")), GH_METHOD_GET);
    assert_int_equal(gh_method_from(GH_STR("HEAD")), GH_METHOD_HEAD);
    assert_int_equal(gh_method_from(GH_STR("POST")), GH_METHOD_POST);
    assert_int_equal(gh_method_from(GH_STR("PUT")), GH_METHOD_PUT);
    assert_int_equal(gh_method_from(GH_STR("PATCH")), GH_METHOD_PATCH);
    assert_int_equal(gh_method_from(GH_STR("DELETE")), GH_METHOD_DELETE);
    assert_int_equal(gh_method_from(GH_STR("OPTIONS")), GH_METHOD_OPTIONS);
    /* Methods are case-sensitive; prefixes and longer names are other methods. */
    assert_int_equal(gh_method_from(GH_STR("get")), GH_METHOD_OTHER);
    assert_int_equal(gh_method_from(GH_STR("GE")), GH_METHOD_OTHER);
    assert_int_equal(gh_method_from(GH_STR("GETS")), GH_METHOD_OTHER);
    assert_int_equal(gh_method_from(GH_STR("TRACE")), GH_METHOD_OTHER);
    assert_int_equal(gh_method_from(GH_STR("")), GH_METHOD_OTHER);
    assert_int_equal(gh_method_from((gh_str){ NULL, 0 }), GH_METHOD_OTHER);
    assert_int_equal(gh_method_from((gh_str){ "GET\0", 4 }), GH_METHOD_OTHER);
}

static void test_method_name(void **state)
{
    (void)state;
    assert_string_equal(gh_method_name(GH_METHOD_GET), "GET");
    assert_string_equal(gh_method_name(GH_METHOD_PATCH), "PATCH");
    assert_string_equal(gh_method_name(GH_METHOD_OPTIONS), "OPTIONS");
    assert_string_equal(gh_method_name(GH_METHOD_OTHER), "OTHER");
    for (int m = GH_METHOD_GET; m <= GH_METHOD_OPTIONS; m++) {
        const char *n = gh_method_name((gh_method)m);

        assert_int_equal(gh_method_from((gh_str){ n, strlen(n) }), m);
    }
}

static gh_str fake_header(const gh_request *req, const char *name)
{
    (void)req;
    if (strcmp(name, "X-Auth-Token") == 0)
        return GH_STR("abc");
    return (gh_str){ NULL, 0 };
}

static void test_request_header(void **state)
{
    gh_request req;
    gh_str     v;

    (void)state;
    memset(&req, 0, sizeof(req));
    v = gh_request_header(&req, "X-Auth-Token");
    assert_null(v.data);
    req.header = fake_header;
    v = gh_request_header(&req, "X-Auth-Token");
    assert_true(gh_str_eq(v, "abc"));
    v = gh_request_header(&req, "Cookie");
    assert_null(v.data);
    v = gh_request_header(&req, NULL);
    assert_null(v.data);
    v = gh_request_header(NULL, "X-Auth-Token");
    assert_null(v.data);
}

/* A request's headers as an adapter holds them: writable bytes it owns. */
static char wipe_headers[] = "Basic YWRtaW46c2VjcmV0" "\0" "text/plain";

static gh_str wipe_header(const gh_request *req, const char *name)
{
    (void)req;
    if (strcmp(name, "Authorization") == 0)
        return (gh_str){ wipe_headers, 22 };
    if (strcmp(name, "Accept") == 0)
        return (gh_str){ wipe_headers + 23, 10 };
    return (gh_str){ NULL, 0 };
}

/* What the adapter's pool cleanup asks for: the Authorization value and the
 * body are zero for their whole length, nothing around them is touched, and
 * the body is forgotten. (That the adapter calls it on every path, and that
 * no other copy is left, test_memory_secrets.py checks in a real worker.) */
static void test_request_wipe(void **state)
{
    char       body[] = "{\"UserName\": \"a\", \"Password\": \"secret\"}|after";
    size_t     body_len = strlen(body) - strlen("|after");
    gh_request req;

    (void)state;
    memset(&req, 0, sizeof(req));
    req.header = wipe_header;
    req.body = (gh_str){ body, body_len };
    gh_request_wipe(&req);
    for (size_t i = 0; i < 22; i++)
        assert_int_equal(wipe_headers[i], 0);
    assert_string_equal(wipe_headers + 23, "text/plain");
    for (size_t i = 0; i < body_len; i++)
        assert_int_equal(body[i], 0);
    assert_string_equal(body + body_len, "|after");
    assert_null(req.body.data);
    assert_int_equal(req.body.len, 0);

    /* No header, no body, no request: nothing to do. */
    memset(&req, 0, sizeof(req));
    gh_request_wipe(&req);
    gh_request_wipe(NULL);
}

static void test_header_add(void **state)
{
    gh_response resp;

    (void)state;
    memset(&resp, 0, sizeof(resp));
    gh_response_header_add(&resp, "Location", "/redfish/v1/SessionService/Sessions/%s", "abc");
    gh_response_header_add(&resp, "Content-Length", "%d", 42);
    gh_response_header_add(&resp, "X-Empty", "%s", "");
    assert_int_equal(resp.nheaders, 3);
    assert_string_equal(resp.headers[0].name, "Location");
    assert_string_equal(gh_response_value(&resp, 0), "/redfish/v1/SessionService/Sessions/abc");
    assert_int_equal(resp.headers[0].value_len, strlen(gh_response_value(&resp, 0)));
    assert_string_equal(gh_response_value(&resp, 1), "42");
    assert_int_equal(resp.headers[1].value_len, 2);
    assert_string_equal(gh_response_value(&resp, 2), "");

    /* Past the limit, headers are dropped, never written out of bounds. */
    for (int i = 0; i < GH_RESPONSE_HEADERS_MAX + 5; i++)
        gh_response_header_add(&resp, "X-N", "%d", i);
    assert_int_equal(resp.nheaders, GH_RESPONSE_HEADERS_MAX);
    assert_string_equal(gh_response_value(&resp, GH_RESPONSE_HEADERS_MAX - 1), "12");
    gh_response_header_add(&resp, NULL, "x");
    gh_response_header_add(NULL, "X", "x");
    gh_response_free(&resp);
    assert_int_equal(resp.nheaders, 0);
    assert_int_equal(resp.arena_used, 0);
    assert_null(resp.headers[0].name);
}

/* The values share one fixed arena: one that does not fit is dropped whole,
 * never cut, and leaves no trace of itself; smaller ones still fit after it. */
static void test_header_arena(void **state)
{
    gh_response resp;
    char        big[GH_RESPONSE_HEADER_BYTES + 1];
    size_t      fill = GH_RESPONSE_HEADER_BYTES - 100;

    (void)state;
    memset(&resp, 0, sizeof(resp));
    memset(big, 's', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    /* Larger than the whole arena: dropped, and the cut bytes are wiped. */
    gh_response_header_add(&resp, "X-Big", "%s", big);
    assert_int_equal(resp.nheaders, 0);
    assert_int_equal(resp.arena_used, 0);
    assert_null(memchr(resp.arena, 's', sizeof(resp.arena)));

    /* A value that fills the arena but for its NUL fits exactly. */
    big[GH_RESPONSE_HEADER_BYTES - 1] = '\0';
    gh_response_header_add(&resp, "X-Full", "%s", big);
    assert_int_equal(resp.nheaders, 1);
    assert_int_equal(resp.arena_used, GH_RESPONSE_HEADER_BYTES);
    assert_int_equal(strlen(gh_response_value(&resp, 0)), GH_RESPONSE_HEADER_BYTES - 1);
    gh_response_header_add(&resp, "X-More", "%s", "");
    assert_int_equal(resp.nheaders, 1);
    gh_response_free(&resp);

    /* Most of the arena taken: a value over the rest is dropped, a small one fits. */
    big[fill] = '\0';
    gh_response_header_add(&resp, "X-Fill", "%s", big);
    gh_response_header_add(&resp, "X-Over", "%0200d", 7);
    gh_response_header_add(&resp, "X-Small", "%s", "ok");
    assert_int_equal(resp.nheaders, 2);
    assert_string_equal(resp.headers[1].name, "X-Small");
    assert_string_equal(gh_response_value(&resp, 1), "ok");
    assert_int_equal(resp.arena_used, fill + 1 + 3);
    for (size_t i = resp.arena_used; i < sizeof(resp.arena); i++)
        assert_int_equal(resp.arena[i], '\0');

    /* Freeing wipes the values (they may hold a session's token). */
    gh_response_free(&resp);
    assert_null(memchr(resp.arena, 's', sizeof(resp.arena)));
    assert_null(memchr(resp.arena, 'o', sizeof(resp.arena)));
}

/* A response is a plain struct: a copy carries its headers along. */
static void test_header_copy(void **state)
{
    gh_response resp, copy;

    (void)state;
    memset(&resp, 0, sizeof(resp));
    gh_response_header_add(&resp, "ETag", "\"%s\"", "0123");
    copy = resp;
    memset(&resp, 'z', sizeof(resp));
    assert_int_equal(copy.nheaders, 1);
    assert_string_equal(gh_response_value(&copy, 0), "\"0123\"");
    gh_response_free(&copy);
}

/* A throttled refusal always says when to come back, 1 s at the least. */
static void test_retry_after(void **state)
{
    gh_response resp;

    (void)state;
    gh_response_init(&resp);
    assert_int_equal(gh_response_retry_after(&resp, 7), 7);
    assert_int_equal(gh_response_retry_after(&resp, 0), 1);
    assert_int_equal(gh_response_retry_after(&resp, -5), 1);
    assert_int_equal(resp.nheaders, 3);
    assert_string_equal(resp.headers[0].name, "Retry-After");
    assert_string_equal(gh_response_value(&resp, 0), "7");
    assert_string_equal(gh_response_value(&resp, 1), "1");
    assert_string_equal(gh_response_value(&resp, 2), "1");
    gh_response_free(&resp);
}

static void test_body(void **state)
{
    gh_response resp;
    char       *owned;

    (void)state;
    memset(&resp, 0, sizeof(resp));
    gh_response_copy_body(&resp, "{\"a\":1}", 7, "application/json");
    assert_int_equal(resp.body_len, 7);
    assert_memory_equal(resp.body, "{\"a\":1}", 7);
    assert_int_equal(resp.body[7], '\0');
    assert_ptr_equal(resp.body_owned, resp.body);
    assert_string_equal(resp.content_type, "application/json");

    /* Replacing the body frees the old one (ASan would report a leak). */
    owned = strdup("hello");
    assert_non_null(owned);
    gh_response_set_body(&resp, owned, 5, "text/plain");
    assert_ptr_equal(resp.body, owned);
    assert_int_equal(resp.body_len, 5);
    assert_string_equal(resp.content_type, "text/plain");

    gh_response_copy_body(&resp, NULL, 0, "text/plain");
    assert_non_null(resp.body);
    assert_int_equal(resp.body_len, 0);
    gh_response_copy_body(&resp, NULL, 10, "text/plain");
    assert_int_equal(resp.body_len, 0);

    resp.status = 200;
    resp.reason = "OK";
    gh_response_header_add(&resp, "ETag", "\"%s\"", "0123");
    gh_response_free(&resp);
    assert_null(resp.body);
    assert_null(resp.body_owned);
    assert_int_equal(resp.body_len, 0);
    assert_int_equal(resp.status, 0);
    assert_null(resp.reason);
    assert_null(resp.content_type);
    /* Freeing twice is harmless: the response was zeroed. */
    gh_response_free(&resp);
    gh_response_free(NULL);
    gh_response_set_body(NULL, strdup("x"), 1, NULL);
}

/* A borrowed body is the lender's: never copied, never freed (ASan would
 * report freeing a static string or memory of the stack). */
static void test_borrowed_body(void **state)
{
    static const char tree_bytes[] = "{\"Id\":\"1\"}";
    char              stack_bytes[] = "on the stack";
    gh_response       resp;

    (void)state;
    memset(&resp, 0, sizeof(resp));
    gh_response_ref_body(&resp, tree_bytes, sizeof(tree_bytes) - 1, "application/json");
    assert_ptr_equal(resp.body, tree_bytes);
    assert_int_equal(resp.body_len, sizeof(tree_bytes) - 1);
    assert_null(resp.body_owned);
    assert_string_equal(resp.content_type, "application/json");
    /* Nothing to hand over. */
    assert_null(gh_response_release_body(&resp));
    assert_ptr_equal(resp.body, tree_bytes);
    gh_response_free(&resp);
    assert_null(resp.body);
    assert_string_equal(tree_bytes, "{\"Id\":\"1\"}");

    /* An owned body replaced by a borrowed one is freed; the borrowed one,
     * replaced in turn, is not. */
    gh_response_set_body(&resp, strdup("owned"), 5, "text/plain");
    gh_response_ref_body(&resp, stack_bytes, strlen(stack_bytes), "text/plain");
    assert_null(resp.body_owned);
    gh_response_ref_body(&resp, NULL, 3, NULL);
    assert_int_equal(resp.body_len, 0);
    gh_response_copy_body(&resp, "x", 1, "text/plain");
    gh_response_ref_body(&resp, stack_bytes, strlen(stack_bytes), "text/plain");
    gh_response_free(&resp);
    assert_string_equal(stack_bytes, "on the stack");
    gh_response_ref_body(NULL, stack_bytes, 1, NULL);
    assert_null(gh_response_release_body(NULL));
}

/* Handing an owned body over: the caller frees it; the response no longer does. */
static void test_release_body(void **state)
{
    gh_response resp;
    char       *owned = strdup("handed over");
    char       *got;

    (void)state;
    assert_non_null(owned);
    memset(&resp, 0, sizeof(resp));
    gh_response_set_body(&resp, owned, strlen(owned), "text/plain");
    got = gh_response_release_body(&resp);
    assert_ptr_equal(got, owned);
    assert_null(resp.body_owned);
    assert_ptr_equal(resp.body, owned);      /* still readable until the caller frees it */
    assert_int_equal(resp.body_len, strlen("handed over"));
    assert_null(gh_response_release_body(&resp));
    gh_response_free(&resp);                 /* frees nothing: a double free would abort */
    assert_string_equal(got, "handed over");
    free(got);
}

static void test_str_compare(void **state)
{
    (void)state;
    assert_true(gh_str_eq(GH_STR("Basic"), "Basic"));
    assert_false(gh_str_eq(GH_STR("basic"), "Basic"));
    assert_false(gh_str_eq(GH_STR("Basi"), "Basic"));
    assert_false(gh_str_eq(GH_STR("Basics"), "Basic"));
    assert_true(gh_str_eq(GH_STR(""), ""));
    assert_true(gh_str_eq((gh_str){ NULL, 0 }, ""));
    assert_false(gh_str_eq((gh_str){ NULL, 3 }, "abc"));
    assert_false(gh_str_eq(GH_STR("x"), NULL));

    assert_true(gh_str_eq_nocase(GH_STR("bAsIc"), "Basic"));
    assert_true(gh_str_eq_nocase(GH_STR("X-AUTH-TOKEN"), "x-auth-token"));
    assert_false(gh_str_eq_nocase(GH_STR("Basic "), "Basic"));
    assert_false(gh_str_eq_nocase(GH_STR("Bas"), "Basic"));
    /* ASCII folding only: '@' and '`' are not case variants of each other. */
    assert_false(gh_str_eq_nocase(GH_STR("@"), "`"));
    assert_false(gh_str_eq_nocase(GH_STR("\xc3\x89"), "\xc3\xa9"));
    assert_false(gh_str_eq_nocase(GH_STR("a"), NULL));
    assert_false(gh_str_eq_nocase((gh_str){ "ab\0", 3 }, "ab"));
}

static void test_allow_text(void **state)
{
    char out[32];
    char small[12];

    (void)state;
    gh_allow_text(GH_METHOD_READ, out, sizeof(out));
    assert_string_equal(out, "GET, HEAD");
    gh_allow_text(GH_METHOD_BIT(GH_METHOD_DELETE) | GH_METHOD_BIT(GH_METHOD_POST) |
                  GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_PATCH), out, sizeof(out));
    assert_string_equal(out, "GET, HEAD, POST, PATCH, DELETE");
    gh_allow_text(GH_METHOD_BIT(GH_METHOD_POST), out, sizeof(out));
    assert_string_equal(out, "POST");
    gh_allow_text(0, out, sizeof(out));
    assert_string_equal(out, "");
    /* Cut short: whole names only, always terminated. */
    gh_allow_text(GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_POST), small, sizeof(small));
    assert_string_equal(small, "GET, HEAD");
    gh_allow_text(GH_METHOD_READ, small, 4);
    assert_string_equal(small, "GET");
    gh_allow_text(GH_METHOD_READ, small, 3);
    assert_string_equal(small, "");
}

static void test_accept(void **state)
{
    static const struct {
        const char *accept;
        bool ok;
    } cases[] = {
        { "", true },
        { "   ", true },
        { "*/*", true },
        { "text/event-stream", true },
        { "TEXT/Event-Stream; charset=utf-8", true },
        { "text/*", true },
        { "application/json, text/event-stream;q=0.5", true },
        { "application/json", false },
        { "text/html", false },
        { "text/event-stream;q=0", false },
        { "text/event-stream; q=0.000, */*;q=0.1", true },
        { "text/event-stream;Q=0.0", false },
        { "*/*;q=0", false },
        { "text/event-streams", false },
        { "event-stream", false },
        { ",,,", false },
        { "text/event-stream;level=1;q=0.2", true },
        { "application/*", false },
    };

    (void)state;
    assert_true(gh_accept_allows((gh_str){ NULL, 0 }, "text/event-stream"));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_str v = { cases[i].accept, strlen(cases[i].accept) };

        if (gh_accept_allows(v, "text/event-stream") != cases[i].ok)
            fail_msg("Accept: %s", cases[i].accept);
    }
    /* A type without a '/' is nothing a range can name. */
    assert_false(gh_accept_allows(GH_STR("*/*"), "event-stream"));
    assert_true(gh_accept_allows(GH_STR("application/*"), "application/json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_from),
        cmocka_unit_test(test_method_name),
        cmocka_unit_test(test_request_header),
        cmocka_unit_test(test_request_wipe),
        cmocka_unit_test(test_header_add),
        cmocka_unit_test(test_header_arena),
        cmocka_unit_test(test_header_copy),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_borrowed_body),
        cmocka_unit_test(test_release_body),
        cmocka_unit_test(test_str_compare),
        cmocka_unit_test(test_allow_text),
        cmocka_unit_test(test_accept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
