/*
 * ovirt_config.c: the [ovirt] section: its keys, their bounds and defaults,
 * and where each lands in gh_ovirt_settings. The core's parser reads it like
 * any section once gh_dialect_config_defaults has declared it.
 */
#include "ovirt_config.h"

#include <stddef.h>

static const gh_ovirt_settings gh_ovirt_defaults = {
    .profiles = "internal",
    .token_idle_timeout = 1800,
    .token_timeout = 360000,
    .single_token_per_user = false,
    .csrf_protection = false,
};

static const gh_config_key gh_ovirt_keys[] = {
    { "profiles", GH_CONFIG_NAMES, offsetof(gh_ovirt_settings, profiles),
      sizeof(((gh_ovirt_settings *)0)->profiles), 0, 0, false },
    { "token_idle_timeout", GH_CONFIG_I64, offsetof(gh_ovirt_settings, token_idle_timeout),
      0, 0, 31536000, false },
    { "token_timeout", GH_CONFIG_I64, offsetof(gh_ovirt_settings, token_timeout),
      0, 1, 31536000, false },
    { "single_token_per_user", GH_CONFIG_BOOL,
      offsetof(gh_ovirt_settings, single_token_per_user), 0, 0, 0, false },
    { "csrf_protection", GH_CONFIG_BOOL, offsetof(gh_ovirt_settings, csrf_protection),
      0, 0, 0, false },
};

const gh_config_section gh_ovirt_config = {
    .name = "ovirt",
    .keys = gh_ovirt_keys,
    .nkeys = sizeof(gh_ovirt_keys) / sizeof(gh_ovirt_keys[0]),
    .defaults = &gh_ovirt_defaults,
    .size = sizeof(gh_ovirt_settings),
};

const gh_ovirt_settings *gh_ovirt_settings_of(const gh_config *cfg)
{
    const gh_ovirt_settings *s = gh_config_section_get(cfg, &gh_ovirt_config);

    return s != NULL ? s : &gh_ovirt_defaults;
}
