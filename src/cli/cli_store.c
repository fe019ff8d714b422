/*
 * cli_store.c: `gatehouse store copy --to URL | --from URL`: an installation
 * moved between the data directory's own embedded store and another one
 * (Redis, docs/scale-out.md, or another SQLite file as sqlite:PATH), with no
 * server running on it.
 *
 * The data directory's lock (cli_guard.c, as `gatehouse serve` takes it) is
 * held for the whole copy, and so is that of the other data directory when
 * the other store is a SQLite file in one: no server can start on either
 * meanwhile, and a running one makes the copy refuse; store.lock too
 * (cli_store_lock.c), so that no other command has such a store open. The
 * target must be
 * empty (no account, session, directory profile or change). What is copied
 * keeps what it was (store.h's imports): account ids, generations and
 * creation times, directory revisions, the server secret (so CSRF tokens,
 * lockout keys and cached-credential keys stay valid), and the change log's
 * sequence, which never goes backwards. Sessions go in the source's order,
 * each with its digest (the tokens themselves were never stored).
 * Failed-login counters are not copied: the store has no walk of them, they
 * end by themselves within the lockout's reset time, and an account's lock
 * is on the account, which goes with it.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/shared.h"
#include "../dialects/common/dialect.h"
#include "cli_common.h"
#include "cli_guard.h"

#define GH_STORE_SQLITE_SCHEME "sqlite:"

static const char gh_store_usage[] =
    "usage: gatehouse store copy --to URL [--data-dir DIR] [--config FILE]\n"
    "       gatehouse store copy --from URL [--data-dir DIR] [--config FILE]\n"
    "\n"
    "Copy everything the data directory's embedded store (DIR/gatehouse.db) holds\n"
    "to the store at URL (--to), or everything the store at URL holds into the\n"
    "embedded store (--from). No server may run on DIR meanwhile (its lock is\n"
    "taken, as `gatehouse serve` takes it), nor another gatehouse command have\n"
    "the store open, and the target must be empty.\n"
    "Accounts keep their ids, sessions their tokens, and the server secret goes\n"
    "with them; failed-login counters are not copied (they end by themselves).\n"
    "Then set [store] url in gatehouse.conf to where the data now is.\n"
    "\n"
    "URL: redis://[USER@]HOST:PORT[/DB], rediss://..., unix:/PATH[?db=N],\n"
    "redis-sentinel://H1:P1,H2:P2/MASTER[/DB] (the other [store] keys of the\n"
    "configuration apply: password_file, tls_*, key_prefix, secret_file), or\n"
    "sqlite:PATH, the embedded store of another data directory.\n"
    "\n"
    "options:\n"
    "  --to URL         copy from DIR/gatehouse.db to URL\n"
    "  --from URL       copy from URL to DIR/gatehouse.db\n"
    GH_CLI_COMMON_HELP;

typedef struct {
    const char *action, *to, *from, *data_dir, *config;
} gh_store_args;

/* One end of the copy: its configuration and the strings it points at. */
typedef struct {
    gh_store_paths  paths;
    gh_store_config cfg;
    gh_store       *store;
    const char     *name;       /* for messages: a path, or "URL" */
} gh_copy_end;

typedef struct {
    gh_store          *src, *dst;
    gh_throttle_policy policy;
    long               accounts, attributes, sessions, settings, throttles, profiles;
    int64_t            account_id;  /* whose attributes are walked */
    const char        *dialect;     /* and of which dialect */
    gh_store_err       err;
} gh_copy;

static int gh_store_parse(int argc, char **argv, gh_store_args *a)
{
    const gh_cli_option own[] = {
        { "to", &a->to, NULL },
        { "from", &a->from, NULL },
        { NULL, NULL, NULL }
    };
    const char *args[1] = { NULL };
    const gh_cli_spec spec = { "store", gh_store_usage, own, &a->data_dir, &a->config,
                               args, 1 };
    int rc = gh_cli_parse(argc, argv, &spec);

    if (rc != 0)
        return rc;
    a->action = args[0];
    if (a->action == NULL || strcmp(a->action, "copy") != 0) {
        gh_cli_err("store: %s action '%s' (copy)", a->action == NULL ? "missing" : "unknown",
                   a->action == NULL ? "" : a->action);
        return -1;
    }
    if ((a->to == NULL) == (a->from == NULL) ||
        (a->to != NULL && a->to[0] == '\0') || (a->from != NULL && a->from[0] == '\0')) {
        gh_cli_err("store copy: give one of --to URL and --from URL");
        return -1;
    }
    a->data_dir = gh_cli_data_dir(a->data_dir, "store");
    return a->data_dir == NULL ? -1 : 0;
}

/* The embedded store of the data directory (url NULL), or the one url names:
 * sqlite:PATH, else Redis with the rest of [store] as configured. */
static int gh_copy_end_config(gh_cli_ctx *ctx, const char *url, gh_copy_end *end)
{
    const char *path;

    if (!gh_store_config_from(&ctx->cfg.store, ctx->data_dir, &end->paths, &end->cfg)) {
        gh_cli_err("%s: path too long", ctx->data_dir);
        return -1;
    }
    end->cfg.url = NULL;
    end->name = end->cfg.path;
    if (url == NULL)
        return 0;
    if (strncmp(url, GH_STORE_SQLITE_SCHEME, strlen(GH_STORE_SQLITE_SCHEME)) != 0) {
        end->cfg.url = url;
        end->name = "the store at URL";     /* a URL may carry a user name */
        return 0;
    }
    path = url + strlen(GH_STORE_SQLITE_SCHEME);
    if (path[0] != '/' || snprintf(end->paths.path, sizeof(end->paths.path), "%s", path)
                              >= (int)sizeof(end->paths.path)) {
        gh_cli_err("store copy: sqlite:PATH needs an absolute PATH");
        return -1;
    }
    return 0;
}

/* The locks a command replacing dir's store takes (gh_guard_lock_idle,
 * DIR/run made if missing), unless only_served and dir has no DIR/run (no
 * server or command ever used it): none taken then. 0, or -1 printed when a
 * server or a command holds one. */
static int gh_copy_lock(const char *dir, bool only_served, gh_guard_idle *held)
{
    char        run[GH_PATH_MAX];
    struct stat st;

    held->serve = held->store = -1;
    if (only_served) {
        if (snprintf(run, sizeof(run), "%s/run", dir) >= (int)sizeof(run)) {
            gh_cli_err("data directory path too long");
            return -1;
        }
        if (stat(run, &st) < 0)
            return 0;
    }
    return gh_guard_lock_idle(dir, "store copy", held);
}

/* A SQLite store in another data directory: that directory's locks too,
 * when a server or a command ever used it (its DIR/run exists). */
static int gh_copy_lock_other(const gh_copy_end *other, const char *data_dir,
                              gh_guard_idle *held)
{
    char copy[GH_PATH_MAX], *dir;

    held->serve = held->store = -1;
    if (other->cfg.url != NULL)
        return 0;       /* no lock of ours guards Redis: none taken */
    snprintf(copy, sizeof(copy), "%s", other->cfg.path);
    dir = dirname(copy);
    if (strcmp(dir, data_dir) == 0) {
        gh_cli_err("store copy: %s is this data directory's own store", other->cfg.path);
        return -1;
    }
    return gh_copy_lock(dir, true, held);
}

static int gh_copy_any(const void *row, void *arg)
{
    (void)row;
    *(bool *)arg = true;
    return 1;
}

static int gh_copy_any_account(const gh_account *acct, void *arg)
{
    return gh_copy_any(acct, arg);
}

static int gh_copy_any_profile(const gh_stored_directory *row, void *arg)
{
    return gh_copy_any(row, arg);
}

/* Nothing in the target: no account, session, profile or change. */
static int gh_copy_target_empty(gh_copy_end *dst)
{
    bool         any = false;
    int64_t      rowid = 0, seq = 0;
    gh_store_err err;

    err = gh_store_account_foreach(dst->store, gh_copy_any_account, &any);
    if (err == GH_STORE_OK)
        err = gh_store_directory_foreach(dst->store, gh_copy_any_profile, &any);
    if (err == GH_STORE_OK)
        err = gh_store_session_rowid_last(dst->store, &rowid);
    if (err == GH_STORE_OK)
        err = gh_store_change_last(dst->store, &seq);
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot read %s: %s", dst->name, gh_store_strerror(err));
        return -1;
    }
    if (any || rowid != 0 || seq != 0) {
        gh_cli_err("store copy: %s is not empty; the target must be", dst->name);
        return -1;
    }
    return 0;
}

/* Walk callbacks: each writes one row to the target (a store other than
 * the one walked), keeping the first error and stopping there. */
static int gh_copy_attribute(const char *name, const char *value, void *arg)
{
    gh_copy *c = arg;

    c->err = gh_store_attribute_set(c->dst, c->account_id, c->dialect, name, value);
    c->attributes += c->err == GH_STORE_OK;
    return c->err != GH_STORE_OK;
}

/* An account, then what each dialect keeps of it. */
static int gh_copy_account(const gh_account *acct, void *arg)
{
    gh_copy *c = arg;
    gh_store_err err;

    c->err = gh_store_account_import(c->dst, acct);
    c->accounts += c->err == GH_STORE_OK;
    c->account_id = acct->id;
    for (size_t i = 0; c->err == GH_STORE_OK && gh_dialects[i] != NULL; i++) {
        c->dialect = gh_dialects[i]->name;
        err = gh_store_attribute_foreach(c->src, acct->id, c->dialect, "",
                                         gh_copy_attribute, c);
        if (c->err == GH_STORE_OK)
            c->err = err;
    }
    return c->err != GH_STORE_OK;
}

static int gh_copy_session(const gh_session_record *rec, void *arg)
{
    gh_copy *c = arg;

    c->err = gh_store_session_insert(c->dst, rec);
    c->sessions += c->err == GH_STORE_OK;
    return c->err != GH_STORE_OK;
}

/* The store keeps no end of its own for a throttle counter: the policy of
 * the configuration says when it means nothing any more. */
static int gh_copy_throttle(const gh_throttle_count *tc, void *arg)
{
    gh_copy *c = arg;

    c->err = gh_store_throttle_put(c->dst, tc, (gh_throttle_end_ms(tc, &c->policy) + 999) / 1000);
    c->throttles += c->err == GH_STORE_OK;
    return c->err != GH_STORE_OK;
}

static int gh_copy_profile(const gh_stored_directory *row, void *arg)
{
    gh_copy *c = arg;

    c->err = gh_store_directory_import(c->dst, row);
    c->profiles += c->err == GH_STORE_OK;
    return c->err != GH_STORE_OK;
}

/* A walk's own error, else the first its callbacks met. */
static gh_store_err gh_copy_walked(gh_copy *c, gh_store_err walk)
{
    return walk != GH_STORE_OK ? walk : c->err;
}

static gh_store_err gh_copy_settings(gh_copy *c)
{
    gh_store_err err = GH_STORE_OK;
    int64_t      v;

    for (int s = 0; err == GH_STORE_OK && s < GH_SET_COUNT; s++) {
        err = gh_store_setting_get(c->src, gh_setting_key((gh_setting)s), &v);
        if (err == GH_STORE_NOT_FOUND) {
            err = GH_STORE_OK;
            continue;
        }
        if (err == GH_STORE_OK)
            err = gh_store_setting_set(c->dst, gh_setting_key((gh_setting)s), v);
        c->settings += err == GH_STORE_OK;
    }
    return err;
}

/* The secret and the log's sequence: what readers of the target keep. */
static gh_store_err gh_copy_secret_and_floor(gh_copy *c, int64_t *seq)
{
    uint8_t      secret[GH_DIGEST_LEN];
    gh_store_err err = gh_store_secret(c->src, secret);

    if (err == GH_STORE_OK)
        err = gh_store_secret_import(c->dst, secret);
    gh_wipe(secret, sizeof(secret));
    if (err == GH_STORE_OK)
        err = gh_store_change_last(c->src, seq);
    if (err == GH_STORE_OK)
        err = gh_store_change_floor(c->dst, *seq);
    return err;
}

static gh_store_err gh_copy_all(gh_copy *c, int64_t *seq)
{
    gh_store_err err;

    err = gh_copy_walked(c, gh_store_account_foreach(c->src, gh_copy_account, c));
    if (err == GH_STORE_OK)
        err = gh_copy_walked(c, gh_store_session_scan(c->src, 0, INT64_MAX,
                                                      gh_copy_session, c));
    if (err == GH_STORE_OK)
        err = gh_copy_settings(c);
    if (err == GH_STORE_OK)
        err = gh_copy_walked(c, gh_store_throttle_scan(c->src, gh_now(), UINT32_MAX,
                                                       gh_copy_throttle, c));
    if (err == GH_STORE_OK)
        err = gh_copy_walked(c, gh_store_directory_foreach(c->src, gh_copy_profile, c));
    if (err == GH_STORE_OK)
        err = gh_copy_secret_and_floor(c, seq);
    return err;
}

/* Open both ends: the source must exist; the target may be made, empty. */
static int gh_copy_open(gh_copy_end *src, gh_copy_end *dst)
{
    struct stat  st;
    gh_store_err err;

    if (src->cfg.url == NULL && stat(src->cfg.path, &st) < 0) {
        gh_cli_err("cannot read %s: %s", src->cfg.path, strerror(errno));
        return -1;
    }
    err = gh_store_open_config(&src->cfg, &src->store);
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot open %s: %s", src->name, gh_store_open_error());
        return -1;
    }
    err = gh_store_open_config(&dst->cfg, &dst->store);
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot open %s: %s", dst->name, gh_store_open_error());
        return -1;
    }
    return gh_copy_target_empty(dst);
}

static int gh_copy_run(gh_cli_ctx *ctx, gh_copy_end *ends)
{
    gh_copy_end *src = &ends[0], *dst = &ends[1];
    gh_copy      c;
    int64_t      seq = 0;
    gh_store_err err;

    if (gh_copy_open(src, dst) < 0)
        return -1;
    memset(&c, 0, sizeof(c));
    c.src = src->store;
    c.dst = dst->store;
    c.policy = (gh_throttle_policy){ ctx->cfg.throttle_failures, ctx->cfg.throttle_window,
                                     ctx->cfg.throttle_delay, ctx->cfg.throttle_max_delay };
    err = gh_copy_all(&c, &seq);
    if (err != GH_STORE_OK) {
        gh_cli_err("store copy stopped after %ld accounts and %ld sessions: %s; the "
                   "target holds a part: empty it before trying again", c.accounts,
                   c.sessions, gh_store_strerror(err));
        return -1;
    }
    printf("copied %ld accounts, %ld attributes, %ld sessions, %ld settings, "
           "%ld throttle counters, %ld directory profiles; change log at %lld\n",
           c.accounts, c.attributes, c.sessions, c.settings, c.throttles, c.profiles,
           (long long)seq);
    return 0;
}

int gh_cli_store(int argc, char **argv)
{
    gh_store_args a;
    gh_cli_ctx    ctx;
    gh_copy_end   ends[2];
    gh_guard_idle lock = { -1, -1 }, other_lock = { -1, -1 };
    int           rc, parsed;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    memset(ends, 0, sizeof(ends));
    parsed = gh_store_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    rc = GH_EXIT_FAIL;
    if (gh_cli_setup(&ctx, a.data_dir, a.config, true) < 0 ||
        gh_cli_become_owner(&ctx, false, false) < 0)
        goto done;
    if (gh_copy_end_config(&ctx, a.from, &ends[0]) < 0 ||
        gh_copy_end_config(&ctx, a.to, &ends[1]) < 0)
        goto done;
    if (gh_copy_lock(ctx.data_dir, false, &lock) < 0
        || gh_copy_lock_other(&ends[a.to != NULL ? 1 : 0], ctx.data_dir, &other_lock) < 0)
        goto done;
    if (gh_copy_run(&ctx, ends) == 0)
        rc = GH_EXIT_OK;
done:
    gh_store_close(ends[0].store);
    gh_store_close(ends[1].store);
    gh_guard_unlock_idle(&other_lock);
    gh_guard_unlock_idle(&lock);
    gh_cli_close(&ctx);
    return rc;
}
