/*
 * ngx_http_gatehouse_handler.c: the request path in nginx. The access handler
 * finds the dialect, asks it what the request carries, and checks it: a
 * session token against the shared block, Basic credentials against the
 * credential cache, else in the hash thread pool (the request waits, the
 * event loop does not). The content handler reads the body when the route
 * wants it and runs the dialect's serve, on the event loop when it touches
 * memory only, else in a thread pool. Refusals are the dialect's own.
 */
#include "ngx_http_gatehouse.h"

static gh_str
ngx_http_gatehouse_header(const gh_request *req, const char *name)
{
    ngx_http_request_t *r = req->adapter;
    ngx_list_part_t    *part = &r->headers_in.headers.part;
    ngx_table_elt_t    *h = part->elts;
    size_t              len = ngx_strlen(name);
    ngx_uint_t          i;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return (gh_str) { (const char *) h[i].value.data, h[i].value.len };
        }
    }
    return (gh_str) { NULL, 0 };
}

void
ngx_http_gatehouse_fill_request(ngx_http_request_t *r, gh_request *req)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_str_t                      *addr = &r->connection->addr_text;
    u_char                         *q;

    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gatehouse_module);
    req->config = &gmcf->config;
    req->method_name = (gh_str) { (const char *) r->method_name.data, r->method_name.len };
    req->method = gh_method_from(req->method_name);
    /* The path as sent, up to the query: each dialect decodes it once, by
     * its own rules. nginx's r->uri is decoded already, and decoding twice
     * would let "%252F" become a '/' the dialect never saw encoded. */
    q = r->unparsed_uri.len > 0
        ? ngx_strlchr(r->unparsed_uri.data, r->unparsed_uri.data + r->unparsed_uri.len, '?')
        : NULL;
    req->path = (gh_str) { (const char *) r->unparsed_uri.data,
                           q != NULL ? (size_t) (q - r->unparsed_uri.data)
                                     : r->unparsed_uri.len };
    req->query = (gh_str) { (const char *) r->args.data, r->args.len };
    ngx_cpystrn((u_char *) req->client_addr, addr->data,
                ngx_min(addr->len + 1, sizeof(req->client_addr)));
    req->retry_after = 0;
#if (NGX_HTTP_SSL)
    req->secure = r->connection->ssl != NULL;
#endif
    req->header = ngx_http_gatehouse_header;
    req->adapter = r;
}

/* Frees a response's body handed to the request pool. */
static void
ngx_http_gatehouse_body_free(void *data)
{
    free(data);
}

ngx_int_t
ngx_http_gatehouse_send(ngx_http_request_t *r, gh_response *resp)
{
    ngx_pool_cleanup_t *cln;
    ngx_table_elt_t    *h;
    ngx_chain_t         out;
    ngx_buf_t          *b;
    ngx_int_t           rc;
    u_char             *values = NULL;
    size_t              i, n;

    r->headers_out.status = resp->status;
    /* The dialect answers conditional requests itself, after authentication. */
    r->disable_not_modified = 1;
    if (resp->reason != NULL) {
        n = ngx_strlen(resp->reason) + 5;
        r->headers_out.status_line.data = ngx_pnalloc(r->pool, n);
        if (r->headers_out.status_line.data == NULL) {
            return NGX_ERROR;
        }
        r->headers_out.status_line.len =
            ngx_snprintf(r->headers_out.status_line.data, n, "%03i %s",
                         (ngx_int_t) resp->status, resp->reason)
            - r->headers_out.status_line.data;
    }

    /* Header names are static. The values are read until the request ends
     * (a log may name them), after the response is freed: its arena moves to
     * the pool in one piece. */
    if (resp->nheaders > 0) {
        values = ngx_pnalloc(r->pool, resp->arena_used);
        if (values == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(values, resp->arena, resp->arena_used);
    }
    for (i = 0; i < resp->nheaders; i++) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }
        h->hash = 1;
        h->key.len = ngx_strlen(resp->headers[i].name);
        h->key.data = (u_char *) resp->headers[i].name;
        h->value.data = values + resp->headers[i].value_off;
        h->value.len = resp->headers[i].value_len;
    }

    if (resp->content_type != NULL) {
        r->headers_out.content_type.len = ngx_strlen(resp->content_type);
        r->headers_out.content_type.data = (u_char *) resp->content_type;
        r->headers_out.content_type_len = r->headers_out.content_type.len;
    }
    /* An event stream has no length: it ends when gatehouse ends it. */
    r->headers_out.content_length_n = resp->stream ? -1 : (off_t) resp->body_len;
    if (resp->body_len == 0 && !resp->stream) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    /* The body goes out from where it is, never copied: a borrowed one (the
     * tree's bytes) outlives every request, and an owned one becomes the
     * pool's, freed with the request, once nginx has sent it. The response
     * itself may be freed as soon as this returns. */
    if (resp->body_owned != NULL) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }
        cln->handler = ngx_http_gatehouse_body_free;
        cln->data = gh_response_release_body(resp);
    }
    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }
    b->pos = (u_char *) resp->body;
    b->last = b->pos + resp->body_len;
    b->memory = 1;
    b->last_buf = (r == r->main && !resp->stream) ? 1 : 0;
    b->last_in_chain = 1;
    b->flush = resp->stream;
    out.buf = b;
    out.next = NULL;
    return ngx_http_output_filter(r, &out);
}

/* Send the dialect's refusal from the access phase and end the request. */
static ngx_int_t
ngx_http_gatehouse_refuse(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    gh_refusal why)
{
    gh_response resp;
    ngx_int_t   rc;

    gh_credential_wipe(&ctx->plan.cred);
    gh_wipe(ctx->stream_key, sizeof(ctx->stream_key));
    gh_response_init(&resp);
    ctx->dialect->refuse(&ctx->req, why, &resp);
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
    rc = ngx_http_gatehouse_send(r, &resp);
    gh_response_free(&resp);
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}

static gh_refusal
ngx_http_gatehouse_refusal(gh_auth_result auth)
{
    switch (auth) {
    case GH_AUTH_LOCKED:
        return GH_REFUSE_LOCKED;
    case GH_AUTH_UNAVAILABLE:
        return GH_REFUSE_UNAVAILABLE;
    case GH_AUTH_THROTTLED:
        return GH_REFUSE_THROTTLED;
    default:
        return GH_REFUSE_BAD_CREDENTIALS;
    }
}

/* The verdict on a token, once the session store has answered. */
static ngx_int_t
ngx_http_gatehouse_token_verdict(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    /* A session belongs to the dialect that made it. */
    if (ctx->found != GH_SHARED_OK || ngx_strcmp(ctx->who.dialect, ctx->dialect->name) != 0) {
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_NO_CREDENTIALS);
    }
    ctx->has_who = 1;
    ctx->state = GH_STATE_AUTHENTICATED;
    return NGX_OK;
}

static void
ngx_http_gatehouse_token_found(void *arg, gh_shared_result result, const gh_principal *who,
    const gh_session_record *rec)
{
    ngx_http_request_t             *r = arg;
    ngx_http_gatehouse_ctx_t       *ctx = ngx_http_get_module_ctx(r, ngx_http_gatehouse_module);
    ngx_http_gatehouse_main_conf_t *gmcf;

    ctx->found = result;
    ctx->answered = 1;
    if (result == GH_SHARED_OK) {
        ctx->who = *who;
    } else if (result == GH_SHARED_EXPIRED) {
        gmcf = ngx_http_get_module_main_conf(r, ngx_http_gatehouse_module);
        gh_audit_write(gmcf->inline_service.audit, GH_AUDIT_EXPIRED, rec->user,
                       rec->client_addr, NULL, rec->id, NULL);
    }
    if (ctx->in_lookup) {
        return;                 /* answered at once: the caller goes on */
    }

    /* Answered later: the request waited, blocked; resume its phases. */
    r->main->blocked--;
    ctx->state = GH_STATE_LOOKED_UP;
    r->write_event_handler(r);
    ngx_http_run_posted_requests(r->connection);
}

static ngx_int_t
ngx_http_gatehouse_check_token(ngx_http_request_t *r, ngx_http_gatehouse_main_conf_t *gmcf,
    ngx_http_gatehouse_ctx_t *ctx)
{
    uint8_t  digest[GH_DIGEST_LEN];

    gh_token_digest(ctx->plan.cred.token.data, ctx->plan.cred.token.len, digest);
    ctx->answered = 0;
    ctx->in_lookup = 1;
    gh_session_find(gmcf->inline_service.sessions, digest, gh_now(),
                    ngx_http_gatehouse_token_found, r);
    ctx->in_lookup = 0;
    if (!ctx->answered) {
        /* The store answers later (a network store): wait without blocking. */
        ctx->state = GH_STATE_WAITING;
        r->main->blocked++;
        return NGX_AGAIN;
    }
    return ngx_http_gatehouse_token_verdict(r, ctx);
}

static ngx_int_t
ngx_http_gatehouse_check_basic(ngx_http_request_t *r, ngx_http_gatehouse_main_conf_t *gmcf,
    ngx_http_gatehouse_ctx_t *ctx)
{
    gh_credential *cred = &ctx->plan.cred;
    uint8_t        key[GH_DIGEST_LEN];
    bool           hit;

    gh_token_credential_key(gmcf->inline_service.secret, cred->user, ngx_strlen(cred->user),
                            cred->password, cred->password_len, key);
    /* An event stream checks its credential in the cache for as long as it
     * lasts (ngx_http_gatehouse_stream.c): under this key, which verifying
     * puts there too. */
    if (ctx->plan.stream) {
        ngx_memcpy(ctx->stream_key, key, sizeof(key));
        ctx->has_key = 1;
    }
    hit = gh_shared_cred_get(gmcf->shared, key, gh_now(), &ctx->who);
    gh_wipe(key, sizeof(key));
    if (hit) {
        gh_credential_wipe(cred);
        ctx->has_who = 1;
        ctx->state = GH_STATE_AUTHENTICATED;
        return NGX_OK;
    }
    /* A source that failed too often waits: refused here, from the shared
     * block, before a hash is queued for it. */
    ctx->req.retry_after = gh_service_throttle_wait(&gmcf->inline_service,
                                                    ctx->req.client_addr, NULL);
    if (ctx->req.retry_after > 0) {
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_THROTTLED);
    }
    if (ngx_http_gatehouse_post(r, ctx, GH_JOB_VERIFY) != NGX_OK) {
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_UNAVAILABLE);
    }
    return NGX_AGAIN;
}

ngx_int_t
ngx_http_gatehouse_access_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_http_gatehouse_loc_conf_t  *glcf;
    ngx_http_gatehouse_ctx_t       *ctx;

    /* An error page answers for a request nginx already refused: nothing to
     * authenticate. A gatehouse location reached that way has no context, so
     * its content handler serves nothing (404). */
    if (r->error_page) {
        return NGX_DECLINED;
    }
    glcf = ngx_http_get_module_loc_conf(r, ngx_http_gatehouse_module);
    if (!glcf->enable) {
        return NGX_DECLINED;
    }
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gatehouse_module);
    if (gmcf->shared == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_gatehouse_module);
    if (ctx != NULL) {
        switch (ctx->state) {
        case GH_STATE_WAITING:
            return NGX_AGAIN;
        case GH_STATE_AUTHENTICATED:
            return NGX_OK;
        case GH_STATE_LOOKED_UP:
            return ngx_http_gatehouse_token_verdict(r, ctx);
        case GH_STATE_VERIFIED:
        default:
            /* Back from the hash pool with the verdict on Basic credentials. */
            if (ctx->auth == GH_AUTH_THROTTLED) {
                ctx->req.retry_after = gh_service_throttle_wait(&gmcf->inline_service,
                                                                ctx->req.client_addr, NULL);
            }
            if (ctx->auth != GH_AUTH_OK) {
                return ngx_http_gatehouse_refuse(r, ctx,
                                                 ngx_http_gatehouse_refusal(ctx->auth));
            }
            ctx->has_who = 1;
            ctx->state = GH_STATE_AUTHENTICATED;
            return NGX_OK;
        }
    }

    ctx = ngx_palloc(r->pool, sizeof(ngx_http_gatehouse_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_memzero(ctx, offsetof(ngx_http_gatehouse_ctx_t, plan));
    ngx_http_set_ctx(r, ctx, ngx_http_gatehouse_module);
    ngx_http_gatehouse_fill_request(r, &ctx->req);

    ctx->dialect = gh_dialect_for_path(ctx->req.path);
    /* max_header_bytes, before anything reads a header (header.c). */
    if (r == r->main && ngx_http_gatehouse_header_bytes(r)
                        > (size_t) gmcf->config.max_header_bytes)
    {
        ngx_http_finalize_request(r, ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                          NGX_HTTP_GATEHOUSE_HEADER_TOO_LARGE));
        return NGX_DONE;
    }
    if (ctx->dialect == NULL) {
        ctx->state = GH_STATE_AUTHENTICATED;
        return NGX_OK;          /* the content handler answers 404 */
    }
    ctx->dialect->classify(&ctx->req, &ctx->plan);
    if (ctx->plan.open) {
        ctx->state = GH_STATE_AUTHENTICATED;
        return NGX_OK;
    }
    if (!ctx->req.secure) {
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_PLAIN_HTTP);
    }

    switch (ctx->plan.cred.kind) {
    case GH_CRED_TOKEN:
    case GH_CRED_BEARER:
        return ngx_http_gatehouse_check_token(r, gmcf, ctx);
    case GH_CRED_BASIC:
        return ngx_http_gatehouse_check_basic(r, gmcf, ctx);
    case GH_CRED_MALFORMED:
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_MALFORMED);
    default:
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_NO_CREDENTIALS);
    }
}

/* Serve now (memory only) or hand the request to a thread pool. */
static void
ngx_http_gatehouse_dispatch(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    gh_response                     resp;
    ngx_int_t                       rc;

    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gatehouse_module);
    if (ctx->plan.work == GH_WORK_INLINE) {
        gh_response_init(&resp);
        ctx->dialect->serve(&gmcf->inline_service, gmcf->tree, &ctx->req, &ctx->plan,
                            ctx->has_who ? &ctx->who : NULL, &resp);
        rc = resp.stream ? ngx_http_gatehouse_stream_open(r, ctx, &resp)
                         : ngx_http_gatehouse_send(r, &resp);
        gh_response_free(&resp);
        gh_wipe(ctx->stream_key, sizeof(ctx->stream_key));   /* the stream has its copy */
        if (rc != NGX_DONE) {
            ngx_http_finalize_request(r, rc);
        }
        return;
    }
    gh_wipe(ctx->stream_key, sizeof(ctx->stream_key));
    if (ngx_http_gatehouse_post(r, ctx, GH_JOB_SERVE) != NGX_OK) {
        ngx_http_finalize_request(r, ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                                             NGX_HTTP_SERVICE_UNAVAILABLE));
    }
}

/* The body arrived: make it one contiguous view, then serve. */
static void
ngx_http_gatehouse_body_ready(ngx_http_request_t *r)
{
    ngx_http_gatehouse_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_gatehouse_module);
    ngx_chain_t              *cl;
    size_t                    len = 0;
    u_char                   *p;

    if (r->request_body == NULL || r->request_body->temp_file != NULL) {
        ngx_http_finalize_request(r, ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                                             NGX_HTTP_REQUEST_ENTITY_TOO_LARGE));
        return;
    }
    for (cl = r->request_body->bufs; cl != NULL; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }
    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        ngx_http_finalize_request(r, ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req,
                                                             NGX_HTTP_INTERNAL_SERVER_ERROR));
        return;
    }
    ctx->req.body.data = (const char *) p;
    ctx->req.body.len = len;
    for (cl = r->request_body->bufs; cl != NULL; cl = cl->next) {
        if (cl->buf->last > cl->buf->pos) {     /* an empty body has no bytes, maybe no buffer */
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }
    *p = '\0';
    ngx_http_gatehouse_dispatch(r, ctx);
}

ngx_int_t
ngx_http_gatehouse_content_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_gatehouse_module);
    ngx_int_t                 rc;

    if (ctx == NULL || ctx->dialect == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }
    if (ctx->plan.read_body) {
        r->request_body_in_single_buf = 1;
        rc = ngx_http_read_client_request_body(r, ngx_http_gatehouse_body_ready);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            /* A body over the limit or malformed, seen at once. (One that
             * turns out so later ends in nginx's error_page.) */
            return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req, rc);
        }
        return NGX_DONE;
    }
    rc = ngx_http_discard_request_body(r);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return ngx_http_gatehouse_fail(r, ctx->dialect, &ctx->req, rc);
    }
    if (rc != NGX_OK) {
        return rc;
    }
    r->main->count++;
    ngx_http_gatehouse_dispatch(r, ctx);
    return NGX_DONE;
}
