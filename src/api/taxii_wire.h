/*
 * taxii_wire.h — what the TAXII server reads from the wire, apart from its handlers
 * (api_taxii.c), so that each parser can be fuzzed alone.
 */
#ifndef CAIRN_API_TAXII_WIRE_H
#define CAIRN_API_TAXII_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Whether an Accept header (NULL: none) admits a TAXII 2.1 answer (TAXII.md 6): lists,
 * spaces, quoted values and q-values understood; taxii+json with version 2.1 or none,
 * application/json, application/ and * / * wildcards. */
bool taxii_accept_ok(const char *accept, size_t len);
/* Whether a POST's Content-Type (NULL: none) is TAXII's envelope (TAXII.md 7). */
bool taxii_content_type_ok(const char *ctype, size_t len);
/* URL-safe base64 without padding. decode: bytes into out (cap), or -1 on a bad
 * character or overflow. */
void taxii_b64url(struct buf *b, const uint8_t *p, size_t n);
long taxii_b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap);
/* An RFC 3339 time stamp with a time (0-9 fraction digits, Z or an offset; a space where
 * an unescaped '+' was decoded is taken back), NUL-terminated, into µs. */
bool taxii_time_parse(const char *s, int64_t *out);
/* Splits a path that is empty or starts with '/' (in place) into at most max segments;
 * false on an empty segment or too many. */
bool taxii_split_path(char *path, char **seg, size_t max, size_t *n);

#endif
