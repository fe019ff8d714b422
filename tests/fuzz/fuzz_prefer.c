/*
 * fuzz_prefer.c: libFuzzer target for the request headers the oVirt API
 * reads: Prefer, Session-TTL, Version, Accept, and which credential a request
 * carries from its Prefer, Cookie and Authorization headers (the input is the
 * three values, each ended by a newline, the rest the path). Every parser
 * also gets the whole input as one value. Checks the answers stay in range
 * and agree with each other: a cookie's token lies inside the cookie, a new
 * session is only opened from an Authorization header, the classifier's plan
 * fits the credential.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/ovirt/ovirt_internal.h"

typedef struct {
    gh_str prefer, cookie, authorization;
} gh_fuzz_headers;

static gh_str gh_fuzz_header(const gh_request *req, const char *name)
{
    const gh_fuzz_headers *h = req->adapter;

    if (strcmp(name, "Prefer") == 0)
        return h->prefer;
    if (strcmp(name, "Cookie") == 0)
        return h->cookie;
    if (strcmp(name, "Authorization") == 0)
        return h->authorization;
    return (gh_str){ NULL, 0 };
}

static gh_str gh_fuzz_line(gh_str *in)
{
    const char *nl = memchr(in->data, '\n', in->len);
    gh_str      line = { in->data, nl != NULL ? (size_t)(nl - in->data) : in->len };

    in->data += line.len + (nl != NULL);
    in->len -= line.len + (nl != NULL);
    return line;
}

static void gh_fuzz_values(gh_str v)
{
    int64_t minutes = 0;
    unsigned flags = gh_ovirt_prefer(v);
    gh_ovirt_format f = gh_ovirt_format_for(v);

    if ((flags & ~(GH_OVIRT_PREFER_PERSISTENT | GH_OVIRT_PREFER_NEW_AUTH |
                   GH_OVIRT_PREFER_CSRF)) != 0)
        abort();
    if (gh_ovirt_session_ttl(v, &minutes) && (minutes < 1 || minutes > 999999999))
        abort();
    if (f != GH_OV_FORMAT_XML && f != GH_OV_FORMAT_JSON && f != GH_OV_FORMAT_NONE)
        abort();
    (void)gh_ovirt_accept_json(v);
    (void)gh_ovirt_version_ok(0, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_str          in = { (const char *)data, size };
    gh_fuzz_headers h;
    gh_request      req;
    gh_credential   cred;
    gh_ovirt_auth   auth;
    gh_plan         plan;
    gh_ovirt_route  route;
    gh_str          token;

    gh_fuzz_values(in);
    h.prefer = gh_fuzz_line(&in);
    h.cookie = gh_fuzz_line(&in);
    h.authorization = gh_fuzz_line(&in);
    gh_fuzz_values(h.prefer);

    memset(&req, 0, sizeof(req));
    req.method = GH_METHOD_GET;
    req.path = in.len > 0 ? in : GH_STR(GH_OVIRT_API "/vms");
    req.header = gh_fuzz_header;
    req.adapter = &h;
    gh_ovirt_api_credential(&req, &auth, &cred);
    if (auth.cookie.data != NULL) {
        if (h.cookie.data == NULL || auth.cookie.data < h.cookie.data ||
            auth.cookie.data + auth.cookie.len > h.cookie.data + h.cookie.len)
            abort();
        token = gh_ovirt_cookie_token(auth.cookie);
        if (token.len == 0 || token.len > auth.cookie.len ||
            auth.cookie_csrf != (token.len != auth.cookie.len))
            abort();
    }
    if (auth.source == GH_OV_BY_COOKIE && (cred.kind != GH_CRED_TOKEN || auth.creates))
        abort();
    if (auth.creates && auth.source != GH_OV_BY_AUTHORIZATION)
        abort();
    if (auth.ends && auth.cookie.data == NULL)
        abort();
    if (cred.kind == GH_CRED_BASIC && (cred.user[0] == '\0' || cred.domain[0] == '\0'))
        abort();
    gh_credential_wipe(&cred);

    /* Only the certificate and the SSO endpoints are open; they read no credential. */
    gh_ovirt_dialect.classify(&req, &plan);
    gh_ovirt_route_parse(req.path, &route);
    if (plan.open && ((route.kind != GH_OV_PKI && route.kind != GH_OV_TOKEN &&
                       route.kind != GH_OV_LOGOUT) || plan.cred.kind != GH_CRED_NONE))
        abort();
    if (!plan.open && (route.kind == GH_OV_PKI || route.kind == GH_OV_TOKEN ||
                       route.kind == GH_OV_LOGOUT))
        abort();
    gh_credential_wipe(&plan.cred);
    return 0;
}
