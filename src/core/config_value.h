/*
 * config_value.h: private to config.c and config_value.c: judging and
 * storing one value of the configuration file.
 */
#ifndef GH_CONFIG_VALUE_H
#define GH_CONFIG_VALUE_H

#include "config.h"

/* Set key k, whose section's settings start at base (a gh_config for the
 * core's keys), from value; false with a short reason in *why, the field
 * unchanged. */
bool gh_config_set(const gh_config_key *k, const char *value, void *base, const char **why);

#endif
