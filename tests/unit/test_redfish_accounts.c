/*
 * test_redfish_accounts.c: the Redfish AccountService side of the dialect
 * (src/dialects/redfish/redfish_accounts.c, redfish_account_service.c): account
 * create, read, change and delete with their privileges and ETags, the
 * account name rule and password lengths in characters, the
 * password-change-required gate, the lockout and password-length settings,
 * and the predefined roles. The fixture is in redfish_fixture.h.
 */
#include "redfish_fixture.h"

static void test_accounts(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    login    op = do_login(f, "oper", "password1");
    char     location[128], etag[64], uri[128];
    result   r;

    r = run(f, "POST", "/redfish/v1/AccountService/Accounts",
            "{\"UserName\":\"jane\",\"Password\":\"longenough\",\"RoleId\":\"Operator\"}",
            "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    r = run(f, "POST", "/redfish/v1/AccountService/Accounts",
            "{\"UserName\":\"jane\",\"Password\":\"short\",\"RoleId\":\"Nobody\"}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "error"),
                                                     "@Message.ExtendedInfo")), 2);
    assert_null(strstr(r.resp.body, "short"));
    done(&r);
    r = run(f, "POST", "/redfish/v1/AccountService/Accounts",
            "{\"UserName\":\"jane\",\"Password\":\"longenough\",\"RoleId\":\"Operator\"}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 201);
    snprintf(location, sizeof(location), "%s", hdr(&r, "Location"));
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    assert_string_equal(str_at(&r, "@odata.id", NULL), location);
    assert_string_equal(str_at(&r, "@odata.etag", NULL), etag);
    assert_true(json_is_null(json_object_get(r.json, "Password")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            r.json, "Links"), "Role"), "@odata.id")),
                        "/redfish/v1/AccountService/Roles/Operator");
    done(&r);
    r = run(f, "POST", "/redfish/v1/AccountService/Accounts",
            "{\"UserName\":\"jane\",\"Password\":\"longenough\",\"RoleId\":\"Operator\"}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 409);
    done(&r);
    r = run(f, "GET", location, NULL, "X-Auth-Token", adm.token, "If-None-Match", etag, NULL);
    assert_int_equal(r.resp.status, 304);
    done(&r);
    r = run(f, "PATCH", location, "{\"RoleId\":\"ReadOnly\"}", "X-Auth-Token", adm.token,
            "If-Match", "\"0-0\"", NULL);
    assert_int_equal(r.resp.status, 412);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PreconditionFailed");
    done(&r);
    r = run(f, "PATCH", location, "{\"RoleId\":\"ReadOnly\",\"Locked\":false}",
            "X-Auth-Token", adm.token, "If-Match", etag, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "RoleId", NULL), "ReadOnly");
    assert_string_not_equal(hdr(&r, "ETag"), etag);
    done(&r);
    r = run(f, "PATCH", location, "{\"Locked\":true,\"Bogus\":1,\"Id\":\"9\"}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    done(&r);
    /* Not someone else's, without ConfigureUsers; the own password, yes. */
    r = run(f, "GET", location, NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    snprintf(uri, sizeof(uri), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->oper_id);
    r = run(f, "PATCH", uri, "{\"RoleId\":\"Administrator\"}", "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    r = run(f, "PATCH", uri, "{\"Password\":\"newpassword\"}", "X-Auth-Token", op.token, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", "/redfish/v1/AccountService/Accounts", NULL, "X-Auth-Token", op.token, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 1);
    done(&r);
    r = run(f, "GET", "/redfish/v1/AccountService/Accounts", NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 4);
    done(&r);
    r = run(f, "DELETE", location, NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", location, NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
    snprintf(uri, sizeof(uri), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->admin_id);
    r = run(f, "DELETE", uri, NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_non_null(hdr(&r, "Allow"));
    done(&r);
}

/* UserName follows the core's rule on POST and PATCH, as on the command
 * line: a bad one is a 400 PropertyValueFormatError and nothing is written. */
static void test_account_name_rule(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    char     body[256], uri[128], too_long[GH_USER_NAME_MAX + 2];
    static const char *const bad[] = { "", "-jane", ".jane", "jane:doe", "jane@corp",
                                       "jane doe", "j\\u00e4ne" };
    result   r;

    memset(too_long, 'j', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"UserName\":\"%s\",\"Password\":\"longenough\",\"RoleId\":\"Operator\"}",
                 i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : too_long);
        r = run(f, "POST", "/redfish/v1/AccountService/Accounts", body,
                "X-Auth-Token", adm.token, NULL);
        assert_int_equal(r.resp.status, 400);
        assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyValueFormatError");
        done(&r);
    }
    r = run(f, "GET", "/redfish/v1/AccountService/Accounts", NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 3);
    done(&r);
    snprintf(uri, sizeof(uri), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->oper_id);
    r = run(f, "PATCH", uri, "{\"UserName\":\"oper:x\"}", "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyValueFormatError");
    done(&r);
    r = run(f, "GET", uri, NULL, "X-Auth-Token", adm.token, NULL);
    assert_string_equal(str_at(&r, "UserName", NULL), "oper");
    done(&r);
    r = run(f, "PATCH", uri, "{\"UserName\":\"oper.2\"}", "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "UserName", NULL), "oper.2");
    done(&r);
}

/* MinPasswordLength counts characters: seven two-byte letters are too few
 * for the default 8, eight are enough. */
static void test_password_length_in_chars(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    result   r;

    r = run(f, "POST", "/redfish/v1/AccountService/Accounts",
            "{\"UserName\":\"jane\",\"Password\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
            "\\u00e9\",\"RoleId\":\"Operator\"}", "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyValueIncorrect");
    done(&r);
    r = run(f, "POST", "/redfish/v1/AccountService/Accounts",
            "{\"UserName\":\"jane\",\"Password\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
            "\\u00e9\\u00e9\",\"RoleId\":\"Operator\"}", "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 201);
    done(&r);
}

static void test_password_change_required(void **state)
{
    fixture *f = *state;
    int64_t  id;
    char     uri[128];
    login    l;
    result   r;

    id = add_account(f, "fresh", GH_ROLE_OPERATOR, false, true);
    snprintf(uri, sizeof(uri), "/redfish/v1/AccountService/Accounts/%lld", (long long)id);
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions",
            "{\"UserName\":\"fresh\",\"Password\":\"password1\"}", NULL);
    assert_int_equal(r.resp.status, 201);
    assert_non_null(strstr(r.resp.body, "Base.1.15.0.PasswordChangeRequired"));
    snprintf(l.token, sizeof(l.token), "%s", hdr(&r, "X-Auth-Token"));
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 403);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PasswordChangeRequired");
    done(&r);
    r = run(f, "GET", uri, NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "PasswordChangeRequired")));
    done(&r);
    r = run(f, "PATCH", uri, "{\"Enabled\":true}", "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 403);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PasswordChangeRequired");
    done(&r);
    r = run(f, "PATCH", uri, "{\"Password\":\"a-new-password\"}", "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_is_false(json_object_get(r.json, "PasswordChangeRequired")));
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
}

static void test_account_service(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    result   r;

    r = run(f, "GET", "/redfish/v1/AccountService", NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "MinPasswordLength")), 8);
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/AccountService",
            "{\"AccountLockoutDuration\":60,\"AccountLockoutCounterResetAfter\":120}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.PropertyValueConflict");
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/AccountService",
            "{\"MinPasswordLength\":12,\"AccountLockoutThreshold\":3}",
            "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "MinPasswordLength")), 12);
    done(&r);
    assert_int_equal(gh_service_setting(&f->svc, GH_SET_LOCKOUT_THRESHOLD), 3);
    r = run(f, "GET", "/redfish/v1/AccountService/Roles", NULL, "X-Auth-Token", adm.token, NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 3);
    done(&r);
    r = run(f, "GET", "/redfish/v1/AccountService/Roles/readonly", NULL, "X-Auth-Token",
            adm.token, NULL);
    assert_string_equal(str_at(&r, "@odata.id", NULL), "/redfish/v1/AccountService/Roles/ReadOnly");
    assert_int_equal(json_array_size(json_object_get(r.json, "AssignedPrivileges")), 2);
    done(&r);
}

/* Failed logins lock the account at their source (threshold 5 by default),
 * and everywhere at the account-wide threshold (5 here): an administrator
 * sees Locked and unlocks it with PATCH Locked=false. */
static void test_lockout_unlock(void **state)
{
    fixture *f = *state;
    login    adm = do_login(f, "admin", "password1");
    char     uri[128];
    result   r;

    f->cfg.lockout_account_threshold = 5;
    for (int i = 0; i < 5; i++) {
        r = run(f, "POST", "/redfish/v1/SessionService/Sessions",
                "{\"UserName\":\"oper\",\"Password\":\"wrong-one\"}", NULL);
        assert_int_equal(r.resp.status, 401);
        done(&r);
    }
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions",
            "{\"UserName\":\"oper\",\"Password\":\"password1\"}", NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    snprintf(uri, sizeof(uri), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->oper_id);
    r = run(f, "GET", uri, NULL, "X-Auth-Token", adm.token, NULL);
    assert_true(json_is_true(json_object_get(r.json, "Locked")));
    done(&r);
    r = run(f, "PATCH", uri, "{\"Locked\":false}", "X-Auth-Token", adm.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_is_false(json_object_get(r.json, "Locked")));
    done(&r);
    (void)do_login(f, "oper", "password1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_name_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_length_in_chars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout_unlock, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
