/*
 * powerstore_users.c: PowerStore roles and local users, over the same
 * accounts every dialect serves.
 *
 * Roles. PowerStore has five; the core has three roles, whose privileges
 * every dialect applies. Each PowerStore role maps onto the core role whose
 * privileges it needs at least, never more:
 *
 *   1 Administrator          -> Administrator
 *   2 Storage Administrator  -> Operator   (configures storage, not users)
 *   3 Operator               -> ReadOnly
 *   4 VM Administrator       -> ReadOnly
 *   5 Security Administrator -> ReadOnly, with ConfigureUsers added here
 *                               (it manages users in this dialect only)
 *
 * so that a role id written here reads back as written, the account keeps
 * the PowerStore role it was given beside the core role: the attribute
 * "role" this dialect keeps of the account in the store (store.h,
 * gh_store_attribute_*). When another dialect or the command line changes the core role,
 * the kept one no longer maps onto it and the role is derived from the core
 * role again (Administrator 1, Operator 2, ReadOnly 3): the two never
 * disagree about what an account may do.
 *
 * Users. Whether the caller may is core/policy's decision, asked with the
 * caller's PowerStore role as a policy subject (the core role, plus what the
 * role adds). So Administrators and Security Administrators list, create,
 * change and delete users; everyone reads and changes the own account, and
 * changing the own password needs the current one (verified here, in the
 * hash pool). A Security Administrator cannot make, change or delete an
 * Administrator, whose ConfigureManager it lacks, so the role cannot raise
 * itself. Two rules of the dialect's own hold whatever the privileges:
 * nobody deletes or locks the own account or changes the own role, and the
 * built-in account is never deleted, locked or given another role: an
 * appliance must keep one way in.
 */
#include "powerstore_internal.h"

#include "../common/json_secret.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *description;
    gh_role     core;
    unsigned    extra;   /* privileges added to the core role's (policy.h) */
} gh_ps_role_def;

/* Indexed by role id - 1. */
static const gh_ps_role_def gh_ps_roles[GH_PS_ROLE_COUNT] = {
    { "Administrator",
      "Can view status and performance information and change every setting, local "
      "users included.", GH_ROLE_ADMINISTRATOR, 0 },
    { "Storage Administrator",
      "Can view status and performance information and change storage settings, but "
      "not local users or security settings.", GH_ROLE_OPERATOR, 0 },
    { "Operator",
      "Can view status and performance information, but cannot change settings.",
      GH_ROLE_READONLY, 0 },
    { "VM Administrator",
      "Can view the storage information that virtualization management needs, but cannot "
      "change settings.", GH_ROLE_READONLY, 0 },
    { "Security Administrator",
      "Can manage local users and view status and performance information.",
      GH_ROLE_READONLY, GH_PRIV_CONFIGURE_USERS },
};

gh_role gh_ps_core_role(unsigned role)
{
    return role >= 1 && role <= GH_PS_ROLE_COUNT ? gh_ps_roles[role - 1].core : GH_ROLE_NONE;
}

unsigned gh_ps_role_pick(unsigned kept, gh_role role)
{
    if (gh_ps_core_role(kept) == role && role != GH_ROLE_NONE)
        return kept;
    switch (role) {
    case GH_ROLE_ADMINISTRATOR: return 1;
    case GH_ROLE_OPERATOR:      return 2;
    default:                    return 3;
    }
}

unsigned gh_ps_role_of(gh_store *store, const gh_account *acct)
{
    char     kept[8];
    unsigned role = 0;

    /* none kept, or the store unreadable: derived, which never gives more */
    if (gh_store_attribute_get(store, acct->id, GH_PS_NAME, GH_PS_ROLE_ATTRIBUTE, kept,
                               sizeof(kept)) == GH_STORE_OK && kept[0] >= '1' && kept[0] <= '9' &&
        kept[1] == '\0')
        role = (unsigned)(kept[0] - '0');
    return gh_ps_role_pick(role, acct->role);
}

gh_store_err gh_ps_role_keep(gh_store *store, int64_t account_id, unsigned role)
{
    char text[4];

    snprintf(text, sizeof(text), "%u", role);
    return gh_store_attribute_set(store, account_id, GH_PS_NAME, GH_PS_ROLE_ATTRIBUTE, text);
}

/* ---- what the caller may (core/policy) ---- */

static unsigned gh_ps_role_extra(unsigned role)
{
    return role >= 1 && role <= GH_PS_ROLE_COUNT ? gh_ps_roles[role - 1].extra : 0;
}

/* An account as a policy subject: its core role, plus what its PowerStore
 * role adds to it (nothing without a core role: policy.h). */
static gh_policy_subject gh_ps_subject(gh_store *store, const gh_account *acct)
{
    return (gh_policy_subject){ .account_id = acct->id, .role = acct->role,
                                .extra = gh_ps_role_extra(gh_ps_role_of(store, acct)) };
}

/* What an account given PowerStore role role would hold. */
static unsigned gh_ps_role_privileges(unsigned role)
{
    gh_policy_subject s = { .role = gh_ps_core_role(role), .extra = gh_ps_role_extra(role) };

    return gh_policy_holds(&s);
}

static bool gh_ps_allows(gh_ps_ctx *c, const gh_account *caller, gh_policy_act act)
{
    gh_policy_subject who = gh_ps_subject(c->svc->store, caller);

    return gh_policy_allows(&who, act, NULL);
}

/* The same, false with the 403 made. */
static bool gh_ps_may(gh_ps_ctx *c, const gh_account *caller, gh_policy_act act)
{
    if (gh_ps_allows(c, caller, act))
        return true;
    gh_ps_fail(c->resp, GH_PS_E_PRIVILEGE, NULL);
    return false;
}

/* May caller change or delete target at all? false with the 403 made. */
static bool gh_ps_may_manage(gh_ps_ctx *c, const gh_account *caller, const gh_account *target)
{
    gh_policy_subject t = gh_ps_subject(c->svc->store, target);

    return gh_ps_may(c, caller, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                 .target = gh_policy_holds(&t) });
}

/* ---- roles ---- */

static json_t *gh_ps_role_json(unsigned id)
{
    char text[4];

    snprintf(text, sizeof(text), "%u", id);
    return json_pack("{s:s, s:s, s:b, s:s}", "id", text, "name", gh_ps_roles[id - 1].name,
                     "is_built_in", 1, "description", gh_ps_roles[id - 1].description);
}

void gh_ps_serve_roles(gh_ps_ctx *c)
{
    json_t *all = json_array();

    for (unsigned id = 1; all != NULL && id <= GH_PS_ROLE_COUNT; id++) {
        if (json_array_append_new(all, gh_ps_role_json(id)) != 0) {
            json_decref(all);
            all = NULL;
        }
    }
    gh_ps_reply_collection(c, all);
}

void gh_ps_serve_role(gh_ps_ctx *c)
{
    gh_ps_reply_instance(c, gh_ps_role_json(c->route->role));
}

/* ---- accounts ---- */

static json_t *gh_ps_user_json(gh_store *store, const gh_account *a)
{
    char id[24], role[4];

    snprintf(id, sizeof(id), "%lld", (long long)a->id);
    snprintf(role, sizeof(role), "%u", gh_ps_role_of(store, a));
    return json_pack("{s:s, s:s, s:b, s:b, s:b, s:s}",
                     "id", id,
                     "name", a->name,
                     "is_built_in", a->built_in,
                     "is_locked", !a->enabled || gh_account_locked(a, gh_now()),
                     "is_default_password", a->built_in && a->password_change_required,
                     "role_id", role);
}

/* Load an account (the caller's by id, or the route's); false with the
 * reply made. The password hash stays only when keep_hash asks for it. */
static bool gh_ps_load(gh_ps_ctx *c, bool caller, bool keep_hash, gh_account *acct)
{
    gh_store_err err;

    if (caller)
        err = gh_store_account_get_by_id(c->svc->store, c->who->account_id, acct);
    else if (c->route->user_id != 0)
        err = gh_store_account_get_by_id(c->svc->store, c->route->user_id, acct);
    else
        err = gh_store_account_get(c->svc->store, c->route->user_name, acct);
    if (err == GH_STORE_OK) {
        if (!keep_hash)
            gh_wipe(acct->password_hash, sizeof(acct->password_hash));
        return true;
    }
    if (err == GH_STORE_NOT_FOUND)
        gh_ps_fail(c->resp, caller ? GH_PS_E_AUTH_REQUIRED : GH_PS_E_NOT_FOUND,
                   caller ? NULL : c->route->path);
    else
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
    return false;
}

typedef struct {
    json_t   *items;
    int64_t   only;      /* an account id, or -1 for every account */
    bool      failed;
    gh_store *store;
} gh_ps_user_walk;

static int gh_ps_user_member(const gh_account *acct, void *arg)
{
    gh_ps_user_walk *w = arg;

    if (w->only >= 0 && acct->id != w->only)
        return 0;
    if (json_array_append_new(w->items, gh_ps_user_json(w->store, acct)) != 0) {
        w->failed = true;
        return 1;
    }
    return 0;
}

/* ---- a request body ---- */

typedef struct {
    const char *name;
    json_type   type;       /* JSON_TRUE stands for a boolean */
} gh_ps_prop;

/* Every member of body is one of props, of its type; false with 400 made. */
static bool gh_ps_props_ok(gh_ps_ctx *c, const json_t *body, const gh_ps_prop *props, size_t n)
{
    const char *key;
    json_t     *value;

    json_object_foreach((json_t *)body, key, value) {
        size_t i;

        for (i = 0; i < n; i++) {
            if (strcmp(key, props[i].name) == 0)
                break;
        }
        if (i == n || (props[i].type == JSON_TRUE ? !json_is_boolean(value)
                                                   : json_typeof(value) != props[i].type)) {
            gh_ps_fail(c->resp, GH_PS_E_BAD_PROPERTY, key);
            return false;
        }
    }
    return true;
}

/* A role id value, 1..5, or 0. */
static unsigned gh_ps_role_value(const json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL || json_string_length(v) != 1 || s[0] < '1' || s[0] >= '1' + GH_PS_ROLE_COUNT)
        return 0;
    return (unsigned)(s[0] - '0');
}

static bool gh_ps_password_ok(gh_ps_ctx *c, const json_t *pw)
{
    int64_t n;

    if (json_string_length(pw) > GH_PASSWORD_MAX)
        return false;
    n = (int64_t)gh_account_password_chars(json_string_value(pw), json_string_length(pw));
    return n >= gh_service_setting(c->svc, GH_SET_MIN_PASSWORD_LENGTH) &&
           n <= gh_service_setting(c->svc, GH_SET_MAX_PASSWORD_LENGTH);
}

static bool gh_ps_hash(gh_ps_ctx *c, const json_t *pw, gh_account *acct)
{
    if (gh_password_hash(&c->svc->config->argon2, json_string_value(pw), json_string_length(pw),
                         acct->password_hash) == GH_PASSWORD_OK)
        return true;
    gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
    return false;
}

/* The passwords of a body live in jansson's memory until it is freed. */
static void gh_ps_body_free(json_t *body)
{
    static const char *const secret[] = { "password", "current_password", NULL };

    gh_json_secret_free(body, secret);
}

/* ---- the collection ---- */

static void gh_ps_users_list(gh_ps_ctx *c, const gh_account *caller)
{
    gh_ps_user_walk w = { json_array(), -1, false, c->svc->store };

    if (!gh_ps_allows(c, caller, (gh_policy_act){ .op = GH_OP_ACCOUNT, .own = false }))
        w.only = caller->id;
    if (w.items == NULL ||
        gh_store_account_foreach(c->svc->store, gh_ps_user_member, &w) != GH_STORE_OK ||
        w.failed) {
        json_decref(w.items);
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        return;
    }
    gh_ps_reply_collection(c, w.items);
}

static const gh_ps_prop gh_ps_create_props[] = {
    { "name", JSON_STRING }, { "password", JSON_STRING }, { "role_id", JSON_STRING },
    { "is_locked", JSON_TRUE },
};

static void gh_ps_user_create(gh_ps_ctx *c, const gh_account *caller)
{
    static const char *const required[] = { "name", "password", "role_id" };
    json_t      *body = NULL;
    gh_account   acct;
    unsigned     role;
    gh_store_err err;
    char         id[24];

    memset(&acct, 0, sizeof(acct));
    if (!gh_ps_may(c, caller, (gh_policy_act){ .op = GH_OP_ACCOUNTS }))
        return;
    if ((body = gh_ps_body(c)) == NULL ||
        !gh_ps_props_ok(c, body, gh_ps_create_props,
                        sizeof(gh_ps_create_props) / sizeof(gh_ps_create_props[0])))
        goto done;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (json_object_get(body, required[i]) == NULL) {
            gh_ps_fail(c->resp, GH_PS_E_MISSING_PROPERTY, required[i]);
            goto done;
        }
    }
    role = gh_ps_role_value(json_object_get(body, "role_id"));
    if (!gh_account_name_valid(json_string_value(json_object_get(body, "name")))) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "name");
        goto done;
    }
    if (role == 0) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "role_id");
        goto done;
    }
    if (!gh_ps_password_ok(c, json_object_get(body, "password"))) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "password");
        goto done;
    }
    if (!gh_ps_may(c, caller, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                               .target = gh_ps_role_privileges(role) }))
        goto done;
    snprintf(acct.name, sizeof(acct.name), "%s", json_string_value(json_object_get(body, "name")));
    snprintf(acct.domain, sizeof(acct.domain), "%s", "internal");
    acct.role = gh_ps_core_role(role);
    acct.enabled = !json_is_true(json_object_get(body, "is_locked"));
    if (!gh_ps_hash(c, json_object_get(body, "password"), &acct))
        goto done;
    /* the account and the role it keeps, in one transaction (again when the
     * store says what it read changed before it committed) */
    err = GH_STORE_BUSY;
    for (int tries = 0; err == GH_STORE_BUSY && tries < GH_STORE_TX_TRIES; tries++) {
        err = gh_store_begin(c->svc->store);
        if (err != GH_STORE_OK)
            break;
        err = gh_store_account_add(c->svc->store, &acct);
        if (err == GH_STORE_OK)
            err = gh_ps_role_keep(c->svc->store, acct.id, role);
        err = gh_store_end(c->svc->store, err);
    }
    if (err != GH_STORE_OK) {
        if (err == GH_STORE_EXISTS)
            gh_ps_fail(c->resp, GH_PS_E_NAME_EXISTS, acct.name);
        else
            gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        goto done;
    }
    gh_service_audit(c->svc, GH_AUDIT_ACCOUNT_CHANGED, acct.name, c->req->client_addr,
                     "powerstore", NULL, "created");
    snprintf(id, sizeof(id), "%lld", (long long)acct.id);
    gh_ps_reply(c->resp, 201, json_pack("{s:s}", "id", id));
done:
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    gh_ps_body_free(body);
}

void gh_ps_serve_users(gh_ps_ctx *c)
{
    gh_account caller;

    if (!gh_ps_need_store(c) || !gh_ps_load(c, true, false, &caller))
        return;
    if (c->req->method == GH_METHOD_POST)
        gh_ps_user_create(c, &caller);
    else
        gh_ps_users_list(c, &caller);
}

/* ---- a member ---- */

static const gh_ps_prop gh_ps_modify_props[] = {
    { "role_id", JSON_STRING }, { "is_locked", JSON_TRUE }, { "password", JSON_STRING },
    { "current_password", JSON_STRING },
};

/* The checks of a PATCH that need no hash; false with the reply made. */
static bool gh_ps_modify_allowed(gh_ps_ctx *c, const json_t *body, const gh_account *caller,
                                 const gh_account *target)
{
    bool     own = caller->id == target->id;
    json_t  *role_v = json_object_get(body, "role_id");
    json_t  *lock_v = json_object_get(body, "is_locked");
    unsigned role = gh_ps_role_value(role_v);
    bool     role_change = role_v != NULL && role != gh_ps_role_of(c->svc->store, target);

    if (role_v == NULL && lock_v == NULL && json_object_get(body, "password") == NULL) {
        gh_ps_fail(c->resp, GH_PS_E_MISSING_PROPERTY,
                   json_object_get(body, "current_password") != NULL ? "password"
                                                                     : "role_id, is_locked or password");
        return false;
    }
    if ((role_v != NULL || lock_v != NULL || !own) && c->who->password_change_required) {
        char id[24];

        snprintf(id, sizeof(id), "%lld", (long long)caller->id);
        gh_ps_fail(c->resp, GH_PS_E_PASSWORD_CHANGE, id);
        return false;
    }
    if ((role_v != NULL || lock_v != NULL || !own) && !gh_ps_may_manage(c, caller, target))
        return false;
    if (role_v != NULL && role == 0) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "role_id");
        return false;
    }
    if (role_change && !gh_ps_may(c, caller, (gh_policy_act){ .op = GH_OP_ACCOUNTS,
                                                              .target = gh_ps_role_privileges(role) }))
        return false;
    if (own && (role_change || json_is_true(lock_v))) {
        gh_ps_fail(c->resp, GH_PS_E_SELF, NULL);
        return false;
    }
    if (target->built_in && (role_change || json_is_true(lock_v))) {
        gh_ps_fail(c->resp, GH_PS_E_BUILT_IN, target->name);
        return false;
    }
    if (json_object_get(body, "password") != NULL &&
        !gh_ps_password_ok(c, json_object_get(body, "password"))) {
        gh_ps_fail(c->resp, GH_PS_E_BAD_VALUE, "password");
        return false;
    }
    return true;
}

/* One's own password needs the current one. */
static bool gh_ps_current_ok(gh_ps_ctx *c, const json_t *body, const gh_account *target)
{
    json_t *cur = json_object_get(body, "current_password");

    if (cur == NULL) {
        gh_ps_fail(c->resp, GH_PS_E_MISSING_PROPERTY, "current_password");
        return false;
    }
    switch (gh_password_verify(target->password_hash, json_string_value(cur),
                               json_string_length(cur))) {
    case GH_PASSWORD_OK:
        return true;
    case GH_PASSWORD_MISMATCH:
        gh_service_audit(c->svc, GH_AUDIT_LOGIN_FAILED, target->name, c->req->client_addr,
                         "powerstore-password-change", NULL, "wrong current password");
        gh_ps_fail(c->resp, GH_PS_E_WRONG_PASSWORD, NULL);
        return false;
    default:
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
        return false;
    }
}

static void gh_ps_user_modify(gh_ps_ctx *c, const gh_account *caller)
{
    json_t      *body = NULL, *v;
    gh_account   target;
    gh_store_err err;
    bool         own;
    unsigned     keep = 0;

    memset(&target, 0, sizeof(target));
    if ((body = gh_ps_body(c)) == NULL ||
        !gh_ps_props_ok(c, body, gh_ps_modify_props,
                        sizeof(gh_ps_modify_props) / sizeof(gh_ps_modify_props[0])) ||
        !gh_ps_load(c, false, true, &target) || !gh_ps_modify_allowed(c, body, caller, &target))
        goto done;
    own = caller->id == target.id;
    v = json_object_get(body, "password");
    if (v != NULL && own && !gh_ps_current_ok(c, body, &target))
        goto done;
    if (v != NULL && !gh_ps_hash(c, v, &target))
        goto done;
    /* Changing one's own password is what a required change asks for. */
    if (v != NULL && own)
        target.password_change_required = false;
    if ((v = json_object_get(body, "role_id")) != NULL) {
        keep = gh_ps_role_value(v);
        target.role = gh_ps_core_role(keep);
    }
    if ((v = json_object_get(body, "is_locked")) != NULL) {
        target.enabled = !json_is_true(v);
        if (target.enabled)
            target.locked_until = 0;   /* unlocking ends a lockout as well */
    }
    err = gh_service_account_update(c->svc, &target, target.generation);
    /* After the account: a role kept that no longer maps onto the core role
     * (this write failed) reads as the derived one, never as more. */
    if (err == GH_STORE_OK && keep != 0)
        err = gh_ps_role_keep(c->svc->store, target.id, keep);
    if (err == GH_STORE_OK)
        c->resp->status = 204;
    else if (err == GH_STORE_CONFLICT)
        gh_ps_fail(c->resp, GH_PS_E_CONFLICT, NULL);
    else if (err == GH_STORE_NOT_FOUND)
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
    else
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
done:
    gh_wipe(target.password_hash, sizeof(target.password_hash));
    gh_ps_body_free(body);
}

static void gh_ps_user_delete(gh_ps_ctx *c, const gh_account *caller)
{
    gh_account   target;
    gh_store_err err;

    if (!gh_ps_load(c, false, false, &target) || !gh_ps_may_manage(c, caller, &target))
        return;
    if (target.id == caller->id) {
        gh_ps_fail(c->resp, GH_PS_E_SELF, NULL);
        return;
    }
    if (target.built_in) {
        gh_ps_fail(c->resp, GH_PS_E_BUILT_IN, target.name);
        return;
    }
    err = gh_service_account_delete(c->svc, target.id);
    if (err == GH_STORE_OK)
        c->resp->status = 204;
    else if (err == GH_STORE_NOT_FOUND)
        gh_ps_fail(c->resp, GH_PS_E_NOT_FOUND, c->route->path);
    else
        gh_ps_fail(c->resp, GH_PS_E_UNAVAILABLE, NULL);
}

void gh_ps_serve_user(gh_ps_ctx *c)
{
    gh_account caller, target;
    bool       own = c->route->user_id != 0 ? c->route->user_id == c->who->account_id
                                            : strcmp(c->route->user_name, c->who->user) == 0;

    if (!gh_ps_need_store(c) || !gh_ps_load(c, true, false, &caller))
        return;
    /* Someone else's account: not even whether it exists, without the privilege. */
    if (!gh_ps_may(c, &caller, (gh_policy_act){ .op = GH_OP_ACCOUNT, .own = own }))
        return;
    if (c->req->method == GH_METHOD_PATCH) {
        gh_ps_user_modify(c, &caller);
        return;
    }
    if (c->req->method == GH_METHOD_DELETE) {
        gh_ps_user_delete(c, &caller);
        return;
    }
    if (!gh_ps_load(c, false, false, &target))
        return;
    gh_ps_reply_instance(c, gh_ps_user_json(c->svc->store, &target));
}
