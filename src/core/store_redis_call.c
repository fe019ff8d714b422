/*
 * store_redis_call.c: how the Redis store's files talk to Redis
 * (store_redis_internal.h): arguments built on the stack, plain commands and
 * scripts, writes and the WAIT after them, reply readers, and transactions.
 *
 * A transaction (gh_store_begin .. gh_store_end) is optimistic, as Redis
 * offers it: every read inside it first WATCHes the keys it reads, every
 * write is copied into a queue instead of running. end sends, in one round
 * trip, SCRIPT LOAD of each queued script (so EVALSHA inside MULTI cannot
 * meet a server that lost its scripts), MULTI, the queued EVALSHAs and EXEC.
 * A nil EXEC means a watched key changed since it was read: nothing ran,
 * and the caller runs the whole transaction again (GH_STORE_BUSY). Each
 * queued script still makes its own checks when it runs; the first status
 * that is not OK is end's answer. Redis has no rollback: a queued script
 * whose check fails changes nothing, the others run. A failed command
 * inside the transaction breaks it (the connection, and its WATCHes, may be
 * gone): end then answers GH_STORE_ERROR and sends nothing.
 */
#include "store_redis_internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

_Static_assert(GH_STORE_OK == 0 && GH_STORE_NOT_FOUND == 1 && GH_STORE_EXISTS == 2 &&
               GH_STORE_CONFLICT == 3 && GH_STORE_BUSY == 4 && GH_STORE_ERROR == 5 &&
               GH_STORE_LIMIT == 6, "GH_STORE_REDIS_LUA's status constants");

/* One queued write: its script and its arguments (keys, prefix, rest),
 * copied into one allocation. */
struct gh_store_redis_queued {
    gh_redis_script *script;
    size_t           nkeys, argc;
    const char     **argv;
    size_t          *lens;
    unsigned         flags;
};

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

static gh_store_err store_redis_queue(gh_store_redis *s, gh_redis_script *script,
                                      const gh_store_redis_args *a, unsigned flags)
{
    const char *argv[GH_STORE_REDIS_ARGS_MAX + 1];
    size_t lens[GH_STORE_REDIS_ARGS_MAX + 1], n, bytes = 0;
    gh_store_redis_queued *q;
    char *p;

    if (s->nqueued == s->queue_cap) {
        size_t cap = s->queue_cap == 0 ? 4 : 2 * s->queue_cap;
        gh_store_redis_queued *grown = realloc(s->queue, cap * sizeof *grown);

        if (grown == NULL)
            return gh_store_redis_fail(s, "out of memory");
        s->queue = grown;
        s->queue_cap = cap;
    }
    n = store_redis_script_args(s, a, argv, lens);
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
    q->nkeys = a->nkeys;
    q->argc = n;
    q->flags = flags;
    s->nqueued++;
    return GH_STORE_OK;
}

gh_store_err gh_store_redis_write(gh_store_redis *s, gh_redis_script *script,
                                  const gh_store_redis_args *a, unsigned flags,
                                  redisReply **reply)
{
    redisReply *r = NULL;
    gh_store_err err;

    if (reply != NULL)
        *reply = NULL;
    if (!store_redis_keys_first(a))
        return gh_store_redis_fail(s, "a script's argument does not fit");
    if (s->tx)
        return s->tx_broken ? gh_store_redis_fail(s, "the transaction broke")
                            : store_redis_queue(s, script, a, flags);
    err = store_redis_run(s, script, a, &r);
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

/* Transactions. */

static void store_redis_tx_clear(gh_store_redis *s)
{
    for (size_t i = 0; i < s->nqueued; i++)
        free(s->queue[i].argv);
    s->nqueued = 0;
    s->tx = false;
    s->tx_watched = false;
    s->tx_broken = false;
}

gh_store_err gh_store_redis_begin(gh_store *store)
{
    gh_store_redis *s = gh_store_redis_of(store);

    if (s->tx)
        return gh_store_redis_fail(s, "transactions do not nest");
    store_redis_tx_clear(s);
    s->tx = true;
    return GH_STORE_OK;
}

/* The SHA-1 a server knows source by, as EVALSHA wants it. */
static bool store_redis_sha1(const char *source, char hex[41])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    if (EVP_Digest(source, strlen(source), md, &len, EVP_sha1(), NULL) != 1 || len != 20)
        return false;
    gh_token_hex(md, len, hex);
    return true;
}

/* One queued write as EVALSHA sha nkeys args..., into argv/lens. */
static size_t store_redis_evalsha(const gh_store_redis_queued *q, const char *sha,
                                  char *nkeys, const char **argv, size_t *lens)
{
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = sha;
    lens[1] = 40;
    lens[2] = (size_t)snprintf(nkeys, 24, "%zu", q->nkeys);
    argv[2] = nkeys;
    memcpy(argv + 3, q->argv, q->argc * sizeof *argv);
    memcpy(lens + 3, q->lens, q->argc * sizeof *lens);
    return q->argc + 3;
}

/* EXEC's answer: one status per queued write, the first that is not OK. */
static gh_store_err store_redis_exec_result(gh_store_redis *s, const redisReply *exec)
{
    if (exec == NULL)
        return gh_store_redis_fail(s, "EXEC: no answer");
    if (exec->type == REDIS_REPLY_NIL)
        return GH_STORE_BUSY;             /* a watched key changed: nothing ran */
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != s->nqueued)
        return gh_store_redis_fail(s, "EXEC: the transaction failed");
    for (size_t i = 0; i < exec->elements; i++) {
        gh_store_err err = gh_store_redis_status(exec->element[i]);

        if (err == GH_STORE_ERROR && exec->element[i]->type == REDIS_REPLY_ERROR)
            return gh_store_redis_fail(s, "EXEC: a script failed");
        if (err != GH_STORE_OK)
            return err;
    }
    return GH_STORE_OK;
}

/* MULTI, the queue and EXEC, with the scripts loaded first, in one round
 * trip; the answer of EXEC is the last reply. */
static gh_store_err store_redis_commit(gh_store_redis *s)
{
    size_t ncmd = 2 * s->nqueued + 2, c = 0;
    gh_redis_cmd *cmds = calloc(ncmd, sizeof *cmds);
    redisReply **replies = calloc(ncmd, sizeof *replies);
    char (*shas)[41] = calloc(s->nqueued, sizeof *shas);
    char (*nkeys)[24] = calloc(s->nqueued, sizeof *nkeys);
    const char **argv = NULL;
    size_t *lens = NULL, total = 0, used = 0;
    static const char *const multi[] = { "MULTI" }, *const exec[] = { "EXEC" };
    static const size_t multi_len[] = { 5 }, exec_len[] = { 4 };
    gh_store_err err = GH_STORE_ERROR;

    for (size_t i = 0; i < s->nqueued; i++)
        total += s->queue[i].argc + 3 + 3;
    if (cmds != NULL && replies != NULL && shas != NULL && nkeys != NULL) {
        argv = calloc(total, sizeof *argv);
        lens = calloc(total, sizeof *lens);
    }
    if (argv == NULL || lens == NULL) {
        err = gh_store_redis_fail(s, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s->nqueued; i++) {
        const char *source = s->queue[i].script->source;
        size_t j = 0;

        while (j < i && s->queue[j].script != s->queue[i].script)
            j++;
        if (j < i) {                      /* once per script, not per write */
            memcpy(shas[i], shas[j], sizeof shas[i]);
            continue;
        }
        if (!store_redis_sha1(source, shas[i])) {
            err = gh_store_redis_fail(s, "SHA-1 failed");
            goto done;
        }
        argv[used] = "SCRIPT";
        argv[used + 1] = "LOAD";
        argv[used + 2] = source;
        lens[used] = 6;
        lens[used + 1] = 4;
        lens[used + 2] = strlen(source);
        cmds[c++] = (gh_redis_cmd){ 3, argv + used, lens + used };
        used += 3;
    }
    cmds[c++] = (gh_redis_cmd){ 1, multi, multi_len };
    for (size_t i = 0; i < s->nqueued; i++) {
        size_t n = store_redis_evalsha(&s->queue[i], shas[i], nkeys[i], argv + used,
                                       lens + used);

        cmds[c++] = (gh_redis_cmd){ n, argv + used, lens + used };
        used += n;
    }
    cmds[c++] = (gh_redis_cmd){ 1, exec, exec_len };
    err = gh_redis_pipeline(s->conn, cmds, c, replies);
    if (err != GH_STORE_OK)
        err = gh_store_redis_fail(s, "EXEC: %s", gh_redis_error(s->conn));
    else
        err = store_redis_exec_result(s, replies[c - 1]);
done:
    for (size_t i = 0; replies != NULL && i < c; i++)
        gh_redis_reply_free(replies[i]);
    free(cmds);
    free(replies);
    free(shas);
    free(nkeys);
    free(argv);
    free(lens);
    return err;
}

gh_store_err gh_store_redis_end(gh_store *store, gh_store_err err)
{
    gh_store_redis *s = gh_store_redis_of(store);
    bool durable = false;

    if (!s->tx)
        return gh_store_redis_fail(s, "no transaction to end");
    if (err == GH_STORE_OK && s->tx_broken)
        err = gh_store_redis_fail(s, "the transaction broke");
    if (err == GH_STORE_OK && s->nqueued > 0) {
        for (size_t i = 0; i < s->nqueued; i++)
            durable = durable || (s->queue[i].flags & GH_STORE_REDIS_DURABLE) != 0;
        err = store_redis_commit(s);
        s->tx_watched = false;            /* EXEC unwatches, whatever it did */
        if (err != GH_STORE_ERROR && durable) {
            gh_store_err waited;

            s->tx = false;
            waited = gh_store_redis_wait(s);
            if (waited != GH_STORE_OK)
                err = waited;
        }
    }
    /* a broken transaction's connection may still hold its WATCHes */
    if (s->tx_watched) {
        static const char *const unwatch[] = { "UNWATCH" };
        static const size_t unwatch_len[] = { 7 };
        redisReply *reply = NULL;

        if (gh_redis_command(s->conn, 1, unwatch, unwatch_len, &reply) != GH_STORE_OK &&
            err == GH_STORE_OK)
            err = gh_store_redis_fail(s, "UNWATCH: %s", gh_redis_error(s->conn));
        gh_redis_reply_free(reply);
    }
    store_redis_tx_clear(s);
    return err;
}

/* The queue's memory, at close. */
void gh_store_redis_tx_free(gh_store_redis *s)
{
    store_redis_tx_clear(s);
    free(s->queue);
    s->queue = NULL;
    s->queue_cap = 0;
}
