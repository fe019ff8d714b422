/*
 * test_shared_cache_mode.c: the shared block in cache mode (shared.h's
 * gh_shared_set_cached: the store is shared with other nodes): an idle end
 * found here is stale, not final, while the absolute end stays final; the
 * store down refuses finds and keeps no credential; dropping the cache is
 * silent and total, and a reset starts it over at the store's sequence
 * (a load still running lowers it when done); fills are kept only when no
 * later change was applied or is being applied. Out of cache mode nothing
 * of this applies.
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

#include "../../src/core/shared.h"
#include "shared_fixture.h"

/* A block loaded (every part done) at change sequence seq. */
static void load_at(block *b, int64_t seq)
{
    int64_t after, upto;

    while (gh_shared_load_claim(b->sh, 0, &after, &upto))
        gh_shared_load_done(b->sh, seq);
    assert_int_equal(gh_shared_change_seq(b->sh), seq);
}

static void test_idle_is_stale(void **state)
{
    block *b = block_new(16, 8, 8);
    gh_session_record idle = make_rec(1, 7, 1000, NULL), over = make_rec(2, 7, 1000, NULL);
    gh_session_record got;

    (void)state;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 60);
    over.expires = 1030;
    ADD(idle, GH_ROLE_OPERATOR);
    ADD(over, GH_ROLE_OPERATOR);
    /* Out of cache mode an idle end is final. */
    FIND(idle, 1060, GH_SHARED_EXPIRED);
    ADD(idle, GH_ROLE_OPERATOR);
    gh_shared_set_cached(b->sh, true);
    assert_true(gh_shared_cached(b->sh));
    /* Another node may have used it: stale, and kept. */
    FIND(idle, 1060, GH_SHARED_STALE);
    FIND(idle, 1061, GH_SHARED_STALE);
    assert_int_equal(gh_shared_session_get(b->sh, idle.id, &got), GH_SHARED_OK);
    assert_int_equal(got.last_used, 1000);
    /* The absolute end is the same on every node: final. */
    FIND(over, 1031, GH_SHARED_EXPIRED);
    assert_int_equal(gh_shared_session_get(b->sh, over.id, NULL), GH_SHARED_NOT_FOUND);
    /* Within its idle time it answers as ever. */
    FIND(idle, 1059, GH_SHARED_OK);
    block_free(b);
}

static void test_fill_guard(void **state)
{
    block *b = block_new(16, 8, 8);
    gh_session_record r = make_rec(1, 7, 1000, NULL), s = make_rec(2, 7, 1000, NULL), got;
    gh_session_touch t[4];
    gh_principal who;

    (void)state;
    gh_shared_set_cached(b->sh, true);
    /* Not loaded: nothing is kept. */
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_OPERATOR, false, 5),
                     GH_SHARED_STALE);
    load_at(b, 5);
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_OPERATOR, true, 5), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_find(b->sh, r.digest, 1001, &who, NULL), GH_SHARED_OK);
    assert_int_equal(who.role, GH_ROLE_OPERATOR);
    assert_true(who.password_change_required);
    /* A fill is a use: its time goes to the store with the touches. */
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 1);
    /* An applier began on change 7: a read made at 6 may hold what 7
     * removes, one made at 7 cannot. */
    gh_shared_apply_begin(b->sh, 7);
    assert_int_equal(gh_shared_session_fill(b->sh, &s, GH_ROLE_READONLY, false, 6),
                     GH_SHARED_STALE);
    assert_int_equal(gh_shared_session_get(b->sh, s.id, NULL), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_session_fill(b->sh, &s, GH_ROLE_READONLY, false, 7), GH_SHARED_OK);
    /* A block applied past the read refuses it too. */
    assert_true(gh_shared_advance_seq(b->sh, 5, 9));
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_READONLY, false, 8),
                     GH_SHARED_STALE);
    /* A fill of a session held moves its last use forward only, and gives
     * it the account's role as read. */
    r.last_used = 1500;
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_ADMINISTRATOR, false, 9),
                     GH_SHARED_OK);
    assert_int_equal(gh_shared_session_get(b->sh, r.id, &got), GH_SHARED_OK);
    assert_int_equal(got.last_used, 1500);
    assert_int_equal(gh_shared_session_collect_touched(b->sh, t, 4), 2);   /* s, then r */
    assert_string_equal(t[1].id, r.id);
    assert_int_equal(t[1].last_used, 1500);
    r.last_used = 1200;
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_ADMINISTRATOR, false, 9),
                     GH_SHARED_OK);
    assert_int_equal(gh_shared_session_get(b->sh, r.id, &got), GH_SHARED_OK);
    assert_int_equal(got.last_used, 1500);
    assert_int_equal(gh_shared_session_who(b->sh, r.id, &who, NULL), GH_SHARED_OK);
    assert_int_equal(who.role, GH_ROLE_ADMINISTRATOR);
    /* No room: said so. */
    block_free(b);
    b = block_new(1, 8, 8);
    gh_shared_set_cached(b->sh, true);
    load_at(b, 1);
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_READONLY, false, 1), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_fill(b->sh, &s, GH_ROLE_READONLY, false, 1),
                     GH_SHARED_FULL);
    block_free(b);
}

static void test_drop_all(void **state)
{
    enum { N = 5000 };                       /* more than one slice of each */
    block *b = block_new(N, N, 8);
    gh_session_record r = make_rec(0, 1, 1000, NULL);
    gh_principal who = { .account_id = 3, .user = "carol" }, got;
    uint8_t key[GH_DIGEST_LEN];
    uint64_t rng = 88172645463325252ULL, events;

    (void)state;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 600);
    gh_shared_set_cached(b->sh, true);
    load_at(b, 3);
    for (uint32_t i = 0; i < N; i++) {
        gh_session_record s = make_rec(i, 1 + i % 7, 1000, &rng);

        ADD(s, GH_ROLE_OPERATOR);
        memset(key, 0, sizeof(key));
        memcpy(key, &i, sizeof(i));
        key[8] = 1;
        gh_shared_cred_put(b->sh, key, &who, 5000);
    }
    assert_true(gh_shared_cred_get(b->sh, key, 1000, &got));
    assert_false(gh_shared_store_down(b->sh));
    events = gh_shared_event_last(b->sh);
    gh_shared_drop_all(b->sh);
    /* Every session and credential gone, without an event (the sessions
     * live on in the store); finds refused until the store answers. */
    assert_true(gh_shared_store_down(b->sh));
    assert_int_equal(gh_shared_session_count(b->sh), 0);
    assert_int_equal(gh_shared_event_last(b->sh), events);
    FIND(r, 1001, GH_SHARED_UNAVAILABLE);
    assert_false(gh_shared_cred_get(b->sh, key, 1000, &got));
    gh_shared_cred_put(b->sh, key, &who, 5000);
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_OPERATOR, false, 100),
                     GH_SHARED_STALE);
    /* Back at the store's sequence 12: reads from before are refused. */
    gh_shared_cache_reset(b->sh, 12);
    assert_false(gh_shared_store_down(b->sh));
    assert_int_equal(gh_shared_change_seq(b->sh), 12);
    FIND(r, 1001, GH_SHARED_NOT_FOUND);
    assert_false(gh_shared_cred_get(b->sh, key, 1000, &got));   /* not kept while down */
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_OPERATOR, false, 11),
                     GH_SHARED_STALE);
    assert_int_equal(gh_shared_session_fill(b->sh, &r, GH_ROLE_OPERATOR, false, 12),
                     GH_SHARED_OK);
    FIND(r, 1001, GH_SHARED_OK);
    gh_shared_cred_put(b->sh, key, &who, 5000);
    assert_true(gh_shared_cred_get(b->sh, key, 1000, &got));
    block_free(b);
}

/* A worker that started with the store down is reset before any load; a
 * load that was running when the store was lost ends by lowering the
 * sequence, so what changed since its read is applied again. */
static void test_reset_and_load(void **state)
{
    block *b = block_new(8, 8, 8);
    int64_t after, upto;

    (void)state;
    gh_shared_set_cached(b->sh, true);
    gh_shared_drop_all(b->sh);
    assert_int_equal(gh_shared_change_seq(b->sh), -1);
    gh_shared_cache_reset(b->sh, 4);
    assert_int_equal(gh_shared_change_seq(b->sh), 4);
    assert_false(gh_shared_load_claim(b->sh, 0, &after, &upto));
    block_free(b);

    b = block_new(8, 8, 8);
    gh_shared_set_cached(b->sh, true);
    assert_true(gh_shared_load_claim(b->sh, 0, &after, &upto));    /* a load runs */
    gh_shared_drop_all(b->sh);
    gh_shared_cache_reset(b->sh, 20);
    assert_int_equal(gh_shared_change_seq(b->sh), 20);
    gh_shared_load_done(b->sh, 15);                                 /* it read at 15 */
    assert_int_equal(gh_shared_change_seq(b->sh), 15);
    block_free(b);
}

/* Out of cache mode a store mark means nothing: the block is the truth. */
static void test_embedded_unchanged(void **state)
{
    block *b = block_new(8, 8, 8);
    gh_session_record r = make_rec(1, 7, 1000, NULL);
    gh_principal who = { .account_id = 7 }, got;
    uint8_t key[GH_DIGEST_LEN] = { 1 };

    (void)state;
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 60);
    assert_false(gh_shared_cached(b->sh));
    ADD(r, GH_ROLE_OPERATOR);
    gh_shared_cred_put(b->sh, key, &who, 5000);
    gh_shared_drop_all(b->sh);
    ADD(r, GH_ROLE_OPERATOR);
    FIND(r, 1001, GH_SHARED_OK);
    gh_shared_cred_put(b->sh, key, &who, 5000);
    assert_true(gh_shared_cred_get(b->sh, key, 1000, &got));
    FIND(r, 1060, GH_SHARED_OK);
    FIND(r, 1120, GH_SHARED_EXPIRED);
    block_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_is_stale),
        cmocka_unit_test(test_fill_guard),
        cmocka_unit_test(test_drop_all),
        cmocka_unit_test(test_reset_and_load),
        cmocka_unit_test(test_embedded_unchanged),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
