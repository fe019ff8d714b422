/*
 * lowprio.c: slow computations at a lower priority than their caller.
 *
 * An nginx worker hashes passwords in a thread pool beside its event loop.
 * Under a login storm those threads want all the CPU there is, and Linux
 * shares it out fairly: the event loop, which answers every other request in
 * a few microseconds, gets no more than its share and its latency grows with
 * the storm. The hash should wait instead: it takes tens of milliseconds
 * anyway, and a login that waits a little longer is no worse for it.
 *
 * A thread can lower its own priority (raise its nice value) but, without
 * privileges nginx's workers do not have, never raise it back. So the
 * computation does not run on the pool thread (which also takes the store's
 * and the shared zone's locks, and must not be held back while it holds one):
 * each calling thread gets a lane, a thread of its own created on first use
 * at the configured nice value, that runs one computation at a time while the
 * caller waits on a condition variable. The computation holds no lock that
 * anyone else waits for, so holding it back delays nothing but itself.
 *
 * A lane ends with its caller (a thread-specific key's destructor); a
 * process's last lanes end with the process.
 */
#include "lowprio.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct {
    pthread_t       thread;
    pthread_mutex_t lock;
    pthread_cond_t  posted;      /* the lane waits here for work or quit */
    pthread_cond_t  finished;    /* the caller waits here for its fn to return */
    void          (*fn)(void *arg);
    void           *arg;
    bool            busy;        /* fn posted and not yet returned */
    bool            quit;
    int             nice;        /* as configured: added to the caller's */
    int             target;      /* the lane's own nice value */
} gh_lowprio_lane;

static atomic_int     gh_lowprio_nice;
static pthread_key_t  gh_lowprio_key;
static pthread_once_t gh_lowprio_key_once = PTHREAD_ONCE_INIT;
static bool           gh_lowprio_key_ok;

void gh_lowprio_set_nice(int nice)
{
    atomic_store_explicit(&gh_lowprio_nice, nice < 0 ? 0 : nice > 19 ? 19 : nice,
                          memory_order_relaxed);
}

static void *gh_lowprio_lane_main(void *data)
{
    gh_lowprio_lane *lane = data;

    /* On Linux a nice value belongs to the thread (PRIO_PROCESS of its id).
     * Should it fail, the lane still works, only not held back. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), lane->target);
    pthread_mutex_lock(&lane->lock);
    for (;;) {
        while (!lane->busy && !lane->quit)
            pthread_cond_wait(&lane->posted, &lane->lock);
        if (lane->quit)
            break;
        pthread_mutex_unlock(&lane->lock);
        lane->fn(lane->arg);
        pthread_mutex_lock(&lane->lock);
        lane->busy = false;
        pthread_cond_signal(&lane->finished);
    }
    pthread_mutex_unlock(&lane->lock);
    return NULL;
}

static void gh_lowprio_lane_free(gh_lowprio_lane *lane)
{
    pthread_cond_destroy(&lane->finished);
    pthread_cond_destroy(&lane->posted);
    pthread_mutex_destroy(&lane->lock);
    free(lane);
}

/* The caller's thread ends: so does its lane. */
static void gh_lowprio_lane_end(void *data)
{
    gh_lowprio_lane *lane = data;

    pthread_mutex_lock(&lane->lock);
    lane->quit = true;
    pthread_cond_signal(&lane->posted);
    pthread_mutex_unlock(&lane->lock);
    pthread_join(lane->thread, NULL);
    gh_lowprio_lane_free(lane);
}

static void gh_lowprio_key_make(void)
{
    gh_lowprio_key_ok = pthread_key_create(&gh_lowprio_key, gh_lowprio_lane_end) == 0;
}

/* The calling thread's lane at nice, made on first use; NULL when none can be. */
static gh_lowprio_lane *gh_lowprio_lane_get(int nice)
{
    gh_lowprio_lane *lane;
    sigset_t         all, old;
    int              rc, own;

    pthread_once(&gh_lowprio_key_once, gh_lowprio_key_make);
    if (!gh_lowprio_key_ok)
        return NULL;
    lane = pthread_getspecific(gh_lowprio_key);
    if (lane != NULL && lane->nice == nice)
        return lane;
    if (lane != NULL) {             /* the nice value changed: a new lane */
        pthread_setspecific(gh_lowprio_key, NULL);
        gh_lowprio_lane_end(lane);
    }
    lane = calloc(1, sizeof(*lane));
    if (lane == NULL)
        return NULL;
    errno = 0;
    own = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (own == -1 && errno != 0)
        own = 0;
    lane->nice = nice;
    lane->target = own + nice > 19 ? 19 : own + nice;
    pthread_mutex_init(&lane->lock, NULL);
    pthread_cond_init(&lane->posted, NULL);
    pthread_cond_init(&lane->finished, NULL);
    /* Signals are the caller's business (nginx's event loop takes them). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&lane->thread, NULL, gh_lowprio_lane_main, lane);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        gh_lowprio_lane_free(lane);
        return NULL;
    }
    if (pthread_setspecific(gh_lowprio_key, lane) != 0) {
        gh_lowprio_lane_end(lane);
        return NULL;
    }
    return lane;
}

void gh_lowprio_run(void (*fn)(void *arg), void *arg)
{
    int              nice = atomic_load_explicit(&gh_lowprio_nice, memory_order_relaxed);
    gh_lowprio_lane *lane = nice > 0 ? gh_lowprio_lane_get(nice) : NULL;

    if (lane == NULL) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&lane->lock);
    lane->fn = fn;
    lane->arg = arg;
    lane->busy = true;
    pthread_cond_signal(&lane->posted);
    while (lane->busy)
        pthread_cond_wait(&lane->finished, &lane->lock);
    pthread_mutex_unlock(&lane->lock);
}
