/*
 * gateway_rules.c: the [authorize] section of the configuration: reading
 * one rule (its path prefix and its clauses, the grammar in gateway.h) into
 * a gh_gateway_rule, strictly, and keeping the rules in the section's
 * settings, which live in the gh_config (config.h): a reload reads them
 * afresh, a failed one changes nothing. gateway.c applies them.
 */
#include "gateway.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const gh_gateway_rules gh_gateway_no_rules;

const gh_config_section gh_gateway_config = {
    .name = "authorize",
    .defaults = &gh_gateway_no_rules,
    .size = sizeof(gh_gateway_rules),
    .line = gh_gateway_rules_add,
};

const gh_gateway_rules *gh_gateway_rules_of(const gh_config *cfg)
{
    return gh_config_section_get(cfg, &gh_gateway_config);
}

typedef struct {
    const char *p;          /* the next character */
    char       *why;
    size_t      whylen;
    bool        failed;
} gh_gw_scan;

__attribute__((format(printf, 2, 3)))
static bool gh_gw_fail(gh_gw_scan *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->failed && s->why != NULL && s->whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(s->why, s->whylen, fmt, ap);
        va_end(ap);
    }
    s->failed = true;
    return false;
}

static void gh_gw_blanks(gh_gw_scan *s)
{
    while (*s->p == ' ' || *s->p == '\t')
        s->p++;
}

/* The next word (letters only, or a lone '*'), its length in *n. */
static const char *gh_gw_word(gh_gw_scan *s, size_t *n)
{
    const char *w;

    gh_gw_blanks(s);
    w = s->p;
    if (*s->p == '*') {
        s->p++;
    } else {
        while ((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= 'a' && *s->p <= 'z'))
            s->p++;
    }
    *n = (size_t)(s->p - w);
    return w;
}

/* A privilege by its DMTF name (role.h), or 0. */
static unsigned gh_gw_privilege(const char *w, size_t n)
{
    for (unsigned bit = GH_PRIV_LOGIN; bit <= GH_PRIV_CONFIGURE_SELF; bit <<= 1) {
        const char *name = gh_privilege_name((gh_privilege)bit);

        if (name != NULL && strlen(name) == n && memcmp(name, w, n) == 0)
            return bit;
    }
    return 0;
}

/* methods ':' : the slots named, in *slots. */
static bool gh_gw_methods(gh_gw_scan *s, const gh_gateway_rule *rule, unsigned *slots)
{
    size_t      n;
    const char *w;

    *slots = 0;
    for (;;) {
        unsigned slot;

        w = gh_gw_word(s, &n);
        if (n == 0)
            break;
        if (n == 1 && w[0] == '*') {
            slot = GH_GATEWAY_STAR;
        } else {
            gh_method m = gh_method_from((gh_str){ w, n });

            if (m == GH_METHOD_OTHER)
                return gh_gw_fail(s, "unknown method \"%.*s\" (GET HEAD POST PUT PATCH "
                                  "DELETE OPTIONS, or *)", (int)(n > 32 ? 32 : n), w);
            slot = (unsigned)m;
        }
        if ((rule->named | *slots) & (1u << slot))
            return gh_gw_fail(s, "method %.*s named twice", (int)n, w);
        *slots |= 1u << slot;
    }
    gh_gw_blanks(s);
    if (*slots == 0)
        return gh_gw_fail(s, "a clause must start with methods or *");
    if (*s->p != ':')
        return gh_gw_fail(s, "expected ':' after the methods");
    if ((*slots & (1u << GH_GATEWAY_STAR)) && *slots != (1u << GH_GATEWAY_STAR))
        return gh_gw_fail(s, "* stands alone in its clause");
    s->p++;
    return true;
}

/* One set: "none", or privileges joined by '+'. */
static bool gh_gw_set(gh_gw_scan *s, uint8_t *set)
{
    size_t      n;
    const char *w;

    *set = 0;
    for (;;) {
        unsigned bit;

        w = gh_gw_word(s, &n);
        if (n == 4 && memcmp(w, "none", 4) == 0 && *set == 0) {
            *set = GH_GATEWAY_NOBODY;
            gh_gw_blanks(s);
            if (*s->p == '+')
                return gh_gw_fail(s, "none stands alone in its set");
            return true;
        }
        bit = gh_gw_privilege(w, n);
        if (bit == 0)
            return gh_gw_fail(s, n == 0 ? "expected a privilege" : "unknown privilege "
                              "\"%.*s\" (Login ConfigureManager ConfigureUsers "
                              "ConfigureComponents ConfigureSelf, or none)",
                              (int)(n > 32 ? 32 : n), w);
        *set |= (uint8_t)bit;
        gh_gw_blanks(s);
        if (*s->p != '+')
            return true;
        s->p++;
    }
}

/* The sets after ':', separated by '|', into every slot of slots. */
static bool gh_gw_sets(gh_gw_scan *s, gh_gateway_rule *rule, unsigned slots)
{
    uint8_t sets[GH_GATEWAY_ALTERNATIVES];
    size_t  nsets = 0;

    for (;;) {
        if (nsets == GH_GATEWAY_ALTERNATIVES)
            return gh_gw_fail(s, "more than %d alternatives", GH_GATEWAY_ALTERNATIVES);
        if (!gh_gw_set(s, &sets[nsets++]))
            return false;
        gh_gw_blanks(s);
        if (*s->p != '|')
            break;
        s->p++;
    }
    for (unsigned slot = 0; slot < GH_GATEWAY_SLOTS; slot++) {
        if ((slots & (1u << slot)) == 0)
            continue;
        memcpy(rule->sets[slot], sets, nsets);
        rule->nsets[slot] = (uint8_t)nsets;
    }
    rule->named = (uint16_t)(rule->named | slots);
    return true;
}

/* A prefix in the form rules match on: '/', then segments that are neither
 * empty, "." nor "..", of characters a decoded path may hold and that say
 * nothing else (no '%', '?', '#', ';', '\', blanks or controls); no
 * trailing '/' but for "/" itself. */
static bool gh_gw_prefix(gh_gw_scan *s, const char *prefix)
{
    size_t n = strlen(prefix), seg = 1;

    if (n == 0 || prefix[0] != '/')
        return gh_gw_fail(s, "a rule's key is a path starting with '/'");
    if (n > GH_GATEWAY_PREFIX_MAX)
        return gh_gw_fail(s, "path longer than %d bytes", GH_GATEWAY_PREFIX_MAX);
    for (size_t i = 1; i <= n; i++) {
        unsigned char c = (unsigned char)prefix[i];

        if (i < n && c != '/') {
            if (c <= 0x20 || c >= 0x7f || strchr("%?#;\\", c) != NULL)
                return gh_gw_fail(s, "'%c' is not allowed in a path prefix (write it "
                                  "decoded, without query or parameters)", c > 0x20 && c < 0x7f
                                  ? c : '?');
            continue;
        }
        if (n == 1)
            break;
        if (i - seg == 0)
            return gh_gw_fail(s, "empty segment (\"//\" or a trailing '/')");
        if ((i - seg == 1 && prefix[seg] == '.') ||
            (i - seg == 2 && prefix[seg] == '.' && prefix[seg + 1] == '.'))
            return gh_gw_fail(s, "\".\" or \"..\" segment");
        seg = i + 1;
    }
    return true;
}

bool gh_gateway_rule_parse(const char *prefix, const char *value, gh_gateway_rule *rule,
                           char *why, size_t whylen)
{
    gh_gw_scan s = { value, why, whylen, false };
    unsigned   slots;

    memset(rule, 0, sizeof(*rule));
    if (prefix == NULL || value == NULL || !gh_gw_prefix(&s, prefix))
        goto fail;
    memcpy(rule->prefix, prefix, strlen(prefix) + 1);
    for (;;) {
        if (!gh_gw_methods(&s, rule, &slots) || !gh_gw_sets(&s, rule, slots))
            goto fail;
        gh_gw_blanks(&s);
        if (*s.p == '\0')
            break;
        if (*s.p != ',') {
            gh_gw_fail(&s, "expected ',' between clauses, or the end; found '%c'",
                       (unsigned char)*s.p > 0x20 && (unsigned char)*s.p < 0x7f ? *s.p : '?');
            goto fail;
        }
        s.p++;
    }
    return true;
fail:
    gh_gw_fail(&s, "not a rule");
    memset(rule, 0, sizeof(*rule));
    return false;
}

bool gh_gateway_rules_add(void *settings, const char *prefix, const char *value, char *why,
                          size_t whylen)
{
    gh_gateway_rules *rules = settings;
    gh_gateway_rule   rule;

    if (!gh_gateway_rule_parse(prefix, value, &rule, why, whylen))
        return false;
    for (size_t i = 0; i < rules->nrules; i++) {
        if (strcasecmp(rules->rules[i].prefix, rule.prefix) == 0) {
            snprintf(why, whylen, "a rule for this path is given already (paths match "
                     "ignoring case)");
            return false;
        }
    }
    if (rules->nrules == GH_GATEWAY_RULES_MAX) {
        snprintf(why, whylen, "more than %d rules", GH_GATEWAY_RULES_MAX);
        return false;
    }
    rules->rules[rules->nrules++] = rule;
    return true;
}
