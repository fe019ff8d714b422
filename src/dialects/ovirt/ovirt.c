/*
 * ovirt.c: the oVirt engine dialect as the rest of gatehouse sees it: the
 * gh_ovirt_dialect table, the classifier that runs on the event loop, the
 * refusal, the body of an error nginx decided, and serve(), which hands each
 * route (ovirt_route.c) to its file. The routes, all under /ovirt-engine and
 * matched exactly (the engine's servlets are case-sensitive):
 *
 *   /services/pki-resource  open, GET/HEAD, over plain HTTP too: the CA and
 *                           the server certificate: ovirt_pki.c
 *   /sso/oauth/token        open (the password is the credential), GET/POST,
 *                           in the hash pool: ovirt_sso.c
 *   /services/sso-logout    open (the token is the credential), GET/POST
 *   /api, /api/vN/...       Bearer, Basic user@profile or the persistent-auth
 *                           cookie: ovirt_api.c
 *
 * Everything else under /ovirt-engine needs credentials too, then is 404.
 *
 * Gateway mode (docs/gateway.md): the CA, the SSO token and sso-logout stay
 * gatehouse's (plan.local); the API, its root included, and everything else
 * under the prefix are the engine's behind: forward (ovirt_api.c) puts them
 * through the API's gates and the [authorize] rules or the method's
 * default, and opens or ends persistent-auth sessions as serve does.
 * Without valid credentials the engine answers 401 with the reason phrase
 * "Authorization Required" and realm "RESTAPI"; errors nginx decides (limits,
 * malformed requests) are short plain text.
 */
#include "ovirt_internal.h"

#include <stddef.h>

/* ---- classify ---- */

static void gh_ovirt_classify(const gh_request *req, gh_plan *plan)
{
    const gh_ovirt_route *route = gh_ovirt_route_in(plan);
    gh_ovirt_auth         auth;

    gh_plan_init(plan);
    gh_ovirt_route_parse(req->path, gh_ovirt_route_in(plan));
    switch (route->kind) {
    case GH_OV_PKI:
        plan->open = true;
        plan->local = true;
        plan->work = gh_ovirt_read_method(req->method) ? GH_WORK_STORE : GH_WORK_INLINE;
        break;
    case GH_OV_TOKEN:
    case GH_OV_LOGOUT:
        plan->open = true;
        plan->local = true;
        if (gh_ovirt_sso_method(req->method)) {
            plan->read_body = req->method == GH_METHOD_POST;
            plan->work = route->kind == GH_OV_TOKEN ? GH_WORK_HASH : GH_WORK_STORE;
        }
        break;
    case GH_OV_API:
        gh_ovirt_api_credential(req, &auth, &plan->cred);
        /* The root's summary counts accounts; sessions open and end in the store. */
        plan->work = auth.creates || auth.ends || (route->root && req->method == GH_METHOD_GET)
                     ? GH_WORK_STORE : GH_WORK_INLINE;
        break;
    default:
        gh_ovirt_api_credential(req, &auth, &plan->cred);
        break;
    }
}

/* ---- refusal and errors ---- */

static void gh_ovirt_refuse(const gh_request *req, gh_refusal why, gh_response *resp)
{
    gh_ovirt_auth auth;
    gh_credential cred;

    switch (why) {
    case GH_REFUSE_UNAVAILABLE:
        gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
        break;
    case GH_REFUSE_MALFORMED:
        gh_ovirt_text(resp, 400, NULL, "Malformed Authorization header\n");
        break;
    case GH_REFUSE_PLAIN_HTTP:
        gh_ovirt_text(resp, 403, NULL, "Credentials are accepted over HTTPS only\n");
        break;
    case GH_REFUSE_THROTTLED:
        gh_ovirt_text(resp, 429, NULL, "Too many failed logins from this address\n");
        gh_response_retry_after(resp, req->retry_after);
        break;
    default:
        gh_ovirt_unauthorized(resp);
        /* A cookie of a session that is gone: make the client's cookie jar
         * forget it, so its next try with credentials is not refused again. */
        gh_ovirt_api_credential(req, &auth, &cred);
        gh_credential_wipe(&cred);
        if (auth.source == GH_OV_BY_COOKIE)
            gh_response_header_add(resp, "Set-Cookie", GH_OVIRT_COOKIE "=; Path=" GH_OVIRT_API
                                   "; Max-Age=0; Secure; HttpOnly");
        break;
    }
}

/* An error nginx or the adapter decided, in the engine's plain text. */
static void gh_ovirt_fail(const gh_request *req, int status, gh_response *resp)
{
    static const struct {
        int         status;
        const char *text;
    } texts[] = {
        { 400, "Bad request\n" },
        { 404, "Not found\n" },
        { 405, "Method not allowed\n" },
        { 408, "Request timeout\n" },
        { 413, "Request body too large\n" },
        { 414, "Request URI too long\n" },
        { 429, "Too many requests\n" },
        { 431, "Request header fields too large\n" },
        { 500, "Internal server error\n" },
        { 502, "Bad gateway\n" },
        { 503, "Service unavailable\n" },
        { 504, "Gateway timeout\n" },
    };
    const char    *text = NULL;
    gh_ovirt_route route;

    if (status < 400 || status > 599)
        status = 500;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]) && text == NULL; i++) {
        if (texts[i].status == status)
            text = texts[i].text;
    }
    if (text == NULL)
        text = status < 500 ? "Bad request\n" : "Internal server error\n";
    /* The path may be cut short or be nobody's: then it is no route's, which
     * only the Allow of a 405 looks at (RFC 9110: a 405 lists the methods). */
    gh_ovirt_route_parse(req->path, &route);
    if (status == 405)
        gh_response_header_add(resp, "Allow", "%s", gh_ovirt_allow(route.kind));
    gh_ovirt_text(resp, status, NULL, text);
}

/* ---- serving ---- */

static void gh_ovirt_serve(gh_service *svc, const gh_tree *tree, const gh_request *req,
                           const gh_plan *plan, const gh_principal *who, gh_response *resp)
{
    const gh_ovirt_route *route = gh_ovirt_route_of(plan);

    switch (route->kind) {
    case GH_OV_PKI:
        gh_ovirt_pki_resource(svc, req, resp);
        break;
    case GH_OV_TOKEN:
    case GH_OV_LOGOUT:
        if (!gh_ovirt_sso_method(req->method)) {
            gh_response_header_add(resp, "Allow", "GET, POST");
            gh_ovirt_text(resp, 405, NULL, "Method not allowed\n");
        } else if (route->kind == GH_OV_TOKEN) {
            gh_ovirt_serve_token(svc, req, resp);
        } else {
            gh_ovirt_serve_logout(svc, req, resp);
        }
        break;
    case GH_OV_API:
        gh_ovirt_serve_api(svc, tree, req, who, route, resp);
        break;
    default:
        if (who == NULL)
            gh_ovirt_unauthorized(resp);
        else
            gh_ovirt_text(resp, 404, NULL, "Not found\n");
        break;
    }
}

/* ---- gateway mode ---- */

static bool gh_ovirt_forward(gh_service *svc, const gh_request *req, const gh_plan *plan,
                             const gh_principal *who, gh_response *resp)
{
    return gh_ovirt_forward_api(svc, req, who, gh_ovirt_route_of(plan), resp);
}

/* What the API reads: Authorization, else the persistent-auth cookie,
 * whatever the path (the cookie is read on the API's path alone). */
static void gh_ovirt_credential(const gh_request *req, gh_credential *cred)
{
    gh_ovirt_auth auth;
    gh_request    api = *req;

    api.path = GH_STR(GH_OVIRT_API);
    gh_ovirt_api_credential(&api, &auth, cred);
}

/* The JSESSIONID header repeats a CSRF-protected session's token. */
static const char *const gh_ovirt_credential_headers[] = { "Authorization", GH_OVIRT_COOKIE,
                                                           NULL };
static const char *const gh_ovirt_credential_cookies[] = { GH_OVIRT_COOKIE, NULL };

const gh_dialect gh_ovirt_dialect = {
    .name = GH_OVIRT_NAME,
    .label = "oVirt",
    .config = &gh_ovirt_config,
    .prefix = GH_OVIRT_ENGINE,
    .classify = gh_ovirt_classify,
    .refuse = gh_ovirt_refuse,
    .fail = gh_ovirt_fail,
    .serve = gh_ovirt_serve,
    .forward = gh_ovirt_forward,
    .credential = gh_ovirt_credential,
    .credential_headers = gh_ovirt_credential_headers,
    .credential_cookies = gh_ovirt_credential_cookies,
};
