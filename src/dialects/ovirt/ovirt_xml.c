/*
 * ovirt_xml.c: the replies of the oVirt dialect. Plain text for what the
 * engine's servlet container answers itself (401, 405, 400 of a version);
 * JSON for the SSO, in the two error shapes the engine uses; and the API's
 * own documents (the <api> root and the fault) in XML, written with libxml2's
 * xmlwriter, or in JSON with jansson, as the client's Accept chose. The XML
 * and JSON shapes follow the engine's 4.x API: attributes href and id on
 * links, every number a string in JSON but the root's time (epoch ms).
 *
 * xmlwriter may run in several pool threads at once; libxml2 wants its
 * globals set up by one thread first, so the first writer calls
 * xmlInitParser under pthread_once. When memory runs out a reply falls back
 * to a bodiless 500 rather than a half-written document.
 */
#include "ovirt_internal.h"
#include "../common/json_text.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xmlwriter.h>

const char *const gh_ovirt_collections[] = { "clusters", "hosts", "vms", NULL };

void gh_ovirt_text(gh_response *resp, int status, const char *reason, const char *text)
{
    resp->status = status;
    resp->reason = reason;
    gh_response_ref_body(resp, text, strlen(text), GH_OVIRT_TEXT_TYPE);
    if (status == 503)
        gh_response_header_add(resp, "Retry-After", "%d", GH_OVIRT_RETRY_AFTER);
}

void gh_ovirt_unauthorized(gh_response *resp)
{
    gh_response_header_add(resp, "WWW-Authenticate", "Basic realm=\"RESTAPI\"");
    gh_ovirt_text(resp, 401, "Authorization Required", "Authorization Required\n");
}

static void gh_ovirt_oom(gh_response *resp)
{
    gh_response_set_body(resp, NULL, 0, NULL);
    resp->status = 500;
}

void gh_ovirt_json(gh_response *resp, int status, json_t *body, const char *type)
{
    if (gh_json_reply(resp, status, body, type) != 0)
        gh_ovirt_oom(resp);
}

const char *gh_ovirt_error_code(gh_ovirt_error e)
{
    switch (e) {
    case GH_OV_ERR_INVALID_REQUEST:   return "invalid_request";
    case GH_OV_ERR_UNSUPPORTED_GRANT: return "unsupported_grant_type";
    case GH_OV_ERR_INVALID_SCOPE:     return "invalid_scope";
    case GH_OV_ERR_ACCESS_DENIED:     return "access_denied";
    default:                          return "server_error";
    }
}

void gh_ovirt_oauth_fail(gh_response *resp, int status, bool rest_api, gh_ovirt_error code,
                         const char *message)
{
    const char *c = gh_ovirt_error_code(code);

    gh_ovirt_json(resp, status,
                  rest_api ? json_pack("{s:s, s:s}", "error_code", c, "error", message)
                           : json_pack("{s:s, s:s}", "error", c, "error_description", message),
                  GH_OVIRT_JSON_TYPE);
    gh_response_header_add(resp, "Cache-Control", "no-store");
    if (status == 503)
        gh_response_header_add(resp, "Retry-After", "%d", GH_OVIRT_RETRY_AFTER);
}

/* ---- XML through xmlwriter ---- */

typedef struct {
    xmlBufferPtr     buf;
    xmlTextWriterPtr w;
    bool             failed;
} gh_ovirt_xml;

static pthread_once_t gh_ovirt_xml_once = PTHREAD_ONCE_INIT;

static void gh_ovirt_xml_init(void)
{
    xmlInitParser();
}

static void gh_ovirt_xml_open(gh_ovirt_xml *x)
{
    pthread_once(&gh_ovirt_xml_once, gh_ovirt_xml_init);
    x->failed = false;
    x->w = NULL;
    x->buf = xmlBufferCreate();
    if (x->buf != NULL)
        x->w = xmlNewTextWriterMemory(x->buf, 0);
    if (x->w == NULL || xmlTextWriterSetIndent(x->w, 1) < 0 ||
        xmlTextWriterSetIndentString(x->w, BAD_CAST "    ") < 0 ||
        xmlTextWriterStartDocument(x->w, NULL, "UTF-8", "yes") < 0)
        x->failed = true;
}

static void gh_ovirt_xml_start(gh_ovirt_xml *x, const char *name)
{
    if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
        x->failed = true;
}

static void gh_ovirt_xml_attr(gh_ovirt_xml *x, const char *name, const char *value)
{
    if (!x->failed && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->failed = true;
}

static void gh_ovirt_xml_end(gh_ovirt_xml *x)
{
    if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
        x->failed = true;
}

static void gh_ovirt_xml_leaf(gh_ovirt_xml *x, const char *name, const char *text)
{
    if (!x->failed && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
        x->failed = true;
}

static void gh_ovirt_xml_leaf_int(gh_ovirt_xml *x, const char *name, int64_t v)
{
    char text[24];

    snprintf(text, sizeof(text), "%lld", (long long)v);
    gh_ovirt_xml_leaf(x, name, text);
}

/* <name href="href" id="id"/> */
static void gh_ovirt_xml_link(gh_ovirt_xml *x, const char *name, const char *href,
                              const char *id)
{
    gh_ovirt_xml_start(x, name);
    gh_ovirt_xml_attr(x, "href", href);
    gh_ovirt_xml_attr(x, "id", id);
    gh_ovirt_xml_end(x);
}

/* End the document and move it into resp (or a 500). */
static void gh_ovirt_xml_finish(gh_ovirt_xml *x, gh_response *resp, int status)
{
    if (!x->failed && xmlTextWriterEndDocument(x->w) < 0)
        x->failed = true;
    if (x->w != NULL)
        xmlFreeTextWriter(x->w);    /* flushes into buf */
    if (!x->failed && x->buf != NULL) {
        resp->status = status;
        gh_response_copy_body(resp, xmlBufferContent(x->buf), (size_t)xmlBufferLength(x->buf),
                              GH_OVIRT_API_XML);
        if (resp->body == NULL)
            gh_ovirt_oom(resp);
    } else {
        gh_ovirt_oom(resp);
    }
    if (x->buf != NULL)
        xmlBufferFree(x->buf);
}

/* ---- the fault ---- */

void gh_ovirt_fault(gh_response *resp, int status, gh_ovirt_format format, const char *reason,
                    const char *detail)
{
    gh_ovirt_xml x;

    if (format == GH_OV_FORMAT_JSON) {
        gh_ovirt_json(resp, status, json_pack("{s:s, s:s}", "reason", reason, "detail", detail),
                      GH_OVIRT_API_JSON);
        return;
    }
    gh_ovirt_xml_open(&x);
    gh_ovirt_xml_start(&x, "fault");
    gh_ovirt_xml_leaf(&x, "reason", reason);
    gh_ovirt_xml_leaf(&x, "detail", detail);
    gh_ovirt_xml_end(&x);
    gh_ovirt_xml_finish(&x, resp, status);
}

/* ---- the <api> root ---- */

#define GH_OVIRT_PRODUCT_NAME    "oVirt Engine"
#define GH_OVIRT_PRODUCT_VENDOR  "gatehouse"
#define GH_OVIRT_VERSION_FULL    "4.5.0"
#define GH_OVIRT_VERSION_MAJOR   "4"
#define GH_OVIRT_VERSION_MINOR   "5"

/* The engine's time format, milliseconds and a numeric offset included. */
static void gh_ovirt_time(int64_t ms, char out[40])
{
    struct tm tm;
    time_t    t = (time_t)(ms / 1000);
    char      base[24];

    if (gmtime_r(&t, &tm) == NULL || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(base, sizeof(base), "1970-01-01T00:00:00");
    snprintf(out, 40, "%s.%03d+00:00", base, (int)(ms % 1000));
}

static void gh_ovirt_user_href(const char *id, char out[80])
{
    snprintf(out, 80, GH_OVIRT_API "/users/%s", id);
}

static void gh_ovirt_root_xml(gh_ovirt_xml *x, const gh_ovirt_root *root)
{
    static const char *const kinds[] = { "hosts", "users", "vms" };
    const gh_ovirt_count *counts[] = { &root->hosts, &root->users, &root->vms };
    char href[80], when[40];

    gh_ovirt_xml_start(x, "api");
    for (size_t i = 0; gh_ovirt_collections[i] != NULL; i++) {
        snprintf(href, sizeof(href), GH_OVIRT_API "/%s", gh_ovirt_collections[i]);
        gh_ovirt_xml_start(x, "link");
        gh_ovirt_xml_attr(x, "href", href);
        gh_ovirt_xml_attr(x, "rel", gh_ovirt_collections[i]);
        gh_ovirt_xml_end(x);
    }
    gh_ovirt_xml_start(x, "product_info");
    gh_ovirt_xml_leaf(x, "instance_id", root->instance_id);
    gh_ovirt_xml_leaf(x, "name", GH_OVIRT_PRODUCT_NAME);
    gh_ovirt_xml_leaf(x, "vendor", GH_OVIRT_PRODUCT_VENDOR);
    gh_ovirt_xml_start(x, "version");
    gh_ovirt_xml_leaf(x, "build", "0");
    gh_ovirt_xml_leaf(x, "full_version", GH_OVIRT_VERSION_FULL);
    gh_ovirt_xml_leaf(x, "major", GH_OVIRT_VERSION_MAJOR);
    gh_ovirt_xml_leaf(x, "minor", GH_OVIRT_VERSION_MINOR);
    gh_ovirt_xml_leaf(x, "revision", "0");
    gh_ovirt_xml_end(x);
    gh_ovirt_xml_end(x);
    if (root->summary) {
        gh_ovirt_xml_start(x, "summary");
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            gh_ovirt_xml_start(x, kinds[i]);
            gh_ovirt_xml_leaf_int(x, "active", counts[i]->active);
            gh_ovirt_xml_leaf_int(x, "total", counts[i]->total);
            gh_ovirt_xml_end(x);
        }
        gh_ovirt_xml_end(x);
    }
    gh_ovirt_time(root->now_ms, when);
    gh_ovirt_xml_leaf(x, "time", when);
    gh_ovirt_user_href(root->user_id, href);
    gh_ovirt_xml_link(x, "authenticated_user", href, root->user_id);
    gh_ovirt_xml_link(x, "effective_user", href, root->user_id);
    gh_ovirt_xml_end(x);
}

static json_t *gh_ovirt_count_json(const gh_ovirt_count *c)
{
    char active[24], total[24];

    snprintf(active, sizeof(active), "%lld", (long long)c->active);
    snprintf(total, sizeof(total), "%lld", (long long)c->total);
    return json_pack("{s:s, s:s}", "active", active, "total", total);
}

static json_t *gh_ovirt_root_json(const gh_ovirt_root *root)
{
    json_t *links = json_array(), *doc;
    char    href[80];

    for (size_t i = 0; links != NULL && gh_ovirt_collections[i] != NULL; i++) {
        snprintf(href, sizeof(href), GH_OVIRT_API "/%s", gh_ovirt_collections[i]);
        json_array_append_new(links, json_pack("{s:s, s:s}", "href", href,
                                               "rel", gh_ovirt_collections[i]));
    }
    gh_ovirt_user_href(root->user_id, href);
    doc = json_pack("{s:{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}, s:I,"
                    " s:{s:s, s:s}, s:{s:s, s:s}, s:o}",
                    "product_info", "instance_id", root->instance_id,
                    "name", GH_OVIRT_PRODUCT_NAME, "vendor", GH_OVIRT_PRODUCT_VENDOR,
                    "version", "build", "0", "full_version", GH_OVIRT_VERSION_FULL,
                    "major", GH_OVIRT_VERSION_MAJOR, "minor", GH_OVIRT_VERSION_MINOR,
                    "revision", "0",
                    "time", (json_int_t)root->now_ms,
                    "authenticated_user", "href", href, "id", root->user_id,
                    "effective_user", "href", href, "id", root->user_id,
                    "link", links);
    if (doc != NULL && root->summary)
        json_object_set_new(doc, "summary",
                            json_pack("{s:o, s:o, s:o}",
                                      "hosts", gh_ovirt_count_json(&root->hosts),
                                      "users", gh_ovirt_count_json(&root->users),
                                      "vms", gh_ovirt_count_json(&root->vms)));
    return doc;
}

void gh_ovirt_root_reply(gh_response *resp, gh_ovirt_format format, const gh_ovirt_root *root)
{
    gh_ovirt_xml x;

    if (format == GH_OV_FORMAT_JSON) {
        gh_ovirt_json(resp, 200, gh_ovirt_root_json(root), GH_OVIRT_API_JSON);
        return;
    }
    gh_ovirt_xml_open(&x);
    gh_ovirt_root_xml(&x, root);
    gh_ovirt_xml_finish(&x, resp, 200);
}
