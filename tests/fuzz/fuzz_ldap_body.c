/*
 * fuzz_ldap_body.c: libFuzzer target for the PowerStore ldap_domain and
 * ldap_account bodies (powerstore_ldap_domain.c, powerstore_ldap_account.c):
 * the input as JSON (NULs allowed, harsher than a request body) applied as
 * a create and as a PATCH onto a profile of the file, then shown again as an
 * ldap_domain; and as an ldap_account body, its DN built, added to the role
 * map, listed and taken out again. A profile written must keep its strings
 * terminated within their fields, an ldap_domain shown must never hold the
 * bind password (the body is applied again with its password swapped for a
 * mark no other field holds, which must not show), and an account added
 * must be found by its id and removed.
 * The same input is also an Authorization value read by the dialect's
 * credential hook, which spells DOMAIN\user as user@DOMAIN: it must keep
 * the parser's kind, password and length, and change only such a name.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/credential.h"
#include "../../src/dialects/powerstore/powerstore_internal.h"

static gh_str fuzz_value;

static gh_str fuzz_header(const gh_request *req, const char *name)
{
    (void)req;
    return strcmp(name, "Authorization") == 0 ? fuzz_value : (gh_str){ NULL, 0 };
}

static void credential(const uint8_t *data, size_t size)
{
    gh_request    req;
    gh_credential plain, ps;

    memset(&req, 0, sizeof(req));
    req.header = fuzz_header;
    fuzz_value = (gh_str){ (const char *)data, size };
    gh_credential_authorization(fuzz_value, false, &plain);
    gh_powerstore_dialect.credential(&req, &ps);
    if (plain.kind == GH_CRED_BASIC) {
        if (ps.kind != GH_CRED_BASIC || ps.password_len != plain.password_len ||
            strlen(ps.user) != strlen(plain.user) ||
            (strcmp(ps.user, plain.user) != 0 &&
             (strchr(plain.user, '\\') == NULL || strchr(ps.user, '@') == NULL ||
              strchr(ps.user, '\\') != NULL)))
            abort();
    }
    gh_credential_wipe(&plain);
    gh_credential_wipe(&ps);
}

static void file_profile(gh_config_directory *p)
{
    gh_config_directory_defaults(p);
    snprintf(p->name, sizeof(p->name), "corp");
    snprintf(p->servers, sizeof(p->servers), "ldaps://127.0.0.1:1636 ldap://[::1]");
    snprintf(p->bind_dn, sizeof(p->bind_dn), "cn=svc,dc=example,dc=org");
    snprintf(p->user_base, sizeof(p->user_base), "ou=people,dc=example,dc=org");
    snprintf(p->administrator_groups, sizeof(p->administrator_groups),
             "cn=admins,ou=groups,dc=example,dc=org");
}

static void check_terminated(const gh_config_directory *p)
{
    if (memchr(p->name, 0, sizeof(p->name)) == NULL ||
        memchr(p->servers, 0, sizeof(p->servers)) == NULL ||
        memchr(p->bind_dn, 0, sizeof(p->bind_dn)) == NULL ||
        memchr(p->user_base, 0, sizeof(p->user_base)) == NULL ||
        memchr(p->user_filter, 0, sizeof(p->user_filter)) == NULL ||
        memchr(p->group_filter, 0, sizeof(p->group_filter)) == NULL ||
        memchr(p->administrator_groups, 0, sizeof(p->administrator_groups)) == NULL ||
        memchr(p->operator_groups, 0, sizeof(p->operator_groups)) == NULL ||
        memchr(p->readonly_groups, 0, sizeof(p->readonly_groups)) == NULL)
        abort();
}

/* The password of a body that has one, as the fuzzer wrote it, is
 * swapped for this before the body is applied, so that finding it in what
 * is shown means the password was shown, not that the fuzzer's password
 * happened to be a piece of another field or of a key. */
#define LEAK_MARK "Pw-leak-mark-0c1f9e"

/* body's copy with a password of the fuzzer's (a string, not empty)
 * swapped for LEAK_MARK; NULL when it has none or holds LEAK_MARK itself. */
static json_t *marked(const json_t *body)
{
    const json_t *pw = json_object_get(body, "bind_password");
    json_t       *copy;
    char         *text;
    bool          fuzzed_mark;

    if (!json_is_string(pw) || json_string_length(pw) == 0)
        return NULL;
    text = json_dumps(body, 0);
    fuzzed_mark = text == NULL || strstr(text, LEAK_MARK) != NULL;
    free(text);
    if (fuzzed_mark || (copy = json_deep_copy(body)) == NULL)
        return NULL;
    json_object_set_new(copy, "bind_password", json_string(LEAK_MARK));
    return copy;
}

/* p shown as an ldap_domain; marked: p was written from a marked body. */
static void show(const gh_config_directory *p, bool marked)
{
    json_t *d = gh_ps_ldap_domain_json(p);
    char   *text;

    if (d == NULL || json_object_get(d, "bind_password") != NULL)
        abort();
    text = json_dumps(d, 0);
    if (text == NULL || (marked && strstr(text, LEAK_MARK) != NULL))
        abort();
    free(text);
    json_decref(d);
}

/* body applied as a create, then as a PATCH onto a profile of the file. */
static void domain(const json_t *body, bool marked)
{
    gh_config_directory p;
    const char         *prop = NULL;

    if (gh_ps_ldap_domain_apply(body, true, &p, &prop) == GH_PS_E_COUNT) {
        check_terminated(&p);
        show(&p, marked);
    } else if (prop == NULL) {
        abort();
    }
    file_profile(&p);
    if (gh_ps_ldap_domain_apply(body, false, &p, &prop) == GH_PS_E_COUNT) {
        check_terminated(&p);
        if (strcmp(p.name, "corp") != 0)
            abort();
        show(&p, marked);
    } else if (prop == NULL) {
        abort();
    }
}

typedef struct {
    int64_t  id;
    unsigned role;
} find;

static int find_id(const gh_config_directory *p, unsigned role, const char *dn, void *arg)
{
    find *f = arg;

    if (gh_ps_ldap_account_id(p->name, dn) == f->id) {
        f->role = role;
        return 1;
    }
    return 0;
}

static void account(const json_t *body)
{
    gh_config_directory p;
    char                dn[GH_DIRECTORY_DN_MAX];
    const char         *prop = NULL;
    unsigned            role = gh_ps_ldap_role_value(json_object_get(body, "role_id"));
    find                f = { 0, 0 };

    file_profile(&p);
    if (gh_ps_ldap_account_dn(body, &p, dn, sizeof(dn), &prop) != GH_PS_E_COUNT) {
        if (prop == NULL)
            abort();
        return;
    }
    if (role == 0 || gh_ps_ldap_map_remove(&p, dn) != 0 || !gh_ps_ldap_map_add(&p, role, dn))
        return;
    check_terminated(&p);
    f.id = gh_ps_ldap_account_id(p.name, dn);
    if (f.id <= 0 || gh_ps_ldap_accounts_each(&p, find_id, &f) != 1 || f.role != role)
        abort();
    json_decref(gh_ps_ldap_account_json(&p, role, dn));
    if (gh_ps_ldap_map_remove(&p, dn) != role)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    json_t *mark;

    credential(data, size);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    domain(body, false);
    mark = marked(body);
    if (mark != NULL)
        domain(mark, true);
    json_decref(mark);
    account(body);
    json_decref(body);
    return 0;
}
