/*
 * libFuzzer target: the STIX reader — bundle splitting, object checks, the 2.0 upgrade,
 * pattern parsing and the projection into records — into an in-memory store.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "imp/importer.h"
#include "imp/input.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct store *s;
	static struct import_result r;
	struct err e;
	if (s == NULL && store_open(&s, ":memory:", NULL, 0, &e) != 0)
		abort();
	if (size == 0)
		return 0;
	struct import_opts o = { .format = IMPORT_STIX };
	o.defaults.score = -1;
	o.defaults.feed = "fuzz";
	struct input *in = input_from_memory((const char *)data + 1, size - 1);
	(void)import_input(s, in, IMPORT_STIX, data[0] & 1, &o, &r, &e);
	return 0;
}
