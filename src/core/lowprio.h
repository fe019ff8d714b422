/*
 * lowprio.h: running a slow, CPU-bound computation (a password hash) at a
 * lower scheduling priority than the thread that asks for it, so that a storm
 * of logins does not take the CPU from nginx's event loops. See lowprio.c.
 */
#ifndef GH_LOWPRIO_H
#define GH_LOWPRIO_H

/* How much lower than its caller's a computation's priority is from now on,
 * in every thread of the process: a nice value, 0..19, added to the caller's
 * (up to 19). 0, the default, runs computations on the caller's thread. */
void gh_lowprio_set_nice(int nice);

/* From now on, computations of the calling thread only run at nice (0..19)
 * instead of the process-wide value; -1 goes back to it. A pool thread that
 * hashes for suspect sources sets 19, so those hashes yield the CPU to the
 * others'. */
void gh_lowprio_set_thread_nice(int nice);

/* Run fn(arg) at the configured priority and return when it has returned.
 * fn must not take a lock another thread may wait for: it runs on a thread
 * the scheduler may hold back. Falls back to the caller's own thread when
 * the nice value is 0 or a thread cannot be had. */
void gh_lowprio_run(void (*fn)(void *arg), void *arg);

/* End every lane and wait for their threads. Call once no thread computes
 * any more (an nginx worker's exit, the end of a test); a later
 * gh_lowprio_run makes its caller a new lane. */
void gh_lowprio_shutdown(void);

#endif
