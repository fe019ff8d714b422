/*
 * password.c: password hashes, made and checked.
 *
 * New hashes are argon2id PHC strings from libargon2 with a 16-byte salt from
 * RAND_bytes and a 32-byte output. Hashes imported from htpasswd or shadow
 * files (bcrypt, yescrypt, sha512crypt) are checked with libxcrypt's crypt_rn,
 * whose crypt_data lives on the heap: it is 32 KiB, too much for the small
 * stacks of thread-pool threads, and it is wiped before it is freed because
 * it holds the password's intermediate state.
 *
 * A stored hash names its own cost, so a planted or mistyped one could ask for
 * gigabytes or hours. Before any hashing the cost is read and held to the
 * bounds below; a hash outside them is GH_PASSWORD_BAD_HASH, never run.
 *
 * The hashing itself (argon2id, crypt_rn) runs through gh_lowprio_run, at a
 * lower priority than the event loops when the module asks for it; what
 * takes a lock others wait on (the salt from RAND_bytes) stays on the caller.
 */
#include "password.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>

#include "lowprio.h"
#include "token.h"

#define GH_PASSWORD_BCRYPT_COST_MIN    4
#define GH_PASSWORD_BCRYPT_COST_MAX    16        /* about 5 s on a 2020s core */
#define GH_PASSWORD_SHA512_ROUNDS_MIN  1000
#define GH_PASSWORD_SHA512_ROUNDS_MAX  1000000   /* passlib's default is 656000 */
#define GH_PASSWORD_YESCRYPT_COST_MAX  11        /* crypt_gensalt's top: 1 GiB */
#define GH_PASSWORD_B64_MIN_SALT       8
#define GH_PASSWORD_B64_MIN_HASH       16
#define GH_PASSWORD_B64_MAX            64

typedef enum {
    GH_PASSWORD_KIND_NONE = 0,
    GH_PASSWORD_KIND_ARGON2ID,
    GH_PASSWORD_KIND_BCRYPT,
    GH_PASSWORD_KIND_YESCRYPT,
    GH_PASSWORD_KIND_SHA512
} gh_password_kind;

/* What a well-formed argon2id PHC string says about itself. */
typedef struct {
    uint32_t t_cost, m_cost_kib, parallelism;
    size_t   salt_len, hash_len;    /* decoded bytes */
} gh_password_phc;

static gh_password_kind gh_password_kind_of(const char *hash)
{
    if (strncmp(hash, "$argon2id$", 10) == 0)
        return GH_PASSWORD_KIND_ARGON2ID;
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0
        || strncmp(hash, "$2y$", 4) == 0)
        return GH_PASSWORD_KIND_BCRYPT;
    if (strncmp(hash, "$y$", 3) == 0)
        return GH_PASSWORD_KIND_YESCRYPT;
    if (strncmp(hash, "$6$", 3) == 0)
        return GH_PASSWORD_KIND_SHA512;
    return GH_PASSWORD_KIND_NONE;
}

/* Decimal without sign or leading zeros, at most max; advances *s. */
static bool gh_password_uint(const char **s, uint32_t max, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;

    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return false;
    }
    *out = (uint32_t)v;
    *s = p;
    return true;
}

static bool gh_password_literal(const char **s, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*s, lit, n) != 0)
        return false;
    *s += n;
    return true;
}

static bool gh_password_b64char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int gh_password_b64value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

/*
 * Unpadded standard base64 as libargon2 writes it: a length of 1 mod 4 is
 * impossible, and the bits below the last whole byte must be zero, so each
 * byte string has exactly one spelling.
 */
static bool gh_password_b64(const char *s, size_t len, size_t *decoded)
{
    size_t rem = len % 4;

    if (len == 0 || rem == 1)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!gh_password_b64char(s[i]))
            return false;
    if (rem == 2 && (gh_password_b64value(s[len - 1]) & 0x0f) != 0)
        return false;
    if (rem == 3 && (gh_password_b64value(s[len - 1]) & 0x03) != 0)
        return false;
    *decoded = len / 4 * 3 + (rem ? rem - 1 : 0);
    return true;
}

/* $argon2id$v=19$m=M,t=T,p=P$SALT$HASH, every part within our bounds. */
static bool gh_password_phc_parse(const char *hash, gh_password_phc *phc)
{
    const char *s = hash, *salt, *dollar;
    uint32_t version;

    if (strnlen(hash, GH_PASSWORD_HASH_MAX) >= GH_PASSWORD_HASH_MAX)
        return false;
    if (!gh_password_literal(&s, "$argon2id$v=")
        || !gh_password_uint(&s, UINT32_MAX, &version) || version != ARGON2_VERSION_13
        || !gh_password_literal(&s, "$m=")
        || !gh_password_uint(&s, GH_ARGON2_M_MAX_KIB, &phc->m_cost_kib)
        || !gh_password_literal(&s, ",t=")
        || !gh_password_uint(&s, GH_ARGON2_T_MAX, &phc->t_cost)
        || !gh_password_literal(&s, ",p=")
        || !gh_password_uint(&s, GH_ARGON2_P_MAX, &phc->parallelism)
        || !gh_password_literal(&s, "$"))
        return false;
    if (phc->t_cost < GH_ARGON2_T_MIN || phc->parallelism < GH_ARGON2_P_MIN
        || phc->m_cost_kib < GH_ARGON2_M_MIN_KIB
        || phc->m_cost_kib < 8 * phc->parallelism)
        return false;
    salt = s;
    dollar = strchr(salt, '$');
    if (dollar == NULL
        || !gh_password_b64(salt, (size_t)(dollar - salt), &phc->salt_len)
        || !gh_password_b64(dollar + 1, strlen(dollar + 1), &phc->hash_len))
        return false;
    return phc->salt_len >= GH_PASSWORD_B64_MIN_SALT && phc->salt_len <= GH_PASSWORD_B64_MAX
        && phc->hash_len >= GH_PASSWORD_B64_MIN_HASH && phc->hash_len <= GH_PASSWORD_B64_MAX;
}

static bool gh_password_params_ok(const gh_argon2_params *p)
{
    return p != NULL
        && p->t_cost >= GH_ARGON2_T_MIN && p->t_cost <= GH_ARGON2_T_MAX
        && p->parallelism >= GH_ARGON2_P_MIN && p->parallelism <= GH_ARGON2_P_MAX
        && p->m_cost_kib >= GH_ARGON2_M_MIN_KIB && p->m_cost_kib <= GH_ARGON2_M_MAX_KIB
        && p->m_cost_kib >= 8 * p->parallelism;
}

/*
 * yescrypt packs its cost into a few itoa64 characters. Rather than decode
 * them, accept exactly the parameter strings crypt_gensalt writes for costs
 * 1..11: what mkpasswd, chpasswd and every libxcrypt-based tool produce.
 */
static bool gh_password_yescrypt_params_ok(const char *hash)
{
    static const char rbytes[16];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *params = hash + 3, *end = strchr(params, '$');
    size_t n;

    if (end == NULL)
        return false;
    n = (size_t)(end - params);
    for (unsigned long cost = 1; cost <= GH_PASSWORD_YESCRYPT_COST_MAX; cost++) {
        if (crypt_gensalt_rn("$y$", cost, rbytes, sizeof(rbytes),
                             setting, sizeof(setting)) == NULL)
            continue;
        if (strncmp(setting + 3, params, n) == 0 && setting[3 + n] == '$')
            return true;
    }
    return false;
}

/* The cheap checks on an imported hash: its form and its cost. */
static bool gh_password_crypt_sane(const char *hash, gh_password_kind kind)
{
    const char *s;
    uint32_t cost;

    if (strnlen(hash, GH_PASSWORD_HASH_MAX) >= GH_PASSWORD_HASH_MAX
        || crypt_checksalt(hash) != CRYPT_SALT_OK)
        return false;
    switch (kind) {
    case GH_PASSWORD_KIND_BCRYPT:
        /* Two digits exactly: "$2b$4$" is not a cost bcrypt would write. */
        s = hash + 4;
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != '$')
            return false;
        cost = (uint32_t)((s[0] - '0') * 10 + (s[1] - '0'));
        return cost >= GH_PASSWORD_BCRYPT_COST_MIN && cost <= GH_PASSWORD_BCRYPT_COST_MAX;
    case GH_PASSWORD_KIND_SHA512:
        s = hash + 3;
        if (!gh_password_literal(&s, "rounds="))
            return true;
        return gh_password_uint(&s, GH_PASSWORD_SHA512_ROUNDS_MAX, &cost)
            && cost >= GH_PASSWORD_SHA512_ROUNDS_MIN && *s == '$';
    case GH_PASSWORD_KIND_YESCRYPT:
        return gh_password_yescrypt_params_ok(hash);
    default:
        return false;
    }
}

typedef struct {
    const char        *phrase, *setting;
    struct crypt_data *data;
    const char        *out;
} gh_password_crypt_job;

static void gh_password_crypt_run(void *arg)
{
    gh_password_crypt_job *job = arg;

    job->out = crypt_rn(job->phrase, job->setting, job->data, (int)sizeof(*job->data));
}

/*
 * crypt_rn(password, hash) into out (CRYPT_OUTPUT_SIZE bytes). The result is
 * BAD_HASH unless the output is exactly as long as the hash: a hash of the
 * wrong length can never match, and saying so helps whoever imported it.
 */
static gh_password_result gh_password_crypt(const char *hash, const char *password,
                                            size_t len, char *out)
{
    char phrase[GH_PASSWORD_MAX + 1];
    gh_password_crypt_job job;
    struct crypt_data *data;
    gh_password_result res = GH_PASSWORD_ERROR;
    const char *r;

    memcpy(phrase, password, len);
    phrase[len] = '\0';
    data = calloc(1, sizeof(*data));
    if (data == NULL)
        goto done;
    job = (gh_password_crypt_job){ phrase, hash, data, NULL };
    gh_lowprio_run(gh_password_crypt_run, &job);
    r = job.out;
    if (r == NULL) {
        res = errno == ENOMEM ? GH_PASSWORD_ERROR : GH_PASSWORD_BAD_HASH;
        goto done;
    }
    if (strlen(r) != strlen(hash)) {
        res = GH_PASSWORD_BAD_HASH;
        goto done;
    }
    memcpy(out, r, strlen(r) + 1);
    res = GH_PASSWORD_OK;
done:
    gh_wipe(phrase, sizeof(phrase));
    if (data != NULL) {
        gh_wipe(data, sizeof(*data));
        free(data);
    }
    return res;
}

static gh_password_result gh_password_verify_crypt(const char *hash, gh_password_kind kind,
                                                   const char *password, size_t len)
{
    char out[CRYPT_OUTPUT_SIZE];
    gh_password_result res;

    if (!gh_password_crypt_sane(hash, kind))
        return GH_PASSWORD_BAD_HASH;
    /* crypt(3) takes a C string: a NUL inside would silently cut the password. */
    if (len > 0 && memchr(password, '\0', len) != NULL)
        return GH_PASSWORD_MISMATCH;
    res = gh_password_crypt(hash, password, len, out);
    if (res == GH_PASSWORD_OK && !gh_token_equal(out, hash, strlen(hash)))
        res = GH_PASSWORD_MISMATCH;
    gh_wipe(out, sizeof(out));
    return res;
}

typedef struct {
    const char *hash, *password;
    size_t      len;
    int         rc;
} gh_password_argon2_verify_job;

static void gh_password_argon2_verify_run(void *arg)
{
    gh_password_argon2_verify_job *job = arg;

    /* libargon2 compares the outputs in constant time and wipes its memory. */
    job->rc = argon2id_verify(job->hash, job->password, job->len);
}

static gh_password_result gh_password_verify_argon2(const char *hash,
                                                    const char *password, size_t len)
{
    gh_password_argon2_verify_job job = { hash, password, len, ARGON2_OK };
    gh_password_phc phc;

    if (!gh_password_phc_parse(hash, &phc))
        return GH_PASSWORD_BAD_HASH;
    gh_lowprio_run(gh_password_argon2_verify_run, &job);
    switch (job.rc) {
    case ARGON2_OK:
        return GH_PASSWORD_OK;
    case ARGON2_VERIFY_MISMATCH:
        return GH_PASSWORD_MISMATCH;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
        return GH_PASSWORD_ERROR;
    default:
        return GH_PASSWORD_BAD_HASH;
    }
}

gh_password_result gh_password_verify(const char *hash, const char *password, size_t len)
{
    gh_password_kind kind;

    if (hash == NULL)
        return GH_PASSWORD_BAD_HASH;
    kind = gh_password_kind_of(hash);
    if (kind == GH_PASSWORD_KIND_NONE)
        return GH_PASSWORD_BAD_HASH;
    if (len > GH_PASSWORD_MAX || (password == NULL && len > 0))
        return GH_PASSWORD_MISMATCH;
    if (password == NULL)
        password = "";
    if (kind == GH_PASSWORD_KIND_ARGON2ID)
        return gh_password_verify_argon2(hash, password, len);
    return gh_password_verify_crypt(hash, kind, password, len);
}

typedef struct {
    const gh_argon2_params *params;
    const char             *password;
    size_t                  len;
    const uint8_t          *salt;
    char                   *out;
    int                     rc;
} gh_password_argon2_hash_job;

static void gh_password_argon2_hash_run(void *arg)
{
    gh_password_argon2_hash_job *job = arg;

    job->rc = argon2id_hash_encoded(job->params->t_cost, job->params->m_cost_kib,
                                    job->params->parallelism, job->password, job->len,
                                    job->salt, GH_ARGON2_SALT_LEN, GH_ARGON2_HASH_LEN,
                                    job->out, GH_PASSWORD_HASH_MAX);
}

gh_password_result gh_password_hash(const gh_argon2_params *params,
                                    const char *password, size_t len,
                                    char out[GH_PASSWORD_HASH_MAX])
{
    uint8_t salt[GH_ARGON2_SALT_LEN];
    gh_password_argon2_hash_job job;
    gh_password_result res = GH_PASSWORD_ERROR;

    out[0] = '\0';
    if (!gh_password_params_ok(params) || len > GH_PASSWORD_MAX
        || (password == NULL && len > 0))
        goto done;
    if (password == NULL)
        password = "";
    if (gh_token_random(salt, sizeof(salt)) != 0)
        goto done;
    job = (gh_password_argon2_hash_job){ params, password, len, salt, out, ARGON2_OK };
    gh_lowprio_run(gh_password_argon2_hash_run, &job);
    if (job.rc != ARGON2_OK) {
        gh_wipe(out, GH_PASSWORD_HASH_MAX);
        out[0] = '\0';
        goto done;
    }
    res = GH_PASSWORD_OK;
done:
    gh_wipe(salt, sizeof(salt));
    return res;
}

bool gh_password_needs_rehash(const char *hash, const gh_argon2_params *params)
{
    gh_password_phc phc;

    if (hash == NULL || params == NULL || !gh_password_phc_parse(hash, &phc))
        return true;
    return phc.t_cost != params->t_cost || phc.m_cost_kib != params->m_cost_kib
        || phc.parallelism != params->parallelism
        || phc.salt_len != GH_ARGON2_SALT_LEN || phc.hash_len != GH_ARGON2_HASH_LEN;
}

/*
 * For a crypt hash the library itself is the judge of form: hashing any
 * phrase with the hash as setting must give back the same setting (salt
 * included) and a checksum of the same length in crypt's alphabet. This costs
 * one hash at the stated cost, which is bounded and paid once, at import.
 */
static bool gh_password_crypt_importable(const char *hash, gh_password_kind kind)
{
    static const char alphabet[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char out[CRYPT_OUTPUT_SIZE];
    size_t setting_len;
    bool ok = false;

    if (!gh_password_crypt_sane(hash, kind)
        || gh_password_crypt(hash, "", 0, out) != GH_PASSWORD_OK)
        goto done;
    /* bcrypt has no '$' between its 22-character salt and the checksum. */
    if (kind == GH_PASSWORD_KIND_BCRYPT)
        setting_len = 7 + 22;
    else
        setting_len = (size_t)(strrchr(hash, '$') - hash) + 1;
    if (strlen(hash) <= setting_len || memcmp(out, hash, setting_len) != 0)
        goto done;
    ok = strspn(hash + setting_len, alphabet) == strlen(hash + setting_len);
done:
    gh_wipe(out, sizeof(out));
    return ok;
}

bool gh_password_hash_importable(const char *hash)
{
    gh_password_phc phc;
    gh_password_kind kind;

    if (hash == NULL)
        return false;
    kind = gh_password_kind_of(hash);
    switch (kind) {
    case GH_PASSWORD_KIND_ARGON2ID:
        return gh_password_phc_parse(hash, &phc);
    case GH_PASSWORD_KIND_NONE:
        return false;
    default:
        return gh_password_crypt_importable(hash, kind);
    }
}
