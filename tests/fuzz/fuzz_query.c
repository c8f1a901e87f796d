/*
 * fuzz_query.c — libFuzzer target for the URL query-string parser
 * (http/query.h).
 *
 * Parses the input, then checks what the parser promises of every pair it
 * kept, whether or not the parse failed part-way: key and value decoded,
 * NUL-terminated at key_len/val_len with no NUL or control byte before it,
 * no longer than the input, and query_get()/query_count() agreeing with the
 * list for a few fixed keys and for each key present.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t len, size_t input_len)
{
	if (s == NULL || len > input_len || s[len] != '\0')
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void check_key(const struct query *q, const char *key)
{
	const struct query_param *first = NULL;
	size_t count = 0;
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->p[i].key, key) == 0) {
			if (first == NULL)
				first = &q->p[i];
			count++;
		}
	}
	if (query_get(q, key) != first || query_count(q, key) != count)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "", "a", "type", "limit", "q", "a b", "\xc3\xa9" };
	struct query q;
	struct err e;
	int rc = query_parse(&q, (const char *)data, size, &e);
	if (rc != 0 && rc != ERR_INVALID && rc != ERR_TOO_LARGE)
		abort();
	if (q.n > QUERY_MAX_PARAMS || (rc == 0 && size > QUERY_MAX_LEN))
		abort();
	for (size_t i = 0; i < q.n; i++) {
		check_text(q.p[i].key, q.p[i].key_len, size);
		check_text(q.p[i].val, q.p[i].val_len, size);
		check_key(&q, q.p[i].key);
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		check_key(&q, keys[k]);
	query_cleanup(&q);
	query_cleanup(&q);
	return 0;
}
