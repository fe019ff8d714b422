/*
 * test_redfish_events.c: the Redfish EventService (src/dialects/
 * redfish_events.c): routing and classification of its three resources, the
 * service resource (enabled or not by max_streams), the Subscriptions
 * collection (open streams as EventDestinations: who sees and may delete
 * which) and its 405 to POST, the SSE stream's opening response (a
 * stream, text/event-stream, a first keep-alive) and its refusals (no
 * credentials, Accept, $filter, streams off), and the text of an event: who
 * sees it, its id and data lines and the Event object in it.
 */
#include "redfish_fixture.h"
#include "../../src/dialects/redfish/redfish_route.h"

#include <unistd.h>

static void test_routes(void **state)
{
    static const struct {
        const char *method, *path;
        gh_redfish_route_kind kind;
        bool stream;
    } cases[] = {
        { "GET", "/redfish/v1/EventService", GH_RF_EVENT_SERVICE, false },
        { "GET", "/redfish/v1/eventservice/", GH_RF_EVENT_SERVICE, false },
        { "GET", "/redfish/v1/EventService/Subscriptions", GH_RF_SUBSCRIPTIONS, false },
        { "GET", "/redfish/v1/EventService/SSE", GH_RF_SSE, true },
        { "GET", "/redfish/v1/EventService/sse?x=1", GH_RF_SSE, true },
        { "HEAD", "/redfish/v1/EventService/SSE", GH_RF_SSE, false },
        { "POST", "/redfish/v1/EventService/SSE", GH_RF_SSE, false },
        { "GET", "/redfish/v1/EventService/Subscriptions/1", GH_RF_SUBSCRIPTION, false },
        { "DELETE", "/redfish/v1/EventService/Subscriptions/01", GH_RF_SUBSCRIPTION, false },
        { "GET", "/redfish/v1/SessionService/SSE", GH_RF_TREE, false },
    };
    gh_config cfg;

    (void)state;
    gh_config_defaults(&cfg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_req t;
        gh_plan  plan;

        memset(&t, 0, sizeof(t));
        build_req(&t, &cfg, cases[i].method, cases[i].path);
        gh_redfish_dialect.classify(&t.req, &plan);
        assert_int_equal(gh_redfish_route_of(&plan)->kind, cases[i].kind);
        assert_int_equal(plan.stream, cases[i].stream);
        assert_false(plan.open);
        assert_int_equal(plan.work, GH_WORK_INLINE);
    }
}

static void test_event_service(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "viewer", PW);
    result   r;

    r = run(f, "GET", "/redfish/v1/EventService", NULL, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.type", NULL), "#EventService.v1_7_0.EventService");
    assert_string_equal(str_at(&r, "ServerSentEventUri", NULL), "/redfish/v1/EventService/SSE");
    assert_string_equal(str_at(&r, "Subscriptions", "@odata.id"),
                        "/redfish/v1/EventService/Subscriptions");
    assert_string_equal(str_at(&r, "Status", "State"), "Enabled");
    assert_true(json_is_true(json_object_get(r.json, "ServiceEnabled")));
    assert_true(json_is_false(json_object_get(json_object_get(r.json,
                                                              "SSEFilterPropertiesSupported"),
                                              "MessageId")));
    done(&r);

    f->cfg.max_streams = 0;
    r = run(f, "GET", "/redfish/v1/EventService", NULL, "X-Auth-Token", l.token, NULL);
    assert_true(json_is_false(json_object_get(r.json, "ServiceEnabled")));
    assert_string_equal(str_at(&r, "Status", "State"), "Disabled");
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/SSE", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 503);
    assert_false(r.resp.stream);
    assert_string_equal(msg_id(&r), "Base.1.15.0.ServiceTemporarilyUnavailable");
    done(&r);

    r = run(f, "GET", "/redfish/v1/EventService/Subscriptions", NULL, "X-Auth-Token", l.token,
            NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "Members")), 0);
    done(&r);
    r = run(f, "POST", "/redfish/v1/EventService/Subscriptions", "{}", "X-Auth-Token", l.token,
            NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    done(&r);
}

/* Open streams as EventDestinations: listed to their account (and to
 * ConfigureManager), read, deleted (the stream is asked to close). */
static void test_subscriptions(void **state)
{
    fixture *f = *state;
    login    v = do_login(f, "viewer", PW), a = do_login(f, "admin", PW);
    uint64_t mine, other;
    char     path[96];
    result   r;

    assert_true(gh_shared_stream_add(f->shared, f->viewer_id, "redfish", getpid(),
                                     1000, &mine));
    assert_true(gh_shared_stream_add(f->shared, f->admin_id, "redfish", getpid(),
                                     1000, &other));
    r = run(f, "GET", "/redfish/v1/EventService/Subscriptions", NULL, "X-Auth-Token", v.token,
            NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 1);
    snprintf(path, sizeof(path), "/redfish/v1/EventService/Subscriptions/%llu",
             (unsigned long long)mine);
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(r.json, "Members"), 0), "@odata.id")), path);
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/Subscriptions", NULL, "X-Auth-Token", a.token,
            NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 2);
    done(&r);

    r = run(f, "GET", path, NULL, "X-Auth-Token", v.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.type", NULL), "#EventDestination.v1_7_0.EventDestination");
    assert_string_equal(str_at(&r, "SubscriptionType", NULL), "SSE");
    assert_string_equal(str_at(&r, "Protocol", NULL), "Redfish");
    assert_non_null(str_at(&r, "Context", NULL));
    done(&r);
    snprintf(path, sizeof(path), "/redfish/v1/EventService/Subscriptions/%llu",
             (unsigned long long)other);
    r = run(f, "DELETE", path, NULL, "X-Auth-Token", v.token, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    assert_true(gh_shared_stream_wanted(f->shared, other));
    r = run(f, "DELETE", path, NULL, "X-Auth-Token", a.token, NULL);
    assert_int_equal(r.resp.status, 204);
    done(&r);
    assert_false(gh_shared_stream_wanted(f->shared, other));
    /* asked to close: gone for clients, though its worker has not ended it yet */
    r = run(f, "GET", path, NULL, "X-Auth-Token", a.token, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
    r = run(f, "DELETE", path, NULL, "X-Auth-Token", a.token, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/Subscriptions", NULL, "X-Auth-Token", a.token,
            NULL);
    assert_int_equal(json_integer_value(json_object_get(r.json, "Members@odata.count")), 1);
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/Subscriptions/0", NULL, "X-Auth-Token", a.token,
            NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/EventService/Subscriptions/1", "{}", "X-Auth-Token",
            a.token, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, DELETE");
    done(&r);
}

static void test_sse_open(void **state)
{
    fixture *f = *state;
    login    l = do_login(f, "viewer", PW);
    result   r;

    r = run(f, "GET", "/redfish/v1/EventService/SSE", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(r.resp.stream);
    assert_string_equal(r.resp.content_type, "text/event-stream; charset=utf-8");
    assert_string_equal(r.resp.stream_keepalive, ": keep-alive\n\n");
    assert_int_equal(r.resp.body_len, strlen(": keep-alive\n\n"));
    assert_memory_equal(r.resp.body, ": keep-alive\n\n", r.resp.body_len);
    assert_string_equal(hdr(&r, "Cache-Control"), "no-store");
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/SSE", NULL, "X-Auth-Token", l.token,
            "Accept", "text/event-stream", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/SSE", NULL, "Authorization",
            "Basic dmlld2VyOnBhc3N3b3JkMQ==", NULL);             /* viewer:password1 */
    assert_int_equal(r.resp.status, 200);
    assert_true(r.resp.stream);
    done(&r);

    r = run(f, "GET", "/redfish/v1/EventService/SSE", NULL, NULL);
    assert_int_equal(r.resp.status, 401);
    assert_false(r.resp.stream);
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/SSE", NULL, "X-Auth-Token", l.token,
            "Accept", "application/json", NULL);
    assert_int_equal(r.resp.status, 406);
    assert_false(r.resp.stream);
    assert_string_equal(msg_id(&r), "Base.1.15.0.HeaderInvalid");
    done(&r);
    r = run(f, "GET", "/redfish/v1/EventService/SSE?$filter=MessageId", NULL, "X-Auth-Token",
            l.token, NULL);
    assert_int_equal(r.resp.status, 501);
    done(&r);
    r = run(f, "HEAD", "/redfish/v1/EventService/SSE", NULL, "X-Auth-Token", l.token, NULL);
    assert_int_equal(r.resp.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET");
    done(&r);
}

static void test_event_text(void **state)
{
    gh_principal viewer = { .account_id = 3, .role = GH_ROLE_READONLY };
    gh_principal admin = { .account_id = 1, .role = GH_ROLE_ADMINISTRATOR };
    gh_shared_event ev = { .seq = 42, .kind = GH_EVENT_SESSION_CREATED,
                           .dialect = "redfish", .time = 0, .account_id = 3 };
    json_t *doc, *rec;
    size_t len = 0;
    char *text, *data, *nl;

    (void)state;
    snprintf(ev.session_id, sizeof(ev.session_id), "%032x", 7);
    text = gh_redfish_dialect.stream_event(&viewer, &ev, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    assert_true(strncmp(text, "id: 42\ndata: {", 14) == 0);
    assert_true(len > 2 && strcmp(text + len - 2, "\n\n") == 0);
    data = text + strlen("id: 42\ndata: ");
    nl = strchr(data, '\n');
    assert_ptr_equal(nl, text + len - 2);   /* the JSON is on one line */
    doc = json_loadb(data, (size_t)(nl - data), 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "@odata.type")),
                        "#Event.v1_7_0.Event");
    assert_string_equal(json_string_value(json_object_get(doc, "Id")), "42");
    rec = json_array_get(json_object_get(doc, "Events"), 0);
    assert_string_equal(json_string_value(json_object_get(rec, "MessageId")),
                        "ResourceEvent.1.0.ResourceCreated");
    assert_string_equal(json_string_value(json_object_get(rec, "EventTimestamp")),
                        "1970-01-01T00:00:00+00:00");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec,
                                                                          "OriginOfCondition"),
                                                          "@odata.id")),
                        "/redfish/v1/SessionService/Sessions/00000000000000000000000000000007");
    json_decref(doc);
    free(text);

    /* Another account's session: for ConfigureManager only. */
    ev.account_id = 9;
    ev.kind = GH_EVENT_SESSION_REMOVED;
    assert_null(gh_redfish_dialect.stream_event(&viewer, &ev, &len));
    text = gh_redfish_dialect.stream_event(&admin, &ev, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"ResourceEvent.1.0.ResourceRemoved\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test_setup_teardown(test_event_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_open, setup, teardown),
        cmocka_unit_test(test_event_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
