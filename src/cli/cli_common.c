/*
 * cli_common.c: the data directory, its configuration and its owner.
 *
 * Every command finds its data directory (--data-dir, else
 * $GATEHOUSE_DATA_DIR, else ./var when that holds a database: where `make
 * run` made one), resolves it to an absolute path and loads the
 * configuration (--config, else DIR/gatehouse.conf, else the defaults). Run
 * as root on an existing directory, a command first becomes the directory's
 * owner, for good (setgroups, setgid, setuid, then checks that root cannot be
 * regained): files it creates, such as SQLite's -wal and -shm, must belong to
 * the user the nginx workers run as, which is that owner.
 *
 * Passwords come from a file or standard input only, never argv; without echo
 * when standard input is a terminal; and every buffer that held one is wiped.
 */
#include "cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "cli_store_lock.h"

#include "../core/account.h"
#include "../core/shared.h"
#include "../dialects/common/dialect.h"

#define GH_CLI_PASSWORD_FILE_MAX 4096

void gh_cli_err(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("gatehouse: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* getopt_long's values for the options: the common three, then a
 * subcommand's own by their place in its table. */
enum { GH_OPT_DATA_DIR = 0x100, GH_OPT_CONFIG, GH_OPT_HELP, GH_OPT_OWN };

int gh_cli_parse(int argc, char **argv, const gh_cli_spec *spec)
{
    struct option        opts[3 + GH_CLI_OPTIONS_MAX + 1] = {
        { "data-dir", required_argument, NULL, GH_OPT_DATA_DIR },
        { "config",   required_argument, NULL, GH_OPT_CONFIG },
        { "help",     no_argument,       NULL, GH_OPT_HELP },
    };
    const gh_cli_option *own = spec->options;
    size_t               n = 0, nargs = 0;
    int                  opt, rc = -1;

    for (; own != NULL && own[n].name != NULL; n++) {
        if (n == GH_CLI_OPTIONS_MAX) {
            gh_cli_err("%s: more than %d options in its table", spec->command,
                       GH_CLI_OPTIONS_MAX);      /* a mistake in the build, not the user's */
            goto done;
        }
        opts[3 + n] = (struct option){ own[n].name,
                                       own[n].value != NULL ? required_argument : no_argument,
                                       NULL, GH_OPT_OWN + (int)n };
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == GH_OPT_DATA_DIR) {
            *spec->data_dir = optarg;
        } else if (opt == GH_OPT_CONFIG) {
            *spec->config = optarg;
        } else if (opt == GH_OPT_HELP) {
            fputs(spec->usage, stdout);
            rc = 1;
            goto done;
        } else if (opt >= GH_OPT_OWN && (size_t)(opt - GH_OPT_OWN) < n) {
            if (own[opt - GH_OPT_OWN].value != NULL)
                *own[opt - GH_OPT_OWN].value = optarg;
            else
                *own[opt - GH_OPT_OWN].flag = true;
        } else {
            fputs(spec->usage, stderr);
            goto done;
        }
    }
    for (; optind < argc; optind++) {
        if (nargs == spec->max_args) {
            gh_cli_err("%s: unexpected argument '%s'", spec->command, argv[optind]);
            goto done;
        }
        spec->args[nargs++] = argv[optind];
    }
    rc = 0;
done:
    return rc;
}

const char *gh_cli_data_dir(const char *given, const char *command)
{
    const char *env = getenv(GH_DATA_DIR_ENV);
    struct stat st;

    if (given != NULL)
        return given;
    if (env != NULL && env[0] != '\0')
        return env;
    if (stat(GH_DATA_DIR_HERE "/" GH_DB_FILE, &st) == 0 && S_ISREG(st.st_mode))
        return GH_DATA_DIR_HERE;
    gh_cli_err("%s: missing --data-dir DIR: name the data directory with --data-dir DIR "
               "or the environment variable %s, or run the command where `make run` made "
               "./%s (`gatehouse init --data-dir DIR` makes a new one)", command,
               GH_DATA_DIR_ENV, GH_DATA_DIR_HERE);
    return NULL;
}

int gh_cli_path(const gh_cli_ctx *ctx, char *out, size_t outlen, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", ctx->data_dir, name);

    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* Absolute form of a directory that may not exist yet: its parent must. */
static int gh_cli_absolute(const char *in, char *out, size_t outlen)
{
    char  copy[GH_PATH_MAX], parent_real[PATH_MAX];
    char *parent, *base;
    int   n;

    if (snprintf(copy, sizeof(copy), "%s", in) >= (int)sizeof(copy))
        return -1;
    while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
        copy[strlen(copy) - 1] = '\0';
    base = basename(copy);
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0)
        return -1;
    base = strdup(base);
    if (base == NULL)
        return -1;
    parent = dirname(copy);
    if (realpath(parent, parent_real) == NULL) {
        free(base);
        return -1;
    }
    n = snprintf(out, outlen, "%s/%s", strcmp(parent_real, "/") == 0 ? "" : parent_real,
                 base);
    free(base);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int gh_cli_setup(gh_cli_ctx *ctx, const char *data_dir, const char *config, bool must_exist)
{
    char        real[PATH_MAX], err[512];
    struct stat st;

    memset(ctx, 0, sizeof(*ctx));
    if (data_dir == NULL || data_dir[0] == '\0') {
        gh_cli_err("missing --data-dir DIR");
        return -1;
    }
    if (realpath(data_dir, real) != NULL) {
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
            gh_cli_err("%s is not a directory", data_dir);
            return -1;
        }
        if (snprintf(ctx->data_dir, sizeof(ctx->data_dir), "%s", real)
            >= (int)sizeof(ctx->data_dir)) {
            gh_cli_err("data directory path too long");
            return -1;
        }
    } else if (errno == ENOENT && !must_exist) {
        if (gh_cli_absolute(data_dir, ctx->data_dir, sizeof(ctx->data_dir)) < 0) {
            gh_cli_err("cannot use %s as a data directory: its parent must exist", data_dir);
            return -1;
        }
    } else if (errno == ENOENT) {
        gh_cli_err("%s does not exist: run `gatehouse init --data-dir %s` first",
                   data_dir, data_dir);
        return -1;
    } else {
        gh_cli_err("cannot reach %s: %s", data_dir, strerror(errno));
        return -1;
    }

    if (config != NULL) {
        if (realpath(config, real) == NULL) {
            gh_cli_err("cannot read configuration %s: %s", config, strerror(errno));
            return -1;
        }
    } else if (gh_cli_path(ctx, real, sizeof(real), GH_CONF_FILE) < 0
               || stat(real, &st) < 0) {
        real[0] = '\0';
    }
    if (snprintf(ctx->config_path, sizeof(ctx->config_path), "%s", real)
        >= (int)sizeof(ctx->config_path)) {
        gh_cli_err("configuration path too long");
        return -1;
    }
    /* every dialect's section declared, so a file may set it */
    if (gh_dialect_config_defaults(&ctx->cfg, err, sizeof(err)) != 0) {
        gh_cli_err("%s", err);
        return -1;
    }
    if (ctx->config_path[0] != '\0'
        && gh_config_load(&ctx->cfg, ctx->config_path, err, sizeof(err)) < 0) {
        gh_cli_err("%s", err);
        return -1;
    }
    return 0;
}

/* Keep CAP_NET_BIND_SERVICE alone, effective now and ambient across exec. */
static int gh_cli_keep_bind_cap(void)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct   data[2];
    uint32_t                        bit = 1u << CAP_NET_BIND_SERVICE;

    memset(data, 0, sizeof(data));
    data[0].effective = bit;
    data[0].permitted = bit;
    data[0].inheritable = bit;
    if (syscall(SYS_capset, &hdr, data) < 0)
        return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0L, 0L) < 0)
        return -1;
    return prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
}

int gh_cli_drop_privileges(uid_t uid, gid_t gid, bool keep_bind)
{
    if (keep_bind && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) {
        gh_cli_err("prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
        return -1;
    }
    if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0
        || setresuid(uid, uid, uid) < 0) {
        gh_cli_err("cannot change to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
                   strerror(errno));
        return -1;
    }
    if (keep_bind && gh_cli_keep_bind_cap() < 0) {
        gh_cli_err("cannot keep the capability to bind ports below 1024: %s",
                   strerror(errno));
        return -1;
    }
    if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid
        || (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))) {
        gh_cli_err("privileges were not dropped to uid %u gid %u", (unsigned)uid,
                   (unsigned)gid);
        return -1;
    }
    return 0;
}

int gh_cli_become_owner(gh_cli_ctx *ctx, bool refuse_root, bool keep_bind)
{
    struct stat    st;
    struct passwd *pw;
    gid_t          gid;
    const char    *who;

    if (stat(ctx->data_dir, &st) < 0) {
        gh_cli_err("cannot reach %s: %s", ctx->data_dir, strerror(errno));
        return -1;
    }
    if (geteuid() != 0) {
        if (access(ctx->data_dir, R_OK | W_OK | X_OK) == 0)
            return 0;
        pw = getpwuid(st.st_uid);
        gh_cli_err("%s belongs to %s: run this command as that user or as root",
                   ctx->data_dir, pw != NULL ? pw->pw_name : "another user");
        return -1;
    }
    if (st.st_uid == 0) {
        if (refuse_root) {
            gh_cli_err("%s belongs to root, and nginx workers must not run as root: "
                       "`gatehouse init` run as root gives the directory to the service "
                       "user, or chown -R it to the user nginx should run as",
                       ctx->data_dir);
            return -1;
        }
        return 0;
    }
    pw = getpwuid(st.st_uid);
    gid = pw != NULL ? pw->pw_gid : st.st_gid;
    who = pw != NULL ? pw->pw_name : "the owner";
    if (gh_cli_drop_privileges(st.st_uid, gid, keep_bind) < 0)
        return -1;
    if (access(ctx->data_dir, R_OK | W_OK | X_OK) < 0) {
        gh_cli_err("%s (uid %u), who owns %s, cannot use it: %s; every parent "
                   "directory needs search (x) permission for that user", who,
                   (unsigned)st.st_uid, ctx->data_dir, strerror(errno));
        return -1;
    }
    return 0;
}

int gh_cli_share_store(gh_cli_ctx *ctx)
{
    char path[GH_PATH_MAX + 32];
    int  fd;

    if (ctx->cfg.store.url[0] != '\0' || ctx->store_locked)
        return 0;
    fd = gh_store_lock_take(ctx->data_dir, false, path, sizeof(path));
    if (fd < 0 && errno == EWOULDBLOCK) {
        gh_cli_err("the store in %s is being replaced (`gatehouse restore` or `gatehouse "
                   "store copy` runs): run this again once it is done", ctx->data_dir);
        return -1;
    }
    if (fd < 0) {
        gh_cli_err("cannot lock %s: %s", path, strerror(errno));
        return -1;
    }
    ctx->store_lock = fd;
    ctx->store_locked = true;
    return 0;
}

int gh_cli_open(gh_cli_ctx *ctx, bool create)
{
    char        path[GH_PATH_MAX + 32];
    struct stat st;
    gh_store_err err;

    if (gh_cli_become_owner(ctx, false, false) < 0)
        return -1;
    if (!gh_store_config_from(&ctx->cfg.store, ctx->data_dir, &ctx->store_paths,
                              &ctx->store_cfg)) {
        gh_cli_err("%s: path too long", ctx->data_dir);
        return -1;
    }
    if (ctx->cfg.store.url[0] == '\0' && !create && stat(ctx->store_cfg.path, &st) < 0) {
        gh_cli_err("%s is not initialised (no %s): run `gatehouse init --data-dir %s`",
                   ctx->data_dir, GH_DB_FILE, ctx->data_dir);
        return -1;
    }
    /* after that check: a directory not initialised gets no run/ */
    if (gh_cli_share_store(ctx) < 0)
        return -1;
    err = gh_store_open_config(&ctx->store_cfg, &ctx->store);
    if (err != GH_STORE_OK) {
        /* a URL may carry a user name: not repeated */
        gh_cli_err("cannot open %s: %s", ctx->cfg.store.url[0] != '\0' ? "the store ([store] url)"
                                                                     : ctx->store_cfg.path,
                   gh_store_open_error());
        ctx->store = NULL;
        return -1;
    }
    /* [audit] target = syslog: the records go to syslog(3), as the server's do. */
    if (gh_audit_open_config(&ctx->cfg, ctx->data_dir, &ctx->audit) < 0) {
        int saved = errno;

        if (!gh_audit_path(&ctx->cfg, ctx->data_dir, path, sizeof(path)))
            snprintf(path, sizeof(path), "(syslog)");
        gh_cli_err("cannot open the audit log %s: %s", path, strerror(saved));
        ctx->audit = NULL;
        return -1;
    }
    return 0;
}

void gh_cli_close(gh_cli_ctx *ctx)
{
    if (ctx->audit != NULL)
        gh_audit_close(ctx->audit);
    if (ctx->store != NULL)
        gh_store_close(ctx->store);
    if (ctx->store_locked)
        close(ctx->store_lock);
    ctx->audit = NULL;
    ctx->store = NULL;
    ctx->store_locked = false;
}

int gh_cli_read_file(const char *path, size_t max, char **buf, size_t *len)
{
    int     fd = open(path, O_RDONLY | O_CLOEXEC);
    char   *b = NULL;
    size_t  n = 0;
    int     rc = -1;

    if (fd < 0) {
        gh_cli_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    b = malloc(max + 1);
    if (b == NULL) {
        gh_cli_err("out of memory");
        goto done;
    }
    for (;;) {
        ssize_t r = read(fd, b + n, max + 1 - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            gh_cli_err("cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            gh_cli_err("%s is larger than %zu bytes", path, max);
            goto done;
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    b = NULL;
    rc = 0;
done:
    if (b != NULL) {
        gh_wipe(b, max + 1);
        free(b);
    }
    close(fd);
    return rc;
}

/* Take the first line of text (without its "\n" or "\r\n") as a password. */
static int gh_cli_take_line(const char *text, size_t len, const char *from, char *out,
                            size_t *outlen)
{
    const char *nl = memchr(text, '\n', len);
    size_t      n = nl != NULL ? (size_t)(nl - text) : len;

    if (n > 0 && text[n - 1] == '\r')
        n--;
    if (memchr(text, '\0', n) != NULL) {
        gh_cli_err("the password in %s holds a NUL byte", from);
        return -1;
    }
    if (n > GH_PASSWORD_MAX) {
        gh_cli_err("the password in %s is longer than %d bytes", from, GH_PASSWORD_MAX);
        return -1;
    }
    memcpy(out, text, n);
    out[n] = '\0';
    *outlen = n;
    return 0;
}

int gh_cli_password_from_file(const char *path, char *out, size_t *len)
{
    char  *text = NULL;
    size_t n = 0;
    int    rc;

    if (gh_cli_read_file(path, GH_CLI_PASSWORD_FILE_MAX, &text, &n) < 0)
        return -1;
    rc = gh_cli_take_line(text, n, path, out, len);
    gh_wipe(text, n);
    free(text);
    return rc;
}

static volatile sig_atomic_t gh_cli_signo;

static void gh_cli_on_signal(int signo)
{
    gh_cli_signo = signo;
}

/* One line from fd 0, a byte at a time so nothing is left in a stdio buffer.
 * -1 on error or a signal, -2 when longer than the room in out. */
static int gh_cli_read_line(char *out, size_t room, size_t *len)
{
    size_t n = 0;
    bool   got = false;
    char   c;

    for (;;) {
        ssize_t r = read(STDIN_FILENO, &c, 1);

        if (r < 0 && errno == EINTR && gh_cli_signo == 0)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got = true;
        if (c == '\n')
            break;
        if (n + 1 >= room)
            return -2;
        out[n++] = c;
    }
    if (!got)
        return -3;                          /* nothing at all: end of input */
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    *len = n;
    return 0;
}

/* Ask on the terminal with echo off; the terminal is restored even on ^C. */
static int gh_cli_ask(const char *prompt, char *out, size_t room, size_t *len)
{
    static const int  sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
    struct sigaction  sa, old[sizeof(sigs) / sizeof(sigs[0])];
    struct termios    saved, quiet;
    size_t            i;
    int               rc;

    if (tcgetattr(STDIN_FILENO, &saved) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = gh_cli_on_signal;     /* no SA_RESTART: read() returns EINTR */
    sigemptyset(&sa.sa_mask);
    gh_cli_signo = 0;
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, &old[i]);
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);   /* before the prompt: no echo race */
    fputs(prompt, stderr);
    fflush(stderr);
    rc = gh_cli_read_line(out, room, len);
    (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &old[i], NULL);
    if (gh_cli_signo != 0) {
        gh_wipe(out, room);
        raise(gh_cli_signo);
        return -1;
    }
    return rc;
}

int gh_cli_password_from_stdin(const char *prompt, bool confirm, char *out, size_t *len)
{
    char   again[GH_PASSWORD_MAX + 2];
    size_t again_len = 0;
    bool   tty = isatty(STDIN_FILENO) == 1;
    int    rc;

    rc = tty ? gh_cli_ask(prompt, out, GH_PASSWORD_MAX + 1, len)
             : gh_cli_read_line(out, GH_PASSWORD_MAX + 1, len);
    if (rc == -2) {
        gh_cli_err("the password is longer than %d bytes", GH_PASSWORD_MAX);
        goto fail;
    }
    if (rc == -3) {
        gh_cli_err("no password on standard input (use --password-file FILE or pipe "
                   "one line)");
        goto fail;
    }
    if (rc < 0) {
        gh_cli_err("cannot read the password from standard input");
        goto fail;
    }
    if (memchr(out, '\0', *len) != NULL) {
        gh_cli_err("the password holds a NUL byte");
        goto fail;
    }
    if (tty && confirm) {
        rc = gh_cli_ask("Retype the password: ", again, sizeof(again), &again_len);
        if (rc < 0 || again_len != *len || memcmp(again, out, *len) != 0) {
            gh_wipe(again, sizeof(again));
            gh_cli_err("the passwords do not match");
            goto fail;
        }
        gh_wipe(again, sizeof(again));
    }
    return 0;
fail:
    gh_wipe(out, GH_PASSWORD_MAX + 1);
    *len = 0;
    return -1;
}

int gh_cli_password_policy(gh_cli_ctx *ctx, const char *password, size_t len)
{
    int64_t min = ctx->cfg.min_password_length, max = ctx->cfg.max_password_length;
    /* len is at most GH_PASSWORD_MAX, so the count fits */
    int64_t v, n = (int64_t)gh_account_password_chars(password, len);

    if (ctx->store != NULL) {
        if (gh_store_setting_get(ctx->store, gh_setting_key(GH_SET_MIN_PASSWORD_LENGTH),
                                 &v) == GH_STORE_OK)
            min = v;
        if (gh_store_setting_get(ctx->store, gh_setting_key(GH_SET_MAX_PASSWORD_LENGTH),
                                 &v) == GH_STORE_OK)
            max = v;
    }
    if (n < min) {
        gh_cli_err("the password is too short: at least %lld characters",
                   (long long)min);
        return -1;
    }
    if (max > 0 && n > max) {
        gh_cli_err("the password is too long: at most %lld characters", (long long)max);
        return -1;
    }
    return 0;
}
