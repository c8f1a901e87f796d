/*
 * fuzz_allow.c — libFuzzer target for the allow-list readers (allow/allow.h): the input is
 * a list, a MISP warning list when it starts with '{', else one entry a line. When it
 * reads, every line of it (at most 64) is then looked up as each indicator type, and the
 * regular-expression translator runs on each line. The checks are the module's promises:
 * entries counted as taken, hits that name this list with a NUL-terminated entry no longer
 * than ALLOW_ENTRY_MAX, a translation that fits its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allow/allow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	if (size > 1 << 20)
		return 0;
	struct allow_set *s = allow_set_new();
	struct allow_list_info info;
	struct err e = { 0 };
	int rc = allow_set_add_list(s, "fuzz", 42, p, size, &info, &e);
	if (rc != 0 && rc != ERR_INVALID && rc != ERR_TOO_LARGE)
		abort();
	if (rc == 0 && info.entries != allow_set_entries(s))
		abort();
	allow_set_freeze(s);
	size_t lines = 0;
	for (size_t i = 0; i < size && lines < 64; lines++) {
		const char *nl = memchr(p + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - p) : size;
		const char *v = p + i;
		size_t n = end - i;
		i = end + 1;
		if (n == 0 || n > ALLOW_ENTRY_MAX || memchr(v, '\0', n))
			continue;
		for (int t = 1; t < IOC_TYPE_COUNT; t++) {
			struct allow_hit hit;
			if (!allow_match(s, (enum ioc_type)t, v, n, &hit))
				continue;
			if (strcmp(hit.list, "fuzz") || hit.list_id != 42 ||
			    memchr(hit.entry, '\0', sizeof(hit.entry)) == NULL || hit.kind < ALLOW_EXACT ||
			    hit.kind > ALLOW_REGEX)
				abort();
		}
		char out[ALLOW_REGEX_LEN + 1];
		bool icase;
		memset(out, 'x', sizeof(out));
		if (allow_regex_translate(v, n, out, sizeof(out), &icase, &e) == 0 &&
		    memchr(out, '\0', sizeof(out)) == NULL)
			abort();
	}
	allow_set_unref(s);
	return 0;
}
