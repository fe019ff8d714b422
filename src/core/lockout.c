/*
 * lockout.c: sources, counter keys and the counting rule of failed logins
 * (see lockout.h). A counter is a window: the first failure starts it, a
 * failure after reset_after seconds starts a new one, and reaching the
 * threshold locks for the duration and empties the count, so the lock's end
 * gives the guesser a fresh threshold and no more. A source's throttle
 * counter is kept in two clocks: the block's monotonic one while the server
 * runs, the wall clock in the store, so that a restart (even a reboot) finds
 * what is left of a window and of a wait.
 */
#include "lockout.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "token.h"

void gh_lockout_source(const char *client_addr, char out[GH_SOURCE_MAX])
{
    struct in6_addr a6;
    struct in_addr  a4;
    char            text[INET6_ADDRSTRLEN];

    out[0] = '\0';
    if (client_addr == NULL)
        return;
    if (inet_pton(AF_INET, client_addr, &a4) == 1) {
        snprintf(out, GH_SOURCE_MAX, "%s", inet_ntop(AF_INET, &a4, text, sizeof(text)));
        return;
    }
    if (inet_pton(AF_INET6, client_addr, &a6) != 1)
        return;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
        snprintf(out, GH_SOURCE_MAX, "%s", inet_ntop(AF_INET, &a4, text, sizeof(text)));
        return;
    }
    memset(&a6.s6_addr[8], 0, 8);
    snprintf(out, GH_SOURCE_MAX, "%s/64", inet_ntop(AF_INET6, &a6, text, sizeof(text)));
}

void gh_lockout_owner(const uint8_t secret[GH_DIGEST_LEN], const char *name,
                      uint8_t out[GH_DIGEST_LEN])
{
    const gh_bytes parts[] = { { "account", 8 }, { name, strlen(name) } };

    (void)gh_token_mac(secret, parts, 2, out);
}

void gh_lockout_key_source(const uint8_t secret[GH_DIGEST_LEN],
                           const uint8_t owner[GH_DIGEST_LEN], const char *source,
                           uint8_t out[GH_DIGEST_LEN])
{
    const gh_bytes parts[] = { { "source", 7 }, { owner, GH_DIGEST_LEN },
                               { source, strlen(source) } };

    (void)gh_token_mac(secret, parts, 3, out);
}

void gh_lockout_key_account(const uint8_t secret[GH_DIGEST_LEN],
                            const uint8_t owner[GH_DIGEST_LEN], uint8_t out[GH_DIGEST_LEN])
{
    const gh_bytes parts[] = { { "all", 4 }, { owner, GH_DIGEST_LEN } };

    (void)gh_token_mac(secret, parts, 2, out);
}

bool gh_lockout_locked(const gh_failure *f, int64_t now)
{
    return f->locked_until != 0 && now < f->locked_until;
}

bool gh_lockout_count(gh_failure *f, int64_t now, int64_t reset_after, int64_t threshold,
                      int64_t duration)
{
    bool locked = false;

    if (f->failures == 0 || now - f->window_start >= reset_after) {
        f->window_start = now;
        f->failures = 0;
    }
    f->failures++;
    if (threshold > 0 && f->failures >= threshold) {
        f->locked_until = now + duration;
        f->failures = 0;
        locked = true;
    }
    f->expires = f->window_start + reset_after;
    if (f->locked_until > f->expires)
        f->expires = f->locked_until;
    return locked;
}

int64_t gh_throttle_delay_ms(const gh_throttle_policy *p, uint32_t n)
{
    int64_t delay = p->delay * 1000, cap = p->max_delay * 1000;

    if (p->free <= 0 || n < (uint64_t)p->free)
        return 0;
    for (uint32_t over = n - (uint32_t)p->free; over > 0 && delay < cap; over--)
        delay *= 2;
    return delay < cap ? delay : cap;
}

void gh_lockout_key_throttle(const uint8_t secret[GH_DIGEST_LEN], const char *source,
                             uint8_t out[GH_DIGEST_LEN])
{
    const gh_bytes parts[] = { { "throttle", 9 }, { source, strlen(source) } };

    (void)gh_token_mac(secret, parts, 2, out);
}

void gh_throttle_rebase(gh_throttle_count *c, int64_t from_now, int64_t to_now)
{
    c->window_start += to_now - from_now;
    c->blocked_until = c->blocked_until > from_now ? c->blocked_until + (to_now - from_now) : 0;
}

int64_t gh_throttle_end_ms(const gh_throttle_count *c, const gh_throttle_policy *p)
{
    int64_t end = c->window_start + p->window * 1000;

    return c->blocked_until > end ? c->blocked_until : end;
}
