/*
 * ngx_http_gatehouse_header.c: [server] max_header_bytes, the limit on a
 * request's header block, measured the same way on HTTP/1.1 and HTTP/2.
 *
 * nginx's own limits are not that limit: large_client_header_buffers bounds
 * one line (HTTP/1.1) or one field as encoded (HTTP/2) by the buffer size,
 * and the whole by the buffers together, in ways that depend on how the lines
 * fall across buffers. gatehouse serve sets them above max_header_bytes, so
 * nginx refuses nothing under it, and the access handler refuses what is over
 * it, with the dialect's 431, once nginx has the whole request head.
 *
 * What is counted (docs/gatehouse.conf.example):
 * - HTTP/1.x: every header line as the client sent it (name, colon,
 *   whitespace, value, line ending), lines nginx ignores included, and the
 *   empty line that ends the block: nginx's request_length after the header,
 *   less the request line.
 * - HTTP/2: every field nginx decoded from HPACK as the HTTP/1.1 line it
 *   stands for, `name: value` CRLF (name + value + 4 bytes), and 2 for the
 *   empty line. :authority counts as its host line; the cookie crumbs count
 *   as the one cookie line nginx joins them into (RFC 9113 8.2.3); the other
 *   pseudo-headers are the request line.
 * The request line is not counted: nginx limits it to one buffer (414).
 */
#include "ngx_http_gatehouse.h"

/* HTTP/1.x: what nginx counted while it read the head, less the request line. */
static size_t
ngx_http_gatehouse_header_bytes_sent(ngx_http_request_t *r)
{
    size_t  line;

    if (r->request_start == NULL || r->request_end == NULL
        || r->request_end < r->request_start)
    {
        return 0;
    }
    /* request_end is the request line's CR, or its LF when a bare LF ends it. */
    line = (size_t) (r->request_end - r->request_start) + (*r->request_end == CR ? 2 : 1);
    return r->request_length > (off_t) line ? (size_t) (r->request_length - (off_t) line) : 0;
}

/* HTTP/2: the decoded fields nginx keeps, each as an HTTP/1.1 line. */
static size_t
ngx_http_gatehouse_header_bytes_fields(ngx_http_request_t *r)
{
    ngx_list_part_t  *part = &r->headers_in.headers.part;
    ngx_table_elt_t  *h = part->elts;
    size_t            n = sizeof(CRLF) - 1;
    ngx_uint_t        i;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        n += h[i].key.len + sizeof(": ") - 1 + h[i].value.len + sizeof(CRLF) - 1;
    }
    return n;
}

size_t
ngx_http_gatehouse_header_bytes(ngx_http_request_t *r)
{
#if (NGX_HTTP_V2)
    if (r->stream != NULL) {
        return ngx_http_gatehouse_header_bytes_fields(r);
    }
#endif
    return ngx_http_gatehouse_header_bytes_sent(r);
}

/* nginx itself refuses a line (HTTP/1.1) or a field (HTTP/2) longer than one
 * buffer, and a head longer than what its buffers hold: say so at start-up
 * when a server's buffers would refuse a block under max_header_bytes (an
 * nginx configuration written by hand; docs/nginx.md). */
ngx_int_t
ngx_http_gatehouse_header_check_conf(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_core_srv_conf_t  **cscfp, *cscf;
    size_t                      max = (size_t) gmcf->config.max_header_bytes;
    ngx_uint_t                  s;

    if (gmcf->data_dir.len == 0) {
        return NGX_OK;
    }
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;
    for (s = 0; s < cmcf->servers.nelts; s++) {
        cscf = cscfp[s];
        if (cscf->large_client_header_buffers.size < max
            || cscf->large_client_header_buffers.num < NGX_HTTP_GATEHOUSE_HEADER_BUFFERS)
        {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "gatehouse: large_client_header_buffers %ui %uz is too "
                               "small for max_header_bytes %uz: nginx itself refuses "
                               "some header blocks under that; set it to %d %uz",
                               cscf->large_client_header_buffers.num,
                               cscf->large_client_header_buffers.size, max,
                               NGX_HTTP_GATEHOUSE_HEADER_BUFFERS, max);
        }
    }
    return NGX_OK;
}
