/*
 * store_internal.h: what store_sqlite.c and the other store_*.c files of the
 * embedded (SQLite) backend share, private to it: the connection, its cache
 * of prepared statements, the helpers for transactions, the change log and
 * bounded text and integer columns, and the backend's members of the ops
 * table (store_backend.h), each with the contract of the store.h function of
 * the same name without "sqlite_".
 */
#ifndef GH_STORE_INTERNAL_H
#define GH_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store_backend.h"

/* Rows a walk copies out before it calls back: the statement is reset first,
 * so a callback may use the store (even the same walk) and no read snapshot
 * is held across callbacks to stall WAL checkpoints. */
#define GH_STORE_PAGE GH_STORE_PAGE_MAX

/* One slot per statement; each is prepared on first use with the SQL its one
 * caller passes, and kept until the connection closes. */
typedef enum {
    GH_ST_BEGIN = 0,
    GH_ST_COMMIT,
    GH_ST_ROLLBACK,
    GH_ST_SECRET_GET,
    GH_ST_SECRET_PUT,
    GH_ST_SECRET_IMPORT,
    GH_ST_CHANGE_ADD,
    GH_ST_CHANGE_LAST,
    GH_ST_CHANGE_PAGE,
    GH_ST_CHANGE_PRUNE,
    GH_ST_CHANGE_FLOOR_ADD,
    GH_ST_CHANGE_FLOOR_RAISE,
    GH_ST_ACCOUNT_GET,
    GH_ST_ACCOUNT_GET_ID,
    GH_ST_ACCOUNT_ADD,
    GH_ST_ACCOUNT_IMPORT,
    GH_ST_ACCOUNT_UPDATE,
    GH_ST_ACCOUNT_GENERATION,
    GH_ST_ACCOUNT_DELETE,
    GH_ST_ACCOUNT_PAGE,
    GH_ST_ACCOUNT_DUE,
    GH_ST_SETTING_GET,
    GH_ST_SETTING_SET,
    GH_ST_SESSION_INSERT,
    GH_ST_SESSION_FIND_DIGEST,
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
    GH_ST_DIRECTORY_IMPORT,
    GH_ST_COUNT
} gh_store_stmt_id;

/* The embedded backend's connection; base first, so a gh_store * is one. */
typedef struct {
    gh_store      base;
    sqlite3      *db;
    sqlite3_stmt *stmt[GH_ST_COUNT];
    uint8_t       secret[GH_DIGEST_LEN];
    int64_t       busy_since_us;    /* monotonic: the first try of a wait for a lock */
} gh_store_sqlite;

/* Microseconds to sleep before try tries + 1 of a wait for another
 * connection's lock: short at first, 1 ms at most (store_sqlite.c). */
long gh_store_busy_delay_us(int tries);

/* The cached statement for id, prepared from sql on first use; NULL on
 * failure. Borrowed: release it with gh_store_stmt_done, never finalize. */
sqlite3_stmt *gh_store_stmt(gh_store_sqlite *store, gh_store_stmt_id id, const char *sql);
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

/* BEGIN IMMEDIATE, and COMMIT (err OK) or ROLLBACK: gh_store_begin/end of
 * the connection; the writes that open their own transaction use them. */
gh_store_err gh_store_tx_begin(gh_store_sqlite *store);
gh_store_err gh_store_tx_end(gh_store_sqlite *store, gh_store_err err);

/* Append a change row; call inside the transaction of the write it reports. */
gh_store_err gh_store_log_change(gh_store_sqlite *store, gh_change_kind kind, int64_t subject_id,
                                 const char *subject);

/* True when s is NUL-terminated within size bytes (a fixed field is sound). */
bool gh_store_field_ok(const char *s, size_t size);
/* Copy a text column into dst; NULL reads as "". False if it does not fit. */
bool gh_store_column_text(sqlite3_stmt *stmt, int col, char *dst, size_t size);
/* A gh_store_row_fn for a single integer column: column 0 into *(int64_t *)out. */
bool gh_store_int64_row(sqlite3_stmt *stmt, void *out);

/* The ops table's members (store_sqlite.c holds the table). */
gh_store_err gh_store_sqlite_secret(gh_store *s, uint8_t out[GH_DIGEST_LEN]);
gh_store_err gh_store_sqlite_secret_import(gh_store *s, const uint8_t secret[GH_DIGEST_LEN]);
/* store_accounts.c */
gh_store_err gh_store_sqlite_account_get(gh_store *s, const char *name, gh_account *out);
gh_store_err gh_store_sqlite_account_get_by_id(gh_store *s, int64_t id, gh_account *out);
gh_store_err gh_store_sqlite_account_add(gh_store *s, gh_account *acct);
gh_store_err gh_store_sqlite_account_import(gh_store *s, const gh_account *acct);
gh_store_err gh_store_sqlite_account_update(gh_store *s, gh_account *acct,
                                            int64_t expected_generation);
gh_store_err gh_store_sqlite_account_delete(gh_store *s, int64_t id);
gh_store_err gh_store_sqlite_account_foreach(gh_store *s, gh_account_cb cb, void *arg);
gh_store_err gh_store_sqlite_account_due(gh_store *s, const char *domain, const char *dialect,
                                         const char *name, int64_t before,
                                         int64_t ids[GH_STORE_PAGE_MAX], size_t *n);
/* store_sessions.c */
gh_store_err gh_store_sqlite_session_insert(gh_store *s, const gh_session_record *rec);
gh_store_err gh_store_sqlite_session_insert_limited(gh_store *s, const gh_session_record *rec,
                                                    int64_t max_per_account, int64_t now,
                                                    int64_t default_idle);
gh_store_err gh_store_sqlite_session_get(gh_store *s, const char *id, gh_session_record *out);
gh_store_err gh_store_sqlite_session_find_digest(gh_store *s,
                                                 const uint8_t digest[GH_DIGEST_LEN],
                                                 gh_session_record *out,
                                                 gh_store_session_owner *acct);
gh_store_err gh_store_sqlite_session_delete(gh_store *s, const char *id);
gh_store_err gh_store_sqlite_session_delete_account(gh_store *s, int64_t account_id,
                                                    int *count);
gh_store_err gh_store_sqlite_session_expire(gh_store *s, int64_t now, int64_t default_idle,
                                            int64_t *from, int *count, int *lifetime);
gh_store_err gh_store_sqlite_session_count_live(gh_store *s, int64_t account_id, int64_t now,
                                                int64_t default_idle, int64_t *count);
gh_store_err gh_store_sqlite_session_touch(gh_store *s, const gh_session_touch *touches,
                                           size_t n);
gh_store_err gh_store_sqlite_session_foreach(gh_store *s, int64_t account_id,
                                             gh_session_cb cb, void *arg);
gh_store_err gh_store_sqlite_session_scan(gh_store *s, int64_t after, int64_t upto,
                                          gh_session_cb cb, void *arg);
gh_store_err gh_store_sqlite_session_rowid_last(gh_store *s, int64_t *rowid);
/* store_attributes.c */
gh_store_err gh_store_sqlite_attribute_get(gh_store *s, int64_t account_id,
                                           const char *dialect, const char *name,
                                           char *value, size_t size);
gh_store_err gh_store_sqlite_attribute_set(gh_store *s, int64_t account_id,
                                           const char *dialect, const char *name,
                                           const char *value);
gh_store_err gh_store_sqlite_attribute_delete(gh_store *s, int64_t account_id,
                                              const char *dialect, const char *name);
gh_store_err gh_store_sqlite_attribute_foreach(gh_store *s, int64_t account_id,
                                               const char *dialect, const char *prefix,
                                               gh_attribute_cb cb, void *arg);
/* store_changes.c */
gh_store_err gh_store_sqlite_setting_get(gh_store *s, const char *key, int64_t *out);
gh_store_err gh_store_sqlite_setting_set(gh_store *s, const char *key, int64_t value);
gh_store_err gh_store_sqlite_change_last(gh_store *s, int64_t *seq);
gh_store_err gh_store_sqlite_change_since(gh_store *s, int64_t seq, gh_change_cb cb,
                                          void *arg);
gh_store_err gh_store_sqlite_change_prune(gh_store *s, int64_t before_seq);
gh_store_err gh_store_sqlite_change_floor(gh_store *s, int64_t seq);
/* store_failures.c */
gh_store_err gh_store_sqlite_failure_get(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                         gh_failure *out);
gh_store_err gh_store_sqlite_failure_put(gh_store *s, const gh_failure *f);
gh_store_err gh_store_sqlite_failure_count(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                           const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                           int64_t reset_after, int64_t threshold,
                                           int64_t duration, gh_failure *out, bool *locked);
gh_store_err gh_store_sqlite_failure_delete(gh_store *s, const uint8_t key[GH_DIGEST_LEN]);
gh_store_err gh_store_sqlite_failure_clear_owner(gh_store *s,
                                                 const uint8_t owner[GH_DIGEST_LEN]);
gh_store_err gh_store_sqlite_failure_prune(gh_store *s, int64_t now, int *count);
gh_store_err gh_store_sqlite_throttle_put(gh_store *s, const gh_throttle_count *c,
                                          int64_t expires);
gh_store_err gh_store_sqlite_throttle_scan(gh_store *s, int64_t now, uint32_t max,
                                           gh_throttle_cb cb, void *arg);
gh_store_err gh_store_sqlite_throttle_prune(gh_store *s, int64_t now, int *count);
/* store_directory.c */
gh_store_err gh_store_sqlite_directory_put(gh_store *s, const char *name, const char *text,
                                           bool end_sessions, int64_t *revision);
gh_store_err gh_store_sqlite_directory_import(gh_store *s, const gh_stored_directory *row);
gh_store_err gh_store_sqlite_directory_forget(gh_store *s, const char *name);
gh_store_err gh_store_sqlite_directory_foreach(gh_store *s, gh_directory_cb cb, void *arg);

#endif
