/*
 * policy.c: the one place that decides whether a principal may do an
 * operation (policy.h lists them). What each operation needs is one row of
 * a table, its own and another's variant side by side; what a principal
 * holds is its role's privileges from role.c, the only table of those.
 */
#include "policy.h"

/* The privileges over accounts and the service: whoever hands them out or
 * manages an account holding them must hold them too, or a manager of
 * users could make itself (or a friend) an administrator. */
#define GH_POLICY_GUARDED (GH_PRIV_CONFIGURE_USERS | GH_PRIV_CONFIGURE_MANAGER)

static const struct {
    unsigned own;     /* on the principal's own session or account */
    unsigned other;   /* on anyone else's, or on no one's in particular */
} gh_policy_table[GH_OP_COUNT] = {
    [GH_OP_USE]        = { GH_PRIV_LOGIN, GH_PRIV_LOGIN },
    [GH_OP_SESSION]    = { GH_PRIV_CONFIGURE_SELF, GH_PRIV_CONFIGURE_MANAGER },
    [GH_OP_ACCOUNT]    = { GH_PRIV_CONFIGURE_SELF, GH_PRIV_CONFIGURE_USERS },
    [GH_OP_ACCOUNTS]   = { GH_PRIV_CONFIGURE_USERS, GH_PRIV_CONFIGURE_USERS },
    [GH_OP_SERVICE]    = { GH_PRIV_CONFIGURE_MANAGER, GH_PRIV_CONFIGURE_MANAGER },
    [GH_OP_COMPONENTS] = { GH_PRIV_CONFIGURE_COMPONENTS, GH_PRIV_CONFIGURE_COMPONENTS },
};

gh_policy_subject gh_policy_subject_of(const gh_principal *who)
{
    gh_policy_subject s = { 0, GH_ROLE_NONE, 0, 0 };

    if (who != NULL) {
        s.account_id = who->account_id;
        s.role = who->role;
    }
    return s;
}

unsigned gh_policy_holds(const gh_policy_subject *who)
{
    unsigned role = who != NULL ? gh_role_privileges(who->role) : 0;

    /* No role, no privilege: extra widens a role, it never stands alone. */
    if (role == 0)
        return 0;
    return (role | who->extra) & ~who->withheld;
}

unsigned gh_policy_needs(gh_policy_act act)
{
    unsigned needs;

    if ((unsigned)act.op >= GH_OP_COUNT)
        return 0;
    needs = GH_PRIV_LOGIN | (act.own ? gh_policy_table[act.op].own : gh_policy_table[act.op].other);
    if (act.op == GH_OP_ACCOUNTS)
        needs |= act.target & GH_POLICY_GUARDED;
    return needs;
}

bool gh_policy_allows(const gh_policy_subject *who, gh_policy_act act, gh_privilege *missing)
{
    unsigned needs = gh_policy_needs(act);
    unsigned lacking = needs & ~gh_policy_holds(who);
    bool     ok = needs != 0 && lacking == 0;

    if (!ok && missing != NULL)
        *missing = (gh_privilege)(lacking & (~lacking + 1u));   /* the lowest bit */
    return ok;
}
