/*
 * ngx_http_gatehouse_thread_service.c: the service of each thread-pool
 * thread, from its first task to the thread's end.
 *
 * A pool thread opens its own store connection (a thread-local gh_service)
 * on its first task, and uses OpenSSL (tokens, digests, a directory's TLS),
 * which keeps state per thread. When a worker exits, nginx ends its pool
 * threads with an exit task (pthread_exit) but does not join them, and the
 * worker then calls exit(), whose atexit handler OPENSSL_cleanup frees every
 * thread's OpenSSL state without a lock. A pool thread still running its
 * thread-exit destructors at that moment frees the same memory: a double
 * free (seen under AddressSanitizer, in a pool thread, as a worker stopped
 * after a login storm). So each pool thread with a service ends its own use
 * of everything here in a destructor of ours (directory connections, the
 * store, OpenSSL's thread state, in that order), and the worker's exit
 * waits until every such thread has done so, before exit() and before nginx
 * unloads this module's code.
 */
#include "ngx_http_gatehouse.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/directory.h"

#define GH_THREADS_END_WAIT_S 5

static pthread_key_t    ngx_http_gatehouse_thread_key;
static ngx_uint_t       ngx_http_gatehouse_thread_key_made;
static pthread_mutex_t  ngx_http_gatehouse_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t   ngx_http_gatehouse_threads_ended = PTHREAD_COND_INITIALIZER;
static ngx_uint_t       ngx_http_gatehouse_threads_live;   /* with a service, not ended */

static _Thread_local gh_service *ngx_http_gatehouse_thread_svc;

/* The key's destructor, run by the ending thread with its service. */
static void
ngx_http_gatehouse_thread_end(void *data)
{
    gh_service *svc = data;

    gh_directory_close_thread();
    gh_store_close(svc->store);
    free(svc);
    ngx_http_gatehouse_thread_svc = NULL;
    OPENSSL_thread_stop();

    pthread_mutex_lock(&ngx_http_gatehouse_threads_lock);
    ngx_http_gatehouse_threads_live--;
    pthread_cond_broadcast(&ngx_http_gatehouse_threads_ended);
    pthread_mutex_unlock(&ngx_http_gatehouse_threads_lock);
}

ngx_int_t
ngx_http_gatehouse_threads_init(ngx_cycle_t *cycle)
{
    int err = pthread_key_create(&ngx_http_gatehouse_thread_key,
                                 ngx_http_gatehouse_thread_end);

    if (err != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, err, "gatehouse: pthread_key_create() failed");
        return NGX_ERROR;
    }
    ngx_http_gatehouse_thread_key_made = 1;
    return NGX_OK;
}

gh_service *
ngx_http_gatehouse_thread_service(ngx_http_gatehouse_main_conf_t *gmcf)
{
    gh_service *svc = ngx_http_gatehouse_thread_svc;

    if (svc != NULL || !ngx_http_gatehouse_thread_key_made) {
        return svc;
    }
    svc = calloc(1, sizeof(*svc));
    if (svc == NULL) {
        return NULL;
    }
    *svc = gmcf->inline_service;
    if (gh_store_open_config(&gmcf->store_config, &svc->store) != GH_STORE_OK) {
        free(svc);
        return NULL;
    }
    pthread_mutex_lock(&ngx_http_gatehouse_threads_lock);
    if (pthread_setspecific(ngx_http_gatehouse_thread_key, svc) != 0) {
        pthread_mutex_unlock(&ngx_http_gatehouse_threads_lock);
        gh_store_close(svc->store);
        free(svc);
        return NULL;
    }
    ngx_http_gatehouse_threads_live++;
    pthread_mutex_unlock(&ngx_http_gatehouse_threads_lock);
    ngx_http_gatehouse_thread_svc = svc;
    return svc;
}

void
ngx_http_gatehouse_threads_wait_ended(ngx_cycle_t *cycle)
{
    struct timespec until;
    ngx_uint_t      left;
    int             err = 0;

    if (!ngx_http_gatehouse_thread_key_made) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GH_THREADS_END_WAIT_S;
    pthread_mutex_lock(&ngx_http_gatehouse_threads_lock);
    while (ngx_http_gatehouse_threads_live > 0 && err != ETIMEDOUT) {
        err = pthread_cond_timedwait(&ngx_http_gatehouse_threads_ended,
                                     &ngx_http_gatehouse_threads_lock, &until);
    }
    left = ngx_http_gatehouse_threads_live;
    pthread_mutex_unlock(&ngx_http_gatehouse_threads_lock);
    if (left > 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "gatehouse: %ui pool threads did not end within %d s",
                      left, GH_THREADS_END_WAIT_S);
    }
}
