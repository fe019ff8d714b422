/*
 * powerstore_session.c: PowerStore sessions: GET /api/rest/login_session,
 * POST /api/rest/logout, and the DELL-EMC-TOKEN CSRF header.
 *
 * Login is a GET of login_session with Basic credentials (the adapter has
 * verified them): a new session in the core, its token sent once as the
 * auth_cookie cookie (Path=/; Secure; HttpOnly; SameSite=Strict, no Domain,
 * so it goes back to the host that set it, an IP address as well as a name),
 * and a JSON array holding the one login_session object. The same GET with
 * the cookie instead describes the session the cookie belongs to.
 *
 * The CSRF token is not stored with the session: it is hex HMAC-SHA256 of
 * the session's public id under the server secret (domain-separated from
 * every other use of the secret), so every worker and thread computes the
 * same token from what the session lookup gives, and the token dies with its
 * session. Only the secret can mint it, and it is compared in constant time.
 * Each thread remembers the tokens it computed last, so a read shows the
 * token without an HMAC per request.
 *
 * Logout ends the session the request came with: the cookie's, or, for a
 * request with Basic credentials, the one its auth_cookie (if any) names when
 * it is a PowerStore session of the same account. Either way the answer is
 * 204 and a Set-Cookie that makes the client forget the cookie.
 */
#include "powerstore_internal.h"

#include <stdio.h>
#include <string.h>

_Static_assert(GH_PS_CSRF_LEN == 2 * GH_DIGEST_LEN, "the token is the MAC in hex");

/* Keeps this MAC apart from the credential-cache key under the same secret. */
static const char gh_ps_csrf_domain[] = "gatehouse powerstore csrf v1";

/* The token; false when the MAC failed and out is an unmatchable value. */
static bool gh_ps_csrf_compute(const uint8_t secret[GH_DIGEST_LEN], const char *session_id,
                               size_t id_len, char out[GH_PS_CSRF_LEN + 1])
{
    /* The domain with its NUL, then the id: no two inputs run together. */
    const gh_bytes parts[] = { { gh_ps_csrf_domain, sizeof(gh_ps_csrf_domain) },
                               { session_id, id_len } };
    uint8_t mac[GH_DIGEST_LEN];
    /* A failed MAC is a value unique to the call: it fails every comparison. */
    bool    ok = gh_token_mac(secret, parts, sizeof(parts) / sizeof(parts[0]), mac);

    gh_token_hex(mac, GH_DIGEST_LEN, out);
    gh_wipe(mac, sizeof(mac));
    return ok;
}

/*
 * Every read of a cookie session shows its token, so each thread keeps the
 * tokens of the sessions it served last instead of computing an HMAC per
 * request: a direct-mapped table indexed by the id's first hex digits (the
 * id is random), valid under the secret it was filled with. A token is a
 * function of (secret, id) and an id is never reused, so an entry can only
 * ever be right or unused; one of an ended session is overwritten in time.
 * The table is plain thread-local memory, freed by the C library with its
 * thread: nothing runs in this module's code at thread exit (see token.c).
 */
#define GH_PS_CSRF_SLOTS 64     /* a power of two */

typedef struct {
    char id[GH_SESSION_ID_LEN + 1];
    char token[GH_PS_CSRF_LEN + 1];
} gh_ps_csrf_slot;

static _Thread_local struct {
    bool            keyed;
    uint8_t         secret[GH_DIGEST_LEN];
    gh_ps_csrf_slot slot[GH_PS_CSRF_SLOTS];
} gh_ps_csrf_cache;

void gh_ps_csrf_token(const uint8_t secret[GH_DIGEST_LEN], const char *session_id,
                      char out[GH_PS_CSRF_LEN + 1])
{
    size_t           len = strnlen(session_id, GH_SESSION_ID_LEN);
    gh_ps_csrf_slot *slot;

    if (len != GH_SESSION_ID_LEN || strspn(session_id, "0123456789abcdef") != len) {
        (void)gh_ps_csrf_compute(secret, session_id, len, out);   /* not an id we issue */
        return;
    }
    if (!gh_ps_csrf_cache.keyed ||
        !gh_token_equal(gh_ps_csrf_cache.secret, secret, GH_DIGEST_LEN)) {
        gh_wipe(&gh_ps_csrf_cache, sizeof(gh_ps_csrf_cache));
        memcpy(gh_ps_csrf_cache.secret, secret, GH_DIGEST_LEN);
        gh_ps_csrf_cache.keyed = true;
    }
    slot = &gh_ps_csrf_cache.slot[((unsigned)gh_hex_digit(session_id[0]) << 4 |
                                   (unsigned)gh_hex_digit(session_id[1])) & (GH_PS_CSRF_SLOTS - 1)];
    if (memcmp(slot->id, session_id, GH_SESSION_ID_LEN) != 0) {
        /* A failed MAC is answered but not kept: the next request tries again. */
        if (!gh_ps_csrf_compute(secret, session_id, len, out))
            return;
        memcpy(slot->token, out, GH_PS_CSRF_LEN + 1);
        memcpy(slot->id, session_id, GH_SESSION_ID_LEN);
        slot->id[GH_SESSION_ID_LEN] = '\0';
        return;
    }
    memcpy(out, slot->token, GH_PS_CSRF_LEN + 1);
}

bool gh_ps_csrf_ok(const gh_ps_ctx *c)
{
    gh_str given = gh_str_trim(gh_request_header(c->req, GH_PS_CSRF_HEADER));
    char   want[GH_PS_CSRF_LEN + 1];
    bool   ok;

    if (given.data == NULL || given.len != GH_PS_CSRF_LEN || c->who->session_id[0] == '\0')
        return false;
    gh_ps_csrf_token(c->svc->secret, c->who->session_id, want);
    /* The length is public (always 64); the bytes are compared in constant time. */
    ok = gh_token_equal(want, given.data, GH_PS_CSRF_LEN);
    gh_wipe(want, sizeof(want));
    return ok;
}

void gh_ps_cookie_clear(gh_response *resp)
{
    gh_response_header_add(resp, "Set-Cookie",
                           GH_PS_COOKIE "=; Path=/; Max-Age=0; "
                           "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; "
                           "SameSite=Strict");
}

/* ---- login_session ---- */

static json_t *gh_ps_session_json(gh_service *svc, const gh_session_record *rec,
                                  const gh_account *acct)
{
    char    role[4];
    int64_t idle = rec->idle_timeout > 0 ? rec->idle_timeout
                                         : gh_service_setting(svc, GH_SET_SESSION_TIMEOUT);

    snprintf(role, sizeof(role), "%u", gh_ps_role_of(svc->store, acct));
    return json_pack("{s:s, s:s, s:[s], s:I, s:b, s:b}",
                     "id", rec->id,
                     "user", acct->name,
                     "role_ids", role,
                     "idle_timeout", (json_int_t)idle,
                     "is_password_change_required", acct->password_change_required,
                     "is_built_in_user", acct->built_in);
}

/* A new session for a Basic login; false with the reply made. */
static bool gh_ps_session_new(gh_ps_ctx *c, gh_session_record *rec,
                              char token[GH_TOKEN_TEXT_LEN + 1])
{
    switch (gh_service_session_create(c->svc, c->who, GH_PS_NAME,
                                      gh_ps_settings_of(c->svc->config)->idle_timeout,
                                      c->req->client_addr, token, rec)) {
    case GH_SESSION_CREATED:
        return true;
    case GH_SESSION_LIMIT_TOTAL:
    case GH_SESSION_LIMIT_ACCOUNT:
        gh_ps_fail(c->resp, GH_PS_E_SESSION_LIMIT, NULL);
        return false;
    default:
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        return false;
    }
}

void gh_ps_serve_login_session(gh_ps_ctx *c)
{
    gh_account        acct;
    gh_session_record rec;
    gh_store_err      err;
    char              token[GH_TOKEN_TEXT_LEN + 1] = "";
    char              csrf[GH_PS_CSRF_LEN + 1];
    bool              created = false;

    memset(&acct, 0, sizeof(acct));
    if (!gh_ps_need_store(c))
        return;
    err = gh_store_account_get_by_id(c->svc->store, c->who->account_id, &acct);
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    if (err == GH_STORE_NOT_FOUND) {
        /* Deleted between the credential check and now. */
        gh_ps_fail(c->resp, GH_PS_E_AUTH_REQUIRED, NULL);
        return;
    }
    if (err != GH_STORE_OK) {
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        return;
    }
    if (c->who->session_id[0] == '\0') {
        if (!gh_ps_session_new(c, &rec, token))
            goto done;
        created = true;
    } else {
        err = gh_store_session_get(c->svc->store, c->who->session_id, &rec);
        if (err != GH_STORE_OK) {
            gh_ps_fail(c->resp, err == GH_STORE_NOT_FOUND ? GH_PS_E_AUTH_REQUIRED
                                                          : GH_PS_E_UNAVAILABLE, NULL);
            goto done;
        }
    }
    gh_ps_reply_collection(c, json_pack("[o]", gh_ps_session_json(c->svc, &rec, &acct)));
    if (!created)
        goto done;
    if (c->resp->status != 200 && c->resp->status != 206) {
        /* A session the client is not told of must not live on. */
        (void)gh_service_session_end(c->svc, rec.id, GH_AUDIT_REVOKED, c->who->user,
                                     c->req->client_addr);
        goto done;
    }
    gh_ps_csrf_token(c->svc->secret, rec.id, csrf);
    gh_response_header_add(c->resp, "Set-Cookie",
                           GH_PS_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", token);
    gh_response_header_add(c->resp, GH_PS_CSRF_HEADER, "%s", csrf);
    gh_wipe(csrf, sizeof(csrf));
done:
    gh_wipe(token, sizeof(token));
}

/* ---- logout ---- */

/* The PowerStore session of the caller's account that the request's
 * auth_cookie names; false when there is none, or (*unavailable) when the
 * store could not say. */
static bool gh_ps_cookie_session(const gh_ps_ctx *c, char id[GH_SESSION_ID_LEN + 1],
                                 bool *unavailable)
{
    gh_str            cookie = gh_credential_cookie(gh_request_header(c->req, "Cookie"),
                                                    GH_PS_COOKIE);
    gh_credential     cred;
    gh_principal      found;
    gh_session_record rec;
    uint8_t           digest[GH_DIGEST_LEN];
    gh_shared_result  r;
    bool              ok = false;

    *unavailable = false;
    gh_credential_token(cookie, &cred);
    if (cred.kind != GH_CRED_TOKEN)
        goto done;
    gh_token_digest(cred.token.data, cred.token.len, digest);
    memset(&found, 0, sizeof(found));
    r = gh_session_find_wait(c->svc->sessions, digest, gh_now(), &found, &rec);
    *unavailable = r == GH_SHARED_UNAVAILABLE;
    if (r == GH_SHARED_OK &&
        strcmp(found.dialect, GH_PS_NAME) == 0 && found.account_id == c->who->account_id) {
        memcpy(id, found.session_id, GH_SESSION_ID_LEN + 1);
        ok = true;
    }
done:
    gh_wipe(digest, sizeof(digest));
    gh_credential_wipe(&cred);
    return ok;
}

void gh_ps_serve_logout(gh_ps_ctx *c)
{
    char         id[GH_SESSION_ID_LEN + 1] = "";
    gh_store_err err = GH_STORE_OK;
    bool         unavailable = false;

    if (!gh_ps_need_store(c))
        return;
    if (c->who->session_id[0] != '\0')
        memcpy(id, c->who->session_id, sizeof(id));
    else if (!gh_ps_cookie_session(c, id, &unavailable))
        id[0] = '\0';
    if (unavailable)
        err = GH_STORE_ERROR;       /* the store is down: not logged out */
    else if (id[0] != '\0')
        err = gh_service_session_end(c->svc, id, GH_AUDIT_LOGOUT, c->who->user,
                                     c->req->client_addr);
    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND) {
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        return;
    }
    c->resp->status = 204;
    gh_ps_cookie_clear(c->resp);
}
