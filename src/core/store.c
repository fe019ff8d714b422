/*
 * store.c: the store's public face (store.h). Each call that touches data
 * goes through the ops table of the backend the handle was opened with
 * (store_backend.h): the embedded SQLite store (store_sqlite*.c) or Redis
 * (store_redis*.c). A NULL handle answers GH_STORE_ERROR from every call,
 * as the event loop's service (which has no store) relies on. The parts
 * that belong to no backend live here: opening by configuration, error
 * texts, the expiry rule, and the timing of every call for the metrics.
 */
#include "store_backend.h"

#include <stdio.h>

const char *gh_store_strerror(gh_store_err err)
{
    switch (err) {
    case GH_STORE_OK:        return "success";
    case GH_STORE_NOT_FOUND: return "not found";
    case GH_STORE_EXISTS:    return "already exists";
    case GH_STORE_CONFLICT:  return "changed since it was read";
    case GH_STORE_BUSY:      return "store busy";
    case GH_STORE_LIMIT:     return "too many sessions for the account";
    case GH_STORE_GAP:       return "change log trimmed past the reader";
    case GH_STORE_ERROR:     break;
    }
    return "store error";
}

bool gh_store_session_ended(const gh_session_record *rec, int64_t now, int64_t default_idle)
{
    int64_t idle = rec->idle_timeout > 0 ? rec->idle_timeout : default_idle;

    if (idle > 0 && now - rec->last_used >= idle)
        return true;
    return rec->expires > 0 && now >= rec->expires;
}

bool gh_store_session_ended_by_lifetime(const gh_session_record *rec, int64_t default_idle)
{
    int64_t idle = rec->idle_timeout > 0 ? rec->idle_timeout : default_idle;

    return rec->expires > 0 && (idle <= 0 || rec->expires <= rec->last_used + idle);
}

static bool store_url_empty(const gh_store_config *cfg)
{
    return cfg->url == NULL || cfg->url[0] == '\0';
}

gh_store_err gh_store_open(const char *path, gh_store **out)
{
    return gh_store_sqlite_open(path, out);
}

/* What gh_store_open_error answers on this thread. */
static _Thread_local const char *store_open_why;

gh_store_err gh_store_open_config(const gh_store_config *cfg, gh_store **out)
{
    gh_store_err err;

    if (out != NULL)
        *out = NULL;
    if (cfg == NULL || out == NULL)
        return GH_STORE_ERROR;
    if (store_url_empty(cfg)) {
        err = gh_store_sqlite_open(cfg->path, out);
        store_open_why = err == GH_STORE_OK ? "" : gh_store_strerror(err);
        return err;
    }
    err = gh_store_redis_open(cfg, out);
    store_open_why = err == GH_STORE_OK ? "" : gh_store_redis_open_error();
    if (store_open_why[0] == '\0' && err != GH_STORE_OK)
        store_open_why = gh_store_strerror(err);
    return err;
}

const char *gh_store_open_error(void)
{
    return store_open_why != NULL ? store_open_why : "";
}

bool gh_store_config_from(const gh_config_store *sec, const char *data_dir,
                          gh_store_paths *paths, gh_store_config *out)
{
    int n, m;

    *out = (gh_store_config){ 0 };
    n = snprintf(paths->path, sizeof(paths->path), "%s/gatehouse.db", data_dir);
    if (sec->secret_file[0] != '\0')
        m = snprintf(paths->secret_file, sizeof(paths->secret_file), "%s", sec->secret_file);
    else
        m = snprintf(paths->secret_file, sizeof(paths->secret_file), "%s/store-secret",
                     data_dir);
    if (n < 0 || (size_t)n >= sizeof(paths->path) || m < 0 ||
        (size_t)m >= sizeof(paths->secret_file))
        return false;
    out->url = sec->url;
    out->path = paths->path;
    out->username = sec->username;
    out->password_file = sec->password_file;
    out->tls_ca = sec->tls_ca;
    out->tls_cert = sec->tls_cert;
    out->tls_key = sec->tls_key;
    out->tls_server_name = sec->tls_server_name;
    out->key_prefix = sec->key_prefix;
    out->secret_file = paths->secret_file;
    out->connect_timeout_ms = (int)sec->connect_timeout_ms;
    out->timeout_ms = (int)sec->timeout_ms;
    out->wait_replicas = (int)sec->wait_replicas;
    out->wait_ms = (int)sec->wait_ms;
    return true;
}

void gh_store_close(gh_store *store)
{
    if (store != NULL)
        store->ops->close(store);
}

bool gh_store_shared(const gh_store *store)
{
    return store != NULL && store->ops->shared;
}

const char *gh_store_last_error(const gh_store *store)
{
    return store == NULL ? "no store" : store->ops->last_error(store);
}

gh_store_err gh_store_bell_open(const gh_store_config *cfg, gh_store_bell **out)
{
    if (out != NULL)
        *out = NULL;
    if (cfg == NULL || out == NULL)
        return GH_STORE_ERROR;
    /* the embedded store has no bell: its readers poll the log */
    if (store_url_empty(cfg))
        return GH_STORE_NOT_FOUND;
    return gh_store_redis_bell_open(cfg, out);
}

gh_store_err gh_store_bell_wait(gh_store_bell *bell, int timeout_ms, int64_t *seq)
{
    return bell == NULL ? GH_STORE_ERROR : gh_store_redis_bell_wait(bell, timeout_ms, seq);
}

void gh_store_bell_close(gh_store_bell *bell)
{
    if (bell != NULL)
        gh_store_redis_bell_close(bell);
}

/* The calls below hand over to the backend, each timed here, once, for
 * gatehouse_store_operation_seconds{backend} (metrics.h): the clock is read
 * only in a process that counts (a worker; never the command line). The
 * start is a local of the caller's frame, so an operation whose callback
 * uses the store (the change log's, applying changes) times itself and
 * each inner operation apart. GH_STORE_RETURN returns from its caller. */
static gh_store_err store_timed(const gh_store *s, uint64_t start, gh_store_err err)
{
    gh_metrics_store_operation(s->ops->backend, start);
    return err;
}

#define GH_STORE_RETURN(s, op, ...)                                                 \
    do {                                                                           \
        if ((s) == NULL)                                                           \
            return GH_STORE_ERROR;                                                 \
        uint64_t start_ = gh_metrics_now_ns();                                     \
        return store_timed((s), start_, (s)->ops->op((s), __VA_ARGS__));           \
    } while (0)

gh_store_err gh_store_begin(gh_store *s)
{
    uint64_t start;

    if (s == NULL)
        return GH_STORE_ERROR;
    start = gh_metrics_now_ns();
    return store_timed(s, start, s->ops->begin(s));
}

gh_store_err gh_store_end(gh_store *s, gh_store_err err)
{
    GH_STORE_RETURN(s, end, err);
}

gh_store_err gh_store_secret(gh_store *s, uint8_t out[GH_DIGEST_LEN])
{
    GH_STORE_RETURN(s, secret, out);
}

gh_store_err gh_store_secret_import(gh_store *s, const uint8_t secret[GH_DIGEST_LEN])
{
    GH_STORE_RETURN(s, secret_import, secret);
}

gh_store_err gh_store_account_get(gh_store *s, const char *name, gh_account *out)
{
    GH_STORE_RETURN(s, account_get, name, out);
}

gh_store_err gh_store_account_get_by_id(gh_store *s, int64_t id, gh_account *out)
{
    GH_STORE_RETURN(s, account_get_by_id, id, out);
}

gh_store_err gh_store_account_add(gh_store *s, gh_account *acct)
{
    GH_STORE_RETURN(s, account_add, acct);
}

gh_store_err gh_store_account_import(gh_store *s, const gh_account *acct)
{
    GH_STORE_RETURN(s, account_import, acct);
}

gh_store_err gh_store_account_update(gh_store *s, gh_account *acct,
                                     int64_t expected_generation)
{
    GH_STORE_RETURN(s, account_update, acct, expected_generation);
}

gh_store_err gh_store_account_delete(gh_store *s, int64_t id)
{
    GH_STORE_RETURN(s, account_delete, id);
}

gh_store_err gh_store_account_foreach(gh_store *s, gh_account_cb cb, void *arg)
{
    GH_STORE_RETURN(s, account_foreach, cb, arg);
}

gh_store_err gh_store_account_due(gh_store *s, const char *domain, const char *dialect,
                                  const char *name, int64_t before,
                                  int64_t ids[GH_STORE_PAGE_MAX], size_t *n)
{
    if (n != NULL)
        *n = 0;
    GH_STORE_RETURN(s, account_due, domain, dialect, name, before, ids, n);
}

gh_store_err gh_store_session_insert(gh_store *s, const gh_session_record *rec)
{
    GH_STORE_RETURN(s, session_insert, rec);
}

gh_store_err gh_store_session_insert_limited(gh_store *s, const gh_session_record *rec,
                                             int64_t max_per_account, int64_t now,
                                             int64_t default_idle)
{
    GH_STORE_RETURN(s, session_insert_limited, rec, max_per_account, now, default_idle);
}

gh_store_err gh_store_session_get(gh_store *s, const char *id, gh_session_record *out)
{
    GH_STORE_RETURN(s, session_get, id, out);
}

gh_store_err gh_store_session_find_digest(gh_store *s, const uint8_t digest[GH_DIGEST_LEN],
                                          gh_session_record *out, gh_store_session_owner *acct)
{
    GH_STORE_RETURN(s, session_find_digest, digest, out, acct);
}

gh_store_err gh_store_session_delete(gh_store *s, const char *id)
{
    GH_STORE_RETURN(s, session_delete, id);
}

gh_store_err gh_store_session_delete_account(gh_store *s, int64_t account_id, int *count)
{
    GH_STORE_RETURN(s, session_delete_account, account_id, count);
}

gh_store_err gh_store_session_expire(gh_store *s, int64_t now, int64_t default_idle,
                                     int64_t *from, int *count, int *lifetime)
{
    GH_STORE_RETURN(s, session_expire, now, default_idle, from, count, lifetime);
}

gh_store_err gh_store_session_count_live(gh_store *s, int64_t account_id, int64_t now,
                                         int64_t default_idle, int64_t *count)
{
    GH_STORE_RETURN(s, session_count_live, account_id, now, default_idle, count);
}

gh_store_err gh_store_session_touch(gh_store *s, const gh_session_touch *touches, size_t n)
{
    GH_STORE_RETURN(s, session_touch, touches, n);
}

gh_store_err gh_store_session_foreach(gh_store *s, int64_t account_id, gh_session_cb cb,
                                      void *arg)
{
    GH_STORE_RETURN(s, session_foreach, account_id, cb, arg);
}

gh_store_err gh_store_session_scan(gh_store *s, int64_t after, int64_t upto, gh_session_cb cb,
                                   void *arg)
{
    GH_STORE_RETURN(s, session_scan, after, upto, cb, arg);
}

gh_store_err gh_store_session_rowid_last(gh_store *s, int64_t *rowid)
{
    GH_STORE_RETURN(s, session_rowid_last, rowid);
}

gh_store_err gh_store_attribute_get(gh_store *s, int64_t account_id, const char *dialect,
                                    const char *name, char *value, size_t size)
{
    GH_STORE_RETURN(s, attribute_get, account_id, dialect, name, value, size);
}

gh_store_err gh_store_attribute_set(gh_store *s, int64_t account_id, const char *dialect,
                                    const char *name, const char *value)
{
    GH_STORE_RETURN(s, attribute_set, account_id, dialect, name, value);
}

gh_store_err gh_store_attribute_delete(gh_store *s, int64_t account_id, const char *dialect,
                                       const char *name)
{
    GH_STORE_RETURN(s, attribute_delete, account_id, dialect, name);
}

gh_store_err gh_store_attribute_foreach(gh_store *s, int64_t account_id, const char *dialect,
                                        const char *prefix, gh_attribute_cb cb, void *arg)
{
    GH_STORE_RETURN(s, attribute_foreach, account_id, dialect, prefix, cb, arg);
}

gh_store_err gh_store_setting_get(gh_store *s, const char *key, int64_t *out)
{
    GH_STORE_RETURN(s, setting_get, key, out);
}

gh_store_err gh_store_setting_set(gh_store *s, const char *key, int64_t value)
{
    GH_STORE_RETURN(s, setting_set, key, value);
}

gh_store_err gh_store_failure_get(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                  gh_failure *out)
{
    GH_STORE_RETURN(s, failure_get, key, out);
}

gh_store_err gh_store_failure_put(gh_store *s, const gh_failure *f)
{
    GH_STORE_RETURN(s, failure_put, f);
}

gh_store_err gh_store_failure_count(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                    const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                    int64_t reset_after, int64_t threshold, int64_t duration,
                                    gh_failure *out, bool *locked)
{
    GH_STORE_RETURN(s, failure_count,
                         key, owner, now, reset_after, threshold, duration, out, locked);
}

gh_store_err gh_store_failure_delete(gh_store *s, const uint8_t key[GH_DIGEST_LEN])
{
    GH_STORE_RETURN(s, failure_delete, key);
}

gh_store_err gh_store_failure_clear_owner(gh_store *s, const uint8_t owner[GH_DIGEST_LEN])
{
    GH_STORE_RETURN(s, failure_clear_owner, owner);
}

gh_store_err gh_store_failure_prune(gh_store *s, int64_t now, int *count)
{
    GH_STORE_RETURN(s, failure_prune, now, count);
}

gh_store_err gh_store_throttle_put(gh_store *s, const gh_throttle_count *c, int64_t expires)
{
    GH_STORE_RETURN(s, throttle_put, c, expires);
}

gh_store_err gh_store_throttle_scan(gh_store *s, int64_t now, uint32_t max, gh_throttle_cb cb,
                                    void *arg)
{
    GH_STORE_RETURN(s, throttle_scan, now, max, cb, arg);
}

gh_store_err gh_store_throttle_prune(gh_store *s, int64_t now, int *count)
{
    GH_STORE_RETURN(s, throttle_prune, now, count);
}

gh_store_err gh_store_directory_put(gh_store *s, const char *name, const char *text,
                                    bool end_sessions, int64_t *revision)
{
    GH_STORE_RETURN(s, directory_put, name, text, end_sessions, revision);
}

gh_store_err gh_store_directory_import(gh_store *s, const gh_stored_directory *row)
{
    GH_STORE_RETURN(s, directory_import, row);
}

gh_store_err gh_store_directory_forget(gh_store *s, const char *name)
{
    GH_STORE_RETURN(s, directory_forget, name);
}

gh_store_err gh_store_directory_foreach(gh_store *s, gh_directory_cb cb, void *arg)
{
    GH_STORE_RETURN(s, directory_foreach, cb, arg);
}

gh_store_err gh_store_change_last(gh_store *s, int64_t *seq)
{
    GH_STORE_RETURN(s, change_last, seq);
}

gh_store_err gh_store_change_since(gh_store *s, int64_t seq, gh_change_cb cb, void *arg)
{
    GH_STORE_RETURN(s, change_since, seq, cb, arg);
}

gh_store_err gh_store_change_prune(gh_store *s, int64_t before_seq)
{
    GH_STORE_RETURN(s, change_prune, before_seq);
}

gh_store_err gh_store_change_floor(gh_store *s, int64_t seq)
{
    GH_STORE_RETURN(s, change_floor, seq);
}
