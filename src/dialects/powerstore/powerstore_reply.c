/*
 * powerstore_reply.c: how the PowerStore dialect answers: JSON bodies
 * (application/json, written as json_text.h writes every body), and the error body
 * {"messages":[{"code","severity","message_l10n","arguments"}]} with one
 * stable code per cause.
 *
 * The codes are gatehouse's own, in one scheme: "0xE1", the HTTP status in
 * three decimal digits, then a three-digit number within that status, so a
 * code says its status and never changes meaning (docs/powerstore.md lists
 * them). A status decided outside the dialect without a cause of its own gets
 * number 000. Arguments never hold a password or a token.
 */
#include "powerstore_internal.h"
#include "../common/json_text.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *code;
    int         status;
    const char *text;        /* "%s" where the argument goes, at most once */
} gh_ps_error_def;

/* Indexed by gh_ps_error. */
static const gh_ps_error_def gh_ps_errors[GH_PS_E_COUNT] = {
    [GH_PS_E_AUTH_REQUIRED] = { "0xE1401001", 401,
        "Authentication is required: send Basic credentials or the auth_cookie of a "
        "live session." },
    [GH_PS_E_BAD_CREDENTIALS] = { "0xE1401002", 401,
        "The user name or password is wrong, or the account may not log in." },
    [GH_PS_E_MALFORMED_AUTH] = { "0xE1400001", 400, "The %s header is malformed." },
    [GH_PS_E_BAD_JSON] = { "0xE1400002", 400, "The request body is not a JSON object." },
    [GH_PS_E_BAD_SELECT] = { "0xE1400003", 400, "The select query parameter is malformed." },
    [GH_PS_E_BAD_QUERY] = { "0xE1400004", 400,
        "The query parameter %s is not supported here or its value is malformed." },
    [GH_PS_E_BAD_PROPERTY] = { "0xE1400005", 400,
        "The property %s is unknown, read-only, or of the wrong type." },
    [GH_PS_E_MISSING_PROPERTY] = { "0xE1400006", 400, "The required property %s is missing." },
    [GH_PS_E_BAD_VALUE] = { "0xE1400007", 400, "The value of the property %s is not valid." },
    [GH_PS_E_WRONG_PASSWORD] = { "0xE1400008", 400,
        "The current_password does not match the password of the account." },
    [GH_PS_E_BAD_REQUEST] = { "0xE1400009", 400, "The request is malformed." },
    [GH_PS_E_CSRF] = { "0xE1403001", 403,
        "The DELL-EMC-TOKEN header is missing or does not belong to this session: send "
        "the value of the DELL-EMC-TOKEN response header of a GET." },
    [GH_PS_E_PRIVILEGE] = { "0xE1403002", 403,
        "The role of this account does not allow this operation." },
    [GH_PS_E_PASSWORD_CHANGE] = { "0xE1403003", 403,
        "The password of this account must be changed first: PATCH /api/rest/local_user/%s "
        "with current_password and password." },
    [GH_PS_E_PLAIN_HTTP] = { "0xE1403004", 403, "Credentials are accepted over HTTPS only." },
    [GH_PS_E_NOT_FOUND] = { "0xE1404001", 404, "The resource %s does not exist." },
    [GH_PS_E_METHOD] = { "0xE1405001", 405, "The method %s is not allowed on this resource." },
    [GH_PS_E_NOT_ACCEPTABLE] = { "0xE1406001", 406,
        "The response is available as application/json only." },
    [GH_PS_E_TIMEOUT] = { "0xE1408001", 408, "The request took too long to arrive." },
    [GH_PS_E_CONFLICT] = { "0xE1409001", 409,
        "The account changed while this request was served; send it again." },
    [GH_PS_E_TOO_LARGE] = { "0xE1413001", 413, "The request body is too large." },
    [GH_PS_E_URI_TOO_LONG] = { "0xE1414001", 414, "The request URI is too long." },
    [GH_PS_E_MEDIA_TYPE] = { "0xE1415001", 415,
        "A request body must be sent with Content-Type: application/json." },
    [GH_PS_E_RANGE] = { "0xE1416001", 416,
        "The requested range, offset or limit lies outside the collection." },
    [GH_PS_E_BUILT_IN] = { "0xE1422001", 422,
        "The built-in account %s cannot be deleted, locked or given another role." },
    [GH_PS_E_SELF] = { "0xE1422002", 422,
        "An account cannot delete or lock itself or change its own role." },
    [GH_PS_E_NAME_EXISTS] = { "0xE1422003", 422, "A user named %s exists already." },
    [GH_PS_E_LDAP_EXISTS] = { "0xE1422004", 422,
        "%s exists already: an LDAP domain of that name, or an LDAP account of that DN." },
    [GH_PS_E_LDAP_REFUSED] = { "0xE1400010", 400,
        "The LDAP settings were refused: %s." },
    [GH_PS_E_LDAP_VERIFY] = { "0xE1422006", 422,
        "The LDAP domain did not verify: %s." },
    [GH_PS_E_TOO_MANY] = { "0xE1429001", 429, "Too many requests; retry later." },
    [GH_PS_E_HEADERS_TOO_LARGE] = { "0xE1431001", 431, "The request headers are too large." },
    [GH_PS_E_INTERNAL] = { "0xE1500001", 500, "The request failed inside the service." },
    [GH_PS_E_BAD_GATEWAY] = { "0xE1502001", 502, "The management service answered badly." },
    [GH_PS_E_UNAVAILABLE] = { "0xE1503001", 503,
        "The service is unavailable for the moment; retry later." },
    [GH_PS_E_SESSION_LIMIT] = { "0xE1503002", 503,
        "Too many sessions are open; log out of unused sessions or retry later." },
    [GH_PS_E_GATEWAY_TIMEOUT] = { "0xE1504001", 504,
        "The management service did not answer in time." },
};

const char *gh_ps_error_code(gh_ps_error e)
{
    return (unsigned)e < GH_PS_E_COUNT ? gh_ps_errors[e].code : gh_ps_errors[GH_PS_E_INTERNAL].code;
}

int gh_ps_error_status(gh_ps_error e)
{
    return (unsigned)e < GH_PS_E_COUNT ? gh_ps_errors[e].status : 500;
}

void gh_ps_reply(gh_response *resp, int status, json_t *body)
{
    if (gh_json_reply(resp, status, body, GH_PS_JSON_TYPE) != 0) {
        resp->status = 500;
        gh_response_set_body(resp, NULL, 0, NULL);
    }
}

/* The body of one message; NULL when out of memory. */
static json_t *gh_ps_error_body(const char *code, const char *text, const char *arg)
{
    json_t *args = json_array();
    json_t *body;

    if (args != NULL && arg != NULL)
        json_array_append_new(args, json_string(arg));
    body = json_pack("{s:[{s:s, s:s, s:s, s:o}]}", "messages",
                     "code", code, "severity", "Error", "message_l10n", text,
                     "arguments", args);
    return body;
}

static void gh_ps_fail_text(gh_response *resp, int status, const char *code, const char *fmt,
                            const char *arg)
{
    char text[512];
    char safe[128];

    /* An argument is a name, a path or a number the client sent: cut it to
     * a length a message can hold, keep it printable ASCII (JSON strings
     * must be UTF-8), and never let it be read as a format. */
    snprintf(safe, sizeof(safe), "%s", arg != NULL ? arg : "-");
    for (char *p = safe; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    }
    if (strstr(fmt, "%s") != NULL)
        snprintf(text, sizeof(text), fmt, safe);
    else
        snprintf(text, sizeof(text), "%s", fmt);
    gh_ps_reply(resp, status, gh_ps_error_body(code, text, arg != NULL ? safe : NULL));
    if (status == 401)
        gh_response_header_add(resp, "WWW-Authenticate", "Basic realm=\"PowerStore\"");
    else if (status == 503)
        gh_response_header_add(resp, "Retry-After", "%d", GH_PS_RETRY_AFTER);
}

void gh_ps_fail(gh_response *resp, gh_ps_error e, const char *arg)
{
    const gh_ps_error_def *d = &gh_ps_errors[(unsigned)e < GH_PS_E_COUNT ? e : GH_PS_E_INTERNAL];

    gh_ps_fail_text(resp, d->status, d->code, d->text, arg);
}

void gh_ps_fail_status(gh_response *resp, int status, const char *path, const char *method,
                       const char *allow)
{
    char code[16];

    if (status < 400 || status > 599)
        status = 500;
    /* The cause nginx or the adapter had for the status, where it has one. */
    for (int e = 0; e < GH_PS_E_COUNT; e++) {
        if (gh_ps_errors[e].status != status)
            continue;
        switch (e) {
        case GH_PS_E_NOT_FOUND:
            gh_ps_fail(resp, GH_PS_E_NOT_FOUND, path != NULL && path[0] != '\0' ? path : "/");
            return;
        case GH_PS_E_METHOD:
            gh_ps_fail(resp, GH_PS_E_METHOD, method != NULL && method[0] != '\0' ? method : "?");
            if (allow != NULL && allow[0] != '\0')
                gh_response_header_add(resp, "Allow", "%s", allow);
            return;
        case GH_PS_E_BAD_REQUEST: case GH_PS_E_TIMEOUT: case GH_PS_E_TOO_LARGE:
        case GH_PS_E_URI_TOO_LONG: case GH_PS_E_TOO_MANY: case GH_PS_E_HEADERS_TOO_LARGE:
        case GH_PS_E_INTERNAL: case GH_PS_E_BAD_GATEWAY: case GH_PS_E_UNAVAILABLE:
        case GH_PS_E_GATEWAY_TIMEOUT:
            gh_ps_fail(resp, (gh_ps_error)e, NULL);
            return;
        default:
            break;
        }
    }
    snprintf(code, sizeof(code), "0xE1%03d000", status);
    gh_ps_fail_text(resp, status, code, "The request cannot be served.", NULL);
}

bool gh_ps_need_store(const gh_ps_ctx *c)
{
    if (c->svc != NULL && c->svc->store != NULL)
        return true;
    gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
    return false;
}

json_t *gh_ps_body(const gh_ps_ctx *c)
{
    json_error_t err;
    json_t      *body = NULL;
    gh_str       b = c->req->body;

    if (b.len > GH_PS_BODY_MAX) {
        gh_ps_fail(c->resp, GH_PS_E_TOO_LARGE, NULL);
        return NULL;
    }
    if (b.data != NULL && b.len > 0)
        body = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(body)) {
        json_decref(body);
        gh_ps_fail(c->resp, GH_PS_E_BAD_JSON, NULL);
        return NULL;
    }
    return body;
}
