/*
 * redfish_internal.h: what the files of the Redfish dialect share and nothing
 * outside them uses (but their unit tests and fuzz targets). Each file calls
 * only the files below it:
 *
 *   redfish.c            the router: the table, classification, and the
 *                        checks every request passes (OData-Version, method,
 *                        privilege, password change) before its handler
 *   redfish_sessions.c   the SessionService
 *   redfish_accounts.c   the ManagerAccount resources
 *   redfish_account_service.c  the AccountService settings and the Roles
 *   redfish_directory.c  its LDAP and ActiveDirectory objects over the
 *                        core's directory profiles
 *   redfish_events.c     the EventService and its SSE stream
 *   redfish_root.c       the open documents (the render hook), the service
 *                        root taken from the upstream (gateway mode), and below it
 *   redfish_openapi.c    the OpenAPI document
 *   redfish_query.c      the only and excerpt query parameters
 *   redfish_request.c    what every handler asks of its request: privilege,
 *                        store, JSON body, If-Match lists, time stamps
 *   redfish_errors.c     the Base registry messages and the JSON replies
 *   redfish_headers.c    the Allow and Link headers that describe a resource
 *   redfish_route.c      routing and the table of methods per route
 *   redfish_registry.c   DMTF's Privilege Registry for the gateway, over its
 *                        generated table (redfish_registry_table.c)
 */
#ifndef GH_REDFISH_INTERNAL_H
#define GH_REDFISH_INTERNAL_H

#include <jansson.h>

#include "../../core/policy.h"
#include "redfish.h"
#include "redfish_registry.h"
#include "redfish_route.h"

#define GH_REDFISH_JSON_TYPE  "application/json; charset=utf-8"
#define GH_REDFISH_XML_TYPE   "application/xml; charset=utf-8"
#define GH_REDFISH_YAML_TYPE  "application/yaml; charset=utf-8"
#define GH_REDFISH_BODY_MAX   65536    /* bytes of a JSON body we parse */
#define GH_REDFISH_RETRY_AFTER 30      /* seconds, on 503: the shortest SessionTimeout */
#define GH_REDFISH_VERSION    "1.15.0"  /* the DSP0266 version the service root claims */

#define GH_REDFISH_SESSIONS   "/redfish/v1/SessionService/Sessions"
#define GH_REDFISH_ACCOUNTS   "/redfish/v1/AccountService/Accounts"
#define GH_REDFISH_ROLES      "/redfish/v1/AccountService/Roles"
#define GH_REDFISH_SSE        "/redfish/v1/EventService/SSE"

/* Everything a handler needs about the request being served. */
typedef struct {
    gh_service             *svc;
    const gh_tree          *tree;
    const gh_request       *req;
    const gh_principal     *who;     /* NULL on an open route */
    const gh_redfish_route *route;
    gh_response            *resp;
} gh_redfish_ctx;

/* The methods a route supports (GH_METHOD_BIT set), and whether one of them
 * needs no login (redfish_route.c). */
unsigned gh_redfish_allowed(gh_redfish_route_kind kind);
bool gh_redfish_is_open(gh_redfish_route_kind kind, gh_method m);
/* Gateway mode: does gatehouse answer the route itself (gh_plan.local), and
 * is its decoded path one the upstream cannot read as another resource
 * (redfish_route.c)? */
bool gh_redfish_is_local(const gh_redfish_route *r);
bool gh_redfish_path_plain(const gh_redfish_route *r);

/* ---- what handlers ask of their request (redfish_request.c) ---- */

/* May the request's principal do op (on its own session or account when
 * own)? Asks core/policy; false for no principal. */
bool gh_redfish_may(const gh_redfish_ctx *c, gh_policy_op op, bool own);
/* May it create, change or delete an account holding the privileges of role? */
bool gh_redfish_may_touch(const gh_redfish_ctx *c, gh_role role);
/* A handler that needs the store checks this first: 503 when it is absent
 * (a route classified INLINE by mistake must fail closed, not crash). */
bool gh_redfish_need_store(const gh_redfish_ctx *c);
/* The request body as a JSON object, or NULL with the 400/413 reply made. */
json_t *gh_redfish_body(const gh_redfish_ctx *c);
/* Does an If-Match / If-None-Match value name etag ("*", lists, W/ ignored)? */
bool gh_redfish_etag_listed(gh_str header, const char *etag);
/* ISO 8601 UTC time. */
void gh_redfish_time(int64_t t, char out[32]);

/* ---- Base registry messages and replies (redfish_errors.c) ---- */

typedef enum {
    GH_RF_MSG_ACCOUNT_REMOVED = 0,
    GH_RF_MSG_EMPTY_JSON,
    GH_RF_MSG_GENERAL_ERROR,
    GH_RF_MSG_HEADER_INVALID,
    GH_RF_MSG_INSUFFICIENT_PRIVILEGE,
    GH_RF_MSG_INTERNAL_ERROR,
    GH_RF_MSG_MALFORMED_JSON,
    GH_RF_MSG_NO_OPERATION,
    GH_RF_MSG_NO_VALID_SESSION,
    GH_RF_MSG_OPERATION_FAILED,
    GH_RF_MSG_OPERATION_NOT_ALLOWED,
    GH_RF_MSG_OPERATION_TIMEOUT,
    GH_RF_MSG_PASSWORD_CHANGE_REQUIRED,
    GH_RF_MSG_PAYLOAD_TOO_LARGE,
    GH_RF_MSG_PRECONDITION_FAILED,
    GH_RF_MSG_PROPERTY_MISSING,
    GH_RF_MSG_PROPERTY_NOT_WRITABLE,
    GH_RF_MSG_PROPERTY_UNKNOWN,
    GH_RF_MSG_PROPERTY_VALUE_CONFLICT,
    GH_RF_MSG_PROPERTY_VALUE_FORMAT_ERROR,
    GH_RF_MSG_PROPERTY_VALUE_INCORRECT,
    GH_RF_MSG_PROPERTY_VALUE_NOT_IN_LIST,
    GH_RF_MSG_PROPERTY_VALUE_OUT_OF_RANGE,
    GH_RF_MSG_PROPERTY_VALUE_TYPE_ERROR,
    GH_RF_MSG_QUERY_COMBINATION_INVALID,
    GH_RF_MSG_QUERY_NOT_SUPPORTED,
    GH_RF_MSG_QUERY_NOT_SUPPORTED_ON_RESOURCE,
    GH_RF_MSG_QUERY_PARAMETER_VALUE_FORMAT_ERROR,
    GH_RF_MSG_RESOURCE_ALREADY_EXISTS,
    GH_RF_MSG_RESOURCE_AT_URI_UNAUTHORIZED,
    GH_RF_MSG_RESOURCE_CANNOT_BE_DELETED,
    GH_RF_MSG_RESOURCE_MISSING_AT_URI,
    GH_RF_MSG_RESOURCE_NOT_FOUND,
    GH_RF_MSG_SERVICE_TEMPORARILY_UNAVAILABLE,
    GH_RF_MSG_SESSION_LIMIT_EXCEEDED,
    GH_RF_MSG_COUNT
} gh_redfish_msg;

/* A Message object (#Message.v1_1_1.Message); args are its MessageArgs, as
 * many as the registry entry takes. New reference, NULL when out of memory. */
json_t *gh_redfish_message(gh_redfish_msg id, const char *const *args, size_t nargs);
#define gh_redfish_msg0(id)       gh_redfish_message((id), NULL, 0)
#define gh_redfish_msg1(id, a)    gh_redfish_message((id), (const char *const[]){ (a) }, 1)
#define gh_redfish_msg2(id, a, b) gh_redfish_message((id), (const char *const[]){ (a), (b) }, 2)
#define gh_redfish_msg3(id, a, b, c) \
    gh_redfish_message((id), (const char *const[]){ (a), (b), (c) }, 3)

/* Append msg (stolen) to the array list; a NULL msg is dropped. */
void gh_redfish_msg_append(json_t *list, json_t *msg);

/* A JSON reply: status and body (stolen). A NULL body gives 500. */
void gh_redfish_reply(gh_response *resp, int status, json_t *body);
/* A resource collection's body: @odata.id, @odata.type, Name, Description
 * (left out when NULL), Members@odata.count and Members (borrowed: a
 * reference is taken). NULL when members is NULL or memory ran out. */
json_t *gh_redfish_collection(const char *id, const char *type, const char *name,
                              const char *description, json_t *members);
/* An error reply: msgs is one Message or an array of them (stolen). */
void gh_redfish_fail(gh_response *resp, int status, json_t *msgs);
#define gh_redfish_fail0(resp, status, id) gh_redfish_fail((resp), (status), gh_redfish_msg0(id))
#define gh_redfish_fail1(resp, status, id, a) \
    gh_redfish_fail((resp), (status), gh_redfish_msg1((id), (a)))

/* Error replies used from several places. */
void gh_redfish_fail_unavailable(gh_response *resp);
/* 429 to a source throttled after failed logins: retry in seconds. */
void gh_redfish_fail_throttled(gh_response *resp, int64_t seconds);
void gh_redfish_fail_plain_http(gh_response *resp);
void gh_redfish_fail_privilege(gh_response *resp);
void gh_redfish_fail_not_found(gh_response *resp, const char *path);
void gh_redfish_fail_password_change(gh_response *resp, int64_t account_id);
void gh_redfish_fail_method(gh_response *resp, const char *allow);
/* A PATCH body that sets nothing: {} is EmptyJSON, OData annotations alone
 * are NoOperation (DSP0266, as the Protocol Validator checks); both 400. */
void gh_redfish_fail_no_change(gh_response *resp, const json_t *body);
/* The error for a status decided outside the dialect (nginx's limits, the
 * adapter): path names the resource of a 404, allow the methods of a 405. */
void gh_redfish_fail_status(gh_response *resp, int status, const char *path, const char *allow);

/* A short text of a JSON value for MessageArgs (never the value of a secret). */
void gh_redfish_value_text(const json_t *v, char *out, size_t outlen);

/* ---- PATCH/POST body checks (redfish_errors.c) ---- */

typedef enum {
    GH_RF_PROP_STRING = 1,
    GH_RF_PROP_INTEGER,
    GH_RF_PROP_BOOLEAN,
    GH_RF_PROP_ARRAY,
    GH_RF_PROP_OBJECT,
    GH_RF_PROP_READONLY     /* known, never writable */
} gh_redfish_prop_kind;

typedef struct {
    const char          *name;
    gh_redfish_prop_kind kind;
    bool                 secret;   /* never echo the value */
} gh_redfish_prop;

/* Check every member of body against props: annotations ("@...") are
 * ignored, read-only and unknown properties and wrong types each append a
 * message to errors. Returns how many it appended. */
size_t gh_redfish_props_check(const json_t *body, const gh_redfish_prop *props, size_t n,
                              json_t *errors);

/* ---- headers that describe a resource (redfish_headers.c) ---- */

bool gh_redfish_has_header(const gh_response *resp, const char *name);
/* Remove every header of this name. */
void gh_redfish_header_drop(gh_response *resp, const char *name);
/* Allow: methods, unless a handler set Allow already. */
void gh_redfish_allow_add(gh_response *resp, unsigned methods);
/* The schema file an @odata.type names, without ".json": "ServiceRoot.v1_5_0"
 * or, unversioned, "SessionCollection". false for anything else. */
bool gh_redfish_schema_name(const char *type, char *out, size_t outlen);
/* Link: <schema of doc's @odata.type>; rel=describedby, when it has one. */
void gh_redfish_describedby_add(gh_response *resp, const json_t *doc);

/* ---- query parameters (redfish_query.c) ---- */

typedef enum {
    GH_RF_QUERY_OK = 0,
    GH_RF_QUERY_UNSUPPORTED,    /* a $-option: 501 QueryNotSupported */
    GH_RF_QUERY_BAD_VALUE,      /* only=x, excerpt=x: 400 */
    GH_RF_QUERY_COMBINATION     /* only with another query option: 400 */
} gh_redfish_query_result;

typedef struct {
    bool   only;
    bool   excerpt;
    size_t others;              /* $-options */
    gh_str bad_name;            /* GH_RF_QUERY_BAD_VALUE: the parameter and its value, */
    gh_str bad_value;           /* views into the query */
} gh_redfish_query;

gh_redfish_query_result gh_redfish_query_parse(gh_str query, gh_redfish_query *out);
/* The reply for a result other than GH_RF_QUERY_OK. */
void gh_redfish_query_fail(gh_response *resp, gh_redfish_query_result rc,
                           const gh_redfish_query *q);

typedef enum {
    GH_RF_ONLY_KEEP = 0,        /* a collection of zero or several members */
    GH_RF_ONLY_MEMBER,          /* of one: path names it */
    GH_RF_ONLY_NOT_COLLECTION
} gh_redfish_only;

/* What only makes of a GET's reply. */
gh_redfish_only gh_redfish_only_member(const gh_response *resp, char *path, size_t pathlen);
/* Cut a GET's reply down to its excerpt properties, if its schema has any. */
void gh_redfish_excerpt(gh_response *resp);

/* ---- the open documents (redfish_root.c, redfish_openapi.c) ---- */

/* The dialect's render hook: the version document, the service root, the
 * OData service document and $metadata, added to the tree as it loads. */
int gh_redfish_render(gh_tree *tree, char *err, size_t errlen);
/* Gateway mode: the service root from the upstream's answer (a 200 with a
 * JSON object in req->upstream_*), its SessionService, AccountService and
 * Links.Sessions set to gatehouse's, the rest kept. false, resp untouched,
 * when the upstream gave no such answer: the own root is served instead. */
bool gh_redfish_serve_upstream_root(gh_redfish_ctx *c);
/* Add /redfish/v1/openapi.yaml, describing the tree as loaded so far and the
 * service's own routes, as a "reply" entry. 0, or -1 with err. */
int gh_redfish_openapi_render(gh_tree *tree, char *err, size_t errlen);

/* ---- the AccountService's LDAP and ActiveDirectory (redfish_directory.c) ---- */

/* What a PATCH object asks beyond the profile's keys. */
typedef struct {
    const char *password;       /* Authentication.Password (the body's): a new
                                   service password, or NULL */
    size_t      password_len;
} gh_redfish_directory_change;

/* The ExternalAccountProvider object of profile p (NULL: none of its kind,
 * shown empty and disabled); ad: ActiveDirectory, else LDAP. New reference,
 * NULL when out of memory. The password is always null. */
json_t *gh_redfish_directory_json(const gh_config_directory *p, bool ad);
/* Read a PATCH's LDAP or ActiveDirectory object over p: a message appended
 * to errors for each property unknown, not writable, of the wrong type or
 * form (returns how many). chg's password points into obj. */
size_t gh_redfish_directory_patch(const json_t *obj, gh_config_directory *p,
                                  gh_redfish_directory_change *chg, json_t *errors);

/* ---- handlers ---- */

void gh_redfish_serve_session_service(gh_redfish_ctx *c);
void gh_redfish_serve_sessions(gh_redfish_ctx *c);
void gh_redfish_serve_session(gh_redfish_ctx *c);

void gh_redfish_serve_account_service(gh_redfish_ctx *c);
void gh_redfish_serve_roles(gh_redfish_ctx *c);
void gh_redfish_serve_role(gh_redfish_ctx *c);

void gh_redfish_serve_accounts(gh_redfish_ctx *c);
void gh_redfish_serve_account(gh_redfish_ctx *c);

void gh_redfish_serve_event_service(gh_redfish_ctx *c);
void gh_redfish_serve_subscriptions(gh_redfish_ctx *c);
void gh_redfish_serve_subscription(gh_redfish_ctx *c);
void gh_redfish_serve_sse(gh_redfish_ctx *c);
/* The dialect's stream_event hook (dialect.h). */
char *gh_redfish_stream_event(const gh_principal *who, const gh_shared_event *ev, size_t *len);

#endif
