/*
 * shared_fixture.h: a shared block for the unit tests of shared*.c, over
 * malloc'd memory filled with garbage first (the format must not depend on
 * zeroed memory), with an error-checking pthread mutex as its lock; and
 * session records made from a number, with digests from a xorshift stream.
 * Included once per test program (static functions; cmocka asserts).
 */
#ifndef GH_TEST_SHARED_FIXTURE_H
#define GH_TEST_SHARED_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "../../src/core/shared.h"
#include "mutex_lock.h"

/* In a test body with block *b: add a session (must succeed), find one. */
#define ADD(rec, role) \
    assert_int_equal(gh_shared_session_add(b->sh, &(rec), (role), false), GH_SHARED_OK)
#define FIND(rec, now, want) \
    assert_int_equal(gh_shared_session_find(b->sh, (rec).digest, (now), NULL, NULL), (want))

typedef struct {
    pthread_mutex_t mutex;
    void           *mem;
    gh_shared      *sh;
} block;

static block *block_new(uint32_t sessions, uint32_t creds, uint32_t throttles)
{
    gh_shared_limits l = { sessions, creds, throttles };
    pthread_mutexattr_t attr;
    block *b = calloc(1, sizeof(*b));

    assert_non_null(b);
    /* error-checking: a nested lock or a stray unlock aborts the test */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&b->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    b->mem = malloc(gh_shared_size(&l));
    assert_non_null(b->mem);
    /* garbage first: format must not depend on zeroed memory */
    memset(b->mem, 0xa5, gh_shared_size(&l));
    b->sh = gh_shared_format(b->mem, &l, test_mutex_shared_lock(&b->mutex));
    assert_non_null(b->sh);
    return b;
}

static void block_free(block *b)
{
    gh_shared_detach(b->sh);
    pthread_mutex_destroy(&b->mutex);
    free(b->mem);
    free(b);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;   /* xorshift64 */

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Session n of account acct: id and digest derived from n (the tail bytes
 * make every digest unique even when the hashed head is forced equal). */
static gh_session_record make_rec(uint32_t n, int64_t acct, int64_t last_used, uint64_t *rng)
{
    gh_session_record r;

    memset(&r, 0, sizeof(r));
    snprintf(r.id, sizeof(r.id), "%032x", n);
    for (size_t i = 0; i < GH_DIGEST_LEN; i += 8) {
        uint64_t v = rng != NULL ? rng_next(rng) : 0x0123456789abcdefULL;

        memcpy(r.digest + i, &v, 8);
    }
    memcpy(r.digest + GH_DIGEST_LEN - 4, &n, 4);
    r.account_id = acct;
    snprintf(r.user, sizeof(r.user), "user%lld", (long long)acct);
    snprintf(r.dialect, sizeof(r.dialect), "redfish");
    r.created = r.last_used = last_used;
    snprintf(r.client_addr, sizeof(r.client_addr), "192.0.2.1");
    return r;
}

#endif
