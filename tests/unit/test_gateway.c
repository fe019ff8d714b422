/*
 * test_gateway.c: the privileges a forwarded request needs (gateway.h): the
 * method's default, the [authorize] rules as the configuration file gives
 * them (grammar, strict errors with their line, a failed reload that keeps
 * the rules in force), the longest prefix per method, and the readings of
 * a path that "%2e%2e", "//" and ";" tricks would have the upstream make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/dialects/common/dialect.h"
#include "../../src/dialects/common/gateway.h"

#define L  GH_PRIV_LOGIN
#define CM GH_PRIV_CONFIGURE_MANAGER
#define CU GH_PRIV_CONFIGURE_USERS
#define CC GH_PRIV_CONFIGURE_COMPONENTS
#define CS GH_PRIV_CONFIGURE_SELF

static const gh_policy_subject admin = { 1, GH_ROLE_ADMINISTRATOR, 0, 0 };
static const gh_policy_subject oper = { 2, GH_ROLE_OPERATOR, 0, 0 };
static const gh_policy_subject viewer = { 3, GH_ROLE_READONLY, 0, 0 };

/* cfg read from text; 0, or -1 with the error in err. */
static int load(gh_config *cfg, const char *text, char *err, size_t errlen)
{
    char  path[] = "/tmp/gh-test-gateway-XXXXXX";
    int   fd = mkstemp(path), rc;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    rc = gh_config_load(cfg, path, err, errlen);
    unlink(path);
    return rc;
}

static void config_with(gh_config *cfg, const char *rules)
{
    char err[512] = "";
    char text[4096];

    assert_int_equal(gh_dialect_config_defaults(cfg, err, sizeof(err)), 0);
    snprintf(text, sizeof(text), "[authorize]\n%s", rules);
    if (load(cfg, text, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static bool allows(const gh_config *cfg, gh_method m, const char *path,
                   const gh_policy_subject *who, gh_privilege *missing)
{
    gh_request req;

    memset(&req, 0, sizeof(req));
    req.method = m;
    req.path = (gh_str){ path, strlen(path) };
    return gh_gateway_allows(cfg, &req, who, NULL, 0, missing);
}

/* Without rules: GET and HEAD need Login, anything else ConfigureComponents. */
static void test_method_default(void **state)
{
    gh_config    cfg;
    gh_privilege missing = 0;
    char         err[256];

    (void)state;
    assert_int_equal(gh_dialect_config_defaults(&cfg, err, sizeof(err)), 0);
    assert_non_null(gh_gateway_rules_of(&cfg));
    assert_int_equal(gh_gateway_rules_of(&cfg)->nrules, 0);
    assert_true(allows(&cfg, GH_METHOD_GET, "/api/rest/volume", &viewer, NULL));
    assert_true(allows(&cfg, GH_METHOD_HEAD, "/api/rest/volume", &viewer, NULL));
    assert_false(allows(&cfg, GH_METHOD_POST, "/api/rest/volume", &viewer, &missing));
    assert_int_equal(missing, CC);
    assert_true(allows(&cfg, GH_METHOD_PATCH, "/api/rest/volume", &oper, NULL));
    assert_false(allows(NULL, GH_METHOD_DELETE, "/x", &viewer, NULL));
    assert_false(allows(&cfg, GH_METHOD_GET, "/x", NULL, &missing));
    assert_int_equal(missing, L);
}

static void test_parse(void **state)
{
    gh_gateway_rule r;
    char            why[256];

    (void)state;
    assert_true(gh_gateway_rule_parse("/redfish/v1/Managers",
                                      "GET HEAD: Login, POST PATCH PUT DELETE: ConfigureManager",
                                      &r, why, sizeof(why)));
    assert_string_equal(r.prefix, "/redfish/v1/Managers");
    assert_int_equal(r.named, (1u << GH_METHOD_GET) | (1u << GH_METHOD_HEAD) |
                     (1u << GH_METHOD_POST) | (1u << GH_METHOD_PATCH) |
                     (1u << GH_METHOD_PUT) | (1u << GH_METHOD_DELETE));
    assert_int_equal(r.nsets[GH_METHOD_GET], 1);
    assert_int_equal(r.sets[GH_METHOD_GET][0], L);
    assert_int_equal(r.sets[GH_METHOD_DELETE][0], CM);
    assert_true(gh_gateway_rule_parse("/", "*: none", &r, why, sizeof(why)));
    assert_int_equal(r.named, 1u << GH_GATEWAY_STAR);
    assert_int_equal(r.sets[GH_GATEWAY_STAR][0], GH_GATEWAY_NOBODY);
    assert_true(gh_gateway_rule_parse("/a", "PATCH:ConfigureUsers|ConfigureManager+ConfigureSelf,"
                                      "*:Login", &r, why, sizeof(why)));
    assert_int_equal(r.nsets[GH_METHOD_PATCH], 2);
    assert_int_equal(r.sets[GH_METHOD_PATCH][0], CU);
    assert_int_equal(r.sets[GH_METHOD_PATCH][1], CM | CS);
    assert_true(gh_gateway_rule_parse("/a/b.c-d_e~f:g@h", "\tOPTIONS : Login\t", &r, why,
                                      sizeof(why)));
}

/* Strict: every malformed rule is refused with a reason. */
static void test_parse_errors(void **state)
{
    static const struct {
        const char *prefix, *value, *why;
    } bad[] = {
        { "/a", "", "must start with methods" },
        { "/a", ": none", "must start with methods" },
        { "/a", "GET: Login, : ConfigureManager", "must start with methods" },
        { "/a", "GET", "expected ':'" },
        { "/a", "GET:", "expected a privilege" },
        { "/a", "get: Login", "unknown method" },
        { "/a", "FETCH: Login", "unknown method" },
        { "/a", "GET: login", "unknown privilege" },
        { "/a", "GET: Admin", "unknown privilege" },
        { "/a", "GET: Login; POST: ConfigureManager", "expected ','" },
        { "/a", "GET: Login,", "must start with methods" },
        { "/a", "GET: Login, GET: ConfigureManager", "named twice" },
        { "/a", "GET GET: Login", "named twice" },
        { "/a", "* GET: Login", "stands alone" },
        { "/a", "*: Login, *: none", "named twice" },
        { "/a", "GET: none+Login", "none stands alone" },
        { "/a", "GET: Login+none", "unknown privilege" },
        { "/a", "GET: Login|Login|Login|Login|Login", "more than 4" },
        { "/a", "GET: Login ConfigureManager", "expected ','" },
        { "a", "GET: Login", "starting with '/'" },
        { "", "GET: Login", "starting with '/'" },
        { "/a/", "GET: Login", "empty segment" },
        { "/a//b", "GET: Login", "empty segment" },
        { "/a/../b", "GET: Login", "\"..\"" },
        { "/a/.", "GET: Login", "\"..\"" },
        { "/a%2fb", "GET: Login", "not allowed" },
        { "/a?x", "GET: Login", "not allowed" },
        { "/a;x", "GET: Login", "not allowed" },
        { "/a\\b", "GET: Login", "not allowed" },
        { "/a b", "GET: Login", "not allowed" },
    };
    gh_gateway_rule r;
    char            why[256];
    char            longp[GH_GATEWAY_PREFIX_MAX + 2];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        if (gh_gateway_rule_parse(bad[i].prefix, bad[i].value, &r, why, sizeof(why)))
            fail_msg("accepted %s = %s", bad[i].prefix, bad[i].value);
        if (strstr(why, bad[i].why) == NULL)
            fail_msg("%s = %s: \"%s\" does not say \"%s\"", bad[i].prefix, bad[i].value, why,
                     bad[i].why);
        assert_int_equal(r.named, 0);
    }
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_false(gh_gateway_rule_parse(longp, "GET: Login", &r, why, sizeof(why)));
    longp[sizeof(longp) - 2] = '\0';
    assert_true(gh_gateway_rule_parse(longp, "GET: Login", &r, why, sizeof(why)));
}

/* The file: errors name their line; the same path twice, in any case, is
 * an error; an inline comment is refused rather than cut off; a failed
 * load keeps the rules in force. */
static void test_config_file(void **state)
{
    gh_config cfg;
    char      err[512];

    (void)state;
    config_with(&cfg, "/api/rest = GET: Login\n; a comment line\n/api/rest/x = *: none\n");
    assert_int_equal(gh_gateway_rules_of(&cfg)->nrules, 2);
    assert_int_equal(load(&cfg, "[authorize]\n/a = GET: Login\n\n/b = GET: Nobody\n", err,
                          sizeof(err)), -1);
    assert_non_null(strstr(err, ":4: /b: unknown privilege"));
    assert_int_equal(load(&cfg, "[authorize]\n/a = GET: Login\n/A = POST: Login\n", err,
                          sizeof(err)), -1);
    assert_non_null(strstr(err, ":3: /A: a rule for this path is given already"));
    assert_int_equal(load(&cfg, "[authorize]\n/a = GET: Login ; POST: ConfigureManager\n", err,
                          sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: /a: an inline comment is not allowed"));
    assert_int_equal(load(&cfg, "[authorize]\n/a =\n", err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: /a:"));
    /* Nothing of the failed loads took: the first file's rules remain. */
    assert_int_equal(gh_gateway_rules_of(&cfg)->nrules, 2);
    assert_string_equal(gh_gateway_rules_of(&cfg)->rules[1].prefix, "/api/rest/x");
    /* A reload reads the rules afresh, not on top of the old ones. */
    assert_int_equal(gh_dialect_config_defaults(&cfg, err, sizeof(err)), 0);
    assert_int_equal(load(&cfg, "[authorize]\n/b = GET: ConfigureManager\n", err, sizeof(err)),
                     0);
    assert_int_equal(gh_gateway_rules_of(&cfg)->nrules, 1);
}

static void test_too_many(void **state)
{
    char      text[GH_GATEWAY_RULES_MAX * 24 + 64], err[512];
    size_t    o = 0;
    gh_config cfg;

    (void)state;
    o += (size_t)snprintf(text + o, sizeof(text) - o, "[authorize]\n");
    for (int i = 0; i <= GH_GATEWAY_RULES_MAX; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "/r%d = *: Login\n", i);
    assert_int_equal(gh_dialect_config_defaults(&cfg, err, sizeof(err)), 0);
    assert_int_equal(load(&cfg, text, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 64 rules"));
}

/* Longest prefix wins, per method: a rule that does not name the method
 * leaves it to a shorter one, then to the default. */
static void test_longest_prefix(void **state)
{
    gh_config    cfg;
    gh_privilege missing = L;

    (void)state;
    config_with(&cfg, "/api = *: none\n"
                      "/api/public = GET HEAD: Login\n"
                      "/api/public/admin = GET: ConfigureManager\n"
                      "/redfish/v1/Managers = GET: Login, *: ConfigureManager\n"
                      "/redfish/v1/Systems = PATCH: ConfigureComponents | ConfigureManager\n");
    assert_true(allows(&cfg, GH_METHOD_GET, "/api/public/x", &viewer, NULL));
    assert_false(allows(&cfg, GH_METHOD_POST, "/api/public/x", &admin, &missing));
    assert_int_equal(missing, 0);              /* /api's none: nobody */
    assert_false(allows(&cfg, GH_METHOD_GET, "/api/other", &admin, NULL));
    assert_false(allows(&cfg, GH_METHOD_GET, "/api/public/admin/1", &oper, &missing));
    assert_int_equal(missing, CM);
    assert_true(allows(&cfg, GH_METHOD_GET, "/api/public/admin/1", &admin, NULL));
    /* HEAD is not named by the longest: the next one's. */
    assert_true(allows(&cfg, GH_METHOD_HEAD, "/api/public/admin/1", &viewer, NULL));
    /* A segment boundary: /apix is under no rule. */
    assert_true(allows(&cfg, GH_METHOD_GET, "/apix", &viewer, NULL));
    /* '*' covers what the rule does not name, OTHER methods included. */
    assert_false(allows(&cfg, GH_METHOD_PATCH, "/redfish/v1/Managers/bmc", &oper, &missing));
    assert_int_equal(missing, CM);
    assert_false(allows(&cfg, GH_METHOD_OTHER, "/redfish/v1/Managers", &oper, NULL));
    assert_true(allows(&cfg, GH_METHOD_GET, "/redfish/v1/Managers", &viewer, NULL));
    /* Alternatives: Operator by ConfigureComponents; ReadOnly has neither. */
    assert_true(allows(&cfg, GH_METHOD_PATCH, "/redfish/v1/Systems/1", &oper, NULL));
    assert_false(allows(&cfg, GH_METHOD_PATCH, "/redfish/v1/Systems/1", &viewer, &missing));
    assert_int_equal(missing, CC);
    /* No rule for the path: the method's default. */
    assert_false(allows(&cfg, GH_METHOD_POST, "/redfish/v1/Chassis", &viewer, NULL));
    assert_true(allows(&cfg, GH_METHOD_POST, "/redfish/v1/Chassis", &oper, NULL));
}

/* A dialect's default applies where no rule does; a rule overrides it. */
static void test_dialect_default(void **state)
{
    gh_config       cfg;
    gh_request      req;
    const unsigned  dflt[] = { CU, CS };
    gh_privilege    missing = 0;

    (void)state;
    config_with(&cfg, "/redfish/v1/AccountService/Accounts/7 = PATCH: ConfigureManager\n");
    memset(&req, 0, sizeof(req));
    req.method = GH_METHOD_PATCH;
    req.path = (gh_str){ "/redfish/v1/AccountService/Accounts/3", 37 };
    assert_true(gh_gateway_allows(&cfg, &req, &viewer, dflt, 2, NULL));
    assert_false(gh_gateway_allows(&cfg, &req, &(gh_policy_subject){ 9, GH_ROLE_READONLY, 0,
                                                                     CS }, dflt, 2, &missing));
    assert_int_equal(missing, CU);
    req.path = (gh_str){ "/redfish/v1/AccountService/Accounts/7", 37 };
    assert_false(gh_gateway_allows(&cfg, &req, &viewer, dflt, 2, &missing));
    assert_int_equal(missing, CM);
}

static void reading(const char *raw, unsigned how, const char *want)
{
    char   out[GH_GATEWAY_PATH_MAX + 1];
    size_t len = 0;
    bool   ok = gh_gateway_normalise((gh_str){ raw, strlen(raw) }, how, out, &len);

    if (want == NULL) {
        if (ok)
            fail_msg("%s (%u) read as %s", raw, how, out);
        return;
    }
    if (!ok)
        fail_msg("%s (%u) unreadable", raw, how);
    if (strcmp(out, want) != 0 || len != strlen(want))
        fail_msg("%s (%u): %s, not %s", raw, how, out, want);
}

static void test_normalise(void **state)
{
    (void)state;
    reading("/", 0, "/");
    reading("/a/b/", 0, "/a/b");
    reading("/a/./b/../c", 0, "/a/c");
    reading("/a/%2e%2E/c", 0, "/c");
    reading("/a/%2e%2E/c", GH_GATEWAY_LITERAL_DOTS, "/a/../c");
    reading("/a//b", 0, "/a/b");
    reading("/a//b", GH_GATEWAY_KEEP_EMPTY, "/a//b");
    reading("/a/b//..", GH_GATEWAY_KEEP_EMPTY, "/a/b");
    reading("/a/b;x/c", 0, "/a/b;x/c");
    reading("/a/b;x/c", GH_GATEWAY_STRIP_PARAMS, "/a/b/c");
    reading("/a/b/..;x/c", GH_GATEWAY_STRIP_PARAMS, "/a/c");
    reading("/%41%42", 0, "/AB");
    reading("/..", 0, NULL);
    reading("/a/../..", 0, NULL);
    reading("/a%2fb", 0, NULL);
    reading("/a%2Fb", GH_GATEWAY_LITERAL_DOTS, NULL);
    reading("/a%00", 0, NULL);
    reading("/a%zz", 0, NULL);
    reading("/a%2", 0, NULL);
    reading("a/b", 0, NULL);
    reading("", 0, NULL);
}

/* Tricks that would take a request out from under a rule, on some upstream. */
static void test_tricks(void **state)
{
    static const char *const secret[] = {
        "/api/secret",
        "/API/Secret/x",
        "/api//secret",
        "/api/public/../secret",
        "/api/public/%2e%2e/secret",
        "/api/public/%2E%2e/secret/",
        "/api/./secret",
        "/api/%73ecret",
        "/api/secret;jsessionid=1",
        "/api/secret/..;/x",           /* Tomcat: /api/x, others: under /api/secret */
        "/api/secret/%2e%2e/public",   /* decoded: /api/public; literal: under secret */
        "/api/secret//../public",      /* merged: /api/public; kept: /api/secret */
        "/api/public;x/../../api/secret",
    };
    gh_config    cfg;
    gh_privilege missing = L;

    (void)state;
    config_with(&cfg, "/api = *: Login\n/api/secret = *: none\n");
    assert_true(allows(&cfg, GH_METHOD_POST, "/api/public/x", &viewer, NULL));
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (allows(&cfg, GH_METHOD_GET, secret[i], &admin, &missing))
            fail_msg("%s dodged the rule", secret[i]);
        assert_int_equal(missing, 0);
    }
    /* Unreadable paths are refused where rules are; without rules the path
     * is not read (the default looks at the method). */
    assert_false(allows(&cfg, GH_METHOD_GET, "/api/a%2Fb", &admin, NULL));
    assert_false(allows(&cfg, GH_METHOD_GET, "/..", &admin, NULL));
}

static bool names_secret(gh_str path, void *arg)
{
    (*(int *)arg)++;
    return gh_path_under(path, "/api/secret");
}

static bool any(const char *path, int *asked)
{
    *asked = 0;
    return gh_gateway_any_reading((gh_str){ path, strlen(path) }, names_secret, asked);
}

/* A router is asked about every reading but the plain path's own, which it
 * routed already; an unreadable path counts as one it cannot tell apart. */
static void test_any_reading(void **state)
{
    int asked;

    (void)state;
    assert_false(any("/api/secret", &asked));
    assert_int_equal(asked, 0);
    assert_false(any("/api/x.y/.z/..a", &asked));
    assert_int_equal(asked, 0);
    assert_true(any("/api/./secret", &asked));
    assert_true(any("/api/x/../secret", &asked));
    assert_true(any("/api//secret", &asked));
    assert_true(any("/api/se%63ret", &asked));
    assert_true(any("/api/secret/..;/x", &asked));
    assert_false(any("/api/x;y/z", &asked));
    assert_int_equal(asked, 4);                /* every combination of ';' and "//" */
    assert_true(any("/api/x%2fy", &asked));    /* unreadable */
    assert_int_equal(asked, 0);
    assert_true(any("/..", &asked));
}

/* The stream paths a forwarded request is watched on, as serve's locations
 * match them: any case, on a segment boundary, commas and blanks between. */
static void test_path_listed(void **state)
{
    const char *list = " /redfish/v1/EventService/SSE, /api/rest/events\t/x/y/";

    (void)state;
    assert_true(gh_gateway_path_listed(list, GH_STR("/redfish/v1/EventService/SSE")));
    assert_true(gh_gateway_path_listed(list, GH_STR("/REDFISH/v1/eventservice/sse")));
    assert_true(gh_gateway_path_listed(list, GH_STR("/redfish/v1/EventService/SSE/1")));
    assert_true(gh_gateway_path_listed(list, GH_STR("/api/rest/events")));
    assert_true(gh_gateway_path_listed(list, GH_STR("/x/y/z")));
    assert_false(gh_gateway_path_listed(list, GH_STR("/redfish/v1/EventService/SSEx")));
    assert_false(gh_gateway_path_listed(list, GH_STR("/redfish/v1/EventService")));
    assert_false(gh_gateway_path_listed(list, GH_STR("/api/rest/event")));
    assert_false(gh_gateway_path_listed("", GH_STR("/redfish/v1/EventService/SSE")));
    assert_false(gh_gateway_path_listed(" , ", GH_STR("/")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_default),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_longest_prefix),
        cmocka_unit_test(test_dialect_default),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_tricks),
        cmocka_unit_test(test_any_reading),
        cmocka_unit_test(test_path_listed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
