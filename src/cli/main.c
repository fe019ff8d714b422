/*
 * main.c: the `gatehouse` command: picks the subcommand and hands it the rest
 * of argv; --help and --version. Each subcommand parses its own options and
 * has its own --help.
 */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "../dialects/common/dialect.h"

static const char gh_cli_usage[] =
    "usage: gatehouse COMMAND [OPTIONS]\n"
    "\n"
    "Authentication front door (Redfish, oVirt, PowerStore) for a management API,\n"
    "running as a module inside nginx.\n"
    "\n"
    "commands:\n"
    "  init      create a data directory: database, certificates, the admin account\n"
    "  serve     write the nginx configuration for a data directory and run nginx\n"
    "  user      add, change, delete, list, lock and unlock accounts\n"
    "  session   list and revoke sessions\n"
    "  store     copy everything between the embedded store and another (Redis)\n"
    "  backup    copy the embedded store to a file while the server runs\n"
    "  restore   put such a copy back, with no server running\n"
    "\n"
    "Every command takes --data-dir DIR (default: $GATEHOUSE_DATA_DIR, else ./var\n"
    "when it holds a data directory, as `make run` leaves it) and --config FILE;\n"
    "`gatehouse COMMAND --help` tells more. Passwords are read from a file or\n"
    "standard input, never argv.\n"
    "\n"
    "options:\n"
    "  --help      this text\n"
    "  --version   the version\n";

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int       (*run)(int argc, char **argv);
    } commands[] = {
        { "init", gh_cli_init },
        { "serve", gh_cli_serve },
        { "user", gh_cli_user },
        { "session", gh_cli_session },
        { "store", gh_cli_store },
        { "backup", gh_cli_backup },
        { "restore", gh_cli_restore },
        { "bench-fill", gh_cli_bench },     /* bench/ only; not in the usage */
    };
    size_t i;

    /* before any command opens the store */
    gh_dialect_store_setup();
    if (argc < 2) {
        fputs(gh_cli_usage, stderr);
        return GH_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0) {
        fputs(gh_cli_usage, stdout);
        return GH_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gatehouse %s\n", GH_VERSION);
        return GH_EXIT_OK;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    gh_cli_err("unknown command '%s' (try `gatehouse --help`)", argv[1]);
    return GH_EXIT_USAGE;
}
