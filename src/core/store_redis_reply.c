/*
 * store_redis_reply.c: reading Redis replies (RESP2) with hiredis' parser
 * and replies of our own making. hiredis 0.14 parses; the objects it asks
 * for are built here, so every allocation is bounded before it is made (an
 * array claiming more than GH_REDIS_ELEMENTS_MAX elements, a string longer
 * than GH_REDIS_REPLY_MAX, a negative count: refused, and the parser stops
 * with an error instead of letting hiredis abort the process on a failed
 * allocation). What is fed is bounded too: a reply longer than
 * GH_REDIS_REPLY_MAX on the wire is refused before hiredis buffers it.
 * Replies may carry hashes, so freeing one wipes its strings first.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_redis_conn.h"
#include "store_redis_io.h"

/* A new object of type, hung into its parent array when it has one. */
static redisReply *reply_new(const redisReadTask *task, int type)
{
    redisReply *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->type = type;
    if (task->parent != NULL) {
        redisReply *parent = task->parent->obj;

        parent->element[task->idx] = r;
    }
    return r;
}

static void *reply_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r;
    char       *copy;

    if (len > GH_REDIS_REPLY_MAX)
        return NULL;
    copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    r = reply_new(task, task->type);
    if (r == NULL) {
        free(copy);
        return NULL;
    }
    memcpy(copy, str, len);
    copy[len] = '\0';
    r->str = copy;
    r->len = len;
    return r;
}

static void *reply_array(const redisReadTask *task, int elements)
{
    redisReply *r;
    redisReply **element = NULL;

    if (elements < 0 || (unsigned)elements > GH_REDIS_ELEMENTS_MAX)
        return NULL;
    if (elements > 0) {
        element = calloc((size_t)elements, sizeof(*element));
        if (element == NULL)
            return NULL;
    }
    r = reply_new(task, REDIS_REPLY_ARRAY);
    if (r == NULL) {
        free(element);
        return NULL;
    }
    r->element = element;
    r->elements = (size_t)elements;
    return r;
}

static void *reply_integer(const redisReadTask *task, long long value)
{
    redisReply *r = reply_new(task, REDIS_REPLY_INTEGER);

    if (r != NULL)
        r->integer = value;
    return r;
}

static void *reply_nil(const redisReadTask *task)
{
    return reply_new(task, REDIS_REPLY_NIL);
}

static void reply_free_object(void *reply)
{
    gh_redis_reply_free(reply);
}

static redisReplyObjectFunctions reply_functions = {
    reply_string, reply_array, reply_integer, reply_nil, reply_free_object
};

void gh_redis_reply_free(redisReply *reply)
{
    if (reply == NULL)
        return;
    if (reply->str != NULL) {
        OPENSSL_cleanse(reply->str, reply->len);
        free(reply->str);
    }
    if (reply->element != NULL) {
        /* Depth is bounded by the parser (7 levels). */
        for (size_t i = 0; i < reply->elements; i++)
            gh_redis_reply_free(reply->element[i]);
        free(reply->element);
    }
    free(reply);
}

bool gh_redis_reply_is_error(const redisReply *reply, const char *code)
{
    size_t n = strlen(code);

    return reply->type == REDIS_REPLY_ERROR && reply->len >= n &&
           memcmp(reply->str, code, n) == 0 && (reply->len == n || reply->str[n] == ' ');
}

bool gh_redis_parser_init(gh_redis_parser *p)
{
    p->pending = 0;
    p->reader = redisReaderCreateWithFunctions(&reply_functions);
    return p->reader != NULL;
}

void gh_redis_parser_free(gh_redis_parser *p)
{
    if (p->reader != NULL) {
        /* The buffer held raw replies: wipe what is left of it. */
        if (p->reader->buf != NULL)
            OPENSSL_cleanse(p->reader->buf, p->reader->len);
        redisReaderFree(p->reader);
    }
    p->reader = NULL;
    p->pending = 0;
}

bool gh_redis_parser_feed(gh_redis_parser *p, const char *buf, size_t n, const char **why)
{
    if (n > GH_REDIS_REPLY_MAX - p->pending) {
        *why = "a reply over 4 MiB";
        return false;
    }
    if (redisReaderFeed(p->reader, buf, n) != REDIS_OK) {
        *why = "the reply parser failed";
        return false;
    }
    p->pending += n;
    return true;
}

int gh_redis_parser_next(gh_redis_parser *p, redisReply **out, const char **why)
{
    void *reply = NULL;

    *out = NULL;
    if (redisReaderGetReply(p->reader, &reply) != REDIS_OK) {
        /* An allocation we refused shows as hiredis' out-of-memory. */
        *why = p->reader->err == REDIS_ERR_OOM ? "a reply over the size bounds"
                                               : "not a Redis reply (protocol error)";
        return -1;
    }
    if (reply == NULL)
        return 0;
    /* What follows it in the buffer belongs to the next reply. */
    p->pending = p->reader->len - p->reader->pos;
    *out = reply;
    return 1;
}
