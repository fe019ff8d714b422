/*
 * shared.h: the state every nginx worker sees, in one block of shared memory
 * the caller provides: the live sessions, the credential cache, the
 * failed-login throttle of each source and the live settings. The layout
 * holds no pointers, so the block means the same in every process that
 * maps it.
 *
 * The caller holds no lock: each call takes the block's lock through the
 * functions given at attach time (an ngx_shmtx in nginx, a pthread mutex in
 * tests) and holds it only for a table probe. Nothing here waits on disk.
 */
#ifndef GH_SHARED_H
#define GH_SHARED_H

#include "gh.h"
#include "lockout.h"
#include "role.h"
#include "store.h"

typedef struct gh_shared gh_shared;

/* Who a request is, once authenticated. */
typedef struct {
    int64_t  account_id;
    char     user[GH_USER_NAME_MAX + 1];
    gh_role  role;
    bool     password_change_required;
    char     dialect[GH_DIALECT_NAME_MAX + 1]; /* of the session; "" for Basic */
    char     session_id[GH_SESSION_ID_LEN + 1]; /* "" when not by a session */
} gh_principal;

typedef struct {
    uint32_t max_sessions;
    uint32_t credcache_entries;
    uint32_t throttle_entries;    /* sources throttled at once */
} gh_shared_limits;

typedef struct {
    void (*lock)(void *arg);
    void (*unlock)(void *arg);
    void *arg;
} gh_shared_lock;

/* Live settings mirrored from the store so the event loop can read them. */
typedef enum {
    GH_SET_SESSION_TIMEOUT = 0,
    GH_SET_LOCKOUT_THRESHOLD,
    GH_SET_LOCKOUT_DURATION,
    GH_SET_LOCKOUT_RESET_AFTER,
    GH_SET_MIN_PASSWORD_LENGTH,
    GH_SET_MAX_PASSWORD_LENGTH,
    GH_SET_COUNT
} gh_setting;

/* The store key of a setting: the name of its key in the configuration file
 * ("session_timeout", ...). Static storage. A dialect shows it under a name
 * of its own. */
const char *gh_setting_key(gh_setting setting);

/* Bytes of shared memory needed for these limits. */
size_t gh_shared_size(const gh_shared_limits *limits);

/* Lay out an empty block in mem (size from gh_shared_size) and attach to it.
 * The handle is process-local, owned by the caller, freed by gh_shared_detach. */
gh_shared *gh_shared_format(void *mem, const gh_shared_limits *limits, gh_shared_lock lock);
/* Attach to a block formatted earlier (by this or another process). */
gh_shared *gh_shared_attach(void *mem, gh_shared_lock lock);
void gh_shared_detach(gh_shared *sh);

/* The block is loaded from the store once, in GH_SHARED_LOAD_PARTS parts of
 * the sessions table by rowid, which the workers claim one at a time, so all
 * of them load at once. A claim gives the rowids after *after up to *upto;
 * the first claim splits the table at rowid_last, the highest rowid its
 * claimer sees, and the last part reaches past it to whatever came after.
 * false: no part is left. A claimed part is then done, with the store's
 * change sequence read before anything of the part was (0 when it could not
 * be loaded); the block is loaded when every part is done, at the lowest of
 * those sequences, so a change is applied again rather than missed. */
#define GH_SHARED_LOAD_PARTS 8
bool gh_shared_load_claim(gh_shared *sh, int64_t rowid_last, int64_t *after, int64_t *upto);
void gh_shared_load_done(gh_shared *sh, int64_t change_seq);
int64_t gh_shared_change_seq(gh_shared *sh);  /* last change applied; -1 until loaded */
/* Advance the applied change sequence; false if another worker got there first. */
bool gh_shared_advance_seq(gh_shared *sh, int64_t from, int64_t to);

/* The sweep of ended sessions out of the store, a batch per upkeep, shared by
 * the workers: where the next batch starts (a gh_store_session_expire
 * position), or -1 when no ended session is known to be left there. */
int64_t gh_shared_store_expiry_from(gh_shared *sh);
/* Ended sessions may be anywhere in the store: sweep it from its start. */
void gh_shared_store_expiry_due(gh_shared *sh);
/* A batch that started at from ended at next (-1: nothing left); ignored
 * when the sweep moved meanwhile. */
void gh_shared_store_expiry_done(gh_shared *sh, int64_t from, int64_t next);

/* Settings. */
int64_t gh_shared_setting(gh_shared *sh, gh_setting setting);
void gh_shared_setting_set(gh_shared *sh, gh_setting setting, int64_t value);

typedef enum {
    GH_SHARED_OK = 0,
    GH_SHARED_NOT_FOUND,
    GH_SHARED_EXPIRED,          /* found, past its idle or absolute end: removed */
    GH_SHARED_FULL,             /* the table holds max_sessions already */
    GH_SHARED_STALE,            /* cache mode: idle here, maybe used on another
                                   node: the store's last use decides */
    GH_SHARED_UNAVAILABLE       /* cache mode: the store is down: refuse (503) */
} gh_shared_result;

/* Cache mode: the store is shared with other nodes (gh_store_shared), so
 * the block holds what this node has seen of it, not all of it: a session
 * it lacks may live in the store (session_cached.c looks), an idle verdict
 * is not final (another node may have used the session: GH_SHARED_STALE),
 * and while the store is down (gh_shared_drop_all) finds answer
 * GH_SHARED_UNAVAILABLE and the credential cache none. Set once at a
 * worker's start; off (the embedded store) the block is the whole truth. */
void gh_shared_set_cached(gh_shared *sh, bool cached);
bool gh_shared_cached(gh_shared *sh);
bool gh_shared_store_down(gh_shared *sh);
/* The store was lost (a lost subscription, a failed sync, a gap in the
 * change log) or never reached: mark it down and forget every session and
 * cached credential, a slice per lock hold. Anything read before comes back
 * only through a fill made after gh_shared_cache_reset. */
void gh_shared_drop_all(gh_shared *sh);
/* The store answers again, at change sequence seq: the block counts as
 * loaded at seq (a load still running lowers it when done, so its changes
 * are applied again), and the mark is cleared. */
void gh_shared_cache_reset(gh_shared *sh, int64_t seq);
/* An applier of the change log is about to apply changes up to seq: a fill
 * read at an older sequence may hold what those changes remove. */
void gh_shared_apply_begin(gh_shared *sh, int64_t seq);
/* A cache fill: rec read from the store with its account's role and flag at
 * change sequence seq. Added (or, when the block holds its id, its last use
 * moved forward and touched) only if the block is loaded, the store up, and
 * no change after seq has been applied or is being applied: else
 * GH_SHARED_STALE and nothing is kept (a revocation racing the read is
 * never undone). GH_SHARED_FULL when the pool has no room. Adds no event:
 * the session is not new. */
gh_shared_result gh_shared_session_fill(gh_shared *sh, const gh_session_record *rec,
                                        gh_role role, bool password_change_required,
                                        int64_t seq);

/* Sessions. A session's idle timeout of 0 means the live SessionTimeout.
 * Adding an id the block holds already adds nothing. */
gh_shared_result gh_shared_session_add(gh_shared *sh, const gh_session_record *rec,
                                       gh_role role, bool password_change_required);
/* A session read from the store, with its account's role and flag. */
typedef struct {
    gh_session_record rec;
    gh_role           role;
    bool              password_change_required;
} gh_shared_loaded_session;
/* The load's add (a claimed part, before it is done): n sessions under one
 * lock hold. An id the block holds already is skipped: parts are read in
 * separate snapshots (a VACUUM between two may renumber rowids), and a
 * worker may have added a session before the load ended. GH_SHARED_FULL when
 * the pool filled up (the sessions before that were added). */
gh_shared_result gh_shared_session_load(gh_shared *sh, const gh_shared_loaded_session *s,
                                        size_t n);
/* Find by token digest at time now; on success fill who, refresh last-used
 * and copy the record to rec (when not NULL). An expired entry is removed,
 * GH_SHARED_EXPIRED returned and the removed record copied to rec. In cache
 * mode an entry past its idle end (not its absolute one) stays and answers
 * GH_SHARED_STALE, and a store down answers GH_SHARED_UNAVAILABLE. */
gh_shared_result gh_shared_session_find(gh_shared *sh, const uint8_t digest[GH_DIGEST_LEN],
                                        int64_t now, gh_principal *who,
                                        gh_session_record *rec);
/* Remove by public id; copies the removed record to rec when not NULL. */
gh_shared_result gh_shared_session_remove(gh_shared *sh, const char *id,
                                          gh_session_record *rec);
/* Find by public id without touching it. */
gh_shared_result gh_shared_session_get(gh_shared *sh, const char *id, gh_session_record *rec);
/* The same, with the principal it stands for now (its account's current role
 * and flag) in who: what a long-lived request checks its session by. */
gh_shared_result gh_shared_session_who(gh_shared *sh, const char *id, gh_principal *who,
                                       gh_session_record *rec);
/* Remove every session of an account; returns how many. */
int gh_shared_session_remove_account(gh_shared *sh, int64_t account_id);
/* Update role and flags of every session of an account. */
void gh_shared_session_update_account(gh_shared *sh, int64_t account_id, gh_role role,
                                      bool password_change_required);
/* Copy the public ids of up to max sessions of an account to ids; returns how many. */
size_t gh_shared_session_ids(gh_shared *sh, int64_t account_id,
                             char (*ids)[GH_SESSION_ID_LEN + 1], size_t max);
uint32_t gh_shared_session_count(gh_shared *sh);
/* Copy out up to max sessions used since their last collection (for the
 * batched last-used write), in the order of that first use, and mark them
 * clean; returns how many. Costs what it copies, not the size of the pool. */
size_t gh_shared_session_collect_touched(gh_shared *sh, gh_session_touch *out, size_t max);
/* Remove up to max sessions past their end at now, copying them to out;
 * returns how many. Walks a slice of the table per call (a cursor kept in
 * the block), so a timer can call it often without holding the lock long. */
size_t gh_shared_session_expire(gh_shared *sh, int64_t now, gh_session_record *out,
                                size_t max);

/* Session events: each session added to the block (gh_shared_session_add;
 * the load adds none) and each one removed from it (logout, revocation,
 * expiry, its account locked, disabled or deleted), in the order they
 * happened, numbered 1, 2, ... for the life of the block. The block keeps
 * the latest GH_SHARED_EVENTS in a ring that every reader walks at its own
 * pace (an nginx worker feeding its event streams). */
typedef enum {
    GH_EVENT_SESSION_CREATED = 1,
    GH_EVENT_SESSION_REMOVED
} gh_event_kind;

typedef struct {
    uint64_t seq;
    uint8_t  kind;                              /* gh_event_kind */
    char     dialect[GH_DIALECT_NAME_MAX + 1]; /* the session's */
    int64_t  time;
    int64_t  account_id;
    char     session_id[GH_SESSION_ID_LEN + 1];
} gh_shared_event;

#define GH_SHARED_EVENTS 1024
/* The number of the newest event (0 before the first): a new reader starts
 * after it. */
uint64_t gh_shared_event_last(gh_shared *sh);
/* Copy to out, oldest first, up to max of the events after *after, and move
 * *after past them. Events that left the ring before they were read are
 * skipped (*lost counts them); returns how many were copied. */
size_t gh_shared_events_read(gh_shared *sh, uint64_t *after, gh_shared_event *out, size_t max,
                             uint64_t *lost);

/* Open event streams, across the workers: each worker registers the
 * streams it holds, so any of them can list them (a dialect may show each
 * as a subscription) and ask the holder to close one. */
#define GH_SHARED_STREAMS 1024
typedef struct {
    uint64_t id;                 /* 1, 2, ...: unique for the life of the block */
    int64_t  account_id;
    int64_t  created;
    int32_t  pid;                /* the worker holding it */
    char     dialect[GH_DIALECT_NAME_MAX + 1]; /* whose stream it is */
    uint8_t  closing;            /* asked to close: its worker ends it */
} gh_shared_stream;
/* Register a stream; false when GH_SHARED_STREAMS are open already. */
bool gh_shared_stream_add(gh_shared *sh, int64_t account_id, const char *dialect, int32_t pid,
                          int64_t now, uint64_t *id);
void gh_shared_stream_remove(gh_shared *sh, uint64_t id);
/* Ask the stream's worker to close it; GH_SHARED_NOT_FOUND when none is open. */
gh_shared_result gh_shared_stream_close(gh_shared *sh, uint64_t id);
/* Is the stream still wanted (registered, not asked to close)? */
bool gh_shared_stream_wanted(gh_shared *sh, uint64_t id);
gh_shared_result gh_shared_stream_get(gh_shared *sh, uint64_t id, gh_shared_stream *out);
/* Copy up to max open streams to out, by id; returns how many. Streams of a
 * worker that is gone (it died holding them) are dropped on the way. */
size_t gh_shared_streams(gh_shared *sh, gh_shared_stream *out, size_t max);

/* Credential cache: key from gh_token_credential_key. In cache mode, while
 * the store is down, get finds nothing and put keeps nothing. */
void gh_shared_cred_put(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN],
                        const gh_principal *who, int64_t expires);
bool gh_shared_cred_get(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN], int64_t now,
                        gh_principal *who);
/* Drop every cached credential of an account. */
void gh_shared_cred_drop_account(gh_shared *sh, int64_t account_id);

/* Failed logins per source, by its key (gh_lockout_key_throttle), in
 * milliseconds of gh_now_ms. wait: how long the source is still blocked at
 * now (0: free), and in *failures (may be NULL) its failures within the
 * policy's window. fail: count a failure at now; past the policy's free ones
 * it blocks the source for gh_throttle_delay_ms; returns the new wait.
 * Failures are counted even when the policy throttles nothing (free 0). A
 * full table reuses the oldest entry. */
int64_t gh_shared_throttle_wait(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN], int64_t now,
                                const gh_throttle_policy *p, uint32_t *failures);
int64_t gh_shared_throttle_fail(gh_shared *sh, const uint8_t key[GH_DIGEST_LEN], int64_t now,
                                const gh_throttle_policy *p);
/* Copy the counter of key (out->key set by the caller) as it stands at now,
 * to be written to the store; false when the block holds none. */
bool gh_shared_throttle_get(gh_shared *sh, int64_t now, const gh_throttle_policy *p,
                            gh_throttle_count *out);
/* The load's add of a counter read from the store (times already in
 * gh_now_ms): a counter the block holds already keeps the higher count and
 * the later wait. */
void gh_shared_throttle_restore(gh_shared *sh, const gh_throttle_count *c);
/* How many sources the table holds at most. */
uint32_t gh_shared_throttle_room(gh_shared *sh);

#endif
