/*
 * gateway.c: the privileges a request passed on to an upstream needs, and
 * whether a principal holds them (gateway.h): the [authorize] rule for its
 * path and method (gateway_rules.c reads them), else the dialect's default,
 * else the method's.
 *
 * The upstream gets the path as the client sent it (nginx's proxy_pass
 * without a URI passes it on untouched), and what it makes of "%2e%2e", "//"
 * or ";jsessionid=" is its own affair: most decode, resolve dot segments and
 * merge slashes, as nginx does; some resolve dots before decoding, keep
 * empty segments, or (servlet containers, the oVirt engine's) cut a ";..."
 * parameter off each segment. A rule must hold on whatever the upstream
 * reads, so the path is read each of these ways that its bytes make
 * different (no '%': one way of decoding; no ';': one of parameters; no
 * "//": one of merging), and the request passes only if every reading is
 * allowed. Without rules the path is not read at all: the defaults look at
 * the method, or at the dialect's own routing.
 */
#include "gateway.h"

#include <string.h>

unsigned gh_gateway_method_needs(gh_method method)
{
    if (method == GH_METHOD_GET || method == GH_METHOD_HEAD)
        return GH_PRIV_LOGIN;
    return GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_COMPONENTS;
}

/* Append s (n bytes) to out at *o, percent-decoded unless decoded already. */
static bool gh_gw_put(const char *s, size_t n, bool decode, char *out, size_t *o)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (decode && c == '%') {
            int hi = i + 2 < n ? gh_hex_digit((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? gh_hex_digit((unsigned char)s[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            if (c == '/')
                return false;
            i += 2;
        }
        if (c == '\0' || *o >= GH_GATEWAY_PATH_MAX)
            return false;
        out[(*o)++] = c;
    }
    return true;
}

/* One segment of a reading: skipped, popped (".."), or appended. */
static bool gh_gw_segment(const char *seg, size_t n, unsigned how, bool last, bool decode,
                          char *out, size_t *o)
{
    const char *semi = (how & GH_GATEWAY_STRIP_PARAMS) ? memchr(seg, ';', n) : NULL;

    if (semi != NULL)
        n = (size_t)(semi - seg);
    if (n == 0 && (last || (how & GH_GATEWAY_KEEP_EMPTY) == 0))
        return true;
    if (n == 1 && seg[0] == '.')
        return true;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        if (*o == 0)
            return false;   /* above the root */
        while (*o > 0 && out[*o - 1] != '/')
            (*o)--;
        (*o)--;
        return true;
    }
    if (*o >= GH_GATEWAY_PATH_MAX)
        return false;
    out[(*o)++] = '/';
    return gh_gw_put(seg, n, decode, out, o);
}

bool gh_gateway_normalise(gh_str raw, unsigned how, char *out, size_t *len)
{
    char        decoded[GH_GATEWAY_PATH_MAX + 1];
    const char *src = raw.data;
    size_t      n = raw.len, o = 0, start = 1;
    bool        decode = (how & GH_GATEWAY_LITERAL_DOTS) != 0;

    if (raw.data == NULL || raw.len == 0 || raw.data[0] != '/')
        return false;
    if (!decode) {
        /* Decoded first: the '/' of the path stays where it is (an escaped
         * one is refused), so segments split the same after. */
        n = 0;
        if (!gh_gw_put(raw.data, raw.len, true, decoded, &n))
            return false;
        src = decoded;
    }
    for (size_t i = 1; i <= n; i++) {
        if (i < n && src[i] != '/')
            continue;
        if (!gh_gw_segment(src + start, i - start, how, i == n, decode, out, &o))
            return false;
        start = i + 1;
    }
    /* Empty segments kept at the end say nothing a prefix could match. */
    while (o > 1 && out[o - 1] == '/')
        o--;
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    *len = o;
    return true;
}

/* The sets rules give method on path, or NULL: the longest prefix among
 * the rules that name the method, or '*'. */
static const gh_gateway_rule *gh_gw_rule_for(const gh_gateway_rules *rules, gh_str path,
                                             gh_method method, unsigned *slot)
{
    const gh_gateway_rule *best = NULL;
    size_t                 best_len = 0;

    for (size_t i = 0; i < rules->nrules; i++) {
        const gh_gateway_rule *r = &rules->rules[i];
        unsigned               s = (r->named & (1u << method)) ? (unsigned)method
                                                               : GH_GATEWAY_STAR;
        size_t                 len;

        if ((r->named & (1u << s)) == 0 || !gh_path_under(path, r->prefix))
            continue;
        len = strlen(r->prefix);
        if (best == NULL || len > best_len) {
            best = r;
            best_len = len;
            *slot = s;
        }
    }
    return best;
}

/* Does holds satisfy one of the n sets? Else *missing from the first. */
static bool gh_gw_satisfies(unsigned holds, const unsigned *sets, size_t n,
                            gh_privilege *missing)
{
    unsigned lacking;

    for (size_t i = 0; i < n; i++) {
        /* Login always: without it a principal may do nothing at all. */
        if (((sets[i] | GH_PRIV_LOGIN) & ~holds) == 0)
            return true;
    }
    lacking = (sets[0] | GH_PRIV_LOGIN) & ~holds;
    if (missing != NULL)
        *missing = (lacking & GH_GATEWAY_NOBODY) ? (gh_privilege)0
                                                 : (gh_privilege)(lacking & (~lacking + 1u));
    return false;
}

/* Which readings the path's bytes make different from reading 0. */
static unsigned gh_gw_relevant(gh_str path)
{
    unsigned how = 0;

    for (size_t i = 0; i < path.len; i++) {
        if (path.data[i] == '%')
            how |= GH_GATEWAY_LITERAL_DOTS;
        else if (path.data[i] == ';')
            how |= GH_GATEWAY_STRIP_PARAMS | GH_GATEWAY_KEEP_EMPTY;
        else if (path.data[i] == '/' && i + 1 < path.len && path.data[i + 1] == '/')
            how |= GH_GATEWAY_KEEP_EMPTY;
    }
    return how;
}

/* Is every reading of path the path itself, as a router reads it: no '%',
 * ';', "//", "." or ".." segment, and short enough to read? */
static bool gh_gw_plain(gh_str path)
{
    if (path.len == 0 || path.len > GH_GATEWAY_PATH_MAX || path.data[0] != '/')
        return false;
    for (size_t i = 0; i < path.len; i++) {
        char c = path.data[i];

        if (c == '%' || c == ';' || (c == '/' && i + 1 < path.len && path.data[i + 1] == '/'))
            return false;
        if (c == '.' && path.data[i - 1] == '/' &&
            (i + 1 == path.len || path.data[i + 1] == '/' ||
             (path.data[i + 1] == '.' && (i + 2 == path.len || path.data[i + 2] == '/'))))
            return false;
    }
    return true;
}

bool gh_gateway_any_reading(gh_str raw, bool (*fn)(gh_str path, void *arg), void *arg)
{
    unsigned relevant = gh_gw_relevant(raw);
    char     path[GH_GATEWAY_PATH_MAX + 1];
    size_t   len;

    /* The one reading is the path the dialect's classify routed already:
     * the common case costs one pass over the bytes and no routing. */
    if (gh_gw_plain(raw))
        return false;
    for (unsigned how = 0; how < GH_GATEWAY_READINGS; how++) {
        if ((how & ~relevant) != 0)
            continue;
        if (!gh_gateway_normalise(raw, how, path, &len) || fn((gh_str){ path, len }, arg))
            return true;
    }
    return false;
}

bool gh_gateway_allows(const gh_config *cfg, const gh_request *req,
                       const gh_policy_subject *who, const unsigned *dflt, size_t ndflt,
                       gh_privilege *missing)
{
    const gh_gateway_rules *rules = gh_gateway_rules_of(cfg);
    unsigned                holds = gh_policy_holds(who), method_needs, relevant;
    char                    path[GH_GATEWAY_PATH_MAX + 1];
    size_t                  len;

    if (ndflt == 0) {
        method_needs = gh_gateway_method_needs(req->method);
        dflt = &method_needs;
        ndflt = 1;
    }
    if (rules == NULL || rules->nrules == 0)
        return gh_gw_satisfies(holds, dflt, ndflt, missing);
    relevant = gh_gw_relevant(req->path);
    for (unsigned how = 0; how < GH_GATEWAY_READINGS; how++) {
        const gh_gateway_rule *rule;
        unsigned               slot = 0, sets[GH_GATEWAY_ALTERNATIVES];
        bool                   ok;

        if ((how & ~relevant) != 0)
            continue;
        if (!gh_gateway_normalise(req->path, how, path, &len)) {
            if (missing != NULL)
                *missing = (gh_privilege)0;
            return false;
        }
        rule = gh_gw_rule_for(rules, (gh_str){ path, len }, req->method, &slot);
        if (rule == NULL) {
            ok = gh_gw_satisfies(holds, dflt, ndflt, missing);
        } else {
            for (size_t i = 0; i < rule->nsets[slot]; i++)
                sets[i] = rule->sets[slot][i];
            ok = gh_gw_satisfies(holds, sets, rule->nsets[slot], missing);
        }
        if (!ok)
            return false;
    }
    return true;
}

bool gh_gateway_path_listed(const char *list, gh_str path)
{
    char   one[GH_GATEWAY_PATH_MAX + 1];
    size_t len;
    bool   found = false;

    while (!found && *list != '\0') {
        list += strspn(list, ", \t");
        len = strcspn(list, ", \t");
        if (len == 0)
            break;
        if (len < sizeof(one)) {
            memcpy(one, list, len);
            one[len] = '\0';
            found = gh_path_under(path, one);
        }
        list += len;
    }
    return found;
}
