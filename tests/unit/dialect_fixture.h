/*
 * dialect_fixture.h: what the unit tests of every dialect share: a real store
 * in a temporary directory, a real shared block in malloc'd memory behind the
 * local session store, cheap argon2 parameters, the bundled tree under data/
 * (tests run from the repository root), three accounts (admin: the built-in
 * Administrator, oper: Operator, viewer: ReadOnly; all with password PW), and
 * run(), which drives one request the way the nginx module does: classify;
 * on a closed route refuse plain HTTP, then authenticate (a session of this
 * dialect by token digest through the shared block, or a password verify of
 * the Basic user); then refuse or serve. INLINE work is served without a
 * store, as in nginx, so a route classified INLINE by mistake shows up as a
 * 503. A dialect's fixture header includes this one and adds setup()
 * (fixture_new(), its own changes, fixture_ready()), done() and what else is
 * its own. The helpers are static inline so a file may leave some unused.
 */
#ifndef GH_TEST_DIALECT_FIXTURE_H
#define GH_TEST_DIALECT_FIXTURE_H

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

#include "../../src/core/password.h"
#include "../../src/core/token.h"
#include "../../src/dialects/common/dialect.h"
#include "mutex_lock.h"

#define PW "password1"
#define TEST_HEADERS_MAX 10

typedef struct {
    const gh_dialect *dialect;         /* the one run() drives */
    char              dir[64];
    gh_config         cfg;
    gh_store         *store;
    void             *mem;
    gh_shared        *shared;
    pthread_mutex_t   mu;
    gh_service        svc;
    gh_tree          *tree;
    int64_t           admin_id, oper_id, viewer_id;
    bool              plain_http;      /* the next run() arrives without TLS */
    int64_t           skew;            /* seconds added to the clock of session lookups */
} fixture;

typedef struct {
    gh_request  req;
    const char *names[TEST_HEADERS_MAX];
    const char *values[TEST_HEADERS_MAX];
    size_t      n;
} test_req;

typedef struct {
    gh_response resp;
    gh_plan     plan;   /* as classified, its credential wiped */
    json_t     *json;   /* the body, parsed when it is JSON */
} result;

static inline gh_str test_header(const gh_request *req, const char *name)
{
    const test_req *t = req->adapter;

    for (size_t i = 0; i < t->n; i++) {
        if (strcasecmp(t->names[i], name) == 0)
            return (gh_str){ t->values[i], strlen(t->values[i]) };
    }
    return (gh_str){ NULL, 0 };
}

/* An enabled internal account with password PW; its id. */
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

/* The store in /tmp/gh-<name>-XXXXXX, the configuration, the shared block and
 * the service; the dialect's setup() may change them before fixture_ready(). */
static inline fixture *fixture_new(const gh_dialect *dialect, const char *name)
{
    fixture *f = calloc(1, sizeof(*f));
    gh_shared_limits limits = { 64, 64, 64 };
    char path[128];

    assert_non_null(f);
    f->dialect = dialect;
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh-%s-XXXXXX", name);
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/gatehouse.db", f->dir);
    assert_int_equal(gh_store_open(path, &f->store), GH_STORE_OK);
    assert_int_equal(gh_dialect_config_defaults(&f->cfg, NULL, 0), 0);
    f->cfg.argon2 = (gh_argon2_params){ 1, 64, 1 };
    pthread_mutex_init(&f->mu, NULL);
    f->mem = calloc(1, gh_shared_size(&limits));
    assert_non_null(f->mem);
    f->shared = gh_shared_format(f->mem, &limits, test_mutex_shared_lock(&f->mu));
    assert_non_null(f->shared);
    f->svc.store = f->store;
    f->svc.shared = f->shared;
    f->svc.sessions = gh_session_store_local(f->shared);
    assert_non_null(f->svc.sessions);
    f->svc.config = &f->cfg;
    f->svc.dialects = gh_dialects;
    assert_int_equal(gh_store_secret(f->store, f->svc.secret), GH_STORE_OK);
    return f;
}

/* The settings into the shared block, the tree and the three accounts. */
static inline void fixture_ready(fixture *f)
{
    char err[256];

    assert_int_equal(gh_service_sync_settings(&f->svc), GH_STORE_OK);
    assert_int_equal(gh_tree_load("data", &f->tree, err, sizeof(err)), 0);
    f->admin_id = add_account(f, "admin", GH_ROLE_ADMINISTRATOR, true, false);
    f->oper_id = add_account(f, "oper", GH_ROLE_OPERATOR, false, false);
    f->viewer_id = add_account(f, "viewer", GH_ROLE_READONLY, false, false);
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

/* A request over TLS from 192.0.2.7 with t's headers (cfg may be NULL). */
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
static inline gh_refusal authenticate(fixture *f, const gh_plan *plan, gh_principal *who)
{
    if (plan->cred.kind == GH_CRED_TOKEN || plan->cred.kind == GH_CRED_BEARER) {
        uint8_t d[GH_DIGEST_LEN];

        gh_token_digest(plan->cred.token.data, plan->cred.token.len, d);
        /* A session belongs to the dialect that made it. */
        if (gh_shared_session_find(f->shared, d, gh_now() + f->skew, who, NULL) !=
                GH_SHARED_OK ||
            strcmp(who->dialect, f->dialect->name) != 0)
            return GH_REFUSE_NO_CREDENTIALS;
        return 0;
    }
    if (plan->cred.kind == GH_CRED_BASIC) {
        gh_auth_result a = gh_service_verify_password(&f->svc, plan->cred.user,
                                                      plan->cred.password,
                                                      plan->cred.password_len,
                                                      "192.0.2.7", "basic", who);

        return a == GH_AUTH_OK ? 0
             : a == GH_AUTH_UNAVAILABLE ? GH_REFUSE_UNAVAILABLE
             : a == GH_AUTH_LOCKED ? GH_REFUSE_LOCKED : GH_REFUSE_BAD_CREDENTIALS;
    }
    return plan->cred.kind == GH_CRED_MALFORMED ? GH_REFUSE_MALFORMED : GH_REFUSE_NO_CREDENTIALS;
}

/* One request as the module would run it. Extra headers: name, value, ...,
 * NULL. A NULL body sends none. */
static inline result run(fixture *f, const char *method, const char *path, const char *body, ...)
{
    test_req     t;
    gh_principal who;
    gh_refusal   why = 0;
    gh_service   inline_svc = f->svc;
    result       r;
    va_list      ap;

    memset(&t, 0, sizeof(t));
    memset(&r, 0, sizeof(r));
    va_start(ap, body);
    for (const char *n; (n = va_arg(ap, const char *)) != NULL && t.n < TEST_HEADERS_MAX; t.n++) {
        t.names[t.n] = n;
        t.values[t.n] = va_arg(ap, const char *);
    }
    va_end(ap);
    build_req(&t, &f->cfg, method, path);
    t.req.secure = !f->plain_http;

    f->dialect->classify(&t.req, &r.plan);
    if (r.plan.read_body && body != NULL)
        t.req.body = (gh_str){ body, strlen(body) };
    memset(&who, 0, sizeof(who));
    if (!r.plan.open)
        why = t.req.secure ? authenticate(f, &r.plan, &who) : GH_REFUSE_PLAIN_HTTP;
    gh_credential_wipe(&r.plan.cred);
    if (why != 0) {
        f->dialect->refuse(&t.req, why, &r.resp);
    } else {
        if (r.plan.work == GH_WORK_INLINE)
            inline_svc.store = NULL;
        f->dialect->serve(&inline_svc, f->tree, &t.req, &r.plan, r.plan.open ? NULL : &who,
                          &r.resp);
    }
    if (r.resp.body != NULL && r.resp.content_type != NULL &&
        strncmp(r.resp.content_type, "application/json", 16) == 0)
        r.json = json_loadb(r.resp.body, r.resp.body_len, 0, NULL);
    return r;
}

/* The value of a response header by name, or NULL. */
static inline const char *hdr(const result *r, const char *name)
{
    for (size_t i = 0; i < r->resp.nheaders; i++) {
        if (strcasecmp(r->resp.headers[i].name, name) == 0)
            return gh_response_value(&r->resp, i);
    }
    return NULL;
}

#endif
