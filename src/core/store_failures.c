/*
 * store_failures.c: failed-login counters in the durable store (the
 * connection, schema and helpers are in store_sqlite.c). A row of
 * login_failures is one lockout counter of lockout.h, keyed by an HMAC; its
 * owner, the HMAC of the account name, lets an unlock clear every counter of
 * an account at once. A row of source_throttle is the throttle counter of a
 * source, keyed by the HMAC of the source: the shared block is its truth
 * while the server runs, and this copy is what a restart loads back.
 * Counters are written by the thread that checked the password, and so they
 * survive a restart. Rows past their end are pruned in batches by the upkeep.
 */
#include "store_internal.h"

#include <string.h>

static bool store_failure_blob(sqlite3_stmt *st, int col, uint8_t *out)
{
    const void *blob = sqlite3_column_blob(st, col);

    if (blob == NULL || sqlite3_column_bytes(st, col) != GH_DIGEST_LEN)
        return false;
    memcpy(out, blob, GH_DIGEST_LEN);
    return true;
}

static bool store_failure_row(sqlite3_stmt *st, void *out)
{
    gh_failure *f = out;

    memset(f, 0, sizeof(*f));
    f->window_start = sqlite3_column_int64(st, 2);
    f->failures = sqlite3_column_int64(st, 3);
    f->locked_until = sqlite3_column_int64(st, 4);
    f->expires = sqlite3_column_int64(st, 5);
    return store_failure_blob(st, 0, f->key) && store_failure_blob(st, 1, f->owner);
}

gh_store_err gh_store_sqlite_failure_get(gh_store *base, const uint8_t key[GH_DIGEST_LEN],
                                         gh_failure *out)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || key == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_FAILURE_GET,
        "SELECT key, owner, window_start, failures, locked_until, expires"
        " FROM login_failures WHERE key = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_blob(st, 1, key, GH_DIGEST_LEN,
                                                SQLITE_STATIC) == SQLITE_OK,
                          store_failure_row, out);
}

gh_store_err gh_store_sqlite_failure_put(gh_store *base, const gh_failure *f)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || f == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_FAILURE_PUT,
        "INSERT OR REPLACE INTO login_failures(key, owner, window_start, failures,"
        " locked_until, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st,
        sqlite3_bind_blob(st, 1, f->key, GH_DIGEST_LEN, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_blob(st, 2, f->owner, GH_DIGEST_LEN, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, f->window_start) == SQLITE_OK &&
        sqlite3_bind_int64(st, 4, f->failures) == SQLITE_OK &&
        sqlite3_bind_int64(st, 5, f->locked_until) == SQLITE_OK &&
        sqlite3_bind_int64(st, 6, f->expires) == SQLITE_OK);
}

static gh_store_err store_failure_delete_by(gh_store_sqlite *store, gh_store_stmt_id id,
                                            const char *sql, const uint8_t *blob)
{
    sqlite3_stmt *st;

    if (store == NULL || blob == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, id, sql);
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st, sqlite3_bind_blob(st, 1, blob, GH_DIGEST_LEN,
                                               SQLITE_STATIC) == SQLITE_OK);
}

/* Read, count, write under one write lock (BEGIN IMMEDIATE): two threads
 * or processes counting failures of one key cannot both read the same row
 * and lose one. */
gh_store_err gh_store_sqlite_failure_count(gh_store *base, const uint8_t key[GH_DIGEST_LEN],
                                           const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                           int64_t reset_after, int64_t threshold,
                                           int64_t duration, gh_failure *out, bool *locked)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    gh_failure f;
    bool hit = false;
    gh_store_err err;

    if (store == NULL || key == NULL || owner == NULL || out == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_sqlite_failure_get(base, key, &f);
    if (err == GH_STORE_NOT_FOUND) {
        memset(&f, 0, sizeof(f));
        memcpy(f.key, key, GH_DIGEST_LEN);
        memcpy(f.owner, owner, GH_DIGEST_LEN);
        err = GH_STORE_OK;
    }
    if (err == GH_STORE_OK) {
        hit = gh_lockout_count(&f, now, reset_after, threshold, duration);
        err = gh_store_sqlite_failure_put(base, &f);
    }
    err = gh_store_tx_end(store, err);
    if (err == GH_STORE_OK) {
        *out = f;
        if (locked != NULL)
            *locked = hit;
    }
    return err;
}

gh_store_err gh_store_sqlite_failure_delete(gh_store *base, const uint8_t key[GH_DIGEST_LEN])
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    return store_failure_delete_by(store, GH_ST_FAILURE_DELETE,
                                   "DELETE FROM login_failures WHERE key = ?1", key);
}

gh_store_err gh_store_sqlite_failure_clear_owner(gh_store *base, const uint8_t owner[GH_DIGEST_LEN])
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    return store_failure_delete_by(store, GH_ST_FAILURE_CLEAR_OWNER,
                                   "DELETE FROM login_failures WHERE owner = ?1", owner);
}

/* A batch of rows past their end out of a table (its SQL in sql). */
static gh_store_err store_prune(gh_store_sqlite *store, gh_store_stmt_id id, const char *sql,
                                int64_t now, int *count)
{
    sqlite3_stmt *st;
    gh_store_err err;

    if (count != NULL)
        *count = 0;
    if (store == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, id, sql);
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_exec(st, sqlite3_bind_int64(st, 1, now) == SQLITE_OK &&
                            sqlite3_bind_int(st, 2, GH_STORE_EXPIRE_BATCH) == SQLITE_OK);
    if (err == GH_STORE_OK && count != NULL)
        *count = sqlite3_changes(store->db);
    return err;
}

gh_store_err gh_store_sqlite_failure_prune(gh_store *base, int64_t now, int *count)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    return store_prune(store, GH_ST_FAILURE_PRUNE,
        "DELETE FROM login_failures WHERE rowid IN (SELECT rowid FROM login_failures"
        " WHERE expires <= ?1 LIMIT ?2)", now, count);
}

gh_store_err gh_store_sqlite_throttle_put(gh_store *base, const gh_throttle_count *c,
                                          int64_t expires)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || c == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_THROTTLE_PUT,
        "INSERT OR REPLACE INTO source_throttle(key, failures, window_start,"
        " blocked_until, expires) VALUES(?1, ?2, ?3, ?4, ?5)");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st,
        sqlite3_bind_blob(st, 1, c->key, GH_DIGEST_LEN, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, c->failures) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, c->window_start) == SQLITE_OK &&
        sqlite3_bind_int64(st, 4, c->blocked_until) == SQLITE_OK &&
        sqlite3_bind_int64(st, 5, expires) == SQLITE_OK);
}

static bool store_throttle_row(sqlite3_stmt *st, gh_throttle_count *c)
{
    int64_t failures = sqlite3_column_int64(st, 1);

    memset(c, 0, sizeof(*c));
    c->failures = failures < 0 ? 0 : failures > UINT32_MAX ? UINT32_MAX : (uint32_t)failures;
    c->window_start = sqlite3_column_int64(st, 2);
    c->blocked_until = sqlite3_column_int64(st, 3);
    return store_failure_blob(st, 0, c->key);
}

gh_store_err gh_store_sqlite_throttle_scan(gh_store *base, int64_t now, uint32_t max,
                                           gh_throttle_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    gh_throttle_count c;
    gh_store_err err = GH_STORE_OK;
    sqlite3_stmt *st;
    int rc;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_THROTTLE_SCAN,
        "SELECT key, failures, window_start, blocked_until FROM source_throttle"
        " WHERE expires > ?1 ORDER BY expires DESC LIMIT ?2");
    if (st == NULL)
        return GH_STORE_ERROR;
    if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, max) != SQLITE_OK)
    {
        gh_store_stmt_done(st);
        return GH_STORE_ERROR;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_throttle_row(st, &c))
            err = GH_STORE_ERROR;
        if (err != GH_STORE_OK || cb(&c, arg) != 0)
            break;
    }
    if (err == GH_STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = gh_store_rc(rc);
    gh_store_stmt_done(st);
    return err;
}

gh_store_err gh_store_sqlite_throttle_prune(gh_store *base, int64_t now, int *count)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    return store_prune(store, GH_ST_THROTTLE_PRUNE,
        "DELETE FROM source_throttle WHERE rowid IN (SELECT rowid FROM source_throttle"
        " WHERE expires <= ?1 LIMIT ?2)", now, count);
}
