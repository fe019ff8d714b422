/*
 * powerstore_config.c: the [powerstore] section: its key, its bounds and
 * default, and where it lands in gh_ps_settings. The core's parser reads it
 * like any section once gh_dialect_config_defaults has declared it.
 */
#include "powerstore_config.h"

#include <stddef.h>

static const gh_ps_settings gh_ps_defaults = {
    .idle_timeout = 3600,
};

static const gh_config_key gh_ps_keys[] = {
    { "idle_timeout", GH_CONFIG_I64, offsetof(gh_ps_settings, idle_timeout), 0, 1, 86400, false },
};

const gh_config_section gh_ps_config = {
    .name = "powerstore",
    .keys = gh_ps_keys,
    .nkeys = sizeof(gh_ps_keys) / sizeof(gh_ps_keys[0]),
    .defaults = &gh_ps_defaults,
    .size = sizeof(gh_ps_settings),
};

const gh_ps_settings *gh_ps_settings_of(const gh_config *cfg)
{
    const gh_ps_settings *s = gh_config_section_get(cfg, &gh_ps_config);

    return s != NULL ? s : &gh_ps_defaults;
}
