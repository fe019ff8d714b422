/*
 * test_json_text.c: how gatehouse writes JSON (src/dialects/common/json_text.c):
 * the exact bytes of the helper, that each dialect's replies go through it
 * (a PowerStore error, a Redfish reply, an oVirt reply: indented by two
 * spaces, ending in a newline, Content-Length their whole length), and that
 * every bundled file under data/ is written the same way. And that the
 * passwords a parsed body holds are wiped where jansson keeps them
 * (json_secret.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/common/json_secret.h"
#include "../../src/dialects/common/json_text.h"
#include "../../src/dialects/ovirt/ovirt_internal.h"
#include "../../src/dialects/powerstore/powerstore_internal.h"
#include "../../src/dialects/redfish/redfish_internal.h"
#include "../../src/dialects/common/tree.h"

static void test_text_bytes(void **state)
{
    json_t *v = json_pack("{s:s, s:[i, {s:b}], s:{}, s:[], s:s}", "id", "A1", "nodes", 1,
                          "up", 1, "empty", "none", "name", "caf\xc3\xa9");
    size_t  len;
    char   *text;

    (void)state;
    json_object_set_new(v, "empty", json_object());
    json_object_set_new(v, "none", json_array());
    text = gh_json_text(v, &len);
    assert_non_null(text);
    assert_string_equal(text, "{\n"
                              "  \"id\": \"A1\",\n"
                              "  \"nodes\": [\n"
                              "    1,\n"
                              "    {\n"
                              "      \"up\": true\n"
                              "    }\n"
                              "  ],\n"
                              "  \"empty\": {},\n"
                              "  \"none\": [],\n"
                              "  \"name\": \"caf\\u00E9\"\n"
                              "}\n");
    assert_int_equal(len, strlen(text));
    free(text);
    json_decref(v);

    /* A body longer than the usual buffer: measured, then written whole. */
    {
        char big[5001];

        memset(big, 'b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        v = json_pack("{s:s}", "big", big);
        text = gh_json_text(v, &len);
        assert_non_null(text);
        assert_int_equal(len, strlen(text));
        assert_int_equal(len, 5000 + strlen("{\n  \"big\": \"\"\n}\n"));
        assert_non_null(strstr(text, big));
        free(text);
        json_decref(v);
    }

    /* A bare value is a body too; nothing is no body. */
    v = json_string("x");
    text = gh_json_text(v, &len);
    assert_string_equal(text, "\"x\"\n");
    assert_int_equal(len, 4);
    free(text);
    json_decref(v);
    len = 99;
    assert_null(gh_json_text(NULL, &len));
    assert_int_equal(len, 0);
}

static void test_reply(void **state)
{
    gh_response resp;

    (void)state;
    gh_response_init(&resp);
    assert_int_equal(gh_json_reply(&resp, 201, json_pack("[s]", "a"), "application/json"), 0);
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.body_len, strlen("[\n  \"a\"\n]\n"));
    assert_memory_equal(resp.body, "[\n  \"a\"\n]\n", resp.body_len);
    assert_string_equal(resp.content_type, "application/json");
    gh_response_free(&resp);

    gh_response_init(&resp);
    assert_int_equal(gh_json_reply(&resp, 200, NULL, "application/json"), -1);
    assert_int_equal(resp.status, 0);
    assert_null(resp.body);
    gh_response_free(&resp);
}

/* body is what gh_json_text makes of its own parse: indented, a newline last. */
static void assert_written_as_json_text(const char *body, size_t len)
{
    json_error_t err;
    json_t      *v = json_loadb(body, len, 0, &err);
    size_t       want_len;
    char        *want;

    if (v == NULL)
        fail_msg("not JSON: %s (%.*s)", err.text, (int)len, body);
    want = gh_json_text(v, &want_len);
    assert_non_null(want);
    assert_true(len > 1 && body[len - 1] == '\n');
    if (len != want_len || memcmp(body, want, len) != 0)
        fail_msg("written otherwise:\n%.*s\nexpected:\n%s", (int)len, body, want);
    free(want);
    json_decref(v);
}

static void test_dialect_replies(void **state)
{
    gh_response resp;

    (void)state;
    gh_response_init(&resp);
    gh_ps_fail(&resp, GH_PS_E_NOT_FOUND, "/api/rest/nothing");
    assert_int_equal(resp.status, 404);
    assert_written_as_json_text(resp.body, resp.body_len);
    assert_non_null(strstr(resp.body, "\n  \"messages\": [\n    {\n      \"code\": \"0xE1404001\""));
    gh_response_free(&resp);

    gh_response_init(&resp);
    gh_ps_reply(&resp, 200, json_pack("[{s:s}]", "id", "A1"));
    assert_string_equal(resp.body, "[\n  {\n    \"id\": \"A1\"\n  }\n]\n");
    gh_response_free(&resp);

    gh_response_init(&resp);
    gh_redfish_reply(&resp, 200, json_pack("{s:s}", "Id", "1"));
    assert_string_equal(resp.body, "{\n  \"Id\": \"1\"\n}\n");
    gh_response_free(&resp);

    gh_response_init(&resp);
    gh_ovirt_json(&resp, 400, json_pack("{s:s, s:s}", "error", "invalid_grant",
                                        "error_description", "no"), "application/json");
    assert_string_equal(resp.body,
                        "{\n  \"error\": \"invalid_grant\",\n  \"error_description\": \"no\"\n}\n");
    gh_response_free(&resp);
}

/* Every JSON entry of the bundled tree, the files and what the dialects render
 * from them, is written as gh_json_text writes (the files' reals as people
 * write them, with at most 15 digits). */
static void test_bundled_files(void **state)
{
    const gh_tree_entry *e;
    gh_tree             *t = NULL;
    char                 err[256];
    size_t               checked = 0;

    (void)state;
    if (gh_tree_load("data", &t, err, sizeof(err)) != 0)
        fail_msg("data/: %s (run the tests from the repository root)", err);
    for (size_t i = 0; (e = gh_tree_at(t, i)) != NULL; i++) {
        size_t need;
        char  *want;

        if (e->json == NULL)
            continue;
        need = json_dumpb(e->json, NULL, 0, GH_JSON_FLAGS | JSON_REAL_PRECISION(15));
        want = malloc(need + 1);
        assert_non_null(want);
        assert_int_equal(json_dumpb(e->json, want, need,
                                    GH_JSON_FLAGS | JSON_REAL_PRECISION(15)), need);
        want[need] = '\n';
        if (e->len != need + 1 || memcmp(e->body, want, e->len) != 0)
            fail_msg("%s is written otherwise than gh_json_text writes:\n%.*s", e->path,
                     (int)(need + 1), want);
        free(want);
        checked++;
    }
    assert_true(checked > 20);
    gh_tree_free(t);
}

/* The bytes of a string value are zero for its whole length. */
static void assert_wiped(const json_t *v)
{
    const char *text = json_string_value(v);

    assert_non_null(text);
    for (size_t i = 0; i < json_string_length(v); i++)
        assert_int_equal(text[i], 0);
}

static void test_secret_wipe(void **state)
{
    static const char *const names[] = { "password", "current_password", NULL };
    json_t *body = json_loads("{\"name\": \"ann\", \"password\": \"s3cret-one\", "
                              "\"current_password\": \"s3cret-two\", \"role\": 7}", 0, NULL);

    (void)state;
    assert_non_null(body);
    gh_json_secret_wipe(json_object_get(body, "role"));       /* not a string: untouched */
    assert_int_equal(json_integer_value(json_object_get(body, "role")), 7);
    gh_json_secret_wipe(NULL);
    /* Hold a reference of our own, so the body outlives the free and its
     * strings can be read after it. */
    json_incref(body);
    gh_json_secret_free(body, names);
    assert_int_equal(json_string_length(json_object_get(body, "password")), 10);
    assert_wiped(json_object_get(body, "password"));
    assert_wiped(json_object_get(body, "current_password"));
    assert_string_equal(json_string_value(json_object_get(body, "name")), "ann");
    assert_int_equal(body->refcount, 1);
    json_decref(body);
    gh_json_secret_free(NULL, names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_bytes),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_dialect_replies),
        cmocka_unit_test(test_bundled_files),
        cmocka_unit_test(test_secret_wipe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
