/*
 * redfish_route.c: the Redfish routes (redfish_route.h): which route a
 * request path names, the methods each route allows and which of them need
 * no login. The router (redfish.c) classifies and serves by them, and the
 * OpenAPI document (redfish_openapi.c) is written from them, so the two
 * cannot disagree; both call down into this file, which calls neither.
 *
 * Paths match ignoring ASCII case and one trailing slash, percent-decoded, as
 * on HPE iLO. A member id has one spelling: a session id in hex, kept in
 * lower case; an account id in decimal with no sign and no leading zero; a
 * role by one of the predefined role names.
 */
#include "redfish_internal.h"

#include <string.h>

static char gh_redfish_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static bool gh_redfish_seg_is(gh_str seg, const char *lit)
{
    return gh_str_eq_nocase(seg, lit);
}

static bool gh_redfish_session_id(gh_str seg, char out[GH_SESSION_ID_LEN + 1])
{
    if (seg.len != GH_SESSION_ID_LEN)
        return false;
    for (size_t i = 0; i < seg.len; i++) {
        if (gh_hex_digit((unsigned char)seg.data[i]) < 0)
            return false;
        out[i] = gh_redfish_lower(seg.data[i]);
    }
    out[seg.len] = '\0';
    return true;
}

/* Decimal, no sign, no leading zero: one spelling per account. */
static bool gh_redfish_account_id(gh_str seg, int64_t *out)
{
    int64_t v = 0;

    if (seg.len == 0 || seg.len > 18 || seg.data[0] == '0')
        return false;
    for (size_t i = 0; i < seg.len; i++) {
        if (seg.data[i] < '0' || seg.data[i] > '9')
            return false;
        v = v * 10 + (seg.data[i] - '0');
    }
    *out = v;
    return true;
}

static gh_role gh_redfish_role_seg(gh_str seg)
{
    for (int r = GH_ROLE_ADMINISTRATOR; r <= GH_ROLE_READONLY; r++) {
        if (gh_redfish_seg_is(seg, gh_role_name((gh_role)r)))
            return (gh_role)r;
    }
    return GH_ROLE_NONE;
}

/* The member segment below a collection. */
static void gh_redfish_route_member(gh_redfish_route *r, gh_str s3, gh_str s4)
{
    if (gh_redfish_seg_is(s3, "Sessions")) {
        if (gh_redfish_seg_is(s4, "Members")) {
            r->kind = GH_RF_SESSIONS_MEMBERS;
        } else {
            r->kind = GH_RF_SESSION;
            r->valid = gh_redfish_session_id(s4, r->session_id);
        }
    } else if (gh_redfish_seg_is(s3, "Accounts")) {
        r->kind = GH_RF_ACCOUNT;
        r->valid = gh_redfish_account_id(s4, &r->account_id);
    } else if (gh_redfish_seg_is(s3, "Roles")) {
        r->kind = GH_RF_ROLE;
        r->role = gh_redfish_role_seg(s4);
        r->valid = r->role != GH_ROLE_NONE;
    }
}

void gh_redfish_route_parse(gh_str raw, gh_redfish_route *r)
{
    gh_str seg[6];
    size_t n = 0, start = 1;

    memset(r, 0, offsetof(gh_redfish_route, path));
    r->kind = GH_RF_TREE;
    if (!gh_path_decode(raw, r->path, GH_REDFISH_PATH_MAX, &r->path_len)) {
        r->path[0] = '\0';
        r->path_len = 0;
        return;
    }
    r->valid = true;
    for (size_t i = 1; i <= r->path_len; i++) {
        if (i < r->path_len && r->path[i] != '/')
            continue;
        if (n == sizeof(seg) / sizeof(seg[0]))
            return;
        seg[n++] = (gh_str){ r->path + start, i - start };
        start = i + 1;
    }
    if (n == 0 || !gh_redfish_seg_is(seg[0], "redfish"))
        return;
    if (n == 1) {
        r->kind = GH_RF_VERSIONS;
        return;
    }
    if (!gh_redfish_seg_is(seg[1], "v1"))
        return;
    if (n == 2) {
        r->kind = GH_RF_ROOT;
    } else if (n == 3) {
        if (gh_redfish_seg_is(seg[2], "odata"))
            r->kind = GH_RF_ODATA;
        else if (gh_redfish_seg_is(seg[2], "$metadata"))
            r->kind = GH_RF_METADATA;
        else if (gh_redfish_seg_is(seg[2], "openapi.yaml"))
            r->kind = GH_RF_OPENAPI;
        else if (gh_redfish_seg_is(seg[2], "SessionService"))
            r->kind = GH_RF_SESSION_SERVICE;
        else if (gh_redfish_seg_is(seg[2], "AccountService"))
            r->kind = GH_RF_ACCOUNT_SERVICE;
        else if (gh_redfish_seg_is(seg[2], "EventService"))
            r->kind = GH_RF_EVENT_SERVICE;
    } else if (n == 4 && gh_redfish_seg_is(seg[2], "EventService")) {
        if (gh_redfish_seg_is(seg[3], "Subscriptions"))
            r->kind = GH_RF_SUBSCRIPTIONS;
        else if (gh_redfish_seg_is(seg[3], "SSE"))
            r->kind = GH_RF_SSE;
    } else if (n == 4) {
        if (gh_redfish_seg_is(seg[2], "SessionService") && gh_redfish_seg_is(seg[3], "Sessions"))
            r->kind = GH_RF_SESSIONS;
        else if (gh_redfish_seg_is(seg[2], "AccountService") && gh_redfish_seg_is(seg[3], "Accounts"))
            r->kind = GH_RF_ACCOUNTS;
        else if (gh_redfish_seg_is(seg[2], "AccountService") && gh_redfish_seg_is(seg[3], "Roles"))
            r->kind = GH_RF_ROLES;
    } else if (n == 5 && gh_redfish_seg_is(seg[2], "EventService") &&
               gh_redfish_seg_is(seg[3], "Subscriptions")) {
        r->kind = GH_RF_SUBSCRIPTION;
        r->valid = gh_redfish_account_id(seg[4], &r->account_id);
    } else if (n == 5) {
        if ((gh_redfish_seg_is(seg[2], "SessionService") && gh_redfish_seg_is(seg[3], "Sessions")) ||
            (gh_redfish_seg_is(seg[2], "AccountService") &&
             (gh_redfish_seg_is(seg[3], "Accounts") || gh_redfish_seg_is(seg[3], "Roles"))))
            gh_redfish_route_member(r, seg[3], seg[4]);
    }
}

/* ---- the table of methods per route ---- */

unsigned gh_redfish_allowed(gh_redfish_route_kind kind)
{
    switch (kind) {
    case GH_RF_SESSION_SERVICE:
    case GH_RF_ACCOUNT_SERVICE:  return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_PATCH);
    case GH_RF_SESSIONS:
    case GH_RF_ACCOUNTS:         return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_POST);
    case GH_RF_SESSIONS_MEMBERS: return GH_METHOD_BIT(GH_METHOD_POST);
    case GH_RF_SESSION:          return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_DELETE);
    case GH_RF_ACCOUNT:          return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_PATCH) |
                                        GH_METHOD_BIT(GH_METHOD_DELETE);
    case GH_RF_SSE:              return GH_METHOD_BIT(GH_METHOD_GET);
    case GH_RF_SUBSCRIPTION:     return GH_METHOD_READ | GH_METHOD_BIT(GH_METHOD_DELETE);
    default:                     return GH_METHOD_READ;
    }
}

bool gh_redfish_is_open(gh_redfish_route_kind kind, gh_method m)
{
    switch (kind) {
    case GH_RF_VERSIONS:
    case GH_RF_ROOT:
    case GH_RF_ODATA:
    case GH_RF_METADATA:
    case GH_RF_OPENAPI:          return m == GH_METHOD_GET || m == GH_METHOD_HEAD;
    case GH_RF_SESSIONS:
    case GH_RF_SESSIONS_MEMBERS: return m == GH_METHOD_POST;
    default:                     return false;
    }
}

/* Gateway mode: what gatehouse answers itself. The version document and the
 * service root (the root from the upstream's, its links set to ours);
 * everything under SessionService and AccountService, which gatehouse owns
 * whole: an upstream's own sessions and accounts (and anything it hangs
 * below them) must not be reachable past gatehouse's. The rest, $metadata,
 * odata, openapi.yaml and the EventService included, describes or is the
 * upstream's and is passed on. */
bool gh_redfish_is_local(const gh_redfish_route *r)
{
    gh_str path = { r->path, r->path_len };

    switch (r->kind) {
    case GH_RF_VERSIONS:
    case GH_RF_ROOT:
    case GH_RF_SESSION_SERVICE:
    case GH_RF_SESSIONS:
    case GH_RF_SESSIONS_MEMBERS:
    case GH_RF_SESSION:
    case GH_RF_ACCOUNT_SERVICE:
    case GH_RF_ACCOUNTS:
    case GH_RF_ACCOUNT:
    case GH_RF_ROLES:
    case GH_RF_ROLE:
        return true;
    default:
        return r->path_len > 0 && (gh_path_under(path, "/redfish/v1/SessionService") ||
                                   gh_path_under(path, "/redfish/v1/AccountService"));
    }
}

/* Gateway mode: a decoded path that names one resource however the upstream
 * reads it: no empty, "." or ".." segment (which a server that normalises
 * would resolve to another resource than the one the registry was asked
 * about) and no ';' or '\' (path parameters, and a separator to some). */
bool gh_redfish_path_plain(const gh_redfish_route *r)
{
    size_t start = 1;

    if (!r->valid || r->path_len == 0)
        return false;
    for (size_t i = 1; i <= r->path_len; i++) {
        char c = i < r->path_len ? r->path[i] : '/';

        if (c == ';' || c == '\\')
            return false;
        if (c != '/')
            continue;
        if (i - start == 0 || (i - start == 1 && r->path[start] == '.') ||
            (i - start == 2 && r->path[start] == '.' && r->path[start + 1] == '.'))
            return false;
        start = i + 1;
    }
    return true;
}
