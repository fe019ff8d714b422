/*
 * test_powerstore_users.c: PowerStore local users (src/dialects/
 * powerstore_users.c): who lists and reads which accounts, creating one (its
 * checks, its role), the round trip of a role id and the map onto core roles,
 * locking, password changes (own with current_password, others' without),
 * deleting, the limits of a Security Administrator, and the rules that keep
 * one way in (no self-lock, no self-delete, the built-in account kept).
 */
#include "powerstore_fixture.h"

#define JSON "Content-Type", "application/json"

static json_t *user_by_name(const result *r, const char *name)
{
    size_t  i;
    json_t *v;

    json_array_foreach(r->json, i, v) {
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return v;
    }
    return NULL;
}

/* POST a user as admin; its id. */
static int64_t create(fixture *f, const char *basic, const char *name, const char *role)
{
    char   body[256];
    result r;
    int64_t id;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"password1\",\"role_id\":\"%s\"}",
             name, role);
    r = run(f, "POST", "/api/rest/local_user", body, "Authorization", basic, JSON, NULL);
    assert_int_equal(r.plan.work, GH_WORK_HASH);
    if (r.resp.status != 201)
        fail_msg("create %s: %d %s", name, r.resp.status, r.resp.body);
    assert_int_equal(json_object_size(r.json), 1);
    id = strtoll(json_string_value(json_object_get(r.json, "id")), NULL, 10);
    done(&r);
    assert_true(id > 0);
    return id;
}

static const char *role_of(fixture *f, const char *name)
{
    static char role[4];
    char        path[128];
    result      r;

    snprintf(path, sizeof(path), "/api/rest/local_user/name:%s?select=role_id", name);
    r = run(f, "GET", path, NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_int_equal(r.resp.status, 200);
    snprintf(role, sizeof(role), "%s", json_string_value(json_object_get(r.json, "role_id")));
    done(&r);
    return role;
}

static void test_list_and_get(void **state)
{
    fixture *f = *state;
    result   r;
    json_t  *v;
    char     path[64];

    r = run(f, "GET", "/api/rest/local_user?select=id,name,is_built_in,is_locked,"
                      "is_default_password,role_id", NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_int_equal(r.plan.work, GH_WORK_STORE);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(r.json), 3);
    v = user_by_name(&r, "admin");
    assert_non_null(v);
    assert_true(json_is_true(json_object_get(v, "is_built_in")));
    assert_true(json_is_false(json_object_get(v, "is_locked")));
    assert_true(json_is_false(json_object_get(v, "is_default_password")));
    assert_string_equal(json_string_value(json_object_get(v, "role_id")), "1");
    assert_string_equal(json_string_value(json_object_get(user_by_name(&r, "oper"), "role_id")),
                        "2");
    assert_string_equal(json_string_value(json_object_get(user_by_name(&r, "viewer"),
                                                          "role_id")), "3");
    done(&r);
    /* Filters and paging apply as to any collection. */
    r = run(f, "GET", "/api/rest/local_user?select=name&role_id=neq.1", NULL,
            "Authorization", BASIC_ADMIN, "Range", "0-0", NULL);
    assert_int_equal(r.resp.status, 206);
    assert_string_equal(hdr(&r, "Content-Range"), "0-0/2");
    done(&r);
    /* Without a role that manages users: the own account only. */
    r = run(f, "GET", "/api/rest/local_user?select=name", NULL, "Authorization", BASIC_OPER, NULL);
    assert_int_equal(json_array_size(r.json), 1);
    assert_non_null(user_by_name(&r, "oper"));
    done(&r);
    snprintf(path, sizeof(path), "/api/rest/local_user/%lld?select=name", (long long)f->oper_id);
    r = run(f, "GET", path, NULL, "Authorization", BASIC_OPER, NULL);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "oper");
    done(&r);
    r = run(f, "GET", "/api/rest/local_user/name:oper?select=id", NULL, "Authorization",
            BASIC_OPER, NULL);
    assert_int_equal(strtoll(json_string_value(json_object_get(r.json, "id")), NULL, 10),
                     f->oper_id);
    done(&r);
    /* Someone else's account: 403, existing or not. */
    r = run(f, "GET", "/api/rest/local_user/name:admin", NULL, "Authorization", BASIC_OPER, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "GET", "/api/rest/local_user/999", NULL, "Authorization", BASIC_OPER, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "GET", "/api/rest/local_user/999", NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 404, "0xE1404001");
}

static void test_create_checks(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *body;
        int         status;
        const char *code;
    } cases[] = {
        { "[]", 400, "0xE1400002" },
        { "{\"name\":\"u1\"", 400, "0xE1400002" },
        { "{\"name\":\"u1\",\"password\":\"password1\"}", 400, "0xE1400006" },
        { "{\"name\":\"u1\",\"role_id\":\"3\"}", 400, "0xE1400006" },
        { "{\"name\":\"u1\",\"password\":\"password1\",\"role_id\":3}", 400, "0xE1400005" },
        { "{\"name\":\"u1\",\"password\":\"password1\",\"role_id\":\"3\",\"x\":1}", 400,
          "0xE1400005" },
        { "{\"name\":\"u1\",\"password\":\"password1\",\"role_id\":\"3\",\"is_locked\":\"no\"}",
          400, "0xE1400005" },
        { "{\"name\":\"u1\",\"password\":\"password1\",\"role_id\":\"6\"}", 400, "0xE1400007" },
        { "{\"name\":\"u1\",\"password\":\"password1\",\"role_id\":\"\"}", 400, "0xE1400007" },
        { "{\"name\":\"u 1\",\"password\":\"password1\",\"role_id\":\"3\"}", 400, "0xE1400007" },
        { "{\"name\":\"u1\",\"password\":\"short\",\"role_id\":\"3\"}", 400, "0xE1400007" },
        { "{\"name\":\"oper\",\"password\":\"password1\",\"role_id\":\"3\"}", 422, "0xE1422003" },
        { "{\"name\":\"u1\",\"name\":\"u2\",\"password\":\"password1\",\"role_id\":\"3\"}", 400,
          "0xE1400002" },
    };
    result r;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = run(f, "POST", "/api/rest/local_user", cases[i].body, "Authorization", BASIC_ADMIN,
                JSON, NULL);
        if (r.resp.status != cases[i].status)
            fail_msg("%s: %d", cases[i].body, r.resp.status);
        expect_error(r, cases[i].status, cases[i].code);
    }
    /* Only roles 1 and 5 create users. */
    r = run(f, "POST", "/api/rest/local_user",
            "{\"name\":\"u1\",\"password\":\"password1\",\"role_id\":\"3\"}",
            "Authorization", BASIC_OPER, JSON, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "GET", "/api/rest/local_user?name=eq.u1", NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_int_equal(json_array_size(r.json), 0);
    done(&r);
}

/* A role id reads back as written; the core role is what it maps onto. */
static void test_role_round_trip(void **state)
{
    fixture   *f = *state;
    int64_t    id = create(f, BASIC_ADMIN, "vmadmin", "4");
    gh_account a;
    char       path[64], kept[8];
    result     r;

    assert_string_equal(role_of(f, "vmadmin"), "4");
    assert_int_equal(gh_store_account_get_by_id(f->store, id, &a), GH_STORE_OK);
    assert_int_equal(a.role, GH_ROLE_READONLY);
    assert_int_equal(gh_store_attribute_get(f->store, id, "powerstore", "role", kept, sizeof(kept)),
                     GH_STORE_OK);
    assert_string_equal(kept, "4");
    snprintf(path, sizeof(path), "/api/rest/local_user/%lld", (long long)id);
    r = run(f, "PATCH", path, "{\"role_id\":\"2\"}", "Authorization", BASIC_ADMIN, JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    assert_string_equal(role_of(f, "vmadmin"), "2");
    assert_int_equal(gh_store_account_get_by_id(f->store, id, &a), GH_STORE_OK);
    assert_int_equal(a.role, GH_ROLE_OPERATOR);
    r = run(f, "PATCH", path, "{\"role_id\":\"5\"}", "Authorization", BASIC_ADMIN, JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    assert_string_equal(role_of(f, "vmadmin"), "5");
    /* The core role changed elsewhere (Redfish, the command line): derived again. */
    assert_int_equal(gh_store_account_get_by_id(f->store, id, &a), GH_STORE_OK);
    a.role = GH_ROLE_ADMINISTRATOR;
    assert_int_equal(gh_service_account_update(&f->svc, &a, a.generation), GH_STORE_OK);
    assert_string_equal(role_of(f, "vmadmin"), "1");
    /* The new role governs at once, the session of the account included. */
    {
        login l = do_login(f, "Basic dm1hZG1pbjpwYXNzd29yZDE=");

        r = run(f, "PATCH", path, "{\"role_id\":\"3\"}", "Authorization", BASIC_ADMIN, JSON, NULL);
        assert_int_equal(r.resp.status, 204);
        done(&r);
        r = run(f, "GET", "/api/rest/local_user?select=name", NULL, "Cookie", l.cookie, NULL);
        assert_int_equal(json_array_size(r.json), 1);
        done(&r);
        r = run(f, "GET", "/api/rest/login_session?select=role_ids", NULL, "Cookie", l.cookie,
                NULL);
        assert_string_equal(json_string_value(json_array_get(json_object_get(
            json_array_get(r.json, 0), "role_ids"), 0)), "3");
        done(&r);
    }
}

static void test_lock_and_passwords(void **state)
{
    fixture *f = *state;
    int64_t  id = create(f, BASIC_ADMIN, "worker", "2");
    char     path[64];
    result   r;
    login    l = do_login(f, "Basic d29ya2VyOnBhc3N3b3JkMQ==");

    snprintf(path, sizeof(path), "/api/rest/local_user/%lld", (long long)id);
    /* Locked: no Basic, no session. */
    r = run(f, "PATCH", path, "{\"is_locked\":true}", "Authorization", BASIC_ADMIN, JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    expect_error(r, 401, "0xE1401001");
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", "Basic d29ya2VyOnBhc3N3b3JkMQ==",
            NULL);
    expect_error(r, 401, "0xE1401002");
    r = run(f, "GET", "/api/rest/local_user/name:worker?select=is_locked", NULL,
            "Authorization", BASIC_ADMIN, NULL);
    assert_true(json_is_true(json_object_get(r.json, "is_locked")));
    done(&r);
    r = run(f, "PATCH", path, "{\"is_locked\":false}", "Authorization", BASIC_ADMIN, JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);

    /* An administrator sets another's password without the current one. */
    r = run(f, "PATCH", path, "{\"password\":\"secondpass1\"}", "Authorization", BASIC_ADMIN,
            JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    /* Own password: current_password required and checked. */
    r = run(f, "PATCH", path, "{\"password\":\"thirdpass1\"}",
            "Authorization", "Basic d29ya2VyOnNlY29uZHBhc3Mx", JSON, NULL);
    expect_error(r, 400, "0xE1400006");
    r = run(f, "PATCH", path, "{\"password\":\"thirdpass1\",\"current_password\":\"password1\"}",
            "Authorization", "Basic d29ya2VyOnNlY29uZHBhc3Mx", JSON, NULL);
    expect_error(r, 400, "0xE1400008");
    r = run(f, "PATCH", path, "{\"current_password\":\"secondpass1\"}",
            "Authorization", "Basic d29ya2VyOnNlY29uZHBhc3Mx", JSON, NULL);
    expect_error(r, 400, "0xE1400006");
    r = run(f, "PATCH", path, "{\"password\":\"thirdpass1\",\"current_password\":\"secondpass1\"}",
            "Authorization", "Basic d29ya2VyOnNlY29uZHBhc3Mx", JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", "Basic d29ya2VyOnRoaXJkcGFzczE=",
            NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Nobody changes their own role or locks themselves, not even an administrator. */
    r = run(f, "PATCH", path, "{\"role_id\":\"1\"}", "Authorization",
            "Basic d29ya2VyOnRoaXJkcGFzczE=", JSON, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "PATCH", "/api/rest/local_user/name:admin", "{\"is_locked\":true}",
            "Authorization", BASIC_ADMIN, JSON, NULL);
    expect_error(r, 422, "0xE1422002");
    r = run(f, "PATCH", "/api/rest/local_user/name:admin", "{\"role_id\":\"1\"}",
            "Authorization", BASIC_ADMIN, JSON, NULL);
    assert_int_equal(r.resp.status, 204);     /* unchanged: nothing refused */
    done(&r);
    r = run(f, "PATCH", path, "{}", "Authorization", BASIC_ADMIN, JSON, NULL);
    expect_error(r, 400, "0xE1400006");
    r = run(f, "PATCH", path, "{\"role_id\":\"0\"}", "Authorization", BASIC_ADMIN, JSON, NULL);
    expect_error(r, 400, "0xE1400007");
    r = run(f, "PATCH", "/api/rest/local_user/name:ghost", "{\"role_id\":\"3\"}",
            "Authorization", BASIC_ADMIN, JSON, NULL);
    expect_error(r, 404, "0xE1404001");
    /* A user without the role changes nobody else. */
    r = run(f, "PATCH", "/api/rest/local_user/name:viewer", "{\"password\":\"password2x\"}",
            "Authorization", "Basic d29ya2VyOnRoaXJkcGFzczE=", JSON, NULL);
    expect_error(r, 403, "0xE1403002");
}

static void test_security_administrator(void **state)
{
    fixture *f = *state;
    const char *sec = "Basic c2Vjb2ZmOnBhc3N3b3JkMQ==";   /* secoff:password1 */
    result   r;

    (void)create(f, BASIC_ADMIN, "secoff", "5");
    /* Manages users... */
    (void)create(f, sec, "made", "2");
    r = run(f, "PATCH", "/api/rest/local_user/name:made", "{\"role_id\":\"4\"}",
            "Authorization", sec, JSON, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    r = run(f, "GET", "/api/rest/local_user?select=name", NULL, "Authorization", sec, NULL);
    assert_int_equal(json_array_size(r.json), 5);
    done(&r);
    /* ...but not Administrators, and makes none. */
    r = run(f, "POST", "/api/rest/local_user",
            "{\"name\":\"boss\",\"password\":\"password1\",\"role_id\":\"1\"}",
            "Authorization", sec, JSON, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "PATCH", "/api/rest/local_user/name:made", "{\"role_id\":\"1\"}",
            "Authorization", sec, JSON, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "PATCH", "/api/rest/local_user/name:admin", "{\"password\":\"takeover1\"}",
            "Authorization", sec, JSON, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "DELETE", "/api/rest/local_user/name:admin", NULL, "Authorization", sec, NULL);
    expect_error(r, 403, "0xE1403002");
    /* Outside this dialect it is ReadOnly. */
    {
        gh_account a;

        assert_int_equal(gh_store_account_get(f->store, "secoff", &a), GH_STORE_OK);
        assert_int_equal(a.role, GH_ROLE_READONLY);
    }
    r = run(f, "DELETE", "/api/rest/local_user/name:made", NULL, "Authorization", sec, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
}

static void test_delete(void **state)
{
    fixture *f = *state;
    int64_t  id = create(f, BASIC_ADMIN, "temp", "3");
    login    l = do_login(f, "Basic dGVtcDpwYXNzd29yZDE=");
    char     path[64];
    result   r;

    snprintf(path, sizeof(path), "/api/rest/local_user/%lld", (long long)id);
    r = run(f, "DELETE", path, NULL, "Authorization", BASIC_OPER, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "DELETE", path, NULL, "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf, NULL);
    expect_error(r, 403, "0xE1403002");
    r = run(f, "DELETE", path, NULL, "Authorization", BASIC_ADMIN, NULL);
    assert_int_equal(r.plan.work, GH_WORK_STORE);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    /* Its session went with it. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    expect_error(r, 401, "0xE1401001");
    r = run(f, "DELETE", path, NULL, "Authorization", BASIC_ADMIN, NULL);
    expect_error(r, 404, "0xE1404001");
    /* The built-in account and the own account stay. */
    r = run(f, "DELETE", "/api/rest/local_user/name:admin", NULL, "Authorization", BASIC_ADMIN,
            NULL);
    expect_error(r, 422, "0xE1422002");
    (void)create(f, BASIC_ADMIN, "admin2", "1");
    r = run(f, "DELETE", "/api/rest/local_user/name:admin", NULL,
            "Authorization", "Basic YWRtaW4yOnBhc3N3b3JkMQ==", NULL);
    expect_error(r, 422, "0xE1422001");
    r = run(f, "PATCH", "/api/rest/local_user/name:admin", "{\"role_id\":\"2\"}",
            "Authorization", "Basic YWRtaW4yOnBhc3N3b3JkMQ==", JSON, NULL);
    expect_error(r, 422, "0xE1422001");
    r = run(f, "PATCH", "/api/rest/local_user/name:admin", "{\"is_locked\":true}",
            "Authorization", "Basic YWRtaW4yOnBhc3N3b3JkMQ==", JSON, NULL);
    expect_error(r, 422, "0xE1422001");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_and_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_security_administrator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
