/*
 * test_redfish_gateway.c: the Redfish dialect in gateway mode
 * (docs/gateway.md, "Redfish"): which routes gatehouse answers itself, the
 * forward hook's verdict on the rest (open routes, paths that could name
 * another resource upstream, Login, PasswordChangeRequired, DMTF's Privilege
 * Registry with its overrides and actions, the method's default elsewhere),
 * the credential hook and the service root taken from the upstream's. The
 * registry's table itself: test_redfish_registry.c.
 */
#include <openssl/evp.h>

#include "redfish_fixture.h"

/* Basic credentials of user with PW. */
static void basic(const char *user, char out[128])
{
    char plain[64];
    int  n = snprintf(plain, sizeof(plain), "%s:%s", user, PW);

    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, n);
}

/* One request passed on as the module would: classify, authenticate (Basic
 * of user; NULL: no credentials), then the forward hook. Returns its
 * verdict; *r holds the refusal. */
static bool fwd(fixture *f, const char *method, const char *path, const char *user, result *r)
{
    test_req     t;
    gh_principal who;
    char         auth[128];
    bool         pass;

    memset(&t, 0, sizeof(t));
    memset(r, 0, sizeof(*r));
    if (user != NULL) {
        basic(user, auth);
        t.names[0] = "Authorization";
        t.values[0] = auth;
        t.n = 1;
    }
    build_req(&t, &f->cfg, method, path);
    gh_redfish_dialect.classify(&t.req, &r->plan);
    assert_false(r->plan.local);
    memset(&who, 0, sizeof(who));
    if (!r->plan.open && user != NULL)
        assert_int_equal(authenticate(f, &r->plan, &who), 0);
    gh_credential_wipe(&r->plan.cred);
    gh_response_init(&r->resp);
    pass = gh_redfish_dialect.forward(&f->svc, &t.req, &r->plan,
                                      r->plan.open || user == NULL ? NULL : &who, &r->resp);
    if (r->resp.body != NULL)
        r->json = json_loadb(r->resp.body, r->resp.body_len, 0, NULL);
    return pass;
}

static void passes(fixture *f, const char *method, const char *path, const char *user)
{
    result r;

    if (!fwd(f, method, path, user, &r))
        fail_msg("%s %s as %s: refused %d", method, path, user, r.resp.status);
    assert_int_equal(r.resp.nheaders, 0);   /* nothing added to the upstream's answer */
    json_decref(r.json);
    gh_response_free(&r.resp);
}

/* Refused with status and the first message's MessageId ending in id. */
static void refused(fixture *f, const char *method, const char *path, const char *user,
                    int status, const char *id)
{
    result r;

    if (fwd(f, method, path, user, &r))
        fail_msg("%s %s as %s: passed on", method, path, user);
    assert_int_equal(r.resp.status, status);
    assert_non_null(msg_id(&r));
    assert_non_null(strstr(msg_id(&r), id));
    done(&r);
}

static void test_local_routes(void **state)
{
    static const struct {
        const char *method, *path;
        bool        local, first;
    } cases[] = {
        { "GET", "/redfish", true, false },
        { "GET", "/redfish/v1/", true, true },
        { "GET", "/Redfish/V1", true, true },
        { "HEAD", "/redfish/v1", true, false },
        { "POST", "/redfish/v1/SessionService/Sessions", true, false },
        { "DELETE", "/redfish/v1/SessionService/Sessions/0123456789abcdef0123456789abcdef",
          true, false },
        { "PATCH", "/redfish/v1/SessionService", true, false },
        { "GET", "/redfish/v1/AccountService/Accounts/2", true, false },
        { "GET", "/redfish/v1/AccountService/Roles/ReadOnly", true, false },
        { "GET", "/redfish/v1/accountservice/LDAP/Certificates", true, false },
        { "POST", "/redfish/v1/AccountService/Accounts/1/Keys", true, false },
        { "GET", "/redfish/v1/SessionService/Sessions/nonsense", true, false },
        { "GET", "/redfish/v1/Systems/1", false, false },
        { "GET", "/redfish/v1/odata", false, false },
        { "GET", "/redfish/v1/$metadata", false, false },
        { "GET", "/redfish/v1/openapi.yaml", false, false },
        { "GET", "/redfish/v1/EventService/SSE", false, false },
        { "POST", "/redfish/v1/EventService/Subscriptions", false, false },
        { "GET", "/redfish/v1/AccountServiceX", false, false },
        { "GET", "/redfish/v1/Systems/1/%2e%2e/%2e%2e/AccountService", false, false },
    };
    test_req t;
    gh_plan  plan;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&t, 0, sizeof(t));
        build_req(&t, NULL, cases[i].method, cases[i].path);
        gh_redfish_dialect.classify(&t.req, &plan);
        if (plan.local != cases[i].local || plan.upstream_first != cases[i].first)
            fail_msg("%s %s: local %d, upstream_first %d", cases[i].method, cases[i].path,
                     plan.local, plan.upstream_first);
        gh_credential_wipe(&plan.cred);
    }
}

static void test_credential(void **state)
{
    test_req      t;
    gh_credential cred;

    (void)state;
    memset(&t, 0, sizeof(t));
    build_req(&t, NULL, "GET", "/anything/at/all");
    t.names[0] = "Authorization";
    t.values[0] = "Basic YWRtaW46cGFzc3dvcmQx";
    t.n = 1;
    gh_redfish_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_BASIC);
    assert_string_equal(cred.user, "admin");
    gh_credential_wipe(&cred);
    t.names[1] = "x-auth-token";
    t.values[1] = "abcdef";
    t.n = 2;
    gh_redfish_dialect.credential(&t.req, &cred);
    assert_int_equal(cred.kind, GH_CRED_TOKEN);
    assert_true(gh_str_eq(cred.token, "abcdef"));
    gh_credential_wipe(&cred);
    assert_string_equal(gh_redfish_dialect.credential_headers[0], "Authorization");
    assert_string_equal(gh_redfish_dialect.credential_headers[1], "X-Auth-Token");
    assert_null(gh_redfish_dialect.credential_headers[2]);
    assert_null(gh_redfish_dialect.credential_cookies);
}

static void test_forward_privileges(void **state)
{
    fixture *f = *state;

    /* The registry: ComputerSystem PATCH needs ConfigureComponents. */
    refused(f, "PATCH", "/redfish/v1/Systems/1", "viewer", 403, "InsufficientPrivilege");
    passes(f, "PATCH", "/redfish/v1/Systems/1", "oper");
    passes(f, "GET", "/redfish/v1/Systems/1", "viewer");
    /* ManagerNetworkProtocol PATCH needs ConfigureManager. */
    refused(f, "PATCH", "/redfish/v1/Managers/bmc/NetworkProtocol", "oper", 403,
            "InsufficientPrivilege");
    passes(f, "PATCH", "/redfish/v1/Managers/bmc/NetworkProtocol", "admin");
    /* Overrides and actions. */
    refused(f, "PATCH", "/redfish/v1/Managers/bmc/EthernetInterfaces/eth0", "oper", 403,
            "InsufficientPrivilege");
    passes(f, "PATCH", "/redfish/v1/Systems/1/EthernetInterfaces/eth0", "oper");
    passes(f, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", "oper");
    refused(f, "POST", "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset", "viewer", 403,
            "InsufficientPrivilege");
    refused(f, "POST", "/redfish/v1/Managers/bmc/Actions/Manager.Reset", "oper", 403,
            "InsufficientPrivilege");
    refused(f, "GET", "/redfish/v1/Systems/1/Certificates/1", "viewer", 403,
            "InsufficientPrivilege");
    /* The Administrator: anything. */
    passes(f, "DELETE", "/redfish/v1/Systems/1", "admin");
    passes(f, "POST", "/redfish/v1/Managers/bmc/Actions/Manager.Reset", "admin");
    passes(f, "PUT", "/redfish/v1/Managers/bmc/EthernetInterfaces/eth0", "admin");
    passes(f, "PATCH", "/redfish/v1/EventService/Subscriptions/1", "admin");
    passes(f, "POST", "/redfish/v1/Oem/Contoso/Things", "admin");
    passes(f, "OPTIONS", "/redfish/v1/Systems/1", "admin");
    /* A path no URI pattern matches: the method's default. */
    passes(f, "GET", "/redfish/v1/Oem/Contoso/Things", "viewer");
    refused(f, "POST", "/redfish/v1/Oem/Contoso/Things", "viewer", 403, "InsufficientPrivilege");
    passes(f, "POST", "/redfish/v1/Oem/Contoso/Things", "oper");
    passes(f, "DELETE", "/redfish/v1/Systems/1/Oem/Contoso/Thing", "oper");
    refused(f, "OPTIONS", "/redfish/v1/Systems/1", "viewer", 403, "InsufficientPrivilege");
}

static void test_forward_gates(void **state)
{
    fixture *f = *state;

    /* Open routes pass with nobody (DSP0266). */
    passes(f, "GET", "/redfish/v1/$metadata", NULL);
    passes(f, "GET", "/redfish/v1/odata", NULL);
    passes(f, "HEAD", "/redfish/v1/openapi.yaml", NULL);
    /* Anything else needs a principal. */
    refused(f, "GET", "/redfish/v1/Systems", NULL, 401, "NoValidSession");
    refused(f, "POST", "/redfish/v1/$metadata", NULL, 401, "NoValidSession");
    /* Paths an upstream could read as another resource than the one asked about. */
    refused(f, "PATCH", "/redfish/v1/Systems/1/../../Managers/bmc/NetworkProtocol", "oper",
            400, "GeneralError");
    refused(f, "PATCH", "/redfish/v1/Systems/1/%2E%2E/%2e%2e/Managers/bmc/NetworkProtocol",
            "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1/Systems/./1", "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1//Systems/1", "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1/Systems/1//", "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1/Managers;x=1/bmc", "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1/Managers\\bmc", "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1/Managers%2Fbmc", "oper", 400, "GeneralError");
    refused(f, "GET", "/redfish/v1/Managers/bmc%zz", "oper", 400, "GeneralError");
    passes(f, "GET", "/redfish/v1/Systems/1.2/", "viewer");
    passes(f, "GET", "/redfish/v1/Systems/..1", "viewer");
}

static void test_forward_password_change(void **state)
{
    fixture *f = *state;

    add_account(f, "fresh", GH_ROLE_ADMINISTRATOR, false, true);
    refused(f, "GET", "/redfish/v1/Systems", "fresh", 403, "PasswordChangeRequired");
    refused(f, "PATCH", "/redfish/v1/Systems/1", "fresh", 403, "PasswordChangeRequired");
    passes(f, "GET", "/redfish/v1/$metadata", "fresh");   /* open: nobody asked */
}

/* The service root with the upstream's answer in req->upstream_*. */
static result root(fixture *f, const char *method, int status, const char *body,
                   const char *if_none_match)
{
    test_req t;
    result   r;

    memset(&t, 0, sizeof(t));
    memset(&r, 0, sizeof(r));
    if (if_none_match != NULL) {
        t.names[0] = "If-None-Match";
        t.values[0] = if_none_match;
        t.n = 1;
    }
    build_req(&t, &f->cfg, method, "/redfish/v1/");
    t.req.upstream_status = status;
    t.req.upstream_body = body != NULL ? (gh_str){ body, strlen(body) } : (gh_str){ NULL, 0 };
    gh_redfish_dialect.classify(&t.req, &r.plan);
    assert_true(r.plan.open && r.plan.local);
    gh_response_init(&r.resp);
    gh_redfish_dialect.serve(&f->svc, f->tree, &t.req, &r.plan, NULL, &r.resp);
    if (r.resp.body != NULL)
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
    return r;
}

#define UPSTREAM_ROOT                                                                   \
    "{\"@odata.id\": \"/redfish/v1/\", \"@odata.type\": \"#ServiceRoot.v1_16_0.ServiceRoot\"," \
    " \"Id\": \"RootService\", \"Name\": \"BMC\", \"UUID\": \"92384634-2938-2342-8820-489239905423\"," \
    " \"Systems\": {\"@odata.id\": \"/redfish/v1/Systems\"},"                            \
    " \"Managers\": {\"@odata.id\": \"/redfish/v1/Managers\"},"                          \
    " \"SessionService\": {\"@odata.id\": \"/redfish/v1/Elsewhere/Sessions\"},"          \
    " \"Links\": {\"Sessions\": {\"@odata.id\": \"/elsewhere\"},"                        \
    " \"ManagerProvidingService\": {\"@odata.id\": \"/redfish/v1/Managers/bmc\"}}}"

static void test_root_from_upstream(void **state)
{
    fixture *f = *state;
    char     etag[64];
    result   r = root(f, "GET", 200, UPSTREAM_ROOT, NULL);

    assert_int_equal(r.resp.status, 200);
    /* The upstream's root, as it was ... */
    assert_string_equal(str_at(&r, "Name", NULL), "BMC");
    assert_string_equal(str_at(&r, "UUID", NULL), "92384634-2938-2342-8820-489239905423");
    assert_string_equal(str_at(&r, "Managers", "@odata.id"), "/redfish/v1/Managers");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            r.json, "Links"), "ManagerProvidingService"), "@odata.id")),
                        "/redfish/v1/Managers/bmc");
    assert_null(json_object_get(r.json, "Product"));
    /* ... but for the services gatehouse answers. */
    assert_string_equal(str_at(&r, "SessionService", "@odata.id"), "/redfish/v1/SessionService");
    assert_string_equal(str_at(&r, "AccountService", "@odata.id"), "/redfish/v1/AccountService");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            r.json, "Links"), "Sessions"), "@odata.id")),
                        "/redfish/v1/SessionService/Sessions");
    /* gatehouse's headers: a JSON body, an ETag, the schema of the upstream's type. */
    assert_string_equal(r.resp.content_type, "application/json; charset=utf-8");
    assert_non_null(strstr(hdr(&r, "Link"), "ServiceRoot.v1_16_0"));
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    assert_int_equal(strlen(etag), GH_TREE_ETAG_LEN);
    done(&r);
    r = root(f, "GET", 200, UPSTREAM_ROOT, etag);
    assert_int_equal(r.resp.status, 304);
    done(&r);
    /* No Links of its own: made. */
    r = root(f, "GET", 200, "{\"Name\": \"bare\", \"Links\": 7}", NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "Name", NULL), "bare");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            r.json, "Links"), "Sessions"), "@odata.id")),
                        "/redfish/v1/SessionService/Sessions");
    done(&r);
}

/* Anything but a 200 with a JSON object: gatehouse's own root. */
static void test_root_own(void **state)
{
    static const struct {
        int         status;
        const char *body;
    } cases[] = {
        { 0, NULL },
        { 404, "{\"error\": {}}" },
        { 503, UPSTREAM_ROOT },
        { 200, "<html>not json</html>" },
        { 200, "[1, 2]" },
        { 200, "" },
        { 200, "{\"a\": 1, \"a\": 2}" },
        { 200, "{\"truncated\": " },
    };
    fixture *f = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result r = root(f, "GET", cases[i].status, cases[i].body, NULL);

        assert_int_equal(r.resp.status, 200);
        assert_string_equal(str_at(&r, "Product", NULL), "gatehouse");
        assert_string_equal(str_at(&r, "SessionService", "@odata.id"),
                            "/redfish/v1/SessionService");
        done(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_routes),
        cmocka_unit_test(test_credential),
        cmocka_unit_test_setup_teardown(test_forward_privileges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_gates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_password_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_from_upstream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_own, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
