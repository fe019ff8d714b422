/*
 * test_redfish_query.c: the Redfish dialect's query parameter parser and
 * its reply transforms (redfish_query.c), and the schema name an @odata.type
 * gives the Link header (redfish_headers.c), on their own, without a store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/redfish/redfish_internal.h"

static void test_parse(void **state)
{
    static const struct {
        const char             *query;
        gh_redfish_query_result rc;
        bool                    only, excerpt;
    } cases[] = {
        { "", GH_RF_QUERY_OK, false, false },
        { "only", GH_RF_QUERY_OK, true, false },
        { "only=", GH_RF_QUERY_OK, true, false },
        { "excerpt", GH_RF_QUERY_OK, false, true },
        { "x=1&only&y", GH_RF_QUERY_OK, true, false },
        { "onlyx&Only&EXCERPT&excerpts=1", GH_RF_QUERY_OK, false, false },
        { "&&=&", GH_RF_QUERY_OK, false, false },
        { "only=foo", GH_RF_QUERY_BAD_VALUE, true, false },
        { "excerpt=1&only", GH_RF_QUERY_BAD_VALUE, true, true },
        { "only&excerpt", GH_RF_QUERY_COMBINATION, true, true },
        { "only&only", GH_RF_QUERY_OK, true, false },
        { "$top=1", GH_RF_QUERY_UNSUPPORTED, false, false },
        { "%24expand=*", GH_RF_QUERY_UNSUPPORTED, false, false },
        { "only&$select=Id", GH_RF_QUERY_UNSUPPORTED, true, false },
        { "only=x&$select=Id", GH_RF_QUERY_UNSUPPORTED, true, false },
        { "$", GH_RF_QUERY_UNSUPPORTED, false, false },
    };
    gh_redfish_query q;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_str s = { cases[i].query, strlen(cases[i].query) };

        assert_int_equal(gh_redfish_query_parse(s, &q), cases[i].rc);
        assert_int_equal(q.only, cases[i].only);
        assert_int_equal(q.excerpt, cases[i].excerpt);
    }
    assert_int_equal(gh_redfish_query_parse(GH_STR("a&excerpt=xyz"), &q), GH_RF_QUERY_BAD_VALUE);
    assert_true(gh_str_eq(q.bad_name, "excerpt"));
    assert_true(gh_str_eq(q.bad_value, "xyz"));
    assert_int_equal(gh_redfish_query_parse((gh_str){ NULL, 0 }, &q), GH_RF_QUERY_OK);
}

static void test_schema_name(void **state)
{
    static const struct {
        const char *type, *name;
    } cases[] = {
        { "#ServiceRoot.v1_5_0.ServiceRoot", "ServiceRoot.v1_5_0" },
        { "#SessionCollection.SessionCollection", "SessionCollection" },
        { "#Sensor.v1_9_0.Sensor", "Sensor.v1_9_0" },
        { "ServiceRoot.v1_5_0.ServiceRoot", NULL },
        { "#ServiceRoot", NULL },
        { "#ServiceRoot.", NULL },
        { "#A.b_1.C", NULL },               /* a version starts with v */
        { "#A.v1.C.D", NULL },
        { "#A.v1_0_0.C>; rel=x", NULL },    /* never anything a header could carry */
        { "#A\r\n.v1.A", NULL },
        { "", NULL },
        { NULL, NULL },
    };
    char out[160];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = gh_redfish_schema_name(cases[i].type, out, sizeof(out));

        assert_int_equal(ok, cases[i].name != NULL);
        if (ok)
            assert_string_equal(out, cases[i].name);
    }
    assert_false(gh_redfish_schema_name("#ServiceRoot.v1_5_0.ServiceRoot", out, 10));
}

static void reply_with(gh_response *resp, const char *json)
{
    gh_response_init(resp);
    resp->status = 200;
    gh_response_copy_body(resp, json, strlen(json), GH_REDFISH_JSON_TYPE);
}

static void test_only_member(void **state)
{
    gh_response resp;
    char        path[64];

    (void)state;
    reply_with(&resp, "{\"Members\": [{\"@odata.id\": \"/redfish/v1/Systems/1\"}]}");
    assert_int_equal(gh_redfish_only_member(&resp, path, sizeof(path)), GH_RF_ONLY_MEMBER);
    assert_string_equal(path, "/redfish/v1/Systems/1");
    assert_int_equal(gh_redfish_only_member(&resp, path, 8), GH_RF_ONLY_KEEP);
    gh_response_free(&resp);
    reply_with(&resp, "{\"Members\": [{\"@odata.id\": \"/a\"}, {\"@odata.id\": \"/b\"}]}");
    assert_int_equal(gh_redfish_only_member(&resp, path, sizeof(path)), GH_RF_ONLY_KEEP);
    gh_response_free(&resp);
    reply_with(&resp, "{\"Members\": []}");
    assert_int_equal(gh_redfish_only_member(&resp, path, sizeof(path)), GH_RF_ONLY_KEEP);
    gh_response_free(&resp);
    reply_with(&resp, "{\"Members\": [7]}");
    assert_int_equal(gh_redfish_only_member(&resp, path, sizeof(path)), GH_RF_ONLY_KEEP);
    gh_response_free(&resp);
    reply_with(&resp, "{\"Id\": \"1\"}");
    assert_int_equal(gh_redfish_only_member(&resp, path, sizeof(path)), GH_RF_ONLY_NOT_COLLECTION);
    gh_response_free(&resp);
    reply_with(&resp, "not json");
    assert_int_equal(gh_redfish_only_member(&resp, path, sizeof(path)), GH_RF_ONLY_NOT_COLLECTION);
    gh_response_free(&resp);
}

static void test_excerpt(void **state)
{
    static const char job[] =
        "{\"@odata.id\": \"/j/1\", \"@odata.type\": \"#Job.v1_2_0.Job\", \"@odata.etag\": \"1\","
        " \"Id\": \"1\", \"JobState\": \"Running\", \"PercentComplete\": 40, \"Messages\": []}";
    gh_response resp;
    json_t     *doc;

    (void)state;
    reply_with(&resp, job);
    gh_response_header_add(&resp, "ETag", "\"1\"");
    gh_response_header_add(&resp, "Cache-Control", "no-cache");
    gh_redfish_excerpt(&resp);
    doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_object_size(doc), 4);
    assert_string_equal(json_string_value(json_object_get(doc, "JobState")), "Running");
    assert_int_equal(json_integer_value(json_object_get(doc, "PercentComplete")), 40);
    assert_null(json_object_get(doc, "@odata.etag"));
    assert_false(gh_redfish_has_header(&resp, "ETag"));
    assert_true(gh_redfish_has_header(&resp, "Cache-Control"));
    json_decref(doc);
    gh_response_free(&resp);
    /* No excerpt properties in its schema: untouched. */
    reply_with(&resp, "{\"@odata.type\": \"#Chassis.v1_23_0.Chassis\", \"Id\": \"1\"}");
    gh_response_header_add(&resp, "ETag", "\"2\"");
    gh_redfish_excerpt(&resp);
    assert_string_equal(resp.body, "{\"@odata.type\": \"#Chassis.v1_23_0.Chassis\", \"Id\": \"1\"}");
    assert_true(gh_redfish_has_header(&resp, "ETag"));
    gh_response_free(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_schema_name),
        cmocka_unit_test(test_only_member),
        cmocka_unit_test(test_excerpt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
