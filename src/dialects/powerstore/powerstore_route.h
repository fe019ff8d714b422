/*
 * powerstore_route.h: what the PowerStore dialect makes of a request path,
 * once per request: classify routes it into the plan, and serve reads it from
 * there (dialect.h keeps its bytes in gh_plan; the accessors below read them as
 * this type). Routing itself is in powerstore_route.c.
 */
#ifndef GH_POWERSTORE_ROUTE_H
#define GH_POWERSTORE_ROUTE_H

#include "../common/dialect.h"
#include "../../core/gh.h"

#define GH_PS_PATH_MAX      1024     /* bytes of a decoded path we route */

typedef enum {
    GH_PS_TREE = 0,          /* a bundled resource, an instance of one, or 404 */
    GH_PS_LOGIN_SESSION,     /* /api/rest/login_session */
    GH_PS_LOGOUT,            /* /api/rest/logout */
    GH_PS_ROLES,             /* /api/rest/role */
    GH_PS_ROLE,              /* /api/rest/role/{1..5} */
    GH_PS_USERS,             /* /api/rest/local_user */
    GH_PS_USER,              /* /api/rest/local_user/{id | name:NAME} */
    GH_PS_LDAP_DOMAINS,      /* /api/rest/ldap_domain */
    GH_PS_LDAP_DOMAIN,       /* /api/rest/ldap_domain/{name} */
    GH_PS_LDAP_VERIFY,       /* /api/rest/ldap_domain/{name}/verify */
    GH_PS_LDAP_ACCOUNTS,     /* /api/rest/ldap_account */
    GH_PS_LDAP_ACCOUNT       /* /api/rest/ldap_account/{id} */
} gh_ps_route_kind;

typedef struct {
    gh_ps_route_kind kind;
    bool     valid;                        /* decoded, and a member id well formed */
    size_t   path_len;
    size_t   segments;                     /* below the root: /api/rest/volume is 3 */
    size_t   collection_len;               /* GH_PS_TREE: bytes of /api/rest/TYPE in path */
    size_t   member_off, member_len;       /* GH_PS_TREE with 4 segments: the id in path */
    unsigned role;                         /* GH_PS_ROLE: 1..5 */
    int64_t  user_id;                      /* GH_PS_USER by id; 0 when by name;
                                            * GH_PS_LDAP_ACCOUNT: its id */
    char     user_name[GH_USER_NAME_MAX + 1]; /* GH_PS_USER by name:NAME;
                                            * GH_PS_LDAP_DOMAIN, _VERIFY: the domain */
    char     path[GH_PS_PATH_MAX + 1];     /* decoded, one trailing slash dropped; last:
                                            * parsing zeroes what comes before, not this */
} gh_ps_route;

/* Route a request path (percent-decoded here, one trailing slash ignored).
 * Segment names are matched exactly, as PowerStore matches them. */
void gh_ps_route_parse(gh_str raw, gh_ps_route *route);

_Static_assert(sizeof(gh_ps_route) <= GH_ROUTE_MAX && _Alignof(gh_ps_route) <= GH_ROUTE_ALIGN,
               "the PowerStore route must fit gh_plan.route: raise GH_ROUTE_MAX in dialect.h");

/* The route in a plan, in place: classify writes it, serve reads it. */
static inline gh_ps_route *gh_ps_route_in(gh_plan *plan)
{
    return (gh_ps_route *)(void *)plan->route;
}

static inline const gh_ps_route *gh_ps_route_of(const gh_plan *plan)
{
    return (const gh_ps_route *)(const void *)plan->route;
}

#endif
