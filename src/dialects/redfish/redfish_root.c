/*
 * redfish_root.c: the Redfish documents anyone may read without logging in:
 * the version document at /redfish, the service root, the OData service
 * document and the CSDL $metadata. They depend only on which collections the
 * bundled tree holds, so they are rendered once, when the tree loads (the
 * dialect's render hook), and become entries of the tree: serving one is a
 * lookup, with an ETag like any other entry. The root links the tree's
 * Systems, Chassis and Managers only when the tree has them, so a client
 * never follows a link to a 404. The hook ends with the OpenAPI document
 * (redfish_openapi.c), which describes all of these too.
 *
 * In gateway mode the root is the upstream's, fetched for each request
 * (gh_plan.upstream_first): its SessionService, AccountService and
 * Links.Sessions are set to gatehouse's, which answers them, and the rest
 * of it (the upstream's Systems, Managers, UUID, ...) is kept as it is.
 */
#include "redfish_internal.h"
#include "../common/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The service's identity. Fixed: it names the bundled service, which is the
 * same wherever it runs, and deriving it from anything per-installation
 * would mean deriving it from a secret. */
#define GH_REDFISH_UUID "557d2cb1-d5bc-4c19-b183-d1a5cc5b3cf3"

/* The tree's top-level collections the root may link. */
static const char *const gh_redfish_tree_collections[] = { "Systems", "Chassis", "Managers" };
#define GH_REDFISH_NCOLLECTIONS \
    (sizeof(gh_redfish_tree_collections) / sizeof(gh_redfish_tree_collections[0]))

/* Every schema a served resource names in @odata.type: ours, and those of the
 * bundled tree (data/redfish). Keep in step with both. */
static const struct {
    const char *ns;
    const char *version;   /* NULL for a collection's unversioned namespace */
} gh_redfish_schemas[] = {
    { "ServiceRoot", "v1_5_0" },
    { "SessionService", "v1_1_8" },
    { "Session", "v1_7_0" },
    { "SessionCollection", NULL },
    { "AccountService", "v1_5_0" },
    { "ManagerAccount", "v1_6_0" },
    { "ManagerAccountCollection", NULL },
    { "Role", "v1_2_0" },
    { "RoleCollection", NULL },
    { "Message", "v1_1_1" },
    { "EventService", "v1_7_0" },
    { "EventDestination", "v1_7_0" },
    { "EventDestinationCollection", NULL },
    { "Event", "v1_7_0" },
    { "Resource", "v1_0_0" },
    { "ComputerSystem", "v1_20_0" },
    { "ComputerSystemCollection", NULL },
    { "Chassis", "v1_23_0" },
    { "ChassisCollection", NULL },
    { "Manager", "v1_18_0" },
    { "ManagerCollection", NULL },
    { "ManagerNetworkProtocol", "v1_9_0" },
    { "Processor", "v1_18_0" },
    { "ProcessorCollection", NULL },
    { "Memory", "v1_17_0" },
    { "MemoryCollection", NULL },
    { "EthernetInterface", "v1_10_0" },
    { "EthernetInterfaceCollection", NULL },
    { "Sensor", "v1_9_0" },
    { "SensorCollection", NULL },
};

static bool gh_redfish_tree_has(const gh_tree *tree, const char *collection, char *path,
                                size_t pathlen)
{
    snprintf(path, pathlen, "/redfish/v1/%s", collection);
    return gh_tree_find(tree, (gh_str){ path, strlen(path) }, "json") != NULL;
}

static json_t *gh_redfish_link(const char *path)
{
    return json_pack("{s:s}", "@odata.id", path);
}

static json_t *gh_redfish_root_doc(const gh_tree *tree)
{
    json_t *root;
    char    path[64];

    root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                     " s:{s:{s:b, s:b, s:b, s:b}, s:b, s:b, s:b, s:b},"
                     " s:{s:s}, s:{s:s}, s:{s:{s:s}}}",
                     "@odata.id", "/redfish/v1/",
                     "@odata.type", "#ServiceRoot.v1_5_0.ServiceRoot",
                     "Id", "RootService",
                     "Name", "Root Service",
                     "RedfishVersion", GH_REDFISH_VERSION,
                     "UUID", GH_REDFISH_UUID,
                     "Product", "gatehouse",
                     "ProtocolFeaturesSupported",
                     "ExpandQuery", "ExpandAll", 0, "Levels", 0, "Links", 0, "NoLinks", 0,
                     "FilterQuery", 0, "SelectQuery", 0, "OnlyMemberQuery", 1,
                     "ExcerptQuery", 1,
                     "SessionService", "@odata.id", "/redfish/v1/SessionService",
                     "AccountService", "@odata.id", "/redfish/v1/AccountService",
                     "Links", "Sessions", "@odata.id", GH_REDFISH_SESSIONS);
    for (size_t i = 0; root != NULL && i < GH_REDFISH_NCOLLECTIONS; i++) {
        if (gh_redfish_tree_has(tree, gh_redfish_tree_collections[i], path, sizeof(path)))
            json_object_set_new(root, gh_redfish_tree_collections[i], gh_redfish_link(path));
    }
    if (root != NULL)
        json_object_set_new(root, "EventService", gh_redfish_link("/redfish/v1/EventService"));
    return root;
}

static void gh_redfish_odata_add(json_t *value, const char *name, const char *url)
{
    json_t *e = json_pack("{s:s, s:s, s:s}", "name", name, "kind", "Singleton", "url", url);

    if (e != NULL)
        (void)json_array_append_new(value, e);
}

static json_t *gh_redfish_odata_doc(const gh_tree *tree)
{
    json_t *value = json_array();
    json_t *doc = NULL;
    char    path[64];

    if (value == NULL)
        goto done;
    gh_redfish_odata_add(value, "Service", "/redfish/v1/");
    gh_redfish_odata_add(value, "SessionService", "/redfish/v1/SessionService");
    gh_redfish_odata_add(value, "Sessions", GH_REDFISH_SESSIONS);
    gh_redfish_odata_add(value, "AccountService", "/redfish/v1/AccountService");
    gh_redfish_odata_add(value, "EventService", "/redfish/v1/EventService");
    for (size_t i = 0; i < GH_REDFISH_NCOLLECTIONS; i++) {
        if (gh_redfish_tree_has(tree, gh_redfish_tree_collections[i], path, sizeof(path)))
            gh_redfish_odata_add(value, gh_redfish_tree_collections[i], path);
    }
    doc = json_pack("{s:s, s:O}", "@odata.context", "/redfish/v1/$metadata", "value", value);
done:
    json_decref(value);
    return doc;
}

/* The CSDL document: a reference to DMTF's schema file for every namespace
 * served, the entity container, and our one OEM type. The Service schema
 * with the container comes first: clients (DMTF's Protocol Validator among
 * them) look for the container in the first Schema. NULL when out of
 * memory. */
static char *gh_redfish_metadata_doc(size_t *len)
{
    char *xml = NULL;
    FILE *f = open_memstream(&xml, len);

    if (f == NULL)
        return NULL;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\n",
          f);
    for (size_t i = 0; i < sizeof(gh_redfish_schemas) / sizeof(gh_redfish_schemas[0]); i++) {
        fprintf(f, "  <edmx:Reference Uri=\"http://redfish.dmtf.org/schemas/v1/%s_v1.xml\">\n"
                   "    <edmx:Include Namespace=\"%s\"/>\n",
                gh_redfish_schemas[i].ns, gh_redfish_schemas[i].ns);
        if (gh_redfish_schemas[i].version != NULL)
            fprintf(f, "    <edmx:Include Namespace=\"%s.%s\"/>\n", gh_redfish_schemas[i].ns,
                    gh_redfish_schemas[i].version);
        fputs("  </edmx:Reference>\n", f);
    }
    fputs("  <edmx:DataServices>\n"
          "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"Service\">\n"
          "      <EntityContainer Name=\"Service\" Extends=\"ServiceRoot.v1_5_0.ServiceContainer\"/>\n"
          "    </Schema>\n"
          "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"GatehouseSession\"/>\n"
          "    <Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"GatehouseSession.v1_0_0\">\n"
          "      <ComplexType Name=\"Session\" BaseType=\"Resource.OemObject\">\n"
          "        <Property Name=\"MySession\" Type=\"Edm.Boolean\" Nullable=\"false\"/>\n"
          "      </ComplexType>\n"
          "    </Schema>\n"
          "  </edmx:DataServices>\n"
          "</edmx:Edmx>\n", f);
    if (fclose(f) != 0) {
        free(xml);
        return NULL;
    }
    return xml;
}

/* Point doc's links to the services gatehouse answers. -1 when out of memory. */
static int gh_redfish_root_links(json_t *doc)
{
    json_t *links = json_object_get(doc, "Links");

    if (!json_is_object(links)) {
        links = json_object();
        if (json_object_set_new(doc, "Links", links) != 0)
            return -1;
    }
    if (json_object_set_new(doc, "SessionService",
                            gh_redfish_link("/redfish/v1/SessionService")) != 0 ||
        json_object_set_new(doc, "AccountService",
                            gh_redfish_link("/redfish/v1/AccountService")) != 0 ||
        json_object_set_new(links, "Sessions", gh_redfish_link(GH_REDFISH_SESSIONS)) != 0)
        return -1;
    return 0;
}

bool gh_redfish_serve_upstream_root(gh_redfish_ctx *c)
{
    gh_str       up = c->req->upstream_body;
    json_t      *doc = NULL;
    char        *text = NULL;
    size_t       len = 0;
    char         etag[GH_TREE_ETAG_LEN + 1];
    bool         served = false;

    if (c->req->upstream_status != 200 || up.data == NULL || up.len == 0)
        goto done;
    doc = json_loadb(up.data, up.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc) || gh_redfish_root_links(doc) != 0)
        goto done;
    text = gh_json_text(doc, &len);
    if (text == NULL)
        goto done;
    gh_tree_etag(text, len, etag);
    gh_response_header_add(c->resp, "ETag", "%s", etag);
    gh_response_header_add(c->resp, "Cache-Control", "no-cache");
    gh_redfish_describedby_add(c->resp, doc);
    if (gh_redfish_etag_listed(gh_request_header(c->req, "If-None-Match"), etag)) {
        c->resp->status = 304;
    } else {
        c->resp->status = 200;
        gh_response_set_body(c->resp, text, len, GH_REDFISH_JSON_TYPE);
        text = NULL;
    }
    served = true;
done:
    free(text);
    json_decref(doc);
    return served;
}

/* Add doc (stolen) to the tree at path, written as every Redfish reply is. */
static int gh_redfish_add_json(gh_tree *tree, const char *path, json_t *doc, char *err,
                               size_t errlen)
{
    size_t len;
    char  *text = gh_json_text(doc, &len);

    json_decref(doc);
    if (text == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return gh_tree_add(tree, path, "json", text, len, err, errlen);
}

int gh_redfish_render(gh_tree *tree, char *err, size_t errlen)
{
    char  *xml;
    size_t len = 0;

    if (gh_redfish_add_json(tree, "/redfish", json_pack("{s:s}", "v1", "/redfish/v1/"), err,
                            errlen) != 0 ||
        gh_redfish_add_json(tree, "/redfish/v1", gh_redfish_root_doc(tree), err, errlen) != 0 ||
        gh_redfish_add_json(tree, "/redfish/v1/odata", gh_redfish_odata_doc(tree), err,
                            errlen) != 0)
        return -1;
    xml = gh_redfish_metadata_doc(&len);
    if (xml == NULL) {
        snprintf(err, errlen, "/redfish/v1/$metadata: out of memory");
        return -1;
    }
    if (gh_tree_add(tree, "/redfish/v1/$metadata", "xml", xml, len, err, errlen) != 0)
        return -1;
    /* Last: it describes every document above as well. */
    return gh_redfish_openapi_render(tree, err, errlen);
}
