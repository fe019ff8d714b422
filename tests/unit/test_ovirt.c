/*
 * test_ovirt.c: the oVirt dialect's parts that need no account: the routes,
 * the header parsers (Prefer, Session-TTL, Version, Accept), profiles, which
 * credential an API request carries, the classifier's plans, the refusals,
 * the errors nginx decides, and the CA download. The fixture is in
 * ovirt_fixture.h; the SSO is tested in test_ovirt_sso.c, the API in
 * test_ovirt_api.c.
 */
#include "ovirt_fixture.h"

#define S(lit) GH_STR(lit)

static void test_routes(void **state)
{
    static const struct {
        const char         *path;
        gh_ovirt_route_kind kind;
        int                 version;
        bool                root;
        const char         *rest;
    } cases[] = {
        { "/ovirt-engine/services/pki-resource", GH_OV_PKI, 0, false, "" },
        { "/ovirt-engine/sso/oauth/token", GH_OV_TOKEN, 0, false, "" },
        { "/ovirt-engine/services/sso-logout", GH_OV_LOGOUT, 0, false, "" },
        { "/ovirt-engine/api", GH_OV_API, 0, true, "" },
        { "/ovirt-engine/api/", GH_OV_API, 0, true, "" },
        { "/ovirt-engine/api/v4", GH_OV_API, 4, true, "" },
        { "/ovirt-engine/api/v4/", GH_OV_API, 4, true, "" },
        { "/ovirt-engine/api/v3/vms", GH_OV_API, 3, false, "/vms" },
        { "/ovirt-engine/api/v4/vms/abc/", GH_OV_API, 4, false, "/vms/abc" },
        { "/ovirt-engine/api/vms", GH_OV_API, 0, false, "/vms" },
        { "/ovirt-engine/api/v5", GH_OV_API, 5, true, "" },
        { "/ovirt-engine/api/v0", GH_OV_API, -1, true, "" },
        { "/ovirt-engine/api/v4x", GH_OV_API, 0, false, "/v4x" },
        { "/ovirt-engine/api/v1234", GH_OV_API, 0, false, "/v1234" },
        { "/ovirt-engine/api/v", GH_OV_API, 0, false, "/v" },
        { "/ovirt-engine/apix", GH_OV_OTHER, 0, false, "" },
        { "/ovirt-engine/API", GH_OV_OTHER, 0, false, "" },
        { "/ovirt-engine/sso/oauth/token/", GH_OV_OTHER, 0, false, "" },
        { "/ovirt-engine/sso/oauth/token-http-auth", GH_OV_OTHER, 0, false, "" },
        { "/ovirt-engine", GH_OV_OTHER, 0, false, "" },
    };
    gh_ovirt_route r;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_ovirt_route_parse((gh_str){ cases[i].path, strlen(cases[i].path) }, &r);
        if (r.kind != cases[i].kind || r.path_version != cases[i].version ||
            r.root != cases[i].root || !gh_str_eq(r.rest, cases[i].rest))
            fail_msg("%s: kind %d version %d root %d rest %.*s", cases[i].path, r.kind,
                     r.path_version, r.root, (int)r.rest.len, r.rest.data);
    }
    gh_ovirt_route_parse((gh_str){ NULL, 0 }, &r);
    assert_int_equal(r.kind, GH_OV_OTHER);
}

static void test_prefer(void **state)
{
    const unsigned P = GH_OVIRT_PREFER_PERSISTENT, N = GH_OVIRT_PREFER_NEW_AUTH,
                   C = GH_OVIRT_PREFER_CSRF;

    (void)state;
    assert_int_equal(gh_ovirt_prefer((gh_str){ NULL, 0 }), 0);
    assert_int_equal(gh_ovirt_prefer(S("")), 0);
    assert_int_equal(gh_ovirt_prefer(S("persistent-auth")), P);
    assert_int_equal(gh_ovirt_prefer(S("Persistent-Auth")), P);
    assert_int_equal(gh_ovirt_prefer(S("PERSISTENT-AUTH")), P);
    assert_int_equal(gh_ovirt_prefer(S("new-auth")), N);
    assert_int_equal(gh_ovirt_prefer(S("csrf-protection")), C);
    /* Several in one header, values and parameters ignored (as the engine's tests). */
    assert_int_equal(gh_ovirt_prefer(S("x, persistent-auth, y")), P);
    assert_int_equal(gh_ovirt_prefer(S("persistent-auth=false")), P);
    assert_int_equal(gh_ovirt_prefer(S("persistent-auth=junk")), P);
    assert_int_equal(gh_ovirt_prefer(S("persistent-auth; x=0; y=0")), P);
    assert_int_equal(gh_ovirt_prefer(S("persistent-auth, new-auth; x=0; y=0")), P | N);
    assert_int_equal(gh_ovirt_prefer(S("  persistent-auth ,csrf-protection  ")), P | C);
    /* A comma inside a quoted value does not start an element. */
    assert_int_equal(gh_ovirt_prefer(S("x=\"a, new-auth\", persistent-auth")), P);
    assert_int_equal(gh_ovirt_prefer(S("x=\"a\\\", new-auth\"")), 0);
    /* Not the name: a prefix, a longer word, a value that looks like one. */
    assert_int_equal(gh_ovirt_prefer(S("persistent")), 0);
    assert_int_equal(gh_ovirt_prefer(S("persistent-authx")), 0);
    assert_int_equal(gh_ovirt_prefer(S("x=persistent-auth")), 0);
    assert_int_equal(gh_ovirt_prefer(S(",,,")), 0);
    assert_int_equal(gh_ovirt_prefer(S("\"persistent-auth\"")), 0);
}

static void test_session_ttl(void **state)
{
    int64_t m = -1;

    (void)state;
    assert_true(gh_ovirt_session_ttl(S("30"), &m));
    assert_int_equal(m, 30);
    assert_true(gh_ovirt_session_ttl(S(" 1 "), &m));
    assert_int_equal(m, 1);
    assert_true(gh_ovirt_session_ttl(S("999999999"), &m));
    assert_int_equal(m, 999999999);
    m = -1;
    assert_false(gh_ovirt_session_ttl((gh_str){ NULL, 0 }, &m));
    assert_false(gh_ovirt_session_ttl(S(""), &m));
    assert_false(gh_ovirt_session_ttl(S("0"), &m));
    assert_false(gh_ovirt_session_ttl(S("-5"), &m));
    assert_false(gh_ovirt_session_ttl(S("+5"), &m));
    assert_false(gh_ovirt_session_ttl(S("5m"), &m));
    assert_false(gh_ovirt_session_ttl(S("1 0"), &m));
    assert_false(gh_ovirt_session_ttl(S("1000000000"), &m));
    assert_int_equal(m, -1);
}

static void test_version(void **state)
{
    (void)state;
    assert_true(gh_ovirt_version_ok(0, (gh_str){ NULL, 0 }));
    assert_true(gh_ovirt_version_ok(0, S("4")));
    assert_true(gh_ovirt_version_ok(0, S(" 3 ")));
    assert_true(gh_ovirt_version_ok(0, S("")));
    assert_false(gh_ovirt_version_ok(0, S("5")));
    assert_false(gh_ovirt_version_ok(0, S("4.0")));
    assert_false(gh_ovirt_version_ok(0, S("v4")));
    /* The path's version wins over the header, as on the engine. */
    assert_true(gh_ovirt_version_ok(4, S("5")));
    assert_true(gh_ovirt_version_ok(3, (gh_str){ NULL, 0 }));
    assert_false(gh_ovirt_version_ok(5, S("4")));
    assert_false(gh_ovirt_version_ok(-1, S("4")));
}

static void test_accept(void **state)
{
    (void)state;
    assert_int_equal(gh_ovirt_format_for((gh_str){ NULL, 0 }), GH_OV_FORMAT_XML);
    assert_int_equal(gh_ovirt_format_for(S("")), GH_OV_FORMAT_XML);
    assert_int_equal(gh_ovirt_format_for(S("application/xml")), GH_OV_FORMAT_XML);
    assert_int_equal(gh_ovirt_format_for(S("application/json")), GH_OV_FORMAT_JSON);
    assert_int_equal(gh_ovirt_format_for(S("Application/JSON; charset=utf-8")), GH_OV_FORMAT_JSON);
    assert_int_equal(gh_ovirt_format_for(S("*/*")), GH_OV_FORMAT_XML);
    assert_int_equal(gh_ovirt_format_for(S("application/*")), GH_OV_FORMAT_XML);
    assert_int_equal(gh_ovirt_format_for(S("application/xml;q=0.5, application/json")),
                     GH_OV_FORMAT_JSON);
    assert_int_equal(gh_ovirt_format_for(S("application/json;q=0.9, application/xml;q=0.9")),
                     GH_OV_FORMAT_XML);
    assert_int_equal(gh_ovirt_format_for(S("application/json, */*;q=0.1")), GH_OV_FORMAT_JSON);
    assert_int_equal(gh_ovirt_format_for(S("text/html,application/xhtml+xml,"
                                           "application/xml;q=0.9,*/*;q=0.8")),
                     GH_OV_FORMAT_XML);
    /* The exact type's q beats a wildcard's. */
    assert_int_equal(gh_ovirt_format_for(S("*/*, application/xml;q=0")), GH_OV_FORMAT_JSON);
    assert_int_equal(gh_ovirt_format_for(S("text/html")), GH_OV_FORMAT_NONE);
    assert_int_equal(gh_ovirt_format_for(S("application/json;q=0")), GH_OV_FORMAT_NONE);
    assert_int_equal(gh_ovirt_format_for(S("application/json;q=2")), GH_OV_FORMAT_NONE);
    assert_int_equal(gh_ovirt_format_for(S("application/json;q=0.0001")), GH_OV_FORMAT_NONE);

    assert_true(gh_ovirt_accept_json(S("application/json")));
    assert_true(gh_ovirt_accept_json(S(" Application/Json ; charset=utf-8")));
    assert_false(gh_ovirt_accept_json((gh_str){ NULL, 0 }));
    assert_false(gh_ovirt_accept_json(S("*/*")));
    assert_false(gh_ovirt_accept_json(S("application/json, text/plain")));
    assert_false(gh_ovirt_accept_json(S("application/jsonx")));
}

static void test_profiles(void **state)
{
    gh_config cfg;
    char user[GH_USER_NAME_MAX + 1];

    (void)state;
    assert_int_equal(gh_dialect_config_defaults(&cfg, NULL, 0), 0);
    strcpy(user, "admin");
    assert_int_equal(gh_ovirt_profile(&cfg, user, "internal"), GH_OV_PROFILE_OK);
    assert_string_equal(user, "admin");
    assert_int_equal(gh_ovirt_profile(&cfg, user, ""), GH_OV_PROFILE_NONE);
    assert_int_equal(gh_ovirt_profile(&cfg, user, "example.com"), GH_OV_PROFILE_UNKNOWN);
    assert_int_equal(gh_ovirt_profile(&cfg, user, "Internal"), GH_OV_PROFILE_UNKNOWN);
    assert_int_equal(gh_ovirt_profile(NULL, user, "internal"), GH_OV_PROFILE_OK);
    /* oVirt 4.5.1+'s name of the built-in admin, whatever the profiles are. */
    strcpy(user, "admin@ovirt");
    assert_int_equal(gh_ovirt_profile(&cfg, user, "internalsso"), GH_OV_PROFILE_OK);
    assert_string_equal(user, "admin");
    strcpy(user, "bob");
    assert_int_equal(gh_ovirt_profile(&cfg, user, "internalsso"), GH_OV_PROFILE_UNKNOWN);
    strcpy(user, "admin@ovirt");
    assert_int_equal(gh_ovirt_profile(&cfg, user, "internal"), GH_OV_PROFILE_OK);
    assert_string_equal(user, "admin@ovirt");
    /* A configured list. */
    snprintf(gh_ovirt_settings_edit(&cfg)->profiles, sizeof(gh_ovirt_settings_edit(&cfg)->profiles), "internal, lab");
    strcpy(user, "bob");
    assert_int_equal(gh_ovirt_profile(&cfg, user, "lab"), GH_OV_PROFILE_OK);
    assert_int_equal(gh_ovirt_profile(&cfg, user, "la"), GH_OV_PROFILE_UNKNOWN);
}

/* gh_ovirt_api_credential for a request with these headers. */
static gh_ovirt_auth cred_for(const char *path, gh_credential *cred, ...)
{
    static test_req t;
    gh_ovirt_auth a;
    va_list ap;

    memset(&t, 0, sizeof(t));
    va_start(ap, cred);
    for (const char *n; (n = va_arg(ap, const char *)) != NULL && t.n < 10; t.n++) {
        t.names[t.n] = n;
        t.values[t.n] = va_arg(ap, const char *);
    }
    va_end(ap);
    build_req(&t, NULL, "GET", path);
    gh_ovirt_api_credential(&t.req, &a, cred);
    return a;
}

static void test_api_credential(void **state)
{
    const char *api = "/ovirt-engine/api/vms";
    char b[128], b2[128];
    gh_credential c;
    gh_ovirt_auth a;

    (void)state;
    basic(b, sizeof(b), "admin@internal", "pw");
    a = cred_for(api, &c, "Authorization", b, NULL);
    assert_int_equal(a.source, GH_OV_BY_AUTHORIZATION);
    assert_int_equal(c.kind, GH_CRED_BASIC);
    assert_string_equal(c.user, "admin");
    assert_false(a.creates || a.ends);
    a = cred_for(api, &c, "Authorization", b, "Prefer", "persistent-auth", NULL);
    assert_true(a.creates);
    assert_false(a.ends);
    /* No profile, or one not configured: no credential. */
    basic(b2, sizeof(b2), "admin", "pw");
    a = cred_for(api, &c, "Authorization", b2, NULL);
    assert_int_equal(a.source, GH_OV_BY_NONE);
    assert_int_equal(c.kind, GH_CRED_NONE);
    assert_string_equal(c.user, "");
    basic(b2, sizeof(b2), "admin@example.com", "pw");
    a = cred_for(api, &c, "Authorization", b2, "Prefer", "persistent-auth", NULL);
    assert_int_equal(c.kind, GH_CRED_NONE);
    assert_false(a.creates);
    basic(b2, sizeof(b2), "admin@ovirt@internalsso", "pw");
    cred_for(api, &c, "Authorization", b2, NULL);
    assert_int_equal(c.kind, GH_CRED_BASIC);
    assert_string_equal(c.user, "admin");
    gh_credential_wipe(&c);
    cred_for(api, &c, "Authorization", "Bearer abc", NULL);
    assert_int_equal(c.kind, GH_CRED_BEARER);
    assert_true(gh_str_eq(c.token, "abc"));
    cred_for(api, &c, "Authorization", "Basic !!", NULL);
    assert_int_equal(c.kind, GH_CRED_MALFORMED);

    /* The cookie is used first... */
    a = cred_for(api, &c, "Authorization", b, "Cookie", "a=1; JSESSIONID=tok",
                 "Prefer", "persistent-auth", NULL);
    assert_int_equal(a.source, GH_OV_BY_COOKIE);
    assert_int_equal(c.kind, GH_CRED_TOKEN);
    assert_true(gh_str_eq(c.token, "tok"));
    assert_false(a.creates || a.ends || a.cookie_csrf);
    /* ...without the preference it ends its session after serving... */
    a = cred_for(api, &c, "Cookie", "JSESSIONID=tok", NULL);
    assert_int_equal(a.source, GH_OV_BY_COOKIE);
    assert_true(a.ends);
    /* ...new-auth with credentials uses them, opens anew, and ends the old one. */
    a = cred_for(api, &c, "Authorization", b, "Cookie", "JSESSIONID=tok",
                 "Prefer", "persistent-auth, new-auth", NULL);
    assert_int_equal(a.source, GH_OV_BY_AUTHORIZATION);
    assert_int_equal(c.kind, GH_CRED_BASIC);
    assert_true(a.creates && a.ends);
    gh_credential_wipe(&c);
    /* new-auth without credentials: the cookie, and the session ends. */
    a = cred_for(api, &c, "Cookie", "JSESSIONID=tok", "Prefer", "persistent-auth, new-auth", NULL);
    assert_int_equal(a.source, GH_OV_BY_COOKIE);
    assert_true(a.ends);
    /* The CSRF mark is part of the cookie, not of the token. */
    a = cred_for(api, &c, "Cookie", "JSESSIONID=tok.c", "Prefer", "persistent-auth", NULL);
    assert_true(a.cookie_csrf);
    assert_true(gh_str_eq(c.token, "tok"));
    assert_true(gh_str_eq(a.cookie, "tok.c"));
    /* An empty or unreadable cookie is none; outside the API the cookie is nobody's. */
    a = cred_for(api, &c, "Cookie", "JSESSIONID=", NULL);
    assert_int_equal(a.source, GH_OV_BY_NONE);
    a = cred_for(api, &c, "Cookie", "JSESSIONID=a\"b", NULL);
    assert_int_equal(a.source, GH_OV_BY_NONE);
    a = cred_for("/ovirt-engine/other", &c, "Cookie", "JSESSIONID=tok", NULL);
    assert_int_equal(a.source, GH_OV_BY_NONE);
    assert_null(a.cookie.data);
    a = cred_for(api, &c, NULL);
    assert_int_equal(a.source, GH_OV_BY_NONE);
    assert_int_equal(c.kind, GH_CRED_NONE);
}

static void test_idle(void **state)
{
    gh_config cfg;

    (void)state;
    assert_int_equal(gh_dialect_config_defaults(&cfg, NULL, 0), 0);
    assert_int_equal(gh_ovirt_idle(&cfg, 0), 1800);
    assert_int_equal(gh_ovirt_idle(&cfg, 120), 120);
    assert_int_equal(gh_ovirt_idle(&cfg, 999999999LL * 60), 360000);
    gh_ovirt_settings_edit(&cfg)->token_idle_timeout = 0;
    assert_int_equal(gh_ovirt_idle(&cfg, 0), 360000);
    gh_ovirt_settings_edit(&cfg)->token_idle_timeout = 7200;
    gh_ovirt_settings_edit(&cfg)->token_timeout = 3600;
    assert_int_equal(gh_ovirt_idle(&cfg, 0), 3600);
    assert_int_equal(gh_ovirt_idle(NULL, 0), 1800);
}

static void test_classify(void **state)
{
    static const struct {
        const char *method, *path, *prefer, *cookie, *auth;
        bool        open, body;
        gh_work     work;
    } cases[] = {
        { "GET", GH_OVIRT_PKI "?resource=ca-certificate", NULL, NULL, NULL, true, false,
          GH_WORK_STORE },
        { "HEAD", GH_OVIRT_PKI, NULL, NULL, NULL, true, false, GH_WORK_STORE },
        { "POST", GH_OVIRT_PKI, NULL, NULL, NULL, true, false, GH_WORK_INLINE },
        { "POST", GH_OVIRT_TOKEN, NULL, NULL, NULL, true, true, GH_WORK_HASH },
        { "GET", GH_OVIRT_TOKEN "?grant_type=password", NULL, NULL, NULL, true, false,
          GH_WORK_HASH },
        { "PUT", GH_OVIRT_TOKEN, NULL, NULL, NULL, true, false, GH_WORK_INLINE },
        { "POST", GH_OVIRT_LOGOUT, NULL, NULL, NULL, true, true, GH_WORK_STORE },
        { "GET", GH_OVIRT_LOGOUT "?token=x", NULL, NULL, NULL, true, false, GH_WORK_STORE },
        { "DELETE", GH_OVIRT_LOGOUT, NULL, NULL, NULL, true, false, GH_WORK_INLINE },
        { "GET", GH_OVIRT_API, NULL, NULL, "Bearer x", false, false, GH_WORK_STORE },
        { "HEAD", GH_OVIRT_API, NULL, NULL, "Bearer x", false, false, GH_WORK_INLINE },
        { "GET", GH_OVIRT_API "/vms", NULL, NULL, "Bearer x", false, false, GH_WORK_INLINE },
        { "GET", GH_OVIRT_API "/vms", "persistent-auth", NULL, "Bearer x", false, false,
          GH_WORK_STORE },
        { "GET", GH_OVIRT_API "/vms", "persistent-auth", "JSESSIONID=t", NULL, false, false,
          GH_WORK_INLINE },
        { "GET", GH_OVIRT_API "/vms", NULL, "JSESSIONID=t", NULL, false, false, GH_WORK_STORE },
        { "POST", GH_OVIRT_API "/vms", NULL, NULL, "Bearer x", false, false, GH_WORK_INLINE },
        { "GET", "/ovirt-engine/webadmin", NULL, NULL, NULL, false, false, GH_WORK_INLINE },
    };
    test_req t;
    gh_plan  plan;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&t, 0, sizeof(t));
        build_req(&t, NULL, cases[i].method, cases[i].path);
        if (cases[i].prefer != NULL) {
            t.names[t.n] = "Prefer";
            t.values[t.n++] = cases[i].prefer;
        }
        if (cases[i].cookie != NULL) {
            t.names[t.n] = "Cookie";
            t.values[t.n++] = cases[i].cookie;
        }
        if (cases[i].auth != NULL) {
            t.names[t.n] = "Authorization";
            t.values[t.n++] = cases[i].auth;
        }
        gh_ovirt_dialect.classify(&t.req, &plan);
        if (plan.open != cases[i].open || plan.read_body != cases[i].body ||
            plan.work != cases[i].work)
            fail_msg("%s %s: open %d body %d work %d", cases[i].method, cases[i].path,
                     plan.open, plan.read_body, plan.work);
        gh_credential_wipe(&plan.cred);
    }
}

static void test_refuse(void **state)
{
    test_req    t;
    gh_response resp;

    (void)state;
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", GH_OVIRT_API);
    memset(&resp, 0, sizeof(resp));
    gh_ovirt_dialect.refuse(&t.req, GH_REFUSE_NO_CREDENTIALS, &resp);
    assert_int_equal(resp.status, 401);
    assert_string_equal(resp.reason, "Authorization Required");
    assert_int_equal(resp.nheaders, 1);
    assert_string_equal(resp.headers[0].name, "WWW-Authenticate");
    assert_string_equal(gh_response_value(&resp, 0), "Basic realm=\"RESTAPI\"");
    gh_response_free(&resp);

    /* Bad and locked credentials get the same answer. */
    gh_ovirt_dialect.refuse(&t.req, GH_REFUSE_LOCKED, &resp);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.nheaders, 1);
    gh_response_free(&resp);

    /* A refused cookie is expired in the client's jar. */
    t.names[t.n] = "Cookie";
    t.values[t.n++] = "JSESSIONID=gone";
    gh_ovirt_dialect.refuse(&t.req, GH_REFUSE_NO_CREDENTIALS, &resp);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.nheaders, 2);
    assert_string_equal(resp.headers[1].name, "Set-Cookie");
    assert_non_null(strstr(gh_response_value(&resp, 1), "JSESSIONID=;"));
    assert_non_null(strstr(gh_response_value(&resp, 1), "Max-Age=0"));
    assert_non_null(strstr(gh_response_value(&resp, 1), "Path=/ovirt-engine/api"));
    gh_response_free(&resp);

    gh_ovirt_dialect.refuse(&t.req, GH_REFUSE_MALFORMED, &resp);
    assert_int_equal(resp.status, 400);
    gh_response_free(&resp);
    gh_ovirt_dialect.refuse(&t.req, GH_REFUSE_PLAIN_HTTP, &resp);
    assert_int_equal(resp.status, 403);
    gh_response_free(&resp);
    /* The store is down: try again later, as the other dialects say. */
    gh_ovirt_dialect.refuse(&t.req, GH_REFUSE_UNAVAILABLE, &resp);
    assert_int_equal(resp.status, 503);
    assert_string_equal(resp.content_type, GH_OVIRT_TEXT_TYPE);
    assert_int_equal(resp.nheaders, 1);
    assert_string_equal(resp.headers[0].name, "Retry-After");
    assert_string_equal(gh_response_value(&resp, 0), "30");
    gh_response_free(&resp);
}

static void test_fail(void **state)
{
    static const int statuses[] = { 400, 404, 405, 408, 413, 414, 429, 431, 500, 502, 503, 504,
                                    418, 507 };
    test_req    t;
    gh_response resp;

    (void)state;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        memset(&t, 0, sizeof(t));
        build_req(&t, NULL, "GET", GH_OVIRT_API "/vms");
        memset(&resp, 0, sizeof(resp));
        (gh_ovirt_dialect.fail)(&t.req, statuses[i], &resp);
        assert_int_equal(resp.status, statuses[i]);
        assert_string_equal(resp.content_type, GH_OVIRT_TEXT_TYPE);
        assert_true(resp.body_len > 0);
        gh_response_free(&resp);
    }
    /* Out of range: 500. An unknown route's 405 still lists methods. */
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", "/ovirt-engine");
    (gh_ovirt_dialect.fail)(&t.req, 200, &resp);
    assert_int_equal(resp.status, 500);
    gh_response_free(&resp);
    (gh_ovirt_dialect.fail)(&t.req, 405, &resp);
    assert_string_equal(gh_response_value(&resp, 0), "GET, HEAD");
    gh_response_free(&resp);
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "PUT", GH_OVIRT_TOKEN);
    (gh_ovirt_dialect.fail)(&t.req, 405, &resp);
    assert_string_equal(gh_response_value(&resp, 0), "GET, POST");
    gh_response_free(&resp);
    /* A request that is no more than a cut path. */
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", "/ovirt-engine/a");
    t.req.path = (gh_str){ NULL, 0 };
    (gh_ovirt_dialect.fail)(&t.req, 414, &resp);
    assert_int_equal(resp.status, 414);
    gh_response_free(&resp);
}

static void test_pki(void **state)
{
    fixture *f = *state;
    result r;

    r = run(f, "GET", GH_OVIRT_PKI "?resource=ca-certificate&format=X509-PEM-CA", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(r.resp.content_type, "application/x-x509-ca-cert");
    assert_string_equal(body_of(&r), CA_TEXT);
    done(&r);
    /* An omitted format takes the resource's default. */
    r = run(f, "GET", GH_OVIRT_PKI "?resource=ca-certificate", NULL, NULL);
    assert_string_equal(body_of(&r), CA_TEXT);
    done(&r);
    r = run(f, "GET", GH_OVIRT_PKI "?resource=engine-certificate&format=X509-PEM", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(r.resp.content_type, "application/x-x509-cert");
    assert_string_equal(body_of(&r), SERVER_TEXT);
    done(&r);
    r = run(f, "GET", GH_OVIRT_PKI "?resource=engine-certificate", NULL, NULL);
    assert_string_equal(body_of(&r), SERVER_TEXT);
    done(&r);
    /* Plain HTTP too: the client cannot trust TLS before it has the CA. */
    f->plain_http = true;
    r = run(f, "GET", GH_OVIRT_PKI "?resource=ca-certificate&format=X509-PEM-CA", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    f->plain_http = false;

    static const char *const bad[] = {
        GH_OVIRT_PKI, GH_OVIRT_PKI "?resource=", GH_OVIRT_PKI "?resource=ssh-key",
        GH_OVIRT_PKI "?resource=ca-certificate&format=X509-PEM",
        GH_OVIRT_PKI "?resource=engine-certificate&format=X509-PEM-CA",
        GH_OVIRT_PKI "?resource=ca-certificate&format=OPENSSH-PUBKEY",
        GH_OVIRT_PKI "?resource=ca-certificate&resource=ca-certificate",
        GH_OVIRT_PKI "?resource=ca%zzcertificate",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = run(f, "GET", bad[i], NULL, NULL);
        if (r.resp.status != 400)
            fail_msg("%s: %d", bad[i], r.resp.status);
        done(&r);
    }
    r = run(f, "POST", GH_OVIRT_PKI "?resource=ca-certificate", NULL, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    done(&r);
    /* The file missing: 500, not a crash. */
    f->svc.data_dir = "/nonexistent";
    r = run(f, "GET", GH_OVIRT_PKI "?resource=ca-certificate", NULL, NULL);
    assert_int_equal(r.resp.status, 500);
    done(&r);
}

static void test_other_paths(void **state)
{
    fixture *f = *state;
    char b[128];
    result r;

    r = run(f, "GET", "/ovirt-engine/webadmin", NULL, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    r = run(f, "GET", "/ovirt-engine/webadmin", NULL,
            "Authorization", basic(b, sizeof(b), "admin@internal", "password1"), NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
    r = run(f, "PUT", GH_OVIRT_TOKEN, NULL, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, POST");
    done(&r);
    r = run(f, "DELETE", GH_OVIRT_LOGOUT, NULL, NULL);
    assert_int_equal(r.resp.status, 405);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_prefer),
        cmocka_unit_test(test_session_ttl),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_api_credential),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_fail),
        cmocka_unit_test_setup_teardown(test_pki, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_paths, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
