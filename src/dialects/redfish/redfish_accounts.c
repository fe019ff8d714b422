/*
 * redfish_accounts.c: the ManagerAccount resources under
 * /redfish/v1/AccountService/Accounts.
 *
 * An account's Id is its numeric store id, so its @odata.id survives a
 * rename. Its ETag is made of its creation time, its generation (bumped by
 * every write) and whether it is locked now, so a lock running out changes
 * it too; If-Match on PATCH and DELETE is checked against it and the
 * generation is handed to the store, so a write racing another gets 412.
 *
 * Privileges: ConfigureUsers creates, changes and deletes any account and
 * lists them all; without it a caller sees only its own account and may
 * change only its own Password (ConfigureSelf). While a password change is
 * required, reading the own account and PATCHing only its Password are all
 * that is allowed. The built-in account cannot be deleted.
 *
 * Names and password lengths follow the core's rules (account.h), the same
 * the command line applies: a name is a letter or digit, then letters,
 * digits, '.', '_', '-' (else PropertyValueFormatError); a password length
 * counts characters, not bytes, against the live MinPasswordLength /
 * MaxPasswordLength. A password is never quoted back in a message.
 */
#include "redfish_internal.h"

#include "../../core/account.h"
#include "../common/json_secret.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define GH_RF_ETAG_MAX 64
#define GH_RF_HIDDEN   "******"

static const gh_redfish_prop gh_redfish_account_props[] = {
    { "UserName", GH_RF_PROP_STRING, false },
    { "Password", GH_RF_PROP_STRING, true },
    { "RoleId", GH_RF_PROP_STRING, false },
    { "Enabled", GH_RF_PROP_BOOLEAN, false },
    { "Locked", GH_RF_PROP_BOOLEAN, false },
    { "PasswordChangeRequired", GH_RF_PROP_BOOLEAN, false },
    { "AccountTypes", GH_RF_PROP_ARRAY, false },
    { "Id", GH_RF_PROP_READONLY, false },
    { "Name", GH_RF_PROP_READONLY, false },
    { "Description", GH_RF_PROP_READONLY, false },
    { "Links", GH_RF_PROP_READONLY, false },
};
#define GH_RF_NACCOUNT_PROPS (sizeof(gh_redfish_account_props) / sizeof(gh_redfish_account_props[0]))

static void gh_redfish_account_etag(const gh_account *a, char out[GH_RF_ETAG_MAX])
{
    snprintf(out, GH_RF_ETAG_MAX, "\"%" PRIx64 "-%" PRIx64 "%s\"", (uint64_t)a->created,
             (uint64_t)a->generation, gh_account_locked(a, gh_now()) ? "-L" : "");
}

static json_t *gh_redfish_account_json(const gh_account *a)
{
    const char *role = gh_role_name(a->role);
    char        uri[sizeof(GH_REDFISH_ACCOUNTS) + 24];
    char        id[24];
    char        etag[GH_RF_ETAG_MAX];
    char        role_uri[sizeof(GH_REDFISH_ROLES) + 32];
    json_t     *j;

    snprintf(id, sizeof(id), "%lld", (long long)a->id);
    snprintf(uri, sizeof(uri), GH_REDFISH_ACCOUNTS "/%s", id);
    gh_redfish_account_etag(a, etag);
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:n, s:[s], s:{}}",
                  "@odata.id", uri,
                  "@odata.type", "#ManagerAccount.v1_6_0.ManagerAccount",
                  "@odata.etag", etag,
                  "Id", id,
                  "Name", "User Account",
                  "Description", "A local account of this service",
                  "UserName", a->name,
                  "RoleId", role != NULL ? role : "NoAccess",
                  "Enabled", a->enabled,
                  "Locked", gh_account_locked(a, gh_now()),
                  "PasswordChangeRequired", a->password_change_required,
                  "Password",
                  "AccountTypes", "Redfish",
                  "Links");
    if (j != NULL && role != NULL) {
        snprintf(role_uri, sizeof(role_uri), GH_REDFISH_ROLES "/%s", role);
        json_object_set_new(json_object_get(j, "Links"), "Role",
                            json_pack("{s:s}", "@odata.id", role_uri));
    }
    return j;
}

static void gh_redfish_account_reply(gh_redfish_ctx *c, int status, const gh_account *a)
{
    char etag[GH_RF_ETAG_MAX];

    gh_redfish_account_etag(a, etag);
    gh_redfish_reply(c->resp, status, gh_redfish_account_json(a));
    if (c->resp->status == status)
        gh_response_header_add(c->resp, "ETag", "%s", etag);
}

/* Check the values of the writable properties present in body (their types
 * are already right); each fault appends a message. */
static void gh_redfish_account_values(gh_redfish_ctx *c, const json_t *body, json_t *errors)
{
    json_t *v;
    char    text[80];

    v = json_object_get(body, "UserName");
    if (json_is_string(v) && !gh_account_name_valid(json_string_value(v))) {
        gh_redfish_value_text(v, text, sizeof(text));
        gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR,
                                                      text, "UserName"));
    }
    v = json_object_get(body, "RoleId");
    if (json_is_string(v) && gh_role_from_name(json_string_value(v)) == GH_ROLE_NONE) {
        gh_redfish_value_text(v, text, sizeof(text));
        gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST,
                                                      text, "RoleId"));
    }
    v = json_object_get(body, "Locked");
    if (json_is_true(v))   /* DSP0266: only false may be written, to unlock */
        gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST,
                                                      "true", "Locked"));
    v = json_object_get(body, "AccountTypes");
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        json_t *t = json_array_get(v, i);

        if (!json_is_string(t) || strcmp(json_string_value(t), "Redfish") != 0) {
            gh_redfish_value_text(t, text, sizeof(text));
            gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST,
                                                          text, "AccountTypes"));
        }
    }
    v = json_object_get(body, "Password");
    if (json_is_string(v)) {
        /* a body is at most GH_REDFISH_BODY_MAX bytes, so the count fits */
        int64_t n = (int64_t)gh_account_password_chars(json_string_value(v),
                                                       json_string_length(v));

        if (json_string_length(v) > GH_PASSWORD_MAX ||
            n < gh_service_setting(c->svc, GH_SET_MIN_PASSWORD_LENGTH) ||
            n > gh_service_setting(c->svc, GH_SET_MAX_PASSWORD_LENGTH))
            gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_INCORRECT,
                                                          "Password", GH_RF_HIDDEN));
    }
}

/* Hash a new password into acct; false (503 made) when hashing failed. */
static bool gh_redfish_account_hash(gh_redfish_ctx *c, const json_t *password, gh_account *acct)
{
    if (gh_password_hash(&c->svc->config->argon2, json_string_value(password),
                         json_string_length(password), acct->password_hash) == GH_PASSWORD_OK)
        return true;
    gh_redfish_fail_unavailable(c->resp);
    return false;
}

/* The body's Password lives in jansson's memory until the body is freed. */
static void gh_redfish_body_free(json_t *body)
{
    static const char *const secret[] = { "Password", NULL };

    gh_json_secret_free(body, secret);
}

/* Check a body's properties and values; false with the 400 made. */
static bool gh_redfish_account_body_ok(gh_redfish_ctx *c, const json_t *body, bool create)
{
    static const char *const required[] = { "UserName", "Password", "RoleId" };
    json_t *errors = json_array();
    bool    ok;

    gh_redfish_props_check(body, gh_redfish_account_props, GH_RF_NACCOUNT_PROPS, errors);
    for (size_t i = 0; create && i < sizeof(required) / sizeof(required[0]); i++) {
        if (json_object_get(body, required[i]) == NULL)
            gh_redfish_msg_append(errors, gh_redfish_msg1(GH_RF_MSG_PROPERTY_MISSING, required[i]));
    }
    gh_redfish_account_values(c, body, errors);
    ok = errors != NULL && json_array_size(errors) == 0;
    if (!ok)
        gh_redfish_fail(c->resp, 400, errors);
    else
        json_decref(errors);
    return ok;
}

static void gh_redfish_fail_account_missing(gh_redfish_ctx *c)
{
    char id[24];

    snprintf(id, sizeof(id), "%lld", (long long)c->route->account_id);
    gh_redfish_fail(c->resp, 404, gh_redfish_msg2(GH_RF_MSG_RESOURCE_NOT_FOUND, "ManagerAccount", id));
}

/* A store error on an account write, as HTTP. */
static void gh_redfish_account_store_fail(gh_redfish_ctx *c, gh_store_err err, const char *name)
{
    if (err == GH_STORE_CONFLICT)
        gh_redfish_fail0(c->resp, 412, GH_RF_MSG_PRECONDITION_FAILED);
    else if (err == GH_STORE_EXISTS)
        gh_redfish_fail(c->resp, 409, gh_redfish_msg3(GH_RF_MSG_RESOURCE_ALREADY_EXISTS,
                                                      "ManagerAccount", "UserName", name));
    else if (err == GH_STORE_NOT_FOUND)
        gh_redfish_fail_account_missing(c);
    else
        gh_redfish_fail_unavailable(c->resp);
}

/* ---- the collection ---- */

typedef struct {
    json_t  *members;
    int64_t  only;     /* an account id, or -1 for all */
    bool     failed;
} gh_redfish_account_walk;

static int gh_redfish_account_member(const gh_account *acct, void *arg)
{
    gh_redfish_account_walk *w = arg;
    char uri[sizeof(GH_REDFISH_ACCOUNTS) + 24];

    if (w->only >= 0 && acct->id != w->only)
        return 0;
    snprintf(uri, sizeof(uri), GH_REDFISH_ACCOUNTS "/%lld", (long long)acct->id);
    if (json_array_append_new(w->members, json_pack("{s:s}", "@odata.id", uri)) != 0) {
        w->failed = true;
        return 1;
    }
    return 0;
}

static void gh_redfish_accounts_list(gh_redfish_ctx *c)
{
    gh_redfish_account_walk w = { json_array(), -1, false };

    if (!gh_redfish_may(c, GH_OP_ACCOUNT, false))
        w.only = c->who->account_id;
    if (w.members == NULL ||
        gh_store_account_foreach(c->svc->store, gh_redfish_account_member, &w) != GH_STORE_OK ||
        w.failed) {
        gh_redfish_fail_unavailable(c->resp);
        goto done;
    }
    gh_redfish_reply(c->resp, 200,
                     gh_redfish_collection(GH_REDFISH_ACCOUNTS,
                                           "#ManagerAccountCollection.ManagerAccountCollection",
                                           "Accounts Collection", "Local accounts of this service",
                                           w.members));
done:
    json_decref(w.members);
}

/* The role a body's RoleId names; GH_ROLE_NONE without one. */
static gh_role gh_redfish_body_role(const json_t *body)
{
    return gh_role_from_name(json_string_value(json_object_get(body, "RoleId")));
}

static void gh_redfish_account_create(gh_redfish_ctx *c)
{
    json_t      *body = NULL;
    json_t      *v;
    gh_account   acct;
    gh_store_err err;

    memset(&acct, 0, sizeof(acct));
    if (!gh_redfish_may(c, GH_OP_ACCOUNTS, false)) {
        gh_redfish_fail_privilege(c->resp);
        goto done;
    }
    if ((body = gh_redfish_body(c)) == NULL || !gh_redfish_account_body_ok(c, body, true))
        goto done;
    acct.role = gh_redfish_body_role(body);
    if (!gh_redfish_may_touch(c, acct.role)) {
        gh_redfish_fail_privilege(c->resp);
        goto done;
    }
    snprintf(acct.name, sizeof(acct.name), "%s", json_string_value(json_object_get(body, "UserName")));
    snprintf(acct.domain, sizeof(acct.domain), "%s", "internal");
    v = json_object_get(body, "Enabled");
    acct.enabled = v == NULL || json_is_true(v);
    acct.password_change_required = json_is_true(json_object_get(body, "PasswordChangeRequired"));
    if (!gh_redfish_account_hash(c, json_object_get(body, "Password"), &acct))
        goto done;
    err = gh_store_account_add(c->svc->store, &acct);
    if (err != GH_STORE_OK) {
        gh_redfish_account_store_fail(c, err, acct.name);
        goto done;
    }
    gh_service_audit(c->svc, GH_AUDIT_ACCOUNT_CHANGED, acct.name, c->req->client_addr,
                     "redfish", NULL, "created");
    gh_redfish_account_reply(c, 201, &acct);
    if (c->resp->status == 201)
        gh_response_header_add(c->resp, "Location", GH_REDFISH_ACCOUNTS "/%lld", (long long)acct.id);
done:
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    gh_redfish_body_free(body);
}

void gh_redfish_serve_accounts(gh_redfish_ctx *c)
{
    if (!gh_redfish_need_store(c))
        return;
    if (c->req->method == GH_METHOD_POST)
        gh_redfish_account_create(c);
    else
        gh_redfish_accounts_list(c);
}

/* ---- a member ---- */

/* Does the body set anything but the Password (annotations aside)? */
static bool gh_redfish_more_than_password(const json_t *body)
{
    const char *key;
    json_t     *value;

    json_object_foreach((json_t *)body, key, value) {
        (void)value;
        if (strchr(key, '@') == NULL && strcmp(key, "Password") != 0)
            return true;
    }
    return false;
}

/* Load the account and check If-Match; false with the reply made. */
static bool gh_redfish_account_load(gh_redfish_ctx *c, gh_account *acct)
{
    gh_str       if_match = gh_request_header(c->req, "If-Match");
    char         etag[GH_RF_ETAG_MAX];
    gh_store_err err = gh_store_account_get_by_id(c->svc->store, c->route->account_id, acct);

    if (err == GH_STORE_NOT_FOUND) {
        gh_redfish_fail_account_missing(c);
        return false;
    }
    if (err != GH_STORE_OK) {
        gh_redfish_fail_unavailable(c->resp);
        return false;
    }
    gh_redfish_account_etag(acct, etag);
    if (if_match.data != NULL && !gh_redfish_etag_listed(if_match, etag)) {
        gh_redfish_fail0(c->resp, 412, GH_RF_MSG_PRECONDITION_FAILED);
        return false;
    }
    return true;
}

static void gh_redfish_account_apply(const json_t *body, bool own, gh_account *acct)
{
    json_t *v;

    if ((v = json_object_get(body, "UserName")) != NULL)
        snprintf(acct->name, sizeof(acct->name), "%s", json_string_value(v));
    if ((v = json_object_get(body, "RoleId")) != NULL)
        acct->role = gh_role_from_name(json_string_value(v));
    if ((v = json_object_get(body, "Enabled")) != NULL)
        acct->enabled = json_is_true(v);
    if (json_object_get(body, "Locked") != NULL)
        acct->locked_until = 0;   /* only false passes the checks */
    /* Changing one's own password is what a required change asks for. */
    if (own && json_object_get(body, "Password") != NULL)
        acct->password_change_required = false;
    if ((v = json_object_get(body, "PasswordChangeRequired")) != NULL)
        acct->password_change_required = json_is_true(v);
}

static void gh_redfish_account_patch(gh_redfish_ctx *c, bool own)
{
    json_t      *body = NULL;
    json_t      *pw;
    gh_account   acct;
    gh_store_err err;

    memset(&acct, 0, sizeof(acct));
    if ((body = gh_redfish_body(c)) == NULL)
        goto done;
    if (gh_redfish_more_than_password(body)) {
        if (c->who->password_change_required) {
            gh_redfish_fail_password_change(c->resp, c->who->account_id);
            goto done;
        }
        if (!gh_redfish_may(c, GH_OP_ACCOUNTS, false)) {
            gh_redfish_fail_privilege(c->resp);
            goto done;
        }
    } else if (json_object_get(body, "Password") == NULL) {
        gh_redfish_fail_no_change(c->resp, body);
        goto done;
    }
    if (!gh_redfish_account_load(c, &acct) || !gh_redfish_account_body_ok(c, body, false))
        goto done;
    /* Another's account, or more than the own password: what the account
     * holds and is given counts too (core/policy). */
    if ((!own || gh_redfish_more_than_password(body)) &&
        (!gh_redfish_may_touch(c, acct.role) ||
         !gh_redfish_may_touch(c, gh_redfish_body_role(body)))) {
        gh_redfish_fail_privilege(c->resp);
        goto done;
    }
    pw = json_object_get(body, "Password");
    if (pw != NULL && !gh_redfish_account_hash(c, pw, &acct))
        goto done;
    gh_redfish_account_apply(body, own, &acct);
    err = gh_service_account_update(c->svc, &acct, acct.generation);
    if (err != GH_STORE_OK)
        gh_redfish_account_store_fail(c, err, acct.name);
    else
        gh_redfish_account_reply(c, 200, &acct);
done:
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    gh_redfish_body_free(body);
}

static void gh_redfish_account_delete(gh_redfish_ctx *c)
{
    gh_account   acct;
    gh_store_err err;

    if (!gh_redfish_may(c, GH_OP_ACCOUNTS, false)) {
        gh_redfish_fail_privilege(c->resp);
        return;
    }
    if (!gh_redfish_account_load(c, &acct))
        return;
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    if (!gh_redfish_may_touch(c, acct.role)) {
        gh_redfish_fail_privilege(c->resp);
        return;
    }
    if (acct.built_in) {
        /* DSP0266: a resource that can never be deleted answers 405. */
        gh_redfish_fail0(c->resp, 405, GH_RF_MSG_RESOURCE_CANNOT_BE_DELETED);
        gh_response_header_add(c->resp, "Allow", "GET, HEAD, PATCH");
        return;
    }
    err = gh_service_account_delete(c->svc, acct.id);
    if (err != GH_STORE_OK) {
        gh_redfish_account_store_fail(c, err, acct.name);
        return;
    }
    gh_redfish_reply(c->resp, 200,
                     json_pack("{s:[o]}", "@Message.ExtendedInfo",
                               gh_redfish_msg0(GH_RF_MSG_ACCOUNT_REMOVED)));
}

void gh_redfish_serve_account(gh_redfish_ctx *c)
{
    bool       own = c->route->account_id == c->who->account_id;
    gh_account acct;
    char       etag[GH_RF_ETAG_MAX];

    /* Someone else's account: not even whether it exists, without the privilege. */
    if (!own && c->who->password_change_required) {
        gh_redfish_fail_password_change(c->resp, c->who->account_id);
        return;
    }
    if (!gh_redfish_may(c, GH_OP_ACCOUNT, own)) {
        gh_redfish_fail_privilege(c->resp);
        return;
    }
    if (!gh_redfish_need_store(c))
        return;
    if (c->req->method == GH_METHOD_PATCH) {
        gh_redfish_account_patch(c, own);
        return;
    }
    if (c->req->method == GH_METHOD_DELETE) {
        if (c->who->password_change_required)
            gh_redfish_fail_password_change(c->resp, c->who->account_id);
        else
            gh_redfish_account_delete(c);
        return;
    }
    if (!gh_redfish_account_load(c, &acct))
        return;
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    gh_redfish_account_etag(&acct, etag);
    if (gh_redfish_etag_listed(gh_request_header(c->req, "If-None-Match"), etag)) {
        c->resp->status = 304;
        gh_response_header_add(c->resp, "ETag", "%s", etag);
    } else {
        gh_redfish_account_reply(c, 200, &acct);
    }
    /* The built-in account cannot be deleted (below): its Allow says so. */
    if (acct.built_in)
        gh_response_header_add(c->resp, "Allow", "GET, HEAD, PATCH");
}
