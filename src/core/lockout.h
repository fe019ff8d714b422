/*
 * lockout.h: who a failed login counts against. A source is where a login
 * comes from: an IPv4 address, or the /64 of an IPv6 address (one host or
 * one LAN holds a whole /64). Failures are counted per (account, source), so
 * a guesser at one source locks the account at that source only, and per
 * account over every source, against a much higher threshold, for guessing
 * spread over many sources. Names that exist and names that do not are
 * counted alike, keyed by an HMAC of the name with the server secret, so the
 * counters tell nothing of which accounts exist and hold no name in clear.
 * The arithmetic lives here; the counters live in the store.
 */
#ifndef GH_LOCKOUT_H
#define GH_LOCKOUT_H

#include "gh.h"

/* A source's text: "192.0.2.7" or "2001:db8:1:2::/64"; "" when the
 * address is not one (then every such login shares one source). */
#define GH_SOURCE_MAX 48

/* The source of a client address as nginx prints it ("192.0.2.7",
 * "2001:db8::1", "::ffff:192.0.2.7" counts as IPv4). */
void gh_lockout_source(const char *client_addr, char out[GH_SOURCE_MAX]);

/* A failure counter as the store keeps it. */
typedef struct {
    uint8_t  key[GH_DIGEST_LEN];     /* gh_lockout_key_* */
    uint8_t  owner[GH_DIGEST_LEN];   /* gh_lockout_owner: the account name's */
    int64_t  window_start;           /* the first failure counted */
    int64_t  failures;               /* within the window */
    int64_t  locked_until;           /* 0 when not locked */
    int64_t  expires;                /* when the row means nothing any more */
} gh_failure;

/* The owner key of an account name: HMAC(secret, "account" 0 name). */
void gh_lockout_owner(const uint8_t secret[GH_DIGEST_LEN], const char *name,
                      uint8_t out[GH_DIGEST_LEN]);
/* The counter of (owner, source), and the owner's counter over every source. */
void gh_lockout_key_source(const uint8_t secret[GH_DIGEST_LEN],
                           const uint8_t owner[GH_DIGEST_LEN], const char *source,
                           uint8_t out[GH_DIGEST_LEN]);
void gh_lockout_key_account(const uint8_t secret[GH_DIGEST_LEN],
                            const uint8_t owner[GH_DIGEST_LEN], uint8_t out[GH_DIGEST_LEN]);

/* Is f locked at now? */
bool gh_lockout_locked(const gh_failure *f, int64_t now);

/* Count one failure in f at now: a window older than reset_after starts
 * again; reaching threshold (> 0) locks f for duration and starts the count
 * again from zero. true when this failure locked it. */
bool gh_lockout_count(gh_failure *f, int64_t now, int64_t reset_after, int64_t threshold,
                      int64_t duration);

/* Throttling of a source: once it has `free` failures within `window`
 * seconds, each failure blocks its next password check for a delay that
 * doubles from `delay` up to `max_delay` seconds (the free-th failure
 * blocks for `delay`). free 0 turns throttling off. */
typedef struct {
    int64_t free;
    int64_t window;
    int64_t delay;
    int64_t max_delay;
} gh_throttle_policy;

/* Milliseconds the n-th failure (from 1) within the window blocks its
 * source for; 0 for those before the free-th. */
int64_t gh_throttle_delay_ms(const gh_throttle_policy *p, uint32_t n);

/* The throttle counter of a source: HMAC(secret, "throttle" 0 source), so
 * neither the shared block nor the store holds an address in clear. */
void gh_lockout_key_throttle(const uint8_t secret[GH_DIGEST_LEN], const char *source,
                             uint8_t out[GH_DIGEST_LEN]);

/* A source's throttle counter: failures within the window that began at
 * window_start, and the end of the source's wait (0: none). Milliseconds of
 * gh_now_ms in the shared block, of gh_epoch_ms in the store. */
typedef struct {
    uint8_t  key[GH_DIGEST_LEN];     /* gh_lockout_key_throttle */
    uint32_t failures;
    int64_t  window_start;
    int64_t  blocked_until;
} gh_throttle_count;

/* Move c from a clock that reads from_now to one that reads to_now at the
 * same instant (the block's to the store's, and back); a wait that is over
 * at that instant becomes 0. */
void gh_throttle_rebase(gh_throttle_count *c, int64_t from_now, int64_t to_now);

/* When c means nothing any more under p: its window and its wait are over. */
int64_t gh_throttle_end_ms(const gh_throttle_count *c, const gh_throttle_policy *p);

#endif
