/*
 * test_dialect.c: what every dialect offers the adapter (src/dialects/
 * dialect.c and each dialect's table): the choice of a dialect by path, and
 * fail(), the body of an error status nginx or the adapter decided, for each
 * status nginx produces and for the paths an error page may bring (a URI cut
 * short, one that does not decode, none at all).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../src/dialects/common/dialect.h"
#include "../../src/dialects/ovirt/ovirt.h"
#include "../../src/dialects/redfish/redfish.h"

/* Every status nginx or the adapter hands to fail(). */
static const int statuses[] = { 400, 404, 405, 408, 413, 414, 429, 431, 500, 502, 503, 504 };

static gh_str no_header(const gh_request *req, const char *name)
{
    (void)req;
    (void)name;
    return (gh_str){ NULL, 0 };
}

static gh_request request(const char *path)
{
    gh_request req;

    memset(&req, 0, sizeof(req));
    req.method = GH_METHOD_GET;
    req.method_name = GH_STR("GET");
    req.path = (gh_str){ path, path != NULL ? strlen(path) : 0 };
    req.header = no_header;
    return req;
}

/* cmocka defines a function-like macro fail(): call the hook through this. */
static void run_fail(const gh_dialect *d, const gh_request *req, int status, gh_response *resp)
{
    (d->fail)(req, status, resp);
}

static const char *header(const gh_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return gh_response_value(resp, i);
    }
    return NULL;
}

static void test_dialect_for_path(void **state)
{
    static const struct {
        const char *path;
        const char *dialect;    /* NULL: nobody's */
    } cases[] = {
        { "/redfish", "redfish" },
        { "/redfish/", "redfish" },
        { "/redfish/v1/Systems", "redfish" },
        { "/Redfish/V1", "redfish" },
        { "/REDFISH", "redfish" },
        { "/redfishx", NULL },
        { "/redfis", NULL },
        { "/ovirt-engine", "ovirt" },
        { "/ovirt-engine/api", "ovirt" },
        { "/OVIRT-ENGINE/services/pki-resource", "ovirt" },
        { "/ovirt-engines", NULL },
        { "/", NULL },
        { "/.gatehouse/error", NULL },
        { "redfish/v1", NULL },
        { "//redfish", NULL },
        { "", NULL },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const gh_dialect *d = gh_dialect_for_path((gh_str){ cases[i].path, strlen(cases[i].path) });

        if (cases[i].dialect == NULL) {
            if (d != NULL)
                fail_msg("%s: owned by %s", cases[i].path, d->name);
        } else {
            assert_non_null(d);
            assert_string_equal(d->name, cases[i].dialect);
        }
    }
    assert_null(gh_dialect_for_path((gh_str){ NULL, 0 }));
    /* A view is not a C string: only its length counts. */
    assert_non_null(gh_dialect_for_path((gh_str){ "/redfish/v1", 8 }));
    assert_null(gh_dialect_for_path((gh_str){ "/redfish/v1", 7 }));
}

static void test_every_dialect_has_every_hook(void **state)
{
    (void)state;
    for (size_t i = 0; gh_dialects[i] != NULL; i++) {
        const gh_dialect *d = gh_dialects[i];

        assert_non_null(d->name);
        assert_non_null(d->prefix);
        assert_non_null(d->classify);
        assert_non_null(d->refuse);
        assert_non_null((d->fail));
        assert_non_null(d->serve);
        assert_ptr_equal(gh_dialect_for_path((gh_str){ d->prefix, strlen(d->prefix) }), d);
    }
}

/* What the core stores a dialect's sessions and attributes under: a name
 * that fits, in lower case, no two alike, each with a label; its config
 * section, if any, declared once with the rest. */
static void test_names_labels_sections(void **state)
{
    gh_config cfg;
    char      err[256] = "";

    (void)state;
    for (size_t i = 0; gh_dialects[i] != NULL; i++) {
        const gh_dialect *d = gh_dialects[i];

        assert_true(d->name[0] != '\0' && strlen(d->name) <= GH_DIALECT_NAME_MAX);
        for (const char *c = d->name; *c != '\0'; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'));
        assert_non_null(d->label);
        assert_ptr_equal(gh_dialect_named(gh_dialects, d->name), d);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(gh_dialects[j]->name, d->name);
    }
    assert_null(gh_dialect_named(gh_dialects, "nobody"));
    assert_null(gh_dialect_named(NULL, "redfish"));
    if (gh_dialect_config_defaults(&cfg, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    for (size_t i = 0; gh_dialects[i] != NULL; i++)
        if (gh_dialects[i]->config != NULL)
            assert_non_null(gh_config_section_get(&cfg, gh_dialects[i]->config));
}

/* The body of a Redfish error and the MessageId of its first message. */
static void redfish_error(const gh_response *resp, int status, const char *message_id)
{
    json_error_t err;
    json_t      *body, *error, *info;
    const char  *id;

    assert_int_equal(resp->status, status);
    assert_non_null(resp->content_type);
    assert_string_equal(resp->content_type, "application/json; charset=utf-8");
    assert_non_null(header(resp, "OData-Version"));
    assert_string_equal(header(resp, "OData-Version"), "4.0");
    assert_non_null(header(resp, "Cache-Control"));
    body = json_loadb(resp->body, resp->body_len, 0, &err);
    if (body == NULL)
        fail_msg("status %d: not JSON: %s", status, err.text);
    error = json_object_get(body, "error");
    assert_true(json_is_object(error));
    assert_true(json_is_string(json_object_get(error, "code")));
    assert_true(json_string_length(json_object_get(error, "message")) > 0);
    info = json_object_get(error, "@Message.ExtendedInfo");
    assert_true(json_is_array(info));
    assert_int_equal(json_array_size(info), 1);
    id = json_string_value(json_object_get(json_array_get(info, 0), "MessageId"));
    assert_non_null(id);
    if (strcmp(id, message_id) != 0)
        fail_msg("status %d: MessageId %s, expected %s", status, id, message_id);
    assert_string_equal(json_string_value(json_object_get(error, "code")), message_id);
    /* DMTF: GeneralError in ExtendedInfo carries a Resolution of our own. */
    if (strstr(message_id, "GeneralError") != NULL)
        assert_string_not_equal(json_string_value(json_object_get(json_array_get(info, 0),
                                                                  "Resolution")), "None.");
    json_decref(body);
}

static void test_redfish_fail(void **state)
{
    static const struct {
        int         status;
        const char *id;
    } cases[] = {
        { 400, "Base.1.15.0.GeneralError" },
        { 404, "Base.1.15.0.ResourceMissingAtURI" },
        { 405, "Base.1.15.0.OperationNotAllowed" },
        { 408, "Base.1.15.0.GeneralError" },
        { 413, "Base.1.15.0.PayloadTooLarge" },
        { 414, "Base.1.15.0.GeneralError" },
        { 429, "Base.1.15.0.GeneralError" },
        { 431, "Base.1.15.0.GeneralError" },
        { 500, "Base.1.15.0.InternalError" },
        { 502, "Base.1.15.0.OperationFailed" },
        { 503, "Base.1.15.0.ServiceTemporarilyUnavailable" },
        { 504, "Base.1.15.0.OperationTimeout" },
        { 418, "Base.1.15.0.GeneralError" },     /* a 4xx without a message of its own */
        { 507, "Base.1.15.0.InternalError" },
    };
    gh_request req = request("/redfish/v1/SessionService/Sessions");

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_response resp;

        memset(&resp, 0, sizeof(resp));
        run_fail(&gh_redfish_dialect, &req, cases[i].status, &resp);
        redfish_error(&resp, cases[i].status, cases[i].id);
        assert_int_equal(header(&resp, "Allow") != NULL, cases[i].status == 405);
        assert_int_equal(header(&resp, "Retry-After") != NULL,
                         cases[i].status == 429 || cases[i].status == 503);
        assert_null(header(&resp, "WWW-Authenticate"));
        gh_response_free(&resp);
    }
}

static void test_redfish_fail_paths(void **state)
{
    char        long_path[8192];
    const char *paths[] = { long_path, "/redfish/v1/%zz", "/redfish/v1/%2F%00", "/redfish",
                            "", NULL };
    gh_request  req;
    gh_response resp;
    json_t     *body;

    (void)state;
    /* 405 names the methods of the resource the path routes to. */
    req = request("/redfish/v1/SessionService/Sessions");
    memset(&resp, 0, sizeof(resp));
    run_fail(&gh_redfish_dialect, &req, 405, &resp);
    assert_string_equal(header(&resp, "Allow"), "GET, HEAD, POST");
    gh_response_free(&resp);
    req = request("/redfish/v1/Systems/1");
    memset(&resp, 0, sizeof(resp));
    run_fail(&gh_redfish_dialect, &req, 405, &resp);
    assert_string_equal(header(&resp, "Allow"), "GET, HEAD");
    gh_response_free(&resp);

    /* 404 names the resource, decoded and without its trailing slash. */
    req = request("/redfish/v1/Nothing%20Here/");
    memset(&resp, 0, sizeof(resp));
    run_fail(&gh_redfish_dialect, &req, 404, &resp);
    redfish_error(&resp, 404, "Base.1.15.0.ResourceMissingAtURI");
    assert_non_null(strstr(resp.body, "/redfish/v1/Nothing Here'"));
    gh_response_free(&resp);

    /* An error page may bring a URI cut short (414), one that does not
     * decode, or none: still a whole error body, every status. */
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[sizeof(long_path) - 1] = '\0';
    memcpy(long_path, "/redfish/v1/", 12);
    for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
            req = request(paths[p]);
            memset(&resp, 0, sizeof(resp));
            run_fail(&gh_redfish_dialect, &req, statuses[i], &resp);
            assert_int_equal(resp.status, statuses[i]);
            body = json_loadb(resp.body, resp.body_len, 0, NULL);
            if (!json_is_object(body))
                fail_msg("path %zu, status %d: no JSON body", p, statuses[i]);
            json_decref(body);
            gh_response_free(&resp);
        }
    }
}

static void test_fail_status_out_of_range(void **state)
{
    static const int bad[] = { 0, -1, 200, 302, 399, 600, 1000 };
    gh_request req = request("/redfish/v1");

    (void)state;
    for (size_t d = 0; gh_dialects[d] != NULL; d++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            gh_response resp;

            memset(&resp, 0, sizeof(resp));
            run_fail(gh_dialects[d], &req, bad[i], &resp);
            assert_int_equal(resp.status, 500);
            assert_true(resp.body_len > 0);
            gh_response_free(&resp);
        }
    }
}

static void test_ovirt_fail(void **state)
{
    gh_request  req = request("/ovirt-engine/api");
    gh_response resp;

    (void)state;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        memset(&resp, 0, sizeof(resp));
        run_fail(&gh_ovirt_dialect, &req, statuses[i], &resp);
        assert_int_equal(resp.status, statuses[i]);
        assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
        assert_true(resp.body_len > 1);
        assert_int_equal(resp.body[resp.body_len - 1], '\n');
        assert_null(memchr(resp.body, '<', resp.body_len));    /* no HTML */
        assert_null(resp.reason);
        assert_int_equal(header(&resp, "Allow") != NULL, statuses[i] == 405);
        assert_null(header(&resp, "OData-Version"));
        gh_response_free(&resp);
    }
    /* Texts say what happened. */
    memset(&resp, 0, sizeof(resp));
    run_fail(&gh_ovirt_dialect, &req, 413, &resp);
    assert_int_equal(resp.body_len, strlen("Request body too large\n"));
    assert_memory_equal(resp.body, "Request body too large\n", resp.body_len);
    gh_response_free(&resp);
    memset(&resp, 0, sizeof(resp));
    run_fail(&gh_ovirt_dialect, &req, 405, &resp);
    assert_string_equal(header(&resp, "Allow"), "GET, HEAD");
    gh_response_free(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect_for_path),
        cmocka_unit_test(test_names_labels_sections),
        cmocka_unit_test(test_every_dialect_has_every_hook),
        cmocka_unit_test(test_redfish_fail),
        cmocka_unit_test(test_redfish_fail_paths),
        cmocka_unit_test(test_fail_status_out_of_range),
        cmocka_unit_test(test_ovirt_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
