/*
 * proxmox_ticket.c: /api2/json/access/ticket, where a Proxmox VE client
 * logs in. POST with username (USER@REALM, or USER and realm) and password,
 * as a form or a JSON object, answers {"data": {"username", "ticket",
 * "CSRFPreventionToken", "cap"}}; a wrong password, an unknown user or realm,
 * a locked or disabled account all answer "401 authentication failure" with
 * {"data": null}, as Proxmox VE does. GET answers {"data": null}, as Proxmox
 * VE's does (its login page reads it).
 *
 * The ticket is a gatehouse session of this dialect: its token, shown once
 * inside the ticket text and kept only as SHA-256, is what the PVEAuthCookie
 * cookie carries back. A ticket posted as the password renews it, as
 * Proxmox clients do before two hours are up: a new session for the
 * account of the session the ticket names, when that session is alive and
 * the user name is the ticket's; the old ticket lives on until it ends. This
 * is an open route (the password is the credential), run in the hash pool,
 * so it refuses plain HTTP itself. The password and the token are wiped on
 * every way out.
 */
#include "proxmox_internal.h"

#include "../common/form.h"

#include <stdio.h>
#include <string.h>

#define GH_PVE_AUTH_FAILED "authentication failure"

typedef struct {
    char username[GH_USER_NAME_MAX + 1 + GH_PVE_REALM_MAX + 1];
    char realm[GH_PVE_REALM_MAX + 1];
    char password[GH_PASSWORD_MAX + 1];
    char otp[64];
    char new_format[8];
} gh_pve_login_form;

/* The parameters of a login, checked; false with the 400 made. */
static bool gh_pve_login_read(gh_pve_ctx *c, gh_pve_login_form *l, gh_pve_userid *id,
                              gh_pve_id_result *idr)
{
    gh_pve_param p[] = {
        { "username", l->username, sizeof(l->username), 0 },
        { "password", l->password, sizeof(l->password), 0 },
        { "realm", l->realm, sizeof(l->realm), 0 },
        { "otp", l->otp, sizeof(l->otp), 0 },
        { "new-format", l->new_format, sizeof(l->new_format), 0 },
    };
    char unknown[GH_FORM_NAME_MAX + 1];
    char full[sizeof(l->username)];

    if (!gh_pve_params_ok(c->resp, gh_pve_params_read(c->req, p, sizeof(p) / sizeof(p[0]),
                                                     unknown, sizeof(unknown)), unknown))
        return false;
    for (size_t i = 0; i < 2; i++) {
        if (p[i].state != GH_FORM_FOUND) {
            gh_pve_fail_param(c->resp, p[i].name, p[i].state == GH_FORM_ABSENT
                              ? "property is missing and it is not optional"
                              : "value is too long");
            return false;
        }
    }
    /* USER with realm=REALM is USER@REALM. */
    if (p[2].state == GH_FORM_FOUND && strchr(l->username, '@') == NULL) {
        if ((size_t)snprintf(full, sizeof(full), "%s@%s", l->username, l->realm) >= sizeof(full)) {
            gh_pve_fail_param(c->resp, "username", "value is too long");
            return false;
        }
        memcpy(l->username, full, sizeof(full));
    }
    *idr = gh_pve_userid_parse((gh_str){ l->username, strlen(l->username) }, id);
    if (*idr == GH_PVE_ID_MALFORMED) {
        gh_pve_fail_param(c->resp, "username", "value does not look like a valid user name");
        return false;
    }
    return true;
}

/* Renewal: the session of the ticket in password, when it is alive, of this
 * dialect and of the user named. */
static bool gh_pve_login_renew(gh_pve_ctx *c, const gh_pve_userid *id, const char *password,
                               gh_principal *who)
{
    gh_pve_ticket t;
    uint8_t       digest[GH_DIGEST_LEN];
    bool          ok = false;

    if (gh_pve_ticket_parse((gh_str){ password, strlen(password) }, &t) != 0 ||
        strcmp(t.userid.user, id->user) != 0 || strcmp(t.userid.realm, id->realm) != 0)
        return false;
    gh_token_digest(t.secret.data, t.secret.len, digest);
    memset(who, 0, sizeof(*who));
    ok = gh_session_find_wait(c->svc->sessions, digest, gh_now(), who, NULL) == GH_SHARED_OK &&
         strcmp(who->dialect, GH_PVE_DIALECT) == 0 && strcmp(who->user, id->user) == 0;
    gh_wipe(digest, sizeof(digest));
    return ok;
}

/* The answer to a login that is refused. */
static void gh_pve_login_refused(gh_pve_ctx *c, gh_auth_result r)
{
    switch (r) {
    case GH_AUTH_UNAVAILABLE:
        gh_pve_fail(c->resp, 503, NULL);
        break;
    case GH_AUTH_THROTTLED:
        gh_pve_fail(c->resp, 429, NULL);
        gh_response_retry_after(c->resp,
                                gh_service_throttle_wait(c->svc, c->req->client_addr, NULL));
        break;
    default:
        gh_pve_fail(c->resp, 401, GH_PVE_AUTH_FAILED);
        break;
    }
}

/* A new session for who, answered with its ticket. */
static void gh_pve_login_session(gh_pve_ctx *c, const gh_pve_userid *id, const gh_principal *who)
{
    gh_session_record rec;
    char              token[GH_TOKEN_TEXT_LEN + 1] = "";
    char              ticket[GH_PVE_TICKET_MAX + 1] = "";
    char              csrf[GH_PVE_CSRF_LEN + 1] = "";
    char              username[GH_USER_NAME_MAX + 1 + GH_PVE_REALM_MAX + 1];
    json_t           *data;

    switch (gh_service_session_create(c->svc, who, GH_PVE_DIALECT, 0, c->req->client_addr,
                                      token, &rec)) {
    case GH_SESSION_CREATED:
        break;
    case GH_SESSION_LIMIT_TOTAL:
    case GH_SESSION_LIMIT_ACCOUNT:
        gh_pve_fail(c->resp, 503, "too many sessions");
        goto done;
    default:
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    gh_pve_ticket_text(id, rec.created, token, ticket);
    gh_pve_csrf_token(c->svc->secret, rec.id, rec.created, csrf);
    snprintf(username, sizeof(username), "%s@%s", id->user, id->realm);
    data = json_pack("{s:s, s:s, s:s, s:o*}", "username", username, "ticket", ticket,
                     "CSRFPreventionToken", csrf, "cap", gh_pve_caps(who->role));
    if (data != NULL)
        gh_pve_reply(c->resp, 200, data);
    if (data == NULL || c->resp->status != 200) {
        gh_pve_fail(c->resp, 500, NULL);
        /* A session the client is not told of must not live on. */
        (void)gh_service_session_end(c->svc, rec.id, GH_AUDIT_REVOKED, who->user,
                                     c->req->client_addr);
    }
done:
    gh_wipe(token, sizeof(token));
    gh_wipe(ticket, sizeof(ticket));
    gh_wipe(csrf, sizeof(csrf));
}

static void gh_pve_login(gh_pve_ctx *c)
{
    gh_pve_login_form l;
    gh_pve_userid    id;
    gh_pve_id_result idr = GH_PVE_ID_MALFORMED;
    gh_principal     who;
    gh_auth_result   r;

    memset(&l, 0, sizeof(l));
    if (!gh_pve_login_read(c, &l, &id, &idr))
        goto done;
    if (c->svc == NULL || c->svc->store == NULL) {
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    if (strncmp(l.password, "PVE:", 4) == 0) {
        if (idr == GH_PVE_ID_OK && gh_pve_login_renew(c, &id, l.password, &who))
            gh_pve_login_session(c, &id, &who);
        else
            gh_pve_fail(c->resp, 401, GH_PVE_AUTH_FAILED);
        goto done;
    }
    /* A realm gatehouse has no accounts in checks a password all the same
     * (of a name that cannot exist), so it costs what a wrong one does. */
    /* pam and pve are local realms: no directory is asked (docs/directory.md). */
    r = gh_service_verify_local_password(c->svc, idr == GH_PVE_ID_OK ? id.user : "@",
                                         l.password, strlen(l.password), c->req->client_addr,
                                         "proxmox ticket", &who);
    if (r == GH_AUTH_OK && idr == GH_PVE_ID_OK)
        gh_pve_login_session(c, &id, &who);
    else
        gh_pve_login_refused(c, r == GH_AUTH_OK ? GH_AUTH_BAD_CREDENTIALS : r);
done:
    gh_wipe(&l, sizeof(l));
}

void gh_pve_serve_ticket(gh_pve_ctx *c)
{
    if (!c->req->secure)
        gh_pve_fail(c->resp, 403, "credentials are accepted over HTTPS only");
    else if (c->req->method == GH_METHOD_POST)
        gh_pve_login(c);
    else
        gh_pve_reply(c->resp, 200, NULL);
}
