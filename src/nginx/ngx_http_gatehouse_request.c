/*
 * ngx_http_gatehouse_request.c: the two ends where nginx meets gatehouse's
 * own types: a gh_request filled from nginx's parsed request (its header
 * lookup included), and a gh_response sent as nginx's status, headers and
 * body. The handler, the error pages, the thread pools and the event
 * streams all use them; this file calls none of those back.
 *
 * And the wipe when a request ends: what it carried in the clear (the
 * Authorization value, the session token it showed, the body in nginx's
 * buffers and in gatehouse's copy, a decoded Basic password) is zeroed by a
 * cleanup of the request's pool, which nginx runs on every way a request
 * ends (answered, refused, failed, the client gone), after the access log
 * is written and before the memory is freed or the connection's buffer
 * serves the next request.
 */
#include "ngx_http_gatehouse.h"

ngx_uint_t ngx_http_gatehouse_index;   /* ngx_http_gatehouse.h */
u_char     ngx_http_gatehouse_subrequest_mark;   /* NGX_HTTP_GATEHOUSE_SUBREQUEST */

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

    gmcf = ngx_http_gatehouse_main_conf(r);
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

static void
ngx_http_gatehouse_wipe(void *data)
{
    ngx_http_gatehouse_ctx_t *ctx = data;
    ngx_http_request_t       *r = ctx->req.adapter;
    ngx_chain_t              *cl;
    ngx_buf_t                *b;

    /* nginx's own copy of the body: the bytes of each buffer, no more (a
     * buffer may lie in the connection's header buffer, before a pipelined
     * request's bytes). One written to a file has none in memory. */
    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl != NULL; cl = cl->next) {
            b = cl->buf;
            if (ngx_buf_in_memory(b) && b->last > b->pos) {
                gh_wipe(b->pos, (size_t) (b->last - b->pos));
            }
        }
    }
    gh_request_wipe(&ctx->req);
    gh_wipe((char *) ctx->token.data, ctx->token.len);
    gh_credential_wipe(&ctx->plan.cred);
    gh_wipe(ctx->stream_key, sizeof(ctx->stream_key));
}

ngx_int_t
ngx_http_gatehouse_wipe_on_end(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_pool_cleanup_t *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }
    cln->handler = ngx_http_gatehouse_wipe;
    cln->data = ctx;
    return NGX_OK;
}
