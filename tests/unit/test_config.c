/*
 * test_config.c: the defaults, a good file, every kind of error reported as
 * FILE:LINE: key: reason with the caller's config left alone, and the example
 * in docs/ loading both as shipped and with every setting uncommented.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "../../src/core/config.h"
#include "../../src/dialects/common/dialect.h"
#include "../../src/dialects/ovirt/ovirt_config.h"
#include "../../src/dialects/powerstore/powerstore_config.h"

#define EXAMPLE "docs/gatehouse.conf.example"

typedef struct {
    char path[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    int fd;

    if (f == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "/tmp/gh_config_XXXXXX");
    fd = mkstemp(f->path);
    if (fd < 0)
        return -1;
    close(fd);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    unlink(f->path);
    free(f);
    return 0;
}

/* The defaults with every dialect's section declared, as the command line
 * and the module read the file. */
static void defaults(gh_config *c)
{
    char err[256];

    if (gh_dialect_config_defaults(c, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static void test_defaults(void **state)
{
    gh_config c;

    (void)state;
    defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:8443");
    assert_string_equal(c.http_listen, "127.0.0.1:8080");
    assert_string_equal(c.user, "");
    assert_int_equal(c.workers, 0);
    assert_string_equal(c.nginx, "/usr/sbin/nginx");
    assert_string_equal(c.module, "");
    assert_int_equal(c.max_body_bytes, 65536);
    assert_int_equal(c.max_header_bytes, 16384);
    assert_int_equal(c.idle_connection_seconds, 60);
    assert_int_equal(c.max_connections, 1024);
    assert_string_equal(c.upstream.url, "");
    assert_string_equal(c.upstream.ca, "");
    assert_int_equal(c.upstream.keepalive, 32);
    assert_int_equal(c.upstream.connect_timeout, 5);
    assert_int_equal(c.upstream.timeout, 60);
    assert_string_equal(c.identity_header_prefix, "X-Gatehouse-");
    assert_int_equal(c.upload_max_bytes, INT64_C(4) << 30);
    assert_string_equal(c.upload_paths,
                        "/redfish/v1/UpdateService, /api/rest/software_package/upload");
    assert_string_equal(c.stream_paths, "/redfish/v1/EventService/SSE");
    assert_string_equal(c.data_tree, "");
    assert_string_equal(c.log_level, "error");
    assert_int_equal(c.session_timeout, 1800);
    assert_int_equal(c.session_lifetime, 0);
    assert_int_equal(c.max_sessions, 10000);
    assert_int_equal(c.max_sessions_per_account, 64);
    assert_int_equal(c.credcache_seconds, 300);
    assert_int_equal(c.credcache_entries, 4096);
    assert_int_equal(c.argon2.t_cost, 2);
    assert_int_equal(c.argon2.m_cost_kib, 19456);
    assert_int_equal(c.argon2.parallelism, 1);
    assert_int_equal(c.hash_threads, 0);
    assert_int_equal(c.hash_nice, 10);
    assert_true(c.upgrade_hashes);
    assert_int_equal(c.min_password_length, 8);
    assert_int_equal(c.max_password_length, 128);
    assert_int_equal(c.lockout_threshold, 5);
    assert_int_equal(c.lockout_duration, 300);
    assert_int_equal(c.lockout_reset_after, 300);
    assert_int_equal(c.lockout_account_threshold, 50);
    assert_int_equal(c.throttle_failures, 10);
    assert_int_equal(c.throttle_window, 300);
    assert_int_equal(c.throttle_delay, 1);
    assert_int_equal(c.throttle_max_delay, 60);
    assert_int_equal(c.max_streams, 64);
    assert_int_equal(c.keepalive_seconds, 15);
    assert_string_equal(c.audit_log, "");
    assert_string_equal(gh_ovirt_settings_of(&c)->profiles, "internal");
    assert_int_equal(gh_ovirt_settings_of(&c)->token_idle_timeout, 1800);
    assert_int_equal(gh_ovirt_settings_of(&c)->token_timeout, 360000);
    assert_false(gh_ovirt_settings_of(&c)->single_token_per_user);
    assert_false(gh_ovirt_settings_of(&c)->csrf_protection);
    assert_int_equal(gh_ps_settings_of(&c)->idle_timeout, 3600);
}

static void test_good_file(void **state)
{
    fixture *f = *state;
    gh_config c;
    char err[512] = "unchanged";

    write_file(f->path,
               "# a comment\n"
               "; another\n"
               "\n"
               "[server]\n"
               "listen = [::1]:9443\n"
               "http_listen =\n"
               "user = www-data\n"
               "workers = 4\n"
               "upstream = https://10.0.0.5:443/\n"
               "max_body_bytes = 1048576   ; inline comment\n"
               "data_tree = /srv/gatehouse trees\n"
               "log_level = info\n"
               "[sessions]\n"
               "session_timeout = 30\n"
               "session_lifetime = 86400\n"
               "[password]\n"
               "argon2_t_cost = 3\n"
               "argon2_m_cost_kib = 65536\n"
               "argon2_parallelism = 4\n"
               "min_password_length = 12\n"
               "upgrade_hashes = no\n"
               "[lockout]\n"
               "lockout_threshold = 0\n"
               "[events]\n"
               "max_streams = 0\n"
               "keepalive_seconds = 1\n"
               "[audit]\n"
               "audit_log = /var/log/gatehouse/audit.log\n"
               "[ovirt]\n"
               "profiles = internal, example.com,lab-1\n"
               "token_idle_timeout = 0\n"
               "token_timeout = 60\n"
               "single_token_per_user = yes\n"
               "csrf_protection = on\n"
               "[powerstore]\n"
               "idle_timeout = 1\n"
               "[credcache]\n"
               "credcache_seconds = 0\n"
               "[server]\n"
               "max_connections = 1000000\n");
    defaults(&c);
    assert_int_equal(gh_config_load(&c, f->path, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_string_equal(c.listen, "[::1]:9443");
    assert_string_equal(c.http_listen, "");
    assert_string_equal(c.user, "www-data");
    assert_int_equal(c.workers, 4);
    assert_string_equal(c.upstream.url, "https://10.0.0.5:443/");
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_string_equal(c.data_tree, "/srv/gatehouse trees");
    assert_string_equal(c.log_level, "info");
    assert_int_equal(c.max_connections, 1000000);
    assert_int_equal(c.session_timeout, 30);
    assert_int_equal(c.session_lifetime, 86400);
    assert_int_equal(c.argon2.t_cost, 3);
    assert_int_equal(c.argon2.m_cost_kib, 65536);
    assert_int_equal(c.argon2.parallelism, 4);
    assert_int_equal(c.min_password_length, 12);
    assert_false(c.upgrade_hashes);
    assert_int_equal(c.lockout_threshold, 0);
    assert_int_equal(c.max_streams, 0);
    assert_int_equal(c.keepalive_seconds, 1);
    assert_string_equal(c.audit_log, "/var/log/gatehouse/audit.log");
    assert_string_equal(gh_ovirt_settings_of(&c)->profiles, "internal, example.com,lab-1");
    assert_int_equal(gh_ovirt_settings_of(&c)->token_idle_timeout, 0);
    assert_int_equal(gh_ovirt_settings_of(&c)->token_timeout, 60);
    assert_true(gh_ovirt_settings_of(&c)->single_token_per_user);
    assert_true(gh_ovirt_settings_of(&c)->csrf_protection);
    assert_int_equal(gh_ps_settings_of(&c)->idle_timeout, 1);
    assert_int_equal(c.credcache_seconds, 0);         /* the cache off */
    /* Untouched keys keep their defaults. */
    assert_int_equal(c.max_sessions, 10000);
    assert_string_equal(c.nginx, "/usr/sbin/nginx");
}

/* Load text, expect failure with exactly "PATH:want", and cfg untouched. */
static void expect_error(const char *path, const char *text, const char *want)
{
    gh_config c, before;
    char err[512], full[600];

    write_file(path, text);
    defaults(&c);
    memcpy(&before, &c, sizeof(c));
    assert_int_equal(gh_config_load(&c, path, err, sizeof(err)), -1);
    snprintf(full, sizeof(full), "%s:%s", path, want);
    if (strcmp(err, full) != 0)
        fail_msg("for:\n%s\ngot  \"%s\"\nwant \"%s\"", text, err, full);
    assert_memory_equal(&c, &before, sizeof(c));
}

static void test_errors(void **state)
{
    fixture *f = *state;
    const char *p = f->path;
    char longline[400];

    expect_error(p, "[server]\nworkers = 2\n[bogus]\nkey = 1\n",
                 "4: key: unknown section [bogus]");
    expect_error(p, "workers = 2\n", "1: workers: unknown section []");
    expect_error(p, "[server]\n\nlisten_addr = 1.2.3.4:1\n",
                 "3: listen_addr: unknown key in [server]");
    /* A key of one section in another is unknown there. */
    expect_error(p, "[server]\nsession_timeout = 60\n",
                 "2: session_timeout: unknown key in [server]");
    expect_error(p, "[sessions]\nsession_timeout = 12abc\n",
                 "2: session_timeout: not an integer");
    expect_error(p, "[sessions]\nsession_timeout =\n",
                 "2: session_timeout: not an integer");
    expect_error(p, "[sessions]\nsession_timeout = +60\n",
                 "2: session_timeout: not an integer");
    expect_error(p, "[sessions]\nsession_timeout = 0x40\n",
                 "2: session_timeout: not an integer");
    expect_error(p, "[sessions]\nsession_timeout = 6 0\n",
                 "2: session_timeout: not an integer");
    expect_error(p, "[sessions]\nsession_timeout = 29\n",
                 "2: session_timeout: out of range");
    expect_error(p, "[sessions]\nsession_timeout = 86401\n",
                 "2: session_timeout: out of range");
    expect_error(p, "[sessions]\nmax_sessions = -1\n",
                 "2: max_sessions: out of range");
    expect_error(p, "[sessions]\nmax_sessions = 99999999999999999999999\n",
                 "2: max_sessions: out of range");
    expect_error(p, "[server]\nworkers = 2147483648\n", "2: workers: out of range");
    expect_error(p, "[credcache]\ncredcache_seconds = -1\n",
                 "2: credcache_seconds: out of range");
    expect_error(p, "[server]\nlog_level = debug\n",
                 "2: log_level: not one of emerg, alert, crit, error, warn, notice, info");
    expect_error(p, "[server]\nlog_level = info;\n",
                 "2: log_level: not one of emerg, alert, crit, error, warn, notice, info");
    expect_error(p, "[password]\nargon2_t_cost = 0\n", "2: argon2_t_cost: out of range");
    expect_error(p, "[password]\nhash_nice = 20\n", "2: hash_nice: out of range");
    expect_error(p, "[password]\nhash_nice = -1\n", "2: hash_nice: out of range");
    expect_error(p, "[password]\nargon2_m_cost_kib = 4294967296\n",
                 "2: argon2_m_cost_kib: out of range");
    expect_error(p, "[password]\nargon2_parallelism = 4\nargon2_m_cost_kib = 16\n",
                 "3: argon2_m_cost_kib: argon2_m_cost_kib must be at least 8 * argon2_parallelism");
    expect_error(p, "[password]\nargon2_m_cost_kib = 16\nargon2_parallelism = 4\n",
                 "3: argon2_parallelism: argon2_m_cost_kib must be at least 8 * argon2_parallelism");
    expect_error(p, "[password]\nmin_password_length = 200\n",
                 "2: min_password_length: min_password_length exceeds max_password_length");
    expect_error(p, "[password]\nmax_password_length = 257\n",
                 "2: max_password_length: out of range");
    expect_error(p, "[sessions]\nmax_sessions = 5\n\nmax_sessions = 6\n",
                 "4: max_sessions: given twice (first on line 2)");
    expect_error(p, "[server]\nlisten = 1.2.3.4:1\n  workers = 2\n",
                 "3: listen: indented (continuation lines are not supported)");
    expect_error(p, "[server]\nworkers\n",
                 "2: syntax error (expected [section] or key = value)");
    expect_error(p, "[server\nworkers = 1\n",
                 "1: syntax error (expected [section] or key = value)");
    expect_error(p, "[server]\nlisten =\n", "2: listen: may not be empty");
    expect_error(p, "[server]\nlisten = 127.0.0.1\n",
                 "2: listen: not HOST:PORT or [IPV6]:PORT");
    expect_error(p, "[server]\nlisten = 127.0.0.1:70000\n",
                 "2: listen: not HOST:PORT or [IPV6]:PORT");
    expect_error(p, "[server]\nlisten = ::1:443\n",
                 "2: listen: not HOST:PORT or [IPV6]:PORT");
    expect_error(p, "[server]\nlisten = 127.0.0.1:443{\n",
                 "2: listen: not HOST:PORT or [IPV6]:PORT");
    expect_error(p, "[server]\nupstream = ftp://x\n",
                 "2: upstream: not http://HOST[:PORT], https://HOST[:PORT] or unix:/PATH");
    expect_error(p, "[server]\nupstream = http://a b\n",
                 "2: upstream: not http://HOST[:PORT], https://HOST[:PORT] or unix:/PATH");
    expect_error(p, "[server]\nuser = -root\n", "2: user: not a user name");
    expect_error(p, "[server]\nuser = a/b\n", "2: user: not a user name");
    expect_error(p, "[server]\nnginx = /usr/sbin/nginx;evil\n",
                 "2: nginx: holds a control character, a quote, a backslash or one of ;{}");
    expect_error(p, "[server]\nnginx = \"/usr/sbin/nginx\"\n",
                 "2: nginx: holds a control character, a quote, a backslash or one of ;{}");
    expect_error(p, "[server]\nnginx = /a\tb\n",
                 "2: nginx: holds a control character, a quote, a backslash or one of ;{}");

    expect_error(p, "[ovirt]\nsingle_token_per_user = 1\n",
                 "2: single_token_per_user: not true or false");
    expect_error(p, "[ovirt]\ncsrf_protection = True\n", "2: csrf_protection: not true or false");
    expect_error(p, "[ovirt]\nprofiles = internal;ldap\n",
                 "2: profiles: not a list of names (letters, digits, '.', '_' and '-', "
                 "separated by commas)");
    expect_error(p, "[ovirt]\nprofiles = , ,\n",
                 "2: profiles: not a list of names (letters, digits, '.', '_' and '-', "
                 "separated by commas)");
    expect_error(p, "[ovirt]\nprofiles =\n", "2: profiles: may not be empty");
    expect_error(p, "[ovirt]\ntoken_timeout = 0\n", "2: token_timeout: out of range");
    expect_error(p, "[ovirt]\ntoken_idle_timeout = -1\n", "2: token_idle_timeout: out of range");
    expect_error(p, "[powerstore]\nidle_timeout = 0\n", "2: idle_timeout: out of range");
    expect_error(p, "[powerstore]\nidle_timeout = 86401\n", "2: idle_timeout: out of range");
    expect_error(p, "[powerstore]\nidle_timeout = 1h\n", "2: idle_timeout: not an integer");
    expect_error(p, "[powerstore]\nsession_timeout = 60\n",
                 "2: session_timeout: unknown key in [powerstore]");
    /* A profile name longer than a domain can be. */
    snprintf(longline, sizeof(longline), "[ovirt]\nprofiles = a,%0*d\n", GH_DOMAIN_MAX + 1, 0);
    expect_error(p, longline,
                 "2: profiles: not a list of names (letters, digits, '.', '_' and '-', "
                 "separated by commas)");

    /* A string one byte too long for its field (user[64]). */
    snprintf(longline, sizeof(longline), "[server]\nuser = %0*d\n", 64, 0);
    expect_error(p, longline, "2: user: too long");

    /* A line too long for inih's buffer: refused, not split in two. */
    memset(longline, 0, sizeof(longline));
    snprintf(longline, sizeof(longline), "[server]\ndata_tree = /");
    memset(longline + strlen(longline), 'd', 300);
    strcat(longline, "\n");
    expect_error(p, longline, "2: line longer than 197 characters");
}

/* "data_tree = /ddd..." exactly len characters long, without its newline. */
static void data_tree_line(char *buf, size_t len)
{
    size_t head = strlen("data_tree = /");

    memcpy(buf, "data_tree = /", head);
    memset(buf + head, 'd', len - head);
    buf[len] = '\0';
}

static void test_line_limit_and_crlf(void **state)
{
    fixture *f = *state;
    gh_config c;
    char line[256], text[300], err[512];

    /* Exactly 197 characters is fine, in a CRLF file as in an LF one. */
    data_tree_line(line, 197);
    snprintf(text, sizeof(text), "[server]\r\n%s\r\nworkers = 3\r\n", line);
    write_file(f->path, text);
    defaults(&c);
    if (gh_config_load(&c, f->path, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.data_tree, line + strlen("data_tree = "));
    assert_int_equal(c.workers, 3);

    /* One more and it is refused. */
    data_tree_line(line, 198);
    snprintf(text, sizeof(text), "[server]\n%s\n", line);
    expect_error(f->path, text, "2: line longer than 197 characters");
}

static void test_nul_byte(void **state)
{
    fixture *f = *state;
    gh_config c;
    char err[512];
    FILE *fp = fopen(f->path, "w");

    assert_non_null(fp);
    fwrite("[server]\nworkers = 1\0 junk\n", 1, 27, fp);
    fclose(fp);
    defaults(&c);
    assert_int_equal(gh_config_load(&c, f->path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: line holds a NUL byte"));
}

static void test_missing_file_and_small_err(void **state)
{
    gh_config c;
    char err[512], tiny[8];

    (void)state;
    defaults(&c);
    assert_int_equal(gh_config_load(&c, "/nonexistent/gatehouse.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/gatehouse.conf: No such file or directory");
    /* The message is cut to fit, never overflows, and NULL err is allowed. */
    assert_int_equal(gh_config_load(&c, "/nonexistent/gatehouse.conf", tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_int_equal(gh_config_load(&c, "/nonexistent/gatehouse.conf", NULL, 0), -1);
    assert_int_equal(gh_config_load(&c, NULL, err, sizeof(err)), -1);
}

static void test_list_has(void **state)
{
    const char *list = "internal, example.com,,lab-1";

    (void)state;
    assert_true(gh_config_list_has(list, "internal", 8));
    assert_true(gh_config_list_has(list, "example.com", 11));
    assert_true(gh_config_list_has(list, "lab-1", 5));
    /* Whole names only, compared exactly. */
    assert_false(gh_config_list_has(list, "intern", 6));
    assert_false(gh_config_list_has(list, "Internal", 8));
    assert_false(gh_config_list_has(list, "lab-1x", 6));
    assert_false(gh_config_list_has(list, "internalx", 8 + 1));
    assert_false(gh_config_list_has(list, "", 0));
    assert_false(gh_config_list_has(NULL, "internal", 8));
    /* The length counts, not a NUL: a view into a longer string works. */
    assert_true(gh_config_list_has(list, "lab-1@more", 5));
}

/* The upstream* keys: [server]'s, and a dialect's own over them key by key;
 * a dialect without a section of its own ([redfish]) carries them too. */
static void test_upstream_keys(void **state)
{
    fixture *f = *state;
    gh_config c;
    gh_config_upstream_t u;
    char err[512];

    write_file(f->path,
               "[server]\n"
               "upstream = https://api.example:8443\n"
               "upstream_ca = /etc/gh/ca.pem\n"
               "upstream_server_name = bmc.example\n"
               "upstream_client_cert = /etc/gh/client.pem\n"
               "upstream_client_key = /etc/gh/client.key\n"
               "upstream_keepalive = 0\n"
               "upstream_connect_timeout = 2\n"
               "upstream_timeout = 30\n"
               "identity_header_prefix = X-Gw-\n"
               "upload_paths = /redfish/v1/UpdateService/upload, /api/rest/x.y\n"
               "upload_max_bytes = 1099511627776\n"
               "stream_paths =\n"
               "[redfish]\n"
               "upstream = unix:/run/bmc.sock\n"
               "upstream_timeout = 7\n"
               "[ovirt]\n"
               "profiles = internal\n"
               "upstream = http://[::1]:8080/\n"
               "upstream_client_cert =\n"
               "upstream_client_key =\n"
               "[powerstore]\n"
               "upstream =\n");
    defaults(&c);
    if (gh_config_load(&c, f->path, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.identity_header_prefix, "X-Gw-");
    assert_string_equal(c.upload_paths, "/redfish/v1/UpdateService/upload, /api/rest/x.y");
    assert_int_equal(c.upload_max_bytes, INT64_C(1) << 40);
    assert_string_equal(c.stream_paths, "");

    gh_config_upstream(&c, NULL, &u);
    assert_string_equal(u.url, "https://api.example:8443");
    assert_string_equal(u.server_name, "bmc.example");
    assert_int_equal(u.keepalive, 0);
    gh_config_upstream(&c, "proxmox", &u);        /* gave nothing: [server]'s */
    assert_memory_equal(&u, &c.upstream, sizeof(u));
    gh_config_upstream(&c, "redfish", &u);
    assert_string_equal(u.url, "unix:/run/bmc.sock");
    assert_int_equal(u.timeout, 7);
    assert_int_equal(u.connect_timeout, 2);       /* [server]'s */
    assert_string_equal(u.ca, "/etc/gh/ca.pem");
    gh_config_upstream(&c, "ovirt", &u);
    assert_string_equal(u.url, "http://[::1]:8080/");
    assert_string_equal(u.client_cert, "");       /* given empty: wins */
    assert_string_equal(u.client_key, "");
    assert_string_equal(u.server_name, "bmc.example");
    gh_config_upstream(&c, "powerstore", &u);
    assert_string_equal(u.url, "");               /* the bundled tree */
    gh_config_upstream(&c, "nosuch", &u);
    assert_memory_equal(&u, &c.upstream, sizeof(u));
}

static void test_upstream_errors(void **state)
{
    fixture *f = *state;
    const char *p = f->path;
    static const char *const bad_urls[] = {
        "http://", "http:///x", "https://a/api", "http://a:0", "http://a:65536",
        "http://a:", "http://a:8x", "http://[::1", "http://[zz]:80", "http://-a",
        "http://a;b", "http://user@a", "unix:relative", "unix:/a b", "unix:/a$b",
        "unix:/a#b", "unix:/a;b", "https://a/?q", "http://a:80:90",
    };
    char text[256];

    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        snprintf(text, sizeof(text), "[redfish]\nupstream = %s\n", bad_urls[i]);
        expect_error(p, text, "2: upstream: not http://HOST[:PORT], https://HOST[:PORT] "
                              "or unix:/PATH");
    }
    expect_error(p, "[redfish]\nupstream = http://a\nupstream = http://b\n",
                 "3: upstream: given twice (first on line 2)");
    expect_error(p, "[redfish]\nprofiles = x\n", "2: profiles: unknown key in [redfish]");
    expect_error(p, "[proxmox]\nupstream_keepalive = -1\n",
                 "2: upstream_keepalive: out of range");
    expect_error(p, "[server]\nupstream_timeout = 0\n", "2: upstream_timeout: out of range");
    expect_error(p, "[server]\nupstream_server_name = a/b\n",
                 "2: upstream_server_name: not a host name or IP address");
    expect_error(p, "[server]\nidentity_header_prefix = X_Gh\n",
                 "2: identity_header_prefix: not the start of a header name "
                 "(letters, digits and '-')");
    expect_error(p, "[server]\nidentity_header_prefix =\n",
                 "2: identity_header_prefix: may not be empty");
    expect_error(p, "[server]\nupload_max_bytes = 1023\n", "2: upload_max_bytes: out of range");
    {
        static const char *const bad_paths[] = {
            "redfish", "/a//b", "/a/../b", "/a/./b", "/a/..", "/a b;", "/a%2e", "/a?x",
            "/a, b", "/a$",
        };
        for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
            snprintf(text, sizeof(text), "[server]\nupload_paths = %s\n", bad_paths[i]);
            expect_error(p, text, "2: upload_paths: not a list of paths (/a/b: letters, "
                                  "digits, '.', '_', '~', '-', no . or .. segment), "
                                  "separated by commas");
        }
    }
    /* A client certificate and its key go together, in effect in each
     * section: blamed on the later line of the pair, or on [server]'s. */
    expect_error(p, "[server]\nupstream_client_cert = /c.pem\n",
                 "2: upstream_client_cert: upstream_client_cert and upstream_client_key "
                 "go together: both or neither");
    expect_error(p, "[server]\nupstream_client_cert = /c.pem\nupstream_client_key = /k\n"
                    "[redfish]\nupstream_client_key =\n",
                 "5: upstream_client_key: upstream_client_cert and upstream_client_key "
                 "go together: both or neither");
}

static void test_example_as_shipped(void **state)
{
    gh_config c, d;
    char err[512];

    (void)state;
    defaults(&c);
    defaults(&d);
    if (gh_config_load(&c, EXAMPLE, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_memory_equal(&c, &d, sizeof(c));
}

/*
 * Every "; key = value" line uncommented must load and give the defaults:
 * the example documents every key, at its real default.
 */
static void test_example_uncommented(void **state)
{
    fixture *f = *state;
    FILE *in = fopen(EXAMPLE, "r"), *out = fopen(f->path, "w");
    char line[512], err[512];
    gh_config c, d;
    int settings = 0;

    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strncmp(line, "; ", 2) == 0 && line[2] >= 'a' && line[2] <= 'z'
            && strchr(line, '=') != NULL) {
            fputs(line + 2, out);
            settings++;
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
    /* Every key of gh_config, each once (a second one would be an error). */
    assert_int_equal(settings, 69);

    defaults(&c);
    defaults(&d);
    if (gh_config_load(&c, f->path, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_memory_equal(&c, &d, sizeof(c));
}

/* A section the core does not know, declared by its owner: read like the
 * core's own, with its defaults, bounds and errors; refused when undeclared. */
typedef struct {
    int64_t count;
    bool    loud;
    char    names[32];
} widget_settings;

static const widget_settings widget_defaults = { 7, false, "one" };
static const gh_config_key widget_keys[] = {
    { "count", GH_CONFIG_I64, offsetof(widget_settings, count), 0, 1, 100, false },
    { "loud", GH_CONFIG_BOOL, offsetof(widget_settings, loud), 0, 0, 0, false },
    { "names", GH_CONFIG_NAMES, offsetof(widget_settings, names),
      sizeof(((widget_settings *)0)->names), 0, 0, false },
};
static const gh_config_section widget = {
    "widget", widget_keys, 3, &widget_defaults, sizeof(widget_settings), NULL
};
static const gh_config_section widget_again = {
    "widget", widget_keys, 3, &widget_defaults, sizeof(widget_settings), NULL
};
static const gh_config_section server_too = {
    "server", widget_keys, 3, &widget_defaults, sizeof(widget_settings), NULL
};

static void test_declared_section(void **state)
{
    fixture *f = *state;
    const widget_settings *w;
    gh_config c;
    char err[512];

    gh_config_defaults(&c);
    assert_null(gh_config_section_get(&c, &widget));
    write_file(f->path, "[widget]\ncount = 5\n");
    expect_error(f->path, "[widget]\ncount = 5\n", "2: count: unknown section [widget]");

    assert_int_equal(gh_config_declare(&c, &widget, err, sizeof(err)), 0);
    w = gh_config_section_get(&c, &widget);
    assert_non_null(w);
    assert_int_equal(w->count, 7);
    assert_false(w->loud);
    assert_string_equal(w->names, "one");
    assert_int_equal(gh_config_declare(&c, &widget_again, err, sizeof(err)), -1);
    assert_string_equal(err, "section [widget]: named twice");
    assert_int_equal(gh_config_declare(&c, &server_too, err, sizeof(err)), -1);
    assert_string_equal(err, "section [server]: named twice");

    write_file(f->path, "[widget]\ncount = 5\nloud = yes\nnames = a, b\n[server]\nworkers = 2\n");
    if (gh_config_load(&c, f->path, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    w = gh_config_section_get(&c, &widget);
    assert_int_equal(w->count, 5);
    assert_true(w->loud);
    assert_string_equal(w->names, "a, b");
    assert_int_equal(c.workers, 2);

    /* a bad file changes nothing, in a declared section either */
    write_file(f->path, "[widget]\ncount = 9\ncount = 10\n");
    assert_int_equal(gh_config_load(&c, f->path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":3: count: given twice (first on line 2)"));
    assert_int_equal(w->count, 5);
    write_file(f->path, "[widget]\ncount = 101\n");
    assert_int_equal(gh_config_load(&c, f->path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: count: out of range"));
    write_file(f->path, "[widget]\ncolour = red\n");
    assert_int_equal(gh_config_load(&c, f->path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: colour: unknown key in [widget]"));
    assert_int_equal(w->count, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_limit_and_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test(test_missing_file_and_small_err),
        cmocka_unit_test(test_list_has),
        cmocka_unit_test_setup_teardown(test_upstream_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_errors, setup, teardown),
        cmocka_unit_test(test_example_as_shipped),
        cmocka_unit_test_setup_teardown(test_example_uncommented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_section, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
