/*
 * ovirt_headers.c: reading what an oVirt client says in its headers.
 *
 * Every function here sees bytes from the network and looks at them through
 * a length: nothing is copied but a Basic credential (by credential.c), and
 * nothing reads past the view. They run on the event loop (classify) as well
 * as in serve, and both must reach the same verdict on the same request, so
 * each is a pure function of the request's headers and the configuration.
 *
 * Which credential an API request carries follows the engine's filters: a
 * JSESSIONID cookie names a persistent-auth session and is used before any
 * Authorization header, because a client that holds a session keeps sending
 * its Basic credentials too and must not open a new session per request;
 * Prefer: new-auth turns that round when an Authorization header comes with
 * it. Only one header of each name is seen (the adapter gives the first), so
 * preferences split over two Prefer headers count only from the first.
 */
#include "ovirt_internal.h"

#include <string.h>

static bool gh_ovirt_blank(char c)
{
    return c == ' ' || c == '\t';
}

static gh_str gh_ovirt_trim(gh_str s)
{
    while (s.len > 0 && gh_ovirt_blank(s.data[0])) {
        s.data++;
        s.len--;
    }
    while (s.len > 0 && gh_ovirt_blank(s.data[s.len - 1]))
        s.len--;
    return s;
}

/* The end of the element starting at i: the next ',' outside a quoted string. */
static size_t gh_ovirt_element_end(gh_str v, size_t i)
{
    bool quoted = false;

    for (; i < v.len; i++) {
        char c = v.data[i];

        if (quoted && c == '\\' && i + 1 < v.len)
            i++;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            break;
    }
    return i;
}

unsigned gh_ovirt_prefer(gh_str value)
{
    static const struct {
        const char *name;
        unsigned    flag;
    } known[] = {
        { "persistent-auth", GH_OVIRT_PREFER_PERSISTENT },
        { "new-auth", GH_OVIRT_PREFER_NEW_AUTH },
        { "csrf-protection", GH_OVIRT_PREFER_CSRF },
    };
    unsigned flags = 0;
    size_t   i = 0;

    if (value.data == NULL)
        return 0;
    while (i < value.len) {
        size_t end = gh_ovirt_element_end(value, i);
        gh_str el = gh_ovirt_trim((gh_str){ value.data + i, end - i });
        size_t n = 0;

        while (n < el.len && el.data[n] != '=' && el.data[n] != ';' && !gh_ovirt_blank(el.data[n]))
            n++;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
            if (gh_str_eq_nocase((gh_str){ el.data, n }, known[k].name))
                flags |= known[k].flag;
        }
        i = end + 1;
    }
    return flags;
}

bool gh_ovirt_session_ttl(gh_str value, int64_t *minutes)
{
    int64_t v = 0;

    if (value.data == NULL)
        return false;
    value = gh_ovirt_trim(value);
    if (value.len == 0 || value.len > GH_OVIRT_TTL_MAX_DIGITS)
        return false;
    for (size_t i = 0; i < value.len; i++) {
        if (value.data[i] < '0' || value.data[i] > '9')
            return false;
        v = v * 10 + (value.data[i] - '0');
    }
    if (v == 0)
        return false;
    *minutes = v;
    return true;
}

bool gh_ovirt_version_ok(int path_version, gh_str header)
{
    if (path_version != 0)
        return path_version == 3 || path_version == 4;
    if (header.data == NULL)
        return true;
    header = gh_ovirt_trim(header);
    /* An empty header is no version at all, as the engine reads it. */
    return header.len == 0 || gh_str_eq(header, "4") || gh_str_eq(header, "3");
}

/* The q-value of one media range's parameters, in thousandths; 1000 when
 * none is given, 0 for an unreadable one (RFC 9110 §12.4.2: 0, 0.x, 1, 1.0). */
static int gh_ovirt_qvalue(gh_str params)
{
    size_t i = 0;

    while (i < params.len) {
        size_t end = i;
        gh_str p;
        int    q, scale = 100;

        while (end < params.len && params.data[end] != ';')
            end++;
        p = gh_ovirt_trim((gh_str){ params.data + i, end - i });
        i = end + 1;
        if (p.len < 2 || (p.data[0] != 'q' && p.data[0] != 'Q') || p.data[1] != '=')
            continue;
        p.data += 2;
        p.len -= 2;
        if (p.len == 0 || (p.data[0] != '0' && p.data[0] != '1'))
            return 0;
        if (p.len == 1)
            return (p.data[0] - '0') * 1000;
        if (p.data[1] != '.' || p.len > 5)
            return 0;
        q = (p.data[0] - '0') * 1000;
        for (size_t k = 2; k < p.len; k++, scale /= 10) {
            if (p.data[k] < '0' || p.data[k] > '9')
                return 0;
            q += (p.data[k] - '0') * scale;
        }
        return q > 1000 ? 0 : q;
    }
    return 1000;
}

gh_ovirt_format gh_ovirt_format_for(gh_str accept)
{
    /* Specificity first (RFC 9110 §12.5.1): an exact type beats type/, which beats star/star. */
    int xml[3] = { -1, -1, -1 }, json[3] = { -1, -1, -1 };
    int qx = 0, qj = 0;
    size_t i = 0;

    if (accept.data == NULL || gh_ovirt_trim(accept).len == 0)
        return GH_OV_FORMAT_XML;
    while (i < accept.len) {
        size_t end = gh_ovirt_element_end(accept, i);
        gh_str el = gh_ovirt_trim((gh_str){ accept.data + i, end - i });
        size_t n = 0;
        gh_str type;
        int q;

        i = end + 1;
        while (n < el.len && el.data[n] != ';')
            n++;
        type = gh_ovirt_trim((gh_str){ el.data, n });
        q = gh_ovirt_qvalue((gh_str){ el.data + n, el.len - n });
        if (gh_str_eq_nocase(type, "application/xml") || gh_str_eq_nocase(type, "text/xml"))
            xml[0] = q > xml[0] ? q : xml[0];
        else if (gh_str_eq_nocase(type, "application/json"))
            json[0] = q > json[0] ? q : json[0];
        else if (gh_str_eq_nocase(type, "application/*"))
            xml[1] = json[1] = q;
        else if (gh_str_eq_nocase(type, "*/*"))
            xml[2] = json[2] = q;
    }
    for (int k = 2; k >= 0; k--) {
        if (xml[k] >= 0)
            qx = xml[k];
        if (json[k] >= 0)
            qj = json[k];
    }
    if (qx == 0 && qj == 0)
        return GH_OV_FORMAT_NONE;
    return qj > qx ? GH_OV_FORMAT_JSON : GH_OV_FORMAT_XML;
}

bool gh_ovirt_accept_json(gh_str accept)
{
    size_t n = 0;

    if (accept.data == NULL)
        return false;
    accept = gh_ovirt_trim(accept);
    while (n < accept.len && accept.data[n] != ';')
        n++;
    return gh_str_eq_nocase(gh_ovirt_trim((gh_str){ accept.data, n }), "application/json");
}

gh_ovirt_profile_result gh_ovirt_profile(const gh_config *cfg, char *user, const char *profile)
{
    const char *profiles = gh_ovirt_settings_of(cfg)->profiles;

    if (profile == NULL || profile[0] == '\0')
        return GH_OV_PROFILE_NONE;
    if (strcmp(user, GH_OVIRT_SSO_ADMIN_USER) == 0 &&
        strcmp(profile, GH_OVIRT_SSO_ADMIN_PROFILE) == 0) {
        /* Both names fit in the user buffer: the alias is longer. */
        memcpy(user, GH_OVIRT_ADMIN_ACCOUNT, sizeof(GH_OVIRT_ADMIN_ACCOUNT));
        return GH_OV_PROFILE_OK;
    }
    if (gh_config_directory_get(cfg, profile) != NULL) {
        /* A directory profile: the core checks NAME@PROFILE against it. */
        size_t ulen = strlen(user), plen = strlen(profile);

        if (ulen + 1 + plen > GH_USER_NAME_MAX)
            return GH_OV_PROFILE_UNKNOWN;
        user[ulen] = '@';
        memcpy(user + ulen + 1, profile, plen + 1);
        return GH_OV_PROFILE_OK;
    }
    return gh_config_list_has(profiles, profile, strlen(profile)) ? GH_OV_PROFILE_OK
                                                                  : GH_OV_PROFILE_UNKNOWN;
}

gh_str gh_ovirt_cookie_token(gh_str cookie)
{
    size_t m = sizeof(GH_OVIRT_CSRF_MARK) - 1;

    if (cookie.len > m && memcmp(cookie.data + cookie.len - m, GH_OVIRT_CSRF_MARK, m) == 0)
        cookie.len -= m;
    return cookie;
}

static bool gh_ovirt_is_api_path(gh_str path)
{
    gh_ovirt_route route;

    gh_ovirt_route_parse(path, &route);
    return route.kind == GH_OV_API;
}

void gh_ovirt_api_credential(const gh_request *req, gh_ovirt_auth *auth, gh_credential *cred)
{
    gh_str authorization = gh_request_header(req, "Authorization");
    gh_str cookie = { NULL, 0 };
    bool   persist, new_auth;

    memset(auth, 0, sizeof(*auth));
    auth->prefer = gh_ovirt_prefer(gh_request_header(req, "Prefer"));
    persist = (auth->prefer & GH_OVIRT_PREFER_PERSISTENT) != 0;
    new_auth = (auth->prefer & GH_OVIRT_PREFER_NEW_AUTH) != 0;
    /* The cookie's path is the API's: elsewhere it is no credential. */
    if (gh_ovirt_is_api_path(req->path))
        cookie = gh_credential_cookie(gh_request_header(req, "Cookie"), GH_OVIRT_COOKIE);
    if (cookie.data != NULL && cookie.len > 0) {
        auth->cookie = cookie;
        auth->cookie_csrf = gh_ovirt_cookie_token(cookie).len != cookie.len;
    }

    gh_credential_authorization(authorization, true, cred);
    if (cred->kind == GH_CRED_BASIC &&
        gh_ovirt_profile(req->config, cred->user, cred->domain) != GH_OV_PROFILE_OK)
        gh_credential_wipe(cred);    /* kind NONE: an unknown profile authenticates no one */

    if (auth->cookie.data != NULL && !(new_auth && authorization.data != NULL)) {
        gh_credential_wipe(cred);
        cred->kind = GH_CRED_TOKEN;
        cred->token = gh_ovirt_cookie_token(auth->cookie);
        auth->source = GH_OV_BY_COOKIE;
    } else if (cred->kind != GH_CRED_NONE) {
        auth->source = GH_OV_BY_AUTHORIZATION;
    }
    auth->creates = persist && auth->source == GH_OV_BY_AUTHORIZATION &&
                    (cred->kind == GH_CRED_BASIC || cred->kind == GH_CRED_BEARER);
    auth->ends = auth->cookie.data != NULL && (!persist || new_auth);
}

int64_t gh_ovirt_idle(const gh_config *cfg, int64_t want)
{
    const gh_ovirt_settings *s = gh_ovirt_settings_of(cfg);
    int64_t limit = s->token_timeout;
    int64_t idle = want > 0 ? want : s->token_idle_timeout;

    if (idle <= 0 || idle > limit)
        idle = limit;
    return idle;
}
