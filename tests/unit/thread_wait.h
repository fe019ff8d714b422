/*
 * thread_wait.h: waiting, in a unit test, until another thread of this
 * process is blocked in a given system call, as /proc/self/task/TID/syscall
 * shows it (Linux). A test that needs a thread to be waiting (for a lock,
 * for an answer) before it goes on waits for exactly that, with a bound,
 * instead of sleeping for a time that is usually long enough.
 */
#ifndef GH_TEST_THREAD_WAIT_H
#define GH_TEST_THREAD_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

static inline int64_t test_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The system call thread tid of this process is blocked in, or -1 when it
 * runs, is in none, or is gone. */
static inline long test_thread_syscall(pid_t tid)
{
    char path[64];
    long nr = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld", &nr) != 1)       /* "running" */
        nr = -1;
    fclose(f);
    return nr;
}

/* Polls (every millisecond, at most timeout_ms) until thread tid is blocked
 * in system call nr or nr2 (the same twice for one); true once it is. */
static inline bool test_thread_blocked_in(pid_t tid, long nr, long nr2, int timeout_ms)
{
    const struct timespec ms = { 0, 1000000 };
    int64_t deadline = test_monotonic_ms() + timeout_ms;

    do {
        long now = test_thread_syscall(tid);

        if (now == nr || now == nr2)
            return true;
        nanosleep(&ms, NULL);
    } while (test_monotonic_ms() < deadline);
    return false;
}

/* Polls until *tid (stored by a thread as it starts) is set, at most
 * timeout_ms; the tid, or 0. */
static inline pid_t test_thread_started(const pid_t *tid, int timeout_ms)
{
    const struct timespec ms = { 0, 1000000 };
    int64_t deadline = test_monotonic_ms() + timeout_ms;
    pid_t got;

    while ((got = __atomic_load_n(tid, __ATOMIC_ACQUIRE)) == 0 &&
           test_monotonic_ms() < deadline)
        nanosleep(&ms, NULL);
    return got;
}

#endif
