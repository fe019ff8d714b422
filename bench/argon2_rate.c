/*
 * argon2_rate.c: the raw argon2id rate of this machine, the reference for
 * logins per second (bench/run, row 3).
 *
 * THREADS threads (default: every online core) each hash a fixed password
 * with a fresh salt, back to back, with libargon2 at the given cost, until
 * SECONDS have passed; the rate is the hashes finished divided by the time
 * until the last thread has finished its last hash. This is what the
 * gatehouse hash pool could do at best with the same cores and parameters:
 * no HTTP, no TLS, no store.
 *
 *   argon2_rate T_COST M_COST_KIB PARALLELISM SECONDS [THREADS]
 *
 * Prints one line: "rate=<hashes/s> hashes=<n> seconds=<s> threads=<n> ...".
 * Build: cc -O2 -o argon2_rate argon2_rate.c -largon2 -lpthread
 */
#include <argon2.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RATE_MAX_THREADS 1024

typedef struct {
    uint32_t t_cost, m_cost, lanes;
    double   deadline;
    long     hashes;
    int      failed;
} rate_job;

static double rate_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *rate_worker(void *arg)
{
    static const char pwd[] = "bench-password-not-a-secret";
    rate_job *job = arg;
    uint8_t   salt[16], out[32];

    memset(salt, 0, sizeof(salt));
    while (rate_clock() < job->deadline) {
        memcpy(salt, &job->hashes, sizeof(job->hashes));
        if (argon2id_hash_raw(job->t_cost, job->m_cost, job->lanes, pwd, sizeof(pwd) - 1,
                              salt, sizeof(salt), out, sizeof(out)) != ARGON2_OK) {
            job->failed = 1;
            break;
        }
        job->hashes++;
    }
    return NULL;
}

static long rate_arg(const char *text, long lo, long hi)
{
    char *end;
    long  v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "argon2_rate: '%s' is not a number %ld..%ld\n", text, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static rate_job jobs[RATE_MAX_THREADS];
    pthread_t       tid[RATE_MAX_THREADS];
    long            threads, seconds, total = 0, i;
    double          t0, elapsed;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: argon2_rate T_COST M_COST_KIB PARALLELISM SECONDS [THREADS]\n");
        return 2;
    }
    threads = argc == 6 ? rate_arg(argv[5], 1, RATE_MAX_THREADS)
                        : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    seconds = rate_arg(argv[4], 1, 3600);
    t0 = rate_clock();
    for (i = 0; i < threads; i++) {
        jobs[i].t_cost = (uint32_t)rate_arg(argv[1], 1, 32);
        jobs[i].m_cost = (uint32_t)rate_arg(argv[2], 8, 1048576);
        jobs[i].lanes = (uint32_t)rate_arg(argv[3], 1, 16);
        jobs[i].deadline = t0 + (double)seconds;
        if (pthread_create(&tid[i], NULL, rate_worker, &jobs[i]) != 0) {
            fprintf(stderr, "argon2_rate: cannot start thread %ld\n", i);
            return 1;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        if (jobs[i].failed) {
            fprintf(stderr, "argon2_rate: argon2id_hash_raw failed (memory?)\n");
            return 1;
        }
        total += jobs[i].hashes;
    }
    elapsed = rate_clock() - t0;
    printf("rate=%.2f hashes=%ld seconds=%.3f threads=%ld t_cost=%s m_cost_kib=%s "
           "parallelism=%s\n", (double)total / elapsed, total, elapsed, threads,
           argv[1], argv[2], argv[3]);
    return 0;
}
