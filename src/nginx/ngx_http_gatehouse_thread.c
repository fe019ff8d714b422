/*
 * ngx_http_gatehouse_thread.c: work that may wait, done off the event loop.
 * Password checks go to the `gatehouse_hash` pool and store work to
 * `gatehouse_io`, so a login storm queues behind itself, not behind reads.
 * Checks from a suspect source (one with failed logins in its throttle
 * window) go to `gatehouse_suspect` instead, when nginx.conf has it: a
 * queue of their own behind one thread whose hashes run at the lowest
 * priority (nice 19), so a wrong-password storm from many addresses waits
 * behind itself while others' logins go through gatehouse_hash at once.
 * Each pool thread keeps its own store connection (a thread-local service,
 * thread_service.c).
 * A gateway's forward hook runs in these pools too when it needs the store.
 * The request is blocked while its task runs and resumes in the event loop
 * when the task's completion event fires, as nginx's own aio threads do.
 *
 * For the metrics (core/metrics.h): a task posted to a hash pool
 * (gatehouse_hash, gatehouse_suspect) counts in gatehouse_hash_queue_depth
 * until a thread takes it, and how long it waited then, from the post, in
 * gatehouse_hash_wait_seconds (two clock reads, for hash tasks only). A
 * task tells its service which dialect it serves, for the labels of the
 * logins and sessions it counts, and settles a login left uncounted.
 *
 * The sync timer: every 50 ms each worker applies the change log (so a
 * revocation by the command line reaches every worker within 100 ms), and
 * every second writes batched last-used times and expires idle sessions.
 * Once a second it also posts the recheck of directory users' live sessions
 * (gh_service_directory_recheck), a task of its own in gatehouse_directory
 * (else gatehouse_io) so that a directory slow to answer holds up no change
 * log and no store work; the store elects which worker's
 * task asks the directory about each user.
 *
 * The hold: a worker shutting down gracefully (a reload, a stop by SIGQUIT)
 * exits as soon as only cancelable timers are left (ngx_event_no_timers_left),
 * whatever its connections are doing. A request waiting for a pool task has
 * no timer of its own, so the worker would exit under it and drop its
 * connection unanswered ("open socket left in connection"). While any
 * request of the worker waits for a task, a timer that is not cancelable
 * stays armed: it fires once a second at most, and the worker leaves at most
 * a second after its last task.
 */
#include "ngx_http_gatehouse.h"

#define GH_SYNC_INTERVAL_MS  50
#define GH_UPKEEP_EVERY      20    /* sync ticks: once a second */
#define GH_HOLD_MS           1000

typedef struct {
    ngx_http_request_t             *r;
    ngx_http_gatehouse_ctx_t       *ctx;
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_uint_t                      suspect;    /* posted to the suspect pool */
    ngx_uint_t                      hash;       /* posted to a hash pool */
    uint64_t                        posted_ns;  /* when (gh_metrics_now_ns; 0: not counting) */
} ngx_http_gatehouse_task_t;

#define GH_SUSPECT_NICE 19

static void
ngx_http_gatehouse_task_run(void *data, ngx_log_t *log)
{
    ngx_http_gatehouse_task_t *t = data;
    ngx_http_gatehouse_ctx_t  *ctx = t->ctx;
    gh_credential             *cred;
    gh_service                *svc;

    if (t->hash) {
        gh_metrics_hash_queue(-1);
        gh_metrics_hash_wait(t->posted_ns);
    }
    svc = ngx_http_gatehouse_thread_service(t->gmcf);
    /* The thread's service works for this request until the task ends: its
     * audit records carry the request's id and dialect. */
    if (svc != NULL) {
        svc->origin = &ctx->origin;
        svc->dialect = gh_dialect_index(ctx->dialect);
    }
    /* The suspect pool's threads run only suspects' checks; the same value
     * every time, so their hash lanes are made once. */
    if (t->suspect) {
        gh_lowprio_set_thread_nice(t->gmcf->config.hash_nice > 0 ? GH_SUSPECT_NICE : 0);
    }

    switch (ctx->job) {
    case GH_JOB_VERIFY:
        cred = &ctx->plan.cred;
        /* A domain the dialect resolved to local accounts (oVirt's
         * user@internal) asks no directory; a directory's is user@PROFILE. */
        ctx->auth = svc == NULL ? GH_AUTH_UNAVAILABLE
                    : gh_credential_local_only(cred)
                    ? gh_service_verify_local_password(svc, cred->user, cred->password,
                                                       cred->password_len,
                                                       ctx->req.client_addr, "basic",
                                                       &ctx->who)
                    : gh_service_verify_password(svc, cred->user, cred->password,
                                                 cred->password_len, ctx->req.client_addr,
                                                 "basic", &ctx->who);
        gh_credential_wipe(cred);
        break;
    case GH_JOB_SERVE:
        if (svc == NULL) {
            ctx->dialect->refuse(&ctx->req, GH_REFUSE_UNAVAILABLE, ctx->resp);
        } else {
            ctx->dialect->serve(svc, t->gmcf->tree, &ctx->req, &ctx->plan,
                                ctx->has_who ? &ctx->who : NULL, ctx->resp);
        }
        break;
    case GH_JOB_FORWARD:
        if (svc == NULL) {
            ctx->dialect->refuse(&ctx->req, GH_REFUSE_UNAVAILABLE, ctx->resp);
            ctx->allowed = 0;
        } else {
            ctx->allowed = ctx->dialect->forward(svc, &ctx->req, &ctx->plan,
                                                 ctx->has_who ? &ctx->who : NULL, ctx->resp);
        }
        break;
    default:
        break;
    }
    if (svc != NULL) {
        gh_service_login_settle(svc);
        svc->origin = NULL;
    }
}

/* The hash pool for a password check, unless its source is throttled: then
 * the check is refused before any hash (GH_AUTH_THROTTLED, in the dialect's
 * words), and that answer needs no hash lane. A source with failures in its
 * window is a suspect: its checks queue in the suspect pool when there is
 * one. Everything else goes to the I/O pool. */
static ngx_thread_pool_t *
ngx_http_gatehouse_pool(ngx_http_gatehouse_main_conf_t *gmcf, ngx_http_gatehouse_ctx_t *ctx,
    ngx_http_gatehouse_job_e job, ngx_uint_t *suspect)
{
    uint32_t failures;

    *suspect = 0;
    if (job != GH_JOB_VERIFY && ctx->plan.work != GH_WORK_HASH) {
        return gmcf->io_pool;
    }
    if (gh_service_throttle_wait(&gmcf->inline_service, ctx->req.client_addr, &failures) > 0) {
        return gmcf->io_pool;
    }
    if (failures > 0 && gmcf->suspect_pool != NULL) {
        *suspect = 1;
        return gmcf->suspect_pool;
    }
    return gmcf->hash_pool;
}

static void
ngx_http_gatehouse_hold_tick(ngx_event_t *ev)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ev->data;

    if (gmcf->requests_waiting > 0) {
        ngx_add_timer(ev, GH_HOLD_MS);
    }
}

/* A request starts waiting for a task: the worker stays until it is done. */
void
ngx_http_gatehouse_hold(ngx_http_gatehouse_main_conf_t *gmcf)
{
    if (gmcf->requests_waiting++ == 0 && !gmcf->hold_event.timer_set) {
        gmcf->hold_event.handler = ngx_http_gatehouse_hold_tick;
        gmcf->hold_event.data = gmcf;
        gmcf->hold_event.log = ngx_cycle->log;
        ngx_add_timer(&gmcf->hold_event, GH_HOLD_MS);
    }
}

static void
ngx_http_gatehouse_task_done(ngx_event_t *ev)
{
    ngx_http_gatehouse_task_t *t = ev->data;
    ngx_http_request_t        *r = t->r;
    ngx_http_gatehouse_ctx_t  *ctx = t->ctx;
    ngx_connection_t          *c = r->connection;
    ngx_int_t                  rc;

    ngx_http_set_log_request(c->log, r);
    r->main->blocked--;
    r->aio = 0;
    t->gmcf->requests_waiting--;
    ngx_http_gatehouse_audit_logged(r, ctx);

    if (ctx->job == GH_JOB_FORWARD && ctx->resume != NULL) {
        ctx->resume(r, ctx);
        ngx_http_run_posted_requests(c);
        return;
    }
    if (ctx->job == GH_JOB_SERVE) {
        rc = ngx_http_gatehouse_send(r, ctx->resp);
        gh_response_free(ctx->resp);
        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
        return;
    }

    ctx->state = ctx->job == GH_JOB_FORWARD ? GH_STATE_DECIDED : GH_STATE_VERIFIED;
    if (r->done) {
        /* The request ended while we worked: let nginx finish closing it. */
        c->write->handler(c->write);
    } else {
        r->write_event_handler(r);
        ngx_http_run_posted_requests(c);
    }
}

ngx_int_t
ngx_http_gatehouse_post(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    ngx_http_gatehouse_job_e job)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_http_gatehouse_task_t      *t;
    ngx_thread_task_t              *task;
    ngx_thread_pool_t              *pool;

    gmcf = ngx_http_gatehouse_main_conf(r);
    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_gatehouse_task_t));
    if (task == NULL) {
        return NGX_ERROR;
    }
    if (job == GH_JOB_SERVE || job == GH_JOB_FORWARD) {
        ctx->resp = ngx_palloc(r->pool, sizeof(gh_response));
        if (ctx->resp == NULL) {
            return NGX_ERROR;
        }
        gh_response_init(ctx->resp);
    }
    /* Taken here, on the event loop: the thread may audit (a password
     * check always does) and must not touch nginx's pool. */
    (void) ngx_http_gatehouse_audit_origin(r, ctx);
    t = task->ctx;
    t->r = r;
    t->ctx = ctx;
    t->gmcf = gmcf;
    task->handler = ngx_http_gatehouse_task_run;
    task->event.data = t;
    task->event.handler = ngx_http_gatehouse_task_done;

    ctx->job = job;
    pool = ngx_http_gatehouse_pool(gmcf, ctx, job, &t->suspect);
    t->hash = pool != gmcf->io_pool;
    if (t->hash) {
        t->posted_ns = gh_metrics_now_ns();
        gh_metrics_hash_queue(1);
    }
    if (ngx_thread_task_post(pool, task) != NGX_OK) {
        if (t->hash) {
            gh_metrics_hash_queue(-1);
        }
        return NGX_ERROR;
    }
    if (job != GH_JOB_SERVE) {
        ctx->state = GH_STATE_WAITING;
    }
    r->main->blocked++;
    r->aio = 1;
    ngx_http_gatehouse_hold(gmcf);
    return NGX_OK;
}

/* A token the shared block lacks, looked up in a store other nodes share
 * (session_cached.c): the lookup runs in the I/O pool; its completion, on
 * the event loop, answers the find, whose callback resumes the request. */
typedef struct {
    ngx_http_request_t             *r;
    ngx_http_gatehouse_main_conf_t *gmcf;
    gh_session_miss                *miss;
} ngx_http_gatehouse_lookup_t;

static void
ngx_http_gatehouse_lookup_run(void *data, ngx_log_t *log)
{
    ngx_http_gatehouse_lookup_t *t = data;
    gh_service                  *svc = ngx_http_gatehouse_thread_service(t->gmcf);

    /* No service: no store, and the lookup answers unavailable. */
    gh_session_miss_run(t->miss, svc != NULL ? svc->store : NULL);
}

static void
ngx_http_gatehouse_lookup_done(ngx_event_t *ev)
{
    ngx_http_gatehouse_lookup_t *t = ev->data;
    ngx_http_request_t          *r = t->r;
    ngx_http_gatehouse_ctx_t    *ctx = ngx_http_gatehouse_get_ctx(r);
    ngx_connection_t            *c = r->connection;

    ngx_http_set_log_request(c->log, r);
    r->aio = 0;
    t->gmcf->requests_waiting--;
    /* A token the store does not know counts against its source. */
    if (gh_session_miss_result(t->miss) == GH_SHARED_NOT_FOUND) {
        gh_service_throttle_fail(&t->gmcf->inline_service, ctx->req.client_addr);
    }
    if (r->done) {
        /* The request ended while we looked: let nginx finish closing it. */
        gh_session_miss_free(t->miss);
        r->main->blocked--;
        c->write->handler(c->write);
        return;
    }
    gh_session_miss_done(t->miss);      /* the find's callback resumes it */
}

bool
ngx_http_gatehouse_defer_miss(void *defer_arg, gh_session_miss *miss, void *find_arg)
{
    ngx_http_gatehouse_main_conf_t *gmcf = defer_arg;
    ngx_http_request_t             *r = find_arg;
    ngx_http_gatehouse_ctx_t       *ctx = ngx_http_gatehouse_get_ctx(r);
    ngx_http_gatehouse_lookup_t    *t;
    ngx_thread_task_t              *task;

    ctx->req.retry_after = gh_service_throttle_wait(&gmcf->inline_service,
                                                    ctx->req.client_addr, NULL);
    if (ctx->req.retry_after > 0) {
        ctx->throttled = 1;
        return false;
    }
    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_gatehouse_lookup_t));
    if (task == NULL) {
        return false;
    }
    t = task->ctx;
    t->r = r;
    t->gmcf = gmcf;
    t->miss = miss;
    task->handler = ngx_http_gatehouse_lookup_run;
    task->event.data = t;
    task->event.handler = ngx_http_gatehouse_lookup_done;
    if (ngx_thread_task_post(gmcf->io_pool, task) != NGX_OK) {
        return false;
    }
    r->aio = 1;
    ngx_http_gatehouse_hold(gmcf);
    return true;
}

static void
ngx_http_gatehouse_sync_run(void *data, ngx_log_t *log)
{
    ngx_http_gatehouse_main_conf_t *gmcf = data;
    gh_service                     *svc = ngx_http_gatehouse_thread_service(gmcf);

    if (svc == NULL) {
        return;
    }
    /* A worker that started while the store was down learns the server
     * secret from the first thread that reaches the store (sync_done). */
    if (gmcf->secret_pending && !gmcf->secret_found) {
        ngx_memcpy(gmcf->found_secret, svc->secret, sizeof(gmcf->found_secret));
        gmcf->secret_found = 1;
    }
    (void) gh_service_apply_changes(svc);
    if (gmcf->sync_ticks % GH_UPKEEP_EVERY == 0) {
        (void) gh_service_upkeep(svc, gh_now());
    }
}

static void
ngx_http_gatehouse_sync_done(ngx_event_t *ev)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ev->data;

    gmcf->sync_busy = 0;
    if (gmcf->secret_pending && gmcf->secret_found) {
        ngx_memcpy(gmcf->inline_service.secret, gmcf->found_secret,
                   sizeof(gmcf->inline_service.secret));
        gh_wipe(gmcf->found_secret, sizeof(gmcf->found_secret));
        gmcf->secret_pending = 0;
    }
}

static void
ngx_http_gatehouse_recheck_run(void *data, ngx_log_t *log)
{
    ngx_http_gatehouse_main_conf_t *gmcf = data;
    gh_service                     *svc = ngx_http_gatehouse_thread_service(gmcf);

    if (svc != NULL) {
        (void) gh_service_directory_recheck(svc, gh_epoch_ms());
    }
}

static void
ngx_http_gatehouse_recheck_done(ngx_event_t *ev)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ev->data;

    gmcf->recheck_busy = 0;
}

static void
ngx_http_gatehouse_sync_tick(ngx_event_t *ev)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }
    if (!gmcf->sync_busy) {
        gmcf->sync_ticks++;
        if (ngx_thread_task_post(gmcf->io_pool, gmcf->sync_task) == NGX_OK) {
            gmcf->sync_busy = 1;
        }
        if (!gmcf->recheck_busy
            && gmcf->sync_ticks % GH_UPKEEP_EVERY == 0
            && ngx_thread_task_post(gmcf->directory_pool, gmcf->recheck_task) == NGX_OK)
        {
            gmcf->recheck_busy = 1;
        }
    }
    ngx_add_timer(ev, GH_SYNC_INTERVAL_MS);
}

/* The recheck's task. Posted whatever the configuration: a round with no
 * profile that rechecks returns at once, and profiles need not all come
 * from the file read at start. */
static ngx_int_t
ngx_http_gatehouse_start_recheck(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_thread_task_t *task;

    task = ngx_thread_task_alloc(cycle->pool, 0);
    if (task == NULL) {
        return NGX_ERROR;
    }
    task->ctx = gmcf;
    task->handler = ngx_http_gatehouse_recheck_run;
    task->event.data = gmcf;
    task->event.handler = ngx_http_gatehouse_recheck_done;
    gmcf->recheck_task = task;
    return NGX_OK;
}

ngx_int_t
ngx_http_gatehouse_start_sync(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_thread_task_t *task;

    task = ngx_thread_task_alloc(cycle->pool, 0);
    if (task == NULL) {
        return NGX_ERROR;
    }
    task->ctx = gmcf;
    task->handler = ngx_http_gatehouse_sync_run;
    task->event.data = gmcf;
    task->event.handler = ngx_http_gatehouse_sync_done;
    gmcf->sync_task = task;
    if (ngx_http_gatehouse_start_recheck(cycle, gmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    gmcf->sync_event.handler = ngx_http_gatehouse_sync_tick;
    gmcf->sync_event.data = gmcf;
    gmcf->sync_event.log = cycle->log;
    gmcf->sync_event.cancelable = 1;
    ngx_add_timer(&gmcf->sync_event, GH_SYNC_INTERVAL_MS);
    return NGX_OK;
}
