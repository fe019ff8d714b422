/*
 * proxmox_internal.h: what the files of the Proxmox VE dialect share and
 * nothing outside them (but their unit tests and fuzz targets) uses.
 * proxmox.c owns the dialect table, classification, the refusal, the errors
 * nginx decides, the gates every request passes and the bundled tree;
 * proxmox_ticket.c the ticket endpoint (login and renewal);
 * proxmox_tokens.c API tokens: their endpoints and the check of one a
 * request carries; proxmox_reply.c the {"data": ...} replies, the errors and
 * the capabilities of a role; proxmox_parse.c every parser of what a client
 * sends (the path, user ids, tickets, the PVEAPIToken header, parameters)
 * and the CSRF token. The router calls down into the others, the endpoints
 * call the reply and parse files, and those two call nothing of the dialect.
 */
#ifndef GH_PROXMOX_INTERNAL_H
#define GH_PROXMOX_INTERNAL_H

#include <jansson.h>

#include "proxmox.h"
#include "proxmox_route.h"
#include "../../core/policy.h"

#define GH_PVE_DIALECT       "proxmox"      /* gh_dialect.name: its sessions and attributes */
#define GH_PVE_JSON_TYPE     "application/json;charset=UTF-8"
#define GH_PVE_COOKIE        "PVEAuthCookie"
#define GH_PVE_CSRF_HEADER   "CSRFPreventionToken"
#define GH_PVE_CSRF_LEN      (8 + 1 + 64)   /* HEXTIME ":" 64 hex digits of a MAC */
#define GH_PVE_TICKET_MAX    (4 + GH_USER_NAME_MAX + 1 + GH_PVE_REALM_MAX + 1 + 8 + 2 + \
                              GH_TOKEN_TEXT_LEN)
#define GH_PVE_BODY_MAX      65536          /* bytes of a body we read parameters from */
#define GH_PVE_RETRY_AFTER   30             /* seconds, on 503 */
#define GH_PVE_COMMENT_MAX   160            /* bytes of a token's comment: it and the rest
                                             * of a token fit one store attribute */

/* ---- parsers (proxmox_parse.c) ---- */

typedef enum {
    GH_PVE_ID_OK = 0,
    GH_PVE_ID_MALFORMED,     /* not NAME@REALM with a valid name and realm */
    GH_PVE_ID_REALM          /* well formed, but a realm other than pam and pve */
} gh_pve_id_result;

/* A user id NAME@REALM (split at the last '@'): NAME an account name
 * (account.h), REALM a realm name (a letter, then letters, digits, '.', '-',
 * '_'). Only pam and pve name gatehouse's accounts. */
gh_pve_id_result gh_pve_userid_parse(gh_str text, gh_pve_userid *out);

/* An API token id: a letter, then letters, digits, '.', '-', '_'; at most
 * GH_PVE_TOKENID_MAX bytes. */
bool gh_pve_tokenid_valid(gh_str text);

/* A ticket as gatehouse issues it: "PVE:" USERID ":" 8 upper-case hex digits
 * (the time it was issued) "::" the session token (64 hex digits). */
typedef struct {
    gh_pve_userid userid;
    int64_t       issued;
    gh_str        secret;             /* view into the text */
} gh_pve_ticket;

/* 0, or -1 when text is not a ticket of that form (a realm other than pam
 * or pve included). */
int gh_pve_ticket_parse(gh_str text, gh_pve_ticket *out);

/* The text of a ticket for userid, issued at issued, carrying token. */
void gh_pve_ticket_text(const gh_pve_userid *userid, int64_t issued, const char *token,
                        char out[GH_PVE_TICKET_MAX + 1]);

/* The PVEAPIToken credential of an Authorization header value:
 * "PVEAPIToken" ('=' or a blank) USERID "!" TOKENID ('=' or ':') SECRET, the
 * SECRET 1..GH_TOKEN_TEXT_MAX visible characters. */
typedef struct {
    gh_pve_userid userid;
    char          tokenid[GH_PVE_TOKENID_MAX + 1];
    gh_str        secret;             /* view into the header */
} gh_pve_apitoken;

/* 1: an API token in out; 0: the header is absent or of another scheme;
 * -1: a PVEAPIToken that is malformed (or of a realm other than pam and pve). */
int gh_pve_apitoken_parse(gh_str value, gh_pve_apitoken *out);

/* An API token as the store keeps it: the account attribute "token:ID" of
 * this dialect, whose text is "v1" SP 64 lower-case hex digits (the SHA-256
 * of the secret) SP privsep ("0" or "1") SP expire (epoch seconds, 0 never;
 * decimal, no leading zero) SP comment (the rest, no control characters).
 * An account's tokens are its attributes whose names start "token:". */
#define GH_PVE_TOKEN_ATTR    "token:"
typedef struct {
    uint8_t digest[GH_DIGEST_LEN];
    bool    privsep;                  /* at most ReadOnly's privileges */
    int64_t expire;                   /* 0: never */
    char    comment[GH_PVE_COMMENT_MAX + 1];
} gh_pve_token;

_Static_assert(2 + 1 + 2 * GH_DIGEST_LEN + 3 + 1 + 12 + 1 + GH_PVE_COMMENT_MAX <= GH_ATTRIBUTE_VALUE_MAX,
               "a token must fit one store attribute");
_Static_assert(sizeof(GH_PVE_TOKEN_ATTR) - 1 + GH_PVE_TOKENID_MAX <= GH_ATTRIBUTE_NAME_MAX,
               "a token's attribute name must fit the store");

/* The text of tok, as the store keeps it. */
void gh_pve_token_text(const gh_pve_token *tok, char out[GH_ATTRIBUTE_VALUE_MAX + 1]);
/* 0 with tok filled, or -1 when text is not exactly of that form. */
int gh_pve_token_parse(const char *text, gh_pve_token *tok);

/* The CSRFPreventionToken of a session issued at issued: the time in 8 hex
 * digits, ':', and hex HMAC-SHA256(secret, domain, session id, that time). */
void gh_pve_csrf_token(const uint8_t secret[GH_DIGEST_LEN], const char *session_id,
                       int64_t issued, char out[GH_PVE_CSRF_LEN + 1]);
/* Does the header value belong to the session (the MAC compared in constant
 * time)? */
bool gh_pve_csrf_ok(const uint8_t secret[GH_DIGEST_LEN], const char *session_id, gh_str given);

/* One parameter an endpoint reads: its value, NUL-terminated, in out;
 * state a gh_form_result (FOUND, ABSENT, TOO_LONG). */
typedef struct {
    const char *name;
    char       *out;
    size_t      outlen;
    int         state;
} gh_pve_param;

typedef enum {
    GH_PVE_PARAMS_OK = 0,
    GH_PVE_PARAMS_MALFORMED,  /* a body that is neither a form nor a JSON object, a bad
                               * escape, a name twice, a value of another type */
    GH_PVE_PARAMS_UNKNOWN,    /* a name not among params: copied to unknown */
    GH_PVE_PARAMS_TOO_LARGE
} gh_pve_params_result;

/* Read params from the request: the query, then a body of
 * application/x-www-form-urlencoded or application/json (an object whose
 * values are strings, integers or booleans, read as text, 1 or 0). A value
 * given in both the query and the body is the body's. */
gh_pve_params_result gh_pve_params_read(const gh_request *req, gh_pve_param *params, size_t n,
                                        char *unknown, size_t unknownlen);

/* ---- replies (proxmox_reply.c) ---- */

/* {"data": data} (stolen; NULL for null) with status. */
void gh_pve_reply(gh_response *resp, int status, json_t *data);
/* An error as Proxmox VE sends one: the status with reason (static, may be
 * NULL for the status's own text) as its status line and {"data": null}, plus
 * what the status needs (Retry-After on 503). */
void gh_pve_fail(gh_response *resp, int status, const char *reason);
/* 400 "Parameter verification failed." with {"data": null, "errors":
 * {name: text}}. */
void gh_pve_fail_param(gh_response *resp, const char *name, const char *text);
/* true when rc (gh_pve_params_read's) is GH_PVE_PARAMS_OK; else false with
 * the answer made: 400 naming unknown, 413, or 400 for a malformed one. */
bool gh_pve_params_ok(gh_response *resp, gh_pve_params_result rc, const char *unknown);
/* The "cap" object of a ticket: the Proxmox VE privileges a role holds, by
 * the ACL path they are granted on. NULL when out of memory. */
json_t *gh_pve_caps(gh_role role);
/* The Proxmox VE role a core role is shown as. Static storage. */
const char *gh_pve_role_name(gh_role role);

/* ---- serving ---- */

typedef struct {
    gh_service         *svc;
    const gh_request   *req;
    const gh_pve_route *route;
    const gh_principal *who;          /* NULL on the ticket endpoint */
    bool                by_api_token; /* who came from a PVEAPIToken */
    unsigned            withheld;     /* what a privsep token takes away (policy.h) */
    gh_response        *resp;
} gh_pve_ctx;

/* The ticket endpoint (proxmox_ticket.c): POST logs in or renews. */
void gh_pve_serve_ticket(gh_pve_ctx *c);

/* The API token of the request (proxmox_tokens.c) checked against the store:
 * true with who filled in, else false with the refusal made. */
bool gh_pve_apitoken_check(gh_pve_ctx *c, gh_principal *who);
void gh_pve_serve_tokens(gh_pve_ctx *c);
void gh_pve_serve_token(gh_pve_ctx *c);

#endif
