/*
 * proxmox_tokens.c: Proxmox VE API tokens. A token is an account token of
 * the core store (store.h): its secret, 256 random bits in hex, is shown
 * once, in the answer that creates it, and kept only as SHA-256.
 *
 *   GET    /api2/json/access/users/{userid}/token            the list
 *   GET    /api2/json/access/users/{userid}/token/{tokenid}  one token
 *   POST   /api2/json/access/users/{userid}/token/{tokenid}  create: comment,
 *          expire (epoch seconds, 0 never), privsep (default 1); answers
 *          {"full-tokenid", "info", "value"}: value is the secret
 *   DELETE /api2/json/access/users/{userid}/token/{tokenid}  remove
 *
 * An account manages its own tokens (ConfigureSelf), an administrator
 * (ConfigureUsers) everyone's; a request made with an API token may read
 * them but not create or remove one. A token with privilege separation
 * (privsep=1, Proxmox VE's default) holds at most the ReadOnly role, one
 * without holds its account's; either way never more than its account
 * holds now, which is read with the token on every request (so a token of a
 * disabled, locked or deleted account, or of one given a lesser role, is
 * refused or lessened at once). Tokens go with their account; a password
 * change leaves them be, as in Proxmox VE.
 *
 * The check of a request's PVEAPIToken runs here too, in the I/O pool: the
 * account by name, its token by id, the SHA-256 of the secret compared in
 * constant time, then expiry and the account's state.
 */
#include "proxmox_internal.h"

#include "../common/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(GH_PVE_TOKENID_MAX == GH_ACCOUNT_TOKEN_NAME_MAX, "a token id is a token name");
_Static_assert(GH_PVE_COMMENT_MAX == GH_ACCOUNT_TOKEN_COMMENT_MAX, "the comment fits the store");

#define GH_PVE_TOKEN_REFUSED "permission denied - invalid API token"

bool gh_pve_apitoken_check(gh_pve_ctx *c, gh_principal *who)
{
    gh_pve_apitoken  t;
    gh_account       acct;
    gh_account_token tok;
    uint8_t          digest[GH_DIGEST_LEN];
    bool             ok = false;
    int64_t          now = gh_now();

    memset(&acct, 0, sizeof(acct));
    memset(&tok, 0, sizeof(tok));
    memset(digest, 0, sizeof(digest));
    if (!c->req->secure) {
        gh_pve_fail(c->resp, 403, "credentials are accepted over HTTPS only");
        goto done;
    }
    if (gh_pve_apitoken_parse(gh_request_header(c->req, "Authorization"), &t) != 1) {
        gh_pve_fail(c->resp, 401, GH_PVE_TOKEN_REFUSED);
        goto done;
    }
    if (c->svc == NULL || c->svc->store == NULL) {
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    switch (gh_store_account_get(c->svc->store, t.userid.user, &acct)) {
    case GH_STORE_OK:
        break;
    case GH_STORE_NOT_FOUND:
        gh_pve_fail(c->resp, 401, GH_PVE_TOKEN_REFUSED);
        goto done;
    default:
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    switch (gh_store_token_get(c->svc->store, acct.id, t.tokenid, &tok)) {
    case GH_STORE_OK:
        break;
    case GH_STORE_NOT_FOUND:
        gh_pve_fail(c->resp, 401, GH_PVE_TOKEN_REFUSED);
        goto done;
    default:
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    gh_token_digest(t.secret.data, t.secret.len, digest);
    if (!gh_token_equal(digest, tok.digest, GH_DIGEST_LEN) ||
        (tok.expires != 0 && now >= tok.expires) || !acct.enabled ||
        gh_account_admin_locked(&acct)) {
        gh_pve_fail(c->resp, 401, GH_PVE_TOKEN_REFUSED);
        goto done;
    }
    memset(who, 0, sizeof(*who));
    who->account_id = acct.id;
    memcpy(who->user, acct.name, sizeof(who->user));
    /* Roles are numbered from the most able (1): the lesser is the larger. */
    who->role = tok.role != GH_ROLE_NONE && tok.role > acct.role ? tok.role : acct.role;
    who->password_change_required = acct.password_change_required;
    ok = true;
done:
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    gh_wipe(digest, sizeof(digest));
    gh_wipe(&tok, sizeof(tok));
    return ok;
}

/* ---- the endpoints ---- */

static json_t *gh_pve_token_info(const gh_account_token *tok, bool with_id)
{
    json_t *o = json_pack("{s:s, s:I, s:i}", "comment", tok->comment,
                          "expire", (json_int_t)tok->expires,
                          "privsep", tok->role != GH_ROLE_NONE ? 1 : 0);

    if (o != NULL && with_id && json_object_set_new(o, "tokenid", json_string(tok->name)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* May the caller manage the tokens of the route's user (write: create or
 * remove)? The account it names, in acct; false with the answer made. */
static bool gh_pve_token_gate(gh_pve_ctx *c, bool write, gh_account *acct)
{
    bool self = strcmp(c->route->userid.user, c->who->user) == 0;
    unsigned need = self ? GH_PRIV_CONFIGURE_SELF : GH_PRIV_CONFIGURE_USERS;

    if (!gh_role_allows(c->who->role, need) || (write && c->by_api_token)) {
        gh_pve_fail(c->resp, 403, "Permission check failed");
        return false;
    }
    if (c->svc == NULL || c->svc->store == NULL) {
        gh_pve_fail(c->resp, 503, NULL);
        return false;
    }
    switch (gh_store_account_get(c->svc->store, c->route->userid.user, acct)) {
    case GH_STORE_OK:
        gh_wipe(acct->password_hash, sizeof(acct->password_hash));
        return true;
    case GH_STORE_NOT_FOUND:
        gh_pve_fail(c->resp, 404, "no such user");
        return false;
    default:
        gh_pve_fail(c->resp, 503, NULL);
        return false;
    }
}

static int gh_pve_token_list_one(const gh_account_token *tok, void *arg)
{
    json_t *o = gh_pve_token_info(tok, true);

    return o == NULL || json_array_append_new(arg, o) != 0;
}

void gh_pve_serve_tokens(gh_pve_ctx *c)
{
    gh_account acct;
    json_t    *list;

    if (!gh_pve_token_gate(c, false, &acct))
        return;
    list = json_array();
    if (list == NULL || gh_store_token_foreach(c->svc->store, acct.id, gh_pve_token_list_one,
                                               list) != GH_STORE_OK) {
        json_decref(list);
        gh_pve_fail(c->resp, 503, NULL);
        return;
    }
    gh_pve_reply(c->resp, 200, list);
}

/* The parameters of a new token into tok; false with the 400 made. */
static bool gh_pve_token_params(gh_pve_ctx *c, gh_account_token *tok)
{
    char         expire[16], privsep[8], unknown[GH_FORM_NAME_MAX + 1];
    gh_pve_param p[] = {
        { "comment", tok->comment, sizeof(tok->comment), 0 },
        { "expire", expire, sizeof(expire), 0 },
        { "privsep", privsep, sizeof(privsep), 0 },
    };

    switch (gh_pve_params_read(c->req, p, sizeof(p) / sizeof(p[0]), unknown, sizeof(unknown))) {
    case GH_PVE_PARAMS_OK:
        break;
    case GH_PVE_PARAMS_UNKNOWN:
        gh_pve_fail_param(c->resp, unknown, "property is not defined in schema and the schema "
                          "does not allow additional properties");
        return false;
    case GH_PVE_PARAMS_TOO_LARGE:
        gh_pve_fail(c->resp, 413, NULL);
        return false;
    default:
        gh_pve_fail(c->resp, 400, "Parameter verification failed.");
        return false;
    }
    if (p[0].state == GH_FORM_TOO_LONG) {
        gh_pve_fail_param(c->resp, "comment", "value is too long");
        return false;
    }
    for (const char *q = tok->comment; *q != '\0'; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f) {
            gh_pve_fail_param(c->resp, "comment", "value contains a control character");
            return false;
        }
    }
    if (p[1].state == GH_FORM_FOUND) {
        size_t len = strlen(expire);

        if (len == 0 || len > 12 || strspn(expire, "0123456789") != len) {
            gh_pve_fail_param(c->resp, "expire", "type check ('integer') failed");
            return false;
        }
        tok->expires = strtoll(expire, NULL, 10);
    } else if (p[1].state == GH_FORM_TOO_LONG) {
        gh_pve_fail_param(c->resp, "expire", "type check ('integer') failed");
        return false;
    }
    if (p[2].state != GH_FORM_ABSENT && strcmp(privsep, "0") != 0 && strcmp(privsep, "1") != 0) {
        gh_pve_fail_param(c->resp, "privsep", "type check ('boolean') failed");
        return false;
    }
    tok->role = p[2].state == GH_FORM_FOUND && strcmp(privsep, "0") == 0
                    ? GH_ROLE_NONE : GH_ROLE_READONLY;
    return true;
}

static void gh_pve_token_create(gh_pve_ctx *c, const gh_account *acct)
{
    gh_account_token tok;
    char             secret[GH_TOKEN_TEXT_LEN + 1] = "";
    char             full[GH_USER_NAME_MAX + GH_PVE_REALM_MAX + GH_PVE_TOKENID_MAX + 3];
    gh_store_err     err;
    json_t          *data;

    memset(&tok, 0, sizeof(tok));
    if (!gh_pve_token_params(c, &tok))
        goto done;
    tok.account_id = acct->id;
    memcpy(tok.name, c->route->tokenid, sizeof(tok.name));
    tok.created = gh_now();
    if (gh_token_generate(secret) != 0) {
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    gh_token_digest(secret, GH_TOKEN_TEXT_LEN, tok.digest);
    err = gh_store_token_add(c->svc->store, &tok);
    if (err == GH_STORE_EXISTS) {
        gh_pve_fail(c->resp, 400, "Token already exists.");
        goto done;
    }
    if (err != GH_STORE_OK) {
        gh_pve_fail(c->resp, err == GH_STORE_NOT_FOUND ? 404 : 503, NULL);
        goto done;
    }
    snprintf(full, sizeof(full), "%s@%s!%s", c->route->userid.user, c->route->userid.realm,
             tok.name);
    gh_audit_write(c->svc->audit, GH_AUDIT_ACCOUNT_CHANGED, acct->name, c->req->client_addr,
                   NULL, NULL, "proxmox API token created");
    data = json_pack("{s:s, s:o*, s:s}", "full-tokenid", full,
                     "info", gh_pve_token_info(&tok, false), "value", secret);
    if (data != NULL)
        gh_pve_reply(c->resp, 200, data);
    if (data == NULL || c->resp->status != 200) {
        /* A token nobody was told of must not live on. */
        (void)gh_store_token_delete(c->svc->store, acct->id, tok.name);
        gh_pve_fail(c->resp, 500, NULL);
    }
done:
    gh_wipe(secret, sizeof(secret));
    gh_wipe(&tok, sizeof(tok));
}

void gh_pve_serve_token(gh_pve_ctx *c)
{
    gh_account       acct;
    gh_account_token tok;
    gh_method        m = c->req->method;
    gh_store_err     err;

    if (!gh_pve_token_gate(c, m != GH_METHOD_GET && m != GH_METHOD_HEAD, &acct))
        return;
    if (m == GH_METHOD_POST) {
        gh_pve_token_create(c, &acct);
        return;
    }
    if (m == GH_METHOD_DELETE) {
        err = gh_store_token_delete(c->svc->store, acct.id, c->route->tokenid);
        if (err == GH_STORE_OK) {
            gh_audit_write(c->svc->audit, GH_AUDIT_ACCOUNT_CHANGED, acct.name,
                           c->req->client_addr, NULL, NULL, "proxmox API token deleted");
            gh_pve_reply(c->resp, 200, NULL);
        } else {
            gh_pve_fail(c->resp, err == GH_STORE_NOT_FOUND ? 404 : 503,
                        err == GH_STORE_NOT_FOUND ? "no such token" : NULL);
        }
        return;
    }
    err = gh_store_token_get(c->svc->store, acct.id, c->route->tokenid, &tok);
    if (err == GH_STORE_OK)
        gh_pve_reply(c->resp, 200, gh_pve_token_info(&tok, false));
    else
        gh_pve_fail(c->resp, err == GH_STORE_NOT_FOUND ? 404 : 503,
                    err == GH_STORE_NOT_FOUND ? "no such token" : NULL);
    gh_wipe(&tok, sizeof(tok));
}
