/*
 * service_sync.c: keeping the shared block and the store in step. At start
 * the workers fill the block from the store together, each claiming a part
 * of the sessions table at a time (gh_shared_load_claim); afterwards every
 * worker's timer applies the change log (what the command line and the other
 * workers changed), writes batched last-used times and expires idle
 * sessions. The block's change sequence makes applying the log idempotent
 * across workers.
 *
 * The throttle counters of sources are a small table of fixed size: the
 * worker that claims the first part loads them all, the longest-lasting
 * first up to the table's room, before that part is done, so the block
 * never counts as loaded without them.
 *
 * With a store other nodes share (cache mode, gh_shared_cached) the block
 * is a cache of it (session_cached.c fills what it lacks): a change log
 * that cannot be read drops the whole cache and marks the store down, and
 * the next apply that reaches the store starts the cache over at its
 * current sequence (gh_service_cache_recover); idle ends found here are
 * evicted unaudited, and the store's sweep waits a grace past them.
 *
 * Sessions this file ends count for the metrics (metrics.h) only while
 * the block is the whole truth: a revocation applied from the log was
 * counted by no one else (the command line counts nothing, and a worker
 * that ended a session itself lost the race to remove it here), and an
 * expiry is counted where it is audited. A cache's removals and evictions
 * are not ends: the node that ended the session counted it, and one ended
 * by time is counted by the store's sweep that deletes it (sweep_store).
 *
 * Nothing on the way to the first answer waits for a write: the load reads
 * the store once over and leaves sessions that ended while the server was
 * down where they are, and every worker's upkeep sweeps them out a bounded
 * batch at a time, as it does those the block expires.
 */
#include "service.h"

#include "directory_profiles.h"

#include <stdlib.h>
#include <string.h>

/* Sessions written or expired per lock hold of the shared block. */
#define UPKEEP_BATCH 1024
/* Sessions handed to the shared block per lock hold while loading. */
#define LOAD_BATCH   1024

int64_t gh_service_setting(gh_service *svc, gh_setting setting)
{
    int64_t v = gh_shared_setting(svc->shared, setting);
    const gh_config *c = svc->config;

    if (v >= 0)
        return v;
    switch (setting) {
    case GH_SET_SESSION_TIMEOUT:     return c->session_timeout;
    case GH_SET_LOCKOUT_THRESHOLD:   return c->lockout_threshold;
    case GH_SET_LOCKOUT_DURATION:    return c->lockout_duration;
    case GH_SET_LOCKOUT_RESET_AFTER: return c->lockout_reset_after;
    case GH_SET_MIN_PASSWORD_LENGTH: return c->min_password_length;
    case GH_SET_MAX_PASSWORD_LENGTH: return c->max_password_length;
    default:                         return -1;
    }
}

gh_store_err gh_service_setting_set(gh_service *svc, gh_setting setting, int64_t value)
{
    gh_store_err err = gh_store_setting_set(svc->store, gh_setting_key(setting), value);

    if (err == GH_STORE_OK)
        gh_shared_setting_set(svc->shared, setting, value);
    return err;
}

gh_store_err gh_service_sync_settings(gh_service *svc)
{
    for (int s = 0; s < GH_SET_COUNT; s++) {
        int64_t v;
        gh_store_err err = gh_store_setting_get(svc->store, gh_setting_key(s), &v);

        if (err == GH_STORE_NOT_FOUND) {
            gh_shared_setting_set(svc->shared, s, -1);
            v = gh_service_setting(svc, s);
        } else if (err != GH_STORE_OK) {
            return err;
        }
        gh_shared_setting_set(svc->shared, s, v);
    }
    return GH_STORE_OK;
}

/* Accounts by id, for giving loaded sessions their role and flags. */
typedef struct {
    gh_account *v;
    size_t      n, cap;
} account_list;

static int collect_account(const gh_account *acct, void *arg)
{
    account_list *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        gh_account *v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = *acct;
    gh_wipe(l->v[l->n].password_hash, sizeof(l->v[l->n].password_hash));
    l->n++;
    return 0;
}

static const gh_account *account_by_id(const account_list *l, int64_t id)
{
    size_t lo = 0, hi = l->n;

    /* foreach walks in id order, so the list is sorted. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->v[mid].id == id)
            return &l->v[mid];
        if (l->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

typedef struct {
    gh_service               *svc;
    const account_list       *accounts;
    int64_t                   now;
    int64_t                   default_idle;
    gh_shared_loaded_session *batch;
    size_t                    n;
    bool                      ended;        /* met a session that has ended */
} load_ctx;

/* Hand the batch to the block; non-zero once it is full. A full block keeps
 * the sessions it has; the rest wait for room. */
static int load_flush(load_ctx *c)
{
    gh_shared_result rc = GH_SHARED_OK;

    if (c->n > 0)
        rc = gh_shared_session_load(c->svc->shared, c->batch, c->n);
    c->n = 0;
    return rc == GH_SHARED_FULL;
}

static int load_session(const gh_session_record *rec, void *arg)
{
    load_ctx *c = arg;
    const gh_account *acct = account_by_id(c->accounts, rec->account_id);
    gh_shared_loaded_session *s;

    if (gh_store_session_ended(rec, c->now, c->default_idle)) {
        c->ended = true;
        return 0;
    }
    if (acct == NULL || !acct->enabled || gh_account_admin_locked(acct))
        return 0;
    s = &c->batch[c->n++];
    s->rec = *rec;
    s->role = acct->role;
    s->password_change_required = acct->password_change_required;
    return c->n == LOAD_BATCH ? load_flush(c) : 0;
}

/* The store's counters move from the wall clock to the block's. */
typedef struct {
    gh_shared *shared;
    int64_t    epoch, mono;     /* one instant on each clock */
} throttle_load;

static int load_throttle(const gh_throttle_count *c, void *arg)
{
    const throttle_load *t = arg;
    gh_throttle_count copy = *c;

    gh_throttle_rebase(&copy, t->epoch, t->mono);
    gh_shared_throttle_restore(t->shared, &copy);
    return 0;
}

static gh_store_err load_throttles(gh_service *svc)
{
    throttle_load t = { svc->shared, gh_epoch_ms(), gh_now_ms() };

    return gh_store_throttle_scan(svc->store, t.epoch / 1000,
                                  gh_shared_throttle_room(svc->shared), load_throttle, &t);
}

gh_store_err gh_service_load(gh_service *svc)
{
    account_list accounts = { 0 };
    load_ctx ctx = { .svc = svc, .accounts = &accounts, .now = gh_now() };
    int64_t seq = 0, last = 0, after, upto;
    gh_store_err err;

    /* The split point is no data of a part: reading it first is safe. */
    err = gh_store_session_rowid_last(svc->store, &last);
    /* Loaded already: a respawned worker, or a reload, which keeps the block
     * and what it holds. The settings the block mirrors are this process's
     * own, though: a reload may have changed the configuration's. */
    if (!gh_shared_load_claim(svc->shared, last, &after, &upto))
        return err == GH_STORE_OK ? gh_service_sync_settings(svc) : err;
    ctx.batch = malloc(LOAD_BATCH * sizeof(*ctx.batch));
    if (ctx.batch == NULL)
        err = GH_STORE_ERROR;
    /* Read the sequence before any session: a change made while loading is
     * applied again afterwards, which is harmless; one missed would not be. */
    if (err == GH_STORE_OK)
        err = gh_store_change_last(svc->store, &seq);
    if (err == GH_STORE_OK)
        err = gh_service_sync_settings(svc);
    ctx.default_idle = gh_service_setting(svc, GH_SET_SESSION_TIMEOUT);
    if (err == GH_STORE_OK)
        err = gh_store_account_foreach(svc->store, collect_account, &accounts);
    /* Parts until none is left, each one pass over its range of the table in
     * batches to the block. After a failure the parts are still claimed and
     * done, unloaded, so the block is not left waiting for them. */
    do {
        if (err == GH_STORE_OK && after == INT64_MIN)     /* the first part */
            err = load_throttles(svc);
        if (err == GH_STORE_OK)
            err = gh_store_session_scan(svc->store, after, upto, load_session, &ctx);
        if (err == GH_STORE_OK)
            (void)load_flush(&ctx);
        ctx.n = 0;
        gh_shared_load_done(svc->shared, err == GH_STORE_OK ? seq : 0);
    } while (gh_shared_load_claim(svc->shared, last, &after, &upto));
    if (ctx.ended)
        gh_shared_store_expiry_due(svc->shared);
    free(ctx.batch);
    free(accounts.v);
    return err;
}

/* n sessions of the block ended by a change applied from the log. */
static void revoked_by_log(gh_service *svc, size_t n)
{
    if (!gh_shared_cached(svc->shared))
        gh_metrics_sessions_ended(GH_METRIC_END_REVOKED, n);
}

/* Every session in the block has its row in the store (created there first,
 * or loaded from there), so one without a row was revoked: `session revoke
 * --user` deletes an enabled account's rows and logs only an account change. */
static void drop_revoked(gh_service *svc, int64_t account_id)
{
    size_t cap = gh_shared_session_count(svc->shared), n, ended = 0;
    char (*ids)[GH_SESSION_ID_LEN + 1];
    gh_session_record rec;

    if (cap == 0 || (ids = malloc(cap * sizeof(*ids))) == NULL)
        return;
    n = gh_shared_session_ids(svc->shared, account_id, ids, cap);
    for (size_t i = 0; i < n; i++) {
        if (gh_store_session_get(svc->store, ids[i], &rec) == GH_STORE_NOT_FOUND &&
            gh_shared_session_remove(svc->shared, ids[i], NULL) == GH_SHARED_OK)
            ended++;
    }
    revoked_by_log(svc, ended);
    free(ids);
}

static void apply_account(gh_service *svc, int64_t id)
{
    gh_account acct;
    gh_store_err err = gh_store_account_get_by_id(svc->store, id, &acct);

    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND)
        return;
    gh_shared_cred_drop_account(svc->shared, id);
    if (err == GH_STORE_NOT_FOUND || !acct.enabled || gh_account_admin_locked(&acct)) {
        revoked_by_log(svc, (size_t)gh_shared_session_remove_account(svc->shared, id));
    } else {
        gh_shared_session_update_account(svc->shared, id, acct.role,
                                         acct.password_change_required);
        drop_revoked(svc, id);
    }
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
}

static int apply_change(const gh_change *change, void *arg)
{
    gh_service *svc = arg;

    switch (change->kind) {
    case GH_CHANGE_ACCOUNT:
        apply_account(svc, change->subject_id);
        break;
    case GH_CHANGE_SESSION:
        if (gh_shared_session_remove(svc->shared, change->subject, NULL) == GH_SHARED_OK)
            revoked_by_log(svc, 1);
        break;
    case GH_CHANGE_SETTING:
        (void)gh_service_sync_settings(svc);
        break;
    case GH_CHANGE_DIRECTORY:
        (void)gh_service_directory_apply(svc, change->subject);
        break;
    }
    return 0;
}

gh_store_err gh_service_cache_recover(gh_service *svc)
{
    int64_t seq;
    gh_store_err err = gh_store_change_last(svc->store, &seq);

    /* The sequence first: a change made while the settings are read is
     * applied again after, which is harmless. */
    if (err == GH_STORE_OK)
        err = gh_service_sync_settings(svc);
    if (err == GH_STORE_OK)
        gh_shared_cache_reset(svc->shared, seq);
    return err;
}

static gh_store_err apply_since(gh_service *svc)
{
    int64_t from = gh_shared_change_seq(svc->shared), to;
    gh_store_err err;

    if (from < 0)
        return GH_STORE_OK;          /* not loaded yet */
    err = gh_store_change_last(svc->store, &to);
    if (err != GH_STORE_OK || to <= from)
        return err;
    gh_shared_apply_begin(svc->shared, to);
    err = gh_store_change_since(svc->store, from, apply_change, svc);
    if (err == GH_STORE_OK)
        (void)gh_shared_advance_seq(svc->shared, from, to);
    return err;
}

gh_store_err gh_service_apply_changes(gh_service *svc)
{
    gh_store_err err;

    if (!gh_shared_cached(svc->shared))
        return apply_since(svc);
    /* A cache: while the store is down, try it again; a change log that
     * cannot be read (the store lost, or the log trimmed past what the block
     * applied) leaves the cache stale, so all of it goes. */
    if (gh_shared_store_down(svc->shared))
        return gh_service_cache_recover(svc);
    err = apply_since(svc);
    if (err != GH_STORE_OK)
        gh_shared_drop_all(svc->shared);
    return err;
}

/* One batch of the store's sweep, if one is due: the write lock is held for
 * a batch, and this worker's next tick waits no longer than that. With a
 * store other nodes share, the sweep is where a session ended by time ends
 * for every node, once: counted here (the block only evicted its copy). */
static gh_store_err sweep_store(gh_service *svc, int64_t now)
{
    int64_t from = gh_shared_store_expiry_from(svc->shared), next = from;
    bool cached = gh_shared_cached(svc->shared);
    gh_store_err err;
    int count, lifetime;

    if (from < 0)
        return GH_STORE_OK;
    /* Shared with other nodes: a session is swept only once it has been
     * ended for a grace longer than the touch batch, so that no node's
     * touch still on its way is overtaken. */
    if (cached)
        now -= GH_SERVICE_SWEEP_GRACE;
    err = gh_store_session_expire(svc->store, now,
                                  gh_service_setting(svc, GH_SET_SESSION_TIMEOUT), &next,
                                  &count, &lifetime);
    if (err == GH_STORE_OK && cached) {
        gh_metrics_sessions_ended(GH_METRIC_END_LIFETIME, (uint64_t)lifetime);
        gh_metrics_sessions_ended(GH_METRIC_END_IDLE, (uint64_t)(count - lifetime));
    }
    if (err == GH_STORE_OK)
        gh_shared_store_expiry_done(svc->shared, from,
                                    count == GH_STORE_EXPIRE_BATCH ? next : -1);
    return err;
}

gh_store_err gh_service_upkeep(gh_service *svc, int64_t now)
{
    gh_session_touch *touched = NULL;
    gh_session_record *expired = NULL;
    gh_store_err err = GH_STORE_OK;
    bool cached = gh_shared_cached(svc->shared);
    int64_t idle;
    size_t n, rounds;

    touched = malloc(UPKEEP_BATCH * sizeof(*touched));
    expired = malloc(UPKEEP_BATCH * sizeof(*expired));
    if (touched == NULL || expired == NULL) {
        err = GH_STORE_ERROR;
        goto done;
    }
    /* Every session touched before this tick is written now, a batch per
     * lock hold. The touched list is oldest first, so those come before any
     * touched again meanwhile, and the bound (the pool's count, plus one
     * batch) ends the loop under a steady stream of requests. */
    rounds = gh_shared_session_count(svc->shared) / UPKEEP_BATCH + 1;
    do {
        n = gh_shared_session_collect_touched(svc->shared, touched, UPKEEP_BATCH);
        if (n > 0)
            err = gh_store_session_touch(svc->store, touched, n);
    } while (err == GH_STORE_OK && n == UPKEEP_BATCH && --rounds > 0);
    if (err != GH_STORE_OK)
        goto done;
    /* A cache evicts what ended here without a word: another node may have
     * kept it alive, and what ended everywhere is the store's to sweep. It
     * evicts a grace late, so that the sweep this marks due finds what it
     * evicted past the grace and ends it now, not at some later sweep (a
     * lookup meanwhile asks the store, as for any idle end here). */
    n = gh_shared_session_expire(svc->shared, cached ? now - GH_SERVICE_SWEEP_GRACE : now,
                                 expired, UPKEEP_BATCH);
    idle = gh_service_setting(svc, GH_SET_SESSION_TIMEOUT);
    for (size_t i = 0; i < n && !cached; i++) {
        gh_service_audit(svc, GH_AUDIT_EXPIRED, expired[i].user, expired[i].client_addr,
                         NULL, expired[i].id, NULL);
        gh_metrics_sessions_ended(gh_store_session_ended_by_lifetime(&expired[i], idle)
                                  ? GH_METRIC_END_LIFETIME : GH_METRIC_END_IDLE, 1);
    }
    if (n > 0)
        gh_shared_store_expiry_due(svc->shared);
    err = sweep_store(svc, now);
    if (err == GH_STORE_OK)
        err = gh_store_failure_prune(svc->store, now, NULL);
    if (err == GH_STORE_OK)
        err = gh_store_throttle_prune(svc->store, now, NULL);
done:
    if (err != GH_STORE_OK && cached)
        gh_shared_drop_all(svc->shared);
    free(touched);
    free(expired);
    return err;
}
