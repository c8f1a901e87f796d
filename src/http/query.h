/*
 * query.h — the URL query-string parser.
 *
 * Splits "a=1&b=x%20y" into decoded key/value pairs: %XX and '+' decoded,
 * the result validated as UTF-8 with no NUL or control bytes. Keys keep their
 * order; repeated keys are kept (callers decide whether repetition is an
 * error). Limits: QUERY_MAX_LEN input bytes, QUERY_MAX_PARAMS pairs.
 * The struct owns one allocation (q->mem) released by query_cleanup().
 */
#ifndef CAIRN_HTTP_QUERY_H
#define CAIRN_HTTP_QUERY_H

#include <stddef.h>

#include "base/err.h"

#define QUERY_MAX_LEN 8192
#define QUERY_MAX_PARAMS 64

struct query_param {
	const char *key;	/* NUL-terminated, decoded */
	size_t key_len;
	const char *val;	/* NUL-terminated, decoded; "" when absent */
	size_t val_len;
};

struct query {
	struct query_param p[QUERY_MAX_PARAMS];
	size_t n;
	char *mem;
	char bad[65];	/* after a failed parse: the parameter whose value was malformed, or "" */
};

/* Returns 0, or ERR_INVALID / ERR_TOO_LARGE with e->msg naming the parameter. q is
 * always safe to pass to query_cleanup() afterwards. */
int query_parse(struct query *q, const char *s, size_t len, struct err *e) CAIRN_MUST_USE;
void query_cleanup(struct query *q);
/* The first value for key, or NULL. */
const struct query_param *query_get(const struct query *q, const char *key);
size_t query_count(const struct query *q, const char *key);

/* Percent-decodes s into out (cap >= len + 1); '+' becomes ' ' when plus is set.
 * Returns the decoded length or -1 on a bad escape. */
long url_decode(const char *s, size_t len, char *out, int plus);

#endif
