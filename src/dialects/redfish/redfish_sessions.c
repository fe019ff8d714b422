/*
 * redfish_sessions.c: the SessionService: its settings (SessionTimeout), the
 * login (POST {UserName, Password} to the Sessions collection or its
 * /Members), the collection and its members, and logout (DELETE).
 *
 * Who sees what: the collection lists every live session to a holder of
 * ConfigureManager and only the caller's own otherwise; a member is readable
 * and deletable by its own account (ConfigureSelf) or by ConfigureManager.
 * "Own" is by account; MySession marks the very session making the request,
 * as HPE iLO's logout procedure looks for it.
 *
 * Over a session limit the login gets 503 with Retry-After and the
 * SessionLimitExceeded message: the refusal is temporary (idle sessions
 * expire), and 503 is what clients treat as "try later" — sushy falls back to
 * Basic authentication on it, redfishtool reports it.
 */
#include "redfish_internal.h"

#include "../common/json_secret.h"

#include <string.h>

#define GH_RF_SESSION_TIMEOUT_MIN 30
#define GH_RF_SESSION_TIMEOUT_MAX 86400

typedef enum {
    GH_RF_LOGIN_OK = 0,
    GH_RF_LOGIN_BAD_JSON,
    GH_RF_LOGIN_ABSENT,
    GH_RF_LOGIN_NOT_STRING,
    GH_RF_LOGIN_TOO_LONG
} gh_redfish_login_result;

/* Copy one string property out of the login object; the Password's text in
 * jansson's memory is wiped once copied. */
static gh_redfish_login_result gh_redfish_login_field(json_t *obj, const char *name, char *out,
                                                      size_t outlen, bool secret)
{
    json_t *v = json_object_get(obj, name);
    size_t  len;

    if (v == NULL)
        return GH_RF_LOGIN_ABSENT;
    if (!json_is_string(v))
        return GH_RF_LOGIN_NOT_STRING;
    len = json_string_length(v);
    if (len < outlen)
        memcpy(out, json_string_value(v), len + 1);
    if (secret)
        gh_json_secret_wipe(v);
    return len < outlen ? GH_RF_LOGIN_OK : GH_RF_LOGIN_TOO_LONG;
}

/* Parse a login body; *prop names the property at fault. Parsing is
 * case-sensitive, as Redfish property names are. */
static gh_redfish_login_result gh_redfish_login_parse(gh_str body, char *user, size_t userlen,
                                                      char *password, size_t pwlen,
                                                      const char **prop)
{
    gh_redfish_login_result rc = GH_RF_LOGIN_BAD_JSON;
    gh_redfish_login_result pw;
    json_error_t err;
    json_t      *obj = NULL;

    *prop = NULL;
    if (userlen > 0)
        user[0] = '\0';
    if (pwlen > 0)
        password[0] = '\0';
    if (body.data == NULL || body.len == 0 || body.len > GH_REDFISH_BODY_MAX ||
        userlen == 0 || pwlen == 0)
        goto done;
    obj = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(obj))
        goto done;
    *prop = "UserName";
    rc = gh_redfish_login_field(obj, "UserName", user, userlen, false);
    /* The Password is always read, so its copy in jansson is always wiped. */
    pw = gh_redfish_login_field(obj, "Password", password, pwlen, true);
    if (rc == GH_RF_LOGIN_OK) {
        *prop = "Password";
        rc = pw;
    }
done:
    if (rc != GH_RF_LOGIN_OK && pwlen > 0)
        gh_wipe(password, pwlen);
    json_decref(obj);
    return rc;
}

int gh_redfish_parse_login(gh_str body, char *user, size_t userlen, char *password, size_t pwlen)
{
    const char *prop;

    switch (gh_redfish_login_parse(body, user, userlen, password, pwlen, &prop)) {
    case GH_RF_LOGIN_OK:       return 0;
    case GH_RF_LOGIN_BAD_JSON: return GH_REDFISH_LOGIN_MALFORMED;
    /* A value that cannot be a credential is no usable property either. */
    default:                   return GH_REDFISH_LOGIN_MISSING;
    }
}

/* ---- the session resource ---- */

static bool gh_redfish_session_live(const gh_session_record *rec, int64_t now, int64_t idle_default)
{
    int64_t idle = rec->idle_timeout > 0 ? rec->idle_timeout : idle_default;

    return (idle <= 0 || now - rec->last_used < idle) && (rec->expires == 0 || now < rec->expires);
}

/* The store's last-used time is written in batches; the shared block has the
 * latest, so a session in use is never shown as expired. */
static bool gh_redfish_live(gh_service *svc, gh_session_record *rec)
{
    gh_session_record fresh;

    if (gh_shared_session_get(svc->shared, rec->id, &fresh) == GH_SHARED_OK &&
        fresh.last_used > rec->last_used)
        rec->last_used = fresh.last_used;
    return gh_redfish_session_live(rec, gh_now(), gh_service_setting(svc, GH_SET_SESSION_TIMEOUT));
}

/* A session of rec's dialect, named by the label that dialect declares
 * (svc->dialects: the table, handed over at run time); a dialect not in it
 * by its stored name. */
static json_t *gh_redfish_session_json(const gh_service *svc, const gh_session_record *rec,
                                       bool mine)
{
    char    uri[sizeof(GH_REDFISH_SESSIONS) + GH_SESSION_ID_LEN + 2];
    char    created[32];
    json_t *s;

    snprintf(uri, sizeof(uri), GH_REDFISH_SESSIONS "/%s", rec->id);
    gh_redfish_time(rec->created, created);
    s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:s, s:b}}}",
                  "@odata.id", uri,
                  "@odata.type", "#Session.v1_7_0.Session",
                  "Id", rec->id,
                  "Name", "User Session",
                  "Description", "Manager User Session",
                  "UserName", rec->user,
                  "CreatedTime", created,
                  "Oem", "Gatehouse", "@odata.type", "#GatehouseSession.v1_0_0.Session",
                  "MySession", mine);
    if (s == NULL)
        return NULL;
    if (rec->client_addr[0] != '\0')
        json_object_set_new(s, "ClientOriginIPAddress", json_string(rec->client_addr));
    if (strcmp(rec->dialect, GH_REDFISH_NAME) == 0) {
        json_object_set_new(s, "SessionType", json_string("Redfish"));
    } else {
        /* The core's sessions are one pool: another dialect's session is
         * listed too, so an administrator can see and end it here. */
        const gh_dialect *d = gh_dialect_named(svc->dialects, rec->dialect);

        json_object_set_new(s, "SessionType", json_string("OEM"));
        json_object_set_new(s, "OemSessionType",
                            json_string(d != NULL && d->label != NULL ? d->label : rec->dialect));
    }
    return s;
}

/* ---- SessionService ---- */

static json_t *gh_redfish_session_service_json(gh_service *svc)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:{s:s}, s:{s:s, s:s}}",
                     "@odata.id", "/redfish/v1/SessionService",
                     "@odata.type", "#SessionService.v1_1_8.SessionService",
                     "Id", "SessionService",
                     "Name", "Session Service",
                     "Description", "Session Service",
                     "ServiceEnabled", 1,
                     "SessionTimeout", (json_int_t)gh_service_setting(svc, GH_SET_SESSION_TIMEOUT),
                     "Sessions", "@odata.id", GH_REDFISH_SESSIONS,
                     "Status", "State", "Enabled", "Health", "OK");
}

static const gh_redfish_prop gh_redfish_session_service_props[] = {
    { "SessionTimeout", GH_RF_PROP_INTEGER, false },
    { "Id", GH_RF_PROP_READONLY, false },
    { "Name", GH_RF_PROP_READONLY, false },
    { "Description", GH_RF_PROP_READONLY, false },
    { "ServiceEnabled", GH_RF_PROP_READONLY, false },
    { "Sessions", GH_RF_PROP_READONLY, false },
    { "Status", GH_RF_PROP_READONLY, false },
};

static void gh_redfish_session_service_patch(gh_redfish_ctx *c)
{
    json_t *body = NULL;
    json_t *errors = NULL;
    json_t *v;
    char    text[80];

    if (!gh_redfish_may(c, GH_OP_SERVICE, false)) {
        gh_redfish_fail_privilege(c->resp);
        goto done;
    }
    if (!gh_redfish_need_store(c) || (body = gh_redfish_body(c)) == NULL)
        goto done;
    errors = json_array();
    gh_redfish_props_check(body, gh_redfish_session_service_props,
                           sizeof(gh_redfish_session_service_props) /
                               sizeof(gh_redfish_session_service_props[0]), errors);
    v = json_object_get(body, "SessionTimeout");
    if (v == NULL && json_array_size(errors) == 0) {
        gh_redfish_fail_no_change(c->resp, body);
        goto done;
    }
    if (json_is_integer(v) && (json_integer_value(v) < GH_RF_SESSION_TIMEOUT_MIN ||
                               json_integer_value(v) > GH_RF_SESSION_TIMEOUT_MAX)) {
        gh_redfish_value_text(v, text, sizeof(text));
        gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_OUT_OF_RANGE,
                                                      text, "SessionTimeout"));
    }
    if (errors == NULL || json_array_size(errors) > 0) {
        gh_redfish_fail(c->resp, 400, errors);
        errors = NULL;
        goto done;
    }
    if (gh_service_setting_set(c->svc, GH_SET_SESSION_TIMEOUT, json_integer_value(v)) !=
        GH_STORE_OK) {
        gh_redfish_fail_unavailable(c->resp);
        goto done;
    }
    gh_redfish_reply(c->resp, 200, gh_redfish_session_service_json(c->svc));
done:
    json_decref(errors);
    json_decref(body);
}

void gh_redfish_serve_session_service(gh_redfish_ctx *c)
{
    if (c->req->method == GH_METHOD_PATCH)
        gh_redfish_session_service_patch(c);
    else
        gh_redfish_reply(c->resp, 200, gh_redfish_session_service_json(c->svc));
}

/* ---- login ---- */

static void gh_redfish_login_refused(gh_redfish_ctx *c)
{
    gh_redfish_fail(c->resp, 401,
                    gh_redfish_msg2(GH_RF_MSG_RESOURCE_AT_URI_UNAUTHORIZED, GH_REDFISH_SESSIONS,
                                    "Invalid username or password"));
    gh_response_header_add(c->resp, "WWW-Authenticate", "Basic realm=\"Redfish\"");
}

static void gh_redfish_login_created(gh_redfish_ctx *c, const gh_principal *who,
                                     const gh_session_record *rec, const char *token)
{
    json_t *body = gh_redfish_session_json(c->svc, rec, true);
    json_t *info;

    if (body != NULL && who->password_change_required) {
        char uri[sizeof(GH_REDFISH_ACCOUNTS) + 24];

        snprintf(uri, sizeof(uri), GH_REDFISH_ACCOUNTS "/%lld", (long long)who->account_id);
        info = json_array();
        gh_redfish_msg_append(info, gh_redfish_msg1(GH_RF_MSG_PASSWORD_CHANGE_REQUIRED, uri));
        json_object_set_new(body, "@Message.ExtendedInfo", info);
    }
    gh_redfish_reply(c->resp, 201, body);
    if (c->resp->status != 201) {
        /* Out of memory: a session the client never learns of must not live on. */
        (void)gh_service_session_end(c->svc, rec->id, GH_AUDIT_REVOKED, who->user,
                                     c->req->client_addr);
        return;
    }
    gh_response_header_add(c->resp, "X-Auth-Token", "%s", token);
    gh_response_header_add(c->resp, "Location", GH_REDFISH_SESSIONS "/%s", rec->id);
}

static void gh_redfish_login(gh_redfish_ctx *c)
{
    char          user[GH_USER_NAME_MAX + 1];
    char          password[GH_PASSWORD_MAX + 1];
    char          token[GH_TOKEN_TEXT_LEN + 1] = "";
    char          text[16];
    const char   *prop;
    gh_principal  who;
    gh_session_record rec;

    memset(&who, 0, sizeof(who));
    /* The route is open, so nothing before us looked at the transport: a
     * password never travels in clear, even if the listener lets it in. */
    if (!c->req->secure) {
        gh_redfish_fail_plain_http(c->resp);
        return;
    }
    if (c->req->body.len > GH_REDFISH_BODY_MAX) {
        gh_redfish_fail0(c->resp, 413, GH_RF_MSG_PAYLOAD_TOO_LARGE);
        return;
    }
    switch (gh_redfish_login_parse(c->req->body, user, sizeof(user), password, sizeof(password),
                                   &prop)) {
    case GH_RF_LOGIN_OK:
        break;
    case GH_RF_LOGIN_BAD_JSON:
        gh_redfish_fail0(c->resp, 400, GH_RF_MSG_MALFORMED_JSON);
        goto done;
    case GH_RF_LOGIN_ABSENT:
        gh_redfish_fail1(c->resp, 400, GH_RF_MSG_PROPERTY_MISSING, prop);
        goto done;
    case GH_RF_LOGIN_NOT_STRING:
        /* The value is never quoted back: it may be a password. */
        snprintf(text, sizeof(text), "%s", "******");
        gh_redfish_fail(c->resp, 400,
                        gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_TYPE_ERROR, text, prop));
        goto done;
    default:   /* longer than any account name or password can be */
        gh_redfish_login_refused(c);
        goto done;
    }
    if (!gh_redfish_need_store(c))
        goto done;
    switch (gh_service_verify_password(c->svc, user, password, strlen(password),
                                       c->req->client_addr, "redfish-session", &who)) {
    case GH_AUTH_OK:
        break;
    case GH_AUTH_UNAVAILABLE:
        gh_redfish_fail_unavailable(c->resp);
        goto done;
    case GH_AUTH_THROTTLED:
        gh_redfish_fail_throttled(c->resp, gh_service_throttle_wait(c->svc, c->req->client_addr,
                                                                    NULL));
        goto done;
    default:   /* bad, locked or disabled: one answer for all */
        gh_redfish_login_refused(c);
        goto done;
    }
    switch (gh_service_session_create(c->svc, &who, GH_REDFISH_NAME, 0, c->req->client_addr,
                                      token, &rec)) {
    case GH_SESSION_CREATED:
        gh_redfish_login_created(c, &who, &rec, token);
        break;
    case GH_SESSION_LIMIT_TOTAL:
    case GH_SESSION_LIMIT_ACCOUNT:
        gh_redfish_fail0(c->resp, 503, GH_RF_MSG_SESSION_LIMIT_EXCEEDED);
        gh_response_header_add(c->resp, "Retry-After", "%d", GH_REDFISH_RETRY_AFTER);
        break;
    default:
        gh_redfish_fail_unavailable(c->resp);
        break;
    }
done:
    gh_wipe(password, sizeof(password));
    gh_wipe(token, sizeof(token));
}

/* ---- the collection and its members ---- */

typedef struct {
    gh_service *svc;
    json_t     *members;
    bool        failed;
} gh_redfish_session_walk;

static int gh_redfish_session_member(const gh_session_record *rec, void *arg)
{
    gh_redfish_session_walk *w = arg;
    gh_session_record r = *rec;
    char uri[sizeof(GH_REDFISH_SESSIONS) + GH_SESSION_ID_LEN + 2];

    if (!gh_redfish_live(w->svc, &r))
        return 0;
    snprintf(uri, sizeof(uri), GH_REDFISH_SESSIONS "/%s", r.id);
    if (json_array_append_new(w->members, json_pack("{s:s}", "@odata.id", uri)) != 0) {
        w->failed = true;
        return 1;
    }
    return 0;
}

static void gh_redfish_sessions_list(gh_redfish_ctx *c)
{
    gh_redfish_session_walk w = { c->svc, json_array(), false };
    int64_t account = gh_redfish_may(c, GH_OP_SESSION, false) ? -1 : c->who->account_id;
    gh_store_err err;

    if (w.members == NULL || !gh_redfish_need_store(c))
        goto done;
    err = gh_store_session_foreach(c->svc->store, account, gh_redfish_session_member, &w);
    if (err != GH_STORE_OK || w.failed) {
        gh_redfish_fail_unavailable(c->resp);
        goto done;
    }
    gh_redfish_reply(c->resp, 200,
                     gh_redfish_collection(GH_REDFISH_SESSIONS, "#SessionCollection.SessionCollection",
                                           "Session Collection", "Sessions of this service",
                                           w.members));
done:
    json_decref(w.members);
}

void gh_redfish_serve_sessions(gh_redfish_ctx *c)
{
    if (c->req->method == GH_METHOD_POST)
        gh_redfish_login(c);
    else
        gh_redfish_sessions_list(c);
}

void gh_redfish_serve_session(gh_redfish_ctx *c)
{
    const char       *id = c->route->session_id;
    gh_session_record rec;
    gh_store_err      err;
    bool              own;

    if (!gh_redfish_need_store(c))
        return;
    err = gh_store_session_get(c->svc->store, id, &rec);
    if (err == GH_STORE_NOT_FOUND || (err == GH_STORE_OK && !gh_redfish_live(c->svc, &rec))) {
        gh_redfish_fail(c->resp, 404, gh_redfish_msg2(GH_RF_MSG_RESOURCE_NOT_FOUND, "Session", id));
        return;
    }
    if (err != GH_STORE_OK) {
        gh_redfish_fail_unavailable(c->resp);
        return;
    }
    own = rec.account_id == c->who->account_id;
    if (!gh_redfish_may(c, GH_OP_SESSION, own)) {
        gh_redfish_fail_privilege(c->resp);
        return;
    }
    if (c->req->method != GH_METHOD_DELETE) {
        gh_redfish_reply(c->resp, 200,
                         gh_redfish_session_json(c->svc, &rec, strcmp(id, c->who->session_id) == 0));
        return;
    }
    err = gh_service_session_end(c->svc, id, own ? GH_AUDIT_LOGOUT : GH_AUDIT_REVOKED,
                                 c->who->user, c->req->client_addr);
    if (err == GH_STORE_NOT_FOUND)
        gh_redfish_fail(c->resp, 404, gh_redfish_msg2(GH_RF_MSG_RESOURCE_NOT_FOUND, "Session", id));
    else if (err != GH_STORE_OK)
        gh_redfish_fail_unavailable(c->resp);
    else
        c->resp->status = 204;
}
