/*
 * mutex_lock.h: a pthread mutex as the lock of a shared block in the unit
 * tests (gh_shared_lock). A failed lock or unlock (a nested lock or a stray
 * unlock, with an error-checking mutex) aborts: not a cmocka assert, since
 * other threads than the test's take it too.
 */
#ifndef GH_TEST_MUTEX_LOCK_H
#define GH_TEST_MUTEX_LOCK_H

#include <pthread.h>
#include <stdlib.h>

#include "../../src/core/shared.h"

static inline void test_mutex_lock(void *arg)
{
    if (pthread_mutex_lock(arg) != 0)
        abort();
}

static inline void test_mutex_unlock(void *arg)
{
    if (pthread_mutex_unlock(arg) != 0)
        abort();
}

static inline gh_shared_lock test_mutex_shared_lock(pthread_mutex_t *mutex)
{
    return (gh_shared_lock){ test_mutex_lock, test_mutex_unlock, mutex };
}

#endif
