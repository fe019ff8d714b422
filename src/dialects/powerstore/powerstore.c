/*
 * powerstore.c: the PowerStore dialect (/api/rest) as the rest of gatehouse
 * sees it: the gh_powerstore_dialect table, the classifier that runs on the
 * event loop (on the routes of powerstore_route.c), the refusal of an
 * unauthenticated request, the body of an error nginx or the adapter
 * decided, and serve(), which puts every request through the same gates in
 * order before its handler runs:
 *
 *   no Login privilege -> 403;  a cookie session's POST, PUT, PATCH or
 *   DELETE without its DELL-EMC-TOKEN -> 403;  password change pending -> 403
 *   but for login_session, logout and the PATCH of the own local_user;
 *   Accept without application/json -> 406;  method -> 405 + Allow;  a body
 *   typed other than application/json -> 415;  a bad query -> 400 (416 for
 *   limit <= 0);  an unknown member -> 404;  then the handler
 *   (powerstore_session.c, powerstore_users.c, powerstore_ldap.c, or the
 *   bundled resources of powerstore_tree.c).
 *
 * The checks of the request headers, and the lending of an answer rendered
 * at load to a plain read, stay here: serve inlines them, where in a file of
 * their own each would cost a call on every request (bench/instructions).
 *
 * Gateway mode (docs/gateway.md): login_session, logout, local_user, role,
 * ldap_domain and ldap_account stay gatehouse's (plan.local); every other request goes through forward,
 * the same first gates as serve (Login, CSRF, password change pending: none
 * of these routes is exempt), then the [authorize] rule or the method's
 * default, and passes on to the upstream.
 *
 * Nothing under /api/rest is open. Credentials are Basic on the request
 * itself, which PowerStore clients resend at will and which wins when both are
 * present, or the auth_cookie of a session (a session token, looked up by the
 * adapter like any other). A cookie is sent by a browser on its own, so a
 * request it authenticates may change something only with the CSRF token that
 * a GET of the same session showed; Basic needs no such proof.
 */
#include "powerstore_internal.h"
#include "../common/gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- classify ---- */
/* Where serving runs: memory only, the store, or a password hash. */
static gh_work gh_ps_work(const gh_ps_route *r, gh_method m)
{
    if (!r->valid || (gh_ps_allowed(r->kind) & GH_METHOD_BIT(m)) == 0)
        return GH_WORK_INLINE;   /* 404 or 405, from memory */
    switch (r->kind) {
    case GH_PS_LOGIN_SESSION:
    case GH_PS_LOGOUT:  return GH_WORK_STORE;
    case GH_PS_USERS:   return m == GH_METHOD_POST ? GH_WORK_HASH : GH_WORK_STORE;
    /* PATCH may carry a password (and a current_password to verify). */
    case GH_PS_USER:    return m == GH_METHOD_PATCH ? GH_WORK_HASH : GH_WORK_STORE;
    case GH_PS_LDAP_DOMAINS:
    case GH_PS_LDAP_DOMAIN:
    case GH_PS_LDAP_ACCOUNTS:
    case GH_PS_LDAP_ACCOUNT: return GH_WORK_STORE;
    /* A bind to the directory, bounded by its timeouts: where binds run. */
    case GH_PS_LDAP_VERIFY:  return GH_WORK_HASH;
    default:            return GH_WORK_INLINE;
    }
}

/* DOMAIN\user, as Windows spells a directory account, is user@DOMAIN to
 * the core (a local name never holds a backslash); the same length, so it
 * is rewritten in place. Anything else stays as given. */
static void gh_ps_domain_user(gh_credential *cred)
{
    char   *bs = strchr(cred->user, '\\');
    size_t  dlen, ulen;
    char    text[GH_USER_NAME_MAX + 1];

    if (bs == NULL || strchr(bs + 1, '\\') != NULL || strchr(cred->user, '@') != NULL)
        return;
    dlen = (size_t)(bs - cred->user);
    ulen = strlen(bs + 1);
    if (dlen == 0 || ulen == 0)
        return;
    snprintf(text, sizeof(text), "%s@%.*s", bs + 1, (int)dlen, cred->user);
    memcpy(cred->user, text, dlen + ulen + 2);
}

/* What a request carries: Basic, which wins, else the session cookie. */
static void gh_ps_credential(const gh_request *req, gh_credential *cred)
{
    gh_str cookie;

    gh_credential_authorization(gh_request_header(req, "Authorization"), false, cred);
    if (cred->kind == GH_CRED_BASIC)
        gh_ps_domain_user(cred);
    if (cred->kind == GH_CRED_BASIC || cred->kind == GH_CRED_MALFORMED)
        return;
    /* No Basic (PowerStore has no Bearer): the session cookie, if any. */
    gh_credential_wipe(cred);
    cookie = gh_credential_cookie(gh_request_header(req, "Cookie"), GH_PS_COOKIE);
    if (cookie.data != NULL && cookie.len > 0)
        gh_credential_token(cookie, cred);
}

static void gh_ps_classify(const gh_request *req, gh_plan *plan)
{
    const gh_ps_route *route = gh_ps_route_in(plan);

    gh_plan_init(plan);
    gh_ps_route_parse(req->path, gh_ps_route_in(plan));
    plan->work = gh_ps_work(route, req->method);
    plan->read_body = plan->work != GH_WORK_INLINE &&
                      (route->kind == GH_PS_USERS || route->kind == GH_PS_USER ||
                       route->kind == GH_PS_LDAP_DOMAINS || route->kind == GH_PS_LDAP_DOMAIN ||
                       route->kind == GH_PS_LDAP_ACCOUNTS || route->kind == GH_PS_LDAP_ACCOUNT) &&
                      (req->method == GH_METHOD_POST || req->method == GH_METHOD_PATCH);
    /* Gateway mode: sessions, accounts and the roles they name are
     * gatehouse's own; the rest of the API is the upstream's. */
    plan->local = route->kind != GH_PS_TREE;
    gh_ps_credential(req, &plan->cred);
}

/* ---- refusals and errors from outside ---- */

static void gh_ps_finish(gh_response *resp)
{
    gh_response_header_add(resp, "Cache-Control", "no-store");
}

static void gh_ps_refuse(const gh_request *req, gh_refusal why, gh_response *resp)
{
    switch (why) {
    case GH_REFUSE_MALFORMED:
        gh_ps_fail(resp, GH_PS_E_MALFORMED_AUTH,
                   gh_request_header(req, "Authorization").data != NULL ? "Authorization"
                                                                         : "Cookie");
        break;
    case GH_REFUSE_UNAVAILABLE:
        gh_ps_fail(resp, GH_PS_E_UNAVAILABLE, NULL);
        break;
    case GH_REFUSE_PLAIN_HTTP:
        gh_ps_fail(resp, GH_PS_E_PLAIN_HTTP, NULL);
        break;
    case GH_REFUSE_THROTTLED:
        gh_ps_fail(resp, GH_PS_E_TOO_MANY, NULL);
        gh_response_retry_after(resp, req->retry_after);
        break;
    case GH_REFUSE_BAD_CREDENTIALS:
    case GH_REFUSE_LOCKED:      /* said no more clearly than a wrong password */
        gh_ps_fail(resp, GH_PS_E_BAD_CREDENTIALS, NULL);
        break;
    default:
        gh_ps_fail(resp, GH_PS_E_AUTH_REQUIRED, NULL);
        /* A cookie of a session that is gone: let the client forget it. */
        if (gh_credential_cookie(gh_request_header(req, "Cookie"), GH_PS_COOKIE).data != NULL)
            gh_ps_cookie_clear(resp);
        break;
    }
    gh_ps_finish(resp);
}

/* An error nginx or the adapter decided; req may hold a raw, cut or
 * undecodable path, which then names no route. */
static void gh_ps_fail_hook(const gh_request *req, int status, gh_response *resp)
{
    gh_ps_route route;
    char        allow[64] = "";
    char        method[16] = "";

    gh_ps_route_parse(req->path, &route);
    if (status == 405)
        gh_allow_text(gh_ps_allowed(route.kind), allow, sizeof(allow));
    if (req->method_name.data != NULL)
        gh_str_copy(method, sizeof(method), req->method_name);
    gh_ps_fail_status(resp, status, route.path, method, allow);
    gh_ps_finish(resp);
}

/* ---- request headers ---- */

/* The media type of a header item, parameters cut off. */
static gh_str gh_ps_media_type(gh_str item, gh_str *params)
{
    const char *semi = memchr(item.data, ';', item.len);
    gh_str      type = item;

    *params = (gh_str){ NULL, 0 };
    if (semi != NULL) {
        type.len = (size_t)(semi - item.data);
        *params = (gh_str){ semi + 1, item.len - type.len - 1 };
    }
    return gh_str_trim(type);
}

/* Does one of the header's media ranges take application/json (q=0 refuses)? */
static bool gh_ps_accept_ok(gh_str accept)
{
    size_t i = 0;

    if (accept.data == NULL)
        return true;
    while (i <= accept.len) {
        size_t start = i;
        gh_str params, type, item;

        while (i < accept.len && accept.data[i] != ',')
            i++;
        item = (gh_str){ accept.data + start, i - start };
        i++;
        if (item.len == 0)
            continue;
        type = gh_ps_media_type(item, &params);
        if (!gh_str_eq_nocase(type, "application/json") && !gh_str_eq_nocase(type, "application/*") &&
            !gh_str_eq_nocase(type, "*/*"))
            continue;
        params = gh_str_trim(params);
        if (params.len >= 3 && (params.data[0] == 'q' || params.data[0] == 'Q') &&
            params.data[1] == '=') {
            bool zero = true;

            for (size_t k = 2; k < params.len && params.data[k] != ';'; k++)
                zero = zero && (params.data[k] == '0' || params.data[k] == '.');
            if (zero)
                continue;
        }
        return true;
    }
    return false;
}

/* Does the request carry a body (read or not)? */
static bool gh_ps_has_body(const gh_request *req)
{
    gh_str cl = gh_str_trim(gh_request_header(req, "Content-Length"));

    if (req->body.len > 0 || gh_request_header(req, "Transfer-Encoding").data != NULL)
        return true;
    for (size_t i = 0; cl.data != NULL && i < cl.len; i++) {
        if (cl.data[i] != '0')
            return true;
    }
    return false;
}

/* A body is JSON: said so, or not said at all (gopowerstore sends its JSON
 * bodies without a Content-Type); any other type is refused. */
static bool gh_ps_content_type_ok(const gh_request *req)
{
    gh_str ct = gh_request_header(req, "Content-Type"), params;

    return ct.data == NULL || gh_str_eq_nocase(gh_ps_media_type(ct, &params), "application/json");
}

/* ---- serving ---- */

/* A read that asks for nothing but the resource (no query, no Range) of a
 * bundled file gets the same answer every time: rendered once, when the
 * tree loads, and lent. False when there is none (a member of a collection,
 * a tree too full to hold it): the answer is built as for any read. */
static bool gh_ps_serve_rendered(gh_ps_ctx *c)
{
    const gh_tree_entry *e;

    if (c->route->kind != GH_PS_TREE || c->req->query.len > 0 ||
        gh_request_header(c->req, "Range").data != NULL)
        return false;
    e = gh_tree_find(c->tree, (gh_str){ c->route->path, c->route->path_len }, "reply");
    if (e == NULL)
        return false;
    c->resp->status = 200;
    gh_response_ref_body(c->resp, e->body, e->len, GH_PS_JSON_TYPE);
    return true;
}

static bool gh_ps_own(const gh_ps_route *r, const gh_principal *who)
{
    return r->user_id != 0 ? r->user_id == who->account_id : strcmp(r->user_name, who->user) == 0;
}

/* Password change pending: logging in and out, and the change itself. */
static bool gh_ps_pcr_allows(const gh_ps_route *r, gh_method m, const gh_principal *who)
{
    switch (r->kind) {
    case GH_PS_LOGIN_SESSION: return m == GH_METHOD_GET || m == GH_METHOD_HEAD;
    case GH_PS_LOGOUT:        return m == GH_METHOD_POST;
    case GH_PS_USER:          return m == GH_METHOD_PATCH && r->valid && gh_ps_own(r, who);
    default:                  return false;
    }
}

static void gh_ps_fail_password_change(gh_response *resp, const gh_principal *who)
{
    char id[24];

    snprintf(id, sizeof(id), "%lld", (long long)who->account_id);
    gh_ps_fail(resp, GH_PS_E_PASSWORD_CHANGE, id);
}

static bool gh_ps_unsafe(gh_method m)
{
    return m == GH_METHOD_POST || m == GH_METHOD_PUT || m == GH_METHOD_PATCH ||
           m == GH_METHOD_DELETE;
}

static void gh_ps_dispatch(gh_ps_ctx *c)
{
    switch (c->route->kind) {
    case GH_PS_LOGIN_SESSION: gh_ps_serve_login_session(c); break;
    case GH_PS_LOGOUT:        gh_ps_serve_logout(c); break;
    case GH_PS_ROLES:         gh_ps_serve_roles(c); break;
    case GH_PS_ROLE:          gh_ps_serve_role(c); break;
    case GH_PS_USERS:         gh_ps_serve_users(c); break;
    case GH_PS_USER:          gh_ps_serve_user(c); break;
    case GH_PS_LDAP_DOMAINS:  gh_ps_serve_ldap_domains(c); break;
    case GH_PS_LDAP_DOMAIN:   gh_ps_serve_ldap_domain(c); break;
    case GH_PS_LDAP_VERIFY:   gh_ps_serve_ldap_verify(c); break;
    case GH_PS_LDAP_ACCOUNTS: gh_ps_serve_ldap_accounts(c); break;
    case GH_PS_LDAP_ACCOUNT:  gh_ps_serve_ldap_account(c); break;
    default:                  gh_ps_serve_tree(c); break;
    }
}

/* The method is not allowed here: 405, or 404 for a bundled path that does
 * not exist at all. */
static void gh_ps_refuse_method(gh_ps_ctx *c)
{
    char allow[64];

    if (c->route->kind == GH_PS_TREE &&
        (!c->route->valid || gh_ps_tree_resource(c->tree, c->route) == NULL)) {
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
        return;
    }
    gh_allow_text(gh_ps_allowed(c->route->kind), allow, sizeof(allow));
    gh_ps_fail(c->resp, GH_PS_E_METHOD, gh_method_name(c->req->method) != NULL
                                            ? gh_method_name(c->req->method) : "?");
    gh_response_header_add(c->resp, "Allow", "%s", allow);
}

/* The query of a read, in *owned (malloc'd) unless it is the default;
 * false with the 400, 416 or 500 made. */
static bool gh_ps_read_query(gh_ps_ctx *c, gh_ps_query **owned)
{
    char         param[GH_PS_NAME_MAX + 1];
    gh_ps_query *q;

    if (c->req->query.len == 0) {
        c->query = gh_ps_query_default();
        if (c->query == NULL)
            gh_ps_fail(c->resp, GH_PS_E_INTERNAL, NULL);
        return c->query != NULL;
    }
    q = *owned = malloc(sizeof(*q));
    if (q == NULL) {
        gh_ps_fail(c->resp, GH_PS_E_INTERNAL, NULL);
        return false;
    }
    switch (gh_ps_query_parse(c->req->query, q, param, sizeof(param))) {
    case GH_PS_QUERY_OK:
        c->query = q;
        return true;
    case GH_PS_QUERY_BAD_SELECT:
        gh_ps_fail(c->resp, GH_PS_E_BAD_SELECT, NULL);
        return false;
    case GH_PS_QUERY_BAD_RANGE:
        gh_ps_fail(c->resp, GH_PS_E_RANGE, NULL);
        return false;
    default:
        gh_ps_fail(c->resp, GH_PS_E_BAD_QUERY, param);
        return false;
    }
}

static void gh_ps_serve(gh_service *svc, const gh_tree *tree, const gh_request *req,
                        const gh_plan *plan, const gh_principal *who, gh_response *resp)
{
    const gh_ps_route *route = gh_ps_route_of(plan);
    gh_ps_query       *q = NULL;
    gh_ps_ctx          c = { svc, tree, req, who, route, NULL, resp };
    bool               read = req->method == GH_METHOD_GET || req->method == GH_METHOD_HEAD;
    char               token[GH_PS_CSRF_LEN + 1];
    gh_policy_subject  subject;

    if (who == NULL) {
        gh_ps_refuse(req, GH_REFUSE_NO_CREDENTIALS, resp);
        return;
    }
    subject = gh_policy_subject_of(who);
    if (!gh_policy_allows(&subject, (gh_policy_act){ .op = GH_OP_USE }, NULL))
        gh_ps_fail(resp, GH_PS_E_PRIVILEGE, NULL);
    else if (who->session_id[0] != '\0' && gh_ps_unsafe(req->method) && !gh_ps_csrf_ok(&c))
        gh_ps_fail(resp, GH_PS_E_CSRF, NULL);
    else if (who->password_change_required && !gh_ps_pcr_allows(route, req->method, who))
        gh_ps_fail_password_change(resp, who);
    else if (!gh_ps_accept_ok(gh_request_header(req, "Accept")))
        gh_ps_fail(resp, GH_PS_E_NOT_ACCEPTABLE, NULL);
    else if ((gh_ps_allowed(route->kind) & GH_METHOD_BIT(req->method)) == 0)
        gh_ps_refuse_method(&c);
    else if (gh_ps_has_body(req) && !gh_ps_content_type_ok(req))
        gh_ps_fail(resp, GH_PS_E_MEDIA_TYPE, NULL);
    else if (read && route->valid && gh_ps_serve_rendered(&c))
        ;   /* answered from the tree */
    else if (read && !gh_ps_read_query(&c, &q))
        ;   /* answered */
    else if (!route->valid)
        gh_ps_fail(resp, GH_PS_E_NOT_FOUND, route->path_len > 0 ? route->path : "/");
    else
        gh_ps_dispatch(&c);
    /* Every read of a cookie session shows the token its writes need. */
    if (read && who->session_id[0] != '\0') {
        gh_ps_csrf_token(svc->secret, who->session_id, token);
        gh_response_header_add(resp, GH_PS_CSRF_HEADER, "%s", token);
        gh_wipe(token, sizeof(token));
    }
    gh_ps_finish(resp);
    free(q);
}

/* Does a reading of a path name one of gatehouse's own routes? */
static bool gh_ps_reads_local(gh_str path, void *arg)
{
    gh_ps_route *route = arg;

    gh_ps_route_parse(path, route);
    return route->kind != GH_PS_TREE;
}

/* Gateway mode: the gates of serve that are not about the resource itself,
 * then the privileges the method and path need (gateway.h); a refusal in the
 * dialect's error JSON, 403. A cookie session's read passes on with the
 * CSRF token its writes need, as serve shows it. */
static bool gh_ps_forward(gh_service *svc, const gh_request *req, const gh_plan *plan,
                          const gh_principal *who, gh_response *resp)
{
    gh_ps_ctx         c = { svc, NULL, req, who, gh_ps_route_of(plan), NULL, resp };
    gh_ps_route       local;
    bool              read = req->method == GH_METHOD_GET || req->method == GH_METHOD_HEAD;
    bool              pass = false;
    char              token[GH_PS_CSRF_LEN + 1];
    gh_policy_subject subject;

    if (who == NULL) {
        gh_ps_refuse(req, GH_REFUSE_NO_CREDENTIALS, resp);
        return false;
    }
    subject = gh_policy_subject_of(who);
    if (!gh_policy_allows(&subject, (gh_policy_act){ .op = GH_OP_USE }, NULL))
        gh_ps_fail(resp, GH_PS_E_PRIVILEGE, NULL);
    else if (gh_gateway_any_reading(req->path, gh_ps_reads_local, &local))
        /* Sessions and accounts spelled another way, or a path that cannot
         * be told from them: gatehouse's, never the upstream's. */
        gh_ps_fail(resp, GH_PS_E_NOT_FOUND, c.route->path_len > 0 ? c.route->path : "/");
    else if (who->session_id[0] != '\0' && gh_ps_unsafe(req->method) && !gh_ps_csrf_ok(&c))
        gh_ps_fail(resp, GH_PS_E_CSRF, NULL);
    else if (who->password_change_required)
        gh_ps_fail_password_change(resp, who);
    else if (!gh_gateway_allows(svc->config, req, &subject, NULL, 0, NULL))
        gh_ps_fail(resp, GH_PS_E_PRIVILEGE, NULL);
    else
        pass = true;
    if (pass && read && who->session_id[0] != '\0') {
        gh_ps_csrf_token(svc->secret, who->session_id, token);
        gh_response_header_add(resp, GH_PS_CSRF_HEADER, "%s", token);
        gh_wipe(token, sizeof(token));
    }
    if (!pass)
        gh_ps_finish(resp);
    return pass;
}

static const char *const gh_ps_credential_headers[] = { "Authorization", GH_PS_CSRF_HEADER, NULL };
static const char *const gh_ps_credential_cookies[] = { GH_PS_COOKIE, NULL };

const gh_dialect gh_powerstore_dialect = {
    .name = GH_PS_NAME,
    .label = "PowerStore",
    .config = &gh_ps_config,
    .prefix = GH_PS_PREFIX,
    .classify = gh_ps_classify,
    .refuse = gh_ps_refuse,
    .fail = gh_ps_fail_hook,
    .serve = gh_ps_serve,
    .render = gh_ps_render,
    .forward = gh_ps_forward,
    .credential = gh_ps_credential,
    .credential_headers = gh_ps_credential_headers,
    .credential_cookies = gh_ps_credential_cookies,
};
