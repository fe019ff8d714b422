/*
 * store_changes.c: live settings and the change log in the embedded store
 * (the connection and helpers are in store_sqlite.c, shared through
 * store_internal.h). A setting write commits with its GH_CHANGE_SETTING row.
 * The log's sequence is the changes table's AUTOINCREMENT: sqlite_sequence
 * keeps the last number given out even once prune has removed its row, so
 * gh_store_change_last never goes backwards, and change_floor (a store copied
 * from another) raises that number without writing a row.
 */
#include "store_internal.h"

#include <string.h>

/* Settings. */

gh_store_err gh_store_sqlite_setting_get(gh_store *base, const char *key, int64_t *out)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || key == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SETTING_GET, "SELECT value FROM settings WHERE key = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK,
                          gh_store_int64_row, out);
}

gh_store_err gh_store_sqlite_setting_set(gh_store *base, const char *key, int64_t value)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
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
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_exec(st, sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
                            sqlite3_bind_int64(st, 2, value) == SQLITE_OK);
    if (err == GH_STORE_OK)
        err = gh_store_log_change(store, GH_CHANGE_SETTING, 0, subject);
    return gh_store_tx_end(store, err);
}

/* The change log. */

gh_store_err gh_store_sqlite_change_last(gh_store *base, int64_t *seq)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
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

gh_store_err gh_store_sqlite_change_since(gh_store *base, int64_t seq, gh_change_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
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

gh_store_err gh_store_sqlite_change_prune(gh_store *base, int64_t before_seq)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_CHANGE_PRUNE, "DELETE FROM changes WHERE seq < ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st, sqlite3_bind_int64(st, 1, before_seq) == SQLITE_OK);
}

/* sqlite_sequence has no row for changes until the first change is logged:
 * make it, then raise it; both in one transaction so no insert slips in. */
gh_store_err gh_store_sqlite_change_floor(gh_store *base, int64_t seq)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *add, *raise;
    gh_store_err err;

    if (store == NULL || seq < 0)
        return GH_STORE_ERROR;
    add = gh_store_stmt(store, GH_ST_CHANGE_FLOOR_ADD,
        "INSERT INTO sqlite_sequence(name, seq) SELECT 'changes', 0"
        " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes')");
    raise = gh_store_stmt(store, GH_ST_CHANGE_FLOOR_RAISE,
        "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'changes' AND seq < ?1");
    if (add == NULL || raise == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_exec(add, true);
    if (err == GH_STORE_OK)
        err = gh_store_exec(raise, sqlite3_bind_int64(raise, 1, seq) == SQLITE_OK);
    return gh_store_tx_end(store, err);
}
