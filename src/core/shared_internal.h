/*
 * shared_internal.h: the layout of the shared block, private to shared*.c.
 * See shared.c for how the tables work.
 */
#ifndef GH_SHARED_INTERNAL_H
#define GH_SHARED_INTERNAL_H

#include "lockout.h"
#include "shared.h"

#include <string.h>

#define SHARED_MAGIC   0x6768736861726564ULL   /* "ghshared" */
#define SHARED_VERSION 10u
#define NIL            UINT32_MAX

typedef struct {
    uint32_t next_digest;
    uint32_t next_id;
    uint32_t touched_prev;          /* the touched list; valid while touched */
    uint32_t touched_next;
    uint8_t  used;
    uint8_t  role;
    uint8_t  password_change_required;
    uint8_t  touched;               /* on the touched list */
    gh_session_record rec;
} session_node;

typedef struct {
    uint32_t    next;
    uint8_t     used;
    uint8_t     key[GH_DIGEST_LEN];
    int64_t     expires;
    gh_principal who;
} cred_node;

typedef struct {
    uint32_t next;
    uint8_t  used;
    uint32_t failures;              /* within the window */
    int64_t  window_start;          /* milliseconds, gh_now_ms */
    int64_t  blocked_until;         /* milliseconds; 0 = not blocked */
    uint8_t  key[GH_DIGEST_LEN];    /* gh_lockout_key_throttle of the source */
} throttle_node;

/* The session event ring (shared_events.c): GH_SHARED_EVENTS slots, the
 * event numbered seq in slot seq % GH_SHARED_EVENTS. */
typedef gh_shared_event event_slot;

/* A pool of nodes with one free list; chains live in bucket arrays. Nodes
 * are handed out freed ones first, then in order from fresh: those from
 * fresh on were never used, and nothing reads or writes them, so a pool
 * costs memory only as far as it has been used (the format touches none). */
typedef struct {
    uint32_t nodes;
    uint32_t buckets;
    uint32_t free_head;
    uint32_t fresh;         /* the first node never handed out */
    uint32_t count;
    uint32_t hand;          /* clock hand for eviction / expiry walks, below fresh */
} pool_hdr;

typedef struct {
    uint64_t magic;
    uint32_t version;
    int64_t  change_seq;                   /* while loading: the lowest of the done parts */
    int64_t  settings[GH_SET_COUNT];
    pool_hdr sessions;
    uint32_t touched_head, touched_tail;   /* oldest and newest touch */
    uint32_t load_parts_claimed;           /* the load's parts handed to a worker */
    uint32_t load_parts_done;              /* all of them: the block is loaded */
    int64_t  load_rowid_last;              /* the first claimer's last rowid: the split */
    int64_t  store_expiry_from;            /* next store expiry batch; -1: none due */
    int64_t  change_horizon;               /* highest seq an applier has begun on */
    uint8_t  cached;                       /* cache mode (gh_shared_set_cached) */
    uint8_t  store_down;                   /* cache mode: the store is lost */
    pool_hdr creds;
    pool_hdr throttles;
    uint64_t event_last;                   /* seq of the newest event; 0: none yet */
    uint64_t stream_last;                  /* id of the newest stream; 0: none yet */
    size_t   off_session_nodes, off_session_by_digest, off_session_by_id;
    size_t   off_cred_nodes, off_cred_buckets;
    size_t   off_throttle_nodes, off_throttle_buckets;
    size_t   off_events, off_streams;
    size_t   size;
} shared_hdr;

struct gh_shared {
    shared_hdr    *hdr;
    session_node  *sessions;
    uint32_t      *session_by_digest;
    uint32_t      *session_by_id;
    cred_node     *creds;
    uint32_t      *cred_buckets;
    throttle_node *throttles;
    uint32_t      *throttle_buckets;
    event_slot    *events;
    gh_shared_stream *streams;             /* GH_SHARED_STREAMS slots; id 0: free */
    gh_shared_lock lock;
};

/* Forget every cached credential, a slice per lock hold (shared_cache.c). */
void shared_cred_drop_all(gh_shared *sh);

/* How a whole pool is dropped without holding the lock long: drop(sh, i)
 * for each node i below fresh (the pool's never-used nodes start there),
 * SHARED_DROP_SLICE of them per lock hold (shared.c). */
#define SHARED_DROP_SLICE 4096
void shared_drop_sliced(gh_shared *sh, uint32_t fresh, void (*drop)(gh_shared *sh, uint32_t i));

/* Append an event to the ring; the caller holds the lock (shared_events.c). */
void shared_event_add(gh_shared *sh, gh_event_kind kind, const gh_session_record *rec);

static inline void shared_lock(gh_shared *sh)
{
    if (sh->lock.lock != NULL)
        sh->lock.lock(sh->lock.arg);
}

static inline void shared_unlock(gh_shared *sh)
{
    if (sh->lock.unlock != NULL)
        sh->lock.unlock(sh->lock.arg);
}

static inline uint64_t shared_hash_digest(const uint8_t *d)
{
    uint64_t h;

    /* A SHA-256 or HMAC output is uniform already: its first bytes are the hash. */
    memcpy(&h, d, sizeof(h));
    return h;
}

static inline uint64_t shared_hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
