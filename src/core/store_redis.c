/*
 * store_redis.c: the Redis store's connection (store_backend.h): opening it,
 * the server secret, and the ops table that points at the other
 * store_redis_*.c files (store_redis_internal.h has the key model).
 *
 * The server secret keys what every node must compute alike (credential
 * cache keys, lockout keys, CSRF tokens), so it cannot be made per node, and
 * it must not sit in Redis in clear. It is a file, [store] secret_file, 32
 * random bytes, mode 0600, copied to every node like a TLS key. Redis holds
 * only a check value, HMAC-SHA256(secret, "gatehouse store check 1"), in the
 * hash P meta with the schema: opening compares the file's check with it and
 * refuses, naming the file, a secret that does not match. An empty store
 * (no P meta) is made on its first open, the way SQLite makes its database:
 * the secret file is created when missing, and P meta is written by a script
 * only if it still does not exist, so of two first openers one wins and the
 * other compares against it.
 */
#include "store_redis_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "token.h"

#define STORE_REDIS_CHECK_TEXT "gatehouse store check 1"

static const char *store_redis_last_error(const gh_store *store)
{
    const gh_store_redis *s = (const gh_store_redis *)store;

    return s->error[0] != '\0' ? s->error : "no error";
}

/* The secret file. */

/* Read path's 32 bytes into secret: GH_STORE_NOT_FOUND when it does not
 * exist; GH_STORE_ERROR (the reason noted) when it cannot be trusted. */
static gh_store_err store_redis_secret_read(gh_store_redis *s, const char *path,
                                            uint8_t secret[GH_DIGEST_LEN])
{
    gh_store_err err = GH_STORE_ERROR;
    struct stat st;
    uint8_t extra;
    ssize_t got;
    int fd;

    /* a symlink is followed: secrets are often mounted that way */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return GH_STORE_NOT_FOUND;
        return gh_store_redis_fail(s, "secret file %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gh_store_redis_fail(s, "secret file %s: not a regular file", path);
        goto done;
    }
    if ((st.st_mode & 077) != 0) {
        gh_store_redis_fail(s, "secret file %s: readable by others (mode %03o; want 0600)",
                            path, (unsigned)(st.st_mode & 0777));
        goto done;
    }
    got = read(fd, secret, GH_DIGEST_LEN);
    if (got != GH_DIGEST_LEN || read(fd, &extra, 1) != 0) {
        gh_store_redis_fail(s, "secret file %s: not %d bytes", path, GH_DIGEST_LEN);
        goto done;
    }
    err = GH_STORE_OK;
done:
    if (err != GH_STORE_OK)
        gh_wipe(secret, GH_DIGEST_LEN);
    close(fd);
    return err;
}

/* Write secret to path through a temporary file renamed over it, 0600
 * whatever the umask, fsync'd with its directory. exclusive: fail
 * (GH_STORE_EXISTS) rather than replace a file that exists. */
static gh_store_err store_redis_secret_write(gh_store_redis *s, const char *path,
                                             const uint8_t secret[GH_DIGEST_LEN], bool exclusive)
{
    char tmp[GH_PATH_MAX + 16], dir[GH_PATH_MAX];
    gh_store_err err = GH_STORE_ERROR;
    int fd = -1, dfd = -1;

    if (snprintf(tmp, sizeof tmp, "%s.new%d", path, (int)getpid()) >= (int)sizeof tmp ||
        snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return gh_store_redis_fail(s, "secret file %s: path too long", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        gh_store_redis_fail(s, "secret file %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (write(fd, secret, GH_DIGEST_LEN) != GH_DIGEST_LEN || fsync(fd) != 0) {
        gh_store_redis_fail(s, "secret file %s: %s", tmp, strerror(errno));
        goto done;
    }
    /* link() refuses to replace: of two first openers, one file stands */
    if (exclusive ? link(tmp, path) != 0 : rename(tmp, path) != 0) {
        if (exclusive && errno == EEXIST)
            err = GH_STORE_EXISTS;
        else
            gh_store_redis_fail(s, "secret file %s: %s", path, strerror(errno));
        goto done;
    }
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        gh_store_redis_fail(s, "secret file %s: its directory: %s", path, strerror(errno));
        goto done;
    }
    err = GH_STORE_OK;
done:
    if (fd >= 0) {
        close(fd);
        (void)unlink(tmp);
    }
    if (dfd >= 0)
        close(dfd);
    return err;
}

/* The secret of the file, made when it does not exist and create allows. */
static gh_store_err store_redis_secret_load(gh_store_redis *s, bool create)
{
    uint8_t fresh[GH_DIGEST_LEN];
    gh_store_err err = store_redis_secret_read(s, s->secret_path, s->secret);

    if (err != GH_STORE_NOT_FOUND)
        return err;
    if (!create)
        return gh_store_redis_fail(s, "secret file %s: missing; copy it from a node of "
                                   "this store", s->secret_path);
    if (gh_token_random(fresh, sizeof fresh) != 0) {
        err = gh_store_redis_fail(s, "no random bytes for the secret");
        goto done;
    }
    err = store_redis_secret_write(s, s->secret_path, fresh, true);
    if (err == GH_STORE_OK || err == GH_STORE_EXISTS)
        err = store_redis_secret_read(s, s->secret_path, s->secret);
done:
    gh_wipe(fresh, sizeof fresh);
    return err;
}

/* HMAC-SHA256(secret, STORE_REDIS_CHECK_TEXT) in hex. */
static bool store_redis_check_value(const uint8_t secret[GH_DIGEST_LEN],
                                    char hex[2 * GH_DIGEST_LEN + 1])
{
    const gh_bytes part = { STORE_REDIS_CHECK_TEXT, sizeof STORE_REDIS_CHECK_TEXT - 1 };
    uint8_t mac[GH_DIGEST_LEN];
    bool ok = gh_token_mac(secret, &part, 1, mac);

    gh_token_hex(mac, sizeof mac, hex);
    return ok;
}

/* P meta. */

/* meta's schema and check value, creating it with ours when it does not
 * exist (and create allows): { status, schema, check }. */
static gh_redis_script store_redis_meta_script = { .source =
    GH_STORE_REDIS_LUA
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  if ARGV[2] ~= '1' then return {NOT_FOUND} end\n"
    "  redis.call('HSET', KEYS[1], 'schema', ARGV[3], 'secret_check', ARGV[4],\n"
    "             'created', ARGV[5])\n"
    "end\n"
    "local v = redis.call('HMGET', KEYS[1], 'schema', 'secret_check')\n"
    "return {OK, v[1] or '', v[2] or ''}\n"
};

static gh_store_err store_redis_meta(gh_store_redis *s, bool create, const char *check)
{
    char schema[16], theirs[2 * GH_DIGEST_LEN + 1];
    gh_store_redis_args a;
    redisReply *reply = NULL;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "meta");
    gh_store_redis_arg_str(&a, create ? "1" : "0");
    gh_store_redis_arg_str(&a, GH_STORE_REDIS_SCHEMA);
    gh_store_redis_arg_str(&a, check);
    gh_store_redis_arg_int(&a, gh_now());
    /* only a store being made needs its replicas to hold it */
    err = gh_store_redis_write(s, &store_redis_meta_script, &a,
                               create ? GH_STORE_REDIS_DURABLE : 0, &reply);
    if (err == GH_STORE_OK &&
        (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
         !gh_store_redis_text(reply->element[1], schema, sizeof schema) ||
         !gh_store_redis_text(reply->element[2], theirs, sizeof theirs)))
        err = gh_store_redis_fail(s, "%smeta: not what gatehouse writes", s->prefix);
    if (err == GH_STORE_OK && strcmp(schema, GH_STORE_REDIS_SCHEMA) != 0)
        err = gh_store_redis_fail(s, "%smeta: schema %s; this gatehouse reads %s", s->prefix,
                                  schema, GH_STORE_REDIS_SCHEMA);
    if (err == GH_STORE_OK && (strlen(theirs) != strlen(check) ||
                               !gh_token_equal(theirs, check, strlen(check))))
        err = gh_store_redis_fail(s, "secret file %s does not match the store's secret "
                                  "(%smeta): copy it from a node of this store",
                                  s->secret_path, s->prefix);
    gh_redis_reply_free(reply);
    return err;
}

/* Whether P meta exists. */
static gh_store_err store_redis_meta_exists(gh_store_redis *s, bool *exists)
{
    gh_store_redis_args a;
    redisReply *reply = NULL;
    int64_t n = 0;
    gh_store_err err;

    gh_store_redis_args_init(&a);
    gh_store_redis_arg_str(&a, "EXISTS");
    gh_store_redis_arg_key(&a, s, "meta");
    err = gh_store_redis_command(s, &a, &reply);
    if (err == GH_STORE_OK && gh_store_redis_int(reply, &n) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "EXISTS: not an integer");
    *exists = n > 0;
    gh_redis_reply_free(reply);
    return err;
}

static gh_store_err store_redis_secret(gh_store *store, uint8_t out[GH_DIGEST_LEN])
{
    /* read at open; only secret_import changes it */
    memcpy(out, ((gh_store_redis *)store)->secret, GH_DIGEST_LEN);
    return GH_STORE_OK;
}

static gh_redis_script store_redis_check_script = { .source =
    GH_STORE_REDIS_LUA
    "redis.call('HSET', KEYS[1], 'secret_check', ARGV[2])\n"
    "return OK\n"
};

/* The new secret's check value first, then its file: a failure in between
 * leaves a store whose file does not match, which every open then says. */
static gh_store_err store_redis_secret_import(gh_store *store,
                                              const uint8_t secret[GH_DIGEST_LEN])
{
    gh_store_redis *s = (gh_store_redis *)store;
    char check[2 * GH_DIGEST_LEN + 1];
    gh_store_redis_args a;
    gh_store_err err;

    if (!store_redis_check_value(secret, check))
        return gh_store_redis_fail(s, "HMAC failed");
    gh_store_redis_args_init(&a);
    gh_store_redis_arg_key(&a, s, "meta");
    gh_store_redis_arg_str(&a, check);
    err = gh_store_redis_write(s, &store_redis_check_script, &a, GH_STORE_REDIS_DURABLE, NULL);
    if (err == GH_STORE_OK)
        err = store_redis_secret_write(s, s->secret_path, secret, false);
    if (err == GH_STORE_OK)
        memcpy(s->secret, secret, GH_DIGEST_LEN);
    return err;
}

static void store_redis_close(gh_store *store)
{
    gh_store_redis *s = (gh_store_redis *)store;

    if (s == NULL)
        return;
    gh_store_redis_tx_free(s);
    if (s->conn != NULL)
        gh_redis_close(s->conn);
    gh_wipe(s->secret, sizeof s->secret);
    free(s);
}

static const gh_store_ops store_redis_ops = {
    .name = "redis",
    .shared = true,
    .backend = GH_METRIC_BACKEND_REDIS,
    .close = store_redis_close,
    .last_error = store_redis_last_error,
    .begin = gh_store_redis_begin,
    .end = gh_store_redis_end,
    .secret = store_redis_secret,
    .secret_import = store_redis_secret_import,
    .account_get = gh_store_redis_account_get,
    .account_get_by_id = gh_store_redis_account_get_by_id,
    .account_add = gh_store_redis_account_add,
    .account_import = gh_store_redis_account_import,
    .account_update = gh_store_redis_account_update,
    .account_delete = gh_store_redis_account_delete,
    .account_foreach = gh_store_redis_account_foreach,
    .account_due = gh_store_redis_account_due,
    .session_insert = gh_store_redis_session_insert,
    .session_insert_limited = gh_store_redis_session_insert_limited,
    .session_get = gh_store_redis_session_get,
    .session_find_digest = gh_store_redis_session_find_digest,
    .session_delete = gh_store_redis_session_delete,
    .session_delete_account = gh_store_redis_session_delete_account,
    .session_expire = gh_store_redis_session_expire,
    .session_count_live = gh_store_redis_session_count_live,
    .session_touch = gh_store_redis_session_touch,
    .session_foreach = gh_store_redis_session_foreach,
    .session_scan = gh_store_redis_session_scan,
    .session_rowid_last = gh_store_redis_session_rowid_last,
    .attribute_get = gh_store_redis_attribute_get,
    .attribute_set = gh_store_redis_attribute_set,
    .attribute_delete = gh_store_redis_attribute_delete,
    .attribute_foreach = gh_store_redis_attribute_foreach,
    .setting_get = gh_store_redis_setting_get,
    .setting_set = gh_store_redis_setting_set,
    .failure_get = gh_store_redis_failure_get,
    .failure_put = gh_store_redis_failure_put,
    .failure_count = gh_store_redis_failure_count,
    .failure_delete = gh_store_redis_failure_delete,
    .failure_clear_owner = gh_store_redis_failure_clear_owner,
    .failure_prune = gh_store_redis_failure_prune,
    .throttle_put = gh_store_redis_throttle_put,
    .throttle_scan = gh_store_redis_throttle_scan,
    .throttle_prune = gh_store_redis_throttle_prune,
    .directory_put = gh_store_redis_directory_put,
    .directory_import = gh_store_redis_directory_import,
    .directory_forget = gh_store_redis_directory_forget,
    .directory_foreach = gh_store_redis_directory_foreach,
    .change_last = gh_store_redis_change_last,
    .change_since = gh_store_redis_change_since,
    .change_prune = gh_store_redis_change_prune,
    .change_floor = gh_store_redis_change_floor,
};

/* Opening. */

/* The settings of cfg the store keeps: prefix, secret path, WAIT. */
static gh_store_err store_redis_settings(gh_store_redis *s, const gh_store_config *cfg)
{
    char why[128] = "";
    gh_redis_url url;
    int timeout_ms;

    if (!gh_redis_url_parse(cfg->url, &url, why, sizeof why))
        return gh_store_redis_fail(s, "[store] url: %s", why);
    if (!gh_store_redis_prefix(cfg, s->prefix, &s->prefix_len))
        return gh_store_redis_fail(s, "[store] key_prefix: longer than %d bytes",
                                   GH_STORE_REDIS_PREFIX_MAX);
    if (cfg->secret_file == NULL || cfg->secret_file[0] == '\0')
        return gh_store_redis_fail(s, "[store] secret_file: not set");
    if (snprintf(s->secret_path, sizeof s->secret_path, "%s", cfg->secret_file) >=
        (int)sizeof s->secret_path)
        return gh_store_redis_fail(s, "[store] secret_file: path too long");
    s->wait_replicas = cfg->wait_replicas >= 0 ? cfg->wait_replicas
                       : url.kind == GH_REDIS_SENTINEL ? 1 : 0;
    s->wait_ms = cfg->wait_ms > 0 ? cfg->wait_ms : 100;
    timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1000;
    /* WAIT holds its answer up to wait_ms: past the command timeout, the
     * connection would give up on it first, and every durable write fail */
    if (s->wait_replicas > 0 && s->wait_ms >= timeout_ms)
        return gh_store_redis_fail(s, "[store] wait_ms (%d) must be below timeout_ms (%d)",
                                   s->wait_ms, timeout_ms);
    return GH_STORE_OK;
}

/* The secret file against P meta: made when both are missing. */
static gh_store_err store_redis_secret_check(gh_store_redis *s)
{
    char check[2 * GH_DIGEST_LEN + 1];
    bool exists = false;
    gh_store_err err;

    err = store_redis_meta_exists(s, &exists);
    if (err == GH_STORE_OK)
        err = store_redis_secret_load(s, !exists);
    if (err == GH_STORE_OK && !store_redis_check_value(s->secret, check))
        err = gh_store_redis_fail(s, "HMAC failed");
    if (err == GH_STORE_OK)
        err = store_redis_meta(s, !exists, check);
    if (err == GH_STORE_NOT_FOUND)      /* P meta went away since EXISTS */
        err = gh_store_redis_fail(s, "%smeta vanished while opening", s->prefix);
    return err;
}

/* Why the last open on this thread failed (gh_store_redis_open_error). */
static _Thread_local char store_redis_open_why[GH_STORE_REDIS_ERROR_MAX];

const char *gh_store_redis_open_error(void)
{
    return store_redis_open_why;
}

gh_store_err gh_store_redis_open(const gh_store_config *cfg, gh_store **out)
{
    gh_store_redis *s;
    gh_store_err err;

    *out = NULL;
    snprintf(store_redis_open_why, sizeof store_redis_open_why, "%s", "out of memory");
    if (cfg == NULL || cfg->url == NULL)
        return GH_STORE_ERROR;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return GH_STORE_ERROR;
    s->base.ops = &store_redis_ops;
    s->cfg = cfg;
    err = store_redis_settings(s, cfg);
    if (err == GH_STORE_OK && gh_redis_open(cfg, &s->conn) != GH_STORE_OK)
        err = gh_store_redis_fail(s, "%s", s->conn != NULL ? gh_redis_error(s->conn)
                                                           : "cannot connect");
    if (err == GH_STORE_OK)
        err = store_redis_secret_check(s);
    if (err != GH_STORE_OK) {
        /* the reason outlives the store, for the opener's message */
        snprintf(store_redis_open_why, sizeof store_redis_open_why, "%s", s->error);
        store_redis_close(&s->base);
        return err == GH_STORE_NOT_FOUND ? GH_STORE_ERROR : err;
    }
    store_redis_open_why[0] = '\0';
    *out = &s->base;
    return GH_STORE_OK;
}
