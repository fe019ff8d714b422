/*
 * powerstore_route.c: the PowerStore routes (powerstore_route.h): which
 * route a request path names, segment names matched exactly as PowerStore
 * matches them, a member id checked as it is spelled, and the methods each
 * route allows (ldap_domain's and ldap_account's among them). The router (powerstore.c) classifies and serves by them, and
 * the render hook (powerstore_tree.c) finds the bundled files by them.
 */
#include "powerstore_internal.h"

#include <stddef.h>
#include <string.h>

/* A local_user member: its id in decimal (no sign, no leading zero: one
 * spelling per account) or name:NAME, as PowerStore names instances. */
static bool gh_ps_user_seg(gh_str seg, gh_ps_route *r)
{
    int64_t v = 0;

    if (seg.len > 5 && memcmp(seg.data, "name:", 5) == 0) {
        if (seg.len - 5 > GH_USER_NAME_MAX)
            return false;
        memcpy(r->user_name, seg.data + 5, seg.len - 5);
        r->user_name[seg.len - 5] = '\0';
        return gh_account_name_valid(r->user_name);
    }
    if (seg.len == 0 || seg.len > 18 || seg.data[0] == '0')
        return false;
    for (size_t i = 0; i < seg.len; i++) {
        if (seg.data[i] < '0' || seg.data[i] > '9')
            return false;
        v = v * 10 + (seg.data[i] - '0');
    }
    r->user_id = v;
    return true;
}

_Static_assert(GH_DOMAIN_MAX <= GH_USER_NAME_MAX, "a domain name must fit route.user_name");

/* An ldap_domain member: a profile's name. */
static bool gh_ps_domain_seg(gh_str seg, gh_ps_route *r)
{
    if (seg.len == 0 || seg.len > GH_DOMAIN_MAX)
        return false;
    memcpy(r->user_name, seg.data, seg.len);
    r->user_name[seg.len] = '\0';
    return gh_config_directory_name_ok(r->user_name);
}

/* An ldap_account member: its id in decimal, 1 to 2^48 - 1, one spelling. */
static bool gh_ps_account_seg(gh_str seg, gh_ps_route *r)
{
    int64_t v = 0;

    if (seg.len == 0 || seg.len > 15 || seg.data[0] == '0')
        return false;
    for (size_t i = 0; i < seg.len; i++) {
        if (seg.data[i] < '0' || seg.data[i] > '9')
            return false;
        v = v * 10 + (seg.data[i] - '0');
    }
    r->user_id = v;
    return v < ((int64_t)1 << 48);
}

/* The routes of three segments below the root: /api/rest/NAME. */
static gh_ps_route_kind gh_ps_collection_kind(gh_str name)
{
    if (gh_str_eq(name, "login_session"))
        return GH_PS_LOGIN_SESSION;
    if (gh_str_eq(name, "logout"))
        return GH_PS_LOGOUT;
    if (gh_str_eq(name, "role"))
        return GH_PS_ROLES;
    if (gh_str_eq(name, "local_user"))
        return GH_PS_USERS;
    if (gh_str_eq(name, "ldap_domain"))
        return GH_PS_LDAP_DOMAINS;
    if (gh_str_eq(name, "ldap_account"))
        return GH_PS_LDAP_ACCOUNTS;
    return GH_PS_TREE;
}

void gh_ps_route_parse(gh_str raw, gh_ps_route *r)
{
    gh_str seg[5];
    size_t n = 0, start = 1;

    memset(r, 0, offsetof(gh_ps_route, path));
    r->kind = GH_PS_TREE;
    if (!gh_path_decode(raw, r->path, GH_PS_PATH_MAX, &r->path_len)) {
        r->path[0] = '\0';
        r->path_len = 0;
        return;
    }
    r->valid = true;
    for (size_t i = 1; i <= r->path_len && r->path_len > 1; i++) {
        if (i < r->path_len && r->path[i] != '/')
            continue;
        if (n == sizeof(seg) / sizeof(seg[0])) {
            n++;            /* deeper than any route: only the tree may know it */
            break;
        }
        seg[n++] = (gh_str){ r->path + start, i - start };
        start = i + 1;
    }
    r->segments = n;
    r->collection_len = r->path_len;
    if (n < 3 || n > 5 || !gh_str_eq(seg[0], "api") || !gh_str_eq(seg[1], "rest"))
        return;
    if (n == 3) {
        r->kind = gh_ps_collection_kind(seg[2]);
        return;
    }
    if (n == 5) {
        /* ldap_domain/{name}/verify; the tree has nothing this deep */
        if (gh_str_eq(seg[2], "ldap_domain") && gh_str_eq(seg[4], "verify")) {
            r->kind = GH_PS_LDAP_VERIFY;
            r->valid = gh_ps_domain_seg(seg[3], r);
        }
        return;
    }
    if (gh_str_eq(seg[2], "ldap_domain")) {
        r->kind = GH_PS_LDAP_DOMAIN;
        r->valid = gh_ps_domain_seg(seg[3], r);
    } else if (gh_str_eq(seg[2], "ldap_account")) {
        r->kind = GH_PS_LDAP_ACCOUNT;
        r->valid = gh_ps_account_seg(seg[3], r);
    } else if (gh_str_eq(seg[2], "role")) {
        r->kind = GH_PS_ROLE;
        r->valid = seg[3].len == 1 && seg[3].data[0] >= '1' &&
                   seg[3].data[0] < '1' + GH_PS_ROLE_COUNT;
        r->role = r->valid ? (unsigned)(seg[3].data[0] - '0') : 0;
    } else if (gh_str_eq(seg[2], "local_user")) {
        r->kind = GH_PS_USER;
        r->valid = gh_ps_user_seg(seg[3], r);
    } else {
        r->collection_len = (size_t)(seg[3].data - r->path) - 1;
        r->member_off = (size_t)(seg[3].data - r->path);
        r->member_len = seg[3].len;
    }
}

unsigned gh_ps_allowed(gh_ps_route_kind kind)
{
    switch (kind) {
    case GH_PS_LOGOUT: return GH_METHOD_BIT(GH_METHOD_POST);
    case GH_PS_LDAP_VERIFY: return GH_METHOD_BIT(GH_METHOD_POST);
    case GH_PS_USERS:
    case GH_PS_LDAP_DOMAINS:
    case GH_PS_LDAP_ACCOUNTS:
        return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_POST);
    case GH_PS_USER:
    case GH_PS_LDAP_DOMAIN:
    case GH_PS_LDAP_ACCOUNT:
        return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_PATCH) | GH_METHOD_BIT(GH_METHOD_DELETE);
    default:           return GH_METHOD_READ;
    }
}
