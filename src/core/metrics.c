/*
 * metrics.c: the table of metric families, the block of per-worker slots,
 * the histogram observations and the Prometheus text exposition format.
 *
 * A slot is GH_MV_VALUES 64-bit values (metrics.h says where each family's
 * start), padded to whole cache lines; the block is a 64-byte header and
 * the slots after it. Nothing in it points anywhere: the header says how
 * many slots there are and which layout (a fingerprint of the table below)
 * they were laid out with, so a block kept across a reload is used again
 * only by a build that counts the same things in the same places.
 *
 * A counter is one value per series. A gauge counted up and down (the hash
 * queue) is one value per slot that wraps below zero, summed as signed; a
 * process that dies leaves its ups there without their downs (a worker
 * killed with tasks queued), so a process binding a slot whose last binder
 * is gone sets the slot's gauges to zero, and keeps them when it lives (an
 * old worker finishing its requests after a reload counts on there). A
 * histogram series is its buckets (each counting the observations at or
 * below its bound and above the one before), the +Inf bucket, and the sum
 * of what it observed in nanoseconds; the rendering makes the buckets
 * cumulative and their total the _count, so _count and the +Inf bucket
 * always agree. Sums are integers of nanoseconds, written as exact decimal
 * seconds: no floating point on the hot path or in the text.
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GH_METRICS_MAGIC     0x746d6867u   /* "ghmt" */
#define GH_METRICS_SLOTS_MAX 4096
#define GH_METRICS_LINE      64            /* bytes of a cache line */
/* After a slot's values: the pid of the process that bound it last. */
#define GH_METRICS_BINDER    GH_MV_VALUES
/* Values of a slot and its binder, rounded up to whole cache lines. */
#define GH_METRICS_STRIDE \
    ((GH_MV_VALUES + 1 + GH_METRICS_LINE / 8 - 1) / (GH_METRICS_LINE / 8) \
     * (GH_METRICS_LINE / 8))
/* Bytes of one rendered series line at most: a name, three labels of at
 * most GH_METRICS_LABEL_MAX bytes each and le, a 20-digit value. */
#define GH_METRICS_LABEL_MAX 32
#define GH_METRICS_LINE_MAX  320

struct gh_metrics_block {
    uint32_t magic;
    uint32_t layout;         /* gh_metrics_layout() of the build that formatted it */
    uint32_t nslots;
    uint32_t stride;         /* values per slot */
    unsigned char pad[GH_METRICS_LINE - 16];
    _Alignas(GH_METRICS_LINE) uint64_t values[];  /* nslots * stride */
};

_Static_assert(sizeof(struct gh_metrics_block) == GH_METRICS_LINE,
               "the header is one cache line");

uint64_t *gh_metrics_self;

/* ---- the table ---- */

typedef enum {
    GH_LABEL_DIALECT = 0,     /* the caller's dialects */
    GH_LABEL_DIALECT_ANY,     /* the caller's dialects, then "none" */
    GH_LABEL_CRED,
    GH_LABEL_CODE,
    GH_LABEL_LOGIN,
    GH_LABEL_END,
    GH_LABEL_BACKEND
} gh_label_kind;

typedef struct {
    const char         *name;
    unsigned            count;   /* values in a slot's layout */
    const char *const  *values;  /* NULL: the dialects of the scrape */
} gh_label;

static const char *const gh_cred_names[GH_METRIC_CREDS] = {
    "none", "basic", "bearer", "token", "malformed"
};
static const char *const gh_code_names[GH_METRIC_CODES] = {
    "1xx", "2xx", "3xx", "4xx", "5xx"
};
static const char *const gh_login_names[GH_METRIC_LOGINS] = {
    "success", "wrong_password", "unknown_user", "locked", "disabled", "limit",
    "throttled", "unavailable"
};
static const char *const gh_end_names[GH_METRIC_ENDS] = {
    "logout", "idle", "lifetime", "revoked", "limit"
};
static const char *const gh_backend_names[GH_METRIC_BACKENDS] = { "sqlite", "redis" };

static const gh_label gh_labels[] = {
    [GH_LABEL_DIALECT]     = { "dialect", GH_METRICS_DIALECTS, NULL },
    [GH_LABEL_DIALECT_ANY] = { "dialect", GH_METRICS_DIALECTS, NULL },
    [GH_LABEL_CRED]        = { "credential", GH_METRIC_CREDS, gh_cred_names },
    [GH_LABEL_CODE]        = { "code", GH_METRIC_CODES, gh_code_names },
    [GH_LABEL_LOGIN]       = { "result", GH_METRIC_LOGINS, gh_login_names },
    [GH_LABEL_END]         = { "reason", GH_METRIC_ENDS, gh_end_names },
    [GH_LABEL_BACKEND]     = { "backend", GH_METRIC_BACKENDS, gh_backend_names },
};

typedef struct {
    uint64_t    ns;          /* an observation at or below this lands here */
    const char *le;          /* the bound as the text says it, in seconds */
} gh_bucket;

static const gh_bucket gh_hash_wait_buckets[GH_METRICS_HASH_WAIT_BUCKETS] = {
    { 1000000, "0.001" }, { 2500000, "0.0025" }, { 5000000, "0.005" },
    { 10000000, "0.01" }, { 25000000, "0.025" }, { 50000000, "0.05" },
    { 100000000, "0.1" }, { 250000000, "0.25" }, { 500000000, "0.5" },
    { 1000000000, "1" }, { 2500000000, "2.5" }, { 5000000000, "5" },
    { 10000000000, "10" },
};

static const gh_bucket gh_store_buckets[GH_METRICS_STORE_BUCKETS] = {
    { 100000, "0.0001" }, { 250000, "0.00025" }, { 500000, "0.0005" },
    { 1000000, "0.001" }, { 2500000, "0.0025" }, { 5000000, "0.005" },
    { 10000000, "0.01" }, { 25000000, "0.025" }, { 50000000, "0.05" },
    { 100000000, "0.1" }, { 250000000, "0.25" }, { 500000000, "0.5" },
    { 1000000000, "1" }, { 2500000000, "2.5" }, { 5000000000, "5" },
};

typedef enum { GH_COUNTER, GH_GAUGE, GH_HISTOGRAM } gh_metric_type;

typedef struct {
    const char      *name;
    const char      *help;
    gh_metric_type   type;
    unsigned         nlabels;
    gh_label_kind    labels[3];
    const gh_bucket *buckets;    /* a histogram's */
    unsigned         nbuckets;
    int              base;       /* first value in a slot; -1: read at scrape */
    unsigned         nvalues;    /* values in a slot */
} gh_family;

#define GH_FAMILY_COUNTER(n, h, base, nl, ...) \
    { n, h, GH_COUNTER, nl, { __VA_ARGS__ }, NULL, 0, base, 0 }

static const gh_family gh_families[GH_METRIC_FAMILIES] = {
    [GH_METRIC_REQUESTS] = GH_FAMILY_COUNTER("gatehouse_requests_total",
        "Requests answered under a dialect's path, by the credential they carried and "
        "the class of the status sent.", GH_MV_REQUESTS, 3,
        GH_LABEL_DIALECT_ANY, GH_LABEL_CRED, GH_LABEL_CODE),
    [GH_METRIC_LOGINS_TOTAL] = GH_FAMILY_COUNTER("gatehouse_logins_total",
        "Password checks (session logins and Basic credentials not in the cache), by "
        "dialect and result.", GH_MV_LOGINS, 2, GH_LABEL_DIALECT, GH_LABEL_LOGIN),
    [GH_METRIC_LOCKOUTS] = GH_FAMILY_COUNTER("gatehouse_lockouts_total",
        "Accounts locked out by failed logins.", GH_MV_LOCKOUTS, 0, 0),
    [GH_METRIC_SESSIONS] = { "gatehouse_sessions",
        "Live sessions in the server's shared memory (with a store other nodes share: "
        "those this node holds).", GH_GAUGE, 0, { 0 },
        NULL, 0, -1, 0 },
    [GH_METRIC_SESSIONS_CREATED] = GH_FAMILY_COUNTER("gatehouse_sessions_created_total",
        "Sessions created, by dialect.", GH_MV_SESSIONS_CREATED, 1, GH_LABEL_DIALECT),
    [GH_METRIC_SESSIONS_ENDED] = GH_FAMILY_COUNTER("gatehouse_sessions_ended_total",
        "Sessions ended, by reason.", GH_MV_SESSIONS_ENDED, 1, GH_LABEL_END),
    [GH_METRIC_HASH_QUEUE_DEPTH] = { "gatehouse_hash_queue_depth",
        "Password hashes waiting for a thread of the hash pool.", GH_GAUGE, 0, { 0 },
        NULL, 0, GH_MV_HASH_QUEUE, 1 },
    [GH_METRIC_HASH_WAIT] = { "gatehouse_hash_wait_seconds",
        "Time a password check waited for a thread of the hash pool.", GH_HISTOGRAM,
        0, { 0 }, gh_hash_wait_buckets, GH_METRICS_HASH_WAIT_BUCKETS, GH_MV_HASH_WAIT, 0 },
    [GH_METRIC_CREDCACHE_HITS] = GH_FAMILY_COUNTER("gatehouse_credcache_hits_total",
        "Basic credentials found in the verified-credential cache.",
        GH_MV_CREDCACHE_HITS, 0, 0),
    [GH_METRIC_CREDCACHE_MISSES] = GH_FAMILY_COUNTER("gatehouse_credcache_misses_total",
        "Basic credentials not in the verified-credential cache.",
        GH_MV_CREDCACHE_MISSES, 0, 0),
    [GH_METRIC_STORE_OPERATION] = { "gatehouse_store_operation_seconds",
        "Time of one operation on the store, by backend.", GH_HISTOGRAM, 1,
        { GH_LABEL_BACKEND }, gh_store_buckets, GH_METRICS_STORE_BUCKETS,
        GH_MV_STORE_OPERATION, 0 },
    [GH_METRIC_UPSTREAM_RESPONSES] = GH_FAMILY_COUNTER("gatehouse_upstream_responses_total",
        "Answers of the upstream (gateway mode), by dialect and status class.",
        GH_MV_UPSTREAM_RESPONSES, 2, GH_LABEL_DIALECT, GH_LABEL_CODE),
    [GH_METRIC_UPSTREAM_FAILURES] = GH_FAMILY_COUNTER("gatehouse_upstream_failures_total",
        "Requests passed on that got no answer from the upstream (gateway mode): no "
        "connection, a timeout, a broken answer.", GH_MV_UPSTREAM_FAILURES, 1,
        GH_LABEL_DIALECT),
};

/* Series of f: the product of its labels' counts. */
static unsigned gh_family_series(const gh_family *f)
{
    unsigned n = 1;

    for (unsigned i = 0; i < f->nlabels; i++)
        n *= gh_labels[f->labels[i]].count;
    return n;
}

/* Values of f in a slot. */
static unsigned gh_family_values(const gh_family *f)
{
    if (f->base < 0)
        return 0;
    if (f->type == GH_HISTOGRAM)
        return gh_family_series(f) * GH_MV_HIST(f->nbuckets);
    return f->type == GH_GAUGE ? f->nvalues : gh_family_series(f);
}

/* A fingerprint of the table: the families' names, places and sizes. */
static uint32_t gh_metrics_layout(void)
{
    uint32_t h = 2166136261u;   /* FNV-1a */

    for (unsigned i = 0; i < GH_METRIC_FAMILIES; i++) {
        const gh_family *f = &gh_families[i];
        char             text[128];
        int              n = snprintf(text, sizeof(text), "%s %d %u", f->name, f->base,
                                      gh_family_values(f));

        for (int j = 0; j < n && j < (int)sizeof(text); j++)
            h = (h ^ (unsigned char)text[j]) * 16777619u;
    }
    return h;
}

/* Do the table's families follow each other in the slot, as metrics.h's
 * GH_MV_ constants place them, and fill it exactly? */
static bool gh_metrics_table_ok(void)
{
    unsigned next = 0;

    for (unsigned i = 0; i < GH_METRIC_FAMILIES; i++) {
        const gh_family *f = &gh_families[i];

        if (f->base < 0)
            continue;
        if ((unsigned)f->base != next)
            return false;
        next += gh_family_values(f);
    }
    return next == GH_MV_VALUES;
}

/* ---- the block ---- */

size_t gh_metrics_size(unsigned nslots)
{
    if (nslots == 0 || nslots > GH_METRICS_SLOTS_MAX)
        return 0;
    return sizeof(struct gh_metrics_block) + (size_t)nslots * GH_METRICS_STRIDE * 8;
}

gh_metrics_block *gh_metrics_format(void *mem, size_t size, unsigned nslots)
{
    gh_metrics_block *b = mem;
    size_t            need = gh_metrics_size(nslots);

    if (mem == NULL || need == 0 || size < need || (uintptr_t)mem % GH_METRICS_LINE != 0
        || !gh_metrics_table_ok())
        return NULL;
    memset(mem, 0, need);
    b->magic = GH_METRICS_MAGIC;
    b->layout = gh_metrics_layout();
    b->nslots = nslots;
    b->stride = GH_METRICS_STRIDE;
    return b;
}

gh_metrics_block *gh_metrics_attach(void *mem, size_t size, unsigned nslots)
{
    gh_metrics_block *b = mem;
    size_t            need = gh_metrics_size(nslots);

    if (mem == NULL || need == 0 || size < need || (uintptr_t)mem % GH_METRICS_LINE != 0
        || b->magic != GH_METRICS_MAGIC || b->layout != gh_metrics_layout()
        || b->nslots != nslots || b->stride != GH_METRICS_STRIDE)
        return NULL;
    return b;
}

unsigned gh_metrics_slots(const gh_metrics_block *b)
{
    return b != NULL ? b->nslots : 0;
}

/* Whether process pid is there (another user's counts: a pid reused). */
static bool gh_metrics_lives(uint64_t pid)
{
    return pid <= (uint64_t)INT32_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The gauges counted up and down in slot: to zero. */
static void gh_metrics_zero_gauges(uint64_t *slot)
{
    for (unsigned i = 0; i < GH_METRIC_FAMILIES; i++) {
        const gh_family *f = &gh_families[i];

        for (unsigned v = 0; f->type == GH_GAUGE && f->base >= 0 && v < f->nvalues; v++)
            __atomic_store_n(&slot[f->base + (int)v], 0, __ATOMIC_RELAXED);
    }
}

bool gh_metrics_bind(gh_metrics_block *b, unsigned i)
{
    uint64_t *slot, before;

    if (b == NULL || i >= b->nslots) {
        gh_metrics_self = NULL;
        return false;
    }
    slot = &b->values[(size_t)i * b->stride];
    before = __atomic_exchange_n(&slot[GH_METRICS_BINDER], (uint64_t)getpid(),
                                 __ATOMIC_RELAXED);
    if (before != 0 && before != (uint64_t)getpid() && !gh_metrics_lives(before))
        gh_metrics_zero_gauges(slot);
    gh_metrics_self = slot;
    return true;
}

uint64_t gh_metrics_value(const gh_metrics_block *b, unsigned i, unsigned index)
{
    if (b == NULL || i >= b->nslots || index >= GH_MV_VALUES)
        return 0;
    return __atomic_load_n(&b->values[(size_t)i * b->stride + index], __ATOMIC_RELAXED);
}

/* ---- histograms ---- */

uint64_t gh_metrics_now_ns(void)
{
    struct timespec ts;

    if (gh_metrics_self == NULL || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One observation of ns into the series whose values start at base. */
static void gh_metrics_observe(unsigned base, const gh_bucket *buckets, unsigned nbuckets,
                               uint64_t ns)
{
    unsigned i = 0;

    while (i < nbuckets && ns > buckets[i].ns)
        i++;
    gh_metrics_add(base + i, 1);
    gh_metrics_add(base + nbuckets + 1, ns);
}

static uint64_t gh_metrics_since(uint64_t start_ns)
{
    uint64_t now = gh_metrics_now_ns();

    return now > start_ns ? now - start_ns : 0;
}

void gh_metrics_hash_wait_ns(uint64_t ns)
{
    if (gh_metrics_self == NULL)
        return;
    gh_metrics_observe(GH_MV_HASH_WAIT, gh_hash_wait_buckets, GH_METRICS_HASH_WAIT_BUCKETS, ns);
}

void gh_metrics_hash_wait(uint64_t start_ns)
{
    if (start_ns != 0)
        gh_metrics_hash_wait_ns(gh_metrics_since(start_ns));
}

void gh_metrics_store_operation_ns(gh_metric_backend backend, uint64_t ns)
{
    if (gh_metrics_self == NULL)
        return;
    gh_metrics_observe(GH_MV_STORE_OPERATION
                       + ((unsigned)backend % GH_METRIC_BACKENDS)
                         * GH_MV_HIST(GH_METRICS_STORE_BUCKETS),
                       gh_store_buckets, GH_METRICS_STORE_BUCKETS, ns);
}

void gh_metrics_store_operation(gh_metric_backend backend, uint64_t start_ns)
{
    if (start_ns != 0)
        gh_metrics_store_operation_ns(backend, gh_metrics_since(start_ns));
}

/* ---- the text exposition format ---- */

typedef struct {
    char   *buf;
    size_t  len, used;
    bool    full;
} gh_text;

__attribute__((format(printf, 2, 3)))
static void gh_text_put(gh_text *t, const char *fmt, ...)
{
    va_list ap;
    int     n;

    if (t->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->len - t->used) {
        t->full = true;
        return;
    }
    t->used += (size_t)n;
}

/* Value index of a series (labels' values in v) within its family. */
static unsigned gh_series_index(const gh_family *f, const unsigned *v)
{
    unsigned idx = 0;

    for (unsigned i = 0; i < f->nlabels; i++)
        idx = idx * gh_labels[f->labels[i]].count + v[i];
    return idx;
}

/* The sum over every slot of value index. */
static uint64_t gh_metrics_sum(const gh_metrics_block *b, unsigned index)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < b->nslots; i++)
        sum += __atomic_load_n(&b->values[(size_t)i * b->stride + index], __ATOMIC_RELAXED);
    return sum;
}

/* The values label l takes in the text, in order: how many; the i-th is
 * gh_label_value(l, s, i). */
static unsigned gh_label_rendered(gh_label_kind l, const gh_metrics_scrape *s)
{
    if (l == GH_LABEL_DIALECT)
        return (unsigned)s->ndialects;
    if (l == GH_LABEL_DIALECT_ANY)
        return (unsigned)s->ndialects + 1;
    return gh_labels[l].count;
}

/* The i-th value label l takes in the text: its index in the layout in
 * *index, its name returned. */
static const char *gh_label_value(gh_label_kind l, const gh_metrics_scrape *s, unsigned i,
                                  unsigned *index)
{
    *index = i;
    if (l == GH_LABEL_DIALECT || l == GH_LABEL_DIALECT_ANY) {
        if (i == s->ndialects) {
            *index = GH_METRICS_NO_DIALECT;
            return "none";
        }
        return s->dialects[i];
    }
    return gh_labels[l].values[i];
}

/* The labels of the series at the odometer pos, as `a="x",b="y"` (no
 * braces; empty without labels); their layout indexes in v. */
static void gh_series_labels(const gh_family *f, const gh_metrics_scrape *s,
                             const unsigned *pos, unsigned *v, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < f->nlabels && used < outlen; i++) {
        const char *name = gh_label_value(f->labels[i], s, pos[i], &v[i]);
        int         n = snprintf(out + used, outlen - used, "%s%s=\"%s\"", i > 0 ? "," : "",
                                 gh_labels[f->labels[i]].name, name);

        used += n > 0 ? (size_t)n : 0;
    }
}

/* Move the odometer pos over f's labels one step; false past the last. */
static bool gh_series_next(const gh_family *f, const gh_metrics_scrape *s, unsigned *pos)
{
    for (unsigned i = f->nlabels; i-- > 0;) {
        if (++pos[i] < gh_label_rendered(f->labels[i], s))
            return true;
        pos[i] = 0;
    }
    return false;
}

/* ns as exact decimal seconds, without trailing zeros. */
static void gh_seconds(uint64_t ns, char *out, size_t outlen)
{
    size_t n = (size_t)snprintf(out, outlen, "%" PRIu64 ".%09" PRIu64,
                                ns / 1000000000u, ns % 1000000000u);

    while (n > 0 && n < outlen && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && n < outlen && out[n - 1] == '.')
        out[--n] = '\0';
}

static void gh_render_histogram(gh_text *t, const gh_metrics_block *b, const gh_family *f,
                                unsigned first, const char *labels)
{
    const char *sep = labels[0] != '\0' ? "," : "";
    uint64_t    count = 0;
    char        sum[32];

    for (unsigned i = 0; i <= f->nbuckets; i++) {
        count += gh_metrics_sum(b, first + i);
        gh_text_put(t, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", f->name, labels, sep,
                    i < f->nbuckets ? f->buckets[i].le : "+Inf", count);
    }
    gh_seconds(gh_metrics_sum(b, first + f->nbuckets + 1), sum, sizeof(sum));
    if (labels[0] != '\0') {
        gh_text_put(t, "%s_sum{%s} %s\n%s_count{%s} %" PRIu64 "\n", f->name, labels, sum,
                    f->name, labels, count);
    } else {
        gh_text_put(t, "%s_sum %s\n%s_count %" PRIu64 "\n", f->name, sum, f->name, count);
    }
}

static void gh_render_family(gh_text *t, const gh_metrics_block *b, const gh_family *f,
                             const gh_metrics_scrape *s)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };
    unsigned pos[3] = { 0, 0, 0 }, v[3] = { 0, 0, 0 };
    char     labels[3 * (GH_METRICS_LABEL_MAX + 16)];

    gh_text_put(t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, types[f->type]);
    if (f->base < 0) {
        gh_text_put(t, "%s %" PRId64 "\n", f->name, s->sessions);
        return;
    }
    if (f->type == GH_GAUGE) {
        gh_text_put(t, "%s %" PRId64 "\n", f->name, (int64_t)gh_metrics_sum(b, (unsigned)f->base));
        return;
    }
    for (unsigned i = 0; i < f->nlabels; i++)
        if (gh_label_rendered(f->labels[i], s) == 0)
            return;
    do {
        gh_series_labels(f, s, pos, v, labels, sizeof(labels));
        if (f->type == GH_HISTOGRAM) {
            gh_render_histogram(t, b, f, (unsigned)f->base
                                + gh_series_index(f, v) * GH_MV_HIST(f->nbuckets), labels);
        } else if (labels[0] != '\0') {
            gh_text_put(t, "%s{%s} %" PRIu64 "\n", f->name, labels,
                        gh_metrics_sum(b, (unsigned)f->base + gh_series_index(f, v)));
        } else {
            gh_text_put(t, "%s %" PRIu64 "\n", f->name, gh_metrics_sum(b, (unsigned)f->base));
        }
    } while (gh_series_next(f, s, pos));
}

/* Dialect names a label value may hold as they are: 1 to
 * GH_METRICS_LABEL_MAX bytes of [a-z0-9_], nothing to escape. */
static bool gh_scrape_ok(const gh_metrics_scrape *s)
{
    if (s == NULL || s->ndialects > GH_METRICS_NO_DIALECT
        || (s->ndialects > 0 && s->dialects == NULL))
        return false;
    for (size_t i = 0; i < s->ndialects; i++) {
        size_t n = s->dialects[i] != NULL ? strlen(s->dialects[i]) : 0;

        if (n == 0 || n > GH_METRICS_LABEL_MAX
            || strspn(s->dialects[i], "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
            return false;
    }
    return true;
}

size_t gh_metrics_render_bound(const gh_metrics_scrape *s)
{
    size_t bytes = 1;

    for (unsigned i = 0; i < GH_METRIC_FAMILIES; i++) {
        const gh_family *f = &gh_families[i];
        size_t           lines = 1;

        for (unsigned j = 0; j < f->nlabels; j++)
            lines *= s != NULL ? gh_label_rendered(f->labels[j], s) : GH_METRICS_DIALECTS;
        if (f->type == GH_HISTOGRAM)
            lines *= f->nbuckets + 3;
        bytes += 2 * (strlen(f->name) + 16) + strlen(f->help) + lines * GH_METRICS_LINE_MAX;
    }
    return bytes;
}

bool gh_metrics_render(const gh_metrics_block *b, const gh_metrics_scrape *s, char *buf,
                       size_t len, size_t *used)
{
    gh_text t = { buf, len, 0, false };

    *used = 0;
    if (b == NULL || buf == NULL || len == 0 || !gh_scrape_ok(s))
        return false;
    buf[0] = '\0';
    for (unsigned i = 0; i < GH_METRIC_FAMILIES; i++)
        gh_render_family(&t, b, &gh_families[i], s);
    *used = t.used;
    return !t.full;
}
