/*
 * test_role.c: the three Redfish roles, their names and exactly the
 * privileges each holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../src/core/role.h"

#define ALL_PRIVS (GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_MANAGER | GH_PRIV_CONFIGURE_USERS \
                   | GH_PRIV_CONFIGURE_COMPONENTS | GH_PRIV_CONFIGURE_SELF)

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gh_role_name(GH_ROLE_ADMINISTRATOR), "Administrator");
    assert_string_equal(gh_role_name(GH_ROLE_OPERATOR), "Operator");
    assert_string_equal(gh_role_name(GH_ROLE_READONLY), "ReadOnly");
    assert_null(gh_role_name(GH_ROLE_NONE));
    assert_null(gh_role_name((gh_role)42));
}

static void test_from_name(void **state)
{
    (void)state;
    assert_int_equal(gh_role_from_name("Administrator"), GH_ROLE_ADMINISTRATOR);
    assert_int_equal(gh_role_from_name("Operator"), GH_ROLE_OPERATOR);
    assert_int_equal(gh_role_from_name("ReadOnly"), GH_ROLE_READONLY);
    /* Case-sensitive, whole-string. */
    assert_int_equal(gh_role_from_name("administrator"), GH_ROLE_NONE);
    assert_int_equal(gh_role_from_name("READONLY"), GH_ROLE_NONE);
    assert_int_equal(gh_role_from_name("ReadOnlyX"), GH_ROLE_NONE);
    assert_int_equal(gh_role_from_name("Read"), GH_ROLE_NONE);
    assert_int_equal(gh_role_from_name(""), GH_ROLE_NONE);
    assert_int_equal(gh_role_from_name(NULL), GH_ROLE_NONE);
    for (gh_role r = GH_ROLE_ADMINISTRATOR; r <= GH_ROLE_READONLY; r++)
        assert_int_equal(gh_role_from_name(gh_role_name(r)), r);
}

static void test_privileges(void **state)
{
    (void)state;
    assert_int_equal(gh_role_privileges(GH_ROLE_ADMINISTRATOR), ALL_PRIVS);
    assert_int_equal(gh_role_privileges(GH_ROLE_OPERATOR),
                     GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_COMPONENTS | GH_PRIV_CONFIGURE_SELF);
    assert_int_equal(gh_role_privileges(GH_ROLE_READONLY),
                     GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_SELF);
    assert_int_equal(gh_role_privileges(GH_ROLE_NONE), 0);
    assert_int_equal(gh_role_privileges((gh_role)42), 0);
}

static void test_privilege_names(void **state)
{
    (void)state;
    assert_string_equal(gh_privilege_name(GH_PRIV_LOGIN), "Login");
    assert_string_equal(gh_privilege_name(GH_PRIV_CONFIGURE_MANAGER), "ConfigureManager");
    assert_string_equal(gh_privilege_name(GH_PRIV_CONFIGURE_USERS), "ConfigureUsers");
    assert_string_equal(gh_privilege_name(GH_PRIV_CONFIGURE_COMPONENTS), "ConfigureComponents");
    assert_string_equal(gh_privilege_name(GH_PRIV_CONFIGURE_SELF), "ConfigureSelf");
    assert_null(gh_privilege_name((gh_privilege)(GH_PRIV_LOGIN | GH_PRIV_CONFIGURE_SELF)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_from_name),
        cmocka_unit_test(test_privileges),
        cmocka_unit_test(test_privilege_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
