/*
 * fuzz_redis_reply.c: libFuzzer target for the Redis reply reader
 * (store_redis_reply.c): hiredis' parser with our bounded objects and the
 * wiping free. The input is a stream of bytes from a "server", fed in
 * pieces whose sizes come from the input's first byte. Every reply taken
 * out is walked (types, lengths, elements) and freed; an error ends the
 * stream, as it closes a connection. Nothing may crash, leak, or abort in
 * an allocation (hiredis 0.14 aborts on a failed one: the bounds prevent
 * any huge one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/store_redis_conn.h"
#include "../../src/core/store_redis_io.h"

static void walk(const redisReply *r, int depth)
{
    if (depth > 8)
        abort();
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        if (r->str == NULL || r->len > GH_REDIS_REPLY_MAX || r->str[r->len] != '\0')
            abort();
        break;
    case REDIS_REPLY_ARRAY:
        if (r->elements > GH_REDIS_ELEMENTS_MAX || (r->elements > 0 && r->element == NULL))
            abort();
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i] == NULL)
                abort();
            else
                walk(r->element[i], depth + 1);
        break;
    case REDIS_REPLY_INTEGER:
    case REDIS_REPLY_NIL:
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_redis_parser p;
    size_t          piece, at = 1;
    const char     *why;
    redisReply     *reply;
    int             rc = 0;

    if (size == 0 || !gh_redis_parser_init(&p))
        return 0;
    piece = (size_t)data[0] + 1;
    while (at < size && rc >= 0) {
        size_t n = size - at < piece ? size - at : piece;

        if (!gh_redis_parser_feed(&p, (const char *)data + at, n, &why))
            break;
        at += n;
        while ((rc = gh_redis_parser_next(&p, &reply, &why)) == 1) {
            walk(reply, 0);
            gh_redis_reply_free(reply);
        }
    }
    gh_redis_parser_free(&p);
    return 0;
}
