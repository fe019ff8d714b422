/*
 * fuzz_redfish_gateway.c: libFuzzer target for the Redfish dialect in
 * gateway mode: the raw input as a request path, classified and put to the
 * forward hook (redfish.c) for a ReadOnly and an Administrator principal and
 * every method, which walks the Privilege Registry's table
 * (redfish_registry.c) and the checks of a path passed on
 * (gh_redfish_path_plain); and as the upstream's service root that serve
 * takes its links from (redfish_root.c). A ReadOnly principal never passes
 * anything on but a read, a registry answer never holds more sets than the
 * table, a path passed on has no "." or ".." segment, and a merged root is
 * a JSON object whose SessionService is gatehouse's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/redfish/redfish_internal.h"

static gh_str no_header(const gh_request *req, const char *name)
{
    (void)req;
    (void)name;
    return (gh_str){ NULL, 0 };
}

static void check_forward(const char *in, size_t size, gh_method m, gh_role role)
{
    gh_request   req;
    gh_plan      plan;
    gh_principal who;
    gh_response  resp;
    bool         pass;

    memset(&req, 0, sizeof(req));
    memset(&who, 0, sizeof(who));
    req.method = m;
    req.method_name = (gh_str){ gh_method_name(m), strlen(gh_method_name(m)) };
    req.path = (gh_str){ in, size };
    req.header = no_header;
    who.account_id = 2;
    who.role = role;
    gh_redfish_dialect.classify(&req, &plan);
    gh_response_init(&resp);
    pass = gh_redfish_dialect.forward(NULL, &req, &plan, &who, &resp);
    if (pass && role == GH_ROLE_READONLY && m != GH_METHOD_GET && m != GH_METHOD_HEAD)
        abort();
    if (pass && (strstr(gh_redfish_route_of(&plan)->path, "/../") != NULL ||
                 strstr(gh_redfish_route_of(&plan)->path, "/./") != NULL))
        abort();
    if (!pass && (resp.status < 400 || resp.status > 499 || resp.body == NULL))
        abort();
    gh_response_free(&resp);
}

static void check_registry(const char *in, size_t size)
{
    for (gh_method m = GH_METHOD_OTHER; m <= GH_METHOD_OPTIONS; m++) {
        gh_redfish_needs n = gh_redfish_registry_needs(in, size, m);

        if (n.nsets > GH_GATEWAY_ALTERNATIVES || (n.nsets > 0 && n.sets == NULL) ||
            (n.entity == NULL && n.nsets != 0))
            abort();
    }
}

static void check_root(const char *in, size_t size)
{
    gh_request       req;
    gh_redfish_route route;
    gh_response      resp;
    gh_redfish_ctx   c = { NULL, NULL, &req, NULL, &route, &resp };
    json_t          *doc;

    memset(&req, 0, sizeof(req));
    req.method = GH_METHOD_GET;
    req.header = no_header;
    req.upstream_status = 200;
    req.upstream_body = (gh_str){ in, size };
    gh_redfish_route_parse(GH_STR("/redfish/v1/"), &route);
    gh_response_init(&resp);
    if (gh_redfish_serve_upstream_root(&c)) {
        doc = json_loadb(resp.body, resp.body_len, 0, NULL);
        if (resp.status != 200 || !json_is_object(doc) ||
            strcmp(json_string_value(json_object_get(json_object_get(doc, "SessionService"),
                                                     "@odata.id")),
                   "/redfish/v1/SessionService") != 0)
            abort();
        json_decref(doc);
    }
    gh_response_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);

    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (gh_method m = GH_METHOD_OTHER; m <= GH_METHOD_OPTIONS; m++) {
        check_forward(copy, size, m, GH_ROLE_READONLY);
        check_forward(copy, size, m, GH_ROLE_ADMINISTRATOR);
    }
    check_registry(copy, size);
    check_root(copy, size);
    free(copy);
    return 0;
}
