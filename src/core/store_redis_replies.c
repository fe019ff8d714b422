/*
 * store_redis_replies.c: reading Redis' answers for the Redis store
 * (store_redis_internal.h): statuses, integers, bounded text, the fields of
 * a hash, hex digests. Nothing here trusts a reply's shape: each reader
 * checks the type and the size before it copies.
 */
#include "store_redis_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

gh_store_err gh_store_redis_status(const redisReply *r)
{
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0)
        r = r->element[0];
    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < GH_STORE_OK ||
        r->integer > GH_STORE_GAP)
        return GH_STORE_ERROR;
    return (gh_store_err)r->integer;
}

gh_store_err gh_store_redis_int(const redisReply *r, int64_t *out)
{
    char text[24], *end;
    long long v;

    if (r == NULL || r->type == REDIS_REPLY_NIL)
        return GH_STORE_NOT_FOUND;
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = r->integer;
        return GH_STORE_OK;
    }
    if (!gh_store_redis_text(r, text, sizeof text) || text[0] == '\0')
        return GH_STORE_ERROR;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return GH_STORE_ERROR;
    *out = v;
    return GH_STORE_OK;
}

bool gh_store_redis_text(const redisReply *r, char *dst, size_t size)
{
    if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) ||
        r->len >= size || memchr(r->str, '\0', r->len) != NULL)
        return false;
    memcpy(dst, r->str, r->len);
    dst[r->len] = '\0';
    return true;
}

const redisReply *gh_store_redis_field(const redisReply *r, const char *name)
{
    size_t len = strlen(name);

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i];

        if (k->type == REDIS_REPLY_STRING && k->len == len && memcmp(k->str, name, len) == 0)
            return r->element[i + 1];
    }
    return NULL;
}

gh_store_err gh_store_redis_field_int(const redisReply *r, const char *name, int64_t *out)
{
    return gh_store_redis_int(gh_store_redis_field(r, name), out);
}

bool gh_store_redis_field_text(const redisReply *r, const char *name, char *dst, size_t size)
{
    return gh_store_redis_text(gh_store_redis_field(r, name), dst, size);
}

bool gh_store_redis_unhex(const redisReply *r, uint8_t digest[GH_DIGEST_LEN])
{
    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 2 * GH_DIGEST_LEN)
        return false;
    for (size_t i = 0; i < GH_DIGEST_LEN; i++) {
        int hi = gh_hex_digit((unsigned char)r->str[2 * i]);
        int lo = gh_hex_digit((unsigned char)r->str[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        digest[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
