/*
 * redfish_account_service.c: the AccountService resource and the Roles.
 *
 * The AccountService carries the live settings that govern the core: the
 * password length policy and account lockout, from the shared block
 * (gh_service_setting), and the directory profiles as its LDAP and
 * ActiveDirectory objects (redfish_directory.c), read from the store, so
 * GET runs in the I/O pool. A PATCH (ConfigureUsers: Administrator) writes
 * the store through gh_service_setting_set and gh_service_directory_put,
 * which every worker then obeys. Ranges are the configuration file's; the
 * cross checks are DSP0266's: a counter that resets after the lock ends
 * (AccountLockoutCounterResetAfter > AccountLockoutDuration) is refused when
 * lockout is on, and so is a minimum length above the maximum. The whole
 * body is checked before anything is written. The ETag is a digest of the
 * answer, so it changes with any setting or profile shown.
 *
 * The three roles are the core's, predefined and not modifiable: their
 * routes allow only GET and HEAD, so anything else is 405.
 */
#include "redfish_internal.h"

#include <stdio.h>
#include <string.h>

#include "../../core/directory_profiles.h"
#include "../common/json_secret.h"

#define GH_RF_AS_ETAG_MAX 24

typedef struct {
    const char *name;
    gh_setting  setting;
    int64_t     min, max;
} gh_redfish_setting_prop;

enum { GH_RF_S_MIN_LEN, GH_RF_S_MAX_LEN, GH_RF_S_THRESHOLD, GH_RF_S_DURATION,
       GH_RF_S_RESET_AFTER, GH_RF_NSETTINGS };

static const gh_redfish_setting_prop gh_redfish_account_settings[GH_RF_NSETTINGS] = {
    [GH_RF_S_MIN_LEN] = { "MinPasswordLength", GH_SET_MIN_PASSWORD_LENGTH, 1, GH_PASSWORD_MAX },
    [GH_RF_S_MAX_LEN] = { "MaxPasswordLength", GH_SET_MAX_PASSWORD_LENGTH, 1, GH_PASSWORD_MAX },
    [GH_RF_S_THRESHOLD] = { "AccountLockoutThreshold", GH_SET_LOCKOUT_THRESHOLD, 0, 1000 },
    [GH_RF_S_DURATION] = { "AccountLockoutDuration", GH_SET_LOCKOUT_DURATION, 1, 604800 },
    [GH_RF_S_RESET_AFTER] = { "AccountLockoutCounterResetAfter", GH_SET_LOCKOUT_RESET_AFTER,
                              1, 604800 },
};

static const gh_redfish_prop gh_redfish_account_service_props[] = {
    { "MinPasswordLength", GH_RF_PROP_INTEGER, false },
    { "MaxPasswordLength", GH_RF_PROP_INTEGER, false },
    { "AccountLockoutThreshold", GH_RF_PROP_INTEGER, false },
    { "AccountLockoutDuration", GH_RF_PROP_INTEGER, false },
    { "AccountLockoutCounterResetAfter", GH_RF_PROP_INTEGER, false },
    { "AccountLockoutCounterResetEnabled", GH_RF_PROP_READONLY, false },
    { "Id", GH_RF_PROP_READONLY, false },
    { "Name", GH_RF_PROP_READONLY, false },
    { "Description", GH_RF_PROP_READONLY, false },
    { "ServiceEnabled", GH_RF_PROP_READONLY, false },
    { "LocalAccountAuth", GH_RF_PROP_READONLY, false },
    { "Accounts", GH_RF_PROP_READONLY, false },
    { "Roles", GH_RF_PROP_READONLY, false },
    { "Status", GH_RF_PROP_READONLY, false },
    { "LDAP", GH_RF_PROP_OBJECT, false },
    { "ActiveDirectory", GH_RF_PROP_OBJECT, false },
};

/* The two directory objects: the property, and the kind of profile it shows. */
static const struct {
    const char *prop;
    const char *kind;
    const char *name;           /* of a profile made for it, when none is */
} gh_redfish_directories[2] = {
    { "LDAP", GH_DIRECTORY_KIND_LDAP, "ldap" },
    { "ActiveDirectory", GH_DIRECTORY_KIND_AD, "ad" },
};

/* The directory objects into s: false when the store fails. */
static bool gh_redfish_directories_json(gh_service *svc, json_t *s)
{
    gh_config_directory p;

    for (size_t i = 0; i < 2; i++) {
        gh_store_err err = gh_service_directory_first(svc, gh_redfish_directories[i].kind, &p);

        if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND)
            return false;
        json_object_set_new(s, gh_redfish_directories[i].prop,
                            gh_redfish_directory_json(err == GH_STORE_OK ? &p : NULL, i == 1));
    }
    return true;
}

/* The resource, or NULL when the store fails (*unavailable) or memory ran out. */
static json_t *gh_redfish_account_service_json(gh_service *svc, bool *unavailable)
{
    json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s,"
                          " s:{s:s}, s:{s:s}, s:{s:s, s:s}}",
                          "@odata.id", "/redfish/v1/AccountService",
                          "@odata.type", "#AccountService.v1_5_0.AccountService",
                          "Id", "AccountService",
                          "Name", "Account Service",
                          "Description", "Local and directory accounts of this service",
                          "ServiceEnabled", 1,
                          "AccountLockoutCounterResetEnabled", 1,
                          "LocalAccountAuth", "Enabled",
                          "Accounts", "@odata.id", GH_REDFISH_ACCOUNTS,
                          "Roles", "@odata.id", GH_REDFISH_ROLES,
                          "Status", "State", "Enabled", "Health", "OK");

    *unavailable = false;
    for (size_t i = 0; s != NULL && i < GH_RF_NSETTINGS; i++)
        json_object_set_new(s, gh_redfish_account_settings[i].name,
                            json_integer(gh_service_setting(svc,
                                                            gh_redfish_account_settings[i].setting)));
    if (s != NULL && !gh_redfish_directories_json(svc, s)) {
        *unavailable = true;
        json_decref(s);
        s = NULL;
    }
    return s;
}

/* A strong ETag of the answer: 16 hex digits of the SHA-256 of its
 * compact text (keys sorted), so any change of what it shows changes it. */
static void gh_redfish_account_service_etag(const json_t *s, char out[GH_RF_AS_ETAG_MAX])
{
    uint8_t digest[GH_DIGEST_LEN];
    char   *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);

    out[0] = '\0';
    if (text == NULL)
        return;
    gh_token_digest(text, strlen(text), digest);
    snprintf(out, GH_RF_AS_ETAG_MAX, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", digest[0],
             digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]);
    free(text);
}

/* Answer with the resource as it is now (after a PATCH: as written). */
static void gh_redfish_account_service_reply(gh_redfish_ctx *c, bool conditional)
{
    char    etag[GH_RF_AS_ETAG_MAX];
    bool    unavailable;
    json_t *s = gh_redfish_account_service_json(c->svc, &unavailable);

    if (unavailable) {
        gh_redfish_fail_unavailable(c->resp);
        return;
    }
    gh_redfish_account_service_etag(s, etag);
    if (etag[0] != '\0')
        gh_response_header_add(c->resp, "ETag", "%s", etag);
    if (conditional && etag[0] != '\0' &&
        gh_redfish_etag_listed(gh_request_header(c->req, "If-None-Match"), etag)) {
        json_decref(s);
        c->resp->status = 304;
        return;
    }
    gh_redfish_reply(c->resp, 200, s);
}

/* Is either property of a pair in the body: only then is the pair checked,
 * so a PATCH of something else never fails on settings it did not touch. */
static bool gh_redfish_touches(const json_t *body, const char *a, const char *b)
{
    return json_object_get(body, a) != NULL || json_object_get(body, b) != NULL;
}

/* Validate the PATCH into v (the settings as they would be). */
static void gh_redfish_settings_check(const json_t *body, int64_t v[GH_RF_NSETTINGS],
                                      json_t *errors)
{
    char text[32];

    for (size_t i = 0; i < GH_RF_NSETTINGS; i++) {
        const gh_redfish_setting_prop *p = &gh_redfish_account_settings[i];
        json_t *j = json_object_get(body, p->name);

        if (!json_is_integer(j))
            continue;
        v[i] = json_integer_value(j);
        if (v[i] < p->min || v[i] > p->max) {
            snprintf(text, sizeof(text), "%lld", (long long)v[i]);
            gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_OUT_OF_RANGE,
                                                          text, p->name));
        }
    }
    if (gh_redfish_touches(body, "MinPasswordLength", "MaxPasswordLength") &&
        v[GH_RF_S_MIN_LEN] > v[GH_RF_S_MAX_LEN])
        gh_redfish_msg_append(errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_CONFLICT,
                                                      "MinPasswordLength", "MaxPasswordLength"));
    if ((gh_redfish_touches(body, "AccountLockoutCounterResetAfter", "AccountLockoutDuration") ||
         json_object_get(body, "AccountLockoutThreshold") != NULL) &&
        v[GH_RF_S_THRESHOLD] > 0 && v[GH_RF_S_RESET_AFTER] > v[GH_RF_S_DURATION])
        gh_redfish_msg_append(errors,
                              gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_CONFLICT,
                                              "AccountLockoutCounterResetAfter",
                                              "AccountLockoutDuration"));
}

/* A PATCH's LDAP and ActiveDirectory, read over the profiles in effect. */
typedef struct {
    bool                        present[2];
    gh_config_directory         p[2];
    gh_redfish_directory_change chg[2];
} gh_redfish_dir_patch;

/* A profile for an object that shows none yet: of its kind, under a name
 * no profile has ("ldap", "ldap-2", ...). */
static gh_store_err gh_redfish_dir_new(gh_redfish_ctx *c, size_t i, gh_config_directory *p)
{
    gh_config_directory other;
    gh_store_err        err = GH_STORE_OK;

    gh_config_directory_defaults(p);
    snprintf(p->kind, sizeof(p->kind), "%s", gh_redfish_directories[i].kind);
    for (int n = 1; n < 10; n++) {
        if (n == 1)
            snprintf(p->name, sizeof(p->name), "%s", gh_redfish_directories[i].name);
        else
            snprintf(p->name, sizeof(p->name), "%s-%d", gh_redfish_directories[i].name, n);
        err = gh_service_directory_get(c->svc, p->name, &other);
        if (err != GH_STORE_OK)
            break;
    }
    return err == GH_STORE_NOT_FOUND ? GH_STORE_OK : err == GH_STORE_OK ? GH_STORE_EXISTS : err;
}

/* Read the body's directory objects; false when the store failed. */
static bool gh_redfish_dir_read(gh_redfish_ctx *c, const json_t *body, gh_redfish_dir_patch *d,
                                json_t *errors)
{
    for (size_t i = 0; i < 2; i++) {
        const json_t *obj = json_object_get(body, gh_redfish_directories[i].prop);
        gh_store_err  err;

        if (!json_is_object(obj))
            continue;
        d->present[i] = true;
        err = gh_service_directory_first(c->svc, gh_redfish_directories[i].kind, &d->p[i]);
        if (err == GH_STORE_NOT_FOUND)
            err = gh_redfish_dir_new(c, i, &d->p[i]);
        if (err != GH_STORE_OK)
            return false;
        (void)gh_redfish_directory_patch(obj, &d->p[i], &d->chg[i], errors);
    }
    return true;
}

/* Write the profiles read; false with the reply made when one is refused. */
static bool gh_redfish_dir_write(gh_redfish_ctx *c, gh_redfish_dir_patch *d)
{
    gh_config_directory def;
    char why[160];

    for (size_t i = 0; i < 2; i++) {
        gh_directory_put_result rc;
        gh_store_err err;

        if (!d->present[i])
            continue;
        /* A profile new to the store is the default unless one is. */
        if (d->p[i].revision == 0 &&
            gh_config_directory_get(c->svc->config, d->p[i].name) == NULL) {
            err = gh_service_directory_default(c->svc, &def);
            d->p[i].is_default = err == GH_STORE_NOT_FOUND ||
                                 (err == GH_STORE_OK && strcmp(def.name, d->p[i].name) == 0);
        }
        rc = gh_service_directory_put(c->svc, &d->p[i], d->chg[i].password,
                                      d->chg[i].password_len, c->who->user, c->req->client_addr,
                                      why, sizeof(why));
        if (rc == GH_DIRPUT_INVALID || rc == GH_DIRPUT_FULL) {
            gh_redfish_fail(c->resp, 400, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_INCORRECT,
                                                          gh_redfish_directories[i].prop, why));
            return false;
        }
        if (rc != GH_DIRPUT_OK) {
            gh_redfish_fail_unavailable(c->resp);
            return false;
        }
    }
    return true;
}

/* Wipe the passwords a body carries, before it is freed. */
static void gh_redfish_dir_wipe(json_t *body)
{
    for (size_t i = 0; body != NULL && i < 2; i++)
        gh_json_secret_wipe(json_object_get(json_object_get(json_object_get(body,
                                                gh_redfish_directories[i].prop),
                                                "Authentication"), "Password"));
}

/* If-Match: the ETag the client read must still be the resource's. */
static bool gh_redfish_account_service_matches(gh_redfish_ctx *c)
{
    gh_str  if_match = gh_request_header(c->req, "If-Match");
    char    etag[GH_RF_AS_ETAG_MAX] = "";
    bool    unavailable = false;
    json_t *s = NULL;

    if (if_match.data == NULL)
        return true;
    s = gh_redfish_account_service_json(c->svc, &unavailable);
    gh_redfish_account_service_etag(s, etag);
    json_decref(s);
    if (unavailable)
        gh_redfish_fail_unavailable(c->resp);
    else if (!gh_redfish_etag_listed(if_match, etag))
        gh_redfish_fail0(c->resp, 412, GH_RF_MSG_PRECONDITION_FAILED);
    return !unavailable && gh_redfish_etag_listed(if_match, etag);
}

static void gh_redfish_account_service_patch(gh_redfish_ctx *c)
{
    gh_redfish_dir_patch *d = NULL;
    json_t *body = NULL;
    json_t *errors = NULL;
    int64_t v[GH_RF_NSETTINGS];
    size_t  present = 0;

    if (!gh_redfish_may(c, GH_OP_ACCOUNTS, false)) {
        gh_redfish_fail_privilege(c->resp);
        goto done;
    }
    if (!gh_redfish_need_store(c) || (body = gh_redfish_body(c)) == NULL ||
        !gh_redfish_account_service_matches(c))
        goto done;
    errors = json_array();
    if ((d = calloc(1, sizeof(*d))) == NULL || errors == NULL) {
        gh_redfish_fail_unavailable(c->resp);
        goto done;
    }
    gh_redfish_props_check(body, gh_redfish_account_service_props,
                           sizeof(gh_redfish_account_service_props) /
                               sizeof(gh_redfish_account_service_props[0]), errors);
    for (size_t i = 0; i < GH_RF_NSETTINGS; i++) {
        v[i] = gh_service_setting(c->svc, gh_redfish_account_settings[i].setting);
        present += json_object_get(body, gh_redfish_account_settings[i].name) != NULL;
    }
    for (size_t i = 0; i < 2; i++)
        present += json_object_get(body, gh_redfish_directories[i].prop) != NULL;
    if (present == 0 && json_array_size(errors) == 0) {
        gh_redfish_fail_no_change(c->resp, body);
        goto done;
    }
    gh_redfish_settings_check(body, v, errors);
    if (!gh_redfish_dir_read(c, body, d, errors)) {
        gh_redfish_fail_unavailable(c->resp);
        goto done;
    }
    if (json_array_size(errors) > 0) {
        gh_redfish_fail(c->resp, 400, errors);
        errors = NULL;
        goto done;
    }
    if (!gh_redfish_dir_write(c, d))
        goto done;
    for (size_t i = 0; i < GH_RF_NSETTINGS; i++) {
        if (json_object_get(body, gh_redfish_account_settings[i].name) != NULL &&
            gh_service_setting_set(c->svc, gh_redfish_account_settings[i].setting, v[i]) !=
                GH_STORE_OK) {
            gh_redfish_fail_unavailable(c->resp);
            goto done;
        }
    }
    gh_redfish_account_service_reply(c, false);
done:
    free(d);
    json_decref(errors);
    gh_redfish_dir_wipe(body);
    json_decref(body);
}

void gh_redfish_serve_account_service(gh_redfish_ctx *c)
{
    if (c->req->method == GH_METHOD_PATCH)
        gh_redfish_account_service_patch(c);
    else if (gh_redfish_need_store(c))
        gh_redfish_account_service_reply(c, true);
}

/* ---- Roles ---- */

static json_t *gh_redfish_role_link(gh_role role)
{
    char uri[sizeof(GH_REDFISH_ROLES) + 32];

    snprintf(uri, sizeof(uri), GH_REDFISH_ROLES "/%s", gh_role_name(role));
    return json_pack("{s:s}", "@odata.id", uri);
}

void gh_redfish_serve_roles(gh_redfish_ctx *c)
{
    json_t *members = json_array();
    json_t *body = NULL;

    for (int r = GH_ROLE_ADMINISTRATOR; members != NULL && r <= GH_ROLE_READONLY; r++)
        gh_redfish_msg_append(members, gh_redfish_role_link((gh_role)r));
    body = gh_redfish_collection(GH_REDFISH_ROLES, "#RoleCollection.RoleCollection",
                                 "Roles Collection", "The predefined roles of this service",
                                 members);
    json_decref(members);
    gh_response_header_add(c->resp, "Cache-Control", "no-cache");
    gh_redfish_reply(c->resp, 200, body);
}

void gh_redfish_serve_role(gh_redfish_ctx *c)
{
    gh_role     role = c->route->role;
    const char *name = gh_role_name(role);
    unsigned    privs = gh_role_privileges(role);
    json_t     *assigned = json_array();
    json_t     *body = NULL;
    char        uri[sizeof(GH_REDFISH_ROLES) + 32];

    for (unsigned bit = GH_PRIV_LOGIN; assigned != NULL && bit <= GH_PRIV_CONFIGURE_SELF; bit <<= 1) {
        if ((privs & bit) != 0)
            (void)json_array_append_new(assigned,
                                        json_string(gh_privilege_name((gh_privilege)bit)));
    }
    snprintf(uri, sizeof(uri), GH_REDFISH_ROLES "/%s", name);
    if (assigned != NULL)
        body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:O, s:[]}",
                         "@odata.id", uri,
                         "@odata.type", "#Role.v1_2_0.Role",
                         "Id", name,
                         "Name", name,
                         "Description", "A predefined role of this service",
                         "RoleId", name,
                         "IsPredefined", 1,
                         "AssignedPrivileges", assigned,
                         "OemPrivileges");
    json_decref(assigned);
    gh_response_header_add(c->resp, "Cache-Control", "no-cache");
    gh_redfish_reply(c->resp, 200, body);
}
