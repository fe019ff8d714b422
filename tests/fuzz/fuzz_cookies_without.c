/*
 * fuzz_cookies_without.c: libFuzzer target for gh_cookies_without, what a
 * gateway passes on of a Cookie header once gatehouse's own cookies are cut
 * out. The input is the raw header value; the cookies dropped are those
 * named PVEAuthCookie, JSESSIONID or auth_cookie (any case). The output
 * must fit the room the header promises (twice its length), hold no dropped
 * name as a pair's name, and come out the same when filtered again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/credential.h"

static bool drop(gh_str name, void *arg)
{
    (void)arg;
    return gh_str_eq_nocase(name, "PVEAuthCookie") || gh_str_eq_nocase(name, "JSESSIONID") ||
           gh_str_eq_nocase(name, "auth_cookie");
}

static bool found(gh_str name, void *arg)
{
    if (drop(name, NULL))
        *(bool *)arg = true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *out = malloc(2 * size + 1), *again = malloc(2 * size + 1);
    size_t  n, m;
    bool    dropped_left = false;

    if (out == NULL || again == NULL)
        goto done;
    n = gh_cookies_without((gh_str){ (const char *)data, size }, drop, NULL, out);
    if (n > 2 * size)
        abort();
    (void)gh_cookies_without((gh_str){ out, n }, found, &dropped_left, again);
    if (dropped_left)
        abort();
    m = gh_cookies_without((gh_str){ out, n }, drop, NULL, again);
    if (m != n || memcmp(out, again, n) != 0)
        abort();
done:
    free(out);
    free(again);
    return 0;
}
