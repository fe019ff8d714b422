/*
 * test_session_cached.c: the cached session store (session_cached.c) and
 * the cache's upkeep (service_sync.c) on a block in cache mode over the
 * embedded store, as a node of several would run them over Redis: a session
 * another node made (inserted in the store only) is found through the miss
 * path, by a thread's store at once and by the event loop's through its
 * defer hook, and then held; a revocation logged while a fill is on its way
 * is not undone; an idle verdict is the store's; the store down or failing
 * answers GH_SHARED_UNAVAILABLE, a change log that cannot be read drops the
 * cache and the next that can starts it over; the store's sweep waits its
 * grace. Out of cache mode the store is never asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "../../src/core/service.h"

#define STORE_OK(expr) assert_int_equal((expr), GH_STORE_OK)
#define IDLE 60

typedef struct {
    char              dir[64], db[128], audit_path[128];
    gh_config         cfg;
    gh_service        svc;          /* this node's thread: its own store */
    gh_store         *other;        /* another node's connection */
    void             *mem;
    gh_session_store *loop;         /* the event loop's: no store, a defer hook */
    gh_session_miss  *deferred;     /* what the hook was handed */
    int64_t           account;
} fixture;

static bool defer_keep(void *defer_arg, gh_session_miss *miss, void *find_arg)
{
    fixture *f = defer_arg;

    (void)find_arg;
    f->deferred = miss;
    return true;
}

static bool defer_refuse(void *defer_arg, gh_session_miss *miss, void *find_arg)
{
    (void)defer_arg;
    (void)miss;
    (void)find_arg;
    return false;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gh_shared_limits l = { 64, 16, 16 };
    gh_account acct;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/gh_cached_test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/gatehouse.db", f->dir);
    snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.log", f->dir);
    gh_config_defaults(&f->cfg);
    f->cfg.session_timeout = IDLE;
    STORE_OK(gh_store_open(f->db, &f->svc.store));
    STORE_OK(gh_store_open(f->db, &f->other));
    STORE_OK(gh_store_secret(f->svc.store, f->svc.secret));
    assert_int_equal(gh_audit_open(f->audit_path, &f->svc.audit), 0);
    f->svc.config = &f->cfg;
    assert_non_null(f->mem = malloc(gh_shared_size(&l)));
    assert_non_null(f->svc.shared = gh_shared_format(f->mem, &l, (gh_shared_lock){ 0 }));
    gh_shared_set_cached(f->svc.shared, true);
    STORE_OK(gh_service_load(&f->svc));
    assert_non_null(f->svc.sessions = gh_session_store_cached(f->svc.shared, f->svc.store,
                                                              NULL, NULL));
    assert_non_null(f->loop = gh_session_store_cached(f->svc.shared, NULL, defer_keep, f));
    memset(&acct, 0, sizeof(acct));
    snprintf(acct.name, sizeof(acct.name), "alice");
    snprintf(acct.domain, sizeof(acct.domain), "internal");
    acct.role = GH_ROLE_OPERATOR;
    acct.enabled = true;
    snprintf(acct.password_hash, sizeof(acct.password_hash), "x");
    STORE_OK(gh_store_account_add(f->other, &acct));
    f->account = acct.id;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    gh_session_miss_free(f->deferred);
    gh_session_store_close(f->loop);
    gh_session_store_close(f->svc.sessions);
    gh_shared_detach(f->svc.shared);
    gh_store_close(f->svc.store);
    gh_store_close(f->other);
    gh_audit_close(f->svc.audit);
    free(f->mem);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Session n of alice, made on another node (in the store only), last used
 * at last_used; its token's digest is n repeated. */
static gh_session_record other_node_session(fixture *f, uint8_t n, int64_t last_used)
{
    gh_session_record rec;

    memset(&rec, 0, sizeof(rec));
    snprintf(rec.id, sizeof(rec.id), "%032x", n);
    memset(rec.digest, n, sizeof(rec.digest));
    rec.account_id = f->account;
    snprintf(rec.user, sizeof(rec.user), "alice");
    snprintf(rec.dialect, sizeof(rec.dialect), "redfish");
    rec.created = rec.last_used = last_used;
    STORE_OK(gh_store_session_insert(f->other, &rec));
    return rec;
}

typedef struct {
    int              calls;
    gh_shared_result result;
    gh_principal     who;
} answer;

static void on_found(void *arg, gh_shared_result result, const gh_principal *who,
                     const gh_session_record *rec)
{
    answer *a = arg;

    (void)rec;
    a->calls++;
    a->result = result;
    if (who != NULL)
        a->who = *who;
}

static void test_miss_fills(void **state)
{
    fixture *f = *state;
    int64_t now = gh_now();
    gh_session_record a = other_node_session(f, 1, now), b = other_node_session(f, 2, now);
    uint8_t unknown[GH_DIGEST_LEN];
    gh_principal who;
    answer ans = { 0 };

    /* A thread's store asks at once, and the block holds it after. */
    assert_int_equal(gh_shared_session_get(f->svc.shared, a.id, NULL), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, NULL),
                     GH_SHARED_OK);
    assert_int_equal(who.account_id, f->account);
    assert_int_equal(who.role, GH_ROLE_OPERATOR);
    assert_string_equal(who.session_id, a.id);
    assert_string_equal(who.dialect, "redfish");
    assert_int_equal(gh_shared_session_get(f->svc.shared, a.id, NULL), GH_SHARED_OK);
    /* The loop's hands the lookup over and answers when it comes back. */
    gh_session_find(f->loop, b.digest, now, on_found, &ans);
    assert_int_equal(ans.calls, 0);
    assert_non_null(f->deferred);
    gh_session_miss_run(f->deferred, f->svc.store);
    assert_int_equal(gh_session_miss_result(f->deferred), GH_SHARED_OK);
    gh_session_miss_done(f->deferred);
    f->deferred = NULL;
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.result, GH_SHARED_OK);
    assert_string_equal(ans.who.session_id, b.id);
    /* Held now: the loop answers at once. */
    ans.calls = 0;
    gh_session_find(f->loop, b.digest, now, on_found, &ans);
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.result, GH_SHARED_OK);
    assert_null(f->deferred);
    /* A token nobody made: not found, and said so to the caller of run. */
    memset(unknown, 0x77, sizeof(unknown));
    gh_session_find(f->loop, unknown, now, on_found, &ans);
    gh_session_miss_run(f->deferred, f->svc.store);
    assert_int_equal(gh_session_miss_result(f->deferred), GH_SHARED_NOT_FOUND);
    gh_session_miss_done(f->deferred);
    f->deferred = NULL;
    assert_int_equal(ans.result, GH_SHARED_NOT_FOUND);
    /* A hook that takes nothing: unavailable, never a pass. */
    gh_session_store_close(f->loop);
    assert_non_null(f->loop = gh_session_store_cached(f->svc.shared, NULL, defer_refuse, f));
    gh_session_find(f->loop, unknown, now, on_found, &ans);
    assert_int_equal(ans.result, GH_SHARED_UNAVAILABLE);
}

/* The revocation comes between the fill's read and its add: the add is
 * refused, and the session stays out. */
static void test_revoke_during_fill(void **state)
{
    fixture *f = *state;
    int64_t now = gh_now();
    gh_session_record a = other_node_session(f, 3, now), read;
    gh_store_session_owner owner;
    gh_principal who;

    STORE_OK(gh_store_session_find_digest(f->svc.store, a.digest, &read, &owner));
    STORE_OK(gh_store_session_delete(f->other, a.id));            /* revoked elsewhere */
    STORE_OK(gh_service_apply_changes(&f->svc));                   /* and applied here */
    assert_int_equal(gh_shared_session_fill(f->svc.shared, &read, owner.role,
                                            owner.password_change_required, owner.seq),
                     GH_SHARED_STALE);
    assert_int_equal(gh_shared_session_get(f->svc.shared, a.id, NULL), GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, NULL),
                     GH_SHARED_NOT_FOUND);
    /* A fill read after the last change applied is kept. */
    a = other_node_session(f, 4, now);
    STORE_OK(gh_store_session_find_digest(f->svc.store, a.digest, &read, &owner));
    assert_int_equal(gh_shared_session_fill(f->svc.shared, &read, owner.role,
                                            owner.password_change_required, owner.seq),
                     GH_SHARED_OK);
    /* Revoked after it was held: the change log takes it out. */
    STORE_OK(gh_store_session_delete(f->other, a.id));
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_int_equal(gh_shared_session_get(f->svc.shared, a.id, NULL), GH_SHARED_NOT_FOUND);
}

/* Idle here is not idle everywhere: the store's last use decides. */
static void test_idle_rechecked(void **state)
{
    fixture *f = *state;
    int64_t now = gh_now();
    gh_session_record a = other_node_session(f, 5, now - 100);
    gh_session_record b = other_node_session(f, 6, now - 100), got;
    gh_session_touch touch;
    gh_principal who;

    /* Both held here, last used 100 s ago (an idle timeout of 60). */
    assert_int_equal(gh_shared_session_fill(f->svc.shared, &a, GH_ROLE_OPERATOR, false, 0),
                     GH_SHARED_OK);
    assert_int_equal(gh_shared_session_fill(f->svc.shared, &b, GH_ROLE_OPERATOR, false, 0),
                     GH_SHARED_OK);
    /* Another node used a 10 s ago. */
    memcpy(touch.id, a.id, sizeof(touch.id));
    touch.last_used = now - 10;
    STORE_OK(gh_store_session_touch(f->other, &touch, 1));
    assert_int_equal(gh_shared_session_find(f->svc.shared, a.digest, now, NULL, NULL),
                     GH_SHARED_STALE);
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, &got),
                     GH_SHARED_OK);
    assert_int_equal(gh_shared_session_get(f->svc.shared, a.id, &got), GH_SHARED_OK);
    assert_int_equal(got.last_used, now);
    /* Nobody used b: ended everywhere, and gone from the block. */
    assert_int_equal(gh_session_find_wait(f->svc.sessions, b.digest, now, &who, NULL),
                     GH_SHARED_NOT_FOUND);
    assert_int_equal(gh_shared_session_get(f->svc.shared, b.id, NULL), GH_SHARED_NOT_FOUND);
}

/* Run SQL on the store's file under it: a table renamed makes its reads
 * fail, as a store that stops answering does. */
static void store_sql(fixture *f, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void rename_table(fixture *f, const char *from, const char *to)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "ALTER TABLE %s RENAME TO %s", from, to);
    store_sql(f, sql);
}

static void test_store_down(void **state)
{
    fixture *f = *state;
    int64_t now = gh_now();
    gh_session_record a = other_node_session(f, 7, now), b = other_node_session(f, 8, now);
    gh_principal who;
    answer ans = { 0 };

    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, NULL),
                     GH_SHARED_OK);
    /* Lost: nothing held answers, and nothing is asked. */
    gh_shared_drop_all(f->svc.shared);
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, NULL),
                     GH_SHARED_UNAVAILABLE);
    gh_session_find(f->loop, b.digest, now, on_found, &ans);
    assert_int_equal(ans.result, GH_SHARED_UNAVAILABLE);
    assert_null(f->deferred);
    /* The store answers the next apply: the cache starts over. */
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_false(gh_shared_store_down(f->svc.shared));
    assert_int_equal(gh_session_find_wait(f->svc.sessions, b.digest, now, &who, NULL),
                     GH_SHARED_OK);
    /* A store that fails a lookup: unavailable. */
    rename_table(f, "sessions", "sessions_gone");
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, NULL),
                     GH_SHARED_UNAVAILABLE);
    rename_table(f, "sessions_gone", "sessions");
    /* A change log that cannot be read drops the cache and marks it down;
     * the first apply that can read it again brings it back. */
    STORE_OK(gh_store_setting_set(f->other, "lockout_threshold", 9));   /* a change */
    rename_table(f, "changes", "changes_gone");      /* its rows unreadable ... */
    store_sql(f, "UPDATE sqlite_sequence SET name = 'changes' WHERE name = 'changes_gone'");
    rename_table(f, "settings", "settings_gone");    /* ... and the settings too */
    assert_int_not_equal(gh_service_apply_changes(&f->svc), GH_STORE_OK);
    assert_true(gh_shared_store_down(f->svc.shared));
    assert_int_equal(gh_shared_session_count(f->svc.shared), 0);
    assert_int_not_equal(gh_service_apply_changes(&f->svc), GH_STORE_OK);
    assert_true(gh_shared_store_down(f->svc.shared));
    store_sql(f, "UPDATE sqlite_sequence SET name = 'changes_gone' WHERE name = 'changes'");
    rename_table(f, "changes_gone", "changes");
    rename_table(f, "settings_gone", "settings");
    STORE_OK(gh_service_apply_changes(&f->svc));
    assert_int_equal(gh_shared_setting(f->svc.shared, GH_SET_LOCKOUT_THRESHOLD), 9);
    assert_false(gh_shared_store_down(f->svc.shared));
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, &who, NULL),
                     GH_SHARED_OK);
}

/* The store's sweep takes a session only a grace past its end. */
static void test_sweep_grace(void **state)
{
    fixture *f = *state;
    int64_t now = gh_now();
    gh_session_record late = other_node_session(f, 9, now - IDLE - 1);
    gh_session_record gone = other_node_session(f, 10, now - IDLE - GH_SERVICE_SWEEP_GRACE - 1);
    gh_session_record got;

    gh_shared_store_expiry_due(f->svc.shared);
    STORE_OK(gh_service_upkeep(&f->svc, now));
    STORE_OK(gh_store_session_get(f->other, late.id, &got));
    assert_int_equal(gh_store_session_get(f->other, gone.id, &got), GH_STORE_NOT_FOUND);
}

/* Out of cache mode the block is the whole truth: a miss is a miss. */
static void test_embedded_never_asks(void **state)
{
    fixture *f = *state;
    int64_t now = gh_now();
    gh_session_record a = other_node_session(f, 11, now);
    answer ans = { 0 };

    gh_shared_set_cached(f->svc.shared, false);
    assert_int_equal(gh_session_find_wait(f->svc.sessions, a.digest, now, NULL, NULL),
                     GH_SHARED_NOT_FOUND);
    gh_session_find(f->loop, a.digest, now, on_found, &ans);
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.result, GH_SHARED_NOT_FOUND);
    assert_null(f->deferred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_miss_fills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_during_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_rechecked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embedded_never_asks, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
