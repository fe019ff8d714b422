/*
 * ngx_http_gatehouse_error.c: errors in the dialect's own format when it is
 * not the dialect that decided them. nginx refuses oversized or malformed
 * requests (400, 413, 414, 494 header too large, 497 plain HTTP on the TLS
 * port), limit_conn refuses with 429, and the adapter itself gives up on a
 * body or a thread pool (413, 500, 503) or refuses a header block over
 * max_header_bytes (431); a Redfish client must still get a Redfish error
 * body and an oVirt client the engine's plain text.
 *
 * `gatehouse_error;` makes a location answer nginx's error_page redirects:
 *
 *     error_page 400 404 405 413 414 429 497 500 502 503 504 /.gatehouse/error;
 *     error_page 494 =431 /.gatehouse/error;
 *     location = /.gatehouse/error { internal; gatehouse_error; }
 *
 * The location is reached by URI, not by name: nginx refuses to send a
 * request without a URI (a 414, a malformed request line) to a named
 * location and answers 500 instead. The dialect is the one owning the URI
 * the client sent; no dialect, or no URI at all, gets nginx's own page.
 *
 * It also drops the body of every request answered without reading it
 * (ngx_http_gatehouse_discard_body), refusals and errors included.
 */
#include "ngx_http_gatehouse.h"

/* Statuses nginx closes the connection after, as its own error pages do
 * (431 is its 494, a header too large, sent as 400 and closed). */
static ngx_uint_t
ngx_http_gatehouse_fail_closes(ngx_int_t status)
{
    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
    case NGX_HTTP_GATEHOUSE_HEADER_TOO_LARGE:
    case NGX_HTTP_INTERNAL_SERVER_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Discards the body of a request answered without it. nginx reads what has
 * arrived and drops the rest as it comes; if some of a declared body has not
 * arrived when the answer goes out, it may be a slow client's, or one that
 * never comes (libgovirt repeats a GET after a 401 without its body but with
 * its Content-Length): either way the next bytes on the connection cannot be
 * told from the rest of this body, so the answer closes the connection
 * instead of reading a next request from them. */
ngx_int_t
ngx_http_gatehouse_discard_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc == NGX_OK && r->discard_body) {
        r->keepalive = 0;
    }
    return rc;
}

ngx_int_t
ngx_http_gatehouse_fail(ngx_http_request_t *r, const gh_dialect *dialect,
    const gh_request *req, ngx_int_t status)
{
    gh_response  resp;
    ngx_int_t    rc;

    if (dialect == NULL || dialect->fail == NULL) {
        /* nginx's own page; it has none for 431, but one for its 494. */
        return status == NGX_HTTP_GATEHOUSE_HEADER_TOO_LARGE
               ? NGX_HTTP_REQUEST_HEADER_TOO_LARGE : status;
    }
    /* What nginx does before its own error page: no 100 Continue for a body
     * that will not be read, and no keepalive after a broken request. */
    r->expect_tested = 1;
    if (ngx_http_gatehouse_fail_closes(status)
        || ngx_http_gatehouse_discard_body(r) != NGX_OK)
    {
        r->keepalive = 0;
    }

    if (r->headers_out.content_length != NULL) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);

    gh_response_init(&resp);
    dialect->fail(req, (int) status, &resp);
    /* nginx 1.22 knows no reason phrase for 431 and would send none. */
    if (resp.status == NGX_HTTP_GATEHOUSE_HEADER_TOO_LARGE && resp.reason == NULL) {
        resp.reason = "Request Header Fields Too Large";
    }
    /* nginx sends err_status when it is set (an error page), and then drops
     * our status line: keep both the same, or clear it for a reason phrase. */
    if (r->err_status != 0) {
        r->err_status = resp.reason != NULL ? 0 : resp.status;
    }
    rc = ngx_http_gatehouse_send(r, &resp);
    gh_response_free(&resp);
    return rc;
}

/* The path the client asked for: r->uri names the error page by now. */
static gh_str
ngx_http_gatehouse_error_path(ngx_http_request_t *r)
{
    u_char  *p, *q, *end, *limit;

    if (r->unparsed_uri.len > 0) {
        p = r->unparsed_uri.data;
        end = p + r->unparsed_uri.len;

    } else {
        /* nginx gave up inside the request line (too long, malformed): the
         * URI as far as it was read, from the buffer nginx read it into.
         * HTTP/2 keeps its header fields elsewhere: nginx's page there. */
#if (NGX_HTTP_V2)
        if (r->stream != NULL) {
            return (gh_str) { NULL, 0 };
        }
#endif
        p = r->uri_start;
        if (p == NULL || r->header_in == NULL) {
            return (gh_str) { NULL, 0 };
        }
        /* A parse error leaves header_in->pos behind: bound by what arrived. */
        limit = r->header_in->last;
        if (p < r->header_in->start || p >= limit) {
            return (gh_str) { NULL, 0 };
        }
        end = (r->uri_end > p && r->uri_end <= limit) ? r->uri_end : limit;
    }

    for (q = p; q < end; q++) {
        if (*q == '?' || *q == '#' || *q == ' ' || *q == '\r' || *q == '\n') {
            end = q;
            break;
        }
    }
    return (gh_str) { (const char *) p, (size_t) (end - p) };
}

static ngx_int_t
ngx_http_gatehouse_error_handler(ngx_http_request_t *r)
{
    ngx_int_t          status;
    gh_request         req;
    const gh_dialect  *dialect;

    status = (ngx_int_t) (r->err_status != 0 ? r->err_status : r->headers_out.status);
    /* Only nginx's error_page comes here; anything else finds nothing. */
    if (!r->error_page || status < NGX_HTTP_BAD_REQUEST) {
        return NGX_HTTP_NOT_FOUND;
    }

    ngx_memzero(&req, sizeof(req));
    ngx_http_gatehouse_fill_request(r, &req);
    req.path = ngx_http_gatehouse_error_path(r);
    req.query = (gh_str) { NULL, 0 };
    dialect = gh_dialect_for_path(req.path);
    /* Counted under what the access phase found, if it ran; else now. */
    (void) ngx_http_gatehouse_tally(r, dialect);
    return ngx_http_gatehouse_fail(r, dialect, &req, status);
}

/* `gatehouse_error;` answers error_page redirects in the dialect's format. */
char *
ngx_http_gatehouse_error_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    (void) cmd;
    (void) conf;
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_gatehouse_error_handler;
    /* The redirect to the error page checks the body size again, and over
     * HTTP/2 a refused body still counts as coming: nginx would answer that
     * second 413 with its own page. The check has been made; do not repeat it. */
    clcf->client_max_body_size = 0;
    return NGX_CONF_OK;
}
