/*
 * store_internal.h: what store_sqlite.c and the other store_*.c files share,
 * private to the store: the connection, its cache of prepared statements,
 * and the helpers for transactions, the change log and bounded
 * text and integer columns.
 */
#ifndef GH_STORE_INTERNAL_H
#define GH_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

/* Rows a walk copies out before it calls back: the statement is reset first,
 * so a callback may use the store (even the same walk) and no read snapshot
 * is held across callbacks to stall WAL checkpoints. */
#define GH_STORE_PAGE 16

/* One slot per statement; each is prepared on first use with the SQL its one
 * caller passes, and kept until the connection closes. */
typedef enum {
    GH_ST_BEGIN = 0,
    GH_ST_COMMIT,
    GH_ST_ROLLBACK,
    GH_ST_SECRET_GET,
    GH_ST_SECRET_PUT,
    GH_ST_CHANGE_ADD,
    GH_ST_CHANGE_LAST,
    GH_ST_CHANGE_PAGE,
    GH_ST_CHANGE_PRUNE,
    GH_ST_ACCOUNT_GET,
    GH_ST_ACCOUNT_GET_ID,
    GH_ST_ACCOUNT_ADD,
    GH_ST_ACCOUNT_UPDATE,
    GH_ST_ACCOUNT_GENERATION,
    GH_ST_ACCOUNT_DELETE,
    GH_ST_ACCOUNT_PAGE,
    GH_ST_SETTING_GET,
    GH_ST_SETTING_SET,
    GH_ST_SESSION_INSERT,
    GH_ST_SESSION_GET,
    GH_ST_SESSION_DELETE,
    GH_ST_SESSION_DELETE_ACCOUNT,
    GH_ST_SESSION_EXPIRE,
    GH_ST_SESSION_COUNT_LIVE,
    GH_ST_SESSION_ROWID_LAST,
    GH_ST_SESSION_TOUCH,
    GH_ST_SESSION_PAGE_ALL,
    GH_ST_SESSION_PAGE_ACCOUNT,
    GH_ST_SESSION_SCAN,
    GH_ST_FAILURE_GET,
    GH_ST_FAILURE_PUT,
    GH_ST_FAILURE_DELETE,
    GH_ST_FAILURE_CLEAR_OWNER,
    GH_ST_FAILURE_PRUNE,
    GH_ST_THROTTLE_PUT,
    GH_ST_THROTTLE_SCAN,
    GH_ST_THROTTLE_PRUNE,
    GH_ST_ATTRIBUTE_GET,
    GH_ST_ATTRIBUTE_SET,
    GH_ST_ATTRIBUTE_DELETE,
    GH_ST_ATTRIBUTE_LIST,
    GH_ST_DIRECTORY_LIST,
    GH_ST_DIRECTORY_PUT,
    GH_ST_DIRECTORY_FORGET,
    GH_ST_DIRECTORY_END_SESSIONS,
    GH_ST_COUNT
} gh_store_stmt_id;

struct gh_store {
    sqlite3      *db;
    sqlite3_stmt *stmt[GH_ST_COUNT];
    uint8_t       secret[GH_DIGEST_LEN];
};

/* The cached statement for id, prepared from sql on first use; NULL on
 * failure. Borrowed: release it with gh_store_stmt_done, never finalize. */
sqlite3_stmt *gh_store_stmt(gh_store *store, gh_store_stmt_id id, const char *sql);
/* Reset a statement and drop its bindings (they may point at caller memory). */
void gh_store_stmt_done(sqlite3_stmt *stmt);

/* Reads the current row of stmt into out; false if a value does not fit. */
typedef bool (*gh_store_row_fn)(sqlite3_stmt *stmt, void *out);

/* The three ways a cached statement runs. Each takes bound, whether every
 * bind succeeded (if not, the statement does not run: GH_STORE_ERROR), and
 * each leaves the statement reset; sqlite3_changes stays valid after it.
 * exec: run a write to its end.
 * fetch: read the first row through row into out; no row: GH_STORE_NOT_FOUND.
 * page: read up to GH_STORE_PAGE rows into items, item_size bytes apart,
 * and say in *n how many; fewer than a page means the walk is over. */
gh_store_err gh_store_exec(sqlite3_stmt *stmt, bool bound);
gh_store_err gh_store_fetch(sqlite3_stmt *stmt, bool bound, gh_store_row_fn row, void *out);
gh_store_err gh_store_page(sqlite3_stmt *stmt, bool bound, gh_store_row_fn row,
                           void *items, size_t item_size, size_t *n);

#define GH_STORE_SCHEMA 6       /* PRAGMA user_version this code writes and reads */

/* Bring the schema of db from *version (0: an empty database) to
 * GH_STORE_SCHEMA, inside the caller's write transaction; *version follows.
 * SQLITE_OK, SQLite's error, or SQLITE_MISMATCH for what it will not guess
 * at: a version this code does not know (a newer gatehouse's), a session
 * number no dialect name was given for. store_schema.c; it calls nothing
 * else of the store. */
int gh_store_schema_upgrade(sqlite3 *db, int64_t *version);

/* An SQLite result code (extended codes are on) as a store error. */
gh_store_err gh_store_rc(int rc);

/* Append a change row; call inside the transaction of the write it reports. */
gh_store_err gh_store_log_change(gh_store *store, gh_change_kind kind, int64_t subject_id,
                                 const char *subject);

/* True when s is NUL-terminated within size bytes (a fixed field is sound). */
bool gh_store_field_ok(const char *s, size_t size);
/* Copy a text column into dst; NULL reads as "". False if it does not fit. */
bool gh_store_column_text(sqlite3_stmt *stmt, int col, char *dst, size_t size);
/* A gh_store_row_fn for a single integer column: column 0 into *(int64_t *)out. */
bool gh_store_int64_row(sqlite3_stmt *stmt, void *out);

#endif
