/*
 * test_redfish_protocol.c: what DMTF's Redfish Protocol Validator asserts of
 * the Redfish dialect beyond test_redfish.c, driven through run(): Allow on
 * GET/HEAD and 405, Link rel=describedby from @odata.type, PATCH of OData
 * annotations alone, the Service schema first in $metadata, the only and
 * excerpt query parameters, and the OpenAPI document. The parsers on their
 * own are in test_redfish_query.c.
 */
#include "redfish_fixture.h"

#define ADMIN  "Authorization", "Basic YWRtaW46cGFzc3dvcmQx"
#define VIEWER "Authorization", "Basic dmlld2VyOnBhc3N3b3JkMQ=="

static void test_allow(void **state)
{
    static const struct {
        const char *method, *path, *allow;
    } cases[] = {
        { "GET", "/redfish/v1/", "GET, HEAD" },
        { "HEAD", "/redfish/v1/", "GET, HEAD" },
        { "GET", "/redfish/v1/$metadata", "GET, HEAD" },
        { "GET", "/redfish/v1/Systems/1", "GET, HEAD" },
        { "GET", "/redfish/v1/SessionService", "GET, HEAD, PATCH" },
        { "GET", "/redfish/v1/SessionService/Sessions", "GET, HEAD, POST" },
        { "HEAD", "/redfish/v1/AccountService/Accounts", "GET, HEAD, POST" },
        { "GET", "/redfish/v1/AccountService/Roles/ReadOnly", "GET, HEAD" },
        { "POST", "/redfish/v1/Systems", "GET, HEAD" },
    };
    fixture *f = *state;
    result   r;
    char     path[96];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r = run(f, cases[i].method, cases[i].path, "{}", ADMIN, NULL);
        assert_int_equal(r.resp.status, strcmp(cases[i].method, "POST") == 0 ? 405 : 200);
        assert_non_null(hdr(&r, "Allow"));
        assert_string_equal(hdr(&r, "Allow"), cases[i].allow);
        done(&r);
    }
    /* The built-in account cannot be deleted; another can. */
    snprintf(path, sizeof(path), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->admin_id);
    r = run(f, "GET", path, NULL, ADMIN, NULL);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, PATCH");
    done(&r);
    snprintf(path, sizeof(path), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->oper_id);
    r = run(f, "GET", path, NULL, ADMIN, NULL);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, PATCH, DELETE");
    done(&r);
    /* A refusal says nothing about the resource. */
    r = run(f, "GET", "/redfish/v1/Systems/1", NULL, NULL);
    assert_int_equal(r.resp.status, 401);
    assert_null(hdr(&r, "Allow"));
    done(&r);
}

static void test_link_describedby(void **state)
{
    static const struct {
        const char *path, *link;
    } cases[] = {
        { "/redfish/v1/", "ServiceRoot.v1_5_0" },
        { "/redfish/v1/Systems", "ComputerSystemCollection" },
        { "/redfish/v1/Managers/1/NetworkProtocol", "ManagerNetworkProtocol.v1_9_0" },
        { "/redfish/v1/SessionService", "SessionService.v1_1_8" },
        { "/redfish/v1/SessionService/Sessions", "SessionCollection" },
        { "/redfish/v1/AccountService/Accounts", "ManagerAccountCollection" },
        { "/redfish/v1/AccountService/Roles/Operator", "Role.v1_2_0" },
    };
    fixture *f = *state;
    result   r;
    char     want[160];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(want, sizeof(want), "<http://redfish.dmtf.org/schemas/v1/%s.json>; rel=describedby",
                 cases[i].link);
        r = run(f, "GET", cases[i].path, NULL, ADMIN, NULL);
        assert_int_equal(r.resp.status, 200);
        assert_non_null(hdr(&r, "Link"));
        assert_string_equal(hdr(&r, "Link"), want);
        done(&r);
    }
    /* Errors and documents without @odata.type carry none. */
    r = run(f, "GET", "/redfish/v1/Nothing", NULL, ADMIN, NULL);
    assert_null(hdr(&r, "Link"));
    done(&r);
    r = run(f, "GET", "/redfish/v1/odata", NULL, NULL);
    assert_null(hdr(&r, "Link"));
    done(&r);
}

static void test_patch_annotations_only(void **state)
{
    fixture *f = *state;
    result   r;
    char     path[96];

    snprintf(path, sizeof(path), "/redfish/v1/AccountService/Accounts/%lld", (long long)f->oper_id);
    r = run(f, "PATCH", path, "{\"@odata.id\": \"x/\"}", ADMIN, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.NoOperation");
    done(&r);
    r = run(f, "PATCH", path, "{}", ADMIN, NULL);
    assert_string_equal(msg_id(&r), "Base.1.15.0.EmptyJSON");
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/SessionService", "{\"@odata.etag\": \"W/1\"}", ADMIN, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.NoOperation");
    done(&r);
    r = run(f, "PATCH", "/redfish/v1/AccountService", "{\"@odata.type\": \"#x\"}", ADMIN, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.NoOperation");
    done(&r);
}

static void test_metadata_service_first(void **state)
{
    fixture    *f = *state;
    result      r = run(f, "GET", "/redfish/v1/$metadata", NULL, NULL);
    const char *ds, *schema;

    assert_int_equal(r.resp.status, 200);
    ds = strstr(r.resp.body, "<edmx:DataServices>");
    assert_non_null(ds);
    schema = strstr(ds, "<Schema ");
    assert_non_null(schema);
    assert_non_null(strstr(schema, "Namespace=\"Service\">"));
    assert_true(strstr(schema, "Namespace=\"Service\">") < strstr(schema, "</Schema>"));
    assert_true(strstr(schema, "<EntityContainer") < strstr(schema, "</Schema>"));
    done(&r);
}

static void test_only(void **state)
{
    fixture *f = *state;
    login    mine = do_login(f, "viewer", PW);
    result   r;

    r = run(f, "GET", "/redfish/v1/Systems?only", NULL, ADMIN, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.id", NULL), "/redfish/v1/Systems/1");
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    assert_non_null(strstr(hdr(&r, "Link"), "ComputerSystem.v1_20_0.json"));
    done(&r);
    /* Several members: the collection itself. */
    r = run(f, "GET", "/redfish/v1/AccountService/Roles?only=", NULL, ADMIN, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.id", NULL), "/redfish/v1/AccountService/Roles");
    done(&r);
    /* A reader's sessions are its own: the one member, through its handler. */
    r = run(f, "GET", "/redfish/v1/SessionService/Sessions?only", NULL, "X-Auth-Token", mine.token,
            NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(str_at(&r, "@odata.id", NULL), mine.location);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD, DELETE");
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems/1?only", NULL, ADMIN, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.QueryNotSupportedOnResource");
    done(&r);
    r = run(f, "GET", "/redfish/v1/Systems?only&excerpt", NULL, ADMIN, NULL);
    assert_string_equal(msg_id(&r), "Base.1.15.0.QueryCombinationInvalid");
    done(&r);
    r = run(f, "GET", "/redfish/v1/?only=%FF%00", NULL, NULL);
    assert_int_equal(r.resp.status, 400);
    assert_string_equal(msg_id(&r), "Base.1.15.0.QueryParameterValueFormatError");
    done(&r);
    /* A write ignores them. */
    r = run(f, "DELETE", "/redfish/v1/SessionService/Sessions/00?only", NULL, ADMIN, NULL);
    assert_int_equal(r.resp.status, 404);
    done(&r);
}

static void test_excerpt(void **state)
{
    fixture *f = *state;
    result   whole, r;

    whole = run(f, "GET", "/redfish/v1/Chassis/1/Sensors/CPU1Temp", NULL, ADMIN, NULL);
    r = run(f, "GET", "/redfish/v1/Chassis/1/Sensors/CPU1Temp?excerpt", NULL, ADMIN, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_true(json_equal(json_object_get(r.json, "Reading"),
                           json_object_get(whole.json, "Reading")));
    assert_string_equal(str_at(&r, "PhysicalContext", NULL), "CPU");
    assert_string_equal(str_at(&r, "@odata.id", NULL), "/redfish/v1/Chassis/1/Sensors/CPU1Temp");
    assert_null(json_object_get(r.json, "Name"));
    assert_null(json_object_get(r.json, "Thresholds"));
    assert_int_equal(json_object_size(r.json), 4);
    assert_null(hdr(&r, "ETag"));
    assert_non_null(hdr(&whole, "ETag"));
    assert_non_null(strstr(hdr(&r, "Link"), "Sensor.v1_9_0.json"));
    done(&r);
    done(&whole);
    /* No excerpt properties in its schema: the whole resource, as it is. */
    whole = run(f, "GET", "/redfish/v1/Systems/1", NULL, ADMIN, NULL);
    r = run(f, "GET", "/redfish/v1/Systems/1?excerpt", NULL, ADMIN, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_ptr_equal(r.resp.body, whole.resp.body);
    assert_string_equal(hdr(&r, "ETag"), hdr(&whole, "ETag"));
    done(&r);
    done(&whole);
}

static void test_openapi(void **state)
{
    fixture             *f = *state;
    const gh_tree_entry *e = gh_tree_find(f->tree, GH_STR("/redfish/v1/openapi.yaml"), "reply");
    result               r;

    assert_non_null(e);
    assert_non_null(strstr(e->body, "openapi: '3.0.1'\n"));
    assert_non_null(strstr(e->body, "\n  '/redfish/v1/Chassis/1/Sensors/CPU1Temp':\n    get:\n"));
    assert_non_null(strstr(e->body, "\n  '/redfish/v1/SessionService/Sessions/{SessionId}':\n"));
    assert_non_null(strstr(e->body, "Sensor.v1_9_0.yaml#/components/schemas/Sensor_v1_9_0_Sensor"));
    /* Open, like $metadata. */
    r = run(f, "GET", "/redfish/v1/OpenAPI.yaml", NULL, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(r.resp.content_type, "application/yaml; charset=utf-8");
    assert_ptr_equal(r.resp.body, e->body);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    done(&r);
    r = run(f, "POST", "/redfish/v1/openapi.yaml", "{}", ADMIN, NULL);
    assert_int_equal(r.resp.status, 405);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_allow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_describedby, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_annotations_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_service_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_excerpt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
