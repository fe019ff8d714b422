/*
 * test_ovirt_api.c: the oVirt API (src/dialects/ovirt/ovirt_api.c, ovirt_xml.c):
 * who may read it (Bearer, Basic user@profile, the persistent-auth cookie),
 * the <api> root in XML and JSON with its summary for Administrators, HEAD,
 * versions, content negotiation, the bundled collections, faults and 405s,
 * and persistent-auth sessions: opening one, Session-TTL, using it, ending
 * it, new-auth, and CSRF protection. The fixture is in ovirt_fixture.h.
 */
#include "ovirt_fixture.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#define VM1 "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"

/* The text of the first node an XPath expression finds in an XML body, or
 * NULL; the document must parse. out holds 256 bytes. */
static const char *xpath(const result *r, const char *expr, char *out)
{
    xmlDocPtr          doc = xmlReadMemory(r->resp.body, (int)r->resp.body_len, "r.xml", NULL,
                                           XML_PARSE_NONET);
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr  obj;
    const char        *found = NULL;

    assert_non_null(doc);
    ctx = xmlXPathNewContext(doc);
    obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    if (obj != NULL && obj->nodesetval != NULL && obj->nodesetval->nodeNr > 0) {
        xmlChar *text = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

        snprintf(out, 256, "%s", text != NULL ? (const char *)text : "");
        xmlFree(text);
        found = out;
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return found;
}

static const char *auth_admin(char *buf)
{
    return basic(buf, 128, "admin@internal", "password1");
}

static void test_root_xml(void **state)
{
    fixture *f = *state;
    char b[128], t[256], uuid[40];
    result r;

    r = run(f, "GET", GH_OVIRT_API, NULL, "Authorization", auth_admin(b), NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(r.resp.content_type, GH_OVIRT_API_XML);
    assert_non_null(strstr(body_of(&r), "<?xml version=\"1.0\" encoding=\"UTF-8\" "
                                        "standalone=\"yes\"?>"));
    assert_string_equal(xpath(&r, "/api/product_info/name", t), "oVirt Engine");
    assert_string_equal(xpath(&r, "/api/product_info/version/major", t), "4");
    assert_non_null(xpath(&r, "/api/product_info/instance_id", t));
    assert_int_equal(strlen(t), 36);
    assert_string_equal(xpath(&r, "/api/link[@rel='vms']/@href", t), "/ovirt-engine/api/vms");
    assert_string_equal(xpath(&r, "/api/link[@rel='hosts']/@href", t), "/ovirt-engine/api/hosts");
    assert_string_equal(xpath(&r, "/api/link[@rel='clusters']/@href", t),
                        "/ovirt-engine/api/clusters");
    snprintf(uuid, sizeof(uuid), "67617465-0000-4000-8000-%012llx",
             (unsigned long long)f->admin_id);
    assert_string_equal(xpath(&r, "/api/authenticated_user/@id", t), uuid);
    assert_string_equal(xpath(&r, "/api/effective_user/@id", t), uuid);
    assert_non_null(strstr(xpath(&r, "/api/authenticated_user/@href", t), uuid));
    assert_non_null(xpath(&r, "/api/time", t));
    assert_int_equal(strlen(t), strlen("2024-01-01T00:00:00.000+00:00"));
    /* Administrators get the summary: 3 VMs (2 up), 2 hosts (1 up), 4 accounts. */
    assert_string_equal(xpath(&r, "/api/summary/vms/total", t), "3");
    assert_string_equal(xpath(&r, "/api/summary/vms/active", t), "2");
    assert_string_equal(xpath(&r, "/api/summary/hosts/total", t), "2");
    assert_string_equal(xpath(&r, "/api/summary/hosts/active", t), "1");
    assert_string_equal(xpath(&r, "/api/summary/users/total", t), "4");
    done(&r);

    /* The instance id stays the same; others see no summary. */
    r = run(f, "GET", GH_OVIRT_API "/", NULL,
            "Authorization", basic(b, sizeof(b), "viewer@internal", "password1"), NULL);
    assert_int_equal(r.resp.status, 200);
    assert_null(xpath(&r, "/api/summary", t));
    assert_non_null(xpath(&r, "/api/product_info", t));
    done(&r);
}

static void test_root_json(void **state)
{
    fixture *f = *state;
    char b[128];
    json_t *v;
    result r;

    r = run(f, "GET", GH_OVIRT_API, NULL, "Authorization", auth_admin(b),
            "Accept", "application/json", NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(r.resp.content_type, GH_OVIRT_API_JSON);
    assert_non_null(r.json);
    v = json_object_get(r.json, "product_info");
    assert_string_equal(json_string_value(json_object_get(v, "name")), "oVirt Engine");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "version"),
                                                          "major")), "4");
    assert_true(json_is_integer(json_object_get(r.json, "time")));
    assert_true(json_integer_value(json_object_get(r.json, "time")) / 1000 >= gh_now() - 5);
    v = json_object_get(r.json, "link");
    assert_int_equal(json_array_size(v), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 2), "rel")), "vms");
    v = json_object_get(json_object_get(r.json, "summary"), "vms");
    assert_string_equal(json_string_value(json_object_get(v, "total")), "3");
    assert_non_null(json_string_value(json_object_get(json_object_get(r.json,
                                                                      "authenticated_user"),
                                                      "id")));
    done(&r);
}

static void test_head_version_accept(void **state)
{
    fixture *f = *state;
    char b[128];
    result r;

    r = run(f, "HEAD", GH_OVIRT_API, NULL, "Authorization", auth_admin(b), NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(r.resp.body_len, 0);
    assert_string_equal(hdr(&r, "Link"), "</ovirt-engine/api/clusters>; rel=clusters, "
                        "</ovirt-engine/api/hosts>; rel=hosts, </ovirt-engine/api/vms>; rel=vms");
    assert_int_equal(r.plan.work, GH_WORK_INLINE);
    done(&r);

    static const struct {
        const char *path, *version;
        int         status;
    } versions[] = {
        { GH_OVIRT_API, "4", 200 }, { GH_OVIRT_API, "3", 200 }, { GH_OVIRT_API, "5", 400 },
        { GH_OVIRT_API, "4.0", 400 }, { GH_OVIRT_API "/v4", NULL, 200 },
        { GH_OVIRT_API "/v4/vms", "5", 200 }, { GH_OVIRT_API "/v3/vms", NULL, 200 },
        { GH_OVIRT_API "/v5/vms", "4", 400 }, { GH_OVIRT_API "/v0", NULL, 400 },
    };
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        if (versions[i].version != NULL)
            r = run(f, "GET", versions[i].path, NULL, "Authorization", auth_admin(b),
                    "Version", versions[i].version, NULL);
        else
            r = run(f, "GET", versions[i].path, NULL, "Authorization", auth_admin(b), NULL);
        if (r.resp.status != versions[i].status)
            fail_msg("%s Version %s: %d", versions[i].path, versions[i].version,
                     r.resp.status);
        done(&r);
    }
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", auth_admin(b),
            "Accept", "text/html", NULL);
    assert_int_equal(r.resp.status, 406);
    done(&r);
}

static void test_tree(void **state)
{
    fixture *f = *state;
    char b[128], t[256];
    result r;

    auth_admin(b);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", b, "Accept", "application/xml",
            NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(xpath(&r, "/vms/vm[1]/name", t), "web01");
    assert_string_equal(xpath(&r, "/vms/vm[1]/@id", t), VM1);
    assert_string_equal(xpath(&r, "/vms/vm[1]/@href", t), "/ovirt-engine/api/vms/" VM1);
    assert_non_null(xpath(&r, "/vms/vm[3]", t));
    assert_null(xpath(&r, "/vms/vm[4]", t));
    done(&r);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", b, "Accept", "application/json",
            NULL);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "vm")), 3);
    /* The tree's bytes are lent to the response, not copied. */
    assert_ptr_equal(r.resp.body, gh_tree_find(f->tree, GH_STR(GH_OVIRT_API "/vms"), "json")->body);
    assert_null(r.resp.body_owned);
    done(&r);
    /* A member, by the v4 path too, with a trailing slash. */
    r = run(f, "GET", GH_OVIRT_API "/v4/vms/" VM1 "/", NULL, "Authorization", b, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(xpath(&r, "/vm/status", t), "up");
    done(&r);
    static const char *const collections[] = { "/hosts", "/clusters" };
    for (size_t i = 0; i < 2; i++) {
        char path[64];

        snprintf(path, sizeof(path), GH_OVIRT_API "%s", collections[i]);
        r = run(f, "GET", path, NULL, "Authorization", b, "Accept", "application/json", NULL);
        assert_int_equal(r.resp.status, 200);
        assert_non_null(r.json);
        done(&r);
    }
    /* Unknown: a fault, in the format asked for. */
    r = run(f, "GET", GH_OVIRT_API "/storagedomains", NULL, "Authorization", b, NULL);
    assert_int_equal(r.resp.status, 404);
    assert_string_equal(xpath(&r, "/fault/reason", t), "Not Found");
    assert_non_null(xpath(&r, "/fault/detail", t));
    done(&r);
    r = run(f, "GET", GH_OVIRT_API "/vms/nope", NULL, "Authorization", b,
            "Accept", "application/json", NULL);
    assert_int_equal(r.resp.status, 404);
    assert_string_equal(str_at(&r, "reason"), "Not Found");
    done(&r);
    /* Read-only. */
    static const char *const writes[] = { "POST", "PUT", "DELETE", "PATCH" };
    for (size_t i = 0; i < 4; i++) {
        r = run(f, writes[i], GH_OVIRT_API "/vms", "<vm/>", "Authorization", b,
                "Content-Type", "application/xml", NULL);
        assert_int_equal(r.resp.status, 405);
        assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
        assert_string_equal(xpath(&r, "/fault/reason", t), "Method Not Allowed");
        done(&r);
    }
}

static void test_who_may(void **state)
{
    fixture *f = *state;
    char b[128], token[GH_TOKEN_TEXT_LEN + 1], bearer[128];
    result r;

    r = run(f, "GET", GH_OVIRT_API, NULL, NULL);
    assert_int_equal(r.resp.status, 401);
    assert_string_equal(r.resp.reason, "Authorization Required");
    assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"RESTAPI\"");
    done(&r);
    static const char *const refused[] = { "admin:password1", "admin@example.com:password1",
                                           "admin@internal:wrong", "bob@internal:password1",
                                           "admin@ovirt@internal:password1" };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char user[64];
        const char *colon = strchr(refused[i], ':');

        snprintf(user, sizeof(user), "%.*s", (int)(colon - refused[i]), refused[i]);
        r = run(f, "GET", GH_OVIRT_API "/vms", NULL,
                "Authorization", basic(b, sizeof(b), user, colon + 1), NULL);
        if (r.resp.status != 401)
            fail_msg("%s: %d", refused[i], r.resp.status);
        done(&r);
    }
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL,
            "Authorization", basic(b, sizeof(b), "admin@ovirt@internalsso", "password1"), NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* A password change pending: the API cannot change it, so no way in. */
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL,
            "Authorization", basic(b, sizeof(b), "renew@internal", "password1"), NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", "Basic ###", NULL);
    assert_int_equal(r.resp.status, 400);
    done(&r);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", "Bearer nonsense", NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    get_token(f, "viewer%40internal", token);
    snprintf(bearer, sizeof(bearer), "Bearer %s", token);
    r = run(f, "GET", GH_OVIRT_API "/hosts", NULL, "Authorization", bearer,
            "Accept", "application/xml", "Version", "4", "Content-Type", "application/xml", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Credentials over plain HTTP never count. */
    f->plain_http = true;
    r = run(f, "GET", GH_OVIRT_API "/hosts", NULL, "Authorization", bearer, NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    f->plain_http = false;
}

static void test_persistent_auth(void **state)
{
    fixture *f = *state;
    char b[128], cookie[160], sent[200], t[256];
    gh_session_record rec;
    uint8_t digest[GH_DIGEST_LEN];
    result r;

    /* 1. Credentials and Prefer: persistent-auth: a session, its cookie. */
    r = run(f, "HEAD", GH_OVIRT_API, NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth", "Session-TTL", "5", NULL);
    assert_int_equal(r.resp.status, 200);
    cookie_of(&r, cookie, sizeof(cookie));
    assert_int_equal(strlen(cookie), GH_TOKEN_TEXT_LEN);
    assert_non_null(strstr(hdr(&r, "Set-Cookie"), "; Path=/ovirt-engine/api; Secure; HttpOnly"));
    done(&r);
    assert_int_equal(ovirt_sessions(f), 1);
    gh_token_digest(cookie, strlen(cookie), digest);
    assert_int_equal(gh_shared_session_find(f->shared, digest, gh_now(), NULL, &rec),
                     GH_SHARED_OK);
    assert_int_equal(rec.idle_timeout, 5 * 60);

    /* 2. The cookie and the preference: no other credential needed, no new session. */
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    for (int i = 0; i < 2; i++) {
        r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Prefer", "persistent-auth",
                NULL);
        assert_int_equal(r.resp.status, 200);
        assert_null(hdr(&r, "Set-Cookie"));
        done(&r);
    }
    /* With Basic too, still the one session (the cookie is used first). */
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Prefer", "persistent-auth",
            "Authorization", auth_admin(b), NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(ovirt_sessions(f), 1);

    /* 3. The cookie without the preference: served, then the session ends. */
    r = run(f, "GET", GH_OVIRT_API, NULL, "Cookie", sent, NULL);
    assert_int_equal(r.resp.status, 200);
    assert_non_null(xpath(&r, "/api/product_info", t));
    assert_non_null(strstr(hdr(&r, "Set-Cookie"), "Max-Age=0"));
    done(&r);
    assert_int_equal(ovirt_sessions(f), 0);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Prefer", "persistent-auth",
            NULL);
    assert_int_equal(r.resp.status, 401);
    assert_non_null(strstr(hdr(&r, "Set-Cookie"), "Max-Age=0"));
    done(&r);

    /* Session-TTL is capped by token_timeout; without one, token_idle_timeout. */
    gh_ovirt_settings_edit(&f->cfg)->token_timeout = 600;
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth", "Session-TTL", "600", NULL);
    cookie_of(&r, cookie, sizeof(cookie));
    done(&r);
    gh_token_digest(cookie, strlen(cookie), digest);
    assert_int_equal(gh_shared_session_find(f->shared, digest, gh_now(), NULL, &rec),
                     GH_SHARED_OK);
    assert_int_equal(rec.idle_timeout, 600);
    gh_ovirt_settings_edit(&f->cfg)->token_idle_timeout = 300;
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth", "Session-TTL", "zero", NULL);
    cookie_of(&r, cookie, sizeof(cookie));
    done(&r);
    gh_token_digest(cookie, strlen(cookie), digest);
    assert_int_equal(gh_shared_session_find(f->shared, digest, gh_now(), NULL, &rec),
                     GH_SHARED_OK);
    assert_int_equal(rec.idle_timeout, 300);
}

/* A shared store lost: the session a request's cookie names cannot be
 * looked up, so it is not said to end (503, no new cookie given). */
static void test_end_store_down(void **state)
{
    fixture *f = *state;
    char b[128], cookie[160], sent[200];
    result r;

    r = run(f, "HEAD", GH_OVIRT_API, NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth", NULL);
    assert_int_equal(r.resp.status, 200);
    cookie_of(&r, cookie, sizeof(cookie));
    done(&r);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    gh_shared_set_cached(f->shared, true);
    gh_session_store_close(f->svc.sessions);
    assert_non_null(f->svc.sessions = gh_session_store_cached(f->shared, f->svc.store,
                                                              NULL, NULL));
    gh_shared_drop_all(f->shared);
    /* new-auth: credentials make a new session and end the cookie's. */
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent,
            "Authorization", auth_admin(b), "Prefer", "persistent-auth, new-auth", NULL);
    assert_int_equal(r.resp.status, 503);
    assert_string_equal(hdr(&r, "Retry-After"), "30");
    assert_null(hdr(&r, "Set-Cookie"));
    done(&r);
}

static void test_new_auth_and_bearer(void **state)
{
    fixture *f = *state;
    char b[128], old[160], fresh[160], sent[200], token[GH_TOKEN_TEXT_LEN + 1], bearer[128];
    result r;

    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth", NULL);
    cookie_of(&r, old, sizeof(old));
    done(&r);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", old);
    /* new-auth with credentials: a new session, the old one ends. */
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth, new-auth", NULL);
    assert_int_equal(r.resp.status, 200);
    cookie_of(&r, fresh, sizeof(fresh));
    assert_int_equal(strlen(fresh), GH_TOKEN_TEXT_LEN);
    assert_string_not_equal(fresh, old);
    done(&r);
    assert_int_equal(ovirt_sessions(f), 1);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Prefer", "persistent-auth",
            NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    /* new-auth with the cookie alone: served by it, and it ends. */
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", fresh);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent,
            "Prefer", "persistent-auth, new-auth", NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    assert_int_equal(ovirt_sessions(f), 0);

    /* A Bearer token opens one as well; the token lives on beside it. */
    get_token(f, "oper%40internal", token);
    snprintf(bearer, sizeof(bearer), "Bearer %s", token);
    r = run(f, "GET", GH_OVIRT_API "/clusters", NULL, "Authorization", bearer,
            "Prefer", "persistent-auth", NULL);
    assert_int_equal(r.resp.status, 200);
    cookie_of(&r, fresh, sizeof(fresh));
    assert_int_equal(strlen(fresh), GH_TOKEN_TEXT_LEN);
    done(&r);
    assert_int_equal(ovirt_sessions(f), 2);
    /* A cookie is no Bearer token's stand-in elsewhere: only under the API path. */
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", fresh);
    r = run(f, "GET", "/ovirt-engine/webadmin", NULL, "Cookie", sent, NULL);
    assert_int_equal(r.resp.status, 401);
    done(&r);
    /* Limits: no session, no service (503), and no cookie. */
    f->cfg.max_sessions_per_account = 2;
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", bearer,
            "Prefer", "persistent-auth", NULL);
    assert_int_equal(r.resp.status, 503);
    assert_null(hdr(&r, "Set-Cookie"));
    assert_string_equal(hdr(&r, "Retry-After"), "30");
    done(&r);
}

static void test_csrf(void **state)
{
    fixture *f = *state;
    char b[128], cookie[160], sent[200];
    result r;

    /* Switched off: the preference is ignored, the cookie is plain. */
    r = run(f, "HEAD", GH_OVIRT_API, NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth, csrf-protection", NULL);
    cookie_of(&r, cookie, sizeof(cookie));
    assert_int_equal(strlen(cookie), GH_TOKEN_TEXT_LEN);
    done(&r);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    r = run(f, "POST", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Prefer", "persistent-auth",
            NULL);
    assert_int_equal(r.resp.status, 405);
    done(&r);

    gh_ovirt_settings_edit(&f->cfg)->csrf_protection = true;
    r = run(f, "HEAD", GH_OVIRT_API, NULL, "Authorization", auth_admin(b),
            "Prefer", "persistent-auth, csrf-protection", NULL);
    cookie_of(&r, cookie, sizeof(cookie));
    assert_int_equal(strlen(cookie), GH_TOKEN_TEXT_LEN + 2);
    assert_string_equal(cookie + GH_TOKEN_TEXT_LEN, GH_OVIRT_CSRF_MARK);
    done(&r);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    /* Safe methods need nothing more. */
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Cookie", sent, "Prefer", "persistent-auth",
            NULL);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    /* Unsafe ones must repeat the session id. */
    r = run(f, "POST", GH_OVIRT_API "/vms", "<vm/>", "Cookie", sent,
            "Prefer", "persistent-auth", NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    r = run(f, "DELETE", GH_OVIRT_API "/vms/" VM1, NULL, "Cookie", sent,
            "Prefer", "persistent-auth", "JSESSIONID", "wrong", NULL);
    assert_int_equal(r.resp.status, 403);
    done(&r);
    r = run(f, "POST", GH_OVIRT_API "/vms", "<vm/>", "Cookie", sent,
            "Prefer", "persistent-auth", "JSESSIONID", cookie, NULL);
    assert_int_equal(r.resp.status, 405);     /* through the check, to the read-only API */
    done(&r);
    /* Credentials are no cookie: CSRF does not concern them. */
    r = run(f, "POST", GH_OVIRT_API "/vms", "<vm/>", "Authorization", auth_admin(b), NULL);
    assert_int_equal(r.resp.status, 405);
    done(&r);
}

/* Routes classified INLINE run without the store: none of them may need it. */
static void test_inline_needs_no_store(void **state)
{
    fixture *f = *state;
    char b[128], cookie[160], sent[200];
    result r;

    auth_admin(b);
    r = run(f, "GET", GH_OVIRT_API "/vms", NULL, "Authorization", b, NULL);
    assert_int_equal(r.plan.work, GH_WORK_INLINE);
    assert_int_equal(r.resp.status, 200);
    done(&r);
    r = run(f, "GET", GH_OVIRT_API, NULL, "Authorization", b, "Prefer", "persistent-auth", NULL);
    cookie_of(&r, cookie, sizeof(cookie));
    done(&r);
    snprintf(sent, sizeof(sent), "JSESSIONID=%s", cookie);
    r = run(f, "GET", GH_OVIRT_API "/hosts", NULL, "Cookie", sent, "Prefer", "persistent-auth",
            NULL);
    assert_int_equal(r.plan.work, GH_WORK_INLINE);
    assert_int_equal(r.resp.status, 200);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_root_xml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_store_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_version_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_may, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_auth_and_bearer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_needs_no_store, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
