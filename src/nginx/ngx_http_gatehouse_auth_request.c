/*
 * ngx_http_gatehouse_auth_request.c: forward authentication for nginx's own
 * auth_request (docs/gateway.md, "Forward authentication"). `gatehouse_auth_request
 * DIALECT;` makes a location answer the subrequest auth_request sends it:
 * the MAIN request's credentials, read as DIALECT reads them, are checked
 * exactly as the access handler checks them (ngx_http_gatehouse_authenticate:
 * the credential cache, the hash pool, the shared block's sessions, lockout,
 * throttle), then the main request's method and URI are authorised (the
 * dialect's forward hook, else gh_gateway_allows with the method's default),
 * and the answer is 204 with the identity headers, or the dialect's refusal.
 *
 * Where: nginx skips the access phase for subrequests, so the check runs in
 * the precontent phase. A phase handler there returns NGX_AGAIN while the
 * store or a thread pool works, and nginx runs the phases again when the
 * request resumes (r->write_event_handler is ngx_http_core_run_phases), just
 * as for the access phase: the session-store callback and the thread pool's
 * completion resume a subrequest here the same way they resume a main request
 * there, with r->main->blocked held meanwhile so that the main request, which
 * auth_request keeps waiting on the subrequest, neither runs nor ends.
 *
 * The body: auth_request sends the client nginx's own page for 401 and 403.
 * A refusal is also kept in the main request's pool (which subrequests
 * share, and which an internal redirect keeps), so that the same location,
 * named by `error_page 401 403 500 /gatehouse-auth;`, answers the client with
 * the dialect's own status, headers and body.
 */
#include "ngx_http_gatehouse.h"

#include "dialects/common/gateway.h"

#include <stdlib.h>

/* Wipe a kept refusal's header values when the request ends. Also what finds
 * the refusal again: the pool cleanup that has this handler. */
static void
ngx_http_gatehouse_auth_forget(void *data)
{
    gh_response_free(data);
}

/* Keep a copy of a refusal in r's pool, the main request's, for the error
 * page; its body a borrowed copy in the pool too. */
static void
ngx_http_gatehouse_auth_keep(ngx_http_request_t *r, const gh_response *resp)
{
    ngx_pool_cleanup_t *cln;
    gh_response        *kept;
    u_char             *body = NULL;

    kept = ngx_palloc(r->pool, sizeof(gh_response));
    if (resp->body_len > 0) {
        body = ngx_pnalloc(r->pool, resp->body_len);
    }
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (kept == NULL || cln == NULL || (resp->body_len > 0 && body == NULL)) {
        return;                 /* the error page falls back to the dialect's fail */
    }
    ngx_memcpy(kept, resp, sizeof(gh_response));
    if (body != NULL) {
        ngx_memcpy(body, resp->body, resp->body_len);
    }
    kept->body = (const char *) body;
    kept->body_owned = NULL;
    cln->handler = ngx_http_gatehouse_auth_forget;
    cln->data = kept;
}

static gh_response *
ngx_http_gatehouse_auth_kept(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t *c;

    for (c = r->pool->cleanup; c != NULL; c = c->next) {
        if (c->handler == ngx_http_gatehouse_auth_forget) {
            return c->data;     /* the latest: cleanups are pushed in front */
        }
    }
    return NULL;
}

/* auth_request passes WWW-Authenticate on from r->headers_out.www_authenticate,
 * which ngx_http_gatehouse_send does not set (no other header needs it). */
static void
ngx_http_gatehouse_auth_mark(ngx_http_request_t *r)
{
    ngx_list_part_t *part = &r->headers_out.headers.part;
    ngx_table_elt_t *h = part->elts;
    ngx_uint_t       i;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (h[i].hash != 0 && h[i].key.len == sizeof("WWW-Authenticate") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "WWW-Authenticate",
                               h[i].key.len) == 0)
        {
            r->headers_out.www_authenticate = &h[i];
            return;
        }
    }
}

/* Answer the subrequest with resp and end it; a refusal is kept for the
 * error page. */
static ngx_int_t
ngx_http_gatehouse_auth_answer(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    gh_response *resp)
{
    ngx_int_t  rc;

    gh_credential_wipe(&ctx->plan.cred);
    if (resp->status >= NGX_HTTP_BAD_REQUEST) {
        ngx_http_gatehouse_auth_keep(r, resp);
    }
    rc = ngx_http_gatehouse_send(r, resp);
    ngx_http_gatehouse_auth_mark(r);
    gh_response_free(resp);
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}

/* The identity headers of who the request is, for auth_request_set
 * ($sent_http_x_gatehouse_user and the rest): identity.c's, on the answer. */
static ngx_int_t
ngx_http_gatehouse_auth_identity(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    const gh_principal *who;
    unsigned            privileges;

    who = ngx_http_gatehouse_identity_of(ctx, &privileges);
    if (who == NULL) {
        return NGX_ERROR;
    }
    return ngx_http_gatehouse_identity_add(r, &r->headers_out.headers, ctx->dialect, who,
                                           privileges);
}

/* The decision made: 204 with the identity and forward's headers, or resp. */
static ngx_int_t
ngx_http_gatehouse_auth_decided(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    bool allowed, gh_response *resp)
{
    if (allowed) {
        /* Of forward's answer, its headers only (a session's new cookie). */
        resp->status = NGX_HTTP_NO_CONTENT;
        resp->reason = NULL;
        free(gh_response_release_body(resp));
        resp->body = NULL;
        resp->body_len = 0;
        resp->content_type = NULL;
        if (ngx_http_gatehouse_auth_identity(r, ctx) != NGX_OK) {
            gh_response_free(resp);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return ngx_http_gatehouse_auth_answer(r, ctx, resp);
}

/* May who make the main request? The dialect's forward hook, where its plan
 * says (a thread pool when it needs the store); without one, or for a path
 * the dialect answers itself (local: forward decides only what is passed
 * on), the method's default privileges, and the dialect's 403 when they are
 * lacking. */
static ngx_int_t
ngx_http_gatehouse_auth_authorize(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);
    gh_policy_subject               subj;
    gh_response                     resp;
    bool                            allowed, forward;

    forward = ctx->dialect->forward != NULL && !ctx->plan.local;
    if (forward && ctx->plan.work != GH_WORK_INLINE) {
        if (ngx_http_gatehouse_post(r, ctx, GH_JOB_FORWARD) != NGX_OK) {
            gh_response_init(&resp);
            ctx->dialect->refuse(&ctx->req, GH_REFUSE_UNAVAILABLE, &resp);
            return ngx_http_gatehouse_auth_answer(r, ctx, &resp);
        }
        return NGX_AGAIN;
    }
    gh_response_init(&resp);
    if (forward) {
        gmcf->inline_service.dialect = gh_dialect_index(ctx->dialect);
        allowed = ctx->dialect->forward(&gmcf->inline_service, &ctx->req, &ctx->plan,
                                        &ctx->who, &resp);
    } else {
        subj = gh_policy_subject_of(&ctx->who);
        allowed = gh_gateway_allows(&gmcf->config, &ctx->req, &subj, NULL, 0, NULL);
        if (!allowed) {
            ctx->dialect->fail(&ctx->req, NGX_HTTP_FORBIDDEN, &resp);
        }
    }
    return ngx_http_gatehouse_auth_decided(r, ctx, allowed, &resp);
}

/* The subrequest's context: the request it guards is the main one, its
 * credential read as the dialect reads it there. */
static ngx_http_gatehouse_ctx_t *
ngx_http_gatehouse_auth_start(ngx_http_request_t *r, const gh_dialect *dialect)
{
    ngx_http_gatehouse_ctx_t *ctx;

    ctx = ngx_palloc(r->pool, sizeof(ngx_http_gatehouse_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }
    ngx_memzero(ctx, offsetof(ngx_http_gatehouse_ctx_t, plan));
    ngx_http_gatehouse_set_ctx(r, ctx);
    ngx_http_gatehouse_log_wrap(r);
    ngx_http_gatehouse_fill_request(r->main, &ctx->req);
    if (ngx_http_gatehouse_wipe_on_end(r, ctx) != NGX_OK) {
        return NULL;
    }
    ctx->dialect = dialect;
    /* Where forward finds who the request is itself (an API token). */
    ctx->gw.set = false;
    ctx->req.gateway_who = &ctx->gw;
    /* classify makes the plan forward reads (its route, where it runs) and
     * reads the credential as on the dialect's own routes; the credential
     * hook, where there is one, reads it for a path of any service. */
    dialect->classify(&ctx->req, &ctx->plan);
    if (dialect->credential != NULL) {
        gh_credential_wipe(&ctx->plan.cred);
        dialect->credential(&ctx->req, &ctx->plan.cred);
    }
    ctx->plan.stream = false;
    ctx->token = ctx->plan.cred.token;
    /* The request it guards is counted under the dialect and credential
     * found here, with its status when it ends (tally.c). */
    ngx_http_gatehouse_tally_cred(ngx_http_gatehouse_tally(r->main, dialect),
                                  ctx->plan.cred.kind);
    return ctx;
}

/* The precontent phase: a subrequest to a gatehouse_auth_request location. */
ngx_int_t
ngx_http_gatehouse_auth_request_handler(ngx_http_request_t *r)
{
    ngx_http_gatehouse_loc_conf_t  *glcf = ngx_http_gatehouse_loc_conf(r);
    ngx_http_gatehouse_main_conf_t *gmcf;
    ngx_http_gatehouse_ctx_t       *ctx;
    gh_response                     resp;
    ngx_int_t                       rc;

    /* A main request (an error page, or a client that found the location)
     * goes to the content handler. */
    if (glcf->auth_dialect == NULL || r == r->main) {
        return NGX_DECLINED;
    }
    gmcf = ngx_http_gatehouse_main_conf(r);
    if (gmcf->shared == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    ctx = ngx_http_gatehouse_get_ctx(r);
    if (ctx == NULL) {
        ctx = ngx_http_gatehouse_auth_start(r, glcf->auth_dialect);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!ctx->req.secure) {
            ctx->refusal = GH_REFUSE_PLAIN_HTTP;
            goto refuse;
        }
    }
    if (ctx->state == GH_STATE_DECIDED) {
        return ngx_http_gatehouse_auth_decided(r, ctx, ctx->allowed, ctx->resp);
    }
    rc = ngx_http_gatehouse_authenticate(r, ctx);
    if (rc == NGX_OK) {
        return ngx_http_gatehouse_auth_authorize(r, ctx);
    }
    if (rc != NGX_DECLINED) {
        return rc;
    }

refuse:
    gh_response_init(&resp);
    ctx->dialect->refuse(&ctx->req, ctx->refusal, &resp);
    return ngx_http_gatehouse_auth_answer(r, ctx, &resp);
}

/* The content phase: the main request sent here by `error_page 401 403 500`
 * after a refusal gets the refusal as the subrequest made it; any other
 * main request the dialect's answer for the status it has (404 when none). */
static ngx_int_t
ngx_http_gatehouse_auth_content(ngx_http_request_t *r)
{
    ngx_http_gatehouse_loc_conf_t *glcf = ngx_http_gatehouse_loc_conf(r);
    gh_response                   *kept;
    gh_request                     req;
    ngx_int_t                      status;

    status = (ngx_int_t) (r->err_status != 0 ? r->err_status : r->headers_out.status);
    if (!r->error_page || status < NGX_HTTP_BAD_REQUEST) {
        status = NGX_HTTP_NOT_FOUND;
    }
    ngx_memzero(&req, sizeof(req));
    ngx_http_gatehouse_fill_request(r, &req);
    kept = r->error_page ? ngx_http_gatehouse_auth_kept(r) : NULL;
    /* Only for the refusal's own status, or the 500 auth_request makes of
     * any other (`satisfy any` may let a refused request through, to fail
     * later for its own reasons). */
    if (kept != NULL && kept->status != status
        && (status != NGX_HTTP_INTERNAL_SERVER_ERROR
            || kept->status == NGX_HTTP_UNAUTHORIZED || kept->status == NGX_HTTP_FORBIDDEN))
    {
        kept = NULL;
    }
    if (kept == NULL) {
        return ngx_http_gatehouse_fail(r, glcf->auth_dialect, &req, status);
    }
    /* auth_request copied the refusal's WWW-Authenticate here: it is sent
     * with the rest of the refusal, once. */
    if (r->headers_out.www_authenticate != NULL) {
        r->headers_out.www_authenticate->hash = 0;
        r->headers_out.www_authenticate = NULL;
    }
    if (r->err_status != 0) {
        r->err_status = kept->reason != NULL ? 0 : kept->status;
    }
    return ngx_http_gatehouse_send(r, kept);
}

/* `gatehouse_auth_request DIALECT;` */
char *
ngx_http_gatehouse_auth_request_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gatehouse_loc_conf_t *glcf = conf;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_str_t                     *value = cf->args->elts;

    (void) cmd;
    if (glcf->auth_dialect != NULL) {
        return "is duplicate";
    }
    glcf->auth_dialect = gh_dialect_named(gh_dialects, (const char *) value[1].data);
    if (glcf->auth_dialect == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gatehouse_auth_request: no dialect \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_gatehouse_auth_content;
    return NGX_CONF_OK;
}
