/*
 * session.h: the session store interface. Every live session sits in a
 * store all workers share; the local one is the shared block (backed by
 * the embedded store for durability, see service.c); with a store shared by
 * several nodes (Redis) the block is a cache of it and the cached store
 * looks up what the block lacks (session_cached.c). The interface is
 * asynchronous because such a lookup may answer later: each operation
 * reports through its callback, exactly once. The local store calls back
 * before the call returns.
 */
#ifndef GH_SESSION_H
#define GH_SESSION_H

#include "shared.h"

typedef struct gh_session_store gh_session_store;

/* who and rec are valid during the call only (NULL unless result is OK, or
 * EXPIRED for rec: the session that just ended). */
typedef void (*gh_session_found_cb)(void *arg, gh_shared_result result,
                                    const gh_principal *who, const gh_session_record *rec);
/* rec: the removed session (remove) or NULL. */
typedef void (*gh_session_done_cb)(void *arg, gh_shared_result result,
                                   const gh_session_record *rec);

typedef struct {
    void (*find)(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN], int64_t now,
                 gh_session_found_cb cb, void *arg);
    void (*add)(gh_session_store *ss, const gh_session_record *rec, gh_role role,
                bool password_change_required, gh_session_done_cb cb, void *arg);
    void (*remove)(gh_session_store *ss, const char *id, gh_session_done_cb cb, void *arg);
    void (*close)(gh_session_store *ss);
} gh_session_store_ops;

struct gh_session_store {
    const gh_session_store_ops *ops;
};

/* Find a session by token digest at time now (refreshing its last use). */
void gh_session_find(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN], int64_t now,
                     gh_session_found_cb cb, void *arg);
/* Add a session made durable already; FULL when the store holds max_sessions. */
void gh_session_add(gh_session_store *ss, const gh_session_record *rec, gh_role role,
                    bool password_change_required, gh_session_done_cb cb, void *arg);
/* Remove a session by its public id. */
void gh_session_remove(gh_session_store *ss, const char *id, gh_session_done_cb cb, void *arg);
void gh_session_store_close(gh_session_store *ss);

/* The local store over a shared block: every call completes before it
 * returns. Owned by the caller, freed with gh_session_store_close (the block
 * stays). NULL when out of memory. */
gh_session_store *gh_session_store_local(gh_shared *shared);

/* The cached store (session_cached.c), for a block in cache mode
 * (gh_shared_cached; otherwise it answers as the local store does): a find
 * the block cannot answer (GH_SHARED_NOT_FOUND or GH_SHARED_STALE) asks the
 * store (gh_store_session_find_digest) and fills the block from its answer
 * (gh_shared_session_fill). With a store (a thread's instance) it asks at
 * once; without one (the event loop's) it hands the lookup to defer, which
 * runs gh_session_miss_run where it may wait and then gh_session_miss_done
 * back where the find was called; defer returning false (nothing taken)
 * answers GH_SHARED_UNAVAILABLE, as does a store error. find_arg is the
 * find's callback argument. The deferring instance answers later, on the
 * thread that called find: that thread must never wait for the answer
 * (gh_session_find_wait would wait for ever), so only the adapter's own
 * find uses it; dialects wait only on a service with a store. Owned by the
 * caller, freed with gh_session_store_close (the block and the store
 * stay). NULL when out of
 * memory. */
typedef struct gh_session_miss gh_session_miss;
typedef bool (*gh_session_defer_fn)(void *defer_arg, gh_session_miss *miss, void *find_arg);
gh_session_store *gh_session_store_cached(gh_shared *shared, gh_store *store,
                                          gh_session_defer_fn defer, void *defer_arg);
/* Look the miss up in store (may wait: a thread's work). */
void gh_session_miss_run(gh_session_miss *miss, gh_store *store);
/* What the lookup found: GH_SHARED_NOT_FOUND when the store holds no live
 * session of the token (a guess, or one ended). */
gh_shared_result gh_session_miss_result(const gh_session_miss *miss);
/* Answer the find's callback with what run found, and free the miss. */
void gh_session_miss_done(gh_session_miss *miss);
/* Free a miss whose find no longer wants its answer. */
void gh_session_miss_free(gh_session_miss *miss);

/* For callers that may wait (a thread-pool task, the command line): run one
 * operation and wait for its callback, however the store answers. */
gh_shared_result gh_session_add_wait(gh_session_store *ss, const gh_session_record *rec,
                                     gh_role role, bool password_change_required);
gh_shared_result gh_session_remove_wait(gh_session_store *ss, const char *id,
                                        gh_session_record *removed);
/* Find by token digest (refreshing its last use, as a request would); who and
 * rec (either may be NULL) receive copies as the callback describes them. */
gh_shared_result gh_session_find_wait(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN],
                                      int64_t now, gh_principal *who, gh_session_record *rec);

#endif
