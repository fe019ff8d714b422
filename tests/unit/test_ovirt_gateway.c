/*
 * test_ovirt_gateway.c: the oVirt dialect in gateway mode: which routes
 * stay gatehouse's (the CA, SSO token, sso-logout), the credential it reads
 * and what a gateway strips, and the forward hook: Bearer, Basic
 * user@profile and the persistent-auth cookie as the API takes them, a
 * session opened by Prefer: persistent-auth with its cookie on the
 * upstream's answer, one ended before the request passes on, CSRF, a
 * password change pending, the method's default and the [authorize] rules,
 * each refusal as the engine words it.
 */
#include "ovirt_fixture.h"
#include "gateway_forward.h"

static const char *as(char *buf, const char *user)
{
    return basic(buf, 128, user, "password1");
}

static void expect_passed(forwarded fw)
{
    if (!fw.passed)
        fail_msg("refused: %d %.*s", fw.r.resp.status, (int)fw.r.resp.body_len,
                 fw.r.resp.body != NULL ? fw.r.resp.body : "");
    assert_false(fw.local);
    assert_int_equal(fw.r.resp.body_len, 0);
    done(&fw.r);
}

static void expect_refused(forwarded fw, int status, const char *text)
{
    assert_false(fw.passed);
    assert_false(fw.local);
    assert_int_equal(fw.r.resp.status, status);
    if (strstr(body_of(&fw.r), text) == NULL)
        fail_msg("%d: \"%s\" lacks \"%s\"", status, body_of(&fw.r), text);
    done(&fw.r);
}

static void test_local_routes(void **state)
{
    static const char *const local[] = { GH_OVIRT_PKI, GH_OVIRT_TOKEN, GH_OVIRT_LOGOUT };
    static const char *const upstream[] = {
        GH_OVIRT_API, GH_OVIRT_API "/", GH_OVIRT_API "/vms", GH_OVIRT_API "/v4/hosts/1",
        GH_OVIRT_ENGINE "/webadmin", GH_OVIRT_ENGINE,
    };

    (void)state;
    expect_routes(&gh_ovirt_dialect, local, sizeof(local) / sizeof(local[0]), true, NULL);
    expect_routes(&gh_ovirt_dialect, upstream, sizeof(upstream) / sizeof(upstream[0]), false, NULL);
}

static void test_credential(void **state)
{
    test_req      t;
    gh_credential cred;
    char          b[128];

    (void)state;
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", "/guarded");
    t.names[0] = "Authorization";
    t.values[0] = as(b, "viewer@internal");
    t.n = 1;
    gh_ovirt_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_BASIC);
    assert_string_equal(cred.user, "viewer");
    gh_credential_wipe(&cred);
    t.values[0] = "Bearer abc";
    gh_ovirt_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_BEARER);
    gh_credential_wipe(&cred);
    t.names[0] = "Cookie";
    t.values[0] = "JSESSIONID=tok";
    t.names[1] = "Prefer";
    t.values[1] = "persistent-auth";
    t.n = 2;
    gh_ovirt_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_TOKEN);
    gh_credential_wipe(&cred);
    assert_string_equal(gh_ovirt_dialect.credential_headers[0], "Authorization");
    assert_string_equal(gh_ovirt_dialect.credential_headers[1], "JSESSIONID");
    assert_null(gh_ovirt_dialect.credential_headers[2]);
    assert_string_equal(gh_ovirt_dialect.credential_cookies[0], "JSESSIONID");
    assert_null(gh_ovirt_dialect.credential_cookies[1]);
}

/* The method's default, with each credential the API takes. */
static void test_method_default(void **state)
{
    fixture *f = *state;
    char     b[128], token[GH_TOKEN_TEXT_LEN + 1], bearer[GH_TOKEN_TEXT_LEN + 16];

    expect_passed(forward(f, "GET", GH_OVIRT_API "/vms", "Authorization",
                          as(b, "viewer@internal"), NULL));
    expect_refused(forward(f, "POST", GH_OVIRT_API "/vms", "Authorization",
                           as(b, "viewer@internal"), NULL),
                   403, "<reason>Operation Failed</reason>");
    expect_refused(forward(f, "DELETE", GH_OVIRT_API "/vms/1", "Authorization",
                           as(b, "viewer@internal"), "Accept", "application/json", NULL),
                   403, "User is not authorized to perform this action.");
    expect_passed(forward(f, "PATCH", GH_OVIRT_API "/vms/1", "Authorization",
                          as(b, "oper@internal"), NULL));
    expect_passed(forward(f, "PUT", GH_OVIRT_API "/vms/1", "Authorization",
                          as(b, "oper@internal"), NULL));
    get_token(f, "viewer@internal", token);
    snprintf(bearer, sizeof(bearer), "Bearer %s", token);
    expect_passed(forward(f, "GET", GH_OVIRT_API, "Authorization", bearer, NULL));
    expect_refused(forward(f, "POST", GH_OVIRT_API "/vms", "Authorization", bearer, NULL), 403,
                   "Operation Failed");
    expect_refused(forward(f, "GET", GH_OVIRT_API "/vms", NULL), 401, "");
    /* A password change pending: refused as the engine refuses an expired one. */
    expect_refused(forward(f, "GET", GH_OVIRT_API "/vms", "Authorization",
                           as(b, "renew@internal"), NULL), 401, "");
}

/* Prefer: persistent-auth with Basic opens a session whose cookie goes on
 * the upstream's answer; the cookie then authenticates; a request with it
 * but without the preference ends it before passing on. */
static void test_persistent_auth(void **state)
{
    fixture  *f = *state;
    char      b[128], cookie[160], sent[200];
    forwarded fw;

    fw = forward(f, "GET", GH_OVIRT_API "/vms", "Authorization", as(b, "viewer@internal"),
                 "Prefer", "persistent-auth", NULL);
    assert_true(fw.passed);
    assert_int_equal(fw.r.plan.work, GH_WORK_STORE);
    cookie_of(&fw.r, cookie, sizeof(cookie));
    assert_int_equal(strlen(cookie), GH_TOKEN_TEXT_LEN);
    done(&fw.r);
    assert_int_equal(ovirt_sessions(f), 1);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    fw = forward(f, "GET", GH_OVIRT_API "/hosts", "Cookie", sent, "Prefer", "persistent-auth",
                 NULL);
    assert_true(fw.passed);
    assert_null(hdr(&fw.r, "Set-Cookie"));
    done(&fw.r);
    /* A ReadOnly session writes nothing: refused, and the session stays. */
    expect_refused(forward(f, "POST", GH_OVIRT_API "/vms", "Cookie", sent, "Prefer",
                           "persistent-auth", NULL), 403, "Operation Failed");
    assert_int_equal(ovirt_sessions(f), 1);
    fw = forward(f, "GET", GH_OVIRT_API, "Cookie", sent, NULL);
    assert_true(fw.passed);
    assert_non_null(strstr(hdr(&fw.r, "Set-Cookie"), "Max-Age=0"));
    done(&fw.r);
    assert_int_equal(ovirt_sessions(f), 0);
    expect_refused(forward(f, "GET", GH_OVIRT_API, "Cookie", sent, "Prefer", "persistent-auth",
                           NULL), 401, "");
}

/* A CSRF-protected session's write must repeat its id in JSESSIONID. */
static void test_csrf(void **state)
{
    fixture  *f = *state;
    char      b[128], cookie[160], sent[200];
    forwarded fw;

    gh_ovirt_settings_edit(&f->cfg)->csrf_protection = true;
    fw = forward(f, "HEAD", GH_OVIRT_API, "Authorization", as(b, "oper@internal"),
                 "Prefer", "persistent-auth, csrf-protection", NULL);
    assert_true(fw.passed);
    cookie_of(&fw.r, cookie, sizeof(cookie));
    done(&fw.r);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    expect_refused(forward(f, "POST", GH_OVIRT_API "/vms", "Cookie", sent, "Prefer",
                           "persistent-auth", NULL), 403, "CSRF protection");
    expect_passed(forward(f, "POST", GH_OVIRT_API "/vms", "Cookie", sent, "Prefer",
                          "persistent-auth", "JSESSIONID", cookie, NULL));
}

/* SSO and the CA spelled otherwise never pass on, nor a path unreadable. */
static void test_local_spelled_otherwise(void **state)
{
    static const char *const paths[] = {
        GH_OVIRT_ENGINE "/sso/./oauth/token", GH_OVIRT_ENGINE "/services//sso-logout",
        GH_OVIRT_API "/../services/pki-resource", GH_OVIRT_API "/..;/sso/oauth/token",
        GH_OVIRT_ENGINE "/services/sso-logout;jsessionid=1", GH_OVIRT_API "/vms%2f..",
    };
    fixture *f = *state;
    char     b[128];

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        forwarded fw = forward(f, "GET", paths[i], "Authorization", as(b, "admin@internal"),
                               NULL);

        if (fw.passed || fw.local || fw.r.resp.status != 404)
            fail_msg("%s: passed %d local %d status %d", paths[i], fw.passed, fw.local,
                     fw.r.resp.status);
        done(&fw.r);
    }
    expect_passed(forward(f, "GET", GH_OVIRT_API "/vms/../hosts", "Authorization",
                          as(b, "admin@internal"), NULL));
}

/* Rules, on the path a servlet container would read too. */
static void test_rules(void **state)
{
    fixture *f = *state;
    char     b[128];

    authorize(f, "/ovirt-engine/api/users", "*: none");
    authorize(f, "/ovirt-engine/api/vms", "POST: ConfigureManager");
    expect_refused(forward(f, "GET", GH_OVIRT_API "/users", "Authorization",
                           as(b, "admin@internal"), NULL), 403, "Operation Failed");
    expect_refused(forward(f, "GET", GH_OVIRT_API "/vms/..;/users", "Authorization",
                           as(b, "admin@internal"), NULL), 403, "Operation Failed");
    expect_refused(forward(f, "GET", GH_OVIRT_API "/users;max=1", "Authorization",
                           as(b, "admin@internal"), NULL), 403, "Operation Failed");
    expect_refused(forward(f, "POST", GH_OVIRT_API "/vms", "Authorization",
                           as(b, "oper@internal"), NULL), 403, "Operation Failed");
    expect_passed(forward(f, "POST", GH_OVIRT_API "/vms", "Authorization",
                          as(b, "admin@internal"), NULL));
    expect_passed(forward(f, "POST", GH_OVIRT_API "/hosts", "Authorization",
                          as(b, "oper@internal"), NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_routes),
        cmocka_unit_test(test_credential),
        cmocka_unit_test_setup_teardown(test_method_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_spelled_otherwise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
