/*
 * test_metrics.c: the block of per-worker slots (sizes, alignment, each slot
 * on cache lines of its own, a block kept only by the same layout), counting
 * into the bound slot only (none bound: nothing counted, no clock read),
 * threads of one process counting into one slot without losing an add, the
 * sum over every slot, and the exact text of the exposition format; a
 * slot's gauges zeroed for a new binder once its last one died.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/core/metrics.h"

#define SLOTS 3

static const char *const names[] = { "alpha", "beta" };
static const gh_metrics_scrape scrape = { names, 2, 7 };

typedef struct {
    void             *mem;
    size_t            size;
    gh_metrics_block *b;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->size = gh_metrics_size(SLOTS);
    f->mem = aligned_alloc(64, f->size);
    assert_non_null(f->mem);
    memset(f->mem, 0xa5, f->size);
    f->b = gh_metrics_format(f->mem, f->size, SLOTS);
    assert_non_null(f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    gh_metrics_bind(NULL, 0);
    free(f->mem);
    free(f);
    return 0;
}

/* The text of b, rendered whole (the caller frees it). */
static char *render(const gh_metrics_block *b, const gh_metrics_scrape *s)
{
    size_t bound = gh_metrics_render_bound(s), used = 0;
    char  *text = malloc(bound);

    assert_non_null(text);
    assert_true(gh_metrics_render(b, s, text, bound, &used));
    assert_int_equal(strlen(text), used);
    return text;
}

/* The lines of text from "# HELP name " up to the next "# HELP" (or the end). */
static char *family_text(const char *text, const char *name)
{
    char        head[128];
    const char *start, *end;
    char       *out;

    snprintf(head, sizeof(head), "# HELP %s ", name);
    start = strstr(text, head);
    assert_non_null(start);
    end = strstr(start + 1, "# HELP ");
    if (end == NULL)
        end = start + strlen(start);
    out = strndup(start, (size_t)(end - start));
    assert_non_null(out);
    return out;
}

/* The whole line of text starting with prefix, without its newline. */
static char *line_of(const char *text, const char *prefix)
{
    const char *p = text;
    size_t      n = strlen(prefix);

    while (p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');

        if (strncmp(p, prefix, n) == 0)
            return strndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
        p = nl != NULL ? nl + 1 : NULL;
    }
    fail_msg("no line starts with %s", prefix);
    return NULL;
}

static void layout(void **state)
{
    fixture  *f = *state;
    uint64_t *first, *second;
    void     *odd;

    (void)state;
    assert_int_equal(gh_metrics_size(0), 0);
    assert_int_equal(gh_metrics_size(4097), 0);
    assert_int_equal(gh_metrics_size(1) % 64, 0);
    assert_true(gh_metrics_size(1) >= 64 + GH_MV_VALUES * sizeof(uint64_t));
    assert_int_equal(gh_metrics_size(2) - gh_metrics_size(1),
                     gh_metrics_size(3) - gh_metrics_size(2));
    assert_int_equal(gh_metrics_slots(f->b), SLOTS);

    /* formatted: every value zero, whatever the memory held */
    for (unsigned s = 0; s < SLOTS; s++)
        for (unsigned i = 0; i < GH_MV_VALUES; i++)
            assert_int_equal(gh_metrics_value(f->b, s, i), 0);

    /* each slot starts a cache line, and none shares one with the next */
    assert_true(gh_metrics_bind(f->b, 0));
    first = gh_metrics_self;
    assert_true(gh_metrics_bind(f->b, 1));
    second = gh_metrics_self;
    assert_int_equal((uintptr_t)first % 64, 0);
    assert_int_equal((uintptr_t)second % 64, 0);
    assert_true((size_t)((char *)second - (char *)first) >= GH_MV_VALUES * sizeof(uint64_t));
    assert_false(gh_metrics_bind(f->b, SLOTS));
    assert_null(gh_metrics_self);

    /* too small or misaligned memory is refused */
    assert_null(gh_metrics_format(f->mem, f->size - 1, SLOTS));
    odd = (char *)f->mem + 8;
    assert_null(gh_metrics_format(odd, f->size - 8, 1));
}

static void attach_keeps_counts(void **state)
{
    fixture *f = *state;

    gh_metrics_bind(f->b, 2);
    gh_metrics_lockout();
    gh_metrics_bind(NULL, 0);
    /* a reload with as many slots finds the counts; another count of slots
     * or another layout (garbage) is not taken */
    assert_ptr_equal(gh_metrics_attach(f->mem, f->size, SLOTS), f->b);
    assert_int_equal(gh_metrics_value(f->b, 2, GH_MV_LOCKOUTS), 1);
    assert_null(gh_metrics_attach(f->mem, f->size, SLOTS - 1));
    memset(f->mem, 0x5a, 64);
    assert_null(gh_metrics_attach(f->mem, f->size, SLOTS));
}

static void unbound_counts_nothing(void **state)
{
    fixture *f = *state;

    gh_metrics_bind(NULL, 0);
    gh_metrics_request(0, GH_METRIC_CRED_BASIC, 200);
    gh_metrics_lockout();
    gh_metrics_hash_wait_ns(5);
    assert_int_equal(gh_metrics_now_ns(), 0);
    gh_metrics_hash_wait(gh_metrics_now_ns());
    for (unsigned s = 0; s < SLOTS; s++)
        for (unsigned i = 0; i < GH_MV_VALUES; i++)
            assert_int_equal(gh_metrics_value(f->b, s, i), 0);
}

static void counts_land_in_own_slot(void **state)
{
    fixture *f = *state;

    gh_metrics_bind(f->b, 1);
    gh_metrics_request(1, GH_METRIC_CRED_TOKEN, 404);
    assert_int_equal(gh_metrics_value(f->b, 1, GH_MV_REQUESTS
                                      + (1 * GH_METRIC_CREDS + GH_METRIC_CRED_TOKEN)
                                        * GH_METRIC_CODES + 3), 1);
    assert_int_equal(gh_metrics_value(f->b, 0, GH_MV_REQUESTS
                                      + (1 * GH_METRIC_CREDS + GH_METRIC_CRED_TOKEN)
                                        * GH_METRIC_CODES + 3), 0);
    /* an index out of range is no dialect; a status out of range a 5xx */
    gh_metrics_request(99, GH_METRIC_CRED_NONE, 999);
    assert_int_equal(gh_metrics_value(f->b, 1, GH_MV_REQUESTS
                                      + (GH_METRICS_NO_DIALECT * GH_METRIC_CREDS)
                                        * GH_METRIC_CODES + 4), 1);
    assert_int_equal(gh_metric_code(101), 0);
    assert_int_equal(gh_metric_code(299), 1);
    assert_int_equal(gh_metric_code(302), 2);
    assert_int_equal(gh_metric_code(0), 4);
}

#define THREADS 4
#define ADDS    100000

typedef struct {
    gh_metrics_block *b;
} thread_arg;

static void *count_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < ADDS; i++) {
        gh_metrics_credcache(i % 2 == 0);
        gh_metrics_hash_queue(+1);
        gh_metrics_hash_queue(-1);
    }
    return NULL;
}

/* The pool threads of a worker count into its one slot: no add is lost. */
static void threads_share_a_slot(void **state)
{
    fixture  *f = *state;
    pthread_t t[THREADS];

    gh_metrics_bind(f->b, 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_many, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(gh_metrics_value(f->b, 0, GH_MV_CREDCACHE_HITS), THREADS * ADDS / 2);
    assert_int_equal(gh_metrics_value(f->b, 0, GH_MV_CREDCACHE_MISSES), THREADS * ADDS / 2);
    assert_int_equal(gh_metrics_value(f->b, 0, GH_MV_HASH_QUEUE), 0);
}

/* Each worker counts in its slot; the text shows the sum. */
static void render_sums_slots(void **state)
{
    fixture *f = *state;
    char    *text, *line;

    for (unsigned s = 0; s < SLOTS; s++) {
        gh_metrics_bind(f->b, s);
        for (unsigned i = 0; i <= s; i++)
            gh_metrics_request(0, GH_METRIC_CRED_BASIC, 200);
        gh_metrics_request(GH_METRICS_NO_DIALECT, GH_METRIC_CRED_NONE, 404);
        gh_metrics_login(1, GH_METRIC_LOGIN_WRONG_PASSWORD);
        gh_metrics_upstream_failure(1);
    }
    /* a gauge counted up and down: the sum of the slots, signed */
    gh_metrics_bind(f->b, 0);
    gh_metrics_hash_queue(+3);
    gh_metrics_bind(f->b, 2);
    gh_metrics_hash_queue(-1);
    gh_metrics_bind(NULL, 0);

    text = render(f->b, &scrape);
    line = line_of(text, "gatehouse_requests_total{dialect=\"alpha\",credential=\"basic\","
                         "code=\"2xx\"}");
    assert_string_equal(strrchr(line, ' '), " 6");
    free(line);
    line = line_of(text, "gatehouse_requests_total{dialect=\"none\",credential=\"none\","
                         "code=\"4xx\"}");
    assert_string_equal(strrchr(line, ' '), " 3");
    free(line);
    line = line_of(text, "gatehouse_requests_total{dialect=\"beta\",credential=\"basic\","
                         "code=\"2xx\"}");
    assert_string_equal(strrchr(line, ' '), " 0");
    free(line);
    line = line_of(text, "gatehouse_logins_total{dialect=\"beta\",result=\"wrong_password\"}");
    assert_string_equal(strrchr(line, ' '), " 3");
    free(line);
    line = line_of(text, "gatehouse_upstream_failures_total{dialect=\"beta\"}");
    assert_string_equal(line, "gatehouse_upstream_failures_total{dialect=\"beta\"} 3");
    free(line);
    line = line_of(text, "gatehouse_hash_queue_depth ");
    assert_string_equal(line, "gatehouse_hash_queue_depth 2");
    free(line);
    /* "none" only where a request may belong to no dialect */
    assert_null(strstr(text, "gatehouse_logins_total{dialect=\"none\""));
    free(text);
}

static void exact_text(void **state)
{
    fixture *f = *state;
    char    *text, *part;

    gh_metrics_bind(f->b, 0);
    gh_metrics_lockout();
    gh_metrics_hash_wait_ns(1000000);          /* 1 ms: le 0.001 */
    gh_metrics_hash_wait_ns(30000000);         /* 30 ms: le 0.05 */
    gh_metrics_bind(f->b, 1);
    gh_metrics_lockout();
    gh_metrics_hash_wait_ns(20000000000);      /* 20 s: +Inf only */
    gh_metrics_sessions_ended(GH_METRIC_END_IDLE, 4);
    gh_metrics_session_created(1);
    gh_metrics_store_operation_ns(GH_METRIC_BACKEND_REDIS, 150000);
    gh_metrics_bind(NULL, 0);
    text = render(f->b, &scrape);

    part = family_text(text, "gatehouse_lockouts_total");
    assert_string_equal(part,
        "# HELP gatehouse_lockouts_total Accounts locked out by failed logins.\n"
        "# TYPE gatehouse_lockouts_total counter\n"
        "gatehouse_lockouts_total 2\n");
    free(part);
    part = family_text(text, "gatehouse_sessions");
    assert_string_equal(part,
        "# HELP gatehouse_sessions Live sessions in the server's shared memory (with a "
        "store other nodes share: those this node holds).\n"
        "# TYPE gatehouse_sessions gauge\n"
        "gatehouse_sessions 7\n");
    free(part);
    part = family_text(text, "gatehouse_sessions_created_total");
    assert_string_equal(part,
        "# HELP gatehouse_sessions_created_total Sessions created, by dialect.\n"
        "# TYPE gatehouse_sessions_created_total counter\n"
        "gatehouse_sessions_created_total{dialect=\"alpha\"} 0\n"
        "gatehouse_sessions_created_total{dialect=\"beta\"} 1\n");
    free(part);
    part = family_text(text, "gatehouse_sessions_ended_total");
    assert_string_equal(part,
        "# HELP gatehouse_sessions_ended_total Sessions ended, by reason.\n"
        "# TYPE gatehouse_sessions_ended_total counter\n"
        "gatehouse_sessions_ended_total{reason=\"logout\"} 0\n"
        "gatehouse_sessions_ended_total{reason=\"idle\"} 4\n"
        "gatehouse_sessions_ended_total{reason=\"lifetime\"} 0\n"
        "gatehouse_sessions_ended_total{reason=\"revoked\"} 0\n"
        "gatehouse_sessions_ended_total{reason=\"limit\"} 0\n");
    free(part);
    part = family_text(text, "gatehouse_hash_wait_seconds");
    assert_string_equal(part,
        "# HELP gatehouse_hash_wait_seconds Time a password check waited for a thread "
        "of the hash pool.\n"
        "# TYPE gatehouse_hash_wait_seconds histogram\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.001\"} 1\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.0025\"} 1\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.005\"} 1\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.01\"} 1\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.025\"} 1\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.05\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.1\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.25\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"0.5\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"1\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"2.5\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"5\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"10\"} 2\n"
        "gatehouse_hash_wait_seconds_bucket{le=\"+Inf\"} 3\n"
        "gatehouse_hash_wait_seconds_sum 20.031\n"
        "gatehouse_hash_wait_seconds_count 3\n");
    free(part);
    part = family_text(text, "gatehouse_store_operation_seconds");
    assert_non_null(strstr(part,
        "gatehouse_store_operation_seconds_bucket{backend=\"sqlite\",le=\"5\"} 0\n"
        "gatehouse_store_operation_seconds_bucket{backend=\"sqlite\",le=\"+Inf\"} 0\n"
        "gatehouse_store_operation_seconds_sum{backend=\"sqlite\"} 0\n"
        "gatehouse_store_operation_seconds_count{backend=\"sqlite\"} 0\n"));
    assert_non_null(strstr(part,
        "gatehouse_store_operation_seconds_bucket{backend=\"redis\",le=\"0.0001\"} 0\n"
        "gatehouse_store_operation_seconds_bucket{backend=\"redis\",le=\"0.00025\"} 1\n"));
    assert_non_null(strstr(part,
        "gatehouse_store_operation_seconds_sum{backend=\"redis\"} 0.00015\n"
        "gatehouse_store_operation_seconds_count{backend=\"redis\"} 1\n"));
    free(part);
    free(text);
}

/* Every family once, in the table's order; the bound holds the text; a
 * buffer too small or a dialect name that would need escaping is refused. */
static void whole_text(void **state)
{
    static const char *const families[] = {
        "gatehouse_requests_total", "gatehouse_logins_total", "gatehouse_lockouts_total",
        "gatehouse_sessions", "gatehouse_sessions_created_total",
        "gatehouse_sessions_ended_total", "gatehouse_hash_queue_depth",
        "gatehouse_hash_wait_seconds", "gatehouse_credcache_hits_total",
        "gatehouse_credcache_misses_total", "gatehouse_store_operation_seconds",
        "gatehouse_upstream_responses_total", "gatehouse_upstream_failures_total",
    };
    static const char *const bad[] = { "alpha", "be\"ta" };
    const gh_metrics_scrape  bad_scrape = { bad, 2, 0 };
    fixture    *f = *state;
    char       *text = render(f->b, &scrape), small[64];
    const char *at = text;
    size_t      used, lines = 0;

    assert_int_equal(sizeof(families) / sizeof(families[0]), GH_METRIC_FAMILIES);
    for (size_t i = 0; i < GH_METRIC_FAMILIES; i++) {
        char type[128];

        snprintf(type, sizeof(type), "\n# TYPE %s ", families[i]);
        at = strstr(at, type);
        assert_non_null(at);
    }
    for (const char *p = text; *p != '\0'; p++)
        lines += *p == '\n';
    /* requests 3*5*5, logins 2*8, lockouts, sessions, created 2, ended 5, queue,
     * hash wait 13+3, hits, misses, store 2*(15+3), upstream 2*5 and 2 */
    assert_int_equal(lines, 2 * GH_METRIC_FAMILIES + 75 + 16 + 1 + 1 + 2 + 5 + 1 + 16 + 1 + 1
                            + 36 + 10 + 2);
    assert_false(gh_metrics_render(f->b, &scrape, small, sizeof(small), &used));
    assert_false(gh_metrics_render(f->b, &bad_scrape, text, strlen(text) + 1, &used));
    free(text);
}

/* Bind slot 0 of b in a child process, queue three hash tasks and count a
 * lockout there, and exit as a killed worker would: without the downs. */
static void count_in_child_and_die(gh_metrics_block *b)
{
    pid_t pid = fork();
    int   status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        if (!gh_metrics_bind(b, 0))
            _exit(1);
        for (int i = 0; i < 3; i++)
            gh_metrics_hash_queue(+1);
        gh_metrics_lockout();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A slot whose last binder died: its gauges start again from zero, its
 * counters keep what it counted. One whose last binder lives (an old
 * worker finishing after a reload) keeps its gauges too. */
static void gauges_of_a_dead_binder(void **state)
{
    fixture          *f = *state;
    size_t            size = gh_metrics_size(1);
    void             *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    gh_metrics_block *b;

    (void)f;
    assert_true(mem != MAP_FAILED);
    b = gh_metrics_format(mem, size, 1);
    assert_non_null(b);

    count_in_child_and_die(b);
    assert_int_equal(gh_metrics_value(b, 0, GH_MV_HASH_QUEUE), 3);
    assert_true(gh_metrics_bind(b, 0));
    assert_int_equal(gh_metrics_value(b, 0, GH_MV_HASH_QUEUE), 0);
    assert_int_equal(gh_metrics_value(b, 0, GH_MV_LOCKOUTS), 1);

    /* this process, alive, bound it last: a child binding after it keeps
     * the gauge this process counts */
    gh_metrics_hash_queue(+1);
    count_in_child_and_die(b);
    assert_int_equal(gh_metrics_value(b, 0, GH_MV_HASH_QUEUE), 4);
    assert_int_equal(gh_metrics_value(b, 0, GH_MV_LOCKOUTS), 2);

    gh_metrics_bind(NULL, 0);
    munmap(mem, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(layout, setup, teardown),
        cmocka_unit_test_setup_teardown(attach_keeps_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(unbound_counts_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(counts_land_in_own_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(threads_share_a_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(render_sums_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(exact_text, setup, teardown),
        cmocka_unit_test_setup_teardown(whole_text, setup, teardown),
        cmocka_unit_test_setup_teardown(gauges_of_a_dead_binder, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
