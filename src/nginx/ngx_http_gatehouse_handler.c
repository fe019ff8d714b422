/*
 * ngx_http_gatehouse_handler.c: the request path in nginx. The access handler
 * finds the dialect, asks it what the request carries, and checks it: a
 * session token against the shared block (with a store other nodes share,
 * one the block lacks is looked up in the store in the I/O pool: thread.c's
 * ngx_http_gatehouse_defer_miss), Basic credentials against the
 * credential cache, else in the hash thread pool (the request waits, the
 * event loop does not); ngx_http_gatehouse_authenticate, which does that,
 * also checks gatehouse_auth_request's subrequests (auth_request.c). The
 * content handler reads the body when the route wants it and runs the
 * dialect's serve, on the event loop when it touches memory only, else in a
 * thread pool. Refusals are the dialect's own.
 */
#include "ngx_http_gatehouse.h"

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
    if (ngx_http_gatehouse_discard_body(r) != NGX_OK) {
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

/* A refusal for the caller of ngx_http_gatehouse_authenticate to answer. */
static ngx_int_t
ngx_http_gatehouse_refused(ngx_http_gatehouse_ctx_t *ctx, gh_refusal why)
{
    ctx->refusal = why;
    return NGX_DECLINED;
}

/* The verdict on a token, once the session store has answered. */
static ngx_int_t
ngx_http_gatehouse_token_verdict(ngx_http_gatehouse_ctx_t *ctx)
{
    /* A source guessing tokens the store does not know waits, as one
     * guessing passwords does (the lookup was not even asked for). */
    if (ctx->throttled) {
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_THROTTLED);
    }
    /* A store that cannot be asked: fail closed. */
    if (ctx->found == GH_SHARED_UNAVAILABLE) {
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_UNAVAILABLE);
    }
    /* A session belongs to the dialect that made it. */
    if (ctx->found != GH_SHARED_OK || ngx_strcmp(ctx->who.dialect, ctx->dialect->name) != 0) {
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_NO_CREDENTIALS);
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
    ngx_http_gatehouse_ctx_t       *ctx = ngx_http_gatehouse_get_ctx(r);
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_connection_t               *c;

    ctx->found = result;
    ctx->answered = 1;
    if (result == GH_SHARED_OK) {
        ctx->who = *who;
    } else if (result == GH_SHARED_EXPIRED) {
        gmcf = ngx_http_gatehouse_main_conf(r);
        gh_audit_write_for(gmcf->inline_service.audit, ngx_http_gatehouse_audit_origin(r, ctx),
                           GH_AUDIT_EXPIRED, rec->user, rec->client_addr, NULL, rec->id, NULL);
        ngx_http_gatehouse_audit_logged(r, ctx);
    }
    if (ctx->in_lookup) {
        return;                 /* answered at once: the caller goes on */
    }

    /* Answered later: the request waited, blocked; resume its phases. The
     * handler may end and free the request (a client gone meanwhile): only
     * its connection is used after it. */
    c = r->connection;
    r->main->blocked--;
    ctx->state = GH_STATE_LOOKED_UP;
    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
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
    return ngx_http_gatehouse_token_verdict(ctx);
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
    if (ctx->plan.stream || ctx->watch) {
        ngx_memcpy(ctx->stream_key, key, sizeof(key));
        ctx->has_key = 1;
    }
    hit = gh_shared_cred_get(gmcf->shared, key, gh_now(), &ctx->who);
    gh_wipe(key, sizeof(key));
    /* A domain the dialect resolved to local accounts (oVirt's
     * user@internal) takes a local account alone, never the directory user
     * (NAME@PROFILE) cached under the same plain name. */
    if (hit && gh_credential_local_only(cred) && ngx_strchr(ctx->who.user, '@') != NULL) {
        hit = 0;
    }
    gh_metrics_credcache(hit);
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
        /* A login refused unchecked, as the check itself refuses one. */
        gh_metrics_login(gh_dialect_index(ctx->dialect), GH_METRIC_LOGIN_THROTTLED);
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_THROTTLED);
    }
    if (ngx_http_gatehouse_post(r, ctx, GH_JOB_VERIFY) != NGX_OK) {
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_UNAVAILABLE);
    }
    return NGX_AGAIN;
}

/* Back from the hash pool with the verdict on Basic credentials. */
static ngx_int_t
ngx_http_gatehouse_basic_verdict(ngx_http_gatehouse_main_conf_t *gmcf,
    ngx_http_gatehouse_ctx_t *ctx)
{
    if (ctx->auth == GH_AUTH_THROTTLED) {
        ctx->req.retry_after = gh_service_throttle_wait(&gmcf->inline_service,
                                                        ctx->req.client_addr, NULL);
    }
    if (ctx->auth != GH_AUTH_OK) {
        return ngx_http_gatehouse_refused(ctx, ngx_http_gatehouse_refusal(ctx->auth));
    }
    ctx->has_who = 1;
    ctx->state = GH_STATE_AUTHENTICATED;
    return NGX_OK;
}

ngx_int_t
ngx_http_gatehouse_authenticate(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);

    switch (ctx->state) {
    case GH_STATE_WAITING:
        return NGX_AGAIN;
    case GH_STATE_AUTHENTICATED:
        return NGX_OK;
    case GH_STATE_LOOKED_UP:
        return ngx_http_gatehouse_token_verdict(ctx);
    case GH_STATE_VERIFIED:
        return ngx_http_gatehouse_basic_verdict(gmcf, ctx);
    default:
        break;
    }
    switch (ctx->plan.cred.kind) {
    case GH_CRED_TOKEN:
    case GH_CRED_BEARER:
        return ngx_http_gatehouse_check_token(r, gmcf, ctx);
    case GH_CRED_BASIC:
        return ngx_http_gatehouse_check_basic(r, gmcf, ctx);
    case GH_CRED_MALFORMED:
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_MALFORMED);
    default:
        return ngx_http_gatehouse_refused(ctx, GH_REFUSE_NO_CREDENTIALS);
    }
}

/* The access phase's answer to ngx_http_gatehouse_authenticate's. */
static ngx_int_t
ngx_http_gatehouse_access_verdict(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    ngx_int_t rc)
{
    return rc == NGX_DECLINED ? ngx_http_gatehouse_refuse(r, ctx, ctx->refusal) : rc;
}

ngx_int_t
ngx_http_gatehouse_access_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_http_gatehouse_loc_conf_t  *glcf;
    ngx_http_gatehouse_ctx_t       *ctx;
    ngx_http_gatehouse_tally_t     *tally;

    /* An error page answers for a request nginx already refused: nothing to
     * authenticate. A gatehouse location reached that way has no context, so
     * its content handler serves nothing (404). */
    if (r->error_page) {
        return NGX_DECLINED;
    }
    glcf = ngx_http_gatehouse_loc_conf(r);
    if (!glcf->enable) {
        return NGX_DECLINED;
    }
    gmcf = ngx_http_gatehouse_main_conf(r);
    if (gmcf->shared == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ctx = ngx_http_gatehouse_get_ctx(r);
    if (ctx != NULL) {
        return ngx_http_gatehouse_access_verdict(r, ctx, ngx_http_gatehouse_authenticate(r, ctx));
    }

    ctx = ngx_palloc(r->pool, sizeof(ngx_http_gatehouse_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_memzero(ctx, offsetof(ngx_http_gatehouse_ctx_t, plan));
    ngx_http_gatehouse_set_ctx(r, ctx);
    ngx_http_gatehouse_log_wrap(r);
    ngx_http_gatehouse_fill_request(r, &ctx->req);
    if (ngx_http_gatehouse_wipe_on_end(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->dialect = gh_dialect_for_path(ctx->req.path);
    tally = ngx_http_gatehouse_tally(r, ctx->dialect);
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
    ctx->token = ctx->plan.cred.token;
    ngx_http_gatehouse_tally_cred(tally, ctx->plan.cred.kind);
    /* Gateway mode: a request passed on that lasts is watched (proxy.c):
     * one that asks for an event stream or an upgrade, and any request on a
     * stream path, whose answer is passed on as it comes, whatever the
     * client's Accept (curl sends its own, and the stream is the same). */
    if (glcf->upstream_handler != NULL && ctx->dialect->forward != NULL && !ctx->plan.local) {
        ctx->watch = ngx_http_gatehouse_long_lived(r, &ctx->req)
                     || gh_gateway_path_listed(gmcf->config.stream_paths,
                                               (gh_str) { (const char *) r->uri.data,
                                                          r->uri.len });
    }
    if (ctx->plan.open) {
        ctx->state = GH_STATE_AUTHENTICATED;
        return NGX_OK;
    }
    if (!ctx->req.secure) {
        return ngx_http_gatehouse_refuse(r, ctx, GH_REFUSE_PLAIN_HTTP);
    }

    return ngx_http_gatehouse_access_verdict(r, ctx, ngx_http_gatehouse_authenticate(r, ctx));
}

/* Serve now (memory only) or hand the request to a thread pool. */
static void
ngx_http_gatehouse_dispatch(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf;
    gh_response                     resp;
    ngx_int_t                       rc;

    gmcf = ngx_http_gatehouse_main_conf(r);
    if (ctx->plan.work == GH_WORK_INLINE) {
        gh_response_init(&resp);
        gmcf->inline_service.dialect = gh_dialect_index(ctx->dialect);
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
    ngx_http_gatehouse_ctx_t *ctx = ngx_http_gatehouse_get_ctx(r);
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
    ngx_http_gatehouse_ctx_t *ctx = ngx_http_gatehouse_get_ctx(r);
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
    rc = ngx_http_gatehouse_discard_body(r);
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
