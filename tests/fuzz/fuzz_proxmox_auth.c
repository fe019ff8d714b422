/*
 * fuzz_proxmox_auth.c: libFuzzer target for every parser of the Proxmox VE
 * dialect (proxmox_parse.c): the input, whole, as a request path, a user id,
 * a ticket (the PVEAuthCookie value), an Authorization header (PVEAPIToken),
 * a CSRFPreventionToken header, and as the body of a login, once as a form
 * and once as JSON, and (up to its first NUL) as a stored API token and a
 * stored list of token ids. Whatever a parser accepts must hold together: ids
 * terminated within their buffers, views inside the input, a ticket and a
 * stored token that print back to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../src/dialects/proxmox/proxmox_internal.h"

static const char *fuzz_type;

static gh_str fuzz_header(const gh_request *req, const char *name)
{
    (void)req;
    if (strcasecmp(name, "Content-Type") == 0)
        return (gh_str){ fuzz_type, strlen(fuzz_type) };
    return (gh_str){ NULL, 0 };
}

static void fuzz_inside(gh_str in, gh_str view)
{
    if (view.len > 0 && (view.data < in.data || view.data + view.len > in.data + in.len))
        abort();
}

static void fuzz_params(gh_str in, const char *type)
{
    gh_request   req;
    char         user[64], password[GH_PASSWORD_MAX + 1], realm[16], unknown[32];
    gh_pve_param p[] = { { "username", user, sizeof(user), 0 },
                         { "password", password, sizeof(password), 0 },
                         { "realm", realm, sizeof(realm), 0 } };

    memset(&req, 0, sizeof(req));
    req.method = GH_METHOD_POST;
    req.body = in;
    req.query = (gh_str){ "", 0 };
    req.header = fuzz_header;
    fuzz_type = type;
    if (gh_pve_params_read(&req, p, 3, unknown, sizeof(unknown)) == GH_PVE_PARAMS_OK) {
        for (size_t i = 0; i < 3; i++) {
            if (p[i].state == 0 && memchr(p[i].out, '\0', p[i].outlen) == NULL)
                abort();
        }
    }
    if (memchr(unknown, '\0', sizeof(unknown)) == NULL)
        abort();
    gh_wipe(password, sizeof(password));
}

/* The input as the store's text of a token (an attribute is NUL-terminated
 * text): what parses prints back the same. */
static void fuzz_stored(gh_str in)
{
    char         value[GH_ATTRIBUTE_VALUE_MAX + 1], back[GH_ATTRIBUTE_VALUE_MAX + 1];
    gh_pve_token tok;
    size_t       n = in.len < GH_ATTRIBUTE_VALUE_MAX ? in.len : GH_ATTRIBUTE_VALUE_MAX;

    memcpy(value, in.data, n);
    value[n] = '\0';
    if (gh_pve_token_parse(value, &tok) == 0) {
        gh_pve_token_text(&tok, back);
        if (strcmp(back, value) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t secret[GH_DIGEST_LEN] = { 7 };
    gh_str          in = { (const char *)data, size };
    gh_pve_route    route;
    gh_pve_userid   id;
    gh_pve_ticket   t;
    gh_pve_apitoken api;
    char            text[GH_PVE_TICKET_MAX + 1];

    gh_pve_route_parse(in, &route);
    if (route.path_len > GH_PVE_PATH_MAX || memchr(route.path, '\0', sizeof(route.path)) == NULL)
        abort();
    if (route.kind == GH_PVE_TOKEN && route.valid &&
        !gh_pve_tokenid_valid((gh_str){ route.tokenid, strlen(route.tokenid) }))
        abort();
    if (gh_pve_userid_parse(in, &id) != GH_PVE_ID_MALFORMED &&
        (memchr(id.user, '\0', sizeof(id.user)) == NULL ||
         memchr(id.realm, '\0', sizeof(id.realm)) == NULL))
        abort();
    if (gh_pve_ticket_parse(in, &t) == 0) {
        fuzz_inside(in, t.secret);
        gh_pve_ticket_text(&t.userid, t.issued, "", text);
        /* what was parsed prints back to the text before the token */
        if (strncmp(text, in.data, strlen(text)) != 0)
            abort();
    }
    if (gh_pve_apitoken_parse(in, &api) == 1) {
        fuzz_inside(in, api.secret);
        if (api.secret.len == 0 || !gh_pve_tokenid_valid((gh_str){ api.tokenid,
                                                                   strlen(api.tokenid) }))
            abort();
    }
    (void)gh_pve_csrf_ok(secret, "0123456789abcdef0123456789abcdef", in);
    fuzz_params(in, "application/x-www-form-urlencoded");
    fuzz_params(in, "application/json");
    fuzz_stored(in);
    return 0;
}
