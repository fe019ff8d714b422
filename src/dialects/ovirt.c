/*
 * ovirt.c: the oVirt engine dialect. Served without authentication, over
 * plain HTTP and HTTPS alike: /ovirt-engine/services/pki-resource, the CA
 * (resource=ca-certificate, format X509-PEM-CA, the default) and the server
 * certificate (resource=engine-certificate, format X509-PEM), read from the
 * data directory's pki/ in a thread-pool task. Everything else under
 * /ovirt-engine needs credentials and answers as the engine does: 401 with
 * the reason phrase "Authorization Required" and realm "RESTAPI".
 */
#include "ovirt.h"

#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVIRT_PKI_PATH "/ovirt-engine/services/pki-resource"
#define OVIRT_CERT_MAX (64 * 1024)

static void ovirt_classify(const gh_request *req, gh_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    if (gh_str_eq(req->path, OVIRT_PKI_PATH)) {
        plan->open = true;
        plan->work = GH_WORK_STORE;
        return;
    }
    gh_credential_authorization(gh_request_header(req, "Authorization"), true, &plan->cred);
    plan->work = GH_WORK_INLINE;
}

static void ovirt_text(gh_response *resp, int status, const char *reason, const char *text)
{
    resp->status = status;
    resp->reason = reason;
    gh_response_copy_body(resp, text, strlen(text), "text/plain; charset=utf-8");
}

static void ovirt_refuse(const gh_request *req, gh_refusal why, gh_response *resp)
{
    (void)req;
    switch (why) {
    case GH_REFUSE_UNAVAILABLE:
        ovirt_text(resp, 503, NULL, "Service unavailable\n");
        break;
    case GH_REFUSE_MALFORMED:
        ovirt_text(resp, 400, NULL, "Malformed Authorization header\n");
        break;
    case GH_REFUSE_PLAIN_HTTP:
        ovirt_text(resp, 403, NULL, "Credentials are accepted over HTTPS only\n");
        break;
    default:
        gh_response_header_add(resp, "WWW-Authenticate", "Basic realm=\"RESTAPI\"");
        ovirt_text(resp, 401, "Authorization Required", "Authorization Required\n");
        break;
    }
}

/* Read a PEM file of the data directory's pki/ into the response. */
static void ovirt_send_pem(const gh_service *svc, const char *file, gh_response *resp)
{
    char path[GH_PATH_MAX + 64], *buf = NULL;
    size_t len;
    FILE *f;

    snprintf(path, sizeof(path), "%s/pki/%s", svc->data_dir ? svc->data_dir : ".", file);
    f = fopen(path, "rbe");
    if (f == NULL)
        goto fail;
    buf = malloc(OVIRT_CERT_MAX);
    if (buf == NULL)
        goto fail;
    len = fread(buf, 1, OVIRT_CERT_MAX, f);
    if (ferror(f) || len == 0 || len == OVIRT_CERT_MAX)
        goto fail;
    fclose(f);
    resp->status = 200;
    gh_response_set_body(resp, buf, len, "application/x-x509-ca-cert");
    return;
fail:
    if (f != NULL)
        fclose(f);
    free(buf);
    ovirt_text(resp, 500, NULL, "Certificate unavailable\n");
}

static void ovirt_pki_resource(const gh_service *svc, const gh_request *req, gh_response *resp)
{
    char resource[64], format[64];
    int r1 = gh_form_get(req->query, "resource", resource, sizeof(resource));
    int r2 = gh_form_get(req->query, "format", format, sizeof(format));

    if (r1 != GH_FORM_FOUND || (r2 != GH_FORM_FOUND && r2 != GH_FORM_ABSENT)) {
        ovirt_text(resp, 400, NULL, "Missing or malformed resource parameter\n");
        return;
    }
    if (strcmp(resource, "ca-certificate") == 0 &&
        (r2 == GH_FORM_ABSENT || strcmp(format, "X509-PEM-CA") == 0)) {
        ovirt_send_pem(svc, "ca.pem", resp);
    } else if (strcmp(resource, "engine-certificate") == 0 &&
               (r2 == GH_FORM_ABSENT || strcmp(format, "X509-PEM") == 0)) {
        ovirt_send_pem(svc, "server.pem", resp);
    } else {
        ovirt_text(resp, 400, NULL, "Unknown resource or format\n");
    }
}

static void ovirt_serve(gh_service *svc, const gh_tree *tree, const gh_request *req,
                        const gh_principal *who, gh_response *resp)
{
    (void)tree;
    (void)who;
    if (!gh_str_eq(req->path, OVIRT_PKI_PATH)) {
        ovirt_text(resp, 404, NULL, "Not found\n");
        return;
    }
    if (req->method != GH_METHOD_GET && req->method != GH_METHOD_HEAD) {
        gh_response_header_add(resp, "Allow", "GET, HEAD");
        ovirt_text(resp, 405, NULL, "Method not allowed\n");
        return;
    }
    ovirt_pki_resource(svc, req, resp);
}

const gh_dialect gh_ovirt_dialect = {
    .name = "ovirt",
    .id = GH_DIALECT_OVIRT,
    .prefix = "/ovirt-engine",
    .classify = ovirt_classify,
    .refuse = ovirt_refuse,
    .serve = ovirt_serve,
};
