/*
 * store_redis.c: the Redis store's opening and its bell (store_backend.h).
 * Placeholder while the Redis backend is built (issue 16): every open fails.
 */
#include "store_backend.h"

gh_store_err gh_store_redis_open(const gh_store_config *cfg, gh_store **out)
{
    (void)cfg;
    *out = NULL;
    return GH_STORE_ERROR;
}

gh_store_err gh_store_redis_bell_open(const gh_store_config *cfg, gh_store_bell **out)
{
    (void)cfg;
    *out = NULL;
    return GH_STORE_NOT_FOUND;
}

gh_store_err gh_store_redis_bell_wait(gh_store_bell *bell, int timeout_ms, int64_t *seq)
{
    (void)bell;
    (void)timeout_ms;
    (void)seq;
    return GH_STORE_ERROR;
}

void gh_store_redis_bell_close(gh_store_bell *bell)
{
    (void)bell;
}
