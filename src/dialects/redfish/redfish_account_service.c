/*
 * redfish_account_service.c: the AccountService resource and the Roles.
 *
 * The AccountService carries the live settings that govern the core: the
 * password length policy and account lockout. Reading them needs only the
 * shared block (gh_service_setting), so GET runs on the event loop; a PATCH
 * (ConfigureUsers) writes the store through gh_service_setting_set, which
 * every worker then obeys. Ranges are the configuration file's; the cross
 * checks are DSP0266's: a counter that resets after the lock ends
 * (AccountLockoutCounterResetAfter > AccountLockoutDuration) is refused when
 * lockout is on, and so is a minimum length above the maximum.
 *
 * The three roles are the core's, predefined and not modifiable: their
 * routes allow only GET and HEAD, so anything else is 405.
 */
#include "redfish_internal.h"

#include <stdio.h>

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
};

static json_t *gh_redfish_account_service_json(gh_service *svc)
{
    json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s,"
                          " s:{s:s}, s:{s:s}, s:{s:s, s:s}}",
                          "@odata.id", "/redfish/v1/AccountService",
                          "@odata.type", "#AccountService.v1_5_0.AccountService",
                          "Id", "AccountService",
                          "Name", "Account Service",
                          "Description", "Local accounts of this service",
                          "ServiceEnabled", 1,
                          "AccountLockoutCounterResetEnabled", 1,
                          "LocalAccountAuth", "Enabled",
                          "Accounts", "@odata.id", GH_REDFISH_ACCOUNTS,
                          "Roles", "@odata.id", GH_REDFISH_ROLES,
                          "Status", "State", "Enabled", "Health", "OK");

    for (size_t i = 0; s != NULL && i < GH_RF_NSETTINGS; i++)
        json_object_set_new(s, gh_redfish_account_settings[i].name,
                            json_integer(gh_service_setting(svc,
                                                            gh_redfish_account_settings[i].setting)));
    return s;
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

static void gh_redfish_account_service_patch(gh_redfish_ctx *c)
{
    json_t *body = NULL;
    json_t *errors = NULL;
    int64_t v[GH_RF_NSETTINGS];
    size_t  present = 0;

    if (!gh_redfish_may(c, GH_OP_ACCOUNTS, false)) {
        gh_redfish_fail_privilege(c->resp);
        goto done;
    }
    if (!gh_redfish_need_store(c) || (body = gh_redfish_body(c)) == NULL)
        goto done;
    errors = json_array();
    gh_redfish_props_check(body, gh_redfish_account_service_props,
                           sizeof(gh_redfish_account_service_props) /
                               sizeof(gh_redfish_account_service_props[0]), errors);
    for (size_t i = 0; i < GH_RF_NSETTINGS; i++) {
        v[i] = gh_service_setting(c->svc, gh_redfish_account_settings[i].setting);
        present += json_object_get(body, gh_redfish_account_settings[i].name) != NULL;
    }
    if (present == 0 && json_array_size(errors) == 0) {
        gh_redfish_fail_no_change(c->resp, body);
        goto done;
    }
    gh_redfish_settings_check(body, v, errors);
    if (errors == NULL || json_array_size(errors) > 0) {
        gh_redfish_fail(c->resp, 400, errors);
        errors = NULL;
        goto done;
    }
    for (size_t i = 0; i < GH_RF_NSETTINGS; i++) {
        if (json_object_get(body, gh_redfish_account_settings[i].name) != NULL &&
            gh_service_setting_set(c->svc, gh_redfish_account_settings[i].setting, v[i]) !=
                GH_STORE_OK) {
            gh_redfish_fail_unavailable(c->resp);
            goto done;
        }
    }
    gh_redfish_reply(c->resp, 200, gh_redfish_account_service_json(c->svc));
done:
    json_decref(errors);
    json_decref(body);
}

void gh_redfish_serve_account_service(gh_redfish_ctx *c)
{
    if (c->req->method == GH_METHOD_PATCH)
        gh_redfish_account_service_patch(c);
    else
        gh_redfish_reply(c->resp, 200, gh_redfish_account_service_json(c->svc));
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
