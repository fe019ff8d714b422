/*
 * cli_serve.c: `gatehouse serve`: write DATA_DIR/run/nginx.conf from the
 * template (data/nginx.conf.in) and exec nginx on it in the foreground.
 * cli_template.c does the substitution; cli_gateway.c renders the part of
 * gateway mode (upstream blocks and locations) from its own templates.
 *
 * exec, not fork: nginx becomes this process, so the signals a supervisor or
 * a terminal sends (SIGTERM, SIGINT) reach the nginx master itself and it
 * stops cleanly. Run as root, the command first becomes the data directory's
 * owner, so neither the master nor the workers run as root and no `user`
 * directive is needed; only to listen on a port below 1024 does it keep
 * CAP_NET_BIND_SERVICE (ambient, so it survives the exec).
 *
 * Listening beyond loopback needs an address given on purpose (--listen or
 * the configuration file); the defaults stay on loopback.
 *
 * Before nginx starts, a server certificate of gatehouse's own within 30 days
 * of its end is renewed from the same CA; one the operator brought is never
 * replaced, only warned about.
 *
 * One server per data directory and per address (cli_guard.c): the lock on
 * DIR/run/serve.lock is taken before anything in DIR/run is written, and the
 * addresses are probed before nginx is run, so a second `serve` changes
 * nothing of the first's (its nginx.conf, its pid file) and says why it stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../pki/pki.h"
#include "cli_common.h"
#include "cli_gateway.h"
#include "cli_guard.h"
#include "cli_template.h"

#ifndef GH_MODULE_PATH
#define GH_MODULE_PATH "/usr/lib/nginx/modules/ngx_http_gatehouse_module.so"
#endif
#ifndef GH_TREE_DIR
#define GH_TREE_DIR "/usr/share/gatehouse"
#endif
#ifndef GH_NGINX_TEMPLATE
#define GH_NGINX_TEMPLATE GH_TREE_DIR "/nginx.conf.in"
#endif
#define GH_SERVE_NGINX       "/usr/sbin/nginx"
#define GH_SERVE_TEMPLATE_MAX (256 * 1024)
#define GH_SERVE_VAR_MAX     24

static const char gh_serve_usage[] =
    "usage: gatehouse serve [--data-dir DIR] [--config FILE] [--listen ADDR:PORT]\n"
    "                       [--http-listen ADDR:PORT|none]\n"
    "                       [--metrics-listen ADDR:PORT|none] [--check]\n"
    "\n"
    "Write the nginx configuration for DIR (DIR/run/nginx.conf) and run nginx with\n"
    "the gatehouse module in the foreground, logging to stderr, until SIGTERM or\n"
    "SIGINT. Run as root, it first becomes the owner of DIR: nginx never runs as root.\n"
    "With `upstream` in the configuration ([server], or a dialect's section), the\n"
    "dialects' paths are authenticated and passed on to it (docs/gateway.md).\n"
    "\n"
    "One server per data directory: serve (and --check, which rewrites\n"
    "DIR/run/nginx.conf) refuses a DIR another server holds, and serve refuses an\n"
    "address something else already listens on.\n"
    "A server certificate gatehouse made itself is renewed (same CA) when serve\n"
    "starts within 30 days of its end; one brought with init --cert is never\n"
    "replaced, only warned about.\n"
    "\n"
    "options:\n"
    "  --listen ADDR:PORT       HTTPS (default: [server] listen, 127.0.0.1:8443)\n"
    "  --http-listen ADDR:PORT  plain HTTP: the CA download and redirects to HTTPS\n"
    "                           (default: [server] http_listen; `none` for none)\n"
    "  --metrics-listen ADDR:PORT  plain HTTP for monitoring: /metrics (Prometheus),\n"
    "                           /healthz, /readyz (default: [server] metrics_listen,\n"
    "                           127.0.0.1:9145; `none` for none)\n"
    "                           ADDR is an IPv4 address, [IPv6], localhost or *;\n"
    "                           one beyond loopback must be given on purpose\n"
    "  --check                  write the configuration, let nginx test it, and exit\n"
    GH_CLI_COMMON_HELP;

typedef struct {
    const char *data_dir, *config, *listen, *http_listen, *metrics_listen;
    bool        check;
} gh_serve_args;

typedef struct {
    char listen[128], http_listen[128], metrics_listen[128];
    int  port, http_port, metrics_port;
    char module[GH_PATH_MAX], nginx[GH_PATH_MAX], tree[GH_PATH_MAX];
    char run_dir[GH_PATH_MAX], conf[GH_PATH_MAX];
} gh_serve_plan;

static int gh_serve_parse(int argc, char **argv, gh_serve_args *a)
{
    const gh_cli_option own[] = {
        { "listen", &a->listen, NULL },
        { "http-listen", &a->http_listen, NULL },
        { "metrics-listen", &a->metrics_listen, NULL },
        { "check", NULL, &a->check },
        { NULL, NULL, NULL }
    };
    const gh_cli_spec spec = { "serve", gh_serve_usage, own, &a->data_dir, &a->config, NULL, 0 };
    int rc = gh_cli_parse(argc, argv, &spec);

    if (rc != 0)
        return rc;
    a->data_dir = gh_cli_data_dir(a->data_dir, "serve");
    if (a->data_dir == NULL)
        return -1;
    return 0;
}

/* ADDR:PORT with ADDR an IPv4 address, [IPv6], localhost or '*'. */
static int gh_serve_parse_listen(const char *text, int *port, bool *loopback)
{
    char        host[64];
    const char *colon = strrchr(text, ':');
    size_t      hlen;
    long        p;
    char       *end;
    unsigned char addr[16];

    if (colon == NULL || colon == text || colon[1] == '\0')
        return -1;
    hlen = (size_t)(colon - text);
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || p < 1 || p > 65535 || colon[1] == '+'
        || colon[1] == '-')
        return -1;
    *port = (int)p;
    if (strcmp(host, "*") == 0) {
        *loopback = false;
    } else if (strcmp(host, "localhost") == 0) {
        *loopback = true;
    } else if (host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, addr) != 1)
            return -1;
        *loopback = IN6_IS_ADDR_LOOPBACK((struct in6_addr *)addr);
    } else if (inet_pton(AF_INET, host, addr) == 1) {
        *loopback = addr[0] == 127;
    } else {
        return -1;
    }
    return 0;
}

/* Pick an address (argv over configuration over default), check it, and
 * refuse one beyond loopback unless it was given on purpose. */
static int gh_serve_pick(const char *what, const char *arg, const char *cfg,
                         const char *def, char *out, size_t outlen, int *port)
{
    const char *text = arg != NULL ? arg : cfg;
    bool        on_purpose = arg != NULL || strcmp(cfg, def) != 0;
    bool        loopback = true;

    if (text[0] == '\0' || strcmp(text, "none") == 0) {
        out[0] = '\0';
        *port = 0;
        return 0;
    }
    if (gh_serve_parse_listen(text, port, &loopback) < 0) {
        gh_cli_err("%s '%s' is not ADDR:PORT (an IPv4 address, [IPv6], localhost or *, "
                   "and a port 1-65535)", what, text);
        return -1;
    }
    if (!loopback && !on_purpose) {
        gh_cli_err("%s %s is not a loopback address; give it with --%s or in the "
                   "configuration to listen beyond this machine", what, text, what);
        return -1;
    }
    if (!loopback)
        gh_cli_err("note: %s %s is reachable from other machines", what, text);
    if (snprintf(out, outlen, "%s", text) >= (int)outlen)
        return -1;
    return 0;
}

/* Without [server] module and without the module where the build put it:
 * the one next to this binary, as an installed layout may have it. */
static void gh_serve_module_near_binary(char *out, size_t outlen)
{
    char    self[GH_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char   *slash;

    snprintf(out, outlen, "%s", GH_MODULE_PATH);
    if (n <= 0)
        return;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    if (snprintf(out, outlen, "%s/ngx_http_gatehouse_module.so", self) >= (int)outlen
        || access(out, F_OK) < 0)
        snprintf(out, outlen, "%s", GH_MODULE_PATH);
}

/* As root, [server] user names who runs nginx; it must own the data directory. */
static int gh_serve_check_user(const gh_cli_ctx *ctx)
{
    struct passwd *pw;
    struct stat    st;

    if (geteuid() != 0 || ctx->cfg.user[0] == '\0')
        return 0;
    pw = getpwnam(ctx->cfg.user);
    if (pw == NULL) {
        gh_cli_err("[server] user %s does not exist", ctx->cfg.user);
        return -1;
    }
    if (stat(ctx->data_dir, &st) == 0 && st.st_uid != pw->pw_uid) {
        gh_cli_err("[server] user is %s, but %s belongs to someone else; nginx runs as "
                   "the data directory's owner: chown -R %s %s", ctx->cfg.user,
                   ctx->data_dir, ctx->cfg.user, ctx->data_dir);
        return -1;
    }
    return 0;
}

static int gh_serve_plan_make(gh_cli_ctx *ctx, const gh_serve_args *a, gh_serve_plan *plan)
{
    gh_config   def;
    const char *module = ctx->cfg.module[0] != '\0' ? ctx->cfg.module : GH_MODULE_PATH;
    const char *nginx = ctx->cfg.nginx[0] != '\0' ? ctx->cfg.nginx : GH_SERVE_NGINX;
    const char *tree = ctx->cfg.data_tree[0] != '\0' ? ctx->cfg.data_tree : GH_TREE_DIR;

    gh_config_defaults(&def);
    if (gh_serve_pick("listen", a->listen, ctx->cfg.listen, def.listen, plan->listen,
                      sizeof(plan->listen), &plan->port) < 0
        || gh_serve_pick("http-listen", a->http_listen, ctx->cfg.http_listen,
                         def.http_listen, plan->http_listen, sizeof(plan->http_listen),
                         &plan->http_port) < 0
        || gh_serve_pick("metrics-listen", a->metrics_listen, ctx->cfg.metrics_listen,
                         def.metrics_listen, plan->metrics_listen,
                         sizeof(plan->metrics_listen), &plan->metrics_port) < 0)
        return -1;
    if (plan->listen[0] == '\0') {
        gh_cli_err("serve needs an HTTPS address (--listen ADDR:PORT)");
        return -1;
    }
    if (plan->http_listen[0] != '\0' && plan->http_port == plan->port) {
        gh_cli_err("HTTPS and plain HTTP cannot share port %d", plan->port);
        return -1;
    }
    if (plan->metrics_listen[0] != '\0'
        && (plan->metrics_port == plan->port || plan->metrics_port == plan->http_port)) {
        gh_cli_err("the metrics listener needs a port of its own, not %d",
                   plan->metrics_port);
        return -1;
    }
    if (ctx->cfg.module[0] == '\0' && access(module, F_OK) < 0)
        gh_serve_module_near_binary(plan->module, sizeof(plan->module));
    else
        snprintf(plan->module, sizeof(plan->module), "%s", module);
    snprintf(plan->nginx, sizeof(plan->nginx), "%s", nginx);
    snprintf(plan->tree, sizeof(plan->tree), "%s", tree);
    if (gh_cli_path(ctx, plan->run_dir, sizeof(plan->run_dir), "run") < 0
        || gh_cli_path(ctx, plan->conf, sizeof(plan->conf), "run/nginx.conf") < 0) {
        gh_cli_err("data directory path too long");
        return -1;
    }
    if (!gh_tmpl_path_ok("the data directory", ctx->data_dir)
        || !gh_tmpl_path_ok("the module", plan->module)
        || !gh_tmpl_path_ok("the resource tree", plan->tree)
        || (ctx->config_path[0] != '\0'
            && !gh_tmpl_path_ok("the configuration", ctx->config_path)))
        return -1;
    return 0;
}

/* What must hold once we run as the data directory's owner. */
static int gh_serve_preflight(gh_cli_ctx *ctx, const gh_serve_plan *plan)
{
    char        path[GH_PATH_MAX];
    struct stat st;

    /* the embedded store's file; a Redis store was made by init --store */
    if (ctx->cfg.store.url[0] == '\0' &&
        (gh_cli_path(ctx, path, sizeof(path), GH_DB_FILE) < 0 || stat(path, &st) < 0)) {
        gh_cli_err("%s is not initialised: run `gatehouse init --data-dir %s` first",
                   ctx->data_dir, ctx->data_dir);
        return -1;
    }
    if (gh_cli_path(ctx, path, sizeof(path), "pki") < 0 || !gh_pki_present(path)) {
        gh_cli_err("%s/pki lacks its certificates (ca.pem, server.pem, server.key, "
                   "server-chain.pem)", ctx->data_dir);
        return -1;
    }
    if (access(plan->module, R_OK) < 0) {
        gh_cli_err("the nginx module %s is missing or unreadable (%s): build it with "
                   "`make`, or name it with [server] module in the configuration",
                   plan->module, strerror(errno));
        return -1;
    }
    if (access(plan->nginx, X_OK) < 0) {
        gh_cli_err("cannot run nginx at %s (%s): install Debian's nginx, or name it with "
                   "[server] nginx in the configuration", plan->nginx, strerror(errno));
        return -1;
    }
    if (stat(plan->tree, &st) < 0 || !S_ISDIR(st.st_mode) || access(plan->tree, R_OK | X_OK) < 0) {
        gh_cli_err("the resource tree %s is missing or unreadable: set [server] data_tree",
                   plan->tree);
        return -1;
    }
    if (ctx->config_path[0] != '\0' && access(ctx->config_path, R_OK) < 0) {
        gh_cli_err("%s must be readable by the data directory's owner, who runs nginx: %s",
                   ctx->config_path, strerror(errno));
        return -1;
    }
    return gh_cli_gateway_check(ctx);
}

/* Renew the server certificate when it is gatehouse's own and near its end;
 * warn when one the operator brought is. Runs as the directory's owner. */
static int gh_serve_renew(const gh_cli_ctx *ctx)
{
    char           pki[GH_PATH_MAX], err[512] = "", when[32] = "?";
    gh_pki_renewal what = GH_PKI_KEPT;
    time_t         end = (time_t)-1, now = time(NULL);
    struct tm      tm;

    if (gh_cli_path(ctx, pki, sizeof(pki), "pki") < 0)
        return -1;
    if (gh_pki_renew(pki, GH_PKI_RENEW_DAYS * GH_PKI_DAY, &what, &end, err, sizeof(err))
        != GH_PKI_OK) {
        gh_cli_err("cannot renew the server certificate in %s: %s", pki, err);
        return -1;
    }
    if (end != (time_t)-1 && gmtime_r(&end, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
    if (what == GH_PKI_RENEWED)
        gh_cli_err("note: the server certificate was within %d days of its end; a new "
                   "one from the same CA (%s/%s) is valid until %s", GH_PKI_RENEW_DAYS,
                   pki, GH_PKI_CA_CERT, when);
    else if (what == GH_PKI_SUPPLIED && end - now <= GH_PKI_RENEW_DAYS * GH_PKI_DAY)
        gh_cli_err("warning: the server certificate you brought %s on %s; gatehouse "
                   "never replaces it: put a new chain in %s/%s and its key in %s/%s",
                   end < now ? "ended" : "ends", when, pki, GH_PKI_SERVER_CHAIN, pki,
                   GH_PKI_SERVER_KEY);
    return 0;
}

static void gh_tmpl_var_set(gh_tmpl_var *vars, size_t *n, const char *name,
                             const char *fmt, long long v, const char *s)
{
    gh_tmpl_var *var = &vars[(*n)++];

    var->name = name;
    var->text = NULL;
    if (s != NULL)
        snprintf(var->value, sizeof(var->value), "%s", s);
    else
        snprintf(var->value, sizeof(var->value), fmt, v);
}

static size_t gh_tmpl_vars(const gh_cli_ctx *ctx, const gh_serve_plan *plan,
                           const gh_cli_gateway *gw, gh_tmpl_var *vars)
{
    const gh_config *c = &ctx->cfg;
    long             nproc = sysconf(_SC_NPROCESSORS_ONLN), workers;
    size_t           n = 0;

    gh_tmpl_var_set(vars, &n, "MODULE", NULL, 0, plan->module);
    if (c->workers > 0)
        gh_tmpl_var_set(vars, &n, "WORKERS", "%lld", c->workers, NULL);
    else
        gh_tmpl_var_set(vars, &n, "WORKERS", NULL, 0, "auto");
    gh_tmpl_var_set(vars, &n, "RUN_DIR", NULL, 0, plan->run_dir);
    /* nginx's thread pools are per worker: by default share the cores out,
     * so a login storm never runs more hashes at once than there are cores. */
    if (nproc < 1)
        nproc = 1;
    workers = c->workers > 0 ? c->workers : nproc;
    gh_tmpl_var_set(vars, &n, "HASH_THREADS", "%lld",
                     c->hash_threads > 0 ? (long long)c->hash_threads
                                         : (long long)((nproc + workers - 1) / workers), NULL);
    gh_tmpl_var_set(vars, &n, "MAX_CONNECTIONS", "%lld",
                     c->max_connections > 0 ? c->max_connections : 1024, NULL);
    gh_tmpl_var_set(vars, &n, "MAX_BODY_BYTES", "%lld", c->max_body_bytes, NULL);
    gh_tmpl_var_set(vars, &n, "MAX_HEADER_BYTES", "%lld", c->max_header_bytes, NULL);
    gh_tmpl_var_set(vars, &n, "IDLE_SECONDS", "%lld", c->idle_connection_seconds, NULL);
    gh_tmpl_var_set(vars, &n, "LOG_LEVEL", NULL, 0, c->log_level);
    gh_tmpl_var_set(vars, &n, "DATA_DIR", NULL, 0, ctx->data_dir);
    gh_tmpl_var_set(vars, &n, "TREE", NULL, 0, plan->tree);
    gh_tmpl_var_set(vars, &n, "CONFIG_FILE", NULL, 0, ctx->config_path);
    gh_tmpl_var_set(vars, &n, "LISTEN", NULL, 0, plan->listen);
    gh_tmpl_var_set(vars, &n, "HTTP_LISTEN", NULL, 0, plan->http_listen);
    gh_tmpl_var_set(vars, &n, "METRICS_LISTEN", NULL, 0, plan->metrics_listen);
    if (plan->port == 443)
        gh_tmpl_var_set(vars, &n, "HTTPS_PORT", NULL, 0, "");
    else
        gh_tmpl_var_set(vars, &n, "HTTPS_PORT", ":%lld", plan->port, NULL);
    gh_tmpl_var_set(vars, &n, "GATEWAY_UPSTREAMS", NULL, 0, "");
    vars[n - 1].text = gw->upstreams;
    gh_tmpl_var_set(vars, &n, "GATEWAY_LOCATIONS", NULL, 0, "");
    vars[n - 1].text = gw->locations;
    return n;
}

static int gh_serve_mkdir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        gh_cli_err("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (chmod(path, 0700) < 0) {
        gh_cli_err("cannot chmod %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* DIR/run's temp directories, and run/nginx.conf (0600, replaced whole). */
static int gh_serve_write(const gh_cli_ctx *ctx, const gh_serve_plan *plan)
{
    static const char *const tmp[] = { "tmp", "tmp/body", "tmp/proxy", "tmp/fastcgi",
                                       "tmp/uwsgi", "tmp/scgi" };
    gh_tmpl_var vars[GH_SERVE_VAR_MAX];
    gh_cli_gateway gw = { NULL, NULL };
    char         path[GH_PATH_MAX + 16], *tmpl = NULL, *text = NULL;
    size_t       tmpl_len = 0, text_len = 0, i, n;
    int          fd = -1, rc = -1;

    for (i = 0; i < sizeof(tmp) / sizeof(tmp[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", plan->run_dir, tmp[i]);
        if (gh_serve_mkdir(path) < 0)
            return -1;
    }
    if (gh_cli_read_file(GH_NGINX_TEMPLATE, GH_SERVE_TEMPLATE_MAX, &tmpl, &tmpl_len) < 0)
        return -1;
    if (gh_cli_gateway_render(ctx, &gw) < 0)
        goto done;
    n = gh_tmpl_vars(ctx, plan, &gw, vars);
    if (gh_tmpl_render(GH_NGINX_TEMPLATE, tmpl, vars, n, &text, &text_len) < 0)
        goto done;
    snprintf(path, sizeof(path), "%s.new", plan->conf);
    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, text_len) != (ssize_t)text_len || fsync(fd) < 0) {
        gh_cli_err("cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    if (rename(path, plan->conf) < 0) {
        gh_cli_err("cannot rename %s: %s", path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(tmpl);
    free(text);
    gh_cli_gateway_free(&gw);
    return rc;
}

/* Before anything in DIR/run changes: the data directory's lock (kept, and
 * handed to nginx), then for a real start the addresses and the certificate. */
static int gh_serve_claim(const gh_cli_ctx *ctx, const gh_serve_plan *plan, bool check)
{
    if (gh_serve_mkdir(plan->run_dir) < 0
        || gh_guard_lock(ctx->data_dir, plan->run_dir, plan->listen) < 0)
        return -1;
    if (check)
        return 0;
    if (gh_guard_probe("listen", plan->listen) < 0
        || (plan->http_listen[0] != '\0'
            && gh_guard_probe("http-listen", plan->http_listen) < 0)
        || (plan->metrics_listen[0] != '\0'
            && gh_guard_probe("metrics-listen", plan->metrics_listen) < 0))
        return -1;
    return gh_serve_renew(ctx);
}

int gh_cli_serve(int argc, char **argv)
{
    gh_serve_args a;
    gh_serve_plan plan;
    gh_cli_ctx    ctx;
    char          prefix[GH_PATH_MAX + 2];
    bool          low_port;
    int           parsed;

    memset(&a, 0, sizeof(a));
    memset(&plan, 0, sizeof(plan));
    parsed = gh_serve_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? GH_EXIT_OK : GH_EXIT_USAGE;
    if (gh_cli_setup(&ctx, a.data_dir, a.config, true) < 0)
        return GH_EXIT_FAIL;
    if (gh_serve_plan_make(&ctx, &a, &plan) < 0)
        return GH_EXIT_USAGE;
    if (gh_serve_check_user(&ctx) < 0)
        return GH_EXIT_FAIL;
    low_port = plan.port < 1024 || (plan.http_port > 0 && plan.http_port < 1024)
               || (plan.metrics_port > 0 && plan.metrics_port < 1024);
    if (gh_cli_become_owner(&ctx, true, low_port && !a.check) < 0
        || gh_serve_preflight(&ctx, &plan) < 0 || gh_serve_claim(&ctx, &plan, a.check) < 0
        || gh_serve_write(&ctx, &plan) < 0)
        return GH_EXIT_FAIL;

    snprintf(prefix, sizeof(prefix), "%s/", plan.run_dir);
    if (!a.check) {
        fprintf(stderr, "gatehouse: serving %s on https://%s/", ctx.data_dir, plan.listen);
        if (plan.http_listen[0] != '\0')
            fprintf(stderr, " and http://%s/ (CA download, redirects)", plan.http_listen);
        if (plan.metrics_listen[0] != '\0')
            fprintf(stderr, ", metrics on http://%s/metrics", plan.metrics_listen);
        fprintf(stderr, "; nginx configuration %s\n", plan.conf);
    }
    fflush(NULL);
    if (a.check) {
        char *const args[] = { plan.nginx, "-e", "stderr", "-p", prefix, "-c", plan.conf,
                               "-t", NULL };

        execv(plan.nginx, args);
    } else {
        char *const args[] = { plan.nginx, "-e", "stderr", "-p", prefix, "-c", plan.conf,
                               "-g", "daemon off;", NULL };

        execv(plan.nginx, args);
    }
    gh_cli_err("cannot run %s: %s", plan.nginx, strerror(errno));
    return GH_EXIT_FAIL;
}
