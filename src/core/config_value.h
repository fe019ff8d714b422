/*
 * config_value.h: private to config.c, config_value.c and config_upstream.c:
 * judging and storing one value of the configuration file, and the
 * upstream* keys.
 */
#ifndef GH_CONFIG_VALUE_H
#define GH_CONFIG_VALUE_H

#include "config.h"

/* Set key k, whose section's settings start at base (a gh_config for the
 * core's keys), from value; false with a short reason in *why, the field
 * unchanged. */
bool gh_config_set(const gh_config_key *k, const char *value, void *base, const char **why);

/* [server]'s upstream defaults into *u. */
void gh_config_upstream_defaults(gh_config_upstream_t *u);

/* The index in cfg->upstreams of section name, or -1. */
int gh_config_upstream_index(const gh_config *cfg, const char *name);

/* The upstream* key name of section in cfg: its settings (*base), its slot
 * among the upstream keys' (*slot, below (GH_CONFIG_SECTIONS_MAX + 1) *
 * GH_CONFIG_UPSTREAM_KEYS), marked given in the section; NULL when it is
 * not one, *section_known saying whether section carries them at all. */
const gh_config_key *gh_config_upstream_find(gh_config *cfg, const char *section,
                                             const char *name, void **base, size_t *slot,
                                             bool *section_known);

/* The rules between upstream keys, seen holding the line each slot was set
 * on: 0 when they hold, else the line to blame, with its *key and *why. */
int gh_config_upstream_check(const gh_config *cfg, const int *seen, const char **key,
                             const char **why);

/* Group DNs separated by '|', each one a DN libldap parses; "" is a list. */
bool gh_config_directory_groups_ok(const char *list);

/* Key name of section, when section is [directory NAME]: the profile's
 * settings (*base, taken for NAME at its first key), its slot among the
 * directory keys' (*slot, below GH_DIRECTORY_MAX * GH_DIRECTORY_KEYS); NULL
 * when it is not one, *section_known saying whether the section is a
 * directory one, *why (else NULL) why such a section is refused. */
const gh_config_key *gh_config_directory_find(gh_config *cfg, const char *section,
                                              const char *name, void **base, size_t *slot,
                                              bool *section_known, const char **why);

/* The rules of each profile and between them, seen holding the line each
 * directory slot was set on: 0 when they hold, else the line to blame, with
 * *key (a key or the profile's name) and *why. */
int gh_config_directory_check(const gh_config *cfg, const int *seen, const char **key,
                              const char **why);

#endif
