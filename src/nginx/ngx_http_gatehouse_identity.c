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

/* The headers gatehouse adds, in the order of ngx_http_gatehouse_identity_t.names. */
static const char *const ngx_http_gatehouse_identity_suffixes[] = {
    "User", "Role", "Privileges", "Session", "Dialect"
};
static const char *const ngx_http_gatehouse_forwarded[] = {
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"
};

enum {
    NGX_HTTP_GATEHOUSE_ID_USER = 0,
    NGX_HTTP_GATEHOUSE_ID_ROLE,
    NGX_HTTP_GATEHOUSE_ID_PRIVILEGES,
    NGX_HTTP_GATEHOUSE_ID_SESSION,
    NGX_HTTP_GATEHOUSE_ID_DIALECT,
    NGX_HTTP_GATEHOUSE_ID_XFF,
    NGX_HTTP_GATEHOUSE_ID_XFP,
    NGX_HTTP_GATEHOUSE_ID_XFH
};

static u_char
ngx_http_gatehouse_fold(u_char c)
{
    c = ngx_tolower(c);
    return c == '_' ? '-' : c;
}

/* Do the first n bytes of a and b match, ignoring case, '_' as '-'? b is
 * folded already. */
static ngx_uint_t
ngx_http_gatehouse_folded_eq(const u_char *a, const u_char *b, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (ngx_http_gatehouse_fold(a[i]) != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* s folded, into cf's pool; its first byte marked in first. */
static ngx_int_t
ngx_http_gatehouse_folded(ngx_conf_t *cf, const char *s, ngx_str_t *out, u_char *first)
{
    size_t  i, n = ngx_strlen(s);

    out->data = ngx_pnalloc(cf->pool, n);
    if (out->data == NULL || n == 0) {
        return NGX_ERROR;
    }
    for (i = 0; i < n; i++) {
        out->data[i] = ngx_http_gatehouse_fold((u_char) s[i]);
    }
    out->len = n;
    first[out->data[0]] = 1;
    return NGX_OK;
}

/* A header's name and the lower-case name and hash proxy modules look it up
 * by, made once: a request's copy takes them as they are. */
static ngx_int_t
ngx_http_gatehouse_name(ngx_conf_t *cf, const char *prefix, const char *name,
    ngx_table_elt_t *h)
{
    size_t  plen = ngx_strlen(prefix), n = plen + ngx_strlen(name);

    h->key.data = ngx_pnalloc(cf->pool, n);
    h->lowcase_key = ngx_pnalloc(cf->pool, n);
    if (h->key.data == NULL || h->lowcase_key == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(ngx_cpymem(h->key.data, prefix, plen), name, n - plen);
    h->key.len = n;
    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, n);
    return NGX_OK;
}

/* The text of each set of privileges: DMTF names, comma-separated. */
static ngx_int_t
ngx_http_gatehouse_privilege_texts(ngx_conf_t *cf, ngx_http_gatehouse_identity_t *ids)
{
    u_char      buf[256], *p;
    ngx_uint_t  set, bit;

    for (set = 0; set < NGX_HTTP_GATEHOUSE_PRIVILEGE_SETS; set++) {
        p = buf;
        for (bit = 1; bit < NGX_HTTP_GATEHOUSE_PRIVILEGE_SETS; bit <<= 1) {
            if (set & bit) {
                p = ngx_slprintf(p, buf + sizeof(buf), "%s%s", p == buf ? "" : ",",
                                 gh_privilege_name((gh_privilege) bit));
            }
        }
        ids->privileges[set].len = p - buf;
        ids->privileges[set].data = ngx_pnalloc(cf->pool, p - buf + 1);
        if (ids->privileges[set].data == NULL) {
            return NGX_ERROR;
        }
        ngx_memcpy(ids->privileges[set].data, buf, p - buf);
    }
    return NGX_OK;
}

/* Every dialect's credential headers or cookies, folded, into out. */
static ngx_int_t
ngx_http_gatehouse_listed_names(ngx_conf_t *cf, ngx_uint_t cookies, ngx_str_t *out,
    ngx_uint_t max, ngx_uint_t *n, u_char *first)
{
    const char *const *list;
    ngx_uint_t         d, i;

    for (d = 0; gh_dialects[d] != NULL; d++) {
        list = cookies ? gh_dialects[d]->credential_cookies : gh_dialects[d]->credential_headers;
        for (i = 0; list != NULL && list[i] != NULL; i++) {
            if (*n == max || ngx_http_gatehouse_folded(cf, list[i], &out[*n], first) != NGX_OK) {
                return NGX_ERROR;
            }
            (*n)++;
        }
    }
    return NGX_OK;
}

ngx_int_t
ngx_http_gatehouse_identity_init(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf)
{
    ngx_http_gatehouse_identity_t *ids;
    const char                    *prefix = gmcf->config.identity_header_prefix;
    ngx_uint_t                     i;

    ids = ngx_pcalloc(cf->pool, sizeof(*ids));
    if (ids == NULL) {
        return NGX_ERROR;
    }
    for (i = 0; i < 5; i++) {
        if (ngx_http_gatehouse_name(cf, prefix, ngx_http_gatehouse_identity_suffixes[i],
                                    &ids->names[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }
    for (i = 0; i < 3; i++) {
        if (ngx_http_gatehouse_name(cf, "", ngx_http_gatehouse_forwarded[i],
                                    &ids->names[NGX_HTTP_GATEHOUSE_ID_XFF + i]) != NGX_OK
            || ngx_http_gatehouse_folded(cf, ngx_http_gatehouse_forwarded[i],
                                         &ids->dropped[ids->ndropped++], ids->first) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }
    if (ngx_http_gatehouse_folded(cf, prefix, &ids->prefix, ids->first) != NGX_OK
        || ngx_http_gatehouse_folded(cf, "Cookie", &ids->cookie, ids->cookie_first) != NGX_OK
        || ngx_http_gatehouse_listed_names(cf, 0, ids->dropped, NGX_HTTP_GATEHOUSE_DROPPED_MAX,
                                           &ids->ndropped, ids->first) != NGX_OK
        || ngx_http_gatehouse_listed_names(cf, 1, ids->cookies, NGX_HTTP_GATEHOUSE_DROPPED_MAX,
                                           &ids->ncookies, ids->cookie_first) != NGX_OK
        || ngx_http_gatehouse_privilege_texts(cf, ids) != NGX_OK)
    {
        return NGX_ERROR;
    }
    gmcf->identity = ids;
    return NGX_OK;
}

/* Is name (whole) one of names? */
static ngx_uint_t
ngx_http_gatehouse_among(const u_char *name, size_t len, const ngx_str_t *names, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (names[i].len == len && ngx_http_gatehouse_folded_eq(name, names[i].data, len)) {
            return 1;
        }
    }
    return 0;
}

/* Is a request header dropped: a credential, of the identity family, or the
 * client's X-Forwarded-*? Most names are told apart by their first byte. */
static ngx_uint_t
ngx_http_gatehouse_dropped(const ngx_http_gatehouse_identity_t *ids, ngx_str_t *name)
{
    if (name->len == 0 || !ids->first[ngx_http_gatehouse_fold(name->data[0])]) {
        return 0;
    }
    return (name->len >= ids->prefix.len
            && ngx_http_gatehouse_folded_eq(name->data, ids->prefix.data, ids->prefix.len))
           || ngx_http_gatehouse_among(name->data, name->len, ids->dropped, ids->ndropped);
}

/* Is a cookie of that name any dialect's credential (gh_cookies_without)? */
static bool
ngx_http_gatehouse_cookie_dropped(gh_str name, void *arg)
{
    const ngx_http_gatehouse_identity_t *ids = arg;

    return name.len > 0 && ids->cookie_first[ngx_http_gatehouse_fold((u_char) name.data[0])]
           && ngx_http_gatehouse_among((const u_char *) name.data, name.len, ids->cookies,
                                       ids->ncookies);
}

/* Push header k of the tables with value onto list (value lives as long as
 * the request). */
static ngx_table_elt_t *
ngx_http_gatehouse_push(const ngx_http_gatehouse_identity_t *ids, ngx_list_t *list,
    ngx_uint_t k, const u_char *value, size_t len)
{
    ngx_table_elt_t *h = ngx_list_push(list);

    if (h == NULL) {
        return NULL;
    }
    *h = ids->names[k];
    h->value.data = (u_char *) value;
    h->value.len = len;
    return h;
}

ngx_int_t
ngx_http_gatehouse_identity_add(ngx_http_request_t *r, ngx_list_t *list,
    const gh_dialect *dialect, const gh_principal *who, unsigned privileges)
{
    const ngx_http_gatehouse_identity_t *ids = ngx_http_gatehouse_main_conf(r)->identity;
    const char                          *role = gh_role_name(who->role);
    const ngx_str_t                     *privs;

    if (role == NULL) {
        role = "";
    }
    privs = &ids->privileges[privileges & (NGX_HTTP_GATEHOUSE_PRIVILEGE_SETS - 1)];
    if (ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_USER, (const u_char *) who->user,
                                ngx_strlen(who->user)) == NULL
        || ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_ROLE, (const u_char *) role,
                                   ngx_strlen(role)) == NULL
        || ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_PRIVILEGES, privs->data,
                                   privs->len) == NULL
        || ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_SESSION,
                                   (const u_char *) who->session_id,
                                   ngx_strlen(who->session_id)) == NULL
        || ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_DIALECT,
                                   (const u_char *) dialect->name,
                                   ngx_strlen(dialect->name)) == NULL)
    {
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* X-Forwarded-For (the client's address), -Proto, -Host (as the client sent it). */
static ngx_int_t
ngx_http_gatehouse_add_forwarded(ngx_http_request_t *r, const ngx_http_gatehouse_identity_t *ids,
    ngx_list_t *list)
{
    ngx_table_elt_t **xff, *h;
    ngx_str_t        *host;

    h = ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_XFF,
                                r->connection->addr_text.data, r->connection->addr_text.len);
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
        h = ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_XFP, (u_char *) "https", 5);
    } else
#endif
    {
        h = ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_XFP, (u_char *) "http", 4);
    }
    if (h == NULL) {
        return NGX_ERROR;
    }
    host = r->headers_in.host != NULL ? &r->headers_in.host->value : &r->headers_in.server;
    if (host->len > 0
        && ngx_http_gatehouse_push(ids, list, NGX_HTTP_GATEHOUSE_ID_XFH, host->data,
                                   host->len) == NULL)
    {
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* Copy h to list, its cookies filtered when it is a Cookie header. */
static ngx_int_t
ngx_http_gatehouse_keep(ngx_http_request_t *r, const ngx_http_gatehouse_identity_t *ids,
    ngx_list_t *list, ngx_table_elt_t *h)
{
    ngx_table_elt_t  *copy, **cookie;
    u_char           *value;
    size_t            len;

    if (h->key.len != ids->cookie.len
        || !ngx_http_gatehouse_folded_eq(h->key.data, ids->cookie.data, ids->cookie.len))
    {
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
                             ngx_http_gatehouse_cookie_dropped, (void *) ids, (char *) value);
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
    const ngx_http_gatehouse_identity_t *ids = ngx_http_gatehouse_main_conf(r)->identity;
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
        if (ngx_http_gatehouse_dropped(ids, &h[i].key)) {
            continue;
        }
        if (ngx_http_gatehouse_keep(r, ids, &list, &h[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }
    if (who != NULL
        && ngx_http_gatehouse_identity_add(r, &list, dialect, who, privileges) != NGX_OK)
    {
        return NGX_ERROR;
    }
    if (ngx_http_gatehouse_add_forwarded(r, ids, &list) != NGX_OK) {
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
