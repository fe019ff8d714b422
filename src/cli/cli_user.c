/*
 * cli_user.c: `gatehouse user add|passwd|del|list|lock|unlock`.
 *
 * Every change goes through gh_store_account_* so that it lands in the change
 * log in the same transaction; the running server reads that log and drops
 * the account's cached credentials and sessions at once. Each change is also
 * written to the audit log. Passwords come from a file or standard input;
 * --password-hash imports a crypt(3) or argon2id hash (an htpasswd line's
 * second field, a shadow entry) instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/account.h"
#include "cli_common.h"

static const char gh_user_usage[] =
    "usage: gatehouse user add NAME --role ROLE [--password-file FILE | --password-hash HASH]\n"
    "       gatehouse user passwd NAME [--password-file FILE]\n"
    "       gatehouse user del NAME\n"
    "       gatehouse user list\n"
    "       gatehouse user lock NAME\n"
    "       gatehouse user unlock NAME\n"
    "       (each also takes [--data-dir DIR] [--config FILE])\n"
    "\n"
    "Manage local accounts (domain `internal`). Changes reach a running server at\n"
    "once: a deleted account's sessions and cached credentials stop working.\n"
    "\n"
    "  add      a new, enabled account; ROLE is Administrator, Operator or ReadOnly.\n"
    "           Without --password-file or --password-hash the password is read\n"
    "           from standard input (asked twice, without echo, on a terminal).\n"
    "  passwd   set a new password (from FILE or standard input)\n"
    "  del      delete an account and its sessions (not the built-in admin)\n"
    "  list     name, role, enabled, locked and built-in of every account\n"
    "  lock     refuse the account's logins until `unlock`, and end its sessions\n"
    "  unlock   end an administrator's lock and every lockout after failed\n"
    "           logins (from every address) at once; a lockout after failed\n"
    "           logins stops new logins only, and live sessions go on\n"
    "\n"
    "options:\n"
    "  --role ROLE            Administrator | Operator | ReadOnly\n"
    "  --password-file FILE   the password: the first line of FILE\n"
    "  --password-hash HASH   import an existing hash (bcrypt $2y$, yescrypt $y$,\n"
    "                         sha512crypt $6$, argon2id); argv is visible to other\n"
    "                         local users, so `--password-hash -` reads it from stdin\n"
    GH_CLI_COMMON_HELP;

typedef struct {
    const char *action, *name, *data_dir, *config;
    const char *role, *password_file, *password_hash;
} gh_user_args;

static int gh_user_parse(int argc, char **argv, gh_user_args *a)
{
    const gh_cli_option own[] = {
        { "role", &a->role, NULL },
        { "password-file", &a->password_file, NULL },
        { "password-hash", &a->password_hash, NULL },
        { NULL, NULL, NULL }
    };
    const char *args[2] = { NULL, NULL };
    const gh_cli_spec spec = { "user", gh_user_usage, own, &a->data_dir, &a->config, args, 2 };
    char command[48];
    int  rc = gh_cli_parse(argc, argv, &spec);

    if (rc != 0)
        return rc;
    a->action = args[0];
    a->name = args[1];
    if (a->action == NULL) {
        gh_cli_err("user: missing action (add, passwd, del, list, lock or unlock)");
        return -1;
    }
    if (strcmp(a->action, "list") == 0) {
        if (a->name != NULL) {
            gh_cli_err("user list takes no NAME");
            return -1;
        }
    } else if (strcmp(a->action, "add") == 0 || strcmp(a->action, "passwd") == 0
               || strcmp(a->action, "del") == 0 || strcmp(a->action, "lock") == 0
               || strcmp(a->action, "unlock") == 0) {
        if (a->name == NULL) {
            gh_cli_err("user %s: missing NAME", a->action);
            return -1;
        }
    } else {
        gh_cli_err("user: unknown action '%s' (add, passwd, del, list, lock or unlock)",
                   a->action);
        return -1;
    }
    snprintf(command, sizeof(command), "user %s", a->action);
    a->data_dir = gh_cli_data_dir(a->data_dir, command);
    if (a->data_dir == NULL)
        return -1;
    if (a->role != NULL && strcmp(a->action, "add") != 0) {
        gh_cli_err("user %s: --role belongs to `user add`", a->action);
        return -1;
    }
    if (a->password_hash != NULL && strcmp(a->action, "add") != 0) {
        gh_cli_err("user %s: --password-hash belongs to `user add`", a->action);
        return -1;
    }
    if (a->password_file != NULL && strcmp(a->action, "add") != 0
        && strcmp(a->action, "passwd") != 0) {
        gh_cli_err("user %s takes no password", a->action);
        return -1;
    }
    if (a->password_file != NULL && a->password_hash != NULL) {
        gh_cli_err("user add: --password-file or --password-hash, not both");
        return -1;
    }
    if (strcmp(a->action, "add") == 0 && a->role == NULL) {
        gh_cli_err("user add: missing --role (Administrator, Operator or ReadOnly)");
        return -1;
    }
    return 0;
}

/* The new password, hashed into hash: from --password-hash, FILE or stdin.
 * Read before the store is opened: a file may be readable only by the caller. */
static int gh_user_read_secret(const gh_user_args *a, char *password, size_t *len,
                               char hash[GH_PASSWORD_HASH_MAX])
{
    char prompt[GH_USER_NAME_MAX + 32];

    hash[0] = '\0';
    if (a->password_hash != NULL) {
        size_t n;

        if (strcmp(a->password_hash, "-") == 0) {
            if (gh_cli_password_from_stdin("Hash: ", false, password, len) < 0)
                return -1;
            n = *len;
        } else {
            n = strlen(a->password_hash);
            if (n > GH_PASSWORD_MAX) {
                gh_cli_err("the password hash is too long");
                return -1;
            }
            memcpy(password, a->password_hash, n + 1);
        }
        if (n >= GH_PASSWORD_HASH_MAX || !gh_password_hash_importable(password)) {
            gh_cli_err("not a password hash gatehouse can import (bcrypt $2a$/$2b$/$2y$, "
                       "yescrypt $y$, sha512crypt $6$ or argon2id)");
            return -1;
        }
        memcpy(hash, password, n + 1);
        gh_wipe(password, GH_PASSWORD_MAX + 1);
        *len = 0;
        return 0;
    }
    if (a->password_file != NULL)
        return gh_cli_password_from_file(a->password_file, password, len);
    snprintf(prompt, sizeof(prompt), "New password for %s: ", a->name);
    return gh_cli_password_from_stdin(prompt, true, password, len);
}

/* Check a plain password against the policy, then hash it. */
static int gh_user_hash(gh_cli_ctx *ctx, const char *password, size_t len,
                        char hash[GH_PASSWORD_HASH_MAX])
{
    if (hash[0] != '\0')
        return 0;                               /* imported as a hash */
    if (gh_cli_password_policy(ctx, password, len) < 0)
        return -1;
    if (gh_password_hash(&ctx->cfg.argon2, password, len, hash) != GH_PASSWORD_OK) {
        gh_cli_err("cannot hash the password");
        return -1;
    }
    return 0;
}

static int gh_user_get(gh_cli_ctx *ctx, const char *name, gh_account *acct)
{
    gh_store_err err = gh_store_account_get(ctx->store, name, acct);

    if (err == GH_STORE_NOT_FOUND)
        gh_cli_err("no user '%s'", name);
    else if (err != GH_STORE_OK)
        gh_cli_err("cannot read user '%s': %s", name, gh_store_strerror(err));
    return err == GH_STORE_OK ? 0 : -1;
}

static int gh_user_update(gh_cli_ctx *ctx, gh_account *acct, const char *what)
{
    gh_store_err err = gh_store_account_update(ctx->store, acct, acct->generation);

    if (err == GH_STORE_CONFLICT) {
        gh_cli_err("user '%s' was changed by someone else meanwhile; try again", acct->name);
        return -1;
    }
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot change user '%s': %s", acct->name, gh_store_strerror(err));
        return -1;
    }
    gh_audit_write(ctx->audit, GH_AUDIT_ACCOUNT_CHANGED, acct->name, NULL, "cli", NULL,
                   what);
    return 0;
}

static int gh_user_add(gh_cli_ctx *ctx, const gh_user_args *a, gh_role role,
                       const char *hash)
{
    gh_account   acct;
    gh_store_err err;
    char         detail[64];

    memset(&acct, 0, sizeof(acct));
    snprintf(acct.name, sizeof(acct.name), "%s", a->name);
    snprintf(acct.domain, sizeof(acct.domain), "internal");
    snprintf(acct.password_hash, sizeof(acct.password_hash), "%s", hash);
    acct.role = role;
    acct.enabled = true;
    err = gh_store_account_add(ctx->store, &acct);
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    if (err == GH_STORE_EXISTS) {
        gh_cli_err("user '%s' exists already", a->name);
        return -1;
    }
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot add user '%s': %s", a->name, gh_store_strerror(err));
        return -1;
    }
    snprintf(detail, sizeof(detail), "added, role %s", gh_role_name(role));
    gh_audit_write(ctx->audit, GH_AUDIT_ACCOUNT_CHANGED, a->name, NULL, "cli", NULL, detail);
    printf("added user %s (%s)\n", a->name, gh_role_name(role));
    return 0;
}

static int gh_user_del(gh_cli_ctx *ctx, const char *name)
{
    gh_account   acct;
    gh_store_err err;

    if (gh_user_get(ctx, name, &acct) < 0)
        return -1;
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    if (acct.built_in) {
        gh_cli_err("'%s' is the built-in account and cannot be deleted (change its "
                   "password with `gatehouse user passwd %s`)", name, name);
        return -1;
    }
    err = gh_store_account_delete(ctx->store, acct.id);
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot delete user '%s': %s", name, gh_store_strerror(err));
        return -1;
    }
    gh_audit_write(ctx->audit, GH_AUDIT_ACCOUNT_CHANGED, name, NULL, "cli", NULL,
                   "deleted with its sessions");
    printf("deleted user %s\n", name);
    return 0;
}

typedef struct {
    int     width;
    int64_t now;
} gh_user_list_state;

static int gh_user_width(const gh_account *acct, void *arg)
{
    gh_user_list_state *st = arg;
    int                 n = (int)strlen(acct->name);

    if (n > st->width)
        st->width = n;
    return 0;
}

static int gh_user_row(const gh_account *acct, void *arg)
{
    const gh_user_list_state *st = arg;
    const char               *role = gh_role_name(acct->role);

    printf("%-*s  %-13s  %-7s  %-6s  %s\n", st->width, acct->name,
           role != NULL ? role : "-", acct->enabled ? "yes" : "no",
           acct->locked_until > st->now ? "yes" : "no", acct->built_in ? "yes" : "no");
    return 0;
}

static int gh_user_list(gh_cli_ctx *ctx)
{
    gh_user_list_state st = { 4, gh_now() };
    gh_store_err       err;

    err = gh_store_account_foreach(ctx->store, gh_user_width, &st);
    if (err == GH_STORE_OK) {
        printf("%-*s  %-13s  %-7s  %-6s  %s\n", st.width, "NAME", "ROLE", "ENABLED",
               "LOCKED", "BUILT-IN");
        err = gh_store_account_foreach(ctx->store, gh_user_row, &st);
    }
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot list users: %s", gh_store_strerror(err));
        return -1;
    }
    return 0;
}

/* An administrator's lock: no login until an unlock, and the account's
 * sessions end (the running server drops them on the logged changes). */
static int gh_user_lock(gh_cli_ctx *ctx, gh_account *acct)
{
    gh_store_err err;
    int          ended = 0;

    acct->locked_until = GH_LOCKED_BY_ADMIN;
    if (gh_user_update(ctx, acct, "locked") < 0)
        return -1;
    err = gh_store_session_delete_account(ctx->store, acct->id, &ended);
    if (err != GH_STORE_OK) {
        gh_cli_err("locked user '%s', but cannot end its sessions: %s", acct->name,
                   gh_store_strerror(err));
        return -1;
    }
    printf("locked %s (%d session%s ended)\n", acct->name, ended, ended == 1 ? "" : "s");
    return 0;
}

/* Clear every failure counter of the account (from every source, in the
 * store every worker reads them from), then its account-wide lock. */
static int gh_user_unlock(gh_cli_ctx *ctx, gh_account *acct)
{
    uint8_t      secret[GH_DIGEST_LEN], owner[GH_DIGEST_LEN];
    gh_store_err err = gh_store_secret(ctx->store, secret);

    if (err == GH_STORE_OK) {
        gh_lockout_owner(secret, acct->name, owner);
        err = gh_store_failure_clear_owner(ctx->store, owner);
    }
    gh_wipe(secret, sizeof(secret));
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot unlock user '%s': %s", acct->name, gh_store_strerror(err));
        return -1;
    }
    if (acct->locked_until != 0) {
        acct->locked_until = 0;
        if (gh_user_update(ctx, acct, "unlocked") < 0)
            return -1;
    } else {
        gh_audit_write(ctx->audit, GH_AUDIT_ACCOUNT_CHANGED, acct->name, NULL, "cli", NULL,
                       "unlocked");
    }
    printf("unlocked %s\n", acct->name);
    return 0;
}

static int gh_user_change(gh_cli_ctx *ctx, const gh_user_args *a, const char *password,
                          size_t len, char *hash)
{
    gh_account acct;
    int        rc = -1;

    if (strcmp(a->action, "add") == 0) {
        if (gh_user_hash(ctx, password, len, hash) < 0)
            return -1;
        return gh_user_add(ctx, a, gh_role_from_name(a->role), hash);
    }
    if (strcmp(a->action, "del") == 0)
        return gh_user_del(ctx, a->name);
    if (gh_user_get(ctx, a->name, &acct) < 0)
        return -1;
    if (strcmp(a->action, "passwd") == 0) {
        if (gh_user_hash(ctx, password, len, hash) < 0)
            goto done;
        snprintf(acct.password_hash, sizeof(acct.password_hash), "%s", hash);
        if (gh_user_update(ctx, &acct, "password changed") < 0)
            goto done;
        printf("changed the password of %s\n", a->name);
    } else if (strcmp(a->action, "lock") == 0) {
        if (gh_user_lock(ctx, &acct) < 0)
            goto done;
    } else if (gh_user_unlock(ctx, &acct) < 0) {
        goto done;
    }
    rc = 0;
done:
    gh_wipe(&acct, sizeof(acct));
    return rc;
}

int gh_cli_user(int argc, char **argv)
{
    gh_user_args a;
    gh_cli_ctx   ctx;
    char         password[GH_PASSWORD_MAX + 1];
    char         hash[GH_PASSWORD_HASH_MAX];
    size_t       len = 0;
    bool         needs_secret;
    int          rc, parsed;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    hash[0] = '\0';
    parsed = gh_user_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    if (a.name != NULL && !gh_account_name_valid(a.name)) {
        gh_cli_err("'%s' is not a valid user name: 1 to %d letters, digits, '.', '_' or "
                   "'-', starting with a letter or digit", a.name, GH_USER_NAME_MAX);
        return GH_EXIT_USAGE;
    }
    if (a.role != NULL && gh_role_from_name(a.role) == GH_ROLE_NONE) {
        gh_cli_err("unknown role '%s': Administrator, Operator or ReadOnly", a.role);
        return GH_EXIT_USAGE;
    }
    rc = GH_EXIT_FAIL;
    if (gh_cli_setup(&ctx, a.data_dir, a.config, true) < 0)
        goto done;
    needs_secret = strcmp(a.action, "add") == 0 || strcmp(a.action, "passwd") == 0;
    if (needs_secret && gh_user_read_secret(&a, password, &len, hash) < 0)
        goto done;
    if (gh_cli_open(&ctx, false) < 0)
        goto done;
    if (strcmp(a.action, "list") == 0)
        rc = gh_user_list(&ctx) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
    else
        rc = gh_user_change(&ctx, &a, password, len, hash) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
done:
    gh_cli_close(&ctx);
    gh_wipe(password, sizeof(password));
    gh_wipe(hash, sizeof(hash));
    return rc;
}
