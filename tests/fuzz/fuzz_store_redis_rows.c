/*
 * fuzz_store_redis_rows.c: libFuzzer target for what the Redis store reads
 * out of Redis' answers (store_redis_replies.c, the session hash of
 * store_redis_sessions.c, the change entries of store_redis_changes.c):
 * a server, or something posing as one, may answer anything. The input is
 * a RESP byte stream (the connection layer's bounded parser turns it into
 * replies); each reply goes through every reader, at the top and one level
 * down. Nothing may crash, read out of bounds or leak, and what a reader
 * accepts must be within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/store_redis_internal.h"
#include "../../src/core/store_redis_io.h"

static void check_text(const char *s, size_t size)
{
    if (memchr(s, '\0', size) == NULL)
        abort();
}

static void read_one(const redisReply *r)
{
    uint8_t digest[GH_DIGEST_LEN];
    gh_session_record rec;
    gh_change c;
    char text[17];
    int64_t v;

    (void)gh_store_redis_status(r);
    (void)gh_store_redis_int(r, &v);
    if (gh_store_redis_text(r, text, sizeof text))
        check_text(text, sizeof text);
    (void)gh_store_redis_unhex(r, digest);
    (void)gh_store_redis_field(r, "digest");
    if (gh_store_redis_field_text(r, "user", text, sizeof text))
        check_text(text, sizeof text);
    if (gh_store_redis_session_parse(r, "id", 2, &rec) == GH_STORE_OK) {
        check_text(rec.id, sizeof rec.id);
        check_text(rec.user, sizeof rec.user);
        check_text(rec.dialect, sizeof rec.dialect);
        check_text(rec.client_addr, sizeof rec.client_addr);
    }
    if (gh_store_redis_change_parse(r, &c)) {
        check_text(c.subject, sizeof c.subject);
        if (c.kind < GH_CHANGE_ACCOUNT || c.kind > GH_CHANGE_DIRECTORY)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_redis_parser p;
    const char *why;
    redisReply *reply;

    if (!gh_redis_parser_init(&p))
        return 0;
    if (gh_redis_parser_feed(&p, (const char *)data, size, &why)) {
        while (gh_redis_parser_next(&p, &reply, &why) == 1) {
            read_one(reply);
            for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
                read_one(reply->element[i]);
            gh_redis_reply_free(reply);
        }
    }
    gh_redis_parser_free(&p);
    return 0;
}
