/*
 * test_store_redis_conn.c: the Redis connection layer against real Debian
 * redis-server and redis-sentinel processes: the shared one of
 * tests/unit/with-redis (GH_TEST_REDIS_URL) and servers started here with
 * redis_fixture.h (AUTH, replicas, TLS, Sentinel, restarts), plus a fake
 * server in a thread for what a real one does not do (stop answering, close
 * in the middle of a reply).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "../../src/core/store_redis_conn.h"
#include "../../src/core/store_redis_io.h"
#include "redis_fixture.h"

static gh_store_config config(const char *url)
{
    gh_store_config cfg = { .url = url, .connect_timeout_ms = 3000, .timeout_ms = 3000 };

    return cfg;
}

/* Opens a connection that must work, saying why when it does not. */
static void open_ok(const gh_store_config *cfg, gh_redis **r)
{
    if (gh_redis_open(cfg, r) != GH_STORE_OK)
        fail_msg("open %s: %s", cfg->url, gh_redis_error(*r));
}

/* One command of NUL-terminated words. */
static gh_store_err run(gh_redis *r, redisReply **reply, ...)
{
    const char *argv[16];
    size_t      lens[16], n = 0;
    va_list     ap;

    va_start(ap, reply);
    for (const char *a = va_arg(ap, const char *); a != NULL && n < 16;
         a = va_arg(ap, const char *)) {
        argv[n] = a;
        lens[n++] = strlen(a);
    }
    va_end(ap);
    return gh_redis_command(r, n, argv, lens, reply);
}

/* A command whose answer must be the status or string want. */
static void expect(gh_redis *r, const char *want, ...)
{
    const char  *argv[16];
    size_t       lens[16], n = 0;
    redisReply  *reply = NULL;
    va_list      ap;

    va_start(ap, want);
    for (const char *a = va_arg(ap, const char *); a != NULL && n < 16;
         a = va_arg(ap, const char *)) {
        argv[n] = a;
        lens[n++] = strlen(a);
    }
    va_end(ap);
    assert_int_equal(gh_redis_command(r, n, argv, lens, &reply), GH_STORE_OK);
    assert_true(reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_STRING);
    assert_string_equal(reply->str, want);
    gh_redis_reply_free(reply);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Waits (5 s at most) until a PING is answered: the connection is back. */
static bool wait_ready(gh_redis *r)
{
    const struct timespec ms = { 0, 5000000 };
    int64_t               end = gh_test_redis_ms() + 5000;
    redisReply           *reply = NULL;

    while (gh_test_redis_ms() < end) {
        if (run(r, &reply, "PING", NULL) == GH_STORE_OK) {
            gh_redis_reply_free(reply);
            return true;
        }
        nanosleep(&ms, NULL);
    }
    return false;
}

/* ---- URLs ---- */

static void test_url_forms(void **state)
{
    gh_redis_url u;
    char         err[256];

    (void)state;
    assert_true(gh_redis_url_parse("redis://cache.example:6380/2", &u, err, sizeof(err)));
    assert_int_equal(u.kind, GH_REDIS_TCP);
    assert_false(u.tls);
    assert_int_equal(u.nhosts, 1);
    assert_string_equal(u.hosts[0].host, "cache.example");
    assert_int_equal(u.hosts[0].port, 6380);
    assert_int_equal(u.db, 2);
    assert_true(gh_redis_url_parse("rediss://gh_node@10.0.0.5", &u, err, sizeof(err)));
    assert_true(u.tls);
    assert_string_equal(u.username, "gh_node");
    assert_string_equal(u.hosts[0].host, "10.0.0.5");
    assert_int_equal(u.hosts[0].port, 6379);
    assert_int_equal(u.db, 0);
    assert_true(gh_redis_url_parse("redis://[::1]:7000/", &u, err, sizeof(err)));
    assert_string_equal(u.hosts[0].host, "::1");
    assert_int_equal(u.hosts[0].port, 7000);
    assert_true(gh_redis_url_parse("unix:/run/redis/redis.sock?db=5", &u, err, sizeof(err)));
    assert_int_equal(u.kind, GH_REDIS_UNIX);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    assert_int_equal(u.db, 5);
    assert_true(gh_redis_url_parse("unix:/tmp/r.sock", &u, err, sizeof(err)));
    assert_int_equal(u.db, 0);
    assert_true(gh_redis_url_parse("redis-sentinel://s1:26380,[fe80::2],10.1.1.1:1/prod.main/3",
                                   &u, err, sizeof(err)));
    assert_int_equal(u.kind, GH_REDIS_SENTINEL);
    assert_false(u.tls);
    assert_int_equal(u.nhosts, 3);
    assert_string_equal(u.hosts[0].host, "s1");
    assert_int_equal(u.hosts[0].port, 26380);
    assert_string_equal(u.hosts[1].host, "fe80::2");
    assert_int_equal(u.hosts[1].port, 26379);
    assert_int_equal(u.hosts[2].port, 1);
    assert_string_equal(u.master, "prod.main");
    assert_int_equal(u.db, 3);
    assert_true(gh_redis_url_parse("rediss-sentinel://a@s1/m", &u, err, sizeof(err)));
    assert_true(u.tls);
    assert_string_equal(u.username, "a");
}

static void test_url_refused(void **state)
{
    static const struct {
        const char *url;
        const char *reason;
    } bad[] = {
        { "redis://user:secret@h:1", "password" },
        { "redis://:secret@h:1", "password" },
        { "rediss-sentinel://u:pw@s1/m", "password" },
        { "redis://h:0", "port" },
        { "redis://h:65536", "port" },
        { "redis://h:12a", "unexpected" },
        { "redis://h:", "port" },
        { "redis://h:1/65536", "database" },
        { "redis://h:1/x", "database" },
        { "redis://h:1/2?x=1", "unexpected" },
        { "redis://", "host" },
        { "redis://h h:1", "unexpected" },
        { "redis://[::1:1", "IPv6" },
        { "redis://[]:1", "host" },
        { "redis://us er@h", "user" },
        { "redis://@h", "user" },
        { "unix:relative.sock", "absolute" },
        { "unix:/x?db=a", "database" },
        { "unix:/x?foo=1", "db=" },
        { "redis-sentinel://s1,s2", "MASTER" },
        { "redis-sentinel://s1/", "master" },
        { "redis-sentinel://a,b,c,d,e,f,g,h,i/m", "8 sentinels" },
        { "http://h:1", "not redis" },
        { "", "not redis" },
    };
    gh_redis_url u;
    char         err[256], longer[1100];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (gh_redis_url_parse(bad[i].url, &u, err, sizeof(err)))
            fail_msg("accepted %s", bad[i].url);
        if (strstr(err, bad[i].reason) == NULL)
            fail_msg("%s: \"%s\" does not say %s", bad[i].url, err, bad[i].reason);
        assert_null(strstr(err, "secret"));
    }
    /* Bounds: a host of 256 bytes, a unix path of 108, a URL over 1024. */
    memset(longer, 'a', sizeof(longer));
    memcpy(longer, "redis://", 8);
    longer[8 + 256] = '\0';
    assert_false(gh_redis_url_parse(longer, &u, err, sizeof(err)));
    assert_non_null(strstr(err, "too long"));
    longer[8 + 255] = '\0';
    assert_true(gh_redis_url_parse(longer, &u, err, sizeof(err)));
    memcpy(longer, "unix:/", 6);
    memset(longer + 6, 'p', 200);
    longer[5 + 108] = '\0';
    assert_false(gh_redis_url_parse(longer, &u, err, sizeof(err)));
    assert_non_null(strstr(err, "107"));
    longer[5 + 107] = '\0';
    assert_true(gh_redis_url_parse(longer, &u, err, sizeof(err)));
    memset(longer, 'a', sizeof(longer) - 1);
    memcpy(longer, "redis://", 8);
    longer[sizeof(longer) - 1] = '\0';
    assert_false(gh_redis_url_parse(longer, &u, err, sizeof(err)));
    assert_false(gh_redis_url_parse(NULL, &u, err, sizeof(err)));
}

/* ---- commands on the shared server ---- */

static void test_round_trip(void **state)
{
    gh_store_config cfg = config(gh_test_redis_url());
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;
    /* Binary-safe: NUL, CR LF, a RESP-looking byte string. */
    static const char value[] = "a\0b\r\n$3\r\nxyz\r\n*1\r\n";
    const char     *argv[3] = { "SET", "gh:test:conn:bin", value };
    size_t          lens[3] = { 3, 16, sizeof(value) - 1 };

    (void)state;
    open_ok(&cfg, &r);
    assert_int_equal(gh_redis_command(r, 3, argv, lens, &reply), GH_STORE_OK);
    assert_int_equal(reply->type, REDIS_REPLY_STATUS);
    gh_redis_reply_free(reply);
    argv[0] = "GET";
    assert_int_equal(gh_redis_command(r, 2, argv, lens, &reply), GH_STORE_OK);
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    assert_int_equal(reply->len, sizeof(value) - 1);
    assert_memory_equal(reply->str, value, sizeof(value) - 1);
    gh_redis_reply_free(reply);
    /* An error reply is an answer: the caller reads it, the connection stays. */
    assert_int_equal(run(r, &reply, "INCR", "gh:test:conn:bin", NULL), GH_STORE_OK);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    gh_redis_reply_free(reply);
    expect(r, "PONG", "PING", NULL);
    assert_int_equal(run(r, &reply, "DEL", "gh:test:conn:bin", NULL), GH_STORE_OK);
    assert_int_equal(reply->integer, 1);
    gh_redis_reply_free(reply);
    gh_redis_close(r);
}

static void test_pipeline(void **state)
{
    gh_store_config cfg = config(gh_test_redis_url());
    gh_redis       *r = NULL;
    const char     *del[2] = { "DEL", "gh:test:conn:n" }, *incr[2] = { "INCR", "gh:test:conn:n" };
    const char     *get[2] = { "GET", "gh:test:conn:n" };
    size_t          l2[2] = { 3, 14 }, li[2] = { 4, 14 };
    gh_redis_cmd    cmds[5] = { { 2, del, l2 }, { 2, incr, li }, { 2, incr, li }, { 2, incr, li },
                                { 2, get, l2 } };
    redisReply     *replies[5];

    (void)state;
    open_ok(&cfg, &r);
    assert_int_equal(gh_redis_pipeline(r, cmds, 5, replies), GH_STORE_OK);
    assert_int_equal(replies[0]->type, REDIS_REPLY_INTEGER);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(replies[i]->type, REDIS_REPLY_INTEGER);
        assert_int_equal(replies[i]->integer, i);
    }
    assert_string_equal(replies[4]->str, "3");
    for (int i = 0; i < 5; i++)
        gh_redis_reply_free(replies[i]);
    gh_redis_close(r);
}

/* A pipeline cut short by the timeout after some replies came (the second
 * command blocks in Redis past it) frees those and hands back only NULLs:
 * the caller frees what it is handed (store_redis_commit does), so a freed
 * pointer left behind would be freed twice. */
static void test_pipeline_timeout_hands_back_nothing(void **state)
{
    gh_store_config cfg = config(gh_test_redis_url());
    gh_redis       *r = NULL;
    const char     *ping[1] = { "PING" };
    const char     *blpop[3] = { "BLPOP", "gh:test:conn:never", "5" };
    size_t          lp[1] = { 4 }, lb[3] = { 5, 18, 1 };
    gh_redis_cmd    cmds[2] = { { 1, ping, lp }, { 3, blpop, lb } };
    redisReply     *replies[2];

    (void)state;
    cfg.timeout_ms = 300;
    open_ok(&cfg, &r);
    assert_int_equal(gh_redis_pipeline(r, cmds, 2, replies), GH_STORE_ERROR);
    assert_null(replies[0]);
    assert_null(replies[1]);
    for (int i = 0; i < 2; i++)
        gh_redis_reply_free(replies[i]);
    gh_redis_close(r);
}

/* unix: with ?db=N: SELECT and CLIENT SETNAME happened. */
static void test_unix_socket(void **state)
{
    const char     *sock = getenv("GH_TEST_REDIS_SOCKET");
    char            url[256];
    gh_store_config cfg;
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;

    (void)state;
    assert_non_null(sock);
    snprintf(url, sizeof(url), "unix:%s?db=3", sock);
    cfg = config(url);
    open_ok(&cfg, &r);
    assert_int_equal(run(r, &reply, "CLIENT", "INFO", NULL), GH_STORE_OK);
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    assert_non_null(strstr(reply->str, " db=3 "));
    assert_non_null(strstr(reply->str, " name=gatehouse "));
    gh_redis_reply_free(reply);
    gh_redis_close(r);
}

static gh_redis_script test_script = {
    .source = "redis.call('SET', KEYS[1], ARGV[1]) return {KEYS[1], ARGV[1], #ARGV}"
};

/* EVALSHA, and after SCRIPT FLUSH (a restarted or new primary) the script
 * is loaded again and the call made once more. */
static void test_eval_reload(void **state)
{
    gh_store_config cfg = config(gh_test_redis_url());
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;
    const char     *argv[3] = { "gh:test:conn:eval", "v\0w", "x" };
    size_t          lens[3] = { 17, 3, 1 };

    (void)state;
    open_ok(&cfg, &r);
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            expect(r, "OK", "SCRIPT", "FLUSH", NULL);
        assert_int_equal(gh_redis_eval(r, &test_script, 1, 3, argv, lens, &reply), GH_STORE_OK);
        assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
        assert_int_equal(reply->elements, 3);
        assert_string_equal(reply->element[0]->str, "gh:test:conn:eval");
        assert_int_equal(reply->element[1]->len, 3);
        assert_memory_equal(reply->element[1]->str, "v\0w", 3);
        assert_int_equal(reply->element[2]->integer, 2);
        gh_redis_reply_free(reply);
    }
    assert_int_equal(strlen(test_script.sha), 40);
    assert_int_equal(run(r, &reply, "SCRIPT", "EXISTS", test_script.sha, NULL), GH_STORE_OK);
    assert_int_equal(reply->element[0]->integer, 1);
    gh_redis_reply_free(reply);
    /* A script the server refuses answers its error reply. */
    {
        gh_redis_script bad = { .source = "return redis.call('NOSUCHCOMMAND')" };

        assert_int_equal(gh_redis_eval(r, &bad, 0, 0, NULL, NULL, &reply), GH_STORE_OK);
        assert_int_equal(reply->type, REDIS_REPLY_ERROR);
        gh_redis_reply_free(reply);
    }
    assert_int_equal(gh_redis_eval(r, &test_script, 2, 1, argv, lens, &reply), GH_STORE_ERROR);
    expect(r, "PONG", "PING", NULL);
    gh_redis_close(r);
}

/* A reply over 4 MiB closes the connection (hiredis would buffer any
 * size); one under it is read, and the next call connects again. */
static void test_oversize_reply(void **state)
{
    gh_store_config cfg = config(gh_test_redis_url());
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;
    size_t          big = GH_REDIS_REPLY_MAX + 1;
    char           *value = malloc(big);
    const char     *argv[3] = { "SET", "gh:test:conn:big", value };
    size_t          lens[3] = { 3, 16, big };

    (void)state;
    assert_non_null(value);
    memset(value, 'z', big);
    open_ok(&cfg, &r);
    lens[2] = GH_REDIS_REPLY_MAX - 64;
    assert_int_equal(gh_redis_command(r, 3, argv, lens, &reply), GH_STORE_OK);
    gh_redis_reply_free(reply);
    assert_int_equal(run(r, &reply, "GET", "gh:test:conn:big", NULL), GH_STORE_OK);
    assert_int_equal(reply->len, GH_REDIS_REPLY_MAX - 64);
    gh_redis_reply_free(reply);
    lens[2] = big;
    assert_int_equal(gh_redis_command(r, 3, argv, lens, &reply), GH_STORE_OK);
    gh_redis_reply_free(reply);
    assert_int_equal(run(r, &reply, "GET", "gh:test:conn:big", NULL), GH_STORE_ERROR);
    assert_null(reply);
    assert_non_null(strstr(gh_redis_error(r), "4 MiB"));
    free(value);
    /* The connection was dropped; a later call connects again. */
    assert_true(wait_ready(r));
    assert_int_equal(run(r, &reply, "DEL", "gh:test:conn:big", NULL), GH_STORE_OK);
    assert_int_equal(reply->integer, 1);
    gh_redis_reply_free(reply);
    gh_redis_close(r);
}

/* Subscribed mode: a message, nothing within the wait, a PING's answer. */
static void test_subscribe(void **state)
{
    gh_store_config cfg = config(gh_test_redis_url());
    gh_redis       *sub = NULL, *pub = NULL;
    redisReply     *reply = NULL;

    (void)state;
    open_ok(&cfg, &sub);
    open_ok(&cfg, &pub);
    assert_int_equal(gh_redis_subscribe(sub, "gh:test:conn:bell"), GH_STORE_OK);
    assert_int_equal(gh_redis_read(sub, 20, &reply), GH_STORE_NOT_FOUND);
    assert_null(reply);
    assert_int_equal(run(pub, &reply, "PUBLISH", "gh:test:conn:bell", "42", NULL), GH_STORE_OK);
    assert_int_equal(reply->integer, 1);
    gh_redis_reply_free(reply);
    assert_int_equal(gh_redis_read(sub, 3000, &reply), GH_STORE_OK);
    assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
    assert_int_equal(reply->elements, 3);
    assert_string_equal(reply->element[0]->str, "message");
    assert_string_equal(reply->element[1]->str, "gh:test:conn:bell");
    assert_string_equal(reply->element[2]->str, "42");
    gh_redis_reply_free(reply);
    assert_int_equal(gh_redis_ping(sub), GH_STORE_OK);
    assert_int_equal(gh_redis_read(sub, 3000, &reply), GH_STORE_OK);
    assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
    assert_string_equal(reply->element[0]->str, "pong");
    gh_redis_reply_free(reply);
    gh_redis_close(sub);
    gh_redis_close(pub);
}

/* ---- servers of the test's own ---- */

/* AUTH with an ACL user and the password file; a wrong password refused,
 * and the password never in the error. */
static void test_auth(void **state)
{
    const char *const extra[] = { "--user", "alice", "on", ">s3cret-pw", "~*", "&*", "+@all",
                                  "--requirepass", "default-pw", NULL };
    gh_test_redis     srv;
    char              url[128], pwfile[256], userurl[128];
    gh_store_config   cfg;
    gh_redis         *r = NULL;
    redisReply       *reply = NULL;

    (void)state;
    assert_true(gh_test_redis_start(&srv, 0, extra));
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)srv.port);
    snprintf(userurl, sizeof(userurl), "redis://alice@127.0.0.1:%u/1", (unsigned)srv.port);
    snprintf(pwfile, sizeof(pwfile), "%s/pw", srv.dir);
    cfg = config(url);
    cfg.password_file = pwfile;

    /* The ACL user, from the configuration and from the URL. */
    write_file(pwfile, "s3cret-pw\nsecond line ignored\n");
    cfg.username = "alice";
    open_ok(&cfg, &r);
    expect(r, "alice", "ACL", "WHOAMI", NULL);
    gh_redis_close(r);
    cfg.username = NULL;
    cfg.url = userurl;
    open_ok(&cfg, &r);
    expect(r, "alice", "ACL", "WHOAMI", NULL);
    gh_redis_close(r);

    /* requirepass: the default user. */
    cfg.url = url;
    write_file(pwfile, "default-pw");
    open_ok(&cfg, &r);
    expect(r, "default", "ACL", "WHOAMI", NULL);
    gh_redis_close(r);

    /* Wrong password, no password, no file. */
    write_file(pwfile, "wrong-pw\n");
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "AUTH refused (WRONGPASS)"));
    assert_null(strstr(gh_redis_error(r), "wrong-pw"));
    assert_int_equal(run(r, &reply, "PING", NULL), GH_STORE_ERROR);
    assert_null(reply);
    gh_redis_close(r);
    cfg.password_file = NULL;
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "NOAUTH"));
    gh_redis_close(r);
    cfg.password_file = "/nonexistent/gh-pw";
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "/nonexistent/gh-pw"));
    gh_redis_close(r);
    cfg.password_file = pwfile;
    write_file(pwfile, "\n");
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "no password"));
    gh_redis_close(r);
    gh_test_redis_stop(&srv);
}

/* A replica is refused as not a primary; a primary that becomes one
 * answers -READONLY, which closes the connection, and the next connect
 * finds it is no primary. */
static void test_replica(void **state)
{
    gh_test_redis   a, b, c;
    char            url[128], port[8];
    const char     *replica_of[3] = { "--replicaof", "127.0.0.1 0", NULL };
    char            of[32];
    gh_store_config cfg;
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;
    int64_t         end;

    (void)state;
    assert_true(gh_test_redis_start(&a, 0, NULL));
    snprintf(of, sizeof(of), "127.0.0.1 %u", (unsigned)a.port);
    replica_of[1] = of;
    assert_true(gh_test_redis_start(&b, 0, replica_of));
    assert_true(gh_test_redis_start(&c, 0, NULL));

    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)b.port);
    cfg = config(url);
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "not a primary"));
    gh_redis_close(r);

    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)c.port);
    open_ok(&cfg, &r);
    expect(r, "OK", "SET", "k", "1", NULL);
    snprintf(port, sizeof(port), "%u", (unsigned)a.port);
    expect(r, "OK", "REPLICAOF", "127.0.0.1", port, NULL);
    assert_int_equal(run(r, &reply, "SET", "k", "2", NULL), GH_STORE_ERROR);
    assert_null(reply);
    assert_non_null(strstr(gh_redis_error(r), "no longer the primary"));
    /* Until the next connect (at most 100 ms on) has seen its ROLE. */
    end = gh_test_redis_ms() + 5000;
    while (run(r, &reply, "SET", "k", "3", NULL) == GH_STORE_ERROR &&
           strstr(gh_redis_error(r), "not a primary") == NULL && gh_test_redis_ms() < end)
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    assert_null(reply);
    assert_non_null(strstr(gh_redis_error(r), "not a primary"));
    gh_redis_close(r);
    gh_test_redis_stop(&b);
    gh_test_redis_stop(&c);
    gh_test_redis_stop(&a);
}

/* The server restarts on its port: the call that finds the old connection
 * dead fails, a later one connects again; in between, calls within 100 ms
 * of the last try fail at once without trying. */
static void test_restart(void **state)
{
    gh_test_redis   srv;
    char            url[128], tried[128], paced[160];
    gh_store_config cfg;
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;
    int64_t         end;

    (void)state;
    assert_true(gh_test_redis_start(&srv, 0, NULL));
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)srv.port);
    cfg = config(url);
    open_ok(&cfg, &r);
    expect(r, "PONG", "PING", NULL);
    assert_true(gh_test_redis_restart(&srv));
    assert_int_equal(run(r, &reply, "PING", NULL), GH_STORE_ERROR);
    assert_true(wait_ready(r));
    expect(r, "OK", "SET", "after", "restart", NULL);

    /* Down: calls fail; once one has tried and been refused, the next one
     * (within 100 ms of it) does not try, and says why and where. */
    gh_test_redis_kill(&srv);
    snprintf(tried, sizeof(tried), "Redis unreachable: 127.0.0.1:%u: connect: Connection refused",
             (unsigned)srv.port);
    snprintf(paced, sizeof(paced), "Redis unreachable (next try within 100 ms): 127.0.0.1:%u: "
             "connect: Connection refused", (unsigned)srv.port);
    end = gh_test_redis_ms() + 5000;
    do {
        assert_int_equal(run(r, &reply, "PING", NULL), GH_STORE_ERROR);
        assert_null(reply);
        if (strcmp(gh_redis_error(r), tried) == 0)
            break;
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    } while (gh_test_redis_ms() < end);
    assert_string_equal(gh_redis_error(r), tried);
    assert_int_equal(run(r, &reply, "PING", NULL), GH_STORE_ERROR);
    assert_string_equal(gh_redis_error(r), paced);
    assert_true(gh_test_redis_run(&srv));
    assert_true(wait_ready(r));
    gh_redis_close(r);
    gh_test_redis_stop(&srv);
}

/* ---- a fake server: answers[i] to the i-th command, then closes; a NULL
 * answer: stop answering and wait for the client to go ---- */

typedef struct {
    int                lfd;
    uint16_t           port;
    const char *const *answers;
    size_t             n;
    pthread_t          thread;
} fake_server;

static void *fake_run(void *arg)
{
    fake_server    *f = arg;
    int             fd = accept(f->lfd, NULL, NULL);
    gh_redis_parser p;
    char            buf[4096];
    size_t          i = 0;
    const char     *why;
    redisReply     *req;

    if (fd < 0 || !gh_redis_parser_init(&p))
        return NULL;
    while (i < f->n) {
        ssize_t k;
        int     rc;

        while (i < f->n && (rc = gh_redis_parser_next(&p, &req, &why)) == 1) {
            gh_redis_reply_free(req);
            if (f->answers[i] == NULL) {
                while (read(fd, buf, sizeof(buf)) > 0)
                    ;
                goto done;
            }
            if (send(fd, f->answers[i], strlen(f->answers[i]), MSG_NOSIGNAL) < 0)
                goto done;
            i++;
        }
        if (i == f->n)
            break;
        k = read(fd, buf, sizeof(buf));
        if (k <= 0 || !gh_redis_parser_feed(&p, buf, (size_t)k, &why))
            break;
    }
done:
    gh_redis_parser_free(&p);
    close(fd);
    return NULL;
}

static void fake_start(fake_server *f, const char *const *answers, size_t n, bool serve)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t          len = sizeof(a);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 4), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    f->answers = answers;
    f->n = n;
    if (serve)
        assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(fake_server *f, bool serve)
{
    if (serve)
        pthread_join(f->thread, NULL);
    close(f->lfd);
}

#define HANDSHAKE_ANSWERS "+OK\r\n", "+OK\r\n", "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"

/* A socket that accepts connections and never answers: the open gives up
 * after timeout_ms, and says so. */
static void test_silent_server(void **state)
{
    fake_server     f;
    char            url[128];
    gh_store_config cfg;
    gh_redis       *r = NULL;
    int64_t         t0, took;

    (void)state;
    fake_start(&f, NULL, 0, false);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)f.port);
    cfg = config(url);
    cfg.timeout_ms = 300;
    t0 = gh_test_redis_ms();
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    took = gh_test_redis_ms() - t0;
    assert_non_null(strstr(gh_redis_error(r), "no answer within 300 ms"));
    /* The promise is the bound: not before it, and not long after. */
    assert_true(took >= 300);
    assert_true(took < 300 + 5000);
    gh_redis_close(r);
    fake_stop(&f, false);
}

/* A server that answers the handshake, then stops answering a command: the
 * command fails after timeout_ms. */
static void test_command_timeout(void **state)
{
    static const char *const answers[] = { HANDSHAKE_ANSWERS, NULL };
    fake_server              f;
    char                     url[128];
    gh_store_config          cfg;
    gh_redis                *r = NULL;
    redisReply              *reply = NULL;
    int64_t                  t0, took;

    (void)state;
    fake_start(&f, answers, 4, true);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)f.port);
    cfg = config(url);
    cfg.timeout_ms = 300;
    open_ok(&cfg, &r);
    t0 = gh_test_redis_ms();
    assert_int_equal(run(r, &reply, "GET", "k", NULL), GH_STORE_ERROR);
    took = gh_test_redis_ms() - t0;
    assert_null(reply);
    assert_non_null(strstr(gh_redis_error(r), "no answer within 300 ms"));
    assert_true(took >= 300);
    assert_true(took < 300 + 5000);
    gh_redis_close(r);             /* the fake server sees EOF and ends */
    fake_stop(&f, true);
}

/* EOF in the middle of a reply: the command fails, the connection closes. */
static void test_eof_mid_reply(void **state)
{
    static const char *const answers[] = { HANDSHAKE_ANSWERS, "*2\r\n$3\r\nabc\r\n$10\r\nabc" };
    fake_server              f;
    char                     url[128];
    gh_store_config          cfg;
    gh_redis                *r = NULL;
    redisReply              *reply = NULL;

    (void)state;
    fake_start(&f, answers, 4, true);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)f.port);
    cfg = config(url);
    open_ok(&cfg, &r);
    assert_int_equal(run(r, &reply, "MGET", "a", "b", NULL), GH_STORE_ERROR);
    assert_null(reply);
    if (strstr(gh_redis_error(r), "closed the connection") == NULL)
        fail_msg("%s", gh_redis_error(r));
    /* Within 100 ms of the last connect: refused at once, for that reason. */
    assert_int_equal(run(r, &reply, "GET", "a", NULL), GH_STORE_ERROR);
    assert_string_equal(gh_redis_error(r), "Redis unreachable (next try within 100 ms): "
                                           "the server closed the connection");
    fake_stop(&f, true);
    gh_redis_close(r);
}

/* Bytes that are not RESP, and an array claiming too many elements: refused
 * without hiredis allocating for them. */
static void test_bad_replies(void **state)
{
    static const char *const garbage[] = { HANDSHAKE_ANSWERS, "!what\r\n" };
    static const char *const huge[] = { HANDSHAKE_ANSWERS, "*2147483647\r\n" };
    static const char *const negative[] = { HANDSHAKE_ANSWERS, "*-5\r\n" };
    static const char *const *const cases[] = { garbage, huge, negative };
    static const char *const reasons[] = { "protocol error", "size bounds", "Redis: " };

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        fake_server     f;
        char            url[128];
        gh_store_config cfg;
        gh_redis       *r = NULL;
        redisReply     *reply = NULL;

        fake_start(&f, cases[i], 4, true);
        snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)f.port);
        cfg = config(url);
        open_ok(&cfg, &r);
        assert_int_equal(run(r, &reply, "GET", "a", NULL), GH_STORE_ERROR);
        assert_null(reply);
        if (strstr(gh_redis_error(r), reasons[i]) == NULL)
            fail_msg("case %zu: %s", i, gh_redis_error(r));
        fake_stop(&f, true);
        gh_redis_close(r);
    }
}

/* -LOADING and -MASTERDOWN, like -READONLY, say this server is not the
 * primary to use: the call fails and the connection closes, even when the
 * reply is one of a pipeline's. An error reply of another code is an
 * answer. */
static void test_demoted_replies(void **state)
{
    static const char *const loading[] = { HANDSHAKE_ANSWERS, "+OK\r\n",
                                           "-LOADING Redis is loading the dataset\r\n" };
    static const char *const down[] = { HANDSHAKE_ANSWERS, "+OK\r\n",
                                        "-MASTERDOWN Link with MASTER is down\r\n" };
    static const char *const other[] = { HANDSHAKE_ANSWERS, "+OK\r\n",
                                         "-LOADINGX not the same code\r\n" };
    static const char *const *const cases[] = { loading, down, other };
    static const char *const codes[] = { "LOADING", "MASTERDOWN", NULL };

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        fake_server     f;
        char            url[128];
        gh_store_config cfg;
        gh_redis       *r = NULL;
        const char     *get[2] = { "GET", "a" };
        size_t          lens[2] = { 3, 1 };
        gh_redis_cmd    cmds[2] = { { 2, get, lens }, { 2, get, lens } };
        redisReply     *replies[2] = { NULL, NULL };

        fake_start(&f, cases[i], 5, true);
        snprintf(url, sizeof(url), "redis://127.0.0.1:%u", (unsigned)f.port);
        cfg = config(url);
        open_ok(&cfg, &r);
        if (codes[i] != NULL) {
            assert_int_equal(gh_redis_pipeline(r, cmds, 2, replies), GH_STORE_ERROR);
            assert_null(replies[0]);
            assert_null(replies[1]);
            assert_non_null(strstr(gh_redis_error(r), codes[i]));
            assert_non_null(strstr(gh_redis_error(r), "no longer the primary"));
        } else {
            assert_int_equal(gh_redis_pipeline(r, cmds, 2, replies), GH_STORE_OK);
            assert_int_equal(replies[1]->type, REDIS_REPLY_ERROR);
            gh_redis_reply_free(replies[0]);
            gh_redis_reply_free(replies[1]);
        }
        fake_stop(&f, true);
        gh_redis_close(r);
    }
}

/* A unix socket whose backlog is full answers EAGAIN to a connect: that is
 * a refusal, not a connection in progress to wait for. */
static void test_unix_backlog_full(void **state)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    char               dir[] = "/tmp/gh-unix.XXXXXX", url[160];
    int                lfd, filler;
    gh_store_config    cfg;
    gh_redis          *r = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(a.sun_path, sizeof(a.sun_path), "%s/s", dir);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    filler = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(url, sizeof(url), "unix:%s", a.sun_path);
    cfg = config(url);
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    if (strstr(gh_redis_error(r), "connect: Resource temporarily unavailable") == NULL)
        fail_msg("%s", gh_redis_error(r));
    gh_redis_close(r);
    close(filler);
    close(lfd);
    unlink(a.sun_path);
    rmdir(dir);
}

/* ---- TLS ---- */

static void sh(const char *fmt, ...)
{
    char    cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        fail_msg("failed: %s", cmd);
}

/* A CA (dir/NAME-ca.crt) and a certificate it signs (dir/NAME.crt, .key)
 * for 127.0.0.1 and localhost. */
static void make_certs(const char *dir, const char *name)
{
    sh("cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout %s-ca.key -out %s-ca.crt -days 2 -subj /CN=%s-ca 2>/dev/null",
       dir, name, name, name);
    sh("cd '%s' && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > %s.ext && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s.key "
       "-out %s.csr -subj /CN=localhost 2>/dev/null && "
       "openssl x509 -req -in %s.csr -CA %s-ca.crt -CAkey %s-ca.key -CAcreateserial "
       "-out %s.crt -days 2 -extfile %s.ext 2>/dev/null",
       dir, name, name, name, name, name, name, name, name);
}

/* rediss://: verified against tls_ca, by IP address or by name; a wrong
 * CA or name refused; a client certificate when the server asks for one. */
static void test_tls(void **state)
{
    gh_test_redis   srv;
    char            tmp[] = "/tmp/gh-tls.XXXXXX";
    char            tport[8], cert[96], key[96], ca[96], other_ca[96], ccert[96], ckey[96];
    char            url[128], name_url[128];
    const char     *extra[16];
    gh_store_config cfg;
    gh_redis       *r = NULL;

    (void)state;
    assert_non_null(mkdtemp(tmp));
    make_certs(tmp, "server");
    make_certs(tmp, "other");
    make_certs(tmp, "client");
    snprintf(cert, sizeof(cert), "%s/server.crt", tmp);
    snprintf(key, sizeof(key), "%s/server.key", tmp);
    snprintf(ca, sizeof(ca), "%s/server-ca.crt", tmp);
    snprintf(other_ca, sizeof(other_ca), "%s/other-ca.crt", tmp);
    /* The client's certificate is signed by the server's CA. */
    sh("cd '%s' && openssl x509 -req -in client.csr -CA server-ca.crt -CAkey server-ca.key "
       "-CAcreateserial -out client-by-server.crt -days 2 2>/dev/null", tmp);
    snprintf(ccert, sizeof(ccert), "%s/client-by-server.crt", tmp);
    snprintf(ckey, sizeof(ckey), "%s/client.key", tmp);
    snprintf(tport, sizeof(tport), "%u", (unsigned)gh_test_free_port());
    extra[0] = "--port";
    extra[1] = "0";
    extra[2] = "--tls-port";
    extra[3] = tport;
    extra[4] = "--tls-cert-file";
    extra[5] = cert;
    extra[6] = "--tls-key-file";
    extra[7] = key;
    extra[8] = "--tls-ca-cert-file";
    extra[9] = ca;
    extra[10] = "--tls-auth-clients";
    extra[11] = "optional";
    extra[12] = NULL;
    assert_true(gh_test_redis_start(&srv, 0, extra));
    snprintf(url, sizeof(url), "rediss://127.0.0.1:%s", tport);
    snprintf(name_url, sizeof(name_url), "rediss://localhost:%s", tport);

    cfg = config(url);
    cfg.tls_ca = ca;
    open_ok(&cfg, &r);
    expect(r, "PONG", "PING", NULL);
    /* A restart: the old session fails, a new handshake follows. */
    assert_true(gh_test_redis_restart(&srv));
    {
        redisReply *reply = NULL;

        assert_int_equal(run(r, &reply, "PING", NULL), GH_STORE_ERROR);
        assert_non_null(strstr(gh_redis_error(r), "closed the connection"));
    }
    assert_true(wait_ready(r));
    gh_redis_close(r);
    cfg.url = name_url;
    open_ok(&cfg, &r);
    expect(r, "PONG", "PING", NULL);
    gh_redis_close(r);

    cfg.tls_ca = other_ca;
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "not trusted"));
    gh_redis_close(r);
    cfg.tls_ca = ca;
    cfg.tls_server_name = "redis.example";
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "not trusted"));
    gh_redis_close(r);
    cfg.tls_server_name = NULL;
    /* Plain text to a TLS port is no Redis answer. */
    {
        char plain[128];

        snprintf(plain, sizeof(plain), "redis://127.0.0.1:%s", tport);
        cfg.url = plain;
        cfg.timeout_ms = 300;
        assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
        gh_redis_close(r);
        cfg.timeout_ms = 3000;
    }

    /* The server requires a client certificate now. */
    gh_test_redis_stop(&srv);
    extra[11] = "yes";
    assert_true(gh_test_redis_start(&srv, 0, extra));
    cfg.url = url;
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    gh_redis_close(r);
    cfg.tls_cert = ccert;
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "tls_cert and tls_key"));
    gh_redis_close(r);
    cfg.tls_key = ckey;
    open_ok(&cfg, &r);
    expect(r, "PONG", "PING", NULL);
    gh_redis_close(r);
    gh_test_redis_stop(&srv);
    sh("rm -rf '%s'", tmp);
}

/* ---- Sentinel ---- */

static void test_sentinel(void **state)
{
    gh_test_redis   primary, sentinel;
    char            conf[256], url[160], port[8];
    uint16_t        dead = gh_test_free_port();
    gh_store_config cfg;
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;

    (void)state;
    assert_true(gh_test_redis_start(&primary, 0, NULL));
    snprintf(conf, sizeof(conf),
             "sentinel monitor gh-main 127.0.0.1 %u 1\n"
             "sentinel down-after-milliseconds gh-main 60000\n",
             (unsigned)primary.port);
    assert_true(gh_test_redis_start_as(&sentinel, 0, NULL, conf));

    /* The first sentinel is down: the next one is asked. */
    snprintf(url, sizeof(url), "redis-sentinel://127.0.0.1:%u,127.0.0.1:%u/gh-main/2",
             (unsigned)dead, (unsigned)sentinel.port);
    cfg = config(url);
    open_ok(&cfg, &r);
    assert_int_equal(run(r, &reply, "CONFIG", "GET", "port", NULL), GH_STORE_OK);
    snprintf(port, sizeof(port), "%u", (unsigned)primary.port);
    assert_string_equal(reply->element[1]->str, port);
    gh_redis_reply_free(reply);
    assert_int_equal(run(r, &reply, "CLIENT", "INFO", NULL), GH_STORE_OK);
    assert_non_null(strstr(reply->str, " db=2 "));
    gh_redis_reply_free(reply);
    gh_redis_close(r);

    /* A master no sentinel knows. */
    snprintf(url, sizeof(url), "redis-sentinel://127.0.0.1:%u/other", (unsigned)sentinel.port);
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "does not know master other"));
    gh_redis_close(r);

    /* The primary gone: every sentinel tried, the reason given. */
    snprintf(url, sizeof(url), "redis-sentinel://127.0.0.1:%u/gh-main", (unsigned)sentinel.port);
    gh_test_redis_kill(&primary);
    assert_int_equal(gh_redis_open(&cfg, &r), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "master gh-main at 127.0.0.1"));
    gh_redis_close(r);
    gh_test_redis_stop(&sentinel);
    gh_test_redis_stop(&primary);
}

/* Waits (bound ms at most) until an inline command's answer holds want. */
static bool wait_answer(const gh_test_redis *s, const char *line, const char *want, int bound)
{
    int64_t end = gh_test_redis_ms() + bound;
    char    answer[1024];

    while (gh_test_redis_ms() < end) {
        if (gh_test_redis_inline(s, line, answer, sizeof(answer)) && strstr(answer, want) != NULL)
            return true;
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
    }
    return false;
}

/* A failover: the sentinel promotes the replica; the old primary, made a
 * replica, answers -READONLY; the connection asks the sentinel again and
 * lands on the new primary, without being opened again. */
static void test_sentinel_failover(void **state)
{
    gh_test_redis   a, b, sentinel;
    char            conf[256], url[160], of[32], bport[8], demote[64];
    const char     *replica_of[3] = { "--replicaof", of, NULL };
    gh_store_config cfg;
    gh_redis       *r = NULL;
    redisReply     *reply = NULL;
    int64_t         end;

    (void)state;
    assert_true(gh_test_redis_start(&a, 0, NULL));
    snprintf(of, sizeof(of), "127.0.0.1 %u", (unsigned)a.port);
    assert_true(gh_test_redis_start(&b, 0, replica_of));
    assert_true(wait_answer(&b, "INFO replication", "master_link_status:up", 10000));
    snprintf(conf, sizeof(conf),
             "sentinel monitor gh-main 127.0.0.1 %u 1\n"
             "sentinel down-after-milliseconds gh-main 60000\n",
             (unsigned)a.port);
    assert_true(gh_test_redis_start_as(&sentinel, 0, NULL, conf));
    snprintf(url, sizeof(url), "redis-sentinel://127.0.0.1:%u/gh-main", (unsigned)sentinel.port);
    cfg = config(url);
    open_ok(&cfg, &r);
    expect(r, "OK", "SET", "before", "failover", NULL);

    /* Once the sentinel knows the replica, a failover to it. */
    assert_true(wait_answer(&sentinel, "SENTINEL FAILOVER gh-main", "+OK", 20000));
    snprintf(bport, sizeof(bport), "%u", (unsigned)b.port);
    assert_true(wait_answer(&sentinel, "SENTINEL get-master-addr-by-name gh-main", bport, 20000));
    assert_true(wait_answer(&b, "ROLE", "master", 10000));
    /* The sentinel would demote the old primary in its own time: at once. */
    snprintf(demote, sizeof(demote), "REPLICAOF 127.0.0.1 %u", (unsigned)b.port);
    assert_true(wait_answer(&a, demote, "+OK", 5000));

    assert_int_equal(run(r, &reply, "SET", "after", "failover", NULL), GH_STORE_ERROR);
    assert_non_null(strstr(gh_redis_error(r), "no longer the primary"));
    end = gh_test_redis_ms() + 10000;
    while (run(r, &reply, "SET", "after", "failover", NULL) != GH_STORE_OK &&
           gh_test_redis_ms() < end)
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    assert_non_null(reply);
    gh_redis_reply_free(reply);
    assert_int_equal(run(r, &reply, "CONFIG", "GET", "port", NULL), GH_STORE_OK);
    assert_string_equal(reply->element[1]->str, bport);
    gh_redis_reply_free(reply);
    expect(r, "failover", "GET", "before", NULL);
    gh_redis_close(r);
    gh_test_redis_stop(&sentinel);
    gh_test_redis_stop(&b);
    gh_test_redis_stop(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_forms),
        cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_pipeline_timeout_hands_back_nothing),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_unix_backlog_full),
        cmocka_unit_test(test_eval_reload),
        cmocka_unit_test(test_oversize_reply),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_replica),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_silent_server),
        cmocka_unit_test(test_command_timeout),
        cmocka_unit_test(test_eof_mid_reply),
        cmocka_unit_test(test_bad_replies),
        cmocka_unit_test(test_demoted_replies),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_sentinel),
        cmocka_unit_test(test_sentinel_failover),
    };

    if (gh_test_redis_url() == NULL) {
        fprintf(stderr, "test_store_redis_conn: no GH_TEST_REDIS_URL: run it under "
                        "tests/unit/with-redis (make unit does)\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
