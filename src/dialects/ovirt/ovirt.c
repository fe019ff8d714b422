/*
 * ovirt.c: the oVirt engine dialect as the rest of gatehouse sees it: the
 * gh_ovirt_dialect table, the routes, the classifier that runs on the event
 * loop, the refusal, the body of an error nginx decided, and serve(), which
 * hands each route to its file. The routes, all under /ovirt-engine and
 * matched exactly (the engine's servlets are case-sensitive):
 *
 *   /services/pki-resource  open, GET/HEAD, over plain HTTP too: the CA
 *                           (resource=ca-certificate, format X509-PEM-CA, the
 *                           default) and the server certificate
 *                           (engine-certificate, X509-PEM), read from the data
 *                           directory's pki/ in a thread-pool task
 *   /sso/oauth/token        open (the password is the credential), GET/POST,
 *                           in the hash pool: ovirt_sso.c
 *   /services/sso-logout    open (the token is the credential), GET/POST
 *   /api, /api/vN/...       Bearer, Basic user@profile or the persistent-auth
 *                           cookie: ovirt_api.c
 *
 * Everything else under /ovirt-engine needs credentials too, then is 404.
 * Without valid credentials the engine answers 401 with the reason phrase
 * "Authorization Required" and realm "RESTAPI"; errors nginx decides (limits,
 * malformed requests) are short plain text.
 */
#include "ovirt_internal.h"

#include "../common/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GH_OVIRT_CERT_MAX (64 * 1024)

/* ---- routes ---- */

/* path starts with prefix and ends there or at a '/'. */
static bool gh_ovirt_under(gh_str path, const char *prefix, gh_str *rest)
{
    size_t n = strlen(prefix);

    if (path.data == NULL || path.len < n || memcmp(path.data, prefix, n) != 0 ||
        (path.len > n && path.data[n] != '/'))
        return false;
    *rest = (gh_str){ path.data + n, path.len - n };
    return true;
}

/* A /vN segment at the start of rest: N (1 to 3 digits), -1 if unreadable,
 * 0 when rest does not start with "/v" and a digit. */
static int gh_ovirt_version_segment(gh_str *rest)
{
    size_t i = 2;
    int    v = 0;

    if (rest->len < 3 || rest->data[1] != 'v' || rest->data[2] < '0' || rest->data[2] > '9')
        return 0;
    while (i < rest->len && rest->data[i] != '/') {
        if (rest->data[i] < '0' || rest->data[i] > '9' || i > 4)
            return 0;      /* "/vms", "/v4x": a resource, not a version */
        v = v * 10 + (rest->data[i] - '0');
        i++;
    }
    rest->data += i;
    rest->len -= i;
    return v > 0 ? v : -1;
}

void gh_ovirt_route_parse(gh_str path, gh_ovirt_route *route)
{
    gh_str rest;

    memset(route, 0, sizeof(*route));
    route->rest = (gh_str){ "", 0 };
    if (gh_str_eq(path, GH_OVIRT_PKI)) {
        route->kind = GH_OV_PKI;
    } else if (gh_str_eq(path, GH_OVIRT_TOKEN)) {
        route->kind = GH_OV_TOKEN;
    } else if (gh_str_eq(path, GH_OVIRT_LOGOUT)) {
        route->kind = GH_OV_LOGOUT;
    } else if (gh_ovirt_under(path, GH_OVIRT_API, &rest)) {
        route->kind = GH_OV_API;
        route->path_version = gh_ovirt_version_segment(&rest);
        if (rest.len > 0 && rest.data[rest.len - 1] == '/')
            rest.len--;
        route->rest = rest;
        route->root = rest.len == 0;
    }
}

static bool gh_ovirt_read_method(gh_method m)
{
    return m == GH_METHOD_GET || m == GH_METHOD_HEAD;
}

static bool gh_ovirt_sso_method(gh_method m)
{
    return m == GH_METHOD_GET || m == GH_METHOD_POST;
}

/* The methods a route answers, for Allow. */
static const char *gh_ovirt_allow(gh_ovirt_route_kind kind)
{
    return kind == GH_OV_TOKEN || kind == GH_OV_LOGOUT ? "GET, POST" : "GET, HEAD";
}

/* ---- classify ---- */

static void gh_ovirt_classify(const gh_request *req, gh_plan *plan)
{
    const gh_ovirt_route *route = &plan->route.ovirt;
    gh_ovirt_auth         auth;

    gh_plan_init(plan);
    gh_ovirt_route_parse(req->path, &plan->route.ovirt);
    switch (route->kind) {
    case GH_OV_PKI:
        plan->open = true;
        plan->work = gh_ovirt_read_method(req->method) ? GH_WORK_STORE : GH_WORK_INLINE;
        break;
    case GH_OV_TOKEN:
    case GH_OV_LOGOUT:
        plan->open = true;
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

/* ---- the CA download ---- */

/* Read a PEM file of the data directory's pki/ into the response. */
static void gh_ovirt_send_pem(const gh_service *svc, const char *file, const char *type,
                              gh_response *resp)
{
    char   path[GH_PATH_MAX + 64], *buf = NULL;
    size_t len;
    FILE  *f;

    snprintf(path, sizeof(path), "%s/pki/%s", svc->data_dir ? svc->data_dir : ".", file);
    f = fopen(path, "rbe");
    if (f == NULL)
        goto fail;
    buf = malloc(GH_OVIRT_CERT_MAX);
    if (buf == NULL)
        goto fail;
    len = fread(buf, 1, GH_OVIRT_CERT_MAX, f);
    if (ferror(f) || len == 0 || len == GH_OVIRT_CERT_MAX)
        goto fail;
    fclose(f);
    buf[len] = '\0';     /* len < GH_OVIRT_CERT_MAX: a body readable as a string, as copies are */
    resp->status = 200;
    gh_response_set_body(resp, buf, len, type);
    return;
fail:
    if (f != NULL)
        fclose(f);
    free(buf);
    gh_ovirt_text(resp, 500, NULL, "Certificate unavailable\n");
}

static void gh_ovirt_pki_resource(const gh_service *svc, const gh_request *req, gh_response *resp)
{
    char resource[64], format[64];
    int  r1 = gh_form_get(req->query, "resource", resource, sizeof(resource));
    int  r2 = gh_form_get(req->query, "format", format, sizeof(format));

    if (!gh_ovirt_read_method(req->method)) {
        gh_response_header_add(resp, "Allow", "GET, HEAD");
        gh_ovirt_text(resp, 405, NULL, "Method not allowed\n");
    } else if (r1 != GH_FORM_FOUND || (r2 != GH_FORM_FOUND && r2 != GH_FORM_ABSENT)) {
        gh_ovirt_text(resp, 400, NULL, "Missing or malformed resource parameter\n");
    } else if (strcmp(resource, "ca-certificate") == 0 &&
               (r2 == GH_FORM_ABSENT || strcmp(format, "X509-PEM-CA") == 0)) {
        gh_ovirt_send_pem(svc, "ca.pem", "application/x-x509-ca-cert", resp);
    } else if (strcmp(resource, "engine-certificate") == 0 &&
               (r2 == GH_FORM_ABSENT || strcmp(format, "X509-PEM") == 0)) {
        gh_ovirt_send_pem(svc, "server.pem", "application/x-x509-cert", resp);
    } else {
        gh_ovirt_text(resp, 400, NULL, "Unknown resource or format\n");
    }
}

/* ---- serving ---- */

static void gh_ovirt_serve(gh_service *svc, const gh_tree *tree, const gh_request *req,
                           const gh_plan *plan, const gh_principal *who, gh_response *resp)
{
    const gh_ovirt_route *route = &plan->route.ovirt;

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

const gh_dialect gh_ovirt_dialect = {
    .name = GH_OVIRT_NAME,
    .label = "oVirt",
    .config = &gh_ovirt_config,
    .prefix = GH_OVIRT_ENGINE,
    .classify = gh_ovirt_classify,
    .refuse = gh_ovirt_refuse,
    .fail = gh_ovirt_fail,
    .serve = gh_ovirt_serve,
};
