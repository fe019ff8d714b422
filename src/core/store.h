/*
 * store.h: the durable store: accounts, sessions, live settings and the change
 * log, in one SQLite database (WAL, the embedded store) or in Redis (several
 * nodes sharing one state, docs/scale-out.md); which one is the backend's
 * business (store_backend.h), callers see only this interface. Every call is
 * synchronous and may wait on disk or the network: call it from the command
 * line or an nginx thread-pool task, never an event loop. One gh_store is one
 * connection; use one per thread.
 *
 * The change log is how the command line and the API reach every running
 * worker: each write that matters to a running server (an account changed or
 * deleted, a session revoked, a setting changed) appends a row with a growing
 * sequence number, in the same transaction as the write itself.
 */
#ifndef GH_STORE_H
#define GH_STORE_H

#include "config.h"
#include "gh.h"
#include "lockout.h"
#include "password.h"
#include "role.h"
#include "token.h"

typedef struct gh_store gh_store;

/* Rows of one page of a walk (store_internal.h's GH_STORE_PAGE). */
#define GH_STORE_PAGE_MAX 16

typedef enum {
    GH_STORE_OK = 0,
    GH_STORE_NOT_FOUND,
    GH_STORE_EXISTS,       /* a unique name is taken */
    GH_STORE_CONFLICT,     /* expected generation did not match */
    GH_STORE_BUSY,         /* the database stayed locked past the busy timeout, or
                              (Redis) a key read in a transaction changed before
                              it committed: run the whole transaction again */
    GH_STORE_ERROR,
    GH_STORE_LIMIT,        /* gh_store_session_insert_limited: the account has
                              its most live sessions already */
    GH_STORE_GAP           /* gh_store_change_since: the log was trimmed past
                              seq; what a reader holds may be stale: drop it */
} gh_store_err;

/* Short English text for an error code. Static storage. */
const char *gh_store_strerror(gh_store_err err);

typedef struct {
    int64_t  id;
    char     name[GH_USER_NAME_MAX + 1];
    char     domain[GH_DOMAIN_MAX + 1];     /* "internal" for local accounts */
    gh_role  role;
    bool     enabled;
    bool     built_in;                      /* the account made by init */
    bool     password_change_required;
    int64_t  locked_until;                  /* epoch seconds; 0 when not locked;
                                               GH_LOCKED_BY_ADMIN: until unlocked */
    int64_t  generation;                    /* bumped by every update; an ETag */
    int64_t  created;
    char     password_hash[GH_PASSWORD_HASH_MAX];
} gh_account;

/* locked_until of an account an administrator locked (`gatehouse user lock`):
 * no login until an unlock, and its sessions end. Any other lock is one of
 * failed logins: it stops new logins only. */
#define GH_LOCKED_BY_ADMIN INT64_MAX

/* The text fields come first, so the record packs into the shared block's
 * session node without holes. */
typedef struct {
    char     id[GH_SESSION_ID_LEN + 1];     /* public id, in URLs */
    uint8_t  digest[GH_DIGEST_LEN];         /* SHA-256 of the token */
    char     user[GH_USER_NAME_MAX + 1];
    char     dialect[GH_DIALECT_NAME_MAX + 1]; /* the name of the dialect that made
                                               it; opaque to the core */
    char     client_addr[GH_ADDR_MAX + 1];
    int64_t  account_id;
    int64_t  created;
    int64_t  last_used;
    int64_t  idle_timeout;                  /* seconds; 0 = the service's current default */
    int64_t  expires;                       /* absolute end, epoch seconds; 0 = none */
} gh_session_record;

typedef enum {
    GH_CHANGE_ACCOUNT = 1,     /* subject_id = account id: changed or deleted */
    GH_CHANGE_SESSION = 2,     /* subject = session id: revoked */
    GH_CHANGE_SETTING = 3,     /* subject = setting key */
    GH_CHANGE_DIRECTORY = 4    /* subject = profile name ("" when too long: any) */
} gh_change_kind;

typedef struct {
    int64_t        seq;
    gh_change_kind kind;
    int64_t        subject_id;
    char           subject[GH_SESSION_ID_LEN + 1];
} gh_change;

/* Open (creating if needed) the database at path, mode 0600, WAL, schema
 * migrated. *out owned by the caller, released with gh_store_close. */
/* Before schema 5 a session named its dialect by a number, n standing for
 * names[n - 1]; the migration to 5 writes the names instead. Whoever knows
 * the dialects says so once, before the first open (names, static, are
 * kept). A database holding a number that names no dialect here is left
 * at its version and not opened (GH_STORE_ERROR): nothing is guessed. */
void gh_store_numbered_dialects(const char *const *names, size_t n);
gh_store_err gh_store_open(const char *path, gh_store **out);
void gh_store_close(gh_store *store);

/* Where the store is: the [store] section of gatehouse.conf (config.h's
 * gh_config.store), or what the command line was given. Strings are the
 * caller's and must outlive every store opened with it. */
typedef struct {
    const char *url;              /* NULL or "": the embedded store at path;
                                     redis://[USER@]HOST:PORT[/DB],
                                     rediss://... (TLS), unix:/PATH[?db=N],
                                     redis-sentinel://H1:P1,H2:P2/MASTER[/DB] */
    const char *path;             /* the SQLite file of the embedded store */
    const char *username;         /* Redis ACL user; NULL/"": default */
    const char *password_file;    /* Redis password, first line; NULL/"": none */
    const char *tls_ca;           /* rediss: CA file the server is verified by */
    const char *tls_cert;         /* rediss: client certificate, optional */
    const char *tls_key;          /* rediss: its key */
    const char *tls_server_name;  /* rediss: SNI and the name verified; default host */
    const char *key_prefix;       /* every Redis key starts with it; default "gh:" */
    const char *secret_file;      /* Redis: the 32-byte server secret, the same
                                     file on every node (never in Redis) */
    int         connect_timeout_ms; /* 0: 500 */
    int         timeout_ms;       /* a command's answer; 0: 1000 */
    int         wait_replicas;    /* replicas a write waits for (WAIT); < 0: 1
                                     with Sentinel, else 0 */
    int         wait_ms;          /* how long WAIT waits; 0: 100 */
} gh_store_config;

/* Open the store cfg names: the embedded one (as gh_store_open(cfg->path))
 * when cfg->url is empty, else a connection to Redis, checked (the server is
 * a primary, the keys were made by `gatehouse init --store` with this
 * secret). A Redis connection lost later is made again by the next call
 * that needs it (at most one try per 100 ms; calls in between fail at once,
 * GH_STORE_ERROR): a store opened once stays usable across outages and
 * failovers. The first open fails when Redis cannot be reached. */
gh_store_err gh_store_open_config(const gh_store_config *cfg, gh_store **out);
/* Why the last gh_store_open_config on this thread failed, for a message
 * (the Redis backend's reason, naming what to fix, never a secret; else
 * gh_store_strerror's text). Static or thread-local storage. */
const char *gh_store_open_error(void);

/* The files a config made by gh_store_config_from names in the data
 * directory: the embedded database, and the default secret file. */
typedef struct {
    char path[GH_PATH_MAX];           /* DATA_DIR/gatehouse.db */
    char secret_file[GH_PATH_MAX];    /* DATA_DIR/store-secret */
} gh_store_paths;
/* Fill out from gatehouse.conf's [store] section (sec) and the data
 * directory: out's strings point into sec and paths, which must outlive it.
 * False when a path does not fit. */
bool gh_store_config_from(const gh_config_store *sec, const char *data_dir,
                          gh_store_paths *paths, gh_store_config *out);
/* True when other nodes share this store (Redis): what a node holds of it
 * is a cache, kept true by the change log and the bell below. */
bool gh_store_shared(const gh_store *store);
/* The backend's reason for the last GH_STORE_ERROR, for a log line (never a
 * secret): static or owned by the store until its next call. */
const char *gh_store_last_error(const gh_store *store);

/* The bell: rung (Redis pub/sub) by every write that logs a change, so a
 * node learns of it at once instead of at its next poll of the log. open
 * subscribes on a connection of its own (GH_STORE_NOT_FOUND: this backend
 * has no bell; poll the log). wait waits up to timeout_ms: GH_STORE_OK when
 * it rang (*seq: the newest change it announced), GH_STORE_NOT_FOUND when
 * it did not, GH_STORE_ERROR when the subscription was lost (messages may
 * have been missed: whatever the caller holds may be stale). It checks the
 * connection itself (a PING each second while quiet). close unsubscribes. */
typedef struct gh_store_bell gh_store_bell;
gh_store_err gh_store_bell_open(const gh_store_config *cfg, gh_store_bell **out);
gh_store_err gh_store_bell_wait(gh_store_bell *bell, int timeout_ms, int64_t *seq);
void gh_store_bell_close(gh_store_bell *bell);

/* Several writes as one transaction (each write then commits with it, not
 * alone). begin is BEGIN IMMEDIATE: it takes the write lock now, under the
 * busy timeout, rather than fail later when a read would have to become a
 * write. end commits when err is GH_STORE_OK, else rolls back, and returns
 * the final result. Only single-statement writes may run inside one
 * (gh_store_account_add, gh_store_session_insert); the others open their own
 * transaction, which SQLite does not nest. */
gh_store_err gh_store_begin(gh_store *store);
gh_store_err gh_store_end(gh_store *store, gh_store_err err);
/* How many times a caller runs a whole transaction whose end answered
 * GH_STORE_BUSY (on Redis: a key it read changed before it committed). */
#define GH_STORE_TX_TRIES 5

/* The 32-byte server secret, made at first open and kept in the database. */
gh_store_err gh_store_secret(gh_store *store, uint8_t out[GH_DIGEST_LEN]);

/* Accounts. Names are unique and compared exactly. */
gh_store_err gh_store_account_get(gh_store *store, const char *name, gh_account *out);
gh_store_err gh_store_account_get_by_id(gh_store *store, int64_t id, gh_account *out);
/* Fills acct->id, ->generation (1) and ->created (now). Logs no change: no
 * worker holds anything of an account that did not exist. */
gh_store_err gh_store_account_add(gh_store *store, gh_account *acct);
/* Writes every field of acct by id; expected_generation < 0 skips the check.
 * Bumps acct->generation and logs a GH_CHANGE_ACCOUNT. */
gh_store_err gh_store_account_update(gh_store *store, gh_account *acct,
                                     int64_t expected_generation);
/* Deletes the account and all its sessions; logs a GH_CHANGE_ACCOUNT. */
gh_store_err gh_store_account_delete(gh_store *store, int64_t id);
/* Calls cb for each account in id order; a non-zero return stops the walk.
 * Walks read a page of rows at a time, so a callback may use the same store. */
typedef int (*gh_account_cb)(const gh_account *acct, void *arg);
gh_store_err gh_store_account_foreach(gh_store *store, gh_account_cb cb, void *arg);
/* The ids of up to GH_STORE_PAGE accounts of domain that have a stored
 * session and whose attribute (dialect, name), read as a leading integer,
 * is at most before or missing: those without one first, then the
 * smallest. *n receives how many. (What falls due: directory users'
 * rechecks, service_recheck.c.) */
gh_store_err gh_store_account_due(gh_store *store, const char *domain, const char *dialect,
                                  const char *name, int64_t before,
                                  int64_t ids[GH_STORE_PAGE_MAX], size_t *n);

/* Sessions. Insert and delete are durable (committed) when they return.
 * Insert: GH_STORE_EXISTS if the id or digest is taken, GH_STORE_NOT_FOUND if
 * account_id names no account. */
gh_store_err gh_store_session_insert(gh_store *store, const gh_session_record *rec);
/* The same, as one atomic step with the per-account limit: GH_STORE_LIMIT
 * when the account holds max_per_account sessions live at now already (the
 * rule of gh_store_session_ended with default_idle); max_per_account <= 0
 * sets no limit. No other writer, on any node, can slip in between the count
 * and the insert. */
gh_store_err gh_store_session_insert_limited(gh_store *store, const gh_session_record *rec,
                                             int64_t max_per_account, int64_t now,
                                             int64_t default_idle);
/* A session by its token digest, with what a node caches of it: its
 * account's role and password-change flag and the change-log sequence read
 * in the same snapshot (a cache fill made with it is only kept by a reader
 * that has applied no later change). GH_STORE_NOT_FOUND: none, or its
 * account is gone or disabled. acct may be NULL. */
typedef struct {
    gh_role role;
    bool    password_change_required;
    bool    enabled;
    int64_t locked_until;
    int64_t seq;
} gh_store_session_owner;
gh_store_err gh_store_session_find_digest(gh_store *store, const uint8_t digest[GH_DIGEST_LEN],
                                          gh_session_record *out,
                                          gh_store_session_owner *acct);
gh_store_err gh_store_session_get(gh_store *store, const char *id, gh_session_record *out);
/* Deletes one session and logs a GH_CHANGE_SESSION. */
gh_store_err gh_store_session_delete(gh_store *store, const char *id);
/* Deletes every session of an account; logs one GH_CHANGE_ACCOUNT (even when
 * none was stored). *count may be NULL. */
gh_store_err gh_store_session_delete_account(gh_store *store, int64_t account_id,
                                             int *count);
/* Whether a session has ended at now: once now >= expires (when expires > 0)
 * or now - last_used >= idle, idle being idle_timeout when it is > 0, else
 * default_idle; an idle <= 0 never ends a session. */
bool gh_store_session_ended(const gh_session_record *rec, int64_t now, int64_t default_idle);
/* Whether a session that has ended did so by its absolute end (expires)
 * rather than by idleness, whichever came first: the reason the metrics
 * give its end. */
bool gh_store_session_ended_by_lifetime(const gh_session_record *rec, int64_t default_idle);
/* Rows one expiry transaction deletes at most. */
#define GH_STORE_EXPIRE_BATCH 10000
/* Deletes, in one transaction, up to GH_STORE_EXPIRE_BATCH sessions that have
 * ended (default_idle applies to records whose idle_timeout is 0), without
 * logging changes (every worker expires them itself). *from is a position in
 * the table, 0 for its start: the batch takes the first ended sessions stored
 * after it and moves it past them. *count receives how many went; fewer than
 * a batch means none is left after where *from was. A sweep of any size thus
 * holds the write lock one batch at a time. *lifetime (may be NULL, as count
 * may) receives how many of them ended by their absolute end rather than by
 * idleness (gh_store_session_ended_by_lifetime): the metrics' reason. */
gh_store_err gh_store_session_expire(gh_store *store, int64_t now, int64_t default_idle,
                                     int64_t *from, int *count, int *lifetime);
/* How many sessions of an account have not ended at now (the rule of
 * gh_store_session_ended). */
gh_store_err gh_store_session_count_live(gh_store *store, int64_t account_id, int64_t now,
                                         int64_t default_idle, int64_t *count);
typedef struct {
    char    id[GH_SESSION_ID_LEN + 1];
    int64_t last_used;
} gh_session_touch;
/* Writes last-used times of many sessions in one transaction. A time only
 * moves forward; ids no longer stored are skipped. */
gh_store_err gh_store_session_touch(gh_store *store, const gh_session_touch *touches,
                                    size_t n);
typedef int (*gh_session_cb)(const gh_session_record *rec, void *arg);
/* Calls cb for each session (account_id < 0: all) ordered by creation. */
gh_store_err gh_store_session_foreach(gh_store *store, int64_t account_id,
                                      gh_session_cb cb, void *arg);
/* Calls cb for every session whose rowid is after `after` and at most upto,
 * in the order they are stored, with one query stepped through that range
 * of the table: the fast way to read them (loading the shared block at
 * start, a part at a time). Unlike the walks above it holds one read
 * snapshot throughout, so cb must not use the store; a non-zero return
 * stops it. */
gh_store_err gh_store_session_scan(gh_store *store, int64_t after, int64_t upto,
                                   gh_session_cb cb, void *arg);
/* The highest rowid of the sessions table (0 when empty): where to split it. */
gh_store_err gh_store_session_rowid_last(gh_store *store, int64_t *rowid);

/* Attributes a dialect keeps of an account for itself (a role of its own,
 * ...), by the dialect's name and the attribute's name, as text: the store
 * knows nothing of what they mean. They go with their account. Reading an
 * account reads none; no worker caches them, so a write logs no change.
 * get: GH_STORE_NOT_FOUND when none is kept (or value, size bytes, is too
 * small: GH_STORE_ERROR). set: GH_STORE_NOT_FOUND when the account does not
 * exist; one statement, so it may run inside gh_store_begin/end. */
#define GH_ATTRIBUTE_NAME_MAX  63
#define GH_ATTRIBUTE_VALUE_MAX 255
gh_store_err gh_store_attribute_get(gh_store *store, int64_t account_id, const char *dialect,
                                    const char *name, char *value, size_t size);
gh_store_err gh_store_attribute_set(gh_store *store, int64_t account_id, const char *dialect,
                                    const char *name, const char *value);
gh_store_err gh_store_attribute_delete(gh_store *store, int64_t account_id, const char *dialect,
                                       const char *name);
/* Each attribute of account_id and dialect whose name starts with prefix
 * ("" for all), by name in byte order, to cb with its name and
 * value; a non-zero return stops the walk (still GH_STORE_OK). The prefix is
 * matched byte for byte (no wildcards). cb must not use the store. */
typedef int (*gh_attribute_cb)(const char *name, const char *value, void *arg);
gh_store_err gh_store_attribute_foreach(gh_store *store, int64_t account_id, const char *dialect,
                                        const char *prefix, gh_attribute_cb cb, void *arg);

/* Live settings (integers by key), changed through the API; a missing key
 * means "use the configuration file's value". set logs a GH_CHANGE_SETTING. */
gh_store_err gh_store_setting_get(gh_store *store, const char *key, int64_t *out);
gh_store_err gh_store_setting_set(gh_store *store, const char *key, int64_t value);

/* Failed-login counters (lockout.h), by key. get: GH_STORE_NOT_FOUND when
 * none is kept. put writes the whole row (a new one or over the old one); it
 * logs no change: every worker reads counters from here. Inside a
 * transaction, a get and a put of the same key cannot race another writer. */
gh_store_err gh_store_failure_get(gh_store *store, const uint8_t key[GH_DIGEST_LEN],
                                  gh_failure *out);
gh_store_err gh_store_failure_put(gh_store *store, const gh_failure *f);
/* Count one failure in the counter of key (owner's) at now, atomically on
 * every node: read it (a new one when none is kept), apply gh_lockout_count
 * with reset_after, threshold and duration (which sets expires), write it;
 * *out receives it and *locked whether this failure locked it. The Redis
 * backend does it in a script that follows lockout.c's arithmetic exactly
 * (the store contract tests compare the two). */
gh_store_err gh_store_failure_count(gh_store *store, const uint8_t key[GH_DIGEST_LEN],
                                    const uint8_t owner[GH_DIGEST_LEN], int64_t now,
                                    int64_t reset_after, int64_t threshold,
                                    int64_t duration, gh_failure *out, bool *locked);
gh_store_err gh_store_failure_delete(gh_store *store, const uint8_t key[GH_DIGEST_LEN]);
/* Delete every counter of an owner (an account's, from every source). */
gh_store_err gh_store_failure_clear_owner(gh_store *store, const uint8_t owner[GH_DIGEST_LEN]);
/* Delete up to GH_STORE_EXPIRE_BATCH counters that expired by now; *count
 * (may be NULL) receives how many. */
gh_store_err gh_store_failure_prune(gh_store *store, int64_t now, int *count);

/* Throttle counters of sources (lockout.h), by key, times in gh_epoch_ms.
 * put writes the whole row (a new one or over the old one), to be pruned
 * once now >= expires (epoch seconds); it logs no change. On a store that
 * nodes share (gh_store_shared) each node puts its own block's counter, so
 * put merges instead: the higher count with its window, the later wait and
 * end, unless the stored row ended before the new window began. */
gh_store_err gh_store_throttle_put(gh_store *store, const gh_throttle_count *c,
                                   int64_t expires);
/* Calls cb for up to max counters not expired at now (epoch seconds), the
 * last to expire first, with one query: cb must not use the store; a
 * non-zero return stops it. */
typedef int (*gh_throttle_cb)(const gh_throttle_count *c, void *arg);
gh_store_err gh_store_throttle_scan(gh_store *store, int64_t now, uint32_t max,
                                    gh_throttle_cb cb, void *arg);
/* Delete up to GH_STORE_EXPIRE_BATCH counters that expired by now; *count
 * (may be NULL) receives how many. */
gh_store_err gh_store_throttle_prune(gh_store *store, int64_t now, int *count);

/* Directory profiles written through the API (directory_profiles.h), by
 * name: text is the profile as gh_config_directory_write gives it, or NULL
 * for one deleted (a tombstone). Each write stores its revision (the
 * sequence number of the GH_CHANGE_DIRECTORY it logs, so never the same
 * twice) and, with end_sessions, deletes in the same transaction every
 * session of an account whose domain is name (the profile's users).
 * forget removes the row (a profile the file does not have, deleted),
 * logged and ending sessions the same way. The walk calls cb for each row
 * by name, one row read at a time: cb may use the store. */
typedef struct {
    char        name[GH_DOMAIN_MAX + 1];
    const char *text;                       /* NULL: deleted */
    int64_t     revision;
} gh_stored_directory;
gh_store_err gh_store_directory_put(gh_store *store, const char *name, const char *text,
                                    bool end_sessions, int64_t *revision);
gh_store_err gh_store_directory_forget(gh_store *store, const char *name);
typedef int (*gh_directory_cb)(const gh_stored_directory *row, void *arg);
gh_store_err gh_store_directory_foreach(gh_store *store, gh_directory_cb cb, void *arg);

/* The change log. */
gh_store_err gh_store_change_last(gh_store *store, int64_t *seq);
typedef int (*gh_change_cb)(const gh_change *change, void *arg);
gh_store_err gh_store_change_since(gh_store *store, int64_t seq, gh_change_cb cb, void *arg);
/* Drops change rows with seq < before_seq (they were seen long ago).
 * gh_store_change_last never goes backwards, even when every row is gone. */
gh_store_err gh_store_change_prune(gh_store *store, int64_t before_seq);

/* Moving an installation between stores (`gatehouse store copy`): writes
 * that keep what the source had. account_import keeps acct's id,
 * generation and created (GH_STORE_EXISTS when the id or name is taken) and
 * logs nothing; directory_import keeps the row's revision; change_floor
 * makes gh_store_change_last at least seq, so no reader of the target sees
 * the sequence go backwards; secret_import replaces the server secret (the
 * embedded store's row, the Redis store's secret file and check value). The
 * target is meant to be empty: nothing else is checked. */
gh_store_err gh_store_account_import(gh_store *store, const gh_account *acct);
gh_store_err gh_store_directory_import(gh_store *store, const gh_stored_directory *row);
gh_store_err gh_store_change_floor(gh_store *store, int64_t seq);
gh_store_err gh_store_secret_import(gh_store *store, const uint8_t secret[GH_DIGEST_LEN]);

#endif
