/*
 * ovirt_route.c: the oVirt routes (ovirt_route.h): which route a request
 * path names, all under /ovirt-engine and matched exactly (the engine's
 * servlets are case-sensitive), and the methods each answers. The router
 * (ovirt.c) classifies and serves by them; the CA download and the API's
 * credential reading call down into this file too.
 */
#include "ovirt_internal.h"

#include <string.h>

/* path starts with prefix and ends there or at a '/'. */
static bool gh_ovirt_under(gh_str path, const char *prefix, gh_str *rest)
{
    size_t n = strlen(prefix);

    if (path.data == NULL || path.len < n || memcmp(path.data, prefix, n) != 0 ||
        (path.len > n && path.data[n] != '/'))
        return false;
    *rest = (gh_str){ path.data + n, path.len - n };
    return true;
}

/* A /vN segment at the start of rest: N (1 to 3 digits), -1 if unreadable,
 * 0 when rest does not start with "/v" and a digit. */
static int gh_ovirt_version_segment(gh_str *rest)
{
    size_t i = 2;
    int    v = 0;

    if (rest->len < 3 || rest->data[1] != 'v' || rest->data[2] < '0' || rest->data[2] > '9')
        return 0;
    while (i < rest->len && rest->data[i] != '/') {
        if (rest->data[i] < '0' || rest->data[i] > '9' || i > 4)
            return 0;      /* "/vms", "/v4x": a resource, not a version */
        v = v * 10 + (rest->data[i] - '0');
        i++;
    }
    rest->data += i;
    rest->len -= i;
    return v > 0 ? v : -1;
}

void gh_ovirt_route_parse(gh_str path, gh_ovirt_route *route)
{
    gh_str rest;

    memset(route, 0, sizeof(*route));
    route->rest = (gh_str){ "", 0 };
    if (gh_str_eq(path, GH_OVIRT_PKI)) {
        route->kind = GH_OV_PKI;
    } else if (gh_str_eq(path, GH_OVIRT_TOKEN)) {
        route->kind = GH_OV_TOKEN;
    } else if (gh_str_eq(path, GH_OVIRT_LOGOUT)) {
        route->kind = GH_OV_LOGOUT;
    } else if (gh_ovirt_under(path, GH_OVIRT_API, &rest)) {
        route->kind = GH_OV_API;
        route->path_version = gh_ovirt_version_segment(&rest);
        if (rest.len > 0 && rest.data[rest.len - 1] == '/')
            rest.len--;
        route->rest = rest;
        route->root = rest.len == 0;
    }
}

bool gh_ovirt_read_method(gh_method m)
{
    return m == GH_METHOD_GET || m == GH_METHOD_HEAD;
}

bool gh_ovirt_sso_method(gh_method m)
{
    return m == GH_METHOD_GET || m == GH_METHOD_POST;
}

const char *gh_ovirt_allow(gh_ovirt_route_kind kind)
{
    return kind == GH_OV_TOKEN || kind == GH_OV_LOGOUT ? "GET, POST" : "GET, HEAD";
}
