/*
 * redfish_errors.c: how the Redfish dialect speaks: the DMTF Base registry
 * messages it uses, the error envelope DSP0266 prescribes
 * ({"error":{"code","message","@Message.ExtendedInfo":[...]}}), the headers
 * every response carries, and the checks of a PATCH or POST body against the
 * properties a resource knows. Message texts are the registry's own, with
 * %1.. filled from MessageArgs, because clients show them to people and
 * conformance tools compare them.
 */
#include "redfish_internal.h"
#include "../common/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GH_REDFISH_REGISTRY "Base.1.15.0."
#define GH_REDFISH_MSG_TEXT_MAX 1024
#define GH_REDFISH_ARG_MAX 64        /* bytes of a value quoted back in a message */
#define GH_REDFISH_ARGS_MAX 3        /* MessageArgs of the longest message we use */
#define GH_REDFISH_ERRORS_MAX 16     /* messages one body check reports */

typedef struct {
    const char *id;
    const char *text;
    const char *severity;
    const char *resolution;
    size_t      nargs;
} gh_redfish_msg_def;

/* Indexed by gh_redfish_msg. */
static const gh_redfish_msg_def gh_redfish_msgs[GH_RF_MSG_COUNT] = {
    [GH_RF_MSG_ACCOUNT_REMOVED] = { "AccountRemoved",
        "The account was successfully removed.", "OK", "No resolution is required.", 0 },
    [GH_RF_MSG_EMPTY_JSON] = { "EmptyJSON",
        "The request body submitted contained an empty JSON object and the service is unable "
        "to process it.", "Warning", "Add properties in the JSON object and resubmit the request.", 0 },
    [GH_RF_MSG_GENERAL_ERROR] = { "GeneralError",
        "A general error has occurred.  See Resolution for information on how to resolve the "
        "error, or @Message.ExtendedInfo if Resolution is not provided.", "Critical", "None.", 0 },
    [GH_RF_MSG_HEADER_INVALID] = { "HeaderInvalid",
        "Header '%1' is invalid.", "Critical",
        "Resubmit the request with a valid request header.", 1 },
    [GH_RF_MSG_INSUFFICIENT_PRIVILEGE] = { "InsufficientPrivilege",
        "There are insufficient privileges for the account or credentials associated with the "
        "current session to perform the requested operation.", "Critical",
        "Either abandon the operation or change the associated access rights and resubmit the "
        "request if the operation failed.", 0 },
    [GH_RF_MSG_INTERNAL_ERROR] = { "InternalError",
        "The request failed due to an internal service error.  The service is still "
        "operational.", "Critical",
        "Resubmit the request.  If the problem persists, consider resetting the service.", 0 },
    [GH_RF_MSG_MALFORMED_JSON] = { "MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the "
        "receiving service.", "Critical",
        "Ensure that the request body is valid JSON and resubmit the request.", 0 },
    [GH_RF_MSG_NO_OPERATION] = { "NoOperation",
        "The request body submitted contain no data to act upon and no changes to the resource "
        "took place.", "Warning", "Add properties in the JSON object and resubmit the request.", 0 },
    [GH_RF_MSG_NO_VALID_SESSION] = { "NoValidSession",
        "There is no valid session established with the implementation.", "Critical",
        "Establish a session before attempting any operations.", 0 },
    [GH_RF_MSG_OPERATION_FAILED] = { "OperationFailed",
        "An error occurred internal to the service as part of the overall request.  Partial "
        "results may have been returned.", "Warning",
        "Resubmit the request.  If the problem persists, consider resetting the service or "
        "provider.", 0 },
    [GH_RF_MSG_OPERATION_NOT_ALLOWED] = { "OperationNotAllowed",
        "The HTTP method is not allowed on this resource.", "Critical", "None.", 0 },
    /* "occured" is the registry's own spelling: clients compare the text. */
    [GH_RF_MSG_OPERATION_TIMEOUT] = { "OperationTimeout",
        "A timeout internal to the service occured as part of the request.  Partial results "
        "may have been returned.", "Warning",
        "Resubmit the request.  If the problem persists, consider resetting the service or "
        "provider.", 0 },
    [GH_RF_MSG_PASSWORD_CHANGE_REQUIRED] = { "PasswordChangeRequired",
        "The password provided for this account must be changed before access is granted.  "
        "PATCH the Password property for this account located at the target URI '%1' to "
        "complete this process.", "Critical",
        "Change the password for this account using a PATCH to the Password property at the "
        "URI provided.", 1 },
    [GH_RF_MSG_PAYLOAD_TOO_LARGE] = { "PayloadTooLarge",
        "The supplied payload exceeds the maximum size supported by the service.", "Critical",
        "Check that the supplied payload is correct and supported by this service.", 0 },
    [GH_RF_MSG_PRECONDITION_FAILED] = { "PreconditionFailed",
        "The ETag supplied did not match the ETag required to change this resource.",
        "Critical", "Try the operation again using the appropriate ETag.", 0 },
    [GH_RF_MSG_PROPERTY_MISSING] = { "PropertyMissing",
        "The property %1 is a required property and must be included in the request.",
        "Warning", "Ensure that the property is in the request body and has a valid value and "
        "resubmit the request if the operation failed.", 1 },
    [GH_RF_MSG_PROPERTY_NOT_WRITABLE] = { "PropertyNotWritable",
        "The property %1 is a read only property and cannot be assigned a value.", "Warning",
        "Remove the property from the request body and resubmit the request if the operation "
        "failed.", 1 },
    [GH_RF_MSG_PROPERTY_UNKNOWN] = { "PropertyUnknown",
        "The property %1 is not in the list of valid properties for the resource.", "Warning",
        "Remove the unknown property from the request body and resubmit the request if the "
        "operation failed.", 1 },
    [GH_RF_MSG_PROPERTY_VALUE_CONFLICT] = { "PropertyValueConflict",
        "The property '%1' could not be written because its value would conflict with the "
        "value of the '%2' property.", "Warning", "No resolution is required.", 2 },
    [GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR] = { "PropertyValueFormatError",
        "The value '%1' for the property %2 is of a different format than the property can "
        "accept.", "Warning", "Correct the value for the property in the request body and "
        "resubmit the request if the operation failed.", 2 },
    [GH_RF_MSG_PROPERTY_VALUE_INCORRECT] = { "PropertyValueIncorrect",
        "The property '%1' with the requested value of '%2' could not be written because the "
        "value does not meet the constraints of the implementation.", "Warning",
        "No resolution is required.", 2 },
    [GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST] = { "PropertyValueNotInList",
        "The value '%1' for the property %2 is not in the list of acceptable values.",
        "Warning", "Choose a value from the enumeration list that the implementation can "
        "support and resubmit the request if the operation failed.", 2 },
    [GH_RF_MSG_PROPERTY_VALUE_OUT_OF_RANGE] = { "PropertyValueOutOfRange",
        "The value '%1' for the property %2 is not in the supported range of acceptable "
        "values.", "Warning", "Correct the value for the property in the request body and "
        "resubmit the request if the operation failed.", 2 },
    [GH_RF_MSG_PROPERTY_VALUE_TYPE_ERROR] = { "PropertyValueTypeError",
        "The value '%1' for the property %2 is of a different type than the property can "
        "accept.", "Warning", "Correct the value for the property in the request body and "
        "resubmit the request if the operation failed.", 2 },
    [GH_RF_MSG_QUERY_COMBINATION_INVALID] = { "QueryCombinationInvalid",
        "Two or more query parameters in the request cannot be used together.", "Warning",
        "Remove one or more of the query parameters and resubmit the request if the operation "
        "failed.", 0 },
    [GH_RF_MSG_QUERY_NOT_SUPPORTED] = { "QueryNotSupported",
        "Querying is not supported by the implementation.", "Warning",
        "Remove the query parameters and resubmit the request if the operation failed.", 0 },
    [GH_RF_MSG_QUERY_NOT_SUPPORTED_ON_RESOURCE] = { "QueryNotSupportedOnResource",
        "Querying is not supported on the requested resource.", "Warning",
        "Remove the query parameters and resubmit the request if the operation failed.", 0 },
    [GH_RF_MSG_QUERY_PARAMETER_VALUE_FORMAT_ERROR] = { "QueryParameterValueFormatError",
        "The value '%1' for the parameter %2 is of a different format than the parameter can "
        "accept.", "Warning", "Correct the value for the query parameter in the request and "
        "resubmit the request if the operation failed.", 2 },
    [GH_RF_MSG_RESOURCE_ALREADY_EXISTS] = { "ResourceAlreadyExists",
        "The requested resource of type %1 with the property %2 with the value '%3' already "
        "exists.", "Critical", "Do not repeat the create operation as the resource has already "
        "been created.", 3 },
    [GH_RF_MSG_RESOURCE_AT_URI_UNAUTHORIZED] = { "ResourceAtUriUnauthorized",
        "While accessing the resource at '%1', the service received an authorization error "
        "'%2'.", "Critical", "Ensure that the appropriate access is provided for the service "
        "in order for it to access the URI.", 2 },
    [GH_RF_MSG_RESOURCE_CANNOT_BE_DELETED] = { "ResourceCannotBeDeleted",
        "The delete request failed because the resource requested cannot be deleted.",
        "Critical", "Do not attempt to delete a non-deletable resource.", 0 },
    [GH_RF_MSG_RESOURCE_MISSING_AT_URI] = { "ResourceMissingAtURI",
        "The resource at the URI '%1' was not found.", "Critical",
        "Place a valid resource at the URI or correct the URI and resubmit the request.", 1 },
    [GH_RF_MSG_RESOURCE_NOT_FOUND] = { "ResourceNotFound",
        "The requested resource of type %1 named '%2' was not found.", "Critical",
        "Provide a valid resource identifier and resubmit the request.", 2 },
    [GH_RF_MSG_SERVICE_TEMPORARILY_UNAVAILABLE] = { "ServiceTemporarilyUnavailable",
        "The service is temporarily unavailable.  Retry in %1 seconds.", "Critical",
        "Wait for the indicated retry duration and retry the operation.", 1 },
    [GH_RF_MSG_SESSION_LIMIT_EXCEEDED] = { "SessionLimitExceeded",
        "The session establishment failed due to the number of simultaneous sessions "
        "exceeding the limit of the implementation.", "Critical",
        "Reduce the number of other sessions before trying to establish the session or "
        "increase the limit of simultaneous sessions, if supported.", 0 },
};

/* Copy at most outlen - 1 bytes of in, never splitting a UTF-8 sequence, so
 * a clipped value is still a valid JSON string. */
static void gh_redfish_clip(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);

    if (n >= outlen) {
        n = outlen - 1;
        while (n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, in, n);
    out[n] = '\0';
}

/* Fill %1..%9 of a registry text; an argument past nargs stays as written. */
static void gh_redfish_fill(const char *text, const char *const *args, size_t nargs,
                            char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *p = text; *p != '\0' && o + 1 < outlen; p++) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '9' && (size_t)(p[1] - '1') < nargs) {
            const char *a = args[p[1] - '1'] != NULL ? args[p[1] - '1'] : "";

            while (*a != '\0' && o + 1 < outlen)
                out[o++] = *a++;
            p++;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
}

json_t *gh_redfish_message(gh_redfish_msg id, const char *const *args, size_t nargs)
{
    const gh_redfish_msg_def *d;
    char        clipped[GH_REDFISH_ARGS_MAX][GH_REDFISH_ARG_MAX + 1];
    const char *a[GH_REDFISH_ARGS_MAX];
    char        text[GH_REDFISH_MSG_TEXT_MAX];
    char        msgid[96];
    json_t     *m = NULL;
    json_t     *margs = NULL;

    if ((unsigned)id >= GH_RF_MSG_COUNT)
        id = GH_RF_MSG_GENERAL_ERROR;
    d = &gh_redfish_msgs[id];
    if (nargs > d->nargs)
        nargs = d->nargs;
    if (nargs > GH_REDFISH_ARGS_MAX)
        nargs = GH_REDFISH_ARGS_MAX;
    /* Arguments may come from the request (a property name): bounded here so
     * no message grows past its text buffer. */
    for (size_t i = 0; i < nargs; i++) {
        gh_redfish_clip(args[i] != NULL ? args[i] : "", clipped[i], sizeof(clipped[i]));
        a[i] = clipped[i];
    }
    args = a;
    gh_redfish_fill(d->text, args, nargs, text, sizeof(text));
    snprintf(msgid, sizeof(msgid), GH_REDFISH_REGISTRY "%s", d->id);

    margs = json_array();
    if (margs == NULL)
        goto done;
    for (size_t i = 0; i < nargs; i++) {
        if (json_array_append_new(margs, json_string(args[i])) != 0)
            goto done;
    }
    /* Severity is deprecated for MessageSeverity in Message v1_1_0, but
     * clients in the field (sushy) still read it: send both. */
    m = json_pack("{s:s, s:s, s:s, s:O, s:s, s:s, s:s}",
                  "@odata.type", "#Message.v1_1_1.Message",
                  "MessageId", msgid,
                  "Message", text,
                  "MessageArgs", margs,
                  "MessageSeverity", d->severity,
                  "Severity", d->severity,
                  "Resolution", d->resolution);
done:
    json_decref(margs);
    return m;
}

void gh_redfish_msg_append(json_t *list, json_t *msg)
{
    /* json_array_append_new releases msg itself when it fails. */
    if (list == NULL)
        json_decref(msg);
    else if (msg != NULL)
        (void)json_array_append_new(list, msg);
}

/* A resource (a body with @odata.type) is sent with the Link to its schema. */
json_t *gh_redfish_collection(const char *id, const char *type, const char *name,
                              const char *description, json_t *members)
{
    if (members == NULL)
        return NULL;
    if (description == NULL)
        return json_pack("{s:s, s:s, s:s, s:I, s:O}", "@odata.id", id, "@odata.type", type,
                         "Name", name,
                         "Members@odata.count", (json_int_t)json_array_size(members),
                         "Members", members);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:O}", "@odata.id", id, "@odata.type", type,
                     "Name", name, "Description", description,
                     "Members@odata.count", (json_int_t)json_array_size(members),
                     "Members", members);
}

void gh_redfish_reply(gh_response *resp, int status, json_t *body)
{
    json_incref(body);                  /* kept for the Link after the text */
    if (gh_json_reply(resp, status, body, GH_REDFISH_JSON_TYPE) != 0) {
        resp->status = 500;
        gh_response_set_body(resp, NULL, 0, NULL);
    } else if (status >= 200 && status < 300) {
        gh_redfish_describedby_add(resp, body);
    }
    json_decref(body);
}

/* DSP0266: one message gives the error its code and text; several give
 * GeneralError at the top and every message in @Message.ExtendedInfo. */
void gh_redfish_fail(gh_response *resp, int status, json_t *msgs)
{
    json_t     *list = NULL;
    json_t     *first;
    json_t     *body = NULL;
    const char *code;
    const char *text;
    char        general[96];

    if (json_is_array(msgs)) {
        list = msgs;
    } else {
        list = json_array();
        gh_redfish_msg_append(list, msgs);
    }
    msgs = NULL;
    if (list == NULL || json_array_size(list) == 0)
        gh_redfish_msg_append(list, gh_redfish_msg0(GH_RF_MSG_GENERAL_ERROR));
    first = json_array_get(list, 0);
    if (first == NULL)
        goto done;
    code = json_string_value(json_object_get(first, "MessageId"));
    text = json_string_value(json_object_get(first, "Message"));
    if (json_array_size(list) > 1) {
        snprintf(general, sizeof(general), GH_REDFISH_REGISTRY "%s",
                 gh_redfish_msgs[GH_RF_MSG_GENERAL_ERROR].id);
        code = general;
        text = "A general error has occurred.  See ExtendedInfo for more information.";
    }
    body = json_pack("{s:{s:s, s:s, s:O}}", "error", "code", code, "message", text,
                     "@Message.ExtendedInfo", list);
done:
    json_decref(list);
    gh_redfish_reply(resp, status, body);
}

void gh_redfish_fail_unavailable(gh_response *resp)
{
    char secs[16];

    snprintf(secs, sizeof(secs), "%d", GH_REDFISH_RETRY_AFTER);
    gh_redfish_fail1(resp, 503, GH_RF_MSG_SERVICE_TEMPORARILY_UNAVAILABLE, secs);
    gh_response_header_add(resp, "Retry-After", "%d", GH_REDFISH_RETRY_AFTER);
}

void gh_redfish_fail_throttled(gh_response *resp, int64_t seconds)
{
    char secs[24];

    snprintf(secs, sizeof(secs), "%lld", (long long)gh_response_retry_after(resp, seconds));
    gh_redfish_fail1(resp, 429, GH_RF_MSG_SERVICE_TEMPORARILY_UNAVAILABLE, secs);
}

void gh_redfish_fail_plain_http(gh_response *resp)
{
    json_t *msg = gh_redfish_msg0(GH_RF_MSG_GENERAL_ERROR);

    if (msg != NULL)
        json_object_set_new(msg, "Resolution",
                            json_string("Connect over HTTPS: credentials are not accepted over "
                                        "plain HTTP."));
    gh_redfish_fail(resp, 403, msg);
}

void gh_redfish_fail_privilege(gh_response *resp)
{
    gh_redfish_fail0(resp, 403, GH_RF_MSG_INSUFFICIENT_PRIVILEGE);
}

void gh_redfish_fail_not_found(gh_response *resp, const char *path)
{
    gh_redfish_fail1(resp, 404, GH_RF_MSG_RESOURCE_MISSING_AT_URI, path);
}

void gh_redfish_fail_password_change(gh_response *resp, int64_t account_id)
{
    char uri[sizeof(GH_REDFISH_ACCOUNTS) + 24];

    snprintf(uri, sizeof(uri), GH_REDFISH_ACCOUNTS "/%lld", (long long)account_id);
    gh_redfish_fail1(resp, 403, GH_RF_MSG_PASSWORD_CHANGE_REQUIRED, uri);
}

void gh_redfish_fail_method(gh_response *resp, const char *allow)
{
    gh_redfish_fail0(resp, 405, GH_RF_MSG_OPERATION_NOT_ALLOWED);
    gh_response_header_add(resp, "Allow", "%s", allow);
}

void gh_redfish_fail_no_change(gh_response *resp, const json_t *body)
{
    gh_redfish_fail0(resp, 400, json_object_size(body) == 0 ? GH_RF_MSG_EMPTY_JSON
                                                            : GH_RF_MSG_NO_OPERATION);
}

/* The Base registry has no message for a malformed request line, an
 * oversized URI or header, or a client over its concurrency limit: those get
 * GeneralError, which DMTF asks to carry a Resolution of the service's own. */
static const char *gh_redfish_general_resolution(int status)
{
    switch (status) {
    case 400: return "The request line or a header was malformed, or the headers exceeded the "
                     "size the service accepts.  Correct the request and resubmit it.";
    case 408: return "The request was not received in time.  Resubmit it without pausing.";
    case 414: return "The URI exceeds the length the service accepts.  Shorten the URI and "
                     "resubmit the request.";
    case 429: return "Too many requests from this client are in progress.  Wait for some to "
                     "finish and resubmit the request.";
    case 431: return "The request headers exceed the size the service accepts.  Shorten them "
                     "and resubmit the request.";
    default:  return "Correct the request and resubmit it.";
    }
}

void gh_redfish_fail_status(gh_response *resp, int status, const char *path, const char *allow)
{
    json_t *msg;

    if (status < 400 || status > 599)
        status = 500;
    switch (status) {
    case 404: gh_redfish_fail_not_found(resp, path != NULL ? path : ""); return;
    case 405: gh_redfish_fail_method(resp, allow != NULL ? allow : ""); return;
    case 413: gh_redfish_fail0(resp, 413, GH_RF_MSG_PAYLOAD_TOO_LARGE); return;
    case 502: gh_redfish_fail0(resp, 502, GH_RF_MSG_OPERATION_FAILED); return;
    case 503: gh_redfish_fail_unavailable(resp); return;
    case 504: gh_redfish_fail0(resp, 504, GH_RF_MSG_OPERATION_TIMEOUT); return;
    default:  break;
    }
    if (status >= 500) {
        gh_redfish_fail0(resp, status, GH_RF_MSG_INTERNAL_ERROR);
        return;
    }
    msg = gh_redfish_msg0(GH_RF_MSG_GENERAL_ERROR);
    if (msg != NULL)
        json_object_set_new(msg, "Resolution", json_string(gh_redfish_general_resolution(status)));
    gh_redfish_fail(resp, status, msg);
    /* DSP0266 asks for Retry-After on 429; a slot frees as soon as one
     * request of the client ends. */
    if (status == 429)
        gh_response_header_add(resp, "Retry-After", "1");
}

void gh_redfish_value_text(const json_t *v, char *out, size_t outlen)
{
    char *dump;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (json_is_string(v)) {
        gh_redfish_clip(json_string_value(v), out, outlen);
        return;
    }
    dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (dump != NULL)
        gh_redfish_clip(dump, out, outlen);
    free(dump);
}

static bool gh_redfish_prop_type_ok(const json_t *v, gh_redfish_prop_kind kind)
{
    switch (kind) {
    case GH_RF_PROP_STRING:  return json_is_string(v);
    case GH_RF_PROP_INTEGER: return json_is_integer(v);
    case GH_RF_PROP_BOOLEAN: return json_is_boolean(v);
    case GH_RF_PROP_ARRAY:   return json_is_array(v);
    case GH_RF_PROP_OBJECT:  return json_is_object(v);
    default:                 return false;
    }
}

size_t gh_redfish_props_check(const json_t *body, const gh_redfish_prop *props, size_t n,
                              json_t *errors)
{
    const char *key;
    json_t     *value;
    size_t      bad = 0;

    json_object_foreach((json_t *)body, key, value) {
        const gh_redfish_prop *p = NULL;
        char text[GH_REDFISH_ARG_MAX + 8];

        /* A body of thousands of unknown keys gets a bounded answer. */
        if (bad == GH_REDFISH_ERRORS_MAX)
            break;
        /* Annotations (@odata.etag, Members@odata.count, ...) describe, never set. */
        if (strchr(key, '@') != NULL)
            continue;
        for (size_t i = 0; i < n && p == NULL; i++) {
            if (strcmp(props[i].name, key) == 0)
                p = &props[i];
        }
        if (p == NULL) {
            gh_redfish_msg_append(errors, gh_redfish_msg1(GH_RF_MSG_PROPERTY_UNKNOWN, key));
        } else if (p->kind == GH_RF_PROP_READONLY) {
            gh_redfish_msg_append(errors, gh_redfish_msg1(GH_RF_MSG_PROPERTY_NOT_WRITABLE, key));
        } else if (!gh_redfish_prop_type_ok(value, p->kind)) {
            if (p->secret)
                snprintf(text, sizeof(text), "%s", "******");
            else
                gh_redfish_value_text(value, text, sizeof(text));
            gh_redfish_msg_append(errors,
                                  gh_redfish_msg2(GH_RF_MSG_PROPERTY_VALUE_TYPE_ERROR, text, key));
        } else {
            continue;
        }
        bad++;
    }
    return bad;
}
