/*
 * test_store_sqlite.c: what only the embedded store (SQLite) promises, beyond
 * the contract every backend keeps (test_store_contract.c): file mode and
 * WAL, a secret per database, the refusal of what it cannot open, the
 * migration of a database of the first schema, a lock held past the busy
 * timeout, and the waits between its tries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/store_internal.h"
#include "store_fixture.h"

static void test_open_mode_and_wal(void **state)
{
    fixture *f = *state;
    char path[160], wal[170];
    gh_store *s = NULL;
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    struct stat sb;
    mode_t old = umask(0);      /* the mode must not depend on the umask */

    snprintf(path, sizeof path, "%s/other.db", f->dir);
    assert_int_equal(gh_store_open(path, &s), GH_STORE_OK);
    umask(old);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    add_account(s, "alice");
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    assert_int_equal(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 6);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    gh_store_close(s);
}

/* A database written by the first schema (user_version 1) opens, keeps its
 * accounts and sessions (the session's dialect number now its name), and
 * takes what later versions add: attributes, throttle counters. */
static void test_migrate_v1(void **state)
{
    throttle_seen seen = { 0 };
    gh_throttle_count thr;
    fixture *f = *state;
    char path[160];
    gh_store *s = NULL;
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    gh_account a;
    gh_session_record rec;
    char value[8];

    snprintf(path, sizeof path, "%s/other.db", f->dir);
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
        "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);"
        "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
        " domain TEXT NOT NULL, role INTEGER NOT NULL, enabled INTEGER NOT NULL,"
        " built_in INTEGER NOT NULL, password_change_required INTEGER NOT NULL,"
        " locked_until INTEGER NOT NULL, generation INTEGER NOT NULL,"
        " created INTEGER NOT NULL, password_hash TEXT NOT NULL);"
        "CREATE TABLE sessions(id TEXT PRIMARY KEY NOT NULL, digest BLOB UNIQUE NOT NULL,"
        " account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
        " user TEXT NOT NULL, dialect INTEGER NOT NULL, created INTEGER NOT NULL,"
        " last_used INTEGER NOT NULL, idle_timeout INTEGER NOT NULL,"
        " expires INTEGER NOT NULL, client_addr TEXT NOT NULL);"
        "CREATE INDEX sessions_account ON sessions(account_id, created, id);"
        "CREATE INDEX sessions_created ON sessions(created, id);"
        "CREATE TABLE settings(key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);"
        "CREATE TABLE changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL,"
        " subject_id INTEGER NOT NULL, subject TEXT NOT NULL);"
        "INSERT INTO meta VALUES('secret', zeroblob(32));"
        "INSERT INTO accounts VALUES(7, 'old', 'internal', 2, 1, 0, 0, 0, 3, 1000,"
        " '$argon2id$v=19$m=65536,t=3,p=1$x$y');"
        "INSERT INTO sessions VALUES('0123456789abcdef0123456789abcdef', zeroblob(32), 7,"
        " 'old', 3, 1000, 1000, 3600, 0, '192.0.2.1');"
        "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);

    assert_int_equal(gh_store_open(path, &s), GH_STORE_OK);
    assert_int_equal(gh_store_account_get(s, "old", &a), GH_STORE_OK);
    assert_int_equal(a.id, 7);
    assert_int_equal(a.role, GH_ROLE_OPERATOR);
    assert_int_equal(a.generation, 3);
    assert_int_equal(gh_store_attribute_get(s, 7, "powerstore", "role", value, sizeof value),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_session_get(s, "0123456789abcdef0123456789abcdef", &rec),
                     GH_STORE_OK);
    assert_int_equal(rec.account_id, 7);
    assert_string_equal(rec.dialect, "powerstore");
    assert_int_equal(gh_store_attribute_set(s, 7, "powerstore", "role", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_account_update(s, &a, 3), GH_STORE_OK);
    /* and the throttle counters of version 4 */
    thr = make_throttle(5, 2);
    assert_int_equal(gh_store_throttle_put(s, &thr, 100), GH_STORE_OK);
    assert_int_equal(gh_store_throttle_scan(s, 0, 10, see_throttle, &seen), GH_STORE_OK);
    assert_int_equal(seen.n, 1);
    gh_store_close(s);

    /* reopened at version 5: nothing runs twice, the value stays */
    assert_int_equal(gh_store_open(path, &s), GH_STORE_OK);
    assert_int_equal(gh_store_account_get_by_id(s, 7, &a), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_get(s, 7, "powerstore", "role", value, sizeof value),
                     GH_STORE_OK);
    assert_string_equal(value, "4");
    assert_int_equal(a.generation, 4);
    gh_store_close(s);

    assert_int_equal(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 6);
    sqlite3_finalize(st);
    sqlite3_close(raw);
}

static void test_open_refuses(void **state)
{
    fixture *f = *state;
    char path[160];
    gh_store *s = (gh_store *)1;
    sqlite3 *raw = NULL;
    FILE *fp;

    /* not a database */
    snprintf(path, sizeof path, "%s/garbage.db", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 64; i++)
        fputs("this is not an SQLite database at all\n", fp);
    fclose(fp);
    assert_int_equal(gh_store_open(path, &s), GH_STORE_ERROR);
    assert_null(s);
    remove_db(path);

    /* a schema from a newer gatehouse */
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(gh_store_open(path, &s), GH_STORE_ERROR);
    assert_null(s);

    /* a directory that does not exist */
    snprintf(path, sizeof path, "%s/missing/gatehouse.db", f->dir);
    assert_int_equal(gh_store_open(path, &s), GH_STORE_ERROR);
    assert_int_equal(gh_store_open(NULL, &s), GH_STORE_ERROR);
    assert_int_equal(gh_store_open(f->path, NULL), GH_STORE_ERROR);
}

/* Each database makes a secret of its own. */
static void test_secret_per_database(void **state)
{
    fixture *f = *state;
    uint8_t a[GH_DIGEST_LEN], c[GH_DIGEST_LEN];
    char path[160];
    gh_store *other = NULL;

    assert_int_equal(gh_store_secret(f->store, a), GH_STORE_OK);
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    assert_int_equal(gh_store_open(path, &other), GH_STORE_OK);
    assert_int_equal(gh_store_secret(other, c), GH_STORE_OK);
    assert_memory_not_equal(a, c, sizeof a);
    gh_store_close(other);
}

/* Another writer holds the lock past the busy timeout: BUSY, nothing left
 * half done, and the connection works once the lock is gone. */
static void test_busy(void **state)
{
    fixture *f = *state;
    sqlite3 *raw = NULL;
    int64_t v, seq = last_seq(f->store);

    assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 1), GH_STORE_BUSY);
    /* WAL: readers are not blocked by the writer */
    assert_int_equal(gh_store_setting_get(f->store, "SessionTimeout", &v), GH_STORE_NOT_FOUND);
    assert_int_equal(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    no_change(f->store, seq);
    assert_int_equal(gh_store_setting_set(f->store, "SessionTimeout", 2), GH_STORE_OK);
    assert_int_equal(gh_store_setting_get(f->store, "SessionTimeout", &v), GH_STORE_OK);
    assert_int_equal(v, 2);
}

/* A wait for another connection's lock tries again after 50 µs, then
 * twice as long each time, never more than 1 ms apart: SQLite's own
 * timeout slept 1 ms first and up to 100 ms, while a commit holds the lock
 * for well under one (bench/run row 10). test_busy shows the wait still
 * ends with BUSY after GH_STORE_BUSY_MS. */
static void test_busy_delays(void **state)
{
    (void)state;
    assert_int_equal(gh_store_busy_delay_us(0), 50);
    for (int t = 1; t < 100000; t++) {
        assert_true(gh_store_busy_delay_us(t) >= gh_store_busy_delay_us(t - 1));
        assert_true(gh_store_busy_delay_us(t) <= 1000);
    }
    assert_int_equal(gh_store_busy_delay_us(5), 1000);
}



int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_mode_and_wal, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v1, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_secret_per_database, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup_sqlite, teardown),
        cmocka_unit_test(test_busy_delays),
    };

    /* what the dialect table says (gh_dialect_store_setup) */
    static const char *const numbered[] = { "redfish", "ovirt", "powerstore" };

    gh_store_numbered_dialects(numbered, 3);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
