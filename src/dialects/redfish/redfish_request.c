/*
 * redfish_request.c: what every Redfish handler asks of the request it
 * serves, below the handlers and the router alike: may the principal do
 * this, is the store there, the body as a JSON object, does an If-Match or
 * If-None-Match list name an ETag, and the time stamps replies carry. A
 * refusal here is made with the replies of redfish_errors.c.
 */
#include "redfish_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool gh_redfish_may(const gh_redfish_ctx *c, gh_policy_op op, bool own)
{
    gh_policy_subject who = gh_policy_subject_of(c->who);

    return gh_policy_allows(&who, (gh_policy_act){ .op = op, .own = own }, NULL);
}

bool gh_redfish_may_touch(const gh_redfish_ctx *c, gh_role role)
{
    gh_policy_subject who = gh_policy_subject_of(c->who);

    return gh_policy_allows(&who, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                   .target = gh_role_privileges(role) }, NULL);
}

bool gh_redfish_need_store(const gh_redfish_ctx *c)
{
    if (c->svc != NULL && c->svc->store != NULL)
        return true;
    gh_redfish_fail_unavailable(c->resp);
    return false;
}

json_t *gh_redfish_body(const gh_redfish_ctx *c)
{
    json_error_t err;
    json_t      *body = NULL;
    gh_str       b = c->req->body;

    if (b.len > GH_REDFISH_BODY_MAX) {
        gh_redfish_fail0(c->resp, 413, GH_RF_MSG_PAYLOAD_TOO_LARGE);
        return NULL;
    }
    if (b.data != NULL && b.len > 0)
        body = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(body)) {
        json_decref(body);
        gh_redfish_fail0(c->resp, 400, GH_RF_MSG_MALFORMED_JSON);
        return NULL;
    }
    return body;
}

bool gh_redfish_etag_listed(gh_str h, const char *etag)
{
    size_t i = 0;

    if (h.data == NULL || etag == NULL)
        return false;
    while (i < h.len) {
        size_t s, e;

        while (i < h.len && (h.data[i] == ' ' || h.data[i] == '\t' || h.data[i] == ','))
            i++;
        s = i;
        while (i < h.len && h.data[i] != ',')
            i++;
        e = i;
        while (e > s && (h.data[e - 1] == ' ' || h.data[e - 1] == '\t'))
            e--;
        if (e - s >= 2 && h.data[s] == 'W' && h.data[s + 1] == '/')
            s += 2;   /* weak comparison, as If-None-Match asks and sushy retries */
        if (e > s && gh_str_eq((gh_str){ h.data + s, e - s }, "*"))
            return true;
        if (e > s && gh_str_eq((gh_str){ h.data + s, e - s }, etag))
            return true;
    }
    return false;
}

void gh_redfish_time(int64_t t, char out[32])
{
    struct tm tm;
    time_t    tt = (time_t)t;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm) == 0)
        snprintf(out, 32, "1970-01-01T00:00:00+00:00");
}
