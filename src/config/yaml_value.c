/*
 * Scalar values of a libyaml document (see yaml_value.h).
 */
#include "config/yaml_value.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *config_yaml_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int config_yaml_int(const yaml_node_t *n, int64_t lo, int64_t hi, int64_t *out, char *why, size_t cap)
{
	const char *s = config_yaml_scalar(n);
	char *end;
	long long v = 0;
	if (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		errno = 0;
		v = strtoll(s, &end, 10);
	}
	if (s == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || errno || end == s || *end != '\0') {
		snprintf(why, cap, "expected an integer");
		return -1;
	}
	if (v < lo || v > hi) {
		snprintf(why, cap, "must be between %lld and %lld", (long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

int config_yaml_bool(const yaml_node_t *n, bool *out, char *why, size_t cap)
{
	const char *s = config_yaml_scalar(n);
	if (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
			*out = false;
			return 0;
		}
	}
	snprintf(why, cap, "expected true or false");
	return -1;
}
