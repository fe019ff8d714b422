/*
 * test_powerstore_gateway.c: the PowerStore dialect in gateway mode: which
 * routes stay gatehouse's (sessions, accounts, roles), the credential it
 * reads and the headers and cookie a gateway strips, and the forward hook's
 * gates before a request passes on: Login, the DELL-EMC-TOKEN of a cookie
 * session's write, a password change pending, the method's default and the
 * [authorize] rules; each refusal in the dialect's error JSON.
 */
#include "powerstore_fixture.h"
#include "gateway_forward.h"

/* Basic fresh:password1 */
#define BASIC_FRESH "Basic ZnJlc2g6cGFzc3dvcmQx"

static void expect_refused(forwarded fw, int status, const char *code)
{
    assert_false(fw.passed);
    assert_false(fw.local);
    expect_error(fw.r, status, code);
}

static void expect_passed(forwarded fw)
{
    if (!fw.passed)
        fail_msg("refused: %d %.*s", fw.r.resp.status, (int)fw.r.resp.body_len,
                 fw.r.resp.body != NULL ? fw.r.resp.body : "");
    assert_false(fw.local);
    assert_int_equal(fw.r.resp.body_len, 0);
    json_decref(fw.r.json);
    gh_response_free(&fw.r.resp);
}

static void test_local_routes(void **state)
{
    static const char *const local[] = {
        "/api/rest/login_session", "/api/rest/logout", "/api/rest/local_user",
        "/api/rest/local_user/1", "/api/rest/local_user/name:admin", "/api/rest/role",
        "/api/rest/role/1", "/api/rest/login_session/", "/api/rest/ldap_domain",
        "/api/rest/ldap_domain/corp", "/api/rest/ldap_domain/corp/verify",
        "/api/rest/ldap_account", "/api/rest/ldap_account/12",
    };
    static const char *const upstream[] = {
        "/api/rest/volume", "/api/rest/volume/1", "/api/rest", "/api/rest/cluster/1/x",
    };
    static const gh_work on_the_loop = GH_WORK_INLINE;

    (void)state;
    expect_routes(&gh_powerstore_dialect, local, sizeof(local) / sizeof(local[0]), true, NULL);
    expect_routes(&gh_powerstore_dialect, upstream, sizeof(upstream) / sizeof(upstream[0]), false,
                  &on_the_loop);
}

static void test_credential(void **state)
{
    test_req      t;
    gh_credential cred;

    (void)state;
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", "/anywhere");
    t.names[0] = "Cookie";
    t.values[0] = "a=b; auth_cookie=tok123";
    t.n = 1;
    gh_powerstore_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_TOKEN);
    assert_int_equal(cred.token.len, 6);
    gh_credential_wipe(&cred);
    t.names[1] = "Authorization";
    t.values[1] = BASIC_VIEWER;
    t.n = 2;
    gh_powerstore_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_BASIC);
    assert_string_equal(cred.user, "viewer");
    gh_credential_wipe(&cred);
    t.n = 0;
    gh_powerstore_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_NONE);
    assert_string_equal(gh_powerstore_dialect.credential_headers[0], "Authorization");
    assert_string_equal(gh_powerstore_dialect.credential_headers[1], "DELL-EMC-TOKEN");
    assert_null(gh_powerstore_dialect.credential_headers[2]);
    assert_string_equal(gh_powerstore_dialect.credential_cookies[0], "auth_cookie");
    assert_null(gh_powerstore_dialect.credential_cookies[1]);
}

/* The method's default: a ReadOnly account reads, an Operator writes. */
static void test_method_default(void **state)
{
    fixture *f = *state;

    expect_passed(forward(f, "GET", "/api/rest/volume", "Authorization", BASIC_VIEWER, NULL));
    expect_passed(forward(f, "HEAD", "/api/rest/volume", "Authorization", BASIC_VIEWER, NULL));
    expect_refused(forward(f, "POST", "/api/rest/volume", "Authorization", BASIC_VIEWER, NULL),
                   403, "0xE1403002");
    expect_refused(forward(f, "DELETE", "/api/rest/volume/1", "Authorization", BASIC_VIEWER,
                           NULL), 403, "0xE1403002");
    expect_passed(forward(f, "PATCH", "/api/rest/volume/1", "Authorization", BASIC_OPER, NULL));
    expect_passed(forward(f, "POST", "/api/rest/volume", "Authorization", BASIC_ADMIN, NULL));
    expect_refused(forward(f, "GET", "/api/rest/volume", NULL), 401, "0xE1401001");
}

/* A cookie session writes only with its DELL-EMC-TOKEN, and each of its
 * reads passes on with the token for the client. Basic needs none. */
static void test_csrf(void **state)
{
    fixture  *f = *state;
    login     l = do_login(f, BASIC_OPER);
    forwarded fw;
    char      wrong[GH_PS_CSRF_LEN + 1];

    expect_refused(forward(f, "POST", "/api/rest/volume", "Cookie", l.cookie, NULL), 403,
                   "0xE1403001");
    memset(wrong, 'a', GH_PS_CSRF_LEN);
    wrong[GH_PS_CSRF_LEN] = '\0';
    expect_refused(forward(f, "PATCH", "/api/rest/volume/1", "Cookie", l.cookie,
                           "DELL-EMC-TOKEN", wrong, NULL), 403, "0xE1403001");
    expect_passed(forward(f, "PATCH", "/api/rest/volume/1", "Cookie", l.cookie,
                          "DELL-EMC-TOKEN", l.csrf, NULL));
    expect_passed(forward(f, "POST", "/api/rest/volume", "Authorization", BASIC_OPER, NULL));
    fw = forward(f, "GET", "/api/rest/volume", "Cookie", l.cookie, NULL);
    assert_true(fw.passed);
    assert_non_null(hdr(&fw.r, "DELL-EMC-TOKEN"));
    assert_string_equal(hdr(&fw.r, "DELL-EMC-TOKEN"), l.csrf);
    gh_response_free(&fw.r.resp);
    fw = forward(f, "GET", "/api/rest/volume", "Authorization", BASIC_OPER, NULL);
    assert_true(fw.passed);
    assert_null(hdr(&fw.r, "DELL-EMC-TOKEN"));
    gh_response_free(&fw.r.resp);
    /* The token is the session's, checked before the privileges: a
     * ReadOnly session's write without it is a CSRF refusal. */
    l = do_login(f, BASIC_VIEWER);
    expect_refused(forward(f, "DELETE", "/api/rest/volume/1", "Cookie", l.cookie, NULL), 403,
                   "0xE1403001");
    expect_refused(forward(f, "DELETE", "/api/rest/volume/1", "Cookie", l.cookie,
                           "DELL-EMC-TOKEN", l.csrf, NULL), 403, "0xE1403002");
}

/* A path that reads as gatehouse's own route once normalised, or that
 * cannot be read, never passes on: 404, as serve answers what it cannot read. */
static void test_local_spelled_otherwise(void **state)
{
    static const char *const paths[] = {
        "/api/rest/./local_user", "/api/rest//login_session", "/api/rest/volume/../role",
        "/api/rest/volume/%2e%2e/local_user/1", "/api/rest/local_user;x",
        "/api/rest/logout/", "/api/rest/volume%2f..", "/api/rest/x%zz",
    };
    fixture *f = *state;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        forwarded fw = forward(f, "POST", paths[i], "Authorization", BASIC_ADMIN, NULL);

        if (fw.local) {
            /* classify saw it is local already: served, never forwarded */
            done(&fw.r);
            continue;
        }
        if (fw.passed)
            fail_msg("%s passed on", paths[i]);
        expect_error(fw.r, 404, "0xE1404001");
    }
    expect_passed(forward(f, "POST", "/api/rest/volume/../volume", "Authorization",
                          BASIC_ADMIN, NULL));
}

/* A password change pending: nothing passes on, whatever the role. */
static void test_password_change_required(void **state)
{
    fixture  *f = *state;
    forwarded fw;

    add_account(f, "fresh", GH_ROLE_ADMINISTRATOR, false, true);
    expect_refused(forward(f, "GET", "/api/rest/volume", "Authorization", BASIC_FRESH, NULL),
                   403, "0xE1403003");
    /* Its own routes stay gatehouse's, where it may change the password. */
    fw = forward(f, "GET", "/api/rest/login_session", "Authorization", BASIC_FRESH, NULL);
    assert_true(fw.local);
    assert_int_equal(fw.r.resp.status, 200);
    done(&fw.r);
}

/* [authorize] rules override the default, and "none" refuses everyone. */
static void test_rules(void **state)
{
    fixture *f = *state;

    authorize(f, "/api/rest/metrics", "POST: Login");
    authorize(f, "/api/rest/appliance", "*: none");
    authorize(f, "/api/rest/volume", "GET HEAD: ConfigureComponents");
    expect_passed(forward(f, "POST", "/api/rest/metrics/generate", "Authorization",
                          BASIC_VIEWER, NULL));
    expect_refused(forward(f, "GET", "/api/rest/appliance", "Authorization", BASIC_ADMIN, NULL),
                   403, "0xE1403002");
    expect_refused(forward(f, "GET", "/api/rest/x/../appliance/1", "Authorization",
                           BASIC_ADMIN, NULL), 403, "0xE1403002");
    expect_refused(forward(f, "GET", "/api/rest/volume/7", "Authorization", BASIC_VIEWER,
                           NULL), 403, "0xE1403002");
    expect_passed(forward(f, "GET", "/api/rest/volume/7", "Authorization", BASIC_OPER, NULL));
    /* Methods the rule does not name keep the default. */
    expect_refused(forward(f, "POST", "/api/rest/volume", "Authorization", BASIC_VIEWER, NULL),
                   403, "0xE1403002");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_routes),
        cmocka_unit_test(test_credential),
        cmocka_unit_test_setup_teardown(test_method_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_spelled_otherwise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
