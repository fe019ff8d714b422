/*
 * shared_sessions.c: the live sessions in the shared block. A session node
 * sits on two chains, by token digest (how a request finds it) and by public
 * id (how logout and revocation find it). Expiry is checked on every lookup,
 * and a timer sweeps a slice of the pool per tick for sessions nobody asks
 * about any more; last-used times are written to the store in batches from
 * the `touched` flag, never per request.
 */
#include "shared_internal.h"

static bool session_expired(const gh_shared *sh, const session_node *n, int64_t now)
{
    int64_t idle = n->rec.idle_timeout;

    if (idle <= 0)
        idle = sh->hdr->settings[GH_SET_SESSION_TIMEOUT];
    if (idle > 0 && now - n->rec.last_used >= idle)
        return true;
    return n->rec.expires > 0 && now >= n->rec.expires;
}

static uint32_t *digest_bucket(gh_shared *sh, const uint8_t *digest)
{
    return &sh->session_by_digest[shared_hash_digest(digest) % sh->hdr->sessions.buckets];
}

static uint32_t *id_bucket(gh_shared *sh, const char *id)
{
    return &sh->session_by_id[shared_hash_id(id) % sh->hdr->sessions.buckets];
}

static uint32_t find_by_digest(gh_shared *sh, const uint8_t *digest)
{
    uint32_t i = *digest_bucket(sh, digest);

    while (i != NIL && memcmp(sh->sessions[i].rec.digest, digest, GH_DIGEST_LEN) != 0)
        i = sh->sessions[i].next_digest;
    return i;
}

static uint32_t find_by_id(gh_shared *sh, const char *id)
{
    uint32_t i = *id_bucket(sh, id);

    while (i != NIL && strcmp(sh->sessions[i].rec.id, id) != 0)
        i = sh->sessions[i].next_id;
    return i;
}

/* Unlink node i from both chains and put it on the free list. */
static void session_unlink(gh_shared *sh, uint32_t i)
{
    session_node *n = &sh->sessions[i];
    uint32_t *link;

    for (link = digest_bucket(sh, n->rec.digest); *link != i;
         link = &sh->sessions[*link].next_digest)
        ;
    *link = n->next_digest;
    for (link = id_bucket(sh, n->rec.id); *link != i; link = &sh->sessions[*link].next_id)
        ;
    *link = n->next_id;

    memset(n, 0, sizeof(*n));
    n->next_digest = sh->hdr->sessions.free_head;
    n->next_id = NIL;
    sh->hdr->sessions.free_head = i;
    sh->hdr->sessions.count--;
}

static void fill_principal(const session_node *n, gh_principal *who)
{
    memset(who, 0, sizeof(*who));
    who->account_id = n->rec.account_id;
    memcpy(who->user, n->rec.user, sizeof(who->user));
    who->role = (gh_role)n->role;
    who->password_change_required = n->password_change_required != 0;
    who->dialect = n->rec.dialect;
    memcpy(who->session_id, n->rec.id, sizeof(who->session_id));
}

gh_shared_result gh_shared_session_add(gh_shared *sh, const gh_session_record *rec,
                                       gh_role role, bool password_change_required)
{
    gh_shared_result rc = GH_SHARED_OK;
    uint32_t i, *bucket;
    session_node *n;

    shared_lock(sh);
    /* Loading from the store at start may meet a session already added. */
    if (find_by_id(sh, rec->id) != NIL)
        goto done;
    i = sh->hdr->sessions.free_head;
    if (i == NIL) {
        rc = GH_SHARED_FULL;
        goto done;
    }
    n = &sh->sessions[i];
    sh->hdr->sessions.free_head = n->next_digest;
    n->used = 1;
    n->role = (uint8_t)role;
    n->password_change_required = password_change_required;
    n->touched = 0;
    n->rec = *rec;
    bucket = digest_bucket(sh, rec->digest);
    n->next_digest = *bucket;
    *bucket = i;
    bucket = id_bucket(sh, rec->id);
    n->next_id = *bucket;
    *bucket = i;
    sh->hdr->sessions.count++;
done:
    shared_unlock(sh);
    return rc;
}

gh_shared_result gh_shared_session_find(gh_shared *sh, const uint8_t digest[GH_DIGEST_LEN],
                                        int64_t now, gh_principal *who,
                                        gh_session_record *rec)
{
    gh_shared_result rc = GH_SHARED_OK;
    session_node *n;
    uint32_t i;

    shared_lock(sh);
    i = find_by_digest(sh, digest);
    if (i == NIL) {
        rc = GH_SHARED_NOT_FOUND;
        goto done;
    }
    n = &sh->sessions[i];
    if (session_expired(sh, n, now)) {
        if (rec != NULL)
            *rec = n->rec;
        session_unlink(sh, i);
        rc = GH_SHARED_EXPIRED;
        goto done;
    }
    if (now > n->rec.last_used) {
        n->rec.last_used = now;
        n->touched = 1;
    }
    if (who != NULL)
        fill_principal(n, who);
    if (rec != NULL)
        *rec = n->rec;
done:
    shared_unlock(sh);
    return rc;
}

gh_shared_result gh_shared_session_get(gh_shared *sh, const char *id, gh_session_record *rec)
{
    gh_shared_result rc = GH_SHARED_NOT_FOUND;
    uint32_t i;

    shared_lock(sh);
    i = find_by_id(sh, id);
    if (i != NIL) {
        if (rec != NULL)
            *rec = sh->sessions[i].rec;
        rc = GH_SHARED_OK;
    }
    shared_unlock(sh);
    return rc;
}

gh_shared_result gh_shared_session_remove(gh_shared *sh, const char *id,
                                          gh_session_record *rec)
{
    gh_shared_result rc = GH_SHARED_NOT_FOUND;
    uint32_t i;

    shared_lock(sh);
    i = find_by_id(sh, id);
    if (i != NIL) {
        if (rec != NULL)
            *rec = sh->sessions[i].rec;
        session_unlink(sh, i);
        rc = GH_SHARED_OK;
    }
    shared_unlock(sh);
    return rc;
}

/* Account-wide changes walk the whole pool: they are rare (an administrator's
 * action), and a per-account chain would cost every session more memory. */
int gh_shared_session_remove_account(gh_shared *sh, int64_t account_id)
{
    int removed = 0;

    shared_lock(sh);
    for (uint32_t i = 0; i < sh->hdr->sessions.nodes; i++) {
        if (sh->sessions[i].used && sh->sessions[i].rec.account_id == account_id) {
            session_unlink(sh, i);
            removed++;
        }
    }
    shared_unlock(sh);
    return removed;
}

void gh_shared_session_update_account(gh_shared *sh, int64_t account_id, gh_role role,
                                      bool password_change_required)
{
    shared_lock(sh);
    for (uint32_t i = 0; i < sh->hdr->sessions.nodes; i++) {
        session_node *n = &sh->sessions[i];

        if (n->used && n->rec.account_id == account_id) {
            n->role = (uint8_t)role;
            n->password_change_required = password_change_required;
        }
    }
    shared_unlock(sh);
}

size_t gh_shared_session_ids(gh_shared *sh, int64_t account_id,
                             char (*ids)[GH_SESSION_ID_LEN + 1], size_t max)
{
    size_t n = 0;

    shared_lock(sh);
    for (uint32_t i = 0; i < sh->hdr->sessions.nodes && n < max; i++) {
        if (sh->sessions[i].used && sh->sessions[i].rec.account_id == account_id)
            memcpy(ids[n++], sh->sessions[i].rec.id, GH_SESSION_ID_LEN + 1);
    }
    shared_unlock(sh);
    return n;
}

uint32_t gh_shared_session_count(gh_shared *sh)
{
    uint32_t count;

    shared_lock(sh);
    count = sh->hdr->sessions.count;
    shared_unlock(sh);
    return count;
}

size_t gh_shared_session_collect_touched(gh_shared *sh, gh_session_touch *out, size_t max)
{
    size_t n = 0;

    shared_lock(sh);
    for (uint32_t i = 0; i < sh->hdr->sessions.nodes && n < max; i++) {
        session_node *s = &sh->sessions[i];

        if (s->used && s->touched) {
            memcpy(out[n].id, s->rec.id, sizeof(out[n].id));
            out[n].last_used = s->rec.last_used;
            s->touched = 0;
            n++;
        }
    }
    shared_unlock(sh);
    return n;
}

/* Nodes looked at per call: a bounded slice, so the lock is held briefly. */
#define EXPIRE_SLICE 4096

size_t gh_shared_session_expire(gh_shared *sh, int64_t now, gh_session_record *out,
                                size_t max)
{
    pool_hdr *p = &sh->hdr->sessions;
    size_t n = 0;

    shared_lock(sh);
    for (uint32_t k = 0; k < EXPIRE_SLICE && k < p->nodes && n < max; k++) {
        uint32_t i = p->hand;

        p->hand = p->hand + 1 < p->nodes ? p->hand + 1 : 0;
        if (sh->sessions[i].used && session_expired(sh, &sh->sessions[i], now)) {
            out[n++] = sh->sessions[i].rec;
            session_unlink(sh, i);
        }
    }
    shared_unlock(sh);
    return n;
}
