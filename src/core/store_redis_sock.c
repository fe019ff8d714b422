/*
 * store_redis_sock.c: the socket under a Redis connection. A TCP connection
 * (getaddrinfo, each address in turn) or a unix socket, nonblocking and
 * close-on-exec, with TCP_NODELAY and SO_KEEPALIVE; optionally TLS over it
 * (OpenSSL 3). Every wait is a poll() bounded by the caller's deadline, so
 * a server that stops answering costs at most that. TLS is tried before
 * any poll (OpenSSL may hold decrypted bytes the socket no longer shows).
 * Writes never raise SIGPIPE: send(MSG_NOSIGNAL), and around OpenSSL's own
 * writes the signal is blocked and a pending one consumed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "store_redis_io.h"

int64_t gh_redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 1 ready, 0 deadline, -1 error. */
static int sock_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = { fd, events, 0 };
        int64_t       left = deadline - gh_redis_now_ms();
        int           rc;

        if (left <= 0)
            return 0;
        rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* Blocks SIGPIPE in this thread around an OpenSSL call that may write. */
static void pipe_block(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void pipe_restore(const sigset_t *old)
{
    sigset_t              set;
    const struct timespec zero = { 0, 0 };

    if (sigismember(old, SIGPIPE))
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
        ;
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

SSL_CTX *gh_redis_tls_context(const gh_store_config *cfg, char *err, size_t err_size)
{
    SSL_CTX    *ctx = SSL_CTX_new(TLS_client_method());
    const char *what = "TLS: out of memory";

    if (ctx == NULL)
        goto fail;
    what = "TLS: cannot require TLS 1.2";
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    what = "TLS: cannot read tls_ca";
    if (cfg->tls_ca != NULL && cfg->tls_ca[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) != 1)
            goto fail;
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        goto fail;
    }
    if ((cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0') !=
        (cfg->tls_key != NULL && cfg->tls_key[0] != '\0')) {
        what = "TLS: tls_cert and tls_key go together";
        goto fail;
    }
    if (cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0') {
        what = "TLS: cannot use tls_cert and tls_key";
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            goto fail;
    }
    ERR_clear_error();
    return ctx;
fail:
    snprintf(err, err_size, "%s", what);
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

/* Waits as OpenSSL asks after a call that answered rc: 1 go on, 0 the
 * deadline passed, -1 failed (the reason in err). */
static int tls_want(gh_redis_sock *s, int rc, int64_t deadline, const char *what,
                    char *err, size_t err_size)
{
    int e = SSL_get_error(s->ssl, rc), w;

    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        w = sock_wait(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (w <= 0)
            snprintf(err, err_size, "%s", w == 0 ? "timed out" : "poll failed");
        return w;
    }
    if (e == SSL_ERROR_ZERO_RETURN ||
        (e == SSL_ERROR_SSL &&
         ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
        snprintf(err, err_size, "the server closed the connection");
    else if (e == SSL_ERROR_SSL && SSL_get_verify_result(s->ssl) != X509_V_OK)
        snprintf(err, err_size, "%s: the server's certificate is not trusted: %s", what,
                 X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
    else if (e == SSL_ERROR_SYSCALL && errno != 0)
        snprintf(err, err_size, "%s: %s", what, strerror(errno));
    else if (e == SSL_ERROR_SYSCALL)
        snprintf(err, err_size, "the server closed the connection");
    else
        snprintf(err, err_size, "%s failed", what);
    ERR_clear_error();
    return -1;
}

static bool tls_start(gh_redis_sock *s, SSL_CTX *ctx, const char *name, int64_t deadline,
                      char *err, size_t err_size)
{
    unsigned char addr[16];
    bool          ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    sigset_t      old;
    int           rc;

    s->ssl = SSL_new(ctx);
    if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1 ||
        (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), name) != 1
            : SSL_set_tlsext_host_name(s->ssl, name) != 1 || SSL_set1_host(s->ssl, name) != 1)) {
        snprintf(err, err_size, "TLS: cannot set up the connection");
        ERR_clear_error();
        return false;
    }
    for (;;) {
        pipe_block(&old);
        errno = 0;
        rc = SSL_connect(s->ssl);
        pipe_restore(&old);
        if (rc == 1)
            return true;
        if (tls_want(s, rc, deadline, "TLS handshake", err, err_size) <= 0)
            return false;
    }
}

/* Nonblocking connect of one address, by deadline. */
static bool sock_try(gh_redis_sock *s, int family, const struct sockaddr *sa, socklen_t len,
                     int64_t deadline, char *err, size_t err_size)
{
    int       one = 1, soerr = 0, w;
    socklen_t sl = sizeof(soerr);

    s->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return false;
    }
    if (family != AF_UNIX) {
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    if (connect(s->fd, sa, len) == 0)
        return true;
    if (errno != EINPROGRESS && errno != EAGAIN) {
        snprintf(err, err_size, "connect: %s", strerror(errno));
        goto fail;
    }
    w = sock_wait(s->fd, POLLOUT, deadline);
    if (w <= 0) {
        snprintf(err, err_size, "connect: %s", w == 0 ? "timed out" : strerror(errno));
        goto fail;
    }
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        snprintf(err, err_size, "connect: %s", strerror(soerr != 0 ? soerr : errno));
        goto fail;
    }
    return true;
fail:
    close(s->fd);
    s->fd = -1;
    return false;
}

static bool sock_tcp(gh_redis_sock *s, const char *host, uint16_t port, int64_t deadline,
                     char *err, size_t err_size)
{
    struct addrinfo  hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char             service[8];
    int              rc;
    bool             ok = false;

    snprintf(service, sizeof(service), "%u", (unsigned)port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_size, "cannot resolve %s: %s", host, gai_strerror(rc));
        return false;
    }
    for (struct addrinfo *ai = res; ai != NULL && !ok; ai = ai->ai_next)
        ok = sock_try(s, ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline, err, err_size);
    freeaddrinfo(res);
    return ok;
}

bool gh_redis_sock_connect(gh_redis_sock *s, const char *host, uint16_t port, const char *path,
                           SSL_CTX *ctx, const char *server_name, int64_t deadline,
                           char *err, size_t err_size)
{
    bool ok;

    s->fd = -1;
    s->ssl = NULL;
    if (path != NULL) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };

        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
        ok = sock_try(s, AF_UNIX, (const struct sockaddr *)&sun, sizeof(sun), deadline, err,
                      err_size);
    } else {
        ok = sock_tcp(s, host, port, deadline, err, err_size);
    }
    if (ok && ctx != NULL)
        ok = tls_start(s, ctx, server_name != NULL ? server_name : host, deadline, err, err_size);
    if (!ok)
        gh_redis_sock_close(s);
    return ok;
}

bool gh_redis_sock_write(gh_redis_sock *s, const char *buf, size_t len, int64_t deadline,
                         char *err, size_t err_size)
{
    while (len > 0) {
        size_t   done = 0;
        ssize_t  n;
        sigset_t old;

        if (s->ssl != NULL) {
            pipe_block(&old);
            errno = 0;
            n = SSL_write_ex(s->ssl, buf, len, &done);
            pipe_restore(&old);
            if (n != 1) {
                if (tls_want(s, (int)n, deadline, "TLS write", err, err_size) <= 0)
                    return false;
                continue;
            }
        } else {
            n = send(s->fd, buf, len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                int w = sock_wait(s->fd, POLLOUT, deadline);

                if (w <= 0) {
                    snprintf(err, err_size, "%s", w == 0 ? "timed out" : "poll failed");
                    return false;
                }
                continue;
            }
            if (n < 0) {
                snprintf(err, err_size, "write: %s", strerror(errno));
                return false;
            }
            done = (size_t)n;
        }
        buf += done;
        len -= done;
    }
    return true;
}

ssize_t gh_redis_sock_read(gh_redis_sock *s, char *buf, size_t cap, int64_t deadline,
                           char *err, size_t err_size)
{
    for (;;) {
        size_t   done = 0;
        ssize_t  n;
        sigset_t old;
        int      w;

        if (s->ssl != NULL) {
            pipe_block(&old);
            errno = 0;
            n = SSL_read_ex(s->ssl, buf, cap, &done);
            pipe_restore(&old);
            if (n == 1)
                return (ssize_t)done;
            w = tls_want(s, (int)n, deadline, "TLS read", err, err_size);
            if (w <= 0)
                return w;
            continue;
        }
        n = recv(s->fd, buf, cap, 0);
        if (n > 0)
            return n;
        if (n == 0) {
            snprintf(err, err_size, "the server closed the connection");
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR) {
            snprintf(err, err_size, "read: %s", strerror(errno));
            return -1;
        }
        w = sock_wait(s->fd, POLLIN, deadline);
        if (w <= 0) {
            snprintf(err, err_size, "%s", w == 0 ? "timed out" : "poll failed");
            return w;
        }
    }
}

void gh_redis_sock_close(gh_redis_sock *s)
{
    if (s->ssl != NULL)
        SSL_free(s->ssl);    /* no close_notify: the state is unknown, the socket goes */
    if (s->fd >= 0)
        close(s->fd);
    s->ssl = NULL;
    s->fd = -1;
}
