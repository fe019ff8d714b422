/*
 * redis_fixture.h: throw-away Redis servers for unit tests. Debian's
 * redis-server (or redis-sentinel) started by the test itself on 127.0.0.1,
 * on a free port, in a directory of its own under $TMPDIR, without
 * persistence (--save "" --appendonly no), its log in that directory, and
 * a unix socket there too (DIR/redis.sock) through which the fixture checks
 * it answers. Each server dies with the test process (PR_SET_PDEATHSIG)
 * when the test does not stop it (by its PID) itself.
 *
 *   gh_test_redis srv;
 *   const char *extra[] = { "--requirepass", "pw", NULL };
 *   assert_true(gh_test_redis_start(&srv, 0, extra));   port 0: a free one
 *   ... redis://127.0.0.1:srv.port, unix:srv.sock ...
 *   gh_test_redis_stop(&srv);
 *
 * tests/unit/with-redis starts one such server for a whole run of the unit
 * tests and exports GH_TEST_REDIS_URL: gh_test_redis_url() reads it.
 */
#ifndef GH_TEST_REDIS_FIXTURE_H
#define GH_TEST_REDIS_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define GH_TEST_REDIS_ARGS 48

typedef struct {
    pid_t    pid;                        /* 0: not running */
    uint16_t port;
    bool     sentinel;                   /* redis-sentinel with DIR/sentinel.conf */
    char     dir[96];
    char     sock[108];                  /* DIR/redis.sock (not for a sentinel) */
    char    *extra[GH_TEST_REDIS_ARGS];  /* copies, for a restart */
} gh_test_redis;

/* The URL of the server tests/unit/with-redis started; NULL without one. */
static inline const char *gh_test_redis_url(void)
{
    const char *url = getenv("GH_TEST_REDIS_URL");

    return url != NULL && url[0] != '\0' ? url : NULL;
}

static inline int64_t gh_test_redis_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP port on 127.0.0.1 nobody listens on right now. */
static inline uint16_t gh_test_free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t          len = sizeof(a);
    int                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint16_t           port = 0;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Sends one inline command (a line, "PING") to the server, over its unix
 * socket or (sentinel) TCP, and reads the answer's first bytes into out:
 * true when any came. */
static inline bool gh_test_redis_inline(const gh_test_redis *s, const char *line, char *out,
                                        size_t size)
{
    int     fd;
    ssize_t n = -1;
    bool    ok;

    if (s->sentinel) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->port) };

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    } else {
        struct sockaddr_un a = { .sun_family = AF_UNIX };

        snprintf(a.sun_path, sizeof(a.sun_path), "%s", s->sock);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    }
    if (ok) {
        struct timeval tv = { 2, 0 };

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line) && write(fd, "\r\n", 2) == 2;
        n = ok ? read(fd, out, size - 1) : -1;
    }
    if (fd >= 0)
        close(fd);
    out[n > 0 ? n : 0] = '\0';
    return n > 0;
}

static inline bool gh_test_redis_exec(gh_test_redis *s)
{
    const char *argv[GH_TEST_REDIS_ARGS + 24];
    char        port[8], conf[192], log[192];
    size_t      n = 0;

    snprintf(port, sizeof(port), "%u", (unsigned)s->port);
    snprintf(log, sizeof(log), "%s/redis.log", s->dir);
    if (s->sentinel) {
        snprintf(conf, sizeof(conf), "%s/sentinel.conf", s->dir);
        argv[n++] = "redis-sentinel";
        argv[n++] = conf;
    } else {
        argv[n++] = "redis-server";
        argv[n++] = "--unixsocket";
        argv[n++] = s->sock;
        argv[n++] = "--unixsocketperm";
        argv[n++] = "700";
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = "no";
    }
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--logfile";
    argv[n++] = log;
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    for (size_t i = 0; s->extra[i] != NULL; i++)
        argv[n++] = s->extra[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid == 0) {
        int null = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return s->pid > 0;
}

/* Waits (10 s at most) until the server answers, or has died. */
static inline bool gh_test_redis_wait(gh_test_redis *s)
{
    int64_t               deadline = gh_test_redis_ms() + 10000;
    const struct timespec ms = { 0, 5000000 };
    char                  answer[64];
    int                   status;

    while (gh_test_redis_ms() < deadline) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;                  /* it died: the port was taken, a bad option */
            return false;
        }
        if (gh_test_redis_inline(s, "PING", answer, sizeof(answer)) &&
            (strncmp(answer, "+PONG", 5) == 0 || strncmp(answer, "-NOAUTH", 7) == 0))
            return true;
        nanosleep(&ms, NULL);
    }
    return false;
}

/* Runs the server (again, on its own port and directory). */
static inline bool gh_test_redis_run(gh_test_redis *s)
{
    return gh_test_redis_exec(s) && gh_test_redis_wait(s);
}

/* Ends the server's process (SIGTERM, then SIGKILL after 5 s), by PID. */
static inline void gh_test_redis_kill(gh_test_redis *s)
{
    int64_t               deadline = gh_test_redis_ms() + 5000;
    const struct timespec ms = { 0, 2000000 };
    int                   status;

    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    while (waitpid(s->pid, &status, WNOHANG) == 0) {
        if (gh_test_redis_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            break;
        }
        nanosleep(&ms, NULL);
    }
    s->pid = 0;
}

/* Starts a server: port 0 for a free one; extra: more arguments, NULL at
 * the end (or NULL). A sentinel's configuration (sentinel_conf, its
 * "sentinel monitor ..." lines) is written to DIR/sentinel.conf. */
static inline bool gh_test_redis_start_as(gh_test_redis *s, uint16_t port,
                                          const char *const *extra, const char *sentinel_conf)
{
    const char *tmp = getenv("TMPDIR");
    size_t      n = 0;

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s/gh-redis.XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(s->dir) == NULL)
        return false;
    snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
    while (extra != NULL && extra[n] != NULL && n + 1 < GH_TEST_REDIS_ARGS) {
        s->extra[n] = strdup(extra[n]);
        n++;
    }
    if (sentinel_conf != NULL) {
        char  path[192];
        FILE *f;

        s->sentinel = true;
        snprintf(path, sizeof(path), "%s/sentinel.conf", s->dir);
        f = fopen(path, "w");
        if (f == NULL)
            return false;
        fputs(sentinel_conf, f);
        fclose(f);
    }
    for (int tries = 0; tries < 5; tries++) {
        s->port = port != 0 ? port : gh_test_free_port();
        if (gh_test_redis_run(s))
            return true;
        gh_test_redis_kill(s);
        if (port != 0)
            break;
    }
    return false;
}

static inline bool gh_test_redis_start(gh_test_redis *s, uint16_t port, const char *const *extra)
{
    return gh_test_redis_start_as(s, port, extra, NULL);
}

/* Stops the server and removes its directory. */
static inline void gh_test_redis_stop(gh_test_redis *s)
{
    char cmd[256];

    gh_test_redis_kill(s);
    for (size_t i = 0; i < GH_TEST_REDIS_ARGS && s->extra[i] != NULL; i++)
        free(s->extra[i]);
    memset(s->extra, 0, sizeof(s->extra));
    if (s->dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "redis fixture: could not remove %s\n", s->dir);
        s->dir[0] = '\0';
    }
}

/* Stops the server's process and starts it again, same port and options. */
static inline bool gh_test_redis_restart(gh_test_redis *s)
{
    gh_test_redis_kill(s);
    return gh_test_redis_run(s);
}

#endif
