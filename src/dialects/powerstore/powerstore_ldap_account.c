/*
 * powerstore_ldap_account.c: PowerStore's ldap_account resource as one DN
 * of a directory profile's role map, both ways, with no store and no HTTP
 * (powerstore_ldap.c serves it over these).
 *
 * An ldap_account is one DN of the profile's role map (administrator_groups,
 * operator_groups, readonly_groups): role_id 1, 2 or 3 (PowerStore's
 * Administrator, Storage Administrator, Operator, which map onto the core's
 * three roles one to one; the roles a directory account could not read back
 * as written are refused). Its id is stable, made of the domain and the DN
 * (the first 48 bits of their SHA-256, in decimal), so it survives a
 * restart and a change of role; its type is User when the DN's first RDN is
 * the domain's user id attribute, else Group. Created from a name, its DN
 * is that RDN under the user (or group) search path, as a flat tree has it.
 *
 * A domain whose role map is empty lets nobody in, and the core keeps such
 * a profile disabled: the first ldap_account added enables it, the last
 * one removed disables it (ending its users' sessions). A domain disabled
 * otherwise (Redfish's ServiceEnabled) stays so while its map holds any.
 */
#include "powerstore_internal.h"

#include "../../core/token.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

/* The list of the profile's role map that a PowerStore role's DNs are kept
 * in: the one of the core role it maps onto (powerstore_users.c). */
static char *gh_ps_role_list(gh_config_directory *p, unsigned role)
{
    switch (gh_ps_core_role(role)) {
    case GH_ROLE_ADMINISTRATOR: return p->administrator_groups;
    case GH_ROLE_OPERATOR:      return p->operator_groups;
    case GH_ROLE_READONLY:      return p->readonly_groups;
    default:                    return NULL;
    }
}

/* role, when an account of it reads back as it: the role the core role it
 * maps onto gives back (1, 2, 3); else 0. */
static unsigned gh_ps_ldap_role_value_ok(unsigned role)
{
    gh_role core = gh_ps_core_role(role);

    return core != GH_ROLE_NONE && gh_ps_role_pick(0, core) == role ? role : 0;
}

/* dn normalised (libldap, lower case) into out; false when it is no DN. */
static bool gh_ps_dn_norm(const char *dn, char *out, size_t outlen)
{
    char *norm = NULL;
    bool  ok = ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAPV3, &norm, LDAP_DN_FORMAT_LDAPV3) ==
                   LDAP_SUCCESS && norm != NULL && strlen(norm) < outlen;

    if (ok) {
        for (size_t i = 0; norm[i] != '\0'; i++)
            out[i] = (norm[i] >= 'A' && norm[i] <= 'Z') ? (char)(norm[i] + 32) : norm[i];
        out[strlen(norm)] = '\0';
    }
    ldap_memfree(norm);
    return ok;
}

int64_t gh_ps_ldap_account_id(const char *domain, const char *dn)
{
    char    norm[GH_DIRECTORY_GROUPS_MAX], text[GH_DOMAIN_MAX + 2 + GH_DIRECTORY_GROUPS_MAX];
    uint8_t digest[GH_DIGEST_LEN];
    int64_t id = 0;
    int     n;

    if (!gh_ps_dn_norm(dn, norm, sizeof(norm)))
        return 0;
    n = snprintf(text, sizeof(text), "%s\n%s", domain, norm);
    gh_token_digest(text, (size_t)n, digest);
    for (size_t i = 0; i < 6; i++)
        id = (id << 8) | digest[i];
    return id == 0 ? 1 : id;
}

/* The value of dn's first RDN into name, and whether its attribute is attr. */
static bool gh_ps_dn_first(const char *dn, const char *attr, char *name, size_t namelen,
                           bool *is_attr)
{
    LDAPDN parsed = NULL;
    bool   ok = ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
                parsed != NULL && parsed[0] != NULL && parsed[0][0] != NULL;

    if (ok) {
        LDAPAVA *ava = parsed[0][0];

        snprintf(name, namelen, "%.*s", (int)ava->la_value.bv_len, ava->la_value.bv_val);
        *is_attr = ava->la_attr.bv_len == strlen(attr) &&
                   strncasecmp(ava->la_attr.bv_val, attr, ava->la_attr.bv_len) == 0;
    }
    if (parsed != NULL)
        ldap_dnfree(parsed);
    return ok;
}

json_t *gh_ps_ldap_account_json(const gh_config_directory *p, unsigned role, const char *dn)
{
    char  id[24], rid[4], name[GH_DIRECTORY_DN_MAX];
    bool  user = false;

    name[0] = '\0';
    gh_ps_dn_first(dn, p->user_attribute, name, sizeof(name), &user);
    snprintf(id, sizeof(id), "%lld", (long long)gh_ps_ldap_account_id(p->name, dn));
    snprintf(rid, sizeof(rid), "%u", role);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "role_id", rid,
                     "domain_id", p->name, "name", name, "type", user ? "User" : "Group",
                     "type_l10n", user ? "User" : "Group", "dn", dn);
}

int gh_ps_ldap_accounts_each(const gh_config_directory *p, gh_ps_ldap_account_cb cb, void *arg)
{
    char dn[GH_DIRECTORY_GROUPS_MAX];

    for (unsigned role = 1; role <= GH_PS_ROLE_COUNT; role++) {
        const char *list;

        if (gh_ps_ldap_role_value_ok(role) == 0)
            continue;
        list = gh_ps_role_list((gh_config_directory *)p, role);

        while (*list != '\0') {
            size_t n = strcspn(list, "|");
            int    rc;

            if (n > 0 && n < sizeof(dn)) {
                memcpy(dn, list, n);
                dn[n] = '\0';
                if ((rc = cb(p, role, dn, arg)) != 0)
                    return rc;
            }
            list += n + (list[n] == '|');
        }
    }
    return 0;
}

/* Remove dn (compared normalised) from list, in place; true when it was there. */
static bool gh_ps_list_remove(char *list, const char *norm)
{
    char   dn[GH_DIRECTORY_GROUPS_MAX], other[GH_DIRECTORY_GROUPS_MAX];
    char  *p = list;
    bool   found = false;

    while (*p != '\0') {
        size_t n = strcspn(p, "|");

        snprintf(dn, sizeof(dn), "%.*s", (int)n, p);
        if (gh_ps_dn_norm(dn, other, sizeof(other)) && strcmp(other, norm) == 0) {
            size_t skip = n + (p[n] == '|');

            memmove(p, p + skip, strlen(p + skip) + 1);
            found = true;
            continue;
        }
        p += n + (p[n] == '|');
    }
    while (list[0] != '\0' && list[strlen(list) - 1] == '|')
        list[strlen(list) - 1] = '\0';
    return found;
}

static bool gh_ps_map_empty(const gh_config_directory *p)
{
    return p->administrator_groups[0] == '\0' && p->operator_groups[0] == '\0' &&
           p->readonly_groups[0] == '\0';
}

unsigned gh_ps_ldap_map_remove(gh_config_directory *p, const char *dn)
{
    char     norm[GH_DIRECTORY_GROUPS_MAX];
    unsigned was = 0;

    if (!gh_ps_dn_norm(dn, norm, sizeof(norm)))
        return 0;
    for (unsigned role = GH_PS_ROLE_COUNT; role >= 1; role--) {
        if (gh_ps_ldap_role_value_ok(role) != 0 &&
            gh_ps_list_remove(gh_ps_role_list(p, role), norm))
            was = role;
    }
    if (was != 0 && gh_ps_map_empty(p))
        p->enabled = false;
    return was;
}

bool gh_ps_ldap_map_add(gh_config_directory *p, unsigned role, const char *dn)
{
    char  *list = gh_ps_role_list(p, role);
    size_t used, len;

    if (list == NULL)
        return false;
    used = strlen(list);
    len = strlen(dn);
    if (used + (used > 0) + len >= GH_DIRECTORY_GROUPS_MAX)
        return false;
    if (gh_ps_map_empty(p))
        p->enabled = true;
    if (used > 0)
        list[used++] = '|';
    memcpy(list + used, dn, len + 1);
    return true;
}

/* A name an account is made from: printable, no character a DN escapes. */
static bool gh_ps_account_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > GH_USER_NAME_MAX || strlen(name) != len || name[0] == ' ' ||
        name[len - 1] == ' ' || name[0] == '#')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x20 || c == 0x7f || strchr(",+\"\\<>;=|", c) != NULL)
            return false;
    }
    return true;
}

gh_ps_error gh_ps_ldap_account_dn(const json_t *body, const gh_config_directory *p, char *dn,
                                  size_t dnlen, const char **prop)
{
    json_t     *name = json_object_get(body, "name");
    const char *type = json_string_value(json_object_get(body, "type"));
    bool        user = type != NULL && strcmp(type, "User") == 0;
    const char *base = user || p->group_base[0] == '\0' ? p->user_base : p->group_base;
    int         n;

    if (type == NULL || (!user && strcmp(type, "Group") != 0)) {
        *prop = "type";
        return GH_PS_E_BAD_VALUE;
    }
    *prop = "name";
    if (!gh_ps_account_name_ok(json_string_value(name), json_string_length(name)))
        return GH_PS_E_BAD_VALUE;
    n = snprintf(dn, dnlen, "%s=%s,%s", user ? p->user_attribute : "cn", json_string_value(name),
                 base);
    if (n < 0 || (size_t)n >= dnlen || !gh_ps_ldap_dn_ok(dn))
        return GH_PS_E_BAD_VALUE;
    *prop = NULL;
    return GH_PS_E_COUNT;
}

unsigned gh_ps_ldap_role_value(const json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL || json_string_length(v) != 1 || s[0] < '1' || s[0] > '9')
        return 0;
    return gh_ps_ldap_role_value_ok((unsigned)(s[0] - '0'));
}
