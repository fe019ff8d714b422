/*
 * ovirt_route.h: what the oVirt dialect makes of a request path, once per
 * request: classify routes it into the plan, and serve reads it from there
 * (dialect.h keeps its bytes in gh_plan; the accessors below read them as
 * this type). Routing itself is in ovirt_route.c.
 */
#ifndef GH_OVIRT_ROUTE_H
#define GH_OVIRT_ROUTE_H

#include "../common/dialect.h"
#include "../../core/gh.h"

typedef enum {
    GH_OV_OTHER = 0,     /* anything else under /ovirt-engine: 404 once authenticated */
    GH_OV_PKI,
    GH_OV_TOKEN,
    GH_OV_LOGOUT,
    GH_OV_API
} gh_ovirt_route_kind;

typedef struct {
    gh_ovirt_route_kind kind;
    int     path_version;   /* API: N of a /vN segment; 0: none; -1: unreadable */
    bool    root;           /* API: the <api> document itself */
    gh_str  rest;           /* API: below the prefix and the version, no trailing
                             * slash ("" for the root); a view into the path */
} gh_ovirt_route;

void gh_ovirt_route_parse(gh_str path, gh_ovirt_route *route);

_Static_assert(sizeof(gh_ovirt_route) <= GH_ROUTE_MAX && _Alignof(gh_ovirt_route) <= GH_ROUTE_ALIGN,
               "the oVirt route must fit gh_plan.route: raise GH_ROUTE_MAX in dialect.h");

/* The route in a plan, in place: classify writes it, serve reads it. */
static inline gh_ovirt_route *gh_ovirt_route_in(gh_plan *plan)
{
    return (gh_ovirt_route *)(void *)plan->route;
}

static inline const gh_ovirt_route *gh_ovirt_route_of(const gh_plan *plan)
{
    return (const gh_ovirt_route *)(const void *)plan->route;
}

#endif
