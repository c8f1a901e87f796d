/*
 * libFuzzer target: the STIX → ECS mapping (src/export/ecs.h) — JSON reading, dates, the
 * ti_custom pattern readers (split, grok-like forms, distinguished names), the ecs profile's
 * parse and disjunctive normal form, expiry, fingerprints and the document writer.
 *
 * The first byte picks the profile and options; the rest is the object. Every document must
 * be one line of valid JSON: anything else aborts.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/ecs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_doc(void *ctx, const struct ecs_doc *d)
{
	(void)ctx;
	json_error_t je;
	json_t *j = json_loadb(d->json, d->len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL || !json_is_object(j) || memchr(d->json, '\n', d->len) != NULL || d->part >= d->nparts)
		abort();
	json_decref(j);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t k = data[0];
	static const char *const durations[4] = { "90d", "5d", "36h", "90m" };
	struct ecs_opts o = {
		.profile = k & 1 ? ECS_PROFILE_TI_CUSTOM : ECS_PROFILE_ECS,
		.all_objects = (k & 2) != 0,
		.expiration_text = k & 4 ? NULL : durations[(k >> 4) & 3],
		.expiration_us = (k & 0xc0) == 0xc0 ? 0 : ecs_parse_duration(durations[(k >> 4) & 3]),
		.feed_name = "fuzz",
		.tlp = k & 8 ? "amber+strict" : NULL,
		.now = k & 8 ? 1700000000000000LL : 0,
		.preserve_original_event = (k & 0x20) != 0,
	};
	struct err e;
	(void)ecs_map_object((const char *)data + 1, size - 1, &o, check_doc, NULL, &e);
	return 0;
}
