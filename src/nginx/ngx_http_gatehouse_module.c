/*
 * ngx_http_gatehouse_module.c: the module's shape, as nginx modules go: the
 * directives (`gatehouse_error` is ngx_http_gatehouse_error.c's,
 * `gatehouse_auth_request` ngx_http_gatehouse_auth_request.c's,
 * `gatehouse_metrics`, `_health` and `_ready` ngx_http_gatehouse_metrics.c's,
 * as is the metrics' own zone), the main and
 * location configuration, the shared-memory zone that holds the core's shared
 * block, the thread pools, and each worker's start (load the block from the
 * store once, start the sync timer, ready the event streams' list). Its
 * init_module puts the redacting writer on every error log
 * (ngx_http_gatehouse_log.c); the audit log is ngx_http_gatehouse_audit.c's.
 */
#include "ngx_http_gatehouse.h"
#include "core/directory.h"

#include <unistd.h>

static void *ngx_http_gatehouse_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_gatehouse_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_gatehouse_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gatehouse_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static ngx_int_t ngx_http_gatehouse_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_gatehouse_init_zone(ngx_shm_zone_t *zone, void *data);
static ngx_int_t ngx_http_gatehouse_init_process(ngx_cycle_t *cycle);
static void ngx_http_gatehouse_exit_process(ngx_cycle_t *cycle);

static ngx_command_t ngx_http_gatehouse_commands[] = {

    { ngx_string("gatehouse_data_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gatehouse_main_conf_t, data_dir),
      NULL },

    { ngx_string("gatehouse_tree"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gatehouse_main_conf_t, tree_dir),
      NULL },

    { ngx_string("gatehouse_config"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_gatehouse_main_conf_t, config_file),
      NULL },

    { ngx_string("gatehouse"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gatehouse_loc_conf_t, enable),
      NULL },

    { ngx_string("gatehouse_auth_request"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gatehouse_auth_request_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gatehouse_error"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gatehouse_error_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gatehouse_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gatehouse_metrics_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gatehouse_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gatehouse_health_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gatehouse_ready"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gatehouse_ready_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};

static ngx_http_module_t ngx_http_gatehouse_module_ctx = {
    NULL,                                   /* preconfiguration */
    ngx_http_gatehouse_postconfiguration,   /* postconfiguration */
    ngx_http_gatehouse_create_main_conf,    /* create main configuration */
    ngx_http_gatehouse_init_main_conf,      /* init main configuration */
    NULL,                                   /* create server configuration */
    NULL,                                   /* merge server configuration */
    ngx_http_gatehouse_create_loc_conf,     /* create location configuration */
    ngx_http_gatehouse_merge_loc_conf       /* merge location configuration */
};

ngx_module_t ngx_http_gatehouse_module = {
    NGX_MODULE_V1,
    &ngx_http_gatehouse_module_ctx,
    ngx_http_gatehouse_commands,
    NGX_HTTP_MODULE,
    NULL,                                   /* init master */
    ngx_http_gatehouse_log_redact,          /* init module */
    ngx_http_gatehouse_init_process,        /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    ngx_http_gatehouse_exit_process,        /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};

static ngx_str_t ngx_http_gatehouse_zone_name = ngx_string("gatehouse");
static ngx_str_t ngx_http_gatehouse_hash_pool = ngx_string("gatehouse_hash");
static ngx_str_t ngx_http_gatehouse_io_pool = ngx_string("gatehouse_io");
static ngx_str_t ngx_http_gatehouse_suspect_pool = ngx_string("gatehouse_suspect");
static ngx_str_t ngx_http_gatehouse_directory_pool = ngx_string("gatehouse_directory");

static void *
ngx_http_gatehouse_create_main_conf(ngx_conf_t *cf)
{
    /* The first call of the module's after nginx counted the HTTP modules:
     * the files below this one find their configuration by this index. */
    ngx_http_gatehouse_index = ngx_http_gatehouse_module.ctx_index;
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_gatehouse_main_conf_t));
}

static char *
ngx_http_gatehouse_cstr(ngx_conf_t *cf, ngx_str_t *s, const char *suffix)
{
    size_t  n = ngx_strlen(suffix);
    char   *p = ngx_pnalloc(cf->pool, s->len + n + 1);

    if (p != NULL) {
        ngx_memcpy(p, s->data, s->len);
        ngx_memcpy(p + s->len, suffix, n + 1);
    }
    return p;
}

/* Each directory profile is tried once at start (the service account's
 * bind), so that a wrong password or a server that does not answer is in
 * the log at once. Nothing stops: local accounts are served, and the
 * profile's users are refused until its directory answers. */
static void
ngx_http_gatehouse_probe_directories(ngx_conf_t *cf, const gh_config *config)
{
    char        why[512];
    ngx_uint_t  i;

    for (i = 0; i < config->ndirectories; i++) {
        if (gh_directory_probe(&config->directories[i], why, sizeof(why)) == 0) {
            continue;
        }
        ngx_log_error(NGX_LOG_ERR, cf->log, 0,
                      "gatehouse: directory \"%s\" does not answer (%s); local accounts "
                      "are served, its users refused until it does",
                      config->directories[i].name, why);
    }
}

/*
 * On a reload (SIGHUP), the zone of the running configuration: this one
 * asks for it with the same size, and takes the limits its block was laid
 * out for, so that nginx hands over the block itself (same name, tag and
 * size: ngx_init_cycle) with every session, cached credential and
 * failed-login counter in it. A new block of another size would be loaded
 * from the store by the new workers while the old ones still answer: a
 * session an old worker made in that moment would be missing from it. So
 * limits changed in the configuration (max_sessions, credcache_entries) wait
 * for the next start, and a notice says so; a lower max_sessions is obeyed
 * at once all the same (gh_service_session_create counts against it).
 */
static void
ngx_http_gatehouse_keep_zone(ngx_conf_t *cf, ngx_http_gatehouse_main_conf_t *gmcf,
    size_t *size)
{
    ngx_cycle_t                    *old = cf->cycle->old_cycle;
    ngx_list_part_t                *part;
    ngx_shm_zone_t                 *zone;
    ngx_http_gatehouse_main_conf_t *prev;
    ngx_uint_t                      i;

    if (old == NULL || ngx_is_init_cycle(old)) {
        return;
    }
    part = &old->shared_memory.part;
    zone = part->elts;
    for (i = 0; /* void */ ; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }
        if (zone[i].tag == &ngx_http_gatehouse_module
            && zone[i].shm.name.len == ngx_http_gatehouse_zone_name.len
            && ngx_strncmp(zone[i].shm.name.data, ngx_http_gatehouse_zone_name.data,
                           ngx_http_gatehouse_zone_name.len) == 0)
        {
            break;
        }
    }
    prev = zone[i].data;
    if (prev == NULL || prev->block == NULL) {
        return;
    }
    if (ngx_memcmp(&prev->limits, &gmcf->limits, sizeof(gmcf->limits)) != 0) {
        ngx_conf_log_error(NGX_LOG_NOTICE, cf, 0,
                           "gatehouse: the reload keeps the shared block as it is, room "
                           "for %uD sessions and %uD cached credentials, until the next "
                           "start, whatever max_sessions and credcache_entries now say",
                           prev->limits.max_sessions, prev->limits.credcache_entries);
        gmcf->limits = prev->limits;
    }
    *size = zone[i].shm.size;
}

static char *
ngx_http_gatehouse_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_gatehouse_main_conf_t *gmcf = conf;
    char                            err[512], *path;
    size_t                          size;

    if (gh_dialect_config_defaults(&gmcf->config, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gatehouse: %s", err);
        return NGX_CONF_ERROR;
    }
    if (gmcf->data_dir.len == 0) {
        return NGX_CONF_OK;   /* not used in this configuration */
    }

    gmcf->data_dir_c = ngx_http_gatehouse_cstr(cf, &gmcf->data_dir, "");
    if (gmcf->data_dir_c == NULL) {
        return NGX_CONF_ERROR;
    }

    if (gmcf->config_file.len > 0) {
        path = ngx_http_gatehouse_cstr(cf, &gmcf->config_file, "");
        if (path == NULL) {
            return NGX_CONF_ERROR;
        }
        if (gh_config_load(&gmcf->config, path, err, sizeof(err)) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gatehouse: %s", err);
            return NGX_CONF_ERROR;
        }
        ngx_http_gatehouse_probe_directories(cf, &gmcf->config);
    }
    if (ngx_http_gatehouse_audit_conf(cf, gmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    /* the main conf lives in the cycle's pool: so do the strings it points at */
    if (!gh_store_config_from(&gmcf->config.store, gmcf->data_dir_c, &gmcf->store_paths,
                              &gmcf->store_config))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gatehouse: data directory path too long");
        return NGX_CONF_ERROR;
    }

    /* Read once here, in the master: every worker inherits it. Without a
     * directory the tree holds what the dialects render (service roots). */
    path = NULL;
    if (gmcf->tree_dir.len > 0) {
        path = ngx_http_gatehouse_cstr(cf, &gmcf->tree_dir, "");
        if (path == NULL) {
            return NGX_CONF_ERROR;
        }
    }
    if (ngx_http_gatehouse_identity_init(cf, gmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    if (gh_tree_load(path, &gmcf->tree, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "gatehouse: tree: %s", err);
        return NGX_CONF_ERROR;
    }

    gmcf->limits.max_sessions = (uint32_t) gmcf->config.max_sessions;
    gmcf->limits.credcache_entries = (uint32_t) gmcf->config.credcache_entries;
    gmcf->limits.throttle_entries = (uint32_t) ngx_max(gmcf->config.credcache_entries, 1024);

    /* The slab pool needs its own header and page table besides our block. */
    size = gh_shared_size(&gmcf->limits);
    size += size / 64 + 64 * ngx_pagesize;
    size = ngx_align(size, ngx_pagesize);
    ngx_http_gatehouse_keep_zone(cf, gmcf, &size);

    gmcf->zone = ngx_shared_memory_add(cf, &ngx_http_gatehouse_zone_name, size,
                                       &ngx_http_gatehouse_module);
    if (gmcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }
    gmcf->zone->init = ngx_http_gatehouse_init_zone;
    gmcf->zone->data = gmcf;
    if (ngx_http_gatehouse_metrics_zone(cf, gmcf, &ngx_http_gatehouse_module) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    gmcf->hash_pool = ngx_thread_pool_add(cf, &ngx_http_gatehouse_hash_pool);
    gmcf->io_pool = ngx_thread_pool_add(cf, &ngx_http_gatehouse_io_pool);
    if (gmcf->hash_pool == NULL || gmcf->io_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    gmcf->inline_service.config = &gmcf->config;
    gmcf->inline_service.data_dir = gmcf->data_dir_c;
    gmcf->inline_service.dialects = gh_dialects;
    /* set to the request's own before each dialect call on the event loop */
    gmcf->inline_service.dialect = GH_METRICS_NO_DIALECT;
    /* before any process opens the store: the master forks every worker */
    gh_dialect_store_setup();
    return NGX_CONF_OK;
}

static void *
ngx_http_gatehouse_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gatehouse_loc_conf_t *glcf;

    glcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gatehouse_loc_conf_t));
    if (glcf == NULL) {
        return NULL;
    }
    glcf->enable = NGX_CONF_UNSET;
    return glcf;
}

/* `gatehouse on;` guards a location and serves the dialects from it. The
 * location's own content handler, when it has one (proxy_pass's: set by its
 * directive, so before this merge whatever the order of the directives), is
 * kept for gateway mode (ngx_http_gatehouse_proxy.c). */
static char *
ngx_http_gatehouse_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_gatehouse_loc_conf_t *prev = parent;
    ngx_http_gatehouse_loc_conf_t *conf = child;
    ngx_http_core_loc_conf_t      *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    if (conf->enable) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        if (clcf->handler != ngx_http_gatehouse_content_handler
            && clcf->handler != ngx_http_gatehouse_gateway_handler)
        {
            conf->upstream_handler = clcf->handler;
        }
        clcf->handler = conf->upstream_handler != NULL ? ngx_http_gatehouse_gateway_handler
                                                       : ngx_http_gatehouse_content_handler;
    }
    return NGX_CONF_OK;
}

/*
 * OpenSSL decrypts a TLS record in place in its read buffer, and nginx has
 * it free that buffer whenever it is empty (SSL_MODE_RELEASE_BUFFERS): a
 * request's plaintext (a login body's password, an Authorization header)
 * would lie in freed heap until some allocation happens to reuse the block.
 * With SSL_OP_CLEANSE_PLAINTEXT OpenSSL wipes plaintext once handed over
 * and when it releases a buffer. Every server with TLS gets it.
 */
static void
ngx_http_gatehouse_cleanse_plaintext(ngx_conf_t *cf)
{
#ifdef SSL_OP_CLEANSE_PLAINTEXT
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_core_srv_conf_t  **cscfp;
    ngx_http_ssl_srv_conf_t    *sscf;
    ngx_uint_t                  s;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;
    for (s = 0; s < cmcf->servers.nelts; s++) {
        sscf = cscfp[s]->ctx->srv_conf[ngx_http_ssl_module.ctx_index];
        if (sscf != NULL && sscf->ssl.ctx != NULL) {
            SSL_CTX_set_options(sscf->ssl.ctx, SSL_OP_CLEANSE_PLAINTEXT);
        }
    }
#endif
}

static ngx_int_t
ngx_http_gatehouse_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_core_main_conf_t *cmcf;
    ngx_http_handler_pt       *h;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_gatehouse_access_handler;
    /* gatehouse_auth_request's subrequests, which skip the access phase. */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_gatehouse_auth_request_handler;
    ngx_http_gatehouse_cleanse_plaintext(cf);
    if (ngx_http_gatehouse_proxy_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }
    return ngx_http_gatehouse_header_check_conf(cf,
               ngx_http_conf_get_module_main_conf(cf, ngx_http_gatehouse_module));
}

static void
ngx_http_gatehouse_lock(void *arg)
{
    ngx_shmtx_lock(arg);
}

static void
ngx_http_gatehouse_unlock(void *arg)
{
    ngx_shmtx_unlock(arg);
}

static ngx_int_t
ngx_http_gatehouse_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_gatehouse_main_conf_t *gmcf = zone->data;
    ngx_http_gatehouse_main_conf_t *old = data;
    ngx_slab_pool_t                *shpool;
    gh_shared_lock                  lk;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    lk.lock = ngx_http_gatehouse_lock;
    lk.unlock = ngx_http_gatehouse_unlock;
    lk.arg = &shpool->mutex;

    if (old != NULL) {
        /* A reload keeps the block (and every session in it) as it is. */
        gmcf->block = old->block;
    } else if (zone->shm.exists) {
        gmcf->block = shpool->data;
    } else {
        gmcf->block = ngx_slab_alloc(shpool, gh_shared_size(&gmcf->limits));
        if (gmcf->block == NULL) {
            return NGX_ERROR;
        }
        shpool->data = gmcf->block;
        if (gh_shared_format(gmcf->block, &gmcf->limits, lk) == NULL) {
            return NGX_ERROR;
        }
    }

    gmcf->shpool = shpool;
    gmcf->shared = gh_shared_attach(gmcf->block, lk);
    if (gmcf->shared == NULL) {
        return NGX_ERROR;
    }
    gmcf->inline_service.shared = gmcf->shared;
    gmcf->inline_service.sessions = gh_session_store_local(gmcf->shared);
    if (gmcf->inline_service.sessions == NULL) {
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* Fill the block from the store together with the other workers, a part at
 * a time, unless it is loaded already (a reload, a respawned worker); then
 * wait for the parts others still load, so no request is answered from a
 * half-loaded block. */
static ngx_int_t
ngx_http_gatehouse_load(ngx_cycle_t *cycle, ngx_http_gatehouse_main_conf_t *gmcf)
{
    gh_service    svc = gmcf->inline_service;
    gh_store_err  err;
    ngx_uint_t    i;

    /* Another process may hold the database for a while (the command line,
     * a worker's batch of upkeep): each try waits out the busy timeout (5 s),
     * so a worker waits about a minute before giving up. */
    for (i = 0;
         (err = gh_store_open_config(&gmcf->store_config, &svc.store)) == GH_STORE_BUSY
         && i < 12;
         i++)
    {
        ngx_msleep(100);
    }
    if (err != GH_STORE_OK && gmcf->config.store.url[0] != '\0') {
        /* A store other nodes share, not reachable now: serve 503 from a
         * block marked down, until the sync ticks or the listener reach it
         * (service_sync.c's recovery); the first to do so brings the
         * server secret (thread.c's sync_done). */
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "gatehouse: the store ([store] url) does not answer (%s); "
                      "refusing with 503 until it does", gh_store_open_error());
        gh_shared_set_cached(gmcf->shared, 1);
        gh_shared_drop_all(gmcf->shared);
        gmcf->secret_pending = 1;
        return NGX_OK;
    }
    if (err != GH_STORE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "gatehouse: cannot open the store \"%s\": %s",
                      gmcf->config.store.url[0] != '\0' ? "[store] url"
                                                         : gmcf->store_config.path,
                      gh_store_open_error());
        return NGX_ERROR;
    }
    if (gh_store_secret(svc.store, gmcf->inline_service.secret) != GH_STORE_OK) {
        gh_store_close(svc.store);
        return NGX_ERROR;
    }
    /* Shared with other nodes: the block is a cache of the store. */
    gh_shared_set_cached(gmcf->shared, gh_store_shared(svc.store));

    if (gh_service_load(&svc) != GH_STORE_OK) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "gatehouse: loading sessions from the store failed");
    }
    gh_store_close(svc.store);

    for (i = 0; i < 5000 && gh_shared_change_seq(gmcf->shared) < 0; i++) {
        ngx_msleep(2);
    }
    return NGX_OK;
}

/* With a store other nodes share, the event loop's session store is the
 * cached one: a token the block lacks is looked up in gatehouse_io
 * (thread.c's ngx_http_gatehouse_defer_miss). */
static ngx_int_t
ngx_http_gatehouse_cache_sessions(ngx_http_gatehouse_main_conf_t *gmcf)
{
    gh_session_store *ss;

    if (!gh_shared_cached(gmcf->shared)) {
        return NGX_OK;
    }
    ss = gh_session_store_cached(gmcf->shared, NULL, ngx_http_gatehouse_defer_miss, gmcf);
    if (ss == NULL) {
        return NGX_ERROR;
    }
    gh_session_store_close(gmcf->inline_service.sessions);
    gmcf->inline_service.sessions = ss;
    return NGX_OK;
}

static ngx_int_t
ngx_http_gatehouse_init_process(ngx_cycle_t *cycle)
{
    ngx_http_gatehouse_main_conf_t *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_gatehouse_module);
    if (gmcf == NULL || gmcf->shared == NULL) {
        return NGX_OK;
    }
    if (ngx_http_gatehouse_threads_init(cycle) != NGX_OK) {
        return NGX_ERROR;
    }
    ngx_http_gatehouse_metrics_bind(cycle, gmcf);
    /* Hashes wait for the event loop, not the other way round (lowprio.c). */
    gh_lowprio_set_nice(gmcf->config.hash_nice);
    /* Optional: without it, suspects' checks share gatehouse_hash. */
    gmcf->suspect_pool = ngx_thread_pool_get(cycle, &ngx_http_gatehouse_suspect_pool);
    /* Optional: without it, the directory recheck shares gatehouse_io. */
    gmcf->directory_pool = ngx_thread_pool_get(cycle, &ngx_http_gatehouse_directory_pool);
    if (gmcf->directory_pool == NULL) {
        gmcf->directory_pool = gmcf->io_pool;
    }

    if (ngx_http_gatehouse_audit_open(cycle, gmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_gatehouse_load(cycle, gmcf) != NGX_OK) {
        return NGX_ERROR;
    }
    if (ngx_http_gatehouse_cache_sessions(gmcf) != NGX_OK) {
        return NGX_ERROR;
    }
    ngx_http_gatehouse_stream_init(cycle, gmcf);
    if (ngx_http_gatehouse_start_sync(cycle, gmcf) != NGX_OK) {
        return NGX_ERROR;
    }
    return ngx_http_gatehouse_listener_start(cycle, gmcf);
}

/* The store's listener is stopped and joined (it ends its connections and
 * OpenSSL state itself). The thread pools have been told to end (their
 * module exits first): wait until their threads have let go of their
 * services and OpenSSL, before
 * exit() cleans OpenSSL up (thread_service.c); then end the hash lanes,
 * before nginx unloads this module's code under them. */
static void
ngx_http_gatehouse_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_gatehouse_listener_stop(cycle);
    ngx_http_gatehouse_threads_wait_ended(cycle);
    gh_lowprio_shutdown();
}
