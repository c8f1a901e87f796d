/*
 * libFuzzer target: the MISP reader — the strict streaming tokenizer, the look-ahead
 * tokenizers over the same bytes, the event shapes, the type table and tag forms — into an
 * in-memory store.
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
	struct import_opts o = { .format = IMPORT_MISP };
	o.defaults.score = -1;
	o.defaults.feed = "fuzz";
	struct input *in = input_from_memory((const char *)data, size);
	(void)import_input(s, in, IMPORT_MISP, false, &o, &r, &e);
	return 0;
}
