/*
 * test_proxmox.c: the Proxmox VE dialect's parsers (proxmox_parse.c) on
 * their own, and the dialect driven the way the module drives it
 * (dialect_fixture.h): the ticket login and its renewal, a read with the
 * ticket cookie, the CSRF gate, API tokens and their privileges, and the
 * refusals in Proxmox VE's form.
 */
#include "../../src/dialects/proxmox/proxmox_internal.h"
#include "../../src/dialects/common/form.h"
#include "../../src/dialects/common/redact.h"
#include "dialect_fixture.h"

#define TOKEN64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int setup(void **state)
{
    fixture *f = fixture_new(&gh_proxmox_dialect, "proxmox");

    f->cfg.lockout_threshold = 0;
    fixture_ready(f);
    *state = f;
    return 0;
}

static gh_str S(const char *s)
{
    return (gh_str){ s, strlen(s) };
}

static void done(result *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->resp.nheaders; i++)
        n += strcasecmp(r->resp.headers[i].name, "Cache-Control") == 0;
    assert_int_equal(n, 1);
    assert_string_equal(hdr(r, "Cache-Control"), "max-age=0");
    if (r->resp.body_len > 0) {
        assert_string_equal(r->resp.content_type, GH_PVE_JSON_TYPE);
        assert_non_null(r->json);
        assert_non_null(json_object_get(r->json, "data"));
    }
    json_decref(r->json);
    gh_response_free(&r->resp);
}

/* A refusal: status, status line text, and {"data": null}. */
static void expect_fail(result r, int status, const char *reason)
{
    if (r.resp.status != status)
        fail_msg("expected %d, got %d: %.*s", status, r.resp.status, (int)r.resp.body_len,
                 r.resp.body != NULL ? r.resp.body : "");
    if (reason != NULL)
        assert_string_equal(r.resp.reason, reason);
    assert_true(json_is_null(json_object_get(r.json, "data")));
    done(&r);
}

/* ---- parsers ---- */

static void test_userid(void **state)
{
    gh_pve_userid id;

    (void)state;
    assert_int_equal(gh_pve_userid_parse(S("admin@pam"), &id), GH_PVE_ID_OK);
    assert_string_equal(id.user, "admin");
    assert_string_equal(id.realm, "pam");
    assert_int_equal(gh_pve_userid_parse(S("a.b-c@pve"), &id), GH_PVE_ID_OK);
    assert_int_equal(gh_pve_userid_parse(S("admin@ldap"), &id), GH_PVE_ID_REALM);
    assert_int_equal(gh_pve_userid_parse(S("admin"), &id), GH_PVE_ID_MALFORMED);
    assert_int_equal(gh_pve_userid_parse(S("@pam"), &id), GH_PVE_ID_MALFORMED);
    assert_int_equal(gh_pve_userid_parse(S("admin@"), &id), GH_PVE_ID_MALFORMED);
    assert_int_equal(gh_pve_userid_parse(S("ad min@pam"), &id), GH_PVE_ID_MALFORMED);
    assert_int_equal(gh_pve_userid_parse(S("a@b@pam"), &id), GH_PVE_ID_MALFORMED);
    assert_int_equal(gh_pve_userid_parse(S("admin@1pam"), &id), GH_PVE_ID_MALFORMED);
    assert_string_equal(id.user, "");
    assert_int_equal(gh_pve_userid_parse((gh_str){ NULL, 0 }, &id), GH_PVE_ID_MALFORMED);
}

static void test_route(void **state)
{
    gh_pve_route r;

    (void)state;
    gh_pve_route_parse(S("/api2/json/access/ticket"), &r);
    assert_int_equal(r.kind, GH_PVE_TICKET);
    gh_pve_route_parse(S("/api2/json/access/users/root%40pam/token/ci-1"), &r);
    assert_int_equal(r.kind, GH_PVE_TOKEN);
    assert_true(r.valid);
    assert_string_equal(r.userid.user, "root");
    assert_string_equal(r.tokenid, "ci-1");
    gh_pve_route_parse(S("/api2/json/access/users/root@pam/token/"), &r);
    assert_int_equal(r.kind, GH_PVE_TOKENS);
    assert_true(r.valid);
    gh_pve_route_parse(S("/api2/json/access/users/root@pam/token/1x"), &r);
    assert_int_equal(r.kind, GH_PVE_TOKEN);
    assert_false(r.valid);
    gh_pve_route_parse(S("/api2/json/access/users/root@pam/token/a/b"), &r);
    assert_false(r.valid);
    gh_pve_route_parse(S("/api2/json/access/users/root@pam/tfa"), &r);
    assert_int_equal(r.kind, GH_PVE_TREE);
    gh_pve_route_parse(S("/api2/json/nodes/pve1/status"), &r);
    assert_int_equal(r.kind, GH_PVE_TREE);
    assert_true(r.valid);
    assert_string_equal(r.path, "/api2/json/nodes/pve1/status");
    gh_pve_route_parse(S("/api2/json/%zz"), &r);
    assert_false(r.valid);
    gh_pve_route_parse(S("/api2/json/a%00b"), &r);
    assert_false(r.valid);
}

static void test_ticket(void **state)
{
    gh_pve_ticket t;
    gh_pve_userid id = { "alice", "pve" };
    char          text[GH_PVE_TICKET_MAX + 1];

    (void)state;
    gh_pve_ticket_text(&id, 0x6B1657D2, TOKEN64, text);
    assert_string_equal(text, "PVE:alice@pve:6B1657D2::" TOKEN64);
    assert_int_equal(gh_pve_ticket_parse(S(text), &t), 0);
    assert_string_equal(t.userid.user, "alice");
    assert_string_equal(t.userid.realm, "pve");
    assert_int_equal(t.issued, 0x6B1657D2);
    assert_int_equal(t.secret.len, 64);
    assert_memory_equal(t.secret.data, TOKEN64, 64);
    /* one spelling only */
    assert_int_equal(gh_pve_ticket_parse(S("PVE:alice@pve:6b1657d2::" TOKEN64), &t), -1);
    assert_int_equal(gh_pve_ticket_parse(S("PVE:alice@pve:6B1657D2:" TOKEN64 "0"), &t), -1);
    assert_int_equal(gh_pve_ticket_parse(S("PVE:alice@pve:6B1657D2::" TOKEN64 "0"), &t), -1);
    assert_int_equal(gh_pve_ticket_parse(S("PMG:alice@pve:6B1657D2::" TOKEN64), &t), -1);
    assert_int_equal(gh_pve_ticket_parse(S("PVE:alice@ad:6B1657D2::" TOKEN64), &t), -1);
    assert_int_equal(gh_pve_ticket_parse(S("PVE:alice@pve:6B1657D2::" "0123456789ABCDEF"
                                           "0123456789abcdef0123456789abcdef0123456789abcdef"),
                                         &t), -1);
    assert_int_equal(gh_pve_ticket_parse(S("PVE:"), &t), -1);
}

static void test_apitoken(void **state)
{
    gh_pve_apitoken t;

    (void)state;
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@pam!ci=s3cr=et"), &t), 1);
    assert_string_equal(t.userid.user, "root");
    assert_string_equal(t.tokenid, "ci");
    assert_int_equal(t.secret.len, 7);
    assert_memory_equal(t.secret.data, "s3cr=et", 7);
    assert_int_equal(gh_pve_apitoken_parse(S("  PVEAPIToken root@pve!a.b:xyz "), &t), 1);
    assert_string_equal(t.tokenid, "a.b");
    assert_int_equal(t.secret.len, 3);
    assert_int_equal(gh_pve_apitoken_parse((gh_str){ NULL, 0 }, &t), 0);
    assert_int_equal(gh_pve_apitoken_parse(S("Basic YWRtaW46eA=="), &t), 0);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPITokenX=root@pam!ci=s"), &t), 0);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@pam"), &t), -1);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@pam!ci"), &t), -1);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@pam!ci="), &t), -1);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@pam!1ci=s"), &t), -1);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@ldap!ci=s"), &t), -1);
    assert_int_equal(gh_pve_apitoken_parse(S("PVEAPIToken=root@pam!ci=a b"), &t), -1);
    assert_string_equal(t.tokenid, "");
}

static void test_csrf(void **state)
{
    uint8_t secret[GH_DIGEST_LEN] = { 1, 2, 3 };
    char    tok[GH_PVE_CSRF_LEN + 1], other[GH_PVE_CSRF_LEN + 1];
    const char *id = "0123456789abcdef0123456789abcdef";

    (void)state;
    gh_pve_csrf_token(secret, id, 0x6B1657D2, tok);
    assert_int_equal(strlen(tok), GH_PVE_CSRF_LEN);
    assert_memory_equal(tok, "6B1657D2:", 9);
    assert_true(gh_pve_csrf_ok(secret, id, S(tok)));
    /* bound to the session and to the time it carries */
    assert_false(gh_pve_csrf_ok(secret, "1123456789abcdef0123456789abcdef", S(tok)));
    memcpy(other, tok, sizeof(other));
    other[0] = '7';
    assert_false(gh_pve_csrf_ok(secret, id, S(other)));
    other[0] = tok[0];
    other[GH_PVE_CSRF_LEN - 1] ^= 1;
    assert_false(gh_pve_csrf_ok(secret, id, S(other)));
    assert_false(gh_pve_csrf_ok(secret, id, (gh_str){ NULL, 0 }));
    assert_false(gh_pve_csrf_ok(secret, id, (gh_str){ tok, GH_PVE_CSRF_LEN - 1 }));
    assert_false(gh_pve_csrf_ok(secret, "", S(tok)));
}

static gh_pve_params_result params(const char *query, const char *type, const char *body,
                                   char *a, char *b, char *unknown)
{
    test_req     t;
    gh_pve_param p[] = { { "a", a, 8, 0 }, { "b", b, 8, 0 } };
    gh_pve_params_result r;

    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "POST", "/api2/json/x");
    t.req.query = S(query);
    t.req.body = body != NULL ? S(body) : (gh_str){ NULL, 0 };
    if (type != NULL) {
        t.names[0] = "Content-Type";
        t.values[0] = type;
        t.n = 1;
    }
    r = gh_pve_params_read(&t.req, p, 2, unknown, 16);
    if (r == GH_PVE_PARAMS_OK && p[1].state == GH_FORM_TOO_LONG)
        strcpy(b, "<long>");
    return r;
}

static void test_params(void **state)
{
    char a[8], b[8], unknown[16];

    (void)state;
    assert_int_equal(params("a=1", NULL, "b=x%20y", a, b, unknown), GH_PVE_PARAMS_OK);
    assert_string_equal(a, "1");
    assert_string_equal(b, "x y");
    assert_int_equal(params("", "application/json; charset=utf-8",
                            "{\"a\": \"s\", \"b\": 12}", a, b, unknown), GH_PVE_PARAMS_OK);
    assert_string_equal(a, "s");
    assert_string_equal(b, "12");
    assert_int_equal(params("", "application/json", "{\"a\": true}", a, b, unknown),
                     GH_PVE_PARAMS_OK);
    assert_string_equal(a, "1");
    assert_int_equal(params("", NULL, "b=123456789", a, b, unknown), GH_PVE_PARAMS_OK);
    assert_string_equal(b, "<long>");
    assert_int_equal(params("c=1", NULL, NULL, a, b, unknown), GH_PVE_PARAMS_UNKNOWN);
    assert_string_equal(unknown, "c");
    assert_int_equal(params("", "application/json", "{\"c\\u0001\": 1}", a, b, unknown),
                     GH_PVE_PARAMS_UNKNOWN);
    assert_string_equal(unknown, "c?");
    assert_int_equal(params("a=%zz", NULL, NULL, a, b, unknown), GH_PVE_PARAMS_MALFORMED);
    assert_int_equal(params("", NULL, "a=x%00", a, b, unknown), GH_PVE_PARAMS_MALFORMED);
    assert_int_equal(params("", NULL, "a=1&a=2", a, b, unknown), GH_PVE_PARAMS_MALFORMED);
    assert_int_equal(params("", "application/json", "[1]", a, b, unknown),
                     GH_PVE_PARAMS_MALFORMED);
    assert_int_equal(params("", "application/json", "{\"a\": [1]}", a, b, unknown),
                     GH_PVE_PARAMS_MALFORMED);
    assert_int_equal(params("", "application/json", "{\"a\": \"x\\u0000\"}", a, b, unknown),
                     GH_PVE_PARAMS_MALFORMED);
    assert_int_equal(params("", "text/plain", "a=1", a, b, unknown), GH_PVE_PARAMS_MALFORMED);
}

static void test_caps(void **state)
{
    json_t *admin = gh_pve_caps(GH_ROLE_ADMINISTRATOR), *reader = gh_pve_caps(GH_ROLE_READONLY);
    json_t *none = gh_pve_caps(GH_ROLE_NONE);

    (void)state;
    assert_int_equal(json_integer_value(json_object_get(json_object_get(admin, "access"),
                                                        "User.Modify")), 1);
    assert_int_equal(json_object_size(json_object_get(reader, "access")), 0);
    assert_non_null(json_object_get(json_object_get(reader, "vms"), "VM.Audit"));
    assert_null(json_object_get(json_object_get(reader, "vms"), "VM.PowerMgmt"));
    assert_int_equal(json_object_size(json_object_get(none, "nodes")), 0);
    json_decref(admin);
    json_decref(reader);
    json_decref(none);
}

/* The log redaction takes out every credential this dialect reads: the
 * PVEAPIToken header, the ticket cookie, the CSRF header, the password of a
 * login sent in a query, and a ticket or token named as a parameter. */
static void test_redaction(void **state)
{
    static const char *const lines[] = {
        "client sent invalid header line: \"Authorization: PVEAPIToken=root@pam!ci=SECRET1\" "
        "while reading client request headers, client: 192.0.2.1",
        "client sent duplicate header line: \"Cookie: PVEAuthCookie=PVE:root@pam:6B1657D2::SECRET2\", "
        "previous value: \"Cookie: PVEAuthCookie=SECRET3\", client: 192.0.2.1",
        "client sent header \"csrfpreventiontoken\" with invalid value: \"6B1657D2:SECRET4\" "
        "while processing HTTP/2 connection, client: 192.0.2.1",
        "open() failed, client: 192.0.2.1, request: \"POST /api2/json/access/ticket?"
        "username=root@pam&password=SECRET5 HTTP/1.1\"",
        "request: \"GET /x?PVEAuthCookie=SECRET6&PVEAPIToken=SECRET7 HTTP/1.1\"",
    };
    char out[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t n = gh_redact_line(lines[i], strlen(lines[i]), out, sizeof(out) - 1);

        out[n] = '\0';
        if (strstr(out, "SECRET") != NULL)
            fail_msg("a credential left in: %s", out);
        assert_non_null(strstr(out, GH_REDACTED));
    }
}

/* ---- the dialect ---- */

typedef struct {
    char ticket[GH_PVE_TICKET_MAX + 1];
    char cookie[GH_PVE_TICKET_MAX + 32];
    char csrf[GH_PVE_CSRF_LEN + 1];
} login;

static login do_login(fixture *f, const char *body)
{
    login  l;
    result r = run(f, "POST", "/api2/json/access/ticket", body, NULL);
    json_t *d = json_object_get(r.json, "data");

    if (r.resp.status != 200)
        fail_msg("login: %d %.*s", r.resp.status, (int)r.resp.body_len, r.resp.body);
    assert_int_equal(r.plan.work, GH_WORK_HASH);
    assert_true(r.plan.open);
    snprintf(l.ticket, sizeof(l.ticket), "%s", json_string_value(json_object_get(d, "ticket")));
    snprintf(l.cookie, sizeof(l.cookie), GH_PVE_COOKIE "=%s", l.ticket);
    snprintf(l.csrf, sizeof(l.csrf), "%s",
             json_string_value(json_object_get(d, "CSRFPreventionToken")));
    done(&r);
    return l;
}

static void test_login_and_read(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "username=oper%40pam&password=" PW);
    result   r;

    r = run(f, "GET", "/api2/json/nodes", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(r.plan.work, GH_WORK_INLINE);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(json_object_get(r.json, "data"), 0), "node")), "pve1");
    done(&r);
    /* paths are matched exactly */
    expect_fail(run(f, "GET", "/api2/json/Nodes", NULL, "Cookie", l.cookie, NULL), 404, NULL);
    expect_fail(run(f, "GET", "/api2/json/nodes", NULL, NULL), 401, "No ticket");
    expect_fail(run(f, "POST", "/api2/json/access/ticket",
                    "username=oper@pam&password=wrong", NULL), 401, "authentication failure");
    expect_fail(run(f, "POST", "/api2/json/access/ticket",
                    "username=oper@ad&password=" PW, NULL), 401, "authentication failure");
    /* one Cache-Control, one Allow: the refusal is made once */
    r = run(f, "DELETE", "/api2/json/access/ticket", NULL, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, POST");
    done(&r);
    f->plain_http = true;
    expect_fail(run(f, "POST", "/api2/json/access/ticket",
                    "username=oper@pam&password=" PW, NULL), 403, NULL);
}

static void test_csrf_gate(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "username=admin@pve&password=" PW);
    result   r;

    expect_fail(run(f, "POST", "/api2/json/access/users/admin@pve/token/t", "", "Cookie",
                    l.cookie, NULL), 401, "Permission denied - invalid csrf token");
    r = run(f, "POST", "/api2/json/access/users/admin@pve/token/t", "", "Cookie", l.cookie,
            GH_PVE_CSRF_HEADER, l.csrf, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "data"),
                                                           "full-tokenid")), "admin@pve!t");
    done(&r);
}

static void test_renewal(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "username=viewer@pam&password=" PW);
    char     body[512];
    login    again;

    snprintf(body, sizeof(body), "username=viewer@pam&password=%s", l.ticket);
    again = do_login(f, body);
    assert_string_not_equal(again.ticket, l.ticket);
    /* another user's name, or a ticket that is not alive, renews nothing */
    snprintf(body, sizeof(body), "username=oper@pam&password=%s", l.ticket);
    expect_fail(run(f, "POST", "/api2/json/access/ticket", body, NULL), 401, NULL);
    expect_fail(run(f, "POST", "/api2/json/access/ticket",
                    "username=viewer@pam&password=PVE:viewer@pam:00000000::" TOKEN64, NULL),
                401, NULL);
}

static void test_api_token(void **state)
{
    fixture   *f = *state;
    login      l = do_login(f, "username=oper@pam&password=" PW);
    result     r;
    char       auth[200];
    const char *path = "/api2/json/access/users/oper@pam/token/ci";

    r = run(f, "POST", path, "privsep=0&comment=c", "Cookie", l.cookie,
            GH_PVE_CSRF_HEADER, l.csrf, NULL);
    assert_int_equal(r.resp.status, 200);
    snprintf(auth, sizeof(auth), "PVEAPIToken=oper@pam!ci=%s",
             json_string_value(json_object_get(json_object_get(r.json, "data"), "value")));
    done(&r);

    r = run(f, "GET", "/api2/json/version", NULL, "Authorization", auth, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(r.plan.open);
    assert_int_equal(r.plan.work, GH_WORK_STORE);
    done(&r);
    /* no CSRF for a token, the account's role (Operator), no token management */
    expect_fail(run(f, "PUT", "/api2/json/nodes/pve1/status", NULL, "Authorization", auth, NULL),
                405, NULL);
    expect_fail(run(f, "DELETE", path, NULL, "Authorization", auth, NULL), 403, NULL);
    auth[strlen(auth) - 1] ^= 1;
    expect_fail(run(f, "GET", "/api2/json/version", NULL, "Authorization", auth, NULL), 401, NULL);
    /* another user's tokens need ConfigureUsers */
    expect_fail(run(f, "GET", "/api2/json/access/users/admin@pam/token", NULL, "Cookie", l.cookie,
                    NULL), 403, "Permission check failed");
}

static void test_token_privsep(void **state)
{
    fixture   *f = *state;
    login      l = do_login(f, "username=admin@pam&password=" PW);
    result     r;
    char       auth[200];

    r = run(f, "POST", "/api2/json/access/users/admin@pam/token/sep", "expire=0", "Cookie",
            l.cookie, GH_PVE_CSRF_HEADER, l.csrf, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
        r.json, "data"), "info"), "privsep")), 1);
    snprintf(auth, sizeof(auth), "PVEAPIToken=admin@pam!sep=%s",
             json_string_value(json_object_get(json_object_get(r.json, "data"), "value")));
    done(&r);
    expect_fail(run(f, "POST", "/api2/json/nodes/pve1/status", NULL, "Authorization", auth, NULL),
                403, "Permission check failed");
    expect_fail(run(f, "POST", "/api2/json/access/users/admin@pam/token/x", "privsep=2",
                    "Cookie", l.cookie, GH_PVE_CSRF_HEADER, l.csrf, NULL), 400, NULL);
    expect_fail(run(f, "POST", "/api2/json/access/users/admin@pam/token/x", "expire=-1",
                    "Cookie", l.cookie, GH_PVE_CSRF_HEADER, l.csrf, NULL), 400, NULL);
    expect_fail(run(f, "POST", "/api2/json/access/users/nobody@pam/token/x", "",
                    "Cookie", l.cookie, GH_PVE_CSRF_HEADER, l.csrf, NULL), 404, NULL);
}

/* ---- API tokens as the store keeps them ---- */

#define DIGEST64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_token_text(void **state)
{
    static const char *const bad[] = {
        "", "v2 " DIGEST64 " 1 0 c", "v1 " DIGEST64 " 1 0",
        "v1 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff 1 0 c",
        "v1 " DIGEST64 "0 1 0 c", "v1 " DIGEST64 " 2 0 c", "v1 " DIGEST64 " 1 01 c",
        "v1 " DIGEST64 " 1 -1 c", "v1 " DIGEST64 " 1 1234567890123 c",
        "v1 " DIGEST64 " 1 0 a\tb", "v1 " DIGEST64 "  1 0 c", "v1 " DIGEST64 " 1  0 c",
    };
    gh_pve_token tok, back;
    char         text[GH_ATTRIBUTE_VALUE_MAX + 1], long_comment[GH_PVE_COMMENT_MAX + 2];

    (void)state;
    memset(&tok, 0, sizeof(tok));
    for (size_t i = 0; i < GH_DIGEST_LEN; i++)
        tok.digest[i] = (uint8_t)(0x11 * (i % 16));
    tok.privsep = true;
    tok.expire = 1900000000;
    memset(tok.comment, 'c', GH_PVE_COMMENT_MAX);
    tok.comment[0] = ' ';       /* a comment may hold and begin with blanks */
    gh_pve_token_text(&tok, text);
    assert_int_equal(strlen(text), 3 + 64 + 3 + 11 + GH_PVE_COMMENT_MAX);
    assert_int_equal(gh_pve_token_parse(text, &back), 0);
    assert_memory_equal(&back, &tok, sizeof(tok));
    assert_int_equal(gh_pve_token_parse("v1 " DIGEST64 " 0 0 ", &back), 0);
    assert_false(back.privsep);
    assert_int_equal(back.expire, 0);
    assert_string_equal(back.comment, "");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gh_pve_token_parse(bad[i], &back) == 0)
            fail_msg("read as a token: \"%s\"", bad[i]);
    }
    memset(long_comment, 'c', sizeof(long_comment) - 1);
    long_comment[sizeof(long_comment) - 1] = '\0';
    snprintf(text, sizeof(text), "v1 " DIGEST64 " 0 0 %s", long_comment);
    assert_int_equal(gh_pve_token_parse(text, &back), -1);
    assert_int_equal(gh_pve_token_parse(NULL, &back), -1);
}

/* A new token of the admin: its secret in auth ("" when refused: status in *status). */
static int make_token(fixture *f, const login *l, const char *id, const char *body, char *auth,
                      size_t authlen)
{
    char   path[128];
    result r;
    int    status;

    snprintf(path, sizeof(path), "/api2/json/access/users/admin@pam/token/%s", id);
    r = run(f, "POST", path, body, "Cookie", l->cookie, GH_PVE_CSRF_HEADER, l->csrf, NULL);
    status = r.resp.status;
    snprintf(auth, authlen, "PVEAPIToken=admin@pam!%s=%s", id,
             status == 200 ? json_string_value(json_object_get(json_object_get(r.json, "data"),
                                                               "value")) : "");
    done(&r);
    return status;
}

/* Tokens are the account's attributes of this dialect: the secret's digest
 * only, listed in the order made, gone with their account. */
static void test_token_attributes(void **state)
{
    fixture     *f = *state;
    login        l = do_login(f, "username=admin@pam&password=" PW);
    char         auth[200], text[GH_ATTRIBUTE_VALUE_MAX + 1];
    gh_pve_token tok;
    result       r;

    assert_int_equal(make_token(f, &l, "one", "comment=first", auth, sizeof(auth)), 200);
    assert_int_equal(make_token(f, &l, "two", "privsep=0", auth, sizeof(auth)), 200);
    assert_int_equal(make_token(f, &l, "one", "", text, sizeof(text)), 400);
    /* an index as an earlier build kept it is neither listed nor in the way */
    assert_int_equal(gh_store_attribute_set(f->store, f->admin_id, "proxmox", "tokens",
                                            "one two gone "), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_get(f->store, f->admin_id, "proxmox", "token:two", text,
                                            sizeof(text)), GH_STORE_OK);
    assert_null(strstr(text, strrchr(auth, '=') + 1));     /* never the secret */
    assert_int_equal(gh_pve_token_parse(text, &tok), 0);
    assert_false(tok.privsep);

    r = run(f, "GET", "/api2/json/access/users/admin@pam/token", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
        r.json, "data"), 0), "tokenid")), "one");
    done(&r);
    r = run(f, "DELETE", "/api2/json/access/users/admin@pam/token/one", NULL, "Cookie",
            l.cookie, GH_PVE_CSRF_HEADER, l.csrf, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(gh_store_attribute_get(f->store, f->admin_id, "proxmox", "token:one", text,
                                            sizeof(text)), GH_STORE_NOT_FOUND);
    expect_fail(run(f, "DELETE", "/api2/json/access/users/admin@pam/token/one", NULL, "Cookie",
                    l.cookie, GH_PVE_CSRF_HEADER, l.csrf, NULL), 404, "no such token");

    /* what the store holds is read as strictly as what a client sends */
    assert_int_equal(gh_store_attribute_set(f->store, f->admin_id, "proxmox", "token:two",
                                            "v1 garbage"), GH_STORE_OK);
    expect_fail(run(f, "GET", "/api2/json/version", NULL, "Authorization", auth, NULL), 503, NULL);
    expect_fail(run(f, "GET", "/api2/json/access/users/admin@pam/token/two", NULL, "Cookie",
                    l.cookie, NULL), 503, NULL);

    assert_int_equal(gh_store_account_delete(f->store, f->admin_id), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_get(f->store, f->admin_id, "proxmox", "token:two", text,
                                            sizeof(text)), GH_STORE_NOT_FOUND);
}

/* No cap on an account's tokens: forty with the longest ids are made, all
 * listed by id, and each one works. */
static void test_token_list_many(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "username=admin@pam&password=" PW);
    char     id[GH_PVE_TOKENID_MAX + 1], auth[200], first[200];
    json_t  *data;
    result   r;
    enum { N = 40 };

    memset(id, 'a', GH_PVE_TOKENID_MAX);
    id[GH_PVE_TOKENID_MAX] = '\0';
    for (int i = 0; i < N; i++) {
        /* made in the reverse of their order by id */
        id[1] = (char)('z' - i / 26);
        id[2] = (char)('z' - i % 26);
        assert_int_equal(make_token(f, &l, id, "", auth, sizeof(auth)), 200);
        if (i == 0)
            snprintf(first, sizeof(first), "%s", auth);
    }
    r = run(f, "GET", "/api2/json/access/users/admin@pam/token", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    data = json_object_get(r.json, "data");
    assert_int_equal(json_array_size(data), N);
    for (int i = 0; i < N; i++) {
        id[1] = (char)('z' - (N - 1 - i) / 26);
        id[2] = (char)('z' - (N - 1 - i) % 26);
        assert_string_equal(json_string_value(json_object_get(json_array_get(data, (size_t)i),
                                                              "tokenid")), id);
    }
    done(&r);
    r = run(f, "GET", "/api2/json/version", NULL, "Authorization", first, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(make_token(f, &l, id, "", auth, sizeof(auth)), 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_userid),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_ticket),
        cmocka_unit_test(test_apitoken),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test_setup_teardown(test_login_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renewal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_privsep, setup, teardown),
        cmocka_unit_test(test_token_text),
        cmocka_unit_test_setup_teardown(test_token_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_list_many, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
