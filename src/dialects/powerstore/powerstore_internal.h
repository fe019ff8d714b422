/*
 * powerstore_internal.h: what the files of the PowerStore dialect share and
 * nothing outside them (but their unit tests and fuzz targets) uses. Each
 * file calls only the files below it:
 *
 *   powerstore.c          the router: the table, classify, refuse, fail, the
 *                         gates every request passes in serve (its request
 *                         headers among them), and the rendered answers of
 *                         plain reads, served without building them
 *   powerstore_session.c  login_session, logout and the CSRF token
 *   powerstore_users.c    the roles and local_user
 *   powerstore_ldap.c     ldap_domain and ldap_account: directory profiles
 *                         served, over the two files that map them
 *   powerstore_ldap_domain.c, powerstore_ldap_account.c
 *                         an ldap_domain as a profile, an ldap_account as a
 *                         DN of a profile's role map, both ways
 *   powerstore_tree.c     the bundled read-only resources and the render hook
 *   powerstore_route.c    the routes and the methods each allows
 *   powerstore_query.c    the query parameters (filters, limit and offset),
 *                         the Range header, the paging of a collection
 *   powerstore_select.c   the select parameter and the name and blank
 *                         characters both parse
 *   powerstore_reply.c    the error codes, the JSON replies, the store and
 *                         body checks every handler makes
 */
#ifndef GH_POWERSTORE_INTERNAL_H
#define GH_POWERSTORE_INTERNAL_H

#include <jansson.h>

#include "../../core/account.h"
#include "../../core/config.h"
#include "../../core/policy.h"
#include "../common/form.h"
#include "powerstore.h"
#include "powerstore_config.h"
#include "powerstore_route.h"

#define GH_PS_PREFIX        "/api/rest"   /* the dialect's prefix: all of it is its own */
#define GH_PS_JSON_TYPE     "application/json"
#define GH_PS_BODY_MAX      65536    /* bytes of a JSON body we parse */
#define GH_PS_RETRY_AFTER   30       /* seconds, on 503 */
#define GH_PS_COOKIE        "auth_cookie"
#define GH_PS_CSRF_HEADER   "DELL-EMC-TOKEN"
#define GH_PS_CSRF_LEN      64       /* hex characters of the CSRF token */
#define GH_PS_ROLE_COUNT    5

/* ---- query parameters, Range and paging (powerstore_query.c) ---- */

#define GH_PS_SELECT_MAX     128     /* names in one select, at every depth together */
#define GH_PS_SELECT_DEPTH   6       /* levels of a(b(c)) */
#define GH_PS_NAME_MAX       64      /* bytes of an attribute name */
#define GH_PS_FILTERS_MAX    16      /* filter parameters in one query */
#define GH_PS_FILTER_VALUES  32      /* values of one in.(...) filter */
#define GH_PS_QUERY_MAX      8192    /* bytes of a raw query */
#define GH_PS_LIMIT_DEFAULT  100     /* items a page holds unless asked otherwise */
#define GH_PS_LIMIT_MAX      2000    /* items a page holds at most */
#define GH_PS_INDEX_MAX      999999999999ULL  /* largest offset or Range bound we take */

/* A parsed select: a forest of attribute names kept as offsets into text,
 * so the struct holds no pointers into itself. */
typedef struct {
    uint16_t off, len;       /* the name in text */
    int16_t  child;          /* first name of its (...) list, or -1 */
    int16_t  next;           /* next name of the same list, or -1 */
} gh_ps_select_node;

typedef struct {
    char              text[GH_FORM_VALUE_MAX + 1];
    size_t            n;
    gh_ps_select_node node[GH_PS_SELECT_MAX];
} gh_ps_select;

/* A character of an attribute name: a letter, a digit or '_'
 * (powerstore_select.c, which powerstore_query.c calls, never the reverse). */
bool gh_ps_name_char(char c);
/* A blank a query may hold around names and punctuation: space or tab. */
bool gh_ps_blank(char c);

/* Parse a decoded select value (powerstore_select.c): names of letters,
 * digits and '_', or '*' (every attribute), separated by commas, each name
 * optionally followed by a parenthesised list of the same kind (the
 * attributes of an embedded or related object); blanks around names and
 * punctuation are ignored. 0, or -1 when malformed or over a limit above (an
 * empty name, an unbalanced parenthesis, a trailing comma, a list after '*'). */
int gh_ps_select_parse(gh_str text, gh_ps_select *sel);

/* A new object holding only the selected attributes of obj that it has (an
 * unknown name is left out); a name with a list applies that list to its
 * object, or to each object of its array. A list with '*' keeps every
 * attribute of obj, in obj's order, and a name of it with a list of its own
 * is cut down by that list. NULL when out of memory. */
json_t *gh_ps_select_apply(const gh_ps_select *sel, const json_t *obj);

typedef enum {
    GH_PS_FILTER_EQ = 1,     /* attr=eq.VALUE */
    GH_PS_FILTER_NEQ,        /* attr=neq.VALUE */
    GH_PS_FILTER_IN          /* attr=in.(V1,V2,...) */
} gh_ps_filter_op;

typedef struct {
    uint16_t        name_off, name_len;
    gh_ps_filter_op op;
    uint16_t        nvalues;
    uint16_t        value_off[GH_PS_FILTER_VALUES];
    uint16_t        value_len[GH_PS_FILTER_VALUES];
} gh_ps_filter;

typedef struct {
    bool          has_select;
    gh_ps_select  select;                  /* "id" when the query names none */
    bool          has_limit, has_offset;
    int64_t       limit;                   /* 1..GH_PS_LIMIT_MAX once parsed */
    int64_t       offset;
    size_t        nfilters;
    gh_ps_filter  filter[GH_PS_FILTERS_MAX];
    size_t        text_len;
    char          text[GH_PS_QUERY_MAX + 1];   /* decoded filter names and values */
} gh_ps_query;

typedef enum {
    GH_PS_QUERY_OK = 0,
    GH_PS_QUERY_BAD_SELECT,  /* 400: select malformed or given twice */
    GH_PS_QUERY_BAD_PARAM,   /* 400: an unknown operator, order, a bad number, a bad escape */
    GH_PS_QUERY_BAD_RANGE    /* 416: limit of 0 or less */
} gh_ps_query_result;

/* Parse a raw (form-encoded) query. On a fault, param names the parameter at
 * fault (decoded and cut to fit, never a value). */
gh_ps_query_result gh_ps_query_parse(gh_str raw, gh_ps_query *q, char *param, size_t paramlen);

/* The query of a read that sends none (select=id, no filter, the default
 * page), parsed once and shared; NULL if that failed. */
const gh_ps_query *gh_ps_query_default(void);

/* Does obj pass every filter of q? Scalars compare by their text, ignoring
 * ASCII case, as PowerStore filters do; an absent attribute reads as null. */
bool gh_ps_query_match(const gh_ps_query *q, const json_t *obj);

/* A Range request header, "FIRST-LAST" or "FIRST-" (0-based, inclusive). */
typedef struct {
    uint64_t first, last;
    bool     has_last;
} gh_ps_range;

/* 1: a range in out; 0: value absent (.data NULL); -1: malformed (not two
 * decimal numbers of at most 12 digits with LAST >= FIRST). */
int gh_ps_range_parse(gh_str value, gh_ps_range *out);

typedef struct {
    size_t first, count;
    bool   partial;          /* 206 with Content-Range */
} gh_ps_page;

/* Which items of a collection of total a request gets: range (NULL when the
 * request has none) wins over limit and offset. A page holds at most
 * GH_PS_LIMIT_MAX items. A Range is always answered 206; limit and offset
 * give 206 only when items are left out. 0, or -1 for 416 (a start at or
 * past the end of a collection that is not empty). */
int gh_ps_page_plan(const gh_ps_query *q, const gh_ps_range *range, size_t total,
                    gh_ps_page *out);

/* ---- replies and error codes (powerstore_reply.c) ---- */

typedef enum {
    GH_PS_E_AUTH_REQUIRED = 0,
    GH_PS_E_BAD_CREDENTIALS,
    GH_PS_E_MALFORMED_AUTH,
    GH_PS_E_BAD_JSON,
    GH_PS_E_BAD_SELECT,
    GH_PS_E_BAD_QUERY,
    GH_PS_E_BAD_PROPERTY,
    GH_PS_E_MISSING_PROPERTY,
    GH_PS_E_BAD_VALUE,
    GH_PS_E_WRONG_PASSWORD,
    GH_PS_E_BAD_REQUEST,
    GH_PS_E_CSRF,
    GH_PS_E_PRIVILEGE,
    GH_PS_E_PASSWORD_CHANGE,
    GH_PS_E_PLAIN_HTTP,
    GH_PS_E_NOT_FOUND,
    GH_PS_E_METHOD,
    GH_PS_E_NOT_ACCEPTABLE,
    GH_PS_E_TIMEOUT,
    GH_PS_E_CONFLICT,
    GH_PS_E_TOO_LARGE,
    GH_PS_E_URI_TOO_LONG,
    GH_PS_E_MEDIA_TYPE,
    GH_PS_E_RANGE,
    GH_PS_E_BUILT_IN,
    GH_PS_E_SELF,
    GH_PS_E_NAME_EXISTS,
    GH_PS_E_LDAP_EXISTS,
    GH_PS_E_LDAP_REFUSED,
    GH_PS_E_LDAP_VERIFY,
    GH_PS_E_TOO_MANY,
    GH_PS_E_HEADERS_TOO_LARGE,
    GH_PS_E_INTERNAL,
    GH_PS_E_BAD_GATEWAY,
    GH_PS_E_UNAVAILABLE,
    GH_PS_E_SESSION_LIMIT,
    GH_PS_E_GATEWAY_TIMEOUT,
    GH_PS_E_COUNT
} gh_ps_error;

/* The stable code ("0xE1401001") and status of an error. Static storage. */
const char *gh_ps_error_code(gh_ps_error e);
int gh_ps_error_status(gh_ps_error e);

/* A JSON reply: status and body (stolen); a NULL body gives 500. */
void gh_ps_reply(gh_response *resp, int status, json_t *body);
/* The error body {"messages":[{code, severity, message_l10n, arguments}]};
 * arg, when not NULL, fills the message's one argument. Adds what the
 * status needs (WWW-Authenticate on 401, Retry-After on 503). */
void gh_ps_fail(gh_response *resp, gh_ps_error e, const char *arg);
/* The error for a status decided outside the dialect; statuses without an
 * error of their own get 0xE1SSS000. path names the resource of a 404,
 * method and allow the refused method and the allowed ones of a 405. */
void gh_ps_fail_status(gh_response *resp, int status, const char *path, const char *method,
                       const char *allow);

/* ---- serving ---- */

typedef struct {
    gh_service         *svc;
    const gh_tree      *tree;
    const gh_request   *req;
    const gh_principal *who;         /* never NULL: nothing here is open */
    const gh_ps_route  *route;
    const gh_ps_query  *query;       /* GET and HEAD only, else NULL */
    gh_response        *resp;
} gh_ps_ctx;

/* A handler that needs the store checks this first: 503 when it is absent
 * (a route classified INLINE by mistake fails closed). (powerstore_reply.c) */
bool gh_ps_need_store(const gh_ps_ctx *c);
/* The request body as a JSON object, or NULL with the 400/413 made.
 * (powerstore_reply.c) */
json_t *gh_ps_body(const gh_ps_ctx *c);
/* Reply with a collection (stolen array of objects): filters, paging (with
 * the Range header), select; 200, 206 + Content-Range, or 416.
 * (powerstore_query.c) */
void gh_ps_reply_collection(const gh_ps_ctx *c, json_t *items);
/* Reply with one instance (stolen object), select applied. (powerstore_query.c) */
void gh_ps_reply_instance(const gh_ps_ctx *c, json_t *obj);

/* ---- routes (powerstore_route.c; the route itself: powerstore_route.h) ---- */

/* The methods a route allows (GH_METHOD_BIT set). */
unsigned gh_ps_allowed(gh_ps_route_kind kind);

/* ---- the bundled resources (powerstore_tree.c) ---- */

/* The resource at the route, borrowed from the tree: its own entry, else the
 * member of a collection (an array of objects) whose id is the last segment;
 * NULL when there is none. */
const json_t *gh_ps_tree_resource(const gh_tree *tree, const gh_ps_route *r);
/* Serve the route's resource of the tree, or 404. */
void gh_ps_serve_tree(gh_ps_ctx *c);
/* The dialect's render hook (dialect.h). */
int gh_ps_render(gh_tree *tree, char *err, size_t errlen);

/* ---- sessions (powerstore_session.c) ---- */

/* The DELL-EMC-TOKEN of a session: hex HMAC-SHA256(secret, domain || id). */
void gh_ps_csrf_token(const uint8_t secret[GH_DIGEST_LEN], const char *session_id,
                      char out[GH_PS_CSRF_LEN + 1]);
/* Does the request's DELL-EMC-TOKEN belong to its session (constant time)? */
bool gh_ps_csrf_ok(const gh_ps_ctx *c);
/* Set-Cookie that ends the auth_cookie in the client. */
void gh_ps_cookie_clear(gh_response *resp);
void gh_ps_serve_login_session(gh_ps_ctx *c);
void gh_ps_serve_logout(gh_ps_ctx *c);

/* ---- roles and users (powerstore_users.c) ---- */

/* The attribute the PowerStore role id given to an account is kept under. */
#define GH_PS_ROLE_ATTRIBUTE "role"
/* The PowerStore role of an account of core role role, kept being the one
 * given through this dialect (0: none): kept while the core role still
 * matches it, else the one the core role maps to. */
unsigned gh_ps_role_pick(unsigned kept, gh_role role);
/* The same with the kept role read from store (none readable: derived). */
unsigned gh_ps_role_of(gh_store *store, const gh_account *acct);
/* Keep role as the one given to the account (one statement: may run inside
 * gh_store_begin/end). */
gh_store_err gh_ps_role_keep(gh_store *store, int64_t account_id, unsigned role);
/* The core role a PowerStore role maps onto; GH_ROLE_NONE outside 1..5. */
gh_role gh_ps_core_role(unsigned role);
void gh_ps_serve_roles(gh_ps_ctx *c);
void gh_ps_serve_role(gh_ps_ctx *c);
void gh_ps_serve_users(gh_ps_ctx *c);
void gh_ps_serve_user(gh_ps_ctx *c);

/* ---- directory profiles: ldap_domain and ldap_account ---- */

#define GH_PS_LDAP_SERVERS_MAX 8     /* hosts of one ldap_domain */

/* An ldap_domain of profile p (powerstore_ldap_domain.c); NULL when out of
 * memory. Never a password. */
json_t *gh_ps_ldap_domain_json(const gh_config_directory *p);
/* The properties of a POST (create: *p filled from fresh defaults) or a
 * PATCH (onto *p, the profile in effect) of an ldap_domain body.
 * GH_PS_E_COUNT when they apply, else the error (BAD_PROPERTY,
 * MISSING_PROPERTY, BAD_VALUE) with *prop naming the property. The
 * bind_password is not looked at beyond its type: the caller takes it. */
gh_ps_error gh_ps_ldap_domain_apply(const json_t *body, bool create, gh_config_directory *p,
                                    const char **prop);
/* One DN that libldap parses, with no '|' (the role map's separator). */
bool gh_ps_ldap_dn_ok(const char *dn);

/* The id of the ldap_account of dn in domain (powerstore_ldap_account.c):
 * 1 to 2^48 - 1, the same for every spelling of the DN; 0 when dn is no DN. */
int64_t gh_ps_ldap_account_id(const char *domain, const char *dn);
/* The ldap_account of dn, mapped to PowerStore role role in profile p. */
json_t *gh_ps_ldap_account_json(const gh_config_directory *p, unsigned role, const char *dn);
typedef int (*gh_ps_ldap_account_cb)(const gh_config_directory *p, unsigned role,
                                     const char *dn, void *arg);
/* cb for each DN of p's role map, Administrator's first; stops at and
 * returns cb's first non-zero answer. */
int gh_ps_ldap_accounts_each(const gh_config_directory *p, gh_ps_ldap_account_cb cb, void *arg);
/* Take dn (any spelling) out of p's role map: the role it had, or 0. A map
 * left empty disables p (a profile that maps nobody is kept off). */
unsigned gh_ps_ldap_map_remove(gh_config_directory *p, const char *dn);
/* Add dn to p's role map under role; false when the list is full. The first
 * DN of an empty map enables p. */
bool gh_ps_ldap_map_add(gh_config_directory *p, unsigned role, const char *dn);
/* The DN an ldap_account body names in p (its name and type); GH_PS_E_COUNT,
 * or BAD_VALUE with *prop. */
gh_ps_error gh_ps_ldap_account_dn(const json_t *body, const gh_config_directory *p, char *dn,
                                  size_t dnlen, const char **prop);
/* A role_id an ldap_account may have (one that reads back as written: 1, 2
 * or 3), or 0. */
unsigned gh_ps_ldap_role_value(const json_t *v);

/* The handlers (powerstore_ldap.c). */
void gh_ps_serve_ldap_domains(gh_ps_ctx *c);
void gh_ps_serve_ldap_domain(gh_ps_ctx *c);
void gh_ps_serve_ldap_verify(gh_ps_ctx *c);
void gh_ps_serve_ldap_accounts(gh_ps_ctx *c);
void gh_ps_serve_ldap_account(gh_ps_ctx *c);

#endif
