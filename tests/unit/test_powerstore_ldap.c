/*
 * test_powerstore_ldap.c: PowerStore's ldap_domain and ldap_account as
 * directory profiles, both ways (src/dialects/powerstore/powerstore_ldap_domain.c,
 * powerstore_ldap_account.c), on their own: a profile shown as an
 * ldap_domain (never a password), a create and a PATCH body onto a profile
 * (servers, port and protocol, kinds, paths, object classes, what is
 * refused), the ids and DNs of ldap_accounts and the role map they edit,
 * and the routes. Served end to end: tests/integration/test_powerstore_ldap.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/dialects/powerstore/powerstore_internal.h"

/* A profile as the configuration file makes one. */
static void file_profile(gh_config_directory *p)
{
    gh_config_directory_defaults(p);
    snprintf(p->name, sizeof(p->name), "corp");
    snprintf(p->servers, sizeof(p->servers), "ldaps://127.0.0.1:1636 ldaps://ldap2.example.org:1636");
    snprintf(p->bind_dn, sizeof(p->bind_dn), "cn=svc,dc=example,dc=org");
    snprintf(p->bind_password_file, sizeof(p->bind_password_file), "/etc/gatehouse/ldap.pw");
    snprintf(p->user_base, sizeof(p->user_base), "ou=people,dc=example,dc=org");
    snprintf(p->user_filter, sizeof(p->user_filter),
             "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))");
    snprintf(p->group_base, sizeof(p->group_base), "ou=groups,dc=example,dc=org");
    snprintf(p->administrator_groups, sizeof(p->administrator_groups),
             "cn=admins,ou=groups,dc=example,dc=org");
    snprintf(p->readonly_groups, sizeof(p->readonly_groups),
             "cn=readers,ou=groups,dc=example,dc=org|uid=olly,ou=people,dc=example,dc=org");
}

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, JSON_ALLOW_NUL, NULL);   /* harsher than a request body */

    assert_non_null(v);
    return v;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_domain_json(void **state)
{
    gh_config_directory p;
    json_t             *d;
    char               *text;

    (void)state;
    file_profile(&p);
    d = gh_ps_ldap_domain_json(&p);
    assert_non_null(d);
    assert_string_equal(str(d, "id"), "corp");
    assert_string_equal(str(d, "domain_name"), "corp");
    assert_int_equal(json_array_size(json_object_get(d, "ldap_servers")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "ldap_servers"), 1)),
                        "ldap2.example.org");
    assert_int_equal(json_integer_value(json_object_get(d, "port")), 1636);
    assert_string_equal(str(d, "protocol"), "LDAPS");
    assert_string_equal(str(d, "ldap_server_type"), "OpenLDAP");
    assert_string_equal(str(d, "bind_user"), "cn=svc,dc=example,dc=org");
    assert_int_equal(json_integer_value(json_object_get(d, "ldap_timeout")), 5000);
    /* a filter that is more than one class shows no class */
    assert_true(json_is_null(json_object_get(d, "user_object_class")));
    assert_string_equal(str(d, "group_object_class"), "groupOfNames");
    assert_string_equal(str(d, "user_search_path"), "ou=people,dc=example,dc=org");
    assert_string_equal(str(d, "group_search_path"), "ou=groups,dc=example,dc=org");
    assert_int_equal(json_integer_value(json_object_get(d, "group_search_level")), 0);
    assert_true(json_is_false(json_object_get(d, "is_global_catalog")));
    /* never a password, nor where it is kept */
    assert_null(json_object_get(d, "bind_password"));
    text = json_dumps(d, 0);
    assert_non_null(text);
    assert_null(strstr(text, "ldap.pw"));
    free(text);
    json_decref(d);
    snprintf(p.kind, sizeof(p.kind), "%s", GH_DIRECTORY_KIND_AD);
    snprintf(p.servers, sizeof(p.servers), "ldap://[::1] ldap://dc1");
    d = gh_ps_ldap_domain_json(&p);
    assert_string_equal(str(d, "ldap_server_type"), "AD");
    assert_string_equal(str(d, "protocol"), "LDAP");
    assert_int_equal(json_integer_value(json_object_get(d, "port")), 389);
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "ldap_servers"), 0)),
                        "::1");
    json_decref(d);
}

static void test_domain_create(void **state)
{
    gh_config_directory p;
    const char         *prop = NULL;
    json_t             *b;

    (void)state;
    /* PyPowerStore's example body, with its relative paths made DNs */
    b = parse("{\"domain_name\":\"example.org\",\"ldap_servers\":[\"127.0.0.1\",\"10.0.0.2\"],"
              "\"protocol\":\"LDAPS\",\"ldap_server_type\":\"OpenLDAP\","
              "\"bind_user\":\"cn=svc,dc=example,dc=org\",\"bind_password\":\"pw\","
              "\"is_global_catalog\":false,\"group_search_path\":\"ou=groups,dc=example,dc=org\","
              "\"ldap_timeout\":2500}");
    assert_int_equal(gh_ps_ldap_domain_apply(b, true, &p, &prop), GH_PS_E_COUNT);
    assert_string_equal(p.name, "example.org");
    assert_string_equal(p.servers, "ldaps://127.0.0.1:636 ldaps://10.0.0.2:636");
    assert_string_equal(p.kind, GH_DIRECTORY_KIND_LDAP);
    assert_false(p.enabled);                                    /* maps nobody yet */
    assert_false(p.is_default);
    assert_string_equal(p.user_base, "dc=example,dc=org");      /* the domain's own */
    assert_string_equal(p.group_base, "ou=groups,dc=example,dc=org");
    assert_string_equal(p.user_attribute, "uid");
    assert_string_equal(p.user_filter, "(objectClass=inetOrgPerson)");
    assert_string_equal(p.group_filter, "(objectClass=groupOfNames)");
    assert_string_equal(p.group_attribute, "");                 /* a group search */
    assert_int_equal(p.connect_timeout, 3);                     /* 2.5 s, rounded up */
    assert_string_equal(p.bind_dn, "cn=svc,dc=example,dc=org");
    json_decref(b);

    /* AD: its defaults; LDAP: port 389 */
    b = parse("{\"domain_name\":\"corp.example.com\",\"ldap_servers\":[\"dc1\"],"
              "\"ldap_server_type\":\"AD\",\"bind_user\":\"cn=svc,dc=corp\","
              "\"bind_password\":\"pw\",\"port\":3268}");
    assert_int_equal(gh_ps_ldap_domain_apply(b, true, &p, &prop), GH_PS_E_COUNT);
    assert_string_equal(p.kind, GH_DIRECTORY_KIND_AD);
    assert_string_equal(p.servers, "ldap://dc1:3268");
    assert_string_equal(p.user_attribute, "sAMAccountName");
    assert_string_equal(p.user_filter, "(objectClass=user)");
    assert_string_equal(p.user_base, "dc=corp,dc=example,dc=com");
    json_decref(b);
}

static void test_domain_refused(void **state)
{
    static const struct {
        const char *body;
        gh_ps_error e;
        const char *prop;
    } cases[] = {
        { "{\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\",\"bind_password\":\"p\"}",
          GH_PS_E_MISSING_PROPERTY, "domain_name" },
        { "{\"domain_name\":\"d\",\"bind_user\":\"cn=a\",\"bind_password\":\"p\"}",
          GH_PS_E_MISSING_PROPERTY, "ldap_servers" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\"}",
          GH_PS_E_MISSING_PROPERTY, "bind_password" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"color\":\"red\"}", GH_PS_E_BAD_PROPERTY, "color" },
        { "{\"domain_name\":5}", GH_PS_E_BAD_PROPERTY, "domain_name" },
        { "{\"domain_name\":\"internal\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\"}", GH_PS_E_BAD_VALUE, "domain_name" },
        { "{\"domain_name\":\"a b\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\"}", GH_PS_E_BAD_VALUE, "domain_name" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"ldap://h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\"}", GH_PS_E_BAD_VALUE, "ldap_servers" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\"}", GH_PS_E_BAD_VALUE, "ldap_servers" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"not a dn\","
          "\"bind_password\":\"p\"}", GH_PS_E_BAD_VALUE, "bind_user" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"protocol\":\"ldap\"}", GH_PS_E_BAD_VALUE, "protocol" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"\"}", GH_PS_E_BAD_VALUE, "bind_password" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"ldap_server_type\":\"NIS\"}", GH_PS_E_BAD_VALUE,
          "ldap_server_type" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"port\":0}", GH_PS_E_BAD_VALUE, "port" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"is_global_catalog\":true}", GH_PS_E_BAD_VALUE,
          "is_global_catalog" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"group_search_level\":2}", GH_PS_E_BAD_VALUE,
          "group_search_level" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"user_object_class\":\"x)(uid=*\"}", GH_PS_E_BAD_VALUE,
          "user_object_class" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"user_id_attribute\":\"uid=x\"}", GH_PS_E_BAD_VALUE,
          "user_id_attribute" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"ldap_timeout\":10}", GH_PS_E_BAD_VALUE, "ldap_timeout" },
        { "{\"domain_name\":\"d\",\"ldap_servers\":[\"h\"],\"bind_user\":\"cn=a\","
          "\"bind_password\":\"p\",\"user_search_path\":\"cn=a|cn=b\"}", GH_PS_E_BAD_VALUE,
          "user_search_path" },
    };
    gh_config_directory p;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t     *b = parse(cases[i].body);
        const char *prop = NULL;
        gh_ps_error e = gh_ps_ldap_domain_apply(b, true, &p, &prop);

        if (e != cases[i].e || prop == NULL || strcmp(prop, cases[i].prop) != 0)
            fail_msg("%s: got %d %s", cases[i].body, (int)e, prop != NULL ? prop : "(null)");
        json_decref(b);
    }
}

static void test_domain_patch(void **state)
{
    gh_config_directory p;
    const char         *prop = NULL;
    json_t             *b;

    (void)state;
    file_profile(&p);
    /* LDAP with the default port of LDAPS: the port follows the protocol */
    snprintf(p.servers, sizeof(p.servers), "ldaps://127.0.0.1");
    b = parse("{\"protocol\":\"LDAP\",\"ldap_server_type\":\"AD\"}");
    assert_int_equal(gh_ps_ldap_domain_apply(b, false, &p, &prop), GH_PS_E_COUNT);
    assert_string_equal(p.servers, "ldap://127.0.0.1:389");
    assert_string_equal(p.kind, GH_DIRECTORY_KIND_AD);
    /* what the body leaves out stays: the file's filter among it */
    assert_string_equal(p.user_filter, "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))");
    assert_string_equal(p.administrator_groups, "cn=admins,ou=groups,dc=example,dc=org");
    json_decref(b);
    b = parse("{\"ldap_servers\":[\"::1\"],\"port\":1389,\"user_object_class\":\"person\"}");
    assert_int_equal(gh_ps_ldap_domain_apply(b, false, &p, &prop), GH_PS_E_COUNT);
    assert_string_equal(p.servers, "ldap://[::1]:1389");
    assert_string_equal(p.user_filter, "(objectClass=person)");
    json_decref(b);
    /* the name is the id: it never changes */
    b = parse("{\"domain_name\":\"other\"}");
    assert_int_equal(gh_ps_ldap_domain_apply(b, false, &p, &prop), GH_PS_E_BAD_PROPERTY);
    assert_string_equal(prop, "domain_name");
    json_decref(b);
    assert_string_equal(p.name, "corp");
}

typedef struct {
    size_t   n;
    unsigned role[8];
    char     dn[8][GH_DIRECTORY_DN_MAX];
} seen;

static int collect(const gh_config_directory *p, unsigned role, const char *dn, void *arg)
{
    seen *s = arg;

    (void)p;
    assert_true(s->n < 8);
    s->role[s->n] = role;
    snprintf(s->dn[s->n++], GH_DIRECTORY_DN_MAX, "%s", dn);
    return 0;
}

static void test_accounts(void **state)
{
    gh_config_directory p;
    seen                s = { 0 };
    json_t             *a;
    int64_t             id;

    (void)state;
    file_profile(&p);
    gh_ps_ldap_accounts_each(&p, collect, &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.role[0], 1);
    assert_int_equal(s.role[1], 3);
    assert_string_equal(s.dn[2], "uid=olly,ou=people,dc=example,dc=org");
    a = gh_ps_ldap_account_json(&p, s.role[2], s.dn[2]);
    assert_string_equal(str(a, "type"), "User");
    assert_string_equal(str(a, "name"), "olly");
    assert_string_equal(str(a, "role_id"), "3");
    assert_string_equal(str(a, "domain_id"), "corp");
    json_decref(a);
    a = gh_ps_ldap_account_json(&p, s.role[0], s.dn[0]);
    assert_string_equal(str(a, "type"), "Group");
    assert_string_equal(str(a, "name"), "admins");
    json_decref(a);
    /* an id: stable, the same for another spelling of the DN, another per domain */
    id = gh_ps_ldap_account_id("corp", "cn=admins,ou=groups,dc=example,dc=org");
    assert_true(id > 0 && id < ((int64_t)1 << 48));
    assert_int_equal(id, gh_ps_ldap_account_id("corp", "CN=Admins, OU=groups,dc=example,dc=org"));
    assert_int_not_equal(id, gh_ps_ldap_account_id("other", "cn=admins,ou=groups,dc=example,dc=org"));
    assert_int_equal(gh_ps_ldap_account_id("corp", "not a dn"), 0);
    /* moved to Storage Administrator: out of one list, into another */
    assert_int_equal(gh_ps_ldap_map_remove(&p, "CN=readers,ou=groups,dc=example,dc=org"), 3);
    assert_string_equal(p.readonly_groups, "uid=olly,ou=people,dc=example,dc=org");
    assert_true(gh_ps_ldap_map_add(&p, 2, "cn=readers,ou=groups,dc=example,dc=org"));
    assert_string_equal(p.operator_groups, "cn=readers,ou=groups,dc=example,dc=org");
    assert_int_equal(gh_ps_ldap_map_remove(&p, "uid=olly,ou=people,dc=example,dc=org"), 3);
    assert_string_equal(p.readonly_groups, "");
    assert_int_equal(gh_ps_ldap_map_remove(&p, "uid=olly,ou=people,dc=example,dc=org"), 0);
    /* the last DN out disables the profile, the first one in enables it */
    p.enabled = true;
    assert_int_equal(gh_ps_ldap_map_remove(&p, "cn=readers,ou=groups,dc=example,dc=org"), 2);
    assert_true(p.enabled);
    assert_int_equal(gh_ps_ldap_map_remove(&p, "cn=admins,ou=groups,dc=example,dc=org"), 1);
    assert_false(p.enabled);
    assert_true(gh_ps_ldap_map_add(&p, 3, "cn=readers,ou=groups,dc=example,dc=org"));
    assert_true(p.enabled);
    p.enabled = false;      /* switched off elsewhere: another DN leaves it so */
    assert_true(gh_ps_ldap_map_add(&p, 1, "cn=admins,ou=groups,dc=example,dc=org"));
    assert_false(p.enabled);
}

static void test_account_dn(void **state)
{
    gh_config_directory p;
    char                dn[GH_DIRECTORY_DN_MAX];
    const char         *prop = NULL;
    json_t             *b;
    static const char *const bad_names[] = {
        "\"a,b\"", "\"a=b\"", "\"\"", "\" a\"", "\"a\\\\b\"", "\"a+b\"", "\"#a\"", "\"a|b\"",
        "\"a\\u0000b\"",
    };

    (void)state;
    file_profile(&p);
    b = parse("{\"name\":\"olly\",\"type\":\"User\"}");
    assert_int_equal(gh_ps_ldap_account_dn(b, &p, dn, sizeof(dn), &prop), GH_PS_E_COUNT);
    assert_string_equal(dn, "uid=olly,ou=people,dc=example,dc=org");
    json_decref(b);
    b = parse("{\"name\":\"operators\",\"type\":\"Group\"}");
    assert_int_equal(gh_ps_ldap_account_dn(b, &p, dn, sizeof(dn), &prop), GH_PS_E_COUNT);
    assert_string_equal(dn, "cn=operators,ou=groups,dc=example,dc=org");
    json_decref(b);
    b = parse("{\"name\":\"x\",\"type\":\"Role\"}");
    assert_int_equal(gh_ps_ldap_account_dn(b, &p, dn, sizeof(dn), &prop), GH_PS_E_BAD_VALUE);
    assert_string_equal(prop, "type");
    json_decref(b);
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        char text[128];

        snprintf(text, sizeof(text), "{\"name\":%s,\"type\":\"Group\"}", bad_names[i]);
        b = parse(text);
        if (gh_ps_ldap_account_dn(b, &p, dn, sizeof(dn), &prop) != GH_PS_E_BAD_VALUE)
            fail_msg("took %s", bad_names[i]);
        json_decref(b);
    }
    /* role ids: those that read back as written */
    for (unsigned r = 0; r <= 6; r++) {
        char text[8];

        snprintf(text, sizeof(text), "%u", r);
        b = json_string(text);
        assert_int_equal(gh_ps_ldap_role_value(b), r >= 1 && r <= 3 ? r : 0);
        json_decref(b);
    }
}

static void test_routes(void **state)
{
    static const struct {
        const char      *path;
        gh_ps_route_kind kind;
        bool             valid;
    } cases[] = {
        { "/api/rest/ldap_domain", GH_PS_LDAP_DOMAINS, true },
        { "/api/rest/ldap_domain/", GH_PS_LDAP_DOMAINS, true },
        { "/api/rest/ldap_domain/corp", GH_PS_LDAP_DOMAIN, true },
        { "/api/rest/ldap_domain/example.org", GH_PS_LDAP_DOMAIN, true },
        { "/api/rest/ldap_domain/a%20b", GH_PS_LDAP_DOMAIN, false },
        { "/api/rest/ldap_domain/internal", GH_PS_LDAP_DOMAIN, false },
        { "/api/rest/ldap_domain/corp/verify", GH_PS_LDAP_VERIFY, true },
        { "/api/rest/ldap_domain/corp/other", GH_PS_TREE, true },
        { "/api/rest/ldap_account", GH_PS_LDAP_ACCOUNTS, true },
        { "/api/rest/ldap_account/123", GH_PS_LDAP_ACCOUNT, true },
        { "/api/rest/ldap_account/0123", GH_PS_LDAP_ACCOUNT, false },
        { "/api/rest/ldap_account/281474976710656", GH_PS_LDAP_ACCOUNT, false },
        { "/api/rest/ldap_account/x", GH_PS_LDAP_ACCOUNT, false },
    };
    gh_ps_route r;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gh_ps_route_parse((gh_str){ cases[i].path, strlen(cases[i].path) }, &r);
        if (r.kind != cases[i].kind || r.valid != cases[i].valid)
            fail_msg("%s: kind %d valid %d", cases[i].path, (int)r.kind, (int)r.valid);
    }
    gh_ps_route_parse((gh_str){ "/api/rest/ldap_account/281474976710655", 38 }, &r);
    assert_int_equal(r.user_id, 281474976710655LL);
    gh_ps_route_parse((gh_str){ "/api/rest/ldap_domain/corp/verify", 33 }, &r);
    assert_string_equal(r.user_name, "corp");
    assert_int_equal(gh_ps_allowed(GH_PS_LDAP_VERIFY), GH_METHOD_BIT(GH_METHOD_POST));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_json),
        cmocka_unit_test(test_domain_create),
        cmocka_unit_test(test_domain_refused),
        cmocka_unit_test(test_domain_patch),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_account_dn),
        cmocka_unit_test(test_routes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
