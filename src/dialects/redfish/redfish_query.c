/*
 * redfish_query.c: the query parameters of DSP0266 the Redfish dialect
 * implements, only and excerpt (advertised as OnlyMemberQuery and
 * ExcerptQuery in the service root), and the refusal of the rest.
 *
 * Parsing (gh_redfish_query_parse) reads the raw query once, before any
 * handler: a $-option (raw or as %24) is not implemented, so 501
 * QueryNotSupported, which DSP0266 requires; only and excerpt take no value,
 * so a value is 400 QueryParameterValueFormatError; only combined with
 * another query option is 400 QueryCombinationInvalid; any other parameter
 * is ignored, as DSP0266 asks of names not starting with $.
 *
 * Applying them works on the reply a GET already made, so every handler and
 * every check it makes (who may see which session or account) stays the one
 * path to a resource:
 *   only: a collection of exactly one member is answered with that member
 *     (the router serves the member's path in its place); of zero or several,
 *     with itself; a resource that is no collection, 400
 *     QueryNotSupportedOnResource.
 *   excerpt: the properties the resource's schema annotates Redfish.Excerpt,
 *     with its @odata annotations; a schema without such annotations (every
 *     schema of the bundled service but Sensor) gives the whole resource.
 */
#include "redfish_internal.h"
#include "../common/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The properties DMTF's CSDL (Redfish 2025.4) annotates Redfish.Excerpt, per
 * schema namespace, with any qualifier: an excerpt of a resource names them
 * all. A schema not listed has no excerpt properties. */
static const struct {
    const char *ns;
    const char *const *props;
} gh_redfish_excerpts[] = {
    { "Sensor", (const char *const[]){ "Reading", "PhysicalContext", "PhysicalSubContext",
        "ApparentVA", "ReactiveVAR", "PowerFactor", "SensorResetTime", "CrestFactor",
        "THDPercent", "LifetimeReading", "SpeedRPM", "DeviceName", "ApparentkVAh",
        "ReactivekVARh", "PhaseAngleDegrees", NULL } },
    { "Control", (const char *const[]){ "ControlMode", "SetPoint", "SettingMin", "SettingMax",
        "AllowableNumericValues", "SetPointUnits", "AllowableMax", "AllowableMin",
        "ControlLoop", "ReadingUnits", "DefaultSetPoint", NULL } },
    { "LeakDetector", (const char *const[]){ "DetectorState", "PhysicalContext",
        "PhysicalSubContext", "DeviceName", NULL } },
    { "Job", (const char *const[]){ "JobState", "PercentComplete", "EstimatedCompletionTime",
        NULL } },
};

static bool gh_redfish_is_dollar(gh_str name)
{
    return (name.len > 0 && name.data[0] == '$') ||
           (name.len >= 3 && name.data[0] == '%' && name.data[1] == '2' && name.data[2] == '4');
}

gh_redfish_query_result gh_redfish_query_parse(gh_str q, gh_redfish_query *out)
{
    gh_redfish_query_result rc = GH_RF_QUERY_OK;
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    while (q.data != NULL && i < q.len) {
        gh_str name = { q.data + i, 0 };
        gh_str value = { NULL, 0 };

        while (i < q.len && q.data[i] != '&' && q.data[i] != '=')
            i++;
        name.len = (size_t)(q.data + i - name.data);
        if (i < q.len && q.data[i] == '=') {
            value.data = q.data + ++i;
            while (i < q.len && q.data[i] != '&')
                i++;
            value.len = (size_t)(q.data + i - value.data);
        }
        i++;
        if (gh_redfish_is_dollar(name)) {
            out->others++;
            rc = GH_RF_QUERY_UNSUPPORTED;   /* the worst: answered before any other */
            continue;
        }
        if (!gh_str_eq(name, "only") && !gh_str_eq(name, "excerpt"))
            continue;
        out->only |= gh_str_eq(name, "only");
        out->excerpt |= gh_str_eq(name, "excerpt");
        /* "only=" sends no value either: what a client's empty parameter looks like. */
        if (value.len > 0 && rc == GH_RF_QUERY_OK) {
            rc = GH_RF_QUERY_BAD_VALUE;
            out->bad_name = name;
            out->bad_value = value;
        }
    }
    if (rc == GH_RF_QUERY_OK && out->only && (out->excerpt || out->others > 0))
        rc = GH_RF_QUERY_COMBINATION;
    return rc;
}

/* A query value quoted back: printable ASCII only, the rest as '?', so the
 * message stays valid JSON whatever bytes were sent. */
static void gh_redfish_query_text(gh_str v, char *out, size_t outlen)
{
    size_t n = v.len < outlen - 1 ? v.len : outlen - 1;

    for (size_t i = 0; i < n; i++)
        out[i] = (v.data[i] >= 0x20 && v.data[i] < 0x7f) ? v.data[i] : '?';
    out[n] = '\0';
}

void gh_redfish_query_fail(gh_response *resp, gh_redfish_query_result rc,
                           const gh_redfish_query *q)
{
    char name[16];
    char value[64];

    switch (rc) {
    case GH_RF_QUERY_UNSUPPORTED:
        gh_redfish_fail0(resp, 501, GH_RF_MSG_QUERY_NOT_SUPPORTED);
        break;
    case GH_RF_QUERY_BAD_VALUE:
        gh_redfish_query_text(q->bad_name, name, sizeof(name));
        gh_redfish_query_text(q->bad_value, value, sizeof(value));
        gh_redfish_fail(resp, 400, gh_redfish_msg2(GH_RF_MSG_QUERY_PARAMETER_VALUE_FORMAT_ERROR,
                                                   value, name));
        break;
    default:
        gh_redfish_fail0(resp, 400, GH_RF_MSG_QUERY_COMBINATION_INVALID);
        break;
    }
}

/* The reply's body as JSON, or NULL. */
static json_t *gh_redfish_reply_json(const gh_response *resp)
{
    if (resp->body == NULL || resp->body_len == 0)
        return NULL;
    return json_loadb(resp->body, resp->body_len, 0, NULL);
}

gh_redfish_only gh_redfish_only_member(const gh_response *resp, char *path, size_t pathlen)
{
    gh_redfish_only rc = GH_RF_ONLY_NOT_COLLECTION;
    json_t         *doc = gh_redfish_reply_json(resp);
    json_t         *members = json_object_get(doc, "Members");
    const char     *id;

    if (!json_is_array(members))
        goto done;
    rc = GH_RF_ONLY_KEEP;
    if (json_array_size(members) != 1)
        goto done;
    id = json_string_value(json_object_get(json_array_get(members, 0), "@odata.id"));
    if (id != NULL && strlen(id) < pathlen) {
        memcpy(path, id, strlen(id) + 1);
        rc = GH_RF_ONLY_MEMBER;
    }
done:
    json_decref(doc);
    return rc;
}

static const char *const *gh_redfish_excerpt_props(const json_t *doc)
{
    char schema[160];
    char *dot;

    if (!gh_redfish_schema_name(json_string_value(json_object_get(doc, "@odata.type")), schema,
                                sizeof(schema)))
        return NULL;
    dot = strchr(schema, '.');
    if (dot != NULL)
        *dot = '\0';
    for (size_t i = 0; i < sizeof(gh_redfish_excerpts) / sizeof(gh_redfish_excerpts[0]); i++) {
        if (strcmp(gh_redfish_excerpts[i].ns, schema) == 0)
            return gh_redfish_excerpts[i].props;
    }
    return NULL;
}

void gh_redfish_excerpt(gh_response *resp)
{
    json_t             *doc = gh_redfish_reply_json(resp);
    json_t             *ex = NULL;
    const char *const  *props = gh_redfish_excerpt_props(doc);
    const char         *key;
    json_t             *v;
    char               *text;
    size_t              len;

    if (props == NULL || (ex = json_object()) == NULL)
        goto done;
    json_object_foreach(doc, key, v) {
        bool keep = strncmp(key, "@odata.", 7) == 0 && strcmp(key, "@odata.etag") != 0;

        for (size_t i = 0; !keep && props[i] != NULL; i++)
            keep = strcmp(key, props[i]) == 0;
        if (keep && json_object_set(ex, key, v) != 0)
            goto done;
    }
    text = gh_json_text(ex, &len);
    if (text == NULL)
        goto done;
    /* Another representation: the whole resource's ETag does not name it. */
    gh_redfish_header_drop(resp, "ETag");
    gh_response_set_body(resp, text, len, GH_REDFISH_JSON_TYPE);
done:
    json_decref(ex);
    json_decref(doc);
}
