/*
 * config_value.c: what a value of the configuration file may be, key type by
 * key type (config.h, gh_config_type), and setting it into its field. A
 * value is taken whole or not at all: a number wholly a number within its
 * key's bounds, text that fits and holds nothing that would change the
 * meaning of the nginx.conf it may be written into. config.c reads the file
 * and finds the key; this file judges and stores the value.
 */
#include "config_value.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A whole base-10 integer within [min, max]; false with a reason otherwise. */
static bool gh_config_integer(const char *value, int64_t min, int64_t max,
                              int64_t *out, const char **why)
{
    char *end;
    long long v;

    /* strtoll would skip blanks and take a '+'; a config value may not. */
    if (!((value[0] >= '0' && value[0] <= '9')
          || (value[0] == '-' && value[1] >= '0' && value[1] <= '9'))) {
        *why = "not an integer";
        return false;
    }
    errno = 0;
    v = strtoll(value, &end, 10);
    if (*end != '\0') {
        *why = "not an integer";
        return false;
    }
    if (errno == ERANGE || v < min || v > max) {
        *why = "out of range";
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* Printable ASCII only, and none of the characters that end or open an
 * nginx directive, since these values are written into nginx.conf. */
static bool gh_config_safe_text(const char *s, const char *also_forbidden)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c >= 0x7f || strchr(";{}\"'\\", c) != NULL
            || strchr(also_forbidden, c) != NULL)
            return false;
    }
    return true;
}

/* Text that is never written into nginx.conf (an LDAP DN or filter): no
 * control character, anything else, bytes of UTF-8 included. */
static bool gh_config_text_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* HOST:PORT or [V6]:PORT with a port of 1..65535. */
static bool gh_config_addr_ok(const char *s)
{
    const char *colon, *close;
    int64_t port;
    const char *why;

    if (!gh_config_safe_text(s, " \t"))
        return false;
    if (s[0] == '[') {
        close = strchr(s, ']');
        if (close == NULL || close == s + 1 || close[1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = strchr(s, ':');
        if (colon == NULL || colon == s || strchr(colon + 1, ':') != NULL)
            return false;
    }
    return gh_config_integer(colon + 1, 1, 65535, &port, &why);
}

static bool gh_config_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '.' || c == '-';
}

/* A host name or IPv4 address; an IPv6 address too when v6 (bare, as SNI
 * names never are, or in brackets in a URL). */
static bool gh_config_host_ok(const char *s, size_t len, bool v6)
{
    size_t colons = 0;

    if (len == 0 || s[0] == '-' || s[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        colons += s[i] == ':';
        if (!gh_config_host_char(s[i]) && !(v6 && s[i] == ':'))
            return false;
    }
    return !v6 || colons >= 2;
}

/*
 * Where a gateway passes requests on: http://HOST[:PORT] or
 * https://HOST[:PORT] (HOST a name, an IPv4 address or [IPv6]), with a
 * lone "/" after it at most, since a request's path goes on unchanged; or
 * unix:/PATH, a socket, whose path is written unquoted into nginx.conf.
 */
static bool gh_config_url_ok(const char *s)
{
    const char *host, *end, *colon;
    int64_t     port;
    const char *why;

    if (strncmp(s, "unix:/", 6) == 0)
        return gh_config_safe_text(s, " \t#$");
    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else
        return false;
    end = host + strcspn(host, "/");
    if (end[0] == '/' && end[1] != '\0')
        return false;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));

        if (close == NULL || !gh_config_host_ok(host + 1, (size_t)(close - host - 1), true))
            return false;
        colon = close + 1 < end ? close + 1 : NULL;
        if (colon != NULL && *colon != ':')
            return false;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        if (!gh_config_host_ok(host, (size_t)((colon != NULL ? colon : end) - host), false))
            return false;
    }
    if (colon != NULL) {
        char digits[8];
        size_t n = (size_t)(end - colon - 1);

        if (n == 0 || n >= sizeof(digits))
            return false;
        memcpy(digits, colon + 1, n);
        digits[n] = '\0';
        return gh_config_integer(digits, 1, 65535, &port, &why);
    }
    return true;
}

/* The start of an HTTP header name: letters, digits and '-'. */
static bool gh_config_prefix_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

/* POSIX portable user names, which nginx's "user" directive will take. */
static bool gh_config_name_ok(const char *s)
{
    if (s[0] == '-')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static bool gh_config_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-';
}

static bool gh_config_list_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

/* One or more names of GH_DOMAIN_MAX bytes at most, separated by commas and
 * blanks; an empty piece between two commas is allowed and ignored. */
static bool gh_config_names_ok(const char *s)
{
    size_t names = 0, len = 0;

    for (;; s++) {
        if (*s != '\0' && gh_config_name_char(*s)) {
            if (++len > GH_DOMAIN_MAX)
                return false;
            continue;
        }
        if (*s != '\0' && !gh_config_list_sep(*s))
            return false;
        names += len > 0;
        len = 0;
        if (*s == '\0')
            return names > 0;
    }
}

/* URL paths separated by commas and blanks, each of '/' and segments of
 * letters, digits, '.', '_', '~' and '-', none of them "." or "..", since
 * they become nginx locations matched against the normalised path. */
static bool gh_config_paths_ok(const char *s)
{
    size_t names = 0;

    while (*s != '\0') {
        size_t seg = 0, dots = 0;

        while (*s != '\0' && gh_config_list_sep(*s))
            s++;
        if (*s == '\0')
            break;
        if (*s != '/')
            return false;
        for (; *s != '\0' && !gh_config_list_sep(*s); s++) {
            if (*s == '/') {
                if ((seg > 0 && seg == dots && dots <= 2) || (s[1] == '/'))
                    return false;
                seg = dots = 0;
                continue;
            }
            if (!gh_config_name_char(*s) && *s != '~')
                return false;
            seg++;
            dots += *s == '.';
        }
        if (seg > 0 && seg == dots && dots <= 2)
            return false;
        names++;
    }
    return names > 0;
}

bool gh_config_list_has(const char *list, const char *name, size_t len)
{
    const char *p = list;

    if (list == NULL || name == NULL || len == 0)
        return false;
    while (*p != '\0') {
        size_t n = 0;

        while (*p != '\0' && gh_config_list_sep(*p))
            p++;
        while (p[n] != '\0' && !gh_config_list_sep(p[n]))
            n++;
        if (n == len && memcmp(p, name, len) == 0)
            return true;
        p += n;
    }
    return false;
}

static bool gh_config_bool(const char *value, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
            *out = strcmp(value, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool gh_config_string(const gh_config_key *k, const char *value, char *dst,
                             const char **why)
{
    size_t len = strlen(value);
    bool ok;

    if (len >= k->size) {
        *why = "too long";
        return false;
    }
    if (len == 0) {
        *why = "may not be empty";
        ok = k->empty_ok;
        if (ok)
            memset(dst, 0, k->size);
        return ok;
    }
    switch (k->type) {
    case GH_CONFIG_ADDR:
        ok = gh_config_addr_ok(value);
        *why = "not HOST:PORT or [IPV6]:PORT";
        break;
    case GH_CONFIG_URL:
        ok = gh_config_url_ok(value);
        *why = "not http://HOST[:PORT], https://HOST[:PORT] or unix:/PATH";
        break;
    case GH_CONFIG_NAME:
        ok = gh_config_name_ok(value);
        *why = "not a user name";
        break;
    case GH_CONFIG_NAMES:
        ok = gh_config_names_ok(value);
        *why = "not a list of names (letters, digits, '.', '_' and '-', separated by commas)";
        break;
    case GH_CONFIG_LEVEL:
        ok = gh_config_list_has("emerg,alert,crit,error,warn,notice,info", value, len);
        *why = "not one of emerg, alert, crit, error, warn, notice, info";
        break;
    case GH_CONFIG_TARGET:
        ok = gh_config_list_has("file,syslog", value, len);
        *why = "not one of file, syslog";
        break;
    case GH_CONFIG_FACILITY:
        ok = gh_config_list_has("auth,authpriv,daemon,user,local0,local1,local2,local3,"
                                "local4,local5,local6,local7", value, len);
        *why = "not one of auth, authpriv, daemon, user, local0 .. local7";
        break;
    case GH_CONFIG_HOST:
        ok = gh_config_host_ok(value, len, strchr(value, ':') != NULL);
        *why = "not a host name or IP address";
        break;
    case GH_CONFIG_PREFIX:
        ok = gh_config_prefix_ok(value);
        *why = "not the start of a header name (letters, digits and '-')";
        break;
    case GH_CONFIG_TEXT:
        ok = gh_config_text_ok(value);
        *why = "holds a control character";
        break;
    case GH_CONFIG_PATHS:
        ok = gh_config_paths_ok(value);
        *why = "not a list of paths (/a/b: letters, digits, '.', '_', '~', '-', "
               "no . or .. segment), separated by commas";
        break;
    default:
        ok = gh_config_safe_text(value, "");
        *why = "holds a control character, a quote, a backslash or one of ;{}";
        break;
    }
    if (ok) {
        memset(dst, 0, k->size);
        memcpy(dst, value, len);
    }
    return ok;
}

bool gh_config_set(const gh_config_key *k, const char *value, void *base,
                          const char **why)
{
    char *field = (char *)base + k->offset;
    int64_t v;

    switch (k->type) {
    case GH_CONFIG_INT:
        if (!gh_config_integer(value, k->min, k->max, &v, why))
            return false;
        *(int *)(void *)field = (int)v;
        return true;
    case GH_CONFIG_I64:
        if (!gh_config_integer(value, k->min, k->max, &v, why))
            return false;
        *(int64_t *)(void *)field = v;
        return true;
    case GH_CONFIG_U32:
        if (!gh_config_integer(value, k->min, k->max, &v, why))
            return false;
        *(uint32_t *)(void *)field = (uint32_t)v;
        return true;
    case GH_CONFIG_BOOL:
        *why = "not true or false";
        return gh_config_bool(value, (bool *)(void *)field);
    default:
        return gh_config_string(k, value, field, why);
    }
}

