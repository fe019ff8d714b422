/*
 * store_attributes.c: what a dialect keeps of an account for itself, in the
 * durable store (the connection, schema and helpers are in store_sqlite.c).
 *
 * One row per (account, dialect, name), its value text. The core never reads
 * a value: the dialect that wrote it is the one that knows what it means, and
 * another dialect's rows are never its business. Rows go with their account
 * (ON DELETE CASCADE from accounts). A write is a single statement, so a
 * caller may put it in one transaction with an account insert; it logs no
 * change, since no worker keeps a copy.
 */
#include "store_internal.h"

#include <string.h>

static bool store_attribute_key_ok(const char *dialect, const char *name)
{
    return dialect != NULL && name != NULL && dialect[0] != '\0' && name[0] != '\0' &&
           strlen(dialect) <= GH_DIALECT_NAME_MAX && strlen(name) <= GH_ATTRIBUTE_NAME_MAX;
}

typedef struct {
    char   *value;
    size_t  size;
} store_attribute_out;

static bool store_attribute_row(sqlite3_stmt *st, void *out)
{
    store_attribute_out *o = out;

    return gh_store_column_text(st, 0, o->value, o->size);
}

gh_store_err gh_store_sqlite_attribute_get(gh_store *base, int64_t account_id,
                                           const char *dialect, const char *name,
                                           char *value, size_t size)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    store_attribute_out out = { value, size };
    sqlite3_stmt *st;

    if (store == NULL || value == NULL || size == 0 || !store_attribute_key_ok(dialect, name))
        return GH_STORE_ERROR;
    value[0] = '\0';
    st = gh_store_stmt(store, GH_ST_ATTRIBUTE_GET,
        "SELECT value FROM account_attributes"
        " WHERE account_id = ?1 AND dialect = ?2 AND name = ?3");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK &&
                              sqlite3_bind_text(st, 2, dialect, -1, SQLITE_STATIC) == SQLITE_OK &&
                              sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) == SQLITE_OK,
                          store_attribute_row, &out);
}

gh_store_err gh_store_sqlite_attribute_set(gh_store *base, int64_t account_id,
                                           const char *dialect, const char *name,
                                           const char *value)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || value == NULL || strlen(value) > GH_ATTRIBUTE_VALUE_MAX ||
        !store_attribute_key_ok(dialect, name))
        return GH_STORE_ERROR;
    /* An account that does not exist fails the foreign key: GH_STORE_NOT_FOUND. */
    st = gh_store_stmt(store, GH_ST_ATTRIBUTE_SET,
        "INSERT INTO account_attributes(account_id, dialect, name, value) VALUES(?1, ?2, ?3, ?4)"
        " ON CONFLICT(account_id, dialect, name) DO UPDATE SET value = excluded.value");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st, sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK &&
                             sqlite3_bind_text(st, 2, dialect, -1, SQLITE_STATIC) == SQLITE_OK &&
                             sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) == SQLITE_OK &&
                             sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC) == SQLITE_OK);
}

gh_store_err gh_store_sqlite_attribute_delete(gh_store *base, int64_t account_id,
                                              const char *dialect, const char *name)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;

    if (store == NULL || !store_attribute_key_ok(dialect, name))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ATTRIBUTE_DELETE,
        "DELETE FROM account_attributes WHERE account_id = ?1 AND dialect = ?2 AND name = ?3");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_exec(st, sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK &&
                            sqlite3_bind_text(st, 2, dialect, -1, SQLITE_STATIC) == SQLITE_OK &&
                            sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) == SQLITE_OK);
    if (err == GH_STORE_OK && sqlite3_changes(store->db) == 0)
        err = GH_STORE_NOT_FOUND;
    return err;
}

/* By name, in byte order: the table is WITHOUT ROWID, keyed by (account,
 * dialect, name), so this is a range of its primary key, and the prefix is
 * compared as text, never as a LIKE pattern. */
gh_store_err gh_store_sqlite_attribute_foreach(gh_store *base, int64_t account_id,
                                               const char *dialect, const char *prefix,
                                               gh_attribute_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    char          name[GH_ATTRIBUTE_NAME_MAX + 1], value[GH_ATTRIBUTE_VALUE_MAX + 1];
    gh_store_err  err = GH_STORE_OK;
    sqlite3_stmt *st;
    int           rc;

    if (store == NULL || cb == NULL || prefix == NULL || strlen(prefix) > GH_ATTRIBUTE_NAME_MAX ||
        !store_attribute_key_ok(dialect, "-"))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ATTRIBUTE_LIST,
        "SELECT name, value FROM account_attributes"
        " WHERE account_id = ?1 AND dialect = ?2 AND substr(name, 1, length(?3)) = ?3"
        " ORDER BY name");
    if (st == NULL)
        return GH_STORE_ERROR;
    if (sqlite3_bind_int64(st, 1, account_id) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, dialect, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC) != SQLITE_OK) {
        err = GH_STORE_ERROR;
        goto done;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!gh_store_column_text(st, 0, name, sizeof(name)) ||
            !gh_store_column_text(st, 1, value, sizeof(value)))
            err = GH_STORE_ERROR;
        if (err != GH_STORE_OK || cb(name, value, arg) != 0)
            break;
    }
    if (err == GH_STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = gh_store_rc(rc);
done:
    gh_wipe(value, sizeof(value));
    gh_store_stmt_done(st);
    return err;
}
