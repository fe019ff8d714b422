/*
 * store_redis_call.c: how the Redis store's files talk to Redis
 * (store_redis_internal.h): arguments built on the stack, plain commands and
 * scripts, writes and the WAIT after them. Inside a transaction
 * (store_redis_tx.c) a read first WATCHes the keys it names and a write is
 * copied into the transaction's queue instead of running; a failed command
 * breaks the transaction (its connection, and its WATCHes, may be gone).
 */
#include "store_redis_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

_Static_assert(GH_STORE_OK == 0 && GH_STORE_NOT_FOUND == 1 && GH_STORE_EXISTS == 2 &&
               GH_STORE_CONFLICT == 3 && GH_STORE_BUSY == 4 && GH_STORE_ERROR == 5 &&
               GH_STORE_LIMIT == 6, "GH_STORE_REDIS_LUA's status constants");

/* Arguments. */

void gh_store_redis_args_init(gh_store_redis_args *a)
{
    a->n = 0;
    a->nkeys = 0;
    a->ok = true;
}

void gh_store_redis_arg(gh_store_redis_args *a, const void *p, size_t len)
{
    if (a->n >= GH_STORE_REDIS_ARGS_MAX || (p == NULL && len > 0)) {
        a->ok = false;
        return;
    }
    a->argv[a->n] = p == NULL ? "" : p;
    a->lens[a->n] = len;
    a->n++;
}

void gh_store_redis_arg_str(gh_store_redis_args *a, const char *s)
{
    if (s == NULL)
        a->ok = false;
    else
        gh_store_redis_arg(a, s, strlen(s));
}

void gh_store_redis_arg_int(gh_store_redis_args *a, int64_t v)
{
    int len;

    if (a->n >= GH_STORE_REDIS_ARGS_MAX) {
        a->ok = false;
        return;
    }
    len = snprintf(a->nums[a->n], sizeof a->nums[a->n], "%lld", (long long)v);
    gh_store_redis_arg(a, a->nums[a->n], (size_t)len);
}

void gh_store_redis_arg_hex(gh_store_redis_args *a, const uint8_t digest[GH_DIGEST_LEN])
{
    if (a->n >= GH_STORE_REDIS_ARGS_MAX) {
        a->ok = false;
        return;
    }
    gh_token_hex(digest, GH_DIGEST_LEN, a->nums[a->n]);
    gh_store_redis_arg(a, a->nums[a->n], 2 * GH_DIGEST_LEN);
}

bool gh_store_redis_prefix(const gh_store_config *cfg,
                           char prefix[GH_STORE_REDIS_PREFIX_MAX + 1], size_t *len)
{
    const char *p = cfg->key_prefix == NULL || cfg->key_prefix[0] == '\0' ? "gh:"
                                                                          : cfg->key_prefix;

    *len = strlen(p);
    if (*len > GH_STORE_REDIS_PREFIX_MAX)
        return false;
    memcpy(prefix, p, *len + 1);
    return true;
}

static bool store_redis_vkey(const gh_store_redis *s, char *buf, size_t size,
                             const char *fmt, va_list ap)
{
    int len;

    if (s->prefix_len >= size)
        return false;
    memcpy(buf, s->prefix, s->prefix_len);
    len = vsnprintf(buf + s->prefix_len, size - s->prefix_len, fmt, ap);
    return len >= 0 && (size_t)len < size - s->prefix_len;
}

bool gh_store_redis_key(const gh_store_redis *s, char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    bool ok;

    va_start(ap, fmt);
    ok = store_redis_vkey(s, buf, size, fmt, ap);
    va_end(ap);
    return ok;
}

void gh_store_redis_arg_key(gh_store_redis_args *a, const gh_store_redis *s,
                            const char *fmt, ...)
{
    va_list ap;
    char *buf;
    bool ok;

    if (a->nkeys >= GH_STORE_REDIS_KEYS_MAX) {
        a->ok = false;
        return;
    }
    buf = a->keys[a->nkeys];
    va_start(ap, fmt);
    ok = store_redis_vkey(s, buf, GH_STORE_REDIS_KEY_MAX, fmt, ap);
    va_end(ap);
    if (!ok) {
        a->ok = false;
        return;
    }
    a->keyidx[a->nkeys++] = a->n;
    gh_store_redis_arg(a, buf, strlen(buf));
}

/* Errors. */

gh_store_err gh_store_redis_fail(gh_store_redis *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    return GH_STORE_ERROR;
}

/* A command that got no answer, or an error reply: the reason kept is the
 * connection's or the reply's first word (ERR, WRONGTYPE, ...), never the
 * rest, which may quote what was sent. */
static gh_store_err store_redis_check(gh_store_redis *s, gh_store_err err, redisReply **reply,
                                      const char *what)
{
    size_t len;

    if (err != GH_STORE_OK) {
        *reply = NULL;
        if (s->tx)
            s->tx_broken = true;
        return gh_store_redis_fail(s, "%s: %s", what, gh_redis_error(s->conn));
    }
    if (*reply == NULL || (*reply)->type != REDIS_REPLY_ERROR)
        return GH_STORE_OK;
    len = strcspn((*reply)->str, " ");
    gh_store_redis_fail(s, "%s: Redis answered %.*s", what, (int)(len < 32 ? len : 32),
                        (*reply)->str);
    gh_redis_reply_free(*reply);
    *reply = NULL;
    if (s->tx)
        s->tx_broken = true;
    return GH_STORE_ERROR;
}

/* Commands and scripts. */

/* WATCH a's keys when inside a transaction. */
static gh_store_err store_redis_watch(gh_store_redis *s, const gh_store_redis_args *a)
{
    const char *argv[GH_STORE_REDIS_KEYS_MAX + 1];
    size_t lens[GH_STORE_REDIS_KEYS_MAX + 1];
    redisReply *reply = NULL;
    gh_store_err err;

    if (!s->tx || a->nkeys == 0)
        return GH_STORE_OK;
    argv[0] = "WATCH";
    lens[0] = 5;
    for (size_t i = 0; i < a->nkeys; i++) {
        argv[i + 1] = a->argv[a->keyidx[i]];
        lens[i + 1] = a->lens[a->keyidx[i]];
    }
    err = gh_redis_command(s->conn, a->nkeys + 1, argv, lens, &reply);
    err = store_redis_check(s, err, &reply, "WATCH");
    gh_redis_reply_free(reply);
    if (err == GH_STORE_OK)
        s->tx_watched = true;
    return err;
}

gh_store_err gh_store_redis_command(gh_store_redis *s, const gh_store_redis_args *a,
                                    redisReply **reply)
{
    gh_store_err err;

    *reply = NULL;
    if (!a->ok || a->n == 0)
        return gh_store_redis_fail(s, "a command's argument does not fit");
    if (s->tx && s->tx_broken)
        return gh_store_redis_fail(s, "the transaction broke");
    err = store_redis_watch(s, a);
    if (err == GH_STORE_OK)
        err = store_redis_check(s, gh_redis_command(s->conn, a->n, a->argv, a->lens, reply),
                                reply, "command");
    return err;
}

/* a's keys, the prefix, the rest: the layout of every script's arguments. */
static size_t store_redis_script_args(const gh_store_redis *s, const gh_store_redis_args *a,
                                      const char **argv, size_t *lens)
{
    size_t n = 0;

    for (size_t i = 0; i < a->nkeys; i++, n++) {
        argv[n] = a->argv[i];
        lens[n] = a->lens[i];
    }
    argv[n] = s->prefix;
    lens[n++] = s->prefix_len;
    for (size_t i = a->nkeys; i < a->n; i++, n++) {
        argv[n] = a->argv[i];
        lens[n] = a->lens[i];
    }
    return n;
}

/* Whether a's keys are its head, as a script's KEYS must be. */
static bool store_redis_keys_first(const gh_store_redis_args *a)
{
    for (size_t i = 0; i < a->nkeys; i++)
        if (a->keyidx[i] != i)
            return false;
    return a->ok;
}

static gh_store_err store_redis_run(gh_store_redis *s, gh_redis_script *script,
                                    const gh_store_redis_args *a, redisReply **reply)
{
    const char *argv[GH_STORE_REDIS_ARGS_MAX + 1];
    size_t lens[GH_STORE_REDIS_ARGS_MAX + 1], n;

    n = store_redis_script_args(s, a, argv, lens);
    return store_redis_check(s, gh_redis_eval(s->conn, script, a->nkeys, n, argv, lens, reply),
                             reply, "script");
}

gh_store_err gh_store_redis_eval(gh_store_redis *s, gh_redis_script *script,
                                 const gh_store_redis_args *a, redisReply **reply)
{
    gh_store_err err;

    *reply = NULL;
    if (!store_redis_keys_first(a))
        return gh_store_redis_fail(s, "a script's argument does not fit");
    if (s->tx && s->tx_broken)
        return gh_store_redis_fail(s, "the transaction broke");
    err = store_redis_watch(s, a);
    return err == GH_STORE_OK ? store_redis_run(s, script, a, reply) : err;
}

gh_store_err gh_store_redis_wait(gh_store_redis *s)
{
    gh_store_redis_args a;
    redisReply *reply = NULL;
    int64_t acked = 0;
    gh_store_err err;

    if (s->wait_replicas <= 0)
        return GH_STORE_OK;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "WAIT");
    gh_store_redis_arg_int(&a, s->wait_replicas);
    gh_store_redis_arg_int(&a, s->wait_ms);
    err = store_redis_check(s, gh_redis_command(s->conn, a.n, a.argv, a.lens, &reply),
                            &reply, "WAIT");
    if (err == GH_STORE_OK && gh_store_redis_int(reply, &acked) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "WAIT: not an integer");
    /* Fail closed: a write the replicas do not hold may vanish in a failover. */
    if (err == GH_STORE_OK && acked < s->wait_replicas)
        err = gh_store_redis_fail(s, "WAIT: %lld of %d replicas acknowledged",
                                  (long long)acked, s->wait_replicas);
    gh_redis_reply_free(reply);
    return err;
}

/* Copy a write (argv: its keys, the prefix, the rest) into the queue. */
static gh_store_err store_redis_queue(gh_store_redis *s, gh_redis_script *script, size_t nkeys,
                                      size_t n, const char *const *argv, const size_t *lens,
                                      unsigned flags)
{
    gh_store_redis_queued *q;
    size_t bytes = 0;
    char *p;

    if (s->nqueued == s->queue_cap) {
        size_t cap = s->queue_cap == 0 ? 4 : 2 * s->queue_cap;
        gh_store_redis_queued *grown = realloc(s->queue, cap * sizeof *grown);

        if (grown == NULL)
            return gh_store_redis_fail(s, "out of memory");
        s->queue = grown;
        s->queue_cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        bytes += lens[i];
    q = &s->queue[s->nqueued];
    /* one block: the pointers, the lengths, then the bytes */
    q->argv = malloc(n * (sizeof *q->argv + sizeof *q->lens) + bytes + 1);
    if (q->argv == NULL)
        return gh_store_redis_fail(s, "out of memory");
    q->lens = (size_t *)(q->argv + n);
    p = (char *)(q->lens + n);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, argv[i], lens[i]);
        q->argv[i] = p;
        q->lens[i] = lens[i];
        p += lens[i];
    }
    q->script = script;
    q->nkeys = nkeys;
    q->argc = n;
    q->flags = flags;
    s->nqueued++;
    return GH_STORE_OK;
}

/* gh_store_redis_write with the script's whole argument list. */
static gh_store_err store_redis_write_argv(gh_store_redis *s, gh_redis_script *script,
                                           size_t nkeys, size_t n, const char *const *argv,
                                           const size_t *lens, unsigned flags,
                                           redisReply **reply)
{
    redisReply *r = NULL;
    gh_store_err err;

    if (s->tx)
        return s->tx_broken ? gh_store_redis_fail(s, "the transaction broke")
                            : store_redis_queue(s, script, nkeys, n, argv, lens, flags);
    err = store_redis_check(s, gh_redis_eval(s->conn, script, nkeys, n, argv, lens, &r), &r,
                            "script");
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    /* WAIT even after a refusal: a script may have written before it said no */
    if (err != GH_STORE_ERROR && (flags & GH_STORE_REDIS_DURABLE) != 0) {
        gh_store_err waited = gh_store_redis_wait(s);

        if (waited != GH_STORE_OK)
            err = waited;
    }
    if (err == GH_STORE_OK && reply != NULL) {
        *reply = r;
        r = NULL;
    }
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_write(gh_store_redis *s, gh_redis_script *script,
                                  const gh_store_redis_args *a, unsigned flags,
                                  redisReply **reply)
{
    const char *argv[GH_STORE_REDIS_ARGS_MAX + 1];
    size_t lens[GH_STORE_REDIS_ARGS_MAX + 1], n;

    if (reply != NULL)
        *reply = NULL;
    if (!store_redis_keys_first(a))
        return gh_store_redis_fail(s, "a script's argument does not fit");
    n = store_redis_script_args(s, a, argv, lens);
    return store_redis_write_argv(s, script, a->nkeys, n, argv, lens, flags, reply);
}

gh_store_err gh_store_redis_write_list(gh_store_redis *s, gh_redis_script *script,
                                       const char *const *items, const size_t *lens, size_t n,
                                       unsigned flags)
{
    const char **argv = malloc((n + 1) * sizeof *argv);
    size_t *all = malloc((n + 1) * sizeof *all);
    gh_store_err err;

    if (argv == NULL || all == NULL) {
        err = gh_store_redis_fail(s, "out of memory");
        goto done;
    }
    argv[0] = s->prefix;
    all[0] = s->prefix_len;
    memcpy(argv + 1, items, n * sizeof *argv);
    memcpy(all + 1, lens, n * sizeof *all);
    err = store_redis_write_argv(s, script, 0, n + 1, argv, all, flags, NULL);
done:
    free(argv);
    free(all);
    return err;
}
