/*
 * http.c: the small helpers around gatehouse's own request and response
 * (http.h): method names, header lookup through the adapter's callback, and
 * the response's owned memory. A response owns every header name and value
 * and its body (all malloc'd); gh_response_free releases them all, so a
 * dialect never frees anything by hand. When memory runs out a header is
 * dropped and a body left empty (NULL, length 0) rather than aborting, so
 * the caller still holds a consistent response. Comparisons are ASCII-only
 * so no locale can change them.
 */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

gh_str gh_request_header(const gh_request *req, const char *name)
{
    gh_str none = { NULL, 0 };

    if (req == NULL || req->header == NULL || name == NULL)
        return none;
    return req->header(req, name);
}

void gh_response_header_add(gh_response *resp, const char *name, const char *fmt, ...)
{
    va_list ap;
    char   *n = NULL;
    char   *v = NULL;
    int     len;

    if (resp == NULL || name == NULL || fmt == NULL || resp->nheaders >= GH_RESPONSE_HEADERS_MAX)
        goto done;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        goto done;

    n = strdup(name);
    v = malloc((size_t)len + 1);
    if (n == NULL || v == NULL)
        goto done;

    va_start(ap, fmt);
    vsnprintf(v, (size_t)len + 1, fmt, ap);
    va_end(ap);

    resp->headers[resp->nheaders].name = n;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    n = NULL;
    v = NULL;
done:
    free(n);
    free(v);
}

void gh_response_set_body(gh_response *resp, char *body, size_t len, const char *content_type)
{
    if (resp == NULL) {
        free(body);
        return;
    }
    free(resp->body);
    resp->body = body;
    resp->body_len = body != NULL ? len : 0;
    resp->content_type = content_type;
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

void gh_response_free(gh_response *resp)
{
    if (resp == NULL)
        return;
    for (size_t i = 0; i < resp->nheaders && i < GH_RESPONSE_HEADERS_MAX; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
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

static int gh_path_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool gh_path_decode(gh_str raw, char *out, size_t max, size_t *out_len)
{
    size_t o = 0;

    if (raw.data == NULL || raw.len == 0 || raw.data[0] != '/')
        return false;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.data[i];

        if (c == '%') {
            int hi = i + 2 < raw.len ? gh_path_hex(raw.data[i + 1]) : -1;
            int lo = i + 2 < raw.len ? gh_path_hex(raw.data[i + 2]) : -1;

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
