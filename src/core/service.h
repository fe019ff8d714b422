/*
 * service.h: the operations a dialect asks of the core, each one whole: verify
 * a password (lockout, rehash, credential cache, audit), create and end
 * sessions (store first, then the shared block), change accounts and settings
 * so that every worker obeys at once. Synchronous and may wait on disk or a
 * hash: run them in a thread-pool task, each thread with its own gh_service
 * (its own store connection) over the process's shared parts.
 */
#ifndef GH_SERVICE_H
#define GH_SERVICE_H

#include "account.h"
#include "audit.h"
#include "config.h"
#include "metrics.h"
#include "session.h"
#include "shared.h"
#include "store.h"

typedef struct {
    gh_store        *store;     /* this thread's connection */
    gh_shared       *shared;    /* the shared block */
    gh_session_store *sessions; /* the live sessions: the local store over shared */
    const gh_config *config;
    gh_audit        *audit;
    const char      *data_dir;  /* the data directory (pki/, the database) */
    const void      *dialects;  /* the table of dialects, opaque here: for a dialect
                                   that lists others' sessions (NULL: none) */
    /* The request this service works for while it serves one (its id and
     * dialect, for the audit log): set by whoever hands it the request for
     * that call only (a pool thread's service serves one request at a
     * time), NULL otherwise. */
    gh_audit_origin *origin;
    uint8_t          secret[GH_DIGEST_LEN];
    /* For the metrics (metrics.h), set by whoever runs a task on this
     * service: the dialect it serves, an index of the table of dialects
     * (gh_dialect_index; GH_METRICS_NO_DIALECT: none), the label of its
     * logins and sessions; and a login whose password check passed and
     * whose outcome is not counted yet (gh_service_login_settle). */
    unsigned         dialect;
    bool             login_passed;
} gh_service;

typedef enum {
    GH_AUTH_OK = 0,
    GH_AUTH_BAD_CREDENTIALS,    /* unknown user or wrong password: never say which */
    GH_AUTH_LOCKED,             /* locked out (right or wrong password alike) */
    GH_AUTH_DISABLED,
    GH_AUTH_UNAVAILABLE,        /* the store failed: refuse (503) */
    GH_AUTH_THROTTLED           /* the source failed too often: wait (429), nothing checked */
} gh_auth_result;

/* An audit record of svc's request (svc->origin), if it serves one. Inline
 * here: every service_*.c file writes records, below each other's calls. */
static inline void gh_service_audit(const gh_service *svc, gh_audit_event event,
                                    const char *user, const char *client_addr,
                                    const char *method, const char *session_id,
                                    const char *detail)
{
    gh_audit_write_for(svc->audit, svc->origin, event, user, client_addr, method,
                       session_id, detail);
}

/* Verify user/password from client_addr (method names the way in, for the
 * audit log). On GH_AUTH_OK fill who and cache the credential; failures count
 * toward the lockout of (user, source) and of user over every source
 * (lockout.h), unknown names alike, and toward the throttle of the source
 * (in the shared block, copied to the store).
 * A lock refuses logins, right password or wrong, and ends no session. A
 * throttled source gets GH_AUTH_THROTTLED before anything is checked. The
 * password is not kept.
 * A name that is no local account is checked against a directory profile
 * of the configuration: NAME@PROFILE against PROFILE, any other name
 * against the default profile (service_login.c); GH_AUTH_UNAVAILABLE when
 * the directory does not answer. */
gh_auth_result gh_service_verify_password(gh_service *svc, const char *user,
                                          const char *password, size_t password_len,
                                          const char *client_addr, const char *method,
                                          gh_principal *who);
/* The same for local accounts only: no directory is asked. */
/* Each password check counts one login in gatehouse_logins_total, by
 * svc->dialect: its refusal at once (unknown_user, wrong_password and
 * locked as the audit log tells them apart), a pass once its outcome is
 * known: the session it was for (success, or limit when a session limit
 * refused it: gh_service_session_create), else success when the task ends
 * (gh_service_login_settle). */
gh_auth_result gh_service_verify_local_password(gh_service *svc, const char *user,
                                                const char *password, size_t password_len,
                                                const char *client_addr, const char *method,
                                                gh_principal *who);

/* Seconds the source of client_addr must still wait before its next
 * password check (rounded up; 0: none), by the [throttle] policy. Memory
 * only: the event loop may ask. failures (may be NULL) receives the
 * source's failures within the window. */
int64_t gh_service_throttle_wait(const gh_service *svc, const char *client_addr,
                                 uint32_t *failures);
/* Count a failure of the source of client_addr in the block's throttle (a
 * token the store does not know: guessing is slowed as wrong passwords
 * are). Memory only. */
void gh_service_throttle_fail(const gh_service *svc, const char *client_addr);

/* Count a password check that came to rc for the metrics: a refusal at
 * once, a pass held in svc->login_passed until the login's outcome is
 * known. why: what the audit log tells apart of a refusal (unknown_user,
 * wrong_password), GH_METRIC_LOGINS when rc says all. service_login.c's. */
void gh_service_login_count(gh_service *svc, gh_auth_result rc, gh_metric_login why);
/* Count a login whose password check passed and whose outcome nothing
 * counted yet (svc->login_passed) as a success. Whoever runs a task on svc
 * calls it when the task ends. */
void gh_service_login_settle(gh_service *svc);

/* Forget every failed-login counter and lock of an account name, from every
 * source (an unlock, a deleted account). */
gh_store_err gh_service_failures_clear(gh_service *svc, const char *name);

typedef enum {
    GH_SESSION_CREATED = 0,
    GH_SESSION_LIMIT_TOTAL,     /* max_sessions reached */
    GH_SESSION_LIMIT_ACCOUNT,   /* max_sessions_per_account reached */
    GH_SESSION_FAILED           /* store or RNG failure */
} gh_session_result;

/* Create a session of the dialect named dialect (gh_dialect.name, kept as
 * given) for who (already authenticated). token receives the token text,
 * shown to the client once; rec the stored record. idle_timeout 0 means the
 * live session timeout. */
gh_session_result gh_service_session_create(gh_service *svc, const gh_principal *who,
                                            const char *dialect, int64_t idle_timeout,
                                            const char *client_addr,
                                            char token[GH_TOKEN_TEXT_LEN + 1],
                                            gh_session_record *rec);

/* End a session by its public id (logout or revocation). GH_STORE_NOT_FOUND
 * when there is none. event is GH_AUDIT_LOGOUT or GH_AUDIT_REVOKED. The end
 * counts in gatehouse_sessions_ended_total as logout or revoked alike, once:
 * by the block it left (by the store it left when other nodes share it). */
gh_store_err gh_service_session_end(gh_service *svc, const char *id, gh_audit_event event,
                                    const char *actor, const char *client_addr);
/* The same, counted under reason (a session ended by a limit on sessions). */
gh_store_err gh_service_session_end_as(gh_service *svc, const char *id, gh_audit_event event,
                                       gh_metric_end reason, const char *actor,
                                       const char *client_addr);

/* Write an account and make every worker obey: cached credentials dropped;
 * sessions ended if it is disabled or locked by an administrator, updated
 * otherwise (a lock of failed logins stops new logins only). An account
 * written unlocked (locked_until 0) has its failure counters cleared. */
gh_store_err gh_service_account_update(gh_service *svc, gh_account *acct,
                                       int64_t expected_generation);
gh_store_err gh_service_account_delete(gh_service *svc, int64_t id);

/* Live settings: the store's value, else the configuration's. */
int64_t gh_service_setting(gh_service *svc, gh_setting setting);
gh_store_err gh_service_setting_set(gh_service *svc, gh_setting setting, int64_t value);

/* Mirror every live setting (the store's value, else the configuration's)
 * into the shared block. */
gh_store_err gh_service_sync_settings(gh_service *svc);

/* Take part in filling the shared block from the store: settings, then
 * every unexpired session of each part this caller claims, until no part is
 * left (gh_shared_load_claim); the caller of the first part also loads the
 * throttle counters of sources. Every worker calls it at start; once it
 * returns, the other parts may still be loading (gh_shared_change_seq < 0
 * until they are done). A load already done (a respawned worker, a reload)
 * claims nothing, and only mirrors the settings of this caller's
 * configuration into the block. */
gh_store_err gh_service_load(gh_service *svc);

/* Apply the change log since the block's sequence: the command line's and
 * other workers' account, session and setting changes. Idempotent. In
 * cache mode (gh_shared_cached) a failure drops the whole cache and marks
 * the store down (gh_shared_drop_all), and a call while it is down tries
 * gh_service_cache_recover instead. */
gh_store_err gh_service_apply_changes(gh_service *svc);
/* Cache mode: the store answers again; take its change sequence and live
 * settings and clear the down mark (gh_shared_cache_reset). Sessions come
 * back as they are used (session_cached.c). */
gh_store_err gh_service_cache_recover(gh_service *svc);
/* Seconds past its end a session stays in a shared store before the sweep
 * takes it: longer than the batch of last-used times (a second), so no
 * node's touch still on its way is overtaken. */
#define GH_SERVICE_SWEEP_GRACE 2

/* Periodic upkeep: write batched last-used times, expire sessions past their
 * end (store and block, audited; in cache mode the block's evicted
 * unaudited and the store's swept, both GH_SERVICE_SWEEP_GRACE past their
 * end), prune failure and
 * throttle counters past theirs. In cache mode a failure drops the cache as
 * gh_service_apply_changes does. */
gh_store_err gh_service_upkeep(gh_service *svc, int64_t now);

/* Recheck the directory users with live sessions whose profile's
 * recheck_interval has passed since their last check (service_recheck.c):
 * a new role given to the account and its sessions, the sessions of a user
 * gone, disabled or in no mapped group revoked. A page of accounts per
 * profile and call; once for the whole server, whoever calls (the store
 * elects). Asks the directory: may wait for its timeouts. now_ms is
 * gh_epoch_ms. */
gh_store_err gh_service_directory_recheck(gh_service *svc, int64_t now_ms);

#endif
