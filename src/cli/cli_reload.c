/*
 * cli_reload.c: how `gatehouse serve --reload` (systemd's ExecReload) hands a
 * running server a new configuration without stopping it.
 *
 * nginx does the reload itself: on SIGHUP its master reads the file it was
 * started with (-c DIR/run/nginx.conf), forks new workers on it and lets the
 * old ones finish their requests and exit; its listening sockets and shared
 * memory zones of the same name and size are kept, and with the zone the
 * sessions, the credential cache and the failed-login counters in it
 * (ngx_http_gatehouse_init_zone). A master that cannot apply the new file
 * logs why and goes on with the old one; its answer is not sent back to
 * whoever signalled it. So cli_serve.c renders the configuration into a file
 * beside the live one, this file lets nginx test it (`nginx -t`) before it is
 * put in place, and after the signal waits for the proof that the master
 * took it: a worker it forked after the signal, and each worker it had
 * before gone or shutting down (a worker forked in place of one that
 * crashed is no proof: the others serve on). systemd runs ExecReload to
 * its end before it calls the reload done, so that wait also makes
 * `systemctl reload` return only once the new configuration serves.
 *
 * Which master: the pid in DIR/run/nginx.pid, which nginx writes, checked
 * against the data directory's lock (cli_guard.c): held, and by that same
 * pid. A pid file left by an earlier server, or a master killed with its
 * workers still running, is refused rather than signalled.
 */
#include "cli_reload.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_guard.h"

#define GH_RELOAD_CHILDREN_MAX 1024    /* workers of the old generations we remember */

int gh_reload_master(const char *data_dir, const char *run_dir, pid_t *master)
{
    char  path[GH_PATH_MAX + 16], *text = NULL, *end;
    size_t len = 0;
    long  holder = 0, pid;
    int   held, rc = -1;

    held = gh_guard_held(run_dir, &holder);
    if (held < 0)
        return -1;
    if (held == 0) {
        gh_cli_err("no server runs on %s: nothing to reload (start one with "
                   "`gatehouse serve`)", data_dir);
        return -1;
    }
    if (holder == 0) {
        gh_cli_err("the nginx master serving %s is gone, but processes it left still "
                   "hold the data directory: stop them, then start the server again",
                   data_dir);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/nginx.pid", run_dir);
    if (gh_cli_read_file(path, 64, &text, &len) < 0)
        return -1;
    errno = 0;
    pid = strtol(text, &end, 10);
    if (errno != 0 || end == text || (*end != '\n' && *end != '\0') || pid != holder) {
        gh_cli_err("%s does not name the nginx master (pid %ld) that holds %s: the "
                   "server is still starting, or the file is left from another run; "
                   "try again once it serves", path, holder, data_dir);
        goto done;
    }
    *master = (pid_t)pid;
    rc = 0;
done:
    free(text);
    return rc;
}

int gh_reload_test(const char *nginx, const char *prefix, const char *conf)
{
    char *const args[] = { (char *)nginx, "-q", "-e", "stderr", "-p", (char *)prefix,
                           "-c", (char *)conf, "-t", NULL };
    pid_t       child;
    int         status = 0, rc = -1;

    fflush(NULL);
    child = fork();
    if (child < 0) {
        gh_cli_err("cannot fork to test the configuration: %s", strerror(errno));
        return -1;
    }
    if (child == 0) {
        execv(nginx, args);
        gh_cli_err("cannot run %s: %s", nginx, strerror(errno));
        _exit(127);
    }
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            gh_cli_err("cannot wait for nginx -t: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        rc = 0;
    return rc;
}

/* The state letter and parent of a process, from /proc/PID/stat; false when
 * it is gone. */
static bool gh_reload_stat(long pid, char *state, long *ppid)
{
    char  path[64], stat[512], *paren;
    FILE *f;
    bool  ok = false;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "re");
    if (f == NULL)
        return false;
    /* pid (comm) state ppid ...: comm may hold spaces and parentheses */
    if (fgets(stat, sizeof(stat), f) != NULL && (paren = strrchr(stat, ')')) != NULL
        && sscanf(paren + 1, " %c %ld", state, ppid) == 2)
        ok = true;
    fclose(f);
    return ok;
}

/* Alive: there, and not a zombie waiting for its parent. */
static bool gh_reload_alive(long pid)
{
    char state;
    long ppid;

    return gh_reload_stat(pid, &state, &ppid) && state != 'Z' && state != 'X';
}

/* The live children of parent, up to max. */
static size_t gh_reload_children(pid_t parent, long *pids, size_t max)
{
    DIR           *proc = opendir("/proc");
    struct dirent *e;
    size_t         n = 0;

    while (proc != NULL && n < max && (e = readdir(proc)) != NULL) {
        char  state, *end;
        long  pid = strtol(e->d_name, &end, 10), ppid;

        if (*end == '\0' && pid > 0 && gh_reload_stat(pid, &state, &ppid)
            && ppid == (long)parent && state != 'Z' && state != 'X')
            pids[n++] = pid;
    }
    if (proc != NULL)
        closedir(proc);
    return n;
}

/* Whether pid is an nginx worker told to finish and exit: on SIGQUIT, which
 * the master sends the old generation once the new one runs, a worker
 * retitles itself "worker process is shutting down" (ngx_setproctitle, in
 * the memory /proc/PID/cmdline reads). */
static bool gh_reload_shutting_down(long pid)
{
    char   path[64], title[256];
    FILE  *f;
    size_t len;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    f = fopen(path, "re");
    if (f == NULL)
        return false;
    len = fread(title, 1, sizeof(title) - 1, f);
    fclose(f);
    title[len] = '\0';
    return strstr(title, "shutting down") != NULL;
}

/* A child of master's not among the n in old. */
static bool gh_reload_new_child(pid_t master, const long *old, size_t n)
{
    long   now[GH_RELOAD_CHILDREN_MAX];
    size_t m = gh_reload_children(master, now, GH_RELOAD_CHILDREN_MAX), i, j;

    for (i = 0; i < m; i++) {
        for (j = 0; j < n && old[j] != now[i]; j++)
            continue;
        if (j == n)
            return true;
    }
    return false;
}

/* Whether the master runs a new generation of workers: a child not among
 * the n in old, and none of old still serving (each gone or shutting
 * down). A new child alone is no proof: the master forks one in place of a
 * worker that crashed, on the configuration it has; but then the other old
 * workers serve on, where a reload would have told them all to finish. */
static bool gh_reload_took(pid_t master, const long *old, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (gh_reload_alive(old[i]) && !gh_reload_shutting_down(old[i]))
            return false;
    }
    return gh_reload_new_child(master, old, n);
}

int gh_reload_signal(pid_t master)
{
    static long     old[GH_RELOAD_CHILDREN_MAX];
    struct timespec pause = { 0, 50 * 1000 * 1000 };
    size_t          n = gh_reload_children(master, old, GH_RELOAD_CHILDREN_MAX);
    time_t          deadline;

    if (kill(master, SIGHUP) < 0) {
        gh_cli_err("cannot signal the nginx master (pid %ld): %s", (long)master,
                   strerror(errno));
        return -1;
    }
    deadline = time(NULL) + GH_RELOAD_WAIT_SECONDS;
    while (!gh_reload_took(master, old, n)) {
        if (!gh_reload_alive(master)) {
            gh_cli_err("the nginx master (pid %ld) exited during the reload: see its "
                       "error log", (long)master);
            return -1;
        }
        if (time(NULL) > deadline) {
            gh_cli_err("the nginx master (pid %ld) started no worker on the new "
                       "configuration within %d s: it keeps serving with the one it "
                       "had, and its error log (stderr; the journal under systemd) says "
                       "why", (long)master, GH_RELOAD_WAIT_SECONDS);
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    return 0;
}
