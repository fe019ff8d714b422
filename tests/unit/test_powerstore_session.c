/*
 * test_powerstore_session.c: PowerStore sessions (src/dialects/
 * powerstore_session.c and the gates of powerstore.c): login_session with
 * Basic and with the cookie, the cookie's attributes, the DELL-EMC-TOKEN and
 * how it is made, the CSRF refusals, logout by cookie and by Basic, expiry,
 * the session limit, the password-change gate, and that a session of another
 * dialect is no PowerStore session.
 */
#include "powerstore_fixture.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static void test_login_basic(void **state)
{
    fixture    *f = *state;
    result      r;
    json_t     *s;
    const char *sc;

    gh_ps_settings_edit(&f->cfg)->idle_timeout = 120;
    r = run(f, "GET", "/api/rest/login_session?select=id,user,role_ids,is_password_change_"
                      "required,is_built_in_user,idle_timeout", NULL,
            "Authorization", BASIC_ADMIN, "Accept", "application/json", NULL);
    assert_int_equal(r.plan.work, GH_WORK_STORE);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 1);
    s = json_array_get(r.json, 0);
    assert_int_equal(json_object_size(s), 6);
    assert_int_equal(strlen(json_string_value(json_object_get(s, "id"))), GH_SESSION_ID_LEN);
    assert_string_equal(json_string_value(json_object_get(s, "user")), "admin");
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "role_ids"), 0)), "1");
    assert_int_equal(json_array_size(json_object_get(s, "role_ids")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "idle_timeout")), 120);
    assert_true(json_is_false(json_object_get(s, "is_password_change_required")));
    assert_true(json_is_true(json_object_get(s, "is_built_in_user")));
    sc = hdr(&r, "Set-Cookie");
    assert_non_null(sc);
    assert_non_null(strstr(sc, "; Path=/; Secure; HttpOnly; SameSite=Strict"));
    assert_null(strstr(sc, "Domain"));
    assert_int_equal(strlen(hdr(&r, "DELL-EMC-TOKEN")), GH_PS_CSRF_LEN);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 1);

    /* Without select: the id alone, as PowerStore answers. */
    r = run(f, "GET", "/api/rest/login_session", NULL, "Authorization", BASIC_OPER, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_object_size(json_array_get(r.json, 0)), 1);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 2);
}

static void test_login_cookie(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, BASIC_VIEWER);
    result   r;
    json_t  *s;

    /* The cookie describes its own session, and makes no new one. */
    r = run(f, "GET", "/api/rest/login_session?select=id,user,role_ids,idle_timeout", NULL,
            "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    s = json_array_get(r.json, 0);
    assert_string_equal(json_string_value(json_object_get(s, "id")), l.id);
    assert_string_equal(json_string_value(json_object_get(s, "user")), "viewer");
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "role_ids"), 0)), "3");
    assert_int_equal(json_integer_value(json_object_get(s, "idle_timeout")), 3600);
    assert_null(hdr(&r, "Set-Cookie"));
    assert_string_equal(hdr(&r, "DELL-EMC-TOKEN"), l.csrf);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 1);

    /* Every GET of the session carries the token, errors too. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(hdr(&r, "DELL-EMC-TOKEN"), l.csrf);
    done(&r);
    r = run(f, "GET", "/api/rest/nothing", NULL, "Cookie", l.cookie, NULL);
    assert_string_equal(hdr(&r, "DELL-EMC-TOKEN"), l.csrf);
    expect_error(r, 404, "0xE1404001");
}

/* The token is HMAC-SHA256(secret, domain NUL id), in hex: recomputed here. */
static void test_csrf_token_derivation(void **state)
{
    fixture      *f = *state;
    login         l = do_login(f, BASIC_ADMIN), m = do_login(f, BASIC_ADMIN);
    unsigned char msg[128], mac[32];
    unsigned int  len = 0;
    char          hex[65];
    size_t        n = sizeof("gatehouse powerstore csrf v1");
    result        r;

    memcpy(msg, "gatehouse powerstore csrf v1", n);
    memcpy(msg + n, l.id, GH_SESSION_ID_LEN);
    assert_non_null(HMAC(EVP_sha256(), f->svc.secret, 32, msg, n + GH_SESSION_ID_LEN, mac, &len));
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(l.csrf, hex);
    /* Two sessions of one account, two tokens. */
    assert_string_not_equal(l.csrf, m.csrf);
    assert_string_not_equal(l.id, m.id);

    /* A thread remembers a token only under the secret it was made with. */
    f->svc.secret[0] ^= 0x01;
    assert_non_null(HMAC(EVP_sha256(), f->svc.secret, 32, msg, n + GH_SESSION_ID_LEN, mac, &len));
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    r = run(f, "GET", "/api/rest/appliance", NULL, "Cookie", l.cookie, NULL);
    assert_string_equal(hdr(&r, "DELL-EMC-TOKEN"), hex);
    assert_string_not_equal(hex, l.csrf);
    done(&r);
    f->svc.secret[0] ^= 0x01;
    for (int i = 0; i < 2; i++) {
        r = run(f, "GET", "/api/rest/appliance", NULL, "Cookie", l.cookie, NULL);
        assert_string_equal(hdr(&r, "DELL-EMC-TOKEN"), l.csrf);
        done(&r);
    }
}

static void test_csrf(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, BASIC_ADMIN), other = do_login(f, BASIC_ADMIN);
    char     upper[GH_PS_CSRF_LEN + 1];
    char     padded[GH_PS_CSRF_LEN + 8];
    result   r;
    const char *body = "{\"name\":\"csrfuser\",\"password\":\"password1\",\"role_id\":\"3\"}";

    /* Missing, wrong, another session's, altered case, cut short. */
    r = run(f, "POST", "/api/rest/local_user", body, "Cookie", l.cookie,
            "Content-Type", "application/json", NULL);
    expect_error(r, 403, "0xE1403001");
    r = run(f, "POST", "/api/rest/local_user", body, "Cookie", l.cookie,
            "Content-Type", "application/json", "DELL-EMC-TOKEN", other.csrf, NULL);
    expect_error(r, 403, "0xE1403001");
    for (size_t i = 0; i <= GH_PS_CSRF_LEN; i++)
        upper[i] = (char)(l.csrf[i] >= 'a' && l.csrf[i] <= 'f' ? l.csrf[i] - 32 : l.csrf[i]);
    r = run(f, "POST", "/api/rest/local_user", body, "Cookie", l.cookie,
            "Content-Type", "application/json", "DELL-EMC-TOKEN", upper, NULL);
    expect_error(r, 403, "0xE1403001");
    snprintf(padded, sizeof(padded), "%.63s", l.csrf);
    r = run(f, "DELETE", "/api/rest/local_user/2", NULL, "Cookie", l.cookie,
            "DELL-EMC-TOKEN", padded, NULL);
    expect_error(r, 403, "0xE1403001");
    r = run(f, "PATCH", "/api/rest/local_user/2", "{\"is_locked\":true}", "Cookie", l.cookie,
            "Content-Type", "application/json", "DELL-EMC-TOKEN", "", NULL);
    expect_error(r, 403, "0xE1403001");
    /* A PUT is refused for the token first, for the method after. */
    r = run(f, "PUT", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    expect_error(r, 403, "0xE1403001");
    r = run(f, "PUT", "/api/rest/volume", NULL, "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf,
            NULL);
    expect_error(r, 405, "0xE1405001");
    r = run(f, "POST", "/api/rest/logout", NULL, "Cookie", l.cookie, NULL);
    expect_error(r, 403, "0xE1403001");
    /* Nothing was made or ended by the refusals. */
    r = run(f, "GET", "/api/rest/local_user?name=eq.csrfuser", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(json_array_size(r.json), 0);
    done(&r);

    /* The right token (blanks around it are no matter). */
    snprintf(padded, sizeof(padded), " %s ", l.csrf);
    r = run(f, "POST", "/api/rest/local_user", body, "Cookie", l.cookie,
            "Content-Type", "application/json", "DELL-EMC-TOKEN", padded, NULL);
    assert_int_equal(r.resp.status, 201);
    done(&r);
    /* Basic on the request needs no token, cookie or not. */
    r = run(f, "DELETE", "/api/rest/local_user/name:csrfuser", NULL, "Cookie", l.cookie,
            "Authorization", BASIC_ADMIN, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
}

static void test_logout(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, BASIC_OPER);
    result   r;

    r = run(f, "POST", "/api/rest/logout", NULL, "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf,
            NULL);
    assert_int_equal(r.plan.work, GH_WORK_STORE);
    assert_int_equal(r.resp.status, 204);
    assert_int_equal(r.resp.body_len, 0);
    assert_non_null(strstr(hdr(&r, "Set-Cookie"), "auth_cookie=; Path=/; Max-Age=0"));
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 0);
    /* The cookie and the token are dead. */
    r = run(f, "GET", "/api/rest/login_session", NULL, "Cookie", l.cookie, NULL);
    expect_error(r, 401, "0xE1401001");
    r = run(f, "POST", "/api/rest/logout", NULL, "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf,
            NULL);
    expect_error(r, 401, "0xE1401001");
}

static void test_logout_basic(void **state)
{
    fixture *f = *state;
    login    mine = do_login(f, BASIC_OPER), theirs = do_login(f, BASIC_VIEWER);
    result   r;

    /* Basic with someone else's cookie ends nothing of theirs. */
    r = run(f, "POST", "/api/rest/logout", NULL, "Authorization", BASIC_OPER,
            "Cookie", theirs.cookie, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 2);
    /* Basic without a cookie: nothing to end, still 204. */
    r = run(f, "POST", "/api/rest/logout", NULL, "Authorization", BASIC_OPER, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 2);
    /* Basic with the own cookie ends that session. */
    r = run(f, "POST", "/api/rest/logout", NULL, "Authorization", BASIC_OPER,
            "Cookie", mine.cookie, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    assert_int_equal(gh_shared_session_count(f->shared), 1);
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", mine.cookie, NULL);
    expect_error(r, 401, "0xE1401001");
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", theirs.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* A shared store lost: the cookie's session cannot be looked up, so
     * the logout is refused, never said done. */
    gh_shared_set_cached(f->shared, true);
    gh_session_store_close(f->svc.sessions);
    assert_non_null(f->svc.sessions = gh_session_store_cached(f->shared, f->svc.store,
                                                              NULL, NULL));
    gh_shared_drop_all(f->shared);
    r = run(f, "POST", "/api/rest/logout", NULL, "Authorization", BASIC_VIEWER,
            "Cookie", theirs.cookie, NULL);
    expect_error(r, 503, "0xE1503001");
}

static void test_expiry(void **state)
{
    fixture *f = *state;
    login    l;
    result   r;

    gh_ps_settings_edit(&f->cfg)->idle_timeout = 60;
    l = do_login(f, BASIC_OPER);
    /* Used within the timeout: alive, and the idle time starts over. */
    f->skew = 50;
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    f->skew = 100;
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Idle past the timeout: 401, the cookie cleared, the session gone. */
    f->skew = 161;
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    assert_non_null(hdr(&r, "Set-Cookie"));
    expect_error(r, 401, "0xE1401001");
    assert_int_equal(gh_shared_session_count(f->shared), 0);
}

static void test_session_limit(void **state)
{
    fixture *f = *state;
    result   r;

    f->cfg.max_sessions_per_account = 1;
    (void)do_login(f, BASIC_OPER);
    r = run(f, "GET", "/api/rest/login_session", NULL, "Authorization", BASIC_OPER, NULL);
    assert_null(hdr(&r, "Set-Cookie"));
    assert_string_equal(hdr(&r, "Retry-After"), "30");
    expect_error(r, 503, "0xE1503002");
    /* A login whose answer fails leaves no session behind. */
    r = run(f, "GET", "/api/rest/login_session", NULL, "Authorization", BASIC_VIEWER,
            "Range", "4-9", NULL);
    assert_null(hdr(&r, "Set-Cookie"));
    expect_error(r, 416, "0xE1416001");
    r = run(f, "GET", "/api/rest/login_session?select=", NULL, "Authorization", BASIC_VIEWER,
            NULL);
    expect_error(r, 400, "0xE1400003");
    assert_int_equal(gh_shared_session_count(f->shared), 1);
}

static void test_password_change_required(void **state)
{
    fixture *f = *state;
    int64_t  id = add_account(f, "fresh", GH_ROLE_ADMINISTRATOR, false, true);
    char     path[64], wrong[160], own_only[160];
    login    l;
    result   r;
    json_t  *s;

    r = run(f, "GET", "/api/rest/login_session?select=is_password_change_required", NULL,
            "Authorization", "Basic ZnJlc2g6cGFzc3dvcmQx", NULL);
    assert_int_equal(r.resp.status, 200);
    s = json_array_get(r.json, 0);
    assert_true(json_is_true(json_object_get(s, "is_password_change_required")));
    done(&r);
    l = do_login(f, "Basic ZnJlc2g6cGFzc3dvcmQx");
    snprintf(path, sizeof(path), "/api/rest/local_user/%lld", (long long)id);

    /* Everything else: 403 saying why and where. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(
        r.json, "messages"), 0), "message_l10n")), path));
    expect_error(r, 403, "0xE1403003");
    r = run(f, "GET", path, NULL, "Cookie", l.cookie, NULL);
    expect_error(r, 403, "0xE1403003");
    r = run(f, "GET", "/api/rest/local_user", NULL, "Authorization", "Basic ZnJlc2g6cGFzc3dvcmQx",
            NULL);
    expect_error(r, 403, "0xE1403003");
    r = run(f, "PATCH", "/api/rest/local_user/1", "{\"password\":\"newpassword1\"}",
            "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf, "Content-Type", "application/json",
            NULL);
    expect_error(r, 403, "0xE1403003");
    /* Only the password, and only with the current one. */
    r = run(f, "PATCH", path, "{\"password\":\"newpassword1\",\"role_id\":\"1\"}",
            "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf, "Content-Type", "application/json",
            NULL);
    expect_error(r, 403, "0xE1403003");
    r = run(f, "PATCH", path, "{\"password\":\"newpassword1\"}",
            "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf, "Content-Type", "application/json",
            NULL);
    expect_error(r, 400, "0xE1400006");
    snprintf(wrong, sizeof(wrong), "{\"password\":\"newpassword1\",\"current_password\":\"nope\"}");
    r = run(f, "PATCH", path, wrong, "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf,
            "Content-Type", "application/json", NULL);
    expect_error(r, 400, "0xE1400008");
    r = run(f, "PATCH", path, "{\"password\":\"short\",\"current_password\":\"password1\"}",
            "Cookie", l.cookie, "DELL-EMC-TOKEN", l.csrf, "Content-Type", "application/json",
            NULL);
    expect_error(r, 400, "0xE1400007");
    snprintf(own_only, sizeof(own_only),
             "{\"password\":\"newpassword1\",\"current_password\":\"password1\"}");
    r = run(f, "PATCH", "/api/rest/local_user/name:fresh", own_only, "Cookie", l.cookie,
            "DELL-EMC-TOKEN", l.csrf, "Content-Type", "application/json", NULL);
    assert_int_equal(r.plan.work, GH_WORK_HASH);
    assert_int_equal(r.resp.status, 204);
    done(&r);

    /* The same session may do everything now, at once. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", l.cookie, NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", "/api/rest/login_session?select=is_password_change_required", NULL,
            "Cookie", l.cookie, NULL);
    assert_true(json_is_false(json_object_get(json_array_get(r.json, 0),
                                              "is_password_change_required")));
    done(&r);
    /* The old password is gone, the new one works. */
    r = run(f, "GET", "/api/rest/volume", NULL, "Authorization", "Basic ZnJlc2g6cGFzc3dvcmQx", NULL);
    expect_error(r, 401, "0xE1401002");
    r = run(f, "GET", "/api/rest/volume", NULL,
            "Authorization", "Basic ZnJlc2g6bmV3cGFzc3dvcmQx", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Logging out is allowed while the change is pending too. */
    {
        int64_t other = add_account(f, "fresh2", GH_ROLE_READONLY, false, true);
        login   m = do_login(f, "Basic ZnJlc2gyOnBhc3N3b3JkMQ==");

        (void)other;
        r = run(f, "POST", "/api/rest/logout", NULL, "Cookie", m.cookie,
                "DELL-EMC-TOKEN", m.csrf, NULL);
        assert_int_equal(r.resp.status, 204);
        done(&r);
    }
}

/* A session of another dialect is not a PowerStore session, and a
 * PowerStore cookie's session is listed by the core like any other. */
static void test_foreign_session(void **state)
{
    fixture          *f = *state;
    gh_principal      who;
    gh_session_record rec;
    char              token[GH_TOKEN_TEXT_LEN + 1], cookie[GH_TOKEN_TEXT_LEN + 16];
    result            r;
    login             l = do_login(f, BASIC_ADMIN);

    memset(&who, 0, sizeof(who));
    who.account_id = f->admin_id;
    snprintf(who.user, sizeof(who.user), "admin");
    who.role = GH_ROLE_ADMINISTRATOR;
    assert_int_equal(gh_service_session_create(&f->svc, &who, "redfish", 0, "192.0.2.1",
                                               token, &rec), GH_SESSION_CREATED);
    snprintf(cookie, sizeof(cookie), "auth_cookie=%s", token);
    r = run(f, "GET", "/api/rest/volume", NULL, "Cookie", cookie, NULL);
    expect_error(r, 401, "0xE1401001");
    assert_int_equal(gh_store_session_get(f->store, l.id, &rec), GH_STORE_OK);
    assert_string_equal(rec.dialect, "powerstore");
    assert_int_equal(rec.idle_timeout, 3600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_token_derivation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_session, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
