/*
 * store_redis_conn.c: one connection to the Redis primary (store_redis_conn.h).
 *
 * The connection is a socket of our own (store_redis_sock.c) and hiredis'
 * parser fed by us (store_redis_reply.c). Every call writes its commands in
 * one piece, then reads their replies, the whole bounded by timeout_ms: a
 * call never waits longer, whatever the server does.
 *
 * Whenever the state of the connection is unknown (a timeout, EOF, an I/O
 * or protocol error, a reply too big) or the server is no longer the
 * primary we want (-READONLY, -LOADING, -MASTERDOWN), the socket is closed
 * and the call answers GH_STORE_ERROR; the next call connects again, asking
 * the sentinels anew, at most once per GH_REDIS_RETRY_MS: the calls in
 * between fail at once, so an outage costs callers nothing but the refusal.
 *
 * Scripts (gh_redis_eval) are store_redis_eval.c's.
 *
 * Connecting: the socket, then in one round trip AUTH (the password file's
 * first line, read at each connect and wiped), SELECT, CLIENT SETNAME and
 * ROLE, which must say "master". Through Sentinel, each sentinel in turn is
 * asked for the master's address first (without AUTH: it only tells an
 * address, which ROLE then checks). Nothing here puts a password or a
 * reply's content into gh_redis_error: at most an error reply's code word.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "store_redis_conn.h"
#include "store_redis_io.h"

#define GH_REDIS_RETRY_MS    100
#define GH_REDIS_PASSWORD_MAX 512

struct gh_redis {
    const gh_store_config *cfg;
    gh_redis_url           url;
    bool                   url_ok;
    SSL_CTX               *ctx;               /* rediss: kept across reconnects */
    gh_redis_sock          sock;              /* fd < 0: not connected */
    gh_redis_parser        parser;
    int64_t                last_try;          /* monotonic ms of the last connect */
    char                   down[192];         /* why the last connect failed */
    char                   err[256];
};

/* snprintf for messages made of other messages: a long one is cut short,
 * which is all a log line needs. */
__attribute__((format(printf, 3, 4)))
static void say(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

static int conn_timeout(const gh_redis *r)
{
    return r->cfg->timeout_ms > 0 ? r->cfg->timeout_ms : 1000;
}

static int conn_connect_timeout(const gh_redis *r)
{
    return r->cfg->connect_timeout_ms > 0 ? r->cfg->connect_timeout_ms : 500;
}

static void conn_drop(gh_redis *r)
{
    gh_redis_sock_close(&r->sock);
    gh_redis_parser_free(&r->parser);
}

/* A connection that worked is dropped: its error is now why Redis is down
 * (what the calls refused before the next try say). */
static void conn_lost(gh_redis *r)
{
    say(r->down, sizeof(r->down), "%s", r->err);
    conn_drop(r);
}

/* The code word of an error reply ("WRONGPASS", "NOSCRIPT"), never more of
 * what it says. */
static void error_code(const redisReply *reply, char *out, size_t size)
{
    size_t n = 0;

    while (n + 1 < size && n < reply->len && reply->str[n] >= 'A' && reply->str[n] <= 'Z') {
        out[n] = reply->str[n];
        n++;
    }
    out[n] = '\0';
}

/* Formats cmds into one buffer (*out, *len; wiped and freed by the caller). */
static bool format_all(const gh_redis_cmd *cmds, size_t n, char **out, size_t *len)
{
    size_t total = 0, at = 0;
    char **parts = calloc(n, sizeof(*parts));
    int   *plens = calloc(n, sizeof(*plens));
    bool   ok = false;

    *out = NULL;
    if (parts == NULL || plens == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (cmds[i].argc == 0 || cmds[i].argc > GH_REDIS_ARGC_MAX)
            goto done;
        plens[i] = redisFormatCommandArgv(&parts[i], (int)cmds[i].argc,
                                          (const char **)cmds[i].argv, cmds[i].lens);
        if (plens[i] < 0)
            goto done;
        total += (size_t)plens[i];
    }
    *out = malloc(total);
    if (*out == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        memcpy(*out + at, parts[i], (size_t)plens[i]);
        at += (size_t)plens[i];
    }
    *len = total;
    ok = true;
done:
    for (size_t i = 0; parts != NULL && i < n; i++) {
        if (parts[i] != NULL)
            OPENSSL_cleanse(parts[i], (size_t)plens[i]);
        free(parts[i]);
    }
    free(parts);
    free(plens);
    return ok;
}

/* Reads one reply by deadline: 1 got it, 0 the deadline passed, -1 the
 * connection failed (r->err says why). */
static int read_reply(gh_redis *r, int64_t deadline, redisReply **reply)
{
    char        buf[16384];
    const char *why = NULL;

    for (;;) {
        int     rc = gh_redis_parser_next(&r->parser, reply, &why);
        ssize_t n;

        if (rc != 0) {
            if (rc < 0)
                say(r->err, sizeof(r->err), "Redis: %s", why);
            return rc;
        }
        n = gh_redis_sock_read(&r->sock, buf, sizeof(buf), deadline, r->err, sizeof(r->err));
        if (n <= 0)
            return n < 0 ? -1 : 0;
        rc = gh_redis_parser_feed(&r->parser, buf, (size_t)n, &why) ? 0 : -1;
        OPENSSL_cleanse(buf, (size_t)n);
        if (rc < 0) {
            say(r->err, sizeof(r->err), "Redis: %s", why);
            return -1;
        }
    }
}

/* Writes cmds and reads their n replies on the connected socket, by
 * timeout_ms; on a failure the connection is dropped and the replies read
 * so far freed. */
static gh_store_err exchange(gh_redis *r, const gh_redis_cmd *cmds, size_t n,
                             redisReply **replies)
{
    int64_t      deadline = gh_redis_now_ms() + conn_timeout(r);
    char        *wire = NULL;
    size_t       len = 0, got = 0;
    gh_store_err err = GH_STORE_ERROR;

    if (!format_all(cmds, n, &wire, &len)) {
        say(r->err, sizeof(r->err), "Redis: a command could not be formatted");
        return GH_STORE_ERROR;
    }
    if (!gh_redis_sock_write(&r->sock, wire, len, deadline, r->err, sizeof(r->err)))
        goto done;
    for (; got < n; got++)
        if (read_reply(r, deadline, &replies[got]) != 1)
            goto done;
    err = GH_STORE_OK;
done:
    OPENSSL_cleanse(wire, len);
    free(wire);
    if (err != GH_STORE_OK) {
        if (strstr(r->err, "timed out") != NULL)
            say(r->err, sizeof(r->err), "Redis: no answer within %d ms", conn_timeout(r));
        /* Freed and forgotten: the caller frees its replies on every path. */
        while (got > 0) {
            gh_redis_reply_free(replies[--got]);
            replies[got] = NULL;
        }
        conn_lost(r);
    }
    return err;
}

/* The password file's first line into pw (wiped by the caller). */
static bool password_read(gh_redis *r, char *pw, size_t size)
{
    int     fd = open(r->cfg->password_file, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        say(r->down, sizeof(r->down), "cannot read password_file %s", r->cfg->password_file);
        return false;
    }
    n = read(fd, pw, size - 1);
    close(fd);
    if (n < 0)
        n = 0;
    pw[n] = '\0';
    pw[strcspn(pw, "\r\n")] = '\0';
    if (pw[0] == '\0') {
        say(r->down, sizeof(r->down), "password_file %s has no password on its first line",
                 r->cfg->password_file);
        return false;
    }
    return true;
}

/* Checks the handshake's replies: AUTH (when sent), SELECT, SETNAME, ROLE. */
static bool handshake_check(gh_redis *r, redisReply **rep, size_t n, bool auth)
{
    static const char *const what[] = { "AUTH", "SELECT", "CLIENT SETNAME", "ROLE" };
    char                     code[24];

    for (size_t i = 0; i < n; i++) {
        if (rep[i]->type == REDIS_REPLY_ERROR) {
            error_code(rep[i], code, sizeof(code));
            say(r->down, sizeof(r->down), "%s refused (%s)", what[i + (auth ? 0 : 1)],
                     code);
            return false;
        }
    }
    if (rep[n - 1]->type != REDIS_REPLY_ARRAY || rep[n - 1]->elements == 0 ||
        rep[n - 1]->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(rep[n - 1]->element[0]->str, "master") != 0) {
        say(r->down, sizeof(r->down), "not a primary");
        return false;
    }
    return true;
}

/* AUTH, SELECT, CLIENT SETNAME and ROLE in one round trip. */
static bool handshake(gh_redis *r)
{
    const char  *user = r->url.username[0] != '\0' ? r->url.username : r->cfg->username;
    char         pw[GH_REDIS_PASSWORD_MAX], db[16];
    const char  *auth[3] = { "AUTH" }, *sel[2] = { "SELECT", db };
    const char  *name[3] = { "CLIENT", "SETNAME", "gatehouse" }, *role[1] = { "ROLE" };
    size_t       alen[3] = { 4 }, slen[2] = { 6 }, nlen[3] = { 6, 7, 9 }, rlen[1] = { 4 };
    gh_redis_cmd cmds[4];
    redisReply  *rep[4] = { NULL };
    size_t       n = 0;
    bool         ok = false, with_auth;

    pw[0] = '\0';
    with_auth = r->cfg->password_file != NULL && r->cfg->password_file[0] != '\0';
    if (with_auth) {
        size_t a = 1;

        if (!password_read(r, pw, sizeof(pw)))
            goto done;
        if (user != NULL && user[0] != '\0') {
            auth[a] = user;
            alen[a++] = strlen(user);
        }
        auth[a] = pw;
        alen[a++] = strlen(pw);
        cmds[n++] = (gh_redis_cmd){ a, auth, alen };
    }
    slen[1] = (size_t)snprintf(db, sizeof(db), "%d", r->url.db);
    cmds[n++] = (gh_redis_cmd){ 2, sel, slen };
    cmds[n++] = (gh_redis_cmd){ 3, name, nlen };
    cmds[n++] = (gh_redis_cmd){ 1, role, rlen };
    if (exchange(r, cmds, n, rep) != GH_STORE_OK) {
        say(r->down, sizeof(r->down), "%s", r->err);
        goto done;
    }
    ok = handshake_check(r, rep, n, with_auth);
done:
    OPENSSL_cleanse(pw, sizeof(pw));
    for (size_t i = 0; i < n; i++)
        gh_redis_reply_free(rep[i]);
    return ok;
}

/* The socket to host:port (or the unix path), then the handshake. */
static bool connect_one(gh_redis *r, const char *host, uint16_t port, bool primary)
{
    const char *sni = r->cfg->tls_server_name;
    int64_t     deadline = gh_redis_now_ms() + conn_connect_timeout(r);

    if (sni == NULL || sni[0] == '\0')
        sni = host;
    if (!gh_redis_sock_connect(&r->sock, host, port,
                               r->url.kind == GH_REDIS_UNIX ? r->url.path : NULL, r->ctx, sni,
                               deadline, r->down, sizeof(r->down)))
        return false;
    if (!gh_redis_parser_init(&r->parser)) {
        say(r->down, sizeof(r->down), "out of memory");
        conn_drop(r);
        return false;
    }
    if (primary && !handshake(r)) {
        conn_drop(r);
        return false;
    }
    return true;
}

/* Asks the connected sentinel where the master is: host and port. */
static bool sentinel_ask(gh_redis *r, char *host, size_t size, uint16_t *port)
{
    const char  *argv[3] = { "SENTINEL", "get-master-addr-by-name", r->url.master };
    size_t       lens[3] = { 8, 23, strlen(r->url.master) };
    gh_redis_cmd cmd = { 3, argv, lens };
    redisReply  *rep = NULL;
    bool         ok = false;
    long         p;
    char        *end;

    if (exchange(r, &cmd, 1, &rep) != GH_STORE_OK) {
        say(r->down, sizeof(r->down), "%s", r->err);
        return false;
    }
    say(r->down, sizeof(r->down), "it does not know master %s", r->url.master);
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_STRING || rep->element[0]->len == 0 ||
        rep->element[0]->len >= size)
        goto done;
    p = strtol(rep->element[1]->str, &end, 10);
    if (*end != '\0' || p < 1 || p > 65535)
        goto done;
    memcpy(host, rep->element[0]->str, rep->element[0]->len + 1);
    *port = (uint16_t)p;
    ok = true;
done:
    gh_redis_reply_free(rep);
    conn_drop(r);
    return ok;
}

/* Each sentinel in turn until one names a master that answers as one. */
static bool connect_sentinel(gh_redis *r)
{
    char     host[GH_REDIS_HOST_MAX + 1], why[sizeof(r->down)];
    uint16_t port = 0;

    for (size_t i = 0; i < r->url.nhosts; i++) {
        const char *sh = r->url.hosts[i].host;
        uint16_t    sp = r->url.hosts[i].port;

        if (connect_one(r, sh, sp, false) && sentinel_ask(r, host, sizeof(host), &port)) {
            if (connect_one(r, host, port, true))
                return true;
            snprintf(why, sizeof(why), "%s", r->down);
            say(r->down, sizeof(r->down), "master %s at %s:%u named by sentinel %s:%u: %s",
                     r->url.master, host, (unsigned)port, sh, (unsigned)sp, why);
        } else {
            snprintf(why, sizeof(why), "%s", r->down);
            say(r->down, sizeof(r->down), "sentinel %s:%u: %s", sh, (unsigned)sp, why);
        }
    }
    return false;
}

/* Connected, or connects now unless the last try was under
 * GH_REDIS_RETRY_MS ago. */
static bool conn_ready(gh_redis *r)
{
    int64_t now = gh_redis_now_ms();
    bool    ok;

    if (r->sock.fd >= 0)
        return true;
    if (!r->url_ok) {
        say(r->err, sizeof(r->err), "%s", r->down);
        return false;
    }
    if (r->last_try != 0 && now - r->last_try < GH_REDIS_RETRY_MS) {
        say(r->err, sizeof(r->err), "Redis unreachable (next try within %d ms): %s",
                 GH_REDIS_RETRY_MS, r->down);
        return false;
    }
    r->last_try = now;
    if (r->url.kind == GH_REDIS_SENTINEL)
        ok = connect_sentinel(r);
    else
        ok = connect_one(r, r->url.hosts[0].host, r->url.hosts[0].port, true);
    if (!ok && r->url.kind != GH_REDIS_SENTINEL) {
        /* Which server, for the log line (a sentinel's reason names its own). */
        char why[sizeof(r->down)];

        memcpy(why, r->down, sizeof(why));
        if (r->url.kind == GH_REDIS_UNIX)
            say(r->down, sizeof(r->down), "unix:%s: %s", r->url.path, why);
        else
            say(r->down, sizeof(r->down), "%s:%u: %s", r->url.hosts[0].host,
                (unsigned)r->url.hosts[0].port, why);
    }
    if (!ok)
        say(r->err, sizeof(r->err), "Redis unreachable: %s", r->down);
    return ok;
}

gh_store_err gh_redis_open(const gh_store_config *cfg, gh_redis **out)
{
    gh_redis *r = calloc(1, sizeof(*r));

    *out = r;
    if (r == NULL)
        return GH_STORE_ERROR;
    r->cfg = cfg;
    r->sock.fd = -1;
    r->url_ok = gh_redis_url_parse(cfg->url, &r->url, r->down, sizeof(r->down));
    if (r->url_ok && r->url.tls) {
        r->ctx = gh_redis_tls_context(cfg, r->down, sizeof(r->down));
        r->url_ok = r->ctx != NULL;
    }
    return conn_ready(r) ? GH_STORE_OK : GH_STORE_ERROR;
}

void gh_redis_close(gh_redis *r)
{
    if (r == NULL)
        return;
    conn_drop(r);
    SSL_CTX_free(r->ctx);
    free(r);
}

const char *gh_redis_error(const gh_redis *r)
{
    return r != NULL ? r->err : "out of memory";
}

void gh_redis_fail(gh_redis *r, const char *why)
{
    say(r->err, sizeof(r->err), "Redis: %s", why);
}

/* The error replies after which this server is not the primary to use. */
static bool reply_demoted(gh_redis *r, redisReply *const *replies, size_t n)
{
    static const char *const codes[] = { "READONLY", "LOADING", "MASTERDOWN" };

    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < 3; c++)
            if (gh_redis_reply_is_error(replies[i], codes[c])) {
                say(r->err, sizeof(r->err), "Redis answered %s: no longer the primary",
                         codes[c]);
                return true;
            }
    return false;
}

gh_store_err gh_redis_pipeline(gh_redis *r, const gh_redis_cmd *cmds, size_t n,
                               redisReply **replies)
{
    gh_store_err err;

    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (n == 0)
        return GH_STORE_OK;
    if (!conn_ready(r))
        return GH_STORE_ERROR;
    err = exchange(r, cmds, n, replies);
    if (err == GH_STORE_OK && reply_demoted(r, replies, n)) {
        for (size_t i = 0; i < n; i++) {
            gh_redis_reply_free(replies[i]);
            replies[i] = NULL;
        }
        conn_lost(r);
        err = GH_STORE_ERROR;
    }
    return err;
}

gh_store_err gh_redis_command(gh_redis *r, size_t argc, const char *const *argv,
                              const size_t *lens, redisReply **reply)
{
    gh_redis_cmd cmd = { argc, argv, lens };

    return gh_redis_pipeline(r, &cmd, 1, reply);
}

gh_store_err gh_redis_subscribe(gh_redis *r, const char *channel)
{
    const char  *argv[2] = { "SUBSCRIBE", channel };
    size_t       lens[2] = { 9, strlen(channel) };
    redisReply  *rep = NULL;
    gh_store_err err = gh_redis_command(r, 2, argv, lens, &rep);

    if (err == GH_STORE_OK &&
        (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
         rep->element[0]->type != REDIS_REPLY_STRING ||
         strcmp(rep->element[0]->str, "subscribe") != 0)) {
        say(r->err, sizeof(r->err), "Redis: SUBSCRIBE refused");
        conn_lost(r);
        err = GH_STORE_ERROR;
    }
    gh_redis_reply_free(rep);
    return err;
}

gh_store_err gh_redis_read(gh_redis *r, int timeout_ms, redisReply **reply)
{
    int rc;

    *reply = NULL;
    if (r->sock.fd < 0) {
        say(r->err, sizeof(r->err), "Redis: not connected");
        return GH_STORE_ERROR;
    }
    rc = read_reply(r, gh_redis_now_ms() + (timeout_ms > 0 ? timeout_ms : 0), reply);
    if (rc == 1)
        return GH_STORE_OK;
    if (rc == 0)
        return GH_STORE_NOT_FOUND;
    conn_lost(r);
    return GH_STORE_ERROR;
}

gh_store_err gh_redis_ping(gh_redis *r)
{
    static const char ping[] = "*1\r\n$4\r\nPING\r\n";

    if (r->sock.fd < 0) {
        say(r->err, sizeof(r->err), "Redis: not connected");
        return GH_STORE_ERROR;
    }
    if (!gh_redis_sock_write(&r->sock, ping, sizeof(ping) - 1,
                             gh_redis_now_ms() + conn_timeout(r), r->err, sizeof(r->err))) {
        conn_lost(r);
        return GH_STORE_ERROR;
    }
    return GH_STORE_OK;
}
