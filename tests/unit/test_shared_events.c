/*
 * test_shared_events.c: the shared block's session event ring and its table
 * of open event streams (src/core/shared_events.c), over malloc'd memory
 * with an error-checking mutex as the lock, as test_shared.c: every add and
 * every way out of the session table leaves one event, in order (the load
 * none), read from a reader's own position with losses counted; streams get
 * ids in order, a full table refuses, closing and removal, and a dead
 * worker's streams are dropped from the list and their slots reused.
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

#include "../../src/core/shared.h"
#include "shared_fixture.h"

/* The event ring: an add and every way out of the block (remove, account,
 * expiry on lookup and by the sweep) each leave one event, in order; the
 * load leaves none; a reader reads from its own position, and one more than
 * the ring behind is told how many it lost. */
static void test_session_events(void **state)
{
    block *b = block_new(2 * GH_SHARED_EVENTS, 8, 8);
    gh_session_record r[4], out[4];
    gh_shared_loaded_session loaded = { 0 };
    gh_shared_event ev[8];
    uint64_t pos = 0, lost = 0, late;

    (void)state;
    assert_int_equal(gh_shared_event_last(b->sh), 0);
    assert_int_equal(gh_shared_events_read(b->sh, &pos, ev, 8, &lost), 0);
    for (uint32_t i = 0; i < 4; i++) {
        r[i] = make_rec(i + 1, i < 2 ? 7 : 8, 1000, NULL);
        ADD(r[i], GH_ROLE_OPERATOR);
    }
    ADD(r[0], GH_ROLE_OPERATOR);                    /* already there: no event */
    loaded.rec = make_rec(99, 9, 1000, NULL);
    assert_int_equal(gh_shared_session_load(b->sh, &loaded, 1), GH_SHARED_OK);
    assert_int_equal(gh_shared_event_last(b->sh), 4);

    assert_int_equal(gh_shared_session_remove(b->sh, r[1].id, NULL), GH_SHARED_OK);
    assert_int_equal(gh_shared_session_remove_account(b->sh, 8), 2);
    gh_shared_setting_set(b->sh, GH_SET_SESSION_TIMEOUT, 60);
    FIND(r[0], 1000 + 60, GH_SHARED_EXPIRED);
    assert_int_equal(gh_shared_session_expire(b->sh, 1000 + 60, out, 4), 1);   /* the loaded one */

    assert_int_equal(gh_shared_events_read(b->sh, &pos, ev, 3, &lost), 3);
    assert_int_equal(lost, 0);
    assert_int_equal(pos, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ev[i].seq, (uint64_t)i + 1);
        assert_int_equal(ev[i].kind, GH_EVENT_SESSION_CREATED);
        assert_string_equal(ev[i].session_id, r[i].id);
        assert_int_equal(ev[i].account_id, r[i].account_id);
        assert_string_equal(ev[i].dialect, "redfish");
    }
    assert_int_equal(gh_shared_events_read(b->sh, &pos, ev, 8, &lost), 6);
    assert_int_equal(ev[0].kind, GH_EVENT_SESSION_CREATED);
    assert_string_equal(ev[0].session_id, r[3].id);
    assert_int_equal(ev[1].kind, GH_EVENT_SESSION_REMOVED);
    assert_string_equal(ev[1].session_id, r[1].id);
    assert_int_equal(ev[2].account_id, 8);
    assert_int_equal(ev[3].account_id, 8);
    assert_string_equal(ev[4].session_id, r[0].id);             /* expired on lookup */
    assert_string_equal(ev[5].session_id, loaded.rec.id);       /* by the sweep */
    assert_int_equal(ev[5].kind, GH_EVENT_SESSION_REMOVED);
    assert_int_equal(pos, 9);
    assert_int_equal(gh_shared_events_read(b->sh, &pos, ev, 8, &lost), 0);

    /* a reader that fell behind by more than the ring */
    late = pos;
    for (uint32_t i = 0; i < GH_SHARED_EVENTS + 5; i++) {
        gh_session_record x = make_rec(1000 + i, 11, 1000, NULL);

        ADD(x, GH_ROLE_READONLY);
    }
    assert_int_equal(gh_shared_events_read(b->sh, &late, ev, 2, &lost), 2);
    assert_int_equal(lost, 5);
    assert_int_equal(ev[0].seq, pos + 6);
    assert_int_equal(ev[1].seq, pos + 7);
    assert_int_equal(late, pos + 7);
    block_free(b);
}

/* The table of open streams: ids in order, a full table, closing, removal,
 * and a dead worker's streams dropped when listed. */
static void test_streams(void **state)
{
    block *b = block_new(4, 4, 4);
    gh_shared_stream got, list[4];
    uint64_t id, first = 0, last = 0;
    pid_t dead;

    (void)state;
    assert_int_equal(gh_shared_streams(b->sh, list, 4), 0);
    for (size_t i = 0; i < GH_SHARED_STREAMS; i++) {
        assert_true(gh_shared_stream_add(b->sh, (int64_t)i % 3, "redfish", getpid(),
                                         1000, &id));
        assert_int_equal(id, i + 1);
        first = first == 0 ? id : first;
        last = id;
    }
    assert_false(gh_shared_stream_add(b->sh, 1, "redfish", getpid(), 1000, &id));
    assert_int_equal(gh_shared_streams(b->sh, list, 4), 4);
    assert_int_equal(list[0].id, 1);
    assert_int_equal(list[3].id, 4);

    assert_true(gh_shared_stream_wanted(b->sh, first));
    assert_int_equal(gh_shared_stream_close(b->sh, first), GH_SHARED_OK);
    assert_false(gh_shared_stream_wanted(b->sh, first));
    assert_int_equal(gh_shared_stream_get(b->sh, first, &got), GH_SHARED_OK);
    assert_true(got.closing);
    gh_shared_stream_remove(b->sh, first);
    assert_int_equal(gh_shared_stream_get(b->sh, first, &got), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_stream_close(b->sh, first), GH_SHARED_NOT_FOUND);
    assert_false(gh_shared_stream_wanted(b->sh, 0));
    /* the freed slot is taken again, under a new id; listing sorts by id */
    assert_true(gh_shared_stream_add(b->sh, 7, "redfish", getpid(), 1001, &id));
    assert_int_equal(id, last + 1);
    assert_int_equal(gh_shared_stream_get(b->sh, id, &got), GH_SHARED_OK);
    assert_int_equal(got.account_id, 7);
    assert_int_equal(got.created, 1001);
    assert_int_equal(gh_shared_streams(b->sh, list, 4), 4);
    assert_int_equal(list[0].id, 2);

    /* a worker that is gone: its streams leave the list */
    dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    for (uint64_t k = 2; k <= 11; k++)
        gh_shared_stream_remove(b->sh, k);
    assert_true(gh_shared_stream_add(b->sh, 8, "redfish", dead, 1002, &id));
    assert_int_equal(gh_shared_stream_get(b->sh, id, &got), GH_SHARED_OK);
    assert_int_equal(gh_shared_streams(b->sh, list, 4), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_not_equal(list[i].id, id);
    assert_int_equal(gh_shared_stream_get(b->sh, id, &got), GH_SHARED_NOT_FOUND);
    /* a full table takes a dead worker's slot */
    while (gh_shared_stream_add(b->sh, 9, "redfish", getpid(), 1003, &id))
        ;
    gh_shared_stream_remove(b->sh, id - 1);
    assert_true(gh_shared_stream_add(b->sh, 9, "redfish", dead, 1003, &id));
    assert_true(gh_shared_stream_add(b->sh, 9, "redfish", getpid(), 1003, &last));
    assert_int_equal(gh_shared_stream_get(b->sh, id, &got), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_stream_get(b->sh, last, &got), GH_SHARED_OK);
    assert_int_equal(got.pid, getpid());
    assert_false(gh_shared_stream_add(b->sh, 9, "redfish", getpid(), 1003, &id));
    gh_shared_stream_remove(b->sh, 5000);             /* none such: nothing happens */
    block_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_events),
        cmocka_unit_test(test_streams),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
