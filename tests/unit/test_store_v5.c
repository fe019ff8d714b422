/*
 * test_store_v5.c: the store names no dialect. A version-4 database (the
 * last that numbered sessions' dialects and kept one dialect's role in a
 * column of accounts) opens at version 5 with every session named by its
 * dialect, the column's values moved to account_attributes and the column
 * gone, settings under their neutral keys and rowids kept; one holding a
 * number no dialect stood for is not opened. Then the attribute API itself:
 * get, set, delete, bounds, and rows going with their account.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/store.h"
#include "../../src/dialects/common/dialect.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh_store_v5.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/gatehouse.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* The schema as version 4 of gatehouse left it, with rows in it. */
static const char v4_schema[] =
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
    "ALTER TABLE accounts ADD COLUMN powerstore_role INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE login_failures(key BLOB PRIMARY KEY NOT NULL, owner BLOB NOT NULL,"
    " window_start INTEGER NOT NULL, failures INTEGER NOT NULL,"
    " locked_until INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX login_failures_owner ON login_failures(owner);"
    "CREATE INDEX login_failures_expires ON login_failures(expires);"
    "CREATE TABLE source_throttle(key BLOB PRIMARY KEY NOT NULL,"
    " failures INTEGER NOT NULL, window_start INTEGER NOT NULL,"
    " blocked_until INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX source_throttle_expires ON source_throttle(expires);"
    "INSERT INTO meta VALUES('secret', zeroblob(32));"
    "INSERT INTO accounts VALUES(7, 'vm', 'internal', 3, 1, 0, 0, 0, 3, 1000, 'x', 4);"
    "INSERT INTO accounts VALUES(8, 'plain', 'internal', 2, 1, 0, 0, 0, 1, 1000, 'x', 0);"
    "INSERT INTO sessions(rowid, id, digest, account_id, user, dialect, created, last_used,"
    " idle_timeout, expires, client_addr) VALUES"
    " (11, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', randomblob(32), 7, 'vm', 1, 1000, 1000, 0, 0, ''),"
    " (12, 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', randomblob(32), 7, 'vm', 2, 1001, 1001, 0, 0, ''),"
    " (15, 'cccccccccccccccccccccccccccccccc', randomblob(32), 8, 'plain', 3, 1002, 1002, 0, 0,"
    "  '192.0.2.1');"
    "INSERT INTO settings VALUES('SessionTimeout', 600), ('AccountLockoutThreshold', 9);";

static void make_v4(const char *path, const char *extra)
{
    sqlite3 *raw = NULL;
    char *sql = sqlite3_mprintf("%s%sPRAGMA user_version = 4;", v4_schema, extra);

    assert_non_null(sql);
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    sqlite3_free(sql);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return v;
}

static void test_v4_opens_named(void **state)
{
    fixture *f = *state;
    gh_store *s = NULL;
    gh_session_record rec;
    char value[8];
    int64_t v;

    make_v4(f->path, "");
    assert_int_equal(gh_store_open(f->path, &s), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &rec), GH_STORE_OK);
    assert_string_equal(rec.dialect, "redfish");
    assert_int_equal(gh_store_session_get(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", &rec), GH_STORE_OK);
    assert_string_equal(rec.dialect, "ovirt");
    assert_int_equal(gh_store_session_get(s, "cccccccccccccccccccccccccccccccc", &rec), GH_STORE_OK);
    assert_string_equal(rec.dialect, "powerstore");
    assert_string_equal(rec.client_addr, "192.0.2.1");
    assert_int_equal(rec.account_id, 8);
    /* the role kept in the column is an attribute now; 0 kept nothing */
    assert_int_equal(gh_store_attribute_get(s, 7, "powerstore", "role", value, sizeof value),
                     GH_STORE_OK);
    assert_string_equal(value, "4");
    assert_int_equal(gh_store_attribute_get(s, 8, "powerstore", "role", value, sizeof value),
                     GH_STORE_NOT_FOUND);
    /* settings under their neutral keys */
    assert_int_equal(gh_store_setting_get(s, "session_timeout", &v), GH_STORE_OK);
    assert_int_equal(v, 600);
    assert_int_equal(gh_store_setting_get(s, "lockout_threshold", &v), GH_STORE_OK);
    assert_int_equal(v, 9);
    assert_int_equal(gh_store_setting_get(s, "SessionTimeout", &v), GH_STORE_NOT_FOUND);
    /* the load splits by rowid: kept */
    assert_int_equal(gh_store_session_rowid_last(s, &v), GH_STORE_OK);
    assert_int_equal(v, 15);
    gh_store_close(s);

    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 6);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('accounts')"
                                      " WHERE name LIKE '%role%' AND name <> 'role'"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sessions WHERE typeof(dialect) <> 'text'"),
                     0);
    /* reopened: nothing runs twice */
    assert_int_equal(gh_store_open(f->path, &s), GH_STORE_OK);
    assert_int_equal(gh_store_session_get(s, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", &rec), GH_STORE_OK);
    assert_string_equal(rec.dialect, "ovirt");
    gh_store_close(s);
}

/* A number no dialect stood for: not guessed, the database left as it was. */
static void test_v4_unknown_number(void **state)
{
    fixture *f = *state;
    gh_store *s = NULL;

    make_v4(f->path, "INSERT INTO sessions VALUES('dddddddddddddddddddddddddddddddd',"
                     " randomblob(32), 8, 'plain', 9, 1003, 1003, 0, 0, '');");
    assert_int_equal(gh_store_open(f->path, &s), GH_STORE_ERROR);
    assert_null(s);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 4);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('accounts')"
                                      " WHERE name = 'powerstore_role'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT dialect FROM sessions WHERE rowid = 11"), 1);
}

static int64_t add_account(gh_store *s, const char *name)
{
    gh_account a;

    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.domain, sizeof a.domain, "internal");
    a.role = GH_ROLE_READONLY;
    a.enabled = true;
    assert_int_equal(gh_store_account_add(s, &a), GH_STORE_OK);
    return a.id;
}

static void test_attributes(void **state)
{
    fixture *f = *state;
    char value[GH_ATTRIBUTE_VALUE_MAX + 2], small[2];
    gh_store *s = NULL;
    int64_t a, b;

    assert_int_equal(gh_store_open(f->path, &s), GH_STORE_OK);
    a = add_account(s, "alice");
    b = add_account(s, "bob");
    assert_int_equal(gh_store_attribute_get(s, a, "one", "role", value, sizeof value),
                     GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "role", "5"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "two", "role", "admin"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, b, "one", "role", "2"), GH_STORE_OK);
    /* keyed by account, dialect and name: each its own */
    assert_int_equal(gh_store_attribute_get(s, a, "one", "role", value, sizeof value), GH_STORE_OK);
    assert_string_equal(value, "5");
    assert_int_equal(gh_store_attribute_get(s, a, "two", "role", value, sizeof value), GH_STORE_OK);
    assert_string_equal(value, "admin");
    assert_int_equal(gh_store_attribute_get(s, a, "one", "other", value, sizeof value),
                     GH_STORE_NOT_FOUND);
    /* set again: replaced */
    assert_int_equal(gh_store_attribute_set(s, a, "one", "role", "3"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_get(s, a, "one", "role", value, sizeof value), GH_STORE_OK);
    assert_string_equal(value, "3");
    assert_int_equal(gh_store_attribute_get(s, a, "two", "role", small, sizeof small),
                     GH_STORE_ERROR);
    /* bounds, and an account that does not exist */
    memset(value, 'v', GH_ATTRIBUTE_VALUE_MAX + 1);
    value[GH_ATTRIBUTE_VALUE_MAX + 1] = '\0';
    assert_int_equal(gh_store_attribute_set(s, a, "one", "big", value), GH_STORE_ERROR);
    value[GH_ATTRIBUTE_VALUE_MAX] = '\0';
    assert_int_equal(gh_store_attribute_set(s, a, "one", "big", value), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "a-dialect-name-too-long", "x", "1"),
                     GH_STORE_ERROR);
    assert_int_equal(gh_store_attribute_set(s, a, "", "x", "1"), GH_STORE_ERROR);
    assert_int_equal(gh_store_attribute_set(s, b + 100, "one", "role", "1"), GH_STORE_NOT_FOUND);
    /* delete one */
    assert_int_equal(gh_store_attribute_delete(s, a, "two", "role"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_delete(s, a, "two", "role"), GH_STORE_NOT_FOUND);
    assert_int_equal(gh_store_attribute_get(s, a, "two", "role", value, sizeof value),
                     GH_STORE_NOT_FOUND);
    /* in one transaction with the account that gets it */
    assert_int_equal(gh_store_begin(s), GH_STORE_OK);
    b = add_account(s, "carol");
    assert_int_equal(gh_store_attribute_set(s, b, "one", "role", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_end(s, GH_STORE_CONFLICT), GH_STORE_CONFLICT);
    assert_int_equal(gh_store_attribute_get(s, b, "one", "role", value, sizeof value),
                     GH_STORE_NOT_FOUND);
    /* they go with their account */
    assert_int_equal(gh_store_account_delete(s, a), GH_STORE_OK);
    gh_store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM account_attributes"), 1);
}

typedef struct {
    char names[8][GH_ATTRIBUTE_NAME_MAX + 1];
    char values[8][GH_ATTRIBUTE_VALUE_MAX + 1];
    int  n, stop_at;
} walk;

static int walk_cb(const char *name, const char *value, void *arg)
{
    walk *w = arg;

    assert_true(w->n < 8);
    snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
    snprintf(w->values[w->n], sizeof w->values[0], "%s", value);
    w->n++;
    return w->n == w->stop_at;
}

static void test_attribute_foreach(void **state)
{
    fixture *f = *state;
    gh_store *s = NULL;
    walk w;
    int64_t a, b;

    assert_int_equal(gh_store_open(f->path, &s), GH_STORE_OK);
    a = add_account(s, "alice");
    b = add_account(s, "bob");
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 0);
    /* set in this order; names that sort otherwise */
    assert_int_equal(gh_store_attribute_set(s, a, "one", "k:zeta", "1"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "k:alpha", "2"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "other", "3"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "k%", "4"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "kx", "5"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "k_", "6"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "two", "k:two", "7"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, b, "one", "k:bob", "8"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "k:zeta", "9"), GH_STORE_OK);
    /* by name, whatever the order set; only this account's, of this dialect */
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "k:", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.names[0], "k:alpha");
    assert_string_equal(w.values[0], "2");
    assert_string_equal(w.names[1], "k:zeta");
    assert_string_equal(w.values[1], "9");
    /* % and _ are bytes, not wildcards */
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "k%", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.names[0], "k%");
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "k_", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.names[0], "k_");
    /* "" is all of the account's for the dialect: k% k:alpha k:zeta k_ kx other */
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 6);
    assert_string_equal(w.names[0], "k%");
    assert_string_equal(w.names[3], "k_");
    assert_string_equal(w.names[5], "other");
    /* a non-zero return stops it */
    memset(&w, 0, sizeof w);
    w.stop_at = 2;
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 2);
    /* a deleted one is gone */
    assert_int_equal(gh_store_attribute_delete(s, a, "one", "k:alpha"), GH_STORE_OK);
    assert_int_equal(gh_store_attribute_set(s, a, "one", "k:new", "10"), GH_STORE_OK);
    memset(&w, 0, sizeof w);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "k:", walk_cb, &w), GH_STORE_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.names[0], "k:new");
    assert_string_equal(w.names[1], "k:zeta");
    /* bad arguments */
    assert_int_equal(gh_store_attribute_foreach(s, a, "", "", walk_cb, &w), GH_STORE_ERROR);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", NULL, walk_cb, &w), GH_STORE_ERROR);
    assert_int_equal(gh_store_attribute_foreach(s, a, "one", "", NULL, &w), GH_STORE_ERROR);
    gh_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v4_opens_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v4_unknown_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_foreach, setup, teardown),
    };

    gh_dialect_store_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
