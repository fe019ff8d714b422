/*
 * http.h: gatehouse's own request and response, the only HTTP the dialects
 * see. The nginx adapter fills a gh_request from nginx's parsed request and
 * sends a gh_response back; unit tests and fuzz targets build them by hand.
 * A dialect's handlers may run in a thread-pool task: everything here is
 * plain memory, owned as each comment says.
 *
 * A response costs no allocation of its own: header names are static, the
 * values sit in a fixed arena inside it, and a body that outlives it (the
 * bytes of the bundled tree) is borrowed rather than copied.
 */
#ifndef GH_HTTP_H
#define GH_HTTP_H

#include <string.h>

#include "../../core/config.h"
#include "../../core/gh.h"

#define GH_RESPONSE_HEADERS_MAX  16
/* Bytes of all header values of one response, a NUL after each. The largest
 * set a dialect sends (oVirt's Link with a new session's Set-Cookie) is
 * about 300. No larger: the response sits in the request's context in
 * nginx's pool, where 2048 cost an extra pool block per request. */
#define GH_RESPONSE_HEADER_BYTES 1024

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
    int64_t      retry_after;     /* seconds, for a GH_REFUSE_THROTTLED refusal */
    bool         secure;          /* arrived over TLS */
    gh_header_fn header;
    void        *adapter;         /* for header(): the adapter's own request */
    const gh_config *config;      /* the configuration in force, for classify(); NULL:
                                   * the defaults (a fuzz target, an error page) */
    /* Gateway mode, a plan.upstream_first route: the upstream's answer to
     * the same request (dialect.h). Status 0: none (no upstream, or it
     * failed or answered too much to hold). */
    int          upstream_status;
    gh_str       upstream_body;
    /* Gateway mode, forward on a route open to the adapter that the dialect
     * authenticates itself (a Proxmox VE API token): where forward says who
     * the request is, for the identity headers the upstream gets
     * (gateway.h). NULL elsewhere. */
    struct gh_gateway_who *gateway_who;
};

/* A value is kept as its place in the arena, not a pointer, so a response
 * stays a plain struct: copied or moved, its headers come along. */
typedef struct {
    const char *name;             /* static */
    uint16_t    value_off;        /* the value, NUL-terminated, at arena + value_off */
    uint16_t    value_len;
} gh_response_header;

typedef struct {
    int                 status;
    const char         *reason;   /* static; non-NULL: sent as written */
    gh_response_header  headers[GH_RESPONSE_HEADERS_MAX];
    size_t              nheaders;
    const char         *body;     /* body_len bytes, owned or borrowed */
    size_t              body_len;
    char               *body_owned;   /* malloc'd, == body, when the response owns
                                       * it; NULL when borrowed or none */
    const char         *content_type; /* static */
    /* An event stream: the body is its start, and the adapter keeps the
     * response open after it, writing the dialect's events as they come
     * (gh_dialect.stream_event) and keepalive, static, whenever the stream
     * has been quiet for the configured keepalive_seconds. */
    bool                stream;
    const char         *stream_keepalive;
    size_t              arena_used;
    char                arena[GH_RESPONSE_HEADER_BYTES];   /* the header values */
} gh_response;

/* The method of a name ("GET", ...); GH_METHOD_OTHER when unknown. */
gh_method gh_method_from(gh_str name);
const char *gh_method_name(gh_method method);

/* A set of methods: the bit of each, and GET with HEAD (a read). */
#define GH_METHOD_BIT(m) (1u << (m))
#define GH_METHOD_READ   (GH_METHOD_BIT(GH_METHOD_GET) | GH_METHOD_BIT(GH_METHOD_HEAD))

/* The value of an Allow header for a set of methods ("GET, HEAD, POST"),
 * in the order GET, HEAD, POST, PATCH, DELETE; cut short past outlen. */
void gh_allow_text(unsigned methods, char *out, size_t outlen);

/* Header value by name through req->header; .data NULL when absent. */
gh_str gh_request_header(const gh_request *req, const char *name);
/* Wipe the secrets a request carries in the adapter's memory, when it ends:
 * the Authorization header's value (Basic passwords, bearer and API tokens)
 * and the body (login JSON, forms, new passwords), which is forgotten. Both
 * views must be of writable memory that lives until then. */
void gh_request_wipe(gh_request *req);

/* Add a header: name of static storage, a printf-style value. Dropped whole,
 * never cut, past GH_RESPONSE_HEADERS_MAX headers or GH_RESPONSE_HEADER_BYTES. */
void gh_response_header_add(gh_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Retry-After: seconds, at least 1 (a throttle whose wait ran out between
 * the verdict and the reply still says when to come back). Returns the
 * seconds sent. */
int64_t gh_response_retry_after(gh_response *resp, int64_t seconds);
/* The value of header i (below nheaders), in resp's arena. */
const char *gh_response_value(const gh_response *resp, size_t i);
/* Take ownership of a malloc'd body. */
void gh_response_set_body(gh_response *resp, char *body, size_t len,
                          const char *content_type);
/* Copy a body. */
void gh_response_copy_body(gh_response *resp, const void *body, size_t len,
                           const char *content_type);
/* Borrow a body that outlives the response and its sending (the bytes of a
 * tree entry): neither copied nor ever freed through the response. */
void gh_response_ref_body(gh_response *resp, const char *body, size_t len,
                          const char *content_type);
/* Hand the owned body over: the caller free()s it, and resp->body stays
 * readable until then. NULL when the body is borrowed or there is none. */
char *gh_response_release_body(gh_response *resp);
/* Make resp empty: everything but the arena (unused until a header is added)
 * zeroed, so a response costs no 1 KiB memset per request. */
void gh_response_init(gh_response *resp);
/* Free what the response owns, wipe its header values and make it empty. */
void gh_response_free(gh_response *resp);

/* Percent-decode a request path (as gh_request.path holds it) into out,
 * NUL-terminated, dropping one trailing slash after the root. false for a
 * path not starting with '/', a bad escape, an escaped '/' or NUL (they would
 * change which resource is meant), or more than max bytes decoded; out is
 * then undefined. out holds max + 1 bytes. */
bool gh_path_decode(gh_str raw, char *out, size_t max, size_t *out_len);

/* Does an Accept header value take the media type type ("text/event-stream")?
 * Yes when it is absent or empty, or one of its media ranges is the type
 * itself, the wildcard of its top-level type ("text" then "/" then "*") or
 * the whole wildcard, parameters ignored, without a q of zero. */
bool gh_accept_allows(gh_str accept, const char *type);

/* Is path prefix or below it: does it start with prefix (not empty),
 * ignoring ASCII case, and end there or at a '/' (or does prefix end with
 * '/')? The rule by which a dialect owns its prefix (dialect.c). Inline: it
 * runs for each dialect on every request. */
static inline unsigned char gh_path_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static inline bool gh_path_under(gh_str path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (path.len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (gh_path_fold((unsigned char)path.data[i]) != gh_path_fold((unsigned char)prefix[i]))
            return false;
    }
    return path.len == n || path.data[n] == '/' || prefix[n - 1] == '/';
}

/* Case-insensitive compare of a view with a C string. */
bool gh_str_eq_nocase(gh_str a, const char *b);
/* Case-sensitive compare of a view with a C string. */
bool gh_str_eq(gh_str a, const char *b);
/* s without the blanks (spaces and tabs: HTTP's OWS) at either end. Inline:
 * the routers trim a header on every request. */
static inline gh_str gh_str_trim(gh_str s)
{
    while (s.len > 0 && (s.data[0] == ' ' || s.data[0] == '\t')) {
        s.data++;
        s.len--;
    }
    while (s.len > 0 && (s.data[s.len - 1] == ' ' || s.data[s.len - 1] == '\t'))
        s.len--;
    return s;
}

#endif
