/*
 * store_redis_fixture.h: what the Redis store's own unit tests share
 * (test_store_redis.c, test_store_redis_bell.c): a store on the Redis
 * server of GH_TEST_REDIS_URL (tests/unit/with-redis) under a key prefix
 * and a secret file of the test's own, a plain connection to look at the
 * keys with (RAW), and helpers that make accounts and sessions.
 */
#ifndef GH_TEST_STORE_REDIS_FIXTURE_H
#define GH_TEST_STORE_REDIS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/store.h"
#include "../../src/core/store_redis_internal.h"
#include "../../src/core/token.h"

typedef struct {
    char            dir[64];
    char            secret[128];
    char            prefix[64];
    gh_store_config cfg;
    gh_store       *store;
    gh_redis       *raw;          /* a plain connection, to look at the keys */
} fixture;

static inline int setup(void **state)
{
    static int n;
    const char *url = getenv("GH_TEST_REDIS_URL");
    fixture *f;

    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "GH_TEST_REDIS_URL is not set: run under tests/unit/with-redis\n");
        return -1;
    }
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh_store_redis.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->secret, sizeof f->secret, "%s/store-secret", f->dir);
    snprintf(f->prefix, sizeof f->prefix, "t%d:%d:", (int)getpid(), ++n);
    f->cfg.url = url;
    f->cfg.key_prefix = f->prefix;
    f->cfg.secret_file = f->secret;
    f->cfg.timeout_ms = 2000;
    *state = f;
    if (gh_redis_open(&f->cfg, &f->raw) != GH_STORE_OK)
        return -1;
    return gh_store_open_config(&f->cfg, &f->store) == GH_STORE_OK ? 0 : -1;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    char path[160];

    gh_store_close(f->store);
    gh_redis_close(f->raw);
    snprintf(path, sizeof path, "%s/other-secret", f->dir);
    unlink(path);
    unlink(f->secret);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* One command on the raw connection, its reply (the caller frees it). */
static inline redisReply *raw(fixture *f, size_t argc, const char *const *argv)
{
    size_t lens[16];
    redisReply *r = NULL;

    assert_true(argc <= 16);
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    assert_int_equal(gh_redis_command(f->raw, argc, argv, lens, &r), GH_STORE_OK);
    assert_non_null(r);
    return r;
}

#define RAW(f, ...) raw((f), sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *), \
                        (const char *[]){ __VA_ARGS__ })

static inline void raw_ok(fixture *f, redisReply *r)
{
    (void)f;
    assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
    gh_redis_reply_free(r);
}

static inline int64_t add_account(gh_store *s, const char *name, const char *hash)
{
    gh_account a;

    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.domain, sizeof a.domain, "internal");
    a.role = GH_ROLE_OPERATOR;
    a.enabled = true;
    snprintf(a.password_hash, sizeof a.password_hash, "%s",
             hash != NULL ? hash : "$argon2id$v=19$m=65536,t=3,p=1$x$y");
    assert_int_equal(gh_store_account_add(s, &a), GH_STORE_OK);
    return a.id;
}

static inline gh_session_record make_session(const char *id, int64_t account_id, const char *token)
{
    gh_session_record r;

    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "%s", id);
    gh_token_digest(token, strlen(token), r.digest);
    r.account_id = account_id;
    snprintf(r.user, sizeof r.user, "user%lld", (long long)account_id);
    snprintf(r.dialect, sizeof r.dialect, "redfish");
    snprintf(r.client_addr, sizeof r.client_addr, "127.0.0.1");
    r.created = 1000;
    r.last_used = 1000;
    return r;
}

static inline void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, mode), 0);
}

#endif
