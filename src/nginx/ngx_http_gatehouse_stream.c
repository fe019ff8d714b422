/*
 * ngx_http_gatehouse_stream.c: event streams (a Redfish SSE stream): a
 * response the dialect opened (gh_response.stream) that stays open, fed
 * with the dialect's text for the shared block's session events and a
 * keep-alive whenever it has been quiet, until the credential it was opened
 * with ends.
 *
 * One timer per worker walks the worker's open streams every
 * GH_STREAM_TICK_MS while there are any: it reads the events that are new
 * in the shared block once for all of them, writes each stream what its
 * dialect makes of them, then checks the stream's credential. A session's
 * stream ends when the session has left the block or its time is up (a
 * logout on any worker, a revocation the sync timer applied within 50 ms,
 * expiry, its account locked, disabled or deleted, given another role or
 * told to change its password); a Basic stream ends when
 * the credential cache no longer holds its credential, which every change of
 * the account drops at once. So an ended credential ends its stream within
 * about 100 ms, the product's promise for revocations. Each stream is also
 * listed in the shared block's table of streams, so that any worker can show
 * it (Redfish: as an EventDestination) and ask for it to close; the tick
 * ends a stream so asked.
 *
 * The request is the stream's owner: the stream lives in its pool, a pool
 * cleanup takes it off the worker's list however the request ends (the
 * client went away, an error, a timeout), and ending a stream takes it off
 * first, then finishes the response (the chunked encoding's last chunk).
 * Output goes through a few fixed buffers recycled once sent
 * (ngx_chain_update_chains), so a stream's memory does not grow with its
 * age; a client that stops reading is dropped after send_timeout, or once
 * GH_STREAM_BACKLOG bytes wait for it. The number of streams per worker is
 * capped (max_streams); one more gets the dialect's 503.
 *
 * Gateway mode: a request passed on to the upstream that lasts (a WebSocket
 * upgrade, an event stream) is on the same list, marked forwarded: the tick
 * checks its credential alike and, once it has ended, ends the request,
 * which closes the upstream's connection too (the upstream module's
 * cleanup). Nothing is written to it, it is neither capped nor listed.
 */
#include "ngx_http_gatehouse.h"

#include <stdlib.h>

#define GH_STREAM_TICK_MS  25
#define GH_STREAM_BUF      4096       /* bytes of one output buffer */
#define GH_STREAM_BACKLOG  65536      /* bytes unsent before a client is dropped */
#define GH_STREAM_EVENTS   64         /* events read from the block at a time */

struct ngx_http_gatehouse_stream_s {
    ngx_queue_t                     queue;
    ngx_http_request_t             *r;
    ngx_http_gatehouse_main_conf_t *gmcf;
    const gh_dialect               *dialect;
    gh_principal                    who;
    uint8_t                         key[GH_DIGEST_LEN];  /* Basic: the credential's cache key */
    unsigned                        basic:1;
    unsigned                        linked:1;
    unsigned                        forwarded:1;  /* the upstream's: watched, not written */
    uint64_t                        after;        /* the last event it has seen */
    uint64_t                        id;           /* in the shared block's stream table */
    const char                     *keepalive;
    ngx_msec_t                      last_write;
    ngx_chain_t                    *free;
    ngx_chain_t                    *busy;
};

/* The tag of the buffers a stream writes, so nginx hands back only its own
 * for reuse: any address of this file's will do. */
static const char ngx_http_gatehouse_stream_tag;
#define GH_STREAM_TAG ((ngx_buf_tag_t) &ngx_http_gatehouse_stream_tag)

static void
ngx_http_gatehouse_stream_unlink(ngx_http_gatehouse_stream_t *st)
{
    if (st->linked) {
        ngx_queue_remove(&st->queue);
        st->linked = 0;
        if (!st->forwarded) {
            st->gmcf->nstreams--;
            gh_shared_stream_remove(st->gmcf->shared, st->id);
        }
    }
}

/* The request's pool is going: so is the stream. */
static void
ngx_http_gatehouse_stream_cleanup(void *data)
{
    ngx_http_gatehouse_stream_t *st = data;

    ngx_http_gatehouse_stream_unlink(st);
    gh_wipe(st->key, sizeof(st->key));
}

/* Send what is pending; a client that reads too slowly gets send_timeout. */
static ngx_int_t
ngx_http_gatehouse_stream_flush(ngx_http_gatehouse_stream_t *st, ngx_chain_t *out)
{
    ngx_http_request_t       *r = st->r;
    ngx_connection_t         *c = r->connection;
    ngx_http_core_loc_conf_t *clcf;
    ngx_chain_t              *cl;
    ngx_int_t                 rc;
    size_t                    waiting = 0;

    rc = ngx_http_output_filter(r, out);
    ngx_chain_update_chains(r->pool, &st->free, &st->busy, &out, GH_STREAM_TAG);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }
    for (cl = st->busy; cl != NULL; cl = cl->next) {
        waiting += ngx_buf_size(cl->buf);
    }
    if (waiting > GH_STREAM_BACKLOG) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "gatehouse: event stream client reads too slowly, dropped");
        return NGX_ERROR;
    }
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    if (r->buffered || c->buffered) {
        if (!c->write->delayed && !c->write->timer_set) {
            ngx_add_timer(c->write, clcf->send_timeout);
        }
        return ngx_handle_write_event(c->write, clcf->send_lowat);
    }
    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }
    return NGX_OK;
}

/* Write text on the stream, through recycled buffers. */
static ngx_int_t
ngx_http_gatehouse_stream_write(ngx_http_gatehouse_stream_t *st, const char *text, size_t len)
{
    ngx_http_request_t *r = st->r;
    ngx_chain_t        *out = NULL, **ll = &out, *cl;
    ngx_buf_t          *b;
    size_t              n;

    while (len > 0) {
        cl = ngx_chain_get_free_buf(r->pool, &st->free);
        if (cl == NULL) {
            return NGX_ERROR;
        }
        b = cl->buf;
        if (b->start == NULL) {
            b->start = ngx_palloc(r->pool, GH_STREAM_BUF);
            if (b->start == NULL) {
                return NGX_ERROR;
            }
            b->end = b->start + GH_STREAM_BUF;
            b->pos = b->last = b->start;
            b->temporary = 1;
            b->tag = GH_STREAM_TAG;
        }
        n = ngx_min(len, (size_t) (b->end - b->last));
        b->last = ngx_cpymem(b->last, text, n);
        b->flush = 1;
        text += n;
        len -= n;
        *ll = cl;
        ll = &cl->next;
    }
    *ll = NULL;
    st->last_write = ngx_current_msec;
    return ngx_http_gatehouse_stream_flush(st, out);
}

/* Take the stream off the list and finish its response: rc NGX_OK ends it
 * as a response ends, NGX_ERROR drops the connection. */
static void
ngx_http_gatehouse_stream_end(ngx_http_gatehouse_stream_t *st, ngx_int_t rc)
{
    ngx_http_request_t *r = st->r;
    ngx_connection_t   *c = r->connection;

    ngx_http_gatehouse_stream_unlink(st);
    gh_wipe(st->key, sizeof(st->key));
    if (st->forwarded) {
        /* Terminated as a client gone would be: the upstream module's
         * cleanup closes its connection and finalizes the request once more
         * (NGX_DONE), which must not free it under the termination: this
         * reference is the terminate handler's to drop. */
        r->main->count++;
        rc = NGX_ERROR;
    } else if (rc == NGX_OK) {
        rc = ngx_http_send_special(r, NGX_HTTP_LAST);
    }
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

static void
ngx_http_gatehouse_stream_write_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_ctx_t    *ctx = ngx_http_gatehouse_get_ctx(r);
    ngx_http_gatehouse_stream_t *st = ctx->stream;
    ngx_event_t                 *wev = r->connection->write;

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                      "gatehouse: event stream client timed out");
        r->connection->timedout = 1;
        ngx_http_gatehouse_stream_unlink(st);
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }
    if (wev->delayed || r->aio) {
        return;
    }
    if (ngx_http_gatehouse_stream_flush(st, NULL) != NGX_OK) {
        ngx_http_gatehouse_stream_unlink(st);
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}

/* Is the credential the stream was opened with still good at now? */
static ngx_uint_t
ngx_http_gatehouse_stream_live(ngx_http_gatehouse_stream_t *st, int64_t now)
{
    ngx_http_gatehouse_main_conf_t *gmcf = st->gmcf;
    gh_session_record               rec;
    gh_principal                    who;

    /* Someone deleted it (Redfish: its EventDestination). */
    if (!st->forwarded && !gh_shared_stream_wanted(gmcf->shared, st->id)) {
        return 0;
    }
    /* A session's account given another role, or told to change its
     * password, ends the stream too: the client opens a new one and the
     * dialect judges it anew, as it would any other request. */
    if (st->who.session_id[0] != '\0') {
        return gh_shared_session_who(gmcf->shared, st->who.session_id, &who, &rec)
               == GH_SHARED_OK
               && who.role == st->who.role
               && who.password_change_required == st->who.password_change_required
               && !gh_store_session_ended(&rec, now,
                                          gh_service_setting(&gmcf->inline_service,
                                                             GH_SET_SESSION_TIMEOUT));
    }
    return st->basic
           && gh_shared_cred_get(gmcf->shared, st->key, now, &who)
           && who.account_id == st->who.account_id;
}

/* Write the stream the events it has not seen; NGX_ERROR if writing failed. */
static ngx_int_t
ngx_http_gatehouse_stream_feed(ngx_http_gatehouse_stream_t *st, const gh_shared_event *ev,
    size_t n)
{
    ngx_int_t  rc = NGX_OK;
    size_t     i, len;
    char      *text;

    for (i = 0; i < n && rc == NGX_OK; i++) {
        if (ev[i].seq <= st->after) {
            continue;
        }
        st->after = ev[i].seq;
        text = st->dialect->stream_event(&st->who, &ev[i], &len);
        if (text != NULL) {
            rc = ngx_http_gatehouse_stream_write(st, text, len);
            free(text);
        }
    }
    return rc;
}

/* Each open stream: the new events, then the credential, then a keep-alive. */
static void
ngx_http_gatehouse_stream_visit(ngx_http_gatehouse_stream_t *st, const gh_shared_event *ev,
    size_t n, int64_t now, ngx_msec_t keepalive)
{
    /* A request passed on belongs to the upstream module: ended, the
     * upstream's connection with it, never written to. */
    if (st->forwarded) {
        if (ngx_exiting || ngx_quit || ngx_terminate || !ngx_http_gatehouse_stream_live(st, now)) {
            ngx_http_gatehouse_stream_end(st, NGX_ERROR);
        }
        return;
    }
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_gatehouse_stream_end(st, NGX_OK);
        return;
    }
    if (ngx_http_gatehouse_stream_feed(st, ev, n) != NGX_OK) {
        ngx_http_gatehouse_stream_end(st, NGX_ERROR);
        return;
    }
    if (!ngx_http_gatehouse_stream_live(st, now)) {
        ngx_http_gatehouse_stream_end(st, NGX_OK);
        return;
    }
    if (ngx_current_msec - st->last_write >= keepalive
        && ngx_http_gatehouse_stream_write(st, st->keepalive, ngx_strlen(st->keepalive))
           != NGX_OK)
    {
        ngx_http_gatehouse_stream_end(st, NGX_ERROR);
    }
}

static void
ngx_http_gatehouse_stream_tick(ngx_event_t *ev)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ev->data;
    ngx_http_gatehouse_stream_t    *st;
    ngx_queue_t                    *q, *next;
    gh_shared_event                 events[GH_STREAM_EVENTS];
    uint64_t                        lost;
    ngx_msec_t                      keepalive;
    int64_t                         now = gh_now();
    size_t                          n;

    keepalive = (ngx_msec_t) gmcf->config.keepalive_seconds * 1000;
    do {
        n = gh_shared_events_read(gmcf->shared, &gmcf->events_after, events,
                                  GH_STREAM_EVENTS, &lost);
        if (lost > 0) {
            ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                          "gatehouse: event streams missed %uL session events", lost);
        }
        /* Streams may end while walked: each one's next is taken first. */
        for (q = ngx_queue_head(&gmcf->streams); q != ngx_queue_sentinel(&gmcf->streams);
             q = next)
        {
            next = ngx_queue_next(q);
            st = ngx_queue_data(q, ngx_http_gatehouse_stream_t, queue);
            ngx_http_gatehouse_stream_visit(st, events, n, now, keepalive);
        }
    } while (n == GH_STREAM_EVENTS && !ngx_queue_empty(&gmcf->streams));

    if (!ngx_queue_empty(&gmcf->streams)) {
        ngx_add_timer(ev, GH_STREAM_TICK_MS);
    }
}

void
ngx_http_gatehouse_stream_init(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_queue_init(&gmcf->streams);
    gmcf->stream_event.handler = ngx_http_gatehouse_stream_tick;
    gmcf->stream_event.data = gmcf;
    gmcf->stream_event.log = cycle->log;
    /* Not cancelable: a worker shutting down waits for the tick that ends its
     * streams as responses end, rather than cut them off. */
    gmcf->stream_event.cancelable = 0;
}

ngx_int_t
ngx_http_gatehouse_stream_open(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    gh_response *resp)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_http_gatehouse_stream_t    *st;
    ngx_pool_cleanup_t             *cln;
    ngx_int_t                       rc;

    gmcf = ngx_http_gatehouse_main_conf(r);
    st = ngx_pcalloc(r->pool, sizeof(ngx_http_gatehouse_stream_t));
    if (st != NULL && ctx->who.session_id[0] == '\0' && ctx->has_key) {
        ngx_memcpy(st->key, ctx->stream_key, sizeof(st->key));
        st->basic = 1;
    }
    gh_wipe(ctx->stream_key, sizeof(ctx->stream_key));
    if (st == NULL) {
        return NGX_ERROR;
    }
    /* Over the cap, or nothing to watch the stream's credential by. */
    if (!ctx->has_who || ctx->dialect->stream_event == NULL || resp->stream_keepalive == NULL
        || gmcf->nstreams >= (ngx_uint_t) gmcf->config.max_streams
        || (ctx->who.session_id[0] == '\0' && !st->basic))
    {
        gh_wipe(st->key, sizeof(st->key));
        return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                       NGX_HTTP_SERVICE_UNAVAILABLE);
    }
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        gh_wipe(st->key, sizeof(st->key));
        return NGX_ERROR;
    }
    st->r = r;
    st->gmcf = gmcf;
    st->dialect = ctx->dialect;
    st->who = ctx->who;
    /* Events from now on: those of the block before it are not this stream's. */
    st->after = gh_shared_event_last(gmcf->shared);
    st->keepalive = resp->stream_keepalive;
    st->last_write = ngx_current_msec;
    cln->handler = ngx_http_gatehouse_stream_cleanup;
    cln->data = st;
    ctx->stream = st;

    /* Listed for every worker before the client hears of it: the table
     * being full is one more reason for the 503. */
    if (!gh_shared_stream_add(gmcf->shared, ctx->who.account_id, ctx->dialect->name,
                              (int32_t) ngx_pid, gh_now(), &st->id))
    {
        return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                       NGX_HTTP_SERVICE_UNAVAILABLE);
    }
    rc = ngx_http_gatehouse_send(r, resp);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        gh_shared_stream_remove(gmcf->shared, st->id);
        return rc;
    }
    /* The worker's position in the event ring is where its first stream starts. */
    if (ngx_queue_empty(&gmcf->streams)) {
        gmcf->events_after = st->after;
    }
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_gatehouse_stream_write_handler;
    ngx_queue_insert_tail(&gmcf->streams, &st->queue);
    st->linked = 1;
    gmcf->nstreams++;
    if (!gmcf->stream_event.timer_set) {
        ngx_add_timer(&gmcf->stream_event, GH_STREAM_TICK_MS);
    }
    if (ngx_http_gatehouse_stream_flush(st, NULL) != NGX_OK) {
        ngx_http_gatehouse_stream_unlink(st);
        return NGX_ERROR;
    }
    return NGX_DONE;
}

ngx_int_t
ngx_http_gatehouse_stream_watch(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);
    ngx_http_gatehouse_stream_t    *st;
    ngx_pool_cleanup_t             *cln;
    ngx_int_t                       rc = NGX_ERROR;

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_gatehouse_stream_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (st == NULL || cln == NULL) {
        goto done;
    }
    if (ctx->who.session_id[0] == '\0') {
        if (!ctx->has_key) {
            goto done;      /* nothing to watch it by: refused, not let through unwatched */
        }
        ngx_memcpy(st->key, ctx->stream_key, sizeof(st->key));
        st->basic = 1;
    }
    st->r = r;
    st->gmcf = gmcf;
    st->dialect = ctx->dialect;
    st->who = ctx->who;
    st->forwarded = 1;
    cln->handler = ngx_http_gatehouse_stream_cleanup;
    cln->data = st;
    if (ngx_queue_empty(&gmcf->streams)) {
        gmcf->events_after = gh_shared_event_last(gmcf->shared);
    }
    ngx_queue_insert_tail(&gmcf->streams, &st->queue);
    st->linked = 1;
    if (!gmcf->stream_event.timer_set) {
        ngx_add_timer(&gmcf->stream_event, GH_STREAM_TICK_MS);
    }
    rc = NGX_OK;
done:
    gh_wipe(ctx->stream_key, sizeof(ctx->stream_key));
    return rc;
}
