/*
 * dialect.h: what a dialect is to the rest of gatehouse: a path prefix, a
 * cheap classifier that runs on the event loop (is the route open, what
 * credential does the request carry, must the body be read, does serving it
 * wait on the store), the refusal and the error bodies in the dialect's own
 * format, the handler that serves a request once its principal is known, and
 * optionally the documents it renders once from the bundled tree at start.
 * Adding a dialect is one file implementing this, its route type (a header
 * of its own, one line in gh_plan below) and one line in dialect.c.
 */
#ifndef GH_DIALECT_H
#define GH_DIALECT_H

#include "credential.h"
#include "http.h"
#include "../ovirt/ovirt_route.h"
#include "../powerstore/powerstore_route.h"
#include "../proxmox/proxmox_route.h"
#include "../redfish/redfish_route.h"
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

typedef struct {
    bool          open;        /* no authentication needed */
    bool          stream;      /* may answer with an event stream (gh_response.stream):
                                * the adapter keeps what it needs to watch the
                                * credential for as long as the stream lasts */
    bool          read_body;   /* serve wants req->body */
    gh_work       work;
    gh_credential cred;        /* what the request carries (ignored when open) */
    /* The dialect's own reading of the path, made by classify for serve: a
     * path is decoded and routed once per request. */
    union {
        gh_redfish_route redfish;
        gh_ovirt_route   ovirt;
        gh_ps_route      powerstore;
        gh_pve_route     proxmox;
    } route;
} gh_plan;

/* Make plan empty for classify to fill: no flags, no credential, INLINE work;
 * the route is left to the dialect's route parser, which writes it whole. */
void gh_plan_init(gh_plan *plan);

#include "tree.h"

typedef struct gh_dialect {
    const char    *name;       /* "redfish" */
    gh_dialect_id  id;
    const char    *prefix;     /* "/redfish": owns this path and everything under it */

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
} gh_dialect;

/* The dialect owning a path, or NULL. */
const gh_dialect *gh_dialect_for_path(gh_str path);

/* Every dialect, NULL-terminated. */
extern const gh_dialect *const gh_dialects[];

#endif
