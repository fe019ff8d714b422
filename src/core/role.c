/*
 * role.c: the three roles and the privileges each holds, after the
 * predefined roles of DMTF DSP0266 ("Roles"). The tables are the whole policy at this
 * level; which privilege a method and path need is decided in core/policy.
 */
#include "role.h"

#include <string.h>

static const struct {
    gh_role     role;
    const char *name;
    unsigned    privs;
} gh_role_table[GH_ROLE_COUNT] = {
    { GH_ROLE_ADMINISTRATOR, "Administrator",
      GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_MANAGER | GH_PRIV_CONFIGURE_USERS
      | GH_PRIV_CONFIGURE_COMPONENTS | GH_PRIV_CONFIGURE_SELF },
    { GH_ROLE_OPERATOR, "Operator",
      GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_COMPONENTS | GH_PRIV_CONFIGURE_SELF },
    { GH_ROLE_READONLY, "ReadOnly",
      GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_SELF },
};

static const struct {
    gh_privilege priv;
    const char  *name;
} gh_role_priv_table[] = {
    { GH_PRIV_LOGIN,                "Login" },
    { GH_PRIV_CONFIGURE_MANAGER,    "ConfigureManager" },
    { GH_PRIV_CONFIGURE_USERS,      "ConfigureUsers" },
    { GH_PRIV_CONFIGURE_COMPONENTS, "ConfigureComponents" },
    { GH_PRIV_CONFIGURE_SELF,       "ConfigureSelf" },
};

const char *gh_role_name(gh_role role)
{
    for (size_t i = 0; i < GH_ROLE_COUNT; i++)
        if (gh_role_table[i].role == role)
            return gh_role_table[i].name;
    return NULL;
}

gh_role gh_role_from_name(const char *name)
{
    if (name == NULL)
        return GH_ROLE_NONE;
    for (size_t i = 0; i < GH_ROLE_COUNT; i++)
        if (strcmp(gh_role_table[i].name, name) == 0)
            return gh_role_table[i].role;
    return GH_ROLE_NONE;
}

unsigned gh_role_privileges(gh_role role)
{
    for (size_t i = 0; i < GH_ROLE_COUNT; i++)
        if (gh_role_table[i].role == role)
            return gh_role_table[i].privs;
    return 0;
}

bool gh_role_allows(gh_role role, unsigned privs)
{
    unsigned held = gh_role_privileges(role);

    /* Asking for nothing is not a grant: a role-less principal gets nothing. */
    if (held == 0)
        return false;
    return (held & privs) == privs;
}

const char *gh_privilege_name(gh_privilege priv)
{
    for (size_t i = 0; i < sizeof(gh_role_priv_table) / sizeof(gh_role_priv_table[0]); i++)
        if (gh_role_priv_table[i].priv == priv)
            return gh_role_priv_table[i].name;
    return NULL;
}
