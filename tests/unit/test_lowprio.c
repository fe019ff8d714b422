/*
 * test_lowprio.c: a computation runs on its caller's thread until a nice
 * value is set; then on a thread of the caller's own, at the caller's nice
 * value plus the one set, while the caller keeps its own priority; every
 * calling thread has its lane, and the lanes end together at shutdown, after
 * which a caller gets a new one. Password hashing goes through it and still
 * verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../src/core/lowprio.h"
#include "../../src/core/password.h"

typedef struct {
    pid_t tid;
    int   nice;
    int   calls;
} where_ran;

static int own_nice(void)
{
    errno = 0;
    return getpriority(PRIO_PROCESS, (id_t)gettid());
}

static void record(void *arg)
{
    where_ran *w = arg;

    w->tid = gettid();
    w->nice = own_nice();
    w->calls++;
}

/* Threads of this process, from /proc/self/task. */
static int thread_count(void)
{
    DIR           *d = opendir("/proc/self/task");
    struct dirent *e;
    int            n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/*
 * The thread count once threads that have ended are gone from /proc. glibc's
 * pthread_join returns when the kernel clears the thread's id, which it does
 * before it takes the task out of /proc/self/task, so a joined thread can be
 * listed a moment longer. Such leftovers only ever leave, so the count is
 * read again while it is above want (for up to 5 s); a count below it is
 * answered at once.
 */
static int thread_count_settled(int want)
{
    int n = thread_count();

    for (int i = 0; n > want && i < 5000; i++) {
        usleep(1000);
        n = thread_count();
    }
    return n;
}

static int expected(int base, int nice)
{
    return base + nice > 19 ? 19 : base + nice;
}

static void test_inline_until_set(void **state)
{
    where_ran w = { 0 };

    (void)state;
    gh_lowprio_set_nice(0);
    gh_lowprio_run(record, &w);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.tid, gettid());
}

static void test_lane_is_lower(void **state)
{
    where_ran w = { 0 };
    int       base = own_nice();

    (void)state;
    gh_lowprio_set_nice(7);
    for (int i = 0; i < 3; i++)
        gh_lowprio_run(record, &w);
    assert_int_equal(w.calls, 3);
    assert_int_not_equal(w.tid, gettid());
    assert_int_equal(w.nice, expected(base, 7));
    assert_int_equal(own_nice(), base);     /* the caller is not held back */

    /* A new value takes a new lane. */
    gh_lowprio_set_nice(3);
    gh_lowprio_run(record, &w);
    assert_int_equal(w.nice, expected(base, 3));
    gh_lowprio_set_nice(0);
}

/* A thread's own value (a suspect pool's thread) overrides the process's
 * for that thread only, until it sets -1. */
static void *suspect_caller(void *arg)
{
    gh_lowprio_set_thread_nice(19);
    gh_lowprio_run(record, arg);
    gh_lowprio_set_thread_nice(-1);
    return NULL;
}

static void test_thread_nice(void **state)
{
    where_ran w = { 0 }, s = { 0 };
    int       base = own_nice();
    pthread_t th;

    (void)state;
    gh_lowprio_set_nice(5);
    assert_int_equal(pthread_create(&th, NULL, suspect_caller, &s), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    gh_lowprio_run(record, &w);
    assert_int_equal(s.nice, 19);
    assert_int_equal(w.nice, expected(base, 5));
    gh_lowprio_set_nice(0);
    gh_lowprio_shutdown();
}

static void *caller(void *arg)
{
    gh_lowprio_run(record, arg);
    return NULL;
}

static void test_lane_per_caller_until_shutdown(void **state)
{
    where_ran w[2] = { { 0 }, { 0 } };
    where_ran again = { 0 };
    pthread_t t[2];
    int       before;

    (void)state;
    gh_lowprio_shutdown();              /* the lanes of the tests before */
    before = thread_count_settled(1);   /* this test's runner alone */
    gh_lowprio_set_nice(5);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, caller, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(w[0].calls, 1);
    assert_int_equal(w[1].calls, 1);
    assert_int_not_equal(w[0].tid, w[1].tid);
    /* The callers are gone, their lanes wait: no code of theirs runs. */
    assert_int_equal(thread_count_settled(before + 2), before + 2);
    gh_lowprio_shutdown();
    assert_int_equal(thread_count_settled(before), before);

    /* A caller after a shutdown gets a new lane. */
    gh_lowprio_run(record, &again);
    assert_int_not_equal(again.tid, gettid());
    assert_int_equal(thread_count_settled(before + 1), before + 1);
    gh_lowprio_shutdown();
    assert_int_equal(thread_count_settled(before), before);
    gh_lowprio_set_nice(0);
}

static void test_password_through_lane(void **state)
{
    gh_argon2_params p = { 1, 64, 1 };
    char             hash[GH_PASSWORD_HASH_MAX];

    (void)state;
    gh_lowprio_set_nice(10);
    assert_int_equal(gh_password_hash(&p, "secret-pw", 9, hash), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "secret-pw", 9), GH_PASSWORD_OK);
    assert_int_equal(gh_password_verify(hash, "secret-px", 9), GH_PASSWORD_MISMATCH);
    /* crypt(3) hashes too: sha512crypt of "secret". */
    assert_int_equal(gh_password_verify("$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0"
                                        "aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
                                        "secret", 6), GH_PASSWORD_OK);
    gh_lowprio_set_nice(0);
    gh_lowprio_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline_until_set),
        cmocka_unit_test(test_lane_is_lower),
        cmocka_unit_test(test_thread_nice),
        cmocka_unit_test(test_lane_per_caller_until_shutdown),
        cmocka_unit_test(test_password_through_lane),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
