/*
 * libFuzzer target: the JSON import path — the streaming splitter (array, envelope and
 * NDJSON modes) and the record mapping of each element, as `cairn import` and
 * POST /api/v1/iocs run them.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "imp/jstream.h"
#include "imp/record_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct input *in = input_from_memory((const char *)data + 1, size - 1);
	struct jstream *js = jstream_new(in);
	struct arena ar;
	arena_init(&ar);
	if (data[0] & 1)
		jstream_lines(js);
	const char *elem;
	size_t len;
	struct err e;
	for (int i = 0; i < 10000; i++) {
		int rc = jstream_next(js, &elem, &len, &e);
		if (rc == ERR_TOO_LARGE && (data[0] & 1))
			continue;
		if (rc != 1)
			break;
		json_t *o = json_loadb(elem, len, JSON_REJECT_DUPLICATES, NULL);
		if (o) {
			struct ioc_input rec;
			struct imp_defaults d = { .type = IOC_NONE, .score = -1, .feed = "fuzz" };
			(void)imp_input_from_json(o, &d, &ar, &rec, &e);
			json_decref(o);
		}
		arena_reset(&ar);
	}
	arena_cleanup(&ar);
	jstream_free(js);
	input_close(in);
	return 0;
}
