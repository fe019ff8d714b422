/*
 * test_redfish.c: the Redfish dialect (src/dialects/redfish*.c): routing and
 * classification, the open documents, login and the login parser, sessions
 * (who may read and end which), SessionTimeout, the protocol-level refusals
 * (OData-Version, 405, $-queries, unknown paths) and the bundled tree with
 * its ETags. The fixture is in redfish_fixture.h; the accounts side is in
 * test_redfish_accounts.c.
 */
#include "redfish_fixture.h"

static void test_classify(void **state)
{
    static const struct {
        const char *method, *path;
        bool open, body;
        gh_work work;
    } cases[] = {
        { "GET", "/redfish", true, false, GH_WORK_INLINE },
        { "GET", "/redfish/v1/", true, false, GH_WORK_INLINE },
        { "HEAD", "/Redfish/V1", true, false, GH_WORK_INLINE },
        { "GET", "/redfish/v1/odata", true, false, GH_WORK_INLINE },
        { "GET", "/redfish/v1/%24metadata", true, false, GH_WORK_INLINE },
        { "HEAD", "/redfish/v1/openapi.yaml", true, false, GH_WORK_INLINE },
        { "POST", "/redfish/v1/SessionService/Sessions", true, true, GH_WORK_HASH },
        { "POST", "/redfish/v1/sessionservice/sessions/members/", true, true, GH_WORK_HASH },
        { "GET", "/redfish/v1/SessionService/Sessions", false, false, GH_WORK_STORE },
        { "GET", "/redfish/v1/SessionService", false, false, GH_WORK_INLINE },
        { "PATCH", "/redfish/v1/SessionService", false, true, GH_WORK_STORE },
        { "DELETE", "/redfish/v1/SessionService/Sessions/0123456789abcdef0123456789ABCDEF",
          false, false, GH_WORK_STORE },
        { "GET", "/redfish/v1/AccountService", false, false, GH_WORK_STORE },
        { "PATCH", "/redfish/v1/AccountService", false, true, GH_WORK_STORE },
        { "GET", "/redfish/v1/AccountService/Accounts", false, false, GH_WORK_STORE },
        { "POST", "/redfish/v1/AccountService/Accounts", false, true, GH_WORK_HASH },
        { "PATCH", "/redfish/v1/AccountService/Accounts/2", false, true, GH_WORK_HASH },
        { "DELETE", "/redfish/v1/AccountService/Accounts/2", false, false, GH_WORK_STORE },
        { "GET", "/redfish/v1/AccountService/Roles/operator", false, false, GH_WORK_INLINE },
        { "GET", "/redfish/v1/Systems/1", false, false, GH_WORK_INLINE },
        { "DELETE", "/redfish/v1/Systems/1", false, false, GH_WORK_INLINE },
        { "POST", "/redfish/v1/", false, false, GH_WORK_INLINE },
    };
    test_req t;
    gh_plan  plan;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&t, 0, sizeof(t));
        t.req.method = gh_method_from((gh_str){ cases[i].method, strlen(cases[i].method) });
        t.req.path = (gh_str){ cases[i].path, strlen(cases[i].path) };
        t.req.header = test_header;
        t.req.adapter = &t;
        gh_redfish_dialect.classify(&t.req, &plan);
        assert_int_equal(plan.open, cases[i].open);
        assert_int_equal(plan.read_body, cases[i].body);
        assert_int_equal(plan.work, cases[i].work);
    }
    /* X-Auth-Token wins over Authorization. */
    memset(&t, 0, sizeof(t));
    t.req.method = GH_METHOD_GET;
    t.req.path = GH_STR("/redfish/v1/Systems");
    t.req.header = test_header;
    t.req.adapter = &t;
    t.names[0] = "Authorization";
    t.values[0] = "Basic YWRtaW46cGFzc3dvcmQx";
    t.n = 1;
    gh_redfish_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_BASIC);
    assert_string_equal(plan.cred.user, "admin");
    t.names[1] = "X-Auth-Token";
    t.values[1] = "abcdef";
    t.n = 2;
    gh_redfish_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_TOKEN);
    assert_true(gh_str_eq(plan.cred.token, "abcdef"));
}

static void test_login_plain_http(void **state)
{
    fixture *f = *state;
    test_req t;
    gh_plan  plan;
    gh_response resp;
    const char *body = "{\"UserName\":\"admin\",\"Password\":\"password1\"}";

    memset(&t, 0, sizeof(t));
    memset(&resp, 0, sizeof(resp));
    t.req.method = GH_METHOD_POST;
    t.req.path = GH_STR("/redfish/v1/SessionService/Sessions");
    t.req.body = (gh_str){ body, strlen(body) };
    t.req.header = test_header;
    t.req.adapter = &t;
    gh_redfish_dialect.classify(&t.req, &plan);
    assert_true(plan.open);
    gh_redfish_dialect.serve(&f->svc, f->tree, &t.req, &plan, NULL, &resp);
    assert_int_equal(resp.status, 403);
    assert_int_equal(gh_shared_session_count(f->shared), 0);
    gh_response_free(&resp);
}

static void test_parse_login(void **state)
{
    char user[GH_USER_NAME_MAX + 1], pw[GH_PASSWORD_MAX + 1];

    (void)state;
    assert_int_equal(gh_redfish_parse_login(GH_STR("{\"UserName\":\"u\",\"Password\":\"p\"}"),
                                            user, sizeof(user), pw, sizeof(pw)), 0);
    assert_string_equal(user, "u");
    assert_string_equal(pw, "p");
    assert_int_equal(gh_redfish_parse_login(GH_STR("[1]"), user, sizeof(user), pw, sizeof(pw)),
                     GH_REDFISH_LOGIN_MALFORMED);
    assert_int_equal(gh_redfish_parse_login(GH_STR(""), user, sizeof(user), pw, sizeof(pw)),
                     GH_REDFISH_LOGIN_MALFORMED);
    assert_int_equal(gh_redfish_parse_login(GH_STR("{\"Password\":\"p\"}"), user, sizeof(user),
                                            pw, sizeof(pw)), GH_REDFISH_LOGIN_MISSING);
    assert_int_equal(gh_redfish_parse_login(GH_STR("{\"UserName\":\"u\",\"Password\":null}"),
                                            user, sizeof(user), pw, sizeof(pw)),
                     GH_REDFISH_LOGIN_MISSING);
    assert_int_equal(gh_redfish_parse_login(GH_STR("{\"UserName\":\"u\\u0000\",\"Password\":\"p\"}"),
                                            user, sizeof(user), pw, sizeof(pw)),
                     GH_REDFISH_LOGIN_MALFORMED);
    assert_int_equal(gh_redfish_parse_login(GH_STR("{\"UserName\":\"toolong\",\"Password\":\"p\"}"),
                                            user, 4, pw, sizeof(pw)), GH_REDFISH_LOGIN_MISSING);
}

static void test_open_documents(void **state)
{
    fixture *f = *state;
    char     etag[64];
    result   r;

    r = run(f, "GET", "/redfish", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "v1", NULL), "/redfish/v1/");
    done(&r);
    r = run(f, "GET", "/redfish/v1", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.id", NULL), "/redfish/v1/");
    assert_string_equal(str_at(&r, "Id", NULL), "RootService");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_object_get(r.json, "Links"), "Sessions"), "@odata.id")),
                        "/redfish/v1/SessionService/Sessions");
    assert_string_equal(str_at(&r, "Systems", "@odata.id"), "/redfish/v1/Systems");
    assert_string_equal(str_at(&r, "AccountService", "@odata.id"), "/redfish/v1/AccountService");
    done(&r);
    /* Rendered into the tree at load: served like any entry, ETag and all. */
    r = run(f, "GET", "/redfish/v1/", NULL, "If-None-Match", "W/\"0000000000000000\"", NULL);
    assert_int_equal(r.resp.status, 200);
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    assert_string_equal(etag, gh_tree_find(f->tree, GH_STR("/redfish/v1"), "json")->etag);
    assert_ptr_equal(r.resp.body, gh_tree_find(f->tree, GH_STR("/redfish/v1"), "json")->body);
    assert_string_equal(hdr(&r, "Cache-Control"), "no-cache");
    done(&r);
    r = run(f, "GET", "/redfish/v1", NULL, "If-None-Match", etag, NULL);
    assert_int_equal(r.resp.status, 304);
    assert_int_equal(r.resp.body_len, 0);
    done(&r);
    r = run(f, "GET", "/redfish/v1/odata/", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_array_size(json_object_get(r.json, "value")) >= 4);
    assert_non_null(hdr(&r, "ETag"));
    done(&r);
    r = run(f, "GET", "/redfish/v1/$metadata", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_non_null(strstr(r.resp.content_type, "xml"));
    assert_non_null(strstr(r.resp.body, "Session_v1.xml"));
    done(&r);
    /* Closed without credentials, and before conditional headers. */
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "If-None-Match", "*", NULL);
    assert_int_equal(r.resp.status, 401);
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"Redfish\"");
    assert_string_equal(msg_id(&r), "Base.1.15.0.NoValidSession");
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "Authorization", "Basic !!", NULL);
    assert_int_equal(r.resp.status, 400);
    done(&r);
}

static void test_login(void **state)
{
    fixture *f = *state;
    login    a = do_login(f, "admin", "password1");
    login    b = do_login(f, "admin", "password1");
    result   r;

    assert_int_equal(strlen(a.token), 64);
    assert_int_equal(strspn(a.token, "0123456789abcdef"), 64);
    assert_string_equal(a.location + strlen("/redfish/v1/SessionService/Sessions/"), a.id);
    assert_int_equal(strncmp(a.location, "/redfish/v1/SessionService/Sessions/", 36), 0);
    assert_string_not_equal(a.location, b.location);
    r = run(f, "GET", a.location, NULL, "X-Auth-Token", a.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.id", NULL), a.location);
    assert_string_equal(str_at(&r, "UserName", NULL), "admin");
    assert_string_equal(str_at(&r, "ClientOriginIPAddress", NULL), "192.0.2.7");
    assert_non_null(str_at(&r, "CreatedTime", NULL));
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(
        r.json, "Oem"), "Gatehouse"), "MySession")));
    done(&r);
    /* Both appear in the collection at once. */
    r = run(f, "GET", "/redfish/v1/SessionService/Sessions", NULL, "X-Auth-Token", b.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 2);
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", a.token, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
}

static void test_login_refused(void **state)
{
    fixture *f = *state;
    result   r;

    r = run(f, "POST", "/redfish/v1/SessionService/Sessions",
            "{\"UserName\": \"admin\", \"Password\": \"s3cr3t-wrong\"}", NULL);
    assert_int_equal(r.resp.status, 401);
    assert_null(hdr(&r, "X-Auth-Token"));
    assert_null(strstr(r.resp.body, "s3cr3t-wrong"));
    done(&r);
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions", "{\"UserName\": \"admin\"}", NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyMissing");
    assert_non_null(strstr(r.resp.body, "Password"));
    done(&r);
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions", "{\"UserName\": ", NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.MalformedJSON");
    done(&r);
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions",
            "{\"UserName\": \"a\", \"UserName\": \"b\", \"Password\": \"x\"}", NULL);
    assert_int_equal(r.resp.status, 400);
    done(&r);
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions",
            "{\"UserName\": \"admin\", \"Password\": 12345678}", NULL);
    assert_int_equal(r.resp.status, 400);
    assert_null(strstr(r.resp.body, "12345678"));
    done(&r);
}

static void test_session_access(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    login    op = do_login(f, "oper", "password1");
    result   r;

    /* Own session (ConfigureSelf); someone else's needs ConfigureManager. */
    r = run(f, "GET", op.location, NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", adm.location, NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 403);
    assert_string_equal(msg_id(&r), "Base.1.15.0.InsufficientPrivilege");
    done(&r);
    r = run(f, "GET", op.location, NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_is_false(json_object_get(json_object_get(json_object_get(
        r.json, "Oem"), "Gatehouse"), "MySession")));
    done(&r);
    /* The collection: all for an administrator, own only otherwise. */
    r = run(f, "GET", "/redfish/v1/SessionService/Sessions/", NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 2);
    done(&r);
    r = run(f, "GET", "/redfish/v1/SessionService/Sessions", NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 1);
    done(&r);
    r = run(f, "DELETE", adm.location, NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    r = run(f, "GET", "/redfish/v1/SessionService/Sessions/00000000000000000000000000000000",
            NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
}

/* Another dialect's session is labelled by the label that dialect declares;
 * one of a dialect this build does not have, by its stored name (never as
 * some other dialect's). */
static void session_type(fixture *f, const login *adm, const char *dialect,
                         const char *type, const char *oem)
{
    gh_principal      who = { .account_id = f->viewer_id, .role = GH_ROLE_READONLY };
    char              token[GH_TOKEN_TEXT_LEN + 1], path[96];
    gh_session_record rec;
    result            r;

    snprintf(who.user, sizeof(who.user), "viewer");
    assert_int_equal(gh_service_session_create(&f->svc, &who, dialect, 0, "192.0.2.9", token, &rec),
                     GH_SESSION_CREATED);
    snprintf(path, sizeof(path), "/redfish/v1/SessionService/Sessions/%s", rec.id);
    r = run(f, "GET", path, NULL, "X-Auth-Token", adm->token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "SessionType")), type);
    if (oem != NULL)
        assert_string_equal(json_string_value(json_object_get(r.json, "OemSessionType")), oem);
    else
        assert_null(json_object_get(r.json, "OemSessionType"));
    done(&r);
}

static void test_session_labels(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");

    session_type(f, &adm, "redfish", "Redfish", NULL);
    session_type(f, &adm, "ovirt", "OEM", "oVirt");
    session_type(f, &adm, "powerstore", "OEM", "PowerStore");
    session_type(f, &adm, "elsewhere", "OEM", "elsewhere");
}

static void test_session_delete(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "oper", "password1");
    login    other = do_login(f, "viewer", "password1");
    uint8_t  d[GH_DIGEST_LEN];
    gh_principal who;
    result   r;

    r = run(f, "DELETE", l.location, NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    gh_token_digest(l.token, strlen(l.token), d);
    assert_int_equal(gh_shared_session_find(f->shared, d, gh_now(), &who, NULL),
                     GH_SHARED_NOT_FOUND);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    /* An administrator ends anyone's session, with Basic credentials too. */
    r = run(f, "DELETE", other.location, NULL,
            "Authorization", "Basic YWRtaW46cGFzc3dvcmQx", NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", other.token, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
}

static void test_session_service(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    login    op = do_login(f, "oper", "password1");
    result   r;

    r = run(f, "GET", "/redfish/v1/SessionService", NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "SessionTimeout")), 1800);
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/SessionService", "{\"SessionTimeout\":600}",
            "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/SessionService", "{\"SessionTimeout\":29}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyValueOutOfRange");
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/SessionService", "{\"SessionTimeout\":86401}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/SessionService", "{\"SessionTimeout\":\"600\"}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyValueTypeError");
    done(&r);
    /* A long multibyte property name is clipped whole, many are bounded. */
    {
        char body[4096];
        size_t o = snprintf(body, sizeof(body), "{\"");

        for (int i = 0; i < 100; i++)
            o += snprintf(body + o, sizeof(body) - o, "\xc3\xa9");
        o += snprintf(body + o, sizeof(body) - o, "\":1");
        for (int i = 0; i < 40; i++)
            o += snprintf(body + o, sizeof(body) - o, ",\"k%d\":1", i);
        snprintf(body + o, sizeof(body) - o, "}");
        r = run(f, "PATCH", "/redfish/v1/SessionService", body, "X-Auth-Token", adm.token, NULL);
        assert_int_equal(r.resp.status, 400);
        assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "error"),
                                                              "code")),
                            "Base.1.15.0.GeneralError");
        assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"),
                                                         "@Message.ExtendedInfo")), 16);
        assert_int_equal(strncmp(json_string_value(json_array_get(json_object_get(
                             json_array_get(json_object_get(json_object_get(r.json, "error"),
                                                            "@Message.ExtendedInfo"), 0),
                             "MessageArgs"), 0)), "\xc3\xa9\xc3\xa9", 4), 0);
        done(&r);
    }
    r = run(f, "PATCH", "/redfish/v1/SessionService", "{\"SessionTimeout\":600}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "SessionTimeout")), 600);
    done(&r);
    assert_int_equal(gh_shared_setting(f->shared, GH_SET_SESSION_TIMEOUT), 600);
}

static void test_protocol_errors(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "admin", "password1");
    result   r;

    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", l.token,
            "OData-Version", "4.01", NULL);
    assert_int_equal(r.resp.status, 412);
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", l.token,
            "OData-Version", "4.0", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "DELETE", "/redfish/v1/Systems/1", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/AccountService/Roles/Operator", "{}", "X-Auth-Token",
            l.token, NULL);
    assert_int_equal(r.resp.status, 405);
    done(&r);
    r = run(f, "PUT", "/redfish/v1/AccountService/Accounts/1", "{}", "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, PATCH, DELETE");
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems?$expand=.", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 501);
    done(&r);
    r = run(f, "GET", "/redfish/v1/Nothing/Here", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems%2F1", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
}

static void test_tree(void **state)
{
    fixture             *f = *state;
    const gh_tree_entry *e;
    char                 etag[64];
    result               r;

    r = run(f, "GET", "/REDFISH/v1/systems/1/", NULL,
            "Authorization", "Basic YWRtaW46cGFzc3dvcmQx", NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.id", NULL), "/redfish/v1/Systems/1");
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    /* The tree's bytes are lent to the response, not copied. */
    e = gh_tree_find(f->tree, GH_STR("/redfish/v1/Systems/1"), "json");
    assert_ptr_equal(r.resp.body, e->body);
    assert_int_equal(r.resp.body_len, e->len);
    assert_null(r.resp.body_owned);
    assert_string_equal(etag, e->etag);
    done(&r);
    assert_int_equal(strlen(e->body), e->len);
    r = run(f, "GET", "/redfish/v1/Systems/1", NULL, "Authorization", "Basic YWRtaW46cGFzc3dvcmQx",
            "If-None-Match", etag, NULL);
    assert_int_equal(r.resp.status, 304);
    assert_null(r.resp.body);
    done(&r);
    r = run(f, "HEAD", "/redfish/v1/Systems/1", NULL, "Authorization", "Basic YWRtaW46cGFzc3dvcmQx",
            NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(hdr(&r, "ETag"), etag);
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems/1", NULL, "Authorization", "Basic dmlld2VyOm5vcGU=",
            NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
}

static void test_session_limit(void **state)
{
    fixture *f = *state;
    result   r;

    f->cfg.max_sessions_per_account = 1;
    (void)do_login(f, "viewer", "password1");
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions/Members",
            "{\"UserName\":\"viewer\",\"Password\":\"password1\"}", NULL);
    assert_int_equal(r.resp.status, 503);
    assert_string_equal(msg_id(&r), "Base.1.15.0.SessionLimitExceeded");
    assert_non_null(hdr(&r, "Retry-After"));
    assert_null(hdr(&r, "X-Auth-Token"));
    done(&r);
}

static void test_refusals(void **state)
{
    static const struct {
        gh_refusal why;
        int        status;
        const char *id;
    } cases[] = {
        { GH_REFUSE_NO_CREDENTIALS, 401, "Base.1.15.0.NoValidSession" },
        { GH_REFUSE_BAD_CREDENTIALS, 401, "Base.1.15.0.NoValidSession" },
        { GH_REFUSE_LOCKED, 401, "Base.1.15.0.NoValidSession" },
        { GH_REFUSE_MALFORMED, 400, "Base.1.15.0.HeaderInvalid" },
        { GH_REFUSE_UNAVAILABLE, 503, "Base.1.15.0.ServiceTemporarilyUnavailable" },
        { GH_REFUSE_PLAIN_HTTP, 403, "Base.1.15.0.GeneralError" },
    };
    test_req t;

    (void)state;
    memset(&t, 0, sizeof(t));
    t.req.header = test_header;
    t.req.adapter = &t;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result r;

        memset(&r, 0, sizeof(r));
        gh_redfish_dialect.refuse(&t.req, cases[i].why, &r.resp);
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
        assert_int_equal(r.resp.status, cases[i].status);
        assert_string_equal(msg_id(&r), cases[i].id);
        assert_string_equal(r.resp.content_type, "application/json; charset=utf-8");
        assert_int_equal(hdr(&r, "WWW-Authenticate") != NULL, cases[i].status == 401);
        done(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_parse_login),
        cmocka_unit_test_setup_teardown(test_session_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_plain_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_limit, setup, teardown),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
