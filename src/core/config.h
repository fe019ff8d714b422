/*
 * config.h: the configuration file (INI, read with libinih) and its defaults.
 * Every key is documented in docs/gatehouse.conf.example. Settings that the
 * API may change at run time (session timeout, lockout, password lengths) are
 * read from the store first and fall back to these values.
 *
 * The core's own sections are the fields of gh_config. Other sections are
 * declared by whoever owns them (each dialect, through its gh_dialect.config):
 * a gh_config_section names its keys with their types, bounds and places in
 * a settings struct of its own, and its defaults. Declaring one copies its
 * defaults into the gh_config itself (section_data, below), and the file is
 * read into it like any other section; the owner reads its settings back
 * with gh_config_section_get. So a section's settings live and die with the
 * gh_config they were read into: the nginx module reads the file in the
 * master, and every worker it forks has them; a reload reads a fresh copy
 * and a failed one changes nothing; the command line reads its own.
 */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H

#include "gh.h"
#include "password.h"

#define GH_PATH_MAX 1024

typedef enum {
    GH_CONFIG_INT,      /* int */
    GH_CONFIG_I64,      /* int64_t */
    GH_CONFIG_U32,      /* uint32_t */
    GH_CONFIG_ADDR,     /* char[]: HOST:PORT or [V6]:PORT */
    GH_CONFIG_URL,      /* char[]: http://HOST[:PORT], https://HOST[:PORT] or unix:/PATH */
    GH_CONFIG_NAME,     /* char[]: a user name */
    GH_CONFIG_PATH,     /* char[]: any printable text */
    GH_CONFIG_BOOL,     /* bool: true/false, yes/no, on/off */
    GH_CONFIG_NAMES,    /* char[]: names separated by commas and blanks */
    GH_CONFIG_LEVEL,    /* char[]: an nginx error-log level, emerg..info */
    GH_CONFIG_HOST,     /* char[]: a host name or an IP address */
    GH_CONFIG_PREFIX,   /* char[]: the start of a header name: letters, digits, '-' */
    GH_CONFIG_PATHS,    /* char[]: URL paths (/a/b), separated by commas and blanks */
    GH_CONFIG_TEXT      /* char[]: printable text, UTF-8 too, quotes and backslashes
                           allowed: never written into nginx.conf (LDAP DNs, filters) */
} gh_config_type;

typedef struct {
    const char     *name;
    gh_config_type  type;
    size_t          offset;     /* of its field in the section's settings */
    size_t          size;       /* of a char[] field */
    int64_t         min, max;   /* of a number */
    bool            empty_ok;   /* of a string */
} gh_config_key;

/* A section someone else owns: [name], its keys, and size bytes of settings
 * starting as a copy of defaults. Static storage; declared by address.
 *
 * A section whose keys are not known in advance (the [authorize] rules, one
 * key per path) has no key table but line: it is handed each "name = value"
 * of the section, in the order of the file, with its settings; false with
 * the reason in why refuses the line (reported as "FILE:LINE: name: why").
 * Such a section refuses an inline comment (" ;" after the value, which inih
 * would drop silently), so a value is never read short of what is written. */
typedef struct {
    const char          *name;
    const gh_config_key *keys;
    size_t               nkeys;
    const void          *defaults;
    size_t               size;
    bool               (*line)(void *settings, const char *name, const char *value,
                               char *why, size_t whylen);
} gh_config_section;

/* What a section's settings are aligned for: integers, doubles, pointers,
 * and no more than that, since a gh_config may live where an allocator gives
 * no more than that (an nginx pool: 8 bytes). */
typedef union {
    int64_t  i;
    double   d;
    void    *p;
} gh_config_align;

#define GH_CONFIG_SECTIONS_MAX     8      /* declared sections in one gh_config */
#define GH_CONFIG_SECTION_KEYS_MAX 32     /* keys of one declared section */
/* Settings of all of them together: the dialects' (about 2 KiB) and the
 * [authorize] rules (dialects/common/gateway.h, about 20 KiB). */
#define GH_CONFIG_SECTION_BYTES    (2048 + 20480)

/* Where a gateway passes requests on (docs/gateway.md): the upstream* keys,
 * in [server] and, key by key over it, in a section that carries them
 * (gh_config_upstream_declare). */
typedef struct {
    char     url[512];                /* upstream: empty = serve the bundled tree */
    char     ca[GH_PATH_MAX];         /* upstream_ca: empty = the system's CAs */
    char     server_name[256];        /* upstream_server_name: empty = the URL's host */
    char     client_cert[GH_PATH_MAX];/* upstream_client_cert: empty = none */
    char     client_key[GH_PATH_MAX]; /* upstream_client_key: with client_cert */
    int64_t  keepalive;               /* upstream_keepalive: 32 idle connections per worker */
    int64_t  connect_timeout;         /* upstream_connect_timeout: 5 s */
    int64_t  timeout;                 /* upstream_timeout: 60 s, each send and read */
} gh_config_upstream_t;

#define GH_CONFIG_UPSTREAM_KEYS 8     /* the keys of gh_config_upstream_t */

/* A directory profile: a [directory NAME] section (docs/directory.md). */
#define GH_DIRECTORY_MAX        4     /* profiles in one configuration */
#define GH_DIRECTORY_KEYS       22    /* the keys of gh_config_directory */
#define GH_DIRECTORY_RECHECK_MAX 86400 /* seconds: recheck_interval at most (a day) */
#define GH_DIRECTORY_DN_MAX     512   /* bytes of a DN or a filter */
#define GH_DIRECTORY_GROUPS_MAX 1024  /* bytes of a role's list of group DNs */
/* bytes of a sealed service password's base64 (directory_seal.h), with its
 * NUL: nonce 12 + password 256 + tag 16 = 284 bytes, 380 characters */
#define GH_DIRECTORY_SEALED_MAX 384

/* The kinds of directory (key kind): what a dialect shows a profile as. */
#define GH_DIRECTORY_KIND_LDAP "ldap"
#define GH_DIRECTORY_KIND_AD   "active_directory"

typedef struct {
    char     name[GH_DOMAIN_MAX + 1];           /* NAME of [directory NAME] */
    char     servers[512];                      /* ldap:// or ldaps:// URLs, tried in order */
    bool     starttls;                          /* false: StartTLS on ldap:// URLs */
    char     ca[GH_PATH_MAX];                   /* empty = the system's CAs */
    char     bind_dn[GH_DIRECTORY_DN_MAX];      /* the service account */
    char     bind_password_file[GH_PATH_MAX];   /* its password, read at each connect */
    /* The password sealed (directory_seal.h), in a shared store's profile
     * only: never a key of the file; "" = none. */
    char     bind_password_sealed[GH_DIRECTORY_SEALED_MAX];
    char     user_base[GH_DIRECTORY_DN_MAX];
    char     user_filter[GH_DIRECTORY_DN_MAX];  /* (objectClass=*) */
    char     user_attribute[64];                /* uid */
    char     group_attribute[64];               /* memberOf; empty = a group search */
    char     group_base[GH_DIRECTORY_DN_MAX];   /* empty = user_base */
    char     group_filter[GH_DIRECTORY_DN_MAX]; /* (objectClass=groupOfNames) */
    char     group_member_attribute[64];        /* member */
    char     administrator_groups[GH_DIRECTORY_GROUPS_MAX]; /* DNs separated by '|' */
    char     operator_groups[GH_DIRECTORY_GROUPS_MAX];
    char     readonly_groups[GH_DIRECTORY_GROUPS_MAX];
    int64_t  connect_timeout;                   /* 5 s */
    int64_t  bind_timeout;                      /* 5 s */
    int64_t  search_timeout;                    /* 10 s */
    int64_t  recheck_interval;                  /* 300 s: live sessions rechecked; 0 = never */
    bool     is_default;                        /* default: the profile for plain names */
    char     kind[24];                          /* GH_DIRECTORY_KIND_LDAP or _AD */
    bool     enabled;                           /* true; false: never asked, its users refused */
    int64_t  revision;                          /* not a key: 0 from the file, else the
                                                   store's count of writes of this name */
} gh_config_directory;

/* [store]: where the durable state is (store.h's gh_store_config, which
 * points into it). Every key may be left out: an empty url keeps the
 * embedded store in DATA_DIR. docs/scale-out.md. */
typedef struct {
    char     url[512];                /* empty = embedded; redis://, rediss://, unix:, redis-sentinel:// */
    char     username[64];            /* Redis ACL user */
    char     password_file[GH_PATH_MAX];
    char     tls_ca[GH_PATH_MAX];
    char     tls_cert[GH_PATH_MAX];
    char     tls_key[GH_PATH_MAX];
    char     tls_server_name[256];
    char     key_prefix[64];          /* "gh:" */
    char     secret_file[GH_PATH_MAX];/* empty = DATA_DIR/store-secret */
    int64_t  connect_timeout_ms;      /* 500 */
    int64_t  timeout_ms;              /* 1000 */
    int64_t  wait_replicas;           /* -1: 1 with Sentinel, else 0 */
    int64_t  wait_ms;                 /* 100 */
} gh_config_store;

typedef struct {
    /* [server] */
    char     listen[128];             /* 127.0.0.1:8443 */
    char     http_listen[128];        /* 127.0.0.1:8080; empty = none */
    char     metrics_listen[128];     /* 127.0.0.1:9145: /metrics, /healthz, /readyz; empty = none */
    char     user[64];                /* worker user when started as root; empty = owner of data dir */
    int      workers;                 /* 0 = one per core */
    char     nginx[GH_PATH_MAX];      /* /usr/sbin/nginx */
    char     module[GH_PATH_MAX];     /* path of ngx_http_gatehouse_module.so; empty = next to the binary */
    int64_t  max_body_bytes;          /* 65536 */
    int64_t  max_header_bytes;        /* 16384 */
    int64_t  idle_connection_seconds; /* 60 */
    int64_t  max_connections;         /* 1024 per worker */
    gh_config_upstream_t upstream;    /* the upstream* keys */
    char     identity_header_prefix[64];  /* "X-Gatehouse-" */
    char     upload_paths[1024];      /* request bodies streamed unbuffered; default: dialect.c */
    int64_t  upload_max_bytes;        /* 4 GiB: the body limit there */
    char     stream_paths[1024];      /* answers passed unbuffered; default: dialect.c */
    char     data_tree[GH_PATH_MAX];  /* bundled resource trees; empty = installed default */
    char     log_level[16];           /* "error": the least severe nginx error-log level written */

    /* [sessions] */
    int64_t  session_timeout;         /* 1800 s idle; live setting session_timeout */
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

    /* [store] */
    gh_config_store store;

    /* [directory NAME], in the order of the file */
    size_t   ndirectories;
    gh_config_directory directories[GH_DIRECTORY_MAX];

    /* Declared sections (gh_config_declare), in the order declared: each
     * one's settings at its offset in section_data. */
    size_t   nsections;
    struct {
        const gh_config_section *section;
        size_t                   offset;
    } declared[GH_CONFIG_SECTIONS_MAX];
    _Alignas(gh_config_align) unsigned char section_data[GH_CONFIG_SECTION_BYTES];

    /* Sections that carry the upstream* keys (gh_config_upstream_declare):
     * what each gave, and which keys it gave (bit i: key i of the table in
     * config_upstream.c), the others being [server]'s. */
    size_t   nupstreams;
    struct {
        char                 section[32];
        uint32_t             given;
        gh_config_upstream_t settings;
    } upstreams[GH_CONFIG_SECTIONS_MAX];
} gh_config;

/* Fill cfg with the core's defaults; no section is declared. */
void gh_config_defaults(gh_config *cfg);

/* Declare section in cfg and copy its defaults in. 0, or -1 with the reason
 * in err: a name the core or an earlier section has, too many sections or
 * keys, or no room left in section_data. */
int gh_config_declare(gh_config *cfg, const gh_config_section *section, char *err,
                      size_t errlen);

/* The settings of a section declared in cfg, or NULL (cfg NULL, or the
 * section not declared in it). Owned by cfg. */
const void *gh_config_section_get(const gh_config *cfg, const gh_config_section *section);
/* The same, to change them (a test, or the owner before anything reads). */
void *gh_config_section_edit(gh_config *cfg, const gh_config_section *section);

/* Let section [name] (declared or not) carry the upstream* keys, each one
 * given there winning over [server]'s. 0, or -1 with the reason in err: a
 * core section, a name too long or given twice, too many. */
int gh_config_upstream_declare(gh_config *cfg, const char *name, char *err, size_t errlen);

/* The upstream in force for section [name] into *out: [server]'s keys with
 * those the section gave over them; [server]'s alone for NULL or a section
 * that carries none. */
void gh_config_upstream(const gh_config *cfg, const char *name, gh_config_upstream_t *out);

/* Read an INI file over the defaults already in cfg. 0 on success; otherwise
 * -1 with a message naming the file, line and key in err. */
int gh_config_load(gh_config *cfg, const char *path, char *err, size_t errlen);

/* The directory profile called name, or NULL. Owned by cfg. */
const gh_config_directory *gh_config_directory_get(const gh_config *cfg, const char *name);
/* The profile marked default (at most one is), or NULL. Owned by cfg. */
const gh_config_directory *gh_config_directory_default(const gh_config *cfg);

/* A [directory NAME] section's profile with its defaults (no name). */
void gh_config_directory_defaults(gh_config_directory *d);

/* NAME of [directory NAME]: 1 to GH_DOMAIN_MAX letters, digits, '.', '_',
 * '-', and not "internal" (the local accounts' domain). */
bool gh_config_directory_name_ok(const char *name);

/* Does profile p keep the rules every profile of the file keeps (servers
 * and user_base given, URLs, DNs, filters, attributes, no clear text over a
 * network)? false with the reason in *why. The rules between profiles (one
 * default) are the caller's. A profile must also map a group to a role,
 * but for one written through an API that is disabled (enabled false). */
bool gh_config_directory_valid(const gh_config_directory *p, const char **why);

/* A profile's keys as "key=value" lines, each key once, into out (how the
 * store keeps a profile written through the API); false if out is too
 * small. gh_config_directory_read sets the keys of such lines over p, each
 * judged as the file's would be: false with the reason in *why. Neither
 * touches p's name or revision. The store's text alone may carry a line
 * bind_password_sealed (base64, checked as such only: opening it is
 * service_directory.c's). */
#define GH_DIRECTORY_TEXT_MAX 12288
bool gh_config_directory_write(const gh_config_directory *p, char *out, size_t outlen);
bool gh_config_directory_read(gh_config_directory *p, const char *text, const char **why);

/* Is name (len bytes, not NUL-terminated) one of the names of a list key
 * (GH_CONFIG_NAMES: names separated by commas and blanks)? Exact match. */
bool gh_config_list_has(const char *list, const char *name, size_t len);

#endif
