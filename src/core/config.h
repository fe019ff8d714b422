/*
 * config.h: the configuration file (INI, read with libinih) and its defaults.
 * Every key is documented in docs/gatehouse.conf.example. Settings that the
 * API may change at run time (session timeout, lockout, password lengths) are
 * read from the store first and fall back to these values.
 */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H

#include "gh.h"
#include "password.h"

#define GH_PATH_MAX 1024

typedef struct {
    /* [server] */
    char     listen[128];             /* 127.0.0.1:8443 */
    char     http_listen[128];        /* 127.0.0.1:8080; empty = none */
    char     user[64];                /* worker user when started as root; empty = owner of data dir */
    int      workers;                 /* 0 = one per core */
    char     nginx[GH_PATH_MAX];      /* /usr/sbin/nginx */
    char     module[GH_PATH_MAX];     /* path of ngx_http_gatehouse_module.so; empty = next to the binary */
    int64_t  max_body_bytes;          /* 65536 */
    int64_t  max_header_bytes;        /* 16384 */
    int64_t  idle_connection_seconds; /* 60 */
    int64_t  max_connections;         /* 1024 per worker */
    char     upstream[512];           /* empty = serve the bundled tree */
    char     data_tree[GH_PATH_MAX];  /* bundled resource trees; empty = installed default */
    char     log_level[16];           /* "error": the least severe nginx error-log level written */

    /* [sessions] */
    int64_t  session_timeout;         /* 1800 s idle (Redfish SessionTimeout) */
    int64_t  session_lifetime;        /* 0 = no absolute end */
    int64_t  max_sessions;            /* 10000 in total */
    int64_t  max_sessions_per_account;/* 64 */

    /* [credcache] */
    int64_t  credcache_seconds;       /* 300 */
    int64_t  credcache_entries;       /* 4096 */

    /* [password] */
    gh_argon2_params argon2;          /* t=2, m=19456 KiB, p=1 */
    int      hash_threads;            /* per worker; 0 = cores / workers, rounded up */
    int      hash_nice;               /* 10: nice of the hashing, above the event loops'; 0 = none */
    bool     upgrade_hashes;          /* true: a good login rehashes to argon2id at these params */
    int64_t  min_password_length;     /* 8 */
    int64_t  max_password_length;     /* 128 */

    /* [lockout] */
    int64_t  lockout_threshold;       /* 5 failures from one source lock the account there; 0 = never */
    int64_t  lockout_account_threshold; /* 50 failures from all sources lock it everywhere; 0 = never */
    int64_t  lockout_duration;        /* 300 s */
    int64_t  lockout_reset_after;     /* 300 s */

    /* [throttle] */
    int64_t  throttle_failures;       /* 10 failures from one source within the window, then delays; 0 = off */
    int64_t  throttle_window;         /* 300 s */
    int64_t  throttle_delay;          /* 1 s, doubling at each further failure */
    int64_t  throttle_max_delay;      /* 60 s */

    /* [events] */
    int64_t  max_streams;             /* 64 open event streams per worker; 0 = none */
    int64_t  keepalive_seconds;       /* 15: a comment on a quiet event stream */

    /* [audit] */
    char     audit_log[GH_PATH_MAX];  /* empty = DATA_DIR/audit.log */

    /* [ovirt] */
    struct {
        char     profiles[256];       /* "internal": the profiles (domains) a user@profile may name */
        int64_t  token_idle_timeout;  /* 1800 s unused before a token ends; 0 = none */
        int64_t  token_timeout;       /* 360000 s (100 h) since last use, at most */
        bool     single_token_per_user; /* false: a new token leaves earlier ones alone */
        bool     csrf_protection;     /* false: Prefer: csrf-protection is ignored */
    } ovirt;

    /* [powerstore] */
    struct {
        int64_t  idle_timeout;        /* 3600 s unused before an auth_cookie session ends */
    } powerstore;
} gh_config;

/* Fill cfg with the defaults. */
void gh_config_defaults(gh_config *cfg);

/* Read an INI file over the defaults already in cfg. 0 on success; otherwise
 * -1 with a message naming the file, line and key in err. */
int gh_config_load(gh_config *cfg, const char *path, char *err, size_t errlen);

/* Is name (len bytes, not NUL-terminated) one of the names of a list key such
 * as [ovirt] profiles (names separated by commas and blanks)? Exact match. */
bool gh_config_list_has(const char *list, const char *name, size_t len);

#endif
