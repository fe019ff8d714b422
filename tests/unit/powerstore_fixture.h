/*
 * powerstore_fixture.h: what the PowerStore dialect's unit tests share: a
 * real store in a temporary directory, a real shared block in malloc'd memory
 * behind the local session store, cheap argon2 parameters, the bundled tree
 * under data/ (tests run from the repository root), accounts (admin: the
 * built-in Administrator, oper: Operator, viewer: ReadOnly; all with password
 * "password1"), and run(), which drives one request the way the nginx module
 * does: classify, authenticate (a session lookup by token digest, refused
 * unless the session is PowerStore's, or a password verify), then refuse or
 * serve. INLINE work is served without a store, as in nginx, so a route
 * classified INLINE by mistake shows up as a 503. Included by each test file;
 * the helpers are static inline so a file may leave some unused.
 */
#ifndef GH_TEST_POWERSTORE_FIXTURE_H
#define GH_TEST_POWERSTORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <pthread.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../src/dialects/powerstore_internal.h"

#define PW "password1"
/* base64("admin:password1"), ("oper:password1"), ("viewer:password1") */
#define BASIC_ADMIN  "Basic YWRtaW46cGFzc3dvcmQx"
#define BASIC_OPER   "Basic b3BlcjpwYXNzd29yZDE="
#define BASIC_VIEWER "Basic dmlld2VyOnBhc3N3b3JkMQ=="

typedef struct {
    char             dir[64];
    gh_config        cfg;
    gh_store        *store;
    void            *mem;
    gh_shared       *shared;
    pthread_mutex_t  mu;
    gh_service       svc;
    gh_tree         *tree;
    int64_t          admin_id, oper_id, viewer_id;
    gh_work          last_work;    /* the plan of the last run() */
    int64_t          skew;         /* seconds added to the clock of session lookups */
} fixture;

typedef struct {
    gh_request  req;
    const char *names[10];
    const char *values[10];
    size_t      n;
} test_req;

typedef struct {
    gh_response resp;
    json_t     *json;   /* the body, parsed when it is JSON */
} result;

static inline void lock_fn(void *arg) { pthread_mutex_lock(arg); }
static inline void unlock_fn(void *arg) { pthread_mutex_unlock(arg); }

static inline gh_str test_header(const gh_request *req, const char *name)
{
    const test_req *t = req->adapter;

    for (size_t i = 0; i < t->n; i++) {
        if (strcasecmp(t->names[i], name) == 0)
            return (gh_str){ t->values[i], strlen(t->values[i]) };
    }
    return (gh_str){ NULL, 0 };
}

static inline int64_t add_account(fixture *f, const char *name, gh_role role, bool built_in,
                                  bool pcr)
{
    gh_account a;

    memset(&a, 0, sizeof(a));
    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.domain, sizeof(a.domain), "internal");
    a.role = role;
    a.enabled = true;
    a.built_in = built_in;
    a.password_change_required = pcr;
    assert_int_equal(gh_password_hash(&f->cfg.argon2, PW, strlen(PW), a.password_hash),
                     GH_PASSWORD_OK);
    assert_int_equal(gh_store_account_add(f->store, &a), GH_STORE_OK);
    return a.id;
}

static inline int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gh_shared_limits limits = { 64, 64, 64 };
    char path[128], err[256];

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-powerstore-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/gatehouse.db", f->dir);
    assert_int_equal(gh_store_open(path, &f->store), GH_STORE_OK);
    gh_config_defaults(&f->cfg);
    f->cfg.argon2 = (gh_argon2_params){ 1, 64, 1 };
    f->cfg.lockout_threshold = 0;
    pthread_mutex_init(&f->mu, NULL);
    f->mem = calloc(1, gh_shared_size(&limits));
    assert_non_null(f->mem);
    f->shared = gh_shared_format(f->mem, &limits,
                                 (gh_shared_lock){ lock_fn, unlock_fn, &f->mu });
    assert_non_null(f->shared);
    memset(&f->svc, 0, sizeof(f->svc));
    f->svc.store = f->store;
    f->svc.shared = f->shared;
    f->svc.sessions = gh_session_store_local(f->shared);
    assert_non_null(f->svc.sessions);
    f->svc.config = &f->cfg;
    assert_int_equal(gh_store_secret(f->store, f->svc.secret), GH_STORE_OK);
    assert_int_equal(gh_service_sync_settings(&f->svc), GH_STORE_OK);
    assert_int_equal(gh_tree_load("data", &f->tree, err, sizeof(err)), 0);
    f->admin_id = add_account(f, "admin", GH_ROLE_ADMINISTRATOR, true, false);
    f->oper_id = add_account(f, "oper", GH_ROLE_OPERATOR, false, false);
    f->viewer_id = add_account(f, "viewer", GH_ROLE_READONLY, false, false);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];

    gh_tree_free(f->tree);
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->shared);
    free(f->mem);
    gh_store_close(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* One request as the module would run it. Extra headers: name, value, ...,
 * NULL. A NULL body sends none. */
static inline result run(fixture *f, const char *method, const char *path, const char *body, ...)
{
    test_req     t;
    gh_plan      plan;
    gh_principal who;
    gh_service   inline_svc = f->svc;
    result       r;
    const char  *q = strchr(path, '?');
    va_list      ap;

    memset(&t, 0, sizeof(t));
    memset(&r, 0, sizeof(r));
    va_start(ap, body);
    for (const char *n; (n = va_arg(ap, const char *)) != NULL && t.n < 10; t.n++) {
        t.names[t.n] = n;
        t.values[t.n] = va_arg(ap, const char *);
    }
    va_end(ap);
    t.req.method_name = (gh_str){ method, strlen(method) };
    t.req.method = gh_method_from(t.req.method_name);
    t.req.path = (gh_str){ path, q != NULL ? (size_t)(q - path) : strlen(path) };
    t.req.query = q != NULL ? (gh_str){ q + 1, strlen(q + 1) } : (gh_str){ "", 0 };
    snprintf(t.req.client_addr, sizeof(t.req.client_addr), "192.0.2.7");
    t.req.secure = true;
    t.req.header = test_header;
    t.req.adapter = &t;

    gh_powerstore_dialect.classify(&t.req, &plan);
    f->last_work = plan.work;
    if (plan.read_body && body != NULL)
        t.req.body = (gh_str){ body, strlen(body) };
    memset(&who, 0, sizeof(who));
    if (!plan.open) {
        gh_refusal why = 0;

        if (plan.cred.kind == GH_CRED_TOKEN || plan.cred.kind == GH_CRED_BEARER) {
            uint8_t d[GH_DIGEST_LEN];

            gh_token_digest(plan.cred.token.data, plan.cred.token.len, d);
            /* A session belongs to the dialect that made it (as the adapter checks). */
            if (gh_shared_session_find(f->shared, d, gh_now() + f->skew, &who, NULL) !=
                    GH_SHARED_OK ||
                who.dialect != GH_DIALECT_POWERSTORE)
                why = GH_REFUSE_NO_CREDENTIALS;
        } else if (plan.cred.kind == GH_CRED_BASIC) {
            gh_auth_result a = gh_service_verify_password(&f->svc, plan.cred.user,
                                                          plan.cred.password,
                                                          plan.cred.password_len,
                                                          "192.0.2.7", "basic", &who);
            if (a != GH_AUTH_OK)
                why = a == GH_AUTH_UNAVAILABLE ? GH_REFUSE_UNAVAILABLE
                      : a == GH_AUTH_LOCKED ? GH_REFUSE_LOCKED : GH_REFUSE_BAD_CREDENTIALS;
        } else {
            why = plan.cred.kind == GH_CRED_MALFORMED ? GH_REFUSE_MALFORMED
                                                      : GH_REFUSE_NO_CREDENTIALS;
        }
        gh_credential_wipe(&plan.cred);
        if (why != 0) {
            gh_powerstore_dialect.refuse(&t.req, why, &r.resp);
            goto parsed;
        }
    }
    if (plan.work == GH_WORK_INLINE)
        inline_svc.store = NULL;
    gh_powerstore_dialect.serve(&inline_svc, f->tree, &t.req, plan.open ? NULL : &who, &r.resp);
parsed:
    if (r.resp.body != NULL && r.resp.content_type != NULL &&
        strncmp(r.resp.content_type, "application/json", 16) == 0)
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
    return r;
}

static inline const char *hdr(const result *r, const char *name)
{
    for (size_t i = 0; i < r->resp.nheaders; i++) {
        if (strcasecmp(r->resp.headers[i].name, name) == 0)
            return r->resp.headers[i].value;
    }
    return NULL;
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
