/*
 * metrics.h: what gatehouse counts, and the Prometheus text that shows it.
 *
 * Every metric family is declared once, in metrics.c's table (name, help,
 * type, labels, histogram buckets); the names are those of docs and tests.
 * Each label takes a fixed set of values, so every family has a fixed number
 * of series, and every series a fixed place in a slot: an array of 64-bit
 * values. A block holds one slot per nginx worker, each on cache lines of
 * its own, with no pointer inside, so the caller may place it in shared
 * memory and every process sees the same bytes wherever it maps them.
 *
 * Counting is the hot path: a process binds the slot it owns once
 * (gh_metrics_bind) and every call below adds to that slot with one relaxed
 * atomic add: no lock, no system call, no contention with other workers
 * (their slots are on other cache lines). The atomic makes the pool threads
 * of the same worker, and an old worker still finishing its requests after
 * a reload (the new one takes the same slot), count into one slot safely.
 * A process that binds no slot (the command line, nginx's master) counts
 * nothing: each call tests one pointer and returns.
 *
 * Rendering sums each value over all slots and writes the text exposition
 * format (HELP, TYPE, the series; a histogram's buckets cumulative up to
 * le="+Inf", then _sum and _count). Label values that are dialects are
 * indexes into the caller's table of dialects; their names come with the
 * scrape (gh_metrics_scrape), so the core names none.
 */
#ifndef GH_METRICS_H
#define GH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- label values ---- */

/* The dialect label: an index into the caller's table of dialects (at most
 * GH_METRICS_DIALECTS - 1 of them), or GH_METRICS_NO_DIALECT for a request
 * whose path no dialect owns (rendered "none", in gatehouse_requests_total
 * only). An index out of range counts as GH_METRICS_NO_DIALECT. */
#define GH_METRICS_DIALECTS   8
#define GH_METRICS_NO_DIALECT (GH_METRICS_DIALECTS - 1)

/* The credential a request carried (label credential). */
typedef enum {
    GH_METRIC_CRED_NONE = 0,        /* "none" */
    GH_METRIC_CRED_BASIC,           /* "basic" */
    GH_METRIC_CRED_BEARER,          /* "bearer": an OAuth bearer token */
    GH_METRIC_CRED_TOKEN,           /* "token": a session token, in a header or a cookie */
    GH_METRIC_CRED_MALFORMED,       /* "malformed": present but unreadable */
    GH_METRIC_CREDS
} gh_metric_cred;

/* An HTTP status as its class (label code): "1xx" .. "5xx". */
#define GH_METRIC_CODES 5
static inline unsigned gh_metric_code(int status)
{
    return status < 100 ? 4u : status >= 600 ? 4u : (unsigned)(status / 100 - 1);
}

/* What a login came to (label result of gatehouse_logins_total). */
typedef enum {
    GH_METRIC_LOGIN_SUCCESS = 0,      /* "success" */
    GH_METRIC_LOGIN_WRONG_PASSWORD,   /* "wrong_password" */
    GH_METRIC_LOGIN_UNKNOWN_USER,     /* "unknown_user" */
    GH_METRIC_LOGIN_LOCKED,           /* "locked": a lockout or the administrator's lock */
    GH_METRIC_LOGIN_DISABLED,         /* "disabled" */
    GH_METRIC_LOGIN_LIMIT,            /* "limit": a session limit refused it */
    GH_METRIC_LOGIN_THROTTLED,        /* "throttled": the source waits, nothing checked */
    GH_METRIC_LOGIN_UNAVAILABLE,      /* "unavailable": the store or directory failed */
    GH_METRIC_LOGINS
} gh_metric_login;

/* Why a session ended (label reason of gatehouse_sessions_ended_total). */
typedef enum {
    GH_METRIC_END_LOGOUT = 0,         /* "logout" */
    GH_METRIC_END_IDLE,               /* "idle" */
    GH_METRIC_END_LIFETIME,           /* "lifetime" */
    GH_METRIC_END_REVOKED,            /* "revoked": the command line, an admin, the account */
    GH_METRIC_END_LIMIT,              /* "limit": pushed out by a session limit */
    GH_METRIC_ENDS
} gh_metric_end;

/* Which store answered (label backend of gatehouse_store_operation_seconds). */
typedef enum {
    GH_METRIC_BACKEND_SQLITE = 0,     /* "sqlite" */
    GH_METRIC_BACKEND_REDIS,          /* "redis" */
    GH_METRIC_BACKENDS
} gh_metric_backend;

/* Histogram buckets (their bounds are metrics.c's table), without +Inf. */
#define GH_METRICS_HASH_WAIT_BUCKETS 13   /* 1 ms .. 10 s */
#define GH_METRICS_STORE_BUCKETS     15   /* 100 us .. 5 s */

/* ---- the families ---- */

typedef enum {
    GH_METRIC_REQUESTS = 0,           /* gatehouse_requests_total{dialect,credential,code} */
    GH_METRIC_LOGINS_TOTAL,           /* gatehouse_logins_total{dialect,result} */
    GH_METRIC_LOCKOUTS,               /* gatehouse_lockouts_total */
    GH_METRIC_SESSIONS,               /* gatehouse_sessions (gauge, read at scrape) */
    GH_METRIC_SESSIONS_CREATED,       /* gatehouse_sessions_created_total{dialect} */
    GH_METRIC_SESSIONS_ENDED,         /* gatehouse_sessions_ended_total{reason} */
    GH_METRIC_HASH_QUEUE_DEPTH,       /* gatehouse_hash_queue_depth (gauge, summed) */
    GH_METRIC_HASH_WAIT,              /* gatehouse_hash_wait_seconds (histogram) */
    GH_METRIC_CREDCACHE_HITS,         /* gatehouse_credcache_hits_total */
    GH_METRIC_CREDCACHE_MISSES,       /* gatehouse_credcache_misses_total */
    GH_METRIC_STORE_OPERATION,        /* gatehouse_store_operation_seconds{backend} (histogram) */
    GH_METRIC_UPSTREAM_RESPONSES,     /* gatehouse_upstream_responses_total{dialect,code} */
    GH_METRIC_UPSTREAM_FAILURES,      /* gatehouse_upstream_failures_total{dialect} */
    GH_METRIC_FAMILIES
} gh_metric_family;

/* Where each family's values start in a slot, and how many it has (a
 * histogram's series: its buckets, +Inf, then the sum in nanoseconds; its
 * count is the sum of its buckets). metrics.c checks these against its table. */
#define GH_MV_HIST(buckets) ((buckets) + 2)
enum {
    GH_MV_REQUESTS = 0,
    GH_MV_LOGINS = GH_MV_REQUESTS + GH_METRICS_DIALECTS * GH_METRIC_CREDS * GH_METRIC_CODES,
    GH_MV_LOCKOUTS = GH_MV_LOGINS + GH_METRICS_DIALECTS * GH_METRIC_LOGINS,
    GH_MV_SESSIONS_CREATED = GH_MV_LOCKOUTS + 1,
    GH_MV_SESSIONS_ENDED = GH_MV_SESSIONS_CREATED + GH_METRICS_DIALECTS,
    GH_MV_HASH_QUEUE = GH_MV_SESSIONS_ENDED + GH_METRIC_ENDS,
    GH_MV_HASH_WAIT = GH_MV_HASH_QUEUE + 1,
    GH_MV_CREDCACHE_HITS = GH_MV_HASH_WAIT + GH_MV_HIST(GH_METRICS_HASH_WAIT_BUCKETS),
    GH_MV_CREDCACHE_MISSES = GH_MV_CREDCACHE_HITS + 1,
    GH_MV_STORE_OPERATION = GH_MV_CREDCACHE_MISSES + 1,
    GH_MV_UPSTREAM_RESPONSES = GH_MV_STORE_OPERATION
                               + GH_METRIC_BACKENDS * GH_MV_HIST(GH_METRICS_STORE_BUCKETS),
    GH_MV_UPSTREAM_FAILURES = GH_MV_UPSTREAM_RESPONSES + GH_METRICS_DIALECTS * GH_METRIC_CODES,
    GH_MV_VALUES = GH_MV_UPSTREAM_FAILURES + GH_METRICS_DIALECTS
};

/* ---- the block of slots ---- */

typedef struct gh_metrics_block gh_metrics_block;

/* Bytes of a block of nslots slots (a multiple of 64); 0 for nslots 0 or
 * too many (more than 4096). */
size_t gh_metrics_size(unsigned nslots);

/* Lay a zeroed block of nslots slots out in mem (size bytes, at least
 * gh_metrics_size(nslots), aligned to 64). The block is mem; NULL when it
 * does not fit or mem is misaligned. */
gh_metrics_block *gh_metrics_format(void *mem, size_t size, unsigned nslots);

/* mem as a block formatted earlier by this same build with nslots slots (a
 * reload keeps the counts), or NULL: then format it anew. */
gh_metrics_block *gh_metrics_attach(void *mem, size_t size, unsigned nslots);

/* Slots in b. */
unsigned gh_metrics_slots(const gh_metrics_block *b);

/* This process counts into slot i of b from now on (every thread of it);
 * false, counting nothing, when i is out of range. b NULL: count nothing.
 * When the process that bound slot i last is gone (a worker that died, maybe
 * with hash tasks queued), the slot's gauges start again from zero; its
 * counters keep what they counted. */
bool gh_metrics_bind(gh_metrics_block *b, unsigned i);

/* One value of slot i, as it stands (tests). */
uint64_t gh_metrics_value(const gh_metrics_block *b, unsigned i, unsigned index);

/* ---- counting: into the bound slot, nothing when none is ---- */

/* The bound slot's values, NULL when none: read by the inline calls below. */
extern uint64_t *gh_metrics_self;

static inline void gh_metrics_add(unsigned index, uint64_t n)
{
    uint64_t *self = gh_metrics_self;

    if (self != NULL && index < GH_MV_VALUES)
        __atomic_fetch_add(&self[index], n, __ATOMIC_RELAXED);
}

static inline unsigned gh_metrics_dialect(unsigned dialect)
{
    return dialect < GH_METRICS_NO_DIALECT ? dialect : GH_METRICS_NO_DIALECT;
}

/* A request the module answered: its dialect, credential and status. */
static inline void gh_metrics_request(unsigned dialect, gh_metric_cred cred, int status)
{
    gh_metrics_add(GH_MV_REQUESTS + (gh_metrics_dialect(dialect) * GH_METRIC_CREDS
                                     + (unsigned)cred % GH_METRIC_CREDS) * GH_METRIC_CODES
                   + gh_metric_code(status), 1);
}

static inline void gh_metrics_login(unsigned dialect, gh_metric_login result)
{
    gh_metrics_add(GH_MV_LOGINS + gh_metrics_dialect(dialect) * GH_METRIC_LOGINS
                   + (unsigned)result % GH_METRIC_LOGINS, 1);
}

static inline void gh_metrics_lockout(void)
{
    gh_metrics_add(GH_MV_LOCKOUTS, 1);
}

static inline void gh_metrics_session_created(unsigned dialect)
{
    gh_metrics_add(GH_MV_SESSIONS_CREATED + gh_metrics_dialect(dialect), 1);
}

static inline void gh_metrics_sessions_ended(gh_metric_end reason, uint64_t n)
{
    gh_metrics_add(GH_MV_SESSIONS_ENDED + (unsigned)reason % GH_METRIC_ENDS, n);
}

/* A hash task queued (+1) or taken off the queue by a thread (-1). */
static inline void gh_metrics_hash_queue(int delta)
{
    gh_metrics_add(GH_MV_HASH_QUEUE, (uint64_t)(int64_t)delta);
}

static inline void gh_metrics_credcache(bool hit)
{
    gh_metrics_add(hit ? GH_MV_CREDCACHE_HITS : GH_MV_CREDCACHE_MISSES, 1);
}

static inline void gh_metrics_upstream_response(unsigned dialect, int status)
{
    gh_metrics_add(GH_MV_UPSTREAM_RESPONSES + gh_metrics_dialect(dialect) * GH_METRIC_CODES
                   + gh_metric_code(status), 1);
}

static inline void gh_metrics_upstream_failure(unsigned dialect)
{
    gh_metrics_add(GH_MV_UPSTREAM_FAILURES + gh_metrics_dialect(dialect), 1);
}

/* Durations: a start taken with gh_metrics_now_ns, observed with the calls
 * below. gh_metrics_now_ns is 0, reading no clock, when no slot is bound;
 * an observation with a start of 0 is dropped. */
uint64_t gh_metrics_now_ns(void);
/* How long a login waited for a hash thread: since start_ns, or ns. */
void gh_metrics_hash_wait(uint64_t start_ns);
void gh_metrics_hash_wait_ns(uint64_t ns);
/* How long one store operation took on backend: since start_ns, or ns. */
void gh_metrics_store_operation(gh_metric_backend backend, uint64_t start_ns);
void gh_metrics_store_operation_ns(gh_metric_backend backend, uint64_t ns);

/* ---- rendering ---- */

/* What the caller knows at scrape time. */
typedef struct {
    const char *const *dialects;   /* names of dialect indexes 0 .. ndialects-1 */
    size_t             ndialects;  /* at most GH_METRICS_NO_DIALECT */
    int64_t            sessions;   /* gatehouse_sessions: live sessions now */
} gh_metrics_scrape;

/* Bytes that always hold gh_metrics_render's text for s. */
size_t gh_metrics_render_bound(const gh_metrics_scrape *s);

/* The text exposition format of b (every slot summed) and s into buf (len
 * bytes, NUL-terminated): the length written in *used; false when it did
 * not fit (then buf holds a cut text) or s is unusable. */
bool gh_metrics_render(const gh_metrics_block *b, const gh_metrics_scrape *s, char *buf,
                       size_t len, size_t *used);

#endif
