/*
 * cli_template.h: the small template language of data/nginx.conf.in. Private
 * to src/cli.
 */
#ifndef GH_CLI_TEMPLATE_H
#define GH_CLI_TEMPLATE_H

#include <stddef.h>

#include "../core/config.h"

typedef struct {
    const char *name;                 /* capitals and '_' */
    char        value[GH_PATH_MAX];
} gh_tmpl_var;

/* Render tmpl (NUL-terminated; source names it in messages) with vars into
 * *text, a new buffer of *len bytes owned by the caller (free). Prints its
 * errors: an unknown placeholder, an unbalanced #@if. */
int gh_tmpl_render(const char *source, const char *tmpl, const gh_tmpl_var *vars,
                   size_t n, char **text, size_t *len);

#endif
