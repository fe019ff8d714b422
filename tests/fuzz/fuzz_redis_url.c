/*
 * fuzz_redis_url.c: libFuzzer target for gh_redis_url_parse, the [store]
 * url. The input is the URL (cut at its first NUL). A parse either refuses
 * with a reason or gives fields within their bounds: terminated strings of
 * the allowed characters, 1 to 8 hosts with non-zero ports, a database in
 * 0..65535, and never a password.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/store_redis_conn.h"

static void check_text(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
    for (; *s != '\0'; s++)
        if (*s == '@' || *s == ':' || *s == '/' || *s == ' ')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        *url = strndup((const char *)data, size);
    gh_redis_url u;
    char         err[128];

    if (url == NULL)
        return 0;
    err[0] = '\0';
    if (!gh_redis_url_parse(url, &u, err, sizeof(err))) {
        if (err[0] == '\0')
            abort();
        free(url);
        return 0;
    }
    if (u.db < 0 || u.db > 65535)
        abort();
    check_text(u.username, sizeof(u.username));
    check_text(u.master, sizeof(u.master));
    if (u.kind == GH_REDIS_UNIX) {
        if (u.path[0] != '/' || memchr(u.path, '\0', sizeof(u.path)) == NULL || u.nhosts != 0)
            abort();
    } else {
        if (u.nhosts < 1 || u.nhosts > GH_REDIS_HOSTS_MAX ||
            (u.kind == GH_REDIS_TCP && u.nhosts != 1) ||
            (u.kind == GH_REDIS_SENTINEL && u.master[0] == '\0'))
            abort();
        for (size_t i = 0; i < u.nhosts; i++) {
            if (u.hosts[i].port == 0 || u.hosts[i].host[0] == '\0' ||
                memchr(u.hosts[i].host, '\0', sizeof(u.hosts[i].host)) == NULL)
                abort();
            for (const char *h = u.hosts[i].host; *h != '\0'; h++)
                if (*h == '@' || *h == '/' || *h == ',' || *h == '[' || *h == ']')
                    abort();
        }
    }
    /* No password survives in what was parsed. */
    if (strchr(u.username, ':') != NULL)
        abort();
    free(url);
    return 0;
}
