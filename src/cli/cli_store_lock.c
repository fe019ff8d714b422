/*
 * cli_store_lock.c: DIR/run/store.lock, what keeps a command opening the
 * embedded store apart from one replacing the database under it.
 *
 * `restore` unlinks the old database's -wal and renames a copy over it. A
 * command that opened the old file in between would make a new -wal at the
 * old path and write its frames there, beside the new file, which SQLite
 * would then replay into it. The servers are kept out by the data
 * directory's serve.lock (cli_guard.c); the commands that open the store
 * (user, session, init, bench, backup) run beside a server, so they cannot
 * take that one. They take this lock shared, for as long as they hold the
 * store open, and `restore` and `store copy` take it exclusive: each side
 * refuses while the other holds it, at once, never waiting.
 *
 * flock, as serve.lock: it goes with the last descriptor of the process
 * that took it, however that process ends.
 */
#include "cli_store_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int gh_store_lock_take(const char *data_dir, bool exclusive, char *path, size_t size)
{
    int fd, n, saved;

    n = snprintf(path, size, "%s/run", data_dir);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    n = snprintf(path, size, "%s/run/%s", data_dir, GH_STORE_LOCK_FILE);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
