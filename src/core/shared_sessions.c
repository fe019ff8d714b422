/*
 * shared_sessions.c: the live sessions in the shared block. A session node
 * sits on two chains, by token digest (how a request finds it) and by public
 * id (how logout and revocation find it). Expiry is checked on every lookup,
 * and a timer sweeps a slice of the pool per tick for sessions nobody asks
 * about any more.
 *
 * Last-used times reach the store in batches, never per request: the first
 * lookup that moves a session's last-used time puts its node at the tail of
 * the touched list (two node indexes per node, so joining and leaving are
 * O(1) and the block stays pointer-free), and the timer takes batches off the
 * head. The timer's work is what was used since its last tick, not the size
 * of the pool. A session touched again after it was taken joins the tail
 * anew; one removed leaves the list with its node.
 */
#include "shared_internal.h"

#include "metrics.h"

#include <sys/mman.h>
#include <unistd.h>

static bool session_expired(const gh_shared *sh, const session_node *n, int64_t now)
{
    return gh_store_session_ended(&n->rec, now, sh->hdr->settings[GH_SET_SESSION_TIMEOUT]);
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

static void touched_push(gh_shared *sh, uint32_t i)
{
    session_node *n = &sh->sessions[i];
    shared_hdr *h = sh->hdr;

    n->touched = 1;
    n->touched_prev = h->touched_tail;
    n->touched_next = NIL;
    if (h->touched_tail != NIL)
        sh->sessions[h->touched_tail].touched_next = i;
    else
        h->touched_head = i;
    h->touched_tail = i;
}

static void touched_unlink(gh_shared *sh, uint32_t i)
{
    session_node *n = &sh->sessions[i];
    shared_hdr *h = sh->hdr;

    if (n->touched_prev != NIL)
        sh->sessions[n->touched_prev].touched_next = n->touched_next;
    else
        h->touched_head = n->touched_next;
    if (n->touched_next != NIL)
        sh->sessions[n->touched_next].touched_prev = n->touched_prev;
    else
        h->touched_tail = n->touched_prev;
    n->touched = 0;
}

/* Unlink node i from its chains (and the touched list) and free it; event:
 * tell the session event ring it is gone (a cache dropped says nothing: the
 * session itself lives on). */
static void session_unlink_as(gh_shared *sh, uint32_t i, bool event)
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
    if (n->touched)
        touched_unlink(sh, i);
    if (event)
        shared_event_add(sh, GH_EVENT_SESSION_REMOVED, &n->rec);

    memset(n, 0, sizeof(*n));
    n->next_digest = sh->hdr->sessions.free_head;
    n->next_id = NIL;
    sh->hdr->sessions.free_head = i;
    sh->hdr->sessions.count--;
}

static void session_unlink(gh_shared *sh, uint32_t i)
{
    session_unlink_as(sh, i, true);
}

static void fill_principal(const session_node *n, gh_principal *who)
{
    memset(who, 0, sizeof(*who));
    who->account_id = n->rec.account_id;
    memcpy(who->user, n->rec.user, sizeof(who->user));
    who->role = (gh_role)n->role;
    who->password_change_required = n->password_change_required != 0;
    memcpy(who->dialect, n->rec.dialect, sizeof(who->dialect));
    memcpy(who->session_id, n->rec.id, sizeof(who->session_id));
}

/* Put rec in a free node on both chains; false when the pool is full. The
 * caller has made sure no node holds its id. */
static bool session_insert(gh_shared *sh, const gh_session_record *rec, gh_role role,
                           bool password_change_required)
{
    pool_hdr *p = &sh->hdr->sessions;
    uint32_t i = p->free_head, *bucket;
    session_node *n;

    if (i != NIL)
        p->free_head = sh->sessions[i].next_digest;
    else if (p->fresh < p->nodes)
        i = p->fresh++;
    else
        return false;
    n = &sh->sessions[i];
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
    return true;
}

gh_shared_result gh_shared_session_add(gh_shared *sh, const gh_session_record *rec,
                                       gh_role role, bool password_change_required)
{
    gh_shared_result rc = GH_SHARED_OK;

    shared_lock(sh);
    if (find_by_id(sh, rec->id) == NIL) {
        if (session_insert(sh, rec, role, password_change_required))
            shared_event_add(sh, GH_EVENT_SESSION_CREATED, rec);
        else
            rc = GH_SHARED_FULL;
    }
    shared_unlock(sh);
    return rc;
}

gh_shared_result gh_shared_session_fill(gh_shared *sh, const gh_session_record *rec,
                                        gh_role role, bool password_change_required,
                                        int64_t seq)
{
    shared_hdr *h = sh->hdr;
    gh_shared_result rc = GH_SHARED_STALE;
    session_node *n;
    uint32_t i;

    shared_lock(sh);
    if (h->store_down || h->load_parts_done < GH_SHARED_LOAD_PARTS ||
        h->change_seq < 0 || h->change_seq > seq || h->change_horizon > seq)
        goto done;
    rc = GH_SHARED_OK;
    i = find_by_id(sh, rec->id);
    if (i == NIL) {
        if (!session_insert(sh, rec, role, password_change_required)) {
            rc = GH_SHARED_FULL;
            goto done;
        }
        /* The fill is a use: its time reaches the store with the next batch. */
        touched_push(sh, find_by_id(sh, rec->id));
        goto done;
    }
    n = &sh->sessions[i];
    n->role = (uint8_t)role;
    n->password_change_required = password_change_required;
    if (rec->last_used > n->rec.last_used) {
        n->rec.last_used = rec->last_used;
        if (!n->touched)
            touched_push(sh, i);
    }
done:
    shared_unlock(sh);
    return rc;
}

static void session_drop(gh_shared *sh, uint32_t i)
{
    if (sh->sessions[i].used)
        session_unlink_as(sh, i, false);
}

void gh_shared_drop_all(gh_shared *sh)
{
    uint32_t fresh;

    shared_lock(sh);
    sh->hdr->store_down = 1;
    fresh = sh->hdr->sessions.fresh;
    shared_unlock(sh);
    /* Fills are refused from the mark on, so a slice walk clears the pool:
     * nodes past fresh were never used. */
    shared_drop_sliced(sh, fresh, session_drop);
    shared_cred_drop_all(sh);
}

/* Sessions ahead of the one being added whose bucket heads are fetched. */
#define LOAD_AHEAD 8

/* Fault in the never-used nodes the next n adds will take, and the n after
 * them (another worker's batch may come first), without the lock and
 * without changing a byte: the format leaves nodes untouched, and faulting
 * them in under the lock would make the workers loading at once wait for
 * each other's page faults. Where the kernel cannot (before Linux 5.14), the
 * adds fault the pages in themselves. */
static void prefault_fresh(gh_shared *sh, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
    uint32_t from, to, nodes = sh->hdr->sessions.nodes;

    shared_lock(sh);
    from = sh->hdr->sessions.fresh;
    shared_unlock(sh);
    to = nodes - from > 2 * n ? from + (uint32_t)(2 * n) : nodes;
    if (from >= to)
        return;
    start = (uintptr_t)&sh->sessions[from] & ~(page - 1);
    end = ((uintptr_t)&sh->sessions[to] + page - 1) & ~(page - 1);
    (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

gh_shared_result gh_shared_session_load(gh_shared *sh, const gh_shared_loaded_session *s,
                                        size_t n)
{
    gh_shared_result rc = GH_SHARED_OK;

    prefault_fresh(sh, n);
    shared_lock(sh);
    for (size_t k = 0; k < n && rc == GH_SHARED_OK; k++) {
        /* A bucket head is a random read, a cache miss each: asking for
         * those of a few sessions ahead overlaps the misses. */
        if (k + LOAD_AHEAD < n) {
            __builtin_prefetch(digest_bucket(sh, s[k + LOAD_AHEAD].rec.digest), 1);
            __builtin_prefetch(id_bucket(sh, s[k + LOAD_AHEAD].rec.id), 1);
        }
        if (find_by_id(sh, s[k].rec.id) != NIL)
            continue;
        if (!session_insert(sh, &s[k].rec, s[k].role, s[k].password_change_required))
            rc = GH_SHARED_FULL;
    }
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
    if (sh->hdr->cached && sh->hdr->store_down) {
        rc = GH_SHARED_UNAVAILABLE;
        goto done;
    }
    i = find_by_digest(sh, digest);
    if (i == NIL) {
        rc = GH_SHARED_NOT_FOUND;
        goto done;
    }
    n = &sh->sessions[i];
    /* Another node may have used it since: its idle end is the store's to
     * tell. Its absolute end is the same everywhere. */
    if (sh->hdr->cached && session_expired(sh, n, now) &&
        (n->rec.expires <= 0 || now < n->rec.expires)) {
        rc = GH_SHARED_STALE;
        goto done;
    }
    if (session_expired(sh, n, now)) {
        if (rec != NULL)
            *rec = n->rec;
        /* An end, found by this lookup: counted once, as the one lookup
         * that unlinks it. A cache only drops its copy: the store's sweep
         * counts that end (service_sync.c). */
        if (!sh->hdr->cached)
            gh_metrics_sessions_ended(
                gh_store_session_ended_by_lifetime(&n->rec,
                                                   sh->hdr->settings[GH_SET_SESSION_TIMEOUT])
                    ? GH_METRIC_END_LIFETIME : GH_METRIC_END_IDLE, 1);
        session_unlink(sh, i);
        rc = GH_SHARED_EXPIRED;
        goto done;
    }
    if (now > n->rec.last_used) {
        n->rec.last_used = now;
        if (!n->touched)
            touched_push(sh, i);
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

gh_shared_result gh_shared_session_who(gh_shared *sh, const char *id, gh_principal *who,
                                       gh_session_record *rec)
{
    gh_shared_result rc = GH_SHARED_NOT_FOUND;
    uint32_t i;

    shared_lock(sh);
    i = find_by_id(sh, id);
    if (i != NIL) {
        fill_principal(&sh->sessions[i], who);
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
    for (uint32_t i = 0; i < sh->hdr->sessions.fresh; i++) {
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
    for (uint32_t i = 0; i < sh->hdr->sessions.fresh; i++) {
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
    for (uint32_t i = 0; i < sh->hdr->sessions.fresh && n < max; i++) {
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
    uint32_t i;

    shared_lock(sh);
    while (n < max && (i = sh->hdr->touched_head) != NIL) {
        session_node *s = &sh->sessions[i];

        memcpy(out[n].id, s->rec.id, sizeof(out[n].id));
        out[n].last_used = s->rec.last_used;
        touched_unlink(sh, i);
        n++;
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
    for (uint32_t k = 0; k < EXPIRE_SLICE && k < p->fresh && n < max; k++) {
        uint32_t i = p->hand < p->fresh ? p->hand : 0;

        p->hand = i + 1 < p->fresh ? i + 1 : 0;
        if (sh->sessions[i].used && session_expired(sh, &sh->sessions[i], now)) {
            out[n++] = sh->sessions[i].rec;
            session_unlink(sh, i);
        }
    }
    shared_unlock(sh);
    return n;
}
