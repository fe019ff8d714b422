/*
 * ngx_http_gatehouse_proxy.c: gateway mode, a `gatehouse on;` location that
 * also has an upstream (proxy_pass, ...). merge_loc_conf keeps the
 * location's own content handler and puts the gateway handler here in its
 * place; a location without one gets the plain content handler and nothing
 * of this file runs for it.
 *
 * A request the access phase authenticated as always is then, when its
 * dialect has a forward hook and classify did not mark it local: judged by
 * forward (on the event loop or in a thread pool, as plan.work says), and
 * either answered with the dialect's refusal (its body discarded) or passed
 * to the saved upstream handler, which streams the body itself, once the
 * headers the upstream must not see are gone and the identity headers are
 * in (ngx_http_gatehouse_identity.c). A forwarded WebSocket upgrade or event
 * stream is watched for as long as it lasts (ngx_http_gatehouse_stream.c).
 * forward's response headers are added to the upstream's answer by the
 * header filter here, and nothing else of it.
 *
 * A local route with plan.upstream_first fetches the same method and URI
 * from the upstream first, in an in-memory subrequest through the same
 * handler (credentials stripped), and is served with its answer in
 * req.upstream_status and req.upstream_body.
 */
#include "ngx_http_gatehouse.h"

#include "dialects/common/gateway.h"

static ngx_http_output_header_filter_pt  ngx_http_gatehouse_next_header_filter;

/* forward's response headers, for the header filter: copied into r's pool. */
static ngx_int_t
ngx_http_gatehouse_keep_answer_headers(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    gh_response *resp)
{
    ngx_table_elt_t *h;
    u_char          *values;
    size_t           i;

    if (resp->nheaders == 0) {
        return NGX_OK;
    }
    ctx->answer_headers = ngx_array_create(r->pool, resp->nheaders, sizeof(ngx_table_elt_t));
    values = ngx_pnalloc(r->pool, resp->arena_used);
    if (ctx->answer_headers == NULL || values == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(values, resp->arena, resp->arena_used);
    for (i = 0; i < resp->nheaders; i++) {
        h = ngx_array_push(ctx->answer_headers);
        ngx_memzero(h, sizeof(*h));
        h->hash = 1;
        h->key.data = (u_char *) resp->headers[i].name;
        h->key.len = ngx_strlen(resp->headers[i].name);
        h->value.data = values + resp->headers[i].value_off;
        h->value.len = resp->headers[i].value_len;
    }
    return NGX_OK;
}

/* The upstream handler, for a GET's or HEAD's body dropped rather than
 * passed on. Such a body has no meaning (RFC 9110 9.3.1), the bundled tree
 * drops it too (ngx_http_gatehouse_discard_body: what has arrived is read,
 * and when a declared body has not all come the answer closes the
 * connection), and the proxy would wait for it: libgovirt repeats a GET
 * after a 401 declaring a 17-byte body it never sends, which held the
 * request until client_body_timeout and then broke the connection. The
 * proxy reads the length to send on while the handler runs (create_request
 * runs in it): told there is no body, it reads none and sends no
 * Content-Length; the length is given back for nginx's discarding. */
static ngx_int_t
ngx_http_gatehouse_pass_without_body(ngx_http_request_t *r,
    ngx_http_gatehouse_loc_conf_t *glcf)
{
    off_t       length;
    unsigned    chunked;
    ngx_int_t   rc;

    rc = ngx_http_gatehouse_discard_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    length = r->headers_in.content_length_n;
    chunked = r->headers_in.chunked;
    r->headers_in.content_length_n = -1;
    r->headers_in.chunked = 0;
    rc = glcf->upstream_handler(r);
    r->headers_in.content_length_n = length;
    r->headers_in.chunked = chunked;
    return rc;
}

/* forward's verdict: its refusal, or the request passed on. */
static ngx_int_t
ngx_http_gatehouse_forward_pass(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    gh_response *resp)
{
    ngx_http_gatehouse_loc_conf_t *glcf = ngx_http_gatehouse_loc_conf(r);
    const gh_principal            *who;
    unsigned                       privileges;

    if (!ctx->allowed) {
        if (ngx_http_gatehouse_discard_body(r) != NGX_OK) {
            r->keepalive = 0;
        }
        return ngx_http_gatehouse_send(r, resp);
    }
    who = ngx_http_gatehouse_identity_of(ctx, &privileges);
    if (ngx_http_gatehouse_keep_answer_headers(r, ctx, resp) != NGX_OK
        || ngx_http_gatehouse_identity(r, ctx->dialect, who, privileges) != NGX_OK)
    {
        return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                       NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
    /* A long-lived request stays authorised for its life; by the session or
     * Basic credential the adapter checked (an API token is not watched). */
    if (ctx->watch && who == &ctx->who
        && ngx_http_gatehouse_stream_watch(r, ctx) != NGX_OK)
    {
        return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                       NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
    if ((r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))
        && (r->headers_in.content_length_n > 0 || r->headers_in.chunked))
    {
        return ngx_http_gatehouse_pass_without_body(r, glcf);
    }
    return glcf->upstream_handler(r);
}

/* Back from the thread pool with forward's verdict. */
static void
ngx_http_gatehouse_forward_resume(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_int_t  rc;

    rc = ngx_http_gatehouse_forward_pass(r, ctx, ctx->resp);
    gh_response_free(ctx->resp);
    ngx_http_finalize_request(r, rc);
}

static ngx_int_t
ngx_http_gatehouse_forward(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);
    gh_response                     resp;
    ngx_int_t                       rc;

    ctx->gw.set = false;
    ctx->req.gateway_who = &ctx->gw;
    if (ctx->plan.work == GH_WORK_INLINE) {
        gh_response_init(&resp);
        gmcf->inline_service.dialect = gh_dialect_index(ctx->dialect);
        ctx->allowed = ctx->dialect->forward(&gmcf->inline_service, &ctx->req, &ctx->plan,
                                                ctx->has_who ? &ctx->who : NULL, &resp);
        rc = ngx_http_gatehouse_forward_pass(r, ctx, &resp);
        gh_response_free(&resp);
        return rc;
    }
    ctx->resume = ngx_http_gatehouse_forward_resume;
    if (ngx_http_gatehouse_post(r, ctx, GH_JOB_FORWARD) != NGX_OK) {
        return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                       NGX_HTTP_SERVICE_UNAVAILABLE);
    }
    r->main->count++;
    return NGX_DONE;
}

/* ---- plan.upstream_first ---- */

static ngx_int_t
ngx_http_gatehouse_first_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_gatehouse_ctx_t *ctx = data;
    ngx_buf_t                *b = sr->out != NULL ? sr->out->buf : NULL;

    ngx_http_gatehouse_tally_upstream(sr, ctx->dialect);
    ctx->req.upstream_status = 0;
    if (rc == NGX_OK && sr->upstream != NULL && sr->headers_out.status > 0) {
        ctx->req.upstream_status = (int) sr->headers_out.status;
        if (b != NULL && b->last > b->pos) {
            ctx->req.upstream_body = (gh_str) { (const char *) b->pos,
                                                (size_t) (b->last - b->pos) };
        }
    }
    /* The upstream's failure is the local route's to answer, not nginx's. */
    return rc == NGX_ERROR ? rc : NGX_OK;
}

/* The subrequest is done: serve the local route as always. */
static void
ngx_http_gatehouse_first_resume(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_request_empty_handler;
    ngx_http_finalize_request(r, ngx_http_gatehouse_content_handler(r));
}

static ngx_int_t
ngx_http_gatehouse_upstream_first(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_post_subrequest_t *ps;
    ngx_http_request_t         *sr;
    const gh_principal         *who;
    unsigned                    privileges;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return ngx_http_gatehouse_content_handler(r);
    }
    ps->handler = ngx_http_gatehouse_first_done;
    ps->data = ctx;
    if (ngx_http_subrequest(r, &r->uri, &r->args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY | NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return ngx_http_gatehouse_content_handler(r);
    }
    ngx_http_gatehouse_set_ctx(sr, NGX_HTTP_GATEHOUSE_SUBREQUEST);
    sr->method = r->method;
    sr->method_name = r->method_name;
    sr->header_only = r->header_only;
    /* Its own error is ours to judge (first_done), not an error page's. */
    sr->error_page = 1;
    who = ngx_http_gatehouse_identity_of(ctx, &privileges);
    if (ngx_http_gatehouse_identity(sr, ctx->dialect, who, privileges) != NGX_OK) {
        return NGX_ERROR;
    }
    /* The subrequest's reference goes when it is done, before the resume;
     * this one is the content phase's NGX_DONE's to drop, as the thread
     * pool's is. */
    r->write_event_handler = ngx_http_gatehouse_first_resume;
    r->main->count++;
    return NGX_DONE;
}

/* ---- the handler and the filter ---- */

ngx_int_t
ngx_http_gatehouse_gateway_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_loc_conf_t *glcf = ngx_http_gatehouse_loc_conf(r);
    ngx_http_gatehouse_ctx_t      *ctx = ngx_http_gatehouse_get_ctx(r);

    if (ctx == NGX_HTTP_GATEHOUSE_SUBREQUEST) {
        return glcf->upstream_handler(r);
    }
    if (ctx == NULL || ctx->dialect == NULL || ctx->dialect->forward == NULL) {
        return ngx_http_gatehouse_content_handler(r);
    }
    if (!ctx->plan.local) {
        return ngx_http_gatehouse_forward(r, ctx);
    }
    if (ctx->plan.upstream_first && r == r->main) {
        return ngx_http_gatehouse_upstream_first(r, ctx);
    }
    return ngx_http_gatehouse_content_handler(r);
}

static ngx_int_t
ngx_http_gatehouse_header_filter(ngx_http_request_t *r)
{
    ngx_http_gatehouse_ctx_t *ctx = ngx_http_gatehouse_get_ctx(r);
    ngx_table_elt_t          *h, *from;
    ngx_uint_t                i;

    if (r != r->main || ctx == NULL || ctx->answer_headers == NULL) {
        return ngx_http_gatehouse_next_header_filter(r);
    }
    from = ctx->answer_headers->elts;
    for (i = 0; i < ctx->answer_headers->nelts; i++) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }
        *h = from[i];
    }
    ctx->answer_headers = NULL;
    return ngx_http_gatehouse_next_header_filter(r);
}

ngx_int_t
ngx_http_gatehouse_proxy_init(ngx_conf_t *cf)
{
    (void) cf;
    ngx_http_gatehouse_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_gatehouse_header_filter;
    return NGX_OK;
}
