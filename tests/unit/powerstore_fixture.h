/*
 * powerstore_fixture.h: what the PowerStore dialect's unit tests share beyond
 * dialect_fixture.h (the store, the shared block, the accounts and run()):
 * setup(), with no lockout, done() with what every PowerStore response
 * carries, Basic credentials of the accounts, error-body checks and a login
 * through login_session. Included by each test file; the helpers are static
 * inline so a file may leave some unused.
 */
#ifndef GH_TEST_POWERSTORE_FIXTURE_H
#define GH_TEST_POWERSTORE_FIXTURE_H

#include "../../src/dialects/powerstore/powerstore_internal.h"
#include "dialect_fixture.h"

/* base64("admin:password1"), ("oper:password1"), ("viewer:password1") */
#define BASIC_ADMIN  "Basic YWRtaW46cGFzc3dvcmQx"
#define BASIC_OPER   "Basic b3BlcjpwYXNzd29yZDE="
#define BASIC_VIEWER "Basic dmlld2VyOnBhc3N3b3JkMQ=="

static inline int setup(void **state)
{
    fixture *f = fixture_new(&gh_powerstore_dialect, "powerstore");

    f->cfg.lockout_threshold = 0;
    fixture_ready(f);
    *state = f;
    return 0;
}

static inline void done(result *r)
{
    /* Every response, whatever it says, carries these. */
    assert_string_equal(hdr(r, "Cache-Control"), "no-store");
    if (r->resp.body_len > 0) {
        assert_non_null(r->resp.content_type);
        assert_string_equal(r->resp.content_type, "application/json");
        assert_non_null(r->json);
    }
    json_decref(r->json);
    gh_response_free(&r->resp);
}

/* The code of the first message of an error body. */
static inline const char *err_code(const result *r)
{
    json_t *m = json_array_get(json_object_get(r->json, "messages"), 0);

    assert_string_equal(json_string_value(json_object_get(m, "severity")), "Error");
    assert_non_null(json_string_value(json_object_get(m, "message_l10n")));
    assert_true(json_is_array(json_object_get(m, "arguments")));
    return json_string_value(json_object_get(m, "code"));
}

/* Expect an error of status and code, then free it. */
static inline void expect_error(result r, int status, const char *code)
{
    if (r.resp.status != status)
        fail_msg("expected %d, got %d: %.*s", status, r.resp.status, (int)r.resp.body_len,
                 r.resp.body != NULL ? r.resp.body : "");
    assert_string_equal(err_code(&r), code);
    done(&r);
}

typedef struct {
    char cookie[GH_TOKEN_TEXT_LEN + 32];      /* "auth_cookie=..." for a Cookie header */
    char token[GH_TOKEN_TEXT_LEN + 1];        /* the session token alone */
    char csrf[GH_PS_CSRF_LEN + 1];
    char id[GH_SESSION_ID_LEN + 1];
} login;

/* GET login_session with Basic; the cookie, the CSRF token and the id. */
static inline login do_login(fixture *f, const char *basic)
{
    login       l;
    result      r;
    const char *sc, *end;

    memset(&l, 0, sizeof(l));
    r = run(f, "GET", "/api/rest/login_session", NULL, "Authorization", basic, NULL);
    assert_int_equal(r.resp.status, 200);
    sc = hdr(&r, "Set-Cookie");
    assert_non_null(sc);
    assert_true(strncmp(sc, "auth_cookie=", 12) == 0);
    end = strchr(sc, ';');
    assert_non_null(end);
    assert_int_equal(end - sc - 12, GH_TOKEN_TEXT_LEN);
    snprintf(l.token, sizeof(l.token), "%.*s", (int)(end - sc - 12), sc + 12);
    snprintf(l.cookie, sizeof(l.cookie), "auth_cookie=%s", l.token);
    snprintf(l.csrf, sizeof(l.csrf), "%s", hdr(&r, "DELL-EMC-TOKEN"));
    snprintf(l.id, sizeof(l.id), "%s",
             json_string_value(json_object_get(json_array_get(r.json, 0), "id")));
    done(&r);
    return l;
}

#endif
