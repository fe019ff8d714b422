/*
 * http.h: gatehouse's own request and response, the only HTTP the dialects
 * see. The nginx adapter fills a gh_request from nginx's parsed request and
 * sends a gh_response back; unit tests and fuzz targets build them by hand.
 * A dialect's handlers may run in a thread-pool task: everything here is
 * plain memory, owned as each comment says.
 */
#ifndef GH_HTTP_H
#define GH_HTTP_H

#include "../core/config.h"
#include "../core/gh.h"

#define GH_RESPONSE_HEADERS_MAX 16

typedef enum {
    GH_METHOD_OTHER = 0,
    GH_METHOD_GET,
    GH_METHOD_HEAD,
    GH_METHOD_POST,
    GH_METHOD_PUT,
    GH_METHOD_PATCH,
    GH_METHOD_DELETE,
    GH_METHOD_OPTIONS
} gh_method;

typedef struct gh_request gh_request;

/* The value of a request header by name (case-insensitive); .data NULL when
 * absent. The view lives as long as the request. */
typedef gh_str (*gh_header_fn)(const gh_request *req, const char *name);

struct gh_request {
    gh_method    method;
    gh_str       method_name;     /* as sent */
    gh_str       path;            /* raw path, no query, not percent-decoded */
    gh_str       query;           /* after '?', raw; len 0 when none */
    gh_str       body;            /* whole body when the route asked for it */
    char         client_addr[GH_ADDR_MAX + 1];
    bool         secure;          /* arrived over TLS */
    gh_header_fn header;
    void        *adapter;         /* for header(): the adapter's own request */
    const gh_config *config;      /* the configuration in force, for classify(); NULL:
                                   * the defaults (a fuzz target, an error page) */
};

typedef struct {
    char *name;                   /* malloc'd */
    char *value;                  /* malloc'd */
} gh_response_header;

typedef struct {
    int                 status;
    const char         *reason;   /* static; non-NULL: sent as written */
    gh_response_header  headers[GH_RESPONSE_HEADERS_MAX];
    size_t              nheaders;
    char               *body;     /* malloc'd, owned by the response */
    size_t              body_len;
    const char         *content_type; /* static */
} gh_response;

/* The method of a name ("GET", ...); GH_METHOD_OTHER when unknown. */
gh_method gh_method_from(gh_str name);
const char *gh_method_name(gh_method method);

/* Header value by name through req->header; .data NULL when absent. */
gh_str gh_request_header(const gh_request *req, const char *name);

/* Add a header (printf-style value); silently dropped past the limit. */
void gh_response_header_add(gh_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Take ownership of a malloc'd body. */
void gh_response_set_body(gh_response *resp, char *body, size_t len,
                          const char *content_type);
/* Copy a body. */
void gh_response_copy_body(gh_response *resp, const void *body, size_t len,
                           const char *content_type);
/* Free what the response owns and zero it. */
void gh_response_free(gh_response *resp);

/* Percent-decode a request path (as gh_request.path holds it) into out,
 * NUL-terminated, dropping one trailing slash after the root. false for a
 * path not starting with '/', a bad escape, an escaped '/' or NUL (they would
 * change which resource is meant), or more than max bytes decoded; out is
 * then undefined. out holds max + 1 bytes. */
bool gh_path_decode(gh_str raw, char *out, size_t max, size_t *out_len);

/* Case-insensitive compare of a view with a C string. */
bool gh_str_eq_nocase(gh_str a, const char *b);
/* Case-sensitive compare of a view with a C string. */
bool gh_str_eq(gh_str a, const char *b);

#endif
