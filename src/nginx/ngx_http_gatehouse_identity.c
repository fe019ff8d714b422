/*
 * ngx_http_gatehouse_identity.c: what the upstream receives of a request
 * gatehouse passes on (docs/nginx.md, gateway mode). nginx's proxy modules send
 * r->headers_in.headers as they find it, so the list is rebuilt without:
 * every header that carries any dialect's credential (credential_headers,
 * all copies), every header of the identity family ([server]
 * identity_header_prefix, X-Gatehouse- by default) and
 * the client's X-Forwarded-For, -Proto and -Host; and with gatehouse's
 * cookies (every dialect's credential_cookies) taken out of each Cookie
 * header, the other cookies kept in their order, a Cookie header left empty
 * dropped (gh_cookies_without, credential.c, which has a fuzz target).
 * Names are compared ignoring case and with '_' equal to '-': an
 * upstream behind CGI-like glue reads X_Gatehouse_User as X-Gatehouse-User.
 * Then gatehouse adds who the request is (none on an open route) and the
 * usual X-Forwarded-* of the connection.
 *
 * The typed pointers of r->headers_in that could name a removed or changed
 * entry (authorization, cookies, x_forwarded_for) are set to the new list's.
 */
#include "ngx_http_gatehouse.h"

#include "dialects/common/gateway.h"

/* Privileges as DMTF names, comma-separated: room for all of role.h's. */
#define NGX_HTTP_GATEHOUSE_PRIVILEGES_MAX   256

static u_char
ngx_http_gatehouse_fold(u_char c)
{
    c = ngx_tolower(c);
    return c == '_' ? '-' : c;
}

/* Does name start with (or, whole, equal) s, ignoring case, '_' as '-'? */
static ngx_uint_t
ngx_http_gatehouse_name_is(ngx_str_t *name, const char *s, ngx_uint_t whole)
{
    size_t  n = ngx_strlen(s), i;

    if (name->len < n || (whole && name->len != n)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (ngx_http_gatehouse_fold(name->data[i]) != ngx_http_gatehouse_fold((u_char) s[i])) {
            return 0;
        }
    }
    return 1;
}

/* Is name in any dialect's list (credential_headers or _cookies)? */
static ngx_uint_t
ngx_http_gatehouse_listed(ngx_str_t *name, ngx_uint_t cookies)
{
    const char *const *list;
    ngx_uint_t         d, i;

    for (d = 0; gh_dialects[d] != NULL; d++) {
        list = cookies ? gh_dialects[d]->credential_cookies
                       : gh_dialects[d]->credential_headers;
        for (i = 0; list != NULL && list[i] != NULL; i++) {
            if (ngx_http_gatehouse_name_is(name, list[i], 1)) {
                return 1;
            }
        }
    }
    return 0;
}

/* The identity family's prefix, as configured. */
static const char *
ngx_http_gatehouse_prefix(ngx_http_request_t *r)
{
    return ngx_http_gatehouse_main_conf(r)->config.identity_header_prefix;
}

static ngx_uint_t
ngx_http_gatehouse_dropped(ngx_str_t *name, const char *prefix)
{
    return ngx_http_gatehouse_listed(name, 0)
           || ngx_http_gatehouse_name_is(name, prefix, 0)
           || ngx_http_gatehouse_name_is(name, "X-Forwarded-For", 1)
           || ngx_http_gatehouse_name_is(name, "X-Forwarded-Proto", 1)
           || ngx_http_gatehouse_name_is(name, "X-Forwarded-Host", 1);
}

/* Is a cookie of that name any dialect's credential (gh_cookies_without)? */
static bool
ngx_http_gatehouse_cookie_dropped(gh_str name, void *arg)
{
    ngx_str_t  n = { name.len, (u_char *) name.data };

    (void) arg;
    return ngx_http_gatehouse_listed(&n, 1);
}

/* Push name: value onto list (both in r's pool or static), with the
 * lower-case name and its hash the proxy modules look it up by. */
static ngx_table_elt_t *
ngx_http_gatehouse_push(ngx_http_request_t *r, ngx_list_t *list, const char *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t *h = ngx_list_push(list);
    size_t           n = ngx_strlen(name);

    if (h == NULL) {
        return NULL;
    }
    h->lowcase_key = ngx_pnalloc(r->pool, n);
    if (h->lowcase_key == NULL) {
        return NULL;
    }
    h->hash = ngx_hash_strlow(h->lowcase_key, (u_char *) name, n);
    h->key.data = (u_char *) name;
    h->key.len = n;
    h->value.data = value;
    h->value.len = len;
    return h;
}

/* Push prefix + suffix: value (a C string, copied). */
static ngx_int_t
ngx_http_gatehouse_push_identity(ngx_http_request_t *r, ngx_list_t *list, const char *suffix,
    const char *value)
{
    const char *prefix = ngx_http_gatehouse_prefix(r);
    size_t  plen = ngx_strlen(prefix), slen = ngx_strlen(suffix);
    size_t  vlen = ngx_strlen(value);
    u_char *name, *v;

    name = ngx_pnalloc(r->pool, plen + slen + 1);
    v = ngx_pnalloc(r->pool, vlen + 1);
    if (name == NULL || v == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(ngx_cpymem(name, prefix, plen), suffix, slen + 1);
    ngx_memcpy(v, value, vlen + 1);
    return ngx_http_gatehouse_push(r, list, (const char *) name, v, vlen) != NULL
           ? NGX_OK : NGX_ERROR;
}

ngx_int_t
ngx_http_gatehouse_identity_add(ngx_http_request_t *r, ngx_list_t *list,
    const gh_dialect *dialect, const gh_principal *who, unsigned privileges)
{
    const char *role = gh_role_name(who->role);

    char        privs[NGX_HTTP_GATEHOUSE_PRIVILEGES_MAX];
    size_t      n = 0, len;
    unsigned    bit;
    const char *name;

    for (bit = 1; bit != 0 && bit <= privileges; bit <<= 1) {
        name = (privileges & bit) ? gh_privilege_name((gh_privilege) bit) : NULL;
        len = name != NULL ? ngx_strlen(name) : 0;
        if (len == 0 || n + len + 2 > sizeof(privs)) {
            continue;
        }
        if (n > 0) {
            privs[n++] = ',';
        }
        n = (size_t) ((char *) ngx_cpymem(privs + n, name, len) - privs);
    }
    privs[n] = '\0';
    if (ngx_http_gatehouse_push_identity(r, list, "User", who->user) != NGX_OK
        || ngx_http_gatehouse_push_identity(r, list, "Role", role != NULL ? role : "") != NGX_OK
        || ngx_http_gatehouse_push_identity(r, list, "Privileges", privs) != NGX_OK
        || ngx_http_gatehouse_push_identity(r, list, "Session", who->session_id) != NGX_OK
        || ngx_http_gatehouse_push_identity(r, list, "Dialect", dialect->name) != NGX_OK)
    {
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* X-Forwarded-For (the client's address), -Proto, -Host (as the client sent it). */
static ngx_int_t
ngx_http_gatehouse_add_forwarded(ngx_http_request_t *r, ngx_list_t *list)
{
    ngx_table_elt_t **xff, *h;
    ngx_str_t        *host;

    h = ngx_http_gatehouse_push(r, list, "X-Forwarded-For", r->connection->addr_text.data,
                                r->connection->addr_text.len);
    if (h == NULL) {
        return NGX_ERROR;
    }
#if (NGX_HTTP_X_FORWARDED_FOR)
    /* A new array: a subrequest's headers_in shares its parent's. */
    if (ngx_array_init(&r->headers_in.x_forwarded_for, r->pool, 1, sizeof(ngx_table_elt_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }
    xff = ngx_array_push(&r->headers_in.x_forwarded_for);
    if (xff == NULL) {
        return NGX_ERROR;
    }
    *xff = h;
#else
    (void) xff;
#endif
#if (NGX_HTTP_SSL)
    if (r->connection->ssl != NULL) {
        h = ngx_http_gatehouse_push(r, list, "X-Forwarded-Proto", (u_char *) "https", 5);
    } else
#endif
    {
        h = ngx_http_gatehouse_push(r, list, "X-Forwarded-Proto", (u_char *) "http", 4);
    }
    if (h == NULL) {
        return NGX_ERROR;
    }
    host = r->headers_in.host != NULL ? &r->headers_in.host->value : &r->headers_in.server;
    if (host->len > 0
        && ngx_http_gatehouse_push(r, list, "X-Forwarded-Host", host->data, host->len) == NULL)
    {
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* Copy h to list, its cookies filtered when it is a Cookie header. */
static ngx_int_t
ngx_http_gatehouse_keep(ngx_http_request_t *r, ngx_list_t *list, ngx_table_elt_t *h)
{
    ngx_table_elt_t  *copy, **cookie;
    u_char           *value;
    size_t            len;

    if (!ngx_http_gatehouse_name_is(&h->key, "Cookie", 1)) {
        copy = ngx_list_push(list);
        if (copy == NULL) {
            return NGX_ERROR;
        }
        *copy = *h;
        return NGX_OK;
    }
    value = ngx_pnalloc(r->pool, 2 * h->value.len);
    if (value == NULL) {
        return NGX_ERROR;
    }
    len = gh_cookies_without((gh_str) { (const char *) h->value.data, h->value.len },
                             ngx_http_gatehouse_cookie_dropped, NULL, (char *) value);
    if (len == 0) {
        return NGX_OK;
    }
    copy = ngx_list_push(list);
    cookie = ngx_array_push(&r->headers_in.cookies);
    if (copy == NULL || cookie == NULL) {
        return NGX_ERROR;
    }
    *copy = *h;
    copy->value.data = value;
    copy->value.len = len;
    *cookie = copy;
    return NGX_OK;
}

/* Who the upstream is told the request is: the dialect's own finding (an
 * API token), else the adapter's, else nobody (an open route). */
const gh_principal *
ngx_http_gatehouse_identity_of(ngx_http_gatehouse_ctx_t *ctx, unsigned *privileges)
{
    gh_policy_subject subject;

    if (ctx->req.gateway_who != NULL && ctx->gw.set) {
        *privileges = ctx->gw.privileges;
        return &ctx->gw.who;
    }
    if (!ctx->has_who) {
        *privileges = 0;
        return NULL;
    }
    subject = gh_policy_subject_of(&ctx->who);
    *privileges = gh_policy_holds(&subject);
    return &ctx->who;
}

/* Would the access handler's request, passed on, last (a WebSocket upgrade,
 * an event stream)? Then the adapter keeps what it needs to watch it. */
ngx_uint_t
ngx_http_gatehouse_long_lived(ngx_http_request_t *r, const gh_request *req)
{
    gh_str      accept;
    const char *type = "text/event-stream";
    size_t      n = ngx_strlen(type);

    if (r->headers_in.upgrade != NULL) {
        return 1;
    }
    accept = gh_request_header(req, "Accept");
    return accept.data != NULL && accept.len >= n
           && ngx_strlcasestrn((u_char *) accept.data, (u_char *) accept.data + accept.len,
                               (u_char *) type, n - 1) != NULL;
}

ngx_int_t
ngx_http_gatehouse_identity(ngx_http_request_t *r, const gh_dialect *dialect,
    const gh_principal *who, unsigned privileges)
{
    const char       *prefix = ngx_http_gatehouse_prefix(r);
    ngx_list_t        list;
    ngx_list_part_t  *part = &r->headers_in.headers.part;
    ngx_table_elt_t  *h = part->elts;
    ngx_uint_t        i, n = 0;

    for (ngx_list_part_t *p = part; p != NULL; p = p->next) {
        n += p->nelts;
    }
    if (ngx_list_init(&list, r->pool, n + 8, sizeof(ngx_table_elt_t)) != NGX_OK) {
        return NGX_ERROR;
    }
    /* New arrays: a subrequest's headers_in shares its parent's. */
    r->headers_in.authorization = NULL;
    if (ngx_array_init(&r->headers_in.cookies, r->pool, 1, sizeof(ngx_table_elt_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }
    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (ngx_http_gatehouse_dropped(&h[i].key, prefix)) {
            continue;
        }
        if (ngx_http_gatehouse_keep(r, &list, &h[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }
    if (who != NULL
        && ngx_http_gatehouse_identity_add(r, &list, dialect, who, privileges) != NGX_OK)
    {
        return NGX_ERROR;
    }
    if (ngx_http_gatehouse_add_forwarded(r, &list) != NGX_OK) {
        return NGX_ERROR;
    }
    /* The list's last part is its first while it has one: point it at the
     * copy's, not this stack's. */
    r->headers_in.headers = list;
    if (list.last == &list.part) {
        r->headers_in.headers.last = &r->headers_in.headers.part;
    }
    return NGX_OK;
}
