/*
 * store_accounts.c: accounts in the durable store (the connection, schema and
 * helpers are in store_sqlite.c, shared through store_internal.h).
 *
 * An account row carries a generation, set to 1 on insert and bumped by every
 * update in the same statement that writes the row. An update names the
 * generation it was read at (or a negative one to skip the check), so two
 * writers racing from the same read cannot both win: the loser gets
 * GH_STORE_CONFLICT, never a silent overwrite. Update and delete commit with
 * a GH_CHANGE_ACCOUNT row in one transaction, so every worker drops what it
 * cached about the account; deleting an account takes its sessions with it
 * and the attributes dialects keep of it (ON DELETE CASCADE; store_attributes.c).
 * Insert logs nothing: no worker can hold a stale copy of
 * an account that did not exist. Rows hold password hashes, so every copy the
 * walk makes is wiped before it returns.
 */
#include "store_internal.h"

#include <string.h>

#define ACCOUNT_COLUMNS "id, name, domain, role, enabled, built_in, " \
    "password_change_required, locked_until, generation, created, password_hash"

static bool store_account_sound(const gh_account *a)
{
    return gh_store_field_ok(a->name, sizeof a->name) && a->name[0] != '\0' &&
           gh_store_field_ok(a->domain, sizeof a->domain) &&
           gh_store_field_ok(a->password_hash, sizeof a->password_hash);
}

static bool store_account_row(sqlite3_stmt *st, void *out)
{
    gh_account *a = out;

    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    a->role = (gh_role)sqlite3_column_int(st, 3);
    a->enabled = sqlite3_column_int(st, 4) != 0;
    a->built_in = sqlite3_column_int(st, 5) != 0;
    a->password_change_required = sqlite3_column_int(st, 6) != 0;
    a->locked_until = sqlite3_column_int64(st, 7);
    a->generation = sqlite3_column_int64(st, 8);
    a->created = sqlite3_column_int64(st, 9);
    return gh_store_column_text(st, 1, a->name, sizeof a->name) &&
           gh_store_column_text(st, 2, a->domain, sizeof a->domain) &&
           gh_store_column_text(st, 10, a->password_hash, sizeof a->password_hash);
}

/* The fields add and update both write, as ?1..?7 and ?9. */
static bool store_account_bind(sqlite3_stmt *st, const gh_account *a)
{
    return sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_text(st, 2, a->domain, -1, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_int(st, 3, (int)a->role) == SQLITE_OK &&
           sqlite3_bind_int(st, 4, a->enabled) == SQLITE_OK &&
           sqlite3_bind_int(st, 5, a->built_in) == SQLITE_OK &&
           sqlite3_bind_int(st, 6, a->password_change_required) == SQLITE_OK &&
           sqlite3_bind_int64(st, 7, a->locked_until) == SQLITE_OK &&
           sqlite3_bind_text(st, 9, a->password_hash, -1, SQLITE_STATIC) == SQLITE_OK;
}

gh_store_err gh_store_sqlite_account_get(gh_store *base, const char *name, gh_account *out)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || name == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_GET,
                       "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE name = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK,
                          store_account_row, out);
}

gh_store_err gh_store_sqlite_account_get_by_id(gh_store *base, int64_t id, gh_account *out)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_GET_ID,
                       "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_int64(st, 1, id) == SQLITE_OK,
                          store_account_row, out);
}

gh_store_err gh_store_sqlite_account_add(gh_store *base, gh_account *acct)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;
    int64_t now = gh_now();

    if (store == NULL || acct == NULL || !store_account_sound(acct))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_ADD,
        "INSERT INTO accounts(name, domain, role, enabled, built_in, password_change_required,"
        " locked_until, generation, created, password_hash)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9)");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_exec(st, store_account_bind(st, acct) &&
                            sqlite3_bind_int64(st, 8, now) == SQLITE_OK);
    if (err == GH_STORE_OK) {
        acct->id = sqlite3_last_insert_rowid(store->db);
        acct->generation = 1;
        acct->created = now;
    }
    return err;
}

/* Insert with the id, generation and created time the row had where it
 * came from: a taken id or name is GH_STORE_EXISTS. */
gh_store_err gh_store_sqlite_account_import(gh_store *base, const gh_account *acct)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || acct == NULL || !store_account_sound(acct) || acct->id <= 0 ||
        acct->generation <= 0)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_IMPORT,
        "INSERT INTO accounts(name, domain, role, enabled, built_in, password_change_required,"
        " locked_until, generation, created, password_hash, id)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?10, ?8, ?9, ?11)");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_exec(st, store_account_bind(st, acct) &&
                             sqlite3_bind_int64(st, 8, acct->created) == SQLITE_OK &&
                             sqlite3_bind_int64(st, 10, acct->generation) == SQLITE_OK &&
                             sqlite3_bind_int64(st, 11, acct->id) == SQLITE_OK);
}

gh_store_err gh_store_sqlite_account_update(gh_store *base, gh_account *acct,
                                            int64_t expected_generation)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st, *probe;
    gh_store_err err;
    int64_t generation = 0;

    if (store == NULL || acct == NULL || !store_account_sound(acct))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_UPDATE,
        "UPDATE accounts SET name = ?1, domain = ?2, role = ?3, enabled = ?4, built_in = ?5,"
        " password_change_required = ?6, locked_until = ?7, password_hash = ?9,"
        " generation = generation + 1"
        " WHERE id = ?10 AND (?11 < 0 OR generation = ?11) RETURNING generation");
    probe = gh_store_stmt(store, GH_ST_ACCOUNT_GENERATION,
                          "SELECT generation FROM accounts WHERE id = ?1");
    if (st == NULL || probe == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    /* RETURNING makes the whole change at the first row */
    err = gh_store_fetch(st, store_account_bind(st, acct) &&
                             sqlite3_bind_int64(st, 10, acct->id) == SQLITE_OK &&
                             sqlite3_bind_int64(st, 11, expected_generation) == SQLITE_OK,
                         gh_store_int64_row, &generation);
    /* No row matched: the account is gone, or at another generation. */
    if (err == GH_STORE_NOT_FOUND) {
        int64_t current;

        err = gh_store_fetch(probe, sqlite3_bind_int64(probe, 1, acct->id) == SQLITE_OK,
                             gh_store_int64_row, &current);
        if (err == GH_STORE_OK)
            err = GH_STORE_CONFLICT;
    }
    if (err == GH_STORE_OK)
        err = gh_store_log_change(store, GH_CHANGE_ACCOUNT, acct->id, NULL);
    err = gh_store_tx_end(store, err);
    if (err == GH_STORE_OK)
        acct->generation = generation;
    return err;
}

gh_store_err gh_store_sqlite_account_delete(gh_store *base, int64_t id)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;

    if (store == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_DELETE, "DELETE FROM accounts WHERE id = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    /* the account's sessions go with it (ON DELETE CASCADE); sqlite3_changes
     * counts only the account row */
    err = gh_store_exec(st, sqlite3_bind_int64(st, 1, id) == SQLITE_OK);
    if (err == GH_STORE_OK && sqlite3_changes(store->db) == 0)
        err = GH_STORE_NOT_FOUND;
    if (err == GH_STORE_OK)
        err = gh_store_log_change(store, GH_CHANGE_ACCOUNT, id, NULL);
    return gh_store_tx_end(store, err);
}

gh_store_err gh_store_sqlite_account_foreach(gh_store *base, gh_account_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    gh_account page[GH_STORE_PAGE];
    int64_t after = INT64_MIN;
    bool stop = false;
    sqlite3_stmt *st;
    gh_store_err err;
    size_t n;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_ACCOUNT_PAGE,
        "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (st == NULL)
        return GH_STORE_ERROR;
    do {
        err = gh_store_page(st, sqlite3_bind_int64(st, 1, after) == SQLITE_OK &&
                                sqlite3_bind_int(st, 2, GH_STORE_PAGE) == SQLITE_OK,
                            store_account_row, page, sizeof page[0], &n);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
        if (n > 0)
            after = page[n - 1].id;
    } while (err == GH_STORE_OK && !stop && n == GH_STORE_PAGE);
    /* the copies hold password hashes */
    gh_wipe(page, sizeof page);
    return err;
}

gh_store_err gh_store_sqlite_account_due(gh_store *base, const char *domain, const char *dialect,
                                         const char *name, int64_t before,
                                         int64_t ids[GH_STORE_PAGE_MAX], size_t *n)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    *n = 0;
    if (store == NULL || domain == NULL || dialect == NULL || name == NULL)
        return GH_STORE_ERROR;
    /* sessions_account indexes the EXISTS; CAST reads the leading integer */
    st = gh_store_stmt(store, GH_ST_ACCOUNT_DUE,
        "SELECT a.id FROM accounts a LEFT JOIN account_attributes t"
        " ON t.account_id = a.id AND t.dialect = ?2 AND t.name = ?3"
        " WHERE a.domain = ?1"
        " AND EXISTS (SELECT 1 FROM sessions s WHERE s.account_id = a.id)"
        " AND (t.value IS NULL OR CAST(t.value AS INTEGER) <= ?4)"
        " ORDER BY t.value IS NOT NULL, CAST(t.value AS INTEGER), a.id LIMIT ?5");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_page(st, sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC) == SQLITE_OK &&
                             sqlite3_bind_text(st, 2, dialect, -1, SQLITE_STATIC) == SQLITE_OK &&
                             sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) == SQLITE_OK &&
                             sqlite3_bind_int64(st, 4, before) == SQLITE_OK &&
                             sqlite3_bind_int(st, 5, GH_STORE_PAGE) == SQLITE_OK,
                         gh_store_int64_row, ids, sizeof(ids[0]), n);
}
