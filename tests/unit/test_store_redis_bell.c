/*
 * test_store_redis_bell.c: the Redis store's bell (store.h's
 * gh_store_bell_*) against a real redis-server (GH_TEST_REDIS_URL, from
 * tests/unit/with-redis): it rings with the newest sequence number of a
 * logged write and only then, and it reports its connection lost when the
 * server kills it or stops answering its PING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "store_redis_fixture.h"

/* The bell rings with the sequence number of a logged write, stays quiet
 * otherwise, and reports its connection killed by the server. */
static void test_bell(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice", NULL), seq = 0, last = 0;
    gh_session_record r = make_session("s1", acct, "token-one");
    gh_store_bell *bell = NULL;
    redisReply *killed;
    int tries;

    assert_int_equal(gh_store_bell_open(&f->cfg, &bell), GH_STORE_OK);
    assert_int_equal(gh_store_bell_wait(bell, 20, &seq), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);   /* logs nothing */
    assert_int_equal(gh_store_bell_wait(bell, 20, &seq), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_delete(f->store, "s1"), GH_STORE_OK);
    assert_int_equal(gh_store_bell_wait(bell, 5000, &seq), GH_STORE_OK);
    assert_int_equal(gh_store_change_last(f->store, &last), GH_STORE_OK);
    assert_int_equal(seq, last);

    /* two writes, one wait: the newest */
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 61), GH_STORE_OK);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 62), GH_STORE_OK);
    for (tries = 0; tries < 10 && seq < last + 2; tries++)
        assert_int_equal(gh_store_bell_wait(bell, 5000, &seq), GH_STORE_OK);
    assert_int_equal(seq, last + 2);

    /* the server drops the subscriber: the next wait says so, and again */
    killed = RAW(f, "CLIENT", "KILL", "TYPE", "pubsub");
    assert_int_equal(killed->type, REDIS_REPLY_INTEGER);
    assert_true(killed->integer >= 1);
    gh_redis_reply_free(killed);
    assert_int_equal(gh_store_bell_wait(bell, 5000, &seq), GH_STORE_ERROR);
    assert_int_equal(gh_store_bell_wait(bell, 0, &seq), GH_STORE_ERROR);
    gh_store_bell_close(bell);
}

/* A server that stops answering (CLIENT PAUSE holds every command, the
 * bell's PING too, for 2 s) is a lost bell once the PING's answer is
 * overdue: sent after a quiet second, due 100 ms later. */
static void test_bell_silent_server(void **state)
{
    fixture *f = *state;
    gh_store_config cfg = f->cfg;
    gh_store_bell *bell = NULL;
    gh_store_err err = GH_STORE_NOT_FOUND;
    int64_t seq = 0;
    int waits;

    cfg.timeout_ms = 100;
    assert_int_equal(gh_store_bell_open(&cfg, &bell), GH_STORE_OK);
    raw_ok(f, RAW(f, "CLIENT", "PAUSE", "2000", "ALL"));
    for (waits = 0; waits < 10 && err == GH_STORE_NOT_FOUND; waits++)
        err = gh_store_bell_wait(bell, 200, &seq);
    assert_int_equal(err, GH_STORE_ERROR);
    gh_store_bell_close(bell);
    raw_ok(f, RAW(f, "PING"));          /* answered once the pause is over */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bell_silent_server, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
