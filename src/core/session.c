/*
 * session.c: the session store interface (see session.h), its local
 * implementation over the shared block, and the waiting wrappers that let a
 * thread-pool task use any store as if it were synchronous.
 */
#include "session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void gh_session_find(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN], int64_t now,
                     gh_session_found_cb cb, void *arg)
{
    ss->ops->find(ss, digest, now, cb, arg);
}

void gh_session_add(gh_session_store *ss, const gh_session_record *rec, gh_role role,
                    bool password_change_required, gh_session_done_cb cb, void *arg)
{
    ss->ops->add(ss, rec, role, password_change_required, cb, arg);
}

void gh_session_remove(gh_session_store *ss, const char *id, gh_session_done_cb cb, void *arg)
{
    ss->ops->remove(ss, id, cb, arg);
}

void gh_session_store_close(gh_session_store *ss)
{
    if (ss != NULL)
        ss->ops->close(ss);
}

/* The local store: the shared block answers at once. */
typedef struct {
    gh_session_store base;
    gh_shared       *shared;
} local_store;

static void local_find(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN], int64_t now,
                       gh_session_found_cb cb, void *arg)
{
    local_store *ls = (local_store *)ss;
    gh_session_record rec;
    gh_principal who;
    gh_shared_result r = gh_shared_session_find(ls->shared, digest, now, &who, &rec);

    cb(arg, r, r == GH_SHARED_OK ? &who : NULL,
       r == GH_SHARED_OK || r == GH_SHARED_EXPIRED ? &rec : NULL);
    gh_wipe(&rec, sizeof(rec));
}

static void local_add(gh_session_store *ss, const gh_session_record *rec, gh_role role,
                      bool password_change_required, gh_session_done_cb cb, void *arg)
{
    local_store *ls = (local_store *)ss;

    cb(arg, gh_shared_session_add(ls->shared, rec, role, password_change_required), NULL);
}

static void local_remove(gh_session_store *ss, const char *id, gh_session_done_cb cb, void *arg)
{
    local_store *ls = (local_store *)ss;
    gh_session_record rec;
    gh_shared_result r = gh_shared_session_remove(ls->shared, id, &rec);

    cb(arg, r, r == GH_SHARED_OK ? &rec : NULL);
}

static void local_close(gh_session_store *ss)
{
    free(ss);
}

static const gh_session_store_ops local_ops = {
    .find = local_find,
    .add = local_add,
    .remove = local_remove,
    .close = local_close,
};

gh_session_store *gh_session_store_local(gh_shared *shared)
{
    local_store *ls = calloc(1, sizeof(*ls));

    if (ls == NULL)
        return NULL;
    ls->base.ops = &local_ops;
    ls->shared = shared;
    return &ls->base;
}

/* One operation's answer, waited for on a condition variable; a store that
 * called back before returning never makes the caller wait. */
typedef struct {
    pthread_mutex_t    mutex;
    pthread_cond_t     cond;
    bool               done;
    gh_shared_result   result;
    gh_session_record *rec;
} waiter;

static void waiter_done(void *arg, gh_shared_result result, const gh_session_record *rec)
{
    waiter *w = arg;

    pthread_mutex_lock(&w->mutex);
    w->result = result;
    if (w->rec != NULL && rec != NULL)
        *w->rec = *rec;
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mutex);
}

static gh_shared_result waiter_wait(waiter *w)
{
    gh_shared_result r;

    pthread_mutex_lock(&w->mutex);
    while (!w->done)
        pthread_cond_wait(&w->cond, &w->mutex);
    r = w->result;
    pthread_mutex_unlock(&w->mutex);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mutex);
    return r;
}

gh_shared_result gh_session_add_wait(gh_session_store *ss, const gh_session_record *rec,
                                     gh_role role, bool password_change_required)
{
    waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
                 GH_SHARED_NOT_FOUND, NULL };

    gh_session_add(ss, rec, role, password_change_required, waiter_done, &w);
    return waiter_wait(&w);
}

/* A find's answer: the principal as well as the record. */
typedef struct {
    waiter        w;
    gh_principal *who;
} find_waiter;

static void find_done(void *arg, gh_shared_result result, const gh_principal *who,
                      const gh_session_record *rec)
{
    find_waiter *f = arg;

    pthread_mutex_lock(&f->w.mutex);
    if (f->who != NULL && who != NULL)
        *f->who = *who;
    pthread_mutex_unlock(&f->w.mutex);
    waiter_done(&f->w, result, rec);
}

gh_shared_result gh_session_find_wait(gh_session_store *ss, const uint8_t digest[GH_DIGEST_LEN],
                                      int64_t now, gh_principal *who, gh_session_record *rec)
{
    find_waiter f = { { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
                        GH_SHARED_NOT_FOUND, rec }, who };

    gh_session_find(ss, digest, now, find_done, &f);
    return waiter_wait(&f.w);
}

gh_shared_result gh_session_remove_wait(gh_session_store *ss, const char *id,
                                        gh_session_record *removed)
{
    waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
                 GH_SHARED_NOT_FOUND, removed };

    gh_session_remove(ss, id, waiter_done, &w);
    return waiter_wait(&w);
}
