/*
 * cli_template.c: the template language `gatehouse serve` writes nginx.conf
 * with, three rules and nothing more:
 *   - a placeholder, a name in capitals between two at signs, is replaced by
 *     its value; an unknown name is an error (a typo must not reach nginx);
 *     an at sign that does not start a placeholder is copied (`location @x`);
 *   - the lines from "#@if NAME" to "#@endif" are kept only when NAME's value
 *     is not empty (no nesting);
 *   - a line starting with "##" is a note about the template and is dropped.
 * Values are inserted as they are: the caller checks them for what nginx's
 * syntax cannot take.
 */
#include "cli_template.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const gh_tmpl_var *gh_tmpl_lookup(const gh_tmpl_var *vars, size_t n,
                                         const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return &vars[i];
    }
    return NULL;
}

/* One template line with its placeholders replaced, into out. */
static int gh_tmpl_line(FILE *out, const char *source, int lineno, const char *line,
                        size_t len, const gh_tmpl_var *vars, size_t n)
{
    size_t i = 0;

    while (i < len) {
        size_t j = i + 1;

        if (line[i] != '@') {
            fputc(line[i++], out);
            continue;
        }
        while (j < len && ((line[j] >= 'A' && line[j] <= 'Z') || line[j] == '_'))
            j++;
        if (j == i + 1 || j >= len || line[j] != '@') {
            fputc(line[i++], out);           /* a lone '@', as in `location @name` */
            continue;
        }
        const gh_tmpl_var *v = gh_tmpl_lookup(vars, n, line + i + 1, j - i - 1);

        if (v == NULL) {
            gh_cli_err("%s:%d: unknown placeholder %.*s", source, lineno,
                       (int)(j - i + 1), line + i);
            return -1;
        }
        fputs(gh_tmpl_value(v), out);
        i = j + 1;
    }
    return 0;
}

bool gh_tmpl_path_ok(const char *what, const char *path)
{
    const char *p;

    if (path[0] != '/') {
        gh_cli_err("%s %s is not an absolute path", what, path);
        return false;
    }
    for (p = path; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c == 0x7f || strchr("\"'\\$;{}#", c) != NULL) {
            gh_cli_err("%s %s holds a character nginx's configuration cannot take "
                       "safely (%s)", what, path, "quote, backslash, $ ; { } # or control");
            return false;
        }
    }
    return true;
}

int gh_tmpl_render(const char *source, const char *tmpl, const gh_tmpl_var *vars,
                   size_t n, char **text, size_t *len)
{
    FILE       *out = open_memstream(text, len);
    const char *p = tmpl;
    int         lineno = 0, rc = -1;
    bool        keep = true, in_if = false;

    if (out == NULL)
        return -1;
    fprintf(out, "# Written by `gatehouse serve` from %s at every start: edit the "
                 "template, not this file.\n", source);
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t      l = nl != NULL ? (size_t)(nl - p) : strlen(p);
        const char *s = p;

        lineno++;
        while (s < p + l && (*s == ' ' || *s == '\t'))
            s++;
        if (strncmp(s, "##", 2) == 0) {
            ;                                /* a note about the template itself */
        } else if (strncmp(s, "#@if ", 5) == 0) {
            const char        *e = p + l;
            const gh_tmpl_var *v;

            while (e > s + 5 && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                e--;
            v = gh_tmpl_lookup(vars, n, s + 5, (size_t)(e - s - 5));

            if (in_if || v == NULL) {
                gh_cli_err("%s:%d: bad #@if", source, lineno);
                goto done;
            }
            in_if = true;
            keep = gh_tmpl_value(v)[0] != '\0';
        } else if (strncmp(s, "#@endif", 7) == 0) {
            if (!in_if) {
                gh_cli_err("%s:%d: #@endif without #@if", source, lineno);
                goto done;
            }
            in_if = false;
            keep = true;
        } else if (keep) {
            if (gh_tmpl_line(out, source, lineno, p, l, vars, n) < 0)
                goto done;
            fputc('\n', out);
        }
        p += l + (nl != NULL ? 1 : 0);
    }
    if (in_if) {
        gh_cli_err("%s: #@if without #@endif", source);
        goto done;
    }
    rc = 0;
done:
    if (fclose(out) != 0)
        rc = -1;
    if (rc < 0) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

