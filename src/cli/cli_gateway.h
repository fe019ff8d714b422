/*
 * cli_gateway.h: the gateway part of the nginx.conf `gatehouse serve`
 * writes: an upstream block per distinct upstream and a location per dialect
 * with one, from data/upstream.conf.in and data/gateway.conf.in
 * (docs/gateway.md). Private to src/cli.
 */
#ifndef GH_CLI_GATEWAY_H
#define GH_CLI_GATEWAY_H

#include "cli_common.h"

/* What goes into nginx.conf.in: both "" when no dialect has an upstream. */
typedef struct {
    char *upstreams;    /* upstream blocks, for the http block; malloc'd */
    char *locations;    /* locations, for the HTTPS server block; malloc'd */
} gh_cli_gateway;

/* The files the upstreams name (CA, client certificate and key) are
 * absolute, nginx can take their names, and they are readable by whoever
 * runs this (the data directory's owner, who runs nginx). Prints its errors. */
int gh_cli_gateway_check(const gh_cli_ctx *ctx);

/* Render the gateway part of ctx's configuration into *gw (free with
 * gh_cli_gateway_free). Prints its errors: a template that cannot be read or
 * rendered, an upload or stream path under no dialect. */
int gh_cli_gateway_render(const gh_cli_ctx *ctx, gh_cli_gateway *gw);
void gh_cli_gateway_free(gh_cli_gateway *gw);

#endif
