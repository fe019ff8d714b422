/*
 * store_redis_eval.c: Lua scripts run by their SHA-1 (gh_redis_eval). The
 * SHA-1 of a script's source is computed once, with OpenSSL's EVP, under a
 * lock (a script is a static shared by every thread); a call is EVALSHA,
 * and when the server does not know the script (-NOSCRIPT: a restarted
 * Redis, a new primary after a failover) SCRIPT LOAD, which must answer
 * the same SHA-1, then EVALSHA once more. Loading only on -NOSCRIPT keeps
 * every call at one round trip on a primary that knows them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store_redis_conn.h"
#include "store_redis_io.h"

static pthread_mutex_t script_lock = PTHREAD_MUTEX_INITIALIZER;

/* The script's SHA-1 in hex, computed at its first use (scripts are shared
 * by every thread). */
static bool script_sha(gh_redis_script *script, char sha[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char     md[EVP_MAX_MD_SIZE];
    unsigned int      mdlen = 0;
    bool              ok = true;

    pthread_mutex_lock(&script_lock);
    if (script->sha[0] == '\0') {
        ok = EVP_Digest(script->source, strlen(script->source), md, &mdlen, EVP_sha1(),
                        NULL) == 1 && mdlen == 20;
        for (unsigned i = 0; ok && i < mdlen; i++) {
            script->sha[2 * i] = hex[md[i] >> 4];
            script->sha[2 * i + 1] = hex[md[i] & 15];
        }
        script->sha[ok ? 40 : 0] = '\0';
    }
    memcpy(sha, script->sha, 41);
    pthread_mutex_unlock(&script_lock);
    return ok;
}

/* SCRIPT LOAD source: the server must answer with our SHA-1. */
static gh_store_err script_load(gh_redis *r, const gh_redis_script *script, const char *sha)
{
    const char  *argv[3] = { "SCRIPT", "LOAD", script->source };
    size_t       lens[3] = { 6, 4, strlen(script->source) };
    redisReply  *rep = NULL;
    gh_store_err err = gh_redis_command(r, 3, argv, lens, &rep);

    if (err == GH_STORE_OK && (rep->type != REDIS_REPLY_STRING || rep->len != 40 ||
                               memcmp(rep->str, sha, 40) != 0)) {
        gh_redis_fail(r, "SCRIPT LOAD failed");
        err = GH_STORE_ERROR;
    }
    gh_redis_reply_free(rep);
    return err;
}

gh_store_err gh_redis_eval(gh_redis *r, gh_redis_script *script, size_t nkeys, size_t argc,
                           const char *const *argv, const size_t *lens, redisReply **reply)
{
    const char **av = NULL;
    size_t      *al = NULL;
    char         sha[41], nk[24];
    gh_store_err err = GH_STORE_ERROR;

    *reply = NULL;
    if (nkeys > argc || argc > GH_REDIS_ARGC_MAX - 3 || !script_sha(script, sha)) {
        gh_redis_fail(r, "a script call is malformed");
        return GH_STORE_ERROR;
    }
    av = malloc((argc + 3) * sizeof(*av));
    al = malloc((argc + 3) * sizeof(*al));
    if (av == NULL || al == NULL) {
        gh_redis_fail(r, "out of memory");
        goto done;
    }
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = sha;
    al[1] = 40;
    av[2] = nk;
    al[2] = (size_t)snprintf(nk, sizeof(nk), "%zu", nkeys);
    for (size_t i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = lens[i];
    }
    err = gh_redis_command(r, argc + 3, av, al, reply);
    if (err == GH_STORE_OK && gh_redis_reply_is_error(*reply, "NOSCRIPT")) {
        /* A new or restarted primary: load it and try once more. */
        gh_redis_reply_free(*reply);
        *reply = NULL;
        err = script_load(r, script, sha);
        if (err == GH_STORE_OK)
            err = gh_redis_command(r, argc + 3, av, al, reply);
    }
done:
    free(av);
    free(al);
    return err;
}
