/*
 * ovirt_internal.h: what the files of the oVirt dialect share and nothing
 * outside them uses (but the unit tests and the fuzz targets). Each file
 * calls only the files below it:
 *
 *   ovirt.c          the router: the table, classify, refuse, fail, serve
 *   ovirt_pki.c      the CA download
 *   ovirt_sso.c      the SSO token endpoint and the logout
 *   ovirt_api.c      the API: its gates, persistent-auth sessions, CSRF, the
 *                    root document and the bundled tree
 *   ovirt_headers.c  the request headers: Prefer, Session-TTL, Version, Accept,
 *                    which credential a request of the API carries, profiles
 *   ovirt_route.c    the routes and the methods each answers
 *   ovirt_xml.c      replies: plain text, OAuth errors, faults, the <api> root
 *                    in XML (libxml2's xmlwriter) and JSON (jansson)
 */
#ifndef GH_OVIRT_INTERNAL_H
#define GH_OVIRT_INTERNAL_H

#include <jansson.h>

#include "../../core/policy.h"
#include "ovirt.h"
#include "ovirt_config.h"
#include "ovirt_route.h"

#define GH_OVIRT_ENGINE     "/ovirt-engine"
#define GH_OVIRT_API        "/ovirt-engine/api"
#define GH_OVIRT_TOKEN      "/ovirt-engine/sso/oauth/token"
#define GH_OVIRT_LOGOUT     "/ovirt-engine/services/sso-logout"
#define GH_OVIRT_PKI        "/ovirt-engine/services/pki-resource"

#define GH_OVIRT_COOKIE     "JSESSIONID"
/* A persistent-auth session opened with Prefer: csrf-protection has this mark
 * after its token in the cookie (see ovirt_api.c for why the mark lives there). */
#define GH_OVIRT_CSRF_MARK  ".c"

/* Seconds a client is told to wait after any 503 (no room for a session,
 * the store down): gh_ovirt_text and gh_ovirt_oauth_fail add it. */
#define GH_OVIRT_RETRY_AFTER 30
#define GH_OVIRT_TEXT_TYPE  "text/plain; charset=utf-8"
#define GH_OVIRT_JSON_TYPE  "application/json"
#define GH_OVIRT_API_JSON   "application/json; charset=utf-8"
#define GH_OVIRT_API_XML    "application/xml; charset=utf-8"

#define GH_OVIRT_SCOPE_MAX    1024   /* bytes of a scope we read */
#define GH_OVIRT_GRANT_MAX    64     /* bytes of a grant_type we read */
#define GH_OVIRT_USERNAME_MAX (GH_USER_NAME_MAX + 1 + GH_DOMAIN_MAX)
#define GH_OVIRT_MSG_MAX      512    /* bytes of an error message */
#define GH_OVIRT_TTL_MAX_DIGITS 9    /* Session-TTL minutes: up to 999999999 */

/* The built-in admin as oVirt 4.5.1+ names it: admin@ovirt@internalsso. */
#define GH_OVIRT_SSO_ADMIN_USER    "admin@ovirt"
#define GH_OVIRT_SSO_ADMIN_PROFILE "internalsso"
#define GH_OVIRT_ADMIN_ACCOUNT     "admin"

/* ---- routes (ovirt_route.c; the route itself: ovirt_route.h) ---- */

/* The methods of a read (GET, HEAD) and of the SSO endpoints (GET, POST). */
bool gh_ovirt_read_method(gh_method m);
bool gh_ovirt_sso_method(gh_method m);
/* The methods a route answers, for Allow. Static storage. */
const char *gh_ovirt_allow(gh_ovirt_route_kind kind);

/* ---- the CA download (ovirt_pki.c) ---- */

void gh_ovirt_pki_resource(const gh_service *svc, const gh_request *req, gh_response *resp);

/* ---- headers (ovirt_headers.c) ---- */

#define GH_OVIRT_PREFER_PERSISTENT 0x1u   /* persistent-auth */
#define GH_OVIRT_PREFER_NEW_AUTH   0x2u   /* new-auth */
#define GH_OVIRT_PREFER_CSRF       0x4u   /* csrf-protection */

/* The preferences of a Prefer value (RFC 7240: a comma-separated list of
 * token[=value] with ;-parameters, names matched ignoring case, values and
 * parameters ignored, quoted strings skipped whole). 0 for an absent value. */
unsigned gh_ovirt_prefer(gh_str value);

/* Session-TTL: 1*9DIGIT minutes, surrounding blanks allowed; false (ignore
 * it, as the engine does) for anything else, 0 included. */
bool gh_ovirt_session_ttl(gh_str value, int64_t *minutes);

/* The API version a request asks for: the path's /vN, else the Version
 * header, else 4. True when it is 3 or 4. */
bool gh_ovirt_version_ok(int path_version, gh_str header);

typedef enum {
    GH_OV_FORMAT_XML = 0,
    GH_OV_FORMAT_JSON,
    GH_OV_FORMAT_NONE      /* Accept allows neither: 406 */
} gh_ovirt_format;

/* Content negotiation between application/xml and application/json by
 * q-value; XML wins ties and an absent Accept, as on the engine. */
gh_ovirt_format gh_ovirt_format_for(gh_str accept);

/* Is Accept exactly application/json (case, blanks and parameters aside),
 * as the engine's SSO requires? */
bool gh_ovirt_accept_json(gh_str accept);

typedef enum {
    GH_OV_PROFILE_OK = 0,
    GH_OV_PROFILE_NONE,        /* no @profile */
    GH_OV_PROFILE_UNKNOWN      /* a profile that is not configured */
} gh_ovirt_profile_result;

/* Check user@profile against the configured profiles (cfg NULL: "internal").
 * On OK, user may be rewritten in place: admin@ovirt @ internalsso is the
 * account "admin", and a directory profile's user (a [directory NAME] of the
 * configuration) becomes user@NAME, which the core checks against that
 * directory (unknown when that does not fit). user holds GH_USER_NAME_MAX + 1
 * bytes. */
gh_ovirt_profile_result gh_ovirt_profile(const gh_config *cfg, char *user, const char *profile);

typedef enum {
    GH_OV_BY_NONE = 0,
    GH_OV_BY_AUTHORIZATION,    /* Basic user@profile or Bearer */
    GH_OV_BY_COOKIE            /* the JSESSIONID of a persistent-auth session */
} gh_ovirt_source;

typedef struct {
    unsigned        prefer;
    gh_ovirt_source source;
    gh_str          cookie;      /* the JSESSIONID value as sent; .data NULL when none */
    bool            cookie_csrf; /* it carries GH_OVIRT_CSRF_MARK */
    bool            creates;     /* serving opens a persistent-auth session */
    bool            ends;        /* serving ends the cookie's session afterwards */
} gh_ovirt_auth;

/* Which credential an API request carries, and what serving it does to
 * sessions. The cookie authenticates unless Prefer: new-auth comes with an
 * Authorization header; Basic with a profile that is not configured is no
 * credential at all (kind NONE: 401, as the engine answers). cred must be
 * wiped by the caller. */
void gh_ovirt_api_credential(const gh_request *req, gh_ovirt_auth *auth, gh_credential *cred);

/* The token digested for a cookie value: without the CSRF mark. */
gh_str gh_ovirt_cookie_token(gh_str cookie);

/* How long a token or persistent-auth session may sit unused: want seconds
 * (0: the configured token_idle_timeout; that 0: token_timeout), never more
 * than token_timeout. */
int64_t gh_ovirt_idle(const gh_config *cfg, int64_t want);

/* ---- SSO (ovirt_sso.c) ---- */

typedef enum {
    GH_OV_ERR_NONE = 0,
    GH_OV_ERR_INVALID_REQUEST,
    GH_OV_ERR_UNSUPPORTED_GRANT,
    GH_OV_ERR_INVALID_SCOPE,
    GH_OV_ERR_ACCESS_DENIED,
    GH_OV_ERR_SERVER
} gh_ovirt_error;

typedef struct {
    bool   malformed;           /* a bad escape, a name twice, %00: invalid_request */
    int    grant_type_state;    /* a gh_form_result */
    char   grant_type[GH_OVIRT_GRANT_MAX + 1];
    int    scope_state;
    char   scope[GH_OVIRT_SCOPE_MAX + 1];
    int    username_state;
    char   username[GH_OVIRT_USERNAME_MAX + 1];
    int    password_state;
    char   password[GH_PASSWORD_MAX + 1];
    size_t password_len;
    /* from the check */
    bool   rest_api;            /* errors as {"error_code", "error"} */
    char   user[GH_USER_NAME_MAX + 1];    /* the account to verify */
    char   shown[GH_OVIRT_USERNAME_MAX + 16]; /* user@profile as messages show it */
} gh_ovirt_token_request;

/* One parameter: the query's when it has one, else the form body's (the
 * engine reads both, the query first). A gh_form_result. */
int gh_ovirt_param(gh_str query, gh_str body, const char *name, char *out, size_t outlen);

/* Read a token request's parameters. body is the form body or empty. */
void gh_ovirt_token_read(gh_str query, gh_str body, gh_ovirt_token_request *t);

/* Everything but the password: the Accept header, the parameters, the scope,
 * the profile. GH_OV_ERR_NONE: verify t->user and t->password next. The
 * message for the client goes to msg. */
gh_ovirt_error gh_ovirt_token_check(const gh_config *cfg, gh_str accept,
                                    gh_ovirt_token_request *t, char *msg, size_t msglen);

void gh_ovirt_token_wipe(gh_ovirt_token_request *t);

void gh_ovirt_serve_token(gh_service *svc, const gh_request *req, gh_response *resp);
void gh_ovirt_serve_logout(gh_service *svc, const gh_request *req, gh_response *resp);

/* The form body of a POST (application/x-www-form-urlencoded), else empty. */
gh_str gh_ovirt_form_body(const gh_request *req);

/* ---- API (ovirt_api.c) ---- */

void gh_ovirt_serve_api(gh_service *svc, const gh_tree *tree, const gh_request *req,
                        const gh_principal *who, const gh_ovirt_route *route,
                        gh_response *resp);

/* Gateway mode: may req (an API request, or another under the engine's
 * prefix) pass on to the upstream? Its sessions opened or ended as serve
 * would; false with the engine's refusal in resp. */
bool gh_ovirt_forward_api(gh_service *svc, const gh_request *req, const gh_principal *who,
                          const gh_ovirt_route *route, gh_response *resp);

/* ---- replies (ovirt_xml.c) ---- */

/* A plain-text reply; reason and text of static storage (text is lent to
 * resp, not copied). */
void gh_ovirt_text(gh_response *resp, int status, const char *reason, const char *text);

/* "invalid_request", ... Static storage. */
const char *gh_ovirt_error_code(gh_ovirt_error e);

/* The 401 of the API: reason phrase, realm and text as the engine sends. */
void gh_ovirt_unauthorized(gh_response *resp);

/* An SSO error: {"error_code", "error"} for the REST API scope, else
 * {"error", "error_description"}. */
void gh_ovirt_oauth_fail(gh_response *resp, int status, bool rest_api, gh_ovirt_error code,
                         const char *message);

/* A JSON reply (body stolen); NULL gives 500. */
void gh_ovirt_json(gh_response *resp, int status, json_t *body, const char *type);

/* The API's fault document, <fault><reason/><detail/></fault> or its JSON. */
void gh_ovirt_fault(gh_response *resp, int status, gh_ovirt_format format, const char *reason,
                    const char *detail);

typedef struct {
    int64_t active, total;
} gh_ovirt_count;

typedef struct {
    char           user_id[40];      /* the authenticated user's UUID */
    char           instance_id[40];
    int64_t        now_ms;
    bool           summary;          /* Administrators see it */
    gh_ovirt_count hosts, users, vms;
} gh_ovirt_root;

/* The <api> document in a format (XML or JSON). */
void gh_ovirt_root_reply(gh_response *resp, gh_ovirt_format format, const gh_ovirt_root *root);

/* The collections the root links to, in order, NULL-terminated. */
extern const char *const gh_ovirt_collections[];

#endif
