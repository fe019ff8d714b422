/*
 * shared_cache.c: the credential cache and the per-source throttle of
 * failed logins in the shared block. Both are small pools chained by key;
 * when a pool is full the node under the clock hand is reused, oldest-first
 * in practice because nodes are taken in order. A source's window runs from
 * its first failure; once it and any block are over, the count starts
 * again. A cached credential stores only who it proved, keyed by
 * HMAC(secret, user, password): the password itself is never kept.
 */
#include "shared_internal.h"

#include <stdio.h>

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

/* Take a freed node, or one never used, or reuse the one under the clock
 * hand once every node is in use. */
static uint32_t cred_take(gh_shared *sh)
{
    pool_hdr *p = &sh->hdr->creds;
    uint32_t i;

    if (p->nodes == 0)
        return NIL;
    if (p->free_head == NIL && p->fresh < p->nodes)
        return p->fresh++;
    if (p->free_head == NIL) {
        cred_unlink(sh, p->hand);
        p->hand = p->hand + 1 < p->nodes ? p->hand + 1 : 0;
    }
    i = p->free_head;
    p->free_head = sh->creds[i].next;
    return i;
}

void gh_shared_cred_put(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN],
                        const gh_principal *who, int64_t expires)
{
    uint32_t i, *bucket;
    cred_node *n;

    shared_lock(sh);
    i = cred_find(sh, key);
    if (i != NIL)
        cred_unlink(sh, i);
    i = cred_take(sh);
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

static uint32_t *throttle_bucket(gh_shared *sh, const char *source)
{
    return &sh->throttle_buckets[shared_hash_id(source) % sh->hdr->throttles.buckets];
}

static void throttle_unlink(gh_shared *sh, uint32_t i)
{
    throttle_node *n = &sh->throttles[i];
    uint32_t *link;

    for (link = throttle_bucket(sh, n->source); *link != i; link = &sh->throttles[*link].next)
        ;
    *link = n->next;
    memset(n, 0, sizeof(*n));
    n->next = sh->hdr->throttles.free_head;
    sh->hdr->throttles.free_head = i;
    sh->hdr->throttles.count--;
}

static uint32_t throttle_find(gh_shared *sh, const char *source)
{
    uint32_t i = *throttle_bucket(sh, source);

    while (i != NIL && strcmp(sh->throttles[i].source, source) != 0)
        i = sh->throttles[i].next;
    return i;
}

/* Take a freed node, or one never used, or reuse the one under the clock
 * hand once every node is in use (cred_take's rule). */
static uint32_t throttle_take(gh_shared *sh)
{
    pool_hdr *p = &sh->hdr->throttles;
    uint32_t i;

    if (p->nodes == 0)
        return NIL;
    if (p->free_head == NIL && p->fresh < p->nodes)
        return p->fresh++;
    if (p->free_head == NIL) {
        throttle_unlink(sh, p->hand);
        p->hand = p->hand + 1 < p->nodes ? p->hand + 1 : 0;
    }
    i = p->free_head;
    p->free_head = sh->throttles[i].next;
    return i;
}

/* The source's node with a window still running at now (an old one starts
 * again), made when absent and make is set; NIL otherwise. Under the lock. */
static throttle_node *throttle_node_at(gh_shared *sh, const char *source, int64_t now,
                                       const gh_throttle_policy *p, bool make)
{
    uint32_t i = throttle_find(sh, source), *bucket;
    throttle_node *n;

    if (i == NIL && make) {
        i = throttle_take(sh);
        if (i == NIL)
            return NULL;
        n = &sh->throttles[i];
        memset(n, 0, sizeof(*n));
        n->used = 1;
        snprintf(n->source, sizeof(n->source), "%s", source);
        n->window_start = now;
        bucket = throttle_bucket(sh, source);
        n->next = *bucket;
        *bucket = i;
        sh->hdr->throttles.count++;
    }
    if (i == NIL)
        return NULL;
    n = &sh->throttles[i];
    if (now - n->window_start >= p->window * 1000 && now >= n->blocked_until) {
        n->window_start = now;
        n->failures = 0;
        n->blocked_until = 0;
    }
    return n;
}

int64_t gh_shared_throttle_wait(gh_shared *sh, const char *source, int64_t now,
                                const gh_throttle_policy *p, uint32_t *failures)
{
    throttle_node *n;
    int64_t wait = 0;

    if (failures != NULL)
        *failures = 0;
    shared_lock(sh);
    n = throttle_node_at(sh, source, now, p, false);
    if (n != NULL) {
        wait = n->blocked_until > now ? n->blocked_until - now : 0;
        if (failures != NULL)
            *failures = n->failures;
    }
    shared_unlock(sh);
    return wait;
}

int64_t gh_shared_throttle_fail(gh_shared *sh, const char *source, int64_t now,
                                const gh_throttle_policy *p)
{
    throttle_node *n;
    int64_t delay, wait = 0;

    /* Counted even with throttling off: the hash queue tells suspects by it. */
    shared_lock(sh);
    n = throttle_node_at(sh, source, now, p, true);
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
