/*
 * policy.h: whether a principal may do an operation, decided in this one
 * place for every dialect. A dialect names the operation; the principal
 * carries its role; policy answers allow or deny, and which privilege was
 * missing, for the dialect's own error body. No dialect decides by itself.
 *
 * Privileges and roles are role.c's (DMTF's model, DSP0266 "Roles"):
 * Login, ConfigureSelf, ConfigureComponents, ConfigureUsers and
 * ConfigureManager; Administrator holds all five, Operator Login,
 * ConfigureComponents and ConfigureSelf, ReadOnly Login and ConfigureSelf.
 *
 * The operations, and what each needs (after DMTF's Privilege Registry,
 * DSP8011, where "own" is its ConfigureSelf override). Every operation
 * needs Login as well: without it a principal may do nothing at all.
 *
 *   GH_OP_USE         use the service: the first gate of every authenticated
 *                     request, and reading the service's resources (trees,
 *                     service documents, roles)                   Login
 *   GH_OP_SESSION     see or end a session or an event stream, and see its
 *                     events; own = of the principal's account
 *                                      own: ConfigureSelf  other: ConfigureManager
 *   GH_OP_ACCOUNT     see an account, change its password; own = the
 *                     principal's account    own: ConfigureSelf  other: ConfigureUsers
 *   GH_OP_ACCOUNTS    create or delete an account, change its role, enabled
 *                     or lock; the rules accounts live by (password length,
 *                     lockout)                                    ConfigureUsers
 *                     and, when the account acted on holds or is given
 *                     ConfigureUsers or ConfigureManager (target), those too:
 *                     nobody hands out or touches a power over accounts or
 *                     the service that they lack themselves
 *   GH_OP_SERVICE     configure the service itself (session timeout); see its
 *                     service-wide totals                         ConfigureManager
 *   GH_OP_COMPONENTS  change the resources of the managed system (a write the
 *                     API behind serves; none yet, the bundled trees are
 *                     read-only)                                  ConfigureComponents
 *
 * A list of sessions, streams or accounts asks for another's (own = false):
 * refused, it shows the principal's own only.
 *
 * How a dialect asks, for instance before ending a session:
 *
 *   gh_policy_subject who = gh_policy_subject_of(principal);
 *   gh_privilege      missing;
 *
 *   if (!gh_policy_allows(&who, (gh_policy_act){ .op = GH_OP_SESSION,
 *                                                .own = rec.account_id == principal->account_id },
 *                         &missing))
 *       ... the dialect's 403, naming gh_privilege_name(missing) if its format does ...
 *
 * A dialect whose own roles are finer than the core's (one that manages
 * users without being an Administrator) maps each onto a core role and names
 * the privileges it adds in extra; a cap on a principal (an API token's,
 * which may do at most what its user may) names what it takes away in
 * withheld. A principal without a role holds nothing, whatever extra says.
 */
#ifndef GH_POLICY_H
#define GH_POLICY_H

#include "role.h"
#include "shared.h"

typedef enum {
    GH_OP_USE = 0,
    GH_OP_SESSION,
    GH_OP_ACCOUNT,
    GH_OP_ACCOUNTS,
    GH_OP_SERVICE,
    GH_OP_COMPONENTS,
    GH_OP_COUNT
} gh_policy_op;

/* Who asks: an account, its core role, and what a dialect adds or a cap takes away. */
typedef struct {
    int64_t  account_id;
    gh_role  role;
    unsigned extra;      /* privileges a dialect's own role adds to the core role's */
    unsigned withheld;   /* privileges a cap takes away; 0 = none */
} gh_policy_subject;

/* What is asked: the operation, whose, and the privileges of the account acted on. */
typedef struct {
    gh_policy_op op;
    bool         own;      /* GH_OP_SESSION, GH_OP_ACCOUNT: the principal's own */
    unsigned     target;   /* GH_OP_ACCOUNTS: what the account holds or is given; 0 if none */
} gh_policy_act;

/* The subject a principal is (nothing added, nothing withheld); who may be
 * NULL, a subject that holds nothing. */
gh_policy_subject gh_policy_subject_of(const gh_principal *who);

/* The privileges a subject holds: its role's, plus extra, less withheld;
 * none without a role. */
unsigned gh_policy_holds(const gh_policy_subject *who);

/* The privileges act needs; 0 for an unknown operation. */
unsigned gh_policy_needs(gh_policy_act act);

/* May who do act? When not, *missing (if not NULL) gets the first privilege
 * lacking in role.h's order (Login first), or 0 for an operation this list
 * does not know, which is refused to everyone. */
bool gh_policy_allows(const gh_policy_subject *who, gh_policy_act act, gh_privilege *missing);

#endif
