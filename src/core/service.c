/*
 * service.c: the core's whole operations on accounts and sessions, as the
 * dialects ask for them (see service.h). Each writes the store first, so what
 * a client was told survives a crash, then the shared block, so every worker
 * obeys at once, then the audit log. Password checks are in service_login.c,
 * which calls into this file (never the reverse).
 *
 * Each function has one exit, after `done:`, where what it holds of a secret
 * (a token not handed out, a hash read back, a digest) is wiped on every path.
 *
 * Sessions made and ended count for the metrics here, each once: an end by
 * the removal that took it out of the shared block, which only one caller
 * wins (a worker applying the change log counts what the command line or
 * another worker ended: service_sync.c); with a store other nodes share,
 * the block is a cache, and an end counts by the store's row it deleted
 * instead, on the node that ended it.
 */
#include "service.h"

#include <stdio.h>
#include <string.h>

gh_store_err gh_service_failures_clear(gh_service *svc, const char *name)
{
    uint8_t owner[GH_DIGEST_LEN];

    gh_lockout_owner(svc->secret, name, owner);
    return gh_store_failure_clear_owner(svc->store, owner);
}

void gh_service_login_settle(gh_service *svc)
{
    if (svc->login_passed)
        gh_metrics_login(svc->dialect, GH_METRIC_LOGIN_SUCCESS);
    svc->login_passed = false;
}

void gh_service_login_count(gh_service *svc, gh_auth_result rc, gh_metric_login why)
{
    gh_service_login_settle(svc);       /* an earlier pass of this task, if any */
    if (rc == GH_AUTH_OK) {
        svc->login_passed = true;
        return;
    }
    if (why == GH_METRIC_LOGINS)
        why = rc == GH_AUTH_BAD_CREDENTIALS ? GH_METRIC_LOGIN_WRONG_PASSWORD
            : rc == GH_AUTH_LOCKED      ? GH_METRIC_LOGIN_LOCKED
            : rc == GH_AUTH_DISABLED    ? GH_METRIC_LOGIN_DISABLED
            : rc == GH_AUTH_THROTTLED   ? GH_METRIC_LOGIN_THROTTLED
                                        : GH_METRIC_LOGIN_UNAVAILABLE;
    gh_metrics_login(svc->dialect, why);
}

/* A login that passed its check and was for this session comes to rc. */
static void login_outcome(gh_service *svc, gh_session_result rc)
{
    if (!svc->login_passed)
        return;
    gh_metrics_login(svc->dialect, rc == GH_SESSION_CREATED ? GH_METRIC_LOGIN_SUCCESS
                                   : rc == GH_SESSION_FAILED ? GH_METRIC_LOGIN_UNAVAILABLE
                                   : GH_METRIC_LOGIN_LIMIT);
    svc->login_passed = false;
}

gh_session_result gh_service_session_create(gh_service *svc, const gh_principal *who,
                                            const char *dialect, int64_t idle_timeout,
                                            const char *client_addr,
                                            char token[GH_TOKEN_TEXT_LEN + 1],
                                            gh_session_record *rec)
{
    int64_t           now = gh_now();
    uint32_t          total = gh_shared_session_count(svc->shared);
    gh_shared_result  added;
    gh_store_err      err;
    gh_session_result rc = GH_SESSION_FAILED;

    memset(rec, 0, sizeof(*rec));
    if (total >= (uint32_t)svc->config->max_sessions) {
        rc = GH_SESSION_LIMIT_TOTAL;
        goto done;
    }
    if (dialect == NULL || dialect[0] == '\0' ||
        !gh_str_copy(rec->dialect, sizeof(rec->dialect), (gh_str){ dialect, strlen(dialect) }))
        goto done;
    if (gh_token_generate(token) != 0 || gh_token_session_id(rec->id) != 0)
        goto done;
    gh_token_digest(token, GH_TOKEN_TEXT_LEN, rec->digest);
    rec->account_id = who->account_id;
    memcpy(rec->user, who->user, sizeof(rec->user));
    rec->created = rec->last_used = now;
    rec->idle_timeout = idle_timeout;
    rec->expires = svc->config->session_lifetime > 0
                       ? now + svc->config->session_lifetime : 0;
    if (client_addr != NULL)
        gh_str_copy(rec->client_addr, sizeof(rec->client_addr),
                    (gh_str){ client_addr, strlen(client_addr) });

    /* The per-account limit is the store's to check, in one step with the
     * insert: two logins racing (here, in another worker, on another node)
     * cannot both pass a count taken before either inserted. The block's
     * room (max_sessions) is this node's. */
    err = gh_store_session_insert_limited(svc->store, rec,
                                          svc->config->max_sessions_per_account, now,
                                          gh_service_setting(svc, GH_SET_SESSION_TIMEOUT));
    if (err == GH_STORE_LIMIT)
        rc = GH_SESSION_LIMIT_ACCOUNT;
    if (err != GH_STORE_OK)
        goto done;
    added = gh_session_add_wait(svc->sessions, rec, who->role, who->password_change_required);
    if (added != GH_SHARED_OK) {
        (void)gh_store_session_delete(svc->store, rec->id);
        rc = added == GH_SHARED_FULL ? GH_SESSION_LIMIT_TOTAL : GH_SESSION_FAILED;
        goto done;
    }
    gh_service_audit(svc, GH_AUDIT_LOGIN, rec->user, rec->client_addr, "session",
                     rec->id, "session created");
    gh_metrics_session_created(svc->dialect);
    rc = GH_SESSION_CREATED;
done:
    login_outcome(svc, rc);
    /* A session not made leaves no token behind, nor its digest. */
    if (rc != GH_SESSION_CREATED) {
        gh_wipe(token, GH_TOKEN_TEXT_LEN + 1);
        gh_wipe(rec->digest, sizeof(rec->digest));
    }
    return rc;
}

gh_store_err gh_service_session_end(gh_service *svc, const char *id, gh_audit_event event,
                                    const char *actor, const char *client_addr)
{
    return gh_service_session_end_as(svc, id, event,
                                     event == GH_AUDIT_LOGOUT ? GH_METRIC_END_LOGOUT
                                                              : GH_METRIC_END_REVOKED,
                                     actor, client_addr);
}

gh_store_err gh_service_session_end_as(gh_service *svc, const char *id, gh_audit_event event,
                                       gh_metric_end reason, const char *actor,
                                       const char *client_addr)
{
    gh_session_record rec, shared_rec;
    char              detail[GH_USER_NAME_MAX + 8];
    bool              in_store, in_block;
    gh_store_err      err;

    err = gh_store_session_get(svc->store, id, &rec);
    if (err == GH_STORE_OK)
        err = gh_store_session_delete(svc->store, id);
    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND)
        goto done;
    in_store = err == GH_STORE_OK;
    /* Removed from the block even when the store had no row: never leave a
     * session alive that the client was told is gone. */
    in_block = gh_session_remove_wait(svc->sessions, id, &shared_rec) == GH_SHARED_OK;
    err = in_store || in_block ? GH_STORE_OK : GH_STORE_NOT_FOUND;
    if (err != GH_STORE_OK)
        goto done;
    if (gh_shared_cached(svc->shared) ? in_store : in_block)
        gh_metrics_sessions_ended(reason, 1);
    if (!in_store)
        rec = shared_rec;
    snprintf(detail, sizeof(detail), "by %s", actor != NULL ? actor : "?");
    gh_service_audit(svc, event, rec.user, client_addr, NULL, rec.id, detail);
done:
    gh_wipe(rec.digest, sizeof(rec.digest));
    gh_wipe(shared_rec.digest, sizeof(shared_rec.digest));
    return err;
}

gh_store_err gh_service_account_update(gh_service *svc, gh_account *acct,
                                       int64_t expected_generation)
{
    gh_store_err err = gh_store_account_update(svc->store, acct, expected_generation);

    if (err != GH_STORE_OK)
        goto done;
    gh_shared_cred_drop_account(svc->shared, acct->id);
    if (!acct->enabled || gh_account_admin_locked(acct)) {
        int in_store = 0, in_block;

        (void)gh_store_session_delete_account(svc->store, acct->id, &in_store);
        in_block = gh_shared_session_remove_account(svc->shared, acct->id);
        gh_metrics_sessions_ended(GH_METRIC_END_REVOKED,
                                  (uint64_t)(gh_shared_cached(svc->shared) ? in_store
                                                                           : in_block));
    } else {
        gh_shared_session_update_account(svc->shared, acct->id, acct->role,
                                         acct->password_change_required);
    }
    if (acct->locked_until == 0)
        (void)gh_service_failures_clear(svc, acct->name);
    gh_service_audit(svc, GH_AUDIT_ACCOUNT_CHANGED, acct->name, NULL, NULL, NULL,
                     "updated");
done:
    return err;
}

gh_store_err gh_service_account_delete(gh_service *svc, int64_t id)
{
    gh_account   acct;
    gh_store_err err = gh_store_account_get_by_id(svc->store, id, &acct);

    if (err == GH_STORE_OK)
        err = gh_store_account_delete(svc->store, id);
    if (err != GH_STORE_OK)
        goto done;
    /* The store deleted the sessions with the account, uncounted: with a
     * store other nodes share, this node counts those it held. */
    gh_metrics_sessions_ended(GH_METRIC_END_REVOKED,
                              (uint64_t)gh_shared_session_remove_account(svc->shared, id));
    gh_shared_cred_drop_account(svc->shared, id);
    (void)gh_service_failures_clear(svc, acct.name);
    gh_service_audit(svc, GH_AUDIT_ACCOUNT_CHANGED, acct.name, NULL, NULL, NULL,
                     "deleted");
done:
    /* The hash read back is wiped whichever way the delete went. */
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    return err;
}
