/*
 * gateway.h: what a request passed on to an upstream needs before it goes
 * (docs/gateway.md): the privileges its method and path call for. A dialect's
 * forward hook (dialect.h) asks here once its own checks pass; the answer is
 * the [authorize] rule of the configuration for the path when there is one,
 * else the dialect's default (the Redfish Privilege Registry for what it
 * covers), else the method's: GET and HEAD need Login, anything else
 * ConfigureComponents.
 *
 * The rules (gateway_rules.c reads them, gateway.c applies them), one line
 * each in [authorize]:
 *
 *   /redfish/v1/Managers = GET HEAD: Login, POST PATCH PUT DELETE: ConfigureManager
 *   /api/rest/internal   = *: none
 *   /redfish/v1/AccountService = PATCH: ConfigureUsers | ConfigureManager+ConfigureSelf
 *
 * The key is a path prefix, the value clauses separated by ','; a clause
 * names methods (or '*': every method the rule does not name) and, after
 * ':', the privilege sets of which a principal must hold one: sets separated
 * by '|', the privileges of one set joined by '+' (every one needed), or
 * "none": nobody. Login is always needed as well. For a request, the longest
 * prefix among the rules that name its method (or '*') decides; no rule: the
 * default. A prefix matches as gh_path_under (http.h) matches, ignoring
 * ASCII case, and on the path normalised (percent-decoded, "." and ".."
 * resolved, "//" merged): on every reading of it an upstream might make, so
 * that "%2e%2e", "//" or ";" cannot take a request out from under a rule.
 */
#ifndef GH_GATEWAY_H
#define GH_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "../../core/policy.h"

/* Who a forwarded request is, when the dialect's forward hook found out
 * itself (gh_request.gateway_who): the principal and the privileges it
 * holds (role.h bits, less what its credential withholds). */
typedef struct gh_gateway_who {
    bool         set;
    gh_principal who;
    unsigned     privileges;
} gh_gateway_who;

/* The most alternatives a default or a rule may offer (the registry's OR of sets). */
#define GH_GATEWAY_ALTERNATIVES 4

#define GH_GATEWAY_RULES_MAX    64     /* rules in [authorize] */
#define GH_GATEWAY_PREFIX_MAX   255    /* bytes of a rule's path prefix */
#define GH_GATEWAY_PATH_MAX     1024   /* bytes of a path a rule is matched on */
/* A rule's slots: one per gh_method (OTHER included), then '*'. */
#define GH_GATEWAY_SLOTS        (GH_METHOD_OPTIONS + 2)
#define GH_GATEWAY_STAR         (GH_METHOD_OPTIONS + 1)
/* In a set: the privilege nobody holds ("none"). */
#define GH_GATEWAY_NOBODY       0x80u

typedef struct {
    char     prefix[GH_GATEWAY_PREFIX_MAX + 1];   /* as written, checked normal */
    uint16_t named;                               /* bit per slot the rule names */
    uint8_t  nsets[GH_GATEWAY_SLOTS];
    uint8_t  sets[GH_GATEWAY_SLOTS][GH_GATEWAY_ALTERNATIVES];  /* role.h bits */
} gh_gateway_rule;

/* The settings of [authorize]: plain memory, copied with the gh_config. */
typedef struct {
    size_t          nrules;
    gh_gateway_rule rules[GH_GATEWAY_RULES_MAX];
} gh_gateway_rules;

/* The [authorize] section, declared with the dialects' sections
 * (gh_dialect_config_defaults). */
extern const gh_config_section gh_gateway_config;

/* The rules read into cfg; NULL when cfg is NULL or has no [authorize]
 * declared. Owned by cfg. */
const gh_gateway_rules *gh_gateway_rules_of(const gh_config *cfg);

/* Read one rule: prefix and value as in the file. false with the reason in
 * why (whylen bytes) for a prefix or value that is not one. */
bool gh_gateway_rule_parse(const char *prefix, const char *value, gh_gateway_rule *rule,
                           char *why, size_t whylen);

/* Add one line of [authorize] to rules (its settings): parsed, and refused
 * when its prefix is given already or there are too many. The section's
 * line hook (config.h). */
bool gh_gateway_rules_add(void *rules, const char *prefix, const char *value, char *why,
                          size_t whylen);

/* The readings of a path that rules are matched on (gh_gateway_normalise). */
#define GH_GATEWAY_LITERAL_DOTS  1u   /* "." and ".." resolved before decoding */
#define GH_GATEWAY_KEEP_EMPTY    2u   /* "//" an empty segment, not merged */
#define GH_GATEWAY_STRIP_PARAMS  4u   /* ";..." cut off each segment (servlets) */
#define GH_GATEWAY_READINGS      8u

/* raw (a request path, as gh_request.path holds it) as one reading (how,
 * the flags above; 0: decoded, then dot segments resolved and "//" merged,
 * as nginx normalises) into out (GH_GATEWAY_PATH_MAX + 1 bytes), without a
 * trailing slash. false for what no rule can be matched on: no leading '/',
 * a bad escape, an escaped '/' or NUL, ".." above the root, or too long. */
bool gh_gateway_normalise(gh_str raw, unsigned how, char *out, size_t *len);

/* Does any reading of raw (those its bytes make different, as rules are
 * matched) satisfy fn, or is one unreadable (gh_gateway_normalise false)?
 * For a dialect's forward hook: a path that reads as one of its local
 * routes ("/./local_user", "%2e/pki-resource"), or that cannot be told
 * from one, must not pass on to an upstream that would read it so. A path
 * whose one reading is itself (no '%', ';', "//", "." or "..") is not
 * handed to fn: the dialect's classify routed it as it is already. */
bool gh_gateway_any_reading(gh_str raw, bool (*fn)(gh_str path, void *arg), void *arg);

/* What the method alone calls for: Login for GET and HEAD, Login and
 * ConfigureComponents for anything else. */
unsigned gh_gateway_method_needs(gh_method method);

/* May who pass req on to the upstream? The [authorize] rule of cfg for
 * req's path and method when there is one; else dflt, ndflt privilege sets
 * (role.h bits) of which who must hold every privilege of one; ndflt 0
 * means the method's (gh_gateway_method_needs). With rules, every reading
 * of the path must be allowed, and a path no rule can be matched on is
 * refused. When not allowed, *missing (if not NULL) gets the first
 * privilege lacking from the first set, or 0 when the set is "none" or the
 * path unreadable, for the dialect's 403. */
bool gh_gateway_allows(const gh_config *cfg, const gh_request *req,
                       const gh_policy_subject *who, const unsigned *dflt, size_t ndflt,
                       gh_privilege *missing);

/* Is path (nginx's decoded, normal path) one of list's paths or below one,
 * as `gatehouse serve` writes their locations (ignoring ASCII case, on a
 * segment boundary)? list: upload_paths or stream_paths, paths separated
 * by commas and blanks. */
bool gh_gateway_path_listed(const char *list, gh_str path);

#endif
