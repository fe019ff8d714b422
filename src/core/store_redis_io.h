/*
 * store_redis_io.h: the parts under store_redis_conn.c, private to it (and
 * to their tests and fuzz targets): the socket with its deadlines and TLS
 * (store_redis_sock.c) and the bounded reply parser (store_redis_reply.c).
 */
#ifndef GH_STORE_REDIS_IO_H
#define GH_STORE_REDIS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include "store_redis_conn.h"

/* The most bytes one reply may take on the wire, and the most elements an
 * array may claim: hiredis 0.14 aborts the process when an allocation
 * fails, so nothing it is fed may make it allocate without bound. */
#define GH_REDIS_REPLY_MAX    (4u << 20)
#define GH_REDIS_ELEMENTS_MAX (1u << 20)
/* The most arguments one command may have. */
#define GH_REDIS_ARGC_MAX     (1u << 20)

/* Milliseconds of CLOCK_MONOTONIC: what every deadline here is made of. */
int64_t gh_redis_now_ms(void);

/* A connected socket, TLS when ssl is set. */
typedef struct {
    int  fd;
    SSL *ssl;
} gh_redis_sock;

/* The TLS settings of cfg as a client context (TLS 1.2 or later, the peer
 * verified against cfg->tls_ca, or the system's CAs when it is empty; the
 * client certificate when set). NULL with the reason in err. Owned by the
 * caller (SSL_CTX_free). */
SSL_CTX *gh_redis_tls_context(const gh_store_config *cfg, char *err, size_t err_size);

/* Connect to host:port (path NULL) or the unix socket path, by deadline;
 * with ctx, then a TLS handshake verifying server_name (a DNS name or an IP
 * address; also sent as SNI when it is a name). false with the reason in
 * err; s is then closed. */
bool gh_redis_sock_connect(gh_redis_sock *s, const char *host, uint16_t port, const char *path,
                           SSL_CTX *ctx, const char *server_name, int64_t deadline,
                           char *err, size_t err_size);
/* Write all len bytes by deadline; false with the reason in err. */
bool gh_redis_sock_write(gh_redis_sock *s, const char *buf, size_t len, int64_t deadline,
                         char *err, size_t err_size);
/* Read what is there, up to cap bytes, waiting until deadline: > 0 bytes
 * read, 0 when the deadline passed first, -1 on EOF or an error (err). */
ssize_t gh_redis_sock_read(gh_redis_sock *s, char *buf, size_t cap, int64_t deadline,
                           char *err, size_t err_size);
void gh_redis_sock_close(gh_redis_sock *s);

/* A RESP reader whose replies are allocated here, bounded (the sizes above)
 * and freed by gh_redis_reply_free. */
typedef struct {
    redisReader *reader;
    size_t       pending;          /* bytes fed and not yet part of a whole reply */
} gh_redis_parser;

bool gh_redis_parser_init(gh_redis_parser *p);
void gh_redis_parser_free(gh_redis_parser *p);
/* Feed n bytes; false (with the reason, static) when the reply being read
 * would pass GH_REDIS_REPLY_MAX: the stream cannot be trusted after that. */
bool gh_redis_parser_feed(gh_redis_parser *p, const char *buf, size_t n, const char **why);
/* 1: *out is the next whole reply (the caller's); 0: more bytes needed;
 * -1: the bytes are not RESP or a bound was passed (why, static). */
int gh_redis_parser_next(gh_redis_parser *p, redisReply **out, const char **why);

/* Whether reply is an error reply whose code word is code ("NOSCRIPT"). */
bool gh_redis_reply_is_error(const redisReply *reply, const char *code);

/* Sets the connection's error (gh_redis_error) to "Redis: why". */
void gh_redis_fail(gh_redis *r, const char *why);

#endif
