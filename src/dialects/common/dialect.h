/*
 * dialect.h: what a dialect is to the rest of gatehouse: a path prefix, a
 * cheap classifier that runs on the event loop (is the route open, what
 * credential does the request carry, must the body be read, does serving it
 * wait on the store), the refusal and the error bodies in the dialect's own
 * format, the handler that serves a request once its principal is known, and
 * optionally the documents it renders once from the bundled tree at start.
 * How to add a dialect (its folder, its line in src/dialects/dialects.def,
 * these hooks, its tests) is said once, in src/dialects/README.md.
 *
 * This header names no dialect: a dialect's route lives in gh_plan as bytes
 * (GH_ROUTE_MAX below), and the dialect's own route header reads them as its
 * type. dialect.c, the table, is the one file that names the dialects.
 */
#ifndef GH_DIALECT_H
#define GH_DIALECT_H

#include <stddef.h>
#include <string.h>

#include "credential.h"
#include "http.h"
#include "tree.h"
#include "../../core/service.h"

typedef enum {
    GH_REFUSE_NO_CREDENTIALS = 1,   /* 401: none, or a session that is gone */
    GH_REFUSE_BAD_CREDENTIALS,      /* 401: wrong user or password */
    GH_REFUSE_LOCKED,               /* 401: account locked (said no more clearly than bad credentials) */
    GH_REFUSE_MALFORMED,            /* 400: an unreadable credential header */
    GH_REFUSE_UNAVAILABLE,          /* 503: the store failed; fail closed */
    GH_REFUSE_PLAIN_HTTP,           /* 403: credentials over plain HTTP */
    GH_REFUSE_THROTTLED             /* 429: the source failed too often; Retry-After req->retry_after */
} gh_refusal;

typedef enum {
    GH_WORK_INLINE = 0,    /* serve on the event loop: memory only */
    GH_WORK_STORE,         /* serve in the I/O thread pool: reads or writes the store */
    GH_WORK_HASH           /* serve in the hash thread pool: verifies a password */
} gh_work;

/* Room for the largest route of any dialect (PowerStore's: a decoded path of
 * 1024 bytes and what it names), and the alignment every route gets: that of
 * its widest member (int64_t, size_t, a pointer). No more: nginx's pools
 * align an allocation to NGX_ALIGNMENT, sizeof(unsigned long), and the plan
 * lives in the request's context there. A dialect's route header checks its
 * route fits with a _Static_assert; one that does not fit raises
 * GH_ROUTE_MAX here. */
#define GH_ROUTE_MAX    1160
#define GH_ROUTE_ALIGN  8

typedef struct {
    bool          open;        /* no authentication needed */
    bool          stream;      /* may answer with an event stream (gh_response.stream):
                                * the adapter keeps what it needs to watch the
                                * credential for as long as the stream lasts */
    bool          read_body;   /* serve wants req->body */
    /* Gateway mode (the location passes requests on to an upstream, see
     * forward below): gatehouse answers this route itself all the same (its
     * sessions, accounts, SSO, CA). Every route not local is passed on. */
    bool          local;
    /* Gateway mode, a local route: the adapter first fetches the same
     * method and URI from the upstream (credentials stripped, as forward
     * strips them) and hands its answer to serve in req->upstream_status and
     * req->upstream_body (the Redfish service root, whose links gatehouse
     * sets to its own services). */
    bool          upstream_first;
    gh_work       work;
    gh_credential cred;        /* what the request carries (ignored when open) */
    /* The dialect's own reading of the path, made by classify for serve: a
     * path is decoded and routed once per request. Opaque here; a dialect
     * reads and writes it in place through the accessors of its route
     * header (as struct sockaddr_storage holds any address), never copied. */
    _Alignas(GH_ROUTE_ALIGN) unsigned char route[GH_ROUTE_MAX];
} gh_plan;

/* Make plan empty for classify to fill: no flags, no credential, INLINE work;
 * the route is left to the dialect's route parser, which writes it whole
 * (so the bytes of a route are never cleared twice). */
static inline void gh_plan_init(gh_plan *plan)
{
    memset(plan, 0, offsetof(gh_plan, route));
}

typedef struct gh_dialect {
    /* What its sessions and the attributes it keeps of accounts are stored
     * under (gh_session_record.dialect, gh_store_attribute_*): lower case,
     * at most GH_DIALECT_NAME_MAX bytes, never changed once released. */
    const char    *name;       /* "redfish" */
    const char    *label;      /* "Redfish": how a listing of sessions names it */
    const char    *prefix;     /* "/redfish": owns this path and everything under it */

    /* Optional: its section of the configuration file ([name], config.h):
     * keys, types, bounds, defaults, and the settings struct they fill.
     * gh_dialect_config_defaults declares it; the dialect reads its settings
     * from the gh_config it is given (gh_config_section_get). */
    const gh_config_section *config;

    /* Event loop, cheap, no store: fill plan for req. */
    void (*classify)(const gh_request *req, gh_plan *plan);

    /* The dialect's refusal for an unauthenticated request. */
    void (*refuse)(const gh_request *req, gh_refusal why, gh_response *resp);

    /* The dialect's body for an error status decided outside it: by nginx
     * (400 malformed or oversized headers, 404, 405, 408, 413, 414, 429 from
     * limit_conn, 431, 5xx) or by the adapter. req may hold no more than the
     * path, and that one unnormalised, cut short, or of an error page. resp gets
     * this status; one outside 400..599 is answered as 500. */
    void (*fail)(const gh_request *req, int status, gh_response *resp);

    /* Serve req, which classify made plan of, for who (NULL on an open route).
     * With GH_WORK_INLINE this runs on the event loop and svc->store is NULL
     * (shared state and config only); otherwise it runs in a thread-pool task
     * with its own store connection. */
    void (*serve)(gh_service *svc, const gh_tree *tree, const gh_request *req,
                  const gh_plan *plan, const gh_principal *who, gh_response *resp);

    /* Optional, for a dialect whose serve opens event streams: the text to
     * write on a stream that serve opened for who, for one session event of
     * the shared block; malloc'd, its length in *len. NULL when the event is
     * not for this client (or memory ran out): nothing is written. */
    char *(*stream_event)(const gh_principal *who, const gh_shared_event *ev, size_t *len);

    /* Optional, run once by gh_tree_load before any request: add to tree
     * (gh_tree_add) the documents that depend on nothing but its files, so
     * that serving them is a lookup. 0, or -1 with a message in err. */
    int (*render)(gh_tree *tree, char *err, size_t errlen);

    /* ---- gateway mode (docs/gateway.md): a location with an upstream ----
     *
     * Optional: decide on a request the location passes on to the upstream
     * (one classify did not mark local), once its principal is known (who
     * NULL on an open route): the dialect's own checks (CSRF on a cookie
     * session's unsafe method, PasswordChangeRequired), then the privileges
     * the method and path need (gh_gateway_needs, gateway.h). true: pass it
     * on; resp's headers, and nothing else of it, are added to the
     * upstream's answer (a session's new cookie). false: resp is the
     * dialect's answer instead (its 403, ...), and nothing reaches the
     * upstream. Runs where plan->work says, like serve. Without it every
     * route of the dialect is local. Also what gatehouse_auth_request asks,
     * with req the request being guarded. */
    bool (*forward)(gh_service *svc, const gh_request *req, const gh_plan *plan,
                    const gh_principal *who, gh_response *resp);

    /* Optional, for gatehouse_auth_request in a location of any path: the
     * credential req carries, read as on the dialect's API routes. */
    void (*credential)(const gh_request *req, gh_credential *cred);

    /* What carries a credential or a session of this dialect, NULL-terminated
     * (NULL: none): the request headers (Authorization, X-Auth-Token) and
     * cookies (JSESSIONID) that a gateway strips, every dialect's from every
     * request, before passing it on. */
    const char *const *credential_headers;
    const char *const *credential_cookies;
} gh_dialect;

/* ---- the table (dialect.c): nothing in a dialect calls these, but for
 * gh_dialect_named, an inline lookup over a list it is handed ---- */

/* The dialect of that name in list (NULL-terminated, such as gh_dialects),
 * or NULL. For a dialect that lists other dialects' sessions, handed the
 * list at run time (gh_service.dialects) so that it never names the table. */
static inline const gh_dialect *gh_dialect_named(const gh_dialect *const *list, const char *name)
{
    for (size_t i = 0; list != NULL && name != NULL && list[i] != NULL; i++) {
        if (strcmp(list[i]->name, name) == 0)
            return list[i];
    }
    return NULL;
}

/* cfg's defaults (gh_config_defaults) with every dialect's section declared:
 * what the command line and the nginx module read the file over. 0, or -1
 * when a section cannot be declared (a programming error, said in err). */
int gh_dialect_config_defaults(gh_config *cfg, char *err, size_t errlen);

/* Tell the store the names the numbers of sessions stored before schema 5
 * stood for (gh_store_numbered_dialects); once, before the first open. */
void gh_dialect_store_setup(void);

/* The dialect owning a path (gh_path_under its prefix), or NULL. */
const gh_dialect *gh_dialect_for_path(gh_str path);

/* Every dialect, in the order of src/dialects/dialects.def, NULL-terminated. */
extern const gh_dialect *const gh_dialects[];

/* The index of d in gh_dialects: the dialect label of the metrics
 * (core/metrics.h, whose names the scrape takes from gh_dialects);
 * GH_METRICS_NO_DIALECT for NULL or a dialect not in the table. */
unsigned gh_dialect_index(const gh_dialect *d);

/* The tree a server serves: gh_tree_load_files root (tree.h), then each
 * dialect's render hook in the order of the table, then gh_tree_seal. *out
 * owned by the caller, freed with gh_tree_free. 0 on success, -1 with a
 * message in err (err may be NULL). root NULL: the dialects' documents
 * alone. */
int gh_tree_load(const char *root, gh_tree **out, char *err, size_t errlen);

#endif
