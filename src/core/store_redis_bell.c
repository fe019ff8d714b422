/*
 * store_redis_bell.c: the Redis store's bell (store.h's gh_store_bell_*).
 *
 * Every script that logs a change PUBLISHes its sequence number on
 * P chg:bell (gh_log in store_redis_internal.h). A bell is a connection of
 * its own, SUBSCRIBEd to that channel: a waiter learns of a change as soon
 * as Redis has it, instead of at its next poll of the log. A message that
 * is lost is not resent (pub/sub keeps nothing), so what matters is to
 * notice when messages may have been lost: EOF, an I/O error, or a quiet
 * connection that does not answer. While nothing comes, the bell sends a
 * PING each second (allowed in subscribed mode) and counts the connection
 * lost when its answer has not come within the command timeout. Once lost,
 * a bell stays lost (GH_STORE_ERROR) until it is closed and opened again:
 * the connection layer would reconnect, but without the subscription.
 */
#include "store_redis_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BELL_PING_MS 1000

struct gh_store_bell {
    gh_redis *conn;
    int       timeout_ms;    /* a PING's answer may take this long */
    int64_t   quiet_since;   /* gh_now_ms of the last thing that came */
    int64_t   ping_sent;     /* gh_now_ms of the PING awaiting its answer; 0: none */
    bool      lost;
    char      channel[GH_STORE_REDIS_KEY_MAX];
};

gh_store_err gh_store_redis_bell_open(const gh_store_config *cfg, gh_store_bell **out)
{
    char prefix[GH_STORE_REDIS_PREFIX_MAX + 1];
    gh_store_bell *bell = NULL;
    gh_store_err err = GH_STORE_ERROR;
    size_t len;

    *out = NULL;
    if (cfg == NULL || !gh_store_redis_prefix(cfg, prefix, &len))
        return GH_STORE_ERROR;
    bell = calloc(1, sizeof *bell);
    if (bell == NULL)
        return GH_STORE_ERROR;
    if (snprintf(bell->channel, sizeof bell->channel, "%schg:bell", prefix) >=
        (int)sizeof bell->channel)
        goto done;
    bell->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1000;
    if (gh_redis_open(cfg, &bell->conn) != GH_STORE_OK)
        goto done;
    err = gh_redis_subscribe(bell->conn, bell->channel);
    bell->quiet_since = gh_now_ms();
done:
    if (err != GH_STORE_OK)
        gh_store_redis_bell_close(bell);
    else
        *out = bell;
    return err;
}

void gh_store_redis_bell_close(gh_store_bell *bell)
{
    if (bell == NULL)
        return;
    if (bell->conn != NULL)
        gh_redis_close(bell->conn);
    free(bell);
}

static bool bell_is(const redisReply *r, const char *what)
{
    size_t len = strlen(what);

    return r->type == REDIS_REPLY_STRING && r->len == len && strncasecmp(r->str, what, len) == 0;
}

/* What one pushed reply means: *rang with *seq for a message on the bell's
 * channel; a PING's answer or a subscription's confirmation only shows the
 * connection lives. Anything else: the connection is not what we think. */
static gh_store_err bell_take(gh_store_bell *bell, const redisReply *r, bool *rang,
                              int64_t *seq)
{
    int64_t n;

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        return GH_STORE_ERROR;
    if (bell_is(r->element[0], "pong")) {
        bell->ping_sent = 0;
        return GH_STORE_OK;
    }
    if (bell_is(r->element[0], "subscribe"))
        return GH_STORE_OK;
    if (!bell_is(r->element[0], "message") || r->elements != 3 ||
        !bell_is(r->element[1], bell->channel) ||
        gh_store_redis_int(r->element[2], &n) != GH_STORE_OK)
        return GH_STORE_ERROR;
    if (!*rang || n > *seq)
        *seq = n;
    *rang = true;
    return GH_STORE_OK;
}

/* How long the next read may wait, sending the PING that is due. */
static gh_store_err bell_next_wait(gh_store_bell *bell, int64_t now, int64_t deadline,
                                   int *wait_ms)
{
    int64_t until = deadline;

    if (bell->ping_sent != 0) {
        if (now - bell->ping_sent >= bell->timeout_ms)
            return GH_STORE_ERROR;              /* no answer: the connection is gone */
        until = bell->ping_sent + bell->timeout_ms < until ? bell->ping_sent + bell->timeout_ms
                                                           : until;
    } else if (now - bell->quiet_since >= BELL_PING_MS) {
        if (gh_redis_ping(bell->conn) != GH_STORE_OK)
            return GH_STORE_ERROR;
        bell->ping_sent = now;
        until = now + bell->timeout_ms < until ? now + bell->timeout_ms : until;
    } else if (bell->quiet_since + BELL_PING_MS < until) {
        until = bell->quiet_since + BELL_PING_MS;
    }
    *wait_ms = until > now ? (int)(until - now) : 0;
    return GH_STORE_OK;
}

gh_store_err gh_store_redis_bell_wait(gh_store_bell *bell, int timeout_ms, int64_t *seq)
{
    int64_t now = gh_now_ms(), deadline = now + (timeout_ms > 0 ? timeout_ms : 0);
    gh_store_err err = GH_STORE_OK;
    bool rang = false;

    if (bell == NULL || seq == NULL || bell->lost)
        return GH_STORE_ERROR;
    for (;;) {
        redisReply *r = NULL;
        int wait_ms = 0;

        /* once it rang, take only what is already there: messages come in bursts */
        if (!rang)
            err = bell_next_wait(bell, now, deadline, &wait_ms);
        if (err == GH_STORE_OK)
            err = gh_redis_read(bell->conn, wait_ms, &r);
        if (err == GH_STORE_OK) {
            bell->quiet_since = gh_now_ms();
            err = bell_take(bell, r, &rang, seq);
        }
        gh_redis_reply_free(r);
        now = gh_now_ms();
        if (err == GH_STORE_NOT_FOUND && (rang || now >= deadline))
            break;
        if (err != GH_STORE_OK && err != GH_STORE_NOT_FOUND) {
            bell->lost = true;
            return GH_STORE_ERROR;
        }
        err = GH_STORE_OK;
    }
    return rang ? GH_STORE_OK : GH_STORE_NOT_FOUND;
}
