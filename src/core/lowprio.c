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
 * Lanes end all together, by gh_lowprio_shutdown once nothing computes any
 * more (an nginx worker's exit), not one by one with their callers: nginx
 * unloads the module while its exiting pool threads may still run their
 * thread-exit code, so code of ours run there could run from unmapped memory.
 * A lane waiting for work runs nothing at all.
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

typedef struct gh_lowprio_lane gh_lowprio_lane;

struct gh_lowprio_lane {
    pthread_t        thread;
    pthread_mutex_t  lock;
    pthread_cond_t   posted;     /* the lane waits here for work or quit */
    pthread_cond_t   finished;   /* the caller waits here for its fn to return */
    void           (*fn)(void *arg);
    void            *arg;
    bool             busy;       /* fn posted and not yet returned */
    bool             quit;
    int              nice;       /* as configured: added to the caller's */
    int              target;     /* the lane's own nice value */
    gh_lowprio_lane *next;       /* in gh_lowprio_lanes */
};

static atomic_int       gh_lowprio_nice;
/* Every lane, for gh_lowprio_shutdown; a shutdown starts a new generation, and
 * a thread's own lane counts only if it was made in the current one. */
static pthread_mutex_t  gh_lowprio_lanes_lock = PTHREAD_MUTEX_INITIALIZER;
static gh_lowprio_lane *gh_lowprio_lanes;
static unsigned         gh_lowprio_generation;
static _Thread_local int              gh_lowprio_own_nice = -1;   /* -1: the process's */
static _Thread_local gh_lowprio_lane *gh_lowprio_own;
static _Thread_local unsigned         gh_lowprio_own_generation;

void gh_lowprio_set_nice(int nice)
{
    atomic_store_explicit(&gh_lowprio_nice, nice < 0 ? 0 : nice > 19 ? 19 : nice,
                          memory_order_relaxed);
}

void gh_lowprio_set_thread_nice(int nice)
{
    gh_lowprio_own_nice = nice < 0 ? -1 : nice > 19 ? 19 : nice;
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

/* Stop an idle lane, wait for its thread to end, free it. */
static void gh_lowprio_lane_end(gh_lowprio_lane *lane)
{
    pthread_mutex_lock(&lane->lock);
    lane->quit = true;
    pthread_cond_signal(&lane->posted);
    pthread_mutex_unlock(&lane->lock);
    pthread_join(lane->thread, NULL);
    gh_lowprio_lane_free(lane);
}

/* Take lane out of the list (the caller's own, being replaced) and end it. */
static void gh_lowprio_lane_retire(gh_lowprio_lane *lane)
{
    pthread_mutex_lock(&gh_lowprio_lanes_lock);
    for (gh_lowprio_lane **p = &gh_lowprio_lanes; *p != NULL; p = &(*p)->next) {
        if (*p == lane) {
            *p = lane->next;
            break;
        }
    }
    pthread_mutex_unlock(&gh_lowprio_lanes_lock);
    gh_lowprio_lane_end(lane);
}

/* A new lane at nice above the caller's, listed; NULL when none can be made. */
static gh_lowprio_lane *gh_lowprio_lane_new(int nice)
{
    gh_lowprio_lane *lane = calloc(1, sizeof(*lane));
    sigset_t         all, old;
    int              own;

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
    if (pthread_create(&lane->thread, NULL, gh_lowprio_lane_main, lane) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        gh_lowprio_lane_free(lane);
        return NULL;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_mutex_lock(&gh_lowprio_lanes_lock);
    lane->next = gh_lowprio_lanes;
    gh_lowprio_lanes = lane;
    gh_lowprio_own_generation = gh_lowprio_generation;
    pthread_mutex_unlock(&gh_lowprio_lanes_lock);
    return lane;
}

/* The calling thread's lane at nice, made on first use; NULL when none can be. */
static gh_lowprio_lane *gh_lowprio_lane_get(int nice)
{
    gh_lowprio_lane *lane = gh_lowprio_own;
    bool             current;

    pthread_mutex_lock(&gh_lowprio_lanes_lock);
    current = lane != NULL && gh_lowprio_own_generation == gh_lowprio_generation;
    pthread_mutex_unlock(&gh_lowprio_lanes_lock);
    if (current && lane->nice == nice)
        return lane;
    if (current)                    /* the nice value changed: a new lane */
        gh_lowprio_lane_retire(lane);
    gh_lowprio_own = gh_lowprio_lane_new(nice);
    return gh_lowprio_own;
}

void gh_lowprio_run(void (*fn)(void *arg), void *arg)
{
    int              nice = gh_lowprio_own_nice >= 0
                            ? gh_lowprio_own_nice
                            : atomic_load_explicit(&gh_lowprio_nice, memory_order_relaxed);
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

void gh_lowprio_shutdown(void)
{
    gh_lowprio_lane *lane, *next;

    pthread_mutex_lock(&gh_lowprio_lanes_lock);
    lane = gh_lowprio_lanes;
    gh_lowprio_lanes = NULL;
    gh_lowprio_generation++;
    pthread_mutex_unlock(&gh_lowprio_lanes_lock);
    for (; lane != NULL; lane = next) {
        next = lane->next;
        gh_lowprio_lane_end(lane);
    }
}
