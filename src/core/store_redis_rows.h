/*
 * store_redis_rows.h: reading the rows of the Redis store's accounts,
 * attributes, counters and directory profiles out of the replies of their
 * scripts and commands (store_redis_accounts.c, _attributes.c, _failures.c,
 * _misc.c), private to the store. A reply is the server's to shape: each
 * reader checks every type, count and length before it copies, answers
 * GH_STORE_ERROR for anything it did not expect, and leaves no field of
 * its output unset (tests/fuzz/fuzz_store_redis_records.c feeds them any
 * reply).
 */
#ifndef GH_STORE_REDIS_ROWS_H
#define GH_STORE_REDIS_ROWS_H

#include <hiredis/hiredis.h>

#include "store.h"

/* An account: ACCOUNT elements at e, its id then the fields of P acct:<id>
 * in store_redis_accounts.c's order (name domain role enabled built_in pcr
 * locked_until generation created password_hash). */
#define GH_STORE_REDIS_ACCOUNT_ELEMENTS 11
gh_store_err gh_store_redis_account_row(redisReply *const *e, gh_account *out);

/* The attributes of an HGETALL of P acct:<id>:attr whose field starts with
 * lead ("<dialect>\0<prefix>", lead_len bytes; the name starts skip bytes
 * into the field), as names and values pointing into r (NUL-terminated),
 * into list (room for r->elements / 2); *n how many. */
typedef struct {
    const char *name;
    const char *value;
} gh_store_redis_attribute;
gh_store_err gh_store_redis_attribute_pick(const redisReply *r, const char *lead,
                                           size_t lead_len, size_t skip,
                                           gh_store_redis_attribute *list, size_t *n);

/* A failure counter from HMGET owner window_start failures locked_until
 * expires (GH_STORE_NOT_FOUND: no owner, no counter); key is the caller's. */
gh_store_err gh_store_redis_failure_row(const redisReply *r, gh_failure *out);
/* failure_count's answer { OK, window_start, failures, locked_until,
 * expires, locked }. */
gh_store_err gh_store_redis_failure_counted(const redisReply *r, gh_failure *out,
                                            bool *locked);

/* A throttle counter: 4 elements at e, its key (hex), failures,
 * window_start, blocked_until. */
#define GH_STORE_REDIS_THROTTLE_ELEMENTS 4
gh_store_err gh_store_redis_throttle_row(redisReply *const *e, gh_throttle_count *c);

/* A directory row { OK, name, deleted, revision, text } into row, its text
 * into text (size bytes; row->text NULL for a tombstone). */
gh_store_err gh_store_redis_directory_row(const redisReply *r, gh_stored_directory *row,
                                          char *text, size_t size);

#endif
