/*
 * redfish_events.c: the EventService (DSP0266 "Eventing" and "Server-sent
 * events"): the service resource, its Subscriptions collection and the SSE
 * stream at ServerSentEventUri.
 *
 * What a stream carries: the sessions gatehouse itself sees start and end,
 * as ResourceEvent ResourceCreated / ResourceRemoved with the session as
 * OriginOfCondition. A client sees the events of the sessions it may see in
 * the Sessions collection: its own account's, or every account's with
 * ConfigureManager. Each event is one "id:" line (the shared block's event
 * number, unique for the life of the server) and one "data:" line with the
 * Event object on one line, then a blank line; a quiet stream gets a
 * comment line every keepalive_seconds.
 *
 * The stream itself is the adapter's: serve answers 200 with
 * text/event-stream and marks the response a stream; the adapter keeps it
 * open, ends it when the credential it was opened with ends, and asks
 * gh_redfish_stream_event for the text of each event.
 *
 * Subscriptions: each open SSE stream, on any worker, is an EventDestination
 * there (SubscriptionType SSE), as DSP0266 asks: it appears when the stream
 * opens, goes when it closes, and a DELETE of it closes the stream (its
 * worker ends it on its next tick). A client sees and may delete its own
 * account's, or every one with ConfigureManager, as with sessions. Push
 * delivery (POST of an EventDestination) is not offered: a POST to the
 * collection gets 405 with Allow: GET, HEAD, as for any method a resource
 * does not support.
 * $filter on the stream is not supported (SSEFilterPropertiesSupported all
 * false): it gets 501 QueryNotSupported, as every unsupported query option.
 */
#include "redfish_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GH_REDFISH_EVENT_SERVICE "/redfish/v1/EventService"
#define GH_REDFISH_SUBSCRIPTIONS GH_REDFISH_EVENT_SERVICE "/Subscriptions"
#define GH_REDFISH_SSE_TYPE      "text/event-stream; charset=utf-8"
#define GH_REDFISH_SSE_KEEPALIVE ": keep-alive\n\n"

static json_t *gh_redfish_event_service_json(bool enabled)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s},"
                     " s:s, s:[s], s:[s], s:[s],"
                     " s:{s:b, s:b, s:b, s:b, s:b, s:b, s:b},"
                     " s:{s:s}, s:{}}",
                     "@odata.id", GH_REDFISH_EVENT_SERVICE,
                     "@odata.type", "#EventService.v1_7_0.EventService",
                     "Id", "EventService",
                     "Name", "Event Service",
                     "Description", "Server-sent events of this service's sessions",
                     "ServiceEnabled", enabled,
                     "Status", "State", enabled ? "Enabled" : "Disabled", "Health", "OK",
                     "ServerSentEventUri", GH_REDFISH_SSE,
                     "EventFormatTypes", "Event",
                     "RegistryPrefixes", "ResourceEvent",
                     "ResourceTypes", "Session",
                     "SSEFilterPropertiesSupported",
                     "EventFormatType", 0, "MessageId", 0, "MetricReportDefinition", 0,
                     "OriginResource", 0, "RegistryPrefix", 0, "ResourceType", 0,
                     "SubordinateResources", 0,
                     "Subscriptions", "@odata.id", GH_REDFISH_SUBSCRIPTIONS,
                     /* No action is offered; sushy insists on the object. */
                     "Actions");
}

void gh_redfish_serve_event_service(gh_redfish_ctx *c)
{
    bool enabled = c->req->config == NULL || c->req->config->max_streams > 0;

    gh_redfish_reply(c->resp, 200, gh_redfish_event_service_json(enabled));
}

/* May the principal see and end this stream? Its own, or anyone's with the
 * privilege (core/policy), as with sessions. */
static bool gh_redfish_stream_may(const gh_redfish_ctx *c, const gh_shared_stream *s)
{
    return gh_redfish_may(c, GH_OP_SESSION, s->account_id == c->who->account_id);
}

static json_t *gh_redfish_destination_json(const gh_shared_stream *s)
{
    char uri[sizeof(GH_REDFISH_SUBSCRIPTIONS) + 24], id[24], context[40];

    snprintf(id, sizeof(id), "%llu", (unsigned long long)s->id);
    snprintf(uri, sizeof(uri), GH_REDFISH_SUBSCRIPTIONS "/%s", id);
    snprintf(context, sizeof(context), "gatehouse-sse-%s", id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}",
                     "@odata.id", uri,
                     "@odata.type", "#EventDestination.v1_7_0.EventDestination",
                     "Id", id,
                     "Name", "Server-sent event stream",
                     "Context", context,
                     "Protocol", "Redfish",
                     "SubscriptionType", "SSE",
                     "EventFormatType", "Event",
                     "Status", "State", "Enabled", "Health", "OK");
}

void gh_redfish_serve_subscriptions(gh_redfish_ctx *c)
{
    gh_shared_stream *open = malloc(GH_SHARED_STREAMS * sizeof(*open));
    json_t *members = json_array();
    char uri[sizeof(GH_REDFISH_SUBSCRIPTIONS) + 24];
    size_t n = 0;

    if (open == NULL || members == NULL) {
        gh_redfish_fail0(c->resp, 500, GH_RF_MSG_INTERNAL_ERROR);
        goto done;
    }
    if (c->svc != NULL && c->svc->shared != NULL)
        n = gh_shared_streams(c->svc->shared, open, GH_SHARED_STREAMS);
    for (size_t i = 0; i < n; i++) {
        if (open[i].closing || !gh_redfish_stream_may(c, &open[i]))
            continue;
        snprintf(uri, sizeof(uri), GH_REDFISH_SUBSCRIPTIONS "/%llu",
                 (unsigned long long)open[i].id);
        (void)json_array_append_new(members, json_pack("{s:s}", "@odata.id", uri));
    }
    gh_redfish_reply(c->resp, 200,
                     gh_redfish_collection(GH_REDFISH_SUBSCRIPTIONS,
                                           "#EventDestinationCollection.EventDestinationCollection",
                                           "Event Subscriptions", NULL, members));
done:
    json_decref(members);
    free(open);
}

void gh_redfish_serve_subscription(gh_redfish_ctx *c)
{
    gh_shared_stream s;
    char id[24];

    snprintf(id, sizeof(id), "%lld", (long long)c->route->account_id);
    /* One asked to close is gone already, for the client that asked. */
    if (c->svc == NULL || c->svc->shared == NULL ||
        gh_shared_stream_get(c->svc->shared, (uint64_t)c->route->account_id, &s) !=
            GH_SHARED_OK ||
        s.closing) {
        gh_redfish_fail(c->resp, 404,
                        gh_redfish_msg2(GH_RF_MSG_RESOURCE_NOT_FOUND, "EventDestination", id));
        return;
    }
    if (!gh_redfish_stream_may(c, &s)) {
        gh_redfish_fail_privilege(c->resp);
        return;
    }
    if (c->req->method != GH_METHOD_DELETE) {
        gh_redfish_reply(c->resp, 200, gh_redfish_destination_json(&s));
        return;
    }
    if (gh_shared_stream_close(c->svc->shared, s.id) != GH_SHARED_OK)
        gh_redfish_fail(c->resp, 404,
                        gh_redfish_msg2(GH_RF_MSG_RESOURCE_NOT_FOUND, "EventDestination", id));
    else
        c->resp->status = 204;
}

void gh_redfish_serve_sse(gh_redfish_ctx *c)
{
    if (c->req->config != NULL && c->req->config->max_streams == 0) {
        gh_redfish_fail_unavailable(c->resp);
        return;
    }
    if (!gh_accept_allows(gh_request_header(c->req, "Accept"), "text/event-stream")) {
        gh_redfish_fail1(c->resp, 406, GH_RF_MSG_HEADER_INVALID, "Accept");
        return;
    }
    c->resp->status = 200;
    c->resp->stream = true;
    /* A proxy in front (nginx's own proxy_buffering) must pass events on at once. */
    gh_response_header_add(c->resp, "X-Accel-Buffering", "no");
    c->resp->stream_keepalive = GH_REDFISH_SSE_KEEPALIVE;
    /* A first comment, so a client sees the stream start at once. */
    gh_response_ref_body(c->resp, GH_REDFISH_SSE_KEEPALIVE, strlen(GH_REDFISH_SSE_KEEPALIVE),
                         GH_REDFISH_SSE_TYPE);
}

/* The events of a session: its own account's, or all with the privilege to
 * see other sessions (core/policy). */
static bool gh_redfish_event_visible(const gh_principal *who, const gh_shared_event *ev)
{
    gh_policy_subject s = gh_policy_subject_of(who);

    return gh_policy_allows(&s, (gh_policy_act){ .op = GH_OP_SESSION,
                                                 .own = who->account_id == ev->account_id },
                            NULL);
}

static json_t *gh_redfish_event_json(const gh_shared_event *ev)
{
    bool created = ev->kind == GH_EVENT_SESSION_CREATED;
    char id[24], when[32], uri[sizeof(GH_REDFISH_SESSIONS) + GH_SESSION_ID_LEN + 2];

    snprintf(id, sizeof(id), "%llu", (unsigned long long)ev->seq);
    snprintf(uri, sizeof(uri), GH_REDFISH_SESSIONS "/%s", ev->session_id);
    gh_redfish_time(ev->time, when);
    return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:s, s:{s:s}}]}",
                     "@odata.type", "#Event.v1_7_0.Event",
                     "Id", id,
                     "Name", "Session event",
                     "Events",
                     "MemberId", "0",
                     "EventId", id,
                     "EventTimestamp", when,
                     "EventType", "Other",
                     "MessageId", created ? "ResourceEvent.1.0.ResourceCreated"
                                          : "ResourceEvent.1.0.ResourceRemoved",
                     "Message", created ? "The resource has been created successfully."
                                        : "The resource has been removed successfully.",
                     "MessageArgs",
                     "MessageSeverity", "OK",
                     "OriginOfCondition", "@odata.id", uri);
}

char *gh_redfish_stream_event(const gh_principal *who, const gh_shared_event *ev, size_t *len)
{
    json_t *doc = NULL;
    char *data = NULL, *text = NULL;
    int n;

    if (!gh_redfish_event_visible(who, ev))
        goto done;
    doc = gh_redfish_event_json(ev);
    /* Compact: one line, as a data: field holds it (JSON escapes newlines). */
    data = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (data == NULL)
        goto done;
    n = asprintf(&text, "id: %llu\ndata: %s\n\n", (unsigned long long)ev->seq, data);
    if (n < 0) {
        text = NULL;
        goto done;
    }
    *len = (size_t)n;
done:
    free(data);
    json_decref(doc);
    return text;
}
