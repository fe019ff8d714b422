/*
 * cli_guard.c: one server per data directory, one per address.
 *
 * The listeners use `reuseport` (the kernel spreads connections over the
 * workers), which also lets a second nginx bind the same address without a
 * word: the kernel would then split connections between two servers, and
 * tokens one of them made would fail on the other. So `serve` checks twice
 * before it execs nginx:
 *
 * - The data directory: an flock on DIR/run/serve.lock. The descriptor is not
 *   close-on-exec, so the nginx master inherits it, and every worker it forks
 *   inherits it from the master: the lock lasts while any process of the
 *   server lives (workers left behind by a kill -9 of the master still serve
 *   the port and still hold it) and goes away with the last of them, however
 *   they end. The file holds the pid that took it (exec keeps the pid: the
 *   nginx master) and the address, for the message a second server prints.
 *   The lock, not the file, is what counts: a file left behind means nothing.
 *   `serve --reload` asks whether the lock is held (gh_guard_held) by trying
 *   a shared lock for an instant: a `serve` starting in that instant would be
 *   refused, which systemd, running one job of a unit at a time, never does.
 * - Each address: a bind without SO_REUSEPORT, which fails on an address any
 *   listener holds, with reuseport or not. SO_REUSEADDR is set as nginx sets
 *   it, so connections in TIME_WAIT from an earlier run do not count. Another
 *   program can still take the address between the probe and nginx's bind;
 *   the data directory's lock has no such gap.
 *
 * A command that replaces the embedded store (`restore`, `store copy`)
 * takes the same lock, so that no server runs meanwhile, and store.lock
 * exclusive, so that no other command has the store open (cli_store_lock.c).
 */
#include "cli_guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_store_lock.h"

#define GH_GUARD_HOLDERS_MAX 8

/* Whether process pid has the file (its device and inode) open. */
static bool gh_guard_has_open(long pid, const struct stat *file)
{
    char           dir[64], link[96];
    DIR           *fds;
    struct dirent *f;
    struct stat    st;
    bool           found = false;

    snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
    fds = opendir(dir);
    while (fds != NULL && !found && (f = readdir(fds)) != NULL) {
        snprintf(link, sizeof(link), "%s/%.20s", dir, f->d_name);
        found = f->d_name[0] != '.' && stat(link, &st) == 0 && st.st_dev == file->st_dev
                && st.st_ino == file->st_ino;
    }
    if (fds != NULL)
        closedir(fds);
    return found;
}

/* Up to max pids of processes with path open (those this user may look at). */
static size_t gh_guard_holders(const char *path, long *pids, size_t max)
{
    DIR           *proc = opendir("/proc");
    struct dirent *e;
    struct stat    file;
    size_t         n = 0;

    if (stat(path, &file) < 0) {
        if (proc != NULL)
            closedir(proc);
        return 0;
    }
    while (proc != NULL && n < max && (e = readdir(proc)) != NULL) {
        char *end;
        long  pid = strtol(e->d_name, &end, 10);

        if (*end != '\0' || pid <= 0 || pid == (long)getpid())
            continue;
        if (gh_guard_has_open(pid, &file))
            pids[n++] = pid;
    }
    if (proc != NULL)
        closedir(proc);
    return n;
}

/* A live process, not a zombie its parent has yet to reap. */
static bool gh_guard_alive(long pid)
{
    char  path[64], stat[256];
    FILE *f;
    char *paren;
    bool  alive = false;

    if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "re");
    if (f == NULL)
        return false;
    if (fgets(stat, sizeof(stat), f) != NULL && (paren = strrchr(stat, ')')) != NULL)
        alive = paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
    fclose(f);
    return alive;
}

/* Say who holds the lock: the pid and address it wrote, and whether that
 * process is still there or only processes it left behind. */
static void gh_guard_refuse(const char *data_dir, const char *path, int fd)
{
    char   text[256] = "", listen[160] = "?", list[GH_GUARD_HOLDERS_MAX * 12] = "";
    long   pid = 0, pids[GH_GUARD_HOLDERS_MAX];
    size_t n, i, used = 0;
    ssize_t len = pread(fd, text, sizeof(text) - 1, 0);

    if (len > 0)
        text[len] = '\0';
    if (sscanf(text, "%ld %159s", &pid, listen) < 1)
        pid = 0;
    if (gh_guard_alive(pid)) {
        gh_cli_err("%s is already being served (nginx master pid %ld, https://%s/): "
                   "one server per data directory; stop that one first (SIGTERM to pid "
                   "%ld), or give this one another --data-dir", data_dir, pid, listen, pid);
        return;
    }
    n = gh_guard_holders(path, pids, GH_GUARD_HOLDERS_MAX);
    for (i = 0; i < n && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, " %ld", pids[i]);
    gh_cli_err("%s is still held by processes of a server whose master (pid %ld) is "
               "gone, nginx workers left by a kill -9 of the master that still serve "
               "https://%s/ (pids:%s): end them, then start again", data_dir, pid, listen,
               n > 0 ? list : " not visible to this user");
}

int gh_guard_lock(const char *data_dir, const char *run_dir, const char *listen)
{
    char path[GH_PATH_MAX + 32], text[200];
    int  fd, n;

    if (snprintf(path, sizeof(path), "%s/%s", run_dir, GH_GUARD_LOCK_FILE)
        >= (int)sizeof(path)) {
        gh_cli_err("data directory path too long");
        return -1;
    }
    /* No O_CLOEXEC: nginx, which this process becomes, must keep it. */
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0) {
        gh_cli_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            gh_guard_refuse(data_dir, path, fd);
        else
            gh_cli_err("cannot lock %s: %s", path, strerror(errno));
        goto fail;
    }
    n = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), listen);
    if (n < 0 || (size_t)n >= sizeof(text) || ftruncate(fd, 0) < 0
        || pwrite(fd, text, (size_t)n, 0) != n) {
        gh_cli_err("cannot write %s: %s", path, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

int gh_guard_lock_idle(const char *data_dir, const char *what, gh_guard_idle *held)
{
    char run[GH_PATH_MAX], path[GH_PATH_MAX + 32];

    held->serve = held->store = -1;
    if (snprintf(run, sizeof(run), "%s/run", data_dir) >= (int)sizeof(run)) {
        gh_cli_err("data directory path too long");
        return -1;
    }
    if (mkdir(run, 0700) < 0 && errno != EEXIST) {
        gh_cli_err("cannot create %s: %s", run, strerror(errno));
        return -1;
    }
    held->serve = gh_guard_lock(data_dir, run, what);
    if (held->serve < 0)
        return -1;
    held->store = gh_store_lock_take(data_dir, true, path, sizeof(path));
    if (held->store < 0) {
        if (errno == EWOULDBLOCK)
            gh_cli_err("%s: another gatehouse command (user, session, backup, ...) has the "
                       "store in %s open: run %s again once it is done", what, data_dir,
                       what);
        else
            gh_cli_err("cannot lock %s: %s", path, strerror(errno));
        gh_guard_unlock_idle(held);
        return -1;
    }
    return 0;
}

void gh_guard_unlock_idle(gh_guard_idle *held)
{
    if (held->store >= 0)
        close(held->store);
    if (held->serve >= 0)
        close(held->serve);
    held->serve = held->store = -1;
}

int gh_guard_held(const char *run_dir, long *pid)
{
    char        path[GH_PATH_MAX + 32], text[256] = "";
    struct stat file;
    ssize_t     len;
    int         fd, rc = -1;

    *pid = 0;
    if (snprintf(path, sizeof(path), "%s/%s", run_dir, GH_GUARD_LOCK_FILE)
        >= (int)sizeof(path)) {
        gh_cli_err("data directory path too long");
        return -1;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0) {
        gh_cli_err("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        rc = 0;                       /* nobody holds it; closing lets it go */
        goto done;
    }
    if (errno != EWOULDBLOCK) {
        gh_cli_err("cannot lock %s: %s", path, strerror(errno));
        goto done;
    }
    len = pread(fd, text, sizeof(text) - 1, 0);
    if (len > 0)
        text[len] = '\0';
    /* the pid written there counts only while that process holds the file
     * open: a master killed with -9 may have left its number to another */
    if (sscanf(text, "%ld", pid) != 1 || !gh_guard_alive(*pid) || fstat(fd, &file) < 0
        || !gh_guard_has_open(*pid, &file))
        *pid = 0;
    rc = 1;
done:
    close(fd);
    return rc;
}

/* Split ADDR:PORT into the host getaddrinfo takes and the port. */
static int gh_guard_split(const char *addr, char *host, size_t hostlen, const char **port)
{
    const char *colon = strrchr(addr, ':');
    size_t      len;

    if (colon == NULL)
        return -1;
    len = (size_t)(colon - addr);
    if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
        addr++;
        len -= 2;
    }
    if (len >= hostlen)
        return -1;
    memcpy(host, addr, len);
    host[len] = '\0';
    if (strcmp(host, "*") == 0)
        snprintf(host, hostlen, "0.0.0.0");      /* nginx's `listen *:PORT` */
    *port = colon + 1;
    return 0;
}

/* 0 when ai's address can be bound, else the errno. */
static int gh_guard_bind(const struct addrinfo *ai)
{
    int one = 1, fd, err = 0;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0
        || (ai->ai_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        err = errno;
    close(fd);
    return err;
}

int gh_guard_probe(const char *what, const char *addr)
{
    struct addrinfo  hints, *res = NULL, *ai;
    char             host[64];
    const char      *port;
    int              rc = -1, gai, err = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (gh_guard_split(addr, host, sizeof(host), &port) < 0) {
        gh_cli_err("%s %s is not ADDR:PORT", what, addr);
        return -1;
    }
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        gh_cli_err("%s %s: %s", what, addr, gai_strerror(gai));
        return -1;
    }
    for (ai = res; ai != NULL && err == 0; ai = ai->ai_next)
        err = gh_guard_bind(ai);
    if (err == EADDRINUSE)
        gh_cli_err("%s %s is already in use: another server (another gatehouse serve?) "
                   "listens there; stop it, or choose another address with --%s",
                   what, addr, what);
    else if (err != 0)
        gh_cli_err("cannot listen on %s %s: %s", what, addr, strerror(err));
    else
        rc = 0;
    freeaddrinfo(res);
    return rc;
}
