/*
 * fuzz_authorize.c: libFuzzer target for the [authorize] rules
 * (gateway_rules.c) and the readings of a path they are matched on
 * (gateway.c). The input's first line is a rule's path prefix, its second
 * the rule's value, the rest a request path. Checks that a rule read is
 * well formed (a normal prefix, every named slot with one to four sets, a
 * "none" alone in its set, nothing unnamed filled), that a refused one is
 * left empty, that every reading of the path is normal (a '/' first, no
 * "." or ".." segment but an escaped one read literally, never longer than
 * the path), and that a principal
 * holding every privilege is refused only by "none" or an unreadable path.
 * The value line is also read as a list of stream paths
 * (gh_gateway_path_listed): an empty path is under none of them, and a
 * prefix line without separators is under itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/dialects/common/gateway.h"

static char *gh_fuzz_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t         n = nl != NULL ? (size_t)(nl - *data) : *size;
    char          *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, *data, n);
    s[n] = '\0';
    *data += n + (nl != NULL);
    *size -= n + (nl != NULL);
    return s;
}

static void gh_fuzz_check_rule(const gh_gateway_rule *r, bool ok)
{
    if (!ok) {
        if (r->named != 0 || r->prefix[0] != '\0')
            abort();
        return;
    }
    if (r->prefix[0] != '/' || strstr(r->prefix, "//") != NULL || r->named == 0)
        abort();
    for (unsigned slot = 0; slot < GH_GATEWAY_SLOTS; slot++) {
        bool named = (r->named & (1u << slot)) != 0;

        if (named != (r->nsets[slot] > 0) || r->nsets[slot] > GH_GATEWAY_ALTERNATIVES)
            abort();
        for (size_t i = 0; i < r->nsets[slot]; i++) {
            uint8_t set = r->sets[slot][i];

            if (set == 0 || (set != GH_GATEWAY_NOBODY && (set & GH_GATEWAY_NOBODY)) ||
                (set & ~(GH_GATEWAY_NOBODY | 0x1fu)) != 0)
                abort();
        }
    }
}

static void gh_fuzz_check_readings(gh_str path)
{
    char   out[GH_GATEWAY_PATH_MAX + 1];
    size_t len;

    for (unsigned how = 0; how < GH_GATEWAY_READINGS; how++) {
        if (!gh_gateway_normalise(path, how, out, &len))
            continue;
        if (len == 0 || out[0] != '/' || len != strlen(out) || len > path.len ||
            (len > 1 && out[len - 1] == '/'))
            abort();
        /* Dots resolved before decoding: a "%2e%2e" stays a segment "..". */
        if ((how & GH_GATEWAY_LITERAL_DOTS) == 0 &&
            (strstr(out, "/./") != NULL || strstr(out, "/../") != NULL ||
             (len >= 2 && strcmp(out + len - 2, "/.") == 0) ||
             (len >= 3 && strcmp(out + len - 3, "/..") == 0)))
            abort();
        if ((how & GH_GATEWAY_KEEP_EMPTY) == 0 && strstr(out, "//") != NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gh_gateway_rules rules;
    static gh_config        cfg;
    static bool             ready;
    char                   *prefix = gh_fuzz_line(&data, &size);
    char                   *value = gh_fuzz_line(&data, &size);
    char                    why[192];
    gh_gateway_rule         rule;
    gh_policy_subject       all = { 1, GH_ROLE_ADMINISTRATOR, 0x1fu, 0 };
    gh_request              req;
    gh_gateway_rules       *in;
    gh_privilege            missing;
    bool                    ok, nobody = false;

    if (!ready) {
        gh_config_defaults(&cfg);
        if (gh_config_declare(&cfg, &gh_gateway_config, NULL, 0) != 0)
            abort();
        ready = true;
    }
    ok = gh_gateway_rule_parse(prefix, value, &rule, why, sizeof(why));
    gh_fuzz_check_rule(&rule, ok);
    memset(&rules, 0, sizeof(rules));
    if (gh_gateway_rules_add(&rules, prefix, value, why, sizeof(why)) != ok)
        abort();
    if (gh_gateway_rules_add(&rules, prefix, value, why, sizeof(why)))
        abort();    /* the same prefix twice */
    in = gh_config_section_edit(&cfg, &gh_gateway_config);
    memcpy(in, &rules, sizeof(rules));
    for (unsigned slot = 0; ok && slot < GH_GATEWAY_SLOTS; slot++)
        for (size_t i = 0; i < rule.nsets[slot]; i++)
            nobody = nobody || rule.sets[slot][i] == GH_GATEWAY_NOBODY;

    gh_fuzz_check_readings((gh_str){ (const char *)data, size });
    memset(&req, 0, sizeof(req));
    req.path = (gh_str){ (const char *)data, size };
    for (int m = GH_METHOD_OTHER; m <= GH_METHOD_OPTIONS; m++) {
        char   out[GH_GATEWAY_PATH_MAX + 1];
        size_t len;

        req.method = (gh_method)m;
        missing = GH_PRIV_LOGIN;
        if (!gh_gateway_allows(&cfg, &req, &all, NULL, 0, &missing)) {
            if (missing != 0)
                abort();
            if (!nobody && ok && gh_gateway_normalise(req.path, 0, out, &len) &&
                size > 0 && memchr(data, '%', size) == NULL && memchr(data, ';', size) == NULL)
                abort();
        }
    }
    if (size == 0 && gh_gateway_path_listed(value, req.path))
        abort();
    if (prefix[0] != '\0' && strcspn(prefix, ", \t") == strlen(prefix) &&
        strlen(prefix) <= GH_GATEWAY_PATH_MAX &&
        !gh_gateway_path_listed(prefix, (gh_str){ prefix, strlen(prefix) }))
        abort();
    free(prefix);
    free(value);
    return 0;
}
