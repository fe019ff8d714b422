/*
 * ngx_http_gatehouse_tally.c: counting what the module answered, for
 * gatehouse_requests_total{dialect,credential,code} and, in gateway mode,
 * gatehouse_upstream_responses_total / _failures_total (core/metrics.h).
 *
 * A request is counted once, when it ends: a cleanup of its pool, which
 * nginx runs on every way a request ends (answered, refused, failed, the
 * client gone), after the status is final. The cleanup's own data is the
 * tally (the dialect, the credential classify found), so it outlives an
 * internal redirect, which clears the request's module contexts: a request
 * refused by nginx or by the upstream and answered by gatehouse_error's
 * error page keeps the dialect and credential it was counted under, and the
 * error page itself finds the tally instead of making a second. The
 * upstream's outcome is read from nginx's own record of it
 * (r->upstream_states, what $upstream_status shows): an answer when its
 * header arrived, a failure when none did (no connection, a timeout, a
 * broken header).
 *
 * Nothing here runs when the worker counts nothing (no metrics slot): no
 * cleanup is added. This file calls no other file of the adapter.
 */
#include "ngx_http_gatehouse.h"

#include "core/metrics.h"

static void ngx_http_gatehouse_tally_end(void *data);

/* The index of dialect in gh_dialects, GH_METRICS_NO_DIALECT for none. */
static unsigned
ngx_http_gatehouse_dialect_index(const gh_dialect *dialect)
{
    unsigned  i;

    for (i = 0; dialect != NULL && gh_dialects[i] != NULL && i < GH_METRICS_NO_DIALECT; i++) {
        if (gh_dialects[i] == dialect) {
            return i;
        }
    }
    return GH_METRICS_NO_DIALECT;
}

/* The tally a cleanup of r's pool already holds, or NULL. */
static ngx_http_gatehouse_tally_t *
ngx_http_gatehouse_tally_find(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln != NULL; cln = cln->next) {
        if (cln->handler == ngx_http_gatehouse_tally_end
            && ((ngx_http_gatehouse_tally_t *) cln->data)->r == r)
        {
            return cln->data;
        }
    }
    return NULL;
}

ngx_http_gatehouse_tally_t *
ngx_http_gatehouse_tally(ngx_http_request_t *r, const gh_dialect *dialect)
{
    ngx_http_gatehouse_tally_t *t;
    ngx_pool_cleanup_t         *cln;

    if (gh_metrics_self == NULL || r != r->main) {
        return NULL;
    }
    t = ngx_http_gatehouse_tally_find(r);
    if (t != NULL) {
        return t;
    }
    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_gatehouse_tally_t));
    if (cln == NULL) {
        return NULL;            /* not counted: the request goes on */
    }
    t = cln->data;
    t->r = r;
    t->dialect = ngx_http_gatehouse_dialect_index(dialect);
    t->cred = GH_METRIC_CRED_NONE;
    cln->handler = ngx_http_gatehouse_tally_end;
    return t;
}

void
ngx_http_gatehouse_tally_cred(ngx_http_gatehouse_tally_t *t, gh_cred_kind kind)
{
    if (t == NULL) {
        return;
    }
    switch (kind) {
    case GH_CRED_BASIC:
        t->cred = GH_METRIC_CRED_BASIC;
        break;
    case GH_CRED_BEARER:
        t->cred = GH_METRIC_CRED_BEARER;
        break;
    case GH_CRED_TOKEN:
        t->cred = GH_METRIC_CRED_TOKEN;
        break;
    case GH_CRED_MALFORMED:
        t->cred = GH_METRIC_CRED_MALFORMED;
        break;
    default:
        t->cred = GH_METRIC_CRED_NONE;
        break;
    }
}

/* The outcome of r's last try at the upstream, under dialect index d. */
static void
ngx_http_gatehouse_tally_tries(ngx_http_request_t *r, unsigned d)
{
    ngx_http_upstream_state_t  *state;

    if (r->upstream_states == NULL || r->upstream_states->nelts == 0) {
        return;
    }
    /* The last try is the one whose outcome the client got. */
    state = (ngx_http_upstream_state_t *) r->upstream_states->elts
            + r->upstream_states->nelts - 1;
    if (state->header_time == (ngx_msec_t) -1 || state->status == 0) {
        gh_metrics_upstream_failure(d);
    } else {
        gh_metrics_upstream_response(d, (int) state->status);
    }
}

void
ngx_http_gatehouse_tally_upstream(ngx_http_request_t *r, const gh_dialect *dialect)
{
    if (gh_metrics_self != NULL) {
        ngx_http_gatehouse_tally_tries(r, ngx_http_gatehouse_dialect_index(dialect));
    }
}

static void
ngx_http_gatehouse_tally_end(void *data)
{
    ngx_http_gatehouse_tally_t *t = data;
    ngx_http_request_t         *r = t->r;
    ngx_uint_t                  status = r->headers_out.status;

    /* No status at all: the client went before anything was decided,
     * which nginx logs as 499. */
    gh_metrics_request(t->dialect, (gh_metric_cred) t->cred,
                       status != 0 ? (int) status : NGX_HTTP_CLIENT_CLOSED_REQUEST);
    ngx_http_gatehouse_tally_tries(r, t->dialect);
}
