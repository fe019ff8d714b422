/*
 * store_directory.c: directory profiles written through the API, in the
 * durable store (the connection, schema and helpers are in store_sqlite.c;
 * what the rows mean is service_directory.c's).
 *
 * One row per profile name: its keys as text, or NULL for a tombstone. Each
 * write is one transaction with its change row (GH_CHANGE_DIRECTORY), whose
 * sequence number becomes the row's revision: unique over the life of the
 * database, so a reader that keeps anything made from a profile (a thread's
 * LDAP connections) can tell any two writes apart, even of the same text.
 * A write that takes the profile's users out (disabled, deleted) deletes
 * their sessions in the same transaction, so no restart brings one back.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

static bool store_directory_name_ok(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) <= GH_DOMAIN_MAX;
}

/* The change row of a write of name, its sequence number in *seq. */
static gh_store_err store_directory_log(gh_store_sqlite *store, const char *name, int64_t *seq)
{
    char subject[GH_SESSION_ID_LEN + 1] = "";
    gh_store_err err;

    /* A name longer than a change row's subject is logged as "" (any). */
    if (strlen(name) < sizeof(subject))
        memcpy(subject, name, strlen(name) + 1);
    err = gh_store_log_change(store, GH_CHANGE_DIRECTORY, 0, subject);
    *seq = err == GH_STORE_OK ? sqlite3_last_insert_rowid(store->db) : 0;
    return err;
}

static gh_store_err store_directory_end_sessions(gh_store_sqlite *store, const char *name)
{
    sqlite3_stmt *st = gh_store_stmt(store, GH_ST_DIRECTORY_END_SESSIONS,
        "DELETE FROM sessions WHERE account_id IN (SELECT id FROM accounts WHERE domain = ?1)");

    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st, sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK);
}

gh_store_err gh_store_sqlite_directory_put(gh_store *base, const char *name, const char *text,
                                           bool end_sessions, int64_t *revision)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;
    int64_t seq = 0;

    if (store == NULL || !store_directory_name_ok(name) ||
        (text != NULL && strlen(text) >= GH_DIRECTORY_TEXT_MAX))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_DIRECTORY_PUT,
        "INSERT INTO directory_profiles(name, text, revision) VALUES(?1, ?2, ?3)"
        " ON CONFLICT(name) DO UPDATE SET text = excluded.text, revision = excluded.revision");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = store_directory_log(store, name, &seq);
    if (err == GH_STORE_OK)
        err = gh_store_exec(st,
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
            (text != NULL ? sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC)
                          : sqlite3_bind_null(st, 2)) == SQLITE_OK &&
            sqlite3_bind_int64(st, 3, seq) == SQLITE_OK);
    if (err == GH_STORE_OK && end_sessions)
        err = store_directory_end_sessions(store, name);
    err = gh_store_tx_end(store, err);
    if (revision != NULL)
        *revision = err == GH_STORE_OK ? seq : 0;
    return err;
}

/* The row as the source had it, revision included; logs nothing and ends
 * no session (store copy fills a store no server runs on). */
gh_store_err gh_store_sqlite_directory_import(gh_store *base, const gh_stored_directory *row)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || row == NULL || !store_directory_name_ok(row->name) ||
        (row->text != NULL && strlen(row->text) >= GH_DIRECTORY_TEXT_MAX))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_DIRECTORY_IMPORT,
        "INSERT INTO directory_profiles(name, text, revision) VALUES(?1, ?2, ?3)");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st,
        sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC) == SQLITE_OK &&
        (row->text != NULL ? sqlite3_bind_text(st, 2, row->text, -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, 2)) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, row->revision) == SQLITE_OK);
}

gh_store_err gh_store_sqlite_directory_forget(gh_store *base, const char *name)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;
    int64_t seq;

    if (store == NULL || !store_directory_name_ok(name))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_DIRECTORY_FORGET,
        "DELETE FROM directory_profiles WHERE name = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_exec(st, sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK);
    if (err == GH_STORE_OK && sqlite3_changes(store->db) == 0)
        err = GH_STORE_NOT_FOUND;
    if (err == GH_STORE_OK)
        err = store_directory_log(store, name, &seq);
    if (err == GH_STORE_OK)
        err = store_directory_end_sessions(store, name);
    return gh_store_tx_end(store, err);
}

typedef struct {
    gh_stored_directory row;
    char                text[GH_DIRECTORY_TEXT_MAX];
    bool                deleted;
} store_directory_item;

static bool store_directory_row(sqlite3_stmt *st, void *out)
{
    store_directory_item *it = out;

    it->deleted = sqlite3_column_type(st, 1) == SQLITE_NULL;
    it->row.revision = sqlite3_column_int64(st, 2);
    return gh_store_column_text(st, 0, it->row.name, sizeof(it->row.name)) &&
           gh_store_column_text(st, 1, it->text, sizeof(it->text));
}

/* By name, a row at a time (each read its own statement run), so cb may
 * write to the store. */
gh_store_err gh_store_sqlite_directory_foreach(gh_store *base, gh_directory_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    store_directory_item *it;
    char          after[GH_DOMAIN_MAX + 1] = "";
    gh_store_err  err = GH_STORE_OK;
    sqlite3_stmt *st;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_DIRECTORY_LIST,
        "SELECT name, text, revision FROM directory_profiles WHERE name > ?1"
        " ORDER BY name LIMIT 1");
    if (st == NULL || (it = calloc(1, sizeof(*it))) == NULL)
        return GH_STORE_ERROR;
    while (err == GH_STORE_OK) {
        err = gh_store_fetch(st, sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT) ==
                                     SQLITE_OK,
                             store_directory_row, it);
        if (err != GH_STORE_OK)
            break;
        it->row.text = it->deleted ? NULL : it->text;
        memcpy(after, it->row.name, sizeof(after));
        if (cb(&it->row, arg) != 0)
            break;
    }
    free(it);
    return err == GH_STORE_NOT_FOUND ? GH_STORE_OK : err;
}
