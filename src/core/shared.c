/*
 * shared.c: the block of shared memory every worker sees (see shared.h).
 *
 * Layout: a header, then three tables, each a fixed pool of nodes with hash
 * chains threaded through them by node index (never by pointer, so the block
 * means the same in every process):
 *
 *   sessions   nodes chained twice: by token digest (every request's lookup)
 *              and by public id (logout, revocation). Nodes never move, so a
 *              node is unlinked from both chains without any rehashing. Those
 *              used since their last-used time was last written to the store
 *              also sit on the touched list, doubly linked, oldest first.
 *   creds      verified Basic credentials by HMAC key, chained once.
 *   throttles  failed logins per source (lockout.h), chained once by the
 *              source's HMAC key; the load fills it back from the store.
 *   events     a ring of the latest session events (shared_events.c).
 *   streams    the open event streams of every worker (shared_events.c).
 *
 * Freed nodes sit on a free list; a pool hands those out first, then nodes
 * it never used, in order. The format writes the header and the buckets
 * only: a node is first touched when first used, so a large max_sessions
 * costs memory as sessions arrive, and the master does not fault in the
 * whole block before it starts the workers. The session pool never evicts:
 * a full pool refuses the login. The credential cache and the throttle
 * counters take the node under a clock hand when full (their entries expire
 * anyway).
 *
 * Memory per live session is one node (264 bytes) plus two bucket
 * heads; no allocation happens after the block is formatted. Every function
 * takes the lock once and holds it for a chain walk or a bounded batch.
 */
#include "shared_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const setting_keys[GH_SET_COUNT] = {
    [GH_SET_SESSION_TIMEOUT] = "session_timeout",
    [GH_SET_LOCKOUT_THRESHOLD] = "lockout_threshold",
    [GH_SET_LOCKOUT_DURATION] = "lockout_duration",
    [GH_SET_LOCKOUT_RESET_AFTER] = "lockout_reset_after",
    [GH_SET_MIN_PASSWORD_LENGTH] = "min_password_length",
    [GH_SET_MAX_PASSWORD_LENGTH] = "max_password_length",
};

const char *gh_setting_key(gh_setting setting)
{
    return (unsigned)setting < GH_SET_COUNT ? setting_keys[setting] : NULL;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Buckets: one per node keeps chains at one entry on average. */
static uint32_t bucket_count(uint32_t nodes)
{
    return nodes > 0 ? nodes : 1;
}

/* The offset of a table of bytes at *off, which moves past it. */
static size_t place(size_t *off, size_t bytes)
{
    size_t at = *off;

    *off += align8(bytes);
    return at;
}

/* Lay the tables out after the header: each one's offset into h, and the
 * size of the whole block returned. The one place that knows the layout,
 * for gh_shared_size and gh_shared_format alike. */
static size_t shared_layout(const gh_shared_limits *l, shared_hdr *h)
{
    size_t off = align8(sizeof(shared_hdr));
    uint32_t sessions = l->max_sessions, creds = l->credcache_entries;
    uint32_t throttles = l->throttle_entries;

    /* a count times a sizeof is a size_t product: no 32-bit wrap */
    h->off_session_nodes = place(&off, sessions * sizeof(session_node));
    h->off_session_by_digest = place(&off, bucket_count(sessions) * sizeof(uint32_t));
    h->off_session_by_id = place(&off, bucket_count(sessions) * sizeof(uint32_t));
    h->off_cred_nodes = place(&off, creds * sizeof(cred_node));
    h->off_cred_buckets = place(&off, bucket_count(creds) * sizeof(uint32_t));
    h->off_throttle_nodes = place(&off, throttles * sizeof(throttle_node));
    h->off_throttle_buckets = place(&off, bucket_count(throttles) * sizeof(uint32_t));
    h->off_events = place(&off, (size_t)GH_SHARED_EVENTS * sizeof(event_slot));
    h->off_streams = place(&off, (size_t)GH_SHARED_STREAMS * sizeof(gh_shared_stream));
    return off;
}

size_t gh_shared_size(const gh_shared_limits *l)
{
    shared_hdr h;

    return shared_layout(l, &h);
}

static gh_shared *shared_map(void *mem, gh_shared_lock lk)
{
    gh_shared *sh = calloc(1, sizeof(*sh));
    char *base = mem;

    if (sh == NULL)
        return NULL;
    sh->hdr = mem;
    sh->sessions = (session_node *)(base + sh->hdr->off_session_nodes);
    sh->session_by_digest = (uint32_t *)(base + sh->hdr->off_session_by_digest);
    sh->session_by_id = (uint32_t *)(base + sh->hdr->off_session_by_id);
    sh->creds = (cred_node *)(base + sh->hdr->off_cred_nodes);
    sh->cred_buckets = (uint32_t *)(base + sh->hdr->off_cred_buckets);
    sh->throttles = (throttle_node *)(base + sh->hdr->off_throttle_nodes);
    sh->throttle_buckets = (uint32_t *)(base + sh->hdr->off_throttle_buckets);
    sh->events = (event_slot *)(base + sh->hdr->off_events);
    sh->streams = (gh_shared_stream *)(base + sh->hdr->off_streams);
    sh->lock = lk;
    return sh;
}

static void pool_init(pool_hdr *p, uint32_t nodes)
{
    p->nodes = nodes;
    p->buckets = bucket_count(nodes);
    p->free_head = NIL;
    p->fresh = 0;
    p->count = 0;
    p->hand = 0;
}

gh_shared *gh_shared_format(void *mem, const gh_shared_limits *l, gh_shared_lock lk)
{
    shared_hdr *h = mem;
    gh_shared *sh;

    memset(h, 0, sizeof(*h));
    h->size = shared_layout(l, h);
    pool_init(&h->sessions, l->max_sessions);
    h->touched_head = h->touched_tail = NIL;
    h->store_expiry_from = -1;
    pool_init(&h->creds, l->credcache_entries);
    pool_init(&h->throttles, l->throttle_entries);

    sh = shared_map(mem, lk);
    if (sh == NULL)
        return NULL;

    memset(sh->session_by_digest, 0xff, (size_t)h->sessions.buckets * sizeof(uint32_t));
    memset(sh->session_by_id, 0xff, (size_t)h->sessions.buckets * sizeof(uint32_t));
    memset(sh->cred_buckets, 0xff, (size_t)h->creds.buckets * sizeof(uint32_t));
    memset(sh->throttle_buckets, 0xff, (size_t)h->throttles.buckets * sizeof(uint32_t));
    memset(sh->streams, 0, (size_t)GH_SHARED_STREAMS * sizeof(gh_shared_stream));
    for (int i = 0; i < GH_SET_COUNT; i++)
        h->settings[i] = -1;

    /* The magic goes last: a block is attachable only once fully laid out. */
    h->version = SHARED_VERSION;
    h->magic = SHARED_MAGIC;
    return sh;
}

gh_shared *gh_shared_attach(void *mem, gh_shared_lock lk)
{
    shared_hdr *h = mem;

    if (h->magic != SHARED_MAGIC || h->version != SHARED_VERSION)
        return NULL;
    return shared_map(mem, lk);
}

void gh_shared_detach(gh_shared *sh)
{
    free(sh);
}

bool gh_shared_load_claim(gh_shared *sh, int64_t rowid_last, int64_t *after, int64_t *upto)
{
    shared_hdr *h = sh->hdr;
    int64_t step;
    uint32_t part;

    shared_lock(sh);
    if (h->load_parts_claimed == GH_SHARED_LOAD_PARTS) {
        shared_unlock(sh);
        return false;
    }
    if (h->load_parts_claimed == 0) {
        h->load_rowid_last = rowid_last > 0 ? rowid_last : 0;
        h->change_seq = INT64_MAX;
    }
    part = h->load_parts_claimed++;
    step = h->load_rowid_last / GH_SHARED_LOAD_PARTS + 1;
    *after = part == 0 ? INT64_MIN : (int64_t)part * step;
    *upto = part + 1 == GH_SHARED_LOAD_PARTS ? INT64_MAX : (int64_t)(part + 1) * step;
    shared_unlock(sh);
    return true;
}

void gh_shared_load_done(gh_shared *sh, int64_t change_seq)
{
    shared_hdr *h = sh->hdr;

    shared_lock(sh);
    if (change_seq < h->change_seq)
        h->change_seq = change_seq;
    /* A cache reset may have counted this part done already. */
    if (h->load_parts_done < GH_SHARED_LOAD_PARTS)
        h->load_parts_done++;
    shared_unlock(sh);
}

int64_t gh_shared_change_seq(gh_shared *sh)
{
    int64_t seq;

    shared_lock(sh);
    seq = sh->hdr->load_parts_done == GH_SHARED_LOAD_PARTS ? sh->hdr->change_seq : -1;
    shared_unlock(sh);
    return seq;
}

bool gh_shared_advance_seq(gh_shared *sh, int64_t from, int64_t to)
{
    bool ok;

    shared_lock(sh);
    ok = sh->hdr->change_seq == from;
    if (ok)
        sh->hdr->change_seq = to;
    shared_unlock(sh);
    return ok;
}

void gh_shared_apply_begin(gh_shared *sh, int64_t seq)
{
    shared_lock(sh);
    if (seq > sh->hdr->change_horizon)
        sh->hdr->change_horizon = seq;
    shared_unlock(sh);
}

void gh_shared_set_cached(gh_shared *sh, bool cached)
{
    shared_lock(sh);
    sh->hdr->cached = cached;
    shared_unlock(sh);
}

bool gh_shared_cached(gh_shared *sh)
{
    bool cached;

    shared_lock(sh);
    cached = sh->hdr->cached != 0;
    shared_unlock(sh);
    return cached;
}

bool gh_shared_store_down(gh_shared *sh)
{
    bool down;

    shared_lock(sh);
    down = sh->hdr->store_down != 0;
    shared_unlock(sh);
    return down;
}

void gh_shared_cache_reset(gh_shared *sh, int64_t seq)
{
    shared_hdr *h = sh->hdr;

    shared_lock(sh);
    /* Nothing read before the loss is held any more: the block starts over
     * at seq, and fills read at older sequences are refused. A load still
     * running (a worker's start) ends by lowering change_seq to where it
     * read, so what changed since is applied again. */
    if (h->load_parts_done < GH_SHARED_LOAD_PARTS || h->change_seq < seq)
        h->change_seq = seq;
    h->load_parts_claimed = h->load_parts_done = GH_SHARED_LOAD_PARTS;
    if (seq > h->change_horizon)
        h->change_horizon = seq;
    h->store_down = 0;
    shared_unlock(sh);
}

void gh_shared_store_expiry_due(gh_shared *sh)
{
    shared_lock(sh);
    sh->hdr->store_expiry_from = 0;
    shared_unlock(sh);
}

int64_t gh_shared_store_expiry_from(gh_shared *sh)
{
    int64_t from;

    shared_lock(sh);
    from = sh->hdr->store_expiry_from;
    shared_unlock(sh);
    return from;
}

void gh_shared_store_expiry_done(gh_shared *sh, int64_t from, int64_t next)
{
    shared_lock(sh);
    /* Another batch, or a new due mark, moved the sweep meanwhile: it stands. */
    if (sh->hdr->store_expiry_from == from)
        sh->hdr->store_expiry_from = next;
    shared_unlock(sh);
}

int64_t gh_shared_setting(gh_shared *sh, gh_setting setting)
{
    int64_t v;

    if ((unsigned)setting >= GH_SET_COUNT)
        return -1;
    shared_lock(sh);
    v = sh->hdr->settings[setting];
    shared_unlock(sh);
    return v;
}

void gh_shared_setting_set(gh_shared *sh, gh_setting setting, int64_t value)
{
    if ((unsigned)setting >= GH_SET_COUNT)
        return;
    shared_lock(sh);
    sh->hdr->settings[setting] = value;
    shared_unlock(sh);
}

void shared_drop_sliced(gh_shared *sh, uint32_t fresh, void (*drop)(gh_shared *sh, uint32_t i))
{
    uint32_t from = 0;

    while (from < fresh) {
        uint32_t to = fresh - from > SHARED_DROP_SLICE ? from + SHARED_DROP_SLICE : fresh;

        shared_lock(sh);
        for (uint32_t i = from; i < to; i++)
            drop(sh, i);
        shared_unlock(sh);
        from = to;
    }
}
