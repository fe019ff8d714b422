/*
 * gateway.c: the privileges a request passed on to an upstream needs, and
 * whether a principal holds them (gateway.h).
 */
#include "gateway.h"

unsigned gh_gateway_method_needs(gh_method method)
{
    if (method == GH_METHOD_GET || method == GH_METHOD_HEAD)
        return GH_PRIV_LOGIN;
    return GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_COMPONENTS;
}

bool gh_gateway_allows(const gh_config *cfg, const gh_request *req,
                       const gh_policy_subject *who, const unsigned *dflt, size_t ndflt,
                       gh_privilege *missing)
{
    unsigned holds = gh_policy_holds(who);
    unsigned method_needs;
    unsigned lacking;

    (void)cfg;
    if (ndflt == 0) {
        method_needs = gh_gateway_method_needs(req->method);
        dflt = &method_needs;
        ndflt = 1;
    }
    for (size_t i = 0; i < ndflt; i++) {
        /* Login always: without it a principal may do nothing at all. */
        if (((dflt[i] | GH_PRIV_LOGIN) & ~holds) == 0)
            return true;
    }
    lacking = (dflt[0] | GH_PRIV_LOGIN) & ~holds;
    if (missing != NULL)
        *missing = (gh_privilege)(lacking & (~lacking + 1u));
    return false;
}
