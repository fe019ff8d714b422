/*
 * ngx_http_gatehouse_metrics.c: the metrics' shared-memory zone and the
 * locations that show how the server does:
 *
 *     location = /metrics { gatehouse_metrics; }   Prometheus text format
 *     location = /healthz { gatehouse_health; }    200: the worker answers
 *     location = /readyz  { gatehouse_ready; }     200: the store answers, else 503
 *
 * `gatehouse serve` puts them on a plain-HTTP server of their own ([server]
 * metrics_listen), never on the API's listener.
 *
 * The zone "gatehouse_metrics" holds core/metrics.c's block: one slot per
 * worker (worker_processes of the configuration), and each worker binds the
 * slot of its number (ngx_worker) when it starts; a worker numbered past
 * the slots (worker_processes given after the http block, which the zone
 * was sized before) counts nothing and says so. A reload with as many
 * workers keeps the block, and the counts go on; one with another number
 * starts a new block at zero, as Prometheus expects of a restart.
 *
 * Readiness is the store answering a cheap read (its change log's last
 * sequence) now, asked in gatehouse_io by a thread with its own connection,
 * as every store operation of a request is: the event loop never waits,
 * and a store that hangs leaves /readyz waiting (a probe's timeout) while
 * /healthz still answers. The shared block's own mark of a store that is
 * down is not used: it exists only with a store other nodes share, and is
 * set by the sync tick after the fact.
 */
#include "ngx_http_gatehouse.h"

#include "core/metrics.h"

static ngx_str_t ngx_http_gatehouse_metrics_zone_name = ngx_string("gatehouse_metrics");
static ngx_str_t ngx_http_gatehouse_metrics_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");
static ngx_str_t ngx_http_gatehouse_text_type = ngx_string("text/plain; charset=utf-8");

typedef struct {
    ngx_http_request_t             *r;
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_uint_t                      ready;
} ngx_http_gatehouse_ready_t;

/* ---- the zone ---- */

static ngx_int_t
ngx_http_gatehouse_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_gatehouse_main_conf_t *gmcf = zone->data;
    ngx_http_gatehouse_main_conf_t *old = data;
    ngx_slab_pool_t                *shpool = (ngx_slab_pool_t *) zone->shm.addr;
    size_t                          size = gh_metrics_size(gmcf->metrics_slots);
    void                           *mem;

    if (old != NULL && old->metrics != NULL) {
        gmcf->metrics = gh_metrics_attach(old->metrics, size, gmcf->metrics_slots);
        if (gmcf->metrics != NULL) {
            return NGX_OK;      /* a reload: the counts go on */
        }
        mem = old->metrics;     /* another build's layout: start it again */
    } else {
        mem = ngx_slab_alloc(shpool, size);
        if (mem == NULL) {
            return NGX_ERROR;
        }
    }
    gmcf->metrics = gh_metrics_format(mem, size, gmcf->metrics_slots);
    return gmcf->metrics != NULL ? NGX_OK : NGX_ERROR;
}

ngx_int_t
ngx_http_gatehouse_metrics_zone(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf,
    void *tag)
{
    ngx_core_conf_t *ccf;
    size_t           size;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx, ngx_core_module);
    gmcf->metrics_slots = ccf->worker_processes != NGX_CONF_UNSET && ccf->worker_processes > 0
                          ? (ngx_uint_t) ccf->worker_processes : 1;
    size = gh_metrics_size(gmcf->metrics_slots);
    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gatehouse: too many workers for the "
                           "metrics (%ui)", gmcf->metrics_slots);
        return NGX_ERROR;
    }
    /* The slab pool's header and page table, and the block on whole pages
     * (what the slab gives an allocation this large: aligned). */
    size = ngx_align(size, ngx_pagesize) + 8 * ngx_pagesize;
    gmcf->metrics_zone = ngx_shared_memory_add(cf, &ngx_http_gatehouse_metrics_zone_name,
                                               size, tag);
    if (gmcf->metrics_zone == NULL) {
        return NGX_ERROR;
    }
    gmcf->metrics_zone->init = ngx_http_gatehouse_metrics_init_zone;
    gmcf->metrics_zone->data = gmcf;
    return NGX_OK;
}

void
ngx_http_gatehouse_metrics_bind(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    if (gmcf->metrics == NULL
        || (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }
    if (!gh_metrics_bind(gmcf->metrics, (unsigned) ngx_worker)) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "gatehouse: worker %ui has no metrics slot (the zone was sized for "
                      "%ui workers: put worker_processes before the http block); it "
                      "counts nothing", ngx_worker, gmcf->metrics_slots);
    }
}

/* ---- the answers ---- */

/* Send status with body (len bytes, in r's pool or static) as type. */
static ngx_int_t
ngx_http_gatehouse_plain(ngx_http_request_t *r, ngx_uint_t status, ngx_str_t *type,
    u_char *body, size_t len)
{
    ngx_buf_t   *b;
    ngx_chain_t  out;
    ngx_int_t    rc;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = (off_t) len;
    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }
    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    out.buf = b;
    out.next = NULL;
    return ngx_http_output_filter(r, &out);
}

/* GET and HEAD only, without a body. NGX_OK to go on, else the answer. */
static ngx_int_t
ngx_http_gatehouse_status_request(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    rc = ngx_http_discard_request_body(r);
    return rc != NGX_OK ? rc : NGX_OK;
}

static ngx_int_t
ngx_http_gatehouse_metrics_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);
    const char                     *names[GH_METRICS_DIALECTS];
    gh_metrics_scrape               scrape;
    size_t                          bound, used;
    u_char                         *text;
    ngx_int_t                       rc;

    rc = ngx_http_gatehouse_status_request(r);
    if (rc != NGX_OK) {
        return rc;
    }
    if (gmcf->metrics == NULL || gmcf->shared == NULL) {
        return NGX_HTTP_NOT_FOUND;      /* gatehouse is not configured here */
    }
    scrape.ndialects = 0;
    while (gh_dialects[scrape.ndialects] != NULL && scrape.ndialects < GH_METRICS_NO_DIALECT) {
        names[scrape.ndialects] = gh_dialects[scrape.ndialects]->name;
        scrape.ndialects++;
    }
    scrape.dialects = names;
    scrape.sessions = (int64_t) gh_shared_session_count(gmcf->shared);
    bound = gh_metrics_render_bound(&scrape);
    text = ngx_pnalloc(r->pool, bound);
    if (text == NULL || !gh_metrics_render(gmcf->metrics, &scrape, (char *) text, bound, &used)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return ngx_http_gatehouse_plain(r, NGX_HTTP_OK, &ngx_http_gatehouse_metrics_type, text,
                                    used);
}

static ngx_int_t
ngx_http_gatehouse_health_handler(ngx_http_request_t *r)
{
    static u_char  ok[] = "ok\n";
    ngx_int_t      rc;

    rc = ngx_http_gatehouse_status_request(r);
    if (rc != NGX_OK) {
        return rc;
    }
    return ngx_http_gatehouse_plain(r, NGX_HTTP_OK, &ngx_http_gatehouse_text_type, ok,
                                    sizeof(ok) - 1);
}

/* In gatehouse_io: does the store answer? */
static void
ngx_http_gatehouse_ready_run(void *data, ngx_log_t *log)
{
    ngx_http_gatehouse_ready_t *t = data;
    gh_service                 *svc;
    int64_t                     seq;

    (void) log;
    svc = ngx_http_gatehouse_thread_service(t->gmcf);
    t->ready = svc != NULL && gh_store_change_last(svc->store, &seq) == GH_STORE_OK;
}

static void
ngx_http_gatehouse_ready_done(ngx_event_t *ev)
{
    static u_char               ready[] = "ready\n";
    static u_char               down[] = "the store does not answer\n";
    ngx_http_gatehouse_ready_t *t = ev->data;
    ngx_http_request_t         *r = t->r;
    ngx_connection_t           *c = r->connection;

    ngx_http_set_log_request(c->log, r);
    r->main->blocked--;
    r->aio = 0;
    t->gmcf->requests_waiting--;
    ngx_http_finalize_request(r, t->ready
        ? ngx_http_gatehouse_plain(r, NGX_HTTP_OK, &ngx_http_gatehouse_text_type, ready,
                                   sizeof(ready) - 1)
        : ngx_http_gatehouse_plain(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   &ngx_http_gatehouse_text_type, down, sizeof(down) - 1));
    ngx_http_run_posted_requests(c);
}

static ngx_int_t
ngx_http_gatehouse_ready_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);
    ngx_http_gatehouse_ready_t     *t;
    ngx_thread_task_t              *task;
    ngx_int_t                       rc;

    rc = ngx_http_gatehouse_status_request(r);
    if (rc != NGX_OK) {
        return rc;
    }
    if (gmcf->shared == NULL || gmcf->io_pool == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }
    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_gatehouse_ready_t));
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    t = task->ctx;
    t->r = r;
    t->gmcf = gmcf;
    t->ready = 0;
    task->handler = ngx_http_gatehouse_ready_run;
    task->event.data = t;
    task->event.handler = ngx_http_gatehouse_ready_done;
    if (ngx_thread_task_post(gmcf->io_pool, task) != NGX_OK) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    r->main->blocked++;
    r->aio = 1;
    r->main->count++;
    ngx_http_gatehouse_hold(gmcf);
    return NGX_DONE;
}

/* ---- the directives ---- */

static char *
ngx_http_gatehouse_status_conf(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = handler;
    return NGX_CONF_OK;
}

char *
ngx_http_gatehouse_metrics_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;
    return ngx_http_gatehouse_status_conf(cf, ngx_http_gatehouse_metrics_handler);
}

char *
ngx_http_gatehouse_health_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;
    return ngx_http_gatehouse_status_conf(cf, ngx_http_gatehouse_health_handler);
}

char *
ngx_http_gatehouse_ready_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;
    return ngx_http_gatehouse_status_conf(cf, ngx_http_gatehouse_ready_handler);
}
