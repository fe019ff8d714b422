/*
 * ngx_http_gatehouse_log.c: no credential in any error-log line, nginx's own
 * included.
 *
 * nginx quotes what a client sent in its error lines: the request line with
 * its query (an oVirt client sends token= and password= there), the host
 * and referrer, a bad or oversized header line, a duplicate Authorization
 * header. Each is written in its own place, and more can come with any
 * nginx release, so redacting message by message would never be complete.
 * What every line has in common is its last step: ngx_log_error_core formats
 * the whole line (message, then the connection's handler with the request
 * line, host and referrer) and hands it to each log of the chain, to
 * log->writer(log, level, line, len) when the log has one, else to
 * write(log->file->fd). So the module gives every error log a writer: it
 * runs the finished line through gh_redact_line (dialects/common/redact.c says what
 * goes) and then writes it as nginx would have, to the file descriptor, or
 * through the writer that was there before (syslog), with that writer's own
 * data. The cost is paid per line written (after the level check), never per
 * request.
 *
 * Which logs: init_module runs in the master once a configuration is whole,
 * before any worker exists, so every log object nginx will write through
 * is there to be patched, in place, once: the cycle's error_log chain (the
 * main context's, also what any context without its own inherits), the
 * error_log of the http block, of every server and every location (exact,
 * prefix, regex and named ones), and the copy of a log each listening socket
 * holds. Connections copy writer and wdata from these (at accept, from the
 * socket's copy; per request and per location, from the location's log by
 * ngx_set_connection_log), and the rest of a chain is shared by pointer. A
 * reload builds a new cycle and patches that. Not reached: an error_log of
 * its own inside stream {} or mail {} (no HTTP request is quoted there), and
 * the copy nginx echoes to the terminal while it starts, before it reads any
 * request.
 *
 * Rewriting r->request_line instead would reach only the request line, and
 * only once a handler runs: a line for a header nginx refused is written
 * before any module sees the request, and quotes the header itself.
 *
 * Access logs are not error logs: their format says what they write (see
 * docs/nginx.md for the variables to keep out of one); `gatehouse serve`
 * writes none.
 */
#include "ngx_http_gatehouse.h"

#include "dialects/common/redact.h"

typedef struct {
    ngx_log_writer_pt  writer;   /* the writer that was there, or NULL */
    void              *wdata;
} ngx_http_gatehouse_log_ctx_t;

static void
ngx_http_gatehouse_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf, size_t len)
{
    ngx_http_gatehouse_log_ctx_t *ctx = log->wdata;
    ngx_log_t                     prev;
    u_char                       *p;
    size_t                        n;
    ssize_t                       written;
    /* A redacted line can grow: "key=x&" becomes "key=[redacted]&". */
    u_char                        line[NGX_MAX_ERROR_STR * 3];

    if (len >= NGX_LINEFEED_SIZE) {
        len -= NGX_LINEFEED_SIZE;   /* ngx_log_error_core ended it with one */
    }
    n = gh_redact_line((const char *) buf, len, (char *) line,
                       sizeof(line) - NGX_LINEFEED_SIZE);
    p = line + n;
    ngx_linefeed(p);
    n = p - line;

    if (ctx->writer != NULL) {
        prev = *log;
        prev.writer = ctx->writer;
        prev.wdata = ctx->wdata;
        ctx->writer(&prev, level, line, n);
        return;
    }

    /* As ngx_log_error_core writes when no writer is set. */
    if (ngx_time() == log->disk_full_time) {
        return;
    }
    written = ngx_write_fd(log->file->fd, line, n);
    if (written == -1 && ngx_errno == NGX_ENOSPC) {
        log->disk_full_time = ngx_time();
    }
}

/* Every log of the chain at log gets the writer, once. */
static ngx_int_t
ngx_http_gatehouse_log_patch(ngx_cycle_t *cycle, ngx_log_t *log)
{
    ngx_http_gatehouse_log_ctx_t *ctx;

    for ( /* void */ ; log != NULL; log = log->next) {
        if (log->writer == ngx_http_gatehouse_log_writer) {
            continue;
        }
        ctx = ngx_palloc(cycle->pool, sizeof(ngx_http_gatehouse_log_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }
        ctx->writer = log->writer;
        ctx->wdata = log->wdata;
        log->wdata = ctx;
        log->writer = ngx_http_gatehouse_log_writer;
    }
    return NGX_OK;
}

static ngx_int_t ngx_http_gatehouse_log_location(ngx_cycle_t *cycle,
    ngx_http_core_loc_conf_t *clcf);

static ngx_int_t
ngx_http_gatehouse_log_tree(ngx_cycle_t *cycle, ngx_http_location_tree_node_t *node)
{
    if (node == NULL) {
        return NGX_OK;
    }
    if ((node->exact && ngx_http_gatehouse_log_location(cycle, node->exact) != NGX_OK)
        || (node->inclusive && ngx_http_gatehouse_log_location(cycle, node->inclusive) != NGX_OK)
        || ngx_http_gatehouse_log_tree(cycle, node->left) != NGX_OK
        || ngx_http_gatehouse_log_tree(cycle, node->right) != NGX_OK
        || ngx_http_gatehouse_log_tree(cycle, node->tree) != NGX_OK)
    {
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* A location's log, and those of the locations inside it. */
static ngx_int_t
ngx_http_gatehouse_log_location(ngx_cycle_t *cycle, ngx_http_core_loc_conf_t *clcf)
{
#if (NGX_PCRE)
    ngx_http_core_loc_conf_t **re;
#endif

    if (ngx_http_gatehouse_log_patch(cycle, clcf->error_log) != NGX_OK
        || ngx_http_gatehouse_log_tree(cycle, clcf->static_locations) != NGX_OK)
    {
        return NGX_ERROR;
    }
#if (NGX_PCRE)
    for (re = clcf->regex_locations; re != NULL && *re != NULL; re++) {
        if (ngx_http_gatehouse_log_location(cycle, *re) != NGX_OK) {
            return NGX_ERROR;
        }
    }
#endif
    return NGX_OK;
}

static ngx_int_t
ngx_http_gatehouse_log_http(ngx_cycle_t *cycle)
{
    ngx_http_conf_ctx_t        *ctx;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_core_srv_conf_t  **cscfp;
    ngx_http_core_loc_conf_t  **named;
    ngx_uint_t                  s;

    ctx = (ngx_http_conf_ctx_t *) cycle->conf_ctx[ngx_http_module.index];
    if (ctx == NULL) {
        return NGX_OK;   /* no http block */
    }
    if (ngx_http_gatehouse_log_location(cycle,
            ctx->loc_conf[ngx_http_core_module.ctx_index]) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cmcf = ctx->main_conf[ngx_http_core_module.ctx_index];
    cscfp = cmcf->servers.elts;
    for (s = 0; s < cmcf->servers.nelts; s++) {
        if (ngx_http_gatehouse_log_location(cycle,
                cscfp[s]->ctx->loc_conf[ngx_http_core_module.ctx_index]) != NGX_OK)
        {
            return NGX_ERROR;
        }
        for (named = cscfp[s]->named_locations; named != NULL && *named != NULL; named++) {
            if (ngx_http_gatehouse_log_location(cycle, *named) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }
    return NGX_OK;
}

ngx_int_t
ngx_http_gatehouse_log_redact(ngx_cycle_t *cycle)
{
    ngx_listening_t *ls;
    ngx_uint_t       i;

    if (ngx_http_gatehouse_log_patch(cycle, &cycle->new_log) != NGX_OK
        || ngx_http_gatehouse_log_http(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }
    /* Each socket holds a copy of its server's log, made before modules
     * start: the copy is patched as well (its chain is shared). */
    ls = cycle->listening.elts;
    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ngx_http_gatehouse_log_patch(cycle, &ls[i].log) != NGX_OK) {
            return NGX_ERROR;
        }
    }
    return NGX_OK;
}
