/*
 * directory.c: the group → role map of a directory profile. The map is
 * three lists of group DNs in the configuration (administrator_groups,
 * operator_groups, readonly_groups, each separated by '|'); a user's groups
 * come from the directory as DNs too. Both sides are normalised by libldap
 * (ldap_dn_normalize: spacing, escaping) and compared without regard to
 * case, as directories compare DNs. The best role wins, so a user in an
 * operators' group and an administrators' group is an Administrator; a user
 * in no mapped group has no role, and may not log in. It also owns what a
 * recheck of a live session's user makes of the directory's answer
 * (gh_directory_recheck_decide; service_recheck.c acts on it).
 */
#include "directory.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

/* dn normalised into out; false when it is no DN or does not fit. */
static bool gh_directory_dn_norm(const char *dn, char *out, size_t outlen)
{
    struct berval in, norm = { 0, NULL };
    bool ok;

    in.bv_val = (char *)dn;
    in.bv_len = strlen(dn);
    ok = ldap_dn_normalize(in.bv_val, LDAP_DN_FORMAT_LDAPV3, &norm.bv_val,
                           LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && norm.bv_val != NULL &&
         strlen(norm.bv_val) < outlen;
    if (ok)
        snprintf(out, outlen, "%s", norm.bv_val);
    ldap_memfree(norm.bv_val);
    return ok;
}

/* Is the normalised DN one of list (DNs separated by '|')? */
static bool gh_directory_in_list(const char *norm, const char *list)
{
    char dn[GH_DIRECTORY_GROUPS_MAX], other[GH_DIRECTORY_GROUPS_MAX];

    while (*list != '\0') {
        size_t n = strcspn(list, "|");

        if (n > 0 && n < sizeof(dn)) {
            memcpy(dn, list, n);
            dn[n] = '\0';
            if (gh_directory_dn_norm(dn, other, sizeof(other)) && strcasecmp(norm, other) == 0)
                return true;
        }
        list += n + (list[n] == '|');
    }
    return false;
}

gh_role gh_directory_role(const gh_config_directory *p, const char *const *groups,
                          size_t ngroups)
{
    gh_role best = GH_ROLE_NONE;
    char    norm[GH_DIRECTORY_GROUPS_MAX];

    for (size_t i = 0; i < ngroups && best != GH_ROLE_ADMINISTRATOR; i++) {
        gh_role r = GH_ROLE_NONE;

        if (groups[i] == NULL || !gh_directory_dn_norm(groups[i], norm, sizeof(norm)))
            continue;
        if (gh_directory_in_list(norm, p->administrator_groups))
            r = GH_ROLE_ADMINISTRATOR;
        else if (gh_directory_in_list(norm, p->operator_groups))
            r = GH_ROLE_OPERATOR;
        else if (gh_directory_in_list(norm, p->readonly_groups))
            r = GH_ROLE_READONLY;
        if (r != GH_ROLE_NONE && (best == GH_ROLE_NONE || r < best))
            best = r;
    }
    return best;
}

gh_directory_recheck gh_directory_recheck_decide(gh_directory_result dr, gh_role had,
                                                 gh_role role, int64_t since_confirmed_ms,
                                                 int64_t interval_ms)
{
    switch (dr) {
    case GH_DIR_OK:
        return role == had ? GH_RECHECK_KEEP : GH_RECHECK_ROLE;
    case GH_DIR_NO_USER:
    case GH_DIR_NO_ROLE:
        return GH_RECHECK_END;
    default:
        /* Not answered: the user may have been removed meanwhile. Kept
         * through one missed recheck, ended at the next one missed. */
        return since_confirmed_ms >= 2 * interval_ms ? GH_RECHECK_END : GH_RECHECK_KEEP;
    }
}
