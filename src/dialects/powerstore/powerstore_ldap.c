/*
 * powerstore_ldap.c: the ldap_domain and ldap_account resources, served over
 * the core's directory profiles (directory_profiles.h): the profiles in
 * effect, read afresh from the store on each request, and written whole, so
 * a change reaches every worker and every login at once, without a restart,
 * and stays across one. How a resource maps onto a profile is
 * powerstore_ldap_domain.c's and powerstore_ldap_account.c's.
 *
 * Everyone who may use the service reads them (never a password: the bind
 * password is written, never shown); creating, changing, deleting and
 * verifying take ConfigureManager (core/policy GH_OP_SERVICE), which only
 * an Administrator holds. A cookie session's writes need its DELL-EMC-TOKEN
 * like every other (powerstore.c). An ldap_account is changed by writing
 * its domain's profile with the role map changed.
 */
#include "powerstore_internal.h"

#include "../../core/directory.h"
#include "../../core/directory_profiles.h"
#include "../common/json_secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Administrator only; false with the 403 made. */
static bool gh_ps_ldap_may(gh_ps_ctx *c)
{
    gh_policy_subject who = gh_policy_subject_of(c->who);

    if (gh_policy_allows(&who, (gh_policy_act){ .op = GH_OP_SERVICE }, NULL))
        return true;
    gh_ps_fail(c->resp, GH_PS_E_PRIVILEGE, NULL);
    return false;
}

/* The bind password of a body lives in jansson's memory until freed. */
static void gh_ps_ldap_body_free(json_t *body)
{
    static const char *const secret[] = { "bind_password", NULL };

    gh_json_secret_free(body, secret);
}

/* Write profile p (a new bind password when pw is not NULL); the reply of
 * success is the caller's. false with the error made. */
static bool gh_ps_ldap_put(gh_ps_ctx *c, const gh_config_directory *p, const json_t *pw)
{
    char why[256] = "";

    switch (gh_service_directory_put(c->svc, p, json_string_value(pw),
                                     pw != NULL ? json_string_length(pw) : 0, c->who->user,
                                     c->req->client_addr, why, sizeof(why))) {
    case GH_DIRPUT_OK:
        return true;
    case GH_DIRPUT_INVALID:
        gh_ps_fail(c->resp, GH_PS_E_LDAP_REFUSED, why[0] != '\0' ? why : "not valid");
        return false;
    case GH_DIRPUT_FULL:
        gh_ps_fail(c->resp, GH_PS_E_LDAP_REFUSED, "at most 4 LDAP domains");
        return false;
    case GH_DIRPUT_NOT_FOUND:
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
        return false;
    default:
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        return false;
    }
}

/* The profile the route names into *p; false with the 404 or 503 made. */
static bool gh_ps_ldap_load(gh_ps_ctx *c, gh_config_directory *p)
{
    gh_store_err err = gh_service_directory_get(c->svc, c->route->user_name, p);

    if (err == GH_STORE_OK)
        return true;
    if (err == GH_STORE_NOT_FOUND)
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
    else
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
    return false;
}

/* ---- ldap_domain ---- */

static void gh_ps_ldap_domain_create(gh_ps_ctx *c)
{
    gh_config_directory p, old;
    json_t             *body = NULL;
    const char         *prop = NULL;
    gh_ps_error         e;
    gh_store_err        err;

    if (!gh_ps_ldap_may(c) || (body = gh_ps_body(c)) == NULL)
        goto done;
    if ((e = gh_ps_ldap_domain_apply(body, true, &p, &prop)) != GH_PS_E_COUNT) {
        gh_ps_fail(c->resp, e, prop);
        goto done;
    }
    err = gh_service_directory_get(c->svc, p.name, &old);
    if (err == GH_STORE_OK) {
        gh_ps_fail(c->resp, GH_PS_E_LDAP_EXISTS, p.name);
        goto done;
    }
    if (err != GH_STORE_NOT_FOUND) {
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        goto done;
    }
    if (gh_ps_ldap_put(c, &p, json_object_get(body, "bind_password")))
        gh_ps_reply(c->resp, 201, json_pack("{s:s}", "id", p.name));
done:
    gh_ps_ldap_body_free(body);
}

/* The profiles in effect (malloc'd: four of them are large for a stack);
 * NULL with the 503 made. */
static gh_directory_profiles *gh_ps_ldap_all(gh_ps_ctx *c)
{
    gh_directory_profiles *all = malloc(sizeof(*all));

    if (all != NULL && gh_service_directory_list(c->svc, all) == GH_STORE_OK)
        return all;
    free(all);
    gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
    return NULL;
}

void gh_ps_serve_ldap_domains(gh_ps_ctx *c)
{
    gh_directory_profiles *all;
    json_t                *items;

    if (!gh_ps_need_store(c))
        return;
    if (c->req->method == GH_METHOD_POST) {
        gh_ps_ldap_domain_create(c);
        return;
    }
    if ((all = gh_ps_ldap_all(c)) == NULL)
        return;
    items = json_array();
    for (size_t i = 0; items != NULL && i < all->n; i++) {
        if (json_array_append_new(items, gh_ps_ldap_domain_json(&all->v[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    free(all);
    gh_ps_reply_collection(c, items);
}

static void gh_ps_ldap_domain_modify(gh_ps_ctx *c, gh_config_directory *p)
{
    json_t      *body = gh_ps_body(c);
    const char  *prop = NULL;
    gh_ps_error  e;

    if (body == NULL)
        return;
    if ((e = gh_ps_ldap_domain_apply(body, false, p, &prop)) != GH_PS_E_COUNT)
        gh_ps_fail(c->resp, e, prop);
    else if (gh_ps_ldap_put(c, p, json_object_get(body, "bind_password")))
        c->resp->status = 204;
    gh_ps_ldap_body_free(body);
}

void gh_ps_serve_ldap_domain(gh_ps_ctx *c)
{
    gh_config_directory p;
    bool                write = c->req->method == GH_METHOD_PATCH ||
                                c->req->method == GH_METHOD_DELETE;

    if (!gh_ps_need_store(c) || (write && !gh_ps_ldap_may(c)) || !gh_ps_ldap_load(c, &p))
        return;
    if (c->req->method == GH_METHOD_PATCH) {
        gh_ps_ldap_domain_modify(c, &p);
        return;
    }
    if (c->req->method == GH_METHOD_DELETE) {
        switch (gh_service_directory_delete(c->svc, p.name, c->who->user, c->req->client_addr)) {
        case GH_DIRPUT_OK:        c->resp->status = 204; break;
        case GH_DIRPUT_NOT_FOUND: gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path); break;
        default:                  gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL); break;
        }
        return;
    }
    gh_ps_reply_instance(c, gh_ps_ldap_domain_json(&p));
}

/* POST ldap_domain/{name}/verify: the service account binds to the
 * domain's servers (a hash-pool task: bounded by the domain's timeouts). */
void gh_ps_serve_ldap_verify(gh_ps_ctx *c)
{
    gh_config_directory p;
    char                why[256] = "";

    if (!gh_ps_need_store(c) || !gh_ps_ldap_may(c) || !gh_ps_ldap_load(c, &p))
        return;
    if (gh_directory_probe(&p, why, sizeof(why)) == 0)
        c->resp->status = 204;
    else
        gh_ps_fail(c->resp, GH_PS_E_LDAP_VERIFY, why[0] != '\0' ? why : "no answer");
}

/* ---- ldap_account ---- */

typedef struct {
    json_t  *items;       /* the list, or NULL when finding */
    int64_t  id;          /* the one to find */
    unsigned role;        /* found: its role and DN */
    char     dn[GH_DIRECTORY_GROUPS_MAX];
} gh_ps_account_walk;

static int gh_ps_account_visit(const gh_config_directory *p, unsigned role, const char *dn,
                               void *arg)
{
    gh_ps_account_walk *w = arg;

    if (w->items != NULL)
        return json_array_append_new(w->items, gh_ps_ldap_account_json(p, role, dn)) == 0 ? 0 : -1;
    if (gh_ps_ldap_account_id(p->name, dn) != w->id)
        return 0;
    w->role = role;
    snprintf(w->dn, sizeof(w->dn), "%s", dn);
    return 1;
}

static const char *const gh_ps_account_props[] = { "domain_id", "name", "type", "role_id" };

static void gh_ps_ldap_account_create(gh_ps_ctx *c)
{
    gh_config_directory p;
    json_t             *body = NULL, *v;
    const char         *key, *prop = NULL;
    char                dn[GH_DIRECTORY_DN_MAX], id[24];
    unsigned            role;
    gh_ps_error         e;
    gh_store_err        err;

    if (!gh_ps_ldap_may(c) || (body = gh_ps_body(c)) == NULL)
        goto done;
    json_object_foreach(body, key, v) {
        size_t i;

        for (i = 0; i < 4 && strcmp(key, gh_ps_account_props[i]) != 0; i++)
            ;
        if (i == 4 || !json_is_string(v)) {
            gh_ps_fail(c->resp, GH_PS_E_BAD_PROPERTY, key);
            goto done;
        }
    }
    for (size_t i = 0; i < 4; i++) {
        if (json_object_get(body, gh_ps_account_props[i]) == NULL) {
            gh_ps_fail(c->resp, GH_PS_E_MISSING_PROPERTY, gh_ps_account_props[i]);
            goto done;
        }
    }
    role = gh_ps_ldap_role_value(json_object_get(body, "role_id"));
    v = json_object_get(body, "domain_id");
    err = strlen(json_string_value(v)) == json_string_length(v) &&
          gh_config_directory_name_ok(json_string_value(v))
              ? gh_service_directory_get(c->svc, json_string_value(v), &p) : GH_STORE_NOT_FOUND;
    if (err != GH_STORE_OK) {
        gh_ps_fail(c->resp, err == GH_STORE_NOT_FOUND ? GH_PS_E_BAD_VALUE : GH_PS_E_UNAVAILABLE,
                   err == GH_STORE_NOT_FOUND ? "domain_id" : NULL);
        goto done;
    }
    if ((e = gh_ps_ldap_account_dn(body, &p, dn, sizeof(dn), &prop)) != GH_PS_E_COUNT) {
        gh_ps_fail(c->resp, e, prop);
        goto done;
    }
    if (role == 0) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "role_id");
        goto done;
    }
    if (gh_ps_ldap_map_remove(&p, dn) != 0) {
        gh_ps_fail(c->resp, GH_PS_E_LDAP_EXISTS, dn);
        goto done;
    }
    if (!gh_ps_ldap_map_add(&p, role, dn)) {
        gh_ps_fail(c->resp, GH_PS_E_LDAP_REFUSED, "the role map of the domain is full");
        goto done;
    }
    if (gh_ps_ldap_put(c, &p, NULL)) {
        snprintf(id, sizeof(id), "%lld", (long long)gh_ps_ldap_account_id(p.name, dn));
        gh_ps_reply(c->resp, 201, json_pack("{s:s}", "id", id));
    }
done:
    json_decref(body);
}

void gh_ps_serve_ldap_accounts(gh_ps_ctx *c)
{
    gh_directory_profiles *all;
    gh_ps_account_walk     w = { 0 };

    if (!gh_ps_need_store(c))
        return;
    if (c->req->method == GH_METHOD_POST) {
        gh_ps_ldap_account_create(c);
        return;
    }
    if ((all = gh_ps_ldap_all(c)) == NULL)
        return;
    w.items = json_array();
    for (size_t i = 0; w.items != NULL && i < all->n; i++) {
        if (gh_ps_ldap_accounts_each(&all->v[i], gh_ps_account_visit, &w) != 0) {
            json_decref(w.items);
            w.items = NULL;
        }
    }
    free(all);
    gh_ps_reply_collection(c, w.items);
}

/* The account the route names: its profile into *p, its role and DN into
 * *w; false with the 404 or 503 made. */
static bool gh_ps_ldap_account_find(gh_ps_ctx *c, gh_config_directory *p, gh_ps_account_walk *w)
{
    gh_directory_profiles *all;
    bool                   found = false;

    memset(w, 0, sizeof(*w));
    w->id = c->route->user_id;
    if ((all = gh_ps_ldap_all(c)) == NULL)
        return false;
    for (size_t i = 0; !found && i < all->n; i++) {
        if (gh_ps_ldap_accounts_each(&all->v[i], gh_ps_account_visit, w) == 1) {
            *p = all->v[i];
            found = true;
        }
    }
    if (!found)
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
    free(all);
    return found;
}

/* PATCH: role_id, the only property that changes. */
static void gh_ps_ldap_account_modify(gh_ps_ctx *c, gh_config_directory *p,
                                      const gh_ps_account_walk *w)
{
    json_t     *body = gh_ps_body(c);
    const char *key;
    json_t     *v;
    unsigned    role;

    if (body == NULL)
        return;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "role_id") != 0 || !json_is_string(v)) {
            gh_ps_fail(c->resp, GH_PS_E_BAD_PROPERTY, key);
            goto done;
        }
    }
    if ((v = json_object_get(body, "role_id")) == NULL) {
        gh_ps_fail(c->resp, GH_PS_E_MISSING_PROPERTY, "role_id");
        goto done;
    }
    if ((role = gh_ps_ldap_role_value(v)) == 0) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "role_id");
        goto done;
    }
    gh_ps_ldap_map_remove(p, w->dn);
    if (!gh_ps_ldap_map_add(p, role, w->dn))
        gh_ps_fail(c->resp, GH_PS_E_LDAP_REFUSED, "the role map of the domain is full");
    else if (gh_ps_ldap_put(c, p, NULL))
        c->resp->status = 204;
done:
    json_decref(body);
}

void gh_ps_serve_ldap_account(gh_ps_ctx *c)
{
    gh_config_directory *p = malloc(sizeof(*p));
    gh_ps_account_walk  *w = malloc(sizeof(*w));
    bool                 write = c->req->method == GH_METHOD_PATCH ||
                                 c->req->method == GH_METHOD_DELETE;

    if (p == NULL || w == NULL) {
        gh_ps_fail(c->resp, GH_PS_E_INTERNAL, NULL);
        goto done;
    }
    if (!gh_ps_need_store(c) || (write && !gh_ps_ldap_may(c)) ||
        !gh_ps_ldap_account_find(c, p, w))
        goto done;
    if (c->req->method == GH_METHOD_PATCH) {
        gh_ps_ldap_account_modify(c, p, w);
    } else if (c->req->method == GH_METHOD_DELETE) {
        gh_ps_ldap_map_remove(p, w->dn);
        if (gh_ps_ldap_put(c, p, NULL))
            c->resp->status = 204;
    } else {
        gh_ps_reply_instance(c, gh_ps_ldap_account_json(p, w->role, w->dn));
    }
done:
    free(w);
    free(p);
}
