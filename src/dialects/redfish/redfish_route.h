/*
 * redfish_route.h: what the Redfish dialect makes of a request path, once per
 * request: classify routes it into the plan, and serve reads it from there
 * (dialect.h keeps its bytes in gh_plan; the accessors below read them as
 * this type). Routing itself is in redfish_route.c.
 */
#ifndef GH_REDFISH_ROUTE_H
#define GH_REDFISH_ROUTE_H

#include "../common/dialect.h"
#include "../../core/role.h"
#include "../../core/token.h"

#define GH_REDFISH_PATH_MAX   1024     /* bytes of a decoded path we route */

typedef enum {
    GH_RF_TREE = 0,          /* anything else: the bundled tree, or 404 */
    GH_RF_VERSIONS,          /* /redfish */
    GH_RF_ROOT,              /* /redfish/v1 */
    GH_RF_ODATA,             /* /redfish/v1/odata */
    GH_RF_METADATA,          /* /redfish/v1/$metadata */
    GH_RF_OPENAPI,           /* /redfish/v1/openapi.yaml */
    GH_RF_SESSION_SERVICE,
    GH_RF_SESSIONS,
    GH_RF_SESSIONS_MEMBERS,  /* .../Sessions/Members: the login alias (POST only) */
    GH_RF_SESSION,
    GH_RF_ACCOUNT_SERVICE,
    GH_RF_ACCOUNTS,
    GH_RF_ACCOUNT,
    GH_RF_ROLES,
    GH_RF_ROLE,
    GH_RF_EVENT_SERVICE,
    GH_RF_SUBSCRIPTIONS,     /* /redfish/v1/EventService/Subscriptions */
    GH_RF_SUBSCRIPTION,      /* .../Subscriptions/{id}: an open SSE stream */
    GH_RF_SSE                /* /redfish/v1/EventService/SSE: the event stream */
} gh_redfish_route_kind;

typedef struct {
    gh_redfish_route_kind kind;
    bool    valid;                           /* the path decoded and the member id is well formed */
    size_t  path_len;
    char    session_id[GH_SESSION_ID_LEN + 1];  /* GH_RF_SESSION, lower case */
    int64_t account_id;                      /* GH_RF_ACCOUNT; GH_RF_SUBSCRIPTION: the stream's id */
    gh_role role;                            /* GH_RF_ROLE */
    char    path[GH_REDFISH_PATH_MAX + 1];   /* decoded, no trailing slash; last: parsing
                                              * zeroes what comes before, not this */
} gh_redfish_route;

/* Route a raw request path (percent-decoded, case and trailing slash ignored). */
void gh_redfish_route_parse(gh_str raw, gh_redfish_route *route);

_Static_assert(sizeof(gh_redfish_route) <= GH_ROUTE_MAX && _Alignof(gh_redfish_route) <= GH_ROUTE_ALIGN,
               "the Redfish route must fit gh_plan.route: raise GH_ROUTE_MAX in dialect.h");

/* The route in a plan, in place: classify writes it, serve reads it. */
static inline gh_redfish_route *gh_redfish_route_in(gh_plan *plan)
{
    return (gh_redfish_route *)(void *)plan->route;
}

static inline const gh_redfish_route *gh_redfish_route_of(const gh_plan *plan)
{
    return (const gh_redfish_route *)(const void *)plan->route;
}

#endif
