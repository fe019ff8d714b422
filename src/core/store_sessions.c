/*
 * store_sessions.c: sessions in the durable store (the connection is in
 * store_sqlite.c, the helpers in store_statements.c).
 *
 * A session row is what a client was promised: insert and delete commit (and
 * so reach the disk, synchronous=FULL) before they return. Revoking a session
 * logs a GH_CHANGE_SESSION so every worker drops it; ending all of an
 * account's sessions logs one GH_CHANGE_ACCOUNT. Expiry logs nothing, since
 * every worker applies the same rule to its own copy:
 *   a session ends once now >= expires (when expires > 0), or once it has been
 *   idle for its timeout, now - last_used >= idle, where idle is the record's
 *   idle_timeout when it is > 0 and the caller's default otherwise; an idle
 *   of 0 or less never ends a session by idleness (gh_store_session_ended
 *   in C; the expiry statement says the same in SQL).
 * Expiry deletes in batches, each its own transaction, walking the table in
 * rowid order from where the caller's last batch stopped: a store where a
 * million sessions ended while the server was down is swept without ever
 * holding the write lock for longer than one batch.
 * A limited insert counts the account's live sessions and inserts under one
 * write lock: logins racing each other cannot both pass the same count.
 * Last-used times arrive in batches from the shared block and only ever move
 * forward, so a late batch cannot make a session look older than it is.
 */
#include "store_internal.h"

#include <string.h>

#define SESSION_COLUMNS "id, digest, account_id, user, dialect, created, last_used, " \
    "idle_timeout, expires, client_addr"

/* The rule of gh_store_session_ended in SQL, with now as ?1 and the default
 * idle timeout as ?2. */
#define SESSION_ENDED "((expires > 0 AND ?1 >= expires)" \
    " OR (CASE WHEN idle_timeout > 0 THEN idle_timeout ELSE ?2 END > 0" \
    "     AND ?1 - last_used >= CASE WHEN idle_timeout > 0 THEN idle_timeout ELSE ?2 END))"

/* The rule of gh_store_session_ended_by_lifetime in SQL, with the default
 * idle timeout as ?2. */
#define SESSION_LIFETIME "(expires > 0" \
    " AND (CASE WHEN idle_timeout > 0 THEN idle_timeout ELSE ?2 END <= 0" \
    "      OR expires <= last_used + CASE WHEN idle_timeout > 0 THEN idle_timeout ELSE ?2 END))"

static bool store_session_row(sqlite3_stmt *st, void *out)
{
    gh_session_record *r = out;
    const void *digest;

    memset(r, 0, sizeof *r);
    digest = sqlite3_column_blob(st, 1);
    if (digest == NULL || sqlite3_column_bytes(st, 1) != GH_DIGEST_LEN)
        return false;
    memcpy(r->digest, digest, GH_DIGEST_LEN);
    r->account_id = sqlite3_column_int64(st, 2);
    r->created = sqlite3_column_int64(st, 5);
    r->last_used = sqlite3_column_int64(st, 6);
    r->idle_timeout = sqlite3_column_int64(st, 7);
    r->expires = sqlite3_column_int64(st, 8);
    return gh_store_column_text(st, 0, r->id, sizeof r->id) &&
           gh_store_column_text(st, 3, r->user, sizeof r->user) &&
           gh_store_column_text(st, 4, r->dialect, sizeof r->dialect) &&
           gh_store_column_text(st, 9, r->client_addr, sizeof r->client_addr);
}

gh_store_err gh_store_sqlite_session_insert(gh_store *base, const gh_session_record *rec)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || rec == NULL || !gh_store_field_ok(rec->id, sizeof rec->id) ||
        rec->id[0] == '\0' || !gh_store_field_ok(rec->user, sizeof rec->user) ||
        !gh_store_field_ok(rec->client_addr, sizeof rec->client_addr) ||
        !gh_store_field_ok(rec->dialect, sizeof rec->dialect))
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SESSION_INSERT,
        "INSERT INTO sessions(" SESSION_COLUMNS ")"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL)
        return GH_STORE_ERROR;
    /* A taken id or digest is GH_STORE_EXISTS; an account that does not
     * exist is GH_STORE_NOT_FOUND (the foreign key). */
    return gh_store_exec(st,
        sqlite3_bind_text(st, 1, rec->id, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_blob(st, 2, rec->digest, GH_DIGEST_LEN, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, rec->account_id) == SQLITE_OK &&
        sqlite3_bind_text(st, 4, rec->user, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_text(st, 5, rec->dialect, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int64(st, 6, rec->created) == SQLITE_OK &&
        sqlite3_bind_int64(st, 7, rec->last_used) == SQLITE_OK &&
        sqlite3_bind_int64(st, 8, rec->idle_timeout) == SQLITE_OK &&
        sqlite3_bind_int64(st, 9, rec->expires) == SQLITE_OK &&
        sqlite3_bind_text(st, 10, rec->client_addr, -1, SQLITE_STATIC) == SQLITE_OK);
}

/* The count and the insert under one write lock (BEGIN IMMEDIATE): no other
 * connection, in this process or another, can insert in between. */
gh_store_err gh_store_sqlite_session_insert_limited(gh_store *base, const gh_session_record *rec,
                                                    int64_t max_per_account, int64_t now,
                                                    int64_t default_idle)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    int64_t live = 0;
    gh_store_err err;

    if (store == NULL || rec == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    if (max_per_account > 0) {
        err = gh_store_sqlite_session_count_live(base, rec->account_id, now, default_idle,
                                                 &live);
        if (err == GH_STORE_OK && live >= max_per_account)
            err = GH_STORE_LIMIT;
    }
    if (err == GH_STORE_OK)
        err = gh_store_sqlite_session_insert(base, rec);
    return gh_store_tx_end(store, err);
}

typedef struct {
    gh_session_record      *rec;
    gh_store_session_owner *owner;
} store_find_out;

/* A session row (columns 0-9) with its account's columns and the log's
 * sequence after it. */
static bool store_session_owner_row(sqlite3_stmt *st, void *out)
{
    store_find_out *o = out;

    if (!store_session_row(st, o->rec))
        return false;
    o->owner->role = (gh_role)sqlite3_column_int(st, 10);
    o->owner->password_change_required = sqlite3_column_int(st, 11) != 0;
    o->owner->enabled = sqlite3_column_int(st, 12) != 0;
    o->owner->locked_until = sqlite3_column_int64(st, 13);
    o->owner->seq = sqlite3_column_int64(st, 14);
    return true;
}

/* One statement is one read snapshot: the session, its account and the
 * log's sequence are read as of the same moment. */
gh_store_err gh_store_sqlite_session_find_digest(gh_store *base,
                                                 const uint8_t digest[GH_DIGEST_LEN],
                                                 gh_session_record *out,
                                                 gh_store_session_owner *acct)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    gh_store_session_owner scratch;
    store_find_out o = { out, acct != NULL ? acct : &scratch };
    sqlite3_stmt *st;

    if (store == NULL || digest == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SESSION_FIND_DIGEST,
        "SELECT s.id, s.digest, s.account_id, s.user, s.dialect, s.created, s.last_used,"
        " s.idle_timeout, s.expires, s.client_addr,"
        " a.role, a.password_change_required, a.enabled, a.locked_until,"
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)"
        " FROM sessions s JOIN accounts a ON a.id = s.account_id"
        " WHERE s.digest = ?1 AND a.enabled <> 0");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_blob(st, 1, digest, GH_DIGEST_LEN,
                                                SQLITE_STATIC) == SQLITE_OK,
                          store_session_owner_row, &o);
}

gh_store_err gh_store_sqlite_session_get(gh_store *base, const char *id, gh_session_record *out)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || id == NULL || out == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SESSION_GET,
                       "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK,
                          store_session_row, out);
}

gh_store_err gh_store_sqlite_session_delete(gh_store *base, const char *id)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;

    if (store == NULL || id == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SESSION_DELETE, "DELETE FROM sessions WHERE id = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_exec(st, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK);
    if (err == GH_STORE_OK && sqlite3_changes(store->db) == 0)
        err = GH_STORE_NOT_FOUND;
    if (err == GH_STORE_OK)
        err = gh_store_log_change(store, GH_CHANGE_SESSION, 0, id);
    return gh_store_tx_end(store, err);
}

gh_store_err gh_store_sqlite_session_delete_account(gh_store *base, int64_t account_id,
                                                    int *count)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;
    int n = 0;

    if (count != NULL)
        *count = 0;
    if (store == NULL)
        return GH_STORE_ERROR;
    st = gh_store_stmt(store, GH_ST_SESSION_DELETE_ACCOUNT,
                       "DELETE FROM sessions WHERE account_id = ?1");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    if (err != GH_STORE_OK)
        return err;
    err = gh_store_exec(st, sqlite3_bind_int64(st, 1, account_id) == SQLITE_OK);
    if (err == GH_STORE_OK) {
        n = sqlite3_changes(store->db);
        /* logged even when none were stored: a worker may still hold some */
        err = gh_store_log_change(store, GH_CHANGE_ACCOUNT, account_id, NULL);
    }
    err = gh_store_tx_end(store, err);
    if (err == GH_STORE_OK && count != NULL)
        *count = n;
    return err;
}

gh_store_err gh_store_sqlite_session_expire(gh_store *base, int64_t now, int64_t default_idle,
                                            int64_t *from, int *count, int *lifetime)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    int rc = SQLITE_ERROR, n = 0, by_lifetime = 0;

    if (count != NULL)
        *count = 0;
    if (lifetime != NULL)
        *lifetime = 0;
    if (store == NULL || from == NULL)
        return GH_STORE_ERROR;
    /* The rule of gh_store_session_ended. The statement commits on its own
     * when it is done, so the write lock goes with it. Every ended row up to
     * the last one deleted is gone then, so the next batch starts there.
     * Each row also says whether its absolute end came first. */
    st = gh_store_stmt(store, GH_ST_SESSION_EXPIRE,
        "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE rowid > ?3"
        " AND " SESSION_ENDED " ORDER BY rowid LIMIT ?4) RETURNING rowid, " SESSION_LIFETIME);
    if (st == NULL)
        return GH_STORE_ERROR;
    if (sqlite3_bind_int64(st, 1, now) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, default_idle) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, *from) == SQLITE_OK &&
        sqlite3_bind_int(st, 4, GH_STORE_EXPIRE_BATCH) == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t rowid = sqlite3_column_int64(st, 0);

            if (rowid > *from)
                *from = rowid;
            n++;
            by_lifetime += sqlite3_column_int(st, 1) != 0;
        }
    }
    gh_store_stmt_done(st);
    if (rc != SQLITE_DONE)
        return gh_store_rc(rc);
    if (count != NULL)
        *count = n;
    if (lifetime != NULL)
        *lifetime = by_lifetime;
    return GH_STORE_OK;
}

gh_store_err gh_store_sqlite_session_count_live(gh_store *base, int64_t account_id, int64_t now,
                                                int64_t default_idle, int64_t *count)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || count == NULL)
        return GH_STORE_ERROR;
    *count = 0;
    /* Counted inside SQLite, along the account's index: no row is copied out. */
    st = gh_store_stmt(store, GH_ST_SESSION_COUNT_LIVE,
        "SELECT count(*) FROM sessions WHERE account_id = ?3 AND NOT " SESSION_ENDED);
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, sqlite3_bind_int64(st, 1, now) == SQLITE_OK &&
                              sqlite3_bind_int64(st, 2, default_idle) == SQLITE_OK &&
                              sqlite3_bind_int64(st, 3, account_id) == SQLITE_OK,
                          gh_store_int64_row, count);
}

gh_store_err gh_store_sqlite_session_touch(gh_store *base, const gh_session_touch *touches,
                                           size_t n)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;
    gh_store_err err;

    if (store == NULL || (touches == NULL && n > 0))
        return GH_STORE_ERROR;
    if (n == 0)
        return GH_STORE_OK;
    /* A session deleted since it was touched matches nothing: not an error. */
    st = gh_store_stmt(store, GH_ST_SESSION_TOUCH,
        "UPDATE sessions SET last_used = ?2 WHERE id = ?1 AND last_used < ?2");
    if (st == NULL)
        return GH_STORE_ERROR;
    err = gh_store_tx_begin(store);
    for (size_t i = 0; err == GH_STORE_OK && i < n; i++) {
        const gh_session_touch *t = &touches[i];

        err = gh_store_exec(st, gh_store_field_ok(t->id, sizeof t->id) &&
            sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_int64(st, 2, t->last_used) == SQLITE_OK);
    }
    return gh_store_tx_end(store, err);
}

gh_store_err gh_store_sqlite_session_foreach(gh_store *base, int64_t account_id,
                                             gh_session_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    gh_session_record page[GH_STORE_PAGE];
    char after_id[GH_SESSION_ID_LEN + 1] = "";
    int64_t after_created = INT64_MIN;
    bool stop = false;
    sqlite3_stmt *st;
    gh_store_err err;
    size_t n;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    /* Two statements, so each can walk its own index in (created, id) order;
     * the row value comparison resumes just after the last row seen. */
    if (account_id < 0)
        st = gh_store_stmt(store, GH_ST_SESSION_PAGE_ALL,
            "SELECT " SESSION_COLUMNS " FROM sessions WHERE (created, id) > (?1, ?2)"
            " ORDER BY created, id LIMIT ?3");
    else
        st = gh_store_stmt(store, GH_ST_SESSION_PAGE_ACCOUNT,
            "SELECT " SESSION_COLUMNS " FROM sessions"
            " WHERE account_id = ?4 AND (created, id) > (?1, ?2)"
            " ORDER BY created, id LIMIT ?3");
    if (st == NULL)
        return GH_STORE_ERROR;
    do {
        bool bound = sqlite3_bind_int64(st, 1, after_created) == SQLITE_OK &&
                     sqlite3_bind_text(st, 2, after_id, -1, SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_bind_int(st, 3, GH_STORE_PAGE) == SQLITE_OK &&
                     (account_id < 0 ||
                      sqlite3_bind_int64(st, 4, account_id) == SQLITE_OK);
        err = gh_store_page(st, bound, store_session_row, page, sizeof page[0], &n);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
        if (n > 0) {
            after_created = page[n - 1].created;
            memcpy(after_id, page[n - 1].id, sizeof after_id);
        }
    } while (err == GH_STORE_OK && !stop && n == GH_STORE_PAGE);
    return err;
}

gh_store_err gh_store_sqlite_session_scan(gh_store *base, int64_t after, int64_t upto,
                                          gh_session_cb cb, void *arg)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    gh_session_record rec;
    gh_store_err err = GH_STORE_OK;
    sqlite3_stmt *st;
    int rc;

    if (store == NULL || cb == NULL)
        return GH_STORE_ERROR;
    /* rowid order is the table's own: one pass over its pages, no index */
    st = gh_store_stmt(store, GH_ST_SESSION_SCAN,
                       "SELECT " SESSION_COLUMNS " FROM sessions"
                       " WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid");
    if (st == NULL)
        return GH_STORE_ERROR;
    if (sqlite3_bind_int64(st, 1, after) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, upto) != SQLITE_OK)
    {
        gh_store_stmt_done(st);
        return GH_STORE_ERROR;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_session_row(st, &rec))
            err = GH_STORE_ERROR;
        if (err != GH_STORE_OK || cb(&rec, arg) != 0)
            break;
    }
    if (err == GH_STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = gh_store_rc(rc);
    gh_store_stmt_done(st);
    return err;
}

gh_store_err gh_store_sqlite_session_rowid_last(gh_store *base, int64_t *rowid)
{
    gh_store_sqlite *store = (gh_store_sqlite *)base;
    sqlite3_stmt *st;

    if (store == NULL || rowid == NULL)
        return GH_STORE_ERROR;
    *rowid = 0;
    /* the table's b-tree is keyed by rowid: its last entry, no scan */
    st = gh_store_stmt(store, GH_ST_SESSION_ROWID_LAST,
                       "SELECT coalesce(max(rowid), 0) FROM sessions");
    if (st == NULL)
        return GH_STORE_ERROR;
    return gh_store_fetch(st, true, gh_store_int64_row, rowid);
}
