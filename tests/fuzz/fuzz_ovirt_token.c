/*
 * fuzz_ovirt_token.c: libFuzzer target for the oVirt SSO token request: the
 * parameters read from the URL query and the form body, their check (Accept,
 * grant_type, username, password, scope, profile) and the whole route as the
 * module runs it, without a store (so it stops before any password is
 * verified, with a 503). The input is the Accept value, the Content-Type
 * value and the query, each ended by a newline, then the body. Checks that
 * every answer is a JSON error or a refusal the SDK can read, that messages
 * fit their buffer, and that a request found good names an account that can
 * exist (by its length: the store decides the rest).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/form.h"
#include "../../src/dialects/ovirt/ovirt_internal.h"

typedef struct {
    gh_str accept, content_type;
} gh_fuzz_headers;

static gh_str gh_fuzz_header(const gh_request *req, const char *name)
{
    const gh_fuzz_headers *h = req->adapter;

    if (strcmp(name, "Accept") == 0)
        return h->accept;
    if (strcmp(name, "Content-Type") == 0)
        return h->content_type;
    return (gh_str){ NULL, 0 };
}

/* The next line of in, or the rest when there is no newline. */
static gh_str gh_fuzz_line(gh_str *in)
{
    const char *nl = memchr(in->data, '\n', in->len);
    gh_str      line = { in->data, nl != NULL ? (size_t)(nl - in->data) : in->len };

    in->data += line.len + (nl != NULL);
    in->len -= line.len + (nl != NULL);
    return line;
}

static void gh_fuzz_check(const gh_config *cfg, gh_str accept, gh_str query, gh_str body)
{
    gh_ovirt_token_request t;
    char                   msg[GH_OVIRT_MSG_MAX];
    gh_ovirt_error         e;

    gh_ovirt_token_read(query, body, &t);
    memset(msg, 'x', sizeof(msg));
    e = gh_ovirt_token_check(cfg, accept, &t, msg, sizeof(msg));
    if (e != GH_OV_ERR_NONE && memchr(msg, '\0', sizeof(msg)) == NULL)
        abort();
    if (e == GH_OV_ERR_NONE &&
        (t.user[0] == '\0' || strlen(t.user) > GH_USER_NAME_MAX ||
         t.password_len != strlen(t.password) || t.password_len > GH_PASSWORD_MAX))
        abort();
    if (gh_ovirt_error_code(e) == NULL)
        abort();
    gh_ovirt_token_wipe(&t);
    if (t.password[0] != '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_str          in = { (const char *)data, size };
    gh_fuzz_headers h;
    gh_str          query;
    gh_config       cfg;
    gh_service      svc;
    gh_request      req;
    gh_plan         plan;
    gh_response     resp;
    json_t         *doc;

    h.accept = gh_fuzz_line(&in);
    h.content_type = gh_fuzz_line(&in);
    query = gh_fuzz_line(&in);
    if (gh_dialect_config_defaults(&cfg, NULL, 0) != 0)
        abort();
    gh_fuzz_check(&cfg, h.accept, query, in);
    snprintf(gh_ovirt_settings_edit(&cfg)->profiles, sizeof(gh_ovirt_settings_edit(&cfg)->profiles),
             "internal, lab.example.com,x");
    gh_fuzz_check(&cfg, h.accept, query, in);

    /* The route itself, for POST and GET, over TLS and not. */
    memset(&svc, 0, sizeof(svc));
    svc.config = &cfg;
    for (int i = 0; i < 4; i++) {
        memset(&req, 0, sizeof(req));
        req.method = i % 2 == 0 ? GH_METHOD_POST : GH_METHOD_GET;
        req.path = GH_STR(GH_OVIRT_TOKEN);
        req.query = query;
        req.secure = i < 2;
        req.header = gh_fuzz_header;
        req.adapter = &h;
        req.config = &cfg;
        gh_ovirt_dialect.classify(&req, &plan);
        if (!plan.open || plan.work != GH_WORK_HASH)
            abort();
        if (plan.read_body)
            req.body = in;
        memset(&resp, 0, sizeof(resp));
        gh_ovirt_dialect.serve(&svc, NULL, &req, &plan, NULL, &resp);
        if (resp.status != 400 && resp.status != 403 && resp.status != 503)
            abort();
        doc = json_loadb(resp.body, resp.body_len, 0, NULL);
        if (!json_is_object(doc) || json_object_get(doc, "error") == NULL)
            abort();
        json_decref(doc);
        gh_response_free(&resp);
    }
    return 0;
}
