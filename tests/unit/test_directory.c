/*
 * test_directory.c: [directory NAME] sections of the configuration file
 * (their defaults, every rule, errors as FILE:LINE: key: reason), and the
 * example profile of docs/gatehouse.conf.example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "../../src/core/config.h"
#include "../../src/dialects/common/dialect.h"

#define GOOD                                                                        \
    "[directory corp]\n"                                                            \
    "servers = ldaps://dc1.example.org ldaps://dc2.example.org:3269\n"             \
    "bind_dn = cn=gatehouse,ou=services,dc=example,dc=org\n"                        \
    "bind_password_file = /etc/gatehouse/ldap.pw\n"                                 \
    "user_base = ou=people,dc=example,dc=org\n"                                     \
    "administrator_groups = cn=admins,ou=groups,dc=example,dc=org|"                 \
    "cn=root\\2C the,ou=groups,dc=example,dc=org\n"                                 \
    "readonly_groups = cn=readers,ou=groups,dc=example,dc=org\n"                    \
    "default = yes\n"

static char path[64];

static int setup(void **state)
{
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "/tmp/gh_directory_XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* Load text over the defaults into *c: 0, or -1 with the error in err. */
static int load(const char *text, gh_config *c, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
    if (gh_dialect_config_defaults(c, err, errlen) != 0)
        fail_msg("%s", err);
    return gh_config_load(c, path, err, errlen);
}

static void test_good_profile(void **state)
{
    static gh_config c;
    const gh_config_directory *d;
    char err[512];

    (void)state;
    if (load(GOOD "[directory tls]\nservers = ldap://127.0.0.1:389\nstarttls = on\n"
             "user_base = dc=example,dc=org\nuser_attribute = sAMAccountName\n"
             "operator_groups = CN=Ops,DC=example,DC=org\n"
             "connect_timeout = 2\nbind_timeout = 3\nsearch_timeout = 4\n",
             &c, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.ndirectories, 2);
    d = gh_config_directory_get(&c, "corp");
    assert_non_null(d);
    assert_ptr_equal(gh_config_directory_default(&c), d);
    assert_string_equal(d->user_attribute, "uid");            /* the defaults */
    assert_string_equal(d->group_attribute, "memberOf");
    assert_string_equal(d->user_filter, "(objectClass=*)");
    assert_string_equal(d->group_filter, "(objectClass=groupOfNames)");
    assert_string_equal(d->group_member_attribute, "member");
    assert_int_equal(d->connect_timeout, 5);
    assert_int_equal(d->bind_timeout, 5);
    assert_int_equal(d->search_timeout, 10);
    assert_false(d->starttls);
    d = gh_config_directory_get(&c, "tls");
    assert_non_null(d);
    assert_true(d->starttls);
    assert_false(d->is_default);
    assert_string_equal(d->user_attribute, "sAMAccountName");
    assert_int_equal(d->connect_timeout, 2);
    assert_int_equal(d->bind_timeout, 3);
    assert_int_equal(d->search_timeout, 4);
    assert_null(gh_config_directory_get(&c, "internal"));
    assert_null(gh_config_directory_get(&c, "other"));
}

static void expect_error(const char *text, const char *what)
{
    static gh_config c;
    char err[512], want[600];

    if (load(text, &c, err, sizeof(err)) == 0)
        fail_msg("loaded: %s", text);
    snprintf(want, sizeof(want), "%s:%s", path, what);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" does not hold \"%s\"", err, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[directory internal]\nservers = ldap://a\n", "2: servers: [directory internal]");
    expect_error("[directory a b]\nservers = ldap://a\n", "2: servers: [directory a b]");
    expect_error(GOOD "color = red\n", "9: color: unknown key");
    expect_error(GOOD "servers = ldap://b\n", "9: servers: given twice");
    expect_error("[directory x]\nservers = http://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r,dc=x\n", "2: x: not a list of ldap://");
    expect_error("[directory x]\nservers = ldaps://a\nstarttls = yes\nuser_base = dc=x\n"
                 "readonly_groups = cn=r,dc=x\n", "2: x: not a list of ldap://");
    expect_error("[directory x]\nservers = ldap://a/dc=x??sub\nuser_base = dc=x\n"
                 "readonly_groups = cn=r,dc=x\n", "2: x: not a list of ldap://");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\nbind_dn = cn=s\n"
                 "readonly_groups = cn=r,dc=x\n", "2: x: bind_dn and bind_password_file");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n",
                 "2: x: no group is mapped");
    expect_error("[directory x]\nuser_base = dc=x\nreadonly_groups = cn=r\n",
                 "2: x: a profile needs servers and user_base");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = not a dn\n", "2: x: not a list of group DNs");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=a,dc=x||cn=b\n", "2: x: not a list of group DNs");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\nuser_filter = uid=*\n", "2: x: not an LDAP filter");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\nuser_attribute = u id\n", "2: x: not an attribute");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\nsearch_timeout = 0\n", "5: search_timeout:");
    expect_error(GOOD "[directory y]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\ndefault = true\n",
                 "13: default: only one directory profile may be the default");
    expect_error("[directory a]\nservers = ldap://a\n[directory b]\nservers = ldap://a\n"
                 "[directory c]\nservers = ldap://a\n[directory d]\nservers = ldap://a\n"
                 "[directory e]\nservers = ldap://a\n", "10: servers: [directory e]: too many");
}

/* The example profile of docs/gatehouse.conf.example, its "#   " taken
 * off, loads as shown. Run from the repository root. */
static void test_example_profile(void **state)
{
    static gh_config c;
    FILE *in = fopen("docs/gatehouse.conf.example", "r");
    char line[512], text[8192] = "", err[512];
    const gh_config_directory *d;
    bool inside = false;

    (void)state;
    assert_non_null(in);
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strcmp(line, "#   [directory corp]\n") == 0)
            inside = true;
        else if (inside && strncmp(line, "#   ", 4) != 0)
            break;
        if (inside)
            strncat(text, line + 4, sizeof(text) - strlen(text) - 1);
    }
    fclose(in);
    assert_true(inside);
    if (load(text, &c, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    d = gh_config_directory_get(&c, "corp");
    assert_non_null(d);
    assert_true(d->is_default);
    assert_string_equal(d->group_attribute, "");
    assert_string_equal(d->bind_password_file, "/etc/gatehouse/ldap.pw");
    assert_string_equal(d->user_filter, "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_profile, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
