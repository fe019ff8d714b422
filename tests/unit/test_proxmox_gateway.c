/*
 * test_proxmox_gateway.c: the Proxmox VE dialect in gateway mode (a location
 * with an upstream): which routes it answers itself, what carries its
 * credentials, and its forward hook driven as the module drives it:
 * classify, authenticate, forward. A refusal is Proxmox VE's own and never
 * reaches the upstream; an API token is judged by forward, which says who
 * it is (gh_request.gateway_who).
 */
#include "../../src/dialects/proxmox/proxmox_internal.h"
#include "../../src/dialects/common/gateway.h"
#include "dialect_fixture.h"

static int setup(void **state)
{
    fixture *f = fixture_new(&gh_proxmox_dialect, "proxmox");

    f->cfg.lockout_threshold = 0;
    fixture_ready(f);
    *state = f;
    return 0;
}

/* A refusal: status, status line text (when not NULL), {"data": null}. */
static void expect_fail(result r, int status, const char *reason)
{
    if (r.resp.status != status)
        fail_msg("expected %d, got %d: %.*s", status, r.resp.status, (int)r.resp.body_len,
                 r.resp.body != NULL ? r.resp.body : "");
    if (reason != NULL)
        assert_string_equal(r.resp.reason, reason);
    assert_true(json_is_null(json_object_get(r.json, "data")));
    assert_string_equal(hdr(&r, "Cache-Control"), "max-age=0");
    json_decref(r.json);
    gh_response_free(&r.resp);
}

static void done(result *r)
{
    json_decref(r->json);
    gh_response_free(&r->resp);
}

typedef struct {
    char cookie[GH_PVE_TICKET_MAX + 32];
    char csrf[GH_PVE_CSRF_LEN + 1];
} login;

static login do_login(fixture *f, const char *user)
{
    char    body[128];
    login   l;
    result  r;
    json_t *d;

    snprintf(body, sizeof(body), "username=%s%%40pam&password=" PW, user);
    r = run(f, "POST", "/api2/json/access/ticket", body, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(r.plan.local);
    d = json_object_get(r.json, "data");
    snprintf(l.cookie, sizeof(l.cookie), GH_PVE_COOKIE "=%s",
             json_string_value(json_object_get(d, "ticket")));
    snprintf(l.csrf, sizeof(l.csrf), "%s",
             json_string_value(json_object_get(d, "CSRFPreventionToken")));
    done(&r);
    return l;
}

/* One request as the module runs it in a location with an upstream: classify,
 * authenticate (unless open to the adapter), then forward. *passed says
 * whether it would reach the upstream; gw what forward found of who it is. */
static result fwd(fixture *f, const char *method, const char *path, bool *passed,
                  gh_gateway_who *gw, ...)
{
    test_req     t;
    gh_principal who;
    gh_refusal   why = 0;
    result       r;
    va_list      ap;

    memset(&t, 0, sizeof(t));
    memset(&r, 0, sizeof(r));
    memset(gw, 0, sizeof(*gw));
    va_start(ap, gw);
    for (const char *n; (n = va_arg(ap, const char *)) != NULL && t.n < TEST_HEADERS_MAX; t.n++) {
        t.names[t.n] = n;
        t.values[t.n] = va_arg(ap, const char *);
    }
    va_end(ap);
    build_req(&t, &f->cfg, method, path);
    t.req.gateway_who = gw;
    f->dialect->classify(&t.req, &r.plan);
    assert_false(r.plan.local);
    memset(&who, 0, sizeof(who));
    if (!r.plan.open)
        why = authenticate(f, &r.plan, &who);
    gh_credential_wipe(&r.plan.cred);
    *passed = false;
    if (why != 0)
        f->dialect->refuse(&t.req, why, &r.resp);
    else
        *passed = f->dialect->forward(&f->svc, &t.req, &r.plan, r.plan.open ? NULL : &who,
                                      &r.resp);
    if (r.resp.body != NULL)
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
    return r;
}

static bool plan_local(const char *path)
{
    test_req t;
    gh_plan  plan;

    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", path);
    gh_proxmox_dialect.classify(&t.req, &plan);
    return plan.local;
}

static void test_forward_local_routes(void **state)
{
    (void)state;
    assert_true(plan_local("/api2/json/access/ticket"));
    assert_true(plan_local("/api2/json/access/users/a@pam/token"));
    assert_true(plan_local("/api2/json/access/users/a@pam/token/t"));
    assert_true(plan_local("/api2/json/access/users"));
    assert_true(plan_local("/api2/json/access"));
    assert_false(plan_local("/api2/json/nodes"));
    assert_false(plan_local("/api2/json/accessx"));
    assert_false(plan_local("/api2/json/version"));
    assert_string_equal(gh_proxmox_dialect.credential_headers[0], "Authorization");
    assert_string_equal(gh_proxmox_dialect.credential_headers[1], GH_PVE_CSRF_HEADER);
    assert_null(gh_proxmox_dialect.credential_headers[2]);
    assert_string_equal(gh_proxmox_dialect.credential_cookies[0], GH_PVE_COOKIE);
    assert_null(gh_proxmox_dialect.credential_cookies[1]);
}

static void test_forward(void **state)
{
    fixture        *f = *state;
    login           v = do_login(f, "viewer");
    login           o = do_login(f, "oper");
    gh_gateway_who  gw;
    bool            passed;
    result          r;
    char            auth[200];

    r = fwd(f, "GET", "/api2/json/nodes/x", &passed, &gw, "Cookie", v.cookie, NULL);
    assert_true(passed);
    assert_false(gw.set);                   /* the adapter knows who: the session's */
    gh_response_free(&r.resp);
    /* ReadOnly may not write; nobody writes with a ticket but with its CSRF token */
    r = fwd(f, "POST", "/api2/json/nodes/x", &passed, &gw, "Cookie", v.cookie,
            GH_PVE_CSRF_HEADER, v.csrf, NULL);
    assert_false(passed);
    expect_fail(r, 403, "Permission check failed");
    r = fwd(f, "DELETE", "/api2/json/nodes/x", &passed, &gw, "Cookie", o.cookie, NULL);
    assert_false(passed);
    expect_fail(r, 401, "Permission denied - invalid csrf token");
    r = fwd(f, "DELETE", "/api2/json/nodes/x", &passed, &gw, "Cookie", o.cookie,
            GH_PVE_CSRF_HEADER, v.csrf, NULL);
    assert_false(passed);                   /* another session's token */
    expect_fail(r, 401, NULL);
    r = fwd(f, "DELETE", "/api2/json/nodes/x", &passed, &gw, "Cookie", o.cookie,
            GH_PVE_CSRF_HEADER, o.csrf, NULL);
    assert_true(passed);
    gh_response_free(&r.resp);
    r = fwd(f, "GET", "/api2/json/nodes/x", &passed, &gw, NULL);
    assert_false(passed);
    expect_fail(r, 401, "No ticket");

    /* an API token: forward checks it and says who it is */
    r = run(f, "POST", "/api2/json/access/users/oper@pam/token/gw", "privsep=1", "Cookie",
            o.cookie, GH_PVE_CSRF_HEADER, o.csrf, NULL);
    assert_int_equal(r.resp.status, 200);
    snprintf(auth, sizeof(auth), "PVEAPIToken=oper@pam!gw=%s",
             json_string_value(json_object_get(json_object_get(r.json, "data"), "value")));
    done(&r);
    r = fwd(f, "GET", "/api2/json/nodes/x", &passed, &gw, "Authorization", auth, NULL);
    assert_true(passed);
    assert_true(gw.set);
    assert_string_equal(gw.who.user, "oper");
    assert_string_equal(gw.who.session_id, "");
    assert_int_equal(gw.privileges, GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_SELF);
    gh_response_free(&r.resp);
    r = fwd(f, "PUT", "/api2/json/nodes/x", &passed, &gw, "Authorization", auth, NULL);
    assert_false(passed);
    assert_false(gw.set);
    expect_fail(r, 403, "Permission check failed");
    auth[strlen(auth) - 1] ^= 1;
    r = fwd(f, "GET", "/api2/json/nodes/x", &passed, &gw, "Authorization", auth, NULL);
    assert_false(passed);
    assert_false(gw.set);
    expect_fail(r, 401, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_local_routes),
        cmocka_unit_test_setup_teardown(test_forward, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
