/*
 * test_shared.c: the shared block (shared.h) over malloc'd memory with an
 * error-checking pthread mutex as its lock: format and attach (a second
 * handle sees the same data), load state and the change sequence, settings;
 * sessions found by digest (principal, last-used refresh, touched collected
 * once), the touched list (batches in the order of use, touches during a
 * collection, removal and expiry of touched sessions, reused nodes), idle
 * expiry by the live SessionTimeout and by a session's own timeout, absolute
 * expiry, removal by id and by account, account updates (and the principal
 * read by id), a full pool and
 * reuse of freed nodes, the sliced expiry sweep, the load's add (no lookup
 * unless a session came in another way, a full pool), the store's expiry
 * position, 10k random and thousands of colliding digests; the credential
 * cache (expiry, drop, eviction) and the per-source throttle (window, delay,
 * eviction); memory: the format touches no node, and sessions and walks
 * touch only the nodes handed out; and four threads adding, finding and
 * removing at once.
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
#include <unistd.h>

#include "../../src/core/shared.h"
#include "shared_fixture.h"

static void test_format_attach(void **state)
{
    gh_shared_limits small = { 10, 10, 10 }, big = { 1000, 10, 10 };
    block *b = block_new(16, 8, 8);
    gh_session_record r = make_rec(1, 42, 1000, NULL), got;
    gh_principal who;
    gh_shared *other;
    uint64_t zero[512] = { 0 };

    (void)state;
    assert_true(gh_shared_size(&big) > gh_shared_size(&small));
    assert_string_equal(gh_setting_key(GH_SET_SESSION_TIMEOUT), "session_timeout");
    assert_string_equal(gh_setting_key(GH_SET_LOCKOUT_THRESHOLD), "lockout_threshold");
    assert_null(gh_setting_key(GH_SET_COUNT));
    for (int s = 0; s < GH_SET_COUNT; s++)
        assert_int_equal(gh_shared_setting(b->sh, s), -1);
    assert_int_equal(gh_shared_setting(b->sh, GH_SET_COUNT), -1);
    assert_null(gh_shared_attach(zero, (gh_shared_lock){ 0 }));

    /* the load's parts: split at the first claimer's last rowid, together
     * every rowid once, the last one open-ended; loaded when all are done,
     * at the lowest sequence */
    assert_int_equal(gh_shared_change_seq(b->sh), -1);
    for (int64_t p = 0, after, upto, prev = INT64_MIN; p < GH_SHARED_LOAD_PARTS; p++) {
        assert_true(gh_shared_load_claim(b->sh, p == 0 ? 800 : 5, &after, &upto));
        assert_int_equal(after, prev);
        assert_true(upto > after);
        if (p + 1 < GH_SHARED_LOAD_PARTS) {
            int64_t from = p == 0 ? 0 : after;      /* part 0 starts at INT64_MIN */

            assert_true(upto <= 800 && upto - from <= 800 / GH_SHARED_LOAD_PARTS + 1);
        } else {
            assert_int_equal(upto, INT64_MAX);
        }
        prev = upto;
    }
    assert_false(gh_shared_load_claim(b->sh, 800, &(int64_t){ 0 }, &(int64_t){ 0 }));
    for (int p = 0; p < GH_SHARED_LOAD_PARTS; p++) {
        assert_int_equal(gh_shared_change_seq(b->sh), -1);
        gh_shared_load_done(b->sh, p == 3 ? 5 : 9);
    }
    assert_int_equal(gh_shared_change_seq(b->sh), 5);
    assert_true(gh_shared_advance_seq(b->sh, 5, 7));
    assert_false(gh_shared_advance_seq(b->sh, 5, 9));
    assert_int_equal(gh_shared_change_seq(b->sh), 7);

    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 600);
    assert_int_equal(gh_shared_session_add(b->sh, &r, GH_ROLE_OPERATOR, true), GH_SHARED_OK);

    /* a second handle on the same memory sees everything */
    other = gh_shared_attach(b->mem, test_mutex_shared_lock(&b->mutex));
    assert_non_null(other);
    assert_int_equal(gh_shared_setting(other, GH_SET_SESSION_TIMEOUT), 600);
    assert_int_equal(gh_shared_change_seq(other), 7);
    assert_false(gh_shared_load_claim(other, 0, &(int64_t){ 0 }, &(int64_t){ 0 }));
    assert_int_equal(gh_shared_session_count(other), 1);
    assert_int_equal(gh_shared_session_find(other, r.digest, 1001, &who, &got), GH_SHARED_OK);
    assert_int_equal(who.account_id, 42);
    assert_int_equal(who.role, GH_ROLE_OPERATOR);
    assert_true(who.password_change_required);
    /* the refresh made through one handle shows through the other */
    assert_int_equal(gh_shared_session_get(b->sh, r.id, &got), GH_SHARED_OK);
    assert_int_equal(got.last_used, 1001);
    gh_shared_detach(other);
    block_free(b);
}

/* Pages of [mem, mem + size) in memory now. */
static size_t resident_pages(void *mem, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (size + page - 1) / page, n = 0;
    unsigned char *vec = malloc(pages);

    assert_non_null(vec);
    assert_int_equal(mincore(mem, size, vec), 0);
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    free(vec);
    return n;
}

/* Shared anonymous memory, as nginx's zones are: a page becomes resident
 * when first touched, so mincore shows what the block has touched. */
static void test_memory_touched(void **state)
{
    enum { NODES = 4096, USED = 100 };
    gh_shared_limits l = { NODES, 8, 8 }, none = { 0, 8, 8 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE), size = gh_shared_size(&l);
    /* one session node, from the sizes (each node also has two bucket heads) */
    size_t node = (size - gh_shared_size(&none)) / NODES - 2 * sizeof(uint32_t);
    size_t node_pages = NODES * node / page, after_format;
    size_t events = 2 * USED * sizeof(gh_shared_event) / page + 2;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    gh_session_record r[USED], expired[USED];
    gh_shared *sh;
    uint64_t rng = 99;

    (void)state;
    assert_true(mem != MAP_FAILED);
    assert_int_equal(resident_pages(mem, size), 0);
    sh = gh_shared_format(mem, &l, (gh_shared_lock){ 0 });
    assert_non_null(sh);
    /* the header and the buckets, no node: a tenth of the pool at most */
    after_format = resident_pages(mem, size);
    assert_true(after_format > 0 && after_format < node_pages / 10);
    for (uint32_t i = 0; i < USED; i++) {
        r[i] = make_rec(i, 1, 1000, &rng);
        assert_int_equal(gh_shared_session_add(sh, &r[i], GH_ROLE_OPERATOR, false),
                         GH_SHARED_OK);
    }
    /* sessions take nodes in order: only the pages those nodes lie on, and
     * those of the event ring's slots written (an add and a removal each) */
    assert_true(resident_pages(mem, size) <= after_format + USED * node / page + 2 + events);
    /* account-wide walks and the expiry sweep read only nodes handed out */
    gh_shared_session_update_account(sh, 7, GH_ROLE_READONLY, false);
    assert_int_equal(gh_shared_session_expire(sh, 1001, expired, USED), 0);
    assert_true(resident_pages(mem, size) <= after_format + USED * node / page + 2 + events);
    assert_int_equal(gh_shared_session_remove_account(sh, 1), USED);
    assert_true(resident_pages(mem, size) <= after_format + USED * node / page + 2 + events);
    gh_shared_detach(sh);
    assert_int_equal(munmap(mem, size), 0);
}

static void test_session_find(void **state)
{
    block *b = block_new(16, 8, 8);
    gh_session_record r = make_rec(1, 7, 1000, NULL), got, bogus = make_rec(2, 7, 0, NULL);
    gh_session_touch t[4];
    gh_principal who;

    (void)state;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 100);
    ADD(r, GH_ROLE_ADMINISTRATOR);
    /* the same id again (a load meeting a live session) adds nothing */
    ADD(r, GH_ROLE_ADMINISTRATOR);
    assert_int_equal(gh_shared_session_count(b->sh), 1);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 0);

    memset(&who, 0x55, sizeof(who));
    assert_int_equal(gh_shared_session_find(b->sh, r.digest, 1050, &who, &got), GH_SHARED_OK);
    assert_int_equal(who.account_id, 7);
    assert_string_equal(who.user, "user7");
    assert_int_equal(who.role, GH_ROLE_ADMINISTRATOR);
    assert_false(who.password_change_required);
    assert_string_equal(who.dialect, "redfish");
    assert_string_equal(who.session_id, r.id);
    assert_int_equal(got.last_used, 1050);
    assert_int_equal(got.created, 1000);
    assert_memory_equal(got.digest, r.digest, GH_DIGEST_LEN);

    /* touched once, collected once */
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 1);
    assert_string_equal(t[0].id, r.id);
    assert_int_equal(t[0].last_used, 1050);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 0);
    /* same second, and a clock that went back: no refresh, no touch */
    FIND(r, 1050, GH_SHARED_OK);
    assert_int_equal(gh_shared_session_find(b->sh, r.digest, 1040, NULL, &got), GH_SHARED_OK);
    assert_int_equal(got.last_used, 1050);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 0);
    /* get by id does not touch */
    assert_int_equal(gh_shared_session_get(b->sh, r.id, &got), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 0);

    assert_int_equal(gh_shared_session_find(b->sh, bogus.digest, 1050, &who, NULL),
                     GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_session_get(b->sh, bogus.id, NULL), GH_SHARED_NOT_FOUND);
    block_free(b);
}

/* Collect up to max touched sessions; they must be exactly want (indexes
 * into r), in that order, each with last-used time used. */
static void collect_expect(block *b, const gh_session_record *r, size_t max,
                           const int *want, size_t n, int64_t used)
{
    gh_session_touch t[16];

    assert_true(max <= 16);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, max), n);
    for (size_t k = 0; k < n; k++) {
        assert_string_equal(t[k].id, r[want[k]].id);
        assert_int_equal(t[k].last_used, used);
    }
}

static void test_touched_list(void **state)
{
    enum { N = 12 };
    block *b = block_new(N + 1, 1, 1);
    gh_session_record r[N + 1];
    gh_session_record out[N];
    gh_session_touch t[16];

    (void)state;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 100);
    for (uint32_t i = 0; i < N; i++) {
        r[i] = make_rec(i, i < 10 ? 1 : 2, 1000, NULL);
        ADD(r[i], GH_ROLE_OPERATOR);
    }
    /* touched in a scrambled order, some twice: batches follow the first use */
    for (int i = 0; i < 10; i++)
        FIND(r[(i * 3) % 10], 1010, GH_SHARED_OK);
    FIND(r[3], 1010, GH_SHARED_OK);
    FIND(r[0], 1010, GH_SHARED_OK);
    collect_expect(b, r, 4, (const int[]){ 0, 3, 6, 9 }, 4, 1010);
    /* used again during the collection: one taken already joins the tail
     * with its new time; one still waiting keeps its place */
    FIND(r[0], 1020, GH_SHARED_OK);
    FIND(r[2], 1020, GH_SHARED_OK);
    collect_expect(b, r, 1, (const int[]){ 2 }, 1, 1020);
    collect_expect(b, r, 4, (const int[]){ 5, 8, 1, 4 }, 4, 1010);
    collect_expect(b, r, 1, (const int[]){ 7 }, 1, 1010);
    collect_expect(b, r, 4, (const int[]){ 0 }, 1, 1020);
    collect_expect(b, r, 4, NULL, 0, 0);

    /* removal of touched sessions from the head, the middle and the tail,
     * by id, by account and by expiry at lookup: none is collected */
    for (int i = 0; i < N; i++)
        FIND(r[i], 1030, GH_SHARED_OK);
    assert_int_equal(gh_shared_session_remove(b->sh, r[0].id, NULL), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_remove(b->sh, r[5].id, NULL), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_remove_account(b->sh, 2), 2);     /* 10, 11: the tail */
    assert_int_equal(gh_shared_session_remove(b->sh, r[4].id, NULL), GH_SHARED_OK);
    r[4].idle_timeout = 5;
    r[4].last_used = 1028;
    ADD(r[4], GH_ROLE_OPERATOR);                   /* untouched, then at the tail */
    FIND(r[4], 1030, GH_SHARED_OK);
    FIND(r[4], 1035, GH_SHARED_EXPIRED);
    collect_expect(b, r, 16, (const int[]){ 1, 2, 3, 6, 7, 8, 9 }, 7, 1030);

    /* a freed touched node, reused: the new session is not touched */
    FIND(r[1], 1040, GH_SHARED_OK);
    assert_int_equal(gh_shared_session_remove(b->sh, r[1].id, NULL), GH_SHARED_OK);
    r[N] = make_rec(N, 3, 1040, NULL);
    ADD(r[N], GH_ROLE_OPERATOR);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 16), 0);

    /* expiry by the sweep takes touched ones off the list too; those left
     * are collected as before */
    FIND(r[2], 1050, GH_SHARED_OK);
    FIND(r[3], 1100, GH_SHARED_OK);
    FIND(r[6], 1050, GH_SHARED_OK);
    assert_int_equal(gh_shared_session_expire(b->sh, 1150, out, N), 6);  /* all but r[3] */
    collect_expect(b, r, 16, (const int[]){ 3 }, 1, 1100);
    assert_int_equal(gh_shared_session_count(b->sh), 1);
    block_free(b);
}

/* The load's add: batches under one lock hold, no lookup needed unless a
 * session was added the ordinary way before the load ended, a full pool. */
static void test_session_load(void **state)
{
    enum { N = 40 };
    block *b = block_new(N - 2, 1, 1);
    gh_shared_loaded_session s[N];
    gh_principal who;
    uint64_t rng = 7;

    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        s[i].rec = make_rec(i, i % 3, 1000, &rng);
        s[i].role = i % 2 ? GH_ROLE_READONLY : GH_ROLE_ADMINISTRATOR;
        s[i].password_change_required = i % 5 == 0;
    }
    assert_int_equal(gh_shared_session_load(b->sh, s, 10), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_count(b->sh), 10);
    /* a worker gave up waiting and took a session (one the store holds too)
     * before the load was done: the load skips it */
    ADD(s[12].rec, GH_ROLE_OPERATOR);
    assert_int_equal(gh_shared_session_load(b->sh, s + 10, 10), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_count(b->sh), 20);
    /* a session met again in another part's snapshot is not added twice */
    assert_int_equal(gh_shared_session_load(b->sh, s + 5, 10), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_count(b->sh), 20);
    assert_int_equal(gh_shared_session_find(b->sh, s[12].rec.digest, 1001, &who, NULL),
                     GH_SHARED_OK);
    assert_int_equal(who.role, GH_ROLE_OPERATOR);
    assert_int_equal(gh_shared_session_remove(b->sh, s[12].rec.id, NULL), GH_SHARED_OK);
    FIND(s[12].rec, 1001, GH_SHARED_NOT_FOUND);
    /* what was loaded is found with its role and flag, and untouched */
    for (uint32_t i = 0; i < 20; i++) {
        if (i == 12)
            continue;
        assert_int_equal(gh_shared_session_get(b->sh, s[i].rec.id, NULL), GH_SHARED_OK);
    }
    assert_int_equal(gh_shared_session_find(b->sh, s[5].rec.digest, 1000, &who, NULL),
                     GH_SHARED_OK);
    assert_int_equal(who.role, GH_ROLE_READONLY);
    assert_true(who.password_change_required);
    assert_int_equal(who.account_id, 5 % 3);
    /* a full pool: what fits is added (19 after the 19 there), the rest refused */
    assert_int_equal(gh_shared_session_load(b->sh, s + 20, 20), GH_SHARED_FULL);
    assert_int_equal(gh_shared_session_count(b->sh), N - 2);
    FIND(s[38].rec, 1000, GH_SHARED_OK);
    FIND(s[39].rec, 1000, GH_SHARED_NOT_FOUND);
    block_free(b);
}

static void test_store_expiry_position(void **state)
{
    block *b = block_new(1, 1, 1);

    (void)state;
    assert_int_equal(gh_shared_store_expiry_from(b->sh), -1);
    gh_shared_store_expiry_due(b->sh);
    assert_int_equal(gh_shared_store_expiry_from(b->sh), 0);
    gh_shared_store_expiry_done(b->sh, 0, 500);
    assert_int_equal(gh_shared_store_expiry_from(b->sh), 500);
    /* a batch from a position passed already, or a sweep made due again
     * meanwhile: the later word stands */
    gh_shared_store_expiry_done(b->sh, 0, -1);
    assert_int_equal(gh_shared_store_expiry_from(b->sh), 500);
    gh_shared_store_expiry_due(b->sh);
    gh_shared_store_expiry_done(b->sh, 500, 900);
    assert_int_equal(gh_shared_store_expiry_from(b->sh), 0);
    gh_shared_store_expiry_done(b->sh, 0, -1);
    assert_int_equal(gh_shared_store_expiry_from(b->sh), -1);
    block_free(b);
}

static void test_session_expiry(void **state)
{
    block *b = block_new(16, 8, 8);
    gh_session_record a = make_rec(1, 1, 1000, NULL), c = make_rec(2, 1, 1000, NULL), got;
    gh_principal who;

    (void)state;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 100);
    ADD(a, GH_ROLE_READONLY);
    FIND(a, 1099, GH_SHARED_OK);
    FIND(a, 1198, GH_SHARED_OK);                 /* idle since the refresh at 1099 */
    memset(&got, 0, sizeof(got));
    assert_int_equal(gh_shared_session_find(b->sh, a.digest, 1298, &who, &got),
                     GH_SHARED_EXPIRED);
    assert_string_equal(got.id, a.id);           /* the removed record */
    assert_int_equal(got.last_used, 1198);
    assert_int_equal(gh_shared_session_count(b->sh), 0);
    FIND(a, 1298, GH_SHARED_NOT_FOUND);
    /* the live setting is read at each lookup */
    a.last_used = 1000;
    ADD(a, GH_ROLE_READONLY);
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 1000);
    FIND(a, 1500, GH_SHARED_OK);
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 10);
    FIND(a, 1509, GH_SHARED_OK);
    FIND(a, 1519, GH_SHARED_EXPIRED);
    /* a session's own timeout wins over the setting */
    c.idle_timeout = 50;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 100000);
    ADD(c, GH_ROLE_READONLY);
    FIND(c, 1049, GH_SHARED_OK);
    FIND(c, 1099, GH_SHARED_EXPIRED);
    /* no timeout at all (unset or 0): never idle */
    for (int64_t timeout = -1; timeout <= 0; timeout++) {
        a.last_used = 1000;
        gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, timeout);
        ADD(a, GH_ROLE_READONLY);
        FIND(a, 1000 + 100000000, GH_SHARED_OK);
        assert_int_equal(gh_shared_session_remove(b->sh, a.id, NULL), GH_SHARED_OK);
    }
    /* absolute end, whatever the use (no idle timeout now) */
    c.idle_timeout = 0;
    c.expires = 2000;
    ADD(c, GH_ROLE_READONLY);
    FIND(c, 1999, GH_SHARED_OK);
    assert_int_equal(gh_shared_session_find(b->sh, c.digest, 2000, NULL, &got),
                     GH_SHARED_EXPIRED);
    assert_int_equal(got.expires, 2000);
    assert_int_equal(gh_shared_session_count(b->sh), 0);
    block_free(b);
}

static void test_session_remove_and_update(void **state)
{
    block *b = block_new(32, 1, 1);
    gh_session_record r[8], got;
    gh_principal who;

    (void)state;
    for (uint32_t i = 0; i < 8; i++) {
        r[i] = make_rec(i, i < 5 ? 1 : 2, 1000, NULL);
        ADD(r[i], GH_ROLE_OPERATOR);
    }
    assert_int_equal(gh_shared_session_remove(b->sh, r[0].id, &got), GH_SHARED_OK);
    assert_string_equal(got.id, r[0].id);
    assert_int_equal(gh_shared_session_remove(b->sh, r[0].id, &got), GH_SHARED_NOT_FOUND);
    FIND(r[0], 1001, GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_session_count(b->sh), 7);

    assert_int_equal(gh_shared_session_remove_account(b->sh, 1), 4);
    assert_int_equal(gh_shared_session_remove_account(b->sh, 1), 0);
    assert_int_equal(gh_shared_session_count(b->sh), 3);
    for (int i = 1; i < 5; i++)
        FIND(r[i], 1001, GH_SHARED_NOT_FOUND);

    /* by id, untouched, with the principal as it stands */
    assert_int_equal(gh_shared_session_who(b->sh, r[5].id, &who, &got), GH_SHARED_OK);
    assert_int_equal(who.role, GH_ROLE_OPERATOR);
    assert_false(who.password_change_required);
    assert_int_equal(got.last_used, 1000);
    assert_int_equal(gh_shared_session_who(b->sh, r[0].id, &who, NULL), GH_SHARED_NOT_FOUND);
    gh_shared_session_update_account(b->sh, 2, GH_ROLE_READONLY, true);
    assert_int_equal(gh_shared_session_who(b->sh, r[5].id, &who, NULL), GH_SHARED_OK);
    assert_int_equal(who.role, GH_ROLE_READONLY);
    assert_true(who.password_change_required);
    assert_int_equal(who.account_id, 2);
    assert_string_equal(who.session_id, r[5].id);
    for (int i = 5; i < 8; i++) {
        assert_int_equal(gh_shared_session_find(b->sh, r[i].digest, 1001, &who, NULL),
                         GH_SHARED_OK);
        assert_int_equal(who.role, GH_ROLE_READONLY);
        assert_true(who.password_change_required);
        assert_string_equal(who.session_id, r[i].id);
    }
    block_free(b);
}

static void test_session_full_and_reuse(void **state)
{
    enum { MAX = 8 };
    block *b = block_new(MAX, 1, 1);
    gh_session_record r;
    uint64_t rng = 88172645463325252ULL;

    (void)state;
    for (uint32_t i = 0; i < MAX; i++) {
        r = make_rec(i, 1, 1000, &rng);
        ADD(r, GH_ROLE_OPERATOR);
    }
    r = make_rec(MAX, 1, 1000, &rng);
    assert_int_equal(gh_shared_session_add(b->sh, &r, GH_ROLE_OPERATOR, false),
                     GH_SHARED_FULL);
    FIND(r, 1000, GH_SHARED_NOT_FOUND);
    /* churn: 100k add/remove cycles through a full pool never lose a node */
    for (uint32_t n = 0; n < 100000; n++) {
        gh_session_record victim = make_rec(n % MAX, 1, 0, NULL);   /* the id is enough */

        assert_int_equal(gh_shared_session_remove(b->sh, victim.id, NULL), GH_SHARED_OK);
        r = make_rec(n % MAX, 1, 1000, &rng);
        ADD(r, GH_ROLE_OPERATOR);
        FIND(r, 1000, GH_SHARED_OK);
    }
    assert_int_equal(gh_shared_session_count(b->sh), MAX);
    assert_int_equal(gh_shared_session_remove_account(b->sh, 1), MAX);
    assert_int_equal(gh_shared_session_count(b->sh), 0);
    for (uint32_t i = 0; i < MAX; i++) {
        r = make_rec(1000 + i, 2, 1000, &rng);
        ADD(r, GH_ROLE_OPERATOR);
    }
    ADD(r, GH_ROLE_OPERATOR);
    r = make_rec(2000, 2, 1000, &rng);
    assert_int_equal(gh_shared_session_add(b->sh, &r, GH_ROLE_OPERATOR, false),
                     GH_SHARED_FULL);
    block_free(b);
}

static void test_session_expire_sweep(void **state)
{
    enum { N = 10000 };
    block *b = block_new(N, 1, 1);
    gh_session_record *out = calloc(N, sizeof(*out)), r;
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    size_t total = 0, calls = 0, n;

    (void)state;
    assert_non_null(out);
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 100);
    for (uint32_t i = 0; i < N; i++) {
        r = make_rec(i, 1, i % 2 ? 1000 : 5000, &rng);   /* odd ones idle since 1000 */
        ADD(r, GH_ROLE_OPERATOR);
    }
    /* max bounds one call */
    assert_int_equal(gh_shared_session_expire(b->sh, 5050, out, 10), 10);
    total = 10;
    /* one call walks a slice, not the whole pool */
    n = gh_shared_session_expire(b->sh, 5050, out, N);
    assert_true(n > 0 && n < N / 2 - 10);
    for (total += n, calls = 1; total < N / 2 && calls < 10; calls++) {
        n = gh_shared_session_expire(b->sh, 5050, out, N);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(out[k].last_used, 1000);
        total += n;
    }
    assert_int_equal(total, N / 2);
    assert_true(calls >= 2);
    assert_int_equal(gh_shared_session_count(b->sh), N / 2);
    assert_int_equal(gh_shared_session_expire(b->sh, 5050, out, N), 0);
    /* the survivors are intact and findable */
    rng = 0x9e3779b97f4a7c15ULL;
    for (uint32_t i = 0; i < N; i++) {
        r = make_rec(i, 1, 0, &rng);
        FIND(r, 5050, i % 2 ? GH_SHARED_NOT_FOUND : GH_SHARED_OK);
    }
    free(out);
    block_free(b);
}

/* Add n sessions, find each, remove every other in a scrambled order, check
 * the rest, then remove all: with random digests (short chains) or with the
 * hashed head of every digest equal (one chain holding them all). */
static void chain_workout(uint32_t n, bool collide)
{
    block *b = block_new(n, 1, 1);
    gh_session_record *r = calloc(n, sizeof(*r));
    gh_principal who;
    uint64_t rng = 2463534242ULL;

    assert_non_null(r);
    for (uint32_t i = 0; i < n; i++) {
        r[i] = make_rec(i, i % 97, 1000, collide ? NULL : &rng);
        ADD(r[i], GH_ROLE_OPERATOR);
    }
    assert_int_equal(gh_shared_session_count(b->sh), n);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(gh_shared_session_find(b->sh, r[i].digest, 1000, &who, NULL),
                         GH_SHARED_OK);
        assert_string_equal(who.session_id, r[i].id);
        assert_int_equal(who.account_id, i % 97);
    }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (uint32_t)(((uint64_t)k * 7919) % n);   /* 7919 prime: a permutation */

        if (i % 2 == 0)
            assert_int_equal(gh_shared_session_remove(b->sh, r[i].id, NULL), GH_SHARED_OK);
    }
    assert_int_equal(gh_shared_session_count(b->sh), n / 2);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(gh_shared_session_find(b->sh, r[i].digest, 1000, &who, NULL),
                         i % 2 ? GH_SHARED_OK : GH_SHARED_NOT_FOUND);
    for (uint32_t i = 1; i < n; i += 2)
        assert_int_equal(gh_shared_session_remove(b->sh, r[i].id, NULL), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_count(b->sh), 0);
    free(r);
    block_free(b);
}

/* 10k random digests in a 10k pool, then thousands in one chain. */
static void test_chains(void **state)
{
    (void)state;
    chain_workout(10000, false);
    chain_workout(3000, true);
}

static void test_cred_cache(void **state)
{
    block *b = block_new(1, 4, 1);
    uint8_t key[6][GH_DIGEST_LEN];
    gh_principal who, got;
    uint64_t rng = 1234567;

    (void)state;
    for (int k = 0; k < 6; k++)
        for (size_t i = 0; i < GH_DIGEST_LEN; i += 8) {
            uint64_t v = rng_next(&rng);

            memcpy(key[k] + i, &v, 8);
        }
    memset(&who, 0, sizeof(who));
    who.account_id = 3;
    snprintf(who.user, sizeof(who.user), "carol");
    who.role = GH_ROLE_OPERATOR;
    snprintf(who.session_id, sizeof(who.session_id), "not-kept");

    assert_false(gh_shared_cred_get(b->sh, key[0], 100, &got));
    gh_shared_cred_put(b->sh, key[0], &who, 200);
    assert_true(gh_shared_cred_get(b->sh, key[0], 199, &got));
    assert_int_equal(got.account_id, 3);
    assert_string_equal(got.user, "carol");
    assert_int_equal(got.role, GH_ROLE_OPERATOR);
    assert_string_equal(got.session_id, "");
    /* expired at its end, and gone afterwards even for an earlier clock */
    assert_false(gh_shared_cred_get(b->sh, key[0], 200, &got));
    assert_false(gh_shared_cred_get(b->sh, key[0], 100, &got));

    /* a second put of a key replaces it */
    gh_shared_cred_put(b->sh, key[0], &who, 200);
    gh_shared_cred_put(b->sh, key[0], &who, 500);
    assert_true(gh_shared_cred_get(b->sh, key[0], 300, &got));

    who.account_id = 4;
    gh_shared_cred_put(b->sh, key[1], &who, 500);
    gh_shared_cred_drop_account(b->sh, 3);
    assert_false(gh_shared_cred_get(b->sh, key[0], 300, &got));
    assert_true(gh_shared_cred_get(b->sh, key[1], 300, &got));
    gh_shared_cred_drop_account(b->sh, 4);
    assert_false(gh_shared_cred_get(b->sh, key[1], 300, &got));

    /* full: one entry gives way (the one under the clock hand), never the
     * one just put, and the rest stay */
    for (int round = 0; round < 2; round++) {
        int present = 0;

        for (int k = round; k < 5 + round; k++)
            gh_shared_cred_put(b->sh, key[k], &who, 500);
        assert_true(gh_shared_cred_get(b->sh, key[4 + round], 300, &got));
        for (int k = 0; k < 6; k++)
            present += gh_shared_cred_get(b->sh, key[k], 300, &got);
        assert_int_equal(present, 4);
    }
    /* churn through a full cache never loses a node */
    for (int n = 0; n < 10000; n++)
        gh_shared_cred_put(b->sh, key[n % 6], &who, 500);
    gh_shared_cred_drop_account(b->sh, 4);
    for (int k = 0; k < 4; k++)
        gh_shared_cred_put(b->sh, key[k], &who, 500);
    for (int k = 0; k < 4; k++)
        assert_true(gh_shared_cred_get(b->sh, key[k], 300, &got));
    block_free(b);
}

/* A throttle key for a source's text (a real one is an HMAC). */
static const uint8_t *K(const char *source)
{
    static uint8_t key[4][GH_DIGEST_LEN];
    static unsigned next;
    uint8_t *k = key[next++ % 4];

    memset(k, 0, GH_DIGEST_LEN);
    memcpy(k, source, strnlen(source, GH_DIGEST_LEN));
    return k;
}

/* Failed logins per source, in milliseconds: three free, then a delay that
 * doubles from 1 s up to 4 s; the window (10 s) starts again once over. */
static void test_throttle(void **state)
{
    block *b = block_new(1, 1, 2);
    gh_throttle_policy p = { 3, 10, 1, 4 };
    uint32_t n;

    (void)state;
    assert_int_equal(gh_shared_throttle_wait(b->sh, K("192.0.2.7"), 1000, &p, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 1000, &p), 0);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 1100, &p), 0);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("198.51.100.1"), 1100, &p), 0);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 1200, &p), 1000);
    assert_int_equal(gh_shared_throttle_wait(b->sh, K("192.0.2.7"), 1700, &p, &n), 500);
    assert_int_equal(n, 3);
    assert_int_equal(gh_shared_throttle_wait(b->sh, K("198.51.100.1"), 1700, &p, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 2200, &p), 2000);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 4200, &p), 4000);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 8200, &p), 4000);   /* cap */
    /* the window and the block are over: counting starts again */
    assert_int_equal(gh_shared_throttle_wait(b->sh, K("192.0.2.7"), 12300, &p, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 12300, &p), 0);
    /* full (2 sources): a third takes the oldest node */
    for (int i = 0; i < 3; i++)
        assert_int_equal(gh_shared_throttle_fail(b->sh, K("203.0.113.9"), 12400, &p),
                         i < 2 ? 0 : 1000);
    for (int a = 0; a < 1000; a++) {
        char src[GH_DIGEST_LEN];

        snprintf(src, sizeof(src), "10.0.%d.%d", a / 256, a % 256);
        assert_int_equal(gh_shared_throttle_fail(b->sh, K(src), 12500, &p), 0);
    }
    /* free 0: off */
    p.free = 0;
    assert_int_equal(gh_shared_throttle_fail(b->sh, K("192.0.2.7"), 12600, &p), 0);
    assert_int_equal(gh_shared_throttle_wait(b->sh, K("192.0.2.7"), 12600, &p, NULL), 0);
    block_free(b);
}

/* A counter copied out of one block and restored into a new one (a restart)
 * keeps its count, window and wait; one the new block holds already keeps
 * the higher count and the later wait. */
static void test_throttle_restore(void **state)
{
    block *b = block_new(1, 1, 4), *c = block_new(1, 1, 4);
    gh_throttle_policy p = { 3, 10, 1, 4 };
    gh_throttle_count got = { .failures = 0 }, old;
    uint32_t n;

    (void)state;
    assert_int_equal(gh_shared_throttle_room(b->sh), 4);
    memcpy(got.key, K("192.0.2.7"), GH_DIGEST_LEN);
    assert_false(gh_shared_throttle_get(b->sh, 1000, &p, &got));
    for (int i = 0; i < 3; i++)
        (void)gh_shared_throttle_fail(b->sh, got.key, 1000 + 100 * i, &p);
    assert_true(gh_shared_throttle_get(b->sh, 1500, &p, &got));
    assert_int_equal(got.failures, 3);
    assert_int_equal(got.window_start, 1000);
    assert_int_equal(got.blocked_until, 2200);
    gh_shared_throttle_restore(c->sh, &got);
    assert_int_equal(gh_shared_throttle_wait(c->sh, got.key, 1700, &p, &n), 500);
    assert_int_equal(n, 3);
    /* the next failure in the new block goes on from there: 2 s */
    assert_int_equal(gh_shared_throttle_fail(c->sh, got.key, 2200, &p), 2000);
    /* an older copy restored again changes nothing */
    old = got;
    gh_shared_throttle_restore(c->sh, &old);
    assert_int_equal(gh_shared_throttle_wait(c->sh, got.key, 2200, &p, &n), 2000);
    assert_int_equal(n, 4);
    assert_int_equal(gh_shared_throttle_wait(c->sh, K("198.51.100.1"), 2200, &p, &n), 0);
    assert_int_equal(n, 0);
    block_free(b);
    block_free(c);
}

enum { THREADS = 4, PER_THREAD = 2000 };

typedef struct {
    block   *b;
    uint32_t base;
    int      errors;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    gh_principal who;
    uint64_t rng = 0x1234 + w->base;

    for (uint32_t round = 0; round < 3; round++) {
        uint64_t start = rng;

        for (uint32_t i = 0; i < PER_THREAD; i++) {
            gh_session_record r = make_rec(w->base + i, w->base, 1000, &rng);

            w->errors += gh_shared_session_add(w->b->sh, &r, GH_ROLE_OPERATOR, false) !=
                         GH_SHARED_OK;
        }
        rng = start;
        for (uint32_t i = 0; i < PER_THREAD; i++) {
            gh_session_record r = make_rec(w->base + i, w->base, 0, &rng);

            w->errors += gh_shared_session_find(w->b->sh, r.digest, 1001, &who, NULL) !=
                         GH_SHARED_OK || strcmp(who.session_id, r.id) != 0;
            /* the last round keeps the odd ones */
            if (round < 2 || i % 2 == 0)
                w->errors += gh_shared_session_remove(w->b->sh, r.id, NULL) != GH_SHARED_OK;
        }
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    block *b = block_new(THREADS * PER_THREAD, 64, 64);
    pthread_t th[THREADS];
    worker w[THREADS];
    gh_session_touch *touched = calloc(THREADS * PER_THREAD, sizeof(*touched));

    (void)state;
    assert_non_null(touched);
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){ b, (uint32_t)(t + 1) * 100000, 0 };
        assert_int_equal(pthread_create(&th[t], NULL, worker_run, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].errors, 0);
    }
    assert_int_equal(gh_shared_session_count(b->sh), THREADS * PER_THREAD / 2);
    /* the touched list came through intact: each survivor on it once */
    assert_int_equal(gh_shared_session_collect_touched(b->sh, touched, THREADS * PER_THREAD),
                     THREADS * PER_THREAD / 2);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(gh_shared_session_remove_account(b->sh, w[t].base), PER_THREAD / 2);
    assert_int_equal(gh_shared_session_count(b->sh), 0);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, touched, THREADS * PER_THREAD),
                     0);
    free(touched);
    block_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_attach),
        cmocka_unit_test(test_memory_touched),
        cmocka_unit_test(test_session_find),
        cmocka_unit_test(test_touched_list),
        cmocka_unit_test(test_session_load),
        cmocka_unit_test(test_store_expiry_position),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_session_remove_and_update),
        cmocka_unit_test(test_session_full_and_reuse),
        cmocka_unit_test(test_session_expire_sweep),
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_cred_cache),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_throttle_restore),
        cmocka_unit_test(test_concurrency),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
