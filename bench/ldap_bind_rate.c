/*
 * ldap_bind_rate.c: bench/run's reference for directory logins (row 10): as
 * many directory logins per second as THREADS threads get from one LDAP
 * server, each doing what gatehouse does for one login
 * (src/core/directory_ldap.c), operation for operation, over connections
 * it keeps:
 *
 *   1. on a connection bound as the service account: a subtree search of
 *      the user base for (&FILTER(ATTR=NAME)), NAME escaped by libldap, at
 *      most 2 entries, asking for the group attribute (or "1.1" without one);
 *   2. without a group attribute, a search of the group base for
 *      (&GROUP_FILTER(MEMBER_ATTR=USER_DN)), "1.1", at most 256 entries;
 *   3. on a second connection, used for nothing else: a simple bind as the
 *      entry's DN with the user's password.
 *
 * Each thread opens its two connections once, with gatehouse's options
 * (LDAPv3, referrals off, the timeouts, the server's certificate verified
 * against the CA, a TLS context of its own), and logs in until the time is
 * up. Any answer but success stops it: a rate of failures measures nothing.
 *
 * Options: -H URL -C CA [-Z (StartTLS)] -D SERVICE_DN -y SERVICE_PW_FILE
 *          -b USER_BASE -f USER_FILTER -a USER_ATTR -u NAME -w PASSWORD_FILE
 *          [-g GROUP_ATTR | -B GROUP_BASE -F GROUP_FILTER -m MEMBER_ATTR]
 *          -s SECONDS [-t THREADS]
 * Prints: rate=... logins=... seconds=... threads=...
 */
#define LDAP_DEPRECATED 0

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#define RATE_MAX_THREADS 64
#define RATE_GROUPS_READ 256    /* GH_DIRECTORY_GROUPS_READ */
#define RATE_TEXT_MAX    1024

typedef struct {
    const char *url, *ca, *service_dn, *user_base, *user_filter, *user_attr, *user;
    const char *group_attr, *group_base, *group_filter, *member_attr;
    char        service_pw[RATE_TEXT_MAX], user_pw[RATE_TEXT_MAX];
    bool        starttls;
    long        seconds, threads;
} rate_conf;

typedef struct {
    const rate_conf *conf;
    double           deadline;
    long             logins;
    char             error[256];
} rate_job;

static double rate_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A handle with gatehouse's options, connected (StartTLS when asked) and,
 * when dn is not NULL, bound as dn. */
static int rate_open(const rate_conf *c, const char *dn, const char *pw, LDAP **out)
{
    struct timeval tv = { 5, 0 };
    struct berval  cred = { (ber_len_t)strlen(pw), (char *)pw };
    int            version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
    LDAP          *ld = NULL;
    int            rc;

    rc = ldap_initialize(&ld, c->url);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ca);
    if (rc == LDAP_SUCCESS)
        rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    if (rc == LDAP_SUCCESS)
        rc = ldap_connect(ld);
    if (rc == LDAP_SUCCESS && c->starttls)
        rc = ldap_start_tls_s(ld, NULL, NULL);
    if (rc == LDAP_SUCCESS && dn != NULL)
        rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS && ld != NULL) {
        ldap_unbind_ext_s(ld, NULL, NULL);
        ld = NULL;
    }
    *out = ld;
    return rc;
}

/* "(&BASE(ATTR=VALUE))", VALUE escaped by libldap. */
static int rate_filter(const char *base, const char *attr, const char *value, char *out,
                       size_t outlen)
{
    struct berval in = { (ber_len_t)strlen(value), (char *)value }, esc = { 0, NULL };
    int           rc = ldap_bv2escaped_filter_value(&in, &esc);

    if (rc == 0 && (size_t)snprintf(out, outlen, "(&%s(%s=%s))", base, attr, esc.bv_val)
                       >= outlen)
        rc = LDAP_FILTER_ERROR;
    ber_memfree(esc.bv_val);
    return rc == 0 ? LDAP_SUCCESS : rc;
}

/* Steps 1 and 2: the user's DN (*dn, ldap_memfree) and the number of its
 * groups (each DN read, as gatehouse reads them). */
static int rate_search(LDAP *ld, const rate_conf *c, char **dn, size_t *ngroups)
{
    struct timeval tv = { 10, 0 };
    char          *attrs[] = { c->group_attr[0] != '\0' ? (char *)c->group_attr : "1.1", NULL };
    char          *one[] = { "1.1", NULL };
    char           filter[RATE_TEXT_MAX * 4];
    LDAPMessage   *res = NULL, *e;
    struct berval **vals = NULL;
    int            rc;

    *dn = NULL;
    *ngroups = 0;
    rc = rate_filter(c->user_filter, c->user_attr, c->user, filter, sizeof(filter));
    if (rc == LDAP_SUCCESS)
        rc = ldap_search_ext_s(ld, c->user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
                               NULL, &tv, 2, &res);
    if (rc == LDAP_SUCCESS && ldap_count_entries(ld, res) != 1)
        rc = LDAP_NO_SUCH_OBJECT;
    e = rc == LDAP_SUCCESS ? ldap_first_entry(ld, res) : NULL;
    if (e != NULL && (*dn = ldap_get_dn(ld, e)) == NULL)
        rc = LDAP_DECODING_ERROR;
    if (rc == LDAP_SUCCESS && c->group_attr[0] != '\0')
        vals = ldap_get_values_len(ld, e, c->group_attr);
    for (size_t i = 0; vals != NULL && vals[i] != NULL && i < RATE_GROUPS_READ; i++)
        (*ngroups)++;
    ldap_value_free_len(vals);
    ldap_msgfree(res);
    res = NULL;
    if (rc != LDAP_SUCCESS || c->group_attr[0] != '\0')
        return rc;
    rc = rate_filter(c->group_filter, c->member_attr, *dn, filter, sizeof(filter));
    if (rc == LDAP_SUCCESS)
        rc = ldap_search_ext_s(ld, c->group_base, LDAP_SCOPE_SUBTREE, filter, one, 0, NULL,
                               NULL, &tv, RATE_GROUPS_READ, &res);
    for (e = ldap_first_entry(ld, res); rc == LDAP_SUCCESS && e != NULL;
         e = ldap_next_entry(ld, e)) {
        char *gdn = ldap_get_dn(ld, e);

        if (gdn != NULL)
            (*ngroups)++;
        ldap_memfree(gdn);
    }
    ldap_msgfree(res);
    return rc;
}

static void *rate_worker(void *arg)
{
    rate_job        *job = arg;
    const rate_conf *c = job->conf;
    struct berval    cred = { (ber_len_t)strlen(c->user_pw), (char *)c->user_pw };
    LDAP            *search = NULL, *bind = NULL;
    const char      *step = "connect";
    int              rc;

    rc = rate_open(c, c->service_dn, c->service_pw, &search);
    if (rc == LDAP_SUCCESS)
        rc = rate_open(c, NULL, "", &bind);
    while (rc == LDAP_SUCCESS && rate_clock() < job->deadline) {
        char  *dn = NULL;
        size_t ngroups = 0;

        step = "search";
        rc = rate_search(search, c, &dn, &ngroups);
        if (rc == LDAP_SUCCESS && ngroups == 0)
            rc = LDAP_NO_SUCH_ATTRIBUTE;
        if (rc == LDAP_SUCCESS) {
            step = "bind";
            rc = ldap_sasl_bind_s(bind, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
        }
        ldap_memfree(dn);
        if (rc == LDAP_SUCCESS)
            job->logins++;
    }
    if (rc != LDAP_SUCCESS)
        snprintf(job->error, sizeof(job->error), "%s: %s", step, ldap_err2string(rc));
    if (search != NULL)
        ldap_unbind_ext_s(search, NULL, NULL);
    if (bind != NULL)
        ldap_unbind_ext_s(bind, NULL, NULL);
    return NULL;
}

static long rate_arg(const char *text, long lo, long hi)
{
    char *end;
    long  v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "ldap_bind_rate: '%s' is not a number %ld..%ld\n", text, lo, hi);
        exit(2);
    }
    return v;
}

/* The first line of a file, without its end. */
static void rate_read(const char *path, char *out, size_t outlen)
{
    FILE  *f = fopen(path, "re");
    size_t n = 0;

    if (f == NULL || (n = fread(out, 1, outlen - 1, f)) == 0) {
        fprintf(stderr, "ldap_bind_rate: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
}

static void rate_usage(void)
{
    fprintf(stderr, "usage: ldap_bind_rate -H URL -C CA [-Z] -D SERVICE_DN -y SERVICE_PW_FILE "
                    "-b USER_BASE -f USER_FILTER -a USER_ATTR -u NAME -w PASSWORD_FILE "
                    "[-g GROUP_ATTR | -B GROUP_BASE -F GROUP_FILTER -m MEMBER_ATTR] "
                    "-s SECONDS [-t THREADS]\n");
    exit(2);
}

static void rate_options(int argc, char **argv, rate_conf *c)
{
    int opt;

    memset(c, 0, sizeof(*c));
    c->group_attr = c->group_base = c->group_filter = c->member_attr = "";
    c->threads = sysconf(_SC_NPROCESSORS_ONLN);
    while ((opt = getopt(argc, argv, "H:C:ZD:y:b:f:a:u:w:g:B:F:m:s:t:")) != -1) {
        switch (opt) {
        case 'H': c->url = optarg; break;
        case 'C': c->ca = optarg; break;
        case 'Z': c->starttls = true; break;
        case 'D': c->service_dn = optarg; break;
        case 'y': rate_read(optarg, c->service_pw, sizeof(c->service_pw)); break;
        case 'b': c->user_base = optarg; break;
        case 'f': c->user_filter = optarg; break;
        case 'a': c->user_attr = optarg; break;
        case 'u': c->user = optarg; break;
        case 'w': rate_read(optarg, c->user_pw, sizeof(c->user_pw)); break;
        case 'g': c->group_attr = optarg; break;
        case 'B': c->group_base = optarg; break;
        case 'F': c->group_filter = optarg; break;
        case 'm': c->member_attr = optarg; break;
        case 's': c->seconds = rate_arg(optarg, 1, 3600); break;
        case 't': c->threads = rate_arg(optarg, 1, RATE_MAX_THREADS); break;
        default: rate_usage();
        }
    }
    if (c->url == NULL || c->ca == NULL || c->service_dn == NULL || c->user_base == NULL ||
        c->user_filter == NULL || c->user_attr == NULL || c->user == NULL ||
        c->user_pw[0] == '\0' || c->seconds == 0 || optind != argc ||
        (c->group_attr[0] == '\0' && (c->group_base[0] == '\0' || c->group_filter[0] == '\0' ||
                                      c->member_attr[0] == '\0')))
        rate_usage();
    if (c->threads < 1)
        c->threads = 1;
    if (c->threads > RATE_MAX_THREADS)
        c->threads = RATE_MAX_THREADS;
}

int main(int argc, char **argv)
{
    static rate_job jobs[RATE_MAX_THREADS];
    static rate_conf conf;
    pthread_t        tid[RATE_MAX_THREADS];
    long             total = 0, i;
    double           t0, elapsed;
    int              status = 0;

    rate_options(argc, argv, &conf);
    t0 = rate_clock();
    for (i = 0; i < conf.threads; i++) {
        jobs[i].conf = &conf;
        jobs[i].deadline = t0 + (double)conf.seconds;
        if (pthread_create(&tid[i], NULL, rate_worker, &jobs[i]) != 0) {
            fprintf(stderr, "ldap_bind_rate: cannot start thread %ld\n", i);
            return 1;
        }
    }
    for (i = 0; i < conf.threads; i++) {
        pthread_join(tid[i], NULL);
        if (jobs[i].error[0] != '\0') {
            fprintf(stderr, "ldap_bind_rate: thread %ld: %s\n", i, jobs[i].error);
            status = 1;
        }
        total += jobs[i].logins;
    }
    elapsed = rate_clock() - t0;
    if (status == 0)
        printf("rate=%.2f logins=%ld seconds=%.3f threads=%ld\n", (double)total / elapsed,
               total, elapsed, conf.threads);
    return status;
}
