/*
 * proxmox.c: the Proxmox VE dialect (/api2/json) as the rest of gatehouse
 * sees it: the gh_proxmox_dialect table, the classifier that runs on the
 * event loop, the refusal of an unauthenticated request, the body of an
 * error nginx or the adapter decided, the bundled read-only resources, and
 * serve(), which puts every request through the same gates in order:
 *
 *   the ticket endpoint -> proxmox_ticket.c (open: the password is the
 *   credential);  a PVEAPIToken -> checked against the store, 401 if it is
 *   not good;  a ticket naming another user than its session's -> 401;
 *   no Login privilege -> 403;  a ticket's POST, PUT or DELETE without its
 *   CSRFPreventionToken -> 401;  password change pending -> 403;
 *   method -> 405 + Allow (a write to the bundled tree: 403 without the
 *   ConfigureComponents privilege first);  an unknown path -> 404;  then
 *   the handler.
 *
 * Credentials: the PVEAuthCookie cookie holding a ticket, whose session
 * token the adapter looks up like any other, or an Authorization header of
 * the PVEAPIToken scheme, which wins when both are present (as in Proxmox
 * VE) and which serve checks in the I/O pool: the adapter knows sessions
 * and passwords, and an API token is neither, so its route is open to the
 * adapter and closed here. A cookie is sent by a browser on its own, so a
 * request it authenticates may change something only with the CSRF token
 * the ticket came with; an API token needs no such proof.
 */
#include "proxmox_internal.h"
#include "../common/gateway.h"

#include <string.h>

/* ---- routing ---- */

/* The methods each kind of route answers (writes to the tree are refused
 * in serve, after the privilege check). */
static unsigned gh_pve_allowed(gh_pve_route_kind kind)
{
    switch (kind) {
    case GH_PVE_TICKET: return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_POST);
    case GH_PVE_TOKEN:  return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_POST) |
                               GH_METHOD_BIT(GH_METHOD_DELETE);
    default:            return GH_METHOD_READ;
    }
}

static bool gh_pve_unsafe(gh_method m)
{
    return m != GH_METHOD_GET && m != GH_METHOD_HEAD;
}

/* The ticket a request carries in its cookie: none (401 No ticket), a
 * malformed one, or its session token. */
static void gh_pve_credential(const gh_request *req, gh_credential *cred)
{
    gh_pve_ticket ticket;
    gh_str        cookie = gh_credential_cookie(gh_request_header(req, "Cookie"), GH_PVE_COOKIE);

    if (cookie.data == NULL)
        return;
    if (gh_pve_ticket_parse(cookie, &ticket) != 0) {
        cred->kind = GH_CRED_MALFORMED;
        return;
    }
    cred->kind = GH_CRED_TOKEN;
    cred->token = ticket.secret;
}

static void gh_pve_classify(const gh_request *req, gh_plan *plan)
{
    gh_pve_route *r = gh_pve_route_in(plan);
    gh_pve_apitoken api;
    bool          writes = req->method == GH_METHOD_POST || req->method == GH_METHOD_PUT;

    gh_plan_init(plan);
    gh_pve_route_parse(req->path, r);
    /* Gateway mode: gatehouse's own endpoints (tickets, API tokens) and
     * the rest of access/ (its accounts and roles) are answered here. */
    plan->local = r->kind != GH_PVE_TREE || gh_path_under(req->path, "/api2/json/access");
    if (r->kind == GH_PVE_TICKET) {
        plan->open = true;
        plan->read_body = req->method == GH_METHOD_POST;
        plan->work = req->method == GH_METHOD_POST ? GH_WORK_HASH : GH_WORK_INLINE;
        return;
    }
    plan->read_body = writes && r->kind == GH_PVE_TOKEN;
    plan->work = r->kind == GH_PVE_TREE ? GH_WORK_INLINE : GH_WORK_STORE;
    if (gh_pve_apitoken_parse(gh_request_header(req, "Authorization"), &api) != 0) {
        gh_wipe(&api, sizeof(api));
        r->api_token = true;
        plan->open = true;          /* to the adapter: serve checks it, in the I/O pool */
        plan->work = GH_WORK_STORE;
        return;
    }
    gh_pve_credential(req, &plan->cred);
}

/* ---- refusals and errors from outside ---- */

static void gh_pve_finish(gh_response *resp)
{
    gh_response_header_add(resp, "Cache-Control", "max-age=0");
}

static void gh_pve_refuse(const gh_request *req, gh_refusal why, gh_response *resp)
{
    switch (why) {
    case GH_REFUSE_UNAVAILABLE:
        gh_pve_fail(resp, 503, NULL);
        break;
    case GH_REFUSE_PLAIN_HTTP:
        gh_pve_fail(resp, 403, "credentials are accepted over HTTPS only");
        break;
    case GH_REFUSE_THROTTLED:
        gh_pve_fail(resp, 429, NULL);
        gh_response_retry_after(resp, req->retry_after);
        break;
    case GH_REFUSE_BAD_CREDENTIALS:
    case GH_REFUSE_LOCKED:
        gh_pve_fail(resp, 401, "authentication failure");
        break;
    default:
        /* A ticket that is malformed or whose session is gone, or none. */
        if (gh_credential_cookie(gh_request_header(req, "Cookie"), GH_PVE_COOKIE).data != NULL)
            gh_pve_fail(resp, 401, "permission denied - invalid PVE ticket");
        else
            gh_pve_fail(resp, 401, "No ticket");
        break;
    }
    gh_pve_finish(resp);
}

/* 405 with the methods a kind of route takes. */
static void gh_pve_fail_method(gh_response *resp, unsigned allowed)
{
    char allow[64];

    gh_pve_fail(resp, 405, NULL);
    gh_allow_text(allowed, allow, sizeof(allow));
    gh_response_header_add(resp, "Allow", "%s", allow);
}

/* An error nginx or the adapter decided; req may hold a raw, cut or
 * undecodable path, which then names no route. */
static void gh_pve_fail_hook(const gh_request *req, int status, gh_response *resp)
{
    gh_pve_route route;

    if (status == 405) {
        gh_pve_route_parse(req->path, &route);
        gh_pve_fail_method(resp, gh_pve_allowed(route.kind));
    } else {
        gh_pve_fail(resp, status, NULL);
    }
    gh_pve_finish(resp);
}

/* ---- the bundled resources ---- */

/* A bundled file is the whole answer ({"data": ...}, as data/api2 holds
 * it), lent from the tree. Paths are matched exactly, as Proxmox VE matches
 * them, though the tree ignores case. */
static const gh_tree_entry *gh_pve_tree_entry(const gh_tree *tree, const gh_pve_route *r)
{
    const gh_tree_entry *e;

    if (!r->valid)
        return NULL;
    e = gh_tree_find(tree, (gh_str){ r->path, r->path_len }, "json");
    return e != NULL && strcmp(e->path, r->path) == 0 ? e : NULL;
}

/* May the caller do op, by policy.c, with what its token withholds? */
static bool gh_pve_may(const gh_pve_ctx *c, gh_policy_op op)
{
    gh_policy_subject who = gh_policy_subject_of(c->who);

    who.withheld = c->withheld;
    return gh_policy_allows(&who, (gh_policy_act){ .op = op }, NULL);
}

static void gh_pve_serve_tree(const gh_tree *tree, const gh_pve_ctx *c)
{
    const gh_request    *req = c->req;
    gh_response         *resp = c->resp;
    const gh_tree_entry *e = gh_pve_tree_entry(tree, c->route);

    if (e == NULL) {
        gh_pve_fail(resp, 404, NULL);
    } else if (!gh_pve_unsafe(req->method)) {
        resp->status = 200;
        gh_response_ref_body(resp, e->body, e->len, GH_PVE_JSON_TYPE);
    } else if (!gh_pve_may(c, GH_OP_COMPONENTS)) {
        gh_pve_fail(resp, 403, "Permission check failed");
    } else {
        gh_pve_fail_method(resp, GH_METHOD_READ);     /* the bundled tree is read-only */
    }
}

/* ---- serving ---- */

/* Does the ticket of the request name the user of its session? */
static bool gh_pve_ticket_user_ok(const gh_request *req, const gh_principal *who)
{
    gh_pve_ticket t;
    gh_str        cookie = gh_credential_cookie(gh_request_header(req, "Cookie"), GH_PVE_COOKIE);

    return gh_pve_ticket_parse(cookie, &t) == 0 && strcmp(t.userid.user, who->user) == 0;
}

/* The gates of the caller every authenticated request passes, served or
 * passed on: its ticket's user, Login, CSRF on a ticket's write, a pending
 * password change. false with the answer made. */
static bool gh_pve_caller_gates(gh_pve_ctx *c)
{
    const gh_principal *who = c->who;

    if (!c->by_api_token && !gh_pve_ticket_user_ok(c->req, who)) {
        gh_pve_fail(c->resp, 401, "permission denied - invalid PVE ticket");
    } else if (!gh_pve_may(c, GH_OP_USE)) {
        gh_pve_fail(c->resp, 403, "Permission check failed");
    } else if (!c->by_api_token && gh_pve_unsafe(c->req->method) &&
               !gh_pve_csrf_ok(c->svc->secret, who->session_id,
                               gh_request_header(c->req, GH_PVE_CSRF_HEADER))) {
        gh_pve_fail(c->resp, 401, "Permission denied - invalid csrf token");
    } else if (who->password_change_required) {
        gh_pve_fail(c->resp, 403, "password change required");
    } else {
        return true;
    }
    return false;
}

/* The gates every authenticated request served here passes: the caller's,
 * then the route's methods and validity; false with the answer made. */
static bool gh_pve_gates(gh_pve_ctx *c)
{
    gh_method m = c->req->method;

    if (!gh_pve_caller_gates(c)) {
        ;   /* answered */
    } else if (c->route->kind != GH_PVE_TREE &&
               (gh_pve_allowed(c->route->kind) & GH_METHOD_BIT(m)) == 0) {
        gh_pve_fail_method(c->resp, gh_pve_allowed(c->route->kind));
    } else if (!c->route->valid) {
        gh_pve_fail(c->resp, c->route->kind == GH_PVE_TREE ? 404 : 400,
                    c->route->kind == GH_PVE_TREE ? NULL : "Parameter verification failed.");
    } else {
        return true;
    }
    return false;
}

static void gh_pve_serve(gh_service *svc, const gh_tree *tree, const gh_request *req,
                         const gh_plan *plan, const gh_principal *who, gh_response *resp)
{
    const gh_pve_route *route = gh_pve_route_of(plan);
    gh_principal        by_token;
    gh_pve_ctx          c = { svc, req, route, who, false, 0, resp };

    if (route->kind == GH_PVE_TICKET) {
        if ((gh_pve_allowed(route->kind) & GH_METHOD_BIT(req->method)) != 0)
            gh_pve_serve_ticket(&c);
        else
            gh_pve_fail_method(resp, gh_pve_allowed(route->kind));
        goto done;
    }
    if (route->api_token) {
        if (!gh_pve_apitoken_check(&c, &by_token))
            goto done;
        c.who = &by_token;
        c.by_api_token = true;
    } else if (who == NULL) {
        gh_pve_refuse(req, GH_REFUSE_NO_CREDENTIALS, resp);
        return;
    }
    if (!gh_pve_gates(&c))
        goto done;
    switch (route->kind) {
    case GH_PVE_TOKENS: gh_pve_serve_tokens(&c); break;
    case GH_PVE_TOKEN:  gh_pve_serve_token(&c); break;
    default:            gh_pve_serve_tree(tree, &c); break;
    }
done:
    gh_pve_finish(resp);
}

/* Gateway mode: the gates of serve, then the privileges the method and
 * path need (gateway.h). An API token is checked here, in the I/O pool
 * (classify left its route open to the adapter), and says who it is
 * through req->gateway_who. */
static bool gh_pve_forward(gh_service *svc, const gh_request *req, const gh_plan *plan,
                           const gh_principal *who, gh_response *resp)
{
    const gh_pve_route *route = gh_pve_route_of(plan);
    gh_principal        by_token;
    gh_pve_ctx          c = { svc, req, route, who, false, 0, resp };
    gh_policy_subject   subject;
    bool                ok = false;

    if (route->api_token) {
        if (!gh_pve_apitoken_check(&c, &by_token))
            goto done;
        c.who = &by_token;
        c.by_api_token = true;
    } else if (who == NULL) {
        gh_pve_refuse(req, GH_REFUSE_NO_CREDENTIALS, resp);
        return false;
    }
    subject = gh_policy_subject_of(c.who);
    subject.withheld = c.withheld;
    if (!gh_pve_caller_gates(&c)) {
        ;   /* answered */
    } else if (!gh_gateway_allows(req->config, req, &subject, NULL, 0, NULL)) {
        gh_pve_fail(resp, 403, "Permission check failed");
    } else {
        ok = true;
        if (c.by_api_token && req->gateway_who != NULL) {
            req->gateway_who->set = true;
            req->gateway_who->who = by_token;
            req->gateway_who->privileges = gh_policy_holds(&subject);
        }
    }
done:
    gh_wipe(&by_token, sizeof(by_token));
    if (!ok)
        gh_pve_finish(resp);
    return ok;
}

static const char *const gh_pve_credential_headers[] = {
    "Authorization", GH_PVE_CSRF_HEADER, NULL
};
static const char *const gh_pve_credential_cookies[] = { GH_PVE_COOKIE, NULL };

const gh_dialect gh_proxmox_dialect = {
    .name = GH_PVE_DIALECT,
    .label = "Proxmox VE",
    .prefix = "/api2/json",
    .classify = gh_pve_classify,
    .refuse = gh_pve_refuse,
    .fail = gh_pve_fail_hook,
    .serve = gh_pve_serve,
    .forward = gh_pve_forward,
    .credential = gh_pve_credential,
    .credential_headers = gh_pve_credential_headers,
    .credential_cookies = gh_pve_credential_cookies,
};
