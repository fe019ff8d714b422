/*
 * redfish_fixture.h: what the Redfish dialect's unit tests share beyond
 * dialect_fixture.h (the store, the shared block, the accounts and run()):
 * setup(), done() with the headers every Redfish response carries, body
 * accessors and a login through SessionService. Included by each test file;
 * the helpers are static inline so a file may leave some unused.
 */
#ifndef GH_TEST_REDFISH_FIXTURE_H
#define GH_TEST_REDFISH_FIXTURE_H

#include "../../src/dialects/redfish/redfish.h"
#include "dialect_fixture.h"

static inline int setup(void **state)
{
    fixture *f = fixture_new(&gh_redfish_dialect, "redfish");

    fixture_ready(f);
    *state = f;
    return 0;
}

static inline void done(result *r)
{
    /* Every response, whatever it says, carries these. */
    assert_string_equal(hdr(r, "OData-Version"), "4.0");
    assert_non_null(hdr(r, "Cache-Control"));
    json_decref(r->json);
    gh_response_free(&r->resp);
}

static inline const char *str_at(const result *r, const char *a, const char *b)
{
    json_t *v = json_object_get(r->json, a);

    if (b != NULL)
        v = json_object_get(v, b);
    return json_string_value(v);
}

/* The MessageId of the first extended message of an error body. */
static inline const char *msg_id(const result *r)
{
    json_t *info = json_object_get(json_object_get(r->json, "error"), "@Message.ExtendedInfo");

    return json_string_value(json_object_get(json_array_get(info, 0), "MessageId"));
}

typedef struct {
    char token[GH_TOKEN_TEXT_LEN + 1];
    char location[128];
    char id[GH_SESSION_ID_LEN + 1];
} login;

static inline login do_login(fixture *f, const char *user, const char *password)
{
    char   body[256];
    login  l;
    result r;

    memset(&l, 0, sizeof(l));
    snprintf(body, sizeof(body), "{\"UserName\": \"%s\", \"Password\": \"%s\"}", user, password);
    r = run(f, "POST", "/redfish/v1/SessionService/Sessions", body, NULL);
    assert_int_equal(r.resp.status, 201);
    snprintf(l.token, sizeof(l.token), "%s", hdr(&r, "X-Auth-Token"));
    snprintf(l.location, sizeof(l.location), "%s", hdr(&r, "Location"));
    snprintf(l.id, sizeof(l.id), "%s", str_at(&r, "Id", NULL));
    done(&r);
    return l;
}

#endif
