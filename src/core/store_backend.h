/*
 * store_backend.h: what a store backend provides, private to the store. A
 * gh_store is a backend's connection whose first member is the gh_store
 * below; store.c's public functions check the handle and call through its
 * ops. store_sqlite*.c is the embedded backend, store_redis*.c the shared
 * one. Each member has the contract of the store.h function of the same
 * name; a backend without a feature answers GH_STORE_ERROR (or
 * GH_STORE_NOT_FOUND where store.h says so).
 */
#ifndef GH_STORE_BACKEND_H
#define GH_STORE_BACKEND_H

#include "metrics.h"
#include "store.h"

typedef struct {
    const char *name;                   /* "sqlite", "redis": for log lines */
    bool        shared;                 /* gh_store_shared */
    gh_metric_backend backend;          /* its label in gatehouse_store_operation_seconds */

    void         (*close)(gh_store *s);
    const char  *(*last_error)(const gh_store *s);
    gh_store_err (*begin)(gh_store *s);
    gh_store_err (*end)(gh_store *s, gh_store_err err);
    gh_store_err (*secret)(gh_store *s, uint8_t out[GH_DIGEST_LEN]);
    gh_store_err (*secret_import)(gh_store *s, const uint8_t secret[GH_DIGEST_LEN]);

    gh_store_err (*account_get)(gh_store *s, const char *name, gh_account *out);
    gh_store_err (*account_get_by_id)(gh_store *s, int64_t id, gh_account *out);
    gh_store_err (*account_add)(gh_store *s, gh_account *acct);
    gh_store_err (*account_import)(gh_store *s, const gh_account *acct);
    gh_store_err (*account_update)(gh_store *s, gh_account *acct, int64_t expected_generation);
    gh_store_err (*account_delete)(gh_store *s, int64_t id);
    gh_store_err (*account_foreach)(gh_store *s, gh_account_cb cb, void *arg);
    gh_store_err (*account_due)(gh_store *s, const char *domain, const char *dialect,
                                const char *name, int64_t before,
                                int64_t ids[GH_STORE_PAGE_MAX], size_t *n);

    gh_store_err (*session_insert)(gh_store *s, const gh_session_record *rec);
    gh_store_err (*session_insert_limited)(gh_store *s, const gh_session_record *rec,
                                           int64_t max_per_account, int64_t now,
                                           int64_t default_idle);
    gh_store_err (*session_get)(gh_store *s, const char *id, gh_session_record *out);
    gh_store_err (*session_find_digest)(gh_store *s, const uint8_t digest[GH_DIGEST_LEN],
                                        gh_session_record *out, gh_store_session_owner *acct);
    gh_store_err (*session_delete)(gh_store *s, const char *id);
    gh_store_err (*session_delete_account)(gh_store *s, int64_t account_id, int *count);
    gh_store_err (*session_expire)(gh_store *s, int64_t now, int64_t default_idle,
                                   int64_t *from, int *count, int *lifetime);
    gh_store_err (*session_count_live)(gh_store *s, int64_t account_id, int64_t now,
                                       int64_t default_idle, int64_t *count);
    gh_store_err (*session_touch)(gh_store *s, const gh_session_touch *touches, size_t n);
    gh_store_err (*session_foreach)(gh_store *s, int64_t account_id, gh_session_cb cb,
                                    void *arg);
    gh_store_err (*session_scan)(gh_store *s, int64_t after, int64_t upto, gh_session_cb cb,
                                 void *arg);
    gh_store_err (*session_rowid_last)(gh_store *s, int64_t *rowid);

    gh_store_err (*attribute_get)(gh_store *s, int64_t account_id, const char *dialect,
                                  const char *name, char *value, size_t size);
    gh_store_err (*attribute_set)(gh_store *s, int64_t account_id, const char *dialect,
                                  const char *name, const char *value);
    gh_store_err (*attribute_delete)(gh_store *s, int64_t account_id, const char *dialect,
                                     const char *name);
    gh_store_err (*attribute_foreach)(gh_store *s, int64_t account_id, const char *dialect,
                                      const char *prefix, gh_attribute_cb cb, void *arg);

    gh_store_err (*setting_get)(gh_store *s, const char *key, int64_t *out);
    gh_store_err (*setting_set)(gh_store *s, const char *key, int64_t value);

    gh_store_err (*failure_get)(gh_store *s, const uint8_t key[GH_DIGEST_LEN], gh_failure *out);
    gh_store_err (*failure_put)(gh_store *s, const gh_failure *f);
    gh_store_err (*failure_count)(gh_store *s, const uint8_t key[GH_DIGEST_LEN],
                                  const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                  int64_t reset_after, int64_t threshold, int64_t duration,
                                  gh_failure *out, bool *locked);
    gh_store_err (*failure_delete)(gh_store *s, const uint8_t key[GH_DIGEST_LEN]);
    gh_store_err (*failure_clear_owner)(gh_store *s, const uint8_t owner[GH_DIGEST_LEN]);
    gh_store_err (*failure_prune)(gh_store *s, int64_t now, int *count);

    gh_store_err (*throttle_put)(gh_store *s, const gh_throttle_count *c, int64_t expires);
    gh_store_err (*throttle_scan)(gh_store *s, int64_t now, uint32_t max, gh_throttle_cb cb,
                                  void *arg);
    gh_store_err (*throttle_prune)(gh_store *s, int64_t now, int *count);

    gh_store_err (*directory_put)(gh_store *s, const char *name, const char *text,
                                  bool end_sessions, int64_t *revision);
    gh_store_err (*directory_import)(gh_store *s, const gh_stored_directory *row);
    gh_store_err (*directory_forget)(gh_store *s, const char *name);
    gh_store_err (*directory_foreach)(gh_store *s, gh_directory_cb cb, void *arg);

    gh_store_err (*change_last)(gh_store *s, int64_t *seq);
    gh_store_err (*change_since)(gh_store *s, int64_t seq, gh_change_cb cb, void *arg);
    gh_store_err (*change_prune)(gh_store *s, int64_t before_seq);
    gh_store_err (*change_floor)(gh_store *s, int64_t seq);
} gh_store_ops;

/* The head of every backend's connection. */
struct gh_store {
    const gh_store_ops *ops;
};

/* The backends' openers, called by store.c's gh_store_open and
 * gh_store_open_config. */
gh_store_err gh_store_sqlite_open(const char *path, gh_store **out);
gh_store_err gh_store_redis_open(const gh_store_config *cfg, gh_store **out);
/* Why the last gh_store_redis_open on this thread failed ("" when it did
 * not): the open hands back no store to ask. Thread-local storage. */
const char *gh_store_redis_open_error(void);
/* The Redis bell (store.h's gh_store_bell_*). */
gh_store_err gh_store_redis_bell_open(const gh_store_config *cfg, gh_store_bell **out);
gh_store_err gh_store_redis_bell_wait(gh_store_bell *bell, int timeout_ms, int64_t *seq);
void gh_store_redis_bell_close(gh_store_bell *bell);

#endif
