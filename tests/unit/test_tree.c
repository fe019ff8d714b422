/*
 * test_tree.c: the bundled resource trees (src/dialects/common/tree.c). Builds a
 * tree in a temporary directory (links, hidden names, an oversized file, a
 * case clash), checks the parsed form of JSON entries, the documents the
 * dialects render into every tree and gh_tree_add, and loads the
 * repository's own data/ (run from the repository root), checking that each
 * bundled Redfish resource is well formed and that every link in it resolves
 * inside the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "../../src/dialects/common/dialect.h"

static char tmproot[64];

static gh_str S(const char *s)
{
    return (gh_str){ s, strlen(s) };
}

static void put(const char *rel, const char *body)
{
    char  path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmproot, rel);
    for (char *p = path + strlen(tmproot) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0700);
            *p = '/';
        }
    }
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
}

static void run(const char *cmd)
{
    char buf[512];

    snprintf(buf, sizeof(buf), cmd, tmproot, tmproot);
    assert_int_equal(system(buf), 0);
}

static int make_tmp(void **state)
{
    (void)state;
    strcpy(tmproot, "/tmp/gh-tree-XXXXXX");
    return mkdtemp(tmproot) != NULL ? 0 : -1;
}

static int remove_tmp(void **state)
{
    char buf[128];

    (void)state;
    snprintf(buf, sizeof(buf), "rm -rf '%s'", tmproot);
    return system(buf) == 0 ? 0 : -1;
}

static void test_load_and_find(void **state)
{
    gh_tree             *t = NULL;
    const gh_tree_entry *e, *e2;
    char                 err[256];
    unsigned char        md[32];
    char                 want[19];
    const char          *body = "{\"@odata.id\":\"/redfish/v1/Systems/1\"}";

    (void)state;
    put("index.json", "{\"root\":true}");
    put("redfish/v1/Systems/index.json", "{\"collection\":true}");
    put("redfish/v1/Systems/1/index.json", body);
    put("redfish/v1/Systems/1/index.xml", "<system/>");
    put("redfish/v1/Systems/1/notes.txt", "ignored");
    put("redfish/v1/Systems/1/Index.json", "ignored: only index.json counts");
    put(".hidden/index.json", "{}");
    put("redfish/v1/$metadata/index.xml", "<edmx/>");
    run("ln -s ../../etc/passwd %s/index.xml; ln -s /etc/passwd %s/x.json");
    run("mkdir -p %s/redfish/v1/Linked && ln -s /etc/passwd %s/redfish/v1/Linked/index.json");
    run("ln -s /etc %s/etc; mkdir -p %s/redfish/v1/Empty");

    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);
    assert_non_null(t);

    e = gh_tree_find(t, S("/redfish/v1/Systems/1"), "json");
    assert_non_null(e);
    assert_string_equal(e->path, "/redfish/v1/Systems/1");
    assert_int_equal(e->len, strlen(body));
    assert_memory_equal(e->body, body, e->len);
    /* Parsed once, at load. */
    assert_true(json_is_object(e->json));
    assert_string_equal(json_string_value(json_object_get(e->json, "@odata.id")),
                        "/redfish/v1/Systems/1");

    /* The ETag: quoted first 16 hex digits of the SHA-256 of the bytes. */
    EVP_Digest(body, strlen(body), md, NULL, EVP_sha256(), NULL);
    snprintf(want, sizeof(want), "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0], md[1], md[2],
             md[3], md[4], md[5], md[6], md[7]);
    assert_string_equal(e->etag, want);

    /* Case and one trailing slash are ignored; the canonical path comes back. */
    e2 = gh_tree_find(t, S("/REDFISH/v1/systems/1/"), "json");
    assert_ptr_equal(e2, e);
    assert_string_equal(e2->path, "/redfish/v1/Systems/1");
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems/1//"), "json"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems/10"), "json"));
    assert_null(gh_tree_find(t, S("/redfish/v1/System"), "json"));
    assert_null(gh_tree_find(t, S("redfish/v1/Systems/1"), "json"));
    assert_null(gh_tree_find(t, S(""), "json"));
    assert_null(gh_tree_find(t, (gh_str){ NULL, 0 }, "json"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems/1"), "yaml"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems/1"), NULL));
    assert_null(gh_tree_find(NULL, S("/"), "json"));

    e = gh_tree_find(t, S("/redfish/v1/systems/1"), "xml");
    assert_non_null(e);
    assert_string_equal(e->body, "<system/>");
    assert_string_equal(e->path, "/redfish/v1/Systems/1");
    assert_null(e->json);
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems"), "xml"));
    assert_non_null(gh_tree_find(t, S("/redfish/v1/Systems/"), "json"));
    assert_non_null(gh_tree_find(t, S("/redfish/v1/$metadata"), "xml"));

    /* The root's own file is "/". */
    e = gh_tree_find(t, S("/"), "json");
    assert_non_null(e);
    assert_string_equal(e->path, "/");
    assert_string_equal(e->body, "{\"root\":true}");

    /* Links are never followed, hidden names never read, empty dirs hold nothing. */
    assert_null(gh_tree_find(t, S("/"), "xml"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Linked"), "json"));
    assert_null(gh_tree_find(t, S("/etc"), "json"));
    assert_null(gh_tree_find(t, S("/.hidden"), "json"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Empty"), "json"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems/1/notes"), "json"));
    gh_tree_free(t);
    gh_tree_free(NULL);
}

static void test_same_bytes_same_etag(void **state)
{
    gh_tree             *t = NULL;
    const gh_tree_entry *a, *b, *c;
    char                 err[256];

    (void)state;
    put("x/index.json", "same");
    put("y/index.json", "same");
    put("z/index.json", "other");
    put("e/index.json", "");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);
    a = gh_tree_find(t, S("/x"), "json");
    b = gh_tree_find(t, S("/y"), "json");
    c = gh_tree_find(t, S("/z"), "json");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_string_equal(a->etag, b->etag);
    assert_string_not_equal(a->etag, c->etag);
    assert_int_equal(strlen(a->etag), 18);
    /* Bytes that are no JSON document stay a resource of bytes, unparsed. */
    assert_null(a->json);
    assert_string_equal(a->body, "same");
    /* An empty file is a resource of no bytes. */
    a = gh_tree_find(t, S("/e"), "json");
    assert_non_null(a);
    assert_int_equal(a->len, 0);
    gh_tree_free(t);
}

static void test_errors(void **state)
{
    gh_tree *t = (gh_tree *)0x1;
    char     err[256];
    char    *big;
    FILE    *f;
    char     path[256];

    (void)state;
    assert_int_equal(gh_tree_load("/nonexistent/gh-tree", &t, err, sizeof(err)), -1);
    assert_null(t);
    assert_non_null(strstr(err, "/nonexistent/gh-tree"));
    assert_int_equal(gh_tree_load(tmproot, NULL, err, sizeof(err)), -1);

    /* An empty tree loads and holds nothing. */
    assert_int_equal(gh_tree_load(tmproot, &t, NULL, 0), 0);
    assert_null(gh_tree_find(t, S("/"), "json"));
    gh_tree_free(t);

    /* Two paths that differ only in case. */
    put("a/B/index.json", "1");
    put("a/b/index.json", "2");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "differ only in case"));
    run("rm -rf %s/a");

    /* A directory name that cannot appear in a raw request path. */
    put("has space/index.json", "1");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "has space"));
    run("rm -rf '%s/has space'");

    /* A file at the limit loads; one byte more does not. */
    big = malloc(GH_TREE_FILE_MAX + 1);
    assert_non_null(big);
    memset(big, ' ', GH_TREE_FILE_MAX + 1);
    snprintf(path, sizeof(path), "%s/index.json", tmproot);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(big, 1, GH_TREE_FILE_MAX, f), GH_TREE_FILE_MAX);
    fclose(f);
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);
    assert_int_equal(gh_tree_find(t, S("/"), "json")->len, GH_TREE_FILE_MAX);
    gh_tree_free(t);
    f = fopen(path, "a");
    assert_non_null(f);
    fputc(' ', f);
    fclose(f);
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    unlink(path);
    free(big);

    /* Too deep. */
    {
        char rel[GH_TREE_DEPTH_MAX * 3 + 32] = "";

        for (int i = 0; i <= GH_TREE_DEPTH_MAX; i++)
            strcat(rel, "d/");
        strcat(rel, "index.json");
        put(rel, "{}");
        assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "deeper"));
        run("rm -rf %s/d");
    }
}

/* The dialects' render hooks: Redfish's open documents are entries of every
 * tree, made from its files, with ETags like any entry, and they take the
 * place of files at their paths. */
static void test_rendered(void **state)
{
    gh_tree             *t = NULL;
    const gh_tree_entry *e;
    json_t              *doc;
    char                 err[256];
    unsigned char        md[32];
    char                 want[19];

    (void)state;
    put("redfish/v1/Systems/index.json", "{\"collection\":true}");
    put("redfish/v1/index.json", "{\"mine\":true}");
    put("redfish/v1/$metadata/index.xml", "<edmx/>");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);

    e = gh_tree_find(t, S("/redfish/v1/"), "json");
    assert_non_null(e);
    assert_string_equal(e->path, "/redfish/v1");
    assert_true(json_is_object(e->json));
    assert_null(json_object_get(e->json, "mine"));
    assert_string_equal(json_string_value(json_object_get(e->json, "Id")), "RootService");
    /* Links only what the tree holds. */
    assert_string_equal(json_string_value(json_object_get(json_object_get(e->json, "Systems"),
                                                          "@odata.id")),
                        "/redfish/v1/Systems");
    assert_null(json_object_get(e->json, "Chassis"));
    /* Its bytes are what is served; its ETag is theirs. */
    doc = json_loadb(e->body, e->len, 0, NULL);
    assert_true(json_equal(doc, (json_t *)e->json));
    json_decref(doc);
    assert_int_equal(e->body[e->len], '\0');
    EVP_Digest(e->body, e->len, md, NULL, EVP_sha256(), NULL);
    snprintf(want, sizeof(want), "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0], md[1], md[2],
             md[3], md[4], md[5], md[6], md[7]);
    assert_string_equal(e->etag, want);

    e = gh_tree_find(t, S("/redfish"), "json");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e->json, "v1")), "/redfish/v1/");
    e = gh_tree_find(t, S("/redfish/v1/odata"), "json");
    assert_non_null(e);
    assert_true(json_is_array(json_object_get(e->json, "value")));
    e = gh_tree_find(t, S("/Redfish/V1/$METADATA"), "xml");
    assert_non_null(e);
    assert_string_equal(e->path, "/redfish/v1/$metadata");
    assert_non_null(strstr(e->body, "<edmx:Edmx"));
    assert_null(e->json);
    /* The files around them are still found. */
    assert_non_null(gh_tree_find(t, S("/redfish/v1/Systems"), "json"));
    gh_tree_free(t);

    /* An empty tree holds the rendered documents only. */
    run("rm -rf %s/redfish");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);
    e = gh_tree_find(t, S("/redfish/v1"), "json");
    assert_non_null(e);
    assert_null(json_object_get(e->json, "Systems"));
    assert_null(gh_tree_find(t, S("/"), "json"));
    gh_tree_free(t);

    /* No directory at all (gatehouse_tree not given): the same. */
    assert_int_equal(gh_tree_load(NULL, &t, err, sizeof(err)), 0);
    e = gh_tree_find(t, S("/redfish/v1"), "json");
    assert_non_null(e);
    assert_null(json_object_get(e->json, "Systems"));
    gh_tree_free(t);
}

/* PowerStore's render hook keeps the answer to a plain read of each of its
 * files (ids only, one page) as a "reply" entry; gh_tree_at walks the tree in
 * its order. */
static void test_powerstore_replies(void **state)
{
    gh_tree             *t = NULL;
    const gh_tree_entry *e, *prev = NULL;
    char                 err[256], big[4096];
    size_t               o, n = 0;

    (void)state;
    put("api/rest/small/index.json", "[{\"id\":\"a\",\"x\":1},{\"id\":\"b\"},7]");
    put("api/rest/one/index.json", "{\"id\":\"o\",\"y\":2}");
    put("api/rest/text/index.json", "not json");
    o = (size_t)snprintf(big, sizeof(big), "[");
    for (int i = 0; i < 150; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%s{\"id\":\"%d\"}", i ? "," : "", i);
    snprintf(big + o, sizeof(big) - o, "]");
    put("api/rest/big/index.json", big);
    put("redfish/v1/Systems/index.json", "{\"id\":\"s\"}");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);

    e = gh_tree_find(t, S("/api/rest/small"), "reply");
    assert_non_null(e);
    assert_string_equal(e->body, "[\n  {\n    \"id\": \"a\"\n  },\n  {\n    \"id\": \"b\"\n  }\n]\n");
    assert_int_equal(e->len, strlen(e->body));
    assert_null(e->json);
    e = gh_tree_find(t, S("/API/rest/one/"), "reply");
    assert_non_null(e);
    assert_string_equal(e->path, "/api/rest/one");
    assert_string_equal(e->body, "{\n  \"id\": \"o\"\n}\n");
    /* More than a page is a 206 with its own header: built per request. */
    assert_null(gh_tree_find(t, S("/api/rest/big"), "reply"));
    assert_null(gh_tree_find(t, S("/api/rest/text"), "reply"));
    assert_null(gh_tree_find(t, S("/redfish/v1/Systems"), "reply"));
    /* Members are looked up by id per request. */
    assert_null(gh_tree_find(t, S("/api/rest/small/a"), "reply"));

    for (size_t i = 0; (e = gh_tree_at(t, i)) != NULL; i++, n++) {
        if (prev != NULL)
            assert_true(strcasecmp(prev->path, e->path) <= 0);
        prev = e;
    }
    assert_null(gh_tree_at(t, n));
    assert_true(n > 7);
    gh_tree_free(t);
}

/* gh_tree_add keeps the order lookups rely on, replaces ignoring case, and
 * holds to the limits (a body it refuses is freed: ASan would see a leak). */
static void test_add(void **state)
{
    gh_tree             *t = NULL;
    const gh_tree_entry *e;
    char                 err[256];
    char                 etag[GH_TREE_ETAG_LEN + 1];
    char                *big;

    (void)state;
    put("b/index.json", "[1]");
    put("d/index.json", "[2]");
    assert_int_equal(gh_tree_load(tmproot, &t, err, sizeof(err)), 0);
    assert_int_equal(gh_tree_add(t, "/a", "json", strdup("{\"a\":1}"), 7, err, sizeof(err)), 0);
    assert_int_equal(gh_tree_add(t, "/c", "xml", strdup("<c/>"), 4, err, sizeof(err)), 0);
    assert_int_equal(gh_tree_add(t, "/e", "json", strdup("not json"), 8, err, sizeof(err)), 0);
    for (const char *const *p = (const char *const[]){ "/a", "/b", "/d", "/e", NULL }; *p; p++)
        assert_non_null(gh_tree_find(t, S(*p), "json"));
    e = gh_tree_find(t, S("/a"), "json");
    assert_int_equal(json_integer_value(json_object_get(e->json, "a")), 1);
    assert_null(gh_tree_find(t, S("/e"), "json")->json);
    assert_string_equal(gh_tree_find(t, S("/c"), "xml")->body, "<c/>");
    assert_null(gh_tree_find(t, S("/c"), "json"));

    /* The same path, ignoring case: replaced, with its ETag. */
    snprintf(etag, sizeof(etag), "%s", gh_tree_find(t, S("/b"), "json")->etag);
    assert_int_equal(gh_tree_add(t, "/B", "json", strdup("[3]"), 3, err, sizeof(err)), 0);
    e = gh_tree_find(t, S("/b"), "json");
    assert_string_equal(e->path, "/B");
    assert_string_equal(e->body, "[3]");
    assert_string_not_equal(e->etag, etag);
    assert_int_equal(json_integer_value(json_array_get(e->json, 0)), 3);
    assert_non_null(gh_tree_find(t, S("/d"), "json"));

    assert_int_equal(gh_tree_add(t, "/x", "yaml", strdup("x"), 1, err, sizeof(err)), -1);
    assert_int_equal(gh_tree_add(t, "x", "json", strdup("x"), 1, err, sizeof(err)), -1);
    assert_int_equal(gh_tree_add(t, NULL, "json", strdup("x"), 1, err, sizeof(err)), -1);
    big = calloc(1, GH_TREE_FILE_MAX + 2);
    assert_non_null(big);
    assert_int_equal(gh_tree_add(t, "/big", "json", big, GH_TREE_FILE_MAX + 1, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "larger than"));
    assert_null(gh_tree_find(t, S("/big"), "json"));
    gh_tree_free(t);
}

/* Every {"@odata.id": ...} reference inside v must be in the tree. */
static void check_links(const gh_tree *t, json_t *v, const char *where)
{
    const char *key;
    json_t     *item;
    size_t      i;

    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (strcmp(key, "@odata.id") == 0 && json_is_string(item)) {
                if (gh_tree_find(t, S(json_string_value(item)), "json") == NULL)
                    fail_msg("%s links to %s, not in the tree", where, json_string_value(item));
            } else {
                check_links(t, item, where);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            check_links(t, item, where);
    }
}

static void check_resource(const gh_tree *t, const char *path, const char *type)
{
    const gh_tree_entry *e = gh_tree_find(t, S(path), "json");
    json_error_t         jerr;
    json_t              *doc;
    const char          *got;
    bool                 collection = strstr(type, "Collection") != NULL;

    if (e == NULL)
        fail_msg("%s is not in data/", path);
    assert_string_equal(e->path, path);
    doc = json_loadb(e->body, e->len, 0, &jerr);
    if (doc == NULL)
        fail_msg("%s: %s", path, jerr.text);
    assert_true(json_is_object(doc));
    assert_string_equal(json_string_value(json_object_get(doc, "@odata.id")), path);
    got = json_string_value(json_object_get(doc, "@odata.type"));
    assert_non_null(got);
    if (strncmp(got, type, strlen(type)) != 0)
        fail_msg("%s: @odata.type %s, want %s...", path, got, type);
    assert_non_null(json_string_value(json_object_get(doc, "Name")));
    if (collection) {
        json_t *members = json_object_get(doc, "Members");

        assert_true(json_is_array(members));
        assert_true(json_array_size(members) >= 1);
        assert_int_equal(json_integer_value(json_object_get(doc, "Members@odata.count")),
                         json_array_size(members));
    } else {
        /* Versioned: "#Type.v1_2_3.Type". */
        assert_non_null(strstr(got, ".v1_"));
        assert_non_null(json_string_value(json_object_get(doc, "Id")));
    }
    check_links(t, doc, path);
    json_decref(doc);
}

static void test_bundled_data(void **state)
{
    gh_tree             *t = NULL;
    const gh_tree_entry *e;
    char                 err[256];

    (void)state;
    if (gh_tree_load("data", &t, err, sizeof(err)) != 0)
        fail_msg("data/: %s (run the tests from the repository root)", err);
    check_resource(t, "/redfish/v1/Systems", "#ComputerSystemCollection.");
    check_resource(t, "/redfish/v1/Systems/1", "#ComputerSystem.");
    check_resource(t, "/redfish/v1/Systems/1/Processors", "#ProcessorCollection.");
    check_resource(t, "/redfish/v1/Systems/1/Processors/CPU1", "#Processor.");
    check_resource(t, "/redfish/v1/Systems/1/Memory", "#MemoryCollection.");
    check_resource(t, "/redfish/v1/Systems/1/Memory/DIMM1", "#Memory.");
    check_resource(t, "/redfish/v1/Systems/1/EthernetInterfaces", "#EthernetInterfaceCollection.");
    check_resource(t, "/redfish/v1/Systems/1/EthernetInterfaces/NIC1", "#EthernetInterface.");
    check_resource(t, "/redfish/v1/Chassis", "#ChassisCollection.");
    check_resource(t, "/redfish/v1/Chassis/1", "#Chassis.");
    check_resource(t, "/redfish/v1/Managers", "#ManagerCollection.");
    check_resource(t, "/redfish/v1/Managers/1", "#Manager.");
    check_resource(t, "/redfish/v1/Managers/1/NetworkProtocol", "#ManagerNetworkProtocol.");
    /* The open documents are rendered into the tree; the dynamic resources
     * belong to redfish.c, not to the tree. */
    assert_non_null(gh_tree_find(t, S("/redfish/v1"), "json"));
    assert_non_null(gh_tree_find(t, S("/redfish/v1/$metadata"), "xml"));
    assert_null(gh_tree_find(t, S("/redfish/v1/SessionService"), "json"));
    assert_null(gh_tree_find(t, S("/redfish/v1/AccountService"), "json"));
    /* As the iLO guide's curl examples spell it. */
    assert_non_null(gh_tree_find(t, S("/redfish/v1/systems/1/"), "json"));

    /* The index finds every entry by its path, in any case. */
    for (size_t i = 0; (e = gh_tree_at(t, i)) != NULL; i++) {
        static const char *const formats[] = { "json", "xml", "reply" };
        char                     upper[GH_TREE_PATH_MAX + 1];
        size_t                   hits = 0;

        for (size_t k = 0; e->path[k] != '\0'; k++)
            upper[k] = (char)toupper((unsigned char)e->path[k]);
        upper[strlen(e->path)] = '\0';
        for (size_t k = 0; k < 3; k++) {
            hits += gh_tree_find(t, S(e->path), formats[k]) == e;
            hits += gh_tree_find(t, S(upper), formats[k]) == e;
        }
        assert_int_equal(hits, 2);
    }
    gh_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_and_find, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_same_bytes_same_etag, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_errors, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_rendered, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_powerstore_replies, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_add, make_tmp, remove_tmp),
        cmocka_unit_test(test_bundled_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
