/*
 * gateway.h: what a request passed on to an upstream needs before it goes
 * (docs/gateway.md): the privileges its method and path call for. A dialect's
 * forward hook (dialect.h) asks here once its own checks pass; the answer is
 * the [authorize] rule of the configuration for the path when there is one,
 * else the dialect's default (the Redfish Privilege Registry for what it
 * covers), else the method's: GET and HEAD need Login, anything else
 * ConfigureComponents.
 */
#ifndef GH_GATEWAY_H
#define GH_GATEWAY_H

#include <stddef.h>

#include "http.h"
#include "../../core/policy.h"

/* Who a forwarded request is, when the dialect's forward hook found out
 * itself (gh_request.gateway_who): the principal and the privileges it
 * holds (role.h bits, less what its credential withholds). */
typedef struct gh_gateway_who {
    bool         set;
    gh_principal who;
    unsigned     privileges;
} gh_gateway_who;

/* The most alternatives a default may offer (the registry's OR of sets). */
#define GH_GATEWAY_ALTERNATIVES 4

/* What the method alone calls for: Login for GET and HEAD, Login and
 * ConfigureComponents for anything else. */
unsigned gh_gateway_method_needs(gh_method method);

/* May who pass req on to the upstream? dflt holds ndflt privilege sets
 * (role.h bits), of which who must hold every privilege of one; ndflt 0
 * means the method's (gh_gateway_method_needs). When not, *missing (if not
 * NULL) gets the first privilege lacking from the first set, for the
 * dialect's 403. */
bool gh_gateway_allows(const gh_config *cfg, const gh_request *req,
                       const gh_policy_subject *who, const unsigned *dflt, size_t ndflt,
                       gh_privilege *missing);

#endif
