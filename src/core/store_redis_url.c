/*
 * store_redis_url.c: the [store] url taken apart (store_redis_conn.h's
 * gh_redis_url). The forms:
 *   redis://[USER@]HOST[:PORT][/DB]          rediss:// for TLS
 *   unix:/PATH[?db=N]
 *   redis-sentinel://[USER@]H1[:P1],H2[:P2]/MASTER[/DB]
 *                                            rediss-sentinel:// for TLS
 * HOST is a name, an IPv4 address or an IPv6 one in brackets; PORT defaults
 * to 6379 (26379 for a sentinel). Every field has a bound and a character
 * set, and anything else is refused, with the reason: a URL never reaches
 * a resolver or a log half-understood. A password in the URL is refused:
 * it would end up in a configuration file anyone may read and in process
 * listings; the password file holds it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "store_redis_conn.h"

#define GH_REDIS_DB_MAX 65535

typedef struct {
    const char *p;                 /* the rest to parse */
    char       *err;
    size_t      err_size;
} url_cursor;

static bool url_fail(url_cursor *c, const char *why)
{
    snprintf(c->err, c->err_size, "store url: %s", why);
    return false;
}

static bool is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_';
}

/* Up to max decimal digits at c->p into *out (no sign, at most hi). */
static bool url_number(url_cursor *c, long hi, long *out)
{
    long v = 0;
    int  n = 0;

    while (*c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p - '0');
        c->p++;
        if (++n > 6 || v > hi)
            return false;
    }
    *out = v;
    return n > 0;
}

/* "USER@", when the authority has one (before any '/'). */
static bool url_user(url_cursor *c, gh_redis_url *out)
{
    const char *at = NULL;
    size_t      n;

    for (const char *q = c->p; *q != '\0' && *q != '/'; q++)
        if (*q == '@')
            at = q;
    if (at == NULL)
        return true;
    n = (size_t)(at - c->p);
    if (memchr(c->p, ':', n) != NULL)
        return url_fail(c, "a password may not be written in the url (use password_file)");
    if (n == 0 || n >= sizeof(out->username))
        return url_fail(c, "the user name is empty or too long");
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(c->p[i]))
            return url_fail(c, "the user name has a character other than A-Z a-z 0-9 . _ -");
    memcpy(out->username, c->p, n);
    out->username[n] = '\0';
    c->p = at + 1;
    return true;
}

/* HOST[:PORT] into out->hosts[out->nhosts]. */
static bool url_host(url_cursor *c, gh_redis_url *out, uint16_t default_port)
{
    char   *host = out->hosts[out->nhosts].host;
    size_t  n = 0;
    long    port = default_port;

    if (*c->p == '[') {                    /* [IPv6] */
        c->p++;
        while (*c->p != ']') {
            char ch = *c->p;

            if (!isxdigit((unsigned char)ch) && ch != ':' && ch != '.')
                return url_fail(c, "an IPv6 address in brackets has a bad character or no ']'");
            if (n == 45)
                return url_fail(c, "an IPv6 address is too long");
            host[n++] = ch;
            c->p++;
        }
        c->p++;
    } else {
        while (is_name_char(*c->p)) {
            if (n == GH_REDIS_HOST_MAX)
                return url_fail(c, "a host name is too long");
            host[n++] = *c->p++;
        }
    }
    host[n] = '\0';
    if (n == 0)
        return url_fail(c, "a host is missing or has a bad character");
    if (*c->p == ':') {
        c->p++;
        if (!url_number(c, 65535, &port) || port == 0)
            return url_fail(c, "a port is not a number from 1 to 65535");
    }
    out->hosts[out->nhosts].port = (uint16_t)port;
    out->nhosts++;
    return true;
}

/* "/DB" or "" at the end. */
static bool url_db(url_cursor *c, gh_redis_url *out)
{
    long db = 0;

    if (*c->p == '/') {
        c->p++;
        if (*c->p != '\0' && !url_number(c, GH_REDIS_DB_MAX, &db))
            return url_fail(c, "the database is not a number from 0 to 65535");
    }
    if (*c->p != '\0')
        return url_fail(c, "unexpected text after the host or database");
    out->db = (int)db;
    return true;
}

static bool url_unix(url_cursor *c, gh_redis_url *out)
{
    const char *q = strchr(c->p, '?');
    size_t      n = q != NULL ? (size_t)(q - c->p) : strlen(c->p);
    long        db = 0;

    if (n == 0 || c->p[0] != '/')
        return url_fail(c, "unix: needs an absolute path");
    if (n > GH_REDIS_PATH_MAX)
        return url_fail(c, "the unix socket path is longer than 107 bytes");
    memcpy(out->path, c->p, n);
    out->path[n] = '\0';
    if (q != NULL) {
        c->p = q + 1;
        if (strncmp(c->p, "db=", 3) != 0)
            return url_fail(c, "unix: takes only ?db=N");
        c->p += 3;
        if (!url_number(c, GH_REDIS_DB_MAX, &db) || *c->p != '\0')
            return url_fail(c, "the database is not a number from 0 to 65535");
    }
    out->db = (int)db;
    return true;
}

static bool url_sentinel(url_cursor *c, gh_redis_url *out)
{
    size_t n = 0;

    for (;;) {
        if (out->nhosts == GH_REDIS_HOSTS_MAX)
            return url_fail(c, "more than 8 sentinels");
        if (!url_host(c, out, 26379))
            return false;
        if (*c->p != ',')
            break;
        c->p++;
    }
    if (*c->p != '/')
        return url_fail(c, "redis-sentinel:// needs /MASTER after the sentinels");
    c->p++;
    while (is_name_char(*c->p)) {
        if (n == GH_REDIS_HOST_MAX)
            return url_fail(c, "the master name is too long");
        out->master[n++] = *c->p++;
    }
    out->master[n] = '\0';
    if (n == 0)
        return url_fail(c, "the master name is missing or has a bad character");
    return url_db(c, out);
}

bool gh_redis_url_parse(const char *url, gh_redis_url *out, char *err, size_t err_size)
{
    url_cursor c = { url, err, err_size };

    memset(out, 0, sizeof(*out));
    if (url == NULL || strlen(url) > 1024)
        return url_fail(&c, "missing or longer than 1024 bytes");
    if (strncmp(url, "unix:", 5) == 0) {
        out->kind = GH_REDIS_UNIX;
        c.p = url + 5;
        return url_unix(&c, out);
    }
    if (strncmp(url, "redis://", 8) == 0 || strncmp(url, "rediss://", 9) == 0) {
        out->kind = GH_REDIS_TCP;
        out->tls = url[5] == 's';
        c.p = url + (out->tls ? 9 : 8);
        return url_user(&c, out) && url_host(&c, out, 6379) && url_db(&c, out);
    }
    if (strncmp(url, "redis-sentinel://", 17) == 0 ||
        strncmp(url, "rediss-sentinel://", 18) == 0) {
        out->kind = GH_REDIS_SENTINEL;
        out->tls = url[5] == 's';
        c.p = url + (out->tls ? 18 : 17);
        return url_user(&c, out) && url_sentinel(&c, out);
    }
    return url_fail(&c, "not redis://, rediss://, unix:, redis-sentinel:// or rediss-sentinel://");
}
