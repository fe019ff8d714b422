/*
 * test_powerstore.c: the PowerStore dialect's request handling
 * (src/dialects/powerstore/powerstore.c, powerstore_query.c, powerstore_reply.c):
 * routing and classification, the refusals and the errors nginx decides, the
 * protocol checks (406, 405, 415), queries against the bundled resources, the
 * roles and the error codes. The fixture is in powerstore_fixture.h; the query
 * parsers are in test_powerstore_query.c, sessions in
 * test_powerstore_session.c and local users in test_powerstore_users.c.
 */
#include "powerstore_fixture.h"

static void test_route(void **state)
{
    static const struct {
        const char      *path;
        gh_ps_route_kind kind;
        bool             valid;
    } cases[] = {
        { "/api/rest/login_session", GH_PS_LOGIN_SESSION, true },
        { "/api/rest/login_session/", GH_PS_LOGIN_SESSION, true },
        { "/api/rest/logout", GH_PS_LOGOUT, true },
        { "/api/rest/role", GH_PS_ROLES, true },
        { "/api/rest/role/5", GH_PS_ROLE, true },
        { "/api/rest/role/6", GH_PS_ROLE, false },
        { "/api/rest/role/0", GH_PS_ROLE, false },
        { "/api/rest/role/12", GH_PS_ROLE, false },
        { "/api/rest/local_user", GH_PS_USERS, true },
        { "/api/rest/local_user/7", GH_PS_USER, true },
        { "/api/rest/local_user/07", GH_PS_USER, false },
        { "/api/rest/local_user/-7", GH_PS_USER, false },
        { "/api/rest/local_user/name:admin", GH_PS_USER, true },
        { "/api/rest/local_user/name%3Aadmin", GH_PS_USER, true },
        { "/api/rest/local_user/name:", GH_PS_USER, false },
        { "/api/rest/local_user/name:a@b", GH_PS_USER, false },
        { "/api/rest/Login_Session", GH_PS_TREE, true },
        { "/api/rest/volume", GH_PS_TREE, true },
        { "/api/rest/volume/x/y/z/w", GH_PS_TREE, true },
        { "/api/rest/volume%2Fx", GH_PS_TREE, false },
        { "/api/rest/volume%zz", GH_PS_TREE, false },
        { "/api/rest", GH_PS_TREE, true },
    };
    gh_ps_route r;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_ps_route_parse((gh_str){ cases[i].path, strlen(cases[i].path) }, &r);
        if (r.kind != cases[i].kind || r.valid != cases[i].valid)
            fail_msg("%s: kind %d valid %d", cases[i].path, r.kind, r.valid);
    }
    gh_ps_route_parse(GH_STR("/api/rest/local_user/name:oper"), &r);
    assert_string_equal(r.user_name, "oper");
    assert_int_equal(r.user_id, 0);
    gh_ps_route_parse(GH_STR("/api/rest/local_user/42"), &r);
    assert_int_equal(r.user_id, 42);
    gh_ps_route_parse(GH_STR("/api/rest/volume/abc"), &r);
    assert_int_equal(r.segments, 4);
    assert_int_equal(r.collection_len, strlen("/api/rest/volume"));
    assert_int_equal(r.member_len, 3);
    assert_memory_equal(r.path + r.member_off, "abc", 3);
}

static void test_classify(void **state)
{
    static const struct {
        const char *method, *path;
        bool        body;
        gh_work     work;
    } cases[] = {
        { "GET", "/api/rest/login_session", false, GH_WORK_STORE },
        { "HEAD", "/api/rest/login_session", false, GH_WORK_STORE },
        { "POST", "/api/rest/login_session", false, GH_WORK_INLINE },
        { "POST", "/api/rest/logout", false, GH_WORK_STORE },
        { "GET", "/api/rest/logout", false, GH_WORK_INLINE },
        { "GET", "/api/rest/local_user", false, GH_WORK_STORE },
        { "POST", "/api/rest/local_user", true, GH_WORK_HASH },
        { "GET", "/api/rest/local_user/2", false, GH_WORK_STORE },
        { "PATCH", "/api/rest/local_user/2", true, GH_WORK_HASH },
        { "DELETE", "/api/rest/local_user/name:oper", false, GH_WORK_STORE },
        { "PUT", "/api/rest/local_user/2", false, GH_WORK_INLINE },
        { "PATCH", "/api/rest/local_user/02", false, GH_WORK_INLINE },
        { "GET", "/api/rest/role", false, GH_WORK_INLINE },
        { "GET", "/api/rest/role/1", false, GH_WORK_INLINE },
        { "GET", "/api/rest/volume", false, GH_WORK_INLINE },
        { "POST", "/api/rest/volume", false, GH_WORK_INLINE },
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
        gh_powerstore_dialect.classify(&t.req, &plan);
        if (plan.open || plan.read_body != cases[i].body || plan.work != cases[i].work)
            fail_msg("%s %s: open %d body %d work %d", cases[i].method, cases[i].path,
                     plan.open, plan.read_body, plan.work);
        assert_int_equal(plan.cred.kind, GH_CRED_NONE);
    }

    /* The cookie is a session token; Basic on the request wins over it. */
    memset(&t, 0, sizeof(t));
    t.req.method = GH_METHOD_GET;
    t.req.path = GH_STR("/api/rest/volume");
    t.req.header = test_header;
    t.req.adapter = &t;
    t.names[0] = "Cookie";
    t.values[0] = "theme=dark; auth_cookie=abcdef; other=1";
    t.n = 1;
    gh_powerstore_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_TOKEN);
    assert_true(gh_str_eq(plan.cred.token, "abcdef"));
    t.names[1] = "Authorization";
    t.values[1] = BASIC_ADMIN;
    t.n = 2;
    gh_powerstore_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_BASIC);
    assert_string_equal(plan.cred.user, "admin");
    gh_credential_wipe(&plan.cred);
    /* Bearer is no PowerStore scheme: the cookie counts. */
    t.values[1] = "Bearer xyz";
    gh_powerstore_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_TOKEN);
    /* A malformed Authorization is refused, not passed over. */
    t.values[1] = "Basic !!!";
    gh_powerstore_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_MALFORMED);
    /* An empty or missing cookie is no credential. */
    t.n = 1;
    t.values[0] = "auth_cookie=";
    gh_powerstore_dialect.classify(&t.req, &plan);
    assert_int_equal(plan.cred.kind, GH_CRED_NONE);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    result   r;

    r = run(f, "GET", "/api/rest/volume", NULL, NULL);
    assert_int_equal(r.resp.status, 401);
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"PowerStore\"");
    assert_null(hdr(&r, "Set-Cookie"));
    expect_error(r, 401, "0xE1401001");
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", "Basic YWRtaW46d3Jvbmc=", NULL);
    expect_error(r, 401, "0xE1401002");
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", "Basic ???", NULL);
    expect_error(r, 400, "0xE1400001");
    /* A cookie of no live session is refused and cleared. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", "auth_cookie=deadbeef", NULL);
    assert_non_null(hdr(&r, "Set-Cookie"));
    assert_non_null(strstr(hdr(&r, "Set-Cookie"), "Max-Age=0"));
    expect_error(r, 401, "0xE1401001");
    /* The other refusals the adapter may ask for. */
    {
        gh_request req;

        memset(&req, 0, sizeof(req));
        req.path = GH_STR("/api/rest/volume");
        memset(&r, 0, sizeof(r));
        gh_powerstore_dialect.refuse(&req, GH_REFUSE_UNAVAILABLE, &r.resp);
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
        assert_string_equal(hdr(&r, "Retry-After"), "30");
        expect_error(r, 503, "0xE1503001");
        memset(&r, 0, sizeof(r));
        gh_powerstore_dialect.refuse(&req, GH_REFUSE_PLAIN_HTTP, &r.resp);
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
        expect_error(r, 403, "0xE1403004");
        memset(&r, 0, sizeof(r));
        gh_powerstore_dialect.refuse(&req, GH_REFUSE_LOCKED, &r.resp);
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
        expect_error(r, 401, "0xE1401002");
    }
}

/* cmocka defines a function-like macro fail(): call the hook through this. */
static void run_fail(const gh_request *req, int status, gh_response *resp)
{
    (gh_powerstore_dialect.fail)(req, status, resp);
}

static void test_fail_hook(void **state)
{
    static const struct {
        int         status, sent;
        const char *code;
    } cases[] = {
        { 400, 400, "0xE1400009" }, { 404, 404, "0xE1404001" }, { 405, 405, "0xE1405001" },
        { 408, 408, "0xE1408001" }, { 413, 413, "0xE1413001" }, { 414, 414, "0xE1414001" },
        { 429, 429, "0xE1429001" }, { 431, 431, "0xE1431001" }, { 500, 500, "0xE1500001" },
        { 502, 502, "0xE1502001" }, { 503, 503, "0xE1503001" }, { 504, 504, "0xE1504001" },
        { 418, 418, "0xE1418000" }, { 200, 500, "0xE1500001" }, { 700, 500, "0xE1500001" },
    };
    static const char *const paths[] = {
        "/api/rest/local_user/7", "/api/rest/vol%zz", "/api/rest/\xff\xfe", NULL, "",
    };
    gh_request req;
    result     r;

    (void)state;
    for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            memset(&req, 0, sizeof(req));
            req.method = GH_METHOD_PUT;
            req.method_name = GH_STR("PUT");
            req.path = (gh_str){ paths[p], paths[p] != NULL ? strlen(paths[p]) : 0 };
            memset(&r, 0, sizeof(r));
            run_fail(&req, cases[i].status, &r.resp);
            r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
            if (cases[i].status == 405 && p == 0)
                assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, PATCH, DELETE");
            expect_error(r, cases[i].sent, cases[i].code);
        }
    }
}

static void test_protocol_checks(void **state)
{
    fixture *f = *state;
    result   r;

    /* Accept. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN,
            "Accept", "text/html", NULL);
    expect_error(r, 406, "0xE1406001");
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN,
            "Accept", "application/json;q=0, text/html", NULL);
    expect_error(r, 406, "0xE1406001");
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN,
            "Accept", "text/html, application/*;q=0.5", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN,
            "Accept", "*/*", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Method. */
    r = run(f, "DELETE", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    expect_error(r, 405, "0xE1405001");
    r = run(f, "POST", "/api/rest/nothing_here", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 404, "0xE1404001");
    r = run(f, "GET", "/api/rest/logout", NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_string_equal(hdr(&r, "Allow"), "POST");
    expect_error(r, 405, "0xE1405001");
    r = run(f, "PUT", "/api/rest/local_user/1", "{}", "Authorization", BASIC_ADMIN,
            "Content-Type", "application/json", "Content-Length", "2", NULL);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, PATCH, DELETE");
    expect_error(r, 405, "0xE1405001");
    /* Content-Type of a body. */
    r = run(f, "POST", "/api/rest/local_user", "{\"name\":\"x\"}", "Authorization", BASIC_ADMIN,
            "Content-Type", "text/plain", NULL);
    expect_error(r, 415, "0xE1415001");
    r = run(f, "POST", "/api/rest/local_user", "{\"name\":\"x\"}", "Authorization", BASIC_ADMIN,
            "Content-Type", "", NULL);
    expect_error(r, 415, "0xE1415001");
    /* No Content-Type at all (gopowerstore): the body is read as JSON. */
    r = run(f, "POST", "/api/rest/local_user", "{\"name\":\"x\"}", "Authorization", BASIC_ADMIN,
            NULL);
    expect_error(r, 400, "0xE1400006");
    r = run(f, "POST", "/api/rest/logout", NULL, "Authorization", BASIC_ADMIN,
            "Content-Length", "12", "Content-Type", "text/plain", NULL);
    expect_error(r, 415, "0xE1415001");
    /* No body: no Content-Type needed; one that says JSON with a charset is fine. */
    r = run(f, "POST", "/api/rest/logout", NULL, "Authorization", BASIC_ADMIN,
            "Content-Length", "0", "Content-Type", "text/plain", NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN,
            "Content-Type", "application/json; charset=utf-8", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Query errors. */
    r = run(f, "GET", "/api/rest/volume?select=id(", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 400, "0xE1400003");
    r = run(f, "GET", "/api/rest/volume?order=name", NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_string_equal(json_string_value(json_array_get(json_object_get(
        json_array_get(json_object_get(r.json, "messages"), 0), "arguments"), 0)), "order");
    expect_error(r, 400, "0xE1400004");
    r = run(f, "GET", "/api/rest/volume?limit=0", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 416, "0xE1416001");
    r = run(f, "GET", "/api/rest/volume/x%2Fy", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 404, "0xE1404001");
}

static void test_bundled(void **state)
{
    fixture *f = *state;
    result   r;
    json_t  *v;

    /* A collection without select: ids only, in the tree's order. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.plan.work, GH_WORK_INLINE);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(r.json), 3);
    v = json_array_get(r.json, 0);
    assert_int_equal(json_object_size(v), 1);
    assert_string_equal(json_string_value(json_object_get(v, "id")),
                        "0d3b5c8a-7e1f-4a2b-9c6d-1e2f3a4b5c61");
    assert_null(hdr(&r, "Content-Range"));
    assert_null(hdr(&r, "DELL-EMC-TOKEN"));    /* Basic: no session, no token */
    done(&r);
    /* Select with a related object; filters. */
    r = run(f, "GET", "/api/rest/volume?select=name,size,performance_policy(name)"
                      "&name=in.(ORACLE-DATA-01,scratch-01)", NULL,
            "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(r.json), 2);
    v = json_array_get(r.json, 0);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "oracle-data-01");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "performance_policy"),
                                                          "name")), "High");
    assert_null(json_object_get(v, "id"));
    done(&r);
    /* Range: 206 and Content-Range. */
    r = run(f, "GET", "/api/rest/volume?select=name", NULL, "Authorization", BASIC_VIEWER,
            "Range", "1-1", NULL);
    assert_int_equal(r.resp.status, 206);
    assert_string_equal(hdr(&r, "Content-Range"), "1-1/3");
    assert_int_equal(json_array_size(r.json), 1);
    done(&r);
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_VIEWER,
            "Range", "0-99", NULL);
    assert_int_equal(r.resp.status, 206);
    assert_string_equal(hdr(&r, "Content-Range"), "0-2/3");
    done(&r);
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_VIEWER,
            "Range", "3-5", NULL);
    assert_string_equal(hdr(&r, "Content-Range"), "*/3");
    expect_error(r, 416, "0xE1416001");
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_VIEWER,
            "Range", "bytes=0-5", NULL);
    expect_error(r, 416, "0xE1416001");
    r = run(f, "GET", "/api/rest/volume?limit=2", NULL, "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 206);
    assert_string_equal(hdr(&r, "Content-Range"), "0-1/3");
    done(&r);
    /* An instance, by the id of a collection member. */
    r = run(f, "GET", "/api/rest/volume/5a7c9e1b-3d5f-4b7a-8c9e-0f1a2b3c4d72?select=name,wwn",
            NULL, "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_is_object(r.json));
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "oracle-data-01");
    done(&r);
    r = run(f, "GET", "/api/rest/volume/5a7c9e1b-3d5f-4b7a-8c9e-0f1a2b3c4d72?name=eq.x",
            NULL, "Authorization", BASIC_VIEWER, NULL);
    expect_error(r, 400, "0xE1400004");
    r = run(f, "GET", "/api/rest/volume/nope", NULL, "Authorization", BASIC_VIEWER, NULL);
    expect_error(r, 404, "0xE1404001");
    r = run(f, "GET", "/api/rest/host?select=name,host_initiators(port_name)&os_type=eq.linux",
            NULL, "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(json_array_size(r.json), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
        json_array_get(r.json, 0), "host_initiators"), 0), "port_name")),
        "iqn.1994-05.com.redhat:linux-db-01");
    done(&r);
    r = run(f, "GET", "/api/rest/software_installed?select=release_version,is_cluster", NULL,
            "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r.json, 0),
                                                          "release_version")), "3.6.0.0");
    done(&r);
    r = run(f, "HEAD", "/api/rest/appliance?select=name,model", NULL,
            "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", "/api/rest", NULL, "Authorization", BASIC_VIEWER, NULL);
    expect_error(r, 404, "0xE1404001");
}

/* A plain read of a bundled file is answered with the bytes rendered at
 * load, lent from the tree: the same bytes the query select=id builds. */
static void test_rendered_reads(void **state)
{
    static const char *const paths[] = {
        "/api/rest/volume", "/api/rest/appliance", "/api/rest/host",
        "/api/rest/software_installed", "/API/REST/Volume/",
    };
    fixture *f = *state;
    char     built[256];
    result   r, b;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        const gh_tree_entry *e = gh_tree_find(f->tree, (gh_str){ paths[i], strlen(paths[i]) },
                                                      "reply");

        assert_non_null(e);
        r = run(f, "GET", paths[i], NULL, "Authorization", BASIC_VIEWER, NULL);
        assert_int_equal(r.resp.status, 200);
        assert_ptr_equal(r.resp.body, e->body);
        assert_null(r.resp.body_owned);
        assert_string_equal(r.resp.content_type, "application/json");
        assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
        snprintf(built, sizeof(built), "%s?select=id", paths[i]);
        b = run(f, "GET", built, NULL, "Authorization", BASIC_VIEWER, NULL);
        assert_int_equal(b.resp.status, 200);
        assert_non_null(b.resp.body_owned);
        assert_int_equal(b.resp.body_len, r.resp.body_len);
        assert_memory_equal(b.resp.body, r.resp.body, r.resp.body_len);
        done(&b);
        done(&r);
    }
    /* The gates before it still hold. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", BASIC_VIEWER,
            "Accept", "text/html", NULL);
    expect_error(r, 406, "0xE1406001");
    r = run(f, "POST", "/api/rest/volume", "{}", "Authorization", BASIC_ADMIN,
            "Content-Type", "application/json", NULL);
    expect_error(r, 405, "0xE1405001");
}

/* The tree's parsed values are shared by every request (tree.h): serving
 * reads them and builds new values, so after selects, filters, pages, an
 * instance and refusals they hold the same data and the same reference
 * counts as before. */
static void test_tree_values_shared(void **state)
{
    static const char *const paths[] = {
        "/api/rest/volume",
        "/api/rest/volume?select=name,size,performance_policy(name)&name=neq.x",
        "/api/rest/volume?select=id,performance_policy&limit=1&offset=1",
        "/api/rest/volume/5a7c9e1b-3d5f-4b7a-8c9e-0f1a2b3c4d72?select=name,performance_policy",
        "/api/rest/volume/5a7c9e1b-3d5f-4b7a-8c9e-0f1a2b3c4d72?name=eq.x",
        "/api/rest/appliance?select=nodes(name),software_installed",
        "/api/rest/volume/nope",
    };
    fixture             *f = *state;
    const gh_tree_entry *e = gh_tree_find(f->tree, GH_STR("/api/rest/volume"), "json");
    const json_t        *item, *policy;
    size_t               refs[3];
    char                *before, *after;
    result               r;

    assert_non_null(e);
    assert_true(json_is_array(e->json));
    item = json_array_get(e->json, 1);
    policy = json_object_get(item, "performance_policy");
    assert_non_null(policy);
    refs[0] = e->json->refcount;
    refs[1] = item->refcount;
    refs[2] = policy->refcount;
    before = json_dumps(e->json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(before);

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        r = run(f, "GET", paths[i], NULL, "Authorization", BASIC_VIEWER, "Range", "0-1", NULL);
        done(&r);
    }
    r = run(f, "DELETE", "/api/rest/volume", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 405, "0xE1405001");
    /* A page of the collection is a new array of new objects. */
    r = run(f, "GET", "/api/rest/volume?select=performance_policy", NULL,
            "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_ptr_not_equal(r.json, e->json);
    done(&r);

    after = json_dumps(e->json, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(after);
    assert_string_equal(after, before);
    assert_int_equal(e->json->refcount, refs[0]);
    assert_int_equal(item->refcount, refs[1]);
    assert_int_equal(policy->refcount, refs[2]);
    free(before);
    free(after);
}

static void test_roles(void **state)
{
    fixture *f = *state;
    result   r;

    r = run(f, "GET", "/api/rest/role?select=id,name,is_built_in,description", NULL,
            "Authorization", BASIC_VIEWER, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(r.json), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *v = json_array_get(r.json, i);
        char    id[4];

        snprintf(id, sizeof(id), "%zu", i + 1);
        assert_string_equal(json_string_value(json_object_get(v, "id")), id);
        assert_true(json_is_true(json_object_get(v, "is_built_in")));
        assert_non_null(json_string_value(json_object_get(v, "description")));
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(r.json, 4), "name")),
                        "Security Administrator");
    done(&r);
    r = run(f, "GET", "/api/rest/role/2?select=name", NULL, "Authorization", BASIC_VIEWER, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")),
                        "Storage Administrator");
    done(&r);
    r = run(f, "GET", "/api/rest/role/9", NULL, "Authorization", BASIC_VIEWER, NULL);
    expect_error(r, 404, "0xE1404001");
    r = run(f, "PATCH", "/api/rest/role/1", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 405, "0xE1405001");

    /* The map onto the core roles and back. */
    assert_int_equal(gh_ps_core_role(1), GH_ROLE_ADMINISTRATOR);
    assert_int_equal(gh_ps_core_role(2), GH_ROLE_OPERATOR);
    assert_int_equal(gh_ps_core_role(3), GH_ROLE_READONLY);
    assert_int_equal(gh_ps_core_role(4), GH_ROLE_READONLY);
    assert_int_equal(gh_ps_core_role(5), GH_ROLE_READONLY);
    assert_int_equal(gh_ps_core_role(0), GH_ROLE_NONE);
    assert_int_equal(gh_ps_core_role(6), GH_ROLE_NONE);
    assert_int_equal(gh_ps_role_pick(0, GH_ROLE_OPERATOR), 2);
    assert_int_equal(gh_ps_role_pick(4, GH_ROLE_READONLY), 4);
    /* Changed elsewhere: the kept role no longer maps, so it is derived. */
    assert_int_equal(gh_ps_role_pick(4, GH_ROLE_ADMINISTRATOR), 1);
    assert_int_equal(gh_ps_role_pick(9, GH_ROLE_OPERATOR), 2);
}

static void test_error_codes_distinct(void **state)
{
    (void)state;
    for (int i = 0; i < GH_PS_E_COUNT; i++) {
        char status[4];

        /* The code says its status: 0xE1 SSS NNN. */
        snprintf(status, sizeof(status), "%03d", gh_ps_error_status((gh_ps_error)i));
        assert_int_equal(strlen(gh_ps_error_code((gh_ps_error)i)), 10);
        assert_memory_equal(gh_ps_error_code((gh_ps_error)i) + 4, status, 3);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(gh_ps_error_code((gh_ps_error)i),
                                    gh_ps_error_code((gh_ps_error)j));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_classify),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test(test_fail_hook),
        cmocka_unit_test_setup_teardown(test_protocol_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rendered_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree_values_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test(test_error_codes_distinct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
