/*
 * fuzz_store_redis_records.c: libFuzzer target for the row readers of the
 * Redis store (store_redis_rows.c): whatever replies a server sends, read
 * by the bounded reply reader (store_redis_io.h), each reader is given
 * every shape it could meet: an account's elements at every offset of an
 * array, a throttle counter's likewise, the reply whole as a failure
 * counter, a failure_count answer, a directory row and an HGETALL of
 * attributes. A reader must not crash or read past a reply, and what it
 * accepts must hold: strings terminated within their fields, an
 * attribute's name and value within bounds and without a NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/store_redis_conn.h"
#include "../../src/core/store_redis_io.h"
#include "../../src/core/store_redis_rows.h"

static void check_text(const char *s, size_t size)
{
    if (memchr(s, '\0', size) == NULL)
        abort();
}

static void read_arrays(const redisReply *r)
{
    gh_account acct;
    gh_throttle_count c;

    for (size_t i = 0; i + GH_STORE_REDIS_ACCOUNT_ELEMENTS <= r->elements; i++)
        if (gh_store_redis_account_row(r->element + i, &acct) == GH_STORE_OK) {
            check_text(acct.name, sizeof acct.name);
            check_text(acct.domain, sizeof acct.domain);
            check_text(acct.password_hash, sizeof acct.password_hash);
            if (acct.name[0] == '\0' || acct.role > GH_ROLE_READONLY)
                abort();
        }
    for (size_t i = 0; i + GH_STORE_REDIS_THROTTLE_ELEMENTS <= r->elements; i++)
        (void)gh_store_redis_throttle_row(r->element + i, &c);
}

static void read_attributes(const redisReply *r)
{
    static const char lead[] = "one\0k";
    gh_store_redis_attribute *list = malloc((r->elements / 2 + 1) * sizeof *list);
    size_t n = 0;

    if (list == NULL)
        return;
    if (gh_store_redis_attribute_pick(r, lead, sizeof lead - 1, 4, list, &n) == GH_STORE_OK)
        for (size_t i = 0; i < n; i++)
            if (strlen(list[i].name) == 0 || strlen(list[i].name) > GH_ATTRIBUTE_NAME_MAX ||
                strncmp(list[i].name, "k", 1) != 0 ||
                strlen(list[i].value) > GH_ATTRIBUTE_VALUE_MAX)
                abort();
    free(list);
}

static void read_rows(const redisReply *r)
{
    gh_stored_directory row;
    char text[64];
    gh_failure f;
    bool locked;

    (void)gh_store_redis_failure_row(r, &f);
    memset(&f, 0, sizeof f);
    (void)gh_store_redis_failure_counted(r, &f, &locked);
    if (gh_store_redis_directory_row(r, &row, text, sizeof text) == GH_STORE_OK) {
        check_text(row.name, sizeof row.name);
        check_text(text, sizeof text);
        if (row.name[0] == '\0' || (row.text != NULL && row.text != text))
            abort();
    }
    if (r->type == REDIS_REPLY_ARRAY) {
        read_arrays(r);
        read_attributes(r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gh_redis_parser p;
    const char     *why;
    redisReply     *reply;

    if (!gh_redis_parser_init(&p))
        return 0;
    if (gh_redis_parser_feed(&p, (const char *)data, size, &why))
        while (gh_redis_parser_next(&p, &reply, &why) == 1) {
            read_rows(reply);
            gh_redis_reply_free(reply);
        }
    gh_redis_parser_free(&p);
    return 0;
}
