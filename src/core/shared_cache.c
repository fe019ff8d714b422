/*
 * shared_cache.c: the credential cache and the lockout counters in the
 * shared block. Both are small pools chained by key; when a pool is full the
 * node under the clock hand is reused, oldest-first in practice because
 * nodes are taken in order. A cached credential stores only who it proved,
 * keyed by HMAC(secret, user, password): the password itself is never kept.
 */
#include "shared_internal.h"

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

static uint32_t *lock_bucket(gh_shared *sh, int64_t account_id)
{
    return &sh->lock_buckets[shared_hash_account(account_id) % sh->hdr->locks.buckets];
}

static void lock_unlink(gh_shared *sh, uint32_t i)
{
    lock_node *n = &sh->locks[i];
    uint32_t *link;

    for (link = lock_bucket(sh, n->account_id); *link != i; link = &sh->locks[*link].next)
        ;
    *link = n->next;
    memset(n, 0, sizeof(*n));
    n->next = sh->hdr->locks.free_head;
    sh->hdr->locks.free_head = i;
    sh->hdr->locks.count--;
}

static uint32_t lock_find(gh_shared *sh, int64_t account_id)
{
    uint32_t i = *lock_bucket(sh, account_id);

    while (i != NIL && sh->locks[i].account_id != account_id)
        i = sh->locks[i].next;
    return i;
}

/* Take a freed node, or one never used, or reuse the one under the clock
 * hand once every node is in use (cred_take's rule). */
static uint32_t lock_take(gh_shared *sh)
{
    pool_hdr *p = &sh->hdr->locks;
    uint32_t i;

    if (p->nodes == 0)
        return NIL;
    if (p->free_head == NIL && p->fresh < p->nodes)
        return p->fresh++;
    if (p->free_head == NIL) {
        lock_unlink(sh, p->hand);
        p->hand = p->hand + 1 < p->nodes ? p->hand + 1 : 0;
    }
    i = p->free_head;
    p->free_head = sh->locks[i].next;
    return i;
}

uint32_t gh_shared_lockout_fail(gh_shared *sh, int64_t account_id, int64_t now,
                                int64_t reset_after)
{
    pool_hdr *p = &sh->hdr->locks;
    uint32_t i, failures = 0, *bucket;
    lock_node *n;

    shared_lock(sh);
    i = lock_find(sh, account_id);
    if (i == NIL) {
        i = lock_take(sh);
        if (i == NIL)
            goto done;
        n = &sh->locks[i];
        n->used = 1;
        n->account_id = account_id;
        n->window_start = now;
        n->failures = 0;
        bucket = lock_bucket(sh, account_id);
        n->next = *bucket;
        *bucket = i;
        p->count++;
    }
    n = &sh->locks[i];
    if (reset_after > 0 && now - n->window_start >= reset_after) {
        n->window_start = now;
        n->failures = 0;
    }
    failures = ++n->failures;
done:
    shared_unlock(sh);
    return failures;
}

void gh_shared_lockout_clear(gh_shared *sh, int64_t account_id)
{
    uint32_t i;

    shared_lock(sh);
    i = lock_find(sh, account_id);
    if (i != NIL)
        lock_unlink(sh, i);
    shared_unlock(sh);
}
