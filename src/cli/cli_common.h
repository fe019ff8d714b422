/*
 * cli_common.h: what every `gatehouse` subcommand shares: the data directory
 * and its configuration, dropping root to the directory's owner, the store
 * and audit log, and reading passwords without putting them on argv.
 * Private to src/cli.
 */
#ifndef GH_CLI_COMMON_H
#define GH_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../core/audit.h"
#include "../core/config.h"
#include "../core/store.h"

#ifndef GH_VERSION
#define GH_VERSION "0.1.0"
#endif

#define GH_EXIT_OK    0
#define GH_EXIT_FAIL  1     /* the command could not do what was asked */
#define GH_EXIT_USAGE 2     /* the command line itself is wrong */

#define GH_DB_FILE    "gatehouse.db"
#define GH_CONF_FILE  "gatehouse.conf"

#define GH_DATA_DIR_ENV  "GATEHOUSE_DATA_DIR"
#define GH_DATA_DIR_HERE "var"      /* what `make run` makes in the current directory */

/* One option of a subcommand besides --data-dir, --config and --help: its
 * long name and where it goes. An option with a value stores it in *value;
 * a flag (value NULL) sets *flag. */
typedef struct {
    const char  *name;
    const char **value;
    bool        *flag;
} gh_cli_option;

#define GH_CLI_OPTIONS_MAX 8   /* a subcommand's own options, at most */

/* A subcommand's command line: its options and its arguments. */
typedef struct {
    const char          *command;    /* "user": what its errors start with */
    const char          *usage;      /* --help on stdout; after a bad option, on stderr */
    const gh_cli_option *options;    /* its own, up to a NULL name; NULL for none */
    const char         **data_dir;   /* --data-dir DIR goes here */
    const char         **config;     /* --config FILE goes here */
    const char         **args;       /* the arguments, in order; NULL for none */
    size_t               max_args;   /* how many args holds; one more is refused */
} gh_cli_spec;

#define GH_CLI_COMMON_HELP \
    "  --data-dir DIR   the data directory (database, certificates, run files);\n" \
    "                   default: $GATEHOUSE_DATA_DIR, else ./var when it holds one\n" \
    "  --config FILE    configuration file (default: DIR/gatehouse.conf if present)\n" \
    "  --help           this text\n"

/* One command's view of its data directory. */
typedef struct {
    char       data_dir[GH_PATH_MAX];     /* absolute */
    char       config_path[GH_PATH_MAX];  /* absolute; "" when on defaults */
    gh_config  cfg;
    gh_store_paths  store_paths;          /* what store_cfg names in data_dir */
    gh_store_config store_cfg;            /* [store] of cfg; after gh_cli_open */
    gh_store  *store;                     /* after gh_cli_open */
    gh_audit  *audit;                     /* after gh_cli_open */
    bool       store_locked;              /* store_lock held (gh_cli_share_store) */
    int        store_lock;
} gh_cli_ctx;

/* "gatehouse: <message>" on stderr. */
void gh_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read argv (argv[0] the subcommand) as spec says, with getopt_long: 0 when
 * every option and argument is stored; 1 when --help printed the usage; -1
 * after saying what is wrong (getopt_long names a bad option, then the usage;
 * an argument past max_args is "COMMAND: unexpected argument 'ARG'"). */
int gh_cli_parse(int argc, char **argv, const gh_cli_spec *spec);

/* The data directory a command uses: given (--data-dir) when not NULL, else
 * $GATEHOUSE_DATA_DIR when set and not empty, else ./var when it holds a
 * database (what `make run` made). NULL when none, after saying (prefixed by
 * command) how to name one. */
const char *gh_cli_data_dir(const char *given, const char *command);

/* Resolve data_dir to an absolute path (it may not exist yet unless
 * must_exist) and load the configuration: config if given, else
 * DIR/gatehouse.conf when it exists, else the defaults. Prints its errors. */
int gh_cli_setup(gh_cli_ctx *ctx, const char *data_dir, const char *config, bool must_exist);

/* Run as root: become the owner of the data directory (setgroups, setgid,
 * setuid, then checked). keep_bind keeps CAP_NET_BIND_SERVICE across the
 * change and into exec'd programs, for listening on a port below 1024.
 * Refuses to stay root when refuse_root and the directory belongs to root.
 * Not root: only checks that the directory is usable, and says whose it is
 * when it is not. Prints its errors. */
int gh_cli_become_owner(gh_cli_ctx *ctx, bool refuse_root, bool keep_bind);

/* Become uid/gid for good. Prints its errors. */
int gh_cli_drop_privileges(uid_t uid, gid_t gid, bool keep_bind);

/* Hold DIR/run/store.lock shared until gh_cli_close (cli_store_lock.h), so
 * that no `restore` or `store copy` replaces the embedded store meanwhile;
 * refused while one does. Nothing for a Redis store. Prints its errors. */
int gh_cli_share_store(gh_cli_ctx *ctx);

/* Become the directory's owner, then open the store (which must exist unless
 * create; an embedded one under gh_cli_share_store) and the audit log.
 * Prints its errors. Close with gh_cli_close. */
int gh_cli_open(gh_cli_ctx *ctx, bool create);
void gh_cli_close(gh_cli_ctx *ctx);

/* path inside the data directory into out; -1 if it does not fit. */
int gh_cli_path(const gh_cli_ctx *ctx, char *out, size_t outlen, const char *name);

/* Read a whole file of at most max bytes into a new NUL-terminated buffer
 * (owned by the caller, who wipes and frees it). Prints its errors. */
int gh_cli_read_file(const char *path, size_t max, char **buf, size_t *len);

/* A password: the first line of a file, or a line of standard input (asked
 * for twice without echo when confirm and stdin is a terminal). out holds
 * GH_PASSWORD_MAX + 1 bytes; the caller wipes it. Prints its errors. */
int gh_cli_password_from_file(const char *path, char *out, size_t *len);
int gh_cli_password_from_stdin(const char *prompt, bool confirm, char *out, size_t *len);

/* The live password length policy (store setting, else configuration);
 * prints why a password is refused. Length is counted in characters, as
 * gh_account_password_chars counts them. */
int gh_cli_password_policy(gh_cli_ctx *ctx, const char *password, size_t len);

/* The entry points main.c dispatches to (argv[0] is the subcommand). */
int gh_cli_init(int argc, char **argv);
int gh_cli_user(int argc, char **argv);
int gh_cli_session(int argc, char **argv);
int gh_cli_store(int argc, char **argv);
int gh_cli_backup(int argc, char **argv);
int gh_cli_restore(int argc, char **argv);
int gh_cli_serve(int argc, char **argv);
int gh_cli_bench(int argc, char **argv);     /* hidden: bench-fill, for bench/ */

#endif
