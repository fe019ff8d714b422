/*
 * store_schema.c: the layout of the database and its upgrades, version by
 * version (PRAGMA user_version). A new database is made at version 1 and
 * upgraded like any other, so there is one way to reach each version. Every
 * step runs in the opener's write transaction (store_sqlite.c): two first
 * openers serialize, and a step that fails leaves the database as it was.
 *
 * Version 5 made the core name no dialect. Before it a session named its
 * dialect by a number and one dialect kept a value of its own in a column
 * of accounts (version 2); since, sessions hold the dialect's name, such
 * values live in account_attributes, and no step names a dialect: the
 * numbers' names come from whoever knows the dialects
 * (gh_store_numbered_dialects), and a dialect's column is recognised as any
 * column of accounts that is not the core's, named DIALECT_ATTRIBUTE.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* Version 1. sessions_account leads with account_id so the cascade from
 * accounts and the per-account walk use it; sessions_created serves the walk
 * of all sessions in creation order. AUTOINCREMENT keeps change sequence
 * numbers growing even after prune has emptied the table. */
static const char store_schema_v1[] =
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
    "PRAGMA user_version = 1;";

/* Version 2 added a column of one dialect's own to accounts, which version 5
 * moves to account_attributes; a database made now never gets it. A new
 * database is made at version 1 and migrated, so there is one way to reach
 * each version. */
static const char store_schema_v2[] =
    "PRAGMA user_version = 2;";

/* Version 3: failed-login counters (store_failures.c), kept across restarts.
 * key and owner are HMACs (lockout.h): no account name or address in clear.
 * expires orders the prune of counters that mean nothing any more. */
static const char store_schema_v3[] =
    "CREATE TABLE login_failures(key BLOB PRIMARY KEY NOT NULL, owner BLOB NOT NULL,"
    " window_start INTEGER NOT NULL, failures INTEGER NOT NULL,"
    " locked_until INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX login_failures_owner ON login_failures(owner);"
    "CREATE INDEX login_failures_expires ON login_failures(expires);"
    "PRAGMA user_version = 3;";

/* Version 4: the throttle counters of sources (store_failures.c), kept
 * across restarts. key is an HMAC of the source (lockout.h): no address in
 * clear. Times in epoch milliseconds; expires (epoch seconds, as above)
 * orders the prune. */
static const char store_schema_v4[] =
    "CREATE TABLE source_throttle(key BLOB PRIMARY KEY NOT NULL,"
    " failures INTEGER NOT NULL, window_start INTEGER NOT NULL,"
    " blocked_until INTEGER NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX source_throttle_expires ON source_throttle(expires);"
    "PRAGMA user_version = 4;";

/* Version 5: the core names no dialect. Sessions name theirs by its name
 * (the table is rebuilt with a text column, rowids kept: the load splits by
 * them); a dialect's own per-account values live in account_attributes;
 * live settings are keyed by neutral names. store_migrate_v5 does the
 * rest: the session numbers and the dialect columns of accounts. */
static const char store_schema_v5[] =
    "CREATE TABLE account_attributes(account_id INTEGER NOT NULL"
    " REFERENCES accounts(id) ON DELETE CASCADE, dialect TEXT NOT NULL,"
    " name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(account_id, dialect, name))"
    " WITHOUT ROWID;"
    "CREATE TABLE sessions_v5(id TEXT PRIMARY KEY NOT NULL, digest BLOB UNIQUE NOT NULL,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    " user TEXT NOT NULL, dialect TEXT NOT NULL, created INTEGER NOT NULL,"
    " last_used INTEGER NOT NULL, idle_timeout INTEGER NOT NULL,"
    " expires INTEGER NOT NULL, client_addr TEXT NOT NULL);"
    "INSERT INTO sessions_v5(rowid, id, digest, account_id, user, dialect, created, last_used,"
    " idle_timeout, expires, client_addr) SELECT rowid, id, digest, account_id, user,"
    " '#' || dialect, created, last_used, idle_timeout, expires, client_addr FROM sessions;"
    "DROP TABLE sessions;"
    "ALTER TABLE sessions_v5 RENAME TO sessions;"
    "CREATE INDEX sessions_account ON sessions(account_id, created, id);"
    "CREATE INDEX sessions_created ON sessions(created, id);"
    "UPDATE settings SET key = CASE key"
    " WHEN 'SessionTimeout' THEN 'session_timeout'"
    " WHEN 'AccountLockoutThreshold' THEN 'lockout_threshold'"
    " WHEN 'AccountLockoutDuration' THEN 'lockout_duration'"
    " WHEN 'AccountLockoutCounterResetAfter' THEN 'lockout_reset_after'"
    " WHEN 'MinPasswordLength' THEN 'min_password_length'"
    " WHEN 'MaxPasswordLength' THEN 'max_password_length' ELSE key END;";

/* Version 6: directory profiles written through the API
 * (store_directory.c), by name: text holds the profile's keys as
 * config_directory.c writes them, NULL for one deleted (a tombstone that
 * hides the file's profile of that name); revision is the change sequence
 * of the write that made the row what it is. */
static const char store_schema_v6[] =
    "CREATE TABLE directory_profiles(name TEXT PRIMARY KEY NOT NULL, text TEXT,"
    " revision INTEGER NOT NULL) WITHOUT ROWID;"
    "PRAGMA user_version = 6;";

/* The columns of accounts that are the core's; any other one (version 2's)
 * is named DIALECT_ATTRIBUTE and holds a dialect's value, 0 or '' for none. */
static const char *const store_account_core_columns[] = {
    "id", "name", "domain", "role", "enabled", "built_in", "password_change_required",
    "locked_until", "generation", "created", "password_hash"
};

static const char *const *store_numbered;
static size_t store_numbered_n;

void gh_store_numbered_dialects(const char *const *names, size_t n)
{
    store_numbered = names;
    store_numbered_n = n;
}

static bool store_core_column(const char *name)
{
    for (size_t i = 0; i < sizeof store_account_core_columns / sizeof *store_account_core_columns; i++)
        if (strcmp(name, store_account_core_columns[i]) == 0)
            return true;
    return false;
}

/* Move one dialect column of accounts, named DIALECT_ATTRIBUTE, into
 * account_attributes (its values other than 0 and ''), then drop it. */
static int store_move_column(sqlite3 *db, const char *column)
{
    const char *sep = strchr(column, '_');
    char dialect[GH_DIALECT_NAME_MAX + 1];
    char *sql;
    int err = SQLITE_NOMEM;

    if (sep == NULL || sep == column || sep[1] == '\0' ||
        (size_t)(sep - column) >= sizeof dialect)
        return SQLITE_MISMATCH;   /* not a column this code ever wrote */
    memcpy(dialect, column, (size_t)(sep - column));
    dialect[sep - column] = '\0';
    sql = sqlite3_mprintf("INSERT INTO account_attributes(account_id, dialect, name, value)"
                          " SELECT id, %Q, %Q, CAST(\"%w\" AS TEXT) FROM accounts"
                          " WHERE \"%w\" IS NOT NULL AND \"%w\" NOT IN (0, '');"
                          "ALTER TABLE accounts DROP COLUMN \"%w\";",
                          dialect, sep + 1, column, column, column, column);
    if (sql != NULL)
        err = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
    return err;
}

/* The dialect columns of accounts, each moved (store_move_column). */
static int store_move_columns(sqlite3 *db)
{
    char extra[8][64];
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    int err;
    int rc;

    rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('accounts')",
                            -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);

        rc = SQLITE_OK;
        if (name == NULL || store_core_column(name))
            continue;
        if (n == sizeof extra / sizeof *extra || strlen(name) >= sizeof extra[0])
            rc = SQLITE_ERROR;
        else
            snprintf(extra[n++], sizeof extra[0], "%s", name);
    }
    sqlite3_finalize(st);
    err = rc == SQLITE_DONE ? SQLITE_OK : rc == SQLITE_OK ? SQLITE_ERROR : rc;
    for (size_t i = 0; err == SQLITE_OK && i < n; i++)
        err = store_move_column(db, extra[i]);
    return err;
}

/* Sessions stored before version 5 hold '#N' now: give each its dialect's
 * name. One left over names no dialect known here: refuse the migration. */
static int store_name_sessions(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t left = 0;
    int rc;

    rc = sqlite3_prepare_v2(db, "UPDATE sessions SET dialect = ?2 WHERE dialect = ?1",
                            -1, &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < store_numbered_n; i++) {
        char number[24];

        snprintf(number, sizeof number, "#%zu", i + 1);
        rc = sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text(st, 2, store_numbered[i], -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sessions WHERE dialect LIKE '#%'",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        left = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return rc;
    return left == 0 ? SQLITE_OK : SQLITE_MISMATCH;
}

static int store_migrate_v5(sqlite3 *db)
{
    int err = sqlite3_exec(db, store_schema_v5, NULL, NULL, NULL);

    if (err == SQLITE_OK)
        err = store_move_columns(db);
    if (err == SQLITE_OK)
        err = store_name_sessions(db);
    if (err == SQLITE_OK)
        err = sqlite3_exec(db, "PRAGMA user_version = 5;", NULL, NULL, NULL);
    return err;
}

int gh_store_schema_upgrade(sqlite3 *db, int64_t *version)
{
    static const char *const steps[] = {
        store_schema_v1, store_schema_v2, store_schema_v3, store_schema_v4
    };
    int err = SQLITE_OK;

    for (size_t i = 0; err == SQLITE_OK && i < sizeof steps / sizeof *steps; i++) {
        if (*version != (int64_t)i)
            continue;
        err = sqlite3_exec(db, steps[i], NULL, NULL, NULL);
        *version = (int64_t)i + 1;
    }
    if (err == SQLITE_OK && *version == 4) {
        err = store_migrate_v5(db);
        *version = 5;
    }
    if (err == SQLITE_OK && *version == 5) {
        err = sqlite3_exec(db, store_schema_v6, NULL, NULL, NULL);
        *version = 6;
    }
    if (err == SQLITE_OK && *version != GH_STORE_SCHEMA)
        err = SQLITE_MISMATCH;   /* written by a newer gatehouse: do not guess its layout */
    return err;
}
