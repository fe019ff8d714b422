/*
 * store_sqlite.c: the embedded store over SQLite (store_backend.h's ops
 * table, gh_store_sqlite_ops): opening and migrating the database, the
 * server secret, and the table itself. The statement cache, transactions
 * and the helpers every store file builds on are in store_statements.c;
 * the schema and its upgrades live in store_schema.c.
 * Accounts live in store_accounts.c, sessions in store_sessions.c, settings
 * and the change log in store_changes.c, failed-login counters and the
 * throttle counters of sources in store_failures.c, attributes in
 * store_attributes.c, directory rows in store_directory.c; all of them share
 * store_internal.h.
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so every
 * commit is fsync'd to the WAL before it returns, and a session or account
 * change acknowledged to a client survives kill -9 and power loss. A write
 * that logs a change runs in one BEGIN IMMEDIATE transaction with its change
 * row, so a worker never sees the change without the write or the reverse.
 *
 * Concurrency: one gh_store is one connection used by one thread (opened
 * SQLITE_OPEN_NOMUTEX). Connections in other threads and processes share the
 * file through SQLite's locks and wait up to GH_STORE_BUSY_MS for each other
 * before a call answers GH_STORE_BUSY, trying again after 50 µs, then
 * twice as long each time up to 1 ms (store_busy: SQLite's own timeout
 * sleeps up to 100 ms between tries, while a write holds the lock for well
 * under one). Walks copy a page of rows out and reset
 * their statement before calling back, so callbacks may use the store and no
 * read snapshot is held open across them; the one exception is the session
 * scan that loads a starting server, a single pass for speed.
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GH_STORE_BUSY_MS  5000

long gh_store_busy_delay_us(int tries)
{
    return tries >= 5 ? 1000L : 50L << tries;
}

/* SQLite's busy handler. Its own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10
 * and up to 100 ms between tries, while a write here holds the lock for a
 * commit, a fraction of a millisecond with its fsync: with the workers'
 * hash threads each committing a session per login, waiters slept while the
 * lock stood free (a hash thread of bench/run's row 10 spent most of its
 * time in those sleeps). Short sleeps instead, for as long in all. */
static int store_busy(void *arg, int tries)
{
    gh_store_sqlite *store = arg;
    struct timespec ts;
    int64_t         now;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (tries == 0)
        store->busy_since_us = now;
    if (now - store->busy_since_us >= (int64_t)GH_STORE_BUSY_MS * 1000)
        return 0;
    usleep((useconds_t)gh_store_busy_delay_us(tries));
    return 1;
}

/* open() rather than SQLite creates the file, so it is born 0600 whatever the
 * umask (SQLite then gives the -wal and -shm files the same mode). A new file
 * and its directory entry are fsync'd: a database must not vanish on power loss. */
static int store_create_file(const char *path)
{
    char *copy = NULL;
    int fd, dfd = -1, ret = -1;

    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    if (fsync(fd) != 0)
        goto done;
    copy = strdup(path);
    if (copy == NULL)
        goto done;
    dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        goto done;
    ret = 0;
done:
    if (dfd >= 0)
        close(dfd);
    close(fd);
    free(copy);
    return ret;
}

/* A pragma at open time. want, when given, is the text its row must hold;
 * *num, when given, receives its number. Setting a value answers no row. */
static gh_store_err store_pragma(gh_store_sqlite *store, const char *sql, const char *want,
                                 int64_t *num)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *text;
    gh_store_err err = GH_STORE_ERROR;
    int rc;

    rc = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        err = want == NULL && num == NULL ? GH_STORE_OK : GH_STORE_ERROR;
    } else if (rc == SQLITE_ROW) {
        text = sqlite3_column_text(st, 0);
        if (num != NULL)
            *num = sqlite3_column_int64(st, 0);
        if (want == NULL || (text != NULL && strcmp((const char *)text, want) == 0))
            err = GH_STORE_OK;
    } else {
        err = gh_store_rc(rc);
    }
    sqlite3_finalize(st);
    return err;
}

static bool store_secret_row(sqlite3_stmt *st, void *out)
{
    const void *blob = sqlite3_column_blob(st, 0);

    if (blob == NULL || sqlite3_column_bytes(st, 0) != GH_DIGEST_LEN)
        return false;
    memcpy(out, blob, GH_DIGEST_LEN);
    return true;
}

static gh_store_err store_secret_load(gh_store_sqlite *store)
{
    sqlite3_stmt *st = gh_store_stmt(store, GH_ST_SECRET_GET,
                                     "SELECT value FROM meta WHERE key = 'secret'");

    return st == NULL ? GH_STORE_ERROR : gh_store_fetch(st, true, store_secret_row, store->secret);
}

static gh_store_err store_secret_make(gh_store_sqlite *store)
{
    uint8_t fresh[GH_DIGEST_LEN];
    sqlite3_stmt *st;
    gh_store_err err = GH_STORE_ERROR;

    /* OR IGNORE: should another opener have won, its secret stands. */
    st = gh_store_stmt(store, GH_ST_SECRET_PUT,
                       "INSERT OR IGNORE INTO meta(key, value) VALUES('secret', ?1)");
    if (st != NULL && gh_token_random(fresh, sizeof fresh) == 0)
        err = gh_store_exec(st, sqlite3_bind_blob(st, 1, fresh, sizeof fresh,
                                                  SQLITE_STATIC) == SQLITE_OK);
    gh_wipe(fresh, sizeof fresh);
    return err;
}

/* Schema and secret in one write transaction, so two first openers serialize
 * and neither sees a half-made database. */
static gh_store_err store_migrate(gh_store_sqlite *store)
{
    int64_t version = -1;
    gh_store_err err;

    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = store_pragma(store, "PRAGMA user_version", NULL, &version);
    if (err == GH_STORE_OK)
        err = gh_store_rc(gh_store_schema_upgrade(store->db, &version));
    if (err == GH_STORE_OK && version != GH_STORE_SCHEMA)
        err = GH_STORE_ERROR;   /* written by a newer gatehouse: do not guess its layout */
    if (err == GH_STORE_OK)
        err = store_secret_load(store);
    if (err == GH_STORE_NOT_FOUND) {
        err = store_secret_make(store);
        if (err == GH_STORE_OK)
            err = store_secret_load(store);
    }
    return gh_store_tx_end(store, err);
}

static const gh_store_ops gh_store_sqlite_ops;

static void store_sqlite_close(gh_store *base);

gh_store_err gh_store_sqlite_open(const char *path, gh_store **out)
{
    gh_store_sqlite *store = NULL;
    gh_store_err err = GH_STORE_ERROR;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (path == NULL || path[0] == '\0' || out == NULL)
        return GH_STORE_ERROR;
    if (store_create_file(path) != 0)
        goto done;
    store = calloc(1, sizeof *store);
    if (store == NULL)
        goto done;
    store->base.ops = &gh_store_sqlite_ops;
    rc = sqlite3_open_v2(path, &store->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc != SQLITE_OK) {
        err = gh_store_rc(rc);
        goto done;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_handler(store->db, store_busy, store);
    /* Durability as the file says; foreign keys are per connection and off
     * by default, and the session cascade depends on them. */
    err = store_pragma(store, "PRAGMA journal_mode = WAL", "wal", NULL);
    if (err == GH_STORE_OK)
        err = store_pragma(store, "PRAGMA synchronous = FULL", NULL, NULL);
    if (err == GH_STORE_OK)
        err = store_pragma(store, "PRAGMA foreign_keys = ON", NULL, NULL);
    if (err == GH_STORE_OK)
        err = store_pragma(store, "PRAGMA foreign_keys", "1", NULL);
    if (err == GH_STORE_OK)
        err = store_migrate(store);
done:
    if (err != GH_STORE_OK)
        store_sqlite_close(store != NULL ? &store->base : NULL);
    else
        *out = &store->base;
    return err;
}

static void store_sqlite_close(gh_store *base)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;

    if (store == NULL)
        return;
    for (size_t i = 0; i < GH_ST_COUNT; i++)
        sqlite3_finalize(store->stmt[i]);
    sqlite3_close(store->db);
    gh_wipe(store->secret, sizeof store->secret);
    free(store);
}

gh_store_err gh_store_sqlite_secret(gh_store *base, uint8_t out[GH_DIGEST_LEN])
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;

    if (store == NULL || out == NULL)
        return GH_STORE_ERROR;
    /* read at open and never changed afterwards */
    memcpy(out, store->secret, GH_DIGEST_LEN);
    return GH_STORE_OK;
}


/* The secret row replaced, and the copy read at open with it. */
gh_store_err gh_store_sqlite_secret_import(gh_store *base, const uint8_t secret[GH_DIGEST_LEN])
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;

    if (store == NULL || secret == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SECRET_IMPORT,
                       "INSERT OR REPLACE INTO meta(key, value) VALUES('secret', ?1)");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_exec(st, sqlite3_bind_blob(st, 1, secret, GH_DIGEST_LEN,
                                              SQLITE_STATIC) == SQLITE_OK);
    if (err == GH_STORE_OK)
        memcpy(store->secret, secret, GH_DIGEST_LEN);
    return err;
}

static gh_store_err store_sqlite_begin(gh_store *base)
{
    return gh_store_tx_begin((gh_store_sqlite *)base);
}

static gh_store_err store_sqlite_end(gh_store *base, gh_store_err err)
{
    return gh_store_tx_end((gh_store_sqlite *)base, err);
}

/* SQLite's message for the connection's last failed call: names no bound
 * value, so never a secret. */
static const char *store_sqlite_last_error(const gh_store *base)
{
    const gh_store_sqlite *store = (const gh_store_sqlite *)base;

    return sqlite3_errmsg(store->db);
}

static const gh_store_ops gh_store_sqlite_ops = {
    .name = "sqlite",
    .shared = false,
    .backend = GH_METRIC_BACKEND_SQLITE,
    .close = store_sqlite_close,
    .last_error = store_sqlite_last_error,
    .begin = store_sqlite_begin,
    .end = store_sqlite_end,
    .secret = gh_store_sqlite_secret,
    .secret_import = gh_store_sqlite_secret_import,
    .account_get = gh_store_sqlite_account_get,
    .account_get_by_id = gh_store_sqlite_account_get_by_id,
    .account_add = gh_store_sqlite_account_add,
    .account_import = gh_store_sqlite_account_import,
    .account_update = gh_store_sqlite_account_update,
    .account_delete = gh_store_sqlite_account_delete,
    .account_foreach = gh_store_sqlite_account_foreach,
    .account_due = gh_store_sqlite_account_due,
    .session_insert = gh_store_sqlite_session_insert,
    .session_insert_limited = gh_store_sqlite_session_insert_limited,
    .session_get = gh_store_sqlite_session_get,
    .session_find_digest = gh_store_sqlite_session_find_digest,
    .session_delete = gh_store_sqlite_session_delete,
    .session_delete_account = gh_store_sqlite_session_delete_account,
    .session_expire = gh_store_sqlite_session_expire,
    .session_count_live = gh_store_sqlite_session_count_live,
    .session_touch = gh_store_sqlite_session_touch,
    .session_foreach = gh_store_sqlite_session_foreach,
    .session_scan = gh_store_sqlite_session_scan,
    .session_rowid_last = gh_store_sqlite_session_rowid_last,
    .attribute_get = gh_store_sqlite_attribute_get,
    .attribute_set = gh_store_sqlite_attribute_set,
    .attribute_delete = gh_store_sqlite_attribute_delete,
    .attribute_foreach = gh_store_sqlite_attribute_foreach,
    .setting_get = gh_store_sqlite_setting_get,
    .setting_set = gh_store_sqlite_setting_set,
    .failure_get = gh_store_sqlite_failure_get,
    .failure_put = gh_store_sqlite_failure_put,
    .failure_count = gh_store_sqlite_failure_count,
    .failure_delete = gh_store_sqlite_failure_delete,
    .failure_clear_owner = gh_store_sqlite_failure_clear_owner,
    .failure_prune = gh_store_sqlite_failure_prune,
    .throttle_put = gh_store_sqlite_throttle_put,
    .throttle_scan = gh_store_sqlite_throttle_scan,
    .throttle_prune = gh_store_sqlite_throttle_prune,
    .directory_put = gh_store_sqlite_directory_put,
    .directory_import = gh_store_sqlite_directory_import,
    .directory_forget = gh_store_sqlite_directory_forget,
    .directory_foreach = gh_store_sqlite_directory_foreach,
    .change_last = gh_store_sqlite_change_last,
    .change_since = gh_store_sqlite_change_since,
    .change_prune = gh_store_sqlite_change_prune,
    .change_floor = gh_store_sqlite_change_floor,
};
