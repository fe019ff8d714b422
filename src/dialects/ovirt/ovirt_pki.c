/*
 * ovirt_pki.c: the CA download at /ovirt-engine/services/pki-resource, open
 * and over plain HTTP too: the CA (resource=ca-certificate, format
 * X509-PEM-CA, the default) and the server certificate (engine-certificate,
 * X509-PEM), read from the data directory's pki/ in a thread-pool task.
 */
#include "ovirt_internal.h"

#include "../common/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GH_OVIRT_CERT_MAX (64 * 1024)

/* Read a PEM file of the data directory's pki/ into the response. */
static void gh_ovirt_send_pem(const gh_service *svc, const char *file, const char *type,
                              gh_response *resp)
{
    char   path[GH_PATH_MAX + 64], *buf = NULL;
    size_t len;
    FILE  *f;

    snprintf(path, sizeof(path), "%s/pki/%s", svc->data_dir ? svc->data_dir : ".", file);
    f = fopen(path, "rbe");
    if (f == NULL)
        goto fail;
    buf = malloc(GH_OVIRT_CERT_MAX);
    if (buf == NULL)
        goto fail;
    len = fread(buf, 1, GH_OVIRT_CERT_MAX, f);
    if (ferror(f) || len == 0 || len == GH_OVIRT_CERT_MAX)
        goto fail;
    fclose(f);
    buf[len] = '\0';     /* len < GH_OVIRT_CERT_MAX: a body readable as a string, as copies are */
    resp->status = 200;
    gh_response_set_body(resp, buf, len, type);
    return;
fail:
    if (f != NULL)
        fclose(f);
    free(buf);
    gh_ovirt_text(resp, 500, NULL, "Certificate unavailable\n");
}

void gh_ovirt_pki_resource(const gh_service *svc, const gh_request *req, gh_response *resp)
{
    char resource[64], format[64];
    int  r1 = gh_form_get(req->query, "resource", resource, sizeof(resource));
    int  r2 = gh_form_get(req->query, "format", format, sizeof(format));

    if (!gh_ovirt_read_method(req->method)) {
        gh_response_header_add(resp, "Allow", "GET, HEAD");
        gh_ovirt_text(resp, 405, NULL, "Method not allowed\n");
    } else if (r1 != GH_FORM_FOUND || (r2 != GH_FORM_FOUND && r2 != GH_FORM_ABSENT)) {
        gh_ovirt_text(resp, 400, NULL, "Missing or malformed resource parameter\n");
    } else if (strcmp(resource, "ca-certificate") == 0 &&
               (r2 == GH_FORM_ABSENT || strcmp(format, "X509-PEM-CA") == 0)) {
        gh_ovirt_send_pem(svc, "ca.pem", "application/x-x509-ca-cert", resp);
    } else if (strcmp(resource, "engine-certificate") == 0 &&
               (r2 == GH_FORM_ABSENT || strcmp(format, "X509-PEM") == 0)) {
        gh_ovirt_send_pem(svc, "server.pem", "application/x-x509-cert", resp);
    } else {
        gh_ovirt_text(resp, 400, NULL, "Unknown resource or format\n");
    }
}
