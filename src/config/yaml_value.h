/*
 * yaml_value.h — reading scalar values from a libyaml document tree, the same way for every
 * YAML file cairn reads (the configuration, `cairn sync --config`). Each function checks one
 * node and, on failure, writes the reason into why; the caller adds the file, line and key.
 */
#ifndef CAIRN_CONFIG_YAML_VALUE_H
#define CAIRN_CONFIG_YAML_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* The text of a scalar node, or NULL for any other node. */
const char *config_yaml_scalar(const yaml_node_t *n);
/* A plain (unquoted) integer in [lo, hi]: 0, or -1 with the reason in why. */
int config_yaml_int(const yaml_node_t *n, int64_t lo, int64_t hi, int64_t *out, char *why, size_t cap);
/* A plain true/false (also yes/no, on/off): 0, or -1 with the reason in why. */
int config_yaml_bool(const yaml_node_t *n, bool *out, char *why, size_t cap);

#endif
