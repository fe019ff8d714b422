/*
 * redfish_openapi.c: /redfish/v1/openapi.yaml, the OpenAPI 3.0 document
 * DSP0266 lets a service publish at that fixed URI, rendered once when the
 * tree loads (after the other open documents) into a "reply" entry, so
 * serving it is a lookup like $metadata.
 *
 * It describes what this service answers and nothing else: every JSON
 * resource of the bundled tree under its own path, with the schema its
 * @odata.type names; the documents rendered before it ($metadata among
 * them); itself; and the service's own routes (sessions, accounts, roles),
 * their members as templates ({SessionId}), the EventService and its
 * Server-Sent Events stream. The operations of each path are
 * the router's table (gh_redfish_allowed) and whether one needs a login is
 * the router's too (gh_redfish_is_open), so the document cannot name a
 * method the service refuses. Response and request schemas are references
 * to DMTF's published OpenAPI files, the YAML twins of the JSON schemas the
 * Link headers name.
 */
#include "redfish_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GH_API_DMTF "http://redfish.dmtf.org/schemas/v1/"
#define GH_API_OPENAPI_PATH "/redfish/v1/openapi.yaml"

/* One path of the service's own routes. */
typedef struct {
    const char *path;
    const char *param;       /* the member id in the path, or NULL */
    const char *type;        /* @odata.type of a GET's reply; NULL: no GET */
    const char *body_type;   /* of a POST's or PATCH's body and their reply; NULL: type */
    const char *delete_status;
} gh_api_route;

static const gh_api_route gh_api_routes[] = {
    { "/redfish/v1/SessionService", NULL, "#SessionService.v1_1_8.SessionService", NULL, NULL },
    { GH_REDFISH_SESSIONS, NULL, "#SessionCollection.SessionCollection",
      "#Session.v1_7_0.Session", NULL },
    { GH_REDFISH_SESSIONS "/Members", NULL, NULL, "#Session.v1_7_0.Session", NULL },
    { GH_REDFISH_SESSIONS "/{SessionId}", "SessionId", "#Session.v1_7_0.Session", NULL, "204" },
    { "/redfish/v1/AccountService", NULL, "#AccountService.v1_5_0.AccountService", NULL, NULL },
    { GH_REDFISH_ACCOUNTS, NULL, "#ManagerAccountCollection.ManagerAccountCollection",
      "#ManagerAccount.v1_6_0.ManagerAccount", NULL },
    { GH_REDFISH_ACCOUNTS "/{ManagerAccountId}", "ManagerAccountId",
      "#ManagerAccount.v1_6_0.ManagerAccount", NULL, "200" },
    { GH_REDFISH_ROLES, NULL, "#RoleCollection.RoleCollection", NULL, NULL },
    { GH_REDFISH_ROLES "/{RoleId}", "RoleId", "#Role.v1_2_0.Role", NULL, NULL },
    { "/redfish/v1/EventService", NULL, "#EventService.v1_7_0.EventService", NULL, NULL },
    { "/redfish/v1/EventService/Subscriptions", NULL,
      "#EventDestinationCollection.EventDestinationCollection", NULL, NULL },
    { "/redfish/v1/EventService/Subscriptions/{EventDestinationId}", "EventDestinationId",
      "#EventDestination.v1_7_0.EventDestination", NULL, "204" },
};

static const char gh_api_head[] =
    "openapi: '3.0.1'\n"
    "info:\n"
    "  title: 'gatehouse Redfish service'\n"
    "  description: 'The resources and operations this service answers (DSP0266).'\n"
    "  version: '" GH_REDFISH_VERSION "'\n"
    "security:\n"
    "- basic: []\n"
    "- session: []\n"
    "components:\n"
    "  securitySchemes:\n"
    "    basic:\n"
    "      type: http\n"
    "      scheme: basic\n"
    "    session:\n"
    "      type: apiKey\n"
    "      in: header\n"
    "      name: X-Auth-Token\n"
    "  responses:\n"
    "    error:\n"
    "      description: 'A Redfish error.'\n"
    "      content:\n"
    "        application/json:\n"
    "          schema:\n"
    "            $ref: '#/components/schemas/RedfishError'\n"
    "  schemas:\n"
    "    RedfishError:\n"
    "      type: object\n"
    "      required: [error]\n"
    "      properties:\n"
    "        error:\n"
    "          type: object\n"
    "          required: [code, message]\n"
    "          properties:\n"
    "            code:\n"
    "              type: string\n"
    "            message:\n"
    "              type: string\n"
    "            '@Message.ExtendedInfo':\n"
    "              type: array\n"
    "              items:\n"
    "                $ref: '" GH_API_DMTF "Message.v1_1_1.yaml#/components/schemas/"
    "Message_v1_1_1_Message'\n"
    "paths:\n";

/* A single-quoted YAML scalar: a quote inside is doubled. */
static void gh_api_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The media type and schema of a body, indented by ind: DMTF's component
 * for a type, any object for a JSON document without one, text for the
 * rest. */
static void gh_api_content(FILE *f, int ind, const char *media, const char *type)
{
    char schema[160];
    const char *term = type != NULL ? strrchr(type, '.') : NULL;

    fprintf(f, "%*scontent:\n%*s%s:\n%*sschema:\n", ind, "", ind + 2, "", media, ind + 4, "");
    if (type != NULL && term != NULL && gh_redfish_schema_name(type, schema, sizeof(schema))) {
        fprintf(f, "%*s$ref: '" GH_API_DMTF "%s.yaml#/components/schemas/", ind + 6, "", schema);
        for (char *p = schema; *p != '\0'; p++)
            fputc(*p == '.' ? '_' : *p, f);
        fprintf(f, "_%s'\n", term + 1);
    } else {
        fprintf(f, "%*stype: %s\n", ind + 6, "",
                strcmp(media, "application/json") == 0 ? "object" : "string");
    }
}

/* One operation. status and reply describe its success; media and type its
 * body (type NULL: an object without a schema of its own), a request body
 * only on POST and PATCH. */
static void gh_api_op(FILE *f, const char *path, gh_method m, const char *status,
                      const char *media, const char *type, bool with_body)
{
    gh_redfish_route r;
    char             name[16];

    snprintf(name, sizeof(name), "%s", gh_method_name(m));
    for (char *p = name; *p != '\0'; p++)
        *p = (char)(*p - 'A' + 'a');
    gh_redfish_route_parse((gh_str){ path, strlen(path) }, &r);
    fprintf(f, "    %s:\n", name);
    if (gh_redfish_is_open(r.kind, m))
        fputs("      security: []\n", f);
    if (m == GH_METHOD_POST || m == GH_METHOD_PATCH) {
        fputs("      requestBody:\n        required: true\n", f);
        gh_api_content(f, 8, "application/json", type);
    }
    fprintf(f, "      responses:\n        '%s':\n          description: 'Success.'\n", status);
    if (with_body)
        gh_api_content(f, 10, media, type);
    fputs("        default:\n          $ref: '#/components/responses/error'\n", f);
}

/* A path with the operations the router allows on it. */
static void gh_api_path(FILE *f, const char *path, const char *param, const char *media,
                        const char *type, const gh_api_route *svc)
{
    gh_redfish_route r;
    unsigned         allowed;
    const char      *body = svc != NULL && svc->body_type != NULL ? svc->body_type : type;

    gh_redfish_route_parse((gh_str){ path, strlen(path) }, &r);
    allowed = gh_redfish_allowed(r.kind);
    fputs("  ", f);
    gh_api_quote(f, path);
    fputs(":\n", f);
    if (param != NULL)
        fprintf(f, "    parameters:\n    - name: %s\n      in: path\n      required: true\n"
                   "      schema:\n        type: string\n", param);
    if (allowed & GH_METHOD_BIT(GH_METHOD_GET))
        gh_api_op(f, path, GH_METHOD_GET, "200", media, type, true);
    if (allowed & GH_METHOD_BIT(GH_METHOD_HEAD))
        gh_api_op(f, path, GH_METHOD_HEAD, "200", media, type, false);
    if (allowed & GH_METHOD_BIT(GH_METHOD_POST))
        gh_api_op(f, path, GH_METHOD_POST, "201", "application/json", body, true);
    if (allowed & GH_METHOD_BIT(GH_METHOD_PATCH))
        gh_api_op(f, path, GH_METHOD_PATCH, "200", "application/json", body, true);
    if (allowed & GH_METHOD_BIT(GH_METHOD_DELETE))
        gh_api_op(f, path, GH_METHOD_DELETE, svc != NULL && svc->delete_status != NULL
                                                 ? svc->delete_status : "200",
                  "application/json", NULL, false);
}

/* The tree's documents: JSON resources and the rendered open documents, but
 * not a bundled file the service's own route stands in front of. */
static void gh_api_tree(FILE *f, const gh_tree *tree)
{
    const gh_tree_entry *e;
    gh_redfish_route     r;

    for (size_t i = 0; (e = gh_tree_at(tree, i)) != NULL; i++) {
        gh_redfish_route_parse((gh_str){ e->path, strlen(e->path) }, &r);
        if (e->json != NULL && (r.kind == GH_RF_TREE || r.kind == GH_RF_VERSIONS ||
                                r.kind == GH_RF_ROOT || r.kind == GH_RF_ODATA) &&
            strncasecmp(e->path, "/redfish", 8) == 0)
            gh_api_path(f, e->path, NULL, "application/json",
                        json_string_value(json_object_get(e->json, "@odata.type")), NULL);
        else if (r.kind == GH_RF_METADATA)
            gh_api_path(f, e->path, NULL, "application/xml", NULL, NULL);
    }
}

int gh_redfish_openapi_render(gh_tree *tree, char *err, size_t errlen)
{
    char  *yaml = NULL;
    size_t len = 0;
    FILE  *f = open_memstream(&yaml, &len);

    if (f == NULL)
        goto fail;
    fputs(gh_api_head, f);
    gh_api_tree(f, tree);
    for (size_t i = 0; i < sizeof(gh_api_routes) / sizeof(gh_api_routes[0]); i++)
        gh_api_path(f, gh_api_routes[i].path, gh_api_routes[i].param, "application/json",
                    gh_api_routes[i].type, &gh_api_routes[i]);
    gh_api_path(f, GH_REDFISH_SSE, NULL, "text/event-stream", NULL, NULL);
    gh_api_path(f, GH_API_OPENAPI_PATH, NULL, "application/yaml", NULL, NULL);
    if (fclose(f) != 0)
        goto fail;
    return gh_tree_add(tree, GH_API_OPENAPI_PATH, "reply", yaml, len, err, errlen);
fail:
    free(yaml);
    snprintf(err, errlen, GH_API_OPENAPI_PATH ": out of memory");
    return -1;
}
