/*
 * redfish.c: the Redfish dialect (DSP0266) as the rest of gatehouse sees it:
 * the gh_redfish_dialect table, the classifier that runs on the event loop
 * (on the routes of redfish_route.c), the refusal of an unauthenticated
 * request, the body of an error nginx or the adapter decided, and serve(),
 * which puts every request through the same gates before its handler runs:
 *
 *   OData-Version other than 4.0 -> 412;  method not allowed -> 405 + Allow;
 *   no principal on a closed route -> 401;  no Login privilege -> 403;
 *   password change required -> 403 but for the own account and own logout;
 *   an unsupported $-query -> 501, a bad only/excerpt -> 400 (redfish_query.c);
 *   an unknown member -> 404;  then the handler; then, on a GET or HEAD, only
 *   and excerpt applied to its reply, and Allow added to a successful one.
 *
 * Responses name the canonical @odata.id. Every response carries
 * OData-Version: 4.0 and Cache-Control.
 *
 * In gateway mode (docs/gateway.md, "Redfish") classify marks the routes
 * gatehouse answers itself (local: the sessions, the accounts, the version
 * document and the service root, which it takes from the upstream), and
 * forward decides on every other request before it is passed on: a path
 * that names one resource, Login, no password change pending, then the
 * privileges DMTF's Privilege Registry asks for (redfish_registry.c).
 */
#include "redfish_internal.h"

#include <string.h>

/* Where serving runs: memory only, the store, or a password hash. */
static gh_work gh_redfish_work(const gh_redfish_route *r, gh_method m)
{
    bool read = m == GH_METHOD_GET || m == GH_METHOD_HEAD;

    if (!r->valid || (gh_redfish_allowed(r->kind) & GH_METHOD_BIT(m)) == 0)
        return GH_WORK_INLINE;   /* 404 or 405, from memory */
    switch (r->kind) {
    case GH_RF_SESSIONS:
    case GH_RF_SESSIONS_MEMBERS: return read ? GH_WORK_STORE : GH_WORK_HASH;
    case GH_RF_SESSION:          return GH_WORK_STORE;
    case GH_RF_SESSION_SERVICE:  return read ? GH_WORK_INLINE : GH_WORK_STORE;
    /* Its LDAP and ActiveDirectory objects are read from the store. */
    case GH_RF_ACCOUNT_SERVICE:  return GH_WORK_STORE;
    case GH_RF_ACCOUNTS:         return read ? GH_WORK_STORE : GH_WORK_HASH;
    /* PATCH may carry a Password; the body is not read yet, so assume it does. */
    case GH_RF_ACCOUNT:          return m == GH_METHOD_PATCH ? GH_WORK_HASH : GH_WORK_STORE;
    default:                     return GH_WORK_INLINE;
    }
}

/* The credential a request carries on a resource route: X-Auth-Token wins
 * over Authorization (Basic). Also the dialect's credential hook. */
static void gh_redfish_credential(const gh_request *req, gh_credential *cred)
{
    gh_credential token;

    gh_credential_authorization(gh_request_header(req, "Authorization"), false, cred);
    gh_credential_token(gh_request_header(req, "X-Auth-Token"), &token);
    if (token.kind != GH_CRED_NONE) {
        gh_credential_wipe(cred);
        *cred = token;
    }
}

static void gh_redfish_classify(const gh_request *req, gh_plan *plan)
{
    const gh_redfish_route *route = gh_redfish_route_in(plan);

    gh_plan_init(plan);
    gh_redfish_route_parse(req->path, gh_redfish_route_in(plan));
    plan->work = gh_redfish_work(route, req->method);
    plan->read_body = plan->work != GH_WORK_INLINE &&
                      (req->method == GH_METHOD_POST || req->method == GH_METHOD_PATCH);
    plan->stream = route->kind == GH_RF_SSE && route->valid && req->method == GH_METHOD_GET;
    plan->local = gh_redfish_is_local(route);
    /* Not for HEAD: the upstream's answer to it has no body to take links from. */
    plan->upstream_first = route->kind == GH_RF_ROOT && req->method == GH_METHOD_GET;
    if (gh_redfish_is_open(route->kind, req->method)) {
        plan->open = true;
        return;
    }
    gh_redfish_credential(req, &plan->cred);
}

/* Every response: OData-Version, and no-store unless the handler chose. */
static void gh_redfish_finish(gh_response *resp)
{
    gh_response_header_add(resp, "OData-Version", "4.0");
    if (!gh_redfish_has_header(resp, "Cache-Control"))
        gh_response_header_add(resp, "Cache-Control", "no-store");
}

/* ---- refusal ---- */

static void gh_redfish_refusal(const gh_request *req, gh_refusal why, gh_response *resp)
{
    switch (why) {
    case GH_REFUSE_MALFORMED:
        gh_redfish_fail1(resp, 400, GH_RF_MSG_HEADER_INVALID,
                         gh_request_header(req, "X-Auth-Token").data != NULL
                             ? "X-Auth-Token" : "Authorization");
        break;
    case GH_REFUSE_UNAVAILABLE:
        gh_redfish_fail_unavailable(resp);
        break;
    case GH_REFUSE_PLAIN_HTTP:
        gh_redfish_fail_plain_http(resp);
        break;
    case GH_REFUSE_THROTTLED:
        gh_redfish_fail_throttled(resp, req->retry_after);
        break;
    default:   /* none, bad, locked: one answer, so a prober learns nothing */
        gh_redfish_fail0(resp, 401, GH_RF_MSG_NO_VALID_SESSION);
        gh_response_header_add(resp, "WWW-Authenticate", "Basic realm=\"Redfish\"");
        break;
    }
}

static void gh_redfish_refuse(const gh_request *req, gh_refusal why, gh_response *resp)
{
    gh_redfish_refusal(req, why, resp);
    gh_redfish_finish(resp);
}

/* An error nginx or the adapter decided. The path may be cut short or fail
 * to decode (a 414): the route then is nobody's, which only a 404 or a 405
 * looks at. */
static void gh_redfish_fail_hook(const gh_request *req, int status, gh_response *resp)
{
    gh_redfish_route route;
    char             allow[64] = "";

    gh_redfish_route_parse(req->path, &route);
    if (status == 405)
        gh_allow_text(gh_redfish_allowed(route.kind), allow, sizeof(allow));
    gh_redfish_fail_status(resp, status, route.path, allow);
    gh_redfish_finish(resp);
}

/* ---- serving ---- */

static bool gh_redfish_odata_ok(const gh_request *req)
{
    gh_str v = gh_str_trim(gh_request_header(req, "OData-Version"));

    return v.data == NULL || gh_str_eq(v, "4.0");
}

/* Password change pending: the own account (checked further by its handler)
 * and logging out the very session in use are all that is left. */
static bool gh_redfish_pcr_allows(const gh_redfish_ctx *c)
{
    if (c->route->kind == GH_RF_ACCOUNT)
        return true;
    return c->route->kind == GH_RF_SESSION && c->req->method == GH_METHOD_DELETE &&
           c->who->session_id[0] != '\0' && strcmp(c->route->session_id, c->who->session_id) == 0;
}

/* A resource of the tree: a bundled file, or an open document rendered into
 * the tree at load (redfish_root.c). Its bytes outlive the response: lent,
 * not copied. */
static void gh_redfish_serve_tree(gh_redfish_ctx *c, const char *format, const char *type)
{
    const gh_tree_entry *e = gh_tree_find(c->tree, (gh_str){ c->route->path, c->route->path_len },
                                          format);

    if (e == NULL) {
        gh_redfish_fail_not_found(c->resp, c->route->path);
        return;
    }
    gh_response_header_add(c->resp, "ETag", "%s", e->etag);
    gh_response_header_add(c->resp, "Cache-Control", "no-cache");
    gh_redfish_describedby_add(c->resp, e->json);
    if (gh_redfish_etag_listed(gh_request_header(c->req, "If-None-Match"), e->etag)) {
        c->resp->status = 304;
        return;
    }
    c->resp->status = 200;
    gh_response_ref_body(c->resp, e->body, e->len, type);
}

static void gh_redfish_dispatch(gh_redfish_ctx *c)
{
    switch (c->route->kind) {
    case GH_RF_METADATA:         gh_redfish_serve_tree(c, "xml", GH_REDFISH_XML_TYPE); break;
    case GH_RF_OPENAPI:          gh_redfish_serve_tree(c, "reply", GH_REDFISH_YAML_TYPE); break;
    case GH_RF_SESSION_SERVICE:  gh_redfish_serve_session_service(c); break;
    case GH_RF_SESSIONS:
    case GH_RF_SESSIONS_MEMBERS: gh_redfish_serve_sessions(c); break;
    case GH_RF_SESSION:          gh_redfish_serve_session(c); break;
    case GH_RF_ACCOUNT_SERVICE:  gh_redfish_serve_account_service(c); break;
    case GH_RF_ACCOUNTS:         gh_redfish_serve_accounts(c); break;
    case GH_RF_ACCOUNT:          gh_redfish_serve_account(c); break;
    case GH_RF_ROLES:            gh_redfish_serve_roles(c); break;
    case GH_RF_ROLE:             gh_redfish_serve_role(c); break;
    case GH_RF_EVENT_SERVICE:    gh_redfish_serve_event_service(c); break;
    case GH_RF_SUBSCRIPTIONS:    gh_redfish_serve_subscriptions(c); break;
    case GH_RF_SUBSCRIPTION:     gh_redfish_serve_subscription(c); break;
    case GH_RF_SSE:              gh_redfish_serve_sse(c); break;
    case GH_RF_ROOT:
        if (!gh_redfish_serve_upstream_root(c))
            gh_redfish_serve_tree(c, "json", GH_REDFISH_JSON_TYPE);
        break;
    /* GH_RF_VERSIONS, GH_RF_ODATA, and the root without an upstream's:
     * rendered into the tree. */
    default:                     gh_redfish_serve_tree(c, "json", GH_REDFISH_JSON_TYPE); break;
    }
}

/* A GET's reply as the query asks, and Allow on a successful one. only
 * serves the member of a one-member collection in the collection's place,
 * through its own handler and the checks it makes. */
static void gh_redfish_after(gh_redfish_ctx *c, const gh_redfish_query *q)
{
    gh_redfish_route member;
    char             path[GH_REDFISH_PATH_MAX + 1];

    if (c->resp->status != 200)
        goto done;
    if (q->only) {
        switch (gh_redfish_only_member(c->resp, path, sizeof(path))) {
        case GH_RF_ONLY_MEMBER:
            gh_redfish_route_parse((gh_str){ path, strlen(path) }, &member);
            gh_response_free(c->resp);
            gh_response_init(c->resp);
            c->route = &member;
            if (member.valid && (gh_redfish_allowed(member.kind) & GH_METHOD_BIT(c->req->method)))
                gh_redfish_dispatch(c);
            else
                gh_redfish_fail_not_found(c->resp, member.path);
            break;
        case GH_RF_ONLY_NOT_COLLECTION:
            gh_response_free(c->resp);
            gh_response_init(c->resp);
            gh_redfish_fail0(c->resp, 400, GH_RF_MSG_QUERY_NOT_SUPPORTED_ON_RESOURCE);
            break;
        default:
            break;
        }
    }
    if (q->excerpt && c->resp->status == 200)
        gh_redfish_excerpt(c->resp);
done:
    if ((c->resp->status >= 200 && c->resp->status < 300) || c->resp->status == 304)
        gh_redfish_allow_add(c->resp, gh_redfish_allowed(c->route->kind));
}

static void gh_redfish_serve(gh_service *svc, const gh_tree *tree, const gh_request *req,
                             const gh_plan *plan, const gh_principal *who, gh_response *resp)
{
    const gh_redfish_route *route = gh_redfish_route_of(plan);
    gh_redfish_ctx          c = { svc, tree, req, NULL, route, resp };
    unsigned                allowed = gh_redfish_allowed(route->kind);
    gh_redfish_query        q;
    gh_redfish_query_result qrc = gh_redfish_query_parse(req->query, &q);
    char                    allow[64];

    /* An open route serves everyone alike, whatever credential came along. */
    if (gh_redfish_is_open(route->kind, req->method))
        who = NULL;
    c.who = who;
    if (!gh_redfish_odata_ok(req)) {
        gh_redfish_fail1(resp, 412, GH_RF_MSG_HEADER_INVALID, "OData-Version");
    } else if ((allowed & GH_METHOD_BIT(req->method)) == 0) {
        gh_allow_text(allowed, allow, sizeof(allow));
        gh_redfish_fail_method(resp, allow);
    } else if (who == NULL && !gh_redfish_is_open(route->kind, req->method)) {
        gh_redfish_refusal(req, GH_REFUSE_NO_CREDENTIALS, resp);
    } else if (who != NULL && !gh_redfish_may(&c, GH_OP_USE, false)) {
        gh_redfish_fail_privilege(resp);
    } else if (who != NULL && who->password_change_required && !gh_redfish_pcr_allows(&c)) {
        gh_redfish_fail_password_change(resp, who->account_id);
    } else if (qrc != GH_RF_QUERY_OK) {
        gh_redfish_query_fail(resp, qrc, &q);
    } else if (!route->valid) {
        gh_redfish_fail_not_found(resp, route->path_len > 0 ? route->path : "");
    } else {
        gh_redfish_dispatch(&c);
        if (req->method == GH_METHOD_GET || req->method == GH_METHOD_HEAD)
            gh_redfish_after(&c, &q);
    }
    gh_redfish_finish(resp);
}

/* ---- gateway mode: a request passed on to the upstream ---- */

/* The gates of serve that apply to a request passed on, then DMTF's
 * Privilege Registry for the resource the path names (the method's default
 * where it names none), under the configuration's [authorize] rules. */
static bool gh_redfish_forward(gh_service *svc, const gh_request *req, const gh_plan *plan,
                               const gh_principal *who, gh_response *resp)
{
    const gh_redfish_route *route = gh_redfish_route_of(plan);
    gh_policy_subject       subject = gh_policy_subject_of(who);
    gh_redfish_needs        need;
    bool                    pass = false;

    (void)svc;
    if (!gh_redfish_path_plain(route)) {
        gh_redfish_fail_status(resp, 400, route->path, NULL);
    } else if (gh_redfish_is_open(route->kind, req->method) &&
               (req->method == GH_METHOD_GET || req->method == GH_METHOD_HEAD)) {
        pass = true;   /* a document DSP0266 opens to all; not the login, which is local */
    } else if (who == NULL) {
        gh_redfish_refusal(req, GH_REFUSE_NO_CREDENTIALS, resp);
    } else if (!gh_policy_allows(&subject, (gh_policy_act){ .op = GH_OP_USE }, NULL)) {
        gh_redfish_fail_privilege(resp);
    } else if (who->password_change_required) {
        /* Nothing passed on is the own account: that is answered here. */
        gh_redfish_fail_password_change(resp, who->account_id);
    } else {
        need = gh_redfish_registry_needs(route->path, route->path_len, req->method);
        pass = gh_gateway_allows(req->config, req, &subject, need.sets, need.nsets, NULL);
        if (!pass)
            gh_redfish_fail_privilege(resp);
    }
    if (!pass)
        gh_redfish_finish(resp);
    return pass;
}

/* What a gateway strips from every request it passes on. Redfish sets no
 * cookie of its own. */
static const char *const gh_redfish_credential_headers[] = { "Authorization", "X-Auth-Token",
                                                              NULL };

const gh_dialect gh_redfish_dialect = {
    .name = GH_REDFISH_NAME,
    .label = "Redfish",
    .prefix = "/redfish",
    .classify = gh_redfish_classify,
    .refuse = gh_redfish_refuse,
    .fail = gh_redfish_fail_hook,
    .serve = gh_redfish_serve,
    .render = gh_redfish_render,
    .stream_event = gh_redfish_stream_event,
    .forward = gh_redfish_forward,
    .credential = gh_redfish_credential,
    .credential_headers = gh_redfish_credential_headers,
    .credential_cookies = NULL,
};
