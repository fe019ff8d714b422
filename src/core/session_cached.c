/*
 * session_cached.c: the session store of a node whose store other nodes
 * share (see session.h). The shared block is a cache: a session made on
 * another node is not in it until someone here uses it. A find the block
 * answers (a hit, an absolute end) is answered at once; one it cannot (no
 * such token here, or one past its idle end here, which another node may
 * have kept alive) asks the store, off the event loop, and fills the block
 * from the answer.
 *
 * The fill is guarded by the change sequence read with the session: the
 * block keeps it only if it has applied, and is applying, no change after
 * that sequence (gh_shared_session_fill). A revocation logged while the
 * read was on its way is then never undone by the fill: either the block
 * refuses the fill, or the revocation is applied after it and removes it.
 * The request itself is answered from the read, which came before the
 * revocation did.
 *
 * A store that does not answer answers GH_SHARED_UNAVAILABLE: the caller
 * refuses (503), never lets the request through.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct gh_session_miss {
    gh_shared          *shared;
    uint8_t             digest[GH_DIGEST_LEN];
    int64_t             now;
    gh_session_found_cb cb;
    void               *arg;
    gh_shared_result    result;
    gh_principal        who;
    gh_session_record   rec;
};

typedef struct {
    gh_session_store    base;
    gh_shared          *shared;
    gh_store           *store;      /* a thread's: look up at once */
    gh_session_defer_fn defer;      /* the event loop's: hand the lookup over */
    void               *defer_arg;
} cached_store;

static void miss_principal(gh_session_miss *m, const gh_store_session_owner *owner)
{
    memset(&m->who, 0, sizeof(m->who));
    m->who.account_id = m->rec.account_id;
    memcpy(m->who.user, m->rec.user, sizeof(m->who.user));
    m->who.role = owner->role;
    m->who.password_change_required = owner->password_change_required;
    memcpy(m->who.dialect, m->rec.dialect, sizeof(m->who.dialect));
    memcpy(m->who.session_id, m->rec.id, sizeof(m->who.session_id));
}

void gh_session_miss_run(gh_session_miss *m, gh_store *store)
{
    gh_store_session_owner owner;
    gh_store_err err;
    int64_t idle = gh_shared_setting(m->shared, GH_SET_SESSION_TIMEOUT);

    err = gh_store_session_find_digest(store, m->digest, &m->rec, &owner);
    if (err == GH_STORE_NOT_FOUND) {
        m->result = GH_SHARED_NOT_FOUND;
        goto done;
    }
    if (err != GH_STORE_OK) {
        m->result = GH_SHARED_UNAVAILABLE;
        goto done;
    }
    /* Ended everywhere (its last use in the store is every node's, up to
     * the touches still batched, which the store's sweep waits for), or its
     * account may hold no session: gone here too. */
    if (gh_store_session_ended(&m->rec, m->now, idle) || !owner.enabled ||
        owner.locked_until == GH_LOCKED_BY_ADMIN) {
        (void)gh_shared_session_remove(m->shared, m->rec.id, NULL);
        m->result = GH_SHARED_NOT_FOUND;
        goto done;
    }
    if (m->now > m->rec.last_used)
        m->rec.last_used = m->now;
    /* Kept or not (a later change applied, no room), the answer stands:
     * the read came before any change the block refused it for. */
    (void)gh_shared_session_fill(m->shared, &m->rec, owner.role,
                                 owner.password_change_required, owner.seq);
    miss_principal(m, &owner);
    m->result = GH_SHARED_OK;
done:
    if (m->result != GH_SHARED_OK)
        gh_wipe(&m->rec, sizeof(m->rec));
}

gh_shared_result gh_session_miss_result(const gh_session_miss *m)
{
    return m->result;
}

void gh_session_miss_free(gh_session_miss *m)
{
    if (m == NULL)
        return;
    gh_wipe(m, sizeof(*m));
    free(m);
}

static void miss_answer(gh_session_miss *m)
{
    bool ok = m->result == GH_SHARED_OK;

    m->cb(m->arg, m->result, ok ? &m->who : NULL, ok ? &m->rec : NULL);
}

void gh_session_miss_done(gh_session_miss *m)
{
    miss_answer(m);
    gh_session_miss_free(m);
}

static void cached_find(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN], int64_t now,
                        gh_session_found_cb cb, void *arg)
{
    cached_store *cs = (cached_store *)ss;
    gh_session_miss *m = NULL, local;
    gh_session_record rec;
    gh_principal who;
    gh_shared_result r = gh_shared_session_find(cs->shared, digest, now, &who, &rec);

    if (r != GH_SHARED_NOT_FOUND && r != GH_SHARED_STALE) {
        cb(arg, r, r == GH_SHARED_OK ? &who : NULL,
           r == GH_SHARED_OK || r == GH_SHARED_EXPIRED ? &rec : NULL);
        goto done;
    }
    if (!gh_shared_cached(cs->shared)) {
        cb(arg, GH_SHARED_NOT_FOUND, NULL, NULL);   /* the block is the whole truth */
        goto done;
    }
    m = cs->store != NULL ? &local : calloc(1, sizeof(*m));
    if (m == NULL) {
        cb(arg, GH_SHARED_UNAVAILABLE, NULL, NULL);
        goto done;
    }
    memset(m, 0, sizeof(*m));
    m->shared = cs->shared;
    memcpy(m->digest, digest, GH_DIGEST_LEN);
    m->now = now;
    m->cb = cb;
    m->arg = arg;
    if (cs->store != NULL) {
        gh_session_miss_run(m, cs->store);
        miss_answer(m);
        gh_wipe(m, sizeof(*m));
    } else if (cs->defer == NULL || !cs->defer(cs->defer_arg, m, arg)) {
        cb(arg, GH_SHARED_UNAVAILABLE, NULL, NULL);
        gh_session_miss_free(m);
    }
done:
    gh_wipe(&rec, sizeof(rec));
}

static void cached_add(gh_session_store *ss, const gh_session_record *rec, gh_role role,
                       bool password_change_required, gh_session_done_cb cb, void *arg)
{
    cached_store *cs = (cached_store *)ss;

    cb(arg, gh_shared_session_add(cs->shared, rec, role, password_change_required), NULL);
}

static void cached_remove(gh_session_store *ss, const char *id, gh_session_done_cb cb,
                          void *arg)
{
    cached_store *cs = (cached_store *)ss;
    gh_session_record rec;
    gh_shared_result r = gh_shared_session_remove(cs->shared, id, &rec);

    cb(arg, r, r == GH_SHARED_OK ? &rec : NULL);
    gh_wipe(&rec, sizeof(rec));
}

static void cached_close(gh_session_store *ss)
{
    free(ss);
}

static const gh_session_store_ops cached_ops = {
    .find = cached_find,
    .add = cached_add,
    .remove = cached_remove,
    .close = cached_close,
};

gh_session_store *gh_session_store_cached(gh_shared *shared, gh_store *store,
                                          gh_session_defer_fn defer, void *defer_arg)
{
    cached_store *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return NULL;
    cs->base.ops = &cached_ops;
    cs->shared = shared;
    cs->store = store;
    cs->defer = defer;
    cs->defer_arg = defer_arg;
    return &cs->base;
}
