/*
 * test_directory.c: [directory NAME] sections of the configuration file
 * (their defaults, every rule, errors as FILE:LINE: key: reason), the group
 * → role map, and the refusals gh_directory_verify makes before or without a
 * directory: an empty password, a server that does not answer; the recheck's
 * lookup and what a recheck decides from each answer. The logins and the
 * rechecks against a real slapd are in tests/integration/test_directory.py
 * and test_directory_recheck.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/core/config.h"
#include "../../src/core/directory.h"
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
             "connect_timeout = 2\nbind_timeout = 3\nsearch_timeout = 4\n"
             "recheck_interval = 0\n",
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
    assert_int_equal(d->recheck_interval, 300);
    assert_false(d->starttls);
    d = gh_config_directory_get(&c, "tls");
    assert_non_null(d);
    assert_true(d->starttls);
    assert_false(d->is_default);
    assert_string_equal(d->user_attribute, "sAMAccountName");
    assert_int_equal(d->connect_timeout, 2);
    assert_int_equal(d->bind_timeout, 3);
    assert_int_equal(d->search_timeout, 4);
    assert_int_equal(d->recheck_interval, 0);           /* never */
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
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\nrecheck_interval = 86401\n", "5: recheck_interval:");
    expect_error("[directory x]\nservers = ldap://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\nrecheck_interval = -1\n", "5: recheck_interval:");
    expect_error(GOOD "[directory y]\nservers = ldaps://a\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\ndefault = true\n",
                 "13: default: only one directory profile may be the default");
    /* A password in the clear over a network: refused; to this host, allowed. */
    expect_error("[directory x]\nservers = ldaps://a ldap://dc.example.org\nuser_base = dc=x\n"
                 "readonly_groups = cn=r\n",
                 "2: x: an ldap:// server other than this host needs starttls");
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
    assert_int_equal(d->recheck_interval, 300);
}

static gh_config_directory map(void)
{
    gh_config_directory d;

    memset(&d, 0, sizeof(d));
    snprintf(d.administrator_groups, sizeof(d.administrator_groups), "%s",
             "cn=admins,ou=groups,dc=example,dc=org|cn=root\\2C the,dc=example,dc=org");
    snprintf(d.operator_groups, sizeof(d.operator_groups), "%s",
             "cn=ops,ou=groups,dc=example,dc=org");
    snprintf(d.readonly_groups, sizeof(d.readonly_groups), "%s",
             "cn=readers,ou=groups,dc=example,dc=org|cn=ops,ou=groups,dc=example,dc=org");
    return d;
}

static void test_role_map(void **state)
{
    gh_config_directory d = map();
    const char *none[] = { "cn=others,ou=groups,dc=example,dc=org", "not a dn", NULL };
    const char *readers[] = { "CN=Readers, OU=Groups, DC=Example, DC=Org" };
    const char *ops[] = { "cn=readers,ou=groups,dc=example,dc=org",
                          "cn=ops,ou=groups,dc=example,dc=org" };
    const char *all[] = { "cn=ops,ou=groups,dc=example,dc=org", "cn=x",
                          "cn=root\\, the,dc=example,dc=org" };
    const char *near[] = { "cn=admins,ou=groups,dc=example", "cn=admins,ou=groups,dc=example,dc=org,dc=x",
                           "cn=admins*,ou=groups,dc=example,dc=org" };

    (void)state;
    assert_int_equal(gh_directory_role(&d, none, 3), GH_ROLE_NONE);
    assert_int_equal(gh_directory_role(&d, none, 0), GH_ROLE_NONE);
    assert_int_equal(gh_directory_role(&d, readers, 1), GH_ROLE_READONLY);
    assert_int_equal(gh_directory_role(&d, ops, 2), GH_ROLE_OPERATOR);
    /* one DN in two lists: the better role; an escaped comma either way */
    assert_int_equal(gh_directory_role(&d, all, 3), GH_ROLE_ADMINISTRATOR);
    assert_int_equal(gh_directory_role(&d, near, 3), GH_ROLE_NONE);
}

/* A port of 127.0.0.1 nobody listens on. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_verify_without_directory(void **state)
{
    gh_config_directory d = map();
    gh_role role = GH_ROLE_ADMINISTRATOR;
    char why[256];

    (void)state;
    snprintf(d.name, sizeof(d.name), "%s", "corp");
    snprintf(d.servers, sizeof(d.servers), "ldap://127.0.0.1:%d", closed_port());
    snprintf(d.user_base, sizeof(d.user_base), "%s", "dc=example,dc=org");
    snprintf(d.user_filter, sizeof(d.user_filter), "%s", "(objectClass=*)");
    snprintf(d.user_attribute, sizeof(d.user_attribute), "%s", "uid");
    d.connect_timeout = d.bind_timeout = d.search_timeout = 2;
    /* an empty password is refused before any connection */
    assert_int_equal(gh_directory_verify(&d, "dana", "", 0, NULL, NULL, &role, why, sizeof(why)),
                     GH_DIR_BAD_PASSWORD);
    assert_int_equal(role, GH_ROLE_NONE);
    assert_int_equal(gh_directory_verify(&d, "dana", "secret-pw", 9, NULL, NULL, &role, why,
                                         sizeof(why)),
                     GH_DIR_UNAVAILABLE);
    assert_non_null(strstr(why, "127.0.0.1"));
    assert_null(strstr(why, "secret-pw"));
    assert_int_equal(gh_directory_probe(&d, why, sizeof(why)), -1);
    /* the recheck's lookup: no password, the same answer */
    role = GH_ROLE_ADMINISTRATOR;
    assert_int_equal(gh_directory_lookup(&d, "dana", &role, why, sizeof(why)),
                     GH_DIR_UNAVAILABLE);
    assert_int_equal(role, GH_ROLE_NONE);
    assert_non_null(strstr(why, "127.0.0.1"));
    assert_int_equal(gh_directory_lookup(&d, "", &role, why, sizeof(why)), GH_DIR_NO_USER);
    gh_directory_close_thread();
}

/* What a recheck does with each answer of the directory. */
static void test_recheck_decide(void **state)
{
    const int64_t iv = 300000;      /* ms */

    (void)state;
    /* the same role: nothing; another: the new one, up or down */
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_OK, GH_ROLE_OPERATOR, GH_ROLE_OPERATOR,
                                                 0, iv), GH_RECHECK_KEEP);
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_OK, GH_ROLE_READONLY,
                                                 GH_ROLE_ADMINISTRATOR, 0, iv),
                     GH_RECHECK_ROLE);
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_OK, GH_ROLE_ADMINISTRATOR,
                                                 GH_ROLE_READONLY, 0, iv), GH_RECHECK_ROLE);
    /* gone or disabled (no entry under the filter), in no mapped group: ended,
     * however recently the directory answered */
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_NO_USER, GH_ROLE_READONLY,
                                                 GH_ROLE_NONE, 0, iv), GH_RECHECK_END);
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_NO_ROLE, GH_ROLE_READONLY,
                                                 GH_ROLE_NONE, 0, iv), GH_RECHECK_END);
    /* no answer: kept through one missed recheck, ended at the next */
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_UNAVAILABLE, GH_ROLE_READONLY,
                                                 GH_ROLE_NONE, iv, iv), GH_RECHECK_KEEP);
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_UNAVAILABLE, GH_ROLE_READONLY,
                                                 GH_ROLE_NONE, 2 * iv - 1, iv),
                     GH_RECHECK_KEEP);
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_UNAVAILABLE, GH_ROLE_READONLY,
                                                 GH_ROLE_NONE, 2 * iv, iv), GH_RECHECK_END);
    /* an answer a lookup never gives counts as none */
    assert_int_equal(gh_directory_recheck_decide(GH_DIR_BAD_PASSWORD, GH_ROLE_READONLY,
                                                 GH_ROLE_NONE, 0, iv), GH_RECHECK_KEEP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_profile, setup, teardown),
        cmocka_unit_test(test_role_map),
        cmocka_unit_test(test_verify_without_directory),
        cmocka_unit_test(test_recheck_decide),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
