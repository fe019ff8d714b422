/*
 * ovirt_api.c: the engine's REST API at /ovirt-engine/api, as far as
 * gatehouse serves it: the <api> root, and the bundled read-only collections
 * under data/ovirt-engine/api (vms, hosts, clusters and their members), in
 * XML or JSON as Accept asks. Every request passes the same gates, in order:
 *
 *   a principal, and no password change pending (the API cannot change a
 *   password, so such an account is refused as the engine refuses an expired
 *   password: 401);  the Login privilege -> 403;  CSRF (below) -> 403;  a persistent-auth session to open
 *   -> 503 when none can be;  the method (GET and HEAD) -> 405;  the version
 *   (the path's /vN, else Version:, must be 3 or 4) -> 400;  Accept -> 406;
 *   then the resource -> 200 or 404 (a fault document).
 *
 * Persistent-auth sessions, as the engine keeps them: a request authenticated
 * by Basic or Bearer with Prefer: persistent-auth opens a session of the
 * oVirt dialect and gets its token in Set-Cookie: JSESSIONID=...; later
 * requests with that cookie and the preference need no other credential. A
 * Session-TTL header (minutes) on the first request sets its idle time. A
 * request with the cookie but without the preference, or with Prefer:
 * new-auth, is served and then ends the cookie's session.
 *
 * CSRF: a session opened with Prefer: csrf-protection (when csrf_protection
 * is on) refuses unsafe methods that do not repeat the cookie's value in a
 * JSESSIONID header. Whether a session is protected is carried in its cookie
 * (GH_OVIRT_CSRF_MARK after the token), not in the store: a browser sends
 * its cookie as it was set, so a forged cross-site request always carries the
 * mark, and only the holder of the token itself could drop it; the store and
 * the session records stay as every dialect shares them.
 */
#include "ovirt_internal.h"
#include "../common/gateway.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool gh_ovirt_safe(gh_method m)
{
    return m == GH_METHOD_GET || m == GH_METHOD_HEAD || m == GH_METHOD_OPTIONS;
}

static bool gh_ovirt_csrf_ok(const gh_request *req, const gh_ovirt_auth *auth)
{
    gh_str h;

    if (auth->source != GH_OV_BY_COOKIE || !auth->cookie_csrf || gh_ovirt_safe(req->method))
        return true;
    h = gh_request_header(req, GH_OVIRT_COOKIE);
    return h.data != NULL && h.len == auth->cookie.len &&
           gh_token_equal(h.data, auth->cookie.data, h.len);
}

/* ---- the root ---- */

/* An account's UUID: fixed prefix ("gate" in hex), the id in the last group. */
static void gh_ovirt_user_uuid(int64_t account_id, char out[40])
{
    snprintf(out, 40, "67617465-0000-4000-8000-%012llx",
             (unsigned long long)account_id & 0xffffffffffffULL);
}

/* The installation's UUID: a keyed hash of a fixed text under the server
 * secret, so it stays the same across restarts and tells nothing of the key. */
static void gh_ovirt_instance_uuid(const gh_service *svc, char out[40])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t mac[GH_DIGEST_LEN];
    size_t  o = 0;

    gh_token_credential_key(svc->secret, "ovirt", 5, "instance_id", 11, mac);
    mac[6] = (uint8_t)((mac[6] & 0x0f) | 0x40);   /* version 4 */
    mac[8] = (uint8_t)((mac[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[mac[i] >> 4];
        out[o++] = hex[mac[i] & 0x0f];
    }
    out[o] = '\0';
}

/* Members of a bundled collection, and how many are "up". */
static gh_ovirt_count gh_ovirt_tree_count(const gh_tree *tree, const char *collection,
                                          const char *member)
{
    gh_ovirt_count       c = { 0, 0 };
    char                 path[64];
    const gh_tree_entry *e;
    const json_t        *list;

    snprintf(path, sizeof(path), GH_OVIRT_API "/%s", collection);
    e = gh_tree_find(tree, (gh_str){ path, strlen(path) }, "json");
    if (e == NULL)
        return c;
    /* Parsed once at load, shared: only read. */
    list = json_object_get(e->json, member);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *status = json_string_value(json_object_get(json_array_get(list, i),
                                                               "status"));

        c.total++;
        if (status != NULL && strcmp(status, "up") == 0)
            c.active++;
    }
    return c;
}

typedef struct {
    gh_ovirt_count c;
    int64_t        now;
} gh_ovirt_account_walk;

static int gh_ovirt_count_account(const gh_account *acct, void *arg)
{
    gh_ovirt_account_walk *w = arg;

    w->c.total++;
    if (acct->enabled && !gh_account_locked(acct, w->now))
        w->c.active++;
    return 0;
}

static int64_t gh_ovirt_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return gh_now() * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* May who do op (core/policy)? The API acts on nobody's session or account. */
static bool gh_ovirt_may(const gh_principal *who, gh_policy_op op)
{
    gh_policy_subject s = gh_policy_subject_of(who);

    return gh_policy_allows(&s, (gh_policy_act){ .op = op }, NULL);
}

static void gh_ovirt_api_root(gh_service *svc, const gh_tree *tree, const gh_request *req,
                              const gh_principal *who, gh_ovirt_format format, gh_response *resp)
{
    gh_ovirt_account_walk walk = { { 0, 0 }, gh_now() };
    gh_ovirt_root         root;

    if (req->method == GH_METHOD_HEAD) {
        /* What the document links to, without the document. */
        char   links[256] = "";
        size_t o = 0;

        for (size_t i = 0; gh_ovirt_collections[i] != NULL && o < sizeof(links); i++)
            o += (size_t)snprintf(links + o, sizeof(links) - o, "%s<" GH_OVIRT_API "/%s>; rel=%s",
                                  i > 0 ? ", " : "", gh_ovirt_collections[i],
                                  gh_ovirt_collections[i]);
        gh_response_header_add(resp, "Link", "%s", links);
        resp->status = 200;
        return;
    }
    memset(&root, 0, sizeof(root));
    gh_ovirt_user_uuid(who->account_id, root.user_id);
    gh_ovirt_instance_uuid(svc, root.instance_id);
    root.now_ms = gh_ovirt_now_ms();
    /* The totals are the service's as a whole, as the engine shows them to
     * an administrator and leaves them out of a filtered user's root. */
    root.summary = gh_ovirt_may(who, GH_OP_SERVICE);
    if (root.summary) {
        if (svc->store == NULL ||
            gh_store_account_foreach(svc->store, gh_ovirt_count_account, &walk) != GH_STORE_OK) {
            gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
            return;
        }
        root.users = walk.c;
        root.hosts = gh_ovirt_tree_count(tree, "hosts", "host");
        root.vms = gh_ovirt_tree_count(tree, "vms", "vm");
    }
    gh_ovirt_root_reply(resp, format, &root);
}

/* ---- the bundled tree ---- */

static void gh_ovirt_api_tree(const gh_tree *tree, const gh_ovirt_route *route,
                              gh_ovirt_format format, gh_response *resp)
{
    char                 path[GH_TREE_PATH_MAX + 1];
    size_t               n = sizeof(GH_OVIRT_API) - 1;
    const gh_tree_entry *e = NULL;

    if (n + route->rest.len < sizeof(path)) {
        memcpy(path, GH_OVIRT_API, n);
        memcpy(path + n, route->rest.data, route->rest.len);
        e = gh_tree_find(tree, (gh_str){ path, n + route->rest.len },
                         format == GH_OV_FORMAT_JSON ? "json" : "xml");
    }
    if (e == NULL) {
        gh_ovirt_fault(resp, 404, format, "Not Found",
                       "No resource of the bundled tree has this path.");
        return;
    }
    resp->status = 200;
    /* The tree outlives the response: its bytes are lent, not copied. */
    gh_response_ref_body(resp, e->body, e->len,
                         format == GH_OV_FORMAT_JSON ? GH_OVIRT_API_JSON : GH_OVIRT_API_XML);
}

static void gh_ovirt_api_resource(gh_service *svc, const gh_tree *tree, const gh_request *req,
                                  const gh_principal *who, const gh_ovirt_route *route,
                                  gh_response *resp)
{
    gh_ovirt_format format = gh_ovirt_format_for(gh_request_header(req, "Accept"));

    if (req->method != GH_METHOD_GET && req->method != GH_METHOD_HEAD) {
        gh_response_header_add(resp, "Allow", "GET, HEAD");
        gh_ovirt_fault(resp, 405, format == GH_OV_FORMAT_JSON ? format : GH_OV_FORMAT_XML,
                       "Method Not Allowed", "The bundled API is read-only.");
    } else if (!gh_ovirt_version_ok(route->path_version, gh_request_header(req, "Version"))) {
        gh_ovirt_text(resp, 400, NULL, "Unsupported API version: the supported versions are "
                      "3 and 4\n");
    } else if (format == GH_OV_FORMAT_NONE) {
        gh_ovirt_text(resp, 406, NULL, "Not acceptable: application/xml or application/json\n");
    } else if (route->root) {
        gh_ovirt_api_root(svc, tree, req, who, format, resp);
    } else {
        gh_ovirt_api_tree(tree, route, format, resp);
    }
}

/* ---- persistent-auth sessions ---- */

/* Open a session for who; its cookie in Set-Cookie and its id in id. False
 * with a 503 made when none can be opened. */
static bool gh_ovirt_api_open_session(gh_service *svc, const gh_request *req,
                                      const gh_principal *who, const gh_ovirt_auth *auth,
                                      char id[GH_SESSION_ID_LEN + 1], gh_response *resp)
{
    const gh_config  *cfg = svc->config;
    char              token[GH_TOKEN_TEXT_LEN + 1] = "";
    gh_session_record rec;
    int64_t           minutes, want = 0;
    bool              csrf = (auth->prefer & GH_OVIRT_PREFER_CSRF) != 0 &&
                             gh_ovirt_settings_of(cfg)->csrf_protection;

    /* Minutes to seconds cannot overflow: at most 9 digits of them. */
    if (gh_ovirt_session_ttl(gh_request_header(req, "Session-TTL"), &minutes))
        want = minutes * 60;
    switch (gh_service_session_create(svc, who, GH_OVIRT_NAME, gh_ovirt_idle(cfg, want),
                                      req->client_addr, token, &rec)) {
    case GH_SESSION_CREATED:
        gh_response_header_add(resp, "Set-Cookie",
                               GH_OVIRT_COOKIE "=%s%s; Path=" GH_OVIRT_API "; Secure; HttpOnly",
                               token, csrf ? GH_OVIRT_CSRF_MARK : "");
        memcpy(id, rec.id, GH_SESSION_ID_LEN + 1);
        gh_wipe(token, sizeof(token));
        return true;
    case GH_SESSION_LIMIT_TOTAL:
    case GH_SESSION_LIMIT_ACCOUNT:
        gh_ovirt_text(resp, 503, NULL, "Too many sessions; try again later\n");
        return false;
    default:
        gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
        return false;
    }
}

/* End the session the request's cookie names: the one that authenticated
 * it, or (new-auth) the one it carried along. */
static gh_store_err gh_ovirt_api_end_session(gh_service *svc, const gh_request *req,
                                             const gh_principal *who, const gh_ovirt_auth *auth)
{
    gh_session_record rec;
    gh_shared_result  found;
    gh_str            token;
    uint8_t           digest[GH_DIGEST_LEN];
    gh_store_err      err;

    if (auth->source == GH_OV_BY_COOKIE) {
        memcpy(rec.id, who->session_id, sizeof(rec.id));
    } else {
        token = gh_ovirt_cookie_token(auth->cookie);
        gh_token_digest(token.data, token.len, digest);
        found = gh_session_find_wait(svc->sessions, digest, gh_now(), NULL, &rec);
        gh_wipe(digest, sizeof(digest));
        if (found == GH_SHARED_UNAVAILABLE)
            return GH_STORE_ERROR;  /* never say it ended when that is not known */
        if ((found != GH_SHARED_OK && found != GH_SHARED_EXPIRED) ||
            strcmp(rec.dialect, GH_OVIRT_NAME) != 0)
            return GH_STORE_OK;     /* nothing of ours to end */
    }
    err = gh_service_session_end(svc, rec.id, GH_AUDIT_LOGOUT, who->user, req->client_addr);
    return err == GH_STORE_NOT_FOUND ? GH_STORE_OK : err;
}

void gh_ovirt_serve_api(gh_service *svc, const gh_tree *tree, const gh_request *req,
                        const gh_principal *who, const gh_ovirt_route *route,
                        gh_response *resp)
{
    gh_ovirt_auth auth;
    gh_credential cred;
    char          opened[GH_SESSION_ID_LEN + 1] = "";
    bool          need_store;

    gh_ovirt_api_credential(req, &auth, &cred);
    gh_credential_wipe(&cred);
    need_store = auth.creates || auth.ends || (route->root && req->method == GH_METHOD_GET);
    if (who == NULL || who->password_change_required) {
        gh_ovirt_unauthorized(resp);
    } else if (!gh_ovirt_may(who, GH_OP_USE)) {
        gh_ovirt_text(resp, 403, NULL, "Insufficient privileges\n");
    } else if (!gh_ovirt_csrf_ok(req, &auth)) {
        gh_ovirt_text(resp, 403, NULL, "CSRF protection: repeat the session id in the "
                      "JSESSIONID header\n");
    } else if (need_store && svc->store == NULL) {
        /* Classified to run without the store by mistake: fail closed. */
        gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
    } else if (!auth.creates || gh_ovirt_api_open_session(svc, req, who, &auth, opened, resp)) {
        gh_ovirt_api_resource(svc, tree, req, who, route, resp);
        if (auth.ends && gh_ovirt_api_end_session(svc, req, who, &auth) != GH_STORE_OK) {
            /* The client must not believe a session ended that did not. */
            if (opened[0] != '\0')
                (void)gh_service_session_end(svc, opened, GH_AUDIT_REVOKED, who->user,
                                             req->client_addr);
            gh_response_free(resp);
            gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
        } else if (auth.ends && !auth.creates) {
            gh_response_header_add(resp, "Set-Cookie", GH_OVIRT_COOKIE "=; Path=" GH_OVIRT_API
                                   "; Max-Age=0; Secure; HttpOnly");
        }
    }
}

/* ---- gateway mode ---- */

/* A request for the upstream: the API's gates (a principal, no password
 * change pending, Login, CSRF), then the privileges its method and path
 * need, then what Prefer asks of sessions, done here since the answer is
 * the upstream's: a new session's cookie goes on that answer; a cookie's
 * session that the request ends is ended before it passes on. */
/* Does a reading of a path name one of gatehouse's own routes? */
static bool gh_ovirt_reads_local(gh_str path, void *arg)
{
    gh_ovirt_route *route = arg;

    gh_ovirt_route_parse(path, route);
    return route->kind == GH_OV_PKI || route->kind == GH_OV_TOKEN ||
           route->kind == GH_OV_LOGOUT;
}

bool gh_ovirt_forward_api(gh_service *svc, const gh_request *req, const gh_principal *who,
                          const gh_ovirt_route *route, gh_response *resp)
{
    gh_ovirt_auth     auth;
    gh_credential     cred;
    gh_policy_subject subject = gh_policy_subject_of(who);
    char              opened[GH_SESSION_ID_LEN + 1] = "";
    bool              api = route->kind == GH_OV_API;
    gh_ovirt_route    local;

    gh_ovirt_api_credential(req, &auth, &cred);
    gh_credential_wipe(&cred);
    if (who == NULL || who->password_change_required) {
        gh_ovirt_unauthorized(resp);
    } else if (!gh_ovirt_may(who, GH_OP_USE)) {
        gh_ovirt_text(resp, 403, NULL, "Insufficient privileges\n");
    } else if (gh_gateway_any_reading(req->path, gh_ovirt_reads_local, &local)) {
        /* SSO or the CA spelled another way, or a path that cannot be told
         * from them: gatehouse's, never the upstream's. */
        gh_ovirt_text(resp, 404, NULL, "Not found\n");
    } else if (!gh_ovirt_csrf_ok(req, &auth)) {
        gh_ovirt_text(resp, 403, NULL, "CSRF protection: repeat the session id in the "
                      "JSESSIONID header\n");
    } else if (!gh_gateway_allows(svc->config, req, &subject, NULL, 0, NULL)) {
        /* What the engine answers an action the user's roles do not permit. */
        gh_ovirt_fault(resp, 403, gh_ovirt_format_for(gh_request_header(req, "Accept")) ==
                       GH_OV_FORMAT_JSON ? GH_OV_FORMAT_JSON : GH_OV_FORMAT_XML,
                       "Operation Failed", "[User is not authorized to perform this action.]");
    } else if (api && (auth.creates || auth.ends) && svc->store == NULL) {
        gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
    } else if (!api || !auth.creates || gh_ovirt_api_open_session(svc, req, who, &auth,
                                                                  opened, resp)) {
        if (!api || !auth.ends)
            return true;
        if (gh_ovirt_api_end_session(svc, req, who, &auth) == GH_STORE_OK) {
            if (!auth.creates)
                gh_response_header_add(resp, "Set-Cookie", GH_OVIRT_COOKIE "=; Path="
                                       GH_OVIRT_API "; Max-Age=0; Secure; HttpOnly");
            return true;
        }
        if (opened[0] != '\0')
            (void)gh_service_session_end(svc, opened, GH_AUDIT_REVOKED, who->user,
                                         req->client_addr);
        gh_response_free(resp);
        gh_ovirt_text(resp, 503, NULL, "Service unavailable\n");
    }
    return false;
}
