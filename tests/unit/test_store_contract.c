/*
 * test_store_contract.c: the store against its contract in store.h, through
 * store.h alone, so any backend can be held to it: the secret, accounts,
 * sessions, their expiry rule (in C and in the store alike) and batched
 * expiry, the one-pass scan, settings, the change log, failed-login and
 * throttle counters, several connections, a kill -9, and the atomic steps
 * (the per-account limit, the lockout count, the cache fill by digest) and
 * the imports of `gatehouse store copy`. Every store is opened by
 * store_fixture.h's setup/store_open: the embedded one by default, the one
 * GH_TEST_STORE_URL names when it is set (make unit-store).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_fixture.h"

static void test_strerror(void **state)
{
    (void)state;
    for (int e = GH_STORE_OK; e <= GH_STORE_ERROR; e++)
        assert_non_null(gh_store_strerror((gh_store_err)e));
    assert_non_null(gh_store_strerror((gh_store_err)99));
}

static gh_failure make_failure(uint8_t key, uint8_t owner, int64_t expires)
{
    gh_failure f = { .window_start = 100, .failures = 2, .locked_until = 0,
                     .expires = expires };

    memset(f.key, key, sizeof f.key);
    memset(f.owner, owner, sizeof f.owner);
    return f;
}

/* Failed-login counters: put over put, get, delete, clear by owner (another
 * connection sees each at once), and the prune of expired ones. */
static void test_failures(void **state)
{
    fixture *f = *state;
    gh_failure a = make_failure(1, 9, 500), b = make_failure(2, 9, 700),
               c = make_failure(3, 8, 900), got;
    gh_store *other;
    int n;

    assert_int_equal(store_open(f, &other), GH_STORE_OK);
    assert_int_equal(gh_store_failure_get(f->store, a.key, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_failure_put(f->store, &a), GH_STORE_OK);
    a.failures = 3;
    a.locked_until = 400;
    assert_int_equal(gh_store_failure_put(f->store, &a), GH_STORE_OK);
    assert_int_equal(gh_store_failure_get(other, a.key, &got), GH_STORE_OK);
    assert_memory_equal(&got, &a, sizeof got);
    assert_int_equal(gh_store_failure_put(f->store, &b), GH_STORE_OK);
    assert_int_equal(gh_store_failure_put(f->store, &c), GH_STORE_OK);
    assert_int_equal(gh_store_failure_clear_owner(other, a.owner), GH_STORE_OK);
    assert_int_equal(gh_store_failure_get(f->store, a.key, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_failure_get(f->store, b.key, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_failure_get(f->store, c.key, &got), GH_STORE_OK);
    assert_int_equal(gh_store_failure_delete(f->store, c.key), GH_STORE_OK);
    assert_int_equal(gh_store_failure_get(f->store, c.key, &got), GH_STORE_NOT_FOUND);
    /* prune: only those expired by now */
    assert_int_equal(gh_store_failure_put(f->store, &a), GH_STORE_OK);
    assert_int_equal(gh_store_failure_put(f->store, &b), GH_STORE_OK);
    assert_int_equal(gh_store_failure_prune(f->store, 600, &n), GH_STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_store_failure_get(f->store, a.key, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_failure_get(f->store, b.key, &got), GH_STORE_OK);
    gh_store_close(other);
}

/* Throttle counters of sources: put over put (another connection sees the
 * last), the scan of those not expired, the last to expire first and no
 * more than asked, and the prune of expired ones. */
static void test_throttle_counters(void **state)
{
    fixture *f = *state;
    gh_throttle_count a = make_throttle(1, 3), b = make_throttle(2, 12),
                      c = make_throttle(3, 1);
    throttle_seen t = { 0 };
    gh_store *other;
    int n;

    assert_int_equal(store_open(f, &other), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_scan(other, 0, 10, see_throttle, &t), GH_STORE_OK);
    assert_int_equal(t.n, 0);
    assert_int_equal(gh_store_throttle_put(f->store, &a, 500), GH_STORE_OK);
    a.failures = 4;
    a.blocked_until = 2500000;
    assert_int_equal(gh_store_throttle_put(f->store, &a, 600), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_put(f->store, &b, 900), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_put(f->store, &c, 300), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_scan(other, 400, 10, see_throttle, &t), GH_STORE_OK);
    assert_int_equal(t.n, 2);
    assert_memory_equal(&t.seen[0], &b, sizeof b);
    assert_memory_equal(&t.seen[1], &a, sizeof a);
    t.n = 0;
    assert_int_equal(gh_store_throttle_scan(other, 0, 1, see_throttle, &t), GH_STORE_OK);
    assert_int_equal(t.n, 1);
    assert_memory_equal(&t.seen[0], &b, sizeof b);
    assert_int_equal(gh_store_throttle_prune(other, 600, &n), GH_STORE_OK);
    assert_int_equal(n, 2);
    t.n = 0;
    assert_int_equal(gh_store_throttle_scan(f->store, 0, 10, see_throttle, &t), GH_STORE_OK);
    assert_int_equal(t.n, 1);
    assert_memory_equal(&t.seen[0], &b, sizeof b);
    gh_store_close(other);
}

static void test_secret_stable(void **state)
{
    fixture *f = *state;
    uint8_t a[GH_DIGEST_LEN], b[GH_DIGEST_LEN], zero[GH_DIGEST_LEN] = { 0 };

    assert_int_equal(gh_store_secret(f->store, a), GH_STORE_OK);
    assert_memory_not_equal(a, zero, sizeof a);
    gh_store_close(f->store);
    f->store = NULL;
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(gh_store_secret(f->store, b), GH_STORE_OK);
    assert_memory_equal(a, b, sizeof a);

}

static void test_account_crud(void **state)
{
    fixture *f = *state;
    gh_account a = make_account("admin"), got, stale;
    int64_t before = gh_now();

    a.role = GH_ROLE_ADMINISTRATOR;
    a.built_in = true;
    a.password_change_required = true;
    a.locked_until = 1234;
    assert_int_equal(gh_store_account_add(f->store, &a), GH_STORE_OK);
    assert_true(a.id > 0);
    assert_int_equal(a.generation, 1);
    assert_true(a.created >= before && a.created <= gh_now());

    assert_int_equal(gh_store_account_get(f->store, "admin", &got), GH_STORE_OK);
    assert_account_equal(&got, &a);
    assert_int_equal(gh_store_account_get_by_id(f->store, a.id, &got), GH_STORE_OK);
    assert_account_equal(&got, &a);
    assert_int_equal(gh_store_account_get(f->store, "Admin", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_account_get_by_id(f->store, a.id + 100, &got), GH_STORE_NOT_FOUND);

    stale = make_account("admin");
    assert_int_equal(gh_store_account_add(f->store, &stale), GH_STORE_EXISTS);
    memset(stale.name, 'x', sizeof stale.name);     /* no NUL */
    assert_int_equal(gh_store_account_add(f->store, &stale), GH_STORE_ERROR);
    stale = make_account("");
    assert_int_equal(gh_store_account_add(f->store, &stale), GH_STORE_ERROR);

    /* update with the right generation, then with a stale one */
    stale = a;
    a.role = GH_ROLE_READONLY;
    a.enabled = false;
    snprintf(a.password_hash, sizeof a.password_hash, "$argon2id$new");
    assert_int_equal(gh_store_account_update(f->store, &a, 1), GH_STORE_OK);
    assert_int_equal(a.generation, 2);
    stale.role = GH_ROLE_ADMINISTRATOR;
    assert_int_equal(gh_store_account_update(f->store, &stale, 1), GH_STORE_CONFLICT);
    assert_int_equal(stale.generation, 1);
    assert_int_equal(gh_store_account_get(f->store, "admin", &got), GH_STORE_OK);
    assert_account_equal(&got, &a);
    assert_int_equal(got.created, a.created);

    /* without a check, and renamed */
    snprintf(a.name, sizeof a.name, "root");
    assert_int_equal(gh_store_account_update(f->store, &a, -1), GH_STORE_OK);
    assert_int_equal(a.generation, 3);
    assert_int_equal(gh_store_account_get(f->store, "admin", &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_account_get(f->store, "root", &got), GH_STORE_OK);
    assert_int_equal(got.generation, 3);

    /* renamed onto a taken name; unknown id */
    add_account(f->store, "bob");
    snprintf(a.name, sizeof a.name, "bob");
    assert_int_equal(gh_store_account_update(f->store, &a, -1), GH_STORE_EXISTS);
    assert_int_equal(a.generation, 3);
    a = make_account("ghost");
    a.id = 999;
    assert_int_equal(gh_store_account_update(f->store, &a, -1), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_account_update(f->store, &a, 1), GH_STORE_NOT_FOUND);
}

static void test_account_delete_cascades(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f->store, "alice"), bob = add_account(f->store, "bob");
    gh_session_record r;
    gh_account a;

    insert_session(f->store, "a1", alice, 100);
    insert_session(f->store, "a2", alice, 101);
    insert_session(f->store, "b1", bob, 102);
    assert_int_equal(gh_store_account_delete(f->store, alice), GH_STORE_OK);
    assert_int_equal(gh_store_account_get_by_id(f->store, alice, &a), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->store, "a1", &r), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->store, "a2", &r), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->store, "b1", &r), GH_STORE_OK);
    assert_int_equal(gh_store_account_delete(f->store, alice), GH_STORE_NOT_FOUND);
    /* a new session cannot name the deleted account */
    r = make_session("a3", alice, 103);
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_NOT_FOUND);
}

typedef struct {
    gh_store *store;
    int64_t   ids[64];
    int       n;
    int       stop_after;
    bool      delete_next;   /* delete the following account from inside the walk */
} walk;

static int walk_account(const gh_account *a, void *arg)
{
    walk *w = arg;

    if (w->n < 64)
        w->ids[w->n] = a->id;
    w->n++;
    if (w->delete_next)
        (void)gh_store_account_delete(w->store, a->id + 1);
    return w->stop_after != 0 && w->n >= w->stop_after;
}

static void test_account_foreach(void **state)
{
    fixture *f = *state;
    char name[16];
    walk w;

    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_account_foreach(f->store, walk_account, &w), GH_STORE_OK);
    assert_int_equal(w.n, 0);
    for (int i = 0; i < 40; i++) {    /* more than a page */
        snprintf(name, sizeof name, "user%02d", i);
        add_account(f->store, name);
    }
    assert_int_equal(gh_store_account_foreach(f->store, walk_account, &w), GH_STORE_OK);
    assert_int_equal(w.n, 40);
    for (int i = 1; i < 40; i++)
        assert_true(w.ids[i] > w.ids[i - 1]);

    memset(&w, 0, sizeof w);
    w.stop_after = 5;
    assert_int_equal(gh_store_account_foreach(f->store, walk_account, &w), GH_STORE_OK);
    assert_int_equal(w.n, 5);

    /* a callback may write to the store it is walking */
    memset(&w, 0, sizeof w);
    w.store = f->store;
    w.delete_next = true;
    assert_int_equal(gh_store_account_foreach(f->store, walk_account, &w), GH_STORE_OK);
    assert_true(w.n >= 20 && w.n < 40);
}

static void test_session_crud(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f->store, "alice");
    gh_session_record r = make_session("0123456789abcdef0123456789abcdef", alice, 500), got, dup;

    snprintf(r.dialect, sizeof(r.dialect), "powerstore");
    r.idle_timeout = 600;
    r.expires = 9000;
    r.last_used = 510;
    snprintf(r.client_addr, sizeof r.client_addr, "2001:db8::1");
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, r.id, &got), GH_STORE_OK);
    assert_string_equal(got.id, r.id);
    assert_memory_equal(got.digest, r.digest, sizeof r.digest);
    assert_int_equal(got.account_id, r.account_id);
    assert_string_equal(got.user, r.user);
    assert_string_equal(got.dialect, r.dialect);
    assert_int_equal(got.created, r.created);
    assert_int_equal(got.last_used, r.last_used);
    assert_int_equal(got.idle_timeout, r.idle_timeout);
    assert_int_equal(got.expires, r.expires);
    assert_string_equal(got.client_addr, r.client_addr);

    dup = make_session(r.id, alice, 501);             /* same id, other digest */
    assert_int_equal(gh_store_session_insert(f->store, &dup), GH_STORE_EXISTS);
    dup = make_session("other", alice, 501);
    memcpy(dup.digest, r.digest, sizeof dup.digest);  /* same digest */
    assert_int_equal(gh_store_session_insert(f->store, &dup), GH_STORE_EXISTS);
    dup = make_session("nobody", alice + 50, 501);
    assert_int_equal(gh_store_session_insert(f->store, &dup), GH_STORE_NOT_FOUND);
    dup = make_session("", alice, 501);
    assert_int_equal(gh_store_session_insert(f->store, &dup), GH_STORE_ERROR);

    assert_int_equal(gh_store_session_delete(f->store, r.id), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, r.id, &got), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_delete(f->store, r.id), GH_STORE_NOT_FOUND);
}

static void test_session_delete_account(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f->store, "alice"), bob = add_account(f->store, "bob");
    gh_session_record r;
    int count = -1;

    insert_session(f->store, "a1", alice, 1);
    insert_session(f->store, "a2", alice, 2);
    insert_session(f->store, "a3", alice, 3);
    insert_session(f->store, "b1", bob, 4);
    assert_int_equal(gh_store_session_delete_account(f->store, alice, &count), GH_STORE_OK);
    assert_int_equal(count, 3);
    assert_int_equal(gh_store_session_get(f->store, "a2", &r), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(f->store, "b1", &r), GH_STORE_OK);
    assert_int_equal(gh_store_session_delete_account(f->store, alice, &count), GH_STORE_OK);
    assert_int_equal(count, 0);
    assert_int_equal(gh_store_session_delete_account(f->store, bob, NULL), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "b1", &r), GH_STORE_NOT_FOUND);
}

static void put_session(gh_store *s, const char *id, int64_t account, int64_t last_used,
                        int64_t idle, int64_t expires)
{
    gh_session_record r = make_session(id, account, last_used - 1);

    r.last_used = last_used;
    r.idle_timeout = idle;
    r.expires = expires;
    assert_int_equal(gh_store_session_insert(s, &r), GH_STORE_OK);
}

static void test_session_expire(void **state)
{
    static const struct {
        const char *id;
        int64_t     age, idle, expires_in;  /* expires_in 0: no absolute end */
        bool        ended;
    } cases[] = {
        { "idle-default", 100, 0, 0, true },        /* 100 >= 60 */
        { "fresh-default", 30, 0, 0, false },
        { "edge-default", 60, 0, 0, true },         /* exactly 60 */
        { "own-long", 100, 200, 0, false },         /* own beats default */
        { "own-short", 20, 10, 0, true },
        { "negative", 100, -5, 0, true },           /* as 0: default */
        { "ended", 0, 0, 1, true },                 /* absolute end: expires = now */
        { "not-ended", 0, 0, 2, false },
    };
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice"), now = 100000, seq, from = 0, live;
    gh_session_record r;
    int count = -1, lifetime = -1;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_session(f->store, cases[i].id, acct, now - cases[i].age, cases[i].idle,
                    cases[i].expires_in ? now + cases[i].expires_in - 1 : 0);
        /* the rule in C says what the statement does */
        assert_int_equal(gh_store_session_get(f->store, cases[i].id, &r), GH_STORE_OK);
        assert_int_equal(gh_store_session_ended(&r, now, 60), cases[i].ended);
    }
    /* Counting the live ones applies the same rule, to the account's own. */
    put_session(f->store, "bob-fresh", add_account(f->store, "bob"), now, 0, 0);
    live = -1;
    assert_int_equal(gh_store_session_count_live(f->store, acct, now, 60, &live), GH_STORE_OK);
    assert_int_equal(live, 3);
    assert_int_equal(gh_store_session_count_live(f->store, acct, now, 0, &live), GH_STORE_OK);
    assert_int_equal(live, 6);      /* no default: only own timeouts and absolute ends */
    assert_int_equal(gh_store_session_count_live(f->store, acct + 100, now, 60, &live),
                     GH_STORE_OK);
    assert_int_equal(live, 0);
    assert_int_equal(gh_store_session_count_live(f->store, acct, now, 60, NULL), GH_STORE_ERROR);
    seq = last_seq(f->store);
    assert_int_equal(gh_store_session_expire(f->store, now, 60, &from, &count, &lifetime),
                     GH_STORE_OK);
    assert_int_equal(count, 5);
    assert_int_equal(lifetime, 1);  /* "ended": its absolute end came before its idle one */
    assert_true(from > 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(gh_store_session_get(f->store, cases[i].id, &r),
                         cases[i].ended ? GH_STORE_NOT_FOUND : GH_STORE_OK);
    no_change(f->store, seq);

    /* no default: a 0 timeout never idles out, an absolute end still applies */
    put_session(f->store, "ancient", acct, 1, 0, 0);
    from = 0;
    assert_int_equal(gh_store_session_expire(f->store, now + 1, 0, &from, &count, &lifetime),
                     GH_STORE_OK);
    assert_int_equal(count, 1);     /* not-ended */
    assert_int_equal(lifetime, 1);  /* no idle end at all */
    assert_int_equal(gh_store_session_get(f->store, "ancient", &r), GH_STORE_OK);
    assert_false(gh_store_session_ended(&r, now + 1, 0));
    assert_int_equal(gh_store_session_expire(f->store, now + 1, 0, &from, NULL, NULL),
                     GH_STORE_OK);
    assert_int_equal(gh_store_session_expire(f->store, now + 1, 0, NULL, &count, &lifetime),
                     GH_STORE_ERROR);
}

/* Sessions stored, counted through a connection of its own. */
static int count_row(const gh_session_record *rec, void *arg)
{
    (void)rec;
    (*(int *)arg)++;
    return 0;
}

static int stored_rows(fixture *f)
{
    gh_store *other = NULL;
    int n = 0;

    assert_int_equal(store_open(f, &other), GH_STORE_OK);
    assert_int_equal(gh_store_session_scan(other, 0, INT64_MAX, count_row, &n), GH_STORE_OK);
    gh_store_close(other);
    return n;
}

/* A sweep larger than a batch: each call deletes one batch and commits it
 * (another connection sees it gone), the position moves past it, the live
 * sessions among the ended ones stay, and the last batch comes back short. */
static void test_session_expire_batches(void **state)
{
    enum { TOTAL = 24000, LIVE = TOTAL / 8, ENDED = TOTAL - LIVE };
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice"), now = 100000, from = 0, last;
    char id[GH_SESSION_ID_LEN + 1];
    gh_session_record r;
    int count, left = ENDED;

    assert_true(ENDED > 2 * GH_STORE_EXPIRE_BATCH && ENDED < 3 * GH_STORE_EXPIRE_BATCH);
    /* Written a thousand per transaction: one commit of all of them can take
     * Redis longer than the fixture's timeout on a loaded machine. */
    for (int i = 0; i < TOTAL; i++) {
        if (i % 1000 == 0)
            assert_int_equal(gh_store_begin(f->store), GH_STORE_OK);
        snprintf(id, sizeof id, "s%06d", i);
        put_session(f->store, id, acct, i % 8 == 0 ? now : now - 100, 0, 0);
        if (i % 1000 == 999 || i == TOTAL - 1)
            assert_int_equal(gh_store_end(f->store, GH_STORE_OK), GH_STORE_OK);
    }
    for (int batch = 0; left > 0; batch++) {
        last = from;
        assert_int_equal(gh_store_session_expire(f->store, now, 60, &from, &count, NULL),
                         GH_STORE_OK);
        assert_int_equal(count, left < GH_STORE_EXPIRE_BATCH ? left : GH_STORE_EXPIRE_BATCH);
        assert_true(from > last);
        left -= count;
        assert_int_equal(stored_rows(f), LIVE + left);
        assert_true(batch < 3);
    }
    /* nothing after the position, nor from the start */
    assert_int_equal(gh_store_session_expire(f->store, now, 60, &from, &count, NULL),
                     GH_STORE_OK);
    assert_int_equal(count, 0);
    from = 0;
    assert_int_equal(gh_store_session_expire(f->store, now, 60, &from, &count, NULL),
                     GH_STORE_OK);
    assert_int_equal(count, 0);
    assert_int_equal(from, 0);
    for (int i = 0; i < TOTAL; i += 8) {
        snprintf(id, sizeof id, "s%06d", i);
        assert_int_equal(gh_store_session_get(f->store, id, &r), GH_STORE_OK);
    }
}

static void test_session_touch(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice"), seq;
    gh_session_touch t[3];
    gh_session_record r;

    insert_session(f->store, "s1", acct, 100);
    insert_session(f->store, "s2", acct, 100);
    memset(t, 0, sizeof t);
    snprintf(t[0].id, sizeof t[0].id, "s1");
    t[0].last_used = 200;
    snprintf(t[1].id, sizeof t[1].id, "s2");
    t[1].last_used = 50;                        /* older: ignored */
    snprintf(t[2].id, sizeof t[2].id, "gone");  /* deleted meanwhile: ignored */
    t[2].last_used = 300;
    seq = last_seq(f->store);
    assert_int_equal(gh_store_session_touch(f->store, t, 3), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "s1", &r), GH_STORE_OK);
    assert_int_equal(r.last_used, 200);
    assert_int_equal(gh_store_session_get(f->store, "s2", &r), GH_STORE_OK);
    assert_int_equal(r.last_used, 100);
    assert_int_equal(gh_store_session_touch(f->store, NULL, 0), GH_STORE_OK);
    assert_int_equal(gh_store_session_touch(f->store, NULL, 1), GH_STORE_ERROR);
    no_change(f->store, seq);
}

typedef struct {
    gh_session_record rows[64];
    int               n;
    int               stop_after;
    gh_store         *revoke;       /* delete each session seen, through this store */
} session_walk;

static int walk_session(const gh_session_record *r, void *arg)
{
    session_walk *w = arg;

    if (w->n < 64)
        w->rows[w->n] = *r;
    w->n++;
    if (w->revoke != NULL && gh_store_session_delete(w->revoke, r->id) != GH_STORE_OK)
        return 1;
    return w->stop_after != 0 && w->n >= w->stop_after;
}

static void test_session_foreach(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f->store, "alice"), bob = add_account(f->store, "bob");
    session_walk *w = calloc(1, sizeof *w);
    char id[GH_SESSION_ID_LEN + 1];

    assert_non_null(w);
    /* 40 sessions, created out of order with ties: more than a page */
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "s%02d", (i * 7) % 40);
        insert_session(f->store, id, i % 4 == 0 ? bob : alice, 1000 + (i * 13) % 10);
    }
    assert_int_equal(gh_store_session_foreach(f->store, -1, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 40);
    for (int i = 1; i < 40; i++) {
        const gh_session_record *a = &w->rows[i - 1], *b = &w->rows[i];

        assert_true(a->created < b->created ||
                    (a->created == b->created && strcmp(a->id, b->id) < 0));
    }

    memset(w, 0, sizeof *w);
    assert_int_equal(gh_store_session_foreach(f->store, bob, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 10);
    for (int i = 0; i < w->n; i++)
        assert_int_equal(w->rows[i].account_id, bob);
    for (int i = 1; i < w->n; i++)
        assert_true(w->rows[i - 1].created <= w->rows[i].created);

    memset(w, 0, sizeof *w);
    w->stop_after = 17;
    assert_int_equal(gh_store_session_foreach(f->store, alice, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 17);

    memset(w, 0, sizeof *w);
    assert_int_equal(gh_store_session_foreach(f->store, bob + 10, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 0);

    /* a callback may write through the store it walks: revoke them all */
    memset(w, 0, sizeof *w);
    w->revoke = f->store;
    assert_int_equal(gh_store_session_foreach(f->store, -1, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 40);
    memset(w, 0, sizeof *w);
    assert_int_equal(gh_store_session_foreach(f->store, -1, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 0);
    free(w);
}

/* The one-pass scan: every session, in the order stored (not by creation),
 * a callback's non-zero return stops it, and an empty table calls nothing;
 * a rowid range holds just its rows, and ranges split at the last rowid
 * cover the table once. */
static void test_session_scan(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f->store, "alice"), bob = add_account(f->store, "bob");
    session_walk *w = calloc(1, sizeof *w);
    char id[GH_SESSION_ID_LEN + 1];
    int64_t last;

    assert_non_null(w);
    assert_int_equal(gh_store_session_rowid_last(f->store, &last), GH_STORE_OK);
    assert_int_equal(last, 0);
    assert_int_equal(gh_store_session_scan(f->store, INT64_MIN, INT64_MAX, walk_session, w),
                     GH_STORE_OK);
    assert_int_equal(w->n, 0);
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "s%02d", (i * 7) % 40);
        insert_session(f->store, id, i % 4 == 0 ? bob : alice, 2000 - i);
    }
    assert_int_equal(gh_store_session_scan(f->store, INT64_MIN, INT64_MAX, walk_session, w),
                     GH_STORE_OK);
    assert_int_equal(w->n, 40);
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "s%02d", (i * 7) % 40);
        assert_string_equal(w->rows[i].id, id);
        assert_int_equal(w->rows[i].created, 2000 - i);
        assert_int_equal(w->rows[i].account_id, i % 4 == 0 ? bob : alice);
    }
    /* rowids 11..20: the 11th to the 20th row stored */
    assert_int_equal(gh_store_session_rowid_last(f->store, &last), GH_STORE_OK);
    assert_int_equal(last, 40);
    memset(w, 0, sizeof *w);
    assert_int_equal(gh_store_session_scan(f->store, 10, 20, walk_session, w), GH_STORE_OK);
    assert_int_equal(w->n, 10);
    assert_int_equal(w->rows[0].created, 2000 - 10);
    assert_int_equal(w->rows[9].created, 2000 - 19);
    /* three ranges split at 13 and 26, the last open-ended: 40 rows once */
    memset(w, 0, sizeof *w);
    assert_int_equal(gh_store_session_scan(f->store, INT64_MIN, 13, walk_session, w),
                     GH_STORE_OK);
    assert_int_equal(gh_store_session_scan(f->store, 13, 26, walk_session, w), GH_STORE_OK);
    assert_int_equal(gh_store_session_scan(f->store, 26, INT64_MAX, walk_session, w),
                     GH_STORE_OK);
    assert_int_equal(w->n, 40);
    for (int i = 0; i < 40; i++)
        assert_int_equal(w->rows[i].created, 2000 - i);
    memset(w, 0, sizeof *w);
    w->stop_after = 17;
    assert_int_equal(gh_store_session_scan(f->store, INT64_MIN, INT64_MAX, walk_session, w),
                     GH_STORE_OK);
    assert_int_equal(w->n, 17);
    /* the statement was reset: a write and a second scan go through */
    assert_int_equal(gh_store_session_delete(f->store, "s00"), GH_STORE_OK);
    memset(w, 0, sizeof *w);
    assert_int_equal(gh_store_session_scan(f->store, INT64_MIN, INT64_MAX, walk_session, w),
                     GH_STORE_OK);
    assert_int_equal(w->n, 39);
    assert_int_equal(gh_store_session_scan(f->store, INT64_MIN, INT64_MAX, NULL, w), GH_STORE_ERROR);
    free(w);
}

static void test_durable_close_reopen(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice");
    gh_session_record r;
    gh_account a;
    int64_t v;

    insert_session(f->store, "s1", acct, 100);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 900), GH_STORE_OK);
    gh_store_close(f->store);
    f->store = NULL;
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(gh_store_account_get(f->store, "alice", &a), GH_STORE_OK);
    assert_int_equal(a.id, acct);
    assert_int_equal(gh_store_session_get(f->store, "s1", &r), GH_STORE_OK);
    assert_int_equal(gh_store_setting_get(f->store, "SessionTimeout", &v), GH_STORE_OK);
    assert_int_equal(v, 900);
}

/* A session acknowledged by a process killed right after survives it. */
static void test_durable_kill9(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice");
    gh_session_record r;
    int status = 0;
    pid_t pid;

    insert_session(f->store, "doomed", acct, 50);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        gh_store *child = NULL;
        gh_session_record cr = make_session("survivor", acct, 100);

        if (store_open(f, &child) != GH_STORE_OK ||
            gh_store_session_insert(child, &cr) != GH_STORE_OK ||
            gh_store_session_delete(child, "doomed") != GH_STORE_OK)
            _exit(1);
        raise(SIGKILL);     /* no close, no checkpoint */
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    gh_store_close(f->store);
    f->store = NULL;
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(f->store, "survivor", &r), GH_STORE_OK);
    assert_int_equal(r.account_id, acct);
    assert_int_equal(gh_store_session_get(f->store, "doomed", &r), GH_STORE_NOT_FOUND);
}

static void test_settings(void **state)
{
    fixture *f = *state;
    int64_t v = 7;

    assert_int_equal(gh_store_setting_get(f->store, "LockoutThreshold", &v), GH_STORE_NOT_FOUND);
    assert_int_equal(v, 7);
    assert_int_equal(gh_store_setting_set(f->store, "LockoutThreshold", 5), GH_STORE_OK);
    assert_int_equal(gh_store_setting_get(f->store, "LockoutThreshold", &v), GH_STORE_OK);
    assert_int_equal(v, 5);
    assert_int_equal(gh_store_setting_set(f->store, "LockoutThreshold", -1), GH_STORE_OK);
    assert_int_equal(gh_store_setting_get(f->store, "LockoutThreshold", &v), GH_STORE_OK);
    assert_int_equal(v, -1);
    assert_int_equal(gh_store_setting_set(f->store, "", 1), GH_STORE_ERROR);
    assert_int_equal(gh_store_setting_set(f->store, NULL, 1), GH_STORE_ERROR);
}

static void test_change_log(void **state)
{
    fixture *f = *state;
    int64_t seq = last_seq(f->store), acct, first;
    gh_account a = make_account("alice"), stale;
    const char *longkey = "AVeryLongSettingKeyThatDoesNotFitTheField";
    gh_change c;
    changes cs;
    int count;

    assert_int_equal(seq, 0);
    no_change(f->store, 0);

    /* adding an account or a session tells no worker anything */
    assert_int_equal(gh_store_account_add(f->store, &a), GH_STORE_OK);
    acct = a.id;
    insert_session(f->store, "s1", acct, 10);
    insert_session(f->store, "s2", acct, 11);
    no_change(f->store, seq);

    stale = a;
    a.enabled = false;
    assert_int_equal(gh_store_account_update(f->store, &a, a.generation), GH_STORE_OK);
    c = one_change(f->store, seq, GH_CHANGE_ACCOUNT);
    assert_int_equal(c.subject_id, acct);
    seq = first = c.seq;
    assert_int_equal(last_seq(f->store), seq);

    /* failed writes log nothing */
    assert_int_equal(gh_store_account_update(f->store, &stale, stale.generation), GH_STORE_CONFLICT);
    assert_int_equal(gh_store_session_delete(f->store, "nope"), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_account_delete(f->store, acct + 9), GH_STORE_NOT_FOUND);
    no_change(f->store, seq);

    assert_int_equal(gh_store_session_delete(f->store, "s1"), GH_STORE_OK);
    c = one_change(f->store, seq, GH_CHANGE_SESSION);
    assert_string_equal(c.subject, "s1");
    seq = c.seq;

    assert_int_equal(gh_store_session_delete_account(f->store, acct, &count), GH_STORE_OK);
    assert_int_equal(count, 1);
    c = one_change(f->store, seq, GH_CHANGE_ACCOUNT);
    assert_int_equal(c.subject_id, acct);
    seq = c.seq;

    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 60), GH_STORE_OK);
    c = one_change(f->store, seq, GH_CHANGE_SETTING);
    assert_string_equal(c.subject, "SessionTimeout");
    seq = c.seq;
    assert_int_equal(gh_store_setting_set(f->store, longkey, 1), GH_STORE_OK);
    c = one_change(f->store, seq, GH_CHANGE_SETTING);
    assert_int_equal(strlen(c.subject), GH_SESSION_ID_LEN);
    assert_memory_equal(c.subject, longkey, GH_SESSION_ID_LEN);
    seq = c.seq;

    assert_int_equal(gh_store_account_delete(f->store, acct), GH_STORE_OK);
    c = one_change(f->store, seq, GH_CHANGE_ACCOUNT);
    assert_int_equal(c.subject_id, acct);
    seq = c.seq;

    /* the whole log, in order; a callback may stop it */
    cs = changes_since(f->store, 0);
    assert_int_equal(cs.n, 6);
    assert_int_equal(cs.rows[0].seq, first);
    for (size_t i = 1; i < cs.n; i++)
        assert_true(cs.rows[i].seq > cs.rows[i - 1].seq);
    memset(&cs, 0, sizeof cs);
    cs.stop_after = 2;
    assert_int_equal(gh_store_change_since(f->store, 0, collect_change, &cs), GH_STORE_OK);
    assert_int_equal(cs.n, 2);

    /* more than a page */
    for (int i = 0; i < 40; i++)
        assert_int_equal(gh_store_setting_set(f->store, "MinPasswordLength", i), GH_STORE_OK);
    assert_int_equal(changes_since(f->store, seq).n, 40);
    seq = last_seq(f->store);

    /* prune drops rows before a sequence; numbers never go back */
    assert_int_equal(gh_store_change_prune(f->store, first + 2), GH_STORE_OK);
    cs = changes_since(f->store, 0);
    assert_int_equal(cs.n, 44);
    assert_int_equal(cs.rows[0].seq, first + 2);
    assert_int_equal(gh_store_change_prune(f->store, seq + 1), GH_STORE_OK);
    no_change(f->store, 0);
    assert_int_equal(last_seq(f->store), seq);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 61), GH_STORE_OK);
    c = one_change(f->store, 0, GH_CHANGE_SETTING);
    assert_true(c.seq > seq);
}

static void test_two_connections(void **state)
{
    fixture *f = *state;
    gh_store *b = NULL;
    gh_session_record r;
    gh_account a;
    int64_t v, seq;
    uint8_t s1[GH_DIGEST_LEN], s2[GH_DIGEST_LEN];

    assert_int_equal(store_open(f, &b), GH_STORE_OK);
    assert_int_equal(gh_store_secret(f->store, s1), GH_STORE_OK);
    assert_int_equal(gh_store_secret(b, s2), GH_STORE_OK);
    assert_memory_equal(s1, s2, sizeof s1);

    seq = last_seq(b);
    a = make_account("alice");
    assert_int_equal(gh_store_account_add(f->store, &a), GH_STORE_OK);
    assert_int_equal(gh_store_account_get(b, "alice", &a), GH_STORE_OK);
    insert_session(b, "s1", a.id, 5);
    assert_int_equal(gh_store_session_get(f->store, "s1", &r), GH_STORE_OK);
    assert_int_equal(gh_store_setting_set(f->store, "LockoutDuration", 300), GH_STORE_OK);
    assert_int_equal(gh_store_setting_get(b, "LockoutDuration", &v), GH_STORE_OK);
    assert_int_equal(v, 300);
    assert_int_equal(one_change(b, seq, GH_CHANGE_SETTING).seq, last_seq(f->store));

    /* a generation check across connections */
    assert_int_equal(gh_store_account_update(b, &a, a.generation), GH_STORE_OK);
    a.generation = 1;
    assert_int_equal(gh_store_account_update(f->store, &a, 1), GH_STORE_CONFLICT);
    assert_int_equal(gh_store_session_delete(f->store, "s1"), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(b, "s1", &r), GH_STORE_NOT_FOUND);
    gh_store_close(b);
}

/* The per-account limit in one step with the insert: under it, at it (the
 * insert refused and nothing stored), ended sessions not counted, no limit
 * at 0, and what a plain insert refuses refused the same way. */
static void test_insert_limited(void **state)
{
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice"), now = 100000, live = -1;
    gh_session_record old = make_session("old", acct, now - 1000), r;

    assert_int_equal(gh_store_session_insert(f->store, &old), GH_STORE_OK);
    r = make_session("s1", acct, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 2, now, 60), GH_STORE_OK);
    r = make_session("s2", acct, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 2, now, 60), GH_STORE_OK);
    r = make_session("s3", acct, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 2, now, 60), GH_STORE_LIMIT);
    assert_int_equal(gh_store_session_get(f->store, "s3", &r), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_count_live(f->store, acct, now, 60, &live), GH_STORE_OK);
    assert_int_equal(live, 2);
    /* with no default idle the old one is live: the limit is reached sooner */
    r = make_session("s3", acct, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 3, now, 0), GH_STORE_LIMIT);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 3, now, 60), GH_STORE_OK);
    r = make_session("s4", acct, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 0, now, 60), GH_STORE_OK);
    /* a taken id, a missing account */
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 0, now, 60),
                     GH_STORE_EXISTS);
    r = make_session("s5", acct + 100, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 10, now, 60),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_insert_limited(NULL, &r, 10, now, 60), GH_STORE_ERROR);
}

/* The limit counts live sessions only, also when ended ones fill the
 * account past it (a backend may skip the count while the account holds
 * fewer sessions than the limit, live or not, and must count beyond). */
static void test_insert_limited_ended_fill(void **state)
{
    fixture *f = *state;
    int64_t alice = add_account(f->store, "alice"), bob = add_account(f->store, "bob");
    int64_t now = 100000;
    char id[GH_SESSION_ID_LEN + 1];
    gh_session_record r;

    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "ended%d", i);
        r = make_session(id, alice, now - 1000);
        assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "live%d", i);
        r = make_session(id, alice, now);
        assert_int_equal(gh_store_session_insert_limited(f->store, &r, 3, now, 60), GH_STORE_OK);
    }
    r = make_session("live3", alice, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 3, now, 60), GH_STORE_LIMIT);

    /* fewer sessions than the limit, then exactly as many, all live */
    r = make_session("b0", bob, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 2, now, 60), GH_STORE_OK);
    r = make_session("b1", bob, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 2, now, 60), GH_STORE_OK);
    r = make_session("b2", bob, now);
    assert_int_equal(gh_store_session_insert_limited(f->store, &r, 2, now, 60), GH_STORE_LIMIT);
}

/* Several processes inserting at once, each through its own connection,
 * never take the account past its limit together. */
static void test_insert_limited_racing(void **state)
{
    enum { PROCS = 4, TRIES = 6, LIMIT = 9 };
    fixture *f = *state;
    int64_t acct = add_account(f->store, "alice"), now = gh_now(), live = -1;
    pid_t pids[PROCS];
    int status, made = 0;

    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            gh_store *s = NULL;
            int ok = 0;

            if (store_open(f, &s) != GH_STORE_OK)
                _exit(255);
            for (int i = 0; i < TRIES; i++) {
                char id[GH_SESSION_ID_LEN + 1];
                gh_session_record r;

                snprintf(id, sizeof id, "p%d-%d", p, i);
                r = make_session(id, acct, now);
                if (gh_store_session_insert_limited(s, &r, LIMIT, now, 600) == GH_STORE_OK)
                    ok++;
            }
            gh_store_close(s);
            _exit(ok);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 255);
        made += WEXITSTATUS(status);
    }
    assert_int_equal(made, LIMIT);
    assert_int_equal(gh_store_session_count_live(f->store, acct, now, 600, &live), GH_STORE_OK);
    assert_int_equal(live, LIMIT);
}

/* A session by its digest, with its account's part and the log's sequence
 * read with it; none for an unknown digest or a disabled account. */
static void test_find_digest(void **state)
{
    fixture *f = *state;
    gh_account a = make_account("alice");
    gh_session_record r, got;
    gh_store_session_owner own;
    uint8_t unknown[GH_DIGEST_LEN];

    a.role = GH_ROLE_ADMINISTRATOR;
    a.password_change_required = true;
    a.locked_until = 12345;
    assert_int_equal(gh_store_account_add(f->store, &a), GH_STORE_OK);
    r = make_session("s1", a.id, 500);
    r.idle_timeout = 30;
    r.expires = 9000;
    assert_int_equal(gh_store_session_insert(f->store, &r), GH_STORE_OK);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 61), GH_STORE_OK);
    memset(&own, 0, sizeof own);
    assert_int_equal(gh_store_session_find_digest(f->store, r.digest, &got, &own), GH_STORE_OK);
    assert_memory_equal(&got, &r, sizeof r);
    assert_int_equal(own.role, GH_ROLE_ADMINISTRATOR);
    assert_true(own.password_change_required);
    assert_true(own.enabled);
    assert_int_equal(own.locked_until, 12345);
    assert_int_equal(own.seq, last_seq(f->store));
    assert_int_equal(gh_store_session_find_digest(f->store, r.digest, &got, NULL), GH_STORE_OK);
    memset(unknown, 0x5a, sizeof unknown);
    assert_int_equal(gh_store_session_find_digest(f->store, unknown, &got, &own),
                     GH_STORE_NOT_FOUND);
    a.enabled = false;
    assert_int_equal(gh_store_account_update(f->store, &a, -1), GH_STORE_OK);
    assert_int_equal(gh_store_session_find_digest(f->store, r.digest, &got, &own),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_find_digest(NULL, r.digest, &got, &own), GH_STORE_ERROR);
}

/* gh_store_failure_count gives exactly what gh_lockout_count computes on
 * the row it read: a new counter, counts in a window, a window gone
 * stale, the threshold locking (and starting again from zero), and no
 * threshold; each row as stored, read back. */
static void test_failure_count(void **state)
{
    static const struct {
        int64_t now, reset_after, threshold, duration;
    } steps[] = {
        { 1000, 60, 3, 300 }, { 1010, 60, 3, 300 }, { 1020, 60, 3, 300 },    /* locks */
        { 1030, 60, 3, 300 }, { 1200, 60, 3, 300 },                          /* stale */
        { 1201, 60, 0, 300 }, { 1202, 60, 0, 300 }, { 1203, 60, 2, 10 },
        { 5000, 30, 1, 50 },
    };
    fixture *f = *state;
    gh_failure want, got, read;
    uint8_t key[GH_DIGEST_LEN], owner[GH_DIGEST_LEN];
    bool locked, want_locked;

    memset(key, 0x11, sizeof key);
    memset(owner, 0x22, sizeof owner);
    memset(&want, 0, sizeof want);
    memcpy(want.key, key, sizeof key);
    memcpy(want.owner, owner, sizeof owner);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        want_locked = gh_lockout_count(&want, steps[i].now, steps[i].reset_after,
                                       steps[i].threshold, steps[i].duration);
        locked = !want_locked;
        assert_int_equal(gh_store_failure_count(f->store, key, owner, steps[i].now,
                                                steps[i].reset_after, steps[i].threshold,
                                                steps[i].duration, &got, &locked),
                         GH_STORE_OK);
        assert_int_equal(locked, want_locked);
        assert_memory_equal(&got, &want, sizeof want);
        assert_int_equal(gh_store_failure_get(f->store, key, &read), GH_STORE_OK);
        assert_memory_equal(&read, &want, sizeof want);
    }
    /* the owner's counters go together */
    assert_int_equal(gh_store_failure_clear_owner(f->store, owner), GH_STORE_OK);
    assert_int_equal(gh_store_failure_get(f->store, key, &read), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_failure_count(NULL, key, owner, 1, 1, 1, 1, &got, &locked),
                     GH_STORE_ERROR);
}

static int see_directory(const gh_stored_directory *row, void *arg)
{
    gh_stored_directory *rows = arg;

    for (int i = 0; i < 2; i++) {
        if (rows[i].name[0] == '\0') {
            rows[i] = *row;
            rows[i].text = row->text != NULL ? "" : NULL;
            return 0;
        }
    }
    return 1;
}

/* What `gatehouse store copy` writes: accounts with their ids, generations
 * and creation times; directory rows with their revisions; the log's floor;
 * the secret. */
static void test_imports(void **state)
{
    fixture *f = *state;
    gh_account a = make_account("alice"), got, b;
    gh_stored_directory rows[2], row = { .name = "corp", .text = "url = ldap://x\n",
                                         .revision = 41 };
    uint8_t secret[GH_DIGEST_LEN], read[GH_DIGEST_LEN];
    int64_t seq;

    a.id = 42;
    a.generation = 7;
    a.created = 1234;
    assert_int_equal(gh_store_account_import(f->store, &a), GH_STORE_OK);
    assert_int_equal(gh_store_account_get_by_id(f->store, 42, &got), GH_STORE_OK);
    assert_account_equal(&got, &a);
    assert_int_equal(gh_store_account_import(f->store, &a), GH_STORE_EXISTS);
    b = a;
    b.id = 43;
    assert_int_equal(gh_store_account_import(f->store, &b), GH_STORE_EXISTS);   /* the name */
    b = make_account("bob");
    assert_int_equal(gh_store_account_add(f->store, &b), GH_STORE_OK);
    assert_true(b.id != 42);

    assert_int_equal(gh_store_directory_import(f->store, &row), GH_STORE_OK);
    row = (gh_stored_directory){ .name = "gone", .text = NULL, .revision = 43 };
    assert_int_equal(gh_store_directory_import(f->store, &row), GH_STORE_OK);
    memset(rows, 0, sizeof rows);
    assert_int_equal(gh_store_directory_foreach(f->store, see_directory, rows), GH_STORE_OK);
    assert_string_equal(rows[0].name, "corp");
    assert_int_equal(rows[0].revision, 41);
    assert_non_null(rows[0].text);
    assert_string_equal(rows[1].name, "gone");
    assert_int_equal(rows[1].revision, 43);
    assert_null(rows[1].text);

    seq = last_seq(f->store);
    assert_int_equal(gh_store_change_floor(f->store, seq + 1000), GH_STORE_OK);
    assert_int_equal(last_seq(f->store), seq + 1000);
    assert_int_equal(gh_store_change_floor(f->store, 5), GH_STORE_OK);
    assert_int_equal(last_seq(f->store), seq + 1000);       /* never backwards */
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 9), GH_STORE_OK);
    assert_true(one_change(f->store, seq + 1000, GH_CHANGE_SETTING).seq > seq + 1000);

    memset(secret, 0x6b, sizeof secret);
    assert_int_equal(gh_store_secret_import(f->store, secret), GH_STORE_OK);
    assert_int_equal(gh_store_secret(f->store, read), GH_STORE_OK);
    assert_memory_equal(read, secret, sizeof read);
    gh_store_close(f->store);
    f->store = NULL;
    assert_int_equal(store_open(f, &f->store), GH_STORE_OK);
    assert_int_equal(gh_store_secret(f->store, read), GH_STORE_OK);
    assert_memory_equal(read, secret, sizeof read);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test_setup_teardown(test_secret_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_delete_cascades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_foreach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_delete_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expire_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_foreach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_close_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttle_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_limited_racing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_limited_ended_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imports, setup, teardown),
    };

    /* what the dialect table says (gh_dialect_store_setup) */
    static const char *const numbered[] = { "redfish", "ovirt", "powerstore" };

    gh_store_numbered_dialects(numbered, 3);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
