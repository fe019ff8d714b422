/*
 * test_policy.c: core/policy's answer for every operation, own and other,
 * for every role (and for none), written out here by hand rather than read
 * from policy.c's table; then what a dialect adds to a role, what a cap
 * takes away, the guard on accounts that hold power over accounts, and the
 * privilege named when a request is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/core/policy.h"

#define L   GH_PRIV_LOGIN
#define CM  GH_PRIV_CONFIGURE_MANAGER
#define CU  GH_PRIV_CONFIGURE_USERS
#define CC  GH_PRIV_CONFIGURE_COMPONENTS
#define CS  GH_PRIV_CONFIGURE_SELF
#define ALL (L | CM | CU | CC | CS)

/* One column of the matrix: an operation, own or another's. */
static const struct {
    gh_policy_op op;
    bool         own;
    const char  *name;
} cols[] = {
    { GH_OP_USE, false, "use" },
    { GH_OP_SESSION, true, "own session" },
    { GH_OP_SESSION, false, "other session" },
    { GH_OP_ACCOUNT, true, "own account" },
    { GH_OP_ACCOUNT, false, "other account" },
    { GH_OP_ACCOUNTS, false, "accounts" },
    { GH_OP_SERVICE, false, "service" },
    { GH_OP_COMPONENTS, false, "components" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* One row: a role, and per column the privilege missing (0: allowed). */
static const struct {
    gh_role  role;
    unsigned missing[NCOLS];
} rows[] = {
    { GH_ROLE_ADMINISTRATOR, { 0, 0, 0, 0, 0, 0, 0, 0 } },
    { GH_ROLE_OPERATOR,      { 0, 0, CM, 0, CU, CU, CM, 0 } },
    { GH_ROLE_READONLY,      { 0, 0, CM, 0, CU, CU, CM, CC } },
    { GH_ROLE_NONE,          { L, L, L, L, L, L, L, L } },
    { (gh_role)42,           { L, L, L, L, L, L, L, L } },
};

static void test_matrix(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        gh_principal      p = { .account_id = 7, .role = rows[r].role };
        gh_policy_subject who = gh_policy_subject_of(&p);

        for (size_t c = 0; c < NCOLS; c++) {
            gh_privilege missing = (gh_privilege)0xff;
            bool         ok = gh_policy_allows(&who, (gh_policy_act){ .op = cols[c].op,
                                                                    .own = cols[c].own },
                                               &missing);

            /* On an allow, missing is left as it was. */
            if (ok != (rows[r].missing[c] == 0) ||
                missing != (ok ? (gh_privilege)0xff : rows[r].missing[c]))
                fail_msg("role %d, %s: %s, missing %u, expected missing %u", (int)rows[r].role,
                         cols[c].name, ok ? "allowed" : "refused", (unsigned)missing,
                         rows[r].missing[c]);
        }
    }
}

/* Every operation needs Login besides its own privilege; own and other
 * differ only where a resource can be the principal's own. */
static void test_needs(void **state)
{
    (void)state;
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_USE }), L);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_USE, .own = true }), L);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_SESSION, .own = true }), L | CS);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_SESSION }), L | CM);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_ACCOUNT, .own = true }), L | CS);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_ACCOUNT }), L | CU);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_ACCOUNTS }), L | CU);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_ACCOUNTS, .own = true }), L | CU);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_SERVICE }), L | CM);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_COMPONENTS }), L | CC);
    /* target counts for accounts only, and only its power over accounts. */
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_SESSION, .target = ALL }),
                     L | CM);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_ACCOUNTS, .target = ALL }),
                     L | CU | CM);
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                      .target = L | CC | CS }), L | CU);
}

static void test_holds(void **state)
{
    gh_policy_subject s;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(gh_policy_holds(NULL), 0);
    assert_int_equal(gh_policy_holds(&s), 0);
    s.role = GH_ROLE_READONLY;
    assert_int_equal(gh_policy_holds(&s), L | CS);
    s.extra = CU;
    assert_int_equal(gh_policy_holds(&s), L | CS | CU);
    s.withheld = CS;
    assert_int_equal(gh_policy_holds(&s), L | CU);
    /* extra widens a role; without one it grants nothing. */
    s.role = GH_ROLE_NONE;
    s.extra = ALL;
    s.withheld = 0;
    assert_int_equal(gh_policy_holds(&s), 0);
    s.role = (gh_role)42;
    assert_int_equal(gh_policy_holds(&s), 0);
}

static void test_subject_of(void **state)
{
    gh_principal      p = { .account_id = 12, .role = GH_ROLE_OPERATOR };
    gh_policy_subject s = gh_policy_subject_of(&p);

    (void)state;
    assert_int_equal(s.account_id, 12);
    assert_int_equal(s.role, GH_ROLE_OPERATOR);
    assert_int_equal(s.extra, 0);
    assert_int_equal(s.withheld, 0);
    s = gh_policy_subject_of(NULL);
    assert_int_equal(s.role, GH_ROLE_NONE);
    assert_int_equal(gh_policy_holds(&s), 0);
    assert_false(gh_policy_allows(&s, (gh_policy_act){ .op = GH_OP_USE }, NULL));
    assert_false(gh_policy_allows(NULL, (gh_policy_act){ .op = GH_OP_USE }, NULL));
}

/* A role a dialect widens with ConfigureUsers manages accounts, but not one
 * that holds or is given ConfigureManager. */
static void test_accounts_guard(void **state)
{
    gh_policy_subject users = { .account_id = 5, .role = GH_ROLE_READONLY, .extra = CU };
    gh_policy_subject admin = { .account_id = 1, .role = GH_ROLE_ADMINISTRATOR };
    gh_privilege      missing = 0;
    unsigned          of_admin = gh_role_privileges(GH_ROLE_ADMINISTRATOR);
    unsigned          of_oper = gh_role_privileges(GH_ROLE_OPERATOR);
    unsigned          of_view = gh_role_privileges(GH_ROLE_READONLY);

    (void)state;
    assert_true(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_ACCOUNTS }, NULL));
    assert_true(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_ACCOUNT }, NULL));
    assert_true(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                          .target = of_view }, NULL));
    /* ConfigureComponents is not a power over accounts: it may be handed out. */
    assert_true(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                          .target = of_oper }, NULL));
    /* One like itself. */
    assert_true(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                          .target = of_view | CU }, NULL));
    assert_false(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                           .target = of_admin }, &missing));
    assert_int_equal(missing, CM);
    /* The rest of what it holds is still ReadOnly's. */
    assert_false(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_SESSION }, &missing));
    assert_int_equal(missing, CM);
    assert_false(gh_policy_allows(&users, (gh_policy_act){ .op = GH_OP_SERVICE }, NULL));
    assert_true(gh_policy_allows(&admin, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                          .target = of_admin }, NULL));
    assert_true(gh_policy_allows(&admin, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                          .target = ALL }, NULL));
}

/* A cap takes privileges away from whatever the role holds. */
static void test_withheld(void **state)
{
    gh_policy_subject capped = { .account_id = 1, .role = GH_ROLE_ADMINISTRATOR,
                                 .withheld = CM | CU };
    gh_privilege      missing = 0;

    (void)state;
    assert_true(gh_policy_allows(&capped, (gh_policy_act){ .op = GH_OP_USE }, NULL));
    assert_true(gh_policy_allows(&capped, (gh_policy_act){ .op = GH_OP_COMPONENTS }, NULL));
    assert_true(gh_policy_allows(&capped, (gh_policy_act){ .op = GH_OP_SESSION, .own = true },
                                 NULL));
    assert_false(gh_policy_allows(&capped, (gh_policy_act){ .op = GH_OP_SESSION }, &missing));
    assert_int_equal(missing, CM);
    assert_false(gh_policy_allows(&capped, (gh_policy_act){ .op = GH_OP_ACCOUNTS }, &missing));
    assert_int_equal(missing, CU);
    /* Without Login, nothing; Login is what is named. */
    capped.withheld = L;
    for (size_t c = 0; c < NCOLS; c++) {
        missing = 0;
        assert_false(gh_policy_allows(&capped, (gh_policy_act){ .op = cols[c].op,
                                                                .own = cols[c].own },
                                      &missing));
        assert_int_equal(missing, L);
    }
}

/* More than one privilege lacking: the first in role.h's order. */
static void test_first_missing(void **state)
{
    gh_policy_subject view = { .account_id = 3, .role = GH_ROLE_READONLY, .withheld = L };
    gh_policy_subject oper = { .account_id = 3, .role = GH_ROLE_OPERATOR };
    gh_privilege      missing = 0;

    (void)state;
    assert_false(gh_policy_allows(&view, (gh_policy_act){ .op = GH_OP_SERVICE }, &missing));
    assert_int_equal(missing, L);
    assert_false(gh_policy_allows(&oper, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                          .target = ALL }, &missing));
    assert_int_equal(missing, CM);
    assert_string_equal(gh_privilege_name(missing), "ConfigureManager");
}

/* An operation policy does not know is refused to everyone, naming nothing. */
static void test_unknown_op(void **state)
{
    gh_policy_subject admin = { .account_id = 1, .role = GH_ROLE_ADMINISTRATOR };
    gh_privilege      missing = L;

    (void)state;
    assert_int_equal(gh_policy_needs((gh_policy_act){ .op = GH_OP_COUNT }), 0);
    assert_false(gh_policy_allows(&admin, (gh_policy_act){ .op = GH_OP_COUNT }, &missing));
    assert_int_equal(missing, 0);
    assert_false(gh_policy_allows(&admin, (gh_policy_act){ .op = (gh_policy_op)-1 }, NULL));
    assert_false(gh_policy_allows(&admin, (gh_policy_act){ .op = (gh_policy_op)1000 }, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_needs),
        cmocka_unit_test(test_holds),
        cmocka_unit_test(test_subject_of),
        cmocka_unit_test(test_accounts_guard),
        cmocka_unit_test(test_withheld),
        cmocka_unit_test(test_first_missing),
        cmocka_unit_test(test_unknown_op),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
