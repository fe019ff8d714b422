/*
 * store_sqlite.c: the durable store over SQLite: opening and migrating the
 * database, the server secret, live settings and the change log, and the
 * statement cache and helpers the other store files build on. The schema
 * and its upgrades live in store_schema.c. Accounts live
 * in store_accounts.c, sessions in store_sessions.c, failed-login counters
 * and the throttle counters of sources in store_failures.c; all of them share store_internal.h.
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
    gh_store       *store = arg;
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

const char *gh_store_strerror(gh_store_err err)
{
    switch (err) {
    case GH_STORE_OK:        return "success";
    case GH_STORE_NOT_FOUND: return "not found";
    case GH_STORE_EXISTS:    return "already exists";
    case GH_STORE_CONFLICT:  return "changed since it was read";
    case GH_STORE_BUSY:      return "store busy";
    case GH_STORE_LIMIT:     return "too many sessions for the account";
    case GH_STORE_GAP:       return "change log trimmed past the reader";
    case GH_STORE_ERROR:     break;
    }
    return "store error";
}

gh_store_err gh_store_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return GH_STORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return GH_STORE_BUSY;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return GH_STORE_EXISTS;
        /* the only foreign key: a session naming an account that is gone */
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return GH_STORE_NOT_FOUND;
        return GH_STORE_ERROR;
    default:
        return GH_STORE_ERROR;
    }
}

sqlite3_stmt *gh_store_stmt(gh_store *store, gh_store_stmt_id id, const char *sql)
{
    /* PERSISTENT: these live as long as the connection, so SQLite keeps them
     * out of its short-lived lookaside memory. */
    if (store->stmt[id] == NULL &&
        sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &store->stmt[id], NULL) != SQLITE_OK)
        return NULL;
    return store->stmt[id];
}

void gh_store_stmt_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

gh_store_err gh_store_exec(sqlite3_stmt *stmt, bool bound)
{
    int rc = bound ? sqlite3_step(stmt) : SQLITE_ERROR;

    gh_store_stmt_done(stmt);
    return rc == SQLITE_DONE ? GH_STORE_OK : gh_store_rc(rc);
}

gh_store_err gh_store_fetch(sqlite3_stmt *stmt, bool bound, gh_store_row_fn row, void *out)
{
    int rc = bound ? sqlite3_step(stmt) : SQLITE_ERROR;
    gh_store_err err;

    if (rc == SQLITE_ROW)
        err = row(stmt, out) ? GH_STORE_OK : GH_STORE_ERROR;
    else
        err = rc == SQLITE_DONE ? GH_STORE_NOT_FOUND : gh_store_rc(rc);
    gh_store_stmt_done(stmt);
    return err;
}

gh_store_err gh_store_page(sqlite3_stmt *stmt, bool bound, gh_store_row_fn row,
                           void *items, size_t item_size, size_t *n)
{
    gh_store_err err = bound ? GH_STORE_OK : GH_STORE_ERROR;
    int rc = SQLITE_DONE;

    *n = 0;
    while (err == GH_STORE_OK && *n < GH_STORE_PAGE &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!row(stmt, (char *)items + *n * item_size))
            err = GH_STORE_ERROR;
        (*n)++;
    }
    if (err == GH_STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = gh_store_rc(rc);
    gh_store_stmt_done(stmt);
    return err;
}

static gh_store_err store_run(gh_store *store, gh_store_stmt_id id, const char *sql)
{
    sqlite3_stmt *st = gh_store_stmt(store, id, sql);

    return st == NULL ? GH_STORE_ERROR : gh_store_exec(st, true);
}

gh_store_err gh_store_begin(gh_store *store)
{
    return store_run(store, GH_ST_BEGIN, "BEGIN IMMEDIATE");
}

gh_store_err gh_store_end(gh_store *store, gh_store_err err)
{
    if (err == GH_STORE_OK)
        err = store_run(store, GH_ST_COMMIT, "COMMIT");
    /* A failed COMMIT leaves the transaction open (SQLite rolls back some
     * errors itself); the next call must never find it still open. */
    if (!sqlite3_get_autocommit(store->db))
        (void)store_run(store, GH_ST_ROLLBACK, "ROLLBACK");
    return err;
}

gh_store_err gh_store_log_change(gh_store *store, gh_change_kind kind, int64_t subject_id,
                                 const char *subject)
{
    sqlite3_stmt *st = gh_store_stmt(store, GH_ST_CHANGE_ADD,
        "INSERT INTO changes(kind, subject_id, subject) VALUES(?1, ?2, ?3)");

    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st,
        sqlite3_bind_int(st, 1, (int)kind) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, subject_id) == SQLITE_OK &&
        sqlite3_bind_text(st, 3, subject != NULL ? subject : "", -1, SQLITE_STATIC) == SQLITE_OK);
}

bool gh_store_field_ok(const char *s, size_t size)
{
    return s != NULL && memchr(s, '\0', size) != NULL;
}

bool gh_store_column_text(sqlite3_stmt *stmt, int col, char *dst, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    int len = sqlite3_column_bytes(stmt, col);

    if (size == 0)
        return false;
    if (text == NULL) {
        dst[0] = '\0';
        /* NULL text is either a NULL value or SQLite out of memory */
        return sqlite3_column_type(stmt, col) == SQLITE_NULL;
    }
    if (len < 0 || (size_t)len >= size)
        return false;
    memcpy(dst, text, (size_t)len);
    dst[len] = '\0';
    return true;
}

bool gh_store_int64_row(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(st, 0);
    return true;
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
static gh_store_err store_pragma(gh_store *store, const char *sql, const char *want,
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

static gh_store_err store_secret_load(gh_store *store)
{
    sqlite3_stmt *st = gh_store_stmt(store, GH_ST_SECRET_GET,
                                     "SELECT value FROM meta WHERE key = 'secret'");

    return st == NULL ? GH_STORE_ERROR : gh_store_fetch(st, true, store_secret_row, store->secret);
}

static gh_store_err store_secret_make(gh_store *store)
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
static gh_store_err store_migrate(gh_store *store)
{
    int64_t version = -1;
    gh_store_err err;

    err = gh_store_begin(store);
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
    return gh_store_end(store, err);
}

gh_store_err gh_store_open(const char *path, gh_store **out)
{
    gh_store *store = NULL;
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
        gh_store_close(store);
    else
        *out = store;
    return err;
}

void gh_store_close(gh_store *store)
{
    if (store == NULL)
        return;
    for (size_t i = 0; i < GH_ST_COUNT; i++)
        sqlite3_finalize(store->stmt[i]);
    sqlite3_close(store->db);
    gh_wipe(store->secret, sizeof store->secret);
    free(store);
}

gh_store_err gh_store_secret(gh_store *store, uint8_t out[GH_DIGEST_LEN])
{
    if (store == NULL || out == NULL)
        return GH_STORE_ERROR;
    /* read at open and never changed afterwards */
    memcpy(out, store->secret, GH_DIGEST_LEN);
    return GH_STORE_OK;
}

/* Settings. */

gh_store_err gh_store_setting_get(gh_store *store, const char *key, int64_t *out)
{
    sqlite3_stmt *st;

    if (store == NULL || key == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SETTING_GET, "SELECT value FROM settings WHERE key = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK,
                          gh_store_int64_row, out);
}

gh_store_err gh_store_setting_set(gh_store *store, const char *key, int64_t value)
{
    char subject[GH_SESSION_ID_LEN + 1];      /* gh_change.subject */
    size_t len;
    sqlite3_stmt *st;
    gh_store_err err;

    if (store == NULL || key == NULL || key[0] == '\0')
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SETTING_SET,
        "INSERT INTO settings(key, value) VALUES(?1, ?2)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (st == NULL)
        return GH_STORE_ERROR;
    /* the change row holds what a gh_change can carry; keys are short */
    len = strnlen(key, sizeof subject - 1);
    memcpy(subject, key, len);
    subject[len] = '\0';
    err = gh_store_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_exec(st, sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
                            sqlite3_bind_int64(st, 2, value) == SQLITE_OK);
    if (err == GH_STORE_OK)
        err = gh_store_log_change(store, GH_CHANGE_SETTING, 0, subject);
    return gh_store_end(store, err);
}

/* The change log. */

gh_store_err gh_store_change_last(gh_store *store, int64_t *seq)
{
    sqlite3_stmt *st;

    if (store == NULL || seq == NULL)
        return GH_STORE_ERROR;
    /* sqlite_sequence holds the last number ever given out, even when prune
     * has removed that row, so the answer never goes backwards. */
    st = gh_store_stmt(store, GH_ST_CHANGE_LAST,
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, true, gh_store_int64_row, seq);
}

static bool store_change_row(sqlite3_stmt *st, void *out)
{
    gh_change *c = out;

    c->seq = sqlite3_column_int64(st, 0);
    c->kind = (gh_change_kind)sqlite3_column_int(st, 1);
    c->subject_id = sqlite3_column_int64(st, 2);
    return gh_store_column_text(st, 3, c->subject, sizeof c->subject);
}

gh_store_err gh_store_change_since(gh_store *store, int64_t seq, gh_change_cb cb, void *arg)
{
    gh_change page[GH_STORE_PAGE];
    bool stop = false;
    sqlite3_stmt *st;
    gh_store_err err;
    size_t n;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_CHANGE_PAGE,
        "SELECT seq, kind, subject_id, subject FROM changes WHERE seq > ?1"
        " ORDER BY seq LIMIT ?2");
    if (st == NULL)
        return GH_STORE_ERROR;
    do {
        err = gh_store_page(st, sqlite3_bind_int64(st, 1, seq) == SQLITE_OK &&
                                sqlite3_bind_int(st, 2, GH_STORE_PAGE) == SQLITE_OK,
                            store_change_row, page, sizeof page[0], &n);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
        if (n > 0)
            seq = page[n - 1].seq;
    } while (err == GH_STORE_OK && !stop && n == GH_STORE_PAGE);
    return err;
}

gh_store_err gh_store_change_prune(gh_store *store, int64_t before_seq)
{
    sqlite3_stmt *st;

    if (store == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_CHANGE_PRUNE, "DELETE FROM changes WHERE seq < ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st, sqlite3_bind_int64(st, 1, before_seq) == SQLITE_OK);
}
