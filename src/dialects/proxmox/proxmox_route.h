/*
 * proxmox_route.h: what the Proxmox VE dialect makes of a request, once per
 * request: classify routes it into the plan, and serve reads it from there
 * (dialect.h keeps it in gh_plan). Routing itself is in proxmox_parse.c.
 */
#ifndef GH_PROXMOX_ROUTE_H
#define GH_PROXMOX_ROUTE_H

#include "../common/dialect.h"

#define GH_PVE_PATH_MAX     512      /* bytes of a decoded path we route */
#define GH_PVE_REALM_MAX    32       /* bytes of a realm name */
#define GH_PVE_TOKENID_MAX  56       /* bytes of an API token's id: "token:" and it
                                      * name a store attribute (GH_ATTRIBUTE_NAME_MAX) */

typedef enum {
    GH_PVE_TREE = 0,         /* a bundled resource, or 404 */
    GH_PVE_TICKET,           /* /api2/json/access/ticket */
    GH_PVE_TOKENS,           /* /api2/json/access/users/{userid}/token */
    GH_PVE_TOKEN             /* /api2/json/access/users/{userid}/token/{tokenid} */
} gh_pve_route_kind;

/* A Proxmox user id, NAME@REALM. */
typedef struct {
    char user[GH_USER_NAME_MAX + 1];
    char realm[GH_PVE_REALM_MAX + 1];
} gh_pve_userid;

typedef struct {
    gh_pve_route_kind kind;
    bool          valid;               /* decoded, and the ids in it well formed */
    bool          api_token;           /* carries a PVEAPIToken: serve checks it */
    size_t        path_len;
    gh_pve_userid userid;              /* TOKENS, TOKEN */
    char          tokenid[GH_PVE_TOKENID_MAX + 1];   /* TOKEN */
    char          path[GH_PVE_PATH_MAX + 1];   /* decoded, one trailing slash dropped;
                                                * last: parsing does not zero it */
} gh_pve_route;

_Static_assert(sizeof(gh_pve_route) <= GH_ROUTE_MAX && _Alignof(gh_pve_route) <= GH_ROUTE_ALIGN,
               "the proxmox route must fit gh_plan.route: raise GH_ROUTE_MAX in dialect.h");

/* The route in a plan's opaque bytes: written by classify, read by serve. */
static inline gh_pve_route *gh_pve_route_in(gh_plan *plan)
{
    return (gh_pve_route *)(void *)plan->route;
}

static inline const gh_pve_route *gh_pve_route_of(const gh_plan *plan)
{
    return (const gh_pve_route *)(const void *)plan->route;
}

/* Route a request path (percent-decoded here, one trailing slash ignored).
 * Segments are matched exactly, as Proxmox VE matches them. */
void gh_pve_route_parse(gh_str raw, gh_pve_route *route);

#endif
