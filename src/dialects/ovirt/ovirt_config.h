/*
 * ovirt_config.h: the [ovirt] section of the configuration file, declared
 * through gh_ovirt_dialect.config (ovirt_config.c has the keys and their
 * defaults; docs/gatehouse.conf.example documents them).
 */
#ifndef GH_OVIRT_CONFIG_H
#define GH_OVIRT_CONFIG_H

#include "../../core/config.h"

typedef struct {
    char     profiles[256];         /* "internal": the profiles (domains) a user@profile may name */
    int64_t  token_idle_timeout;    /* 1800 s unused before a token ends; 0 = none */
    int64_t  token_timeout;         /* 360000 s (100 h) since last use, at most */
    bool     single_token_per_user; /* false: a new token leaves earlier ones alone */
    bool     csrf_protection;       /* false: Prefer: csrf-protection is ignored */
} gh_ovirt_settings;

extern const gh_config_section gh_ovirt_config;

/* The [ovirt] settings of cfg: its own when it declares the section, else the
 * defaults (cfg may be NULL). Never NULL; owned by cfg or static. */
const gh_ovirt_settings *gh_ovirt_settings_of(const gh_config *cfg);

/* The same, to change them before anything reads them (a test); NULL when
 * cfg does not declare the section. */
static inline gh_ovirt_settings *gh_ovirt_settings_edit(gh_config *cfg)
{
    return gh_config_section_edit(cfg, &gh_ovirt_config);
}

#endif
