/*
 * test_powerstore_query.c: the PowerStore query parsers and paging
 * (src/dialects/powerstore/powerstore_query.c, powerstore_select.c) on their own: the
 * select grammar ('*' included) and its
 * application to objects and arrays, the whole query (select, limit, offset,
 * filters, what is refused), filter matching, the Range header, and which
 * page of a collection a request gets. Requests that use them end to end are
 * in test_powerstore.c.
 */
#include "powerstore_fixture.h"

static void test_select_parse(void **state)
{
    static const char *const good[] = {
        "id", "id,name", " id , name ", "id,name, description",
        "id,protection_policy(name,id),host(name,id)",
        "file_system(id,name,filesystem_type,nas_server(id,name))",
        "a(b(c(d(e(f)))))", "A_1,b2", "*", " * ", "*,id", "id,*", "*,appliance(name)",
        "appliance(*)", "*,host(*,x(y))", "*,*",
    };
    static const char *const bad[] = {
        "", ",", "id,", ",id", "id,,name", "id(", "id()", "id(name", "id)name", "(id)",
        "id name", "id;name", "a(b(c(d(e(f(g))))))", "na-me", "id\x01", "id(name))",
        "**", "*id", "id*", "*(id)", "a(*(b))", "*.", "* ,", "%2A",
    };
    gh_ps_select *sel = malloc(sizeof(*sel));
    char          big[300];

    (void)state;
    assert_non_null(sel);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (gh_ps_select_parse((gh_str){ good[i], strlen(good[i]) }, sel) != 0)
            fail_msg("refused \"%s\"", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gh_ps_select_parse((gh_str){ bad[i], strlen(bad[i]) }, sel) == 0)
            fail_msg("took \"%s\"", bad[i]);
    }
    /* A name over GH_PS_NAME_MAX, and more names than GH_PS_SELECT_MAX. */
    memset(big, 'a', GH_PS_NAME_MAX + 1);
    assert_int_equal(gh_ps_select_parse((gh_str){ big, GH_PS_NAME_MAX + 1 }, sel), -1);
    assert_int_equal(gh_ps_select_parse((gh_str){ big, GH_PS_NAME_MAX }, sel), 0);
    for (size_t i = 0; i < 150; i++) {
        big[2 * i] = 'x';
        big[2 * i + 1] = ',';
    }
    assert_int_equal(gh_ps_select_parse((gh_str){ big, 2 * GH_PS_SELECT_MAX - 1 }, sel), 0);
    assert_int_equal(gh_ps_select_parse((gh_str){ big, 2 * GH_PS_SELECT_MAX + 1 }, sel), -1);
    assert_int_equal(gh_ps_select_parse((gh_str){ NULL, 0 }, sel), -1);
    free(sel);
}

static void test_select_apply(void **state)
{
    gh_ps_select *sel = malloc(sizeof(*sel));
    json_t       *obj = json_loads("{\"id\":\"1\",\"name\":\"v\",\"size\":5,"
                                   "\"policy\":{\"id\":\"p\",\"name\":\"P\",\"x\":1},"
                                   "\"hosts\":[{\"id\":\"h\",\"name\":\"H\"},7],"
                                   "\"tags\":[\"a\"]}", 0, NULL);
    json_t       *out;
    char         *text;

    (void)state;
    assert_non_null(sel);
    assert_non_null(obj);
    assert_int_equal(gh_ps_select_parse(GH_STR("name,missing,id,policy(name),hosts(id),"
                                               "tags(x),size(y),id"), sel), 0);
    out = gh_ps_select_apply(sel, obj);
    text = json_dumps(out, JSON_COMPACT);
    /* In the order asked; unknown names out; a list cuts objects and arrays
     * of objects, and leaves other values as they are; a repeat counts once. */
    assert_string_equal(text, "{\"name\":\"v\",\"id\":\"1\",\"policy\":{\"name\":\"P\"},"
                              "\"hosts\":[{\"id\":\"h\"},7],\"tags\":[\"a\"],\"size\":5}");
    free(text);
    json_decref(out);
    /* An embedded object named without a list comes whole. */
    assert_int_equal(gh_ps_select_parse(GH_STR("policy"), sel), 0);
    out = gh_ps_select_apply(sel, obj);
    assert_int_equal(json_object_size(json_object_get(out, "policy")), 3);
    json_decref(out);
    assert_null(gh_ps_select_apply(sel, json_array_get(json_object_get(obj, "tags"), 0)));
    json_decref(obj);
    free(sel);
}

/* Apply select to obj (JSON text); the compact text of the answer, in out. */
static void select_text(const char *select, const char *obj, char *out, size_t outlen)
{
    gh_ps_select *sel = malloc(sizeof(*sel));
    json_t       *src = json_loads(obj, 0, NULL), *got;
    char         *text;

    assert_non_null(sel);
    assert_non_null(src);
    if (gh_ps_select_parse((gh_str){ select, strlen(select) }, sel) != 0)
        fail_msg("refused \"%s\"", select);
    got = gh_ps_select_apply(sel, src);
    text = json_dumps(got, JSON_COMPACT);
    snprintf(out, outlen, "%s", text);
    free(text);
    json_decref(got);
    json_decref(src);
    free(sel);
}

static void test_select_star(void **state)
{
    static const char obj[] = "{\"id\":\"1\",\"name\":\"v\",\"appliance\":{\"id\":\"A1\","
                              "\"name\":\"a\"},\"host\":[{\"id\":\"h\",\"name\":\"H\"}],"
                              "\"size\":5}";
    char out[512];

    (void)state;
    /* Every attribute, in the resource's order. */
    select_text("*", obj, out, sizeof(out));
    assert_string_equal(out, "{\"id\":\"1\",\"name\":\"v\",\"appliance\":{\"id\":\"A1\","
                             "\"name\":\"a\"},\"host\":[{\"id\":\"h\",\"name\":\"H\"}],"
                             "\"size\":5}");
    /* With other names: the names without a list add nothing, a list cuts
     * its attribute down, wherever '*' stands in the list. */
    select_text("id,*,name,missing", obj, out, sizeof(out));
    assert_string_equal(out, "{\"id\":\"1\",\"name\":\"v\",\"appliance\":{\"id\":\"A1\","
                             "\"name\":\"a\"},\"host\":[{\"id\":\"h\",\"name\":\"H\"}],"
                             "\"size\":5}");
    select_text("appliance(name),*,host(id)", obj, out, sizeof(out));
    assert_string_equal(out, "{\"id\":\"1\",\"name\":\"v\",\"appliance\":{\"name\":\"a\"},"
                             "\"host\":[{\"id\":\"h\"}],\"size\":5}");
    /* In a nested list: every attribute of the related object. */
    select_text("name,appliance(*),host(*)", obj, out, sizeof(out));
    assert_string_equal(out, "{\"name\":\"v\",\"appliance\":{\"id\":\"A1\",\"name\":\"a\"},"
                             "\"host\":[{\"id\":\"h\",\"name\":\"H\"}]}");
    select_text("*,*", "{}", out, sizeof(out));
    assert_string_equal(out, "{}");
}

static void test_query_parse(void **state)
{
    static const struct {
        const char         *query;
        gh_ps_query_result  result;
        const char         *param;
    } cases[] = {
        { "", GH_PS_QUERY_OK, "" },
        { "select=id%2Cname", GH_PS_QUERY_OK, "" },
        { "select=id,name&limit=10&offset=5", GH_PS_QUERY_OK, "" },
        { "name=eq.vol1&state=neq.Ready&type=in.(Primary,Clone)", GH_PS_QUERY_OK, "" },
        { "select=id&select=name", GH_PS_QUERY_BAD_SELECT, "select" },
        { "select=id,", GH_PS_QUERY_BAD_SELECT, "select" },
        { "select=*", GH_PS_QUERY_OK, "" },
        { "select=%2A,appliance(name)", GH_PS_QUERY_OK, "" },
        { "select=*(id)", GH_PS_QUERY_BAD_SELECT, "select" },
        { "select=", GH_PS_QUERY_BAD_SELECT, "select" },
        { "limit=0", GH_PS_QUERY_BAD_RANGE, "limit" },
        { "limit=-3", GH_PS_QUERY_BAD_RANGE, "limit" },
        { "limit=abc", GH_PS_QUERY_BAD_PARAM, "limit" },
        { "limit=1&limit=2", GH_PS_QUERY_BAD_PARAM, "limit" },
        { "limit=1234567890123", GH_PS_QUERY_BAD_PARAM, "limit" },
        { "offset=-1", GH_PS_QUERY_BAD_PARAM, "offset" },
        { "order=name", GH_PS_QUERY_BAD_PARAM, "order" },
        { "is_async=true", GH_PS_QUERY_BAD_PARAM, "is_async" },
        { "name=like.vol*", GH_PS_QUERY_BAD_PARAM, "name" },
        { "name=vol1", GH_PS_QUERY_BAD_PARAM, "name" },
        { "name", GH_PS_QUERY_BAD_PARAM, "name" },
        { "na.me=eq.x", GH_PS_QUERY_BAD_PARAM, "na.me" },
        { "name=in.(a,b", GH_PS_QUERY_BAD_PARAM, "name" },
        { "name=eq.%zz", GH_PS_QUERY_BAD_PARAM, "(query)" },
    };
    gh_ps_query *q = malloc(sizeof(*q));
    char         param[64];
    char        *big;

    (void)state;
    assert_non_null(q);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_ps_query_result rc = gh_ps_query_parse((gh_str){ cases[i].query,
                                                            strlen(cases[i].query) },
                                                  q, param, sizeof(param));

        if (rc != cases[i].result || strcmp(param, cases[i].param) != 0)
            fail_msg("\"%s\": %d \"%s\"", cases[i].query, rc, param);
    }
    assert_int_equal(gh_ps_query_parse(GH_STR("limit=5000&offset=7&select=name"), q, NULL, 0),
                     GH_PS_QUERY_OK);
    assert_int_equal(q->limit, GH_PS_LIMIT_MAX);
    assert_int_equal(q->offset, 7);
    assert_int_equal(q->select.n, 1);
    /* Without select, PowerStore answers with the id alone. */
    assert_int_equal(gh_ps_query_parse(GH_STR(""), q, NULL, 0), GH_PS_QUERY_OK);
    assert_int_equal(q->select.n, 1);
    assert_memory_equal(q->select.text, "id", 2);
    /* Over the size limit of a whole query. */
    big = malloc(GH_PS_QUERY_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', GH_PS_QUERY_MAX + 1);
    assert_int_equal(gh_ps_query_parse((gh_str){ big, GH_PS_QUERY_MAX + 1 }, q, param,
                                       sizeof(param)), GH_PS_QUERY_BAD_PARAM);
    free(big);
    free(q);
}

static void test_query_match(void **state)
{
    gh_ps_query *q = malloc(sizeof(*q));
    json_t      *a = json_loads("{\"name\":\"Vol1\",\"size\":5,\"ok\":true,\"p\":null,"
                                "\"o\":{\"x\":1}}", 0, NULL);

    (void)state;
    assert_non_null(q);
    assert_int_equal(gh_ps_query_parse(GH_STR("name=eq.vol1"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_true(gh_ps_query_match(q, a));   /* case ignored */
    assert_int_equal(gh_ps_query_parse(GH_STR("name=eq.vol"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_false(gh_ps_query_match(q, a));
    assert_int_equal(gh_ps_query_parse(GH_STR("size=in.(4,5,6)&ok=eq.true"), q, NULL, 0),
                     GH_PS_QUERY_OK);
    assert_true(gh_ps_query_match(q, a));
    assert_int_equal(gh_ps_query_parse(GH_STR("size=neq.5"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_false(gh_ps_query_match(q, a));
    assert_int_equal(gh_ps_query_parse(GH_STR("p=eq.null&missing=eq.null"), q, NULL, 0),
                     GH_PS_QUERY_OK);
    assert_true(gh_ps_query_match(q, a));
    assert_int_equal(gh_ps_query_parse(GH_STR("o=eq.x"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_false(gh_ps_query_match(q, a));
    assert_int_equal(gh_ps_query_parse(GH_STR("o=neq.x"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_true(gh_ps_query_match(q, a));
    assert_int_equal(gh_ps_query_parse(GH_STR("name=in.()"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_false(gh_ps_query_match(q, a));
    json_decref(a);
    free(q);
}

static void test_range_parse(void **state)
{
    static const struct {
        const char *value;
        int         rc;
        uint64_t    first, last;
        bool        has_last;
    } cases[] = {
        { "0-99", 1, 0, 99, true },
        { " 5-5 ", 1, 5, 5, true },
        { "100-", 1, 100, 0, false },
        { "999999999999-999999999999", 1, 999999999999ULL, 999999999999ULL, true },
        { "1000000000000-1000000000001", -1, 0, 0, false },
        { "9-3", -1, 0, 0, false },
        { "-5", -1, 0, 0, false },
        { "a-b", -1, 0, 0, false },
        { "items=0-9", -1, 0, 0, false },
        { "0-9,20-29", -1, 0, 0, false },
        { "0 - 9", -1, 0, 0, false },
        { "", -1, 0, 0, false },
        { "7", -1, 0, 0, false },
    };
    gh_ps_range r;

    (void)state;
    assert_int_equal(gh_ps_range_parse((gh_str){ NULL, 0 }, &r), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = gh_ps_range_parse((gh_str){ cases[i].value, strlen(cases[i].value) }, &r);

        if (rc != cases[i].rc)
            fail_msg("\"%s\": %d", cases[i].value, rc);
        if (rc == 1 && (r.first != cases[i].first || r.has_last != cases[i].has_last ||
                        (r.has_last && r.last != cases[i].last)))
            fail_msg("\"%s\": %llu-%llu", cases[i].value, (unsigned long long)r.first,
                     (unsigned long long)r.last);
    }
}

static void test_page_plan(void **state)
{
    gh_ps_query *q = malloc(sizeof(*q));
    gh_ps_range  r = { 0, 1, true };
    gh_ps_page   p;

    (void)state;
    assert_non_null(q);
    assert_int_equal(gh_ps_query_parse(GH_STR(""), q, NULL, 0), GH_PS_QUERY_OK);
    /* Everything fits in the default page: 200. */
    assert_int_equal(gh_ps_page_plan(q, NULL, 3, &p), 0);
    assert_true(p.first == 0 && p.count == 3 && !p.partial);
    assert_int_equal(gh_ps_page_plan(q, NULL, 250, &p), 0);
    assert_true(p.first == 0 && p.count == 100 && p.partial);
    /* A Range is answered 206, even when it covers everything. */
    assert_int_equal(gh_ps_page_plan(q, &r, 3, &p), 0);
    assert_true(p.first == 0 && p.count == 2 && p.partial);
    r = (gh_ps_range){ 0, 99, true };
    assert_int_equal(gh_ps_page_plan(q, &r, 3, &p), 0);
    assert_true(p.first == 0 && p.count == 3 && p.partial);
    r = (gh_ps_range){ 1, 0, false };
    assert_int_equal(gh_ps_page_plan(q, &r, 5000, &p), 0);
    assert_true(p.first == 1 && p.count == GH_PS_LIMIT_MAX);
    r = (gh_ps_range){ 3, 10, true };
    assert_int_equal(gh_ps_page_plan(q, &r, 3, &p), -1);
    assert_int_equal(gh_ps_page_plan(q, &r, 0, &p), 0);
    assert_int_equal(p.count, 0);
    /* limit and offset: 206 only when items are left out. */
    assert_int_equal(gh_ps_query_parse(GH_STR("limit=2&offset=1"), q, NULL, 0), GH_PS_QUERY_OK);
    assert_int_equal(gh_ps_page_plan(q, NULL, 3, &p), 0);
    assert_true(p.first == 1 && p.count == 2 && p.partial);
    assert_int_equal(gh_ps_page_plan(q, NULL, 1, &p), -1);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_parse),
        cmocka_unit_test(test_select_apply),
        cmocka_unit_test(test_select_star),
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_query_match),
        cmocka_unit_test(test_range_parse),
        cmocka_unit_test(test_page_plan),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
