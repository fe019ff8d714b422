/*
 * cli_init.c: `gatehouse init`: a new data directory (0700) with its
 * certificates (made here or brought), the SQLite database and the built-in
 * account `admin`.
 *
 * Run as root, the directory is given to the service user ([server] user,
 * else www-data, else nobody) before anything is written in it, and the rest
 * of the work is done as that user, so every file belongs to the user the
 * nginx workers will run as. Files named on the command line are read first,
 * while the caller's own rights still apply.
 *
 * An initialised directory (database with the admin account) is left alone.
 * A directory that holds anything but gatehouse's own files is refused, so a
 * slip such as `--data-dir /etc` can neither chmod nor chown it.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/token.h"
#include "../pki/pki.h"
#include "cli_common.h"

#define GH_INIT_PEM_MAX        (1024 * 1024)
#define GH_INIT_PASSWORD_CHARS 24

static const char gh_init_usage[] =
    "usage: gatehouse init [--data-dir DIR] [--admin-password-file FILE]\n"
    "                      [--cert FILE --key FILE] [--config FILE]\n"
    "\n"
    "Create DIR (mode 0700) with the database, a CA (DIR/pki/ca.pem) and a server\n"
    "certificate it signs, and the built-in account `admin` (role Administrator).\n"
    "Without --admin-password-file a random password is printed, once.\n"
    "On a directory that is already initialised nothing is changed.\n"
    "Run as root, DIR is given to the service user ([server] user in the\n"
    "configuration, else www-data, else nobody).\n"
    "\n"
    "options:\n"
    "  --admin-password-file FILE  the admin password: the first line of FILE\n"
    "  --cert FILE      bring your own: the server certificate first, then every\n"
    "                   issuer, the CA last (its last certificate becomes ca.pem)\n"
    "  --key FILE       the unencrypted private key of that server certificate\n"
    GH_CLI_COMMON_HELP;

typedef struct {
    const char *data_dir, *config, *password_file, *cert_file, *key_file;
    char       *cert, *key;            /* contents of the files, read as the caller */
    size_t      cert_len, key_len;
    char        password[GH_PASSWORD_MAX + 1];
    size_t      password_len;
    bool        generated;
} gh_init_args;

static uid_t gh_init_uid;
static gid_t gh_init_gid;

static int gh_init_chown_one(const char *path, const struct stat *st, int flag,
                             struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, gh_init_uid, gh_init_gid) < 0 ? -1 : 0;
}

/* Refuse a directory holding anything gatehouse did not put there. */
static int gh_init_check_contents(const char *dir)
{
    static const char *const ours[] = {
        ".", "..", "gatehouse.conf", "gatehouse.db", "gatehouse.db-wal",
        "gatehouse.db-shm", "gatehouse.db-journal", "pki", "run", "audit.log",
        "initial-admin-password", "lost+found",
    };
    DIR           *d = opendir(dir);
    struct dirent *e;
    size_t         i;
    int            rc = 0;

    if (d == NULL) {
        gh_cli_err("cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
            if (strcmp(e->d_name, ours[i]) == 0)
                break;
        }
        if (i == sizeof(ours) / sizeof(ours[0])) {
            gh_cli_err("%s already holds other files (%s): give init a new or empty "
                       "directory", dir, e->d_name);
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

/* As root: give the directory to the service user, then become that user. */
static int gh_init_as_root(gh_cli_ctx *ctx)
{
    const char    *name = ctx->cfg.user;
    struct passwd *pw;

    if (name[0] == '\0')
        name = getpwnam("www-data") != NULL ? "www-data" : "nobody";
    pw = getpwnam(name);
    if (pw == NULL) {
        gh_cli_err("the service user '%s' does not exist", name);
        return -1;
    }
    if (pw->pw_uid == 0) {
        gh_cli_err("the service user must not be root ([server] user = %s)", name);
        return -1;
    }
    gh_init_uid = pw->pw_uid;
    gh_init_gid = pw->pw_gid;
    if (nftw(ctx->data_dir, gh_init_chown_one, 16, FTW_PHYS | FTW_MOUNT) != 0) {
        gh_cli_err("cannot give %s to %s: %s", ctx->data_dir, name, strerror(errno));
        return -1;
    }
    return gh_cli_become_owner(ctx, true, false);
}

/* A password of unambiguous characters, drawn without modulo bias. */
static int gh_init_random_password(char *out, size_t chars)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    const unsigned    size = sizeof(alphabet) - 1;
    const unsigned    limit = 256 - 256 % size;
    unsigned char     buf[64];
    size_t            n = 0, i;

    while (n < chars) {
        if (gh_token_random(buf, sizeof(buf)) < 0)
            return -1;
        for (i = 0; i < sizeof(buf) && n < chars; i++) {
            if (buf[i] < limit)
                out[n++] = alphabet[buf[i] % size];
        }
    }
    out[n] = '\0';
    gh_wipe(buf, sizeof(buf));
    return 0;
}

static int gh_init_certificates(gh_cli_ctx *ctx, gh_init_args *a)
{
    char       pki[GH_PATH_MAX], err[512] = "";
    gh_pki_err rc;

    if (gh_cli_path(ctx, pki, sizeof(pki), "pki") < 0)
        return -1;
    if (a->cert != NULL) {
        rc = gh_pki_import(pki, a->cert, a->cert_len, a->key, a->key_len, err, sizeof(err));
        if (rc != GH_PKI_OK) {
            gh_cli_err("%s and %s: %s", a->cert_file, a->key_file, err);
            return -1;
        }
        printf("certificates: %s and %s copied into %s\n", a->cert_file, a->key_file, pki);
    } else if (gh_pki_present(pki)) {
        printf("certificates: keeping those already in %s\n", pki);
    } else if ((rc = gh_pki_generate(pki, NULL, err, sizeof(err))) != GH_PKI_OK) {
        gh_cli_err("%s", err);
        return -1;
    }
    return 0;
}

static int gh_init_admin(gh_cli_ctx *ctx, gh_init_args *a)
{
    gh_account   acct;
    gh_store_err err;
    int64_t      min = ctx->cfg.min_password_length, max = ctx->cfg.max_password_length;
    size_t       chars = GH_INIT_PASSWORD_CHARS;
    int          rc = -1;

    memset(&acct, 0, sizeof(acct));
    if (a->generated) {
        if ((int64_t)chars < min)
            chars = (size_t)(min < GH_PASSWORD_MAX ? min : GH_PASSWORD_MAX);
        if (max > 0 && (int64_t)chars > max)
            chars = (size_t)max;
        if (gh_init_random_password(a->password, chars) < 0) {
            gh_cli_err("the random number generator failed");
            goto done;
        }
        a->password_len = chars;
    }
    snprintf(acct.name, sizeof(acct.name), "admin");
    snprintf(acct.domain, sizeof(acct.domain), "internal");
    acct.role = GH_ROLE_ADMINISTRATOR;
    acct.enabled = true;
    acct.built_in = true;
    if (gh_password_hash(&ctx->cfg.argon2, a->password, a->password_len,
                         acct.password_hash) != GH_PASSWORD_OK) {
        gh_cli_err("cannot hash the admin password (argon2 parameters in the "
                   "configuration?)");
        goto done;
    }
    err = gh_store_account_add(ctx->store, &acct);
    if (err != GH_STORE_OK) {
        gh_cli_err("cannot add the admin account: %s", gh_store_strerror(err));
        goto done;
    }
    gh_audit_write(ctx->audit, GH_AUDIT_ACCOUNT_CHANGED, "admin", NULL, "cli", NULL,
                   "built-in account created");
    rc = 0;
done:
    gh_wipe(&acct, sizeof(acct));
    return rc;
}

/* True when the directory holds a database with the admin account in it.
 * Reads only; nothing is left open. */
static int gh_init_done_already(gh_cli_ctx *ctx, bool *done)
{
    gh_store_paths  paths;
    gh_store_config cfg;
    struct stat     st;
    gh_account      acct;
    gh_store       *store = NULL;
    gh_store_err    err;

    *done = false;
    if (!gh_store_config_from(&ctx->cfg.store, ctx->data_dir, &paths, &cfg))
        return 0;       /* gh_cli_open says so */
    if (ctx->cfg.store.url[0] == '\0' && stat(cfg.path, &st) < 0)
        return 0;
    err = gh_store_open_config(&cfg, &store);
    if (err == GH_STORE_OK) {
        err = gh_store_account_get(store, "admin", &acct);
        gh_wipe(&acct, sizeof(acct));
        gh_store_close(store);
    }
    if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND) {
        gh_cli_err("cannot read %s: %s", ctx->cfg.store.url[0] == '\0' ? cfg.path
                                                                     : "the store ([store] url)",
                   gh_store_strerror(err));
        return -1;
    }
    *done = err == GH_STORE_OK;
    return 0;
}

static int gh_init_parse(int argc, char **argv, gh_init_args *a)
{
    const gh_cli_option own[] = {
        { "admin-password-file", &a->password_file, NULL },
        { "cert", &a->cert_file, NULL },
        { "key", &a->key_file, NULL },
        { NULL, NULL, NULL }
    };
    const gh_cli_spec spec = { "init", gh_init_usage, own, &a->data_dir, &a->config, NULL, 0 };
    int rc = gh_cli_parse(argc, argv, &spec);

    if (rc != 0)
        return rc;
    a->data_dir = gh_cli_data_dir(a->data_dir, "init");
    if (a->data_dir == NULL)
        return -1;
    if ((a->cert_file == NULL) != (a->key_file == NULL)) {
        gh_cli_err("init: --cert and --key go together");
        return -1;
    }
    return 0;
}

/* Everything named on the command line, read with the caller's rights. */
static int gh_init_read_inputs(gh_init_args *a)
{
    if (a->password_file != NULL) {
        if (gh_cli_password_from_file(a->password_file, a->password, &a->password_len) < 0)
            return -1;
    } else {
        a->generated = true;
    }
    if (a->cert_file != NULL
        && (gh_cli_read_file(a->cert_file, GH_INIT_PEM_MAX, &a->cert, &a->cert_len) < 0
            || gh_cli_read_file(a->key_file, GH_INIT_PEM_MAX, &a->key, &a->key_len) < 0))
        return -1;
    return 0;
}

static int gh_init_run(gh_cli_ctx *ctx, gh_init_args *a)
{
    char        db[GH_PATH_MAX];
    struct stat st;
    bool        done;

    /* A password the policy refuses must not leave a half-made directory. */
    if (!a->generated && gh_cli_password_policy(ctx, a->password, a->password_len) < 0)
        return GH_EXIT_FAIL;
    if (stat(ctx->data_dir, &st) < 0) {
        if (mkdir(ctx->data_dir, 0700) < 0) {
            gh_cli_err("cannot create %s: %s", ctx->data_dir, strerror(errno));
            return GH_EXIT_FAIL;
        }
    } else if (gh_init_check_contents(ctx->data_dir) < 0) {
        return GH_EXIT_FAIL;
    }
    /* An existing database is looked at as the directory's owner, so that
     * looking leaves no file of root's behind. */
    if (geteuid() == 0 && gh_cli_path(ctx, db, sizeof(db), GH_DB_FILE) == 0
        && stat(db, &st) == 0 && gh_cli_become_owner(ctx, false, false) < 0)
        return GH_EXIT_FAIL;
    if (gh_init_done_already(ctx, &done) < 0)
        return GH_EXIT_FAIL;
    if (done) {
        printf("%s is already initialised; nothing changed\n", ctx->data_dir);
        return GH_EXIT_OK;
    }
    if (geteuid() == 0 && gh_init_as_root(ctx) < 0)
        return GH_EXIT_FAIL;
    if (chmod(ctx->data_dir, 0700) < 0) {
        gh_cli_err("cannot chmod %s: %s", ctx->data_dir, strerror(errno));
        return GH_EXIT_FAIL;
    }
    if (gh_init_certificates(ctx, a) < 0)
        return GH_EXIT_FAIL;
    if (gh_cli_open(ctx, true) < 0)
        return GH_EXIT_FAIL;
    if (gh_init_admin(ctx, a) < 0)
        return GH_EXIT_FAIL;
    printf("initialised %s\n", ctx->data_dir);
    printf("CA certificate: %s/pki/%s\n", ctx->data_dir, GH_PKI_CA_CERT);
    if (a->generated)
        printf("admin password: %s\n", a->password);
    fflush(stdout);
    return GH_EXIT_OK;
}

int gh_cli_init(int argc, char **argv)
{
    gh_init_args a;
    gh_cli_ctx   ctx;
    int          rc, parsed;

    memset(&a, 0, sizeof(a));
    memset(&ctx, 0, sizeof(ctx));
    parsed = gh_init_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    rc = GH_EXIT_FAIL;
    if (gh_cli_setup(&ctx, a.data_dir, a.config, false) < 0 || gh_init_read_inputs(&a) < 0)
        goto done;
    rc = gh_init_run(&ctx, &a);
done:
    gh_cli_close(&ctx);
    gh_wipe(a.password, sizeof(a.password));
    if (a.key != NULL) {
        gh_wipe(a.key, a.key_len);
        free(a.key);
    }
    free(a.cert);
    return rc;
}
