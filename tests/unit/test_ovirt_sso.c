/*
 * test_ovirt_sso.c: the oVirt SSO (src/dialects/ovirt/ovirt_sso.c): the token
 * request from the body or the query, the token and its lifetime, every
 * error code in both of the engine's shapes, profiles and the 4.5.1+ admin
 * name, locked and password-expired accounts, one token per user, plain
 * HTTP, and the logout. The fixture is in ovirt_fixture.h.
 */
#include "ovirt_fixture.h"

#define FORM "application/x-www-form-urlencoded"
#define GOOD "grant_type=password&scope=ovirt-app-api&username=admin%40internal" \
             "&password=password1"

/* POST a token request with Accept: application/json and a form body. */
static result token_post(fixture *f, const char *body)
{
    return run(f, "POST", GH_OVIRT_TOKEN, body, "Accept", "application/json",
               "Content-Type", FORM, NULL);
}

/* An error of the REST API scope: {"error_code": code, "error": message}. */
static void expect_api_error(result *r, int status, const char *code, const char *message)
{
    assert_int_equal(r->resp.status, status);
    assert_string_equal(r->resp.content_type, "application/json");
    assert_non_null(r->json);
    assert_string_equal(str_at(r, "error_code"), code);
    if (message != NULL && strcmp(str_at(r, "error"), message) != 0)
        fail_msg("message \"%s\", want \"%s\"", str_at(r, "error"), message);
    assert_null(json_object_get(r->json, "error_description"));
    done(r);
}

/* An OAuth error: {"error": code, "error_description": message}. */
static void expect_oauth_error(result *r, int status, const char *code, const char *message)
{
    assert_int_equal(r->resp.status, status);
    assert_non_null(r->json);
    assert_string_equal(str_at(r, "error"), code);
    if (message != NULL && strcmp(str_at(r, "error_description"), message) != 0)
        fail_msg("message \"%s\", want \"%s\"", str_at(r, "error_description"), message);
    assert_null(json_object_get(r->json, "error_code"));
    done(r);
}

static bool all_hex(const char *s, size_t len)
{
    if (s == NULL || strlen(s) != len)
        return false;
    for (; *s != '\0'; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

static void test_token(void **state)
{
    fixture *f = *state;
    char bearer[128];
    int64_t before = gh_now(), exp;
    result r = token_post(f, GOOD);

    assert_int_equal(r.resp.status, 200);
    assert_string_equal(r.resp.content_type, "application/json");
    assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
    assert_true(all_hex(str_at(&r, "access_token"), GH_TOKEN_TEXT_LEN));
    assert_string_equal(str_at(&r, "token_type"), "bearer");
    assert_string_equal(str_at(&r, "scope"), "ovirt-app-api");
    /* exp: a string of epoch milliseconds, the idle timeout (1800 s) away. */
    assert_true(json_is_string(json_object_get(r.json, "exp")));
    exp = strtoll(str_at(&r, "exp"), NULL, 10);
    assert_true(exp >= (before + 1800) * 1000 && exp <= (gh_now() + 1800) * 1000);
    snprintf(bearer, sizeof(bearer), "Bearer %s", str_at(&r, "access_token"));
    done(&r);

    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", bearer, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* A token is no Redfish session, nor a Redfish token an oVirt one. */
    assert_int_equal(ovirt_sessions(f), 1);
}

static void test_token_sources(void **state)
{
    fixture *f = *state;
    result r;

    /* The query alone, GET and POST alike. */
    r = run(f, "GET", GH_OVIRT_TOKEN "?" GOOD, NULL, "Accept", "application/json", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "POST", GH_OVIRT_TOKEN "?" GOOD, "", "Accept", "application/json", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Split between the two; the query wins where both have one. */
    r = run(f, "POST", GH_OVIRT_TOKEN "?grant_type=password&password=password1",
            "scope=ovirt-app-api&username=admin@internal&password=wrong",
            "Accept", "application/json", "Content-Type", FORM "; charset=UTF-8", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* '+' and %XX decode; a scope of several tokens. */
    r = token_post(f, "grant_type=password&scope=ovirt-app-api+ovirt-ext%3Dtoken-info%3Avalidate"
                      "&username=oper%40internal&password=password%31");
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "scope"), "ovirt-app-api ovirt-ext=token-info:validate");
    done(&r);
    /* A body of another type is not read: the parameters are missing. */
    r = run(f, "POST", GH_OVIRT_TOKEN, GOOD, "Accept", "application/json",
            "Content-Type", "application/json", NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(str_at(&r, "error_description"), "Missing parameter: 'grant_type'");
    done(&r);
}

static void test_token_errors(void **state)
{
    fixture *f = *state;
    result r;

    r = run(f, "POST", GH_OVIRT_TOKEN, GOOD, "Content-Type", FORM, NULL);
    expect_api_error(&r, 400, "invalid_request", "Missing parameter: 'Accept Header'");
    r = run(f, "POST", GH_OVIRT_TOKEN, GOOD, "Accept", "*/*", "Content-Type", FORM, NULL);
    expect_api_error(&r, 400, "invalid_request", "Missing parameter: 'Accept Header'");
    r = token_post(f, "scope=ovirt-app-api&username=admin%40internal&password=password1");
    expect_api_error(&r, 400, "invalid_request", "Missing parameter: 'grant_type'");
    r = token_post(f, "grant_type=client_credentials&scope=ovirt-app-api"
                      "&username=admin%40internal&password=password1");
    expect_api_error(&r, 400, "unsupported_grant_type", "The authorization grant type is not "
                     "supported by the authorization server.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&password=password1");
    expect_api_error(&r, 400, "invalid_request", "Missing parameter: 'username'");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=admin%40internal");
    expect_api_error(&r, 400, "invalid_request", "Missing parameter: 'password'");
    /* An unreadable body: no scope can be read from it, so OAuth's shape. */
    r = token_post(f, GOOD "&x=%zz");
    expect_oauth_error(&r, 400, "invalid_request", "Malformed request parameters");
    /* A name twice, a value with %00: the rest of the body reads, the scope too. */
    r = token_post(f, GOOD "&password=again");
    expect_api_error(&r, 400, "invalid_request", "Malformed request parameters");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=admin%40internal"
                      "&password=pass%00word1");
    expect_api_error(&r, 400, "invalid_request", "Malformed request parameters");

    /* Wrong credentials: one message for an unknown user, a wrong password, a lock. */
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=admin%40internal"
                      "&password=wrong");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user 'admin@internal': Unable "
                     "to log in. Verify your login information or contact the system "
                     "administrator.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=nobody%40internal"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user 'nobody@internal': "
                     "Unable to log in. Verify your login information or contact the system "
                     "administrator.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=admin"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user 'admin@N/A': No profile "
                     "found in credentials.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=admin%40example.com"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user 'admin@example.com': No "
                     "valid profile found in credentials.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=%40internal"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user '@internal': No user "
                     "name found in credentials.");
    /* A name with bytes a message cannot show. */
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=%C3%A9%40internal"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user '??@internal': Unable "
                     "to log in. Verify your login information or contact the system "
                     "administrator.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=renew%40internal"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user 'renew@internal': Unable "
                     "to log in because the password has expired.");
    assert_int_equal(ovirt_sessions(f), 0);
}

static void test_scope_errors(void **state)
{
    fixture *f = *state;
    result r;

    /* Without the REST API scope the errors take OAuth's shape. */
    r = token_post(f, "grant_type=password&username=admin%40internal&password=password1");
    expect_oauth_error(&r, 400, "invalid_scope", "The requested scope '' is invalid, unknown, "
                       "malformed, or exceeds the scope granted by the resource owner.");
    r = token_post(f, "grant_type=password&scope=&username=admin%40internal&password=password1");
    expect_oauth_error(&r, 400, "invalid_scope", NULL);
    r = token_post(f, "grant_type=password&scope=ovirt-app-admin&username=admin%40internal"
                      "&password=password1");
    expect_oauth_error(&r, 400, "invalid_scope", "The requested scope 'ovirt-app-admin' is "
                       "invalid, unknown, malformed, or exceeds the scope granted by the "
                       "resource owner.");
    r = token_post(f, "grant_type=password&scope=ovirt-app-apix&username=admin%40internal"
                      "&password=password1");
    expect_oauth_error(&r, 400, "invalid_scope", NULL);
    r = token_post(f, "grant_type=password&scope=ovirt-app-api%22x&username=admin%40internal"
                      "&password=password1");
    expect_oauth_error(&r, 400, "invalid_scope", NULL);
    r = run(f, "POST", GH_OVIRT_TOKEN, "grant_type=password", "Content-Type", FORM, NULL);
    expect_oauth_error(&r, 400, "invalid_request", "Missing parameter: 'Accept Header'");
    /* The API scope beside the admin or portal one is not the REST API's, but is allowed. */
    r = token_post(f, "grant_type=password&scope=ovirt-app-api%20ovirt-app-admin"
                      "&username=admin%40internal&password=wrong");
    expect_oauth_error(&r, 400, "access_denied", NULL);
    r = token_post(f, "grant_type=password&scope=ovirt-app-portal+ovirt-app-api"
                      "&username=admin%40internal&password=password1");
    assert_int_equal(r.resp.status, 200);
    done(&r);
}

static void test_profiles_and_admin_alias(void **state)
{
    fixture *f = *state;
    result r;

    r = token_post(f, "grant_type=password&scope=ovirt-app-api"
                      "&username=admin%40ovirt%40internalsso&password=password1");
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Only the built-in admin's name: anyone else at internalsso is unknown. */
    r = token_post(f, "grant_type=password&scope=ovirt-app-api"
                      "&username=oper%40internalsso&password=password1");
    expect_api_error(&r, 400, "access_denied", NULL);
    /* A configured profile names the same local accounts. */
    snprintf(gh_ovirt_settings_edit(&f->cfg)->profiles, sizeof(gh_ovirt_settings_edit(&f->cfg)->profiles), "internal,lab");
    r = token_post(f, "grant_type=password&scope=ovirt-app-api"
                      "&username=oper%40lab&password=password1");
    assert_int_equal(r.resp.status, 200);
    done(&r);
    snprintf(gh_ovirt_settings_edit(&f->cfg)->profiles, sizeof(gh_ovirt_settings_edit(&f->cfg)->profiles), "lab");
    r = token_post(f, GOOD);
    expect_api_error(&r, 400, "access_denied", NULL);
}

static void test_lockout_and_unavailable(void **state)
{
    fixture *f = *state;
    result r;

    f->cfg.lockout_threshold = 2;
    assert_int_equal(gh_service_sync_settings(&f->svc), GH_STORE_OK);
    for (int i = 0; i < 2; i++) {
        r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=viewer%40internal"
                          "&password=wrong");
        expect_api_error(&r, 400, "access_denied", NULL);
    }
    /* Locked: the right password gets the same answer. */
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=viewer%40internal"
                      "&password=password1");
    expect_api_error(&r, 400, "access_denied", "Cannot authenticate user 'viewer@internal': "
                     "Unable to log in. Verify your login information or contact the system "
                     "administrator.");
    /* Over plain HTTP: refused before anything is read. */
    f->plain_http = true;
    r = token_post(f, GOOD);
    expect_oauth_error(&r, 403, "access_denied", NULL);
    f->plain_http = false;
    /* Session limit: 503 with Retry-After. */
    f->cfg.max_sessions_per_account = 1;
    r = token_post(f, GOOD);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = token_post(f, GOOD);
    assert_int_equal(r.resp.status, 503);
    assert_string_equal(str_at(&r, "error_code"), "server_error");
    assert_string_equal(hdr(&r, "Retry-After"), "30");
    done(&r);
    /* A directory that does not answer: 503, and when to try again. */
    gh_config_directory_defaults(&f->cfg.directories[0]);
    snprintf(f->cfg.directories[0].name, sizeof(f->cfg.directories[0].name), "corp");
    snprintf(f->cfg.directories[0].servers, sizeof(f->cfg.directories[0].servers),
             "ldap://127.0.0.1:1");
    snprintf(f->cfg.directories[0].user_base, sizeof(f->cfg.directories[0].user_base),
             "ou=people,dc=example,dc=org");
    f->cfg.directories[0].connect_timeout = 1;
    f->cfg.ndirectories = 1;
    r = token_post(f, "grant_type=password&scope=ovirt-app-api&username=carol%40corp"
                      "&password=password1");
    assert_int_equal(r.resp.status, 503);
    assert_string_equal(str_at(&r, "error_code"), "server_error");
    assert_string_equal(hdr(&r, "Retry-After"), "30");
    done(&r);
}

static void test_lifetime(void **state)
{
    fixture *f = *state;
    char token[GH_TOKEN_TEXT_LEN + 1];
    uint8_t digest[GH_DIGEST_LEN];
    gh_session_record rec;
    gh_principal who;

    gh_ovirt_settings_edit(&f->cfg)->token_idle_timeout = 120;
    get_token(f, "admin%40internal", token);
    gh_token_digest(token, strlen(token), digest);
    assert_int_equal(gh_shared_session_find(f->shared, digest, gh_now(), &who, &rec),
                     GH_SHARED_OK);
    assert_int_equal(rec.idle_timeout, 120);
    assert_string_equal(rec.dialect, "ovirt");
    assert_int_equal(who.role, GH_ROLE_ADMINISTRATOR);
    /* Still there just before its idle end, gone at it. */
    assert_int_equal(gh_shared_session_find(f->shared, digest, rec.last_used + 119, NULL, NULL),
                     GH_SHARED_OK);
    assert_int_equal(gh_shared_session_find(f->shared, digest, rec.last_used + 119 + 120, NULL,
                                            NULL), GH_SHARED_EXPIRED);

    /* No idle timeout: token_timeout, the limit since last use, applies. */
    gh_ovirt_settings_edit(&f->cfg)->token_idle_timeout = 0;
    gh_ovirt_settings_edit(&f->cfg)->token_timeout = 600;
    get_token(f, "admin%40internal", token);
    gh_token_digest(token, strlen(token), digest);
    assert_int_equal(gh_shared_session_find(f->shared, digest, gh_now(), NULL, &rec),
                     GH_SHARED_OK);
    assert_int_equal(rec.idle_timeout, 600);
    /* And caps a longer idle timeout. */
    gh_ovirt_settings_edit(&f->cfg)->token_idle_timeout = 7200;
    get_token(f, "admin%40internal", token);
    gh_token_digest(token, strlen(token), digest);
    assert_int_equal(gh_shared_session_find(f->shared, digest, gh_now(), NULL, &rec),
                     GH_SHARED_OK);
    assert_int_equal(rec.idle_timeout, 600);
    /* Tokens are durable: in the store before the reply. */
    assert_int_equal(gh_store_session_get(f->store, rec.id, &rec), GH_STORE_OK);
}

static void test_single_token_per_user(void **state)
{
    fixture *f = *state;
    char t1[GH_TOKEN_TEXT_LEN + 1], t2[GH_TOKEN_TEXT_LEN + 1], t3[GH_TOKEN_TEXT_LEN + 1];
    char b1[128], b2[128], b3[128];
    result r;

    get_token(f, "admin%40internal", t1);
    get_token(f, "admin%40internal", t2);
    assert_int_equal(ovirt_sessions(f), 2);
    gh_ovirt_settings_edit(&f->cfg)->single_token_per_user = true;
    get_token(f, "oper%40internal", t3);
    get_token(f, "admin%40internal", t3);
    /* admin's two earlier tokens ended; oper's stayed. */
    assert_int_equal(ovirt_sessions(f), 2);
    snprintf(b1, sizeof(b1), "Bearer %s", t1);
    snprintf(b2, sizeof(b2), "Bearer %s", t2);
    snprintf(b3, sizeof(b3), "Bearer %s", t3);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", b1, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", b2, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", b3, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
}

static void test_logout(void **state)
{
    fixture *f = *state;
    char token[GH_TOKEN_TEXT_LEN + 1], body[160], bearer[128];
    result r;

    get_token(f, "admin%40internal", token);
    snprintf(bearer, sizeof(bearer), "Bearer %s", token);
    snprintf(body, sizeof(body), "scope=ovirt-app-api&token=%s", token);
    r = run(f, "POST", GH_OVIRT_LOGOUT, body, "Accept", "application/json",
            "Content-Type", FORM, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(body_of(&r), "{}\n");
    assert_string_equal(r.resp.content_type, "application/json");
    done(&r);
    assert_int_equal(ovirt_sessions(f), 0);
    r = run(f, "GET", GH_OVIRT_API, NULL, "Authorization", bearer, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    /* Again, or an unknown token: the same {}, so it tells nobody which are alive. */
    r = run(f, "POST", GH_OVIRT_LOGOUT, body, "Content-Type", FORM, NULL);
    assert_string_equal(body_of(&r), "{}\n");
    done(&r);
    r = run(f, "GET", GH_OVIRT_LOGOUT "?token=nonsense", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* The query works too. */
    get_token(f, "admin%40internal", token);
    snprintf(body, sizeof(body), GH_OVIRT_LOGOUT "?token=%s", token);
    r = run(f, "POST", body, "", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(ovirt_sessions(f), 0);

    r = run(f, "POST", GH_OVIRT_LOGOUT, "scope=ovirt-app-api", "Content-Type", FORM, NULL);
    expect_api_error(&r, 400, "invalid_request", "Missing parameter: 'token'");
    r = run(f, "POST", GH_OVIRT_LOGOUT, "token=", "Content-Type", FORM, NULL);
    expect_oauth_error(&r, 400, "invalid_request", "Missing parameter: 'token'");
    r = run(f, "POST", GH_OVIRT_LOGOUT, "token=%q", "Content-Type", FORM, NULL);
    expect_oauth_error(&r, 400, "invalid_request", NULL);
    f->plain_http = true;
    r = run(f, "POST", GH_OVIRT_LOGOUT, "token=x", "Content-Type", FORM, NULL);
    expect_oauth_error(&r, 403, "access_denied", NULL);
    f->plain_http = false;
}

/* A Redfish session's token sent to the oVirt logout is not ended. */
/* A shared store lost: a logout that cannot look its token up is refused
 * (503, try again), never answered as done. */
static void test_logout_store_down(void **state)
{
    fixture *f = *state;
    char token[GH_TOKEN_TEXT_LEN + 1], body[160];
    result r;

    get_token(f, "admin%40internal", token);
    gh_shared_set_cached(f->shared, true);
    gh_session_store_close(f->svc.sessions);
    assert_non_null(f->svc.sessions = gh_session_store_cached(f->shared, f->svc.store,
                                                              NULL, NULL));
    gh_shared_drop_all(f->shared);
    snprintf(body, sizeof(body), "scope=ovirt-app-api&token=%s", token);
    r = run(f, "POST", GH_OVIRT_LOGOUT, body, "Accept", "application/json",
            "Content-Type", FORM, NULL);
    assert_int_equal(r.resp.status, 503);
    assert_string_equal(hdr(&r, "Retry-After"), "30");
    done(&r);
    /* Back: the token was never ended, and now it is. */
    assert_int_equal(gh_service_apply_changes(&f->svc), GH_STORE_OK);
    r = run(f, "POST", GH_OVIRT_LOGOUT, body, "Accept", "application/json",
            "Content-Type", FORM, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(ovirt_sessions(f), 0);
}

static void test_logout_leaves_other_dialects(void **state)
{
    fixture *f = *state;
    char body[160];
    result r;
    test_req t;
    gh_plan plan;
    gh_response resp;
    const char *login = "{\"UserName\": \"admin\", \"Password\": \"password1\"}";
    const char *token = NULL;

    memset(&t, 0, sizeof(t));
    build_req(&t, &f->cfg, "POST", "/redfish/v1/SessionService/Sessions");
    gh_redfish_dialect.classify(&t.req, &plan);
    t.req.body = (gh_str){ login, strlen(login) };
    memset(&resp, 0, sizeof(resp));
    gh_redfish_dialect.serve(&f->svc, f->tree, &t.req, &plan, NULL, &resp);
    assert_int_equal(resp.status, 201);
    for (size_t i = 0; i < resp.nheaders; i++) {
        if (strcmp(resp.headers[i].name, "X-Auth-Token") == 0)
            token = gh_response_value(&resp, i);
    }
    assert_non_null(token);
    snprintf(body, sizeof(body), "token=%s", token);
    r = run(f, "POST", GH_OVIRT_LOGOUT, body, "Content-Type", FORM, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 1);
    gh_response_free(&resp);
}

static void test_token_check_alone(void **state)
{
    gh_ovirt_token_request t;
    gh_config cfg;
    char msg[GH_OVIRT_MSG_MAX];

    (void)state;
    assert_int_equal(gh_dialect_config_defaults(&cfg, NULL, 0), 0);
    gh_ovirt_token_read(GH_STR(""), GH_STR(GOOD), &t);
    assert_int_equal(gh_ovirt_token_check(&cfg, GH_STR("application/json"), &t, msg, sizeof(msg)),
                     GH_OV_ERR_NONE);
    assert_string_equal(t.user, "admin");
    assert_string_equal(t.password, "password1");
    assert_int_equal(t.password_len, 9);
    assert_true(t.rest_api);
    gh_ovirt_token_wipe(&t);
    assert_int_equal(t.password[0], '\0');
    /* A username longer than any user@profile: denied, never copied. */
    char longq[600];

    snprintf(longq, sizeof(longq), "grant_type=password&scope=ovirt-app-api&password=x"
             "&username=%0300d", 0);
    gh_ovirt_token_read(GH_STR(""), (gh_str){ longq, strlen(longq) }, &t);
    assert_int_equal(gh_ovirt_token_check(&cfg, GH_STR("application/json"), &t, msg, sizeof(msg)),
                     GH_OV_ERR_ACCESS_DENIED);
    assert_string_equal(msg, "Cannot authenticate user 'N/A': Unable to log in. Verify your "
                        "login information or contact the system administrator.");
    assert_string_equal(gh_ovirt_error_code(GH_OV_ERR_SERVER), "server_error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles_and_admin_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout_and_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_token_per_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_store_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_leaves_other_dialects, setup, teardown),
        cmocka_unit_test(test_token_check_alone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
