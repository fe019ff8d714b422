/*
 * fuzz_redfish_query.c: libFuzzer target for the Redfish dialect's query
 * parameters (redfish_query.c) and the schema name behind its Link header
 * (redfish_headers.c): the raw input as a query string
 * (gh_redfish_query_parse), as an @odata.type (gh_redfish_schema_name), and
 * as the body of a GET's reply that only and excerpt then work on
 * (gh_redfish_only_member, gh_redfish_excerpt). A bad value's views lie
 * inside the input, a schema name is letters, digits, '_' and at most one
 * '.', a member path fits its buffer, and an excerpt is still JSON with no
 * key its source lacked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/redfish/redfish_internal.h"

static void check_query(const char *in, size_t size)
{
    gh_redfish_query        q;
    gh_redfish_query_result rc = gh_redfish_query_parse((gh_str){ in, size }, &q);

    if (rc == GH_RF_QUERY_BAD_VALUE &&
        (q.bad_name.data < in || q.bad_value.data < in ||
         q.bad_name.data + q.bad_name.len > in + size ||
         q.bad_value.data + q.bad_value.len > in + size || q.bad_value.len == 0))
        abort();
    if (rc == GH_RF_QUERY_COMBINATION && !q.only)
        abort();
}

static void check_schema(const char *type)
{
    char   out[160];
    size_t dots = 0;

    if (!gh_redfish_schema_name(type, out, sizeof(out)))
        return;
    for (const char *p = out; *p != '\0'; p++) {
        if (*p == '.')
            dots++;
        else if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '_'))
            abort();
    }
    if (dots > 1 || out[0] == '\0')
        abort();
}

static void check_reply(const char *in, size_t size)
{
    gh_response resp;
    json_t     *src = json_loadb(in, size, 0, NULL);
    json_t     *out;
    char        path[64];
    const char *key;
    json_t     *v;

    gh_response_init(&resp);
    resp.status = 200;
    gh_response_copy_body(&resp, in, size, GH_REDFISH_JSON_TYPE);
    if (gh_redfish_only_member(&resp, path, sizeof(path)) == GH_RF_ONLY_MEMBER &&
        strlen(path) >= sizeof(path))
        abort();
    gh_redfish_excerpt(&resp);
    if (resp.body != NULL && resp.body_len != size) {   /* cut down: a subset of src */
        out = json_loadb(resp.body, resp.body_len, 0, NULL);
        if (!json_is_object(out) || !json_is_object(src))
            abort();
        json_object_foreach(out, key, v) {
            if (!json_equal(v, json_object_get(src, key)))
                abort();
        }
        json_decref(out);
    }
    gh_response_free(&resp);
    json_decref(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);

    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    check_query(copy, size);
    check_schema(copy);
    check_reply(copy, size);
    free(copy);
    return 0;
}
