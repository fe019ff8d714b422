/*
 * cli_bench.c: `gatehouse bench-fill`, a hidden command for bench/ only.
 *
 * It fills the store with N live sessions of one account without hashing a
 * password, so bench/run can measure what a million sessions cost (the shared
 * block's memory, the time a starting server takes to load them) and how fast
 * the store takes new sessions. Each session is made the way a login makes
 * one (gh_service_session_create): a fresh token from the RNG, its SHA-256
 * kept, a random public id, and the row written by gh_store_session_insert,
 * the store's own code. Only the password check is skipped.
 *
 * Rows are committed in batches of --batch (default 10000) inside one
 * transaction each, or one by one with --batch 1, which is what a login
 * costs the store (one durable commit per session). The batch transaction
 * uses the store's own BEGIN IMMEDIATE / COMMIT helpers from its private
 * header: a bench path, not something a server or an operator ever runs.
 *
 * The tokens are thrown away, except the last one, which --token-file writes
 * (mode 0600, a new file) so the bench can ask the started server for a
 * resource with a session from the middle of the million. The command is not
 * listed in `gatehouse --help`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/account.h"
#include "../core/token.h"
#include "cli_common.h"

#define GH_BENCH_MAX_SESSIONS 10000000L
#define GH_BENCH_BATCH        10000L

static const char gh_bench_usage[] =
    "usage: gatehouse bench-fill N --user NAME [--batch B] [--token-file FILE]\n"
    "                            --data-dir DIR [--config FILE]\n"
    "\n"
    "For bench/ only: store N new sessions of NAME (1..10000000) through the\n"
    "store's session code, without a password check, B rows per transaction\n"
    "(default 10000; 1 commits each session on its own, as a login does), and\n"
    "print the rate. A running server sees them only after a restart.\n"
    "\n"
    "options:\n"
    "  --user NAME        the account the sessions belong to\n"
    "  --batch B          rows per transaction, 1..100000\n"
    "  --token-file FILE  write the last session's token to FILE (a new file, 0600)\n"
    GH_CLI_COMMON_HELP;

typedef struct {
    const char *user, *token_file, *data_dir, *config;
    long        count, batch;
} gh_bench_args;

static long gh_bench_number(const char *what, const char *text, long max)
{
    char *end;
    long  v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > max) {
        gh_cli_err("bench-fill: %s '%s' is not a number 1..%ld", what, text, max);
        return -1;
    }
    return v;
}

static int gh_bench_parse(int argc, char **argv, gh_bench_args *a)
{
    const char *batch = NULL, *args[2] = { NULL, NULL };
    const gh_cli_option own[] = {
        { "user", &a->user, NULL },
        { "batch", &batch, NULL },
        { "token-file", &a->token_file, NULL },
        { NULL, NULL, NULL }
    };
    const gh_cli_spec spec = { "bench-fill", gh_bench_usage, own, &a->data_dir, &a->config,
                               args, 2 };
    int rc = gh_cli_parse(argc, argv, &spec);

    if (rc != 0)
        return rc;
    a->batch = GH_BENCH_BATCH;
    if (batch != NULL && (a->batch = gh_bench_number("--batch", batch, 100000)) < 0)
        return -1;
    if (args[0] == NULL || args[1] != NULL) {
        gh_cli_err("bench-fill: give exactly one count N");
        return -1;
    }
    if ((a->count = gh_bench_number("N", args[0], GH_BENCH_MAX_SESSIONS)) < 0)
        return -1;
    if (a->user == NULL || !gh_account_name_valid(a->user)) {
        gh_cli_err("bench-fill: --user NAME names the sessions' account");
        return -1;
    }
    if (a->data_dir == NULL) {
        gh_cli_err("bench-fill: missing --data-dir DIR");
        return -1;
    }
    return 0;
}

static double gh_bench_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gh_bench_write_token(const char *path, const char *token)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = -1;

    if (fd < 0 || write(fd, token, GH_TOKEN_TEXT_LEN) != GH_TOKEN_TEXT_LEN
        || write(fd, "\n", 1) != 1) {
        gh_cli_err("cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* One session as gh_service_session_create makes it, minus the password. */
static int gh_bench_record(const gh_account *acct, int64_t now, gh_session_record *rec,
                           char token[GH_TOKEN_TEXT_LEN + 1])
{
    memset(rec, 0, sizeof(*rec));
    if (gh_token_generate(token) != 0 || gh_token_session_id(rec->id) != 0)
        return -1;
    gh_token_digest(token, GH_TOKEN_TEXT_LEN, rec->digest);
    rec->account_id = acct->id;
    memcpy(rec->user, acct->name, sizeof(rec->user));
    snprintf(rec->dialect, sizeof(rec->dialect), "redfish");   /* bench/ logs in there */
    rec->created = rec->last_used = now;
    snprintf(rec->client_addr, sizeof(rec->client_addr), "127.0.0.1");
    return 0;
}

static int gh_bench_fill(gh_cli_ctx *ctx, const gh_bench_args *a)
{
    gh_account        acct;
    gh_session_record rec;
    gh_store_err      err;
    char              token[GH_TOKEN_TEXT_LEN + 1];
    double            t0, secs;
    long              done = 0, stored = 0, in_batch = 0;
    int               rc = -1, busy = 0;

    memset(&rec, 0, sizeof(rec));
    memset(token, 0, sizeof(token));
    err = gh_store_account_get(ctx->store, a->user, &acct);
    gh_wipe(acct.password_hash, sizeof(acct.password_hash));
    if (err != GH_STORE_OK) {
        gh_cli_err("no user '%s': %s", a->user, gh_store_strerror(err));
        goto done;
    }
    t0 = gh_bench_clock();
    while (done < a->count && err == GH_STORE_OK) {
        if (a->batch > 1 && in_batch == 0 && (err = gh_store_begin(ctx->store)) != GH_STORE_OK)
            break;
        err = gh_bench_record(&acct, gh_now(), &rec, token) < 0
                  ? GH_STORE_ERROR : gh_store_session_insert(ctx->store, &rec);
        if (err == GH_STORE_OK)
            done++;
        if (a->batch == 1) {
            stored = done;
        } else if (++in_batch == a->batch || done == a->count || err != GH_STORE_OK) {
            err = gh_store_end(ctx->store, err);       /* commit, or roll the batch back */
            in_batch = 0;
            if (err == GH_STORE_OK) {
                stored = done;
                busy = 0;
            } else if (err == GH_STORE_BUSY && ++busy < GH_STORE_TX_TRIES) {
                done = stored;      /* what it read changed: the batch again */
                err = GH_STORE_OK;
            }
        }
    }
    secs = gh_bench_clock() - t0;
    if (err != GH_STORE_OK) {
        gh_cli_err("bench-fill: stopped with %ld sessions stored: %s", stored,
                   gh_store_strerror(err));
        goto done;
    }
    if (a->token_file != NULL && gh_bench_write_token(a->token_file, token) < 0)
        goto done;
    gh_audit_write(ctx->audit, GH_AUDIT_LOGIN, acct.name, NULL, "bench-fill", NULL,
                   "sessions stored by gatehouse bench-fill, without a password check");
    printf("bench-fill: %ld sessions of %s in %.3f s: %.0f sessions/s, %ld per transaction\n",
           stored, acct.name, secs, secs > 0 ? (double)stored / secs : 0.0, a->batch);
    rc = 0;
done:
    gh_wipe(token, sizeof(token));
    gh_wipe(rec.digest, sizeof(rec.digest));
    return rc;
}

int gh_cli_bench(int argc, char **argv)
{
    gh_bench_args a;
    gh_cli_ctx    ctx;
    int           rc, parsed;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    parsed = gh_bench_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    rc = GH_EXIT_FAIL;
    if (gh_cli_setup(&ctx, a.data_dir, a.config, true) < 0 || gh_cli_open(&ctx, false) < 0)
        goto done;
    rc = gh_bench_fill(&ctx, &a) < 0 ? GH_EXIT_FAIL : GH_EXIT_OK;
done:
    gh_cli_close(&ctx);
    return rc;
}
