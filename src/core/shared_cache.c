/*
 * shared_cache.c: the credential cache and the per-source throttle of
 * failed logins in the shared block. Both are small pools chained by key;
 * when a pool is full the node under the clock hand is reused, oldest-first
 * in practice because nodes are taken in order. A source's window runs from
 * its first failure; once it and any block are over, the count starts again.
 * A source is known by its HMAC key, never its address. The block is the
 * throttle's truth while the server runs; the hash threads copy a source's
 * counter to the store after each failure and the load copies it back.
 * A cached credential stores only who it proved, keyed by HMAC(secret,
 * user, password): the password itself is never kept.
 */
#include "shared_internal.h"

#include <stddef.h>

#include "token.h"

static uint32_t *cred_bucket(gh_shared *sh, const uint8_t *key)
{
    return &sh->cred_buckets[shared_hash_digest(key) % sh->hdr->creds.buckets];
}

static void cred_unlink(gh_shared *sh, uint32_t i)
{
    cred_node *n = &sh->creds[i];
    uint32_t *link;

    for (link = cred_bucket(sh, n->key); *link != i; link = &sh->creds[*link].next)
        ;
    *link = n->next;
    gh_wipe(n, sizeof(*n));
    n->next = sh->hdr->creds.free_head;
    sh->hdr->creds.free_head = i;
    sh->hdr->creds.count--;
}

static uint32_t cred_find(gh_shared *sh, const uint8_t *key)
{
    uint32_t i = *cred_bucket(sh, key);

    while (i != NIL && !gh_token_equal(sh->creds[i].key, key, GH_DIGEST_LEN))
        i = sh->creds[i].next;
    return i;
}

/* Take a node of pool p: a freed one, or one never used, or the one under
 * the clock hand once every node is in use, which unlink frees first. The
 * free list is threaded through each node's first member, its next. NIL when
 * the pool has no nodes. Under the lock. */
static uint32_t pool_take(gh_shared *sh, pool_hdr *p, const void *nodes, size_t node_size,
                          void (*unlink)(gh_shared *, uint32_t))
{
    uint32_t i;

    if (p->nodes == 0)
        return NIL;
    if (p->free_head == NIL && p->fresh < p->nodes)
        return p->fresh++;
    if (p->free_head == NIL) {
        unlink(sh, p->hand);
        p->hand = p->hand + 1 < p->nodes ? p->hand + 1 : 0;
    }
    i = p->free_head;
    memcpy(&p->free_head, (const char *)nodes + (size_t)i * node_size, sizeof(uint32_t));
    return i;
}

_Static_assert(offsetof(cred_node, next) == 0, "pool_take: next comes first");
_Static_assert(offsetof(throttle_node, next) == 0, "pool_take: next comes first");

void gh_shared_cred_put(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN],
                        const gh_principal *who, int64_t expires)
{
    uint32_t i, *bucket;
    cred_node *n;

    shared_lock(sh);
    i = cred_find(sh, key);
    if (i != NIL)
        cred_unlink(sh, i);
    /* Verified before the store was lost: kept no more than the rest. */
    if (sh->hdr->cached && sh->hdr->store_down)
        goto done;
    i = pool_take(sh, &sh->hdr->creds, sh->creds, sizeof(cred_node), cred_unlink);
    if (i == NIL)
        goto done;
    n = &sh->creds[i];
    n->used = 1;
    memcpy(n->key, key, GH_DIGEST_LEN);
    n->expires = expires;
    n->who = *who;
    n->who.session_id[0] = '\0';
    bucket = cred_bucket(sh, key);
    n->next = *bucket;
    *bucket = i;
    sh->hdr->creds.count++;
done:
    shared_unlock(sh);
}

bool gh_shared_cred_get(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN], int64_t now,
                        gh_principal *who)
{
    bool found = false;
    uint32_t i;

    shared_lock(sh);
    /* A store down: what was cached may have changed meanwhile. */
    if (sh->hdr->cached && sh->hdr->store_down)
        goto done;
    i = cred_find(sh, key);
    if (i == NIL)
        goto done;
    if (now >= sh->creds[i].expires) {
        cred_unlink(sh, i);
        goto done;
    }
    *who = sh->creds[i].who;
    found = true;
done:
    shared_unlock(sh);
    return found;
}

void gh_shared_cred_drop_account(gh_shared *sh, int64_t account_id)
{
    shared_lock(sh);
    for (uint32_t i = 0; i < sh->hdr->creds.fresh; i++) {
        if (sh->creds[i].used && sh->creds[i].who.account_id == account_id)
            cred_unlink(sh, i);
    }
    shared_unlock(sh);
}

static void cred_drop(gh_shared *sh, uint32_t i)
{
    if (sh->creds[i].used)
        cred_unlink(sh, i);
}

void shared_cred_drop_all(gh_shared *sh)
{
    uint32_t fresh;

    shared_lock(sh);
    fresh = sh->hdr->creds.fresh;
    shared_unlock(sh);
    shared_drop_sliced(sh, fresh, cred_drop);
}

static uint32_t *throttle_bucket(gh_shared *sh, const uint8_t *key)
{
    return &sh->throttle_buckets[shared_hash_digest(key) % sh->hdr->throttles.buckets];
}

static void throttle_unlink(gh_shared *sh, uint32_t i)
{
    throttle_node *n = &sh->throttles[i];
    uint32_t *link;

    for (link = throttle_bucket(sh, n->key); *link != i; link = &sh->throttles[*link].next)
        ;
    *link = n->next;
    memset(n, 0, sizeof(*n));
    n->next = sh->hdr->throttles.free_head;
    sh->hdr->throttles.free_head = i;
    sh->hdr->throttles.count--;
}

static uint32_t throttle_find(gh_shared *sh, const uint8_t *key)
{
    uint32_t i = *throttle_bucket(sh, key);

    while (i != NIL && memcmp(sh->throttles[i].key, key, GH_DIGEST_LEN) != 0)
        i = sh->throttles[i].next;
    return i;
}

/* A new node for key, its window starting at now; NULL when the table has
 * no nodes at all. Under the lock. */
static throttle_node *throttle_add(gh_shared *sh, const uint8_t *key, int64_t now)
{
    uint32_t i, *bucket;
    throttle_node *n;

    i = pool_take(sh, &sh->hdr->throttles, sh->throttles, sizeof(throttle_node),
                  throttle_unlink);

    if (i == NIL)
        return NULL;
    n = &sh->throttles[i];
    memset(n, 0, sizeof(*n));
    n->used = 1;
    memcpy(n->key, key, GH_DIGEST_LEN);
    n->window_start = now;
    bucket = throttle_bucket(sh, key);
    n->next = *bucket;
    *bucket = i;
    sh->hdr->throttles.count++;
    return n;
}

/* The source's node with a window still running at now (an old one starts
 * again), made when absent and make is set; NULL otherwise. Under the lock. */
static throttle_node *throttle_node_at(gh_shared *sh, const uint8_t *key, int64_t now,
                                       const gh_throttle_policy *p, bool make)
{
    uint32_t i = throttle_find(sh, key);
    throttle_node *n;

    if (i == NIL)
        return make ? throttle_add(sh, key, now) : NULL;
    n = &sh->throttles[i];
    if (now - n->window_start >= p->window * 1000 && now >= n->blocked_until) {
        n->window_start = now;
        n->failures = 0;
        n->blocked_until = 0;
    }
    return n;
}

int64_t gh_shared_throttle_wait(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN], int64_t now,
                                const gh_throttle_policy *p, uint32_t *failures)
{
    throttle_node *n;
    int64_t wait = 0;

    if (failures != NULL)
        *failures = 0;
    shared_lock(sh);
    n = throttle_node_at(sh, key, now, p, false);
    if (n != NULL) {
        wait = n->blocked_until > now ? n->blocked_until - now : 0;
        if (failures != NULL)
            *failures = n->failures;
    }
    shared_unlock(sh);
    return wait;
}

int64_t gh_shared_throttle_fail(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN], int64_t now,
                                const gh_throttle_policy *p)
{
    throttle_node *n;
    int64_t delay, wait = 0;

    /* Counted even with throttling off: the hash queue tells suspects by it. */
    shared_lock(sh);
    n = throttle_node_at(sh, key, now, p, true);
    if (n != NULL) {
        if (n->failures < UINT32_MAX)
            n->failures++;
        delay = gh_throttle_delay_ms(p, n->failures);
        if (delay > 0 && now + delay > n->blocked_until)
            n->blocked_until = now + delay;
        wait = n->blocked_until > now ? n->blocked_until - now : 0;
    }
    shared_unlock(sh);
    return wait;
}

bool gh_shared_throttle_get(gh_shared *sh, int64_t now, const gh_throttle_policy *p,
                            gh_throttle_count *out)
{
    throttle_node *n;

    shared_lock(sh);
    n = throttle_node_at(sh, out->key, now, p, false);
    if (n != NULL) {
        out->failures = n->failures;
        out->window_start = n->window_start;
        out->blocked_until = n->blocked_until;
    }
    shared_unlock(sh);
    return n != NULL;
}

void gh_shared_throttle_restore(gh_shared *sh, const gh_throttle_count *c)
{
    uint32_t i;
    throttle_node *n;

    shared_lock(sh);
    i = throttle_find(sh, c->key);
    n = i != NIL ? &sh->throttles[i] : throttle_add(sh, c->key, c->window_start);
    if (n != NULL) {
        if (c->failures > n->failures) {
            n->failures = c->failures;
            n->window_start = c->window_start;
        }
        if (c->blocked_until > n->blocked_until)
            n->blocked_until = c->blocked_until;
    }
    shared_unlock(sh);
}

uint32_t gh_shared_throttle_room(gh_shared *sh)
{
    /* Fixed at format: no lock needed. */
    return sh->hdr->throttles.nodes;
}
