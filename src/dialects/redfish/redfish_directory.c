/*
 * redfish_directory.c: the AccountService's LDAP and ActiveDirectory
 * properties (ExternalAccountProvider in DMTF's AccountService schema) over
 * the core's directory profiles: LDAP shows the first profile of kind ldap,
 * ActiveDirectory the first of kind active_directory (directory_profiles.h).
 *
 *   ServiceEnabled                          enabled
 *   ServiceAddresses [URL, ...]             servers, in order
 *   Authentication.Username                 bind_dn ("" = anonymous search)
 *   Authentication.Password                 a new service password: write-only,
 *                                           null in every answer
 *   LDAPService.SearchSettings
 *     .BaseDistinguishedNames [DN]          user_base (exactly one)
 *     .UsernameAttribute                    user_attribute
 *     .GroupsAttribute                      group_attribute ("" = group search)
 *   RemoteRoleMapping [{RemoteGroup,        administrator_groups, operator_groups,
 *                       LocalRole}]         readonly_groups, in that order
 *
 * A PATCH object is read over the profile as it stands, property by
 * property; RemoteRoleMapping follows DSP0266's PATCH of an array: an
 * element {} keeps the one at its place, null removes it, an object changes
 * it, and those past the end of the array sent are removed. What the schema
 * has and gatehouse does not (Certificates, GroupNameAttribute, RemoteUser,
 * ...) is not writable; anything else is unknown. Each value is checked for
 * its form here; the rules of a whole profile are the core's.
 */
#include "redfish_internal.h"

#include <stdio.h>
#include <string.h>

#include "../../core/role.h"

#define GH_RF_DIR_ERRORS_MAX 16    /* messages one object's check reports */

static const gh_redfish_prop gh_rf_dir_props[] = {
    { "ServiceEnabled", GH_RF_PROP_BOOLEAN, false },
    { "ServiceAddresses", GH_RF_PROP_ARRAY, false },
    { "Authentication", GH_RF_PROP_OBJECT, false },
    { "LDAPService", GH_RF_PROP_OBJECT, false },
    { "RemoteRoleMapping", GH_RF_PROP_ARRAY, false },
    { "AccountProviderType", GH_RF_PROP_READONLY, false },
    { "Certificates", GH_RF_PROP_READONLY, false },
    { "PasswordSet", GH_RF_PROP_READONLY, false },
    { "Priority", GH_RF_PROP_READONLY, false },
    { "Retries", GH_RF_PROP_READONLY, false },
    { "TimeoutSeconds", GH_RF_PROP_READONLY, false },
    { "OAuth2Service", GH_RF_PROP_READONLY, false },
    { "TACACSplusService", GH_RF_PROP_READONLY, false },
};

static const gh_redfish_prop gh_rf_auth_props[] = {
    { "AuthenticationType", GH_RF_PROP_STRING, false },
    { "Username", GH_RF_PROP_STRING, false },
    { "Password", GH_RF_PROP_STRING, true },
    { "Token", GH_RF_PROP_READONLY, false },
    { "KerberosKeytab", GH_RF_PROP_READONLY, false },
    { "EncryptionKey", GH_RF_PROP_READONLY, false },
    { "EncryptionKeySet", GH_RF_PROP_READONLY, false },
    { "Oem", GH_RF_PROP_READONLY, false },
};

static const gh_redfish_prop gh_rf_ldap_props[] = {
    { "SearchSettings", GH_RF_PROP_OBJECT, false },
    { "Oem", GH_RF_PROP_READONLY, false },
};

static const gh_redfish_prop gh_rf_search_props[] = {
    { "BaseDistinguishedNames", GH_RF_PROP_ARRAY, false },
    { "UsernameAttribute", GH_RF_PROP_STRING, false },
    { "GroupsAttribute", GH_RF_PROP_STRING, false },
    { "GroupNameAttribute", GH_RF_PROP_READONLY, false },
    { "EmailAttribute", GH_RF_PROP_READONLY, false },
    { "SSHKeyAttribute", GH_RF_PROP_READONLY, false },
};

static const gh_redfish_prop gh_rf_mapping_props[] = {
    { "RemoteGroup", GH_RF_PROP_STRING, false },
    { "LocalRole", GH_RF_PROP_STRING, false },
    { "RemoteUser", GH_RF_PROP_READONLY, false },
    { "LocalAccountTypes", GH_RF_PROP_READONLY, false },
    { "LocalOEMAccountTypes", GH_RF_PROP_READONLY, false },
    { "MFABypass", GH_RF_PROP_READONLY, false },
    { "Oem", GH_RF_PROP_READONLY, false },
};

#define GH_RF_N(t) (sizeof(t) / sizeof((t)[0]))

/* ---- profile → JSON ---- */

/* Each item of a list (separated by any of seps) as a JSON string. */
static json_t *gh_rf_dir_list(const char *list, const char *seps)
{
    json_t *a = json_array();

    while (a != NULL && *(list += strspn(list, seps)) != '\0') {
        size_t n = strcspn(list, seps);

        (void)json_array_append_new(a, json_stringn(list, n));
        list += n;
    }
    return a;
}

static void gh_rf_dir_map_add(json_t *maps, const char *groups, gh_role role)
{
    json_t *dns = gh_rf_dir_list(groups, "|");
    size_t  i;
    json_t *dn;

    json_array_foreach(dns, i, dn)
        (void)json_array_append_new(maps, json_pack("{s:O, s:s}", "RemoteGroup", dn,
                                                    "LocalRole", gh_role_name(role)));
    json_decref(dns);
}

json_t *gh_redfish_directory_json(const gh_config_directory *p, bool ad)
{
    gh_config_directory none;
    json_t *maps = json_array();

    if (p == NULL) {           /* none of the kind: an empty, disabled one */
        gh_config_directory_defaults(&none);
        none.enabled = false;
        none.user_attribute[0] = none.group_attribute[0] = '\0';
        p = &none;
    }
    if (maps != NULL) {
        gh_rf_dir_map_add(maps, p->administrator_groups, GH_ROLE_ADMINISTRATOR);
        gh_rf_dir_map_add(maps, p->operator_groups, GH_ROLE_OPERATOR);
        gh_rf_dir_map_add(maps, p->readonly_groups, GH_ROLE_READONLY);
    }
    return json_pack("{s:s, s:b, s:o, s:{s:s, s:s, s:n}, s:{s:{s:o, s:s, s:s}}, s:o}",
                     "AccountProviderType", ad ? "ActiveDirectoryService" : "LDAPService",
                     "ServiceEnabled", p->enabled,
                     "ServiceAddresses", gh_rf_dir_list(p->servers, " \t,"),
                     "Authentication", "AuthenticationType", "UsernameAndPassword",
                     "Username", p->bind_dn, "Password",
                     "LDAPService", "SearchSettings", "BaseDistinguishedNames",
                     p->user_base[0] != '\0' ? json_pack("[s]", p->user_base) : json_array(),
                     "UsernameAttribute", p->user_attribute,
                     "GroupsAttribute", p->group_attribute,
                     "RemoteRoleMapping", maps);
}

/* ---- JSON → profile ---- */

typedef struct {
    json_t     *errors;
    size_t      bad;
} gh_rf_dir_check;

static void gh_rf_dir_fail(gh_rf_dir_check *k, gh_redfish_msg id, const json_t *value,
                           const char *prop)
{
    char text[96];

    if (k->bad++ >= GH_RF_DIR_ERRORS_MAX)
        return;
    gh_redfish_value_text(value, text, sizeof(text));
    gh_redfish_msg_append(k->errors, id == GH_RF_MSG_PROPERTY_VALUE_INCORRECT
                                         ? gh_redfish_msg2(id, prop, text)
                                         : gh_redfish_msg2(id, text, prop));
}

/* text into field (size bytes) when it fits and holds no control character
 * nor any of bad; else a format error for prop. */
static void gh_rf_dir_text(gh_rf_dir_check *k, const json_t *v, const char *prop,
                           const char *bad, char *field, size_t size)
{
    const char *s = json_string_value(v);
    size_t      n = json_string_length(v);

    for (size_t i = 0; s != NULL && i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || strchr(bad, s[i]) != NULL)
            s = NULL;
    if (s == NULL || n >= size) {
        gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR, v, prop);
        return;
    }
    memcpy(field, s, n + 1);
}

/* An attribute description: a letter, then letters, digits and '-'. */
static void gh_rf_dir_attr(gh_rf_dir_check *k, const json_t *v, const char *prop,
                           bool empty_ok, char *field, size_t size)
{
    const char *s = json_string_value(v);
    size_t      n = json_string_length(v);
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";

    if (s == NULL || n >= size || (n == 0 && !empty_ok) || strspn(s, ok) != n ||
        (n > 0 && strchr(ok + 52, s[0]) != NULL)) {
        gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR, v, prop);
        return;
    }
    memcpy(field, s, n + 1);
}

static void gh_rf_dir_addresses(gh_rf_dir_check *k, const json_t *a, gh_config_directory *p)
{
    char   servers[sizeof(p->servers)] = "";
    size_t used = 0, i;
    json_t *v;

    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);

        /* no separator of the list, nor any control character */
        for (size_t j = 0; s != NULL && j < n; j++)
            if ((unsigned char)s[j] <= 0x20 || s[j] == 0x7f || s[j] == ',')
                s = NULL;
        if (s == NULL || n == 0 ||
            (strncmp(s, "ldap://", 7) != 0 && strncmp(s, "ldaps://", 8) != 0) ||
            used + n + 2 > sizeof(servers)) {
            gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR, v, "ServiceAddresses");
            return;
        }
        used += (size_t)snprintf(servers + used, sizeof(servers) - used, "%s%s",
                                 used > 0 ? " " : "", s);
    }
    memcpy(p->servers, servers, sizeof(servers));
}

static void gh_rf_dir_auth(gh_rf_dir_check *k, const json_t *o, gh_config_directory *p,
                           gh_redfish_directory_change *chg)
{
    const json_t *type = json_object_get(o, "AuthenticationType");
    const json_t *user = json_object_get(o, "Username");
    const json_t *pw = json_object_get(o, "Password");

    k->bad += gh_redfish_props_check(o, gh_rf_auth_props, GH_RF_N(gh_rf_auth_props), k->errors);
    if (json_is_string(type) && strcmp(json_string_value(type), "UsernameAndPassword") != 0)
        gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST, type, "AuthenticationType");
    if (json_is_string(user)) {
        gh_rf_dir_text(k, user, "Username", "", p->bind_dn, sizeof(p->bind_dn));
        if (p->bind_dn[0] == '\0')
            p->bind_password_file[0] = '\0';       /* anonymous: no password at all */
    }
    if (json_is_string(pw) && (json_string_length(pw) == 0 ||
                               json_string_length(pw) > GH_PASSWORD_MAX ||
                               strlen(json_string_value(pw)) != json_string_length(pw))) {
        if (k->bad++ < GH_RF_DIR_ERRORS_MAX)
            gh_redfish_msg_append(k->errors, gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR,
                                                             "******", "Password"));
    } else if (json_is_string(pw)) {
        chg->password = json_string_value(pw);
        chg->password_len = json_string_length(pw);
    }
}

static void gh_rf_dir_search(gh_rf_dir_check *k, const json_t *o, gh_config_directory *p)
{
    const json_t *bases = json_object_get(o, "BaseDistinguishedNames");
    const json_t *user = json_object_get(o, "UsernameAttribute");
    const json_t *groups = json_object_get(o, "GroupsAttribute");

    k->bad += gh_redfish_props_check(o, gh_rf_search_props, GH_RF_N(gh_rf_search_props),
                                     k->errors);
    if (json_is_array(bases) && json_array_size(bases) != 1)
        gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_INCORRECT, bases, "BaseDistinguishedNames");
    else if (json_is_array(bases))
        gh_rf_dir_text(k, json_array_get(bases, 0), "BaseDistinguishedNames", "",
                       p->user_base, sizeof(p->user_base));
    if (json_is_string(user))
        gh_rf_dir_attr(k, user, "UsernameAttribute", false, p->user_attribute,
                       sizeof(p->user_attribute));
    if (json_is_string(groups))
        gh_rf_dir_attr(k, groups, "GroupsAttribute", true, p->group_attribute,
                       sizeof(p->group_attribute));
}

static void gh_rf_dir_ldap(gh_rf_dir_check *k, const json_t *o, gh_config_directory *p)
{
    const json_t *s = json_object_get(o, "SearchSettings");

    k->bad += gh_redfish_props_check(o, gh_rf_ldap_props, GH_RF_N(gh_rf_ldap_props), k->errors);
    if (json_is_object(s))
        gh_rf_dir_search(k, s, p);
}

/* Add one mapping to the list of its role; false when it does not fit. */
static bool gh_rf_dir_map_put(gh_config_directory *p, const char *dn, const char *role)
{
    char  *list = strcmp(role, "Administrator") == 0 ? p->administrator_groups
                  : strcmp(role, "Operator") == 0    ? p->operator_groups
                                                     : p->readonly_groups;
    size_t used = strlen(list), n = strlen(dn);

    if (used + n + 2 > GH_DIRECTORY_GROUPS_MAX)
        return false;
    if (used > 0)
        list[used++] = '|';
    memcpy(list + used, dn, n + 1);
    return true;
}

/* One element of a PATCHed RemoteRoleMapping over the one at its place
 * (cur, may be NULL), added to p's lists. */
static void gh_rf_dir_map_one(gh_rf_dir_check *k, const json_t *e, const json_t *cur,
                              gh_config_directory *p)
{
    const json_t *group = json_object_get(e, "RemoteGroup");
    const json_t *role = json_object_get(e, "LocalRole");
    char dn[GH_DIRECTORY_GROUPS_MAX] = "";
    size_t before = k->bad;

    k->bad += gh_redfish_props_check(e, gh_rf_mapping_props, GH_RF_N(gh_rf_mapping_props),
                                     k->errors);
    group = group != NULL ? group : json_object_get(cur, "RemoteGroup");
    role = role != NULL ? role : json_object_get(cur, "LocalRole");
    if (!json_is_string(group) || json_string_length(group) == 0)
        gh_rf_dir_fail(k, group == NULL ? GH_RF_MSG_PROPERTY_MISSING
                                        : GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR,
                       group, "RemoteGroup");
    else
        gh_rf_dir_text(k, group, "RemoteGroup", "|", dn, sizeof(dn));
    if (!json_is_string(role) ||
        (strcmp(json_string_value(role), "Administrator") != 0 &&
         strcmp(json_string_value(role), "Operator") != 0 &&
         strcmp(json_string_value(role), "ReadOnly") != 0))
        gh_rf_dir_fail(k, role == NULL ? GH_RF_MSG_PROPERTY_MISSING
                                       : GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST,
                       role, "LocalRole");
    if (k->bad == before && !gh_rf_dir_map_put(p, dn, json_string_value(role)))
        gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_INCORRECT, group, "RemoteRoleMapping");
}

static void gh_rf_dir_mappings(gh_rf_dir_check *k, const json_t *a, gh_config_directory *p)
{
    json_t *cur = json_array();
    size_t  i;
    json_t *e;

    if (cur == NULL) {
        k->bad++;
        return;
    }
    gh_rf_dir_map_add(cur, p->administrator_groups, GH_ROLE_ADMINISTRATOR);
    gh_rf_dir_map_add(cur, p->operator_groups, GH_ROLE_OPERATOR);
    gh_rf_dir_map_add(cur, p->readonly_groups, GH_ROLE_READONLY);
    p->administrator_groups[0] = p->operator_groups[0] = p->readonly_groups[0] = '\0';
    json_array_foreach(a, i, e) {
        const json_t *at = json_array_get(cur, i);

        if (json_is_null(e))
            continue;                               /* removed */
        if (!json_is_object(e))
            gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_TYPE_ERROR, e, "RemoteRoleMapping");
        else if (json_object_size(e) == 0 && at == NULL)
            gh_rf_dir_fail(k, GH_RF_MSG_PROPERTY_VALUE_INCORRECT, e, "RemoteRoleMapping");
        else
            gh_rf_dir_map_one(k, e, at, p);
    }
    json_decref(cur);
}

size_t gh_redfish_directory_patch(const json_t *obj, gh_config_directory *p,
                                  gh_redfish_directory_change *chg, json_t *errors)
{
    gh_rf_dir_check k = { errors, 0 };
    const json_t *v;

    chg->password = NULL;
    chg->password_len = 0;
    if (!json_is_object(obj))
        return 0;                                   /* the caller's type check */
    k.bad = gh_redfish_props_check(obj, gh_rf_dir_props, GH_RF_N(gh_rf_dir_props), errors);
    if ((v = json_object_get(obj, "ServiceEnabled")) != NULL && json_is_boolean(v))
        p->enabled = json_is_true(v);
    if (json_is_array(v = json_object_get(obj, "ServiceAddresses")))
        gh_rf_dir_addresses(&k, v, p);
    if (json_is_object(v = json_object_get(obj, "Authentication")))
        gh_rf_dir_auth(&k, v, p, chg);
    if (json_is_object(v = json_object_get(obj, "LDAPService")))
        gh_rf_dir_ldap(&k, v, p);
    if (json_is_array(v = json_object_get(obj, "RemoteRoleMapping")))
        gh_rf_dir_mappings(&k, v, p);
    return k.bad;
}
