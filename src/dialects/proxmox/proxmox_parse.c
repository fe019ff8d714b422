/*
 * proxmox_parse.c: everything the Proxmox VE dialect reads from a client,
 * and the CSRF token it checks. Each parser sees bytes from the network:
 * it checks lengths before it copies, never reads past a view's end and
 * refuses what it does not fully understand.
 *
 *   path      /api2/json/access/ticket, .../access/users/{userid}/token[/{id}],
 *             anything else below /api2/json is a bundled resource (or 404).
 *   userid    NAME@REALM: NAME an account name (account.h); REALM pam or pve
 *             names gatehouse's local accounts, any other is refused.
 *   ticket    "PVE:" USERID ":" HEXTIME "::" TOKEN (64 hex digits): the token
 *             is the session's, the rest says whose it is and since when.
 *   API token "PVEAPIToken=" USERID "!" TOKENID "=" SECRET, or ':' before the
 *             SECRET (the separator Proxmox Backup Server uses, which some
 *             clients send to both).
 *   CSRF      HEXTIME ":" hex HMAC-SHA256 under the server secret of the
 *             session id and that time, so every worker and thread computes
 *             it from what the session lookup gives and it dies with the
 *             session; compared in constant time.
 *   params    the query, and a body of a form or a JSON object.
 *   stored    a token as the store keeps it (proxmox_internal.h), read back
 *             as strictly as what a client sends.
 */
#include "proxmox_internal.h"

#include "../../core/account.h"
#include "../common/form.h"

#include <stdio.h>
#include <string.h>

#define GH_PVE_PREFIX "/api2/json"

/* Keeps this MAC apart from every other use of the server secret. */
static const char gh_pve_csrf_domain[] = "gatehouse proxmox csrf v1";

/* ---- ids ---- */

static bool gh_pve_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool gh_pve_id_char(char c)
{
    return gh_pve_alpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/* A letter, then letters, digits, '.', '-' and '_': a realm or a token id. */
static bool gh_pve_name_ok(gh_str s, size_t max)
{
    if (s.len == 0 || s.len > max || !gh_pve_alpha(s.data[0]))
        return false;
    for (size_t i = 1; i < s.len; i++) {
        if (!gh_pve_id_char(s.data[i]))
            return false;
    }
    return true;
}

bool gh_pve_tokenid_valid(gh_str text)
{
    return text.data != NULL && gh_pve_name_ok(text, GH_PVE_TOKENID_MAX);
}

gh_pve_id_result gh_pve_userid_parse(gh_str text, gh_pve_userid *out)
{
    const char *at;
    gh_str      name, realm;

    memset(out, 0, sizeof(*out));
    if (text.data == NULL || text.len == 0)
        return GH_PVE_ID_MALFORMED;
    at = memrchr(text.data, '@', text.len);
    if (at == NULL)
        return GH_PVE_ID_MALFORMED;
    name = (gh_str){ text.data, (size_t)(at - text.data) };
    realm = (gh_str){ at + 1, text.len - name.len - 1 };
    if (!gh_pve_name_ok(realm, GH_PVE_REALM_MAX) ||
        !gh_str_copy(out->user, sizeof(out->user), name) ||
        !gh_account_name_valid(out->user)) {
        memset(out, 0, sizeof(*out));
        return GH_PVE_ID_MALFORMED;
    }
    memcpy(out->realm, realm.data, realm.len);
    out->realm[realm.len] = '\0';
    return strcmp(out->realm, "pam") == 0 || strcmp(out->realm, "pve") == 0
               ? GH_PVE_ID_OK : GH_PVE_ID_REALM;
}

/* ---- the path ---- */

/* The next segment of a decoded path after *pos (which sits on a '/'). */
static gh_str gh_pve_segment(const char *path, size_t len, size_t *pos)
{
    size_t start = *pos + 1, end = start;

    while (end < len && path[end] != '/')
        end++;
    *pos = end;
    return (gh_str){ path + start, end - start };
}

/* .../access/users/{userid}/token[/{tokenid}], from the segment after users. */
static void gh_pve_route_tokens(gh_pve_route *r, size_t pos)
{
    gh_str userid = gh_pve_segment(r->path, r->path_len, &pos);
    gh_str token = gh_pve_segment(r->path, r->path_len, &pos);
    gh_str id;

    if (pos > r->path_len || !gh_str_eq(token, "token"))
        return;                         /* not a token route: the tree's 404 */
    r->kind = GH_PVE_TOKENS;
    r->valid = gh_pve_userid_parse(userid, &r->userid) == GH_PVE_ID_OK;
    if (pos == r->path_len)
        return;
    id = gh_pve_segment(r->path, r->path_len, &pos);
    r->kind = GH_PVE_TOKEN;
    r->valid = r->valid && pos == r->path_len && gh_pve_tokenid_valid(id);
    if (r->valid) {
        memcpy(r->tokenid, id.data, id.len);
        r->tokenid[id.len] = '\0';
    }
}

void gh_pve_route_parse(gh_str raw, gh_pve_route *route)
{
    static const char users[] = GH_PVE_PREFIX "/access/users/";
    size_t            n;

    memset(route, 0, offsetof(gh_pve_route, path));
    route->path[0] = '\0';
    if (!gh_path_decode(raw, route->path, GH_PVE_PATH_MAX, &n) || memchr(route->path, '\0', n)) {
        route->path[0] = '\0';
        return;                         /* GH_PVE_TREE, not valid: 404 */
    }
    route->path_len = n;
    route->valid = true;
    if (strcmp(route->path, GH_PVE_PREFIX "/access/ticket") == 0)
        route->kind = GH_PVE_TICKET;
    else if (n > sizeof(users) - 1 && memcmp(route->path, users, sizeof(users) - 1) == 0)
        gh_pve_route_tokens(route, sizeof(users) - 2);
}

/* ---- tickets ---- */

static bool gh_pve_hex(gh_str s, bool upper_only)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.data[i];

        if (!((c >= '0' && c <= '9') || (upper_only ? (c >= 'A' && c <= 'F')
                                                    : (c >= 'a' && c <= 'f'))))
            return false;
    }
    return true;
}

int gh_pve_ticket_parse(gh_str text, gh_pve_ticket *out)
{
    const char *p, *end, *colon;
    gh_str      userid, time, secret;

    memset(out, 0, sizeof(*out));
    if (text.data == NULL || text.len < 4 + 3 + 1 + 8 + 2 + GH_TOKEN_TEXT_LEN ||
        text.len > GH_PVE_TICKET_MAX || memcmp(text.data, "PVE:", 4) != 0)
        return -1;
    p = text.data + 4;
    end = text.data + text.len;
    colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL)
        return -1;
    userid = (gh_str){ p, (size_t)(colon - p) };
    p = colon + 1;
    if ((size_t)(end - p) != 8 + 2 + GH_TOKEN_TEXT_LEN || p[8] != ':' || p[9] != ':')
        return -1;
    time = (gh_str){ p, 8 };
    secret = (gh_str){ p + 10, GH_TOKEN_TEXT_LEN };
    if (!gh_pve_hex(time, true) || !gh_pve_hex(secret, false) ||
        gh_pve_userid_parse(userid, &out->userid) != GH_PVE_ID_OK) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    for (size_t i = 0; i < 8; i++)
        out->issued = out->issued * 16 + gh_hex_digit((unsigned char)time.data[i]);
    out->secret = secret;
    return 0;
}

void gh_pve_ticket_text(const gh_pve_userid *userid, int64_t issued, const char *token,
                        char out[GH_PVE_TICKET_MAX + 1])
{
    snprintf(out, GH_PVE_TICKET_MAX + 1, "PVE:%s@%s:%08X::%s", userid->user, userid->realm,
             (unsigned)(uint32_t)issued, token);
}

/* ---- API tokens ---- */

int gh_pve_apitoken_parse(gh_str value, gh_pve_apitoken *out)
{
    static const char scheme[] = "PVEAPIToken";
    const size_t      slen = sizeof(scheme) - 1;
    const char       *bang, *sep = NULL;
    gh_str            userid, tokenid, secret;

    memset(out, 0, sizeof(*out));
    if (value.data == NULL)
        return 0;
    value = gh_str_trim(value);
    if (value.len <= slen || strncasecmp(value.data, scheme, slen) != 0 ||
        (value.data[slen] != '=' && value.data[slen] != ' '))
        return 0;
    value.data += slen + 1;
    value.len -= slen + 1;
    bang = memchr(value.data, '!', value.len);
    if (bang == NULL)
        return -1;
    userid = (gh_str){ value.data, (size_t)(bang - value.data) };
    for (const char *q = bang + 1; q < value.data + value.len; q++) {
        if (*q == '=' || *q == ':') {
            sep = q;
            break;
        }
    }
    if (sep == NULL)
        return -1;
    tokenid = (gh_str){ bang + 1, (size_t)(sep - bang - 1) };
    secret = (gh_str){ sep + 1, (size_t)(value.data + value.len - sep - 1) };
    if (gh_pve_userid_parse(userid, &out->userid) != GH_PVE_ID_OK ||
        !gh_pve_tokenid_valid(tokenid) || secret.len == 0 || secret.len > GH_TOKEN_TEXT_MAX)
        goto fail;
    for (size_t i = 0; i < secret.len; i++) {
        if ((unsigned char)secret.data[i] < 0x21 || (unsigned char)secret.data[i] > 0x7e)
            goto fail;
    }
    memcpy(out->tokenid, tokenid.data, tokenid.len);
    out->tokenid[tokenid.len] = '\0';
    out->secret = secret;
    return 1;
fail:
    memset(out, 0, sizeof(*out));
    return -1;
}

/* ---- API tokens as the store keeps them ---- */

void gh_pve_token_text(const gh_pve_token *tok, char out[GH_ATTRIBUTE_VALUE_MAX + 1])
{
    char hex[2 * GH_DIGEST_LEN + 1];

    gh_token_hex(tok->digest, GH_DIGEST_LEN, hex);
    snprintf(out, GH_ATTRIBUTE_VALUE_MAX + 1, "v1 %s %d %lld %s", hex, tok->privsep ? 1 : 0,
             (long long)tok->expire, tok->comment);
    gh_wipe(hex, sizeof(hex));
}

/* A decimal of 1 to 12 digits, no leading zero, up to a space; its end in *end. */
static int gh_pve_decimal(const char *p, int64_t *out, const char **end)
{
    size_t n = strspn(p, "0123456789");

    if (n == 0 || n > 12 || (n > 1 && p[0] == '0') || p[n] != ' ')
        return -1;
    *out = 0;
    for (size_t i = 0; i < n; i++)
        *out = *out * 10 + (p[i] - '0');
    *end = p + n;
    return 0;
}

int gh_pve_token_parse(const char *text, gh_pve_token *tok)
{
    const char *p = text;
    int         rc = -1;

    memset(tok, 0, sizeof(*tok));
    if (text == NULL || strncmp(p, "v1 ", 3) != 0)
        goto done;
    p += 3;
    for (size_t i = 0; i < GH_DIGEST_LEN; i++, p += 2) {
        int hi = gh_hex_digit(p[0]), lo = hi < 0 ? -1 : gh_hex_digit(p[1]);

        if (lo < 0 || (p[0] >= 'A' && p[0] <= 'F') || (p[1] >= 'A' && p[1] <= 'F'))
            goto done;
        tok->digest[i] = (uint8_t)(hi << 4 | lo);
    }
    if (p[0] != ' ' || (p[1] != '0' && p[1] != '1') || p[2] != ' ')
        goto done;
    tok->privsep = p[1] == '1';
    if (gh_pve_decimal(p + 3, &tok->expire, &p) != 0 || strlen(p + 1) > GH_PVE_COMMENT_MAX)
        goto done;
    for (const char *q = p + 1; *q != '\0'; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            goto done;
    }
    memcpy(tok->comment, p + 1, strlen(p + 1) + 1);
    rc = 0;
done:
    if (rc != 0)
        gh_wipe(tok, sizeof(*tok));
    return rc;
}

/* ---- CSRF ---- */

void gh_pve_csrf_token(const uint8_t secret[GH_DIGEST_LEN], const char *session_id,
                       int64_t issued, char out[GH_PVE_CSRF_LEN + 1])
{
    char           time[9];
    uint8_t        mac[GH_DIGEST_LEN];
    /* The domain and the id each with their NUL: no two inputs run together. */
    const gh_bytes parts[] = { { gh_pve_csrf_domain, sizeof(gh_pve_csrf_domain) },
                               { session_id, strlen(session_id) + 1 },
                               { time, 8 } };

    snprintf(time, sizeof(time), "%08X", (unsigned)(uint32_t)issued);
    /* A failed MAC is a value unique to the call: it matches nothing. */
    (void)gh_token_mac(secret, parts, sizeof(parts) / sizeof(parts[0]), mac);
    memcpy(out, time, 8);
    out[8] = ':';
    gh_token_hex(mac, GH_DIGEST_LEN, out + 9);
    gh_wipe(mac, sizeof(mac));
}

bool gh_pve_csrf_ok(const uint8_t secret[GH_DIGEST_LEN], const char *session_id, gh_str given)
{
    char    want[GH_PVE_CSRF_LEN + 1];
    int64_t issued = 0;
    bool    ok;

    given = gh_str_trim(given);
    if (given.data == NULL || given.len != GH_PVE_CSRF_LEN || given.data[8] != ':' ||
        !gh_pve_hex((gh_str){ given.data, 8 }, true) || session_id[0] == '\0')
        return false;
    for (size_t i = 0; i < 8; i++)
        issued = issued * 16 + gh_hex_digit((unsigned char)given.data[i]);
    gh_pve_csrf_token(secret, session_id, issued, want);
    /* The length is public (always the same); the bytes compare in constant time. */
    ok = gh_token_equal(want, given.data, GH_PVE_CSRF_LEN);
    gh_wipe(want, sizeof(want));
    return ok;
}

/* ---- parameters ---- */

static gh_pve_param *gh_pve_param_find(gh_pve_param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(params[i].name, name) == 0)
            return &params[i];
    }
    return NULL;
}

static void gh_pve_param_unknown(const char *name, char *unknown, size_t unknownlen)
{
    size_t i = 0;

    /* A name as a message may show it: printable ASCII, the rest as '?'. */
    for (; name[i] != '\0' && i + 1 < unknownlen; i++)
        unknown[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
    if (unknownlen > 0)
        unknown[i] = '\0';
}

/* The pairs of a form (a query or a body) into params. */
static gh_pve_params_result gh_pve_params_form(gh_str input, gh_pve_param *params, size_t n,
                                               char *unknown, size_t unknownlen)
{
    gh_form_iter  it;
    gh_str        rn, rv;
    char          name[GH_FORM_NAME_MAX + 1];
    gh_pve_param *p;
    long          len;
    uint64_t      seen = 0;
    int           r;

    gh_form_iter_init(&it, input);
    while ((r = gh_form_next(&it, &rn, &rv)) == 1) {
        if (gh_form_decode(rn, name, sizeof(name)) < 0)
            return GH_PVE_PARAMS_MALFORMED;
        p = gh_pve_param_find(params, n, name);
        if (p == NULL) {
            gh_pve_param_unknown(name, unknown, unknownlen);
            return GH_PVE_PARAMS_UNKNOWN;
        }
        /* A name twice in one input is malformed: which one would count? */
        if ((seen & (1ull << (p - params))) != 0)
            return GH_PVE_PARAMS_MALFORMED;
        seen |= 1ull << (p - params);
        len = gh_form_decode(rv, p->out, p->outlen);
        if (len == -2) {
            p->state = GH_FORM_TOO_LONG;
            continue;
        }
        if (len < 0 || strlen(p->out) != (size_t)len)
            return GH_PVE_PARAMS_MALFORMED;          /* a bad escape, or a %00 */
        p->state = GH_FORM_FOUND;
    }
    return r == 0 ? GH_PVE_PARAMS_OK : GH_PVE_PARAMS_MALFORMED;
}

/* One JSON member into its parameter. */
static gh_pve_params_result gh_pve_params_value(gh_pve_param *p, const json_t *v)
{
    int len;

    if (json_is_string(v)) {
        if (json_string_length(v) + 1 > p->outlen) {
            p->state = GH_FORM_TOO_LONG;
            return GH_PVE_PARAMS_OK;
        }
        if (strlen(json_string_value(v)) != json_string_length(v))
            return GH_PVE_PARAMS_MALFORMED;
        memcpy(p->out, json_string_value(v), json_string_length(v) + 1);
    } else if (json_is_integer(v)) {
        len = snprintf(p->out, p->outlen, "%lld", (long long)json_integer_value(v));
        if (len < 0 || (size_t)len >= p->outlen)
            return GH_PVE_PARAMS_MALFORMED;
    } else if (json_is_boolean(v)) {
        snprintf(p->out, p->outlen, "%d", json_is_true(v) ? 1 : 0);
    } else {
        return GH_PVE_PARAMS_MALFORMED;
    }
    p->state = GH_FORM_FOUND;
    return GH_PVE_PARAMS_OK;
}

static gh_pve_params_result gh_pve_params_json(gh_str body, gh_pve_param *params, size_t n,
                                               char *unknown, size_t unknownlen)
{
    gh_pve_params_result res = GH_PVE_PARAMS_OK;
    json_error_t         err;
    json_t              *obj = json_loadb(body.data, body.len, JSON_REJECT_DUPLICATES, &err);
    const char          *name;
    json_t              *v;
    gh_pve_param        *p;

    if (!json_is_object(obj)) {
        res = GH_PVE_PARAMS_MALFORMED;
        goto done;
    }
    json_object_foreach(obj, name, v) {
        p = gh_pve_param_find(params, n, name);
        if (p == NULL) {
            gh_pve_param_unknown(name, unknown, unknownlen);
            res = GH_PVE_PARAMS_UNKNOWN;
            goto done;
        }
        res = gh_pve_params_value(p, v);
        if (res != GH_PVE_PARAMS_OK)
            goto done;
    }
done:
    /* The body may hold a password: jansson's copies of its strings go. */
    json_object_foreach(obj, name, v) {
        if (json_is_string(v))
            gh_wipe((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(obj);
    return res;
}

/* The media type of a Content-Type value, parameters and blanks cut off. */
static gh_str gh_pve_media_type(gh_str type)
{
    size_t n = 0;

    while (type.len > 0 && (type.data[0] == ' ' || type.data[0] == '\t')) {
        type.data++;
        type.len--;
    }
    while (n < type.len && type.data[n] != ';' && type.data[n] != ' ' && type.data[n] != '\t')
        n++;
    return (gh_str){ type.data, n };
}

gh_pve_params_result gh_pve_params_read(const gh_request *req, gh_pve_param *params, size_t n,
                                        char *unknown, size_t unknownlen)
{
    gh_pve_params_result res;
    gh_str               type = gh_request_header(req, "Content-Type");
    gh_str               body = req->body;

    if (unknownlen > 0)
        unknown[0] = '\0';
    if (n > 64)
        return GH_PVE_PARAMS_MALFORMED;     /* one bit each in gh_pve_params_form */
    for (size_t i = 0; i < n; i++) {
        params[i].state = GH_FORM_ABSENT;
        if (params[i].outlen > 0)
            params[i].out[0] = '\0';
    }
    if (body.len > GH_PVE_BODY_MAX)
        return GH_PVE_PARAMS_TOO_LARGE;
    res = gh_pve_params_form(req->query, params, n, unknown, unknownlen);
    if (res != GH_PVE_PARAMS_OK || body.data == NULL || body.len == 0)
        return res;
    type = type.data != NULL ? gh_pve_media_type(type) : (gh_str){ "", 0 };
    if (gh_str_eq_nocase(type, "application/json"))
        return gh_pve_params_json(body, params, n, unknown, unknownlen);
    if (type.len == 0 || gh_str_eq_nocase(type, "application/x-www-form-urlencoded"))
        return gh_pve_params_form(body, params, n, unknown, unknownlen);
    return GH_PVE_PARAMS_MALFORMED;
}
