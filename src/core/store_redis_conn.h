/*
 * store_redis_conn.h: one connection to the Redis primary of a [store] url,
 * for the Redis store (store_redis*.c), private to it. Our own socket (TCP
 * or a unix socket, OpenSSL for rediss://); hiredis only encodes commands
 * and parses replies (Debian's 0.14 has no TLS and no I/O hooks). Every
 * wait is bounded by the configured timeouts, with poll(); nothing here
 * touches an event loop.
 *
 * A connection finds the primary itself (Sentinel: asks each sentinel for
 * the master's address, then checks ROLE), authenticates (AUTH from the
 * password file), selects the database. When it fails (a timeout, EOF,
 * -READONLY, -LOADING, -MASTERDOWN) it closes, and the next command
 * connects again, found anew — at most one try per 100 ms: commands in
 * between fail at once.
 */
#ifndef GH_STORE_REDIS_CONN_H
#define GH_STORE_REDIS_CONN_H

#include <hiredis/hiredis.h>

#include "store.h"

typedef struct gh_redis gh_redis;

/* A Redis URL taken apart (store.h's gh_store_config.url). */
#define GH_REDIS_HOSTS_MAX 8
#define GH_REDIS_HOST_MAX  255
#define GH_REDIS_PATH_MAX  107            /* sun_path */
typedef struct {
    enum { GH_REDIS_TCP, GH_REDIS_UNIX, GH_REDIS_SENTINEL } kind;
    bool     tls;                          /* rediss:// (Sentinel: rediss-sentinel://) */
    size_t   nhosts;                       /* 1, or the sentinels */
    struct {
        char     host[GH_REDIS_HOST_MAX + 1];
        uint16_t port;
    } hosts[GH_REDIS_HOSTS_MAX];
    char     path[GH_REDIS_PATH_MAX + 1];  /* unix */
    char     master[GH_REDIS_HOST_MAX + 1]; /* Sentinel's master name */
    char     username[64];                 /* redis://USER@HOST: an ACL user */
    int      db;
} gh_redis_url;

/* Parse url; false with a reason in err (err_size bytes) when it is not one
 * of store.h's forms. No password may be written in it (the password file
 * holds it): a URL with one is refused. */
bool gh_redis_url_parse(const char *url, gh_redis_url *out, char *err, size_t err_size);

/* Connect to cfg's primary. cfg must outlive the connection. GH_STORE_ERROR
 * with the reason in gh_redis_error(*out) when it cannot be reached (or the
 * url or TLS settings are wrong). *out is set either way (NULL only when
 * out of memory), owned by the caller, released with gh_redis_close: one
 * that could not connect tries again at its next call, so a store may keep
 * it through an outage. */
gh_store_err gh_redis_open(const gh_store_config *cfg, gh_redis **out);
void gh_redis_close(gh_redis *r);
/* Why the last call failed (no secret), valid until the next call. */
const char *gh_redis_error(const gh_redis *r);

/* One command, argv[i] of lens[i] bytes (binary safe). *reply receives the
 * answer, which may be an error reply (REDIS_REPLY_ERROR) the caller reads;
 * free it with gh_redis_reply_free. GH_STORE_ERROR: no answer within
 * timeout_ms, a reply over 4 MiB, or one saying this server is no longer
 * the primary (-READONLY, -LOADING, -MASTERDOWN): the connection is closed
 * and the next call reconnects. */
gh_store_err gh_redis_command(gh_redis *r, size_t argc, const char *const *argv,
                              const size_t *lens, redisReply **reply);

/* Several commands written at once and their n answers read in order (a
 * MULTI ... EXEC, a batch of writes): one round trip. */
typedef struct {
    size_t             argc;
    const char *const *argv;
    const size_t      *lens;
} gh_redis_cmd;
gh_store_err gh_redis_pipeline(gh_redis *r, const gh_redis_cmd *cmds, size_t n,
                               redisReply **replies);

/* A Lua script the store runs by its SHA-1 (EVALSHA), loading it when the
 * server does not know it yet (-NOSCRIPT: a restarted or new primary).
 * Define each one static, with its source; sha is filled on first use. */
typedef struct {
    const char *source;
    char        sha[41];
} gh_redis_script;
/* EVALSHA script nkeys keys... args...: argv holds the keys then the args. */
gh_store_err gh_redis_eval(gh_redis *r, gh_redis_script *script, size_t nkeys, size_t argc,
                           const char *const *argv, const size_t *lens, redisReply **reply);

/* Free a reply, wiping every string in it first (a reply may carry a hash). */
void gh_redis_reply_free(redisReply *reply);

/* Subscribed mode, for the bell: SUBSCRIBE channel, then read what comes.
 * A subscribed connection takes only these three calls (Redis answers
 * nothing else in that mode); when read or ping fails, the subscription is
 * gone with the connection: subscribe again (it connects again).
 * read waits up to timeout_ms: GH_STORE_OK with *reply (a pub/sub message
 * or a PING's answer), GH_STORE_NOT_FOUND when nothing came, GH_STORE_ERROR
 * when the connection is gone. ping sends a PING without waiting. */
gh_store_err gh_redis_subscribe(gh_redis *r, const char *channel);
gh_store_err gh_redis_read(gh_redis *r, int timeout_ms, redisReply **reply);
gh_store_err gh_redis_ping(gh_redis *r);

#endif
