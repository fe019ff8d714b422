/*
 * test_redfish_directory.c: the AccountService's LDAP and ActiveDirectory
 * objects over directory profiles (src/dialects/redfish/redfish_directory.c):
 * a profile shown (servers, service account, password always null, search
 * settings, the group → role lists as RemoteRoleMapping), none shown as an
 * empty disabled object, and PATCH objects read over a profile: each
 * property to its key, DSP0266's array PATCH of RemoteRoleMapping ({} keeps,
 * null removes, the rest past the end go), and each refusal with its Base
 * message, the profile's text fields staying as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/redfish/redfish_internal.h"

static void profile(gh_config_directory *p)
{
    gh_config_directory_defaults(p);
    snprintf(p->name, sizeof(p->name), "corp");
    snprintf(p->servers, sizeof(p->servers), "ldaps://dc1.example.org ldaps://dc2.example.org");
    snprintf(p->bind_dn, sizeof(p->bind_dn), "cn=svc,dc=example,dc=org");
    snprintf(p->bind_password_file, sizeof(p->bind_password_file), "/etc/gh/ldap.pw");
    snprintf(p->user_base, sizeof(p->user_base), "ou=people,dc=example,dc=org");
    snprintf(p->administrator_groups, sizeof(p->administrator_groups), "cn=a,dc=x|cn=b,dc=x");
    snprintf(p->readonly_groups, sizeof(p->readonly_groups), "cn=r,dc=x");
}

static const char *at(const json_t *o, const char *a, const char *b, const char *c)
{
    const json_t *v = json_object_get(o, a);

    if (b != NULL)
        v = json_object_get(v, b);
    if (c != NULL)
        v = json_object_get(v, c);
    return json_string_value(v);
}

static void test_shown(void **state)
{
    gh_config_directory p;
    json_t *j, *maps;

    (void)state;
    profile(&p);
    j = gh_redfish_directory_json(&p, false);
    assert_non_null(j);
    assert_string_equal(at(j, "AccountProviderType", NULL, NULL), "LDAPService");
    assert_true(json_is_true(json_object_get(j, "ServiceEnabled")));
    assert_int_equal(json_array_size(json_object_get(j, "ServiceAddresses")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "ServiceAddresses"),
                                                         1)),
                        "ldaps://dc2.example.org");
    assert_string_equal(at(j, "Authentication", "Username", NULL), "cn=svc,dc=example,dc=org");
    assert_true(json_is_null(json_object_get(json_object_get(j, "Authentication"), "Password")));
    assert_string_equal(at(j, "LDAPService", "SearchSettings", "UsernameAttribute"), "uid");
    assert_string_equal(at(j, "LDAPService", "SearchSettings", "GroupsAttribute"), "memberOf");
    maps = json_object_get(j, "RemoteRoleMapping");
    assert_int_equal(json_array_size(maps), 3);
    assert_string_equal(at(json_array_get(maps, 1), "RemoteGroup", NULL, NULL), "cn=b,dc=x");
    assert_string_equal(at(json_array_get(maps, 1), "LocalRole", NULL, NULL), "Administrator");
    assert_string_equal(at(json_array_get(maps, 2), "LocalRole", NULL, NULL), "ReadOnly");
    {
        char *text = json_dumps(j, 0);                         /* no path of a secret */

        assert_null(strstr(text, "ldap.pw"));
        free(text);
    }
    json_decref(j);

    j = gh_redfish_directory_json(NULL, true);
    assert_string_equal(at(j, "AccountProviderType", NULL, NULL), "ActiveDirectoryService");
    assert_true(json_is_false(json_object_get(j, "ServiceEnabled")));
    assert_int_equal(json_array_size(json_object_get(j, "ServiceAddresses")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "RemoteRoleMapping")), 0);
    json_decref(j);
}

/* Read text over p; returns how many messages, the first one's id into id. */
static size_t patch(const char *text, gh_config_directory *p, gh_redfish_directory_change *chg,
                    char *id, size_t idlen, json_t **body)
{
    json_t *errors = json_array();
    size_t n;

    *body = json_loads(text, JSON_ALLOW_NUL, NULL);
    assert_non_null(*body);
    n = gh_redfish_directory_patch(*body, p, chg, errors);
    assert_int_equal(json_array_size(errors), n);
    id[0] = '\0';
    if (n > 0)
        snprintf(id, idlen, "%s", at(json_array_get(errors, 0), "MessageId", NULL, NULL));
    json_decref(errors);
    return n;
}

static void test_patched(void **state)
{
    gh_config_directory p;
    gh_redfish_directory_change chg;
    json_t *body;
    char id[96];

    (void)state;
    profile(&p);
    assert_int_equal(patch("{\"ServiceEnabled\":false,\"ServiceAddresses\":[\"ldap://127.0.0.1:389\","
                           "\"ldaps://h:636\"],\"Authentication\":{\"AuthenticationType\":"
                           "\"UsernameAndPassword\",\"Username\":\"cn=other,dc=x\",\"Password\":"
                           "\"s3cret\"},\"LDAPService\":{\"SearchSettings\":{"
                           "\"BaseDistinguishedNames\":[\"ou=staff,dc=x\"],\"UsernameAttribute\":"
                           "\"sAMAccountName\",\"GroupsAttribute\":\"\"}},\"@odata.etag\":\"x\"}",
                           &p, &chg, id, sizeof(id), &body), 0);
    assert_false(p.enabled);
    assert_string_equal(p.servers, "ldap://127.0.0.1:389 ldaps://h:636");
    assert_string_equal(p.bind_dn, "cn=other,dc=x");
    assert_string_equal(p.bind_password_file, "/etc/gh/ldap.pw");   /* the core's to change */
    assert_int_equal(chg.password_len, 6);
    assert_memory_equal(chg.password, "s3cret", 6);
    assert_string_equal(p.user_base, "ou=staff,dc=x");
    assert_string_equal(p.user_attribute, "sAMAccountName");
    assert_string_equal(p.group_attribute, "");
    json_decref(body);

    /* Anonymous search: no service account, no password file. */
    assert_int_equal(patch("{\"Authentication\":{\"Username\":\"\"}}", &p, &chg, id, sizeof(id),
                           &body), 0);
    assert_string_equal(p.bind_dn, "");
    assert_string_equal(p.bind_password_file, "");
    assert_null(chg.password);
    json_decref(body);
}

static void test_mappings(void **state)
{
    gh_config_directory p;
    gh_redfish_directory_change chg;
    json_t *body;
    char id[96];

    (void)state;
    profile(&p);   /* [a Administrator, b Administrator, r ReadOnly] */
    assert_int_equal(patch("{\"RemoteRoleMapping\":[{}, null, {\"LocalRole\":\"Operator\"},"
                           "{\"RemoteGroup\":\"cn=n,dc=x\",\"LocalRole\":\"ReadOnly\"}]}",
                           &p, &chg, id, sizeof(id), &body), 0);
    assert_string_equal(p.administrator_groups, "cn=a,dc=x");
    assert_string_equal(p.operator_groups, "cn=r,dc=x");
    assert_string_equal(p.readonly_groups, "cn=n,dc=x");
    json_decref(body);
    /* Shorter: the rest go. */
    assert_int_equal(patch("{\"RemoteRoleMapping\":[{}]}", &p, &chg, id, sizeof(id), &body), 0);
    assert_string_equal(p.administrator_groups, "cn=a,dc=x");
    assert_string_equal(p.operator_groups, "");
    assert_string_equal(p.readonly_groups, "");
    json_decref(body);
}

static void test_refused(void **state)
{
    static const struct {
        const char *body, *id;
    } bad[] = {
        { "{\"ServiceEnabled\":1}", "PropertyValueTypeError" },
        { "{\"ServiceAddresses\":[\"ldaps://a\",\"ftp://b\"]}", "PropertyValueFormatError" },
        { "{\"ServiceAddresses\":[\"ldap://a b\"]}", "PropertyValueFormatError" },
        { "{\"ServiceAddresses\":[\"ldap://a\\rb\"]}", "PropertyValueFormatError" },
        { "{\"ServiceAddresses\":[\"ldap://a\\u007fb\"]}", "PropertyValueFormatError" },
        { "{\"ServiceAddresses\":[null]}", "PropertyValueFormatError" },
        { "{\"Certificates\":{}}", "PropertyNotWritable" },
        { "{\"AccountProviderType\":\"LDAPService\"}", "PropertyNotWritable" },
        { "{\"Nope\":true}", "PropertyUnknown" },
        { "{\"Authentication\":[]}", "PropertyValueTypeError" },
        { "{\"Authentication\":{\"AuthenticationType\":\"KerberosKeytab\"}}",
          "PropertyValueNotInList" },
        { "{\"Authentication\":{\"Password\":\"\"}}", "PropertyValueFormatError" },
        { "{\"Authentication\":{\"Password\":\"a\\u0000b\"}}", "PropertyValueFormatError" },
        { "{\"Authentication\":{\"Username\":\"cn=a\\nb\"}}", "PropertyValueFormatError" },
        { "{\"Authentication\":{\"Token\":\"x\"}}", "PropertyNotWritable" },
        { "{\"LDAPService\":{\"SearchSettings\":{\"BaseDistinguishedNames\":[]}}}",
          "PropertyValueIncorrect" },
        { "{\"LDAPService\":{\"SearchSettings\":{\"BaseDistinguishedNames\":[3]}}}",
          "PropertyValueFormatError" },
        { "{\"LDAPService\":{\"SearchSettings\":{\"UsernameAttribute\":\"1uid\"}}}",
          "PropertyValueFormatError" },
        { "{\"LDAPService\":{\"SearchSettings\":{\"UsernameAttribute\":\"\"}}}",
          "PropertyValueFormatError" },
        { "{\"LDAPService\":{\"SearchSettings\":{\"EmailAttribute\":\"mail\"}}}",
          "PropertyNotWritable" },
        { "{\"LDAPService\":{\"Other\":{}}}", "PropertyUnknown" },
        { "{\"RemoteRoleMapping\":[{\"RemoteGroup\":\"cn=a|cn=b\",\"LocalRole\":\"ReadOnly\"}]}",
          "PropertyValueFormatError" },
        { "{\"RemoteRoleMapping\":[{\"RemoteGroup\":\"cn=a\",\"LocalRole\":\"admin\"}]}",
          "PropertyValueNotInList" },
        { "{\"RemoteRoleMapping\":[{},{},{},{\"RemoteGroup\":\"cn=a\"}]}", "PropertyMissing" },
        { "{\"RemoteRoleMapping\":[{},{},{},{}]}", "PropertyValueIncorrect" },
        { "{\"RemoteRoleMapping\":[\"cn=a\"]}", "PropertyValueTypeError" },
    };
    gh_config_directory p;
    gh_redfish_directory_change chg;
    json_t *body;
    char id[96], want[96];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        profile(&p);
        assert_true(patch(bad[i].body, &p, &chg, id, sizeof(id), &body) > 0);
        snprintf(want, sizeof(want), ".%s", bad[i].id);
        if (strstr(id, want) == NULL)
            fail_msg("%s: %s, not %s", bad[i].body, id, bad[i].id);
        assert_string_equal(p.servers, "ldaps://dc1.example.org ldaps://dc2.example.org");
        assert_string_equal(p.user_attribute, "uid");
        json_decref(body);
    }
    /* A password is never quoted back. */
    {
        json_t *errors = json_array();

        profile(&p);
        body = json_loads("{\"Authentication\":{\"Password\":7}}", 0, NULL);
        char *text;

        assert_int_equal(gh_redfish_directory_patch(body, &p, &chg, errors), 1);
        text = json_dumps(errors, 0);
        assert_null(strstr(text, "'7'"));
        free(text);
        json_decref(errors);
        json_decref(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shown),
        cmocka_unit_test(test_patched),
        cmocka_unit_test(test_mappings),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
