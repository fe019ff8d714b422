/*
 * powerstore_config.h: the [powerstore] section of the configuration file,
 * declared through gh_powerstore_dialect.config (powerstore_config.c has the
 * keys and their defaults; docs/gatehouse.conf.example documents them).
 */
#ifndef GH_POWERSTORE_CONFIG_H
#define GH_POWERSTORE_CONFIG_H

#include "../../core/config.h"

typedef struct {
    int64_t  idle_timeout;          /* 3600 s unused before an auth_cookie session ends */
} gh_ps_settings;

extern const gh_config_section gh_ps_config;

/* The [powerstore] settings of cfg: its own when it declares the section,
 * else the defaults (cfg may be NULL). Never NULL; owned by cfg or static. */
const gh_ps_settings *gh_ps_settings_of(const gh_config *cfg);

/* The same, to change them before anything reads them (a test); NULL when
 * cfg does not declare the section. */
static inline gh_ps_settings *gh_ps_settings_edit(gh_config *cfg)
{
    return gh_config_section_edit(cfg, &gh_ps_config);
}

#endif
