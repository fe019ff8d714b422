/*
 * ovirt_sso.c: the engine's SSO as its API clients use it: the OAuth 2.0
 * password grant at /ovirt-engine/sso/oauth/token and the logout at
 * /ovirt-engine/services/sso-logout.
 *
 * A token request is read from the URL query and, for a POST of
 * application/x-www-form-urlencoded, from the body (the engine reads both,
 * the query first), then checked in the engine's order: the Accept header
 * (exactly application/json), grant_type (password), username and password
 * present, the scope (must name ovirt-app-api: the guide calls it mandatory),
 * the profile of user@profile (a configured one, or admin@ovirt@internalsso)
 * and only then the password, in this hash-pool task. Errors are 400 with
 * the engine's codes and messages; their shape depends on the scope: the REST
 * API's ({"error_code", "error"}) or OAuth's ({"error", "error_description"}).
 * A token is a session of the oVirt dialect: idle for token_idle_timeout at
 * most, and never longer than token_timeout since its last use; "exp" says
 * when it ends if it is not used again, in epoch milliseconds, as a string.
 *
 * The logout ends the session of token= and answers {} whether or not the
 * token was alive, so it tells nobody which tokens are. Both endpoints are
 * open routes (the password or the token is the credential), so they refuse
 * plain HTTP themselves. Passwords and tokens are wiped on every way out.
 */
#include "ovirt_internal.h"

#include "../common/form.h"

#include <stdio.h>
#include <string.h>

#define GH_OVIRT_BAD_LOGIN "Unable to log in. Verify your login information or contact the " \
                           "system administrator"

gh_str gh_ovirt_form_body(const gh_request *req)
{
    gh_str type = gh_request_header(req, "Content-Type");
    size_t n = 0;

    if (req->method != GH_METHOD_POST || type.data == NULL)
        return (gh_str){ "", 0 };
    while (n < type.len && (type.data[n] == ' ' || type.data[n] == '\t'))
        n++;
    type = (gh_str){ type.data + n, type.len - n };
    for (n = 0; n < type.len && type.data[n] != ';' && type.data[n] != ' '; n++)
        ;
    if (!gh_str_eq_nocase((gh_str){ type.data, n }, "application/x-www-form-urlencoded"))
        return (gh_str){ "", 0 };
    return req->body.data != NULL ? req->body : (gh_str){ "", 0 };
}

int gh_ovirt_param(gh_str query, gh_str body, const char *name, char *out, size_t outlen)
{
    int r = gh_form_get(query, name, out, outlen);

    return r == GH_FORM_ABSENT ? gh_form_get(body, name, out, outlen) : r;
}

/* Read one parameter into its state; a malformed input marks the request. */
static int gh_ovirt_read_one(gh_str query, gh_str body, const char *name, char *out,
                             size_t outlen, gh_ovirt_token_request *t)
{
    int r = gh_ovirt_param(query, body, name, out, outlen);

    if (r == GH_FORM_MALFORMED)
        t->malformed = true;
    return r;
}

void gh_ovirt_token_read(gh_str query, gh_str body, gh_ovirt_token_request *t)
{
    memset(t, 0, sizeof(*t));
    t->grant_type_state = gh_ovirt_read_one(query, body, "grant_type", t->grant_type,
                                            sizeof(t->grant_type), t);
    t->scope_state = gh_ovirt_read_one(query, body, "scope", t->scope, sizeof(t->scope), t);
    t->username_state = gh_ovirt_read_one(query, body, "username", t->username,
                                          sizeof(t->username), t);
    t->password_state = gh_ovirt_read_one(query, body, "password", t->password,
                                          sizeof(t->password), t);
    if (t->password_state == GH_FORM_FOUND)
        t->password_len = strlen(t->password);
}

void gh_ovirt_token_wipe(gh_ovirt_token_request *t)
{
    gh_wipe(t->password, sizeof(t->password));
    t->password_len = 0;
}

/* RFC 6749 §3.3 scope-token characters. */
static bool gh_ovirt_scope_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

typedef struct {
    bool valid;                 /* scope-tokens separated by blanks */
    bool api, admin, portal;    /* ovirt-app-api, ovirt-app-admin, ovirt-app-portal */
} gh_ovirt_scope;

static gh_ovirt_scope gh_ovirt_scope_of(const char *scope)
{
    gh_ovirt_scope s = { true, false, false, false };
    const char    *p = scope;

    while (*p != '\0') {
        size_t n = 0;

        while (*p == ' ' || *p == '\t')
            p++;
        while (p[n] != '\0' && p[n] != ' ' && p[n] != '\t') {
            s.valid = s.valid && gh_ovirt_scope_char((unsigned char)p[n]);
            n++;
        }
        s.api = s.api || (n == 13 && memcmp(p, "ovirt-app-api", n) == 0);
        s.admin = s.admin || (n == 15 && memcmp(p, "ovirt-app-admin", n) == 0);
        s.portal = s.portal || (n == 16 && memcmp(p, "ovirt-app-portal", n) == 0);
        p += n;
    }
    return s;
}

/* A user name as a message may show it: printable ASCII, the rest as '?'. */
static void gh_ovirt_shown(const char *name, char *out, size_t outlen)
{
    size_t i = 0;

    for (; name[i] != '\0' && i + 1 < outlen; i++)
        out[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
    out[i] = '\0';
}

static gh_ovirt_error gh_ovirt_denied(gh_ovirt_token_request *t, const char *why, char *msg,
                                      size_t msglen)
{
    snprintf(msg, msglen, "Cannot authenticate user '%s': %s.", t->shown, why);
    return GH_OV_ERR_ACCESS_DENIED;
}

/* Split username at its last '@' and check the profile. */
static gh_ovirt_error gh_ovirt_token_user(const gh_config *cfg, gh_ovirt_token_request *t,
                                          char *msg, size_t msglen)
{
    char       *at = strrchr(t->username, '@');
    const char *profile = at != NULL ? at + 1 : "";
    size_t      ulen = at != NULL ? (size_t)(at - t->username) : strlen(t->username);
    char        shown_user[GH_OVIRT_USERNAME_MAX + 1];

    gh_ovirt_shown(t->username, shown_user, sizeof(shown_user));
    if (at == NULL)
        snprintf(t->shown, sizeof(t->shown), "%s@N/A", shown_user);
    else
        snprintf(t->shown, sizeof(t->shown), "%s", shown_user);
    if (ulen == 0)
        return gh_ovirt_denied(t, "No user name found in credentials", msg, msglen);
    if (at == NULL)
        return gh_ovirt_denied(t, "No profile found in credentials", msg, msglen);
    if (ulen > GH_USER_NAME_MAX || strlen(profile) > GH_DOMAIN_MAX)
        return gh_ovirt_denied(t, GH_OVIRT_BAD_LOGIN, msg, msglen);
    memcpy(t->user, t->username, ulen);
    t->user[ulen] = '\0';
    if (gh_ovirt_profile(cfg, t->user, profile) != GH_OV_PROFILE_OK)
        return gh_ovirt_denied(t, "No valid profile found in credentials", msg, msglen);
    return GH_OV_ERR_NONE;
}

gh_ovirt_error gh_ovirt_token_check(const gh_config *cfg, gh_str accept,
                                    gh_ovirt_token_request *t, char *msg, size_t msglen)
{
    gh_ovirt_scope scope = gh_ovirt_scope_of(t->scope_state == GH_FORM_FOUND ? t->scope : "");
    char           shown_scope[GH_OVIRT_SCOPE_MAX + 1];

    t->rest_api = scope.valid && scope.api && !scope.admin && !scope.portal;
    if (t->malformed) {
        snprintf(msg, msglen, "Malformed request parameters");
        return GH_OV_ERR_INVALID_REQUEST;
    }
    if (!gh_ovirt_accept_json(accept)) {
        snprintf(msg, msglen, "Missing parameter: 'Accept Header'");
        return GH_OV_ERR_INVALID_REQUEST;
    }
    if (t->grant_type_state == GH_FORM_ABSENT) {
        snprintf(msg, msglen, "Missing parameter: 'grant_type'");
        return GH_OV_ERR_INVALID_REQUEST;
    }
    if (t->grant_type_state != GH_FORM_FOUND || strcmp(t->grant_type, "password") != 0) {
        snprintf(msg, msglen, "The authorization grant type is not supported by the "
                 "authorization server.");
        return GH_OV_ERR_UNSUPPORTED_GRANT;
    }
    if (t->username_state == GH_FORM_ABSENT || t->password_state == GH_FORM_ABSENT) {
        snprintf(msg, msglen, "Missing parameter: '%s'",
                 t->username_state == GH_FORM_ABSENT ? "username" : "password");
        return GH_OV_ERR_INVALID_REQUEST;
    }
    if (t->scope_state != GH_FORM_FOUND || !scope.valid || !scope.api) {
        gh_ovirt_shown(t->scope_state == GH_FORM_FOUND && scope.valid ? t->scope : "",
                       shown_scope, sizeof(shown_scope));
        snprintf(msg, msglen, "The requested scope '%.128s' is invalid, unknown, malformed, or "
                 "exceeds the scope granted by the resource owner.", shown_scope);
        return GH_OV_ERR_INVALID_SCOPE;
    }
    if (t->username_state != GH_FORM_FOUND) {     /* too long to be anyone */
        snprintf(t->shown, sizeof(t->shown), "N/A");
        return gh_ovirt_denied(t, GH_OVIRT_BAD_LOGIN, msg, msglen);
    }
    if (gh_ovirt_token_user(cfg, t, msg, msglen) != GH_OV_ERR_NONE)
        return GH_OV_ERR_ACCESS_DENIED;
    if (t->password_state != GH_FORM_FOUND)      /* longer than any password */
        return gh_ovirt_denied(t, GH_OVIRT_BAD_LOGIN, msg, msglen);
    return GH_OV_ERR_NONE;
}

/* ---- issuing a token ---- */

typedef struct {
    gh_service *svc;
    const char *keep;           /* the new session */
    const char *actor;
    const char *client_addr;
    bool        failed;
} gh_ovirt_sweep;

static int gh_ovirt_sweep_one(const gh_session_record *rec, void *arg)
{
    gh_ovirt_sweep *s = arg;
    gh_store_err    err;

    if (strcmp(rec->dialect, GH_OVIRT_NAME) != 0 || strcmp(rec->id, s->keep) == 0)
        return 0;
    /* Ended by the limit of one token per user. */
    err = gh_service_session_end_as(s->svc, rec->id, GH_AUDIT_REVOKED, GH_METRIC_END_LIMIT,
                                    s->actor, s->client_addr);
    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND)
        s->failed = true;
    return 0;
}

/* single_token_per_user: end the user's earlier oVirt sessions. */
static bool gh_ovirt_single_token(gh_service *svc, const gh_principal *who, const char *keep,
                                  const char *client_addr)
{
    gh_ovirt_sweep s = { svc, keep, who->user, client_addr, false };

    return gh_store_session_foreach(svc->store, who->account_id, gh_ovirt_sweep_one, &s) ==
               GH_STORE_OK && !s.failed;
}

static void gh_ovirt_token_issued(gh_service *svc, const gh_request *req, const gh_principal *who,
                                  const gh_ovirt_token_request *t, const char *token,
                                  const gh_session_record *rec, gh_response *resp)
{
    int64_t idle = rec->idle_timeout > 0 ? rec->idle_timeout : gh_ovirt_idle(svc->config, 0);
    int64_t end = rec->last_used + idle;
    char    exp[32];

    if (rec->expires > 0 && rec->expires < end)
        end = rec->expires;
    snprintf(exp, sizeof(exp), "%lld", (long long)end * 1000);
    gh_ovirt_json(resp, 200, json_pack("{s:s, s:s, s:s, s:s}", "access_token", token,
                                       "token_type", "bearer", "scope", t->scope, "exp", exp),
                  GH_OVIRT_JSON_TYPE);
    if (resp->status != 200) {
        /* Out of memory: a token the client never learns of must not live on. */
        (void)gh_service_session_end(svc, rec->id, GH_AUDIT_REVOKED, who->user,
                                     req->client_addr);
        return;
    }
    gh_response_header_add(resp, "Cache-Control", "no-store");
    gh_response_header_add(resp, "Pragma", "no-cache");
}

static void gh_ovirt_token_create(gh_service *svc, const gh_request *req, const gh_principal *who,
                                  const gh_ovirt_token_request *t, gh_response *resp)
{
    char              token[GH_TOKEN_TEXT_LEN + 1] = "";
    gh_session_record rec;

    switch (gh_service_session_create(svc, who, GH_OVIRT_NAME, gh_ovirt_idle(svc->config, 0),
                                      req->client_addr, token, &rec)) {
    case GH_SESSION_CREATED:
        break;
    case GH_SESSION_LIMIT_TOTAL:
    case GH_SESSION_LIMIT_ACCOUNT:
        gh_ovirt_oauth_fail(resp, 503, t->rest_api, GH_OV_ERR_SERVER,
                            "Too many sessions; try again later.");
        return;
    default:
        gh_ovirt_oauth_fail(resp, 503, t->rest_api, GH_OV_ERR_SERVER, "Service unavailable.");
        return;
    }
    if (gh_ovirt_settings_of(svc->config)->single_token_per_user &&
        !gh_ovirt_single_token(svc, who, rec.id, req->client_addr)) {
        /* The promise is one token per user: none rather than two. */
        (void)gh_service_session_end(svc, rec.id, GH_AUDIT_REVOKED, who->user, req->client_addr);
        gh_ovirt_oauth_fail(resp, 503, t->rest_api, GH_OV_ERR_SERVER, "Service unavailable.");
    } else {
        gh_ovirt_token_issued(svc, req, who, t, token, &rec, resp);
    }
    gh_wipe(token, sizeof(token));
}

void gh_ovirt_serve_token(gh_service *svc, const gh_request *req, gh_response *resp)
{
    gh_ovirt_token_request t;
    gh_ovirt_error         e;
    gh_principal           who;
    char                   msg[GH_OVIRT_MSG_MAX];

    memset(&who, 0, sizeof(who));
    gh_ovirt_token_read(req->query, gh_ovirt_form_body(req), &t);
    if (!req->secure) {
        gh_ovirt_oauth_fail(resp, 403, false, GH_OV_ERR_ACCESS_DENIED,
                            "Credentials are accepted over HTTPS only.");
        goto done;
    }
    e = gh_ovirt_token_check(svc->config, gh_request_header(req, "Accept"), &t, msg, sizeof(msg));
    if (e != GH_OV_ERR_NONE) {
        gh_ovirt_oauth_fail(resp, 400, t.rest_api, e, msg);
        goto done;
    }
    if (svc->store == NULL) {
        gh_ovirt_oauth_fail(resp, 503, t.rest_api, GH_OV_ERR_SERVER, "Service unavailable.");
        goto done;
    }
    /* user@PROFILE of a directory, else a local account alone (@internal). */
    switch ((strchr(t.user, '@') != NULL ? gh_service_verify_password
                                          : gh_service_verify_local_password)(
                svc, t.user, t.password, t.password_len, req->client_addr, "ovirt-sso",
                &who)) {
    case GH_AUTH_OK:
        if (who.password_change_required) {
            gh_ovirt_denied(&t, "Unable to log in because the password has expired", msg,
                            sizeof(msg));
            gh_ovirt_oauth_fail(resp, 400, t.rest_api, GH_OV_ERR_ACCESS_DENIED, msg);
        } else {
            gh_ovirt_token_create(svc, req, &who, &t, resp);
        }
        break;
    case GH_AUTH_UNAVAILABLE:
        gh_ovirt_oauth_fail(resp, 503, t.rest_api, GH_OV_ERR_SERVER, "Service unavailable.");
        break;
    case GH_AUTH_THROTTLED:
        gh_ovirt_oauth_fail(resp, 429, t.rest_api, GH_OV_ERR_ACCESS_DENIED,
                            "Too many failed logins from this address; try again later.");
        gh_response_retry_after(resp, gh_service_throttle_wait(svc, req->client_addr, NULL));
        break;
    default:   /* bad, locked or disabled: one answer for all */
        gh_ovirt_denied(&t, GH_OVIRT_BAD_LOGIN, msg, sizeof(msg));
        gh_ovirt_oauth_fail(resp, 400, t.rest_api, GH_OV_ERR_ACCESS_DENIED, msg);
        break;
    }
done:
    gh_ovirt_token_wipe(&t);
}

/* ---- logout ---- */

void gh_ovirt_serve_logout(gh_service *svc, const gh_request *req, gh_response *resp)
{
    gh_str            body = gh_ovirt_form_body(req);
    char              token[GH_TOKEN_TEXT_MAX + 1], scope_text[GH_OVIRT_SCOPE_MAX + 1];
    uint8_t           digest[GH_DIGEST_LEN];
    gh_session_record rec;
    gh_shared_result  found;
    gh_ovirt_scope    scope;
    gh_store_err      err = GH_STORE_OK;
    int               r;

    memset(&rec, 0, sizeof(rec));
    memset(digest, 0, sizeof(digest));
    if (gh_ovirt_param(req->query, body, "scope", scope_text, sizeof(scope_text)) != GH_FORM_FOUND)
        scope_text[0] = '\0';
    scope = gh_ovirt_scope_of(scope_text);
    scope.valid = scope.valid && scope.api && !scope.admin && !scope.portal;
    r = gh_ovirt_param(req->query, body, "token", token, sizeof(token));
    if (!req->secure) {
        gh_ovirt_oauth_fail(resp, 403, false, GH_OV_ERR_ACCESS_DENIED,
                            "Credentials are accepted over HTTPS only.");
    } else if (r == GH_FORM_MALFORMED) {
        gh_ovirt_oauth_fail(resp, 400, scope.valid, GH_OV_ERR_INVALID_REQUEST,
                            "Malformed request parameters");
    } else if (r == GH_FORM_ABSENT || (r == GH_FORM_FOUND && token[0] == '\0')) {
        gh_ovirt_oauth_fail(resp, 400, scope.valid, GH_OV_ERR_INVALID_REQUEST,
                            "Missing parameter: 'token'");
    } else if (svc->store == NULL) {
        gh_ovirt_oauth_fail(resp, 503, scope.valid, GH_OV_ERR_SERVER, "Service unavailable.");
    } else {
        found = GH_SHARED_NOT_FOUND;
        if (r == GH_FORM_FOUND) {   /* a longer one is nobody's token */
            gh_token_digest(token, strlen(token), digest);
            found = gh_session_find_wait(svc->sessions, digest, gh_now(), NULL, &rec);
        }
        if (found == GH_SHARED_UNAVAILABLE)
            err = GH_STORE_ERROR;   /* the store is down: not logged out */
        /* An expired session is gone from the block; its row goes too. */
        if ((found == GH_SHARED_OK || found == GH_SHARED_EXPIRED) &&
            strcmp(rec.dialect, GH_OVIRT_NAME) == 0)
            err = gh_service_session_end(svc, rec.id, GH_AUDIT_LOGOUT, rec.user,
                                         req->client_addr);
        if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND)
            gh_ovirt_oauth_fail(resp, 503, scope.valid, GH_OV_ERR_SERVER, "Service unavailable.");
        else
            gh_ovirt_json(resp, 200, json_object(), GH_OVIRT_JSON_TYPE);
    }
    gh_wipe(token, sizeof(token));
    gh_wipe(digest, sizeof(digest));
}
