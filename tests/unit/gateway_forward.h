/*
 * gateway_forward.h: one request of a location in gateway mode, as the
 * nginx module runs it (dialect.h): classify; a local route is served as
 * run() serves it; any other is authenticated, then handed to the dialect's
 * forward hook, which passes it on (true: only its headers would reach the
 * client, on the upstream's answer) or answers it itself. For the dialects'
 * unit tests of their forward hooks; include after the dialect's fixture.
 */
#ifndef GH_TEST_GATEWAY_FORWARD_H
#define GH_TEST_GATEWAY_FORWARD_H

#include "../../src/dialects/common/gateway.h"
#include "dialect_fixture.h"

typedef struct {
    result r;
    bool   local;       /* classify kept it: served, not forwarded */
    bool   passed;      /* forward let it through to the upstream */
} forwarded;

/* Extra headers: name, value, ..., NULL. */
static inline forwarded forward(fixture *f, const char *method, const char *path, ...)
{
    test_req     t;
    gh_principal who;
    gh_refusal   why = 0;
    gh_service   svc = f->svc;
    forwarded    out;
    va_list      ap;

    memset(&t, 0, sizeof(t));
    memset(&out, 0, sizeof(out));
    va_start(ap, path);
    for (const char *n; (n = va_arg(ap, const char *)) != NULL && t.n < TEST_HEADERS_MAX; t.n++) {
        t.names[t.n] = n;
        t.values[t.n] = va_arg(ap, const char *);
    }
    va_end(ap);
    build_req(&t, &f->cfg, method, path);
    f->dialect->classify(&t.req, &out.r.plan);
    out.local = out.r.plan.local;
    memset(&who, 0, sizeof(who));
    if (!out.r.plan.open)
        why = authenticate(f, &out.r.plan, &who);
    gh_credential_wipe(&out.r.plan.cred);
    if (out.r.plan.work == GH_WORK_INLINE)
        svc.store = NULL;
    if (why != 0)
        f->dialect->refuse(&t.req, why, &out.r.resp);
    else if (out.local)
        f->dialect->serve(&svc, f->tree, &t.req, &out.r.plan, out.r.plan.open ? NULL : &who,
                          &out.r.resp);
    else
        out.passed = f->dialect->forward(&svc, &t.req, &out.r.plan,
                                         out.r.plan.open ? NULL : &who, &out.r.resp);
    if (out.r.resp.body != NULL && out.r.resp.content_type != NULL &&
        strncmp(out.r.resp.content_type, "application/json", 16) == 0)
        out.r.json = json_loadb(out.r.resp.body, out.r.resp.body_len, 0, NULL);
    return out;
}

/* Read rules into f's configuration, as [authorize] lines of a file do. */
static inline void authorize(fixture *f, const char *prefix, const char *value)
{
    char why[192];

    if (!gh_gateway_rules_add(gh_config_section_edit(&f->cfg, &gh_gateway_config), prefix,
                              value, why, sizeof(why)))
        fail_msg("%s = %s: %s", prefix, value, why);
}

/* classify's reading of a GET of each of n paths: local (gatehouse's own)
 * or not, as local says; and, when work is not NULL, served where *work
 * says. */
static inline void expect_routes(const gh_dialect *d, const char *const *paths, size_t n,
                                 bool local, const gh_work *work)
{
    gh_request req;
    gh_plan    plan;

    memset(&req, 0, sizeof(req));
    req.method = GH_METHOD_GET;
    for (size_t i = 0; i < n; i++) {
        req.path = (gh_str){ paths[i], strlen(paths[i]) };
        d->classify(&req, &plan);
        if (plan.local != local)
            fail_msg("%s %s", paths[i], local ? "not local" : "local");
        if (work != NULL)
            assert_int_equal(plan.work, *work);
    }
}

#endif
