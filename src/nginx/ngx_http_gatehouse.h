/*
 * ngx_http_gatehouse.h: the nginx adapter's own types. This directory is the
 * only code that sees nginx; it turns nginx requests into gh_request, runs
 * the dialect's classify/serve, the core's checks, and sends gh_response.
 */
#ifndef NGX_HTTP_GATEHOUSE_H
#define NGX_HTTP_GATEHOUSE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include "core/lowprio.h"
#include "core/metrics.h"
#include "core/service.h"
#include "dialects/common/dialect.h"
#include "dialects/common/gateway.h"

/* What identity.c reads a request's headers by and writes its own with, made
 * once from the configuration (ngx_http_gatehouse_identity_init). */
#define NGX_HTTP_GATEHOUSE_PRIVILEGE_SETS  32   /* every set of role.h's five privileges */
#define NGX_HTTP_GATEHOUSE_DROPPED_MAX     32
typedef struct {
    ngx_table_elt_t  names[8];         /* the identity family's five, X-Forwarded-For, -Proto, -Host */
    ngx_str_t        prefix;           /* the family's prefix; all names here folded: */
    ngx_str_t        dropped[NGX_HTTP_GATEHOUSE_DROPPED_MAX]; /* lower case, '_' as '-' */
    ngx_uint_t       ndropped;         /* every dialect's credential headers, X-Forwarded-* */
    ngx_str_t        cookies[NGX_HTTP_GATEHOUSE_DROPPED_MAX]; /* every dialect's cookies */
    ngx_uint_t       ncookies;
    ngx_str_t        cookie;           /* "cookie" */
    u_char           first[256];       /* the first bytes of prefix and dropped */
    u_char           cookie_first[256];/* of cookies, and of "cookie" */
    ngx_str_t        privileges[NGX_HTTP_GATEHOUSE_PRIVILEGE_SETS]; /* "Login,ConfigureSelf" */
} ngx_http_gatehouse_identity_t;

typedef struct {
    ngx_str_t          data_dir;
    ngx_str_t          tree_dir;
    ngx_str_t          config_file;
    ngx_open_file_t   *audit_file;     /* [audit] target = file: nginx reopens it */
    ngx_int_t          request_id_index; /* of $request_id */

    gh_config          config;
    gh_shared_limits   limits;
    ngx_shm_zone_t    *zone;
    ngx_thread_pool_t *hash_pool;
    ngx_thread_pool_t *io_pool;
    ngx_thread_pool_t *suspect_pool; /* optional: NULL when nginx.conf has none */
    ngx_thread_pool_t *directory_pool; /* optional: the recheck's, else io_pool */
    gh_tree           *tree;
    ngx_http_gatehouse_identity_t *identity;
    gh_store_paths     store_paths;  /* files store_config names in data_dir */
    gh_store_config    store_config; /* [store]: points into config, store_paths */
    char              *data_dir_c;

    /* Per process: set when the zone is initialised and the worker starts. */
    gh_shared         *shared;
    void              *block;
    ngx_slab_pool_t   *shpool;
    gh_service         inline_service; /* store NULL: event-loop serving */
    ngx_event_t        sync_event;
    ngx_thread_task_t *sync_task;
    ngx_uint_t         sync_busy;
    ngx_uint_t         sync_ticks;
    /* A worker that started while a shared store was down has no server
     * secret yet: the sync task's thread finds it (its store gave it), the
     * sync completion copies it to inline_service on the event loop. */
    ngx_uint_t         secret_pending;
    ngx_uint_t         secret_found;
    uint8_t            found_secret[GH_DIGEST_LEN];
    ngx_thread_task_t *recheck_task;   /* directory users' live sessions rechecked */
    ngx_uint_t         recheck_busy;
    ngx_queue_t        streams;       /* the worker's open event streams */
    ngx_uint_t         nstreams;
    ngx_event_t        stream_event;  /* walks them while there are any */
    uint64_t           events_after;  /* the last session event they were fed */
    ngx_uint_t         requests_waiting; /* on a pool task (thread.c's hold) */
    ngx_event_t        hold_event;    /* keeps a shutting-down worker for them */
    /* The metrics (metrics.c): the zone, the block of slots in it (set when
     * the zone is initialised), and how many slots it has. */
    ngx_shm_zone_t    *metrics_zone;
    gh_metrics_block  *metrics;
    ngx_uint_t         metrics_slots;
} ngx_http_gatehouse_main_conf_t;

typedef struct ngx_http_gatehouse_stream_s ngx_http_gatehouse_stream_t;

typedef struct {
    ngx_flag_t          enable;
    /* The location's own content handler (proxy_pass's), kept by
     * merge_loc_conf: gateway mode when not NULL (proxy.c). */
    ngx_http_handler_pt upstream_handler;
    /* `gatehouse_auth_request DIALECT;`: the dialect whose credentials the
     * location checks for nginx's auth_request (auth_request.c); NULL when
     * it has none. Not inherited: it names the one location. */
    const gh_dialect   *auth_dialect;
} ngx_http_gatehouse_loc_conf_t;

typedef enum {
    GH_STATE_NEW = 0,
    GH_STATE_WAITING,        /* a thread-pool task is running for it */
    GH_STATE_AUTHENTICATED,  /* or open: serve it */
    GH_STATE_VERIFIED,       /* back from the hash pool: ctx->auth says how */
    GH_STATE_LOOKED_UP,      /* the session store answered later: ctx->found says how */
    GH_STATE_DECIDED         /* back from forward in a thread pool: ctx->allowed says how */
} ngx_http_gatehouse_state_e;

typedef enum {
    GH_JOB_VERIFY = 1,       /* Basic credentials not in the cache */
    GH_JOB_SERVE,            /* the dialect's serve, off the event loop */
    GH_JOB_FORWARD,          /* the dialect's forward, off the event loop (proxy.c,
                              * auth_request.c) */
    GH_JOB_SYNC              /* the worker's periodic change-log and upkeep */
} ngx_http_gatehouse_job_e;

typedef struct ngx_http_gatehouse_ctx_s ngx_http_gatehouse_ctx_t;

/* What a request is counted under when it ends (tally.c): kept by a
 * cleanup of its pool, so that an internal redirect leaves it in place. */
typedef struct {
    ngx_http_request_t *r;
    unsigned            dialect;   /* index in gh_dialects, GH_METRICS_NO_DIALECT */
    unsigned            cred;      /* gh_metric_cred */
} ngx_http_gatehouse_tally_t;

/* A request's context. It is not zeroed whole: the fields up to plan are,
 * classify fills plan, and resp exists only while a thread-pool task serves
 * (one served on the event loop answers from the stack). */
struct ngx_http_gatehouse_ctx_s {
    const gh_dialect  *dialect;
    gh_request         req;
    gh_principal       who;
    unsigned           state:3;
    unsigned           has_who:1;
    unsigned           in_lookup:1;   /* inside gh_session_find */
    unsigned           answered:1;    /* the session store has called back */
    unsigned           throttled:1;   /* a store lookup refused: the source waits */
    unsigned           allowed:1;     /* what the dialect's forward answered: pass it on */
    gh_refusal         refusal;       /* why ngx_http_gatehouse_authenticate refused */
    gh_shared_result   found;         /* the session store's answer */
    ngx_http_gatehouse_job_e job;
    gh_auth_result     auth;
    gh_response       *resp;          /* GH_JOB_SERVE, GH_JOB_FORWARD: the task's answer */
    ngx_http_gatehouse_stream_t *stream;  /* set once an event stream opened */
    unsigned           has_key:1;     /* stream_key holds a Basic credential's */
    uint8_t            stream_key[GH_DIGEST_LEN]; /* plan.stream: its credential cache key */
    gh_str             token;         /* the session token classify found, in a header */
    /* Gateway mode (proxy.c). */
    unsigned           watch:1;       /* passed on and long-lived: watched while it lasts */
    ngx_array_t       *answer_headers; /* forward's headers, for the upstream's answer */
    /* GH_JOB_FORWARD: what the task's completion resumes (proxy.c's, called
     * through this so that thread.c names no file above it); NULL: the
     * request's phases run again (auth_request.c's, GH_STATE_DECIDED). */
    void             (*resume)(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx);
    /* The request's id and dialect for the audit log (audit.c): a task
     * carries it to its thread's service. */
    gh_audit_origin    origin;
    gh_plan            plan;          /* set by the dialect's classify */
    gh_gateway_who     gw;            /* gateway mode: who forward found (req.gateway_who) */
};

/* The module's index among nginx's HTTP modules (its ctx_index), set by
 * module.c when nginx makes the main configuration, before any directive of
 * the module, request or timer runs. The files below module.c reach their
 * configuration and request context through it and the accessors here, so
 * none of them names the module that names them (scripts/check-circles).
 * Defined in request.c, the lowest file of the adapter. */
extern ngx_uint_t ngx_http_gatehouse_index;

/* The context of a subrequest proxy.c makes: the gateway handler passes it
 * to the upstream handler, the header filter and the log handler leave it
 * alone. Defined in request.c. */
extern u_char ngx_http_gatehouse_subrequest_mark;
#define NGX_HTTP_GATEHOUSE_SUBREQUEST \
    ((ngx_http_gatehouse_ctx_t *) (void *) &ngx_http_gatehouse_subrequest_mark)

#define ngx_http_gatehouse_get_ctx(r)                                          \
    ((ngx_http_gatehouse_ctx_t *) (r)->ctx[ngx_http_gatehouse_index])
#define ngx_http_gatehouse_set_ctx(r, c)                                       \
    ((r)->ctx[ngx_http_gatehouse_index] = (c))
#define ngx_http_gatehouse_main_conf(r)                                        \
    ((ngx_http_gatehouse_main_conf_t *) (r)->main_conf[ngx_http_gatehouse_index])
#define ngx_http_gatehouse_loc_conf(r)                                         \
    ((ngx_http_gatehouse_loc_conf_t *) (r)->loc_conf[ngx_http_gatehouse_index])

/* handler.c */
ngx_int_t ngx_http_gatehouse_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_gatehouse_content_handler(ngx_http_request_t *r);
/* Authenticate ctx's request by the credential in ctx->plan.cred, or go on
 * where it waited: NGX_OK when ctx->who is known; NGX_AGAIN while the
 * session store or the hash pool works (the request is blocked, and resumes
 * through r->write_event_handler, which must call this again); NGX_DECLINED
 * when refused, ctx->refusal saying why, for the caller to answer. Used by
 * the access phase and by gatehouse_auth_request's subrequests alike. */
ngx_int_t ngx_http_gatehouse_authenticate(ngx_http_request_t *r,
    ngx_http_gatehouse_ctx_t *ctx);

/* auth_request.c */
char *ngx_http_gatehouse_auth_request_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_gatehouse_auth_request_handler(ngx_http_request_t *r);

/* proxy.c: gateway mode, above handler.c */
/* The content handler of a `gatehouse on;` location with an upstream. */
ngx_int_t ngx_http_gatehouse_gateway_handler(ngx_http_request_t *r);
/* Puts the header filter that adds forward's headers in the chain. */
ngx_int_t ngx_http_gatehouse_proxy_init(ngx_conf_t *cf);

/* identity.c */
/* Rebuild r's request headers for the upstream: credentials, the identity
 * family and the client's X-Forwarded-* out; who's identity (none when NULL)
 * and the connection's X-Forwarded-* in. */
ngx_int_t ngx_http_gatehouse_identity(ngx_http_request_t *r, const gh_dialect *dialect,
    const gh_principal *who, unsigned privileges);
/* identity.c's tables, from gmcf's configuration (init_main_conf). */
ngx_int_t ngx_http_gatehouse_identity_init(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf);
/* Push who's identity headers onto list (the request's, or the answer's of
 * gatehouse_auth_request): the configured prefix, then User, Role,
 * Privileges (DMTF names, comma-separated), Session (empty for Basic), Dialect. */
ngx_int_t ngx_http_gatehouse_identity_add(ngx_http_request_t *r, ngx_list_t *list,
    const gh_dialect *dialect, const gh_principal *who, unsigned privileges);
/* Who the upstream (or auth_request's caller) is told the request is: the
 * dialect's own finding (ctx->gw, an API token), else the adapter's
 * (ctx->who), else nobody (an open route); its privileges in *privileges. */
const gh_principal *ngx_http_gatehouse_identity_of(ngx_http_gatehouse_ctx_t *ctx,
    unsigned *privileges);
/* A WebSocket upgrade or an event stream, as the request asks (identity.c). */
ngx_uint_t ngx_http_gatehouse_long_lived(ngx_http_request_t *r, const gh_request *req);

/* request.c: below every other file here, calling none of them. */
/* Send resp (headers, then its body: a borrowed one as it is, an owned one
 * handed to r's pool); resp may be freed as soon as this returns. */
ngx_int_t ngx_http_gatehouse_send(ngx_http_request_t *r, gh_response *resp);
void ngx_http_gatehouse_fill_request(ngx_http_request_t *r, gh_request *req);
/* Wipe what ctx's request carried in the clear when r's pool goes, on every
 * path (request.c's comment says what). ctx's fields up to plan are set. */
ngx_int_t ngx_http_gatehouse_wipe_on_end(ngx_http_request_t *r,
    ngx_http_gatehouse_ctx_t *ctx);

/* error.c */
/* Send the dialect's body for an error status and return what sending returned,
 * for ngx_http_finalize_request; without a dialect, return status itself
 * (nginx's own page), 431 as nginx's 494 (it has no page for 431). */
ngx_int_t ngx_http_gatehouse_fail(ngx_http_request_t *r, const gh_dialect *dialect,
    const gh_request *req, ngx_int_t status);
char *ngx_http_gatehouse_error_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
/* ngx_http_discard_request_body, and no keepalive when part of the declared
 * body is still to come (its bytes could not be told from the next request). */
ngx_int_t ngx_http_gatehouse_discard_body(ngx_http_request_t *r);

/* header.c */
/* A header block over max_header_bytes: 431 Request Header Fields Too Large
 * (RFC 6585), which nginx 1.22 has no constant for. */
#define NGX_HTTP_GATEHOUSE_HEADER_TOO_LARGE  431
/* The large_client_header_buffers count that holds a request line and a
 * block of max_header_bytes, each buffer max_header_bytes, however nginx
 * spreads them over its buffers (docs/nginx.md). */
#define NGX_HTTP_GATEHOUSE_HEADER_BUFFERS    6
/* The size of r's header block as max_header_bytes counts it (header.c). */
size_t ngx_http_gatehouse_header_bytes(ngx_http_request_t *r);
ngx_int_t ngx_http_gatehouse_header_check_conf(ngx_conf_t *cf,
    ngx_http_gatehouse_main_conf_t *gmcf);

/* audit.c */
/* At configuration: $request_id's index; the audit file (target = file)
 * made and put among nginx's open files, which its reopen reopens. */
ngx_int_t ngx_http_gatehouse_audit_conf(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf);
/* A worker's audit log, into gmcf->inline_service.audit (init_process). */
ngx_int_t ngx_http_gatehouse_audit_open(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf);
/* ctx's origin with r's id ($request_id, made now if need be) and dialect:
 * what a service writing an audit record for r is given. Event loop only. */
gh_audit_origin *ngx_http_gatehouse_audit_origin(ngx_http_request_t *r,
    ngx_http_gatehouse_ctx_t *ctx);
/* A line in r's error log for each event audited for it since the last
 * call (ctx->origin.events), which the log handler ends with the request's
 * dialect and id. */
void ngx_http_gatehouse_audit_logged(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx);
/* Every error-log line for r (its main request) from now on ends with its
 * dialect and id. */
void ngx_http_gatehouse_log_wrap(ngx_http_request_t *r);

/* log.c */
/* Put the redacting writer on every error log of the cycle (init_module). */
ngx_int_t ngx_http_gatehouse_log_redact(ngx_cycle_t *cycle);

/* tally.c: below every other file here but request.c, calling none of them */
/* The tally r is counted under when it ends, made at the first call for r
 * (the access phase; an error page for a request nginx refused before it);
 * NULL when the worker counts nothing or r is a subrequest. */
ngx_http_gatehouse_tally_t *ngx_http_gatehouse_tally(ngx_http_request_t *r,
    const gh_dialect *dialect);
/* The credential classify found in the request (t may be NULL). */
void ngx_http_gatehouse_tally_cred(ngx_http_gatehouse_tally_t *t, gh_cred_kind kind);
/* Count the upstream's answer to r, or its failure, under dialect (a
 * subrequest's: a main request's is counted with it when it ends). */
void ngx_http_gatehouse_tally_upstream(ngx_http_request_t *r, const gh_dialect *dialect);

/* metrics.c */
/* Add the metrics' zone, sized by worker_processes (init_main_conf). */
ngx_int_t ngx_http_gatehouse_metrics_zone(ngx_conf_t *cf,
    ngx_http_gatehouse_main_conf_t *gmcf, void *tag);
/* The worker counts into the slot of its number from now on (init_process). */
void ngx_http_gatehouse_metrics_bind(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf);
char *ngx_http_gatehouse_metrics_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_gatehouse_health_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_gatehouse_ready_conf(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* thread.c */
ngx_int_t ngx_http_gatehouse_post(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    ngx_http_gatehouse_job_e job);
/* A request starts waiting on a pool task: a worker shutting down (a reload,
 * SIGQUIT) stays until it is done; the task's end takes requests_waiting
 * down by one again. */
void ngx_http_gatehouse_hold(ngx_http_gatehouse_main_conf_t *gmcf);
/* The cached session store's defer hook (session.h): looks a token the
 * block lacks up in the store, in the I/O pool; defer_arg is the main
 * configuration, find_arg the request. A source throttled for failures
 * gets no lookup: false, with ctx->throttled set. */
bool ngx_http_gatehouse_defer_miss(void *defer_arg, gh_session_miss *miss, void *find_arg);
ngx_int_t ngx_http_gatehouse_start_sync(ngx_cycle_t *cycle,
    ngx_http_gatehouse_main_conf_t *gmcf);

/* listener.c */
/* Start the worker's listener to the store's bell, when the store has one
 * (init_process); stop and join it (exit_process, before the pool
 * threads are waited for). */
ngx_int_t ngx_http_gatehouse_listener_start(ngx_cycle_t *cycle,
    ngx_http_gatehouse_main_conf_t *gmcf);
void ngx_http_gatehouse_listener_stop(ngx_cycle_t *cycle);

/* thread_service.c */
/* Ready the threads' services (a worker's init_process). */
ngx_int_t ngx_http_gatehouse_threads_init(ngx_cycle_t *cycle);
/* The calling pool thread's service, opened on its first task; NULL if the
 * store will not open: the caller fails closed. */
gh_service *ngx_http_gatehouse_thread_service(ngx_http_gatehouse_main_conf_t *gmcf);
/* Wait (a few seconds at most) until every pool thread that had a service
 * has ended its use of it and of OpenSSL (a worker's exit_process, after
 * nginx has ended its thread pools). */
void ngx_http_gatehouse_threads_wait_ended(ngx_cycle_t *cycle);

/* stream.c */
void ngx_http_gatehouse_stream_init(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf);
/* Send resp, which opens an event stream, and keep the request open for it:
 * NGX_DONE, or what to finalize the request with (the dialect's 503 when the
 * worker has max_streams open). */
ngx_int_t ngx_http_gatehouse_stream_open(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx,
    gh_response *resp);
/* Watch a request passed on to the upstream that lasts (a WebSocket, an
 * event stream) as a stream is watched: it ends (the upstream's connection
 * too) within the tick of its credential ending. NGX_OK or NGX_ERROR. */
ngx_int_t ngx_http_gatehouse_stream_watch(ngx_http_request_t *r, ngx_http_gatehouse_ctx_t *ctx);

#endif
