/*
 * ngx_http_gatehouse_listener.c: each worker's listener to the store's bell
 * (store.h gh_store_bell_*), for a store other nodes share. A revocation,
 * a password or role change made on another node rings the bell; the
 * listener applies the change log at once (gh_service_apply_changes), so
 * this node obeys within milliseconds. The sync timer's 50 ms poll of the
 * log (thread.c) stays as the backstop. A backend without a bell (the
 * embedded store) gets no listener.
 *
 * The listener is a plain thread of the worker, not a pool task: it waits
 * for as long as the worker lives, and nginx ends its thread pools by
 * posting each thread an exit task, which a task that never returns would
 * never take. It owns its connections (the subscription and a store of its
 * own) and, when told to stop at the worker's exit, closes them and its
 * OpenSSL state itself before the worker joins it (as thread_service.c's
 * threads do, for the same reason: exit() frees OpenSSL's state under any
 * thread still using it).
 *
 * A lost subscription may have missed messages: the whole cache goes
 * (gh_shared_drop_all, which marks the store down, so tokens get 503 and
 * Basic credentials go to the store), the listener subscribes again with a
 * backoff of 100 ms doubling to 1 s, and once subscribed it applies the log,
 * which starts the cache over (gh_service_cache_recover) and clears the
 * mark. Every wait is bounded: the bell's by its slice here, the store's by
 * its own timeouts.
 */
#include "ngx_http_gatehouse.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/directory.h"

#define GH_LISTEN_SLICE_MS    250     /* a bell wait, between looks at the stop flag */
#define GH_LISTEN_BACKOFF_MIN 100
#define GH_LISTEN_BACKOFF_MAX 1000

typedef struct {
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_log_t                      *log;
    gh_store_bell                  *bell;
    pthread_t                       thread;
    pthread_mutex_t                 lock;
    pthread_cond_t                  wake;
    ngx_uint_t                      stop;       /* under lock */
    ngx_uint_t                      running;
} ngx_http_gatehouse_listener_t;

static ngx_http_gatehouse_listener_t  ngx_http_gatehouse_listener = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

/* Wait up to ms, or until told to stop; true when told. */
static ngx_uint_t
ngx_http_gatehouse_listen_pause(ngx_http_gatehouse_listener_t *l, ngx_msec_t ms)
{
    struct timespec until;
    ngx_uint_t      stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long) (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&l->lock);
    while (!l->stop && pthread_cond_timedwait(&l->wake, &l->lock, &until) == 0) {
        /* woken: look at the flag again */
    }
    stop = l->stop;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

static ngx_uint_t
ngx_http_gatehouse_listen_stopping(ngx_http_gatehouse_listener_t *l)
{
    ngx_uint_t stop;

    pthread_mutex_lock(&l->lock);
    stop = l->stop;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

/* The subscription and the store, (re)made as needed; false while either
 * cannot be (the caller backs off). A new subscription may have missed
 * rings: the log is applied at once. */
static ngx_uint_t
ngx_http_gatehouse_listen_connect(ngx_http_gatehouse_listener_t *l, gh_service *svc)
{
    const gh_store_config *cfg = &l->gmcf->store_config;

    if (svc->store == NULL && gh_store_open_config(cfg, &svc->store) != GH_STORE_OK) {
        svc->store = NULL;
        return 0;
    }
    if (l->bell != NULL) {
        return 1;
    }
    if (gh_store_bell_open(cfg, &l->bell) != GH_STORE_OK) {
        l->bell = NULL;
        return 0;
    }
    (void) gh_service_apply_changes(svc);
    return 1;
}

static void *
ngx_http_gatehouse_listen(void *arg)
{
    ngx_http_gatehouse_listener_t *l = arg;
    gh_service                     svc = l->gmcf->inline_service;
    ngx_msec_t                     backoff = GH_LISTEN_BACKOFF_MIN;
    gh_store_err                   err;
    int64_t                        seq;

    svc.store = NULL;
    while (!ngx_http_gatehouse_listen_stopping(l)) {
        if (!ngx_http_gatehouse_listen_connect(l, &svc)) {
            if (ngx_http_gatehouse_listen_pause(l, backoff)) {
                break;
            }
            backoff = ngx_min(backoff * 2, GH_LISTEN_BACKOFF_MAX);
            continue;
        }
        backoff = GH_LISTEN_BACKOFF_MIN;
        err = gh_store_bell_wait(l->bell, GH_LISTEN_SLICE_MS, &seq);
        if (err == GH_STORE_OK) {
            (void) gh_service_apply_changes(&svc);
        } else if (err != GH_STORE_NOT_FOUND) {
            /* Lost: what was missed is unknown, so nothing cached stands. */
            ngx_log_error(NGX_LOG_ERR, l->log, 0,
                          "gatehouse: the store's bell was lost; cache dropped, "
                          "subscribing again");
            gh_shared_drop_all(svc.shared);
            gh_store_bell_close(l->bell);
            l->bell = NULL;
        }
    }
    gh_store_bell_close(l->bell);
    l->bell = NULL;
    gh_store_close(svc.store);
    gh_directory_close_thread();
    OPENSSL_thread_stop();
    return NULL;
}

ngx_int_t
ngx_http_gatehouse_listener_start(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_http_gatehouse_listener_t *l = &ngx_http_gatehouse_listener;
    gh_store_err                   err;
    sigset_t                       all, old;
    int                            rc;

    /* A backend with no bell answers so at once: nothing to listen to. A
     * bell that cannot be reached now is the thread's to try again. */
    err = gh_store_bell_open(&gmcf->store_config, &l->bell);
    if (err == GH_STORE_NOT_FOUND) {
        return NGX_OK;
    }
    if (err != GH_STORE_OK) {
        l->bell = NULL;
    }
    l->gmcf = gmcf;
    l->log = cycle->log;
    l->stop = 0;
    /* Signals are the worker's event loop's to take, as with nginx's own
     * pool threads: the listener starts with all of them blocked. */
    sigfillset(&all);
    (void) pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&l->thread, NULL, ngx_http_gatehouse_listen, l);
    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, rc,
                      "gatehouse: cannot start the store's listener");
        gh_store_bell_close(l->bell);
        l->bell = NULL;
        return NGX_ERROR;
    }
    l->running = 1;
    return NGX_OK;
}

void
ngx_http_gatehouse_listener_stop(ngx_cycle_t *cycle)
{
    ngx_http_gatehouse_listener_t *l = &ngx_http_gatehouse_listener;

    if (!l->running) {
        return;
    }
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->lock);
    /* Bounded: a bell wait's slice, or a store call's own timeouts. */
    (void) pthread_join(l->thread, NULL);
    l->running = 0;
    ngx_log_debug0(NGX_LOG_DEBUG_CORE, cycle->log, 0, "gatehouse: listener joined");
}
