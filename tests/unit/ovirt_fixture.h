/*
 * ovirt_fixture.h: what the oVirt dialect's unit tests share: a real store in
 * a temporary directory (with pki/ca.pem and pki/server.pem for the CA
 * download), a real shared block, cheap argon2 parameters, the bundled tree
 * under data/ (tests run from the repository root), four accounts (admin: the
 * built-in Administrator, oper: Operator, viewer: ReadOnly, all with password
 * "password1"; renew: ReadOnly with a password change pending), and run(),
 * which drives one request the way the nginx module does: classify,
 * authenticate (a session of the oVirt dialect by token digest, or a password
 * verify of the Basic user), then refuse or serve. INLINE work is served
 * without a store, as in nginx, so a route classified INLINE by mistake shows
 * up as a 503. Included by each test file; the helpers are static inline.
 */
#ifndef GH_TEST_OVIRT_FIXTURE_H
#define GH_TEST_OVIRT_FIXTURE_H

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
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "../../src/dialects/ovirt_internal.h"
#include "../../src/dialects/redfish.h"

#define CA_TEXT     "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
#define SERVER_TEXT "-----BEGIN CERTIFICATE-----\nSERVER\n-----END CERTIFICATE-----\n"

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
    bool             plain_http;      /* the next run() arrives without TLS */
} fixture;

typedef struct {
    gh_request  req;
    const char *names[10];
    const char *values[10];
    size_t      n;
} test_req;

typedef struct {
    gh_response resp;
    gh_plan     plan;
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

static inline void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
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
    assert_int_equal(gh_password_hash(&f->cfg.argon2, "password1", 9, a.password_hash),
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-ovirt-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/gatehouse.db", f->dir);
    assert_int_equal(gh_store_open(path, &f->store), GH_STORE_OK);
    snprintf(path, sizeof(path), "%s/pki", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/pki/ca.pem", f->dir);
    write_text(path, CA_TEXT);
    snprintf(path, sizeof(path), "%s/pki/server.pem", f->dir);
    write_text(path, SERVER_TEXT);
    gh_config_defaults(&f->cfg);
    f->cfg.argon2 = (gh_argon2_params){ 1, 64, 1 };
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
    f->svc.data_dir = f->dir;
    assert_int_equal(gh_store_secret(f->store, f->svc.secret), GH_STORE_OK);
    assert_int_equal(gh_service_sync_settings(&f->svc), GH_STORE_OK);
    assert_int_equal(gh_tree_load("data", &f->tree, err, sizeof(err)), 0);
    f->admin_id = add_account(f, "admin", GH_ROLE_ADMINISTRATOR, true, false);
    f->oper_id = add_account(f, "oper", GH_ROLE_OPERATOR, false, false);
    f->viewer_id = add_account(f, "viewer", GH_ROLE_READONLY, false, false);
    add_account(f, "renew", GH_ROLE_READONLY, false, true);
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

static inline void build_req(test_req *t, const gh_config *cfg, const char *method,
                             const char *path)
{
    const char *q = strchr(path, '?');

    t->req.method_name = (gh_str){ method, strlen(method) };
    t->req.method = gh_method_from(t->req.method_name);
    t->req.path = (gh_str){ path, q != NULL ? (size_t)(q - path) : strlen(path) };
    t->req.query = q != NULL ? (gh_str){ q + 1, strlen(q + 1) } : (gh_str){ "", 0 };
    snprintf(t->req.client_addr, sizeof(t->req.client_addr), "192.0.2.7");
    t->req.secure = true;
    t->req.header = test_header;
    t->req.adapter = t;
    t->req.config = cfg;
}

/* Authenticate as the adapter does; 0 when authenticated, else the refusal. */
static inline gh_refusal authenticate(fixture *f, gh_plan *plan, gh_principal *who)
{
    gh_refusal why = 0;

    if (plan->cred.kind == GH_CRED_TOKEN || plan->cred.kind == GH_CRED_BEARER) {
        uint8_t d[GH_DIGEST_LEN];

        gh_token_digest(plan->cred.token.data, plan->cred.token.len, d);
        if (gh_shared_session_find(f->shared, d, gh_now(), who, NULL) != GH_SHARED_OK ||
            who->dialect != GH_DIALECT_OVIRT)
            why = GH_REFUSE_NO_CREDENTIALS;
    } else if (plan->cred.kind == GH_CRED_BASIC) {
        gh_auth_result a = gh_service_verify_password(&f->svc, plan->cred.user,
                                                      plan->cred.password,
                                                      plan->cred.password_len,
                                                      "192.0.2.7", "basic", who);
        if (a != GH_AUTH_OK)
            why = a == GH_AUTH_UNAVAILABLE ? GH_REFUSE_UNAVAILABLE
                : a == GH_AUTH_LOCKED ? GH_REFUSE_LOCKED : GH_REFUSE_BAD_CREDENTIALS;
    } else {
        why = plan->cred.kind == GH_CRED_MALFORMED ? GH_REFUSE_MALFORMED
                                                   : GH_REFUSE_NO_CREDENTIALS;
    }
    return why;
}

/* One request as the module would run it. Extra headers: name, value, ..., NULL. */
static inline result run(fixture *f, const char *method, const char *path, const char *body, ...)
{
    test_req     t;
    gh_principal who;
    gh_service   inline_svc = f->svc;
    result       r;
    va_list      ap;

    memset(&t, 0, sizeof(t));
    memset(&r, 0, sizeof(r));
    va_start(ap, body);
    for (const char *n; (n = va_arg(ap, const char *)) != NULL && t.n < 10; t.n++) {
        t.names[t.n] = n;
        t.values[t.n] = va_arg(ap, const char *);
    }
    va_end(ap);
    build_req(&t, &f->cfg, method, path);
    t.req.secure = !f->plain_http;

    gh_ovirt_dialect.classify(&t.req, &r.plan);
    if (r.plan.read_body && body != NULL)
        t.req.body = (gh_str){ body, strlen(body) };
    memset(&who, 0, sizeof(who));
    if (!r.plan.open) {
        gh_refusal why = t.req.secure ? authenticate(f, &r.plan, &who) : GH_REFUSE_PLAIN_HTTP;

        gh_credential_wipe(&r.plan.cred);
        if (why != 0) {
            gh_ovirt_dialect.refuse(&t.req, why, &r.resp);
            goto parsed;
        }
    }
    gh_credential_wipe(&r.plan.cred);
    if (r.plan.work == GH_WORK_INLINE)
        inline_svc.store = NULL;
    gh_ovirt_dialect.serve(&inline_svc, f->tree, &t.req, r.plan.open ? NULL : &who, &r.resp);
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

/* The body as a string; fails the test when it holds a NUL or is not
 * terminated after body_len bytes (every body of this dialect is). */
static inline const char *body_of(const result *r)
{
    if (r->resp.body == NULL)
        return "";
    assert_int_equal(strnlen(r->resp.body, r->resp.body_len + 1), r->resp.body_len);
    return r->resp.body;
}

static inline void done(result *r)
{
    json_decref(r->json);
    gh_response_free(&r->resp);
}

static inline const char *str_at(const result *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

/* "Basic base64(user:password)" into out. */
static inline const char *basic(char *out, size_t outlen, const char *user, const char *password)
{
    char plain[256];
    unsigned char enc[400];
    int n;

    snprintf(plain, sizeof(plain), "%s:%s", user, password);
    n = EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)strlen(plain));
    snprintf(out, outlen, "Basic %.*s", n, enc);
    return out;
}

/* A token from the SSO endpoint, the way the Python SDK asks for one. */
static inline void get_token(fixture *f, const char *username, char token[GH_TOKEN_TEXT_LEN + 1])
{
    char body[256];
    result r;

    snprintf(body, sizeof(body), "grant_type=password&scope=ovirt-app-api&username=%s"
             "&password=password1", username);
    r = run(f, "POST", GH_OVIRT_TOKEN, body, "Accept", "application/json",
            "Content-Type", "application/x-www-form-urlencoded", NULL);
    assert_int_equal(r.resp.status, 200);
    assert_non_null(str_at(&r, "access_token"));
    snprintf(token, GH_TOKEN_TEXT_LEN + 1, "%s", str_at(&r, "access_token"));
    done(&r);
}

/* The value of Set-Cookie's JSESSIONID, or "" when none was set. */
static inline void cookie_of(const result *r, char *out, size_t outlen)
{
    const char *c = hdr(r, "Set-Cookie");
    size_t n = 0;

    out[0] = '\0';
    if (c == NULL || strncmp(c, "JSESSIONID=", 11) != 0)
        return;
    c += 11;
    while (c[n] != '\0' && c[n] != ';')
        n++;
    snprintf(out, outlen, "%.*s", (int)n, c);
}

/* Live sessions of the oVirt dialect in the store. */
static inline int count_sessions_cb(const gh_session_record *rec, void *arg)
{
    if (rec->dialect == GH_DIALECT_OVIRT)
        (*(int *)arg)++;
    return 0;
}

static inline int ovirt_sessions(fixture *f)
{
    int n = 0;

    assert_int_equal(gh_store_session_foreach(f->store, -1, count_sessions_cb, &n), GH_STORE_OK);
    return n;
}

#endif
