/*
 * cli_session.c: `gatehouse session list|revoke`.
 *
 * A session is shown and named by its public id only; the token's digest
 * never leaves the store. Revocation deletes the row and appends to the
 * change log in one transaction (gh_store_session_delete*), which is how
 * every running worker learns to refuse the token at once.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/account.h"
#include "cli_common.h"

static const char gh_session_usage[] =
    "usage: gatehouse session list [--data-dir DIR]\n"
    "       gatehouse session revoke ID [--data-dir DIR]\n"
    "       gatehouse session revoke --user NAME [--data-dir DIR]\n"
    "\n"
    "  list     every live session: id, user, dialect, created, last used, client\n"
    "  revoke   end one session by its id, or every session of a user; a running\n"
    "           server refuses the session's token at once\n"
    "\n"
    "options:\n"
    "  --user NAME      revoke every session of NAME\n"
    GH_CLI_COMMON_HELP;

enum { GH_OPT_USER = GH_OPT_FIRST_PRIVATE };

typedef struct {
    const char *action, *id, *user, *data_dir, *config;
} gh_session_args;

static int gh_session_parse(int argc, char **argv, gh_session_args *a)
{
    static const struct option opts[] = {
        GH_CLI_COMMON_OPTIONS,
        { "user", required_argument, NULL, GH_OPT_USER },
        { NULL, 0, NULL, 0 }
    };
    char command[48];
    int  opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (gh_cli_common_option(opt, &a->data_dir, &a->config))
            continue;
        if (opt == GH_OPT_HELP) {
            fputs(gh_session_usage, stdout);
            return 1;
        }
        if (opt != GH_OPT_USER) {
            fputs(gh_session_usage, stderr);
            return -1;
        }
        a->user = optarg;
    }
    if (optind < argc)
        a->action = argv[optind++];
    if (optind < argc)
        a->id = argv[optind++];
    if (optind < argc) {
        gh_cli_err("session: unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (a->action == NULL || (strcmp(a->action, "list") != 0
                              && strcmp(a->action, "revoke") != 0)) {
        gh_cli_err("session: %s action '%s' (list or revoke)",
                   a->action == NULL ? "missing" : "unknown",
                   a->action == NULL ? "" : a->action);
        return -1;
    }
    if (strcmp(a->action, "list") == 0 && (a->id != NULL || a->user != NULL)) {
        gh_cli_err("session list takes no ID and no --user");
        return -1;
    }
    if (strcmp(a->action, "revoke") == 0 && (a->id == NULL) == (a->user == NULL)) {
        gh_cli_err("session revoke: give a session ID or --user NAME (one of them)");
        return -1;
    }
    snprintf(command, sizeof(command), "session %s", a->action);
    a->data_dir = gh_cli_data_dir(a->data_dir, command);
    if (a->data_dir == NULL)
        return -1;
    return 0;
}

static bool gh_session_id_ok(const char *id)
{
    size_t i;

    if (strlen(id) != GH_SESSION_ID_LEN)
        return false;
    for (i = 0; i < GH_SESSION_ID_LEN; i++) {
        char c = id[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static const char *gh_session_dialect(uint8_t dialect)
{
    switch (dialect) {
    case GH_DIALECT_REDFISH:    return "redfish";
    case GH_DIALECT_OVIRT:      return "ovirt";
    case GH_DIALECT_POWERSTORE: return "powerstore";
    case GH_DIALECT_PROXMOX:    return "proxmox";
    default:                    return "unknown";
    }
}

static void gh_session_time(int64_t t, char *out, size_t len)
{
    time_t    tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "-");
}

typedef struct {
    int  user_width;
    bool header;
} gh_session_list_state;

static int gh_session_width(const gh_session_record *rec, void *arg)
{
    gh_session_list_state *st = arg;
    int                    n = (int)strlen(rec->user);

    if (n > st->user_width)
        st->user_width = n;
    return 0;
}

static int gh_session_row(const gh_session_record *rec, void *arg)
{
    gh_session_list_state *st = arg;
    char                   created[32], used[32];

    if (!st->header) {
        printf("%-32s  %-*s  %-10s  %-20s  %-20s  %s\n", "ID", st->user_width, "USER",
               "DIALECT", "CREATED", "LAST USED", "CLIENT");
        st->header = true;
    }
    gh_session_time(rec->created, created, sizeof(created));
    gh_session_time(rec->last_used, used, sizeof(used));
    printf("%-32s  %-*s  %-10s  %-20s  %-20s  %s\n", rec->id, st->user_width, rec->user,
           gh_session_dialect(rec->dialect), created, used,
           rec->client_addr[0] != '\0' ? rec->client_addr : "-");
    return 0;
}

static int gh_session_list(gh_cli_ctx *ctx)
{
    gh_session_list_state st = { 4, false };
    gh_store_err          err;

    err = gh_store_session_foreach(ctx->store, -1, gh_session_width, &st);
    if (err == GH_STORE_OK)
        err = gh_store_session_foreach(ctx->store, -1, gh_session_row, &st);
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot list sessions: %s", gh_store_strerror(err));
        return -1;
    }
    if (!st.header)
        printf("no sessions\n");
    return 0;
}

static int gh_session_revoke_id(gh_cli_ctx *ctx, const char *given)
{
    gh_session_record rec;
    gh_store_err      err;
    char              id[GH_SESSION_ID_LEN + 1];
    size_t            i;
    int               rc = -1;

    for (i = 0; i < GH_SESSION_ID_LEN; i++)         /* ids are kept in lower case */
        id[i] = (char)tolower((unsigned char)given[i]);
    id[GH_SESSION_ID_LEN] = '\0';
    err = gh_store_session_get(ctx->store, id, &rec);
    if (err == GH_STORE_OK)
        err = gh_store_session_delete(ctx->store, id);
    if (err == GH_STORE_NOT_FOUND) {
        gh_cli_err("no session %s", id);
        goto done;
    }
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot revoke session %s: %s", id, gh_store_strerror(err));
        goto done;
    }
    gh_audit_write(ctx->audit, GH_AUDIT_REVOKED, rec.user, NULL, "cli", rec.id,
                   "revoked by id");
    printf("revoked session %s of %s\n", rec.id, rec.user);
    rc = 0;
done:
    gh_wipe(rec.digest, sizeof(rec.digest));
    return rc;
}

static int gh_session_revoke_user(gh_cli_ctx *ctx, const char *user)
{
    gh_account   acct;
    gh_store_err err;
    int          count = 0;

    err = gh_store_account_get(ctx->store, user, &acct);
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    if (err == GH_STORE_OK)
        err = gh_store_session_delete_account(ctx->store, acct.id, &count);
    if (err == GH_STORE_NOT_FOUND) {
        gh_cli_err("no user '%s'", user);
        return -1;
    }
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot revoke the sessions of '%s': %s", user, gh_store_strerror(err));
        return -1;
    }
    if (count > 0)
        gh_audit_write(ctx->audit, GH_AUDIT_REVOKED, user, NULL, "cli", NULL,
                       "every session of the user revoked");
    printf("revoked %d session%s of %s\n", count, count == 1 ? "" : "s", user);
    return 0;
}

int gh_cli_session(int argc, char **argv)
{
    gh_session_args a;
    gh_cli_ctx      ctx;
    int             rc, parsed;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    parsed = gh_session_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    if (a.id != NULL && !gh_session_id_ok(a.id)) {
        gh_cli_err("'%s' is not a session id (%d hexadecimal characters, as `gatehouse "
                   "session list` shows)", a.id, GH_SESSION_ID_LEN);
        return GH_EXIT_USAGE;
    }
    if (a.user != NULL && !gh_account_name_valid(a.user)) {
        gh_cli_err("'%s' is not a valid user name", a.user);
        return GH_EXIT_USAGE;
    }
    rc = GH_EXIT_FAIL;
    if (gh_cli_setup(&ctx, a.data_dir, a.config, true) < 0 || gh_cli_open(&ctx, false) < 0)
        goto done;
    if (strcmp(a.action, "list") == 0)
        rc = gh_session_list(&ctx) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
    else if (a.id != NULL)
        rc = gh_session_revoke_id(&ctx, a.id) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
    else
        rc = gh_session_revoke_user(&ctx, a.user) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
done:
    gh_cli_close(&ctx);
    return rc;
}
