/*
 * store_redis_tx.c: gh_store_begin/end on the Redis store: optimistic
 * transactions, as Redis offers them. Every read inside one first WATCHes
 * the keys it reads, every write is copied into a queue instead of running
 * (store_redis_call.c). end sends, in one round trip, SCRIPT LOAD of each
 * queued script (so EVALSHA inside MULTI cannot meet a server that lost its
 * scripts), MULTI, the queued EVALSHAs and EXEC. A nil EXEC means a watched
 * key changed since it was read: nothing ran, and the caller runs the whole
 * transaction again (GH_STORE_BUSY). Each queued script still makes its own
 * checks when it runs; the first status that is not OK is end's answer.
 * Redis has no rollback: a queued script whose check fails changes nothing,
 * the others run. A failed command inside the transaction breaks it: end
 * then answers GH_STORE_ERROR and sends nothing.
 */
#include "store_redis_internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

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
