/*
 * store_tokens.c: named long-lived secrets of accounts in the durable store
 * (the connection, schema and helpers are in store_sqlite.c). A row of
 * account_tokens is one secret an account made for a program to use in its
 * place (an API token): its name, unique within the account, the SHA-256 of
 * the secret (the secret itself is shown once, when it is made, and never
 * kept), the role it is held to, its expiry and a comment. Rows go with
 * their account (ON DELETE CASCADE). Nothing here names a dialect: a dialect
 * decides what a token is called on the wire and what it may do.
 */
#include "store_internal.h"

#include <string.h>

#define TOKEN_COLUMNS "account_id, name, digest, role, created, expires, comment"

static bool store_token_row(sqlite3_stmt *st, void *out)
{
    gh_account_token *t = out;
    const void       *digest;

    memset(t, 0, sizeof(*t));
    t->account_id = sqlite3_column_int64(st, 0);
    t->role = (gh_role)sqlite3_column_int(st, 3);
    t->created = sqlite3_column_int64(st, 4);
    t->expires = sqlite3_column_int64(st, 5);
    digest = sqlite3_column_blob(st, 2);
    if (digest == NULL || sqlite3_column_bytes(st, 2) != GH_DIGEST_LEN)
        return false;
    memcpy(t->digest, digest, GH_DIGEST_LEN);
    return gh_store_column_text(st, 1, t->name, sizeof(t->name)) &&
           gh_store_column_text(st, 6, t->comment, sizeof(t->comment));
}

gh_store_err gh_store_token_add(gh_store *store, const gh_account_token *tok)
{
    sqlite3_stmt *st;
    gh_store_err  err;

    if (store == NULL || tok == NULL || tok->name[0] == '\0' ||
        !gh_store_field_ok(tok->name, sizeof(tok->name)) ||
        !gh_store_field_ok(tok->comment, sizeof(tok->comment)))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_TOKEN_ADD,
        "INSERT INTO account_tokens(" TOKEN_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_exec(st,
        sqlite3_bind_int64(st, 1, tok->account_id) == SQLITE_OK &&
        sqlite3_bind_text(st, 2, tok->name, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_blob(st, 3, tok->digest, GH_DIGEST_LEN, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int(st, 4, (int)tok->role) == SQLITE_OK &&
        sqlite3_bind_int64(st, 5, tok->created) == SQLITE_OK &&
        sqlite3_bind_int64(st, 6, tok->expires) == SQLITE_OK &&
        sqlite3_bind_text(st, 7, tok->comment, -1, SQLITE_STATIC) == SQLITE_OK);
    /* gh_store_rc reads a broken foreign key as NOT_FOUND, a taken key as EXISTS. */
    return err;
}

gh_store_err gh_store_token_get(gh_store *store, int64_t account_id, const char *name,
                                gh_account_token *out)
{
    sqlite3_stmt *st;

    if (store == NULL || name == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_TOKEN_GET,
        "SELECT " TOKEN_COLUMNS " FROM account_tokens WHERE account_id = ?1 AND name = ?2");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st,
        sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK &&
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) == SQLITE_OK,
        store_token_row, out);
}

gh_store_err gh_store_token_delete(gh_store *store, int64_t account_id, const char *name)
{
    sqlite3_stmt *st;
    gh_store_err  err;

    if (store == NULL || name == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_TOKEN_DELETE,
        "DELETE FROM account_tokens WHERE account_id = ?1 AND name = ?2");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_exec(st,
        sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK &&
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) == SQLITE_OK);
    if (err == GH_STORE_OK && sqlite3_changes(store->db) == 0)
        err = GH_STORE_NOT_FOUND;
    return err;
}

gh_store_err gh_store_token_foreach(gh_store *store, int64_t account_id,
                                    gh_account_token_cb cb, void *arg)
{
    gh_account_token page[GH_STORE_PAGE];
    char             after[GH_ACCOUNT_TOKEN_NAME_MAX + 1] = "";
    bool             stop = false;
    sqlite3_stmt    *st;
    gh_store_err     err;
    size_t           n;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_TOKEN_PAGE,
        "SELECT " TOKEN_COLUMNS " FROM account_tokens WHERE account_id = ?1 AND name > ?2"
        " ORDER BY name LIMIT ?3");
    if (st == NULL)
        return GH_STORE_ERROR;
    do {
        bool bound = sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK &&
                     sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_bind_int(st, 3, GH_STORE_PAGE) == SQLITE_OK;

        err = gh_store_page(st, bound, store_token_row, page, sizeof page[0], &n);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
        if (n > 0)
            memcpy(after, page[n - 1].name, sizeof(after));
    } while (err == GH_STORE_OK && !stop && n == GH_STORE_PAGE);
    gh_wipe(page, sizeof(page));
    return err;
}
