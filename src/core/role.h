/*
 * role.h: the core's roles and privileges (DMTF DSP0266's predefined roles).
 * Each dialect maps its own role names onto these three.
 */
#ifndef GH_ROLE_H
#define GH_ROLE_H

#include "gh.h"

typedef enum {
    GH_PRIV_LOGIN                = 1u << 0,
    GH_PRIV_CONFIGURE_MANAGER    = 1u << 1,
    GH_PRIV_CONFIGURE_USERS      = 1u << 2,
    GH_PRIV_CONFIGURE_COMPONENTS = 1u << 3,
    GH_PRIV_CONFIGURE_SELF       = 1u << 4
} gh_privilege;

typedef enum {
    GH_ROLE_NONE = 0,
    GH_ROLE_ADMINISTRATOR = 1,
    GH_ROLE_OPERATOR = 2,
    GH_ROLE_READONLY = 3
} gh_role;

#define GH_ROLE_COUNT 3

/* "Administrator", "Operator", "ReadOnly"; NULL for GH_ROLE_NONE. Static storage. */
const char *gh_role_name(gh_role role);

/* Case-sensitive match of the names above; GH_ROLE_NONE if unknown. */
gh_role gh_role_from_name(const char *name);

/* The privilege bits of a role (0 for GH_ROLE_NONE). */
unsigned gh_role_privileges(gh_role role);

/* True when role holds every bit of privs. */
bool gh_role_allows(gh_role role, unsigned privs);

/* The name of one privilege bit ("Login", "ConfigureManager", ...). Static storage. */
const char *gh_privilege_name(gh_privilege priv);

#endif
