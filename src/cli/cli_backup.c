/*
 * cli_backup.c: `gatehouse backup FILE` and `gatehouse restore FILE`: the
 * embedded store (DIR/gatehouse.db) copied while servers run, and put back
 * with none running (store_backup.h does the work).
 *
 * Both run as the data directory's owner, as every command does (run as
 * root, they drop to it first), so that no file of the database ever
 * belongs to another user: backup writes FILE as that user; restore opens
 * FILE before dropping, so a copy only root may read can be put back.
 * restore takes the data directory's lock, the one `gatehouse serve` holds
 * for a server's whole life (cli_guard.c): with a server running it
 * refuses and says which, and no server can start while it works.
 *
 * The backup is the database alone: accounts and their password hashes,
 * sessions, live settings, directory profiles written through the API,
 * lockout and throttle counters, the change log, and the server secret
 * (the embedded store keeps it in the database). The data directory's other
 * files are not in it (pki/, gatehouse.conf, the directory/ password files): restore
 * leaves them as they are and says when a stored directory profile names a
 * password file that is not there. With Redis as the store ([store] url)
 * there is no database here to copy: both commands refuse and point at
 * Redis' own persistence.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/store_backup.h"
#include "cli_common.h"
#include "cli_guard.h"

#define GH_BACKUP_NOT_IN_IT \
    "The data directory's other files are not in the copy: keep DIR/pki (the\n" \
    "certificates), the configuration and DIR/directory (service passwords of\n" \
    "directory profiles) with it, or be ready to make them again.\n"

static const char gh_backup_usage[] =
    "usage: gatehouse backup [--data-dir DIR] [--config FILE] FILE\n"
    "\n"
    "Copy the embedded store (DIR/gatehouse.db) to FILE while servers run on\n"
    "it: SQLite's online backup API, from one snapshot, so FILE holds every\n"
    "session and change committed before the copy began. FILE is written as\n"
    "FILE.tmp, checked, synced and renamed (mode 0600: it holds password hashes\n"
    "and the server secret), as the data directory's owner: its directory must\n"
    "be writable by that user. Put it back with `gatehouse restore FILE`.\n"
    GH_BACKUP_NOT_IN_IT
    "With Redis as the store ([store] url) there is nothing here to copy: use\n"
    "Redis' own persistence (BGSAVE, the append-only file; docs/scale-out.md),\n"
    "or `gatehouse store copy --from URL` into an embedded store.\n"
    "\n"
    "options:\n"
    GH_CLI_COMMON_HELP;

static const char gh_restore_usage[] =
    "usage: gatehouse restore [--data-dir DIR] [--config FILE] FILE\n"
    "\n"
    "Replace the embedded store (DIR/gatehouse.db) with FILE, a copy made by\n"
    "`gatehouse backup`. No server may run on DIR (its lock is taken, as\n"
    "`gatehouse serve` takes it), nor another gatehouse command have the store\n"
    "open. FILE must be a whole gatehouse database of a\n"
    "schema this version reads (SQLite's integrity_check, the schema version);\n"
    "it is upgraded as a start of the server would, then put in place of the\n"
    "old database in one rename, the old one's -wal and -shm removed. What the\n"
    "copy holds comes back as it was: sessions ended since it was taken work\n"
    "again until they expire (`gatehouse session revoke` ends them).\n"
    GH_BACKUP_NOT_IN_IT
    "With Redis as the store ([store] url) it refuses: restore Redis itself\n"
    "from its BGSAVE snapshot or append-only file (docs/scale-out.md), or\n"
    "`gatehouse store copy --to URL` from an embedded store restored here.\n"
    "\n"
    "options:\n"
    GH_CLI_COMMON_HELP;

typedef struct {
    const char *data_dir, *config, *file;
} gh_backup_args;

static int gh_backup_parse(int argc, char **argv, const char *command, const char *usage,
                           gh_backup_args *a)
{
    const char *args[1] = { NULL };
    const gh_cli_spec spec = { command, usage, NULL, &a->data_dir, &a->config, args, 1 };
    int rc = gh_cli_parse(argc, argv, &spec);

    if (rc != 0)
        return rc;
    a->file = args[0];
    if (a->file == NULL || a->file[0] == '\0') {
        gh_cli_err("%s: missing FILE (try `gatehouse %s --help`)", command, command);
        return -1;
    }
    a->data_dir = gh_cli_data_dir(a->data_dir, command);
    return a->data_dir == NULL ? -1 : 0;
}

/* The data directory, its configuration, and no Redis store. */
static int gh_backup_setup(gh_cli_ctx *ctx, const gh_backup_args *a, const char *command)
{
    if (gh_cli_setup(ctx, a->data_dir, a->config, true) < 0)
        return -1;
    if (ctx->cfg.store.url[0] != '\0') {
        gh_cli_err("%s: the store is Redis ([store] url), not a database in %s: use "
                   "Redis' own persistence (BGSAVE, or the append-only file: "
                   "docs/scale-out.md), or `gatehouse store copy` to move it into an "
                   "embedded store", command, ctx->data_dir);
        return -1;
    }
    if (!gh_store_config_from(&ctx->cfg.store, ctx->data_dir, &ctx->store_paths,
                              &ctx->store_cfg)) {
        gh_cli_err("%s: path too long", ctx->data_dir);
        return -1;
    }
    return 0;
}

static void gh_backup_failed(const char *command, const char *file, gh_backup_err err,
                             const gh_backup_info *info)
{
    gh_cli_err("%s %s: %s%s%s", command, file, gh_backup_strerror(err),
               info->detail[0] ? ": " : "", info->detail);
}

int gh_cli_backup(int argc, char **argv)
{
    gh_backup_args a = { 0 };
    gh_backup_info info;
    gh_backup_err  err;
    gh_cli_ctx     ctx;
    int            rc, parsed;

    memset(&ctx, 0, sizeof(ctx));
    parsed = gh_backup_parse(argc, argv, "backup", gh_backup_usage, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    rc = GH_EXIT_FAIL;
    if (gh_backup_setup(&ctx, &a, "backup") < 0 || gh_cli_become_owner(&ctx, false, false) < 0
        || gh_cli_share_store(&ctx) < 0)
        goto done;
    err = gh_backup_take(ctx.store_paths.path, a.file, &info);
    if (err != GH_BACKUP_OK) {
        gh_backup_failed("backup to", a.file, err, &info);
        goto done;
    }
    printf("backed up %lld accounts and %lld sessions (schema %lld, %lld pages) to %s\n",
           (long long)info.accounts, (long long)info.sessions, (long long)info.schema,
           (long long)info.pages, a.file);
    printf("not in it: %s/pki, the configuration, %s/directory\n", ctx.data_dir,
           ctx.data_dir);
    rc = GH_EXIT_OK;
done:
    gh_cli_close(&ctx);
    return rc;
}

/* Each stored directory profile whose service password file is missing:
 * the backup holds the profile, not the file. */
typedef struct {
    gh_config_directory profile;
} gh_restore_files;

static int gh_restore_profile(const gh_stored_directory *row, void *arg)
{
    gh_restore_files *f = arg;
    const char       *why = NULL;

    if (row->text == NULL || !gh_config_directory_read(&f->profile, row->text, &why))
        return 0;
    if (f->profile.bind_password_file[0] != '\0'
        && access(f->profile.bind_password_file, R_OK) != 0) {
        printf("directory profile %s: its service password file %s is missing: copy it "
               "from where the backup was taken, or set the password again\n", row->name,
               f->profile.bind_password_file);
    }
    return 0;
}

static void gh_restore_check_files(gh_cli_ctx *ctx)
{
    gh_restore_files *f = calloc(1, sizeof(*f));
    gh_store         *store = NULL;

    if (f != NULL && gh_store_open(ctx->store_paths.path, &store) == GH_STORE_OK)
        gh_store_directory_foreach(store, gh_restore_profile, f);
    gh_store_close(store);
    free(f);
}

int gh_cli_restore(int argc, char **argv)
{
    gh_backup_args a = { 0 };
    gh_backup_info info;
    gh_backup_err  err;
    gh_cli_ctx     ctx;
    gh_guard_idle  lock = { -1, -1 };
    int            rc, parsed, fd = -1;

    memset(&ctx, 0, sizeof(ctx));
    parsed = gh_backup_parse(argc, argv, "restore", gh_restore_usage, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    rc = GH_EXIT_FAIL;
    if (gh_backup_setup(&ctx, &a, "restore") < 0)
        goto done;
    /* before dropping to the owner: a copy only root reads can come back */
    fd = open(a.file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gh_cli_err("restore: cannot read %s: %s", a.file, strerror(errno));
        goto done;
    }
    if (gh_cli_become_owner(&ctx, false, false) < 0)
        goto done;
    if (gh_guard_lock_idle(ctx.data_dir, "restore", &lock) < 0)
        goto done;
    err = gh_backup_restore(fd, ctx.store_paths.path, &info);
    if (err != GH_BACKUP_OK) {
        gh_backup_failed("restore from", a.file, err, &info);
        goto done;
    }
    printf("restored %lld accounts and %lld sessions (schema %lld) from %s to %s\n",
           (long long)info.accounts, (long long)info.sessions, (long long)info.schema,
           a.file, ctx.store_paths.path);
    printf("kept as they were: %s/pki, the configuration, %s/directory\n", ctx.data_dir,
           ctx.data_dir);
    gh_restore_check_files(&ctx);
    rc = GH_EXIT_OK;
done:
    gh_guard_unlock_idle(&lock);
    if (fd >= 0)
        close(fd);
    gh_cli_close(&ctx);
    return rc;
}
