/*
 * store_redis_changes.c: the change log of the Redis store.
 *
 * Each write a server must see ends its script with gh_log
 * (store_redis_internal.h): INCR P chg:seq, XADD P chg with the explicit id
 * 0-<seq> (so the stream's ids are the log's sequence numbers), PUBLISH the
 * bell. The write and its change are one script, so one atomic, replicated
 * unit: no reader sees either without the other.
 *
 * The stream is bounded (MAXLEN ~ GH_STORE_REDIS_LOG_MAX at every XADD), so
 * a reader that fell far behind may find the entries after its position
 * gone: change_since then answers GH_STORE_GAP, and the reader drops what
 * it holds instead of going on as if it had missed nothing. Entries removed
 * on purpose are no gap: change_prune (whose caller says they were seen)
 * and change_floor (a jump of the sequence over numbers that never named a
 * change) raise P chg:pruned, below which no entry is expected.
 */
#include "store_redis_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

gh_store_err gh_store_redis_change_last(gh_store *store, int64_t *seq)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;
    redisReply *r = NULL;
    gh_store_err err;

    if (seq == NULL)
        return GH_STORE_ERROR;
    *seq = 0;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "GET");
    gh_store_redis_arg_key(&a, s, "chg:seq");
    err = gh_store_redis_command(s, &a, &r);
    if (err == GH_STORE_OK) {
        err = gh_store_redis_int(r, seq);
        if (err == GH_STORE_NOT_FOUND)
            err = GH_STORE_OK;           /* nothing logged yet */
        else if (err != GH_STORE_OK)
            err = gh_store_redis_fail(s, "%schg:seq: not a number", s->prefix);
    }
    gh_redis_reply_free(r);
    return err;
}

/* Up to ARGV[3] entries after seq ARGV[2]: { status, chg:pruned, chg:seq,
 * entries }, read together. */
static gh_redis_script chg_page_script = { .source =
    GH_STORE_REDIS_LUA
    "local e = redis.call('XRANGE', KEYS[1], '(0-' .. ARGV[2], '+', 'COUNT', ARGV[3])\n"
    "return {OK, redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[3]) or '0', e}\n"
};

/* A decimal int64, the whole of text. */
static bool chg_number(const char *text, int64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno == 0 && end != text && *end == '\0';
}

bool gh_store_redis_change_parse(const redisReply *e, gh_change *c)
{
    char id[48], kind[8], subject_id[24];
    int64_t k = 0;

    memset(c, 0, sizeof *c);
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        !gh_store_redis_text(e->element[0], id, sizeof id) || strncmp(id, "0-", 2) != 0 ||
        !chg_number(id + 2, &c->seq) ||
        !gh_store_redis_field_text(e->element[1], "k", kind, sizeof kind) ||
        !gh_store_redis_field_text(e->element[1], "i", subject_id, sizeof subject_id) ||
        !gh_store_redis_field_text(e->element[1], "s", c->subject, sizeof c->subject) ||
        !chg_number(kind, &k) || k < GH_CHANGE_ACCOUNT || k > GH_CHANGE_DIRECTORY ||
        !chg_number(subject_id, &c->subject_id))
        return false;
    c->kind = (gh_change_kind)k;
    return true;
}

/* One page after *seq into page[], *n of them; GH_STORE_GAP when the
 * entries that should follow *seq are gone. */
static gh_store_err chg_page(gh_store_redis *s, int64_t seq, gh_change *page, size_t *n)
{
    int64_t pruned = 0, last = 0, expect;
    gh_store_redis_args a;
    redisReply *r = NULL, *e;
    gh_store_err err;

    *n = 0;
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "chg");
    gh_store_redis_arg_key(&a, s, "chg:pruned");
    gh_store_redis_arg_key(&a, s, "chg:seq");
    gh_store_redis_arg_int(&a, seq);
    gh_store_redis_arg_int(&a, GH_STORE_PAGE_MAX);
    err = gh_store_redis_eval(s, &chg_page_script, &a, &r);
    if (err == GH_STORE_OK)
        err = gh_store_redis_status(r);
    if (err == GH_STORE_OK &&
        (r->elements != 4 || gh_store_redis_int(r->element[1], &pruned) != GH_STORE_OK ||
         gh_store_redis_int(r->element[2], &last) != GH_STORE_OK ||
         r->element[3]->type != REDIS_REPLY_ARRAY ||
         r->element[3]->elements > GH_STORE_PAGE_MAX))
        err = gh_store_redis_fail(s, "change log: an answer not of its shape");
    if (err != GH_STORE_OK)
        goto done;
    e = r->element[3];
    for (size_t i = 0; i < e->elements; i++)
        if (!gh_store_redis_change_parse(e->element[i], &page[i])) {
            err = gh_store_redis_fail(s, "%schg: an entry not of its shape", s->prefix);
            goto done;
        }
    *n = e->elements;
    /* the first change a reader at seq may not miss */
    expect = seq + 1 > pruned ? seq + 1 : pruned;
    if (*n > 0 ? page[0].seq > expect : last >= expect)
        err = GH_STORE_GAP;
done:
    gh_redis_reply_free(r);
    return err;
}

gh_store_err gh_store_redis_change_since(gh_store *store, int64_t seq, gh_change_cb cb, void *arg)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_change page[GH_STORE_PAGE_MAX];
    gh_store_err err;
    bool stop = false;
    size_t n;

    if (cb == NULL)
        return GH_STORE_ERROR;
    /* a page is copied out before the callbacks: they may use the store */
    do {
        err = chg_page(s, seq, page, &n);
        for (size_t i = 0; err == GH_STORE_OK && !stop && i < n; i++)
            stop = cb(&page[i], arg) != 0;
        if (n > 0)
            seq = page[n - 1].seq;
    } while (err == GH_STORE_OK && !stop && n == GH_STORE_PAGE_MAX);
    return err;
}

/* Entries below ARGV[2] go; no entry below it is expected any more. */
static gh_redis_script chg_prune_script = { .source =
    GH_STORE_REDIS_LUA
    "redis.call('XTRIM', KEYS[1], 'MINID', '0-' .. ARGV[2])\n"
    "if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then\n"
    "  redis.call('SET', KEYS[2], ARGV[2])\n"
    "end\n"
    "return OK\n"
};

gh_store_err gh_store_redis_change_prune(gh_store *store, int64_t before_seq)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;

    if (before_seq <= 0)
        return GH_STORE_OK;             /* no sequence number is below 1 */
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "chg");
    gh_store_redis_arg_key(&a, s, "chg:pruned");
    gh_store_redis_arg_int(&a, before_seq);
    return gh_store_redis_write(s, &chg_prune_script, &a, 0, NULL);
}

/* chg:seq at least ARGV[2]; the numbers it jumps over named no change. */
static gh_redis_script chg_floor_script = { .source =
    GH_STORE_REDIS_LUA
    "local floor = tonumber(ARGV[2])\n"
    "if tonumber(redis.call('GET', KEYS[1]) or '0') < floor then\n"
    "  redis.call('SET', KEYS[1], ARGV[2])\n"
    "  if tonumber(redis.call('GET', KEYS[2]) or '0') <= floor then\n"
    "    redis.call('SET', KEYS[2], floor + 1)\n"
    "  end\n"
    "end\n"
    "return OK\n"
};

gh_store_err gh_store_redis_change_floor(gh_store *store, int64_t seq)
{
    gh_store_redis *s = gh_store_redis_of(store);
    gh_store_redis_args a;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "chg:seq");
    gh_store_redis_arg_key(&a, s, "chg:pruned");
    gh_store_redis_arg_int(&a, seq);
    return gh_store_redis_write(s, &chg_floor_script, &a, GH_STORE_REDIS_DURABLE, NULL);
}
