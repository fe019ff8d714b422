/*
 * ngx_http_gatehouse_audit.c: the worker's audit log, and what joins its
 * records to the error log's lines.
 *
 * The log. With [audit] target = file the file is one of nginx's own open
 * files (ngx_conf_open_file): the master opens it with the configuration,
 * before the workers exist (so an nginx whose master runs as root and whose
 * workers do not writes it as well), and nginx's reopen (SIGUSR1 to the
 * master, what logrotate sends) reaches it in the master and then in every
 * worker. Each worker writes through a descriptor of its own (a dup of
 * nginx's), which its threads share; the reopen's flush hook, called in each
 * process just before nginx opens the path again, puts the file now at the
 * path on that same descriptor (gh_audit_reopen: dup3, one step for every
 * thread at once). In the master the hook only makes a missing file, mode
 * 0600, so that nginx's open (0644) never creates it. With target = syslog
 * each worker writes through syslog(3) and no file is opened.
 *
 * The join. A request's id is nginx's own $request_id (32 hex digits, from
 * RAND_bytes, made on first use and the same for the request's
 * subrequests): a request handed to a thread pool takes it before it goes
 * (every password check writes a record, and a pool thread must not touch
 * nginx's pool), one served from memory only when a line is logged for it.
 * The audit record carries it and the dialect (gh_audit_origin, in the
 * request's context, which the task carries to the thread's service); the
 * request's log handler, wrapped here, ends every error-log line written
 * for the request, nginx's own included, with ", dialect: NAME, request_id:
 * ID"; and each event audited for a request gets a line of its own (notice
 * for a failed login or a lockout, info for the rest), so that at
 * [server] log_level info both sides of the join are there.
 */
#include "ngx_http_gatehouse.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static ngx_str_t ngx_http_gatehouse_request_id_name = ngx_string("request_id");

/* nginx's own request log handler (ngx_http_log_error_handler, the same in
 * every request): what ours calls before adding to the line. */
static ngx_http_log_handler_pt ngx_http_gatehouse_log_prev;

/* The reopen's hook: the worker's log moves to the file now at the path;
 * the master makes that file 0600 if it is missing. */
static void
ngx_http_gatehouse_audit_flush(ngx_open_file_t *file, ngx_log_t *log)
{
    ngx_http_gatehouse_main_conf_t *gmcf = file->data;
    int                             fd;

    if (gmcf->inline_service.audit != NULL) {
        if (gh_audit_reopen(gmcf->inline_service.audit) != 0) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "gatehouse: cannot reopen the audit log \"%s\"; "
                          "writing on to the old file", file->name.data);
        }
        return;
    }
    fd = open((const char *) file->name.data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
              0600);
    if (fd >= 0) {
        close(fd);
    }
}

/* The file, made here 0600 if it is missing, before nginx opens it (0644)
 * with the cycle's files. A master running as root (an nginx of one's own,
 * its workers another user) gives a file it made to the data directory's
 * owner, who writes it: the workers, the command line. */
static ngx_int_t
ngx_http_gatehouse_audit_make(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf,
    const char *path)
{
    struct stat  st;
    int          fd;
    ngx_int_t    rc = NGX_OK;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (geteuid() == 0 && stat(gmcf->data_dir_c, &st) == 0 && st.st_uid != 0
            && fchown(fd, st.st_uid, st.st_gid) != 0)
        {
            rc = NGX_ERROR;
        }
        close(fd);
    } else if (ngx_errno != NGX_EEXIST) {
        rc = NGX_ERROR;
    }
    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "gatehouse: cannot make the audit log \"%s\"", path);
    }
    return rc;
}

ngx_int_t
ngx_http_gatehouse_audit_conf(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf)
{
    char        path[GH_PATH_MAX + 32];
    ngx_str_t   name;

    gmcf->request_id_index = ngx_http_get_variable_index(cf,
                                 &ngx_http_gatehouse_request_id_name);
    if (gmcf->request_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }
    if (!gh_audit_path(&gmcf->config, gmcf->data_dir_c, path, sizeof(path))) {
        if (ngx_strcmp(gmcf->config.audit_target, "syslog") == 0) {
            return NGX_OK;
        }
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gatehouse: audit log path too long");
        return NGX_ERROR;
    }
    if (ngx_http_gatehouse_audit_make(cf, gmcf, path) != NGX_OK) {
        return NGX_ERROR;
    }
    name.len = ngx_strlen(path);
    name.data = ngx_pnalloc(cf->pool, name.len + 1);
    if (name.data == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(name.data, path, name.len + 1);
    gmcf->audit_file = ngx_conf_open_file(cf->cycle, &name);
    if (gmcf->audit_file == NULL) {
        return NGX_ERROR;
    }
    gmcf->audit_file->flush = ngx_http_gatehouse_audit_flush;
    gmcf->audit_file->data = gmcf;
    return NGX_OK;
}

ngx_int_t
ngx_http_gatehouse_audit_open(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_open_file_t *file = gmcf->audit_file;
    int              fd;

    if (file == NULL) {
        if (gh_audit_open_syslog(gmcf->config.audit_syslog_facility,
                                 &gmcf->inline_service.audit) != 0)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "gatehouse: cannot open the audit log (syslog)");
            return NGX_ERROR;
        }
        return NGX_OK;
    }
    fd = fcntl(file->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0 || gh_audit_open_fd(fd, (const char *) file->name.data,
                                   &gmcf->inline_service.audit) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "gatehouse: cannot open the audit log \"%s\"", file->name.data);
        if (fd >= 0) {
            close(fd);
        }
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* r's id into ctx's origin, once: nginx's $request_id. */
static void
ngx_http_gatehouse_request_id(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_main_conf_t *gmcf = ngx_http_gatehouse_main_conf(r);
    ngx_http_variable_value_t      *v;

    if (ctx->origin.request_id[0] != '\0' || r->pool == NULL) {
        return;
    }
    v = ngx_http_get_indexed_variable(r, gmcf->request_id_index);
    if (v == NULL || v->not_found || v->len != GH_AUDIT_REQUEST_ID_LEN) {
        return;
    }
    ngx_memcpy(ctx->origin.request_id, v->data, GH_AUDIT_REQUEST_ID_LEN);
    ctx->origin.request_id[GH_AUDIT_REQUEST_ID_LEN] = '\0';
}

gh_audit_origin *
ngx_http_gatehouse_audit_origin(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    ngx_http_gatehouse_request_id(r, ctx);
    ctx->origin.dialect = ctx->dialect != NULL ? ctx->dialect->name : NULL;
    return &ctx->origin;
}

void
ngx_http_gatehouse_audit_logged(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx)
{
    uint32_t        events = ctx->origin.events;
    gh_audit_event  e;
    ngx_uint_t      level;

    ctx->origin.events = 0;
    for (e = GH_AUDIT_LOGIN; events != 0; e++) {
        if (!(events & (UINT32_C(1) << e))) {
            continue;
        }
        events &= ~(UINT32_C(1) << e);
        level = e == GH_AUDIT_LOGIN_FAILED || e == GH_AUDIT_LOCKOUT ? NGX_LOG_NOTICE
                                                                     : NGX_LOG_INFO;
        ngx_log_error(level, r->connection->log, 0, "gatehouse: audit event %s",
                      gh_audit_event_name(e));
    }
}

/* nginx's handler, then the dialect and the id of the request the line is
 * for (sr: a subrequest's context, else the main request's). */
static u_char *
ngx_http_gatehouse_log_handler(ngx_http_request_t *r, ngx_http_request_t *sr, u_char *buf,
    size_t len)
{
    ngx_http_gatehouse_ctx_t *ctx = NULL;
    u_char                   *p, *last = buf + len;

    p = ngx_http_gatehouse_log_prev(r, sr, buf, len);
    if (sr != NULL) {
        ctx = ngx_http_gatehouse_get_ctx(sr);
    }
    if ((ctx == NULL || ctx == NGX_HTTP_GATEHOUSE_SUBREQUEST) && r != sr) {
        ctx = ngx_http_gatehouse_get_ctx(r);
    }
    if (ctx == NULL || ctx == NGX_HTTP_GATEHOUSE_SUBREQUEST) {
        return p;
    }
    ngx_http_gatehouse_request_id(r, ctx);
    if (ctx->dialect != NULL) {
        p = ngx_slprintf(p, last, ", dialect: %s", ctx->dialect->name);
    }
    if (ctx->origin.request_id[0] != '\0') {
        p = ngx_slprintf(p, last, ", request_id: %s", ctx->origin.request_id);
    }
    return p;
}

void
ngx_http_gatehouse_log_wrap(ngx_http_request_t *r)
{
    r = r->main;
    if (ngx_http_gatehouse_log_prev == NULL) {
        ngx_http_gatehouse_log_prev = r->log_handler;
    }
    /* Another module's handler in its place: left as it is. */
    if (r->log_handler == ngx_http_gatehouse_log_prev) {
        r->log_handler = ngx_http_gatehouse_log_handler;
    }
}
