/*
 * cli_template.h: the small template language of data/nginx.conf.in. Private
 * to src/cli.
 */
#ifndef GH_CLI_TEMPLATE_H
#define GH_CLI_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/config.h"

typedef struct {
    const char *name;                 /* capitals and '_' */
    char        value[GH_PATH_MAX];
    const char *text;                 /* not NULL: the value instead (a rendered block) */
} gh_tmpl_var;

/* The value a var stands for. */
static inline const char *gh_tmpl_value(const gh_tmpl_var *v)
{
    return v->text != NULL ? v->text : v->value;
}

/* A path nginx reads inside double quotes: absolute, nothing that could end
 * the quote, start a variable or a comment, or break the line. false after
 * saying so, what naming it. */
bool gh_tmpl_path_ok(const char *what, const char *path);

/* Render tmpl (NUL-terminated; source names it in messages) with vars into
 * *text, a new buffer of *len bytes owned by the caller (free). Prints its
 * errors: an unknown placeholder, an unbalanced #@if. */
int gh_tmpl_render(const char *source, const char *tmpl, const gh_tmpl_var *vars,
                   size_t n, char **text, size_t *len);

#endif
