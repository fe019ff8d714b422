/*
 * redfish_headers.c: the response headers that describe a Redfish resource
 * rather than the request's outcome (DSP0266 "Response headers"):
 *
 *   Allow: the methods the resource really supports, on every successful GET
 *     or HEAD as on a 405 (RFC 9110), whoever asks: the privileges of the
 *     requester decide what they may do, not what the resource is.
 *   Link: <schema>; rel=describedby: the JSON schema named by the body's
 *     @odata.type, versioned when the type is ("#ServiceRoot.v1_5_0.ServiceRoot"
 *     -> ServiceRoot.v1_5_0.json), at DMTF's schema URI, the identifier the
 *     schema files give themselves and the URIs $metadata references.
 *
 * Both are derived from what is sent, so a new resource carries them without
 * a table to keep in step.
 */
#include "redfish_internal.h"

#include <string.h>
#include <strings.h>

#define GH_REDFISH_SCHEMA_BASE "http://redfish.dmtf.org/schemas/v1/"
#define GH_REDFISH_TYPE_PART_MAX 64   /* bytes of a namespace or version we name */

bool gh_redfish_has_header(const gh_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return true;
    }
    return false;
}

/* The arena keeps the dropped values' bytes until the response is freed,
 * which wipes them: a response holds few headers, none dropped twice. */
void gh_redfish_header_drop(gh_response *resp, const char *name)
{
    size_t o = 0;

    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, name) != 0)
            resp->headers[o++] = resp->headers[i];
    }
    resp->nheaders = o;
}

void gh_redfish_allow_add(gh_response *resp, unsigned methods)
{
    char allow[64];

    if (gh_redfish_has_header(resp, "Allow"))
        return;   /* the handler knew better (the built-in account) */
    gh_allow_text(methods, allow, sizeof(allow));
    gh_response_header_add(resp, "Allow", "%s", allow);
}

/* One part of an @odata.type: letters, digits and '_' only, so a bundled
 * file's odd type can never reach a header. Its length, or 0. */
static size_t gh_redfish_type_part(const char *s)
{
    size_t n = 0;

    while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
           (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
        n++;
    return n <= GH_REDFISH_TYPE_PART_MAX ? n : 0;
}

/* Copy n bytes of s and a NUL to out, if they fit. */
static bool gh_redfish_put(char *out, size_t outlen, const char *s, size_t n)
{
    if (n >= outlen)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* Written without printf: it runs for every resource sent. */
bool gh_redfish_schema_name(const char *type, char *out, size_t outlen)
{
    size_t ns, ver, term;

    if (type == NULL || type[0] != '#' || outlen == 0)
        return false;
    type++;
    ns = gh_redfish_type_part(type);
    if (ns == 0 || type[ns] != '.')
        return false;
    ver = gh_redfish_type_part(type + ns + 1);
    if (ver == 0)
        return false;
    if (type[ns + 1 + ver] == '\0')   /* "#SessionCollection.SessionCollection" */
        return gh_redfish_put(out, outlen, type, ns);
    term = gh_redfish_type_part(type + ns + ver + 2);
    if (type[ns + 1 + ver] != '.' || term == 0 || type[ns + ver + 2 + term] != '\0' ||
        type[ns + 1] != 'v')
        return false;
    return gh_redfish_put(out, outlen, type, ns + 1 + ver);
}

void gh_redfish_describedby_add(gh_response *resp, const json_t *doc)
{
    static const char head[] = "<" GH_REDFISH_SCHEMA_BASE;
    static const char tail[] = ".json>; rel=describedby";
    char   link[sizeof(head) + 2 * GH_REDFISH_TYPE_PART_MAX + sizeof(tail) + 2];
    size_t n;

    /* A response gets one body, so one Link: no need to look for another. */
    if (!gh_redfish_schema_name(json_string_value(json_object_get(doc, "@odata.type")),
                                link + sizeof(head) - 1, 2 * GH_REDFISH_TYPE_PART_MAX + 2))
        return;
    memcpy(link, head, sizeof(head) - 1);
    n = strlen(link);
    memcpy(link + n, tail, sizeof(tail));
    gh_response_header_add(resp, "Link", "%s", link);
}
