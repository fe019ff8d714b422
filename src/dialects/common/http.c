/*
 * http.c: the small helpers around gatehouse's own request and response
 * (http.h): method names, header lookup through the adapter's callback, which
 * media types an Accept header takes, and
 * the response's memory. Header values are printed straight into the
 * response's own arena, one after another, so adding a header allocates
 * nothing; one that does not fit is dropped whole, as one past the count
 * is. A body is owned (malloc'd, freed by gh_response_free) or borrowed
 * (bytes that outlive the response, never freed here), so a dialect never
 * frees anything by hand. When memory runs out a body is left empty (NULL,
 * length 0) rather than aborting, so the caller still holds a consistent
 * response. Comparisons are ASCII-only so no locale can change them.
 */
#include "http.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(GH_RESPONSE_HEADER_BYTES <= UINT16_MAX, "arena offsets are 16 bits");
_Static_assert(offsetof(gh_response, arena) + GH_RESPONSE_HEADER_BYTES == sizeof(gh_response),
               "gh_response_init zeroes all but the arena, which must come last");

static const struct {
    gh_method   method;
    const char *name;
} gh_methods[] = {
    { GH_METHOD_GET,     "GET" },
    { GH_METHOD_HEAD,    "HEAD" },
    { GH_METHOD_POST,    "POST" },
    { GH_METHOD_PUT,     "PUT" },
    { GH_METHOD_PATCH,   "PATCH" },
    { GH_METHOD_DELETE,  "DELETE" },
    { GH_METHOD_OPTIONS, "OPTIONS" },
};

#define GH_NMETHODS (sizeof(gh_methods) / sizeof(gh_methods[0]))

/* Method names are case-sensitive (RFC 9110 §9.1): "get" is not GET. */
gh_method gh_method_from(gh_str name)
{
    for (size_t i = 0; i < GH_NMETHODS; i++) {
        if (gh_str_eq(name, gh_methods[i].name))
            return gh_methods[i].method;
    }
    return GH_METHOD_OTHER;
}

const char *gh_method_name(gh_method method)
{
    for (size_t i = 0; i < GH_NMETHODS; i++) {
        if (gh_methods[i].method == method)
            return gh_methods[i].name;
    }
    return "OTHER";
}

void gh_allow_text(unsigned methods, char *out, size_t outlen)
{
    static const gh_method order[] = { GH_METHOD_GET, GH_METHOD_HEAD, GH_METHOD_POST,
                                       GH_METHOD_PATCH, GH_METHOD_DELETE };
    size_t o = 0;

    /* Without printf: Redfish sends Allow with every resource. */
    if (outlen == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *name = gh_method_name(order[i]);
        size_t      len = strlen(name);

        if ((methods & GH_METHOD_BIT(order[i])) == 0)
            continue;
        if (o + (o > 0 ? 2 : 0) + len >= outlen)
            break;
        if (o > 0) {
            memcpy(out + o, ", ", 2);
            o += 2;
        }
        memcpy(out + o, name, len + 1);
        o += len;
    }
}

gh_str gh_request_header(const gh_request *req, const char *name)
{
    gh_str none = { NULL, 0 };

    if (req == NULL || req->header == NULL || name == NULL)
        return none;
    return req->header(req, name);
}

void gh_request_wipe(gh_request *req)
{
    gh_str auth;

    if (req == NULL)
        return;
    auth = gh_request_header(req, "Authorization");
    /* Both views are of memory the adapter owns and may write: nginx's
     * header buffer and the body copy in the request's pool. */
    gh_wipe((char *)auth.data, auth.len);
    gh_wipe((char *)req->body.data, req->body.len);
    req->body = (gh_str){ NULL, 0 };
}

/* The value a format makes, into v (room bytes); its length, or -1 when it
 * does not fit. A value that is a plain string, or a format that is only
 * "%s", is copied: most values are, and vsnprintf costs more than the copy. */
static int gh_response_format(char *v, size_t room, const char *fmt, va_list ap)
{
    const char *text;
    size_t      len;
    int         n;

    if (strchr(fmt, '%') == NULL) {
        text = fmt;
    } else if (strcmp(fmt, "%s") == 0) {
        text = va_arg(ap, const char *);
        if (text == NULL)
            return -1;
    } else {
        n = vsnprintf(v, room, fmt, ap);
        return n < 0 || (size_t)n >= room ? -1 : n;
    }
    len = strlen(text);
    if (len >= room)
        return -1;
    memcpy(v, text, len + 1);
    return (int)len;
}

void gh_response_header_add(gh_response *resp, const char *name, const char *fmt, ...)
{
    va_list ap;
    size_t  room;
    char   *v;
    int     len;

    if (resp == NULL || name == NULL || fmt == NULL || resp->nheaders >= GH_RESPONSE_HEADERS_MAX ||
        resp->arena_used >= sizeof(resp->arena))
        return;
    v = resp->arena + resp->arena_used;
    room = sizeof(resp->arena) - resp->arena_used;
    va_start(ap, fmt);
    len = gh_response_format(v, room, fmt, ap);
    va_end(ap);
    if (len < 0) {
        gh_wipe(v, room);       /* a cut value may lie past arena_used */
        return;
    }
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value_off = (uint16_t)resp->arena_used;
    resp->headers[resp->nheaders].value_len = (uint16_t)len;
    resp->nheaders++;
    resp->arena_used += (size_t)len + 1;
}

int64_t gh_response_retry_after(gh_response *resp, int64_t seconds)
{
    if (seconds < 1)
        seconds = 1;
    gh_response_header_add(resp, "Retry-After", "%lld", (long long)seconds);
    return seconds;
}

const char *gh_response_value(const gh_response *resp, size_t i)
{
    return resp->arena + resp->headers[i].value_off;
}

/* The body is body; owned is body when the response takes it, else NULL. */
static void gh_response_body_put(gh_response *resp, const char *body, char *owned, size_t len,
                                 const char *content_type)
{
    free(resp->body_owned);
    resp->body = body;
    resp->body_owned = owned;
    resp->body_len = body != NULL ? len : 0;
    resp->content_type = content_type;
}

void gh_response_set_body(gh_response *resp, char *body, size_t len, const char *content_type)
{
    if (resp == NULL) {
        free(body);
        return;
    }
    gh_response_body_put(resp, body, body, len, content_type);
}

/* The copy carries a NUL after len bytes so a body may be logged or parsed
 * as a string in tests; body_len does not count it. */
void gh_response_copy_body(gh_response *resp, const void *body, size_t len,
                           const char *content_type)
{
    char *copy;

    if (resp == NULL)
        return;
    if (len > 0 && body == NULL)
        len = 0;
    copy = malloc(len + 1);
    if (copy != NULL) {
        if (len > 0)
            memcpy(copy, body, len);
        copy[len] = '\0';
    }
    gh_response_set_body(resp, copy, len, content_type);
}

void gh_response_ref_body(gh_response *resp, const char *body, size_t len,
                          const char *content_type)
{
    if (resp != NULL)
        gh_response_body_put(resp, body, NULL, len, content_type);
}

char *gh_response_release_body(gh_response *resp)
{
    char *body;

    if (resp == NULL)
        return NULL;
    body = resp->body_owned;
    resp->body_owned = NULL;
    return body;
}

void gh_response_init(gh_response *resp)
{
    memset(resp, 0, offsetof(gh_response, arena));
}

/* The arena may hold a session's token (Set-Cookie, X-Auth-Token): wiped. */
void gh_response_free(gh_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body_owned);
    gh_wipe(resp->arena, resp->arena_used);
    gh_response_init(resp);
}

static unsigned char gh_ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool gh_str_eq_nocase(gh_str a, const char *b)
{
    size_t blen;

    if (b == NULL)
        return false;
    blen = strlen(b);
    if (a.len != blen || (a.len > 0 && a.data == NULL))
        return false;
    for (size_t i = 0; i < blen; i++) {
        if (gh_ascii_lower((unsigned char)a.data[i]) != gh_ascii_lower((unsigned char)b[i]))
            return false;
    }
    return true;
}

bool gh_str_eq(gh_str a, const char *b)
{
    size_t blen;

    if (b == NULL)
        return false;
    blen = strlen(b);
    if (a.len != blen || (a.len > 0 && a.data == NULL))
        return false;
    return blen == 0 || memcmp(a.data, b, blen) == 0;
}

bool gh_path_decode(gh_str raw, char *out, size_t max, size_t *out_len)
{
    size_t o = 0;

    if (raw.data == NULL || raw.len == 0 || raw.data[0] != '/')
        return false;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.data[i];

        if (c == '%') {
            int hi = i + 2 < raw.len ? gh_hex_digit((unsigned char)raw.data[i + 1]) : -1;
            int lo = i + 2 < raw.len ? gh_hex_digit((unsigned char)raw.data[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            if (c == '/' || c == '\0')
                return false;
            i += 2;
        } else if (c == '\0') {
            return false;
        }
        if (o >= max)
            return false;
        out[o++] = c;
    }
    if (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
    *out_len = o;
    return true;
}

/* A media range's parameters, from its first ';': is one of them q=0? */
static bool gh_http_q_zero(gh_str params)
{
    size_t i = 0;

    while (i < params.len) {
        size_t start = ++i;     /* past the ';' */
        gh_str p;
        bool zero = true;

        while (i < params.len && params.data[i] != ';')
            i++;
        p = gh_str_trim((gh_str){ params.data + start, i - start });
        if (p.len < 3 || (p.data[0] != 'q' && p.data[0] != 'Q') || p.data[1] != '=')
            continue;
        for (size_t k = 2; k < p.len; k++)
            zero = zero && (p.data[k] == '0' || p.data[k] == '.');
        return zero;
    }
    return false;
}

bool gh_accept_allows(gh_str accept, const char *type)
{
    const char *slash = type != NULL ? strchr(type, '/') : NULL;
    char wild[64];
    size_t i = 0;

    if (accept.data == NULL || gh_str_trim(accept).len == 0)
        return true;
    if (slash == NULL || (size_t)(slash - type) + 3 > sizeof(wild))
        return false;
    snprintf(wild, sizeof(wild), "%.*s/*", (int)(slash - type), type);
    while (i < accept.len) {
        size_t start = i, n = 0;
        gh_str item, range;

        while (i < accept.len && accept.data[i] != ',')
            i++;
        item = (gh_str){ accept.data + start, i - start };
        i++;
        while (n < item.len && item.data[n] != ';')
            n++;
        range = gh_str_trim((gh_str){ item.data, n });
        if ((gh_str_eq_nocase(range, type) || gh_str_eq_nocase(range, wild) ||
             gh_str_eq(range, "*/*")) &&
            !gh_http_q_zero((gh_str){ item.data + n, item.len - n }))
            return true;
    }
    return false;
}
