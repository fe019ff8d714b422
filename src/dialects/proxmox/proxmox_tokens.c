/*
 * proxmox_tokens.c: Proxmox VE API tokens. A token is an attribute this
 * dialect keeps of its account (store.h, gh_store_attribute_*): "token:ID",
 * its SHA-256 and fields in the form proxmox_internal.h gives; the list is
 * the account's attributes named "token:..." by id in byte order
 * (gh_store_attribute_foreach). Its secret, 256 random bits in hex, is
 * shown once, in the answer that creates it, and kept only as SHA-256.
 *
 *   GET    /api2/json/access/users/{userid}/token            the list
 *   GET    /api2/json/access/users/{userid}/token/{tokenid}  one token
 *   POST   /api2/json/access/users/{userid}/token/{tokenid}  create: comment,
 *          expire (epoch seconds, 0 never), privsep (default 1); answers
 *          {"full-tokenid", "info", "value"}: value is the secret
 *   DELETE /api2/json/access/users/{userid}/token/{tokenid}  remove
 *
 * Who may, core/policy.c says: an account's own tokens are GH_OP_ACCOUNT of
 * its own (ConfigureSelf), another's GH_OP_ACCOUNT to read them and
 * GH_OP_ACCOUNTS to create or remove one (ConfigureUsers); a request made
 * with an API token may read them but not create or remove one. A token
 * with privilege separation (privsep=1, Proxmox VE's default) has withheld
 * from its account's role what ReadOnly lacks, one without holds its
 * account's; either way never more than its account holds now, which is
 * read with the token on every request (so a token of a disabled, locked or
 * deleted account, or of one given a lesser role, is refused or lessened at
 * once). Tokens go with their account (the attributes do); a password
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

#define GH_PVE_TOKEN_REFUSED "permission denied - invalid API token"

/* The attribute name of token id. */
static void gh_pve_token_attr(const char *id, char out[GH_ATTRIBUTE_NAME_MAX + 1])
{
    snprintf(out, GH_ATTRIBUTE_NAME_MAX + 1, "%s%s", GH_PVE_TOKEN_ATTR, id);
}

/* Token id of account_id from the store: GH_STORE_NOT_FOUND when there is
 * none, GH_STORE_ERROR when what is kept is not a token. */
static gh_store_err gh_pve_token_get(gh_store *store, int64_t account_id, const char *id,
                                     gh_pve_token *tok)
{
    char         name[GH_ATTRIBUTE_NAME_MAX + 1], text[GH_ATTRIBUTE_VALUE_MAX + 1];
    gh_store_err err;

    gh_pve_token_attr(id, name);
    err = gh_store_attribute_get(store, account_id, GH_PVE_DIALECT, name, text, sizeof(text));
    if (err == GH_STORE_OK && gh_pve_token_parse(text, tok) != 0)
        err = GH_STORE_ERROR;
    gh_wipe(text, sizeof(text));
    return err;
}

bool gh_pve_apitoken_check(gh_pve_ctx *c, gh_principal *who)
{
    gh_pve_apitoken  t;
    gh_account       acct;
    gh_pve_token     tok;
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
    switch (gh_pve_token_get(c->svc->store, acct.id, t.tokenid, &tok)) {
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
        (tok.expire != 0 && now >= tok.expire) || !acct.enabled ||
        gh_account_admin_locked(&acct)) {
        gh_pve_fail(c->resp, 401, GH_PVE_TOKEN_REFUSED);
        goto done;
    }
    memset(who, 0, sizeof(*who));
    who->account_id = acct.id;
    memcpy(who->user, acct.name, sizeof(who->user));
    who->role = acct.role;
    c->withheld = tok.privsep ? gh_role_privileges(acct.role) &
                                ~gh_role_privileges(GH_ROLE_READONLY) : 0;
    who->password_change_required = acct.password_change_required;
    ok = true;
done:
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    gh_wipe(digest, sizeof(digest));
    gh_wipe(&tok, sizeof(tok));
    return ok;
}

/* ---- the endpoints ---- */

static json_t *gh_pve_token_info(const gh_pve_token *tok, const char *id)
{
    json_t *o = json_pack("{s:s, s:I, s:i}", "comment", tok->comment,
                          "expire", (json_int_t)tok->expire, "privsep", tok->privsep ? 1 : 0);

    if (o != NULL && id != NULL && json_object_set_new(o, "tokenid", json_string(id)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* May the caller, by policy.c, do act? false with the 403 made. */
static bool gh_pve_token_allowed(gh_pve_ctx *c, gh_policy_act act)
{
    gh_policy_subject who = gh_policy_subject_of(c->who);

    who.withheld = c->withheld;
    if (gh_policy_allows(&who, act, NULL))
        return true;
    gh_pve_fail(c->resp, 403, "Permission check failed");
    return false;
}

/* May the caller manage the tokens of the route's user (write: create or
 * remove)? The account it names, in acct; false with the answer made. */
static bool gh_pve_token_gate(gh_pve_ctx *c, bool write, gh_account *acct)
{
    bool own = strcmp(c->route->userid.user, c->who->user) == 0;

    if (!gh_pve_token_allowed(c, (gh_policy_act){ .op = GH_OP_ACCOUNT, .own = own }))
        return false;
    if (write && c->by_api_token) {
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
        break;
    case GH_STORE_NOT_FOUND:
        gh_pve_fail(c->resp, 404, "no such user");
        return false;
    default:
        gh_pve_fail(c->resp, 503, NULL);
        return false;
    }
    return !write || own ||
           gh_pve_token_allowed(c, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                    .target = gh_role_privileges(acct->role) });
}

typedef struct {
    json_t      *list;
    gh_store_err err;
} gh_pve_token_walk;

/* A gh_attribute_cb: the token kept as name, appended to the list. */
static int gh_pve_token_listed(const char *name, const char *value, void *arg)
{
    gh_pve_token_walk *w = arg;
    const char        *id = name + strlen(GH_PVE_TOKEN_ATTR);
    gh_pve_token       tok;

    if (gh_pve_token_parse(value, &tok) != 0 ||
        json_array_append_new(w->list, gh_pve_token_info(&tok, id)) != 0)
        w->err = GH_STORE_ERROR;
    gh_wipe(&tok, sizeof(tok));
    return w->err != GH_STORE_OK;
}

void gh_pve_serve_tokens(gh_pve_ctx *c)
{
    gh_account        acct;
    gh_pve_token_walk w = { NULL, GH_STORE_OK };

    if (!gh_pve_token_gate(c, false, &acct))
        return;
    w.list = json_array();
    if (w.list == NULL ||
        gh_store_attribute_foreach(c->svc->store, acct.id, GH_PVE_DIALECT, GH_PVE_TOKEN_ATTR,
                                   gh_pve_token_listed, &w) != GH_STORE_OK ||
        w.err != GH_STORE_OK) {
        json_decref(w.list);
        gh_pve_fail(c->resp, 503, NULL);
        return;
    }
    gh_pve_reply(c->resp, 200, w.list);
}

/* The parameters of a new token into tok; false with the 400 made. */
static bool gh_pve_token_params(gh_pve_ctx *c, gh_pve_token *tok)
{
    char         expire[16], privsep[8], unknown[GH_FORM_NAME_MAX + 1];
    gh_pve_param p[] = {
        { "comment", tok->comment, sizeof(tok->comment), 0 },
        { "expire", expire, sizeof(expire), 0 },
        { "privsep", privsep, sizeof(privsep), 0 },
    };

    if (!gh_pve_params_ok(c->resp, gh_pve_params_read(c->req, p, sizeof(p) / sizeof(p[0]),
                                                     unknown, sizeof(unknown)), unknown))
        return false;
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
        tok->expire = strtoll(expire, NULL, 10);
    } else if (p[1].state == GH_FORM_TOO_LONG) {
        gh_pve_fail_param(c->resp, "expire", "type check ('integer') failed");
        return false;
    }
    if (p[2].state != GH_FORM_ABSENT && strcmp(privsep, "0") != 0 && strcmp(privsep, "1") != 0) {
        gh_pve_fail_param(c->resp, "privsep", "type check ('boolean') failed");
        return false;
    }
    tok->privsep = !(p[2].state == GH_FORM_FOUND && strcmp(privsep, "0") == 0);
    return true;
}

/* The look and the write of gh_pve_token_add, inside its transaction. */
static gh_store_err gh_pve_token_put_new(gh_store *store, int64_t account_id, const char *id,
                                         const gh_pve_token *tok)
{
    char         name[GH_ATTRIBUTE_NAME_MAX + 1], text[GH_ATTRIBUTE_VALUE_MAX + 1];
    gh_store_err err;

    gh_pve_token_attr(id, name);
    err = gh_store_attribute_get(store, account_id, GH_PVE_DIALECT, name, text, sizeof(text));
    if (err == GH_STORE_OK) {
        err = GH_STORE_EXISTS;
    } else if (err == GH_STORE_NOT_FOUND) {
        gh_pve_token_text(tok, text);
        err = gh_store_attribute_set(store, account_id, GH_PVE_DIALECT, name, text);
    }
    gh_wipe(text, sizeof(text));
    return err;
}

/* Keep tok as id of account_id, unless id is taken (GH_STORE_EXISTS): the
 * look and the write in one transaction, so two creations of one id cannot
 * both succeed (the second would replace the first one's secret); run again
 * when the store says what it read changed before it committed. */
static gh_store_err gh_pve_token_add(gh_store *store, int64_t account_id, const char *id,
                                     const gh_pve_token *tok)
{
    gh_store_err err = GH_STORE_BUSY;

    for (int tries = 0; err == GH_STORE_BUSY && tries < GH_STORE_TX_TRIES; tries++) {
        err = gh_store_begin(store);
        if (err != GH_STORE_OK)
            break;
        err = gh_store_end(store, gh_pve_token_put_new(store, account_id, id, tok));
    }
    return err;
}

/* Remove token id of account_id: GH_STORE_NOT_FOUND when there is none. */
static gh_store_err gh_pve_token_remove(gh_store *store, int64_t account_id, const char *id)
{
    char name[GH_ATTRIBUTE_NAME_MAX + 1];

    gh_pve_token_attr(id, name);
    return gh_store_attribute_delete(store, account_id, GH_PVE_DIALECT, name);
}

static void gh_pve_token_create(gh_pve_ctx *c, const gh_account *acct)
{
    const char  *id = c->route->tokenid;
    gh_pve_token tok;
    char         secret[GH_TOKEN_TEXT_LEN + 1] = "";
    char         full[GH_USER_NAME_MAX + GH_PVE_REALM_MAX + GH_PVE_TOKENID_MAX + 3];
    gh_store_err err;
    json_t      *data;

    memset(&tok, 0, sizeof(tok));
    if (!gh_pve_token_params(c, &tok))
        goto done;
    if (gh_token_generate(secret) != 0) {
        gh_pve_fail(c->resp, 503, NULL);
        goto done;
    }
    gh_token_digest(secret, GH_TOKEN_TEXT_LEN, tok.digest);
    err = gh_pve_token_add(c->svc->store, acct->id, id, &tok);
    if (err == GH_STORE_EXISTS) {
        gh_pve_fail(c->resp, 400, "Token already exists.");
        goto done;
    }
    if (err != GH_STORE_OK) {
        gh_pve_fail(c->resp, err == GH_STORE_NOT_FOUND ? 404 : 503, NULL);
        goto done;
    }
    snprintf(full, sizeof(full), "%s@%s!%s", c->route->userid.user, c->route->userid.realm, id);
    gh_service_audit(c->svc, GH_AUDIT_ACCOUNT_CHANGED, acct->name, c->req->client_addr,
                     NULL, NULL, "proxmox API token created");
    data = json_pack("{s:s, s:o*, s:s}", "full-tokenid", full,
                     "info", gh_pve_token_info(&tok, NULL), "value", secret);
    if (data != NULL)
        gh_pve_reply(c->resp, 200, data);
    if (data == NULL || c->resp->status != 200) {
        /* A token nobody was told of must not live on. */
        (void)gh_pve_token_remove(c->svc->store, acct->id, id);
        gh_pve_fail(c->resp, 500, NULL);
    }
done:
    gh_wipe(secret, sizeof(secret));
    gh_wipe(&tok, sizeof(tok));
}

void gh_pve_serve_token(gh_pve_ctx *c)
{
    gh_account   acct;
    gh_pve_token tok;
    gh_method    m = c->req->method;
    gh_store_err err;

    memset(&tok, 0, sizeof(tok));
    if (!gh_pve_token_gate(c, m != GH_METHOD_GET && m != GH_METHOD_HEAD, &acct))
        goto done;
    if (m == GH_METHOD_POST) {
        gh_pve_token_create(c, &acct);
        goto done;
    }
    if (m == GH_METHOD_DELETE) {
        err = gh_pve_token_remove(c->svc->store, acct.id, c->route->tokenid);
        if (err == GH_STORE_OK)
            gh_service_audit(c->svc, GH_AUDIT_ACCOUNT_CHANGED, acct.name,
                             c->req->client_addr, NULL, NULL, "proxmox API token deleted");
    } else {
        err = gh_pve_token_get(c->svc->store, acct.id, c->route->tokenid, &tok);
    }
    if (err == GH_STORE_OK)
        gh_pve_reply(c->resp, 200, m == GH_METHOD_DELETE ? NULL : gh_pve_token_info(&tok, NULL));
    else
        gh_pve_fail(c->resp, err == GH_STORE_NOT_FOUND ? 404 : 503,
                    err == GH_STORE_NOT_FOUND ? "no such token" : NULL);
done:
    gh_wipe(&tok, sizeof(tok));
}
