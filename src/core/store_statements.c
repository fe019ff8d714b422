/*
 * store_statements.c: what every file of the embedded store builds on
 * (store_internal.h): SQLite's result codes as store errors, the cache of
 * prepared statements and the three ways one runs (exec, fetch, page),
 * transactions, the change log's append, and bounded text columns. It calls
 * nothing else of the store.
 */
#include "store_internal.h"

#include <string.h>

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

sqlite3_stmt *gh_store_stmt(gh_store_sqlite *store, gh_store_stmt_id id, const char *sql)
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

static gh_store_err store_run(gh_store_sqlite *store, gh_store_stmt_id id, const char *sql)
{
    sqlite3_stmt *st = gh_store_stmt(store, id, sql);

    return st == NULL ? GH_STORE_ERROR : gh_store_exec(st, true);
}

gh_store_err gh_store_tx_begin(gh_store_sqlite *store)
{
    return store_run(store, GH_ST_BEGIN, "BEGIN IMMEDIATE");
}

gh_store_err gh_store_tx_end(gh_store_sqlite *store, gh_store_err err)
{
    if (err == GH_STORE_OK)
        err = store_run(store, GH_ST_COMMIT, "COMMIT");
    /* A failed COMMIT leaves the transaction open (SQLite rolls back some
     * errors itself); the next call must never find it still open. */
    if (!sqlite3_get_autocommit(store->db))
        (void)store_run(store, GH_ST_ROLLBACK, "ROLLBACK");
    return err;
}

gh_store_err gh_store_log_change(gh_store_sqlite *store, gh_change_kind kind, int64_t subject_id,
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
